/* probe: a small program the integration tests run under (or around)
 * volinit. It does a list of steps in order and reports what it sees in
 * files, so that a test waits on a file instead of sleeping and hoping.
 *
 *   probe STEP [ARG...] [STEP [ARG...]]...
 *
 *   reset             every disposition to SIG_DFL, empty signal mask
 *   block SIGS        add SIGS (comma-separated numbers) to the signal mask
 *   ignore SIGS       set SIGS to SIG_IGN
 *   exec PROG ARG...  execvp the rest of the command line (last step)
 *   status FILE       write selected /proc/self/status lines plus Pgid, Sid,
 *                     Tpgid (foreground group of the controlling terminal)
 *                     and Fg (tcgetpgrp(0), -1 when stdin is no terminal)
 *   touch FILE        create FILE holding our pid
 *   signals FILE      block every signal, append "ready", then append the
 *                     number of each signal received; ends after SIGTERM
 *   child FILE        fork a child in our process group that does
 *                     `signals FILE`; returns once the child is ready
 *   orphans N FILE    N grandchildren through double forks; each waits until
 *                     it is orphaned and exits; FILE then lists "pid ppid"
 *                     of each, ppid being the reaper it was given
 *   linger FILE MS    fork a descendant that, on SIGTERM, takes MS
 *                     milliseconds of "cleanup", writes "cleaned" to FILE and
 *                     exits; MS < 0: it ignores SIGTERM and never exits
 *   exit CODE         exit with CODE
 *   kill SIG          die of signal SIG
 *
 * Files are written whole under a temporary name, then renamed, so a file
 * that exists is complete. `signals` appends one line per write(2). With no
 * exit or kill step, probe exits 0. Errors: a message on stderr, exit 99.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	fputs("probe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (saved)
		fprintf(stderr, ": %s", strerror(saved));
	fputc('\n', stderr);
	_exit(99);
}

static long number(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0')
		die("not a number: \"%s\"", s);
	return v;
}

/* Write the whole of text to path, atomically: readers see all or nothing. */
static void put_file(const char *path, const char *text)
{
	char tmp[4096];
	size_t len = strlen(text);
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.probe-tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("open %s", tmp);
	if (write(fd, text, len) != (ssize_t)len || close(fd) != 0)
		die("write %s", tmp);
	if (rename(tmp, path) != 0)
		die("rename %s", path);
}

static void append_line(const char *path, const char *line)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "%s\n", line);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0)
		die("open %s", path);
	if (write(fd, buf, n) != n || close(fd) != 0)
		die("write %s", path);
}

static void for_each_sig(const char *list, void (*fn)(int))
{
	char copy[1024];
	char *save = NULL;

	snprintf(copy, sizeof(copy), "%s", list);
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		fn((int)number(t));
}

static void block_one(int sig)
{
	sigset_t set;

	sigemptyset(&set);
	if (sigaddset(&set, sig) != 0 || sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		die("block %d", sig);
}

static void ignore_one(int sig)
{
	if (signal(sig, SIG_IGN) == SIG_ERR)
		die("ignore %d", sig);
}

static void reset(void)
{
	sigset_t none;

	/* SIGKILL, SIGSTOP and glibc's internal signals refuse: that is fine. */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0)
		die("sigprocmask");
}

static void status(const char *path)
{
	static const char *keys[] = { "Pid:", "PPid:", "Uid:", "Gid:", "Groups:",
		"SigBlk:", "SigIgn:", "CapEff:", "CapPrm:", "CapBnd:", "CapAmb:",
		"NoNewPrivs:", NULL };
	char out[8192] = "", line[1024], stat[1024];
	size_t used = 0;
	FILE *f = fopen("/proc/self/status", "re");
	int pgid, sid, tpgid;
	char *p;

	if (!f)
		die("/proc/self/status");
	while (fgets(line, sizeof(line), f))
		for (const char **k = keys; *k; k++)
			if (strncmp(line, *k, strlen(*k)) == 0)
				used += snprintf(out + used, sizeof(out) - used, "%s", line);
	fclose(f);

	/* Fields after the command name, which may hold spaces and parens. */
	f = fopen("/proc/self/stat", "re");
	if (!f || !fgets(stat, sizeof(stat), f) || !(p = strrchr(stat, ')')))
		die("/proc/self/stat");
	fclose(f);
	if (sscanf(p + 2, "%*c %*d %d %d %*d %d", &pgid, &sid, &tpgid) != 3)
		die("parse /proc/self/stat");
	snprintf(out + used, sizeof(out) - used, "Pgid:\t%d\nSid:\t%d\nTpgid:\t%d\nFg:\t%d\n",
		 pgid, sid, tpgid, (int)tcgetpgrp(0));
	put_file(path, out);
}

/* Record signals until SIGTERM. Every signal is blocked first, so that none
 * can kill us once "ready" is written. ready_fd (if >= 0) is closed then too,
 * to tell a waiting parent. */
static void signals(const char *path, int ready_fd)
{
	sigset_t all;
	char num[16];
	uint64_t every = ~(uint64_t)0;

	/* The raw call: glibc's sigprocmask would leave 32 and 33 deliverable. */
	memset(&all, 0xff, sizeof(all));
	if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, &every, NULL, sizeof(every)) != 0)
		die("rt_sigprocmask");
	append_line(path, "ready");
	if (ready_fd >= 0)
		close(ready_fd);
	for (;;) {
		int sig = sigwaitinfo(&all, NULL);

		if (sig < 0) {
			if (errno == EINTR)
				continue;
			die("sigwaitinfo");
		}
		snprintf(num, sizeof(num), "%d", sig);
		append_line(path, num);
		if (sig == SIGTERM)
			return;
	}
}

