#!/usr/bin/env bats
# What a newcomer meets first (issue 23): -V as dumb-init and catatonit
# take it; -h lists every exit code of README's table; status shows
# `readers:` only where a window is configured or recorded; as PID 1, a
# guarded path that is not a mount point (docker run without -v) gets one
# warning naming it, unless require_mount refuses.

# shellcheck disable=SC2154 # status, stdout, output: set by helpers.bash
bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	V=$T/vol
	CFG=$T/volinit.ini
	make_volume "$V" 2
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
}

@test "-V prints the version as --version does, exit 0" {
	run_volinit -V
	assert_status 0
	[ "$stdout" = "volinit $(cat "$VI_REPO/VERSION")" ]
	local v=$stdout
	run_volinit --version
	[ "$stdout" = "$v" ]
	[ ! -s "$T/stderr" ]
}

@test "-h lists every exit code of README's table" {
	run_volinit -h
	assert_status 0
	local codes code n=0
	# The rows of the table under "## Exit codes": 64, 65, ... 126 / 127, 128+N.
	codes=$(awk '/^## Exit codes/ { t = 1; next } t && /^## / { exit }
		t && /^\| [0-9]/ { sub(/^\| /, ""); sub(/ \|.*/, ""); gsub(/ /, ""); print }' "$VI_REPO/README.md")
	[ -n "$codes" ]
	for code in $codes; do
		n=$((n + 1))
		if ! grep -Eq "(^|[ ,;(])$(sed 's/+/\\+/' <<<"$code")( |,|$)" "$T/stdout"; then
			echo "-h does not list exit code $code" >&2
			return 1
		fi
	done
	[ "$n" -ge 15 ]
}

@test "status: no readers: line for an image and a volume without a window" {
	run_volinit status -c "$CFG"
	assert_status 0
	[[ "$stdout" != *"readers:"* ]]
	[[ "$stdout" == *"version:      schema_version.txt = 2"* ]]
}

@test "status: readers: shown where the config declares readers" {
	printf 'readers = 1\n' >>"$CFG"
	run_volinit status -c "$CFG"
	assert_status 0
	assert_contains "$stdout" "readers:      2 (only images expecting 2 start on it)"
}

@test "status: readers: shown where the volume records a window, whatever the config" {
	mkdir -m 0700 "$V/.volinit"
	printf 'readers=1 versions=2-2\n' >"$V/.volinit/readers"
	chmod 0600 "$V/.volinit/readers"
	run_volinit status -c "$CFG"
	assert_status 0
	assert_contains "$stdout" "readers:      1 (images expecting 1 to 2 start on it)"
}

# pid1 ARG...: volinit as PID 1 of a new PID namespace, bounded.
pid1() {
	status=0
	timeout -k 5 "$VI_TIMEOUT" unshare --pid --fork --mount-proc "$VOLINIT" "$@" \
		</dev/null >"$T/stdout" 2>"$T/stderr" 3>&- || status=$?
	cat "$T/stderr"
}

warning() {
	echo "volinit: warning: volume \"data\": $V is not a mount point: what is written there stays in the container's own layer and goes with it (mount a volume: docker run -v VOLUME:$V; require_mount = true refuses instead)"
}

@test "as PID 1, a guarded path that is not a mount point: one warning naming it; PROGRAM runs" {
	requires_root
	pid1 -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 0
	[ -e "$T/ran" ]
	[ "$(grep -c 'warning' "$T/stderr")" -eq 1 ]
	assert_line_exact "$(warning)"
}

@test "as PID 1 on a mount point: no warning; not PID 1: no warning" {
	requires_root
	mount -t tmpfs tmpfs "$V"
	MOUNTS+=("$V")
	echo 2 >"$V/schema_version.txt"
	pid1 -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 0
	[ ! -s "$T/stderr" ]
	umount "$V"
	run_volinit -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 0
	[ ! -s "$T/stderr" ]
}

@test "as PID 1 with require_mount: the refusal (66), not the warning" {
	requires_root
	printf 'require_mount = true\n' >>"$CFG"
	pid1 -c "$CFG" -- "$PROBE" touch "$T/ran"
	assert_status 66
	[ ! -e "$T/ran" ]
	[ "$(grep -c 'warning' "$T/stderr")" -eq 0 ]
	grep -q '^volinit: FATAL: .*is not a mount point (require_mount = true)' "$T/stderr"
}
