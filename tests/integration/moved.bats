#!/usr/bin/env bats
# volinit's state moved by the app (SPEC.md "State on the volume", issue
# 22): .volinit/ is in the volume's root, which the app owns, so the app
# can rename it there, put an older one back or plant its own. None of that
# may sidestep the lock, hide dirty, or bring back an old snapshot: a state
# directory of volinit's under another name is evidence, and volinit
# refuses (73) rather than make a second one or act beside it. The renames
# here are made by root, as the app's user could make them in its own root.

load migrate_helpers
bats_require_minimum_version 1.5.0

setup() { mg_setup; }
teardown() { mg_teardown; }

fixture() {
	echo 1 >"$VOL/schema_version.txt"
	echo base >"$VOL/data.txt"
	mg_hook 2 'echo two >>data.txt'
}

# A state directory of volinit's, made by hand as an older volinit made a
# second one beside a renamed first (root's, 0700, with a lock file).
state_dir() {
	mkdir -m 0700 "$VOL/$1"
	: >"$VOL/$1/lock"
}

@test "an app renames .volinit while it holds the lock: volinit migrate refuses (73), naming it, and runs no hook" {
	fixture
	mg_conf 1
	mg_bg "$TD/app.out" "$VOLINIT" -c "$CONF" -- "$PROBE" signals "$TD/app.sig"
	local app=$MG_PID
	wait_for_line "$TD/app.sig" ready
	mv "$VOL/.volinit" "$VOL/.volinit.aside"
	mg_conf 2
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 73 ]
	[[ "$output" == *'FATAL'*'volinit'"'"'s state directory is not .volinit/ but ".volinit.aside"'* ]]
	[[ "$output" == *'hint: '*'mv '"$VOL"'/NAME '"$VOL"'/.volinit'* ]]
	[ ! -s "$HLOG" ]
	[ "$(mg_version)" = 1 ]
	# No second state directory was made beside it.
	[ ! -e "$VOL/.volinit" ]
	kill -TERM "$app"
	mg_wait_exit "$app"
}

@test "dirty renamed away with .volinit (snapshot = false): a start refuses (73), status says moved" {
	fixture
	mg_hook 2 'echo half >>data.txt; exit 1'
	mg_conf 2 "snapshot = false"
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	[ "$status" -eq 82 ]
	[ -e "$VOL/.volinit/dirty" ]
	mv "$VOL/.volinit" "$VOL/x"
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 73 ]
	[ ! -e "$TD/app-ran" ]
	[[ "$output" == *'FATAL'*'not .volinit/ but "x"'* ]]
	run vi status -c "$CONF"
	echo "$output"
	[[ "$output" == *'moved'* ]]
	[[ "$output" != *'current'* ]]
	run vi check -c "$CONF"
	[ "$status" -eq 73 ]
}

@test "an old .volinit with dirty and its snapshot swapped back in: never restored over newer data (73)" {
	fixture
	# volinit killed inside a hook: its dirty marker and snapshot stay.
	mg_hook 2 'echo two >>data.txt; kill -KILL $PPID; sleep 5'
	mg_conf 2
	run vi migrate -c "$CONF"
	[ -e "$VOL/.volinit/dirty" ]
	[ -d "$VOL/.volinit/snapshot" ]
	# Put aside; a later migration (as an older volinit made it, with a
	# fresh .volinit/ beside) and new data; then swapped back.
	mv "$VOL/.volinit" "$VOL/.old"
	state_dir .volinit
	echo 2 >"$VOL/schema_version.txt"
	echo "written after the migration" >"$VOL/new.txt"
	mv "$VOL/.volinit" "$VOL/.new"
	mv "$VOL/.old" "$VOL/.volinit"
	local before
	before=$(mg_listing "$VOL")
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 73 ]
	[[ "$output" == *'FATAL'*'beside .volinit/, another state directory of volinit'"'"'s: ".new"'* ]]
	[ ! -e "$TD/app-ran" ]
	[ "$(mg_listing "$VOL")" = "$before" ]
	[ "$(cat "$VOL/new.txt")" = "written after the migration" ]
}

@test "a closed readers window put back beside the current state: not trusted (73)" {
	echo 3 >"$VOL/schema_version.txt"
	mg_conf 3
	run vi -c "$CONF" -- "$PROBE" exit 0
	[ "$status" -eq 0 ]
	state_dir .old
	echo 'readers=2 versions=2-3' >"$VOL/.old/readers"
	chmod 0600 "$VOL/.old/readers"
	mg_conf 2
	# Without the swap: an image expecting 2 is refused (81).
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	[ "$status" -eq 81 ]
	mv "$VOL/.volinit" "$VOL/.current"
	mv "$VOL/.old" "$VOL/.volinit"
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 73 ]
	[ ! -e "$TD/app-ran" ]
	[[ "$output" == *'another state directory of volinit'"'"'s: ".current"; its readers window is not trusted'* ]]
}

@test "the state directory renamed while a start waits for the lock: the start refuses (73)" {
	fixture
	mg_hook 2 "echo two >>data.txt; while [ ! -e '$TD/go' ]; do sleep 0.02; done"
	mg_conf 2
	mg_bg "$TD/m.out" "$VOLINIT" migrate -c "$CONF"
	local m=$MG_PID
	wait_for_line "$HLOG" '^2 1 2$'
	mg_bg "$TD/s.out" "$VOLINIT" -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	local s=$MG_PID
	wait_for_line "$TD/s.out" 'waiting'
	mv "$VOL/.volinit" "$VOL/.renamed"
	touch "$TD/go"
	mg_wait_exit "$m"
	[ "$MG_RC" -eq 0 ]
	mg_wait_exit "$s"
	cat "$TD/s.out"
	[ "$MG_RC" -eq 73 ]
	[ ! -e "$TD/app-ran" ]
	grep -q 'FATAL.*state directory was renamed while volinit worked on it' "$TD/s.out"
}

