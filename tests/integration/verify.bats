#!/usr/bin/env bats
# The verify hook (SPEC.md "Verify", exit 84) and on_missing = app: a
# version record that outlives its data (a tracker saying "head" over
# tables that are gone) is refused before PROGRAM runs.

load migrate_helpers
bats_require_minimum_version 1.5.0

setup() {
	mg_setup
	VERIFY=$TD/verify
	echo 2 >"$VOL/schema_version.txt"
	echo "users" >"$VOL/tables"
}
teardown() {
	[ ! -e "$TD/verify-child.pid" ] || kill -KILL "$(cat "$TD/verify-child.pid")" 2>/dev/null || true
	mg_teardown
	# race_between_passes' directory, when a test failed before removing it.
	[ -z "${X:-}" ] || [ ! -d "$X" ] || rm -rf "$X"
}

# verify_hook BODY: $VERIFY, a /bin/sh hook that records what it sees in
# $TD/seen, then runs BODY.
verify_hook() {
	cat >"$VERIFY" <<HOOK
#!/bin/sh
{
	echo "cwd=\$(pwd)"
	echo "volume=\$VOLINIT_VOLUME path=\$VOLINIT_PATH version=\$VOLINIT_VERSION"
	echo "uid=\$(id -u)"
	if [ -t 0 ] || read -r line; then echo "stdin=open"; else echo "stdin=null"; fi
} >"${SEEN:-$TD/seen}"
$1
HOOK
	chmod 0755 "$VERIFY"
}

# The check a lost-tables image ships: the tables its version must have.
tables_check='grep -qx users tables || { echo "table users is missing" >&2; exit 1; }'

conf2() { mg_conf 2 "verify = $VERIFY" "$@"; }

start() { run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"; }

@test "a verify that passes: PROGRAM runs; the hook ran in the volume, stdin /dev/null, with VOLINIT_VOLUME, VOLINIT_PATH, VOLINIT_VERSION" {
	verify_hook "$tables_check"
	conf2
	start
	echo "$output"
	[ "$status" -eq 0 ]
	[ -e "$TD/app-ran" ]
	cat "$TD/seen"
	[ "$(cat "$TD/seen")" = "cwd=$VOL
volume=data path=$VOL version=2
uid=0
stdin=null" ]
}

@test "a verify that fails: 84, the searchable FATAL line with its last stderr line, hints, a verify_fail event, nothing changed, no PROGRAM" {
	verify_hook "echo 'checking tables' >&2; $tables_check"
	conf2
	rm "$VOL/tables"
	local before
	before=$(mg_listing "$VOL")
	start
	echo "$output"
	[ "$status" -eq 84 ]
	[ ! -e "$TD/app-ran" ]
	[ "$(grep -c '^volinit: FATAL' <<<"$output")" -eq 1 ]
	grep -qxF "volinit: FATAL: incompatible persistent state in volume \"data\" ($VOL): schema_version=2, expected=2: verify failed: table users is missing" <<<"$output"
	grep -q '^volinit: hint: look at the volume and its journal: docker run --rm -v VOLUME:.* --entrypoint .* status -c ' <<<"$output"
	grep -q '^volinit: hint: .*docker volume rm' <<<"$output"
	# Its stderr is passed on, whole.
	grep -qx 'checking tables' <<<"$output"
	[ "$(mg_listing "$VOL")" = "$before" ]
	run mg_events
	[[ "$output" == *"verify_fail 2 2"* ]]
	jq -e 'select(.event == "verify_fail") | .detail | startswith("table users is missing")' \
		"$VOL/.volinit/journal.jsonl"
}

@test "a verify that hangs is killed after verify_timeout with everything it started: 84, no process left" {
	verify_hook "sleep 1000 </dev/null >/dev/null 2>&1 &
echo \$! >'$TD/verify-child.pid'
exec sleep 1000"
	conf2 "verify_timeout = 1"
	start
	echo "$output"
	[ "$status" -eq 84 ]
	[[ "$output" == *"verify failed: timed out after 1 s (killed)"* ]]
	[ ! -e "$TD/app-ran" ]
	local pid
	pid=$(cat "$TD/verify-child.pid")
	[ ! -d "/proc/$pid" ]
}

@test "the verify hook runs as the configured user" {
	# Its directory and the place it writes what it saw, reachable by
	# that user (bats' own directories are root's, 0700).
	local x
	x=$(mktemp -d /tmp/volinit-verify.XXXXXX)
	chmod 0755 "$x"
	mkdir -m 0777 "$x/seen.d"
	VERIFY=$x/verify
	SEEN=$x/seen.d/seen
	verify_hook "$tables_check"
	chown -R 65534:65534 "$VOL"
	conf2
	sed -i 's/^\[volinit\]$/[volinit]\nuser = 65534/' "$CONF"
	grep -qx 'user = 65534' "$CONF"
	run vi -c "$CONF" -- true
	echo "$output"
	local seen
	seen=$(cat "$SEEN")
	rm -rf "$x"
	[ "$status" -eq 0 ]
	grep -qx 'uid=65534' <<<"$seen"
}

@test "verify runs after a migration's last step: passing, the migration stands" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2
	verify_hook "$tables_check"
	conf2
	start
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mg_version)" = 2 ]
	grep -q "version=2" "$TD/seen"
	[ ! -e "$VOL/.volinit/snapshot" ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ "$(grep -c 'verifying 2' <<<"$output")" -eq 1 ] # once, not again before PROGRAM
}

