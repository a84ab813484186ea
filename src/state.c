/* state: PATH/.volinit/ (see state.h). */
#include "state.h"
#include "jbuf.h"
#include "log.h"
#include "record.h"
#include "volume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DIRTY "dirty"
#define HOLDERS "holders"

/* The files volinit itself writes or locks directly in .volinit/. Not
 * snapshot/: its contents keep the volume's owners and modes. */
static const char *const own_files[] = { "lock", "journal.jsonl", "journal.jsonl.1", DIRTY,
					 "readers" };

/* --- opening what the app may have planted ---------------------------- */

int state_openat(int dirfd, const char *name, int flags, struct stat *st)
{
	/* Look first: opening a FIFO could block, a device could do
	 * anything; the look is checked again on the descriptor below. */
	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) != 0)
		return -1;
	if (!S_ISREG(st->st_mode)) {
		errno = S_ISLNK(st->st_mode) ? ELOOP : EINVAL;
		return -1;
	}
	int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat now;
	if (fstat(fd, &now) != 0 || !S_ISREG(now.st_mode) || now.st_dev != st->st_dev ||
	    now.st_ino != st->st_ino) {
		/* Swapped between the look and the open. */
		if (fstat(fd, &now) == 0)
			*st = now;
		close(fd);
		errno = EINVAL;
		return -1;
	}
	*st = now;
	return fd;
}

bool state_is_ours(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_nlink == 1 && st->st_uid == geteuid();
}

const char *state_describe(const struct stat *st, char *buf, size_t len)
{
	if (!S_ISREG(st->st_mode))
		snprintf(buf, len, "%s", volume_kind_name(st->st_mode));
	else if (st->st_nlink != 1)
		snprintf(buf, len, "a regular file with %lu links (hard-linked)",
			 (unsigned long)st->st_nlink);
	else
		snprintf(buf, len, "owned by uid %u, not by volinit's user (uid %u)",
			 (unsigned)st->st_uid, (unsigned)geteuid());
	return buf;
}

/* The volume's path, for a message that has no volume name at hand. */
static const char *where(int voldirfd, char *buf, size_t len)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", voldirfd);
	ssize_t n = readlink(proc, buf, len - 1);
	if (n <= 0)
		return "the volume";
	buf[n] = '\0';
	return buf;
}

void state_warn_once(const char *volume, int voldirfd, const struct stat *st, const char *fmt,
		     ...)
{
	/* Each entry once: the journal is written several times a start. */
	struct entry {
		dev_t dev;
		ino_t ino;
	};
	static struct entry seen[32];
	static size_t nseen;
	for (size_t i = 0; i < nseen; i++)
		if (seen[i].dev == st->st_dev && seen[i].ino == st->st_ino)
			return;
	if (nseen < sizeof(seen) / sizeof(seen[0]))
		seen[nseen++] = (struct entry){ st->st_dev, st->st_ino };
	char msg[768], path[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn(volume, "%s/%s/%s", where(voldirfd, path, sizeof(path)), VOLUME_STATE_DIR, msg);
}

/* --- taking .volinit/ back ------------------------------------------- */

static bool is_volinits(const struct stat *st, mode_t mode)
{
	return st->st_uid == geteuid() && st->st_gid == getegid() &&
	       (st->st_mode & 07777) == mode;
}

/* Owner first: root's chown keeps a directory's setgid bit, the mode
 * then drops it. */
static int reown(int fd, mode_t mode)
{
	if (fchown(fd, geteuid(), getegid()) != 0 || fchmod(fd, mode) != 0)
		return errno;
	return 0;
}

struct taking {
	struct jbuf found; /* what was not volinit's */
	char text[512];
	int files;         /* files in it taken back */
};

static void found(struct taking *t, const char *name, const struct stat *st)
{
	if (t->files++ == 0)
		jbuf_puts(&t->found, t->found.len > 0 ? "; in it: " : "in it: ");
	else
		jbuf_puts(&t->found, ", ");
	if (t->files > 4) {
		if (t->files == 5)
			jbuf_puts(&t->found, "...");
		return;
	}
	jbuf_printf(&t->found, "%s (owner %u:%u, mode %04o)", name, (unsigned)st->st_uid,
		    (unsigned)st->st_gid, (unsigned)(st->st_mode & 07777));
}

/* A file in dirfd that volinit uses: its owner and mode set through its
 * descriptor. Anything but a regular file with one link is left to the
 * code that uses it (a warning, or 73). */
static void take_file(struct taking *t, int dirfd, const char *name, const char *shown)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1 || is_volinits(&st, 0600))
		return;
	/* A dirty marker of another user's is the app's (it can replace all
	 * of .volinit/): never made volinit's, so that it is refused, never
	 * trusted to restore a snapshot/ of the app's making. */
	if (strcmp(name, DIRTY) == 0 && st.st_uid != geteuid())
		return;
	/* Nor a window of another user's: it would let older images start
	 * on data they may not read (window.h). */
	if (strcmp(name, "readers") == 0 && st.st_uid != geteuid())
		return;
	struct stat was = st;
	int fd = state_openat(dirfd, name, O_RDONLY, &st);
	if (fd < 0)
		return;
	if (st.st_nlink == 1 && reown(fd, 0600) == 0)
		found(t, shown, &was);
	close(fd);
}

