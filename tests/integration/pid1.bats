#!/usr/bin/env bats
# volinit as an init: as PID 1 of a fresh PID namespace (unshare --pid --fork
# --mount-proc) and, where it matters, as a child subreaper when not PID 1.
# Signal forwarding, reaping, exit status, the child's signal mask and
# dispositions, grace, 126/127, stdout left alone, no polling, the terminal.

# shellcheck disable=SC2153,SC2154,SC2030,SC2031 # helpers.bash sets status, stdout, fatal, BG_PID; bats runs each test in a subshell
load helpers

setup() {
	common_setup
	V=$T/vol
	make_volume "$V" 2
	CFG=$T/volinit.ini
	printf '[data]\npath = %s\nexpected = 2\n' "$V" >"$CFG"
}

# start_pid1 ARG...: volinit ARG... in the background as PID 1 of a new PID
# namespace, started with default dispositions and an empty mask. Sets UPID
# (unshare's pid, whose exit status is volinit's) and VPID (volinit's pid as
# the host sees it).
start_pid1() {
	requires_root
	start_bg unshare --pid --fork --mount-proc "$PROBE" reset exec "$VOLINIT" "$@"
	UPID=$BG_PID
	VPID=$(ns_init "$UPID")
	# Killing unshare leaves its child running: teardown kills PID 1 too,
	# which ends the namespace.
	BG_PIDS+=("$VPID")
}

# start_plain ARG...: volinit ARG... in the background, not PID 1.
start_plain() {
	start_bg "$PROBE" reset exec "$VOLINIT" "$@"
	UPID=$BG_PID
	VPID=$BG_PID
}

# run_pid1 ARG...: volinit ARG... as PID 1 in the foreground, bounded; sets
# status and output like run_volinit.
run_pid1() {
	requires_root
	status=0
	timeout -k 5 "$VI_TIMEOUT" unshare --pid --fork --mount-proc "$PROBE" reset exec "$VOLINIT" "$@" \
		</dev/null >"$T/stdout" 2>"$T/stderr" 3>&- || status=$?
	output=$(cat "$T/stderr")
	echo "\$ unshare ... volinit $* (status=$status)"
	cat "$T/stderr"
}

# signum NAME|NUMBER: the signal's number.
signum() {
	case $1 in
	*[!0-9]*) kill -l "$1" ;;
	*) echo "$1" ;;
	esac
}

# send_and_see PID FILE SIGNAL...: for each SIGNAL, send it to PID and wait
# until FILE (a probe's `signals` record) has it. Signals go one at a time:
# pending standard signals are not queued, and come out lowest first.
send_and_see() {
	local pid=$1 file=$2 s
	shift 2
	for s in "$@"; do
		kill -s "$s" "$pid"
		wait_for_line "$file" "^$(signum "$s")\$" || return 1
	done
}

# forwarding START SIGNAL...: SIGNALs sent to volinit reach PROGRAM, in order,
# and SIGTERM last ends PROGRAM, which exits 0.
forwarding() {
	local start=$1
	shift
	"$start" -c "$CFG" -- "$PROBE" signals "$T/sig"
	wait_for_line "$T/sig" '^ready$'
	send_and_see "$VPID" "$T/sig" "$@" TERM
	wait_exit "$UPID"
	assert_status 0
	local want=ready s
	for s in "$@" TERM; do
		want+=$'\n'$(signum "$s")
	done
	[ "$(cat "$T/sig")" = "$want" ]
}

# The catchable signals beyond the five above (not SIGCHLD): the kernel's
# fault signals sent with kill(2), glibc's internal 32 and 33, and two more
# real-time ones, by number.
OTHER_SIGNALS="QUIT ALRM WINCH URG TSTP TTIN TTOU CONT VTALRM PROF XCPU XFSZ IO PWR SEGV BUS ILL FPE TRAP SYS ABRT 32 33 40 64"

@test "pid1: TERM INT HUP USR1 USR2 are forwarded to PROGRAM" {
	forwarding start_pid1 HUP INT USR1 USR2
}

