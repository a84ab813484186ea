/* session: one volume through one command. Every command goes through
 * session_open: the volume opened once, its lock taken in the mode the
 * command needs, the volume looked at once under that lock, and the pure
 * guard_decide asked what to do. The rules for waiting on a lock live
 * here:
 *
 *   mode       who                      lock (lock.h)            creates
 *   NONE       migrate's plan of every  none: looked at again    nothing
 *              volume, before any       under a lock before
 *              changes                  anything is done
 *   PEEK       status                   shared if free, never    nothing
 *                                       waits (holders surveyed)
 *   SHARED     check, migrate's first   shared, where the lock   nothing
 *              look, migrate --dry-run  exists
 *   HOLD       a start                  shared; once it is done  .volinit/
 *                                       (session_hold), only the
 *                                       byte of the version it
 *                                       expects, kept for
 *                                       PROGRAM's life (read-only
 *                                       where the mount is)
 *   MIGRATE    migrate, when there is   shared, to look          .volinit/
 *              something to do
 *   EXCLUSIVE  stamp                    the whole file           .volinit/
 *
 * A start or migrate that must act takes what the act needs through
 * session_settle (the whole file; online, the migration byte and the
 * bytes of the versions below its readers), never queueing for it behind
 * a running app's shared lock. */
#ifndef VOLINIT_SESSION_H
#define VOLINIT_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "guard.h"
#include "holders.h"
#include "lock.h"
#include "privs.h"

enum session_mode {
	SESSION_NONE,
	SESSION_PEEK,
	SESSION_SHARED,
	SESSION_HOLD,
	SESSION_MIGRATE,
	SESSION_EXCLUSIVE,
};

struct session {
	const struct volume_conf *v;
	enum session_mode mode;
	enum guard_purpose purpose;
	int dirfd;            /* -1: the volume could not be opened */
	int lockfd;           /* -1: no lock held (none there yet, or PEEK found it taken) */
	bool lock_ro;         /* lockfd is read-only: shared only (a read-only mount) */
	int32_t app;          /* HOLD: the version PROGRAM expects, whose byte it holds; else -1 */
	struct lock_survey others; /* PEEK: what other holders hold */
	struct holder holder; /* EXCLUSIVE, or a start that acted: ours */
	struct observation obs;
	struct decision d;
	int32_t migrated_from; /* >= 0: session_settle migrated it from that version */
};

/* Opens v's volume, takes its lock in mode, looks at it and decides for
 * purpose (s->obs, s->d; looked at also when the lock could not be had).
 * Returns 0, also when the decision is a refusal
 * (the caller reports it); or, after its FATAL line, 73 (the lock cannot
 * be opened), 75 (timed out waiting), 128+N (stopped by signal N); or, in
 * modes HOLD and EXCLUSIVE, the refusal's code when the volume is missing,
 * unreadable or not mounted (reported here: nothing may be created on
 * it). Call session_close whatever it returns. */
int session_open(struct session *s, const struct volume_conf *v, enum session_mode mode,
		 enum guard_purpose purpose);

/* Looks and decides again (after an act, or a wait). */
void session_look(struct session *s);

/* HOLD or MIGRATE, when s->d is to act (init, adopt, restore, migrate):
 * takes what the act needs, or finds under the shared lock that another
 * instance did it, acts, and holds the shared lock again (HOLD) or
 * nothing (MIGRATE). Returns 0 or the exit code, after its FATAL line. */
int session_settle(struct session *s, const struct privs *hooks);

/* HOLD, once the start is done looking (verify included): keeps only the
 * byte of the version PROGRAM expects, so that an online migration may
 * run beside it from now on. Until then a start holds the shared lock
 * too, and no migration changes what it looks at. */
void session_hold(struct session *s);

/* What the act s->d needs of the lock (lock.h). */
struct lock_claim session_claim(const struct session *s);

/* The holders that would hold off s->d's act now ("none" when no one),
 * as the kernel says, named from the holders files, into buf. */
void session_blockers(const struct session *s, char *buf, size_t len);

/* Removes our holders file, drops the lock, closes the volume. */
void session_close(struct session *s);

#endif
