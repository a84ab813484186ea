/* lock: PATH/.volinit/lock, an open file description lock (F_OFD_*):
 * exclusive while migrating or stamping, shared while checking and for
 * PROGRAM's whole life. The kernel drops it with its holder, so a killed
 * volinit never leaves a stale lock. */
#ifndef VOLINIT_LOCK_H
#define VOLINIT_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum lock_mode { LOCK_SHARED, LOCK_EXCLUSIVE };

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

/* One attempt: 0, or -1 with errno EAGAIN when another holder conflicts.
 * Taking a mode over the other mode on the same descriptor converts it. */
int lock_try(int lockfd, enum lock_mode mode);

/* Waits up to the volume's lock_timeout, saying every few seconds what it
 * waits for. Returns 0, 75 on timeout (after a FATAL line naming the
 * holders), or 128+N when SIGTERM/SIGINT N came meanwhile. */
int lock_wait(int lockfd, int voldirfd, const struct volume_conf *v, enum lock_mode mode);

void lock_release(int lockfd);

/* The waiting half of lock_wait, for callers that must do more between two
 * attempts (re-reading the version under a shared lock, say). */
struct lock_waiter {
	const struct volume_conf *v;
	int voldirfd;
	const char *want;
	long long start, deadline, next_report;
};
void lock_waiter_init(struct lock_waiter *w, const struct volume_conf *v, int voldirfd,
		      enum lock_mode mode);
/* Pauses briefly: 0 to try again, 75 after the FATAL line on timeout,
 * 128+N on SIGTERM/SIGINT N. */
int lock_waiter_pause(struct lock_waiter *w);

/* Which lock another process holds: "exclusive", "shared" or NULL. */
const char *lock_conflict(int lockfd);

#endif
