#!/usr/bin/env bats
# Interactive use, as dumb-init's test suite checks it: volinit run from an
# interactive bash (job control on) through a pseudo-terminal, driven by
# tests/helpers/ptyshell.py as a person at the keyboard would. Every wait is
# bounded (VI_TIMEOUT seconds, helpers.bash; the whole session six times
# that): where volinit gets it wrong the shell never shows its prompt again,
# and the step times out.

load helpers

PTYSHELL=$BATS_TEST_DIRNAME/../helpers/ptyshell.py

setup() {
	common_setup
	command -v python3 >/dev/null || skip "python3 is not installed"
	mkdir "$T/vol"
	# No volume to guard and nothing said about it: only PROGRAM's output.
	CFG=$T/volinit.ini
	printf '[volinit]\n' >"$CFG"
}

# shell < SCRIPT: an interactive bash in a pty (an rc file that only sets
# the prompt "READY> " and set -b, no line editing), fed SCRIPT's steps (see ptyshell.py). Sets
# status; the whole terminal output is in $T/tty and shown on failure.
shell() {
	status=0
	# set -b: bash reports a job's stop at once, not at the next prompt.
	printf "PS1='READY> '\nset -b\n" >"$T/bashrc"
	# A clean environment, but the sanitizers' settings (make sanitize).
	env -i PATH="$PATH" HOME="$T" TERM=dumb V="$VOLINIT" CFG="$CFG" T="$T" \
		${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} ${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} \
		timeout -k 5 $((VI_TIMEOUT * 6)) python3 "$PTYSHELL" --timeout "$VI_TIMEOUT" --log "$T/tty" \
		-- bash --rcfile "$T/bashrc" --noediting -i 3>&- || status=$?
	echo "--- the terminal (status $status):"
	cat -v "$T/tty" 2>/dev/null
	echo "---"
}

@test "tty: Ctrl-Z on 'volinit -- cat' gives the shell its prompt back, fg continues it in the foreground" {
	shell <<'EOF'
expect READY> $
send "$V" -c "$CFG" -- cat\n
send hello\n
expect hello\r\nhello\r\n
send \x1a
expect Stopped.*\r\nREADY> $
send echo "jobs: $(jobs | wc -l)"\n
expect jobs: 1\r\n
send fg\n
expect cat
send again\n
expect again\r\nagain\r\n
send \x04
expect READY> $
send echo "rc=$?"\n
expect rc=0\r\n
send exit\n
eof
EOF
	[ "$status" -eq 0 ]
}

@test "tty: 'volinit -- PROG &' leaves the terminal to the shell, which goes on" {
	# PROG says when it runs: only then could it have taken the terminal.
	shell <<'EOF'
expect READY> $
send "$V" -c "$CFG" -- sh -c 'echo prog-up; exec sleep 100' & echo "bg=$!"\n
expect bg=[0-9]+\r\n
expect prog-up\r\n
send echo "fg=$(($(cut -d' ' -f8 /proc/$$/stat) - $(cut -d' ' -f5 /proc/$$/stat)))"\n
expect fg=0\r\n
send echo ali""ve\n
expect alive\r\n
send echo "jobs: $(jobs -r | wc -l)"\n
expect jobs: 1\r\n
send kill %1; wait $!; echo "after=$?"\n
expect after=143\r\n
send exit\n
eof
EOF
	[ "$status" -eq 0 ]
}

@test "tty: a background 'volinit -- cat' stops on reading the terminal, and fg gives it the terminal" {
	shell <<'EOF'
expect READY> $
send "$V" -c "$CFG" -- cat &\n
expect Stopped.*\r\n
send echo ali""ve\n
expect alive\r\n
send fg\n
expect cat
send typed\n
expect typed\r\ntyped\r\n
send \x03
expect READY> $
send echo "rc=$?"\n
expect rc=130\r\n
send exit\n
eof
EOF
	[ "$status" -eq 0 ]
}

@test "tty: Ctrl-C reaches the program, whose own status comes back" {
	shell <<'EOF'
expect READY> $
send "$V" -c "$CFG" -- sh -c 'trap "echo got-INT; exit 7" INT; echo running; while :; do sleep 1; done'\n
expect running\r\n
send \x03
expect got-INT\r\n
expect READY> $
send echo "rc=$?"\n
expect rc=7\r\n
send exit\n
eof
EOF
	[ "$status" -eq 0 ]
}

