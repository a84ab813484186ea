#!/usr/bin/env bats
# Hostile volume contents (SPEC.md "Version file", "State on the volume"):
# whoever can write to the volume (the app, as a non-root user) may plant
# symlinks, FIFOs and devices there. volinit, running as root, must never
# follow them out of the volume: not for the version file, not for its
# temporary file, not for .volinit/ or anything in it. Each test plants
# something, runs volinit, and proves that the directory outside the volume
# is exactly as it was (listing with modes, owners, sizes, mtimes, link
# targets, and checksums), that the volume's data is intact, and, for FIFOs,
# that nothing even opened them.
#
# Environment: VOLINIT (build/volinit), HELPERS (build/helpers), VI_TIMEOUT
# (seconds for each run, default 30), as in helpers.bash.

# shellcheck disable=SC2016 # hooks expand their own variables
bats_require_minimum_version 1.5.0

# VOLINIT, HELPERS, PROBE, VI_TIMEOUT, vi (the bounded volinit run), the
# scratch directory T and the killing of BG_PIDS at teardown.
load helpers

setup() {
	if [ "$(id -u)" != 0 ]; then
		[ -n "${CI:-}" ] && { echo "symlinks.bats needs root (CI runs as root)" >&2; return 1; }
		skip "needs root (volinit as root is what a planted symlink attacks)"
	fi
	common_setup
	VOL=$T/vol
	OUT=$T/outside
	HOOKS=$T/hooks
	CONF=$T/volinit.ini
	mkdir -p "$VOL" "$OUT" "$HOOKS"
	echo "app data" >"$VOL/data.txt"
}

teardown() { common_teardown; }

# conf EXPECTED [LINE...]: volume "data" on $VOL, hooks in $HOOKS.
conf() {
	local expected=$1 l
	shift
	{
		echo "[data]"
		echo "path = $VOL"
		echo "expected = $expected"
		echo "migrations = $HOOKS"
		for l in "$@"; do echo "$l"; done
	} >"$CONF"
}

# hook NAME: a step that appends to the volume's data.
hook() {
	printf '#!/bin/sh\necho "step $VOLINIT_TO" >>data.txt\n' >"$HOOKS/$1"
	chmod 0755 "$HOOKS/$1"
}

# As PID 1 of a new PID namespace: volinit's pid, and so the name of its
# temporary version file, is known in advance (1).
vi_pid1() {
	timeout -k 5 "$VI_TIMEOUT" unshare --pid --fork --mount-proc -- "$VOLINIT" "$@"
}

# outside_listing DIR: everything that could show a change below DIR (more
# than helpers.bash's listing: link counts, link targets, checksums).
outside_listing() {
	(
		cd "$1" || exit 1
		stat -c 'root %a %u %g %s %Y' .
		find . -mindepth 1 -printf '%y %m %U %G %n %s %T@ %p -> %l\n' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
	)
}

# The volume's data: .volinit, the version file and volinit's temporary
# name aside (volinit may change those, in the volume).
data_listing() {
	(
		cd "$VOL" || exit 1
		find . -mindepth 1 \( -path ./.volinit -o -path ./schema_version.txt -o \
			-path './.schema_version.txt.volinit-tmp.*' \) -prune -o \
			-printf '%y %m %U %G %s %T@ %p -> %l\n' | LC_ALL=C sort
		find . \( -path ./.volinit -o -name schema_version.txt -o \
			-path './.schema_version.txt.volinit-tmp.*' \) -prune -o -type f -print0 |
			LC_ALL=C sort -z | xargs -0r sha256sum
	)
}

# Outside: plausible names for everything volinit keeps in .volinit/, so
# that following a planted link would create, write, rename or delete
# something visible here.
plant_outside() {
	mkdir -p "$OUT/holders" "$OUT/snapshot.tmp/sub"
	echo "someone else's holder" >"$OUT/holders/host-1"
	echo precious >"$OUT/snapshot.tmp/sub/precious"
	echo '{"not":"volinit"}' >"$OUT/journal.jsonl"
	: >"$OUT/lock"
	echo "unrelated" >"$OUT/victim"
	chmod 0755 "$OUT"
	touch -d '2001-01-01 00:00:00' "$OUT" "$OUT"/* "$OUT"/*/* "$OUT/snapshot.tmp/sub/precious"
}

snap() {
	outside_listing "$OUT" >"$T/outside.before"
	data_listing >"$T/data.before"
}

