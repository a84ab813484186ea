#!/usr/bin/env bats
# Faults: volinit killed or stopped during a migration (as PID 1 in a PID
# namespace, like a container), syscalls failing on the version write
# (strace -e inject=), a volume too small for the snapshot, a read-only
# volume. The version file always holds a whole old or new value.

load migrate_helpers
bats_require_minimum_version 1.5.0

setup() {
	mg_setup
	command -v strace >/dev/null || skip "strace is not installed"
	command -v unshare >/dev/null || skip "unshare is not installed"
}
teardown() { mg_teardown; }

# volinit as PID 1 of a new PID namespace, in the background; sets UPID
# (unshare) and VPID (volinit, as the host sees it).
ns_start() {
	local out=$1
	shift
	mg_bg "$out" unshare --pid --fork --mount-proc "$VOLINIT" "$@"
	UPID=$MG_PID
	VPID=$(ns_init "$UPID")
	MG_PIDS+=("$VPID")
}

# mg_nth TRACE SYSCALL REGEX [K [AFTER [AFTER_K]]]: the invocation number (as
# strace's when= counts them, per syscall and per process) of the K-th
# (default 1st) call of SYSCALL by the traced command itself (not its hooks)
# whose line matches REGEX, counting matches only after the AFTER_K-th line
# (default 1st) of any syscall matching AFTER. Anchoring on an event (a
# rename, an unlink) keeps the count right when unrelated calls of the same
# syscall come and go.
mg_nth() {
	local trace=$1 sc=$2 re=$3 k=${4:-1} after=${5:-} after_k=${6:-1} main
	main=$(awk 'NR == 1 { print $1; exit }' "$trace")
	# Regexes through the environment: -v would process their backslashes.
	MG_RE=$re MG_AFTER_RE=$after awk -v main="$main" -v sc="$sc(" -v k="$k" -v ak="$after_k" '
		BEGIN { re = ENVIRON["MG_RE"]; after = ENVIRON["MG_AFTER_RE"]; armed = (after == "") }
		$1 != main { next }
		{ line = $0; sub(/^[0-9]+ +/, "", line) }
		index(line, sc) == 1 {
			n++
			if (armed && line ~ re && ++hits == k) { print n; found = 1; exit }
		}
		!armed && line ~ after && ++seen == ak { armed = 1 }
		END { if (!found) exit 1 }' "$trace"
}

# An old volume with some data and two steps, 1 -> 3.
fault_fixture() {
	rm -rf "$VOL"
	mkdir -p "$VOL/d"
	echo 1 >"$VOL/schema_version.txt"
	echo base >"$VOL/data.txt"
	printf 'x%.0s' $(seq 100) >"$VOL/d/f"
	: >"$HLOG"
}

fault_hooks() {
	mg_hook 2 'echo two >>data.txt'
	mg_hook 3 'echo three >>data.txt'
}

# strace_run TRACE [STRACE ARGS...] -- VOLINIT ARGS...: volinit under strace.
strace_run() {
	local trace=$1
	shift
	local sargs=()
	while [ "$1" != -- ]; do sargs+=("$1"); shift; done
	shift
	timeout -k 5 "$VI_TIMEOUT" strace -f -y -qq -s 80 -o "$trace" "${sargs[@]}" "$VOLINIT" "$@"
}