@test "verify failing after a migration's last step fails the migration: the snapshot is restored, 82, verify_fail journaled" {
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 'rm tables; echo migrated >note'
	verify_hook "$tables_check"
	conf2
	local before
	before=$(mg_listing "$VOL")
	start
	echo "$output"
	[ "$status" -eq 82 ]
	[ ! -e "$TD/app-ran" ]
	[[ "$output" == *"verify hook failed: table users is missing"* ]]
	[ "$(mg_listing "$VOL")" = "$before" ]
	[ "$(mg_version)" = 1 ]
	[ ! -e "$VOL/.volinit/dirty" ]
	[ ! -e "$VOL/.volinit/snapshot" ]
	run mg_events
	echo "$output"
	[[ "$output" == *"verify_fail 2 2"* ]]
	[[ "$output" == *"restore"* ]]
}

@test "check runs the verify hook (84, verify failed in --json) and status never does" {
	verify_hook "$tables_check"
	conf2
	rm "$VOL/tables"
	run --separate-stderr vi check -c "$CONF" --json
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 84 ]
	[ "$(jq -r '.volumes[0].verify' <<<"$output")" = failed ]
	[ "$(jq -r '.code' <<<"$output")" = 84 ]
	[[ "$stderr" == *"verify failed: table users is missing"* ]]
	rm -f "$TD/seen"
	run vi status -c "$CONF"
	[ "$status" -eq 0 ]
	[ ! -e "$TD/seen" ]
	echo users >"$VOL/tables"
	run --separate-stderr vi check -c "$CONF" --json
	[ "$status" -eq 0 ]
	[ "$(jq -r '.volumes[0].verify' <<<"$output")" = passed ]
}

@test "privileged, the verify hook sees the volume read-only (a private mount namespace), and the journal says so" {
	verify_hook "touch ./written 2>/dev/null && echo could-write >>'$TD/seen'; exit 1"
	conf2
	start
	echo "$output"
	[ "$status" -eq 84 ]
	[ ! -e "$VOL/written" ]
	run ! grep -q could-write "$TD/seen"
	jq -e 'select(.event == "verify_fail") | .detail | contains("read-only mount namespace")' \
		"$VOL/.volinit/journal.jsonl"
	# The namespace was the hook's alone: the volume is writable here.
	touch "$VOL/still-writable"
}

@test "without CAP_SYS_ADMIN, the verify hook runs on the volume as it is, and the journal says so" {
	verify_hook "touch ./written && echo could-write >>'$TD/seen'; exit 1"
	conf2
	run timeout -k 5 "$VI_TIMEOUT" setpriv --bounding-set -sys_admin --inh-caps -sys_admin -- \
		"$VOLINIT" -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[ "$status" -eq 84 ]
	grep -q could-write "$TD/seen"
	jq -e 'select(.event == "verify_fail") | .detail | contains("as it is, without CAP_SYS_ADMIN")' \
		"$VOL/.volinit/journal.jsonl"
}

@test "a verify hook the app could change is refused before anything runs (78); a missing one is 127" {
	verify_hook "$tables_check"
	chmod 0777 "$VERIFY"
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 'echo ran >>note'
	conf2
	start
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"$VERIFY"* ]]
	[ ! -e "$VOL/note" ]
	[ "$(mg_version)" = 1 ]
	rm "$VERIFY"
	run -127 vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	echo "$output"
	[[ "$output" == *"verify hook $VERIFY"* ]]
	[ ! -e "$VOL/note" ]
}

@test "on_missing = app: an empty volume starts PROGRAM without a version file, which PROGRAM then writes; the next start verifies it" {
	rm "$VOL/schema_version.txt" "$VOL/tables"
	verify_hook "$tables_check"
	conf2 "on_missing = app"
	printf '#!/bin/sh\n[ ! -e schema_version.txt ] || exit 9\necho 2 >schema_version.txt\necho users >tables\n' >"$TD/initdb"
	chmod 0755 "$TD/initdb"
	run vi -c "$CONF" -- sh -c 'cd "$1" && exec "$2"' sh "$VOL" "$TD/initdb"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"on_missing = app"* ]]
	[ ! -e "$TD/seen" ] # nothing to verify yet
	[ "$(mg_version)" = 2 ]
	start
	[ "$status" -eq 0 ]
	grep -q 'version=2' "$TD/seen"
}

