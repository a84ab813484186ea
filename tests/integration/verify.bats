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
