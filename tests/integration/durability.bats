#!/usr/bin/env bats
# Durability (SPEC.md "Power loss"): the order of volinit's durability calls
# read from strace, as the crash harness (tests/crash) cuts the power
# between them: a hook's data synced before its version, the version before
# dirty goes, dirty before the snapshot is dropped; a syncfs that fails
# (EIO) fails the step; and volinit's temporary files left by a crash
# removed at the next act, never counted as the app's data.

load migrate_helpers
bats_require_minimum_version 1.5.0

setup() {
	mg_setup
	command -v strace >/dev/null || skip "strace is not installed"
}
teardown() { mg_teardown; }

fixture() {
	rm -rf "$VOL"
	mkdir -p "$VOL/d"
	echo 1 >"$VOL/schema_version.txt"
	echo base >"$VOL/data.txt"
	echo keep >"$VOL/d/f"
	: >"$HLOG"
	mg_hook 2 'echo two >>data.txt; mv d/f d/g'
	mg_hook 3 'echo three >>data.txt'
}

# traced TRACE ARGS...: volinit under strace -f (every process, in the order
# the calls happened), with fds shown as paths.
traced() {
	local trace=$1
	shift
	# LeakSanitizer cannot run under ptrace (make sanitize): leaks unchecked here.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout -k 5 "$VI_TIMEOUT" strace -f -y -q -s 120 -o "$trace" \
		-e trace=execve,syncfs,fsync,fdatasync,renameat,renameat2,unlinkat,openat \
		-e signal=none "$VOLINIT" "$@"
}

