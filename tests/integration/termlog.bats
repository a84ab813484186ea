#!/usr/bin/env bats
# The termination message (Kubernetes' terminationMessagePath,
# /dev/termination-log by default; termination_log = PATH for another): a
# refusal or failed migration writes its FATAL line and first hint there,
# only where the file exists and is a regular file that can be written;
# PROGRAM's own exit writes nothing.

# shellcheck disable=SC2154 # status: set by helpers.bash
bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	V=$T/vol
	CFG=$T/volinit.ini
	TL=$T/termination-log
	make_volume "$V" 1
	printf '[volinit]\ntermination_log = %s\n[data]\npath = %s\nexpected = 2\n' "$TL" "$V" >"$CFG"
}

@test "termination log: a refusal (80) writes its FATAL line and first hint, over what was there" {
	echo "old message" >"$TL"
	run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 80
	[ "$(cat "$TL")" = "$(grep -m1 '^volinit: FATAL: ' "$T/stderr")
$(grep -m1 '^volinit: hint: ' "$T/stderr")" ]
	[ "$(head -n 1 "$TL")" = "volinit: FATAL: incompatible persistent state in volume \"data\" ($V): schema_version=1, expected=2" ]
	[ "$(wc -l <"$TL")" -eq 2 ]
}

@test "termination log: a failed migration (82) writes its FATAL line; with log_format = json still as text" {
	: >"$TL"
	mkdir "$T/mig"
	printf '#!/bin/sh\nexit 3\n' >"$T/mig/0002"
	chmod 0755 "$T/mig" "$T/mig/0002"
	printf '[volinit]\nlog_format = json\ntermination_log = %s\n[data]\npath = %s\nexpected = 2\non_older = migrate\nmigrations = %s\n' \
		"$TL" "$V" "$T/mig" >"$CFG"
	run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 82
	grep -q '^volinit: FATAL: volume "data" .*migration step 1 -> 2' "$TL"
	[ "$(grep -c '^volinit: hint: ' "$TL")" -eq 1 ]
	is_json_lines "$T/stderr"
}

@test "termination log: not created where it does not exist" {
	run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 80
	[ ! -e "$TL" ]
}

@test "termination log: PROGRAM's own failure writes nothing (its message is its own)" {
	echo 2 >"$V/schema_version.txt"
	: >"$TL"
	run_volinit -c "$CFG" -- "$PROBE" exit 3
	assert_status 3
	[ ! -s "$TL" ]
}

@test "termination log: a FIFO there is never opened for writing in a way that blocks, nor written" {
	mkfifo "$TL"
	run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 80
	[ -p "$TL" ]
}

@test "termination log: a config error (78) names the file and line there too" {
	printf '[volinit]\ntermination_log = %s\nbogus = 1\n' "$TL" >"$CFG"
	: >"$TL"
	run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 78
	# termination_log was read before the bad line: the message goes there.
	[ "$(cat "$TL")" = "volinit: FATAL: $CFG:3: [volinit] bogus: unknown key" ]
}

@test "termination_log must be an absolute path (78)" {
	printf '[volinit]\ntermination_log = termination-log\n' >"$CFG"
	run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 78
	assert_contains "$output" "termination_log: must be an absolute path"
}