# inject_version_fault SYSCALL REGEX K ERRNO [CONF LINES]: finds in a clean
# run the K-th SYSCALL whose line matches REGEX, then runs again on a fresh
# fixture with that one call failing with ERRNO. Leaves status/output of
# the faulty run, and INJECTED (the injected trace line).
inject_version_fault() {
	local sc=$1 re=$2 k=$3 err=$4 n
	shift 4
	fault_fixture
	fault_hooks
	mg_conf 3 "$@"
	strace_run "$TD/clean.trace" -- migrate -c "$CONF" 2>/dev/null
	[ "$(mg_version)" = 3 ]
	n=$(mg_nth "$TD/clean.trace" "$sc" "$re" "$k" "${MG_AFTER:-}" "${MG_AFTER_K:-1}")
	echo "injecting $err into $sc call #$n: $(grep -E "^[0-9]+ +$sc\(" "$TD/clean.trace" |
		awk -v m="$(awk 'NR==1{print $1;exit}' "$TD/clean.trace")" '$1 == m' | sed -n "${n}p")"
	fault_fixture
	rm -rf "$VOL/.volinit"
	BEFORE=$(mg_listing "$VOL")
	run strace_run "$TD/fault.trace" -e inject="$sc:error=$err:when=$n" -- migrate -c "$CONF"
	echo "$output"
	INJECTED=$(grep 'INJECTED' "$TD/fault.trace" || true)
	echo "injected: $INJECTED"
}

# The version file holds one whole valid value, never a torn or empty one,
# and no temporary file is left beside it.
assert_version_whole() {
	local v
	v=$(od -An -c "$VOL/schema_version.txt" | tr -s ' ')
	echo "version file bytes: $v"
	[[ "$(cat "$VOL/schema_version.txt")" =~ ^[123]$ ]]
	[ "$(stat -c %s "$VOL/schema_version.txt")" -eq 2 ]
	run find "$VOL" -maxdepth 1 -name '*volinit-tmp*'
	[ -z "$output" ]
}

@test "rename of the version file failing with EIO: exit 73, the version file old or new, whole" {
	inject_version_fault renameat 'schema_version\.txt"\)' 2 EIO
	[ "$status" -eq 73 ]
	[[ "$INJECTED" == *'volinit-tmp'*'"schema_version.txt") = -1 EIO'* ]]
	[ "$(grep -c INJECTED "$TD/fault.trace")" -eq 1 ]
	[[ "$output" == *"FATAL"*"schema_version.txt could not be written"* ]]
	assert_version_whole
	[ "$(jq -r 'select(.event == "step_fail") | .detail' "$VOL/.volinit/journal.jsonl")" = \
		"succeeded, but schema_version.txt could not be written: Input/output error" ]
	[ ! -e "$VOL/.volinit/dirty" ]
	# The next run finishes the job.
	run vi migrate -c "$CONF"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 3 ]
}

@test "fsync of the new version file failing with EIO: exit 73, the version file old or new, whole" {
	inject_version_fault fsync 'volinit-tmp' 2 EIO
	[ "$status" -eq 73 ]
	[[ "$INJECTED" == *" fsync("*"volinit-tmp"*"= -1 EIO"* ]]
	[ "$(grep -c INJECTED "$TD/fault.trace")" -eq 1 ]
	assert_version_whole
	run vi migrate -c "$CONF"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 3 ]
}

@test "fsync of the directory after the rename failing with EIO: exit 73, the version file old or new, whole" {
	# The first fsync of the volume directory after step 2's rename.
	MG_AFTER='^renameat\(.*"schema_version\.txt"\) = 0' MG_AFTER_K=2 \
		inject_version_fault fsync "^fsync\\([0-9]+<$VOL>\\)" 1 EIO
	[ "$status" -eq 73 ]
	grep -B1 INJECTED "$TD/fault.trace" | grep -q 'renameat(.*"schema_version.txt") = 0'
	assert_version_whole
	run vi migrate -c "$CONF"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 3 ]
}

@test "write of the new version failing with ENOSPC: exit 73, the version file old or new, whole" {
	inject_version_fault write 'volinit-tmp[^>]*>, "3' 1 ENOSPC
	[ "$status" -eq 73 ]
	[[ "$INJECTED" == *" write("*"volinit-tmp"*'"3\n", 2) = -1 ENOSPC'* ]]
	[ "$(grep -c INJECTED "$TD/fault.trace")" -eq 1 ]
	[[ "$output" == *"No space left on device"* ]]
	assert_version_whole
	run vi migrate -c "$CONF"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 3 ]
}

