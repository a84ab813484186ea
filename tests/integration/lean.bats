#!/usr/bin/env bats
# What a start costs when there is nothing to do (issue 25): a start on a
# volume already at its expected version reads no directory and syncs
# nothing, counted from its system calls (strace -f -c).

# shellcheck disable=SC2153,SC2154 # helpers.bash sets T, status, output
load helpers

setup() {
	common_setup
	V=$T/vol
	CFG=$T/volinit.ini
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
}

# counts ARG...: "getdents64 N fsync M" of volinit ARG... and its children.
counts() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout -k 5 "$VI_TIMEOUT" strace -f -qq -c -U name,calls -e signal=none \
		-e trace=getdents64,fsync,fdatasync,syncfs,sync -o "$T/counts" \
		"$VOLINIT" "$@" </dev/null >"$T/stdout" 2>"$T/stderr" 3>&-
	cat "$T/counts" "$T/stderr" >&2
	awk '$1 ~ /^(getdents64|fsync|fdatasync|syncfs|sync)$/ { n[$1] += $2 }
		END { printf "getdents64 %d fsync %d\n", n["getdents64"], n["fsync"] + n["fdatasync"] + n["syncfs"] + n["sync"] }' "$T/counts"
}

@test "a start on a current volume: no getdents64, no fsync (strace -f)" {
	command -v strace >/dev/null || skip "strace not installed"
	make_volume "$V" 2
	echo data >"$V/data.txt"
	# The first start makes .volinit/ (lock, holders/, journal): not counted.
	run_volinit -c "$CFG" -- true
	assert_status 0
	[ -d "$V/.volinit/holders" ]
	local c
	c=$(counts -c "$CFG" -- true)
	echo "second start: $c"
	[ "$c" = "getdents64 0 fsync 0" ]
	# The same again, with the holders file of an earlier start killed hard
	# left in holders/ (its lock is gone with it).
	printf 'host=gone pid=7 since=2026-01-01T00:00:00Z expects=2 role=app image=\n' \
		>"$V/.volinit/holders/gone-7"
	chmod 0600 "$V/.volinit/holders/gone-7"
	c=$(counts -c "$CFG" -- true)
	echo "third start: $c"
	[ "$c" = "getdents64 0 fsync 0" ]
	[ "$(cat "$V/data.txt")" = data ]
}
