#!/usr/bin/env bats
# The command line: --help, --version, bad options (64), subcommands versus
# programs of the same name, and option parsing that stops at PROGRAM.

# shellcheck disable=SC2153,SC2154,SC2030,SC2031 # helpers.bash sets status, stdout, fatal, BG_PID; bats runs each test in a subshell
load helpers

# A volume at version 2 and a config guarding it: a start is allowed.
good_config() {
	make_volume "$T/vol" 2
	printf '[data]\npath = %s\nexpected = 2\n' "$T/vol" >"$T/volinit.ini"
}

@test "cli: --help prints usage on stdout and exits 0" {
	run_volinit --help
	assert_status 0
	assert_contains "$stdout" "volinit"
	assert_contains "$stdout" "check"
	assert_contains "$stdout" "status"
	[ ! -s "$T/stderr" ]
}

@test "cli: --version prints the VERSION file's version on stdout and exits 0" {
	run_volinit --version
	assert_status 0
	assert_contains "$stdout" "$(cat "$VI_REPO/VERSION")"
	[ ! -s "$T/stderr" ]
}

@test "cli: an unknown option is a bad command line (64), one FATAL line, nothing runs" {
	good_config
	run_volinit --no-such-option -c "$T/volinit.ini" -- "$PROBE" touch "$T/ran"
	assert_status 64
	assert_one_fatal
	[ ! -e "$T/ran" ]
}

@test "cli: an unknown short option is 64" {
	good_config
	run_volinit -Z -c "$T/volinit.ini" -- "$PROBE" touch "$T/ran"
	assert_status 64
	assert_one_fatal
	[ ! -e "$T/ran" ]
}

@test "cli: no PROGRAM at all is 64" {
	run_volinit
	assert_status 64
	assert_one_fatal
}

@test "cli: -- without PROGRAM is 64" {
	good_config
	run_volinit -c "$T/volinit.ini" --
	assert_status 64
	assert_one_fatal
}

@test "cli: -c without its argument is 64" {
	run_volinit -c
	assert_status 64
	assert_one_fatal
}

@test "cli: an option with an empty value (--config=, --grace=, --expect=, -c '') is 64 and never takes PROGRAM for its value" {
	local opt
	for opt in --config= --grace= --expect=; do
		run_volinit "$opt" "$PROBE" touch "$T/ran"
		assert_status 64
		[[ "${lines[0]}" == "volinit: FATAL: option ${opt%=} needs a value"* ]]
	done
	run_volinit -c '' "$PROBE" touch "$T/ran"
	assert_status 64
	[ ! -e "$T/ran" ]
}

@test "cli: --expect without '=' is 64" {
	make_volume "$T/vol" 2
	run_volinit --expect "$T/vol" -- "$PROBE" touch "$T/ran"
	assert_status 64
	assert_one_fatal
	[ ! -e "$T/ran" ]
}

@test "cli: --expect with a version that is not a number is 64" {
	make_volume "$T/vol" 2
	run_volinit --expect "$T/vol=two" -- "$PROBE" touch "$T/ran"
	assert_status 64
	assert_one_fatal
	[ ! -e "$T/ran" ]
}

@test "cli: --expect with a negative version is 64" {
	make_volume "$T/vol" 2
	run_volinit --expect "$T/vol=-1" -- "$PROBE" touch "$T/ran"
	assert_status 64
	assert_one_fatal
}

@test "cli: --expect with a version past 2147483647 is 64" {
	make_volume "$T/vol" 2
	run_volinit --expect "$T/vol=2147483648" -- "$PROBE" touch "$T/ran"
	assert_status 64
	assert_one_fatal
}

@test "cli: --expect with an empty version is 64" {
	make_volume "$T/vol" 2
	run_volinit --expect "$T/vol=" -- "$PROBE" touch "$T/ran"
	assert_status 64
	assert_one_fatal
}

@test "cli: --expect with a relative path is 64" {
	make_volume "$T/vol" 2
	cd "$T"
	run_volinit --expect "vol=2" -- "$PROBE" touch "$T/ran"
	assert_status 64
	assert_one_fatal
	[ ! -e "$T/ran" ]
}

