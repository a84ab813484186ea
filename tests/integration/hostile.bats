#!/usr/bin/env bats
# The volume is hostile input (SPEC.md): an attacker who owns the volume's
# contents, and runs a process as nobody beside volinit (tests/helpers/racer
# swaps entries with renameat2 RENAME_EXCHANGE), must not make volinit
# touch anything outside the volume, hang, or crash; a tree of any depth
# is walked; sparse files keep their holes. A sentinel tree outside the
# volume is recorded before and compared after, byte for byte, with modes,
# owners and link counts.

load migrate_helpers
bats_require_minimum_version 1.5.0

NOBODY=65534

setup() {
	mg_setup
	RACER=$HELPERS/racer
	[ -x "$RACER" ] || { echo "$RACER missing (make helpers)" >&2; return 1; }
	S=$TD/sentinel
}
teardown() { mg_teardown; }

# The sentinel, outside the volume: root-only files, a 0644 file a chmod
# would make set-uid, a directory holding a file with the name the volume
# uses for its hard links.
sentinel_make() {
	mkdir -p "$S/dir"
	echo secret >"$S/secret"
	echo 'root only' >"$S/dir/a"
	printf '#!/bin/sh\necho would run as root\n' >"$S/suid"
	chmod 0600 "$S/secret" "$S/dir/a"
	chmod 0644 "$S/suid"
	chmod 0755 "$S/dir"
}

# Everything about the sentinel an attack could change.
sentinel_state() {
	(
		cd "$S" || exit 1
		find . -printf '%p %y %m %U:%G %n %s %T@\n' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
	)
}

# The volume the attacker owns: a directory holding one of two hard links
# (the other in a second directory), a set-uid FIFO of its own, regular
# files, all the attacker's (nobody's).
hostile_volume() {
	mkdir -p "$VOL/d/sub" "$VOL/e" "$VOL/g"
	echo 1 >"$VOL/schema_version.txt"
	echo linked >"$VOL/d/a"
	ln "$VOL/d/a" "$VOL/e/a"
	echo data >"$VOL/r"
	echo data >"$VOL/r2"
	echo data >"$VOL/d/r3"
	echo more >"$VOL/d/sub/f"
	mkfifo "$VOL/f"
	chown -R "$NOBODY:$NOBODY" "$VOL"
	chmod 4755 "$VOL/f"
	chown root:root "$VOL/schema_version.txt"
}

# traced TIMEOUT STRACE-ARGS... -- VOLINIT-ARGS...: volinit under strace,
# bounded. LeakSanitizer cannot run under ptrace: leak checks are off there
# (make sanitize sets ASAN_OPTIONS); ASan and UBSan still are.
traced() {
	local t=$1 sargs=()
	shift
	while [ "$1" != -- ]; do sargs+=("$1"); shift; done
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout -k 2 "$t" strace -qq -o /dev/null "${sargs[@]}" "$VOLINIT" "$@"
}

# racer_bg OUT ARGS...: the racer as nobody, in the background; sets RPID.
racer_bg() {
	local out=$1
	shift
	mg_bg "$out" "$RACER" --uid "$NOBODY" "$@"
	RPID=$MG_PID
}

# racer_stop: SIGTERM to the racer, its exit awaited; prints its count.
racer_stop() {
	kill -TERM "$RPID" 2>/dev/null || true
	mg_wait_exit "$RPID"
	cat "$TD/racer.out"
}

