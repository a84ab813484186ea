/* session: see session.h. */
#include "session.h"
#include "apply.h"
#include "lock.h"
#include "log.h"
#include "report.h"
#include "state.h"
#include "version.h"
#include "volume.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
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
	struct lock_claim c = lock_claim_look(-1);
	return lock_wait(s->lockfd, s->dirfd, s->v, &c);
}

/* status: never waits, a migration in progress is shown, not waited for. */
static int peek(struct session *s)
{
	s->lockfd = lock_open(s->dirfd, false);
	if (s->lockfd < 0)
		return 0;
	lock_survey(s->lockfd, NULL, &s->others);
	struct lock_claim c = lock_claim_look(-1);
	if (lock_take(s->lockfd, &c) != 0) {
		close(s->lockfd);
		s->lockfd = -1;
	}
	return 0;
}

/* A start, or migrate: the lock made where it is missing, held shared.
 * On a read-only mount (a reporting replica, a sidecar) the volume can
 * still be migrated through another, read-write mount, so the shared lock
 * is held through a read-only descriptor (OFD read locks need no more). */
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
	struct lock_claim c = lock_claim_look(s->app);
	return lock_wait(s->lockfd, s->dirfd, s->v, &c);
}

/* Before anything is written, under the lock the act holds: no other state
 * directory of volinit's in the root (state.c: an app holding the lock of
 * one moved aside would not hold this act off), then what a crashed
 * volinit left half-written removed: its temporary version file (counted
 * as data by nothing, but junk in the app's directory) and those in
 * .volinit/. Returns 0 or 73 after its FATAL line. */
static int prepare_act(struct session *s, int32_t readers)
{
	const struct volume_conf *v = s->v;
	struct stat in_use;
	char names[256], who[512];
	/* Holding the lock for the act, no holder it excludes can hold it: one
	 * of this host that is alive means that this mount's locks do not
	 * reach its (SPEC.md "Shared volumes"), unless one node mounts it. */
	if (!v->single_node && holders_alive_here(s->dirfd, readers, who, sizeof(who)) > 0) {
		log_fatal(73, v->name, "volume \"%s\" (%s): it would be written, but a holder of its "
				       "lock on this host is running and its lock is not seen through "
				       "this mount (the filesystem's locks do not reach it): %s", v->name,
			  v->path, who);
		log_hint(v->name, "the data on the volume was not changed");
		log_hint(v->name, "stop that holder first; if only this node mounts the volume, say "
				  "so in its section of the config: single_node = true");
		return 73;
	}
	int sfd = state_open(s->dirfd, false);
	int n = sfd >= 0 && fstat(sfd, &in_use) == 0
			? state_find_elsewhere(s->dirfd, &in_use, names, sizeof(names)) : 0;
	if (n != 0) {
		if (n > 0)
			log_fatal(73, v->name, "volume \"%s\" (%s): beside %s/, another state "
					       "directory of volinit's: %s: volinit does not act on "
					       "either", v->name, v->path, VOLUME_STATE_DIR, names);
		else
			log_fatal(73, v->name, "volume \"%s\" (%s): cannot look for other state "
					       "directories of volinit's in its root: %s", v->name,
				  v->path, errno == EAGAIN ? "the root kept changing" : strerror(errno));
		state_hint_moved(v);
		close(sfd);
		return 73;
	}
	version_remove_tmp(s->dirfd, v->version_file);
	if (sfd >= 0) {
		volume_remove_tmp(sfd, NULL);
		close(sfd);
	}
	return 0;
}

/* stamp: the whole file. No one else holds the lock then: every holders
 * file left is stale; ours names us to whoever waits meanwhile. */
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
	struct lock_claim c = lock_claim_all();
	int rc = lock_wait(s->lockfd, s->dirfd, s->v, &c);
	if (rc == 0)
		rc = prepare_act(s, -1);
	if (rc == 0) {
		holders_clear(s->dirfd, -1);
		s->holder.expects = s->v->expected;
		s->holder.migrating = true;
		holders_add(s->dirfd, &s->holder);
	}
	return rc;
}

/* Whether s->d is one that writes on the volume. */
static bool acts(const struct decision *d)
{
	return d->action != ACT_RUN && d->action != ACT_REFUSE;
}

