/* lock: OFD locks on PATH/.volinit/lock (see lock.h). */
#include "lock.h"
#include "holders.h"
#include "log.h"
#include "signals.h"
#include "state.h"
#include "volume.h"

#include <errno.h>
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

static struct flock whole(short type)
{
	struct flock fl;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	return fl; /* l_start = l_len = 0: the whole file; l_pid must be 0 */
}

int lock_try(int lockfd, enum lock_mode mode)
{
	struct flock fl = whole(mode == LOCK_EXCLUSIVE ? F_WRLCK : F_RDLCK);
	if (fcntl(lockfd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EACCES)
		errno = EAGAIN;
	return -1;
}

void lock_release(int lockfd)
{
	struct flock fl = whole(F_UNLCK);
	fcntl(lockfd, F_OFD_SETLK, &fl);
}

const char *lock_conflict(int lockfd)
{
	struct flock fl = whole(F_WRLCK);
	if (fcntl(lockfd, F_OFD_GETLK, &fl) != 0 || fl.l_type == F_UNLCK)
		return NULL;
	return fl.l_type == F_WRLCK ? "exclusive" : "shared";
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
		      enum lock_mode mode)
{
	w->v = v;
	w->voldirfd = voldirfd;
	w->want = mode == LOCK_EXCLUSIVE ? "exclusive" : "shared";
	w->start = now_ms();
	w->deadline = w->start + v->lock_timeout * 1000LL;
	w->next_report = w->start + FIRST_REPORT_MS;
}

int lock_waiter_pause(struct lock_waiter *w)
{
	const struct volume_conf *v = w->v;
	char who[512];
	long long now = now_ms();
	if (now >= w->deadline) {
		holders_describe(w->voldirfd, who, sizeof(who));
		log_fatal(75, v->name,
			  "volume \"%s\" (%s): timed out after %u s waiting for the %s lock; "
			  "held by: %s", v->name, v->path, v->lock_timeout, w->want, who);
		log_hint(v->name, "another volinit is migrating this volume or running an app "
				  "on it; stop the old containers (Kubernetes: strategy Recreate), "
				  "then start again");
		return 75;
	}
	if (now >= w->next_report) {
		holders_describe(w->voldirfd, who, sizeof(who));
		log_notice(v->name, "volume \"%s\": waiting for the %s lock (%lld s of %u); "
				    "held by: %s", v->name, w->want, (now - w->start) / 1000,
			   v->lock_timeout, who);
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

int lock_wait(int lockfd, int voldirfd, const struct volume_conf *v, enum lock_mode mode)
{
	struct lock_waiter w;
	lock_waiter_init(&w, v, voldirfd, mode);
	for (;;) {
		if (lock_try(lockfd, mode) == 0)
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
