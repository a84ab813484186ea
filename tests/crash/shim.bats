#!/usr/bin/env bats
# The crash shim (tests/crash/shim.c) on a plain directory, no loop device:
# it numbers volinit's durability calls, stops volinit before or after the
# Nth one, and leaves hooks alone. Env: VOLINIT, SHIM (make crash-sample).

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${VOLINIT:=$REPO/build/volinit}"
: "${SHIM:=$REPO/build/crash/shim.so}"

setup() {
	[ -x "$VOLINIT" ] && [ -f "$SHIM" ] || { echo "build $VOLINIT and $SHIM first" >&2; return 1; }
	T=$(mktemp -d /tmp/volinit-shim.XXXXXX)
	mkdir -m 0755 "$T/vol" "$T/hooks"
	# A hook that writes data and records the environment it got.
	printf '#!/bin/sh\necho data >hookfile\nenv >hook.env\n' >"$T/hooks/0002"
	chmod 0755 "$T/hooks/0002"
	printf '1\n' >"$T/vol/schema_version.txt"
	printf '[data]\npath = %s\nexpected = 2\non_older = migrate\nmigrations = %s\n' \
		"$T/vol" "$T/hooks" >"$T/v.ini"
	chmod 0600 "$T/v.ini"
	mkfifo "$T/notify"
	exec 7<>"$T/notify"
}

teardown() {
	[ -n "${PID:-}" ] && kill -KILL "$PID" 2>/dev/null
	exec 7>&-
	rm -rf "$T"
}

# The point number of the first log line matching PATTERN.
point_of() {
	awk -v p="$1" '$0 ~ p { print $1; exit }' "$T/points"
}

# Bounded wait until PID is stopped (state T in /proc/PID/stat).
wait_stopped() {
	local i
	for ((i = 0; i < 500; i++)); do
		[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = T ] && return 0
		sleep 0.01
	done
	return 1
}

# A migration 1 -> 2, stopped at point $1 ($2: before|after); sets PID.
start_stopped() {
	LD_PRELOAD=$SHIM CRASH_AT=$1 CRASH_WHEN=$2 CRASH_NOTIFY_FD=8 \
		"$VOLINIT" -c "$T/v.ini" -- true >"$T/run.log" 2>&1 8>"$T/notify" &
	local kind n
	read -r -t 30 -u 7 kind n PID
	[ "$kind" = stop ] && [ "$n" = "$1" ]
	wait_stopped "$PID"
}

# Back to the volume count_points saw: the same points in the same order
# (the snapshot copies whatever is there).
reset_volume() {
	rm -rf "$T/vol/.volinit" "$T/vol/hookfile" "$T/vol/hook.env"
	printf '1\n' >"$T/vol/schema_version.txt"
}

count_points() {
	LD_PRELOAD=$SHIM CRASH_LOG=$T/points "$VOLINIT" -c "$T/v.ini" -- true
}

@test "count mode: the version's temp file, rename, directory fsync and the hook spawn are points" {
	count_points
	grep -q ' create .*/\.schema_version\.txt\.volinit-tmp\.' "$T/points"
	grep -q ' fsync .*/\.schema_version\.txt\.volinit-tmp\.' "$T/points"
	grep -q ' rename .*/vol/schema_version\.txt$' "$T/points"
	grep -q ' spawn clone' "$T/points"
	# Numbered 1..N without gaps.
	[ "$(awk '{ print $1 }' "$T/points" | tr '\n' ' ')" = "$(seq -s ' ' 1 "$(wc -l <"$T/points")") " ]
}

@test "hooks run without the shim and are not counted" {
	count_points
	[ "$(cat "$T/vol/hookfile")" = data ]
	! grep -q hookfile "$T/points"
	! grep -q -e '^LD_PRELOAD=' -e '^CRASH_' "$T/vol/hook.env"
}

@test "stop before the version's rename: the old version stays until volinit goes on" {
	count_points
	local n
	n=$(point_of ' rename .*/vol/schema_version\.txt$')
	reset_volume
	start_stopped "$n" before
	[ "$(cat "$T/vol/schema_version.txt")" = 1 ]
	[ "$(cat "$T/vol/hookfile")" = data ] # the hook came before
	kill -CONT "$PID"
	wait "$PID"
	PID=
	[ "$(cat "$T/vol/schema_version.txt")" = 2 ]
}

@test "stop after the version's rename: the new version is there" {
	count_points
	local n
	n=$(point_of ' rename .*/vol/schema_version\.txt$')
	reset_volume
	start_stopped "$n" after
	[ "$(cat "$T/vol/schema_version.txt")" = 2 ]
	kill -CONT "$PID"
	wait "$PID"
	PID=
}