int session_open(struct session *s, const struct volume_conf *v, enum session_mode mode,
		 enum guard_purpose purpose)
{
	*s = (struct session){ .v = v, .mode = mode, .purpose = purpose, .dirfd = -1,
			       .lockfd = -1, .holder = HOLDER_NONE, .migrated_from = -1,
			       .app = mode == SESSION_HOLD ? v->expected : -1 };
	if (!reachable(s)) {
		/* Missing, unreadable or not mounted: no lock is made on it (an
		 * unmounted volume must not get a .volinit/ in the container's
		 * own layer). */
		session_look(s);
		if (mode == SESSION_HOLD || mode == SESSION_MIGRATE || mode == SESSION_EXCLUSIVE) {
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
	case SESSION_MIGRATE:
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

struct lock_claim session_claim(const struct session *s)
{
	if (s->d.action == ACT_MIGRATE && config_online(s->v))
		return lock_claim_online(config_readers(s->v));
	return lock_claim_all();
}

void session_blockers(const struct session *s, char *buf, size_t len)
{
	snprintf(buf, len, "none");
	if (s->lockfd < 0)
		return;
	struct lock_claim c = session_claim(s);
	struct lock_survey others;
	lock_survey(s->lockfd, &c, &others);
	if (others.migrating || others.napps || others.old_shared || others.looking)
		holders_describe(s->dirfd, &others, buf, len);
}

/* Field by field: a memcmp would compare the ranges' padding too. */
static bool same_claim(const struct lock_claim *a, const struct lock_claim *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++)
		if (a->r[i].type != b->r[i].type || a->r[i].start != b->r[i].start ||
		    a->r[i].len != b->r[i].len)
			return false;
	return true;
}

/* Acts under what claim took: every holders file of someone who cannot
 * hold the lock beside it is stale, and ours names the migrator to those
 * who wait. Then only the app's byte (a start), or nothing. */
static int act(struct session *s, const struct privs *hooks, const struct lock_claim *claim)
{
	int rc = 0;
	int32_t readers = claim->r[0].len == 0 ? -1 : config_readers(s->v);
	if (s->lockfd >= 0 && acts(&s->d) && (rc = prepare_act(s, readers)) == 0) {
		holders_clear(s->dirfd, readers);
		s->holder.expects = s->v->expected;
		s->holder.migrating = true;
		holders_add(s->dirfd, &s->holder);
	}
	if (rc == 0)
		rc = apply_decision(s->v, s->dirfd, &s->obs, &s->d, s->purpose, hooks, false);
	if (rc == 0 && s->d.action == ACT_MIGRATE)
		s->migrated_from = s->d.from;
	if (s->lockfd >= 0) /* a downgrade never waits */
		lock_keep(s->lockfd, s->app, s->mode == SESSION_HOLD);
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
	struct lock_claim want = session_claim(s);
	if (s->lockfd < 0) {
		session_look(s); /* no lock to take: a write fails with 73 */
		return act(s, hooks, &want);
	}
	struct lock_claim look = lock_claim_look(s->app);
	struct lock_waiter w;
	lock_waiter_init(&w, v, s->dirfd, s->lockfd, &want);
	for (;;) {
		/* Never queued behind an app's shared lock, which would wait
		 * for ever: one try (which holds nothing when it fails), then
		 * wait, and look again under the shared lock. */
		if (lock_take(s->lockfd, &want) == 0) {
			session_look(s);
			struct lock_claim now = session_claim(s);
			if (!acts(&s->d) || same_claim(&now, &want))
				return act(s, hooks, &want);
			want = w.claim = now; /* it changed meanwhile (dirty, say) */
			continue;
		}
		int rc = lock_waiter_pause(&w);
		if (rc)
			return rc;
		if (lock_take(s->lockfd, &look) != 0)
			continue; /* someone is migrating */
		session_look(s);
		if (s->d.action == ACT_RUN)
			return 0; /* another instance brought it up to date */
		if (s->d.action == ACT_REFUSE)
			return apply_decision(v, s->dirfd, &s->obs, &s->d, s->purpose, hooks, false);
		want = w.claim = session_claim(s);
	}
}

void session_hold(struct session *s)
{
	if (s->lockfd >= 0)
		lock_keep(s->lockfd, s->app, false);
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
