/* crash shim: an LD_PRELOAD library that numbers volinit's durability-relevant
 * calls (creates, data writes, fsync/fdatasync/syncfs, renames, unlinks,
 * mkdirs, links, hook spawns) and stops volinit at the Nth one, so that the
 * harness (tests/crash/run.sh) can cut the power at exactly that point.
 *
 * Environment (all removed from volinit's environment at load, so hooks and
 * PROGRAM run without the shim):
 *   CRASH_AT=N          the point to stop at (unset or 0: only count)
 *   CRASH_WHEN=before|after   stop before the Nth call or after it returned
 *   CRASH_NOTIFY_FD=FD  where "stop N PID" is written before the stop
 *   CRASH_NO_STOP=1     notify at N but keep running (random-time trials)
 *   CRASH_LOG=FILE      one line per point: "N call what" (count mode reads it)
 *
 * Only volinit's own process counts: spawn.c starts children with
 * clone(CLONE_VM), which share this library's memory until they exec, so
 * every wrapper checks getpid() against the pid seen at load. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static pid_t volinit_pid;
static long crash_at;
static bool crash_after;
static bool no_stop;
static int notify_fd = -1;
static int log_fd = -1;
static long points;

#define REAL(name) \
	static __typeof__(name) *real_##name; \
	if (!real_##name) \
		real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

__attribute__((constructor)) static void shim_load(void)
{
	volinit_pid = getpid();
	const char *s;
	if ((s = getenv("CRASH_AT")))
		crash_at = strtol(s, NULL, 10);
	if ((s = getenv("CRASH_WHEN")))
		crash_after = strcmp(s, "after") == 0;
	no_stop = getenv("CRASH_NO_STOP") != NULL;
	if ((s = getenv("CRASH_NOTIFY_FD"))) {
		notify_fd = (int)strtol(s, NULL, 10);
		/* Hooks must not hold the harness's pipe open. */
		fcntl(notify_fd, F_SETFD, FD_CLOEXEC);
	}
	if ((s = getenv("CRASH_LOG")))
		log_fd = (int)syscall(SYS_openat, AT_FDCWD, s,
				      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	unsetenv("LD_PRELOAD");
	unsetenv("CRASH_AT");
	unsetenv("CRASH_WHEN");
	unsetenv("CRASH_NO_STOP");
	unsetenv("CRASH_NOTIFY_FD");
	unsetenv("CRASH_LOG");
}

static bool mine(void)
{
	return getpid() == volinit_pid;
}

/* Writes with the raw syscall: these writes are the shim's, not points. */
static void say(int fd, const char *text)
{
	if (fd >= 0)
		(void)!syscall(SYS_write, fd, text, strlen(text));
}

