/* lock: OFD locks on PATH/.volinit/lock (see lock.h). */
#include "lock.h"
#include "holders.h"
#include "log.h"
#include "signals.h"
#include "state.h"
#include "volume.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How often a waiter tries again (a random pause in this range, so that
 * two starters that collide once do not retry in lock-step until both
 * time out), and how often it says so. Blocking in F_OFD_SETLKW is not an
 * option: signals are blocked, so nothing could cut the wait short at the
 * timeout or on SIGTERM. */
#define RETRY_MIN_MS 25
#define RETRY_SPAN_MS 50
#define REPORT_EVERY_S 5
#define FIRST_REPORT_MS 1000

/* The lock file in .volinit/ (sfd): a regular file with one link, looked
 * at before it is opened (a FIFO or device never is) and checked after.
 * why (len > 0) gets what is wrong with it. */
static int open_lock_at(int sfd, bool create, char *why, size_t len)
{
	struct stat st;
	int fd = state_openat(sfd, "lock", O_RDWR, &st);
	if (fd < 0 && errno == ENOENT && create) {
		fd = openat(sfd, "lock", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK |
			    O_NOCTTY | O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST)
			fd = state_openat(sfd, "lock", O_RDWR, &st);
		else if (fd >= 0 && fstat(fd, &st) != 0)
			st.st_nlink = 1;
	}
	/* check and status on a volume they may not write (read-only, or
	 * another user's): a shared lock needs no write access. */
	if (fd < 0 && !create && (errno == EACCES || errno == EROFS))
		fd = state_openat(sfd, "lock", O_RDONLY, &st);
	char d[96];
	if (fd < 0 && (errno == ELOOP || errno == EINVAL)) {
		int err = errno;
		snprintf(why, len, "%s/lock is %s, not a regular file", VOLUME_STATE_DIR,
			 state_describe(&st, d, sizeof(d)));
		errno = err;
		return -1;
	}
	/* Not volinit's, and not replaced when .volinit/ was taken back
	 * (state.c): another process held it. Its locks could be anyone's. */
	if (fd >= 0 && create && st.st_uid != geteuid()) {
		snprintf(why, len, "%s/lock is %s, and another process holds it: volinit cannot "
			 "replace it with its own", VOLUME_STATE_DIR, state_describe(&st, d, sizeof(d)));
		close(fd);
		errno = EPERM;
		return -1;
	}
	if (fd >= 0 && st.st_nlink != 1) {
		/* A lock shared with a file elsewhere: anyone holding that file
		 * would hold volinit off, or be held off by it. */
		snprintf(why, len, "%s/lock is %s", VOLUME_STATE_DIR,
			 state_describe(&st, d, sizeof(d)));
		close(fd);
		errno = EMLINK;
		return -1;
	}
	return fd;
}

int lock_open(int voldirfd, bool create)
{
	char why[1];
	return lock_open_why(voldirfd, create, why, 0);
}

int lock_open_why(int voldirfd, bool create, char *why, size_t len)
{
	if (len > 0)
		why[0] = '\0';
	int sfd = state_open(voldirfd, create);
	if (sfd < 0)
		return -1;
	int fd = open_lock_at(sfd, create, why, len);
	int err = errno;
	close(sfd);
	errno = err;
	return fd;
}

int lock_open_for(const struct volume_conf *v, int voldirfd)
{
	int sfd = state_prepare(v, voldirfd);
	if (sfd < 0)
		return -1; /* said, or EROFS */
	char why[256] = "";
	int fd = open_lock_at(sfd, true, why, sizeof(why));
	int err = errno;
	close(sfd);
	if (fd >= 0 || err == EROFS) {
		errno = err;
		return fd;
	}
	log_fatal(73, v->name, "volume \"%s\" (%s): cannot open %s/lock: %s", v->name, v->path,
		  VOLUME_STATE_DIR, why[0] ? why : strerror(err));
	log_hint(v->name, "the data on the volume was not changed");
	if (why[0])
		log_hint(v->name, "volinit makes .volinit/ and what is in it; this was put there by "
				  "someone else: look at it, then remove it");
	errno = EPERM;
	return -1;
}

static int set_range(int lockfd, short type, long long start, long long len)
{
	struct flock fl;
	memset(&fl, 0, sizeof(fl)); /* l_pid must be 0 */
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)start;
	fl.l_len = (off_t)len;
	return fcntl(lockfd, F_OFD_SETLK, &fl);
}

