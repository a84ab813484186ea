#!/usr/bin/env bats
# PROGRAM's lifecycle in the journal: the exit event (exit code or signal,
# how long it ran; none when PROGRAM never started), and status's summary
# of the last starts and exits (text and --json), which a forged journal
# cannot break or write through.

# shellcheck disable=SC2153,SC2154,SC2030,SC2031 # helpers.bash sets status, stdout, BG_PID; bats runs each test in a subshell
load helpers

setup() {
	common_setup
	V=$T/vol
	CFG=$T/volinit.ini
	J=$V/.volinit/journal.jsonl
	make_volume "$V" 2
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
}

# events NAME: the journal's NAME events, one JSON object per line.
events() { jq -c --arg e "$1" 'select(.event == $e)' "$J"; }

# run_program CODE: one start of PROGRAM exiting CODE; volinit exits CODE.
run_program() {
	run_volinit -c "$CFG" -- "$PROBE" exit "$1"
	assert_status "$1"
}

# lifecycle: status --json's lifecycle object of volume data (what
# run_volinit shows goes to stderr, for a failing test's report).
lifecycle() {
	run_volinit status -c "$CFG" --json >&2
	assert_status 0
	jq -e . "$T/stdout" >/dev/null
	jq -c '.volumes[0].lifecycle' "$T/stdout"
}

# The seconds of an exit detail: a number (three decimals) at least $2.
assert_ran_for() {
	local secs
	secs=$(sed -En 's/^.* after ([0-9]+\.[0-9]{3}) s$/\1/p' <<<"$1")
	[ -n "$secs" ] || { echo "no duration in: $1" >&2; return 1; }
	awk -v s="$secs" -v min="$2" -v max="$VI_TIMEOUT" 'BEGIN { exit !(s >= min && s < max) }' ||
		{ echo "ran for $secs s, expected at least $2" >&2; return 1; }
}

@test "exit event: PROGRAM's own exit code (before -e), from/to the expected version, how long it ran" {
	run_volinit -c "$CFG" -e 3 -- sh -c 'sleep 0.3; exit 3'
	assert_status 0 # remapped by -e: the journal still says 3
	[ "$(events start | wc -l)" = 1 ]
	[ "$(events exit | wc -l)" = 1 ]
	# The exit comes after its start, from the same volinit.
	[ "$(jq -r .event "$J" | tail -n 1)" = exit ]
	events exit | jq -e '.from == 2 and .to == 2 and .volume == "data" and .pid > 0'
	[ "$(events exit | jq -r .pid)" = "$(events start | jq -r .pid)" ]
	local d
	d=$(events exit | jq -r .detail)
	[[ "$d" =~ ^exited\ with\ 3\ after\ [0-9]+\.[0-9]{3}\ s$ ]]
	assert_ran_for "$d" 0.3
}

@test "exit event: PROGRAM killed by SIGKILL from outside: the signal, and how long it ran" {
	start_bg "$VOLINIT" -c "$CFG" -- "$PROBE" touch "$T/ran" signals "$T/sig"
	local vpid=$BG_PID
	wait_for_file "$T/ran"
	wait_for_line "$J" '"event":"start"'
	kill -KILL "$(cat "$T/ran")"
	wait_exit "$vpid"
	assert_status 137
	local d
	d=$(events exit | jq -r .detail)
	[[ "$d" =~ ^killed\ by\ signal\ 9\ after\ [0-9]+\.[0-9]{3}\ s$ ]]
	assert_ran_for "$d" 0
	run_volinit status -c "$CFG"
	assert_contains "$stdout" ": killed by signal 9 after "
	assert_contains "$stdout" "crashes:      1 of the last 1 starts (fewer than 10 recorded)"
}

@test "exit event: written when PROGRAM ends, before the grace for its descendants; how long PROGRAM ran, not the grace" {
	# PROGRAM exits at once; the descendant it leaves takes 1.5 s to end
	# after the TERM of the grace.
	run_volinit -c "$CFG" --grace 10 -- "$PROBE" linger "$T/cleaned" 1500
	assert_status 0
	[ "$(cat "$T/cleaned")" = cleaned ]
	local d
	d=$(events exit | jq -r .detail)
	[[ "$d" =~ ^exited\ with\ 0\ after\ 0\.[0-9]{3}\ s$ ]]
	# Journaled before the grace began: earlier than the descendant's end.
	local logged cleaned
	logged=$(date -d "$(events exit | jq -r .time)" +%s.%N)
	cleaned=$(stat -c %.9Y "$T/cleaned")
	awk -v a="$logged" -v b="$cleaned" 'BEGIN { exit !(a + 1 < b) }'
}

@test "no exit event when PROGRAM never started: a refusal, a PROGRAM that is not there" {
	run_volinit -c "$CFG" -- "$T/no-such-program"
	assert_status 127
	[ -z "$(events exit)" ]
	[ -z "$(events start)" ]
	echo 1 >"$V/schema_version.txt"
	run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 80
	[ ! -e "$T/ran" ]
	[ -n "$(events refuse)" ]
	[ -z "$(events exit)" ]
}