@test "cli: --grace that is not a number is 64" {
	good_config
	run_volinit --grace soon -c "$T/volinit.ini" -- "$PROBE" touch "$T/ran"
	assert_status 64
	assert_one_fatal
	[ ! -e "$T/ran" ]
}

@test "cli: a negative --grace is 64" {
	good_config
	run_volinit --grace -1 -c "$T/volinit.ini" -- "$PROBE" touch "$T/ran"
	assert_status 64
	assert_one_fatal
}

@test "cli: -e that is not a number is 64" {
	good_config
	run_volinit -e x -c "$T/volinit.ini" -- "$PROBE" touch "$T/ran"
	assert_status 64
	assert_one_fatal
	[ ! -e "$T/ran" ]
}

@test "cli: -e outside 0..255 is 64 (no exit status can match it)" {
	good_config
	run_volinit -e 256 -c "$T/volinit.ini" -- "$PROBE" touch "$T/ran"
	assert_status 64
	assert_one_fatal
}

@test "cli: --expect PATH=VERSION guards PATH and runs PROGRAM" {
	make_volume "$T/vol" 2
	run_volinit --expect "$T/vol=2" -- "$PROBE" touch "$T/ran"
	assert_status 0
	[ -e "$T/ran" ]
}

@test "cli: --expect is repeatable and names the volume after its path" {
	make_volume "$T/a" 2
	make_volume "$T/b" 1
	run_volinit --expect "$T/a=2" --expect "$T/b=2" -- "$PROBE" touch "$T/ran"
	assert_status 80
	assert_line_exact "volinit: FATAL: incompatible persistent state in volume \"$T/b\" ($T/b): schema_version=1, expected=2"
	[ ! -e "$T/ran" ]
}

@test "cli: option parsing stops at the first non-option: volinit sh -c 'exit 3'" {
	make_volume "$T/vol" 2
	run_volinit --expect "$T/vol=2" sh -c 'exit 3'
	assert_status 3
}

@test "cli: the same with --" {
	make_volume "$T/vol" 2
	run_volinit --expect "$T/vol=2" -- sh -c 'exit 3'
	assert_status 3
}

@test "cli: options after PROGRAM are PROGRAM's, even volinit's own" {
	make_volume "$T/vol" 2
	run_volinit --expect "$T/vol=2" sh -c 'printf "%s\n" "$@"' sh -c nope --help -e 3 -- x
	assert_status 0
	[ "$stdout" = "$(printf '%s\n' -c nope --help -e 3 -- x)" ]
}

@test "cli: a first argument 'check' is the subcommand" {
	good_config
	mkdir "$T/bin"
	printf '#!/bin/sh\ntouch "%s/program-ran"\n' "$T" >"$T/bin/check"
	chmod +x "$T/bin/check"
	PATH="$T/bin:$PATH" run_volinit check -c "$T/volinit.ini"
	assert_status 0
	[ ! -e "$T/program-ran" ]
}

@test "cli: 'volinit -c F migrate' runs a program named migrate" {
	good_config
	mkdir "$T/bin"
	printf '#!/bin/sh\ntouch "%s/program-ran"\nexit 5\n' "$T" >"$T/bin/migrate"
	chmod +x "$T/bin/migrate"
	PATH="$T/bin:$PATH" run_volinit -c "$T/volinit.ini" migrate
	assert_status 5
	[ -e "$T/program-ran" ]
}

@test "cli: 'volinit -- check' runs a program named check" {
	good_config
	mkdir "$T/bin"
	printf '#!/bin/sh\ntouch "%s/program-ran"\nexit 6\n' "$T" >"$T/bin/check"
	chmod +x "$T/bin/check"
	PATH="$T/bin:$PATH" VOLINIT_CONFIG="$T/volinit.ini" run_volinit -- check
	assert_status 6
	[ -e "$T/program-ran" ]
}

@test "cli: 'volinit --expect P=V status' runs a program named status" {
	make_volume "$T/vol" 2
	mkdir "$T/bin"
	printf '#!/bin/sh\ntouch "%s/program-ran"\nexit 7\n' "$T" >"$T/bin/status"
	chmod +x "$T/bin/status"
	PATH="$T/bin:$PATH" run_volinit --expect "$T/vol=2" status
	assert_status 7
	[ -e "$T/program-ran" ]
}

