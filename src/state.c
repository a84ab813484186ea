/* state: PATH/.volinit/ (see state.h). */
#include "state.h"
#include "jbuf.h"
#include "log.h"
#include "record.h"
#include "report.h"
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

/* --- where volinit's state is --------------------------------------- */

/* Why no state directory is made or trusted by name alone: .volinit/ is
 * in the volume's root, which the app owns. As root's, 0700 and not empty,
 * it cannot be moved out of the root by the app (moving a directory to
 * another parent needs write access to it, for its "..") nor removed, only
 * renamed within the root; and the app cannot make a directory owned by
 * volinit's user. So every state directory volinit ever made on this
 * volume is in the root, whatever its name, and one found under another
 * name than .volinit is evidence: volinit then makes no second one beside
 * it (its lock would be one nobody holds), and trusts nothing in either. */

/* A state directory of volinit's: a directory owned by the user volinit
 * runs as, holding a lock file. */
static bool is_state_dir(int parent, const char *name, const struct stat *st)
{
	if (!S_ISDIR(st->st_mode) || st->st_uid != geteuid())
		return false;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat now, lock;
	bool yes = fstat(fd, &now) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino &&
		   fstatat(fd, "lock", &lock, AT_SYMLINK_NOFOLLOW) == 0;
	close(fd);
	return yes;
}

static bool same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* One pass over the root: how many state directories but except (NULL:
 * none excepted); the first names go to b, escaped. */
