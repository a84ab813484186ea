/*
 * orphans N [RESULT LABEL]: the program an init runs in the reaping benchmark.
 *
 * A child of ours forks N grandchildren, each blocked reading a pipe, and
 * exits: the N grandchildren are now orphans, children of PID 1 (the init
 * under test).  Then we close the pipe (t0): all N exit at once, and PID 1
 * must reap them.  We wait until every one of them is gone (kill(pid, 0)
 * fails with ESRCH only once the zombie has been reaped; a zombie still
 * answers) and note t1.  reap_ns = t1 - t0.  Over the same interval, PID 1's
 * CPU time and the number of times it ran are read from /proc/1/schedstat
 * (our /proc is the namespace's own: unshare --mount-proc): the init's own
 * cost of reaping, which a loaded machine disturbs much less than wall time.
 * Appended to RESULT:
 *   LABEL  reap_ns  create_ns  init_cpu_ns  init_runs
 * Exits 1 if they are not all reaped within 60 s.
 */
#include "common.h"

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

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: orphans N [RESULT LABEL]\n");
		return 64;
	}
	long n = strtol(argv[1], NULL, 10);
	if (n < 1)
		return 64;
	pid_t *pids = xcalloc((size_t)n, sizeof(pid_t));
	int release[2], report[2];
	if (pipe(release) || pipe(report))
		die("pipe");

	int64_t tc = now_ns();
	pid_t mid = fork();
	if (mid < 0)
		die("fork");
	if (mid == 0) {
		close(report[0]);
		for (long i = 0; i < n; i++) {
			pid_t g = fork();
			if (g < 0)
				die("fork grandchild");
			if (g == 0) {
				char c;
				close(release[1]);
				close(report[1]);
				while (read(release[0], &c, 1) < 0 && errno == EINTR)
					;
				_exit(0);
			}
			if (write(report[1], &g, sizeof g) != sizeof g)
				die("write");
		}
		_exit(0);
	}
	close(report[1]);
	close(release[0]);
	for (long i = 0; i < n; i++) {
		size_t got = 0;
		while (got < sizeof(pid_t)) {
			ssize_t r = read(report[0], (char *)&pids[i] + got, sizeof(pid_t) - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				fprintf(stderr, "orphans: only %ld grandchildren\n", i);
				return 1;
			}
			got += (size_t)r;
		}
	}
	int st;
	while (waitpid(mid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	int64_t create = now_ns() - tc;

	long long cpu0, runs0, cpu1, runs1;
	init_schedstat(&cpu0, &runs0);
	int64_t t0 = now_ns();
	close(release[1]);
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
	if (argc == 4) {
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
