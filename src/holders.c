/* holders: PATH/.volinit/holders/ (see holders.h). */
#include "holders.h"
#include "fsinfo.h"
#include "jbuf.h"
#include "self.h"
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOLDERS "holders"

/* .volinit/holders/, never through a symlink; to write in it (create), it
 * must be volinit's own directory. */
static int open_holders_fd(int voldirfd, bool create)
{
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return -1;
	int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	int fd = openat(sfd, HOLDERS, flags);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(sfd, HOLDERS, 0700) == 0 || errno == EEXIST)
			fd = openat(sfd, HOLDERS, flags);
	}
	int err = errno;
	struct stat st;
	if (create && fd < 0 && (err == ELOOP || err == ENOTDIR) &&
	    fstatat(sfd, HOLDERS, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		char d[96];
		state_warn_once(NULL, voldirfd, &st, HOLDERS " is %s, not a directory: left alone; "
				"going on without a holders file", state_describe(&st, d, sizeof(d)));
	} else if (create && fd >= 0 && fstat(fd, &st) == 0 && st.st_uid != geteuid()) {
		state_warn_once(NULL, voldirfd, &st, HOLDERS "/ is owned by uid %u, not by "
				"volinit's user (uid %u): going on without a holders file",
				(unsigned)st.st_uid, (unsigned)geteuid());
		close(fd);
		fd = -1;
		err = EPERM;
	}
	close(sfd);
	errno = err;
	return fd;
}

/* host-pid, as a plain name in the directory (a host name holding a slash
 * or starting with a dot would make it another path or a hidden file). */
static void holder_name(char *name, size_t len)
{
	snprintf(name, len, "%.64s-%ld", self_host(), self_pid());
	for (char *p = name; *p; p++)
		if (*p == '/' || (p == name && *p == '.'))
			*p = '_';
}

