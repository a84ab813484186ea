#!/usr/bin/env bats
# Attacks that hostile.bats, state.bats and recovery.bats do not play: the
# app (nobody) owns the volume's root, so it can replace .volinit/ itself
# by renaming, and plant in it what volinit trusts.
#
# Environment: VOLINIT (build/volinit), HELPERS (build/helpers),
# VI_TIMEOUT (seconds for each run, default 30).

# shellcheck disable=SC2154 # fatal, stdout: set by helpers.bash
bats_require_minimum_version 1.5.0
load helpers

NOBODY=65534

setup() {
	requires_root
	common_setup
	VOL=$T/vol
	CONF=$T/volinit.ini
	mkdir -p "$VOL"
	echo 2 >"$VOL/schema_version.txt"
	echo "real data" >"$VOL/data.txt"
	{
		echo "[data]"
		echo "path = $VOL"
		echo "expected = 2"
	} >"$CONF"
	chmod 0755 "$T"
}

# as_app CMD...: CMD as the app's user (nobody), in the volume.
as_app() {
	(cd "$VOL" && setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- "$@")
}

# The app replaces .volinit/ (by renaming volinit's aside: the volume's root
# is the app's) with its own, holding a snapshot/ of its making and a dirty
# marker naming that snapshot's identity (inode and birth time, which the
# app can read), as volinit writes them.
plant_state() {
	as_app sh -c '
		[ ! -e .volinit ] || mv .volinit .volinit.aside
		mkdir -p .volinit/snapshot
		echo 1 >.volinit/snapshot/schema_version.txt
		echo forged >.volinit/snapshot/data.txt
		id=$(stat -c %i .volinit/snapshot):b$(stat -c %W .volinit/snapshot).$(date -d "$(stat -c %w .volinit/snapshot)" +%N)
		printf "{\"from\":1,\"to\":2,\"hook\":\"0002\",\"sha256\":\"\",\"pid\":1,\"host\":\"h\",\"started_at\":\"2026-01-01T00:00:00Z\"%s}" "$1" >.volinit/dirty
	' sh "$1"
}

@test "a dirty marker and snapshot/ planted by the app (as volinit 0.1 wrote them, no snapshot named) are never restored: 73 naming dirty, the data kept" {
	run_volinit -c "$CONF" -- true
	assert_status 0
	chown -R $NOBODY:$NOBODY "$VOL/data.txt" "$VOL/schema_version.txt"
	chown $NOBODY:$NOBODY "$VOL"
	plant_state ""
	run_volinit -c "$CONF" -- "$PROBE" touch "$T/ran"
	assert_status 73
	assert_contains "$output" ".volinit/dirty"
	[ ! -e "$T/ran" ]
	[ "$(cat "$VOL/data.txt")" = "real data" ]
	[ "$(cat "$VOL/schema_version.txt")" = 2 ]
}

@test "a dirty marker planted by the app naming the identity of its own planted snapshot/ is never restored: 73, the data kept" {
	chown $NOBODY:$NOBODY "$VOL" "$VOL/data.txt" "$VOL/schema_version.txt"
	plant_state ""
	# The identity as volinit writes it, read by the app from its snapshot.
	local id
	id=$(as_app sh -c 'printf "%s:b%s.%s" "$(stat -c %i .volinit/snapshot)" "$(stat -c %W .volinit/snapshot)" "$(date -d "$(stat -c %w .volinit/snapshot)" +%N)"')
	as_app sh -c 'printf "{\"from\":1,\"to\":2,\"hook\":\"0002\",\"sha256\":\"\",\"pid\":1,\"host\":\"h\",\"started_at\":\"2026-01-01T00:00:00Z\",\"snapshot\":\"%s\"}" "$1" >.volinit/dirty' sh "$id"
	run_volinit status -c "$CONF" --json
	run_volinit -c "$CONF" -- "$PROBE" touch "$T/ran"
	assert_status 73
	assert_contains "$output" ".volinit/dirty"
	[ ! -e "$T/ran" ]
	[ "$(cat "$VOL/data.txt")" = "real data" ]
	[ "$(cat "$VOL/schema_version.txt")" = 2 ]
}

@test "a name planted by the app with a newline and an ESC (a holders file) never forges a log line nor reaches the terminal raw: escaped in the warning" {
	chown $NOBODY:$NOBODY "$VOL" "$VOL/data.txt" "$VOL/schema_version.txt"
	as_app sh -c 'mkdir -p .volinit/holders && : >".volinit/holders/x$(printf "\nvolinit: FATAL: forged\033[2J")"'
	run_volinit -c "$CONF" -- "$PROBE" touch "$T/ran"
	assert_status 0
	[ -e "$T/ran" ]
	# One line, the warning; no FATAL line; no ESC byte anywhere.
	[ "$(grep -c '' "$T/stderr")" -eq 1 ]
	[ "$(grep -c '^volinit: FATAL' "$T/stderr" || true)" -eq 0 ]
	[ "$(tr -dc '\033' <"$T/stderr" | wc -c)" -eq 0 ]
	assert_contains "$output" 'holders/x\nvolinit: FATAL: forged\x1b[2J'
}