# held_kib PID: what PID holds, in KiB: its peak resident set (VmHWM) plus
# what is allocated to the regular files it has open (a memfd or a
# deleted temporary file holds a hook's output in memory or on disk as
# well).
held_kib() {
	local hwm files=0 f blocks
	hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status")
	for f in /proc/"$1"/fd/*; do
		[ -f "$f" ] || continue
		blocks=$(stat -L -c %b "$f" 2>/dev/null) || continue
		files=$((files + blocks / 2))
	done
	echo $((hwm + files))
}

# gated_start BYTES ERR [LINE]: a start in the background whose verify hook
# writes BYTES of the volume's 256 MiB sparse file, then the line "the
# last line", on its stderr; then says it got there (opens the FIFO
# $TD/reached) and waits at the FIFO $TD/gate before it fails. volinit's
# stderr goes to ERR. Once the hook got there (and LINE, when given, is a
# line of ERR), sets HELD to what volinit holds (held_kib), opens the
# gate, and waits for volinit's exit (MG_RC).
gated_start() {
	echo "$1" >"$TD/bytes"
	mg_bg "$TD/start.out" sh -c 'exec "$1" -c "$2" -- "$3" touch "$4" 2>"$5"' sh \
		"$VOLINIT" "$CONF" "$PROBE" "$TD/app-ran" "$2"
	local vpid=$MG_PID
	timeout "$VI_TIMEOUT" cat "$TD/reached"
	[ -z "${3:-}" ] || wait_for_line "$2" "^$3\$"
	HELD=$(held_kib "$vpid")
	timeout "$VI_TIMEOUT" sh -c 'echo go >"$1"' sh "$TD/gate"
	mg_wait_exit "$vpid"
}

@test "a verify hook that writes 256 MiB on stderr: passed on as it comes, never held (volinit's memory stays within 4 MiB of a quiet hook's), and the refusal names its last line" {
	truncate -s 256M "$VOL/sparse"
	mkfifo "$TD/reached" "$TD/gate" "$TD/err.pipe"
	verify_hook "echo \$\$ >'$TD/verify-child.pid'
head -c \"\$(cat '$TD/bytes')\" sparse >&2
printf '\\nthe last line\\n' >&2
echo >'$TD/reached'
read -r go <'$TD/gate'
exit 1"
	conf2
	# Quiet: its line is on volinit's stderr while the hook still runs.
	gated_start 0 "$TD/err.0" 'the last line'
	local quiet=$HELD
	[ "$MG_RC" -eq 84 ]
	# 256 MiB: volinit's stderr through a FIFO to tail, which keeps its end.
	mg_bg "$TD/tail.out" sh -c 'tail -c 65536 <"$1" >"$2"' sh "$TD/err.pipe" "$TD/err.big"
	local tpid=$MG_PID
	gated_start 268435456 "$TD/err.pipe"
	local big=$HELD rc=$MG_RC
	echo "# volinit held $quiet KiB with a quiet hook, $big KiB with 256 MiB on stderr" >&3
	mg_wait_exit "$tpid"
	tr -d '\0' <"$TD/err.big" | tail -n 20
	[ "$rc" -eq 84 ]
	[ ! -e "$TD/app-ran" ]
	[ "$big" -le $((quiet + 4096)) ]
	[ "$(grep -ac '^volinit: FATAL' "$TD/err.big")" -eq 1 ]
	grep -aqxF "volinit: FATAL: incompatible persistent state in volume \"data\" ($VOL): schema_version=2, expected=2: verify failed: the last line" "$TD/err.big"
}

@test "a verify hook that writes on stderr without end is still killed after verify_timeout: 84" {
	mkfifo "$TD/err.pipe"
	verify_hook "exec yes 'still writing' >&2"
	conf2 "verify_timeout = 1"
	mg_bg "$TD/tail.out" sh -c 'tail -c 65536 <"$1" >"$2"' sh "$TD/err.pipe" "$TD/err"
	local tpid=$MG_PID
	mg_bg "$TD/start.out" sh -c 'exec "$1" -c "$2" -- "$3" touch "$4" 2>"$5"' sh \
		"$VOLINIT" "$CONF" "$PROBE" "$TD/app-ran" "$TD/err.pipe"
	mg_wait_exit "$MG_PID"
	local rc=$MG_RC
	mg_wait_exit "$tpid"
	tail -n 5 "$TD/err"
	[ "$rc" -eq 84 ]
	[ ! -e "$TD/app-ran" ]
	grep -qx 'still writing' "$TD/err"
	grep -qF 'verify failed: timed out after 1 s (killed)' "$TD/err"
}

# race_between_passes CHANGE [LINE...]: a start over two volumes: "a" at 1,
# migrated to 2 by a hook, and "data" ($X/vol, nobody's, at 2, tables
# there), verified by $VERIFY (which passes), extra LINEs in its section.
# A start looks at every volume first (pass 1), then migrates (pass 2),
# then looks again and verifies (pass 3): a's hook lets a racer, a process
# of nobody's, run the shell command CHANGE in data's volume, and waits
# until it has: a change exactly between the passes. Sets status and
# output (volinit's stderr).
race_between_passes() {
	local change=$1
	shift
	X=$(mktemp -d /tmp/volinit-race.XXXXXX)
	chmod 0755 "$X"
	mkdir "$X/vol"
	echo 2 >"$X/vol/schema_version.txt"
	echo users >"$X/vol/tables"
	chown -R 65534:65534 "$X/vol"
	mkfifo -m 0666 "$X/go" "$X/done"
	echo 1 >"$VOL/schema_version.txt"
	mg_hook 2 "echo go >'$X/go'
read -r done <'$X/done'"
	verify_hook "exit 0"
	{
		printf '[a]\npath = %s\nexpected = 2\non_older = migrate\nmigrations = %s\n\n' "$VOL" "$HOOKS"
		printf '[data]\npath = %s\nexpected = 2\nverify = %s\n' "$X/vol" "$VERIFY"
		local l
		for l in "$@"; do echo "$l"; done
	} >"$CONF"
	mg_bg "$TD/racer.out" setpriv --reuid 65534 --regid 65534 --clear-groups -- sh -c '
		read -r go <"$1/go"
		cd "$1/vol" && eval "$2"
		echo done >"$1/done"' sh "$X" "$change"
	run vi -c "$CONF" -- "$PROBE" touch "$TD/app-ran"
	mg_wait_exit "$MG_PID" || true
	cat "$TD/racer.out"
	echo "$output"
}

# The refusal of a change between the passes: CODE, one FATAL line, the
# hint that it changed, no verify, no PROGRAM, a's migration stands.
assert_raced() {
	rm -rf "$X"
	[ "$status" -eq "$1" ]
	[ "$(grep -c '^volinit: FATAL' <<<"$output")" -eq 1 ]
	grep -q '^volinit: FATAL: .*volume "data"' <<<"$output"
	grep -q '^volinit: hint: it was at 2 when this start first looked, under its lock' <<<"$output"
	[ ! -e "$TD/seen" ]
	[ ! -e "$TD/app-ran" ]
	[ "$(mg_version)" = 2 ]
}

@test "race between the passes: the version file renamed aside after the first look: 80, never a start without verify" {
	race_between_passes 'mv schema_version.txt schema_version.txt.aside'
	[[ "$output" == *'schema_version=none, expected=2'* ]]
	assert_raced 80
}

@test "race between the passes: renamed aside with baseline = 2 (it would be adopted): 80" {
	race_between_passes 'mv schema_version.txt schema_version.txt.aside' 'baseline = 2'
	[[ "$output" == *'schema_version=none, expected=2'* ]]
	assert_raced 80
}

@test "race between the passes: the version file corrupted after the first look: 65" {
	race_between_passes 'printf "2x\n" >v.tmp && mv v.tmp schema_version.txt'
	[[ "$output" == *'version file schema_version.txt'* ]]
	assert_raced 65
}

@test "race between the passes: an older version put there after the first look: 80, not verified at 1" {
	race_between_passes 'echo 1 >v.tmp && mv v.tmp schema_version.txt'
	[[ "$output" == *'schema_version=1, expected=2'* ]]
	assert_raced 80
}

@test "race between the passes: a newer version put there after the first look: 81" {
	race_between_passes 'echo 3 >v.tmp && mv v.tmp schema_version.txt'
	[[ "$output" == *'schema_version=3, expected=2'* ]]
	assert_raced 81
}

@test "race between the passes: everything removed, on_missing = app: 80, not taken for a fresh volume" {
	race_between_passes 'rm -f schema_version.txt tables' 'on_missing = app'
	[[ "$output" == *'schema_version=none, expected=2'* ]]
	assert_raced 80
}

@test "race between the passes: the version rewritten to the same value: verified, PROGRAM runs" {
	race_between_passes 'echo 2 >v.tmp && mv v.tmp schema_version.txt'
	rm -rf "$X"
	[ "$status" -eq 0 ]
	grep -q 'version=2' "$TD/seen"
	[ -e "$TD/app-ran" ]
}
