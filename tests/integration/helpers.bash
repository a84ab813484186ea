# shellcheck shell=bash
# shellcheck disable=SC2034 # status, output, stdout, lines, fatal: for the tests
# Shared helpers of the integration suite, loaded by every file (directly or
# through migrate_helpers.bash): a scratch directory per test, the bounded
# volinit run (vi), a volinit wrapper that shows command, status and output
# when a test fails (run_volinit), bounded waits on events (a file, a line,
# an exit, volinit as PID 1 of a namespace) instead of sleeps, and small
# readers of /proc.
#
# Environment: VOLINIT (absolute path of the binary under test), HELPERS
# (directory of the programs built from tests/helpers), both set by
# `make integration`; VI_TIMEOUT (seconds for each wait and each volinit
# run, default 30), the suite's one timeout: a test that needs a larger
# bound for one call sets it there (VI_TIMEOUT=300 run vi ...).

VI_REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${VOLINIT:=$VI_REPO/build/volinit}"
: "${HELPERS:=$VI_REPO/build/helpers}"
: "${VI_TIMEOUT:=30}"
PROBE=$HELPERS/probe

requires_root() {
	if [ "$(id -u)" != 0 ]; then
		skip "needs root (mounts, mknod, PID namespaces)"
	fi
}

# Per test: T, a scratch directory of our own (removed at teardown), and no
# configuration leaking in from the environment.
common_setup() {
	[ -x "$VOLINIT" ] || { echo "VOLINIT=$VOLINIT is not executable (make build/volinit)" >&2; return 1; }
	[ -x "$PROBE" ] || { echo "$PROBE missing (make helpers)" >&2; return 1; }
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/volinit-it.XXXXXX")
	unset VOLINIT_CONFIG VOLINIT_IMAGE
	BG_PIDS=()
	declare -gA BG_ERRS=()
	MOUNTS=()
}