@test "pid1: every other catchable signal is forwarded too, real-time ones included" {
	# shellcheck disable=SC2086
	forwarding start_pid1 $OTHER_SIGNALS
}

@test "not pid1: TERM INT HUP USR1 USR2 are forwarded to PROGRAM" {
	forwarding start_plain HUP INT USR1 USR2
}

@test "not pid1: every other catchable signal is forwarded too" {
	# TSTP, TTIN and TTOU stop volinit too, when not PID 1 (below).
	# shellcheck disable=SC2086
	forwarding start_plain $(tr ' ' '\n' <<<"$OTHER_SIGNALS" | grep -vxE 'TSTP|TTIN|TTOU')
}

# wait_state PID LETTER: until PID's state is LETTER (T: stopped), bounded.
wait_state() {
	local end=$((SECONDS + VI_TIMEOUT))
	until [ "$(proc_state "$1")" = "$2" ]; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "pid $1 is in state $(proc_state "$1"), not $2" >&2
			return 1
		fi
		sleep 0.02
	done
}

# wait_lines FILE REGEX N: until N lines of FILE match REGEX, bounded.
wait_lines() {
	local end=$((SECONDS + VI_TIMEOUT))
	until [ "$(grep -cE -- "$2" "$1")" -ge "$3" ]; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "fewer than $3 lines /$2/ in $1:" >&2
			cat "$1" >&2
			return 1
		fi
		sleep 0.02
	done
}

@test "not pid1: TSTP, TTIN, TTOU reach PROGRAM, then volinit stops; CONT continues it and reaches PROGRAM once" {
	start_plain -c "$CFG" -- "$PROBE" signals "$T/sig"
	wait_for_line "$T/sig" '^ready$'
	local s n=0 want=ready
	for s in TSTP TTIN TTOU; do
		n=$((n + 1))
		send_and_see "$VPID" "$T/sig" "$s"
		wait_state "$VPID" T
		kill -s CONT "$VPID"
		wait_lines "$T/sig" '^18$' "$n"
		wait_state "$VPID" S
		want+=$'\n'$(signum "$s")$'\n'18
	done
	send_and_see "$VPID" "$T/sig" TERM
	wait_exit "$UPID"
	assert_status 0
	# CONT once each time: volinit's own continue is not forwarded twice.
	[ "$(cat "$T/sig")" = "$want"$'\n'15 ]
}

@test "pid1: SIGCHLD is not forwarded" {
	start_pid1 -c "$CFG" -- "$PROBE" signals "$T/sig"
	wait_for_line "$T/sig" '^ready$'
	kill -s CHLD "$VPID"
	# Had SIGCHLD (17) been forwarded, it would be pending before 40 and
	# come out first.
	send_and_see "$VPID" "$T/sig" 40
	if grep -qx 17 "$T/sig"; then
		echo "SIGCHLD was forwarded" >&2
		return 1
	fi
	send_and_see "$VPID" "$T/sig" TERM
	wait_exit "$UPID"
	assert_status 0
}

# The host pid of the process PROGRAM forked (probe's `child` step).
program_child() {
	local prog
	prog=$(children_of "$VPID" | head -n 1)
	children_of "$prog" | head -n 1
}

@test "pid1: -g forwards signals to PROGRAM's whole process group" {
	start_pid1 -g -c "$CFG" -- "$PROBE" child "$T/kid" signals "$T/sig"
	wait_for_line "$T/sig" '^ready$'
	wait_for_line "$T/kid" '^ready$'
	kill -USR1 "$VPID"
	wait_for_line "$T/sig" '^10$'
	wait_for_line "$T/kid" '^10$'
	kill -HUP "$VPID"
	wait_for_line "$T/sig" '^1$'
	wait_for_line "$T/kid" '^1$'
	# (Not SIGTERM: PROGRAM would exit on it, and volinit with it, ending
	# the namespace before the child could write it down.)
	kill -TERM "$VPID"
	wait_exit "$UPID"
	assert_status 0
}