@test "without a snapshot, a failed version write leaves the old version and dirty: 73, then starts give 83" {
	inject_version_fault renameat 'schema_version\.txt"\)' 1 EIO "snapshot = false"
	[ "$status" -eq 73 ]
	[[ "$INJECTED" == *'"schema_version.txt") = -1 EIO'* ]]
	assert_version_whole
	[ "$(mg_version)" = 1 ]
	[ -e "$VOL/.volinit/dirty" ]
	run vi -c "$CONF" -- true
	[ "$status" -eq 83 ]
}

@test "a start that initializes an empty volume and cannot write the version gives 73 and leaves no version file" {
	cat >"$CONF" <<EOF
[data]
path = $VOL
expected = 5
EOF
	strace_run "$TD/clean.trace" -- -c "$CONF" -- true
	[ "$(mg_version)" = 5 ]
	local n
	n=$(mg_nth "$TD/clean.trace" write 'volinit-tmp')
	rm -rf "$VOL"
	mkdir "$VOL"
	run strace_run "$TD/fault.trace" -e inject="write:error=ENOSPC:when=$n" -- -c "$CONF" -- \
		"$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 73 ]
	grep INJECTED "$TD/fault.trace" | grep -q volinit-tmp
	[ ! -e "$VOL/schema_version.txt" ]
	[ ! -e "$TD/app-ran" ]
	run find "$VOL" -maxdepth 1 -name '*volinit-tmp*'
	[ -z "$output" ]
}

