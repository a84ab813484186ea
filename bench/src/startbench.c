/*
 * startbench: wall time of whole commands, interleaved.
 *
 *   startbench [-r ROUNDS] [-w WARMUP] [-o RAW.tsv] [-e STDERR.log] \
 *       LABEL CMD [ARG...] ';;' LABEL CMD [ARG...] ';;' ...
 *
 * Each round runs every command once (A B C, then B C A, then C A B, ...:
 * interleaved, and the starting command rotates so that none always runs
 * right after the same neighbour).  A sample is CLOCK_MONOTONIC from just
 * before posix_spawn to just after waitpid returns.  stdin and stdout are
 * /dev/null; stderr goes to /dev/null or the -e file.  A run that exits
 * non-zero is counted as failed and kept out of the statistics.
 *
 * stdout: one TSV line per command:
 *   label  ok  failed  median_ns  p10_ns  p90_ns  p99_ns  mean_ns  min_ns  max_ns
 */
#include "common.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct cmd {
	const char *label;
	char **argv;
	int64_t *ns;
	size_t n, failed;
	int last_status;
};

int main(int argc, char **argv)
{
	long rounds = 30, warmup = 3;
	const char *raw = NULL, *errlog = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "+r:w:o:e:")) != -1) {
		switch (opt) {
		case 'r': rounds = strtol(optarg, NULL, 10); break;
		case 'w': warmup = strtol(optarg, NULL, 10); break;
		case 'o': raw = optarg; break;
		case 'e': errlog = optarg; break;
		default:
			fprintf(stderr, "usage: startbench [-r N] [-w N] [-o raw] [-e log] LABEL CMD... ';;' ...\n");
			return 64;
		}
	}
	if (rounds < 1 || warmup < 0) {
		fprintf(stderr, "startbench: bad -r/-w\n");
		return 64;
	}

	size_t ncmd = 0;
	struct cmd *cmds = xcalloc((size_t)argc, sizeof *cmds);
	for (int i = optind; i < argc;) {
		if (i + 1 >= argc || !strcmp(argv[i + 1], ";;")) {
			fprintf(stderr, "startbench: label '%s' has no command\n", argv[i]);
			return 64;
		}
		struct cmd *c = &cmds[ncmd++];
		c->label = argv[i];
		c->argv = &argv[i + 1];
		int j = i + 1;
		while (j < argc && strcmp(argv[j], ";;"))
			j++;
		argv[j < argc ? j : argc] = NULL; /* argv[argc] is NULL already */
		c->ns = xcalloc((size_t)rounds, sizeof(int64_t));
		i = j + 1;
	}
	if (ncmd == 0) {
		fprintf(stderr, "startbench: no command\n");
		return 64;
	}

	FILE *rawf = NULL;
	if (raw && !(rawf = fopen(raw, "w")))
		die(raw);
	if (rawf)
		fprintf(rawf, "round\tlabel\tns\tstatus\n");

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (errlog)
		posix_spawn_file_actions_addopen(&fa, 2, errlog, O_WRONLY | O_APPEND | O_CREAT, 0644);
	else
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);

	for (long r = -warmup; r < rounds; r++) {
		for (size_t k = 0; k < ncmd; k++) {
			size_t idx = ((size_t)(r < 0 ? -r : r) + k) % ncmd;
			struct cmd *c = &cmds[idx];
			pid_t pid;
			int64_t t0 = now_ns();
			int e = posix_spawn(&pid, c->argv[0], &fa, NULL, c->argv, environ);
			if (e) {
				errno = e;
				die(c->argv[0]);
			}
			int st;
			while (waitpid(pid, &st, 0) < 0)
				if (errno != EINTR)
					die("waitpid");
			int64_t dt = now_ns() - t0;
			if (r < 0)
				continue;
			if (rawf)
				fprintf(rawf, "%ld\t%s\t%lld\t%d\n", r, c->label, (long long)dt, st);
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
				c->ns[c->n++] = dt;
			else {
				c->failed++;
				c->last_status = st;
			}
		}
	}
	if (rawf)
		fclose(rawf);

	for (size_t k = 0; k < ncmd; k++) {
		struct cmd *c = &cmds[k];
		if (c->failed)
			fprintf(stderr, "startbench: %s failed %zu of %ld runs (last wait status 0x%x)\n",
				c->label, c->failed, rounds, c->last_status);
		qsort(c->ns, c->n, sizeof(int64_t), cmp_i64);
		double sum = 0;
		for (size_t i = 0; i < c->n; i++)
			sum += (double)c->ns[i];
		printf("%s\t%zu\t%zu\t%.0f\t%lld\t%lld\t%lld\t%.0f\t%lld\t%lld\n", c->label, c->n, c->failed,
		       median(c->ns, c->n), (long long)pct(c->ns, c->n, 10), (long long)pct(c->ns, c->n, 90),
		       (long long)pct(c->ns, c->n, 99), c->n ? sum / (double)c->n : 0.0,
		       (long long)(c->n ? c->ns[0] : 0), (long long)(c->n ? c->ns[c->n - 1] : 0));
	}
	return 0;
}