# outside_untouched: the outside directory as snap saw it.
outside_untouched() {
	outside_listing "$OUT" >"$T/outside.after"
	if ! diff -u "$T/outside.before" "$T/outside.after"; then
		echo "volinit changed the directory outside the volume (above)" >&2
		return 1
	fi
}

# untouched: the outside directory and the volume's data as snap saw them.
untouched() {
	outside_untouched || return 1
	data_listing >"$T/data.after"
	if ! diff -u "$T/data.before" "$T/data.after"; then
		echo "the volume's data changed (above)" >&2
		return 1
	fi
}

# --- the version file --------------------------------------------------

@test "a version file that is a symlink to a valid version file outside: refused as corrupt (65), target untouched" {
	echo 1 >"$OUT/victim"
	ln -s "$OUT/victim" "$VOL/schema_version.txt"
	conf 1
	snap
	run vi -c "$CONF" -- "$PROBE" touch "$T/marker"
	echo "$output"
	[ "$status" -eq 65 ]
	[[ "$output" == *'volinit: FATAL: volume "data" ('"$VOL"'): version file schema_version.txt is a symbolic link, not a regular file'* ]]
	[ ! -e "$T/marker" ]
	run -65 vi check -c "$CONF"
	run -65 vi migrate -c "$CONF"
	run -0 vi status -c "$CONF"
	echo "$output"
	[[ "$output" == *"state:        corrupt"* ]]
	untouched
	[ -L "$VOL/schema_version.txt" ]
}

@test "stamp replaces a symlinked version file with a regular one and leaves its target alone" {
	echo 1 >"$OUT/victim"
	ln -s "$OUT/victim" "$VOL/schema_version.txt"
	conf 1
	snap
	run -0 vi stamp -c "$CONF" data 7
	echo "$output"
	[ ! -L "$VOL/schema_version.txt" ]
	[ -f "$VOL/schema_version.txt" ]
	[ "$(cat "$VOL/schema_version.txt")" = 7 ]
	untouched
}

# A writer blocked in open(2) on the FIFO is released by any reader: if it
# is still blocked after volinit ran, volinit never opened the FIFO.
fifo_writer() {
	(
		exec 3>&- 4>"$1"
		: >"$T/fifo-was-opened"
	) &
	BG_PIDS+=("$!")
}

# not_opened: the writer did not get through its open in half a second (a
# released writer needs a moment to run; a sleep on purpose: there is no
# event to wait for when the test passes).
not_opened() {
	local _
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ ! -e "$T/fifo-was-opened" ] || { echo "volinit opened the FIFO" >&2; return 1; }
		sleep 0.05
	done
}

@test "a version file that is a symlink to a FIFO outside: 65 at once, never opened, no hang" {
	mkfifo "$OUT/fifo"
	ln -s "$OUT/fifo" "$VOL/schema_version.txt"
	conf 1
	snap
	# No writer: an open for reading without O_NONBLOCK would hang here.
	run vi -c "$CONF" -- "$PROBE" touch "$T/marker"
	echo "$output"
	[ "$status" -eq 65 ]
	[ ! -e "$T/marker" ]
	# A writer waiting: any open for reading would release it.
	fifo_writer "$OUT/fifo"
	run -65 vi -c "$CONF" -- "$PROBE" touch "$T/marker"
	run -65 vi check -c "$CONF"
	run -0 vi status -c "$CONF"
	run -65 vi migrate -c "$CONF"
	not_opened
	untouched
}

@test "a version file that is itself a FIFO, a directory or a device: 65, never opened" {
	conf 1
	mkfifo "$VOL/schema_version.txt"
	fifo_writer "$VOL/schema_version.txt"
	run vi -c "$CONF" -- "$PROBE" touch "$T/marker"
	echo "$output"
	[ "$status" -eq 65 ]
	[[ "$output" == *"is a FIFO, not a regular file"* ]]
	not_opened
	rm "$VOL/schema_version.txt"
	mkdir "$VOL/schema_version.txt"
	run -65 vi -c "$CONF" -- "$PROBE" touch "$T/marker"
	[[ "$output" == *"is a directory, not a regular file"* ]]
	rmdir "$VOL/schema_version.txt"
	mknod "$VOL/schema_version.txt" c 1 3
	run -65 vi check -c "$CONF"
	[[ "$output" == *"is a character device, not a regular file"* ]]
	[ ! -e "$T/marker" ]
}

