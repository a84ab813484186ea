/*
 * fsops DIR [N]: what the file-system operations on volinit's start path
 * cost on DIR's file system at this moment (median and p90 of N, microseconds),
 * so that the start-up figures can be read against them.  Works in DIR/fsops.tmp/
 * and removes it.  stdout, TSV: op  median_us  p90_us
 */
#include "common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define OPS 6
static const char *names[OPS] = {
	"create+write+close (a holders file)", "unlink", "open+fstat+append+close (a journal line)",
	"open+fstat+read+close (a version file)", "open+OFD read lock+close (the lock)", "mkdir (EEXIST)",
};

int main(int argc, char **argv)
{
	if (argc < 2)
		return 64;
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 200;
	if (n < 1)
		return 64;
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/fsops.tmp", argv[1]);
	mkdir(dir, 0700);
	int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		die(dir);
	int v = openat(d, "version", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (v < 0 || write(v, "1\n", 2) != 2)
		die("version");
	close(v);
	int64_t *t[OPS];
	for (int k = 0; k < OPS; k++)
		t[k] = xcalloc((size_t)n, sizeof(int64_t));
	static const char line[] = "{\"time\":\"2026-01-01T00:00:00.000Z\",\"host\":\"h\",\"pid\":1,\"event\":\"start\"}\n";
	char buf[128];
	for (long i = 0; i < n; i++) {
		int64_t a = now_ns();
		int f = openat(d, "holder", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (f < 0 || write(f, "host=h pid=1\n", 13) != 13)
			die("holder");
		close(f);
		int64_t b = now_ns();
		unlinkat(d, "holder", 0);
		int64_t c = now_ns();
		f = openat(d, "journal", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		struct stat st;
		if (f < 0 || fstat(f, &st) || write(f, line, sizeof line - 1) != (ssize_t)(sizeof line - 1))
			die("journal");
		close(f);
		int64_t e = now_ns();
		f = openat(d, "version", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (f < 0 || fstat(f, &st) || read(f, buf, sizeof buf) < 0)
			die("version");
		close(f);
		int64_t g = now_ns();
		f = openat(d, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
		if (f < 0 || fcntl(f, F_OFD_SETLK, &fl))
			die("lock");
		close(f);
		int64_t h = now_ns();
		mkdirat(d, ".", 0700);
		int64_t j = now_ns();
		t[0][i] = b - a, t[1][i] = c - b, t[2][i] = e - c, t[3][i] = g - e, t[4][i] = h - g, t[5][i] = j - h;
		usleep(2000); /* like separate starts, not a tight loop */
	}
	unlinkat(d, "journal", 0);
	unlinkat(d, "version", 0);
	unlinkat(d, "lock", 0);
	close(d);
	rmdir(dir);
	for (int k = 0; k < OPS; k++) {
		qsort(t[k], (size_t)n, sizeof(int64_t), cmp_i64);
		printf("%s\t%.1f\t%.1f\n", names[k], median(t[k], (size_t)n) / 1e3, (double)pct(t[k], (size_t)n, 90) / 1e3);
	}
	return 0;
}
