/* holders: PATH/.volinit/holders/, one small file per running volinit that
 * holds the lock (host, pid, image, since). For diagnosis only: the lock
 * decides, never these files. An entry that is not a regular file with one
 * link of volinit's is left alone, with a warning. */
#ifndef VOLINIT_HOLDERS_H
#define VOLINIT_HOLDERS_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lock.h"

/* Our file. The directory stays open, so that removing the file when
 * PROGRAM has exited is a single unlinkat; dev and ino say which file is
 * ours, so that nothing else is ever removed by that name. */
struct holder {
	int32_t expects; /* the version the image expects */
	bool migrating;  /* a migrator's (a start's own migration, or volinit migrate) */
	int dirfd; /* .volinit/holders/, or -1 */
	char name[96];
	dev_t dev;
	ino_t ino; /* 0: none written */
	int fd; /* our file, open with an OFD write lock on it while we live, or -1 */
};
#define HOLDER_NONE ((struct holder){ .expects = -1, .dirfd = -1, .fd = -1 })

/* Writes our file, fresh each time (a temporary file renamed over it; no
 * fsync: it is a hint). It stays open with an OFD write lock on it, and
 * then says "lock=1": a file that says so and that no one has locked is of
 * a volinit killed hard, never named as a holder, removed when holders are
 * next pruned. Returns 0 or errno. */
int holders_add(int voldirfd, struct holder *h);

/* Removes our file, if any, and closes the directory. */
void holders_remove(struct holder *h);

/* Removes every file that no one can hold the lock for while the caller
 * holds its own: with the whole file exclusive (readers < 0), all of
 * them; migrating online, a migrator's and those of apps expecting less
 * than readers. */
void holders_clear(int voldirfd, int32_t readers);

/* Of the files holders_clear(voldirfd, readers) would remove, those of
 * processes of this host that are alive and were there when they wrote
 * them (their start time, not only their pid): holders whose lock the
 * caller, holding its own exclusively, should have been held off by, so
 * the locks of this mount do not reach theirs. Returns how many, named
 * (escaped) in who. */
int holders_alive_here(int voldirfd, int32_t readers, char *who, size_t len);

/* Removes the files that no lock the kernel knows of stands for (others,
 * as surveyed with lock_survey(fd, NULL, ...)): an app's whose version no
 * one holds, a migrator's while no one migrates (a file that says no
 * version, of volinit 0.1's or not volinit's at all, is left alone). Files
 * of apps that were killed hard go this way, when holders are next named
 * (a wait, --dry-run, status) or someone acts (holders_clear): never on a
 * start that has nothing to do, which reads no directory. */
void holders_prune(int voldirfd, const struct lock_survey *others);

/* holders_prune after a survey of every lock but the caller's own on
 * lockfd (nothing when lockfd < 0). */
void holders_tidy(int voldirfd, int lockfd);

/* Who holds what the survey found, named from the files ("an app
 * expecting 1: host=a pid=7 since=... image=...; a migration: ..."),
 * escaped, into buf; survey NULL: every file. */
void holders_describe(int voldirfd, const struct lock_survey *survey, char *buf, size_t len);

#endif
