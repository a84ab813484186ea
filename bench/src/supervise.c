/*
 * supervise: each init supervising a sleeping child (sigchild), all at once.
 *
 *   supervise [-n SIGNALS] [-i IDLE_SECONDS] [-d FIFO_DIR] [-o RAW.tsv] [-e LOG] \
 *       LABEL CMD [ARG...] ';;' LABEL CMD [ARG...] ';;' ...
 *
 * -x LABEL: that init gets no signals (it does not forward them: a floor
 * for RSS and idle only); its teardown is SIGKILL at once.
 *
 * Every CMD is started at once; "@FIFO@" in its arguments is replaced with a
 * FIFO of its own, which its sigchild writes to.  CMD is expected to be
 * `unshare --pid --fork --mount-proc INIT ... sigchild @FIFO@`: the init under
 * test is the one child of the process we spawn (found through
 * /proc/PID/task/PID/children), and it is PID 1 of a fresh PID namespace.
 *
 * Once every sigchild has said it is ready:
 *  1. peak RSS: VmHWM and VmRSS of each init (from /proc/PID/status);
 *  2. idle: each init's wake-ups over IDLE_SECONDS: the 3rd field of
 *     /proc/PID/schedstat (times it was put on a CPU) and its voluntary and
 *     involuntary context switches, all inits over the same interval;
 *  3. signal forwarding: SIGNALS rounds; in each, every init in turn (the
 *     first one rotating) gets kill(init, SIGUSR1) and we wait for its child's
 *     handler to send back the CLOCK_MONOTONIC time it started at; latency =
 *     that time - the time just before kill(2).  Only one signal is in flight.
 *  4. VmHWM again, after the signals;
 *  5. SIGTERM to each init (forwarded, the child dies, the init exits), then
 *     SIGKILL to whatever is left after 5 s.
 *
 * stdout, one TSV line per init:
 *   label hwm_kb rss_kb hwm_after_kb idle_s wakeups vol_cs invol_cs
 *   sent lost median_ns p90_ns p99_ns p999_ns max_ns mean_ns over_100ms exit
 */
#include "common.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct init {
	const char *label;
	char **argv;
	char fifo[4096];
	int fd;
	pid_t spawned, pid;
	long hwm, rss, hwm_after;
	long long sched0, sched1, vcs0, vcs1, ivcs0, ivcs1;
	int64_t *lat;
	size_t nlat, lost, over100, lost_row;
	int exit_status;
};

