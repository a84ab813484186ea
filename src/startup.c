/* startup: the guard phase of a start (see startup.h). First every volume
 * is looked at under a shared lock and every refusal reported; only when
 * none refuses is anything written. */
#include "startup.h"
#include "apply.h"
#include "guard.h"
#include "holders.h"
#include "journal.h"
#include "lock.h"
#include "log.h"
#include "migrate.h"
#include "volume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Takes the exclusive lock to act, or finds under a shared lock that
 * another instance already did it. Never queues for the exclusive lock
 * behind an app's shared lock: that would wait forever. */
static int settle(const struct volume_conf *v, struct held_volume *h, const struct privs *hp)
{
	if (h->lock_ro) {
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
	lock_waiter_init(&w, v, h->dirfd, LOCK_EXCLUSIVE);
	bool excl = h->lockfd >= 0;
	for (;;) {
		struct observation obs;
		struct decision d;
		if (!excl || lock_try(h->lockfd, LOCK_EXCLUSIVE) == 0) {
			guard_observe(v, &obs, &h->dirfd);
			d = guard_decide(v, &obs, GUARD_START);
			if (excl && d.action != ACT_RUN) {
				/* No one else holds the lock: every file left is stale.
				 * Ours names the migrator to those who wait. */
				holders_clear(h->dirfd);
				holders_add(h->dirfd, &h->holder);
			}
			int rc = apply_decision(v, h->dirfd, &obs, &d, GUARD_START, hp, false);
			if (rc == 0 && d.action == ACT_MIGRATE)
				h->migrated_from = d.from;
			if (excl)
				lock_try(h->lockfd, LOCK_SHARED); /* a downgrade never waits */
			return rc;
		}
		lock_release(h->lockfd);
		int rc = lock_waiter_pause(&w);
		if (rc)
			return rc;
		if (lock_try(h->lockfd, LOCK_SHARED) != 0)
			continue; /* someone is migrating */
		guard_observe(v, &obs, &h->dirfd);
		d = guard_decide(v, &obs, GUARD_START);
		if (d.action == ACT_RUN)
			return 0; /* another instance brought it up to date */
		if (d.action == ACT_REFUSE)
			return apply_decision(v, h->dirfd, &obs, &d, GUARD_START, hp, false);
	}
}

/* Opens the volume and its lock and takes the shared lock. */
static int open_volume(const struct volume_conf *v, struct held_volume *h)
{
	struct observation obs;
	h->dirfd = volume_open(v->path);
	/* An unmounted volume must not get a .volinit/ in the container's
	 * own layer: look before creating the lock. */
	if (h->dirfd < 0 || (v->require_mount && volume_is_mountpoint_at(h->dirfd) != 1)) {
		guard_observe(v, &obs, &h->dirfd); /* says why */
		struct decision d = guard_decide(v, &obs, GUARD_START);
		guard_report_refusal(v, &obs, &d);
		return d.code;
	}
	h->lockfd = lock_open_for(v, h->dirfd);
	if (h->lockfd < 0 && errno == EROFS) {
		/* A read-only mount (a reporting replica, a sidecar): the volume
		 * can still be migrated through another, read-write mount, so
		 * hold the shared lock through a read-only descriptor (OFD read
		 * locks need no more), as check and status do. */
		char why[256] = "";
		h->lockfd = lock_open_why(h->dirfd, false, why, sizeof(why));
		if (h->lockfd < 0 && errno == ENOENT) {
			/* No volinit ever started on it read-write: there is no
			 * lock to hold. A write it needs fails with 73 on its own. */
			log_notice(v->name, "volume \"%s\" (%s): read-only and without "
					    ".volinit/lock: going on without a lock", v->name,
				   v->path);
			return 0;
		}
		if (h->lockfd < 0) {
			log_fatal(73, v->name, "volume \"%s\" (%s): cannot open %s/lock: %s", v->name,
				  v->path, VOLUME_STATE_DIR, why[0] ? why : strerror(errno));
			log_hint(v->name, "the data on the volume was not changed");
			return 73;
		}
		h->lock_ro = true;
	}
	if (h->lockfd < 0)
		return 73; /* lock_open_for said why */
	return lock_wait(h->lockfd, h->dirfd, v, LOCK_SHARED);
}

/* Volume `failed` stopped the start (rc) after earlier volumes were
 * migrated in it: those stay migrated (their snapshots are gone), and an
 * image that expects their old version now refuses them. Say so, in a
 * hint and in their journals. */
static void note_migrated(const struct config *cfg, const struct startup *s, size_t failed, int rc)
{
	const struct volume_conf *fv = &cfg->volumes[failed];
	for (size_t i = 0; i < failed; i++) {
		const struct held_volume *h = &s->volumes[i];
		const struct volume_conf *v = &cfg->volumes[i];
		if (h->migrated_from < 0)
			continue;
		log_hint(v->name, "volume \"%s\" was migrated to %d in this start and stays at %d: "
				  "an image that expects %d will refuse it (81)", v->name,
			 (int)v->expected, (int)v->expected, (int)h->migrated_from);
		char detail[512];
		snprintf(detail, sizeof(detail), "the start failed on volume \"%.200s\" (%d) after "
			 "this volume was migrated %d -> %d; it stays at %d", fv->name, rc,
			 (int)h->migrated_from, (int)v->expected, (int)v->expected);
		journal_event(h->dirfd, v, "refuse", v->expected, v->expected, detail);
	}
}

int startup_admit(const struct config *cfg, const struct privs *hp, struct startup *s)
{
	s->n = cfg->nvolumes;
	s->volumes = calloc(s->n ? s->n : 1, sizeof(*s->volumes));
	if (!s->volumes) {
		log_fatal(70, NULL, "out of memory");
		return 70;
	}
	for (size_t i = 0; i < s->n; i++)
		s->volumes[i] = (struct held_volume){ .dirfd = -1, .lockfd = -1, .holder = HOLDER_NONE,
						      .migrated_from = -1 };

	/* Pass 1: look at every volume, report every refusal. */
	int first = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct volume_conf *v = &cfg->volumes[i];
		struct held_volume *h = &s->volumes[i];
		int rc = open_volume(v, h);
		if (rc == 0) {
			struct observation obs;
			guard_observe(v, &obs, &h->dirfd);
			struct decision d = guard_decide(v, &obs, GUARD_START);
			if (d.action == ACT_REFUSE) {
				rc = apply_decision(v, h->dirfd, &obs, &d, GUARD_START, hp, false);
			} else if (d.action == ACT_MIGRATE) {
				/* Every volume's plan before any volume changes. */
				rc = migrate_plan_check(v, d.from);
			} else if (d.action == ACT_RUN)
				log_info(v->name, "volume \"%s\" (%s): %s = %d, as expected", v->name,
					 v->path, v->version_file, (int)d.from);
			h->must_act = d.action != ACT_RUN && d.action != ACT_REFUSE;
		}
		if (rc && !first)
			first = rc;
		if (rc >= 128)
			break; /* stopped by a signal: look no further */
	}
	if (first)
		return first;

	/* Pass 2: initialize and migrate, then note ourselves as holders. */
	for (size_t i = 0; i < s->n; i++) {
		const struct volume_conf *v = &cfg->volumes[i];
		struct held_volume *h = &s->volumes[i];
		int rc = h->must_act ? settle(v, h, hp) : 0;
		if (rc) {
			note_migrated(cfg, s, i, rc);
			return rc;
		}
	}
	return 0;
}

void startup_started(const struct config *cfg, struct startup *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct held_volume *h = &s->volumes[i];
		if (h->lockfd >= 0)
			holders_add(h->dirfd, &h->holder);
		journal_event(h->dirfd, &cfg->volumes[i], "start", cfg->volumes[i].expected,
			      cfg->volumes[i].expected, NULL);
	}
}

void startup_journal(const struct config *cfg, const struct startup *s, const char *event,
		     const char *detail)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->volumes[i].lockfd >= 0)
			journal_event(s->volumes[i].dirfd, &cfg->volumes[i], event, -1,
				      cfg->volumes[i].expected, detail);
}

void startup_release(struct startup *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct held_volume *h = &s->volumes[i];
		holders_remove(&h->holder);
		if (h->lockfd >= 0)
			close(h->lockfd);
		if (h->dirfd >= 0)
			close(h->dirfd);
	}
	free(s->volumes);
	s->volumes = NULL;
	s->n = 0;
}
