#!/usr/bin/env bats
# status and check as the app's user (SPEC.md "Messages"): .volinit/ is
# root's (0700), so they cannot see the lock, the dirty marker, the
# snapshot or the journal. They say so on stderr (73, one FATAL line per
# volume), mark it in JSON (state_dir "unreadable", nulls where they could
# not look, never an empty list), and still show what they can read.

# shellcheck disable=SC2154 # status, stdout, fatal: set by helpers.bash
bats_require_minimum_version 1.5.0
load helpers

NOBODY=65534

setup() {
	requires_root
	common_setup
	V=$T/vol
	CFG=$T/volinit.ini
	make_volume "$V" 2
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	chmod 0755 "$T"
	chmod 0644 "$CFG"
	# A start as root makes .volinit/ (root's, 0700) and its journal.
	run_volinit -c "$CFG" -- "$PROBE" exit 0
	assert_status 0
	chown -R $NOBODY:$NOBODY "$V"
	chown -R 0:0 "$V/.volinit"
}

# as_app ARG...: volinit ARG... as nobody, bounded; like run_volinit.
as_app() {
	status=0
	timeout -k 5 "$VI_TIMEOUT" setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- \
		"$VOLINIT" "$@" </dev/null >"$T/stdout" 2>"$T/stderr" 3>&- || status=$?
	stdout=$(cat "$T/stdout")
	output=$(cat "$T/stderr")
	echo "\$ (as nobody) volinit $* (status=$status)"
	cat "$T/stdout" "$T/stderr"
}

denied_line() {
	echo "volinit: FATAL: volume \"data\" ($V): cannot read .volinit/: Permission denied (it is uid 0's, and this runs as uid $NOBODY): its lock, dirty marker, snapshot and journal are not shown"
}

@test "status as the app's user: 73, says so on stderr, shows the version and no empty lifecycle" {
	as_app status -c "$CFG"
	assert_status 73
	assert_one_fatal
	[ "$fatal" = "$(denied_line)" ]
	grep -aq "^volinit: hint: run status as uid 0 (in a container: docker exec -u 0 CONTAINER " "$T/stderr"
	assert_contains "$stdout" "schema_version.txt = 2"
	assert_contains "$stdout" ".volinit/:    cannot be read as uid $NOBODY"
	if [[ "$stdout" == *"lifecycle:"* ]]; then
		echo "a lifecycle it could not read" >&2
		return 1
	fi
	# As root the same volume shows its journal: it was there to see.
	run_volinit status -c "$CFG"
	assert_status 0
	assert_contains "$stdout" "lifecycle:"
}

@test "status --json as the app's user: state_dir unreadable, nulls instead of empty lists, 73" {
	as_app status --json -c "$CFG"
	assert_status 73
	jq -e '.volumes[0] | .state_dir == "unreadable" and .version == 2 and .lock == null
		and .running == null and .journal == null and .lifecycle == null and .snapshot == null' "$T/stdout"
	assert_one_fatal
	# As root: readable, with lists.
	run_volinit status --json -c "$CFG"
	assert_status 0
	jq -e '.volumes[0] | .state_dir == "readable" and .running == [] and (.journal | length) == 2' "$T/stdout"
}

@test "check as the app's user: 73 in the exit code and in JSON, the FATAL line on stderr" {
	as_app check -c "$CFG"
	assert_status 73
	assert_one_fatal
	[ "$fatal" = "$(denied_line)" ]
	as_app check --json -c "$CFG"
	assert_status 73
	jq -e '.code == 73 and .volumes[0].state_dir == "unreadable" and .volumes[0].code == 73' "$T/stdout"
	run_volinit check -c "$CFG"
	assert_status 0
}

@test "status as the app's user of a volume without .volinit/: nothing to hide, 0" {
	rm -rf "$V/.volinit"
	as_app status --json -c "$CFG"
	assert_status 0
	jq -e '.volumes[0] | .state_dir == "absent" and .running == [] and .journal == []' "$T/stdout"
	[ ! -s "$T/stderr" ]
}