@test "SIGKILL of volinit (PID 1) during a hook, then a clean restart restores the snapshot and completes" {
	mg_rich_tree "$VOL"
	echo 1 >"$VOL/schema_version.txt"
	echo base >"$VOL/data.txt"
	mg_hook 2 'echo two >>data.txt; rm setuid'
	mg_hook 3 "echo three >>data.txt; rm -r d; echo junk >junk
[ -e '$TD/block' ] && exec '$PROBE' signals '$TD/hook.sig'
true"
	mg_hook 4 'echo four >>data.txt'
	mg_conf 4
	local before
	before=$(mg_listing "$VOL")
	touch "$TD/block"
	ns_start "$TD/first.out" -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	wait_for_line "$TD/hook.sig" '^ready$'
	[ -e "$VOL/.volinit/dirty" ]
	kill -KILL "$VPID"
	mg_wait_exit "$UPID"
	cat "$TD/first.out"
	[ ! -e "$TD/app-ran" ]
	[ -e "$VOL/.volinit/dirty" ]
	[ -d "$VOL/.volinit/snapshot" ]

	run --separate-stderr vi status -c "$CONF"
	echo "$output"
	[[ "$output" == *"a start:"*"restore"* ]]
	[[ "$output" != *"locked:"* ]]

	rm "$TD/block"
	run timeout -k 5 "$VI_TIMEOUT" unshare --pid --fork --mount-proc \
		"$VOLINIT" -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -e "$TD/app-ran" ]
	[ "$(mg_version)" = 4 ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
	# Restored, then the whole migration again: each step's change once.
	[ "$(cat "$VOL/data.txt")" = "base
two
three
four" ]
	[ "$(cat "$HLOG")" = "2 1 2
3 2 3
2 1 2
3 2 3
4 3 4" ]
	[ "$(cat "$VOL/junk")" = junk ]
	[ ! -e "$VOL/d" ]
	[ ! -e "$VOL/setuid" ]
	run mg_events
	echo "$output"
	[[ "$output" == *"step_ok 1 2"*"restore"*"migrate_begin 1 4"*"step_ok 3 4"*"start 4 4"$'\n'"exit 4 4" ]]
}

@test "SIGKILL of volinit between two steps, then a clean restart completes the migration" {
	fault_fixture
	mg_hook 2 'echo two >>data.txt'
	mg_hook 3 'echo three >>data.txt'
	mg_hook 4 'echo four >>data.txt'
	mg_conf 4
	# Kill it right after step 2's marker is removed: the version is 2, no
	# marker, the snapshot (of version 1) still there. The kill comes as it
	# enters the first fsync after that unlink.
	strace_run "$TD/clean.trace" -- migrate -c "$CONF" 2>/dev/null
	local n
	n=$(mg_nth "$TD/clean.trace" fsync '' 1 '^unlinkat\(.*"(\.volinit/)?dirty", 0\) = 0' 1)
	fault_fixture
	rm -rf "$VOL/.volinit"
	run strace_run "$TD/kill.trace" -e inject="fsync:signal=KILL:when=$n" -- migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 137 ]
	[ "$(mg_version)" = 2 ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ "$(cat "$HLOG")" = "2 1 2" ]

	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 4 ]
	[ "$(cat "$VOL/data.txt")" = "base
two
three
four" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
}

@test "a snapshot/ left without dirty by a crash after a step does not block the next migration" {
	# The state the previous test makes with a kill, made by hand: version 2,
	# no marker, and the complete snapshot of version 1 still there.
	fault_fixture
	mkdir -p -m 0700 "$VOL/.volinit/snapshot/d"
	cp -a "$VOL/data.txt" "$VOL/d" "$VOL/.volinit/snapshot/"
	echo 1 >"$VOL/.volinit/snapshot/schema_version.txt"
	echo 2 >"$VOL/schema_version.txt"
	echo two >>"$VOL/data.txt"
	mg_hook 3 'echo three >>data.txt'
	mg_conf 3
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 3 ]
	[ "$(cat "$VOL/data.txt")" = "base
two
three" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
}

@test "SIGTERM to volinit (PID 1) during a hook goes to the hook; no further step, no program, exit 143" {
	fault_fixture
	mg_hook 2 'echo two >>data.txt'
	# This hook records the signals it gets, and ends well on SIGTERM.
	mg_hook 3 "echo three >>data.txt; [ -e '$TD/block' ] && exec '$PROBE' signals '$TD/hook.sig'; true"
	mg_hook 4 'echo four >>data.txt'
	mg_conf 4
	touch "$TD/block"
	ns_start "$TD/first.out" -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	wait_for_line "$TD/hook.sig" '^ready$'
	kill -TERM "$VPID"
	mg_wait_exit "$UPID"
	cat "$TD/first.out"
	[ "$MG_RC" -eq 143 ]
	# The hook got it, ended well, and its step counts.
	[ "$(cat "$TD/hook.sig")" = "ready
15" ]
	[ "$(cat "$HLOG")" = "2 1 2
3 2 3" ]
	[ ! -e "$TD/app-ran" ]
	[ "$(mg_version)" = 3 ]
	[ ! -e "$VOL/.volinit/dirty" ]
	run mg_events
	[[ "$output" == *"step_ok 2 3"* && "$output" != *"3 4"* && "$output" != *start* ]]

	# A restart goes on from 3.
	rm "$TD/block"
	run timeout -k 5 "$VI_TIMEOUT" unshare --pid --fork --mount-proc \
		"$VOLINIT" -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	[ "$status" -eq 0 ]
	[ -e "$TD/app-ran" ]
	[ "$(mg_version)" = 4 ]
	[ "$(tail -1 "$HLOG")" = "4 3 4" ]
}

@test "SIGTERM that kills the hook: exit 143 (not 82), no further step, no program" {
	fault_fixture
	mg_hook 2 'echo two >>data.txt'
	mg_hook 3 "touch '$TD/ready'; exec sleep 60"
	mg_hook 4 'echo four >>data.txt'
	mg_conf 4
	ns_start "$TD/first.out" -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	wait_for_file "$TD/ready"
	kill -TERM "$VPID"
	mg_wait_exit "$UPID"
	cat "$TD/first.out"
	[ "$MG_RC" -eq 143 ]
	[ ! -e "$TD/app-ran" ]
	[ "$(cat "$HLOG")" = "2 1 2
3 2 3" ]
	[ "$(jq -r 'select(.event == "step_fail") | .detail' "$VOL/.volinit/journal.jsonl")" = "died of signal 15" ]
	[ ! -e "$VOL/.volinit/dirty" ]
}

@test "SIGTERM that arrives before the first step: no step starts, no program, exit 143" {
	fault_fixture
	mg_hook 2 'echo two >>data.txt'
	mg_conf 2
	# strace delivers SIGTERM to volinit as it syncs the snapshot.
	run strace_run "$TD/term.trace" -e inject=syncfs:signal=TERM:when=1 -- \
		-c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	grep -q 'syncfs.*INJECTED\|SIGTERM' "$TD/term.trace"
	[ "$status" -eq 143 ]
	[ ! -e "$TD/app-ran" ]
	# No hook was even started.
	[ "$(grep -c "execve(\"$HOOKS/2\"" "$TD/term.trace")" -eq 0 ]
	[ ! -s "$HLOG" ]
	[ "$(mg_version)" = 1 ]
}

@test "a volume without room for the snapshot gives 73 and changes nothing (tmpfs)" {
	mg_mount_tmpfs "$TD/small" 2m
	VOL=$TD/small/vol
	mkdir "$VOL"
	echo 1 >"$VOL/schema_version.txt"
	head -c 1300000 /dev/urandom >"$VOL/big"
	mg_hook 2 'echo two >>schema_note'
	mg_conf 2
	local before
	before=$(mg_listing "$VOL")
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 73 ]
	[[ "$output" == *"FATAL"*"not enough free space for the snapshot"* ]]
	[ ! -s "$HLOG" ]
	[ "$(mg_listing "$VOL")" = "$before" ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
	[ ! -e "$VOL/.volinit/snapshot.tmp" ]

	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	[ "$status" -eq 73 ]
	[ ! -e "$TD/app-ran" ]
	[ "$(mg_listing "$VOL")" = "$before" ]

	# The migration itself fits: without a snapshot it goes through.
	mg_conf 2 "snapshot = false"
	run vi migrate -c "$CONF"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 2 ]
}

@test "a read-only bind mount gives 73 when a write is needed, and runs when none is" {
	local real=$TD/real
	mkdir -p "$real"
	echo 1 >"$real/schema_version.txt"
	echo data >"$real/data.txt"
	mkdir "$TD/ro"
	mount --bind "$real" "$TD/ro"
	MG_MOUNTS+=("$TD/ro")
	mount -o remount,bind,ro "$TD/ro"
	VOL=$TD/ro
	mg_hook 2
	mg_conf 2
	local before
	before=$(mg_listing "$real")

	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 73 ]
	[[ "$output" == *"FATAL"* ]]
	[ ! -e "$TD/app-ran" ]
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 73 ]
	[ ! -s "$HLOG" ]
	# Reading works: dry-run and status.
	run vi migrate --dry-run -c "$CONF"
	[ "$status" -eq 0 ]
	run vi status -c "$CONF"
	[ "$status" -eq 0 ]
	[ "$(mg_listing "$real")" = "$before" ]
	[ ! -e "$real/.volinit" ]

	# Current: nothing to write, the program runs.
	mg_conf 1
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -e "$TD/app-ran" ]

	# Empty and to be initialized: 73.
	mkdir "$TD/empty-real" "$TD/empty-ro"
	mount --bind "$TD/empty-real" "$TD/empty-ro"
	MG_MOUNTS+=("$TD/empty-ro")
	mount -o remount,bind,ro "$TD/empty-ro"
	printf '[data]\npath = %s\nexpected = 1\n' "$TD/empty-ro" >"$CONF"
	run vi -c "$CONF" -- true
	echo "$output"
	[ "$status" -eq 73 ]
	[ -z "$(ls -A "$TD/empty-real")" ]
}
