#!/usr/bin/env bats
# Hints run where the user is (SPEC.md "Messages"): on a host `volinit
# SUB`, which works as written; as PID 1 of a container or with
# VOLINIT_IMAGE set, `docker run --rm -v VOLUME:PATH --entrypoint SELF
# IMAGE SUB`; in a container that holds, `docker exec CONTAINER SELF SUB`
# and, after a migrate or stamp, a restart. No hint names `volinit
# migrate` where it would refuse; a 73 of a root-owned .volinit/ under
# another user says whose it is and the way out.

# shellcheck disable=SC2153,SC2154 # helpers.bash sets status, stdout, fatal
bats_require_minimum_version 1.5.0
load helpers

NOBODY=65534

setup() {
	common_setup
	V=$T/vol
	CFG=$T/volinit.ini
	SELF=$(readlink -f "$VOLINIT")
}

# conf [LINE...]: volume "data" on $V expecting 2, extra lines appended
# (a line starting "[volinit]" goes first).
conf() {
	{
		local l
		for l in "$@"; do [[ "$l" == "[volinit]"* ]] && printf '%b\n' "$l"; done
		printf '[data]\npath = %s\nexpected = 2\n' "$V"
		for l in "$@"; do [[ "$l" == "[volinit]"* ]] || echo "$l"; done
	} >"$CFG"
}

# hooks: a migrations directory with a hook for 1 -> 2 (root's, 0755).
hooks() {
	mkdir -p "$T/mig"
	printf '#!/bin/sh\ntouch migrated\n' >"$T/mig/0002-step.sh"
	chmod 0755 "$T/mig" "$T/mig/0002-step.sh"
}

# hint_after PREFIX: the command a hint names after PREFIX (the rest of
# the first hint line holding it).
hint_after() {
	local line
	line=$(grep -a "^volinit: hint: .*$1" "$T/stderr" | head -n 1)
	[ -n "$line" ] || { echo "no hint with: $1" >&2; return 1; }
	echo "${line#*"$1"}"
}

# no_match REGEX FILE: no line of FILE matches (a bare `! grep` never
# fails a bats test).
no_match() {
	if grep -aE -- "$1" "$2"; then
		echo "the lines above match /$1/" >&2
		return 1
	fi
}

# as_pid1 ARG...: volinit as PID 1 of a new PID namespace, bounded.
as_pid1() {
	status=0
	timeout -k 5 "$VI_TIMEOUT" unshare --pid --fork --mount-proc "$VOLINIT" "$@" \
		</dev/null >"$T/stdout" 2>"$T/stderr" 3>&- || status=$?
	cat "$T/stderr"
}