@test "status: a crash loop, then a clean start, in text and JSON" {
	local i
	for ((i = 0; i < 4; i++)); do run_program 1; done
	run_program 0
	run_volinit status -c "$CFG"
	assert_status 0
	grep -Eq '^  lifecycle:    last start [0-9T:.-]+Z, last exit [0-9T:.-]+Z: exited with 0 after [0-9]+\.[0-9]{3} s$' \
		"$T/stdout"
	grep -qx '  crashes:      4 of the last 5 starts (fewer than 10 recorded)' "$T/stdout"
	# The journal lines status showed before are still the last three.
	[ "$(grep -c '^  journal: ' "$T/stdout")" = 3 ]
	lifecycle | jq -e '.starts == 5 and .crashes == 4 and .window == 10 and .running == false
		and (.last_start | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))
		and .last_exit.time >= .last_start
		and .last_exit.status == 0 and .last_exit.signal == null
		and (.last_exit.seconds | type) == "number"'
	# Ten crashes more: the count is over the last 10 starts only.
	for ((i = 0; i < 10; i++)); do run_program 2; done
	lifecycle | jq -e '.starts == 10 and .crashes == 10 and .last_exit.status == 2'
	run_volinit status -c "$CFG"
	grep -qx '  crashes:      10 of the last 10 starts' "$T/stdout"
}

@test "status: a start killed hard (no exit event) is running until the next start, then a crash" {
	start_bg "$VOLINIT" -c "$CFG" -- "$PROBE" touch "$T/ran" signals "$T/sig"
	local vpid=$BG_PID
	wait_for_file "$T/ran"
	wait_for_line "$J" '"event":"start"'
	kill -KILL "$vpid" # volinit itself: nothing is left to journal the exit
	wait_exit "$vpid"
	kill -KILL "$(cat "$T/ran")"
	[ -z "$(events exit)" ]
	lifecycle | jq -e '.starts == 1 and .crashes == 0 and .running == true and .last_exit == null'
	run_volinit status -c "$CFG"
	assert_contains "$stdout" "; no exit since (running, or killed hard)"
	run_program 0
	lifecycle | jq -e '.starts == 2 and .crashes == 1 and .running == false and .last_exit.status == 0'
}

@test "status: starts before a rotation count (the end of journal.jsonl.1)" {
	run_program 1
	run_program 1
	mv "$J" "$J.1"
	run_program 0
	lifecycle | jq -e '.starts == 3 and .crashes == 2 and .last_exit.status == 0'
}

@test "status: a journal near its 1 MiB rotation is read from its last 64 KiB only" {
	run_program 0
	# 900 KB of clean starts and exits of another host, 70 KB of lines
	# that are nobody's, then a crash loop of five: the starts before the
	# last 64 KiB are not read, so only the crash loop counts.
	local start='{"time":"2026-01-01T00:00:00.000Z","host":"old","pid":1,"image":"","event":"start","volume":"data","from":2,"to":2,"detail":null}'
	local exit0=${start/\"start\"/\"exit\"}
	exit0=${exit0/\"detail\":null/\"detail\":\"exited with 0 after 1.000 s\"}
	yes "$start"$'\n'"$exit0" | head -n 6000 >>"$J"
	yes "$(head -c 1999 /dev/zero | tr '\0' x)" | head -n 35 >>"$J"
	local i
	for ((i = 0; i < 5; i++)); do run_program 1; done
	[ "$(stat -c %s "$J")" -gt 900000 ]
	[ ! -e "$J.1" ]
	lifecycle | jq -e '.starts == 5 and .crashes == 5 and .last_exit.status == 1'
	# Without the junk, the old host's clean starts fill the window.
	grep -v '^xxx' "$J" >"$T/j" && cat "$T/j" >"$J"
	lifecycle | jq -e '.starts == 10 and .crashes == 5'
}

@test "status: forged journal lines never reach the output raw and break neither text nor --json" {
	run_program 3
	run_program 0
	local before
	before=$(lifecycle)
	# An exit whose detail is escape sequences (valid JSON), raw escape
	# bytes (invalid JSON), invalid UTF-8, a start with a forged time, an
	# exit with a detail that almost parses.
	{
		printf '{"time":"2099-01-01T00:00:00.000Z","host":"h","pid":1,"image":"","event":"exit","volume":"data","from":2,"to":2,"detail":"\\u001b]0;pwned\\u0007\\u001b[2J"}\n'
		printf '{"time":"2099-01-01T00:00:00.000Z","event":"exit","detail":"\033[31mexited with 0 after 1.000 s"}\n'
		printf '{"time":"2099-01-01T00:00:00.000Z","event":"start","host":"\xff\xfe"}\n'
		printf '{"time":"\\u001b[31m2099","host":"h","pid":1,"image":"","event":"start","volume":"data","from":2,"to":2,"detail":null}\n'
		printf '{"time":"2099-01-01T00:00:00.000Z","host":"h","pid":1,"image":"","event":"exit","volume":"data","from":2,"to":2,"detail":"exited with 0 after 1.000 s\\u001b[2J"}\n'
		printf 'not json \033]0;pwned\007\n'
	} >>"$J"
	[ "$(lifecycle)" = "$before" ]
	jq -e '.starts == 2 and .crashes == 1 and .last_exit.status == 0' <<<"$before"
	run_volinit status -c "$CFG"
	assert_status 0
	if grep -q $'\x1b\|\x07\|\xff' "$T/stdout"; then
		echo "raw bytes from the journal reached status's output" >&2
		return 1
	fi
	grep -qx '  crashes:      1 of the last 2 starts (fewer than 10 recorded)' "$T/stdout"
	grep -Eq '^  lifecycle:    .*: exited with 0 after [0-9]+\.[0-9]{3} s$' "$T/stdout"
	run_volinit status -c "$CFG" --json
	if grep -q $'\x1b\|\x07\|\xff' "$T/stdout"; then
		echo "raw bytes from the journal reached status --json" >&2
		return 1
	fi
	jq -e '.volumes[0].journal | length == 3' "$T/stdout"
}