@test "a dangling version-file symlink is corrupt (65), not missing: on_missing = init writes nothing through it" {
	ln -s "$OUT/does-not-exist" "$VOL/schema_version.txt"
	rm "$VOL/data.txt"
	conf 1 "on_missing = init"
	snap
	run -65 vi -c "$CONF" -- "$PROBE" touch "$T/marker"
	[ ! -e "$OUT/does-not-exist" ]
	[ ! -e "$T/marker" ]
	untouched
}

# --- the temporary version file ----------------------------------------

# The temporary file of volinit as PID 1: .schema_version.txt.volinit-tmp.1
plant_tmp_link() {
	ln -s "$OUT/victim" "$VOL/.schema_version.txt.volinit-tmp.1"
}

@test "a planted symlink named like the temporary version file: adopting a baseline writes a regular file, not through it" {
	plant_outside
	plant_tmp_link
	conf 1 "baseline = 1"
	snap
	run -0 vi_pid1 -c "$CONF" -- "$PROBE" touch "$T/marker"
	echo "$output"
	[ -f "$T/marker" ]
	[ ! -L "$VOL/schema_version.txt" ]
	[ "$(cat "$VOL/schema_version.txt")" = 1 ]
	untouched
}

@test "a planted symlink named like the temporary version file: stamp and a migration step write a regular file, not through it" {
	plant_outside
	echo 1 >"$VOL/schema_version.txt"
	plant_tmp_link
	conf 1
	snap
	run -0 vi_pid1 stamp -c "$CONF" data 1
	echo "$output"
	[ ! -L "$VOL/schema_version.txt" ]
	[ "$(cat "$VOL/schema_version.txt")" = 1 ]
	untouched
	plant_tmp_link
	hook 0002
	conf 2
	run -0 vi_pid1 migrate -c "$CONF" --dry-run
	run -0 vi_pid1 migrate -c "$CONF"
	echo "$output"
	[ "$(cat "$VOL/schema_version.txt")" = 2 ]
	[ "$(cat "$VOL/data.txt")" = "app data
step 2" ]
	outside_untouched
}

@test "on_missing = init on a volume whose only entry is a planted temp-file symlink: not empty, so 80, nothing written" {
	plant_outside
	rm "$VOL/data.txt"
	plant_tmp_link
	conf 1 "on_missing = init"
	snap
	run -80 vi_pid1 -c "$CONF" -- "$PROBE" touch "$T/marker"
	echo "$output"
	[ ! -e "$VOL/schema_version.txt" ]
	[ ! -e "$T/marker" ]
	untouched
}

# --- .volinit ----------------------------------------------------------
# A .volinit that is not a directory cannot hold a lock, a dirty marker or
# a snapshot: whatever needs one of them fails with 73, and nothing is
# created, written, renamed or deleted outside.

# .volinit planted as a symlink to the outside directory; the volume at 1.
plant_state_link() {
	plant_outside
	echo 1 >"$VOL/schema_version.txt"
	ln -s "$OUT" "$VOL/.volinit"
	hook 0002
	snap
}

@test ".volinit planted as a symlink: check and status read nothing outside into their verdict and change nothing" {
	plant_state_link
	conf 1
	run -0 vi check -c "$CONF"
	run -0 vi check -c "$CONF" --json
	run -0 vi status -c "$CONF"
	run -0 vi status -c "$CONF" --json
	echo "$output"
	# The journal and snapshot shown are not the outside directory's.
	[[ "$output" != *'"not":"volinit"'* ]]
	untouched
}

@test ".volinit planted as a symlink: a start creates and writes nothing outside (lock, holders, journal)" {
	plant_state_link
	conf 1
	run vi -c "$CONF" -- "$PROBE" touch "$T/marker"
	echo "$output"
	untouched
}

@test ".volinit planted as a symlink: a start that migrates creates, writes and deletes nothing outside (snapshot, dirty, journal)" {
	plant_state_link
	conf 2 "on_older = migrate"
	run vi -c "$CONF" -- "$PROBE" touch "$T/marker"
	echo "$output"
	[ "$status" -eq 73 ]
	[ ! -e "$T/marker" ]
	untouched
}

@test ".volinit planted as a symlink: volinit migrate creates, writes and deletes nothing outside" {
	plant_state_link
	conf 2
	run vi migrate -c "$CONF" --dry-run
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 73 ]
	untouched
}

@test ".volinit planted as a symlink: volinit stamp creates, writes and deletes nothing outside" {
	plant_state_link
	conf 1
	run vi stamp -c "$CONF" data 5
	echo "$output"
	[ "$status" -eq 73 ]
	untouched
}