int holders_add(int voldirfd, struct holder *h)
{
	if (h->dirfd < 0) {
		h->dirfd = open_holders_fd(voldirfd, true);
		if (h->dirfd < 0)
			return errno;
		holder_name(h->name, sizeof(h->name));
	}
	char text[640], since[40], tmp[128];
	struct jbuf t;
	jbuf_init(&t, since, sizeof(since));
	jbuf_time(&t);
	/* Bounded fields: the line always fits (a long VOLINIT_IMAGE is cut),
	 * and it stays one line whatever the image holds. */
	snprintf(tmp, sizeof(tmp), ".%s.tmp", h->name);
	unlinkat(h->dirfd, tmp, 0); /* left by a crashed volinit with our name */
	/* Kept open with a read lock while we live (the kernel lets it go when
	 * we die); written through a descriptor of its own, closed at once, so
	 * that a network or FUSE client sends it on (MooseFS holds back what
	 * an open descriptor wrote). */
	int fd = openat(h->dirfd, tmp,
			O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
			0600);
	if (fd < 0)
		return errno;
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	bool locked = fcntl(fd, F_OFD_SETLK, &fl) == 0;
	int n = snprintf(text, sizeof(text), "host=%.64s pid=%ld since=%s expects=%d role=%s%s "
			 "image=%.400s", self_host(), self_pid(), since, (int)h->expects,
			 h->migrating ? "migration" : "app", locked ? " lock=1" : "", self_image());
	if (n < 0 || (size_t)n >= sizeof(text) - 1)
		n = (int)sizeof(text) - 2;
	for (int i = 0; i < n; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			text[i] = '?';
	text[n++] = '\n';

	/* Written fresh and renamed over the name: a planted hard link or
	 * FIFO is never opened. The name is replaced only when it is a file
	 * of volinit's (ours, or a stale one of an earlier run). */
	struct stat st;
	if (fstatat(h->dirfd, h->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !state_is_ours(&st)) {
		char d[96];
		state_warn_once(NULL, voldirfd, &st, HOLDERS "/%s is %s: left alone; going on "
				"without a holders file", h->name, state_describe(&st, d, sizeof(d)));
		close(fd);
		unlinkat(h->dirfd, tmp, 0);
		return EEXIST;
	}
	int wfd = openat(h->dirfd, tmp, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	int err = wfd < 0 ? errno : write(wfd, text, (size_t)n) == n ? 0 : EIO;
	if (wfd >= 0 && close(wfd) != 0 && !err)
		err = errno;
	if (!err && fstat(fd, &st) != 0)
		err = errno;
	if (!err && renameat(h->dirfd, tmp, h->dirfd, h->name) != 0)
		err = errno;
	if (err) {
		close(fd);
		unlinkat(h->dirfd, tmp, 0);
		return err;
	}
	if (h->fd >= 0)
		close(h->fd); /* the file it replaced */
	h->fd = fd;
	h->dev = st.st_dev;
	h->ino = st.st_ino;
	return 0;
}

void holders_remove(struct holder *h)
{
	if (h->dirfd < 0)
		return;
	/* Only the file we wrote: the name may be something else by now. */
	struct stat st;
	if (h->ino && fstatat(h->dirfd, h->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == h->dev && st.st_ino == h->ino)
		unlinkat(h->dirfd, h->name, 0);
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	close(h->dirfd);
	h->dirfd = -1;
	h->ino = 0;
}

static DIR *open_holders(int voldirfd)
{
	int fd = open_holders_fd(voldirfd, false);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

/* A file's line, its expected version (-1: none said, a file of volinit
 * 0.1) and whether it is a migrator's. Returns false when the file
 * cannot be read (not a regular file with one link, empty), or when it is
 * of a volinit that died (it says lock=1 and no one holds a lock on it):
 * *gone then says so. */
/* Whether a holders file's own lock can be asked of the kernel here: on a
 * local filesystem. Through a network or FUSE client the answer may not
 * cover another node's lock (MooseFS says unlocked for a holders file
 * another client locks), so there every file is taken as its holder's
 * until the lock file's survey says otherwise. Asked once per device. */
static bool local_locks(int fd)
{
	static dev_t dev;
	static bool known, local;
	struct stat st;
	if (fstat(fd, &st) != 0)
		return false;
	if (!known || st.st_dev != dev) {
		struct fsinfo fs;
		fsinfo_of(fd, &fs);
		dev = st.st_dev;
		local = fs.locks == FS_LOCKS_LOCAL;
		known = true;
	}
	return local;
}

static bool read_holder(int dfd, const char *name, char *text, size_t len, int32_t *expects,
			bool *migrating, bool *gone)
{
	*gone = false;
	struct stat st;
	int fd = state_openat(dfd, name, O_RDONLY, &st);
	if (fd < 0)
		return false;
	if (st.st_nlink != 1) { /* a link to a file elsewhere: never read, never removed */
		close(fd);
		return false;
	}
	ssize_t n = read(fd, text, len - 1);
	/* Its holder's read lock, asked for as a write lock would meet it. */
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	bool unlocked = local_locks(fd) && fcntl(fd, F_OFD_GETLK, &fl) == 0 &&
			fl.l_type == F_UNLCK;
	close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	text[strcspn(text, "\n")] = '\0';
	/* The fields volinit writes before image=, which may hold anything. */
	char head[256];
	snprintf(head, sizeof(head), "%s", text);
	char *img = strstr(head, " image=");
	if (img)
		*img = '\0';
	char *e = strstr(head, " expects=");
	*expects = -1;
	if (e) {
		char *end;
		long x = strtol(e + 9, &end, 10);
		if (end > e + 9 && (*end == ' ' || *end == '\0') && x >= 0 && x <= VERSION_MAX)
			*expects = (int32_t)x;
	}
	*migrating = strstr(head, " role=migration") != NULL;
	*gone = unlocked && strstr(head, " lock=1") != NULL;
	/* Not shown: the line reads as it did before it was there. */
	char *l = strstr(text, " lock=1 image=");
	if (l && l + 7 == strstr(text, " image="))
		memmove(l, l + 7, strlen(l + 7) + 1);
	return !*gone;
}

/* Whether the entry name of holders/ (d) is a file no one can hold the
 * lock for beside a caller holding it exclusively (readers < 0: the whole
 * file; else migrating online, readers being the oldest version that may
 * run beside it); text gets what it says, when it could be read. Anything
 * but a regular file with one link is left alone, with a warning. */
static bool cleared(DIR *d, int voldirfd, const char *name, int32_t readers, char *text,
		    size_t len)
{
	text[0] = '\0';
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	struct stat st;
	if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return false;
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		char d2[96];
		state_warn_once(NULL, voldirfd, &st, HOLDERS "/%.200s is %s: left alone", name,
				state_describe(&st, d2, sizeof(d2)));
		return false;
	}
	int32_t expects = -1;
	bool migrating = false, gone;
	/* A file of a volinit that died (gone) is cleared too, never read. */
	if (name[0] != '.' && !read_holder(dirfd(d), name, text, len, &expects, &migrating, &gone))
		text[0] = '\0';
	/* An app that may run on beside an online migration. */
	return !(readers >= 0 && text[0] && !migrating && expects >= readers);
}

void holders_clear(int voldirfd, int32_t readers)
{
	DIR *d = open_holders(voldirfd);
	if (!d)
		return;
	struct dirent *e;
	char text[256];
	while ((e = readdir(d)) != NULL)
		if (cleared(d, voldirfd, e->d_name, readers, text, sizeof(text)))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

/* When the process pid started, in seconds since the epoch, or -1: its
 * start time in ticks after boot (self_proc_stat), and the boot's time. */
static long long started_at(long pid)
{
	pid_t ppid;
	unsigned long long ticks;
	if (!self_proc_stat((pid_t)pid, &ppid, &ticks))
		return -1;
	char st[4096];
	int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, st, sizeof(st) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	st[n] = '\0';
	char *bt = strstr(st, "\nbtime ");
	long hz = sysconf(_SC_CLK_TCK);
	return bt && hz > 0 ? strtoll(bt + 7, NULL, 10) + (long long)(ticks / (unsigned long)hz) : -1;
}

/* Whether the process pid is a volinit (its command's name): a pid from a
 * holders file written in another PID namespace (a container sharing the
 * host name) names some other process here. */
static bool is_volinit(long pid)
{
	char path[64], comm[32];
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, comm, sizeof(comm) - 1);
	if (fd >= 0)
		close(fd);
	return n >= 7 && strncmp(comm, "volinit", 7) == 0;
}

/* Whether a holders file's text names a volinit of this host, not us,
 * that is alive and was there when the file was written (not a later
 * process given the pid of a holder killed hard). */
static bool alive_here(const char *text)
{
	size_t n = strlen(self_host());
	if (strncmp(text, "host=", 5) != 0 || strncmp(text + 5, self_host(), n) != 0 ||
	    text[5 + n] != ' ')
		return false;
	const char *p = strstr(text, " pid="), *since = strstr(text, " since=");
	long pid = p ? strtol(p + 5, NULL, 10) : 0;
	long long at, started;
	if (pid <= 0 || pid == self_pid() || !since || !jbuf_time_parse(since + 7, &at))
		return false;
	started = started_at(pid);
	return started >= 0 && started <= at + 2 && /* the tick and the clock's slack */
	       is_volinit(pid);
}

int holders_alive_here(int voldirfd, int32_t readers, char *who, size_t len)
{
	struct jbuf b;
	jbuf_init(&b, who, len);
	DIR *d = open_holders(voldirfd);
	if (!d)
		return 0;
	int found = 0;
	struct dirent *e;
	char text[256];
	while ((e = readdir(d)) != NULL) {
		if (!cleared(d, voldirfd, e->d_name, readers, text, sizeof(text)) ||
		    !alive_here(text))
			continue;
		jbuf_puts(&b, found++ ? ", " : "");
		jbuf_escape_bytes(&b, (const unsigned char *)text, strlen(text));
	}
	closedir(d);
	return found;
}

static bool holds_app(const struct lock_survey *s, int32_t version)
{
	if (s->more_apps || s->old_shared)
		return true; /* not every version is known */
	for (size_t i = 0; i < s->napps; i++)
		if (s->apps[i] == version)
			return true;
	return false;
}

void holders_prune(int voldirfd, const struct lock_survey *others)
{
	DIR *d = open_holders(voldirfd);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue; /* ., .., a temporary file */
		char text[256];
		int32_t expects;
		bool migrating, gone;
		if (!read_holder(dirfd(d), e->d_name, text, sizeof(text), &expects, &migrating,
				 &gone)) {
			if (gone) /* its volinit died */
				unlinkat(dirfd(d), e->d_name, 0);
			continue; /* else not a file of volinit's: left alone */
		}
		/* Only files this volinit wrote (they say what they expect);
		 * others are left as they are, to be taken back or shown. */
		if (expects < 0)
			continue;
		bool held = migrating ? others->migrating : holds_app(others, expects);
		if (!held)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

void holders_tidy(int voldirfd, int lockfd)
{
	if (lockfd < 0)
		return;
	struct lock_survey all;
	lock_survey(lockfd, NULL, &all);
	holders_prune(voldirfd, &all);
}

/* "; " between parts. */
static void part(struct jbuf *b, int *count, const char *text)
{
	jbuf_puts(b, (*count)++ ? "; " : "");
	jbuf_puts(b, text);
}

/* The files that match (a migrator's; else an app's expecting expects, -1
 * for volinit 0.1, -3 for any version; expects -2: any file), escaped
 * after label; "(no holders file)" when none does. */
/* Whether a holders file's text names another host than this one. */
static bool elsewhere(const char *text)
{
	size_t n = strlen(self_host());
	return strncmp(text, "host=", 5) != 0 || strncmp(text + 5, self_host(), n) != 0 ||
	       text[5 + n] != ' ';
}

static void files_of(DIR *d, struct jbuf *b, int *count, const char *label, int32_t expects,
		     bool migrating, bool *other_host)
{
	part(b, count, label);
	int found = 0;
	if (d) {
		rewinddir(d);
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue; /* ., .., a temporary file */
			char text[256];
			int32_t x;
			bool m, gone;
			if (!read_holder(dirfd(d), e->d_name, text, sizeof(text), &x, &m, &gone))
				continue; /* not volinit's, or of a volinit that died */
			bool match = expects == -2 || (migrating ? m : expects == -3 ? !m && x >= 0
								      : !m && x == expects);
			if (!match)
				continue;
			jbuf_puts(b, found++ ? ", " : " ");
			*other_host |= elsewhere(text);
			/* Escaped: the files are the app's to write as well. */
			jbuf_escape_bytes(b, (const unsigned char *)text, strlen(text));
		}
	}
	if (!found)
		jbuf_puts(b, " (no holders file)");
}

void holders_describe(int voldirfd, const struct lock_survey *s, char *buf, size_t len)
{
	struct jbuf b;
	jbuf_init(&b, buf, len);
	DIR *d = open_holders(voldirfd);
	int count = 0;
	bool other = false;
	if (!s) {
		files_of(d, &b, &count, "holders:", -2, false, &other);
	} else {
		char label[64];
		if (s->migrating)
			files_of(d, &b, &count, "a migration:", -1, true, &other);
		for (size_t i = 0; i < s->napps; i++) {
			snprintf(label, sizeof(label), "an app expecting %d:", (int)s->apps[i]);
			files_of(d, &b, &count, label, s->apps[i], false, &other);
		}
		if (s->more_apps)
			part(&b, &count, "more apps");
		if (s->old_shared) {
			files_of(d, &b, &count, "an app of volinit 0.1:", -1, false, &other);
			/* Its lock on the whole file hides every app's byte from
			 * the kernel's answers: name the files of apps too. */
			files_of(d, &b, &count, "perhaps also, behind it, apps:", -3, false,
				 &other);
		}
		if (s->looking)
			part(&b, &count, "another volinit looking at the volume (a start or check)");
		if (count == 0)
			part(&b, &count, "no one any more");
	}
	/* A node that died keeps its lock until the filesystem's server ends
	 * its session (NFSv4 lease, MooseFS session): say so where it shows. */
	struct fsinfo fs;
	if (other && (fsinfo_of(voldirfd, &fs), fs.locks == FS_LOCKS_SHARED))
		part(&b, &count, "a holder on another host holds its lock until it ends or, if its "
				 "node died, until the filesystem ends that node's session "
				 "(README: Shared volumes)");
	if (d)
		closedir(d);
}