@test "pid1: without -g only PROGRAM gets the signal, not the rest of its group" {
	start_pid1 -c "$CFG" -- "$PROBE" child "$T/kid" signals "$T/sig"
	wait_for_line "$T/sig" '^ready$'
	wait_for_line "$T/kid" '^ready$'
	kill -USR1 "$VPID"
	wait_for_line "$T/sig" '^10$'
	# Had USR1 (10) gone to the group, it would be pending in the child
	# too, and come out before USR2 (12).
	local kid
	kid=$(program_child)
	[ -n "$kid" ]
	send_and_see "$kid" "$T/kid" USR2
	if grep -qx 10 "$T/kid"; then
		echo "USR1 went to PROGRAM's whole group without -g" >&2
		return 1
	fi
	kill -TERM "$VPID"
	wait_exit "$UPID"
	assert_status 0
}

# wait_no_zombies PID: until PID has no zombie child, bounded.
wait_no_zombies() {
	local end z
	end=$((SECONDS + VI_TIMEOUT))
	while z=$(zombies_of "$1") && [ -n "$z" ]; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "zombies of $1 left after ${VI_TIMEOUT}s: ${z//$'\n'/ }" >&2
			return 1
		fi
		sleep 0.05
	done
}

# reaping START REAPER [ARG...]: PROGRAM orphans 20 grandchildren that exit;
# each was reparented to REAPER (a pid as the grandchild sees it, or
# "volinit"), and volinit reaps them all: no zombie is left while PROGRAM
# still runs.
reaping() {
	local start=$1 reaper=$2
	shift 2
	"$start" "$@" -c "$CFG" -- "$PROBE" orphans 20 "$T/orphans" signals "$T/sig"
	[ "$reaper" != volinit ] || reaper=$VPID
	wait_for_line "$T/sig" '^ready$'
	[ "$(wc -l <"$T/orphans")" -eq 20 ]
	if awk -v r="$reaper" '$2 != r { bad = 1 } END { exit !bad }' "$T/orphans"; then
		echo "grandchildren were not reparented to $reaper:" >&2
		cat "$T/orphans" >&2
		return 1
	fi
	wait_no_zombies "$VPID"
	# Only PROGRAM is left as volinit's child.
	[ "$(children_of "$VPID" | wc -l)" -eq 1 ]
	kill -TERM "$VPID"
	wait_exit "$UPID"
	assert_status 0
}

@test "pid1: orphaned grandchildren are reaped, zero zombies left" {
	reaping start_pid1 1
}

@test "not pid1: volinit is a child subreaper: orphans come to it and are reaped" {
	reaping start_plain volinit
}

@test "not pid1: -s: the same, asked for explicitly" {
	reaping start_plain volinit -s
}

@test "pid1: -s as PID 1 is accepted and changes nothing" {
	reaping start_pid1 1 -s
}

# --- exit status --------------------------------------------------------

@test "pid1: PROGRAM's exit status is volinit's: 0, 3, 255" {
	local c
	for c in 0 3 255; do
		run_pid1 -c "$CFG" -- "$PROBE" exit "$c"
		assert_status "$c"
	done
}

@test "pid1: PROGRAM killed by signal N gives 128+N: KILL 137, TERM 143, USR1 138, SEGV 139" {
	local s
	for s in 9 15 10 11; do
		run_pid1 -c "$CFG" -- "$PROBE" kill "$s"
		assert_status $((128 + s))
	done
}

@test "not pid1: exit status passthrough, 128+N too" {
	run_volinit -c "$CFG" -- "$PROBE" exit 5
	assert_status 5
	run_volinit -c "$CFG" -- "$PROBE" kill 6
	assert_status 134
}

@test "pid1: SIGTERM to volinit ends a PROGRAM that keeps the default action: 143" {
	start_pid1 -c "$CFG" -- "$PROBE" touch "$T/up" exec sleep 1000
	wait_for_file "$T/up"
	kill -TERM "$VPID"
	wait_exit "$UPID"
	assert_status 143
}

@test "pid1: SIGINT likewise: 130" {
	start_pid1 -c "$CFG" -- "$PROBE" touch "$T/up" exec sleep 1000
	wait_for_file "$T/up"
	kill -INT "$VPID"
	wait_exit "$UPID"
	assert_status 130
}

