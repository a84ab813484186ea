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

@test "the same planted over volinit's own .volinit/, renamed aside by the app: 73 naming the one aside, the data kept" {
	run_volinit -c "$CONF" -- true
	assert_status 0
	chown -R $NOBODY:$NOBODY "$VOL/data.txt" "$VOL/schema_version.txt"
	chown $NOBODY:$NOBODY "$VOL"
	plant_state ""
	run_volinit -c "$CONF" -- "$PROBE" touch "$T/ran"
	assert_status 73
	assert_contains "$output" "not .volinit/ but \".volinit.aside\""
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

# The app renames volinit's .volinit/ aside and back (RENAME_EXCHANGE with
# an empty directory of its own), as fast as it can, during migrations
# whose hook fails: every run snapshots, then restores. A walk that left
# .volinit out by name alone copied volinit's own state, snapshot.tmp/
# included, into itself without end (11 GiB in 48 min, SIGTERM ignored),
# and a restore's clear could remove the snapshot it was restoring.
@test "the app swaps .volinit/ with a directory of its own during snapshots and restores: volinit's state is never walked, the volume does not grow, every run ends" {
	mkdir -p "$T/hooks"
	printf '#!/bin/sh\nexit 3\n' >"$T/hooks/0002"
	chmod 0755 "$T/hooks/0002"
	echo 1 >"$VOL/schema_version.txt"
	local i d
	for d in a b c d; do
		mkdir -p "$VOL/$d"
		for i in $(seq 1 150); do echo "data $d $i" >"$VOL/$d/f$i"; done
	done
	chown -R $NOBODY:$NOBODY "$VOL"
	printf '[data]\npath = %s\nexpected = 2\non_older = migrate\nmigrations = %s\n' \
		"$VOL" "$T/hooks" >"$CONF"
	start_bg "$HELPERS/racer" --uid $NOBODY "$VOL" .volinit=dir
	local statuses=""
	for i in $(seq 1 12); do
		status=0
		timeout -k 2 "${VI_TIMEOUT:-30}" "$VOLINIT" -c "$CONF" -- true \
			</dev/null >/dev/null 2>"$T/stderr" || status=$?
		statuses="$statuses $status"
		if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
			echo "run $i did not end in ${VI_TIMEOUT:-30} s; statuses:$statuses" >&2
			return 1
		fi
	done
	kill -TERM "$BG_PID"
	wait "$BG_PID" || true
	echo "# $(cat "$BG_OUT") during 12 runs (statuses:$statuses)" >&3
	# No copy of a copy of a copy: the walk never enters the state it
	# writes to. (The app's games can leave a second, stale state
	# directory, taken back from it, which a later snapshot copies once
	# as any directory of the volume.)
	local nested
	nested=$(find "$VOL" -path '*snapshot*snapshot*snapshot*' | head -3)
	[ -z "$nested" ] || { echo "volinit's state copied into itself: $nested" >&2; return 1; }
	# The data (600 small files) and the state stay well below 20 MiB.
	local mib
	mib=$(du -sm "$VOL" | cut -f1)
	[ "$mib" -lt 20 ] || { echo "the volume grew to $mib MiB" >&2; return 1; }
}