@test "not pid1: volinit's working directory is / while PROGRAM runs in the one it was started in" {
	local vpid cpid
	(cd "$T/vol" && exec "$VOLINIT" -c "$CFG" -- "$PROBE" touch "$T/ready" signals "$T/sig") \
		</dev/null >"$T/stdout" 2>"$T/stderr" 3>&- &
	vpid=$!
	BG_PIDS+=("$vpid")
	wait_for_line "$T/sig" '^ready$'
	cpid=$(cat "$T/ready")
	echo "volinit $vpid: $(readlink "/proc/$vpid/cwd"); PROGRAM $cpid: $(readlink "/proc/$cpid/cwd")"
	[ "$(readlink "/proc/$vpid/cwd")" = / ]
	[ "$(readlink "/proc/$cpid/cwd")" = "$T/vol" ]
	kill -TERM "$vpid"
	wait_exit "$vpid"
	assert_status 0
}

# catcher: a program that takes SIGTSTP, SIGTTIN, SIGTTOU and SIGCONT
# itself and says so (as vim or a REPL would, without stopping), and exits
# 7 on SIGINT. It takes them with sigwaitinfo, so that no handler runs in
# the middle of a print (a SIGSTOP may land anywhere).
catcher() {
	cat >"$T/catcher.py" <<'PY'
import signal, sys
sigs = {signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU, signal.SIGCONT, signal.SIGINT}
signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
print("ready", flush=True)
while True:
    s = signal.sigwaitinfo(sigs).si_signo
    if s == signal.SIGINT:
        sys.exit(7)
    print("got", signal.Signals(s).name, flush=True)
PY
}

@test "tty: kill -TSTP to volinit whose program catches it: passed on, volinit stops, the shell gets its prompt; fg continues both" {
	catcher
	shell <<'EOF'
expect READY> $
send "$V" -c "$CFG" -- python3 "$T/catcher.py" &\n
expect ready\r\n
send kill -TSTP %1\n
expect Stopped
send echo "state: $(ps -o stat= -p $(jobs -p %1))"\n
expect state: T
send fg\n
expect got SIGCONT\r\n
send \x03
expect READY> $
send echo "rc=$?"\n
expect rc=7\r\n
send exit\n
eof
EOF
	[ "$status" -eq 0 ]
	# Passed on (the shell may report the stop before or after the
	# program prints it), and SIGCONT reached the program once: volinit's
	# own continue is not forwarded a second time.
	[ "$(grep -c 'got SIGTSTP' "$T/tty")" -eq 1 ]
	[ "$(grep -c 'got SIGCONT' "$T/tty")" -eq 1 ]
}

@test "tty: kill -TTIN to 'volinit -g': the program's group gets SIGSTOP (it cannot catch it), volinit stops; fg continues both" {
	catcher
	shell <<'EOF'
expect READY> $
send "$V" -g -c "$CFG" -- python3 "$T/catcher.py" &\n
expect ready\r\n
send kill -TTIN %1\n
expect Stopped
# The shell reports volinit's stop; the program's SIGSTOP, sent just
# before, may take a moment more to land: wait for both, bounded (5 s).
send for i in $(seq 100); do s="$(ps -o stat= -p $(jobs -p %1)) $(ps -o stat= --ppid $(jobs -p %1))"; case $s in T*T*) break ;; esac; sleep 0.05; done; echo "states: $s"\n
expect states: T[^ ]* +T
send fg\n
expect got SIGCONT\r\n
send \x03
expect READY> $
send echo "rc=$?"\n
expect rc=7\r\n
send exit\n
eof
EOF
	[ "$status" -eq 0 ]
	# Stopped by SIGSTOP: the program never saw SIGTTIN.
	[ "$(grep -c 'got SIGTTIN' "$T/tty")" -eq 0 ]
}

@test "dumb-init's own shell_background tests (tests/compat/dumb-init) pass with volinit as dumb-init" {
	/usr/bin/python3 -c 'import pytest' 2>/dev/null || skip "python3-pytest is not installed"
	local d=$BATS_TEST_DIRNAME/../compat/dumb-init
	run timeout -k 5 $((VI_TIMEOUT * 4)) env PATH="$d/bin:$PATH" VOLINIT="$VOLINIT" PYTHONPATH="$d" PYTHONDONTWRITEBYTECODE=1 \
		/usr/bin/python3 -m pytest -p no:cacheprovider -q --rootdir "$d" "$d/tests/shell_background_test.py"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"4 passed"* ]]
}