static void take_holders(struct taking *t, int sfd)
{
	int fd = openat(sfd, HOLDERS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (!is_volinits(&st, 0700) && reown(fd, 0700) == 0)
		found(t, HOLDERS "/", &st);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char shown[300];
		snprintf(shown, sizeof(shown), HOLDERS "/%.200s", e->d_name);
		take_file(t, dirfd(d), e->d_name, shown);
	}
	closedir(d);
}

/* .volinit/ (sfd) made volinit's again: 0 (t->found says what was not),
 * or an errno value (EPERM: volinit is neither root nor its owner). */
static int take_back(int sfd, struct taking *t, bool made)
{
	struct stat st;
	if (fstat(sfd, &st) != 0)
		return errno;
	if (!is_volinits(&st, 0700)) {
		if (geteuid() != 0 && st.st_uid != geteuid()) {
			jbuf_printf(&t->found, "owned by uid %u, mode %04o, not by volinit's user "
					       "(uid %u), which is not root", (unsigned)st.st_uid,
				    (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
			return EPERM;
		}
		int err = reown(sfd, 0700);
		if (err) {
			/* Root too may not (an NFS export that squashes root). */
			jbuf_printf(&t->found, "owned by %u:%u, mode %04o, and making it %u:%u, "
					       "0700 failed: %s", (unsigned)st.st_uid,
				    (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777),
				    (unsigned)geteuid(), (unsigned)getegid(), strerror(err));
			return err == EROFS ? EROFS : EPERM;
		}
		/* A directory just made takes the group and setgid bit of a
		 * setgid volume (fsGroup): set right, nothing to say. */
		if (!made)
			jbuf_printf(&t->found, "owner %u:%u, mode %04o%s", (unsigned)st.st_uid,
				    (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777),
				    st.st_uid == geteuid() && st.st_gid != getegid()
				    ? " (as Kubernetes' fsGroup leaves it)" : "");
	}
	for (size_t i = 0; i < sizeof(own_files) / sizeof(own_files[0]); i++)
		take_file(t, sfd, own_files[i], own_files[i]);
	take_holders(t, sfd);
	return 0;
}

/* The state directory this run made, checked or took back, per volume
 * (by the volume root's device and inode): every later open gets that one
 * again, whatever name it has by then. The app owns the volume's root and
 * can rename .volinit/ and put a directory of its own in its place; a walk
 * of the volume then leaves out the state it writes to, and a restore
 * reads the snapshot it took, never the app's. */
/* More volumes than this are reached by name, as before. */
#define STATE_HELD_MAX 32

struct held_state {
	dev_t dev;
	ino_t ino;
	int fd;
};

static struct held_state held[STATE_HELD_MAX];
static size_t nheld;

/* The held state of the volume at voldirfd, still below it (renamed at
 * most); else NULL, the entry forgotten. */
static struct held_state *held_of(int voldirfd, struct stat *root)
{
	if (fstat(voldirfd, root) != 0)
		return NULL;
	for (size_t i = 0; i < nheld; i++) {
		struct held_state *h = &held[i];
		if (h->dev != root->st_dev || h->ino != root->st_ino)
			continue;
		struct stat self, up;
		if (fstat(h->fd, &self) == 0 && self.st_nlink > 0 &&
		    fstatat(h->fd, "..", &up, 0) == 0 && up.st_dev == root->st_dev &&
		    up.st_ino == root->st_ino)
			return h;
		close(h->fd);
		*h = held[--nheld];
		return NULL;
	}
	return NULL;
}

static void hold_state(const struct stat *root, int fd)
{
	int d = nheld < STATE_HELD_MAX ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
	if (d >= 0)
		held[nheld++] = (struct held_state){ root->st_dev, root->st_ino, d };
}

/* state_open, saying what it took back as a warning about volume v (may
 * be NULL); t gets why it failed. */
static int open_state(int voldirfd, bool create, const struct volume_conf *v, struct taking *t)
{
	jbuf_init(&t->found, t->text, sizeof(t->text));
	t->files = 0;
	struct stat root;
	struct held_state *h = held_of(voldirfd, &root);
	if (h)
		return fcntl(h->fd, F_DUPFD_CLOEXEC, 3);
	/* O_NOFOLLOW: a .volinit planted as a symlink must not lead volinit
	 * to read or write outside the volume; O_DIRECTORY: nothing else is
	 * ever opened. */
	int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	bool made = false;
	int fd = openat(voldirfd, VOLUME_STATE_DIR, flags);
	if (fd < 0 && errno == ENOENT && create) {
		made = mkdirat(voldirfd, VOLUME_STATE_DIR, 0700) == 0;
		if (!made && errno != EEXIST)
			return -1;
		fd = openat(voldirfd, VOLUME_STATE_DIR, flags);
	}
	if (fd < 0 || !create)
		return fd;
	int err = take_back(fd, t, made);
	if (err) {
		close(fd);
		errno = err;
		return -1;
	}
	hold_state(&root, fd);
	if (t->found.len > 0) {
		char path[512], who[1100];
		if (v)
			snprintf(who, sizeof(who), "volume \"%s\" (%s)", v->name, v->path);
		else
			snprintf(who, sizeof(who), "%s", where(voldirfd, path, sizeof(path)));
		log_warn(v ? v->name : NULL,
			 "%s: %s/ was not volinit's: %s; taken back (owner %u:%u, mode 0700, files "
			 "0600)", who, VOLUME_STATE_DIR, t->text, (unsigned)geteuid(),
			 (unsigned)getegid());
	}
	return fd;
}

int state_open(int voldirfd, bool create)
{
	struct taking t;
	return open_state(voldirfd, create, NULL, &t);
}

int state_prepare(const struct volume_conf *v, int voldirfd)
{
	struct taking t;
	int fd = open_state(voldirfd, true, v, &t);
	if (fd >= 0 || errno == EROFS)
		return fd;
	int err = errno;
	if (err == EPERM && t.found.len > 0) {
		log_fatal(73, v->name, "volume \"%s\" (%s): %s/ is %s: volinit cannot take it back",
			  v->name, v->path, VOLUME_STATE_DIR, t.text);
		log_hint(v->name, "the data on the volume was not changed");
		log_hint(v->name, ".volinit/ belongs to the user volinit runs as (uid %u): give it "
				  "to that user (chown -R), or remove %s/%s and volinit makes it again",
			 (unsigned)geteuid(), v->path, VOLUME_STATE_DIR);
	} else {
		log_fatal(73, v->name, "volume \"%s\" (%s): cannot open %s/: %s%s", v->name, v->path,
			  VOLUME_STATE_DIR, strerror(err),
			  err == ELOOP || err == ENOTDIR ? " (not a directory volinit made: a planted "
							   "symlink or file?)" : "");
		log_hint(v->name, "the data on the volume was not changed");
	}
	errno = EPERM;
	return -1;
}

/* --- the dirty marker ------------------------------------------------- */

int state_dirty_load(int voldirfd, struct dirty_record *r, char *why, size_t len)
{
	record_parse_dirty("", 0, r); /* unreadable until read */
	why[0] = '\0';
	/* A .volinit that is absent or no directory holds no marker; a
	 * writer refuses it when it opens the lock. */
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return 0;
	struct stat st;
	int fd = state_openat(sfd, DIRTY, O_RDONLY, &st);
	int err = errno;
	close(sfd);
	if (fd < 0 && err == ENOENT)
		return 0;
	char d[96];
	if (fd < 0 && (err == ELOOP || err == EINVAL)) {
		snprintf(why, len, "%s/" DIRTY " is %s, not a regular file", VOLUME_STATE_DIR,
			 state_describe(&st, d, sizeof(d)));
		errno = EINVAL;
		return -1;
	}
	if (fd < 0) {
		snprintf(why, len, "%s/" DIRTY ": %s", VOLUME_STATE_DIR, strerror(err));
		errno = err;
		return -1;
	}
	if (st.st_nlink != 1) {
		close(fd);
		snprintf(why, len, "%s/" DIRTY " is %s", VOLUME_STATE_DIR,
			 state_describe(&st, d, sizeof(d)));
		errno = EMLINK;
		return -1;
	}
	/* Not volinit's: written by the app, which could name its own
	 * snapshot/ in it. Refused, never restored from. */
	if (st.st_uid != geteuid()) {
		close(fd);
		snprintf(why, len, "%s/" DIRTY " is %s: not a marker volinit wrote",
			 VOLUME_STATE_DIR, state_describe(&st, d, sizeof(d)));
		errno = EPERM;
		return -1;
	}
	static char text[RECORD_MAX + 1];
	size_t n = 0;
	while (n < sizeof(text)) {
		ssize_t got = read(fd, text + n, sizeof(text) - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	record_parse_dirty(text, n, r); /* longer than RECORD_MAX: unreadable */
	return 1;
}

int state_dirty_read(int voldirfd, char *detail, size_t len)
{
	static struct dirty_record r;
	return state_dirty_read_record(voldirfd, &r, detail, len);
}

int state_dirty_read_record(int voldirfd, struct dirty_record *r, char *detail, size_t len)
{
	int rc = state_dirty_load(voldirfd, r, detail, len);
	if (rc != 1)
		return rc;
	struct jbuf b;
	jbuf_init(&b, detail, len);
	/* Bounded strings, so that the object fits a log line's detail. */
	record_dirty_json(&b, r, len > 200 ? (len - 160) / 5 : 16);
	if (b.truncated) {
		jbuf_init(&b, detail, len);
		jbuf_puts(&b, "{\"unreadable\":true}");
	}
	return 1;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int state_dirty_write(int voldirfd, const char *json)
{
	int sfd = state_open(voldirfd, true);
	if (sfd < 0)
		return errno;
	/* A fresh file renamed over the name: whatever was planted there (a
	 * hard link, a FIFO) is never opened, only replaced. */
	char tmp[64];
	snprintf(tmp, sizeof(tmp), DIRTY VOLUME_TMP_INFIX "%ld", (long)getpid());
	unlinkat(sfd, tmp, 0); /* left by a crashed volinit with our pid */
	int err = 0;
	int fd = openat(sfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK |
				 O_NOCTTY | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = errno;
		close(sfd);
		return err;
	}
	err = write_all(fd, json, strlen(json));
	if (!err && fsync(fd) != 0)
		err = errno;
	if (close(fd) != 0 && !err)
		err = errno;
	if (!err && renameat(sfd, tmp, sfd, DIRTY) != 0)
		err = errno;
	if (err)
		unlinkat(sfd, tmp, 0);
	if (!err && fsync(sfd) != 0)
		err = errno;
	close(sfd);
	return err;
}

int state_dirty_clear(int voldirfd)
{
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return errno == ENOENT ? 0 : errno;
	int err = 0;
	if (unlinkat(sfd, DIRTY, 0) != 0 && errno != ENOENT)
		err = errno;
	if (!err && fsync(sfd) != 0)
		err = errno;
	close(sfd);
	return err;
}
