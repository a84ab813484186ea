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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Takes the exclusive lock to act, or finds under a shared lock that
 * another instance already did it. Never queues for the exclusive lock
 * behind an app's shared lock: that would wait forever. */
static int settle(const struct volume_conf *v, struct held_volume *h, const struct privs *hp)
{
	struct lock_waiter w;
	lock_waiter_init(&w, v, h->dirfd, LOCK_EXCLUSIVE);
	for (;;) {
		struct observation obs;
		struct decision d;
		if (h->lockfd < 0 || lock_try(h->lockfd, LOCK_EXCLUSIVE) == 0) {
			guard_observe(v, &obs, &h->dirfd);
			d = guard_decide(v, &obs, GUARD_START);
			if (h->lockfd >= 0 && d.action != ACT_RUN) {
				/* No one else holds the lock: every file left is stale.
				 * Ours names the migrator to those who wait. */
				holders_clear(h->dirfd);
				holders_add(h->dirfd, &h->holder);
			}
			int rc = apply_decision(v, h->dirfd, &obs, &d, GUARD_START, hp, false);
			if (h->lockfd >= 0)
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
	if (h->dirfd < 0 || (v->require_mount && volume_is_mountpoint(v->path) != 1)) {
		guard_observe(v, &obs, &h->dirfd); /* says why */
		struct decision d = guard_decide(v, &obs, GUARD_START);
		guard_report_refusal(v, &obs, &d);
		return d.code;
	}
	h->lockfd = lock_open_for(v, h->dirfd);
	if (h->lockfd < 0 && errno == EROFS) {
		/* A read-only volume: nobody can migrate it through this mount
		 * either, so there is nothing to lock against. A write it needs
		 * fails with 73 on its own. */
		log_info(v->name, "volume \"%s\": read-only, no lock; going on without", v->name);
		return 0;
	}
	if (h->lockfd < 0)
		return 73; /* lock_open_for said why */
	return lock_wait(h->lockfd, h->dirfd, v, LOCK_SHARED);
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
		s->volumes[i] = (struct held_volume){ .dirfd = -1, .lockfd = -1, .holder = HOLDER_NONE };

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
		if (rc)
			return rc;
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