# durable_order TRACE: one line per durability event of volinit's own
# process, in order: "hook N" (a hook's exit), "syncfs", "version N" (the
# version file renamed into place), "dirsync" (an fsync of the volume
# directory), "dirty+" / "dirty-" (the marker written / removed),
# "snapshot+" / "snapshot-" (published / put aside).
durable_order() {
	awk '
		NR == 1 { main = $1 }
		$2 ~ /^execve\(/ && match($0, /hooks\/[0-9]+"/) {
			hook[$1] = substr($0, RSTART + 6, RLENGTH - 7)
		}
		$2 == "+++" && ($1 in hook) { print "hook " hook[$1]; delete hook[$1] }
		$1 != main { next }
		/^[0-9]+ +syncfs\(.* = 0/ { print "syncfs" }
		/^[0-9]+ +renameat2?\(.*"schema_version\.txt".* = 0/ { print "version" }
		/^[0-9]+ +fsync\([0-9]+<[^>]*\/vol>\) = 0/ { print "dirsync" }
		/^[0-9]+ +renameat2?\(.*"dirty".* = 0/ { print "dirty+" }
		/^[0-9]+ +unlinkat\(.*"dirty", 0\) = 0/ { print "dirty-" }
		/^[0-9]+ +renameat2?\(.*"snapshot.tmp".*"snapshot".* = 0/ { print "snapshot+" }
		/^[0-9]+ +renameat2?\(.*"snapshot", .*"snapshot\.del\..* = 0/ { print "snapshot-" }
	' "$1"
}

@test "a migration with a snapshot: snapshot, dirty, hook, syncfs, version, dirty gone, snapshot dropped" {
	fixture
	mg_conf 3
	run traced "$TD/m.trace" migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 3 ]
	run durable_order "$TD/m.trace"
	echo "$output"
	# The snapshot's copy is synced before it is published; each hook's
	# data before its version; the version (file and directory) before the
	# marker goes; the marker before the snapshot is put aside.
	[ "$output" = "syncfs
snapshot+
dirty+
hook 2
syncfs
version
dirsync
dirty-
dirty+
hook 3
syncfs
version
dirsync
dirty-
snapshot-" ]
}

@test "an online migration (readers): each hook's data synced before its version" {
	fixture
	mg_conf 3 "readers = 2"
	echo 2 >"$VOL/schema_version.txt"
	run traced "$TD/o.trace" migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	run durable_order "$TD/o.trace"
	echo "$output"
	[ "$output" = "dirty+
hook 3
syncfs
version
dirsync
dirty-" ]
}

@test "init, adoption and stamp: the volume synced before the version is written" {
	fixture
	rm -rf "$VOL"/*
	mg_conf 3 "on_missing = init"
	run traced "$TD/i.trace" -c "$CONF" -- "$PROBE" exit 0
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(durable_order "$TD/i.trace" | tr '\n' ' ')" = "syncfs version dirsync " ]

	fixture
	rm "$VOL/schema_version.txt"
	mg_conf 3 "baseline = 3"
	run traced "$TD/a.trace" -c "$CONF" -- "$PROBE" exit 0
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 3 ]
	[ "$(durable_order "$TD/a.trace" | tr '\n' ' ')" = "syncfs version dirsync " ]

	run traced "$TD/s.trace" stamp -c "$CONF" data 2
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 2 ]
	[ "$(durable_order "$TD/s.trace" | tr '\n' ' ')" = "syncfs version dirsync " ]
}

@test "syncfs failing with EIO after a hook: the step fails, the snapshot goes back, 82" {
	fixture
	mg_conf 3
	local before
	before=$(mg_listing "$VOL")
	# syncfs #1 is the snapshot's, #2 the one after hook 2.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		run timeout -k 5 "$VI_TIMEOUT" strace -f -q -o "$TD/eio.trace" \
		-e trace=syncfs -e inject=syncfs:error=EIO:when=2 "$VOLINIT" migrate -c "$CONF"
	echo "$output"
	grep 'INJECTED' "$TD/eio.trace"
	[ "$status" -eq 82 ]
	[[ "$output" == *"FATAL"*"step 1 -> 2 (2) succeeded, but what it wrote could not be made durable (syncfs): Input/output error; the volume was restored"* ]]
	[ "$(mg_version)" = 1 ]
	[ "$(mg_listing "$VOL")" = "$before" ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
	[ "$(cat "$HLOG")" = "2 1 2" ]
	[ "$(jq -r 'select(.event == "step_fail") | .detail' "$VOL/.volinit/journal.jsonl")" = \
		"succeeded, but what it wrote could not be made durable (syncfs): Input/output error" ]
}

@test "syncfs failing with EIO after an online hook: the version stays, the step runs again, 82" {
	fixture
	echo 2 >"$VOL/schema_version.txt"
	mg_conf 3 "readers = 2"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		run timeout -k 5 "$VI_TIMEOUT" strace -f -q -o "$TD/eio.trace" \
		-e trace=syncfs -e inject=syncfs:error=EIO:when=1 "$VOLINIT" migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 82 ]
	[[ "$output" == *"FATAL"*"online migration step 2 -> 3 (3) succeeded, but what it wrote could not be made durable"*"the volume stays at 2"* ]]
	[ "$(mg_version)" = 2 ]
	[ ! -e "$VOL/.volinit/dirty" ]
	run vi migrate -c "$CONF"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 3 ]
	[ "$(cat "$HLOG")" = "3 2 3
3 2 3" ]
}

@test "syncfs failing with EIO before a stamp: nothing is written, 73" {
	fixture
	mg_conf 3
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		run timeout -k 5 "$VI_TIMEOUT" strace -f -q -o "$TD/eio.trace" \
		-e trace=syncfs -e inject=syncfs:error=EIO:when=1 "$VOLINIT" stamp -c "$CONF" data 2
	echo "$output"
	[ "$status" -eq 73 ]
	[[ "$output" == *"FATAL"*"cannot stamp: Input/output error"* ]]
	[ "$(mg_version)" = 1 ]
}

@test "a temporary version file left by a crash: an empty volume is still empty, init removes it" {
	mkdir -p "$VOL/.volinit"
	chmod 0700 "$VOL/.volinit"
	echo 3 >"$VOL/.schema_version.txt.volinit-tmp.1"
	echo '{}' >"$VOL/.volinit/dirty.volinit-tmp.7"
	echo 'readers=1 versions=1-1' >"$VOL/.volinit/.readers.volinit-tmp.12"
	mg_conf 3 "on_missing = init"
	run vi status -c "$CONF"
	echo "$output"
	[[ "$output" == *"uninitialized"* ]]
	run vi -c "$CONF" -- "$PROBE" exit 0
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 3 ]
	run find "$VOL" -name '*volinit-tmp*'
	[ -z "$output" ]
}

@test "a temporary version file left by a crash: an adoption does not keep it in the data" {
	mkdir -p "$VOL/sub"
	echo app >"$VOL/app.db"
	echo 2 >"$VOL/.schema_version.txt.volinit-tmp.1"
	# Names of the app's that only look alike stay.
	echo mine >"$VOL/.notes.volinit-tmp.x1"
	echo mine >"$VOL/.notes.volinit-tmp.7"
	echo mine >"$VOL/schema_version.txt.volinit-tmp.7"
	mkdir "$VOL/.dir.volinit-tmp.5"
	mg_conf 3 "baseline = 3"
	run vi -c "$CONF" -- "$PROBE" exit 0
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 3 ]
	[ ! -e "$VOL/.schema_version.txt.volinit-tmp.1" ]
	[ "$(cat "$VOL/.notes.volinit-tmp.x1")" = mine ]
	[ "$(cat "$VOL/.notes.volinit-tmp.7")" = mine ]
	[ "$(cat "$VOL/schema_version.txt.volinit-tmp.7")" = mine ]
	[ -d "$VOL/.dir.volinit-tmp.5" ]
	[ "$(cat "$VOL/app.db")" = app ]
}

@test "a file of the app's named like a temporary file of another name counts as data: an empty-looking volume is not initialized over it" {
	echo mine >"$VOL/.notes.volinit-tmp.7"
	mg_conf 3 "on_missing = init"
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 80 ]
	[ ! -e "$TD/app-ran" ]
	[ "$(cat "$VOL/.notes.volinit-tmp.7")" = mine ]
	[ ! -e "$VOL/schema_version.txt" ]
}