struct lock_claim lock_claim_look(int32_t app)
{
	struct lock_claim c = { .n = 1 };
	c.r[0] = (struct lock_range){ F_RDLCK, LOCK_MIGRATION_BYTE, 1 };
	if (app >= 0)
		c.r[c.n++] = (struct lock_range){ F_RDLCK, app, 1 };
	snprintf(c.what, sizeof(c.what), "the shared lock");
	return c;
}

struct lock_claim lock_claim_online(int32_t readers)
{
	struct lock_claim c = { .n = 1 };
	c.r[0] = (struct lock_range){ F_WRLCK, LOCK_MIGRATION_BYTE, 1 };
	if (readers > 0)
		c.r[c.n++] = (struct lock_range){ F_WRLCK, 0, readers };
	snprintf(c.what, sizeof(c.what), "the lock to migrate online (readers %d)", (int)readers);
	return c;
}

struct lock_claim lock_claim_all(void)
{
	struct lock_claim c = { .n = 1 };
	c.r[0] = (struct lock_range){ F_WRLCK, 0, 0 };
	snprintf(c.what, sizeof(c.what), "the exclusive lock");
	return c;
}

int lock_take(int lockfd, const struct lock_claim *c)
{
	for (int i = 0; i < c->n; i++) {
		if (set_range(lockfd, c->r[i].type, c->r[i].start, c->r[i].len) != 0) {
			int err = errno == EACCES ? EAGAIN : errno;
			lock_release(lockfd);
			errno = err;
			return -1;
		}
	}
	return 0;
}

void lock_keep(int lockfd, int32_t app, bool look)
{
	long long keep[2];
	int n = 0;
	if (app >= 0)
		keep[n++] = app;
	if (look)
		keep[n++] = LOCK_MIGRATION_BYTE; /* above every app's byte */
	for (int i = 0; i < n; i++)
		set_range(lockfd, F_RDLCK, keep[i], 1); /* ours already, or free of writers */
	long long from = 0;
	for (int i = 0; i < n; i++) {
		if (keep[i] > from)
			set_range(lockfd, F_UNLCK, from, keep[i] - from);
		from = keep[i] + 1;
	}
	set_range(lockfd, F_UNLCK, from, 0);
}

void lock_release(int lockfd)
{
	set_range(lockfd, F_UNLCK, 0, 0);
}

/* One lock of another holder's seen by F_OFD_GETLK, into out. */
static void note_lock(const struct flock *fl, struct lock_survey *out)
{
	long long start = fl->l_start, len = fl->l_len;
	long long end = len == 0 ? LLONG_MAX : start + len;
	bool shared = fl->l_type == F_RDLCK;
	if (start == 0 && len == 0) {
		/* The whole file: volinit 0.1, or a stamp or an offline
		 * migration of this one's. */
		if (shared)
			out->old_shared = true;
		else
			out->migrating = true;
		return;
	}
	if (start <= LOCK_MIGRATION_BYTE && LOCK_MIGRATION_BYTE < end) {
		if (shared)
			out->looking = true;
		else
			out->migrating = true;
	}
	if (!shared || start >= LOCK_MIGRATION_BYTE)
		return; /* [0, R) exclusive goes with the migration byte */
	for (long long e = start; e < end && e < LOCK_MIGRATION_BYTE; e++) {
		size_t i = 0;
		while (i < out->napps && out->apps[i] < e)
			i++;
		if (i < out->napps && out->apps[i] == e)
			continue;
		if (out->napps == LOCK_APPS_MAX) {
			out->more_apps = true;
			return;
		}
		memmove(&out->apps[i + 1], &out->apps[i], (out->napps - i) * sizeof(out->apps[0]));
		out->apps[i] = (int32_t)e;
		out->napps++;
	}
}

/* Every lock that conflicts with type on [lo, hi): the kernel names one,
 * and the parts on either side of it are asked again. Bounded: a survey
 * is for messages, and a volume's holders are few. */
static void survey_range(int lockfd, short type, long long lo, long long hi,
			 struct lock_survey *out, int *budget)
{
	while (lo < hi && (*budget)-- > 0) {
		struct flock fl;
		memset(&fl, 0, sizeof(fl));
		fl.l_type = type;
		fl.l_whence = SEEK_SET;
		fl.l_start = (off_t)lo;
		fl.l_len = hi == LLONG_MAX ? 0 : (off_t)(hi - lo);
		if (fcntl(lockfd, F_OFD_GETLK, &fl) != 0 || fl.l_type == F_UNLCK)
			return;
		note_lock(&fl, out);
		long long start = fl.l_start;
		long long end = fl.l_len == 0 ? LLONG_MAX : (long long)fl.l_start + fl.l_len;
		if (start > lo)
			survey_range(lockfd, type, lo, start, out, budget);
		lo = end;
	}
}