@test "pid1: -e CODE remaps CODE to 0, 128+N included" {
	run_pid1 -e 3 -c "$CFG" -- "$PROBE" exit 3
	assert_status 0
	run_pid1 -e 143 -c "$CFG" -- "$PROBE" kill 15
	assert_status 0
	run_pid1 -e 3 -c "$CFG" -- "$PROBE" exit 4
	assert_status 4
}

# --- the child's signal mask and dispositions --------------------------------

# same_signals REF GOT: SigBlk and SigIgn of two probe status files agree.
same_signals() {
	local k
	for k in SigBlk SigIgn; do
		if [ "$(status_field "$1" $k)" != "$(status_field "$2" $k)" ]; then
			echo "$k: given $(status_field "$1" $k), PROGRAM got $(status_field "$2" $k)" >&2
			return 1
		fi
	done
}

BLOCK="$(kill -l USR1),$(kill -l TSTP),$(kill -l TTIN),$(kill -l TTOU),$(kill -l WINCH)"
IGNORE="$(kill -l HUP),$(kill -l PIPE),$(kill -l USR2)"

@test "not pid1: PROGRAM starts with an empty mask and no ignored signal when volinit had none" {
	"$PROBE" reset status "$T/ref"
	[ "$(status_field "$T/ref" SigBlk)" = 0000000000000000 ]
	timeout -k 5 "$VI_TIMEOUT" "$PROBE" reset exec "$VOLINIT" -c "$CFG" -- "$PROBE" status "$T/got" 3>&-
	same_signals "$T/ref" "$T/got"
}

@test "not pid1: PROGRAM gets exactly the mask and ignored signals volinit was given" {
	"$PROBE" reset block "$BLOCK" ignore "$IGNORE" status "$T/ref"
	[ "$(status_field "$T/ref" SigBlk)" != 0000000000000000 ]
	[ "$(status_field "$T/ref" SigIgn)" != 0000000000000000 ]
	timeout -k 5 "$VI_TIMEOUT" "$PROBE" reset block "$BLOCK" ignore "$IGNORE" \
		exec "$VOLINIT" -c "$CFG" -- "$PROBE" status "$T/got" 3>&-
	same_signals "$T/ref" "$T/got"
}

@test "pid1: PROGRAM gets exactly the mask and ignored signals volinit was given" {
	requires_root
	"$PROBE" reset block "$BLOCK" ignore "$IGNORE" status "$T/ref"
	timeout -k 5 "$VI_TIMEOUT" unshare --pid --fork --mount-proc \
		"$PROBE" reset block "$BLOCK" ignore "$IGNORE" \
		exec "$VOLINIT" -c "$CFG" -- "$PROBE" status "$T/got" 3>&-
	same_signals "$T/ref" "$T/got"
	timeout -k 5 "$VI_TIMEOUT" unshare --pid --fork --mount-proc \
		"$PROBE" reset exec "$VOLINIT" -c "$CFG" -- "$PROBE" status "$T/got0" 3>&-
	# "reset" cannot touch glibc's own signals 32 and 33, which some
	# parents (GNU make) leave ignored: the reference is a reset probe.
	"$PROBE" reset status "$T/ref0"
	[ "$(status_field "$T/got0" SigBlk)" = 0000000000000000 ]
	[ "$(status_field "$T/got0" SigIgn)" = "$(status_field "$T/ref0" SigIgn)" ]
}

@test "not pid1: a shell's trap '' HUP stays ignored in PROGRAM" {
	timeout -k 5 "$VI_TIMEOUT" "$PROBE" reset exec bash -c 'trap "" HUP; exec "$@"' bash \
		"$VOLINIT" -c "$CFG" -- "$PROBE" status "$T/got" 3>&-
	"$PROBE" reset status "$T/ref0"
	[ "$(status_field "$T/got" SigIgn)" = \
		"$(printf '%016x' $((0x$(status_field "$T/ref0" SigIgn) | 1)))" ]
	[ "$(status_field "$T/got" SigBlk)" = 0000000000000000 ]
}