static void fd_name(int fd, char *buf, size_t size)
{
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = syscall(SYS_readlinkat, AT_FDCWD, link, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
}

static void at_name(int dirfd, const char *name, char *buf, size_t size)
{
	char dir[512] = ".";
	if (dirfd != AT_FDCWD)
		fd_name(dirfd, dir, sizeof(dir));
	snprintf(buf, size, "%s/%s", dir, name ? name : "");
}

/* Numbers one call; returns its number when it is the crash point, else 0. */
static long point(const char *call, const char *what)
{
	long n = ++points;
	if (log_fd >= 0) {
		char line[1200];
		snprintf(line, sizeof(line), "%ld %s %s\n", n, call, what ? what : "");
		say(log_fd, line);
	}
	return n == crash_at ? n : 0;
}

static void crash(long n)
{
	int saved = errno;
	char line[64];
	snprintf(line, sizeof(line), "stop %ld %d\n", n, (int)getpid());
	say(notify_fd, line);
	if (!no_stop)
		raise(SIGSTOP);
	errno = saved;
}

/* The body every wrapper shares: number the call, stop before or after. */
#define AROUND(call, what, expr)                       \
	long n_ = point(call, what);                   \
	if (n_ && !crash_after)                        \
		crash(n_);                             \
	__typeof__(expr) r_ = (expr);                  \
	if (n_ && crash_after)                         \
		crash(n_);                             \
	return r_

static bool is_regular(int fd)
{
	struct stat st;
	/* stdout and stderr are the harness's logs, never the volume. */
	return fd > 2 && syscall(SYS_fstat, fd, &st) == 0 && S_ISREG(st.st_mode);
}

static bool creates(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

int open(const char *path, int flags, ...)
{
	REAL(open);
	va_list ap;
	va_start(ap, flags);
	mode_t mode = creates(flags) ? va_arg(ap, mode_t) : 0;
	va_end(ap);
	if (!mine() || !creates(flags))
		return real_open(path, flags, mode);
	AROUND("create", path, real_open(path, flags, mode));
}

int open64(const char *path, int flags, ...) __attribute__((alias("open")));

int openat(int dirfd, const char *path, int flags, ...)
{
	REAL(openat);
	va_list ap;
	va_start(ap, flags);
	mode_t mode = creates(flags) ? va_arg(ap, mode_t) : 0;
	va_end(ap);
	if (!mine() || !creates(flags))
		return real_openat(dirfd, path, flags, mode);
	char what[1024];
	at_name(dirfd, path, what, sizeof(what));
	AROUND("create", what, real_openat(dirfd, path, flags, mode));
}

int openat64(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat")));

int creat(const char *path, mode_t mode)
{
	REAL(creat);
	if (!mine())
		return real_creat(path, mode);
	AROUND("create", path, real_creat(path, mode));
}

ssize_t write(int fd, const void *buf, size_t len)
{
	REAL(write);
	if (!mine() || !is_regular(fd))
		return real_write(fd, buf, len);
	char what[512];
	fd_name(fd, what, sizeof(what));
	AROUND("write", what, real_write(fd, buf, len));
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	REAL(pwrite);
	if (!mine() || !is_regular(fd))
		return real_pwrite(fd, buf, len, off);
	char what[512];
	fd_name(fd, what, sizeof(what));
	AROUND("write", what, real_pwrite(fd, buf, len, off));
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off) __attribute__((alias("pwrite")));

ssize_t copy_file_range(int in, off_t *inoff, int out, off_t *outoff, size_t len, unsigned flags)
{
	REAL(copy_file_range);
	if (!mine())
		return real_copy_file_range(in, inoff, out, outoff, len, flags);
	char what[512];
	fd_name(out, what, sizeof(what));
	AROUND("write", what, real_copy_file_range(in, inoff, out, outoff, len, flags));
}

int ftruncate(int fd, off_t len)
{
	REAL(ftruncate);
	if (!mine() || !is_regular(fd))
		return real_ftruncate(fd, len);
	char what[512];
	fd_name(fd, what, sizeof(what));
	AROUND("truncate", what, real_ftruncate(fd, len));
}

/* FICLONE is the snapshot's write on a filesystem with reflinks (XFS). */
int ioctl(int fd, unsigned long request, ...)
{
	REAL(ioctl);
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (!mine() || request != FICLONE)
		return real_ioctl(fd, request, arg);
	char what[512];
	fd_name(fd, what, sizeof(what));
	AROUND("clone-file", what, real_ioctl(fd, request, arg));
}

int fsync(int fd)
{
	REAL(fsync);
	if (!mine())
		return real_fsync(fd);
	char what[512];
	fd_name(fd, what, sizeof(what));
	AROUND("fsync", what, real_fsync(fd));
}

int fdatasync(int fd)
{
	REAL(fdatasync);
	if (!mine())
		return real_fdatasync(fd);
	char what[512];
	fd_name(fd, what, sizeof(what));
	AROUND("fdatasync", what, real_fdatasync(fd));
}

int syncfs(int fd)
{
	REAL(syncfs);
	if (!mine())
		return real_syncfs(fd);
	char what[512];
	fd_name(fd, what, sizeof(what));
	AROUND("syncfs", what, real_syncfs(fd));
}

void sync(void)
{
	REAL(sync);
	if (!mine()) {
		real_sync();
		return;
	}
	long n = point("sync", "");
	if (n && !crash_after)
		crash(n);
	real_sync();
	if (n && crash_after)
		crash(n);
}

int rename(const char *from, const char *to)
{
	REAL(rename);
	if (!mine())
		return real_rename(from, to);
	AROUND("rename", to, real_rename(from, to));
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	REAL(renameat);
	if (!mine())
		return real_renameat(fromfd, from, tofd, to);
	char what[1024];
	at_name(tofd, to, what, sizeof(what));
	AROUND("rename", what, real_renameat(fromfd, from, tofd, to));
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
	REAL(renameat2);
	if (!mine())
		return real_renameat2(fromfd, from, tofd, to, flags);
	char what[1024];
	at_name(tofd, to, what, sizeof(what));
	AROUND("rename", what, real_renameat2(fromfd, from, tofd, to, flags));
}

int unlink(const char *path)
{
	REAL(unlink);
	if (!mine())
		return real_unlink(path);
	AROUND("unlink", path, real_unlink(path));
}

int rmdir(const char *path)
{
	REAL(rmdir);
	if (!mine())
		return real_rmdir(path);
	AROUND("unlink", path, real_rmdir(path));
}

int unlinkat(int dirfd, const char *path, int flags)
{
	REAL(unlinkat);
	if (!mine())
		return real_unlinkat(dirfd, path, flags);
	char what[1024];
	at_name(dirfd, path, what, sizeof(what));
	AROUND("unlink", what, real_unlinkat(dirfd, path, flags));
}

int mkdir(const char *path, mode_t mode)
{
	REAL(mkdir);
	if (!mine())
		return real_mkdir(path, mode);
	AROUND("mkdir", path, real_mkdir(path, mode));
}

int mkdirat(int dirfd, const char *path, mode_t mode)
{
	REAL(mkdirat);
	if (!mine())
		return real_mkdirat(dirfd, path, mode);
	char what[1024];
	at_name(dirfd, path, what, sizeof(what));
	AROUND("mkdir", what, real_mkdirat(dirfd, path, mode));
}

int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
	REAL(mknodat);
	if (!mine())
		return real_mknodat(dirfd, path, mode, dev);
	char what[1024];
	at_name(dirfd, path, what, sizeof(what));
	AROUND("mknod", what, real_mknodat(dirfd, path, mode, dev));
}

int link(const char *from, const char *to)
{
	REAL(link);
	if (!mine())
		return real_link(from, to);
	AROUND("link", to, real_link(from, to));
}

int linkat(int fromfd, const char *from, int tofd, const char *to, int flags)
{
	REAL(linkat);
	if (!mine())
		return real_linkat(fromfd, from, tofd, to, flags);
	char what[1024];
	at_name(tofd, to, what, sizeof(what));
	AROUND("link", what, real_linkat(fromfd, from, tofd, to, flags));
}

int symlink(const char *target, const char *path)
{
	REAL(symlink);
	if (!mine())
		return real_symlink(target, path);
	AROUND("symlink", path, real_symlink(target, path));
}

int symlinkat(const char *target, int dirfd, const char *path)
{
	REAL(symlinkat);
	if (!mine())
		return real_symlinkat(target, dirfd, path);
	char what[1024];
	at_name(dirfd, path, what, sizeof(what));
	AROUND("symlink", what, real_symlinkat(target, dirfd, path));
}

/* Hook, verify and PROGRAM starts (spawn.c); "after" returns once the child
 * has exec'd, so the hook runs on while volinit is stopped. */
int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	REAL(clone);
	va_list ap;
	va_start(ap, arg);
	pid_t *ptid = va_arg(ap, pid_t *);
	void *tls = va_arg(ap, void *);
	pid_t *ctid = va_arg(ap, pid_t *);
	va_end(ap);
	if (!mine())
		return real_clone(fn, stack, flags, arg, ptid, tls, ctid);
	AROUND("spawn", "clone", real_clone(fn, stack, flags, arg, ptid, tls, ctid));
}

pid_t fork(void)
{
	REAL(fork);
	if (!mine())
		return real_fork();
	long n = point("spawn", "fork");
	if (n && !crash_after)
		crash(n);
	pid_t r = real_fork();
	/* The child is not volinit: only the parent stops after. */
	if (n && crash_after && r != 0)
		crash(n);
	return r;
}