@test "cli: a subcommand's options follow it: 'volinit check -c F --json'" {
	good_config
	run_volinit check -c "$T/volinit.ini" --json
	assert_status 0
	echo "$stdout" | jq -e '.code == 0' >/dev/null
}

@test "cli: an unknown option of a subcommand is 64" {
	good_config
	run_volinit check -c "$T/volinit.ini" --bogus
	assert_status 64
	assert_one_fatal
}

@test "cli: a stray argument after 'status' is 64" {
	good_config
	run_volinit status -c "$T/volinit.ini" stray
	assert_status 64
	assert_one_fatal
}

@test "cli: -e CODE turns PROGRAM's exit CODE into 0, and only CODE" {
	good_config
	run_volinit -c "$T/volinit.ini" -e 3 -- sh -c 'exit 3'
	assert_status 0
	run_volinit -c "$T/volinit.ini" -e 3 -- sh -c 'exit 4'
	assert_status 4
}

@test "cli: -e is repeatable" {
	good_config
	run_volinit -c "$T/volinit.ini" -e 3 -e 4 -- sh -c 'exit 4'
	assert_status 0
	run_volinit -c "$T/volinit.ini" -e 3 -e 4 -- sh -c 'exit 3'
	assert_status 0
	run_volinit -c "$T/volinit.ini" -e 3 -e 4 -- sh -c 'exit 5'
	assert_status 5
}

@test "cli: -e applies to 128+N too" {
	good_config
	run_volinit -c "$T/volinit.ini" -e 143 -- "$PROBE" kill 15
	assert_status 0
	run_volinit -c "$T/volinit.ini" -e 143 -- "$PROBE" kill 9
	assert_status 137
}

@test "cli: a healthy start prints nothing; -v adds 'volinit: ' lines on stderr only" {
	good_config
	run_volinit -c "$T/volinit.ini" -- "$PROBE" touch "$T/ran"
	assert_status 0
	[ ! -s "$T/stderr" ]
	[ ! -s "$T/stdout" ]
	run_volinit -v -c "$T/volinit.ini" -- "$PROBE" touch "$T/ran2"
	assert_status 0
	[ -s "$T/stderr" ]
	assert_prefixed
	[ ! -s "$T/stdout" ]
}

@test "cli: -q on a refusal still prints the FATAL line" {
	make_volume "$T/vol" 1
	run_volinit -q --expect "$T/vol=2" -- "$PROBE" touch "$T/ran"
	assert_status 80
	assert_one_fatal
}

@test "cli: VOLINIT_CONFIG names the config file" {
	make_volume "$T/vol" 1
	printf '[data]\npath = %s\nexpected = 2\n' "$T/vol" >"$T/volinit.ini"
	VOLINIT_CONFIG="$T/volinit.ini" run_volinit -- "$PROBE" touch "$T/ran"
	assert_status 80
	assert_line_exact "volinit: FATAL: incompatible persistent state in volume \"data\" ($T/vol): schema_version=1, expected=2"
	[ ! -e "$T/ran" ]
}

@test "cli: -c wins over VOLINIT_CONFIG" {
	good_config
	VOLINIT_CONFIG="$T/missing.ini" run_volinit -c "$T/volinit.ini" -- "$PROBE" touch "$T/ran"
	assert_status 0
	[ -e "$T/ran" ]
}

@test "cli: a missing default config with no --expect: one warning line, PROGRAM runs" {
	[ ! -e /etc/volinit.ini ] || skip "/etc/volinit.ini exists on this machine"
	run_volinit -- sh -c 'exit 9'
	assert_status 9
	[ "$(grep -c '' "$T/stderr")" -eq 1 ]
	grep -q '^volinit: warning: ' "$T/stderr"
}

@test "cli: a missing default config with --expect: no warning at all" {
	[ ! -e /etc/volinit.ini ] || skip "/etc/volinit.ini exists on this machine"
	make_volume "$T/vol" 2
	run_volinit --expect "$T/vol=2" -- sh -c 'exit 0'
	assert_status 0
	[ ! -s "$T/stderr" ]
}

@test "cli: --grace takes a number of seconds" {
	good_config
	run_volinit --grace 3 -c "$T/volinit.ini" -- sh -c 'exit 0'
	assert_status 0
}
