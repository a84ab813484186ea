/*
 * syncmode DIR CHANGED: the two ways of making a hook's writes durable
 * before its version is written (SPEC.md "Power loss"), timed on DIR's file
 * system as it is at this moment (another writer may be busy on it):
 *
 *   syncfs   one syncfs(DIR): every dirty page and inode of the file system,
 *            the other writer's included.
 *   changed  a walk of DIR (statx of every entry) and an fsync of each file
 *            and directory whose ctime is at or after the hook's start, as
 *            PostgreSQL's initdb --sync-method=fsync does it file by file.
 *
 * Before each: CHANGED files of DIR (the first CHANGED in walk order) are
 * rewritten (4 KiB each), as a hook would. stdout, TSV:
 * mode  changed  entries_walked  files_fsynced  ms
 */
#include "common.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

struct walk {
	struct statx_timestamp since;
	long entries, synced, rewrite_left;
	int err;
};

static bool at_or_after(struct statx_timestamp a, struct statx_timestamp b)
{
	return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec >= b.tv_nsec);
}

/* Rewrites files (rewrite_left of them) or fsyncs those changed since. */
static void walk_dir(int dfd, struct walk *w, bool rewrite)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		w->err = errno;
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct statx sx;
		w->entries++;
		if (statx(dirfd(d), e->d_name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_CTIME, &sx))
			continue;
		if (S_ISDIR(sx.stx_mode)) {
			int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
			if (sub >= 0)
				walk_dir(sub, w, rewrite);
			continue;
		}
		if (!S_ISREG(sx.stx_mode))
			continue;
		if (rewrite) {
			if (w->rewrite_left <= 0)
				continue;
			int fd = openat(dirfd(d), e->d_name, O_WRONLY | O_TRUNC | O_NOFOLLOW);
			char buf[4096];
			memset(buf, 'h', sizeof buf);
			if (fd >= 0 && write(fd, buf, sizeof buf) == (ssize_t)sizeof buf)
				w->rewrite_left--;
			if (fd >= 0)
				close(fd);
		} else if (at_or_after(sx.stx_ctime, w->since)) {
			int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
			if (fd >= 0 && fsync(fd) == 0)
				w->synced++;
			if (fd >= 0)
				close(fd);
		}
	}
	if (!rewrite) {
		struct statx sx;
		if (statx(dirfd(d), "", AT_EMPTY_PATH, STATX_CTIME, &sx) == 0 &&
		    at_or_after(sx.stx_ctime, w->since) && fsync(dirfd(d)) == 0)
			w->synced++;
	}
	closedir(d);
}

static int open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

/* The hook: rewrites changed files; returns the time it started. */
static struct statx_timestamp hook(const char *dir, long changed)
{
	struct statx sx;
	int fd = open_dir(dir);
	/* A fresh inode's ctime is "now" as the file system sees it. */
	int t = openat(fd, ".syncmode-start", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (t < 0 || statx(t, "", AT_EMPTY_PATH, STATX_CTIME, &sx) != 0) {
		perror("start stamp");
		exit(1);
	}
	close(t);
	unlinkat(fd, ".syncmode-start", 0);
	struct walk w = { .rewrite_left = changed };
	walk_dir(fd, &w, true);
	return sx.stx_ctime;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 64;
	const char *dir = argv[1];
	long changed = strtol(argv[2], NULL, 10);
	sync(); /* neither mode pays for what came before the hook */

	hook(dir, changed);
	int fd = open_dir(dir);
	int64_t t0 = now_ns();
	int rc = syncfs(fd);
	int64_t t1 = now_ns();
	close(fd);
	printf("syncfs\t%ld\t-\t-\t%.1f\n", changed, (double)(t1 - t0) / 1e6);
	if (rc != 0)
		perror("syncfs");

	sync();
	struct walk w = { .since = hook(dir, changed) };
	fd = open_dir(dir);
	t0 = now_ns();
	walk_dir(fd, &w, false);
	t1 = now_ns();
	printf("changed\t%ld\t%ld\t%ld\t%.1f\n", changed, w.entries, w.synced,
	       (double)(t1 - t0) / 1e6);
	return w.err ? 1 : 0;
}