@test "a racer as nobody swaps dirs, symlinks, FIFOs, hard links during 60 snapshots, restores, clears: nothing outside changes, no hang, no crash" {
	sentinel_make
	hostile_volume
	local before
	before=$(sentinel_state)
	mg_hook 2 "[ ! -e '$TD/fail' ]"
	mg_conf 2
	racer_bg "$TD/racer.out" "$VOL" "d=symlink:$S/dir" "e=symlink:$S/dir" "f=symlink:$S/suid" \
		"g=symlink:$S" "r=fifo" "r2=fifo" "d/r3=fifo" "d/sub=symlink:$S/dir" "e/a=symlink:$S/secret"
	local i codes=()
	for i in $(seq 1 60); do
		# Every other run the step fails: a restore, which clears first.
		if [ $((i % 2)) -eq 0 ]; then touch "$TD/fail"; else rm -f "$TD/fail"; fi
		echo 1 >"$VOL/schema_version.txt"
		if [ $((i % 5)) -eq 0 ] && [ -d "$VOL/.volinit" ]; then
			# The app renames .volinit/ itself between runs: refused, no
			# second one made; then put back.
			local hooks_ran
			hooks_ran=$(wc -l <"$HLOG")
			(cd "$VOL" && setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups -- \
				mv .volinit .volinit.moved)
			run vi migrate -c "$CONF"
			echo "$output"
			[ "$status" -eq 73 ]
			[ ! -e "$VOL/.volinit" ]
			[ "$(wc -l <"$HLOG")" -eq "$hooks_ran" ]
			(cd "$VOL" && setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups -- \
				mv .volinit.moved .volinit)
		fi
		if [ $((i % 3)) -eq 0 ]; then
			# Every third run with its looks and makes slowed down by 3 ms:
			# wider windows between two calls for the racer.
			run traced "$VI_TIMEOUT" -e trace=newfstatat,statx,mknodat,mkdirat \
				-e inject=newfstatat,statx,mknodat,mkdirat:delay_exit=3000 -- migrate -c "$CONF"
		else
			run vi migrate -c "$CONF"
		fi
		codes+=("$status")
		case $status in
		0 | 73 | 82) ;;
		*)
			echo "run $i: status $status" >&2
			echo "$output" >&2
			racer_stop
			return 1
			;;
		esac
	done
	racer_stop
	echo "# $(cat "$TD/racer.out") during 60 volinit runs (statuses: ${codes[*]})" >&3
	diff <(echo "$before") <(sentinel_state)
	# Nothing in the volume is a link to a sentinel file either.
	[ "$(find "$VOL" -samefile "$S/secret" -o -samefile "$S/dir/a" -o -samefile "$S/suid" | wc -l)" -eq 0 ]
	# Without the racer, the volume comes back to a clean state.
	rm -f "$TD/fail"
	echo 1 >"$VOL/schema_version.txt"
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$VOL/.volinit/dirty" ]
}

# as_nobody CMD...: CMD as the attacker (the app's user), in the volume.
as_nobody() {
	(cd "$VOL" && setpriv --reuid "$NOBODY" --regid "$NOBODY" --clear-groups -- "$@")
}

