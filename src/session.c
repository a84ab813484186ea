/* session: see session.h. */
#include "session.h"
#include "apply.h"
#include "lock.h"
#include "log.h"
#include "report.h"
#include "volume.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void session_look(struct session *s)
{
	guard_observe(s->v, &s->obs, &s->dirfd);
	s->d = guard_decide(s->v, &s->obs, s->purpose);
}

/* The volume's directory is there (and mounted, with require_mount). */
static bool reachable(struct session *s)
{
	s->dirfd = volume_open(s->v->path);
	return s->dirfd >= 0 && (!s->v->require_mount || volume_is_mountpoint_at(s->dirfd) == 1);
}

/* .volinit/lock that is there but is not volinit's (why), or cannot be
 * opened (err): 73. */
static int lock_refused(const struct volume_conf *v, const char *why, int err)
{
	log_fatal(73, v->name, "volume \"%s\" (%s): cannot open %s/lock: %s", v->name, v->path,
		  VOLUME_STATE_DIR, why[0] ? why : strerror(err));
	log_hint(v->name, "the data on the volume was not changed");
	return 73;
}

/* The lock where it exists, taken shared (waiting for a migration). */
static int shared_if_any(struct session *s)
{
	char why[256] = "";
	s->lockfd = lock_open_why(s->dirfd, false, why, sizeof(why));
	if (s->lockfd < 0)
		return why[0] ? lock_refused(s->v, why, 0) : 0; /* none yet: nothing to wait for */
	return lock_wait(s->lockfd, s->dirfd, s->v, LOCK_SHARED);
}

/* status: never waits, a migration in progress is shown, not waited for. */
static int peek(struct session *s)
{
	s->lockfd = lock_open(s->dirfd, false);
	if (s->lockfd < 0)
		return 0;
	s->conflict = lock_conflict(s->lockfd);
	if (lock_try(s->lockfd, LOCK_SHARED) != 0) {
		close(s->lockfd);
		s->lockfd = -1;
	}
	return 0;
}

/* A start: the lock made where it is missing, held shared. On a read-only
 * mount (a reporting replica, a sidecar) the volume can still be migrated
 * through another, read-write mount, so the shared lock is held through a
 * read-only descriptor (OFD read locks need no more). */
static int hold(struct session *s)
{
	s->lockfd = lock_open_for(s->v, s->dirfd);
	if (s->lockfd < 0 && errno == EROFS) {
		char why[256] = "";
		s->lockfd = lock_open_why(s->dirfd, false, why, sizeof(why));
		if (s->lockfd < 0 && errno == ENOENT) {
			/* No volinit ever started on it read-write: there is no
			 * lock to hold. A write it needs fails with 73 on its own. */
			log_notice(s->v->name, "volume \"%s\" (%s): read-only and without "
					       ".volinit/lock: going on without a lock",
				   s->v->name, s->v->path);
			return 0;
		}
		if (s->lockfd < 0)
			return lock_refused(s->v, why, errno);
		s->lock_ro = true;
	}
	if (s->lockfd < 0)
		return 73; /* lock_open_for said why */
	return lock_wait(s->lockfd, s->dirfd, s->v, LOCK_SHARED);
}

/* migrate, stamp: exclusive. No one else holds the lock then: every
 * holders file left is stale; ours names us to whoever waits meanwhile. */
static int exclusive(struct session *s)
{
	s->lockfd = lock_open_for(s->v, s->dirfd);
	if (s->lockfd < 0 && errno == EROFS) {
		log_fatal(73, s->v->name, "volume \"%s\" (%s): cannot create .volinit/lock: %s",
			  s->v->name, s->v->path, strerror(EROFS));
		return 73;
	}
	if (s->lockfd < 0)
		return 73; /* lock_open_for said why */
	int rc = lock_wait(s->lockfd, s->dirfd, s->v, LOCK_EXCLUSIVE);
	if (rc == 0) {
		holders_clear(s->dirfd);
		holders_add(s->dirfd, &s->holder);
	}
	return rc;
}

int session_open(struct session *s, const struct volume_conf *v, enum session_mode mode,
		 enum guard_purpose purpose)
{
	*s = (struct session){ .v = v, .mode = mode, .purpose = purpose, .dirfd = -1,
			       .lockfd = -1, .holder = HOLDER_NONE, .migrated_from = -1 };
	if (!reachable(s)) {
		/* Missing, unreadable or not mounted: no lock is made on it (an
		 * unmounted volume must not get a .volinit/ in the container's
		 * own layer). */
		session_look(s);
		if (mode == SESSION_HOLD || mode == SESSION_EXCLUSIVE) {
			report_refusal(v, &s->obs, &s->d);
			return s->d.code;
		}
		return 0;
	}
	int rc = 0;
	switch (mode) {
	case SESSION_NONE:
		break;
	case SESSION_PEEK:
		rc = peek(s);
		break;
	case SESSION_SHARED:
		rc = shared_if_any(s);
		break;
	case SESSION_HOLD:
		rc = hold(s);
		break;
	case SESSION_EXCLUSIVE:
		rc = exclusive(s);
		break;
	}
	/* Also when the lock could not be had: check --json shows it. */
	session_look(s);
	return rc;
}

/* Acts under the exclusive lock, which no one else holds; back to shared. */
static int act(struct session *s, const struct privs *hooks, bool excl)
{
	if (excl && s->d.action != ACT_RUN) {
		/* Every holders file left is stale; ours names the migrator to
		 * those who wait. */
		holders_clear(s->dirfd);
		holders_add(s->dirfd, &s->holder);
	}
	int rc = apply_decision(s->v, s->dirfd, &s->obs, &s->d, s->purpose, hooks, false);
	if (rc == 0 && s->d.action == ACT_MIGRATE)
		s->migrated_from = s->d.from;
	if (excl)
		lock_try(s->lockfd, LOCK_SHARED); /* a downgrade never waits */
	return rc;
}

int session_settle(struct session *s, const struct privs *hooks)
{
	const struct volume_conf *v = s->v;
	if (s->lock_ro) {
		/* A lock opened read-only can be held only shared: never write
		 * without the exclusive lock. */
		log_fatal(73, v->name, "volume \"%s\" (%s): it must be written, but .volinit/lock "
				       "opens only read-only here (a read-only mount, or a lock that "
				       "is not ours)", v->name, v->path);
		log_hint(v->name, "the data on the volume was not changed; start on a read-write "
				  "mount of the volume (or run volinit migrate there) first");
		return 73;
	}
	struct lock_waiter w;
	lock_waiter_init(&w, v, s->dirfd, LOCK_EXCLUSIVE);
	bool excl = s->lockfd >= 0;
	for (;;) {
		/* Never queued for the exclusive lock behind an app's shared
		 * lock, which would wait for ever: one try, then wait shared. */
		if (!excl || lock_try(s->lockfd, LOCK_EXCLUSIVE) == 0) {
			session_look(s);
			return act(s, hooks, excl);
		}
		lock_release(s->lockfd);
		int rc = lock_waiter_pause(&w);
		if (rc)
			return rc;
		if (lock_try(s->lockfd, LOCK_SHARED) != 0)
			continue; /* someone is migrating */
		session_look(s);
		if (s->d.action == ACT_RUN)
			return 0; /* another instance brought it up to date */
		if (s->d.action == ACT_REFUSE)
			return apply_decision(v, s->dirfd, &s->obs, &s->d, s->purpose, hooks, false);
	}
}

void session_close(struct session *s)
{
	holders_remove(&s->holder);
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->lockfd = s->dirfd = -1;
}