@test "hints on a host: without migrations no 'volinit migrate'; the stamp hint runs as written" {
	make_volume "$V" 1
	conf
	run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 80
	no_match 'volinit migrate' "$T/stderr"
	grep -aq '^volinit: hint: to migrate, ship hooks for each step in a migrations directory' "$T/stderr"
	local cmd
	cmd=$(hint_after "if the data already is at 2: ")
	[ "$cmd" = "volinit stamp -c $CFG data 2" ]
	# As written, with volinit's path for its name.
	run -0 timeout -k 5 "$VI_TIMEOUT" "$VOLINIT" ${cmd#volinit }
	[ "$(cat "$V/schema_version.txt")" = 2 ]
}

@test "hints on a host: hooks with on_older = fail: 'or run: volinit migrate -c FILE' migrates as written" {
	make_volume "$V" 1
	hooks
	conf "migrations = $T/mig"
	run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 80
	local cmd
	cmd=$(hint_after "or run: ")
	[ "$cmd" = "volinit migrate -c $CFG" ]
	run -0 timeout -k 5 "$VI_TIMEOUT" "$VOLINIT" ${cmd#volinit }
	[ "$(cat "$V/schema_version.txt")" = 2 ]
	[ -e "$V/migrated" ]
	# Not a holding container: no restart hint.
	no_match restart <(echo "$output")
}

@test "hints with --expect repeat it, so that the subcommand sees the same volume" {
	make_volume "$V" 1
	run_volinit --expect "$V=2" -- "$PROBE" touch "$T/ran"
	assert_status 80
	[ "$(hint_after "if the data already is at 2: ")" = "volinit stamp --expect $V=2 $V 2" ]
}

@test "hints with VOLINIT_IMAGE set: docker run --rm -v VOLUME:PATH --entrypoint SELF IMAGE SUB" {
	make_volume "$V" 1
	hooks
	conf "migrations = $T/mig"
	VOLINIT_IMAGE=myapp:2 run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 80
	[ "$(hint_after "or run: ")" = "docker run --rm -v VOLUME:$V --entrypoint $SELF myapp:2 migrate -c $CFG" ]
	[ "$(hint_after "if the data already is at 2: ")" = "docker run --rm -v VOLUME:$V --entrypoint $SELF myapp:2 stamp -c $CFG data 2" ]
}

@test "hints as PID 1 without VOLINIT_IMAGE: the image is a word to fill in; several volumes each get -v" {
	requires_root
	make_volume "$V" 1
	make_volume "$T/cache" 2
	conf "[volinit]\n" "[cache]" "path = $T/cache" "expected = 2"
	as_pid1 -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 80
	[ "$(hint_after "if the data already is at 2: ")" = "docker run --rm -v VOLUME1:$V -v VOLUME2:$T/cache --entrypoint $SELF IMAGE stamp -c $CFG data 2" ]
	no_match 'volinit migrate' "$T/stderr"
}

@test "hints: a volume name with a space is quoted for the shell" {
	make_volume "$V" 1
	printf '[my data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
	run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 80
	local cmd
	cmd=$(hint_after "if the data already is at 2: ")
	[ "$cmd" = "volinit stamp -c $CFG 'my data' 2" ]
	eval "set -- ${cmd#volinit }"
	run -0 timeout -k 5 "$VI_TIMEOUT" "$VOLINIT" "$@"
	[ "$(cat "$V/schema_version.txt")" = 2 ]
}

@test "hold mode as PID 1: docker exec CONTAINER SELF migrate; after the migrate, a hint to restart" {
	requires_root
	make_volume "$V" 1
	hooks
	conf "[volinit]\non_refuse = hold" "migrations = $T/mig"
	start_bg unshare --pid --fork --mount-proc "$VOLINIT" -c "$CFG" -- "$PROBE" touch "$T/ran"
	local upid=$BG_PID vpid cmd
	vpid=$(ns_init "$upid")
	BG_PIDS+=("$vpid")
	wait_for_line "$BG_ERR" '^volinit: holding'
	cp "$BG_ERR" "$T/stderr"
	cmd=$(hint_after "or run: ")
	[ "$cmd" = "docker exec CONTAINER $SELF migrate -c $CFG" ]
	# What docker exec runs: the migrate, beside the holding PID 1.
	run_volinit migrate -c "$CFG"
	assert_status 0
	[ "$(cat "$V/schema_version.txt")" = 2 ]
	grep -aq '^volinit: hint: a container that holds (on_refuse = hold) does not start its program by itself: restart it (docker restart CONTAINER' "$T/stderr"
	kill -TERM "$vpid"
	wait_exit "$upid" 10
	[ ! -e "$T/ran" ]
}

@test "hold mode: a stamp also says to restart; a migrate with nothing to do does not" {
	make_volume "$V" 1
	conf "[volinit]\non_refuse = hold"
	run_volinit stamp -c "$CFG" data 2
	assert_status 0
	grep -aq '^volinit: hint: a container that holds (on_refuse = hold) does not start its program by itself' "$T/stderr"
	run_volinit migrate -c "$CFG"
	assert_status 0
	no_match hint "$T/stderr"
}

@test "73: .volinit/ is root's and volinit runs as another user: the hint names the owner, chown and user =" {
	requires_root
	make_volume "$V" 2
	conf
	chmod 0755 "$T"
	chmod 0644 "$CFG"
	run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 0
	chown -R $NOBODY:$NOBODY "$V"
	chown -R 0:0 "$V/.volinit"
	rm -f "$T/ran"
	status=0
	timeout -k 5 "$VI_TIMEOUT" setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- \
		"$VOLINIT" -c "$CFG" -- "$PROBE" touch "$T/ran" </dev/null 2>"$T/stderr" || status=$?
	cat "$T/stderr"
	assert_status 73
	assert_one_fatal
	assert_contains "$fatal" "cannot open .volinit/: Permission denied"
	assert_line_exact "volinit: hint: $V/.volinit/ belongs to uid 0 and volinit runs as uid $NOBODY: run volinit as root with the app's user in the config (user = NAME; no USER line in the Dockerfile), or, as root, give it to uid $NOBODY: chown -R $NOBODY $V/.volinit"
	[ ! -e "$T/ran" ]
}
