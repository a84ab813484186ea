#!/usr/bin/python3
"""ptyshell: drive a program through a pseudo-terminal, as a person at a
keyboard would, for the tests of interactive use (tests/integration/tty.bats,
tests/e2e/docker.bats). Bounded: every wait gives up after its timeout.

Usage: ptyshell.py [--timeout S] [--log FILE] -- COMMAND [ARG...] < SCRIPT

COMMAND runs as a session leader with the pty as its controlling terminal
(an interactive bash there does job control). SCRIPT has one step a line:
  send TEXT       type TEXT (Python escapes: \\n, \\x03 for Ctrl-C, \\x1a Ctrl-Z)
  expect REGEX    wait until the output since the last match matches REGEX
  eof             wait for COMMAND to end; ptyshell exits with its status
Blank lines and lines starting with # are skipped. A step that times out
prints what was seen and exits 124; the whole output goes to --log.
"""
import os
import pty
import re
import select
import signal
import sys
import time


def main():
    args = sys.argv[1:]
    timeout, log = 10.0, None
    while args and args[0] != "--":
        if args[0] == "--timeout":
            timeout = float(args[1])
            args = args[2:]
        elif args[0] == "--log":
            log = args[1]
            args = args[2:]
        else:
            sys.exit("ptyshell: unknown option " + args[0])
    cmd = args[1:]
    if not cmd:
        sys.exit(__doc__)
    steps = [l.rstrip("\n") for l in sys.stdin if l.strip() and not l.startswith("#")]

    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    logf = open(log, "ab") if log else None
    seen = b""  # output since the last match
    everything = b""

    def read_some(deadline):
        nonlocal seen, everything
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            return False
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the other side is closed
            data = b""
        if not data:
            return None
        seen += data
        everything += data
        if logf:
            logf.write(data)
            logf.flush()
        return True

    def fail(what):
        sys.stderr.write("ptyshell: timed out after %gs %s\n--- output since the last match:\n%s\n---\n"
                         % (timeout, what, seen.decode(errors="replace")))
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        sys.exit(124)

    for step in steps:
        verb, _, arg = step.partition(" ")
        if verb == "send":
            os.write(fd, arg.encode().decode("unicode_escape").encode("latin-1"))
        elif verb == "expect":
            rx = re.compile(arg.encode())
            deadline = time.monotonic() + timeout
            while True:
                m = rx.search(seen)
                if m:
                    seen = seen[m.end():]
                    break
                got = read_some(deadline)
                if got is False:
                    fail("waiting for /%s/" % arg)
                if got is None:
                    fail("(the terminal closed) waiting for /%s/" % arg)
        elif verb == "eof":
            deadline = time.monotonic() + timeout
            while read_some(deadline):
                pass
            end = time.monotonic() + timeout
            while True:
                p, st = os.waitpid(pid, os.WNOHANG)
                if p == pid:
                    sys.exit(os.waitstatus_to_exitcode(st) & 0xff)
                if time.monotonic() > end:
                    fail("waiting for the command to end")
                read_some(time.monotonic() + 0.05)
        else:
            sys.exit("ptyshell: unknown step: " + step)
    # No eof step: end the command, whatever it is doing.
    try:
        os.kill(pid, signal.SIGHUP)
    except OSError:
        pass
    os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    main()