# --- grace --------------------------------------------------------

now_ms() { echo $(($(date +%s%N) / 1000000)); }

grace_conf() {
	printf '[volinit]\ngrace = %s\n[data]\npath = %s\nexpected = 2\n' "$1" "$V" >"$CFG"
}

@test "pid1: grace = 10 lets a background descendant finish its cleanup, then exits with PROGRAM's status" {
	grace_conf 10
	local t0
	t0=$(now_ms)
	run_pid1 -c "$CFG" -- "$PROBE" linger "$T/clean" 300 exit 7
	assert_status 7
	[ "$(cat "$T/clean")" = cleaned ]
	# It waited for the descendant, not for all of grace.
	[ $(($(now_ms) - t0)) -lt 8000 ]
}

@test "pid1: grace = 0 (default) exits at once: no time for cleanup" {
	run_pid1 -c "$CFG" -- "$PROBE" linger "$T/clean" 3000 exit 7
	assert_status 7
	[ ! -e "$T/clean" ]
}

@test "pid1: --grace wins over the grace key, both ways" {
	grace_conf 0
	run_pid1 --grace 10 -c "$CFG" -- "$PROBE" linger "$T/clean" 300 exit 7
	assert_status 7
	[ "$(cat "$T/clean")" = cleaned ]
	rm "$T/clean"
	grace_conf 10
	run_pid1 --grace 0 -c "$CFG" -- "$PROBE" linger "$T/clean" 3000 exit 7
	assert_status 7
	[ ! -e "$T/clean" ]
}

@test "pid1: grace: a descendant that ignores SIGTERM is killed after grace seconds" {
	grace_conf 2
	local t0 dt
	t0=$(now_ms)
	run_pid1 -c "$CFG" -- "$PROBE" linger "$T/clean" -1 exit 7
	dt=$(($(now_ms) - t0))
	echo "took ${dt} ms"
	assert_status 7
	[ "$dt" -ge 1900 ]
}

@test "pid1: grace keeps PROGRAM's status when it died of a signal" {
	grace_conf 10
	run_pid1 -c "$CFG" -- "$PROBE" linger "$T/clean" 200 kill 15
	assert_status 143
	[ "$(cat "$T/clean")" = cleaned ]
}

@test "not pid1: grace also covers orphaned descendants of a subreaper" {
	grace_conf 10
	run_volinit -c "$CFG" -- "$PROBE" linger "$T/clean" 300 exit 7
	assert_status 7
	[ "$(cat "$T/clean")" = cleaned ]
}

# --- PROGRAM not found, not executable --------------------------------------

@test "pid1: PROGRAM not found: 127 and one FATAL line" {
	run_pid1 -c "$CFG" -- "$T/no-such-program"
	assert_status 127
	assert_one_fatal
	assert_contains "$fatal" "$T/no-such-program"
}

@test "not pid1: PROGRAM not found in PATH: 127 and one FATAL line" {
	run_volinit -c "$CFG" -- no-such-program-volinit-test
	assert_status 127
	assert_one_fatal
	assert_contains "$fatal" no-such-program-volinit-test
}

@test "pid1: PROGRAM not executable: 126 and one FATAL line" {
	printf '#!/bin/sh\nexit 0\n' >"$T/noexec"
	chmod 0644 "$T/noexec"
	run_pid1 -c "$CFG" -- "$T/noexec"
	assert_status 126
	assert_one_fatal
	assert_contains "$fatal" "$T/noexec"
}

@test "not pid1: PROGRAM is a directory: 126 and one FATAL line" {
	mkdir "$T/dir"
	run_volinit -c "$CFG" -- "$T/dir"
	assert_status 126
	assert_one_fatal
}

