/* lock: PATH/.volinit/lock, open file description locks (F_OFD_*) on its
 * bytes: exclusive while migrating or stamping, shared while looking and
 * for PROGRAM's whole life (below). The kernel drops them with their
 * holder, so a killed volinit never leaves a stale lock. */
#ifndef VOLINIT_LOCK_H
#define VOLINIT_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#include <stdint.h>

/* Opens .volinit/lock (a regular file with one link: anything else is
 * refused, EINVAL, ELOOP or EMLINK), creating .volinit/ (0700) and the file
 * when create is set. Returns the descriptor, or -1 with errno (ENOENT: none yet). */
int lock_open(int voldirfd, bool create);
/* The same; when the lock is there but is not a regular file with one
 * link, why (len bytes) says so (".volinit/lock is a FIFO, ..."), else "". */
int lock_open_why(int voldirfd, bool create, char *why, size_t len);

/* For a command that writes on v: .volinit/ made or taken back (one
 * warning), and its lock opened, created when absent. Returns the
 * descriptor; or -1 with errno EROFS on a read-only volume (nothing said);
 * or -1 after one FATAL line (73) naming what is wrong (.volinit/ not a
 * directory or not volinit's to take back; the lock a symlink, FIFO,
 * directory or hard link...). */
int lock_open_for(const struct volume_conf *v, int voldirfd);

/* What a holder of the lock claims, as byte ranges of the lock file, so
 * that the kernel decides who waits for whom (SPEC.md "Rolling updates"):
 *
 *   byte E (0 <= E <= VERSION_MAX)   shared by each running app that
 *                                    expects version E, for its life
 *   byte LOCK_MIGRATION_BYTE         exclusive while migrating; shared
 *                                    while looking (a start deciding,
 *                                    check), so that no one looks at a
 *                                    volume half migrated
 *   bytes [0, R)                     exclusive while migrating online to a
 *                                    version with readers R: apps that
 *                                    expect less than R hold it off, the
 *                                    others run on beside it
 *   the whole file                   exclusive while migrating offline,
 *                                    initializing, restoring or stamping
 *
 * volinit 0.1 took the whole file, shared or exclusive: it and this
 * one exclude each other as they must. */
#define LOCK_MIGRATION_BYTE ((long long)VERSION_MAX + 1)

struct lock_range {
	short type;          /* F_RDLCK or F_WRLCK */
	long long start, len; /* len 0: to the end of every file */
};

struct lock_claim {
	int n;
	struct lock_range r[2];
	char what[64]; /* for messages: "the lock to look", "the lock to migrate"... */
};

/* Shared on the migration byte, and on byte app when app >= 0. */
struct lock_claim lock_claim_look(int32_t app);
/* Online to a version with readers: exclusive on the migration byte and
 * on [0, readers). */
struct lock_claim lock_claim_online(int32_t readers);
/* Exclusive over the whole file. */
struct lock_claim lock_claim_all(void);

/* One attempt at all of c: 0, or -1 with errno EAGAIN when another holder
 * conflicts, and then nothing at all is held on lockfd (a waiter never
 * holds part of what it waits for: no two waiters can deadlock). Ranges
 * lockfd held already are converted. */
int lock_take(int lockfd, const struct lock_claim *c);

/* Keeps only the shared lock of an app expecting app (-1: none) and, with
 * look, the looker's on the migration byte. Those are converted first,
 * then the rest dropped: never a moment without them. Never waits. */
void lock_keep(int lockfd, int32_t app, bool look);

/* Waits up to the volume's lock_timeout for all of c, saying every few
 * seconds which holders it waits for. Returns 0, 75 on timeout (after a
 * FATAL line naming them), or 128+N when SIGTERM/SIGINT N came meanwhile. */
int lock_wait(int lockfd, int voldirfd, const struct volume_conf *v, const struct lock_claim *c);

void lock_release(int lockfd);

/* The waiting half of lock_wait, for callers that must do more between two
 * attempts (looking again under a shared lock, say). */
struct lock_waiter {
	const struct volume_conf *v;
	int voldirfd, lockfd;
	struct lock_claim claim;
	long long start, deadline, next_report;
};
void lock_waiter_init(struct lock_waiter *w, const struct volume_conf *v, int voldirfd,
		      int lockfd, const struct lock_claim *c);
/* Pauses briefly: 0 to try again, 75 after the FATAL line on timeout,
 * 128+N on SIGTERM/SIGINT N. */
int lock_waiter_pause(struct lock_waiter *w);

/* What other holders hold, as the kernel says (never the holders files). */
#define LOCK_APPS_MAX 16
struct lock_survey {
	bool migrating;    /* the migration byte exclusive (or the whole file) */
	bool looking;      /* the migration byte shared: a start or check deciding */
	bool old_shared;   /* the whole file shared: an app of volinit 0.1 */
	int32_t apps[LOCK_APPS_MAX]; /* versions that running apps expect, ascending */
	size_t napps;
	bool more_apps;    /* more than LOCK_APPS_MAX of them */
};
/* Every lock of another holder that conflicts with c (c NULL: every lock
 * of another holder at all). */
void lock_survey(int lockfd, const struct lock_claim *c, struct lock_survey *out);

#endif