void lock_survey(int lockfd, const struct lock_claim *c, struct lock_survey *out)
{
	memset(out, 0, sizeof(*out));
	int budget = 4 * LOCK_APPS_MAX;
	if (!c) {
		survey_range(lockfd, F_WRLCK, 0, LLONG_MAX, out, &budget);
		return;
	}
	for (int i = 0; i < c->n; i++) {
		const struct lock_range *r = &c->r[i];
		/* Shared asks only what excludes a reader; exclusive, anything. */
		survey_range(lockfd, r->type == F_RDLCK ? F_RDLCK : F_WRLCK, r->start,
			     r->len == 0 ? LLONG_MAX : r->start + r->len, out, &budget);
	}
}

/* xorshift64, seeded from the pid and the clock: the jitter only has to
 * differ between processes, not be unpredictable. */
static long retry_ms(void)
{
	static uint64_t x;
	if (x == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec;
		x |= 1;
	}
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return RETRY_MIN_MS + (long)(x % (RETRY_SPAN_MS + 1));
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void lock_waiter_init(struct lock_waiter *w, const struct volume_conf *v, int voldirfd,
		      int lockfd, const struct lock_claim *c)
{
	w->v = v;
	w->voldirfd = voldirfd;
	w->lockfd = lockfd;
	w->claim = *c;
	w->start = now_ms();
	w->deadline = w->start + v->lock_timeout * 1000LL;
	w->next_report = w->start + FIRST_REPORT_MS;
}

/* Who holds what the waiter wants, as the kernel says, named from the
 * holders files. */
static void blockers(const struct lock_waiter *w, char *who, size_t len)
{
	struct lock_survey s;
	lock_survey(w->lockfd, &w->claim, &s);
	holders_tidy(w->voldirfd, w->lockfd);
	holders_describe(w->voldirfd, &s, who, len);
}

int lock_waiter_pause(struct lock_waiter *w)
{
	const struct volume_conf *v = w->v;
	char who[1024];
	long long now = now_ms();
	if (now >= w->deadline) {
		blockers(w, who, sizeof(who));
		log_fatal(75, v->name,
			  "volume \"%s\" (%s): timed out after %u s waiting for %s; held by: %s",
			  v->name, v->path, v->lock_timeout, w->claim.what, who);
		if (w->claim.r[0].type == F_RDLCK)
			log_hint(v->name, "another volinit is migrating this volume; start again "
					  "once it is done (volinit status shows it)");
		else
			log_hint(v->name, "another volinit is migrating this volume or running an app "
					  "on it that cannot run beside this migration; stop the old "
					  "containers (Kubernetes: strategy Recreate, or readers = the old "
					  "version for a rolling update), then start again");
		return 75;
	}
	if (now >= w->next_report) {
		blockers(w, who, sizeof(who));
		log_notice(v->name, "volume \"%s\": waiting for %s (%lld s of %u); held by: %s",
			   v->name, w->claim.what, (now - w->start) / 1000, v->lock_timeout, who);
		w->next_report = now + REPORT_EVERY_S * 1000LL;
	}
	/* Only a stop signal cuts the pause short; any other stays pending
	 * for PROGRAM, which gets it once it runs. */
	struct timespec pause = { 0, retry_ms() * 1000000L };
	int sig = signals_wait_stop(&pause);
	if (sig) {
		log_fatal(128 + sig, v->name,
			  "volume \"%s\": stopped by signal %d while waiting for the lock",
			  v->name, sig);
		return 128 + sig;
	}
	return 0;
}

int lock_wait(int lockfd, int voldirfd, const struct volume_conf *v, const struct lock_claim *c)
{
	struct lock_waiter w;
	lock_waiter_init(&w, v, voldirfd, lockfd, c);
	for (;;) {
		if (lock_take(lockfd, c) == 0)
			return 0;
		if (errno != EAGAIN) {
			log_fatal(73, v->name, "volume \"%s\" (%s): cannot lock: %s", v->name,
				  v->path, strerror(errno));
			return 73;
		}
		int rc = lock_waiter_pause(&w);
		if (rc)
			return rc;
	}
}
