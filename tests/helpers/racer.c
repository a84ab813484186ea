/* racer: the attacker of tests/integration/hostile.bats. An unprivileged
 * process inside a volume that swaps entries (renameat2 RENAME_EXCHANGE)
 * under volinit's feet while it snapshots, restores and clears.
 *
 *   racer [--uid UID] [--count N] [--once SECONDS [--delay MS]] DIR SPEC...
 *
 *   SPEC  NAME=symlink:TARGET   NAME swapped with NAME.racer, a symlink to TARGET
 *         NAME=fifo             NAME swapped with NAME.racer, a FIFO
 *         NAME=dir              NAME swapped with NAME.racer, an empty directory
 *   --uid UID      drop to UID (and GID UID, no groups) first: an attacker
 *                  is never root
 *   --count N      stop after N rounds (default: until SIGTERM or SIGINT)
 *   --once SECONDS each NAME is swapped once, as soon as it exists owned by
 *                  root (volinit just made it), then racer exits; gives up
 *                  after SECONDS (exit 2)
 *   --delay MS     with --once: wait MS milliseconds between seeing NAME
 *                  made and swapping it (volinit has opened it by then)
 *
 * A round swaps every SPEC once (re-making NAME.racer when volinit removed
 * it). Prints "racer: N rounds, M swaps" on stdout at exit. Errors: a
 * message on stderr, exit 99.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum kind { SYMLINK, FIFO, DIR_ };

struct spec {
	char name[256];
	char alt[300];
	enum kind kind;
	const char *target;
	int done;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "racer: %s: %s\n", what, strerror(errno));
	exit(99);
}

/* NAME.racer, the attacker's own object, made when missing. */
static void make_alt(int dir, const struct spec *s)
{
	int r;
	if (s->kind == SYMLINK)
		r = symlinkat(s->target, dir, s->alt);
	else if (s->kind == FIFO)
		r = mknodat(dir, s->alt, S_IFIFO | 0666, 0);
	else
		r = mkdirat(dir, s->alt, 0777);
	(void)r; /* EEXIST: there already; anything else: the swap says */
}

static int swap(int dir, struct spec *s)
{
	if (renameat2(dir, s->name, dir, s->alt, RENAME_EXCHANGE) == 0)
		return 1;
	if (errno == ENOENT)
		make_alt(dir, s);
	return 0;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long uid = -1, count = -1, delay = 0;
	double once = -1;
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (i + 1 >= argc) {
			fprintf(stderr, "racer: %s needs a value\n", argv[i]);
			return 99;
		}
		if (strcmp(argv[i], "--uid") == 0)
			uid = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--count") == 0)
			count = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--delay") == 0)
			delay = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--once") == 0)
			once = strtod(argv[i + 1], NULL);
		else {
			fprintf(stderr, "racer: unknown option %s\n", argv[i]);
			return 99;
		}
	}
	if (i + 2 > argc) {
		fprintf(stderr, "usage: racer [--uid UID] [--count N] [--once SECONDS [--delay MS]] "
				"DIR SPEC...\n");
		return 99;
	}
	int dir = open(argv[i++], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		die("open DIR");
	size_t n = (size_t)(argc - i);
	struct spec *specs = calloc(n, sizeof(*specs));
	if (!specs)
		die("calloc");
	for (size_t k = 0; k < n; k++, i++) {
		struct spec *s = &specs[k];
		char *eq = strchr(argv[i], '=');
		if (!eq || (size_t)(eq - argv[i]) >= sizeof(s->name)) {
			fprintf(stderr, "racer: bad SPEC %s\n", argv[i]);
			return 99;
		}
		memcpy(s->name, argv[i], (size_t)(eq - argv[i]));
		snprintf(s->alt, sizeof(s->alt), "%s.racer", s->name);
		if (strncmp(eq + 1, "symlink:", 8) == 0) {
			s->kind = SYMLINK;
			s->target = eq + 9;
		} else if (strcmp(eq + 1, "fifo") == 0) {
			s->kind = FIFO;
		} else if (strcmp(eq + 1, "dir") == 0) {
			s->kind = DIR_;
		} else {
			fprintf(stderr, "racer: bad SPEC %s\n", argv[i]);
			return 99;
		}
	}
	if (uid >= 0) {
		if (setgroups(0, NULL) != 0 || setgid((gid_t)uid) != 0 || setuid((uid_t)uid) != 0)
			die("dropping to --uid");
	}
	if (getuid() == 0 || geteuid() == 0)
		fprintf(stderr, "racer: warning: running as root: not an attacker's view\n");
	umask(0);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (size_t k = 0; k < n; k++)
		make_alt(dir, &specs[k]);

	unsigned long rounds = 0, swaps = 0;
	double end = once >= 0 ? now() + once : 0;
	int rc = 0;
	while (!stop && (count < 0 || (long)rounds < count)) {
		size_t left = 0;
		for (size_t k = 0; k < n; k++) {
			struct spec *s = &specs[k];
			if (once < 0) {
				swaps += (unsigned long)swap(dir, s);
				continue;
			}
			if (s->done)
				continue;
			left++;
			struct stat st;
			/* Made by volinit (root) just now: swap it once, now. */
			if (fstatat(dir, s->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid == 0) {
				if (delay > 0)
					nanosleep(&(struct timespec){ delay / 1000,
								      (delay % 1000) * 1000000 },
						  NULL);
				make_alt(dir, s);
				if (swap(dir, s)) {
					s->done = 1;
					swaps++;
					left--;
				}
			}
		}
		rounds++;
		if (once >= 0 && left == 0)
			break;
		if (once >= 0 && now() > end) {
			rc = 2;
			break;
		}
	}
	printf("racer: %lu rounds, %lu swaps\n", rounds, swaps);
	fflush(stdout);
	return rc;
}
