/*
 * orphans N [RESULT LABEL [rt]]: the program an init runs in the reaping benchmark.
 *
 * A child of ours (mid) forks N grandchildren, which exit at once; mid does
 * not reap them, and waits (waitid WNOWAIT) until every one of them is a
 * zombie.  Then, at t0, we tell mid to exit: its N zombie children pass to
 * PID 1, the init under test, in one go, and all the init has to do is reap
 * them.  We wait until every one of them is gone (kill(pid, 0) fails with
 * ESRCH only once the zombie has been reaped; a zombie still answers) and
 * note t1.  reap_ns = t1 - t0: the exit of mid (the kernel hands the zombies
 * over) and the init's reaping, without the exits of N processes in the way.
 *
 * Over the same interval, PID 1's CPU time and the number of times it ran are
 * read from /proc/1/schedstat (our /proc is the namespace's own: unshare
 * --mount-proc).  Appended to RESULT:
 *   LABEL  reap_ns  create_ns  init_cpu_ns  init_runs
 * Exits 1 if they are not all reaped within 60 s.
 *
 * With "rt", the timed part alone runs under SCHED_FIFO: PID 1 and mid at
 * priority 10, we (polling) at 5; PID 1 goes back to SCHED_OTHER after t1.
 * The N processes are created and exit at normal priority, so the machine
 * is never held for long, while other load barely touches the timed part.
 */
#include "common.h"

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void init_schedstat(long long *cpu, long long *runs)
{
	unsigned long long a = 0, b = 0, c = 0;
	FILE *f = fopen("/proc/1/schedstat", "r");
	if (!f || fscanf(f, "%llu %llu %llu", &a, &b, &c) != 3)
		a = c = 0;
	if (f)
		fclose(f);
	*cpu = (long long)a;
	*runs = (long long)c;
}

static void set_fifo(pid_t pid, int prio)
{
	struct sched_param sp = {.sched_priority = prio};
	if (sched_setscheduler(pid, prio ? SCHED_FIFO : SCHED_OTHER, &sp))
		fprintf(stderr, "orphans: sched_setscheduler(%d): %s\n", (int)pid, strerror(errno));
}

static int read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc == 3 || argc > 5) {
		fprintf(stderr, "usage: orphans N [RESULT LABEL [rt]]\n");
		return 64;
	}
	int rt = argc == 5 && !strcmp(argv[4], "rt");
	long n = strtol(argv[1], NULL, 10);
	if (n < 1)
		return 64;
	pid_t *pids = xcalloc((size_t)n, sizeof(pid_t));
	int go[2], report[2];
	if (pipe(go) || pipe(report))
		die("pipe");

	int64_t tc = now_ns();
	pid_t mid = fork();
	if (mid < 0)
		die("fork");
	if (mid == 0) {
		close(report[0]);
		close(go[1]);
		signal(SIGCHLD, SIG_DFL); /* keep the zombies: SIG_IGN would reap them */
		for (long i = 0; i < n; i++) {
			pid_t g = fork();
			if (g < 0)
				die("fork grandchild");
			if (g == 0)
				_exit(0);
			pids[i] = g;
		}
		for (long i = 0; i < n; i++) {
			siginfo_t si;
			while (waitid(P_PID, (id_t)pids[i], &si, WEXITED | WNOWAIT) < 0)
				if (errno != EINTR)
					die("waitid");
		}
		size_t len = (size_t)n * sizeof(pid_t);
		for (size_t off = 0; off < len;) {
			ssize_t w = write(report[1], (char *)pids + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				die("write");
			off += (size_t)w;
		}
		char c;
		while (read(go[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(report[1]);
	close(go[0]);
	if (read_all(report[0], pids, (size_t)n * sizeof(pid_t))) {
		fprintf(stderr, "orphans: the grandchildren were not all created\n");
		return 1;
	}
	int64_t create = now_ns() - tc;

	long long cpu0, runs0, cpu1, runs1;
	if (rt) {
		set_fifo(1, 10);
		set_fifo(mid, 10);
		set_fifo(0, 5);
	}
	init_schedstat(&cpu0, &runs0);
	int64_t t0 = now_ns();
	close(go[1]); /* mid exits: N zombies pass to PID 1 */
	int st;
	while (waitpid(mid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	struct timespec nap = {0, 20000};
	for (long i = 0; i < n; i++) {
		while (kill(pids[i], 0) == 0) {
			if (now_ns() - t0 > 60000000000LL) {
				fprintf(stderr, "orphans: %ld of %ld not reaped after 60 s\n", n - i, n);
				return 1;
			}
			nanosleep(&nap, NULL);
		}
	}
	int64_t reap = now_ns() - t0;
	init_schedstat(&cpu1, &runs1);
	if (rt) {
		set_fifo(1, 0);
		set_fifo(0, 0);
	}
	if (argc >= 4) {
		FILE *f = fopen(argv[2], "a");
		if (!f)
			die(argv[2]);
		fprintf(f, "%s\t%lld\t%lld\t%lld\t%lld\n", argv[3], (long long)reap, (long long)create, cpu1 - cpu0,
			runs1 - runs0);
		fclose(f);
	} else {
		printf("reaped %ld orphans in %.3f ms (created in %.3f ms); PID 1 ran %lld times, %.3f ms of CPU\n", n,
		       reap / 1e6, create / 1e6, runs1 - runs0, (cpu1 - cpu0) / 1e6);
	}
	return 0;
}