# .volinit is root's, but its name is in a directory the app owns: the app
# can rename it within the volume's root, put an older one back, or plant
# its own (issue 22). The racer swaps it for a directory of its own during
# runs; between runs the app puts it aside and later puts the one aside
# back. Whatever volinit makes of that (a refusal is fine: 73, 75, 83),
# nothing outside the volume changes, and volinit neither hangs nor crashes.
@test "a racer as nobody renames .volinit itself during and between 40 runs (swapped, put aside, put back): nothing outside changes, no hang" {
	sentinel_make
	hostile_volume
	local before
	before=$(sentinel_state)
	mg_hook 2 "[ ! -e '$TD/fail' ]"
	mg_conf 2
	racer_bg "$TD/racer.out" "$VOL" ".volinit=dir" "d=symlink:$S/dir" "r=fifo"
	local i codes=() aside=
	for i in $(seq 1 40); do
		if [ $((i % 2)) -eq 0 ]; then touch "$TD/fail"; else rm -f "$TD/fail"; fi
		echo 1 >"$VOL/schema_version.txt"
		case $((i % 4)) in
		1)
			# Put aside (when the racer left it there, and not its own).
			if [ "$(stat -c %u "$VOL/.volinit" 2>/dev/null)" = 0 ]; then
				as_nobody mv -T .volinit ".volinit.aside.$i" && aside=.volinit.aside.$i
			fi
			;;
		3)
			# Put back: what is there now goes aside in turn.
			if [ -n "$aside" ] && [ -d "$VOL/$aside" ]; then
				[ ! -e "$VOL/.volinit" ] || as_nobody mv -T .volinit ".volinit.later.$i"
				as_nobody mv -T "$aside" .volinit || true
			fi
			;;
		esac
		if [ $((i % 3)) -eq 0 ]; then
			run traced "$VI_TIMEOUT" -e trace=newfstatat,statx,mkdirat,renameat2 \
				-e inject=newfstatat,statx,mkdirat,renameat2:delay_exit=3000 -- migrate -c "$CONF"
		else
			run vi migrate -c "$CONF"
		fi
		codes+=("$status")
		case $status in
		0 | 73 | 75 | 82 | 83) ;;
		*)
			echo "run $i: status $status" >&2
			echo "$output" >&2
			racer_stop
			return 1
			;;
		esac
	done
	racer_stop
	echo "# $(cat "$TD/racer.out") during 40 volinit runs (statuses: ${codes[*]})" >&3
	diff <(echo "$before") <(sentinel_state)
	[ "$(find "$VOL" -samefile "$S/secret" -o -samefile "$S/dir/a" -o -samefile "$S/suid" | wc -l)" -eq 0 ]
	# The volume's state directories are root's and 0700 still, or the app's own.
	local dir
	for dir in "$VOL"/.volinit*; do
		[ -d "$dir" ] || continue
		stat -c '%n %U %a' "$dir"
		[ "$(stat -c %U "$dir")" = nobody ] || [ "$(stat -c %a "$dir")" = 700 ]
	done
}

@test "a FIFO that a restore makes and the racer swaps for a symlink to a file outside: its mode is never set through the symlink (no set-uid file outside)" {
	command -v strace >/dev/null || skip "strace is not installed"
	sentinel_make
	hostile_volume
	local before
	before=$(sentinel_state)
	mg_hook 2 'exit 1'
	mg_conf 2
	# The racer swaps f as soon as volinit (root) has made it; each mknodat
	# of volinit's is slowed down so that it can.
	racer_bg "$TD/racer.out" --once 25 "$VOL" "f=symlink:$S/suid"
	run traced "$VI_TIMEOUT" -e trace=mknodat -e inject=mknodat:delay_exit=1000000 -- \
		migrate -c "$CONF"
	echo "$output"
	mg_wait_exit "$RPID"
	cat "$TD/racer.out"
	[ "$MG_RC" -eq 0 ] # the racer did swap
	[ "$status" -eq 82 ]
	diff <(echo "$before") <(sentinel_state)
	[ "$(stat -c %a "$S/suid")" = 644 ]
}

@test "a hard link's second link is made from the first copy's descriptor, never by its path: a directory swapped for a symlink to outside links nothing outside in" {
	command -v strace >/dev/null || skip "strace is not installed"
	sentinel_make
	hostile_volume
	local before
	before=$(sentinel_state)
	mg_hook 2 'exit 1'
	mg_conf 2
	# d and e (each holding one of the two links) are swapped for symlinks
	# to the sentinel's dir 150 ms after volinit made them, while every
	# open of volinit's (not its hook's) is slowed to 100 ms: after it has
	# opened them, before it makes the second link.
	# Bounds for a slow, loaded machine: every open is 100 ms slower here.
	racer_bg "$TD/racer.out" --once 100 --delay 150 "$VOL" "d=symlink:$S/dir" "e=symlink:$S/dir"
	run traced 150 -e trace=openat,openat2 -e inject=openat,openat2:delay_exit=100000 -- \
		migrate -c "$CONF"
	echo "$output"
	mg_wait_exit "$RPID" || true
	cat "$TD/racer.out"
	[ "$status" -eq 82 ]
	diff <(echo "$before") <(sentinel_state)
	[ "$(stat -c %h "$S/dir/a")" -eq 1 ]
}