# own_processes: the pids of processes whose command line names this test's
# scratch directory: PROGRAMs and descendants a failed test left behind.
own_processes() {
	local f args
	for f in /proc/[0-9]*/cmdline; do
		mapfile -d '' args <"$f" 2>/dev/null || continue
		if [[ "${args[*]}" == *"$T/"* ]]; then
			f=${f#/proc/}
			echo "${f%/cmdline}"
		fi
	done
	return 0
}

# Kills what the test left running (by pid: only ours), unmounts our mounts,
# removes the scratch directory.
common_teardown() {
	local p m
	for p in "${BG_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -n "${T:-}" ]; then
		for p in $(own_processes); do
			kill -KILL "$p" 2>/dev/null || true
		done
	fi
	for ((m = ${#MOUNTS[@]} - 1; m >= 0; m--)); do
		umount -l "${MOUNTS[m]}" 2>/dev/null || true
	done
	[ -n "${T:-}" ] && rm -rf "$T"
}

setup() { common_setup; }
teardown() { common_teardown; }

# run_volinit ARG...: volinit, bounded by VI_TIMEOUT, stdin from /dev/null.
# Sets status, stdout (its standard output), output (its standard error,
# where every volinit message goes) and lines (output's lines). The exact
# bytes stay in $T/stdout and $T/stderr. Prints all of it, which bats shows
# only when the test fails.
run_volinit() {
	status=0
	timeout -k 5 "$VI_TIMEOUT" "$VOLINIT" "$@" </dev/null >"$T/stdout" 2>"$T/stderr" 3>&- || status=$?
	stdout=$(cat "$T/stdout")
	output=$(cat "$T/stderr")
	mapfile -t lines <"$T/stderr"
	echo "\$ volinit $* (status=$status)"
	echo "--- stdout:"
	cat "$T/stdout"
	echo "--- stderr:"
	cat "$T/stderr"
	echo "---"
}

# vi ARG...: the volinit under test, bounded by VI_TIMEOUT: a hang gives
# 124 instead of a stuck suite. For `run vi ...` (bats keeps the output).
vi() {
	timeout -k 5 "$VI_TIMEOUT" "$VOLINIT" "$@"
}

assert_status() {
	if [ "$status" -ne "$1" ]; then
		echo "expected exit status $1, got $status" >&2
		return 1
	fi
}

# The lines of stderr that start "volinit: FATAL:".
fatal_lines() { grep -a '^volinit: FATAL: ' "$T/stderr" || true; }

# Exactly one "volinit: FATAL:" line; sets fatal to it.
assert_one_fatal() {
	local n
	n=$(grep -ac '^volinit: FATAL: ' "$T/stderr" || true)
	if [ "$n" -ne 1 ]; then
		echo "expected exactly one 'volinit: FATAL:' line, got $n" >&2
		return 1
	fi
	fatal=$(fatal_lines)
}

# assert_line_exact LINE: stderr holds LINE as a whole line.
assert_line_exact() {
	if ! grep -aqxF -- "$1" "$T/stderr"; then
		echo "no line of stderr is exactly: $1" >&2
		return 1
	fi
}

# Every line volinit printed on stderr starts "volinit: ".
assert_prefixed() {
	if grep -av '^volinit: ' "$T/stderr"; then
		echo "the lines above lack the 'volinit: ' prefix" >&2
		return 1
	fi
}

# assert_contains HAYSTACK NEEDLE
assert_contains() {
	if [[ "$1" != *"$2"* ]]; then
		echo "expected to find: $2" >&2
		echo "in: $1" >&2
		return 1
	fi
}

# wait_for_file PATH [SECONDS]: until PATH exists, bounded.
wait_for_file() {
	local f=$1 t=${2:-$VI_TIMEOUT} end
	end=$((SECONDS + t))
	while [ ! -e "$f" ]; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "timed out after ${t}s waiting for $f" >&2
			return 1
		fi
		sleep 0.02
	done
}

# wait_for_line PATH REGEX [SECONDS]: until a line of PATH matches REGEX.
wait_for_line() {
	local f=$1 re=$2 t=${3:-$VI_TIMEOUT} end
	end=$((SECONDS + t))
	until [ -e "$f" ] && grep -aEq -- "$re" "$f"; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "timed out after ${t}s waiting for /$re/ in $f:" >&2
			cat "$f" >&2 2>/dev/null
			return 1
		fi
		sleep 0.02
	done
}

# start_bg CMD...: CMD in the background, stdin /dev/null, fd 3 (bats' own)
# closed, stdout and stderr to files of its own, $T/bg.N.stdout and
# $T/bg.N.stderr (N counts the test's start_bg calls), never run_volinit's
# $T/stdout and $T/stderr: a writer that starts late would truncate what a
# later run_volinit wrote there. Sets BG_PID, BG_OUT and BG_ERR (the paths);
# wait_exit reads BG_ERR of the pid it waits for.
start_bg() {
	local n=${#BG_PIDS[@]}
	BG_OUT=$T/bg.$n.stdout
	BG_ERR=$T/bg.$n.stderr
	"$@" </dev/null >"$BG_OUT" 2>"$BG_ERR" 3>&- &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
	BG_ERRS[$BG_PID]=$BG_ERR
}

# proc_state PID: the state letter of PID (R, S, Z...), empty when gone.
proc_state() {
	local s
	{ read -r s <"/proc/$1/stat"; } 2>/dev/null || return 0
	s=${s##*) }
	echo "${s%% *}"
}

# wait_exit PID [SECONDS]: waits, bounded, for our background child PID to
# end; sets status to its exit status and output to its stderr (BG_ERR of a
# start_bg, else $T/stderr). On timeout, kills it and fails.
wait_exit() {
	local pid=$1 t=${2:-$VI_TIMEOUT} end st err=${BG_ERRS[$1]:-$T/stderr}
	end=$((SECONDS + t))
	while :; do
		st=$(proc_state "$pid")
		[ -z "$st" ] || [ "$st" = Z ] && break
		if [ "$SECONDS" -ge "$end" ]; then
			echo "pid $pid did not exit within ${t}s" >&2
			kill -KILL "$pid" 2>/dev/null || true
			return 1
		fi
		sleep 0.02
	done
	status=0
	wait "$pid" || status=$?
	output=$(cat "$err" 2>/dev/null)
	echo "pid $pid exited with status $status; stderr ($err):"
	cat "$err" 2>/dev/null
}

# children_of PID: the pids whose parent is PID, one per line.
children_of() {
	local f s rest
	for f in /proc/[0-9]*/stat; do
		{ read -r s <"$f"; } 2>/dev/null || continue
		rest=${s##*) }
		rest=${rest#* }
		[ "${rest%% *}" = "$1" ] && { f=${f#/proc/}; echo "${f%/stat}"; }
	done
	return 0
}

# zombies_of PID: the children of PID that are zombies.
zombies_of() {
	local c
	for c in $(children_of "$1"); do
		[ "$(proc_state "$c")" = Z ] && echo "$c"
	done
	return 0
}

# ns_init UNSHARE_PID: the host pid of the volinit that `unshare --fork`
# started as PID 1 of its namespace, once it runs volinit's image (which a
# rebuild may have replaced on disk meanwhile: "... (deleted)").
ns_init() {
	local upid=$1 end c want exe
	want=$(readlink -f "$VOLINIT")
	end=$((SECONDS + VI_TIMEOUT))
	while :; do
		for c in $(children_of "$upid"); do
			exe=$(readlink "/proc/$c/exe" 2>/dev/null) || continue
			if [ "$exe" = "$want" ] || [ "$exe" = "$want (deleted)" ]; then
				echo "$c"
				return 0
			fi
		done
		if [ -z "$(proc_state "$upid")" ] || [ "$(proc_state "$upid")" = Z ]; then
			echo "unshare ($upid) ended before volinit was seen; stderr:" >&2
			cat "${BG_ERRS[$upid]:-$T/stderr}" >&2
			return 1
		fi
		if [ "$SECONDS" -ge "$end" ]; then
			echo "no volinit child of $upid; its children: $(children_of "$upid")" >&2
			return 1
		fi
		sleep 0.02
	done
}

# ctxt_switches PID: voluntary plus involuntary context switches so far.
ctxt_switches() {
	awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n }' "/proc/$1/status"
}

# assert_idle PID: PID does not run at all for 3 seconds. It must first be
# asleep and have stopped switching (it may still be settling after its
# start); then not one context switch may happen: a process that polls,
# even once a second, fails.
assert_idle() {
	local pid=$1 end a b
	end=$((SECONDS + VI_TIMEOUT))
	while :; do
		a=$(ctxt_switches "$pid")
		sleep 0.2
		b=$(ctxt_switches "$pid")
		[ "$a" = "$b" ] && [ "$(proc_state "$pid")" = S ] && break
		if [ "$SECONDS" -ge "$end" ]; then
			echo "pid $pid never went to sleep" >&2
			return 1
		fi
	done
	sleep 3
	b=$(ctxt_switches "$pid")
	if [ "$a" != "$b" ]; then
		echo "pid $pid woke up while idle: context switches $a -> $b" >&2
		return 1
	fi
}

# status_field FILE KEY: the value of "KEY:" in a probe status file.
status_field() {
	awk -v k="$2:" '$1 == k { $1 = ""; sub(/^[ \t]+/, ""); print; exit }' "$1"
}

# mount_tmpfs DIR: a fresh tmpfs on DIR, unmounted at teardown.
mount_tmpfs() {
	mkdir -p "$1"
	mount -t tmpfs -o size=16m,mode=0755 tmpfs "$1" || return 1
	MOUNTS+=("$1")
}

# make_volume DIR [VERSION]: DIR as a volume, with schema_version.txt
# holding VERSION when given.
make_volume() {
	mkdir -p "$1"
	[ -z "${2:-}" ] || printf '%s\n' "$2" >"$1/schema_version.txt"
}

# listing DIR: everything under DIR with type, mode, size, owner, mtime,
# to compare a tree before and after a command that must not change it.
listing() {
	(cd "$1" && find . -printf '%p %y %m %s %U:%G %T@\n' | LC_ALL=C sort)
}

# is_json_lines FILE: every line of FILE is one JSON object.
is_json_lines() {
	python3 -c '
import json, sys
for n, line in enumerate(open(sys.argv[1], encoding="utf-8", errors="strict"), 1):
    try:
        obj = json.loads(line)
    except ValueError as e:
        sys.exit("line %d is not JSON (%s): %r" % (n, e, line))
    if not isinstance(obj, dict):
        sys.exit("line %d is not a JSON object: %r" % (n, line))
' "$1"
}