@test "two state directories renamed aside: both named, nothing made, nothing run (73)" {
	fixture
	state_dir .a
	state_dir .b
	mg_conf 2
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 73 ]
	[[ "$output" == *'".a"'* && "$output" == *'".b"'* ]]
	[ ! -e "$VOL/.volinit" ]
	[ ! -s "$HLOG" ]
	[ ! -e "$TD/app-ran" ]
}

@test "a .volinit planted by the app beside volinit's renamed one: refused (73), not taken back" {
	fixture
	mg_conf 1
	run vi -c "$CONF" -- "$PROBE" exit 0
	[ "$status" -eq 0 ]
	mv "$VOL/.volinit" "$VOL/.aside"
	mkdir "$VOL/.volinit"
	chown 65534:65534 "$VOL/.volinit"
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 73 ]
	[[ "$output" == *'not .volinit/ but ".aside"'* ]]
	[ "$(stat -c %u "$VOL/.volinit")" = 65534 ]
	[ ! -e "$TD/app-ran" ]
}

@test "a directory of the app's holding a file named lock is not taken for volinit's" {
	fixture
	mg_conf 1
	mkdir "$VOL/app"
	: >"$VOL/app/lock"
	chown -R 65534:65534 "$VOL/app"
	run vi -c "$CONF" -- "$PROBE" exit 0
	echo "$output"
	[ "$status" -eq 0 ]
}

# keeper FILE MODE: a process that opens FILE (MODE: a for append, w for
# read-write) and keeps it, as an app that planted it would; it says
# "open" in $TD/keeper.state, then, on each line NAME of $TD/keeper.cmd:
# "write TEXT" appends through its descriptor, "lock" takes an exclusive
# POSIX lock (which OFD locks meet) and says "locked".
keeper() {
	: >"$TD/keeper.cmd"
	mg_bg "$TD/keeper.out" python3 -c '
import fcntl, os, sys, time
f = open(sys.argv[1], sys.argv[2] + "b", buffering=0)
st, cmd = sys.argv[3], sys.argv[4]
def say(w):
    with open(st, "a") as s: s.write(w + "\n")
say("open")
done = 0
end = time.time() + 60
while time.time() < end:
    lines = open(cmd).read().splitlines()
    for l in lines[done:]:
        if l.startswith("write "): f.write(l[6:].encode() + b"\n"); say("written")
        elif l == "lock": fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB); say("locked")
    done = len(lines)
    time.sleep(0.02)
' "$1" "$2" "$TD/keeper.state" "$TD/keeper.cmd"
	KEEPER=$MG_PID
	wait_for_line "$TD/keeper.state" '^open$'
}

@test "a journal planted by the app and kept open is replaced, not re-owned: lines written through its descriptor never reach volinit's" {
	fixture
	mg_conf 1
	mkdir -m 0700 "$VOL/.volinit"
	echo '{"event":"planted"}' >"$VOL/.volinit/journal.jsonl"
	chown -R 65534:65534 "$VOL/.volinit"
	keeper "$VOL/.volinit/journal.jsonl" a
	run vi -c "$CONF" -- "$PROBE" exit 3
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *'was not volinit'"'"'s'*'journal.jsonl'* ]]
	[ "$(stat -c '%u %a' "$VOL/.volinit/journal.jsonl")" = "0 600" ]
	echo 'write {"event":"forged"}' >>"$TD/keeper.cmd"
	wait_for_line "$TD/keeper.state" '^written$'
	run vi -c "$CONF" -- "$PROBE" exit 3
	run grep -c forged "$VOL/.volinit/journal.jsonl"
	[ "$output" = 0 ]
	# What was in it before is kept (its last MiB).
	grep -q planted "$VOL/.volinit/journal.jsonl"
	[ "$(jq -r 'select(.event == "exit") | .event' "$VOL/.volinit/journal.jsonl" | wc -l)" -eq 2 ]
	kill "$KEEPER"
}

@test "a lock file planted by the app and kept open is replaced: a lock taken through the old descriptor holds nothing off" {
	fixture
	mg_conf 1
	mkdir -m 0700 "$VOL/.volinit"
	: >"$VOL/.volinit/lock"
	chown -R 65534:65534 "$VOL/.volinit"
	keeper "$VOL/.volinit/lock" r+
	run vi -c "$CONF" -- "$PROBE" exit 0
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(stat -c '%u %a' "$VOL/.volinit/lock")" = "0 600" ]
	echo lock >>"$TD/keeper.cmd"
	wait_for_line "$TD/keeper.state" '^locked$'
	mg_conf 2
	run vi migrate -c "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 2 ]
	kill "$KEEPER"
}

@test "a lock file planted by the app and locked by it while volinit takes it back: refused (73), never re-owned" {
	fixture
	mg_conf 1
	mkdir -m 0700 "$VOL/.volinit"
	: >"$VOL/.volinit/lock"
	chown -R 65534:65534 "$VOL/.volinit"
	keeper "$VOL/.volinit/lock" r+
	echo lock >>"$TD/keeper.cmd"
	wait_for_line "$TD/keeper.state" '^locked$'
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 73 ]
	[[ "$output" == *'FATAL'*'.volinit/lock is owned by uid 65534'*'another process holds it'* ]]
	[ ! -e "$TD/app-ran" ]
	[ "$(stat -c %u "$VOL/.volinit/lock")" = 65534 ]
	kill "$KEEPER"
}