static long status_field(pid_t pid, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t kl = strlen(key);
	long v = -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static long long schedstat_runs(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	unsigned long long a, b, c;
	int n = fscanf(f, "%llu %llu %llu", &a, &b, &c);
	fclose(f);
	return n == 3 ? (long long)c : -1;
}

/* Read exactly 8 bytes within timeout_ms; 0 on success, -1 on timeout/error. */
static int read_i64(int fd, int64_t *v, int timeout_ms)
{
	size_t got = 0;
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	while (got < sizeof *v) {
		int left = (int)((deadline - now_ns()) / 1000000);
		if (left < 0)
			return -1;
		struct pollfd p = {fd, POLLIN, 0};
		int r = poll(&p, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		ssize_t n = read(fd, (char *)v + got, sizeof *v - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static pid_t find_child(pid_t parent, int timeout_ms)
{
	char path[96];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)parent, (int)parent);
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	do {
		FILE *f = fopen(path, "r");
		int c = 0;
		if (f) {
			if (fscanf(f, "%d", &c) != 1)
				c = 0;
			fclose(f);
		}
		if (c > 0)
			return c;
		usleep(1000);
	} while (now_ns() < deadline);
	return -1;
}

int main(int argc, char **argv)
{
	long nsig = 1000;
	double idle = 30;
	const char *dir = "/tmp", *raw = NULL, *errlog = NULL;
	int opt;
	const char *nosig[16];
	size_t nnosig = 0;
	while ((opt = getopt(argc, argv, "+n:i:d:o:e:x:")) != -1) {
		switch (opt) {
		case 'x':
			if (nnosig < 16)
				nosig[nnosig++] = optarg;
			break;
		case 'n': nsig = strtol(optarg, NULL, 10); break;
		case 'i': idle = strtod(optarg, NULL); break;
		case 'd': dir = optarg; break;
		case 'o': raw = optarg; break;
		case 'e': errlog = optarg; break;
		default:
			fprintf(stderr, "usage: supervise [-x LABEL] [-n N] [-i S] [-d DIR] [-o raw] [-e log] LABEL CMD... ';;' ...\n");
			return 64;
		}
	}
	if (nsig < 0 || idle < 0)
		return 64;

	size_t ni = 0;
	struct init *in = xcalloc((size_t)argc, sizeof *in);
	for (int i = optind; i < argc;) {
		if (i + 1 >= argc || !strcmp(argv[i + 1], ";;")) {
			fprintf(stderr, "supervise: label '%s' has no command\n", argv[i]);
			return 64;
		}
		struct init *c = &in[ni++];
		c->label = argv[i];
		c->argv = &argv[i + 1];
		int j = i + 1;
		while (j < argc && strcmp(argv[j], ";;"))
			j++;
		if (j < argc)
			argv[j] = NULL;
		c->lat = xcalloc((size_t)nsig, sizeof(int64_t));
		for (size_t x = 0; x < nnosig; x++)
			if (!strcmp(nosig[x], c->label))
				c->lost_row = 3;
		snprintf(c->fifo, sizeof c->fifo, "%s/%s.fifo", dir, c->label);
		for (char **a = c->argv; *a; a++)
			if (!strcmp(*a, "@FIFO@"))
				*a = c->fifo;
		i = j + 1;
	}
	if (ni == 0)
		return 64;

	signal(SIGPIPE, SIG_IGN);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, errlog ? errlog : "/dev/null",
					 O_WRONLY | O_APPEND | O_CREAT, 0644);

	/* Start them all. */
	for (size_t k = 0; k < ni; k++) {
		struct init *c = &in[k];
		unlink(c->fifo);
		if (mkfifo(c->fifo, 0600))
			die(c->fifo);
		c->fd = open(c->fifo, O_RDWR | O_CLOEXEC);
		if (c->fd < 0)
			die(c->fifo);
		int e = posix_spawn(&c->spawned, c->argv[0], &fa, NULL, c->argv, environ);
		if (e) {
			errno = e;
			die(c->argv[0]);
		}
	}
	int ok = 1;
	for (size_t k = 0; k < ni; k++) {
		struct init *c = &in[k];
		int64_t v;
		if (read_i64(c->fd, &v, 10000) || v != 0) {
			fprintf(stderr, "supervise: %s: the child never said ready\n", c->label);
			ok = 0;
			continue;
		}
		c->pid = find_child(c->spawned, 2000);
		if (c->pid < 0) {
			fprintf(stderr, "supervise: %s: no init under pid %d\n", c->label, (int)c->spawned);
			ok = 0;
		}
	}
	if (!ok)
		goto teardown;

	/* 1. peak RSS once the child runs. */
	usleep(100000);
	for (size_t k = 0; k < ni; k++) {
		in[k].hwm = status_field(in[k].pid, "VmHWM");
		in[k].rss = status_field(in[k].pid, "VmRSS");
	}

	/* 2. idle wake-ups, all inits over the same interval. */
	for (size_t k = 0; k < ni; k++) {
		in[k].sched0 = schedstat_runs(in[k].pid);
		in[k].vcs0 = status_field(in[k].pid, "voluntary_ctxt_switches");
		in[k].ivcs0 = status_field(in[k].pid, "nonvoluntary_ctxt_switches");
	}
	if (idle > 0) {
		struct timespec ts = {(time_t)idle, (long)((idle - (double)(time_t)idle) * 1e9)};
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	for (size_t k = 0; k < ni; k++) {
		in[k].sched1 = schedstat_runs(in[k].pid);
		in[k].vcs1 = status_field(in[k].pid, "voluntary_ctxt_switches");
		in[k].ivcs1 = status_field(in[k].pid, "nonvoluntary_ctxt_switches");
	}

	/* 3. signal forwarding latency, interleaved. */
	FILE *rawf = NULL;
	if (raw && !(rawf = fopen(raw, "w")))
		die(raw);
	if (rawf)
		fprintf(rawf, "round\tlabel\tlatency_ns\n");
	for (long r = 0; r < nsig; r++) {
		for (size_t j = 0; j < ni; j++) {
			struct init *c = &in[((size_t)r + j) % ni];
			if (c->lost_row >= 3) { /* it does not forward: stop asking */
				c->lost++;
				continue;
			}
			int64_t t0 = now_ns(), t1;
			if (kill(c->pid, SIGUSR1) || read_i64(c->fd, &t1, 2000)) {
				c->lost++;
				c->lost_row++;
				continue;
			}
			c->lost_row = 0;
			int64_t d = t1 - t0;
			if (d >= 100000000)
				c->over100++;
			c->lat[c->nlat++] = d;
			if (rawf)
				fprintf(rawf, "%ld\t%s\t%lld\n", r, c->label, (long long)d);
		}
	}
	if (rawf)
		fclose(rawf);

	/* 4. peak RSS after all that. */
	for (size_t k = 0; k < ni; k++)
		in[k].hwm_after = status_field(in[k].pid, "VmHWM");

teardown:
	/* 5. SIGTERM, forwarded to the child; then SIGKILL what is left. A -x
	 * init forwards nothing: SIGKILL at once. */
	for (size_t k = 0; k < ni; k++)
		kill(in[k].pid > 0 ? in[k].pid : in[k].spawned, in[k].lost_row == 3 ? SIGKILL : SIGTERM);
	int64_t deadline = now_ns() + 5000000000LL;
	for (size_t k = 0; k < ni; k++) {
		struct init *c = &in[k];
		int st = -1;
		for (;;) {
			pid_t w = waitpid(c->spawned, &st, WNOHANG);
			if (w == c->spawned)
				break;
			if (now_ns() > deadline) {
				if (c->pid > 0)
					kill(c->pid, SIGKILL);
				kill(c->spawned, SIGKILL);
				waitpid(c->spawned, &st, 0);
				break;
			}
			usleep(2000);
		}
		c->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		close(c->fd);
		unlink(c->fifo);
	}
	if (!ok)
		return 1;

	for (size_t k = 0; k < ni; k++) {
		struct init *c = &in[k];
		qsort(c->lat, c->nlat, sizeof(int64_t), cmp_i64);
		double sum = 0;
		for (size_t i = 0; i < c->nlat; i++)
			sum += (double)c->lat[i];
		printf("%s\t%ld\t%ld\t%ld\t%.1f\t%lld\t%lld\t%lld\t%ld\t%zu\t%.0f\t%lld\t%lld\t%lld\t%lld\t%.0f\t%zu\t%d\n",
		       c->label, c->hwm, c->rss, c->hwm_after, idle, c->sched1 - c->sched0, c->vcs1 - c->vcs0,
		       c->ivcs1 - c->ivcs0, nsig, c->lost, median(c->lat, c->nlat),
		       (long long)pct(c->lat, c->nlat, 90), (long long)pct(c->lat, c->nlat, 99),
		       (long long)pct(c->lat, c->nlat, 99.9), (long long)(c->nlat ? c->lat[c->nlat - 1] : 0),
		       c->nlat ? sum / (double)c->nlat : 0.0, c->over100, c->exit_status);
	}
	return 0;
}