static int scan_root(int voldirfd, const struct stat *except, struct jbuf *b)
{
	int fd = openat(voldirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if ((e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0 ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (except && st.st_dev == except->st_dev && st.st_ino == except->st_ino)
			continue;
		if (!is_state_dir(dirfd(d), e->d_name, &st))
			continue;
		if (n++ < 3) {
			jbuf_puts(b, n > 1 ? ", \"" : "\"");
			jbuf_escape_bytes(b, (const unsigned char *)e->d_name,
					  strnlen(e->d_name, 64));
			jbuf_puts(b, "\"");
		} else if (n == 4) {
			jbuf_puts(b, ", ...");
		}
	}
	closedir(d);
	return n;
}

int state_find_elsewhere(int voldirfd, const struct stat *except, char *names, size_t len)
{
	/* A name renamed during the pass may be missed: a pass counts only
	 * when the root did not change meanwhile (its change time). */
	for (int pass = 0; pass < 8; pass++) {
		struct stat before, after;
		struct jbuf b;
		jbuf_init(&b, names, len);
		if (fstat(voldirfd, &before) != 0)
			return -1;
		int n = scan_root(voldirfd, except, &b);
		if (n < 0 || fstat(voldirfd, &after) != 0)
			return -1;
		if (same_time(before.st_ctim, after.st_ctim) &&
		    same_time(before.st_mtim, after.st_mtim))
			return n;
	}
	errno = EAGAIN;
	return -1;
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
	bool elsewhere;    /* text names volinit's state directories under other names */
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

/* How much of a file taken back is kept: a journal's last lines (as much
 * as it holds before its rotation), a holders file whole, a lock nothing. */
static size_t kept_of(const char *name)
{
	if (strcmp(name, "lock") == 0)
		return 0;
	return strncmp(name, "journal", 7) == 0 ? (size_t)1 << 20 : 4096;
}

static int write_all(int fd, const char *buf, size_t len);

/* A file taken back is replaced, never re-owned in place: a descriptor the
 * app kept open on a file it planted (a journal to append forged lines to,
 * a lock to take) must not reach volinit's state. A fresh file, volinit's
 * and 0600, gets the old one's last kept_of bytes and is renamed over it;
 * the app's descriptor is left with an unlinked file. The lock is replaced
 * only while this process holds the old one whole and exclusively, and the
 * name still leads to it: so no two volinits replace it one after the
 * other and lock different files. Returns whether it was replaced. */
static bool replace_fresh(int dirfd, const char *name)
{
	bool lock = strcmp(name, "lock") == 0;
	struct stat st, now;
	int old = state_openat(dirfd, name, lock ? O_RDWR : O_RDONLY, &st);
	if (old < 0)
		return false;
	struct flock whole = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	if (st.st_nlink != 1 ||
	    (lock && (fcntl(old, F_OFD_SETLK, &whole) != 0 ||
		      fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) != 0 ||
		      now.st_dev != st.st_dev || now.st_ino != st.st_ino))) {
		close(old);
		return false;
	}
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%.24s" VOLUME_TMP_INFIX "%ld", name, (long)getpid());
	unlinkat(dirfd, tmp, 0); /* left by a crashed volinit with our pid */
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK |
				    O_NOCTTY | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && fchown(fd, geteuid(), getegid()) == 0;
	size_t keep = kept_of(name);
	off_t off = st.st_size > (off_t)keep ? st.st_size - (off_t)keep : 0;
	char buf[8192];
	while (ok && off < st.st_size) {
		ssize_t n = pread(old, buf, sizeof(buf), off);
		if (n <= 0)
			break; /* shorter now: what was read is kept */
		ok = write_all(fd, buf, (size_t)n) == 0;
		off += n;
	}
	ok = ok && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	ok = ok && renameat(dirfd, tmp, dirfd, name) == 0;
	if (!ok)
		unlinkat(dirfd, tmp, 0);
	close(old); /* and with it the lock on the old one */
	return ok;
}

/* A file in dirfd that volinit uses, not volinit's: replaced by a fresh
 * one. Anything but a regular file with one link is left to the code that
 * uses it (a warning, or 73). */
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
	if (replace_fresh(dirfd, name))
		found(t, shown, &st);
}

/* The files in holders/ are looked at only when .volinit/ (ours is false)
 * or holders/ was not volinit's: in a directory of volinit's, mode 0700,
 * only volinit's user makes files (a start on a current volume reads no
 * directory). */
static void take_holders(struct taking *t, int sfd, bool ours)
{
	int fd = openat(sfd, HOLDERS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (ours && is_volinits(&st, 0700)) {
		close(fd);
		return;
	}
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
	/* The directory last: a take-back cut short is done again. */
	if (!is_volinits(&st, 0700) && reown(dirfd(d), 0700) == 0)
		found(t, HOLDERS "/", &st);
	closedir(d);
}

/* .volinit/ (sfd) made volinit's again: 0 (t->found says what was not),
 * or an errno value (EPERM: volinit is neither root nor its owner). */
static int take_back(int sfd, struct taking *t, bool made)
{
	struct stat st;
	if (fstat(sfd, &st) != 0)
		return errno;
	bool ours = is_volinits(&st, 0700);
	if (!ours) {
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
	take_holders(t, sfd, ours);
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

/* Whether a state directory of volinit's (but except) is in the root: t
 * names them (errno EEXIST), or says why the root could not be read. */
static bool found_elsewhere(int voldirfd, const struct stat *except, struct taking *t)
{
	char names[256];
	int n = state_find_elsewhere(voldirfd, except, names, sizeof(names));
	if (n == 0)
		return false;
	int err = errno;
	t->elsewhere = n > 0;
	if (n > 0)
		jbuf_printf(&t->found, "%s", names);
	else
		jbuf_printf(&t->found, "cannot look for it in the volume's root: %s",
			    err == EAGAIN ? "the root kept changing" : strerror(err));
	errno = n > 0 ? EEXIST : err;
	return true;
}

/* state_open, saying what it took back as a warning about volume v (may
 * be NULL); t gets why it failed. */
static int open_state(int voldirfd, bool create, const struct volume_conf *v, struct taking *t)
{
	jbuf_init(&t->found, t->text, sizeof(t->text));
	t->files = 0;
	t->elsewhere = false;
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
	struct stat st;
	if (fd < 0 && errno == ENOENT && create) {
		/* Never a second one beside one moved aside (see above). */
		if (found_elsewhere(voldirfd, NULL, t))
			return -1;
		made = mkdirat(voldirfd, VOLUME_STATE_DIR, 0700) == 0;
		if (!made && errno != EEXIST)
			return -1;
		fd = openat(voldirfd, VOLUME_STATE_DIR, flags);
		/* One moved aside between that look and the mkdir: this new
		 * one is not used (empty, without a lock: no state of volinit's). */
		if (made && fd >= 0 && fstat(fd, &st) == 0 && found_elsewhere(voldirfd, &st, t)) {
			close(fd);
			return -1;
		}
	}
	if (fd < 0 || !create)
		return fd;
	/* Not volinit's (the app's own, planted): volinit's may be elsewhere. */
	if (!made && fstat(fd, &st) == 0 && st.st_uid != geteuid() &&
	    found_elsewhere(voldirfd, NULL, t)) {
		close(fd);
		return -1;
	}
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
	if (t.elsewhere) {
		log_fatal(73, v->name, "volume \"%s\" (%s): volinit's state directory is not %s/ but "
				       "%s (renamed within the volume by another process?): volinit "
				       "trusts neither and makes no second one", v->name, v->path,
			  VOLUME_STATE_DIR, t.text);
		state_hint_moved(v);
	} else if (err == EPERM && t.found.len > 0) {
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
		report_state_denied(v, voldirfd, err);
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

int state_moved(int voldirfd, char *why, size_t len)
{
	struct stat root, at, mine;
	struct held_state *h = held_of(voldirfd, &root);
	bool named = fstatat(voldirfd, VOLUME_STATE_DIR, &at, AT_SYMLINK_NOFOLLOW) == 0;
	if (h) {
		if (fstat(h->fd, &mine) == 0 && named && at.st_dev == mine.st_dev &&
		    at.st_ino == mine.st_ino)
			return 0;
		snprintf(why, len, "volinit's state directory was renamed while volinit worked on "
			 "it (it is no longer %s/)", VOLUME_STATE_DIR);
		return 1;
	}
	if (named && S_ISDIR(at.st_mode) && at.st_uid == geteuid())
		return 0; /* the usual case: nothing read but its name */
	/* Another user's (volinit runs as root, this is status or check as
	 * the app's user): not this user's to judge, and what it cannot read
	 * is said elsewhere; no listing of a root the app may be busy in. */
	if (named && S_ISDIR(at.st_mode) && geteuid() != 0)
		return 0;
	char names[256];
	int n = state_find_elsewhere(voldirfd, NULL, names, sizeof(names));
	if (n == 0)
		return 0;
	if (n > 0)
		snprintf(why, len, "volinit's state directory is not %s/ but %s (renamed within "
			 "the volume by another process?)", VOLUME_STATE_DIR, names);
	else
		snprintf(why, len, "cannot look for volinit's state directory in the volume's "
			 "root: %s", errno == EAGAIN ? "the root kept changing" : strerror(errno));
	return 1;
}

void state_hint_moved(const struct volume_conf *v)
{
	log_hint(v->name, "the data on the volume was not changed");
	log_hint(v->name, "with no volinit running on the volume, an operator moves volinit's "
			  "state directory back (as root): mv %s/NAME %s/%s; of several, keep the "
			  "one whose journal.jsonl ends last and remove the others", v->path, v->path,
		 VOLUME_STATE_DIR);
}

int state_listed(int voldirfd, const char *name)
{
	int sfd = state_open(voldirfd, false);
	if (sfd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	int rc = volume_lists(sfd, name);
	close(sfd);
	return rc;
}