@test "a FIFO swapped in for a regular file while the snapshot is taken never blocks volinit" {
	command -v strace >/dev/null || skip "strace is not installed"
	sentinel_make
	hostile_volume
	mg_hook 2 'exit 0'
	mg_conf 2
	racer_bg "$TD/racer.out" "$VOL" "r=fifo" "d/a=fifo"
	local i
	for i in $(seq 1 20); do
		echo 1 >"$VOL/schema_version.txt"
		# The look at each entry slowed down: the racer swaps between it and the open.
		# A hang is for ever; a slow, loaded machine gets 60 s a run.
		run traced 60 -e trace=newfstatat,statx -e inject=newfstatat,statx:delay_exit=20000 -- \
			migrate -c "$CONF"
		echo "run $i: $status"
		if [ "$status" -ne 0 ] && [ "$status" -ne 73 ]; then
			echo "$output"
			racer_stop
			return 1
		fi
	done
	racer_stop
}

@test "a tree 100,000 directories deep: snapshot, restore and clear walk it without crashing, and restore it whole" {
	mg_mount_tmpfs "$TD/deep" 1g
	VOL=$TD/deep/vol
	mkdir "$VOL"
	echo 1 >"$VOL/schema_version.txt"
	# Built relative to the working directory: no path is ever that long.
	perl -e 'chdir $ARGV[0] or die; for (1 .. 100000) { mkdir "d" or die "mkdir: $!"; chdir "d" or die } open(my $f, ">", "bottom") or die; print $f "deep\n"' "$VOL"
	mg_hook 2 'echo changed >top; exit 1'
	mg_conf 2
	VI_TIMEOUT=300 run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 82 ]
	[[ "$output" == *"the volume was restored as it was before the migration"* ]]
	[ ! -e "$VOL/top" ]
	run perl -e 'chdir $ARGV[0] or die; my $n = 0; while (-d "d") { chdir "d" or die; $n++ } open(my $f, "<", "bottom") or die "no bottom at $n"; print "$n ", scalar <$f>' "$VOL"
	echo "$output"
	[ "$output" = "100000 deep" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
}

@test "sparse files keep their holes: in the snapshot and after a restore they take the blocks they took (loop-mounted ext4)" {
	command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 is not installed"
	truncate -s 256M "$TD/ext4.img"
	mkfs.ext4 -q -F "$TD/ext4.img"
	mkdir "$TD/ext4"
	mount -o loop "$TD/ext4.img" "$TD/ext4"
	MG_MOUNTS+=("$TD/ext4")
	VOL=$TD/ext4/vol
	mkdir "$VOL"
	echo 1 >"$VOL/schema_version.txt"
	# 4 KiB of data in 32 MiB, data at both ends of 1 GiB, and a file of holes only.
	truncate -s 32M "$VOL/small"
	printf 'x%.0s' $(seq 4096) | dd of="$VOL/small" bs=4096 seek=100 conv=notrunc status=none
	truncate -s 1G "$VOL/ends"
	printf 'head' | dd of="$VOL/ends" conv=notrunc status=none
	printf 'tail' | dd of="$VOL/ends" bs=1 seek=$((1024 * 1048576 - 4)) conv=notrunc status=none
	truncate -s 100M "$VOL/holes"
	sync -f "$VOL"
	local before sums
	before=$(cd "$VOL" && stat -c '%n %s %b' small ends holes)
	sums=$(cd "$VOL" && sha256sum small ends holes)
	echo "$before"
	mg_hook 2 "(cd .volinit/snapshot && sync -f . && stat -c '%n %s %b' small ends holes) >'$TD/in-snapshot'
echo changed >small; exit 1"
	mg_conf 2
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 82 ]
	sync -f "$VOL"
	cat "$TD/in-snapshot"
	diff <(echo "$before") "$TD/in-snapshot"
	diff <(echo "$before") <(cd "$VOL" && stat -c '%n %s %b' small ends holes)
	diff <(echo "$sums") <(cd "$VOL" && sha256sum small ends holes)
}