/* Fork; the child runs fn(arg) and tells the parent through a pipe when it is
 * ready by closing its end. Returns the child's pid. */
static pid_t fork_ready(void (*fn)(const char *, long, int), const char *arg, long n)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(p[0]);
		fn(arg, n, p[1]);
		_exit(0);
	}
	close(p[1]);
	while (read(p[0], &c, 1) < 0 && errno == EINTR)
		;
	close(p[0]);
	return pid;
}

static void child_body(const char *path, long unused, int ready_fd)
{
	(void)unused;
	signals(path, ready_fd);
}

static void linger_body(const char *path, long ms, int ready_fd)
{
	struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };
	sigset_t term;
	int null, sig;

	/* Do not hold the test's pipes open: a test may wait for their EOF. */
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	if (ms < 0) {
		signal(SIGTERM, SIG_IGN);
		close(ready_fd);
		for (;;)
			pause();
	}
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	close(ready_fd);
	do
		sig = sigwaitinfo(&term, NULL);
	while (sig < 0 && errno == EINTR);
	while (nanosleep(&d, &d) != 0 && errno == EINTR)
		;
	put_file(path, "cleaned\n");
}

/* A grandchild: wait until our parent has died and we were reparented, then
 * report who our new parent (the reaper) is and exit, leaving a zombie that
 * only the reaper can collect. PR_SET_PDEATHSIG fires after reparenting. */
static void grandchild(pid_t parent, int report_fd)
{
	sigset_t usr1;
	char line[64];
	int n;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1); /* already blocked by the parent */
	if (prctl(PR_SET_PDEATHSIG, SIGUSR1) != 0)
		die("prctl");
	if (getppid() == parent)
		while (sigwaitinfo(&usr1, NULL) < 0 && errno == EINTR)
			;
	n = snprintf(line, sizeof(line), "%d %d\n", (int)getpid(), (int)getppid());
	if (write(report_fd, line, n) != n)
		die("write report");
	_exit(0);
}

static void orphans(long count, const char *path)
{
	char report[16384] = "";
	size_t used = 0;
	ssize_t r;
	int p[2];

	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe");
	for (long i = 0; i < count; i++) {
		pid_t mid = fork();

		if (mid < 0)
			die("fork");
		if (mid == 0) {
			pid_t me = getpid(), g;
			sigset_t usr1;

			sigemptyset(&usr1);
			sigaddset(&usr1, SIGUSR1);
			sigprocmask(SIG_BLOCK, &usr1, NULL);
			close(p[0]);
			g = fork();
			if (g < 0)
				die("fork");
			if (g == 0)
				grandchild(me, p[1]);
			_exit(0);
		}
		if (waitpid(mid, NULL, 0) != mid)
			die("waitpid");
	}
	close(p[1]);
	/* EOF once every grandchild has exited (or is exiting). */
	while ((r = read(p[0], report + used, sizeof(report) - 1 - used)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read report");
		used += r;
	}
	close(p[0]);
	report[used] = '\0';
	put_file(path, report);
}

static void die_of(int sig)
{
	sigset_t one;

	signal(sig, SIG_DFL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	raise(sig);
	die("still alive after signal %d", sig);
}

static const char *need(char **argv, int i, int argc, const char *step)
{
	if (i >= argc)
		die("%s: missing argument", step);
	return argv[i];
}

int main(int argc, char **argv)
{
	int i = 1;

	if (argc < 2)
		die("usage: probe STEP [ARG...]... (see tests/helpers/probe.c)");
	while (i < argc) {
		const char *step = argv[i++];

		if (strcmp(step, "reset") == 0) {
			reset();
		} else if (strcmp(step, "block") == 0) {
			for_each_sig(need(argv, i++, argc, step), block_one);
		} else if (strcmp(step, "ignore") == 0) {
			for_each_sig(need(argv, i++, argc, step), ignore_one);
		} else if (strcmp(step, "exec") == 0) {
			need(argv, i, argc, step);
			execvp(argv[i], argv + i);
			die("exec %s", argv[i]);
		} else if (strcmp(step, "status") == 0) {
			status(need(argv, i++, argc, step));
		} else if (strcmp(step, "touch") == 0) {
			char pid[32];

			snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
			put_file(need(argv, i++, argc, step), pid);
		} else if (strcmp(step, "signals") == 0) {
			signals(need(argv, i++, argc, step), -1);
		} else if (strcmp(step, "child") == 0) {
			const char *path = need(argv, i++, argc, step);

			fork_ready(child_body, path, 0);
		} else if (strcmp(step, "orphans") == 0) {
			long n = number(need(argv, i++, argc, step));

			orphans(n, need(argv, i++, argc, step));
		} else if (strcmp(step, "linger") == 0) {
			const char *path = need(argv, i++, argc, step);

			fork_ready(linger_body, path, number(need(argv, i++, argc, step)));
		} else if (strcmp(step, "exit") == 0) {
			exit((int)number(need(argv, i++, argc, step)));
		} else if (strcmp(step, "kill") == 0) {
			die_of((int)number(need(argv, i++, argc, step)));
		} else {
			die("unknown step \"%s\"", step);
		}
	}
	return 0;
}