@test ".volinit planted as a symlink to a directory with dirty and snapshot/: the volume's data is not replaced by it" {
	plant_state_link
	mkdir -p "$OUT/snapshot"
	echo "planted by the app" >"$OUT/snapshot/data.txt"
	echo 1 >"$OUT/snapshot/schema_version.txt"
	echo '{"from":1,"to":2}' >"$OUT/dirty"
	touch -d '2001-01-01 00:00:00' "$OUT/snapshot"/* "$OUT/snapshot" "$OUT/dirty" "$OUT"
	snap
	conf 1
	run vi -c "$CONF" -- "$PROBE" touch "$T/marker"
	echo "$output"
	[ "$(cat "$VOL/data.txt")" = "app data" ]
	untouched
	run vi migrate -c "$CONF"
	echo "$output"
	untouched
}

# Symlinks inside a real .volinit/ (made by a previous start).
plant_inner_links() {
	plant_outside
	echo 1 >"$VOL/schema_version.txt"
	conf 1
	run -0 vi -c "$CONF" -- true
	[ "$(stat -c %a "$VOL/.volinit")" = 700 ]
	rm -rf "$VOL/.volinit/holders" "$VOL/.volinit/lock" "$VOL/.volinit/journal.jsonl"
	ln -s "$OUT/holders" "$VOL/.volinit/holders"
	ln -s "$OUT/lock" "$VOL/.volinit/lock"
	ln -s "$OUT/journal.jsonl" "$VOL/.volinit/journal.jsonl"
	ln -s "$OUT/snapshot.tmp" "$VOL/.volinit/snapshot.tmp"
	hook 0002
	snap
}

@test "symlinks planted inside .volinit/ (holders, lock, journal, snapshot.tmp) are not followed by start, migrate, stamp, check, status" {
	plant_inner_links
	run vi -c "$CONF" -- "$PROBE" touch "$T/marker"
	echo "start: $status $output"
	untouched
	run vi check -c "$CONF"
	run vi status -c "$CONF"
	untouched
	conf 2 "on_older = migrate"
	run vi -c "$CONF" -- "$PROBE" touch "$T/marker"
	echo "start+migrate: $status $output"
	outside_untouched
	run vi migrate -c "$CONF"
	echo "migrate: $status $output"
	outside_untouched
	run vi stamp -c "$CONF" data 1
	echo "stamp: $status $output"
	outside_untouched
}

@test ".volinit/holders planted as a symlink (the lock a real file) is not followed by a start" {
	plant_outside
	echo 1 >"$VOL/schema_version.txt"
	conf 1
	run -0 vi -c "$CONF" -- true
	rm -rf "$VOL/.volinit/holders"
	ln -s "$OUT/holders" "$VOL/.volinit/holders"
	snap
	run vi -c "$CONF" -- "$PROBE" touch "$T/marker"
	echo "$output"
	untouched
	conf 2 "on_older = migrate"
	hook 0002
	run vi migrate -c "$CONF"
	echo "$output"
	outside_untouched
}

@test "a planted .volinit/lock symlink does not let a start migrate without the lock (73)" {
	plant_outside
	echo 1 >"$VOL/schema_version.txt"
	conf 1
	run -0 vi -c "$CONF" -- true
	rm "$VOL/.volinit/lock"
	ln -s "$OUT/lock" "$VOL/.volinit/lock"
	hook 0002
	conf 2 "on_older = migrate"
	snap
	run vi -c "$CONF" -- "$PROBE" touch "$T/marker"
	echo "$output"
	# Migrating unlocked would let two replicas migrate at once.
	[ "$status" -eq 73 ]
	[[ "$output" == *"FATAL"*".volinit/lock"* ]]
	[ "$(cat "$VOL/schema_version.txt")" = 1 ]
	[ ! -e "$T/marker" ]
	untouched
}

@test ".volinit/dirty planted as a symlink is not followed by a migration" {
	plant_outside
	echo 1 >"$VOL/schema_version.txt"
	conf 2
	hook 0002
	mkdir -m 0700 "$VOL/.volinit"
	ln -s "$OUT/victim" "$VOL/.volinit/dirty"
	snap
	run vi migrate -c "$CONF"
	echo "$output"
	outside_untouched
}

@test ".volinit and .volinit/holders, as volinit makes them, are 0700" {
	echo 1 >"$VOL/schema_version.txt"
	conf 1
	run -0 vi -c "$CONF" -- "$PROBE" status "$T/status"
	[ "$(stat -c %a "$VOL/.volinit")" = 700 ]
	[ "$(stat -c %a "$VOL/.volinit/holders")" = 700 ]
}
