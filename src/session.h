/* session: one volume through one command. Every command goes through
 * session_open: the volume opened once, its lock taken in the mode the
 * command needs, the volume looked at once under that lock, and the pure
 * guard_decide asked what to do. The rules for waiting on a lock live
 * here:
 *
 *   mode       who                      lock                     creates
 *   NONE       migrate's plan of every  none: looked at again    nothing
 *              volume, before any       under a lock before
 *              changes                  anything is done
 *   PEEK       status                   shared if free, never    nothing
 *                                       waits (the holder shown)
 *   SHARED     check, migrate's first   shared, where the lock   nothing
 *              look, migrate --dry-run  exists
 *   HOLD       a start                  shared (read-only where  .volinit/
 *                                       the mount is), kept for
 *                                       PROGRAM's life
 *   EXCLUSIVE  migrate, stamp           exclusive                .volinit/
 *
 * A start that must act takes the exclusive lock through session_settle,
 * never queueing for it behind a running app's shared lock. */
#ifndef VOLINIT_SESSION_H
#define VOLINIT_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "guard.h"
#include "holders.h"
#include "privs.h"

enum session_mode { SESSION_NONE, SESSION_PEEK, SESSION_SHARED, SESSION_HOLD, SESSION_EXCLUSIVE };

struct session {
	const struct volume_conf *v;
	enum session_mode mode;
	enum guard_purpose purpose;
	int dirfd;            /* -1: the volume could not be opened */
	int lockfd;           /* -1: no lock held (none there yet, or PEEK found it taken) */
	bool lock_ro;         /* lockfd is read-only: shared only (a read-only mount) */
	const char *conflict; /* PEEK: "exclusive" or "shared" held by another, or NULL */
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

/* HOLD, when s->d is to act (init, adopt, restore, migrate): takes the
 * exclusive lock, or finds under the shared lock that another starter
 * did it, acts, and holds the shared lock again. Returns 0 or the exit
 * code, after its FATAL line. */
int session_settle(struct session *s, const struct privs *hooks);

/* Removes our holders file, drops the lock, closes the volume. */
void session_close(struct session *s);

#endif