# volinit starts PROGRAM on a stack of its own (spawn.c): it must hold
# execvpe's copy of argv when a file without #! falls back to /bin/sh, for
# an argv that fits the usual stack and for one that does not.
@test "pid1: PROGRAM gets all of 3,000 and of 30,000 arguments, directly and as a #!-less script" {
	# shellcheck disable=SC2016 # for sh: the count, the first and the last
	local count='eval "last=\${$#}"; echo "$# $1 $last"'
	printf '%s\n' "$count" >"$T/count"
	chmod 0755 "$T/count"
	local n
	for n in 3000 30000; do
		mapfile -t args < <(seq 1 "$n")
		run_pid1 -c "$CFG" -- /bin/sh -c "$count" sh "${args[@]}" >/dev/null
		assert_status 0
		[ "$(cat "$T/stdout")" = "$n 1 $n" ]
		run_pid1 -c "$CFG" -- "$T/count" "${args[@]}" >/dev/null
		assert_status 0
		[ "$(cat "$T/stdout")" = "$n 1 $n" ]
	done
}

# --- output --------------------------------------------------------

@test "pid1: PROGRAM's stdout is byte-for-byte its own, even with -v" {
	head -c 100000 /dev/urandom >"$T/bytes"
	printf 'no newline at the end' >>"$T/bytes"
	run_pid1 -v -c "$CFG" -- cat "$T/bytes"
	assert_status 0
	cmp "$T/bytes" "$T/stdout"
	# -v wrote info lines, all to stderr and all prefixed.
	[ -s "$T/stderr" ]
	assert_prefixed
}

@test "not pid1: PROGRAM's stdout is byte-for-byte its own" {
	head -c 100000 /dev/urandom >"$T/bytes"
	run_volinit -v -c "$CFG" -- cat "$T/bytes"
	assert_status 0
	cmp "$T/bytes" "$T/stdout"
	assert_prefixed
}

# --- no polling --------------------------------------------------------

@test "pid1: an idle volinit does not run at all (no polling)" {
	start_pid1 -c "$CFG" -- "$PROBE" signals "$T/sig"
	wait_for_line "$T/sig" '^ready$'
	assert_idle "$VPID"
	kill -TERM "$VPID"
	wait_exit "$UPID"
	assert_status 0
}

@test "not pid1: an idle volinit does not run at all (no polling)" {
	start_plain -c "$CFG" -- "$PROBE" signals "$T/sig"
	wait_for_line "$T/sig" '^ready$'
	assert_idle "$VPID"
	kill -TERM "$VPID"
	wait_exit "$UPID"
	assert_status 0
}

# --- the terminal --------------------------------------------------------

@test "with a terminal: PROGRAM gets its own process group, in the foreground" {
	command -v script >/dev/null || skip "script (util-linux) not installed"
	status=0
	timeout -k 5 "$VI_TIMEOUT" script -qec \
		"'$PROBE' reset exec '$VOLINIT' -c '$CFG' -- '$PROBE' status '$T/st'" /dev/null \
		</dev/null >"$T/typescript" 3>&- || status=$?
	cat "$T/typescript"
	cat "$T/st"
	assert_status 0
	local pid pgid
	pid=$(status_field "$T/st" Pid)
	pgid=$(status_field "$T/st" Pgid)
	[ "$pgid" = "$pid" ]
	[ "$(status_field "$T/st" Tpgid)" = "$pgid" ]
	[ "$(status_field "$T/st" Fg)" = "$pgid" ]
}

@test "with a terminal, as PID 1: PROGRAM gets its own process group, in the foreground" {
	requires_root
	command -v script >/dev/null || skip "script (util-linux) not installed"
	status=0
	timeout -k 5 "$VI_TIMEOUT" script -qec \
		"unshare --pid --fork --mount-proc '$PROBE' reset exec '$VOLINIT' -c '$CFG' -- '$PROBE' status '$T/st'" \
		/dev/null </dev/null >"$T/typescript" 3>&- || status=$?
	cat "$T/typescript"
	cat "$T/st"
	assert_status 0
	local pid pgid
	pid=$(status_field "$T/st" Pid)
	pgid=$(status_field "$T/st" Pgid)
	[ "$pid" != 1 ]
	[ "$pgid" = "$pid" ]
	[ "$(status_field "$T/st" Tpgid)" = "$pgid" ]
	[ "$(status_field "$T/st" Fg)" = "$pgid" ]
}
