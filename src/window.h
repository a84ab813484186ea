/* window: which older images may still run on a volume's data (SPEC.md
 * "Rolling updates (readers)"). .volinit/readers says
 *
 *     readers=R versions=FROM-TO
 *
 * images that expect R or later can run on the data while its version is
 * from FROM to TO: the versions an online migration passes through (its
 * hooks keep the data usable by apps of R or later at every moment), or
 * the one an init writes. At any other version the record is stale and
 * the window closed (readers = the version): so that nothing that changes
 * the version without knowing of the window (volinit 0.1, an operator, a
 * .volinit/ put back from before) ever leaves an old window over newer
 * data. Absent, unreadable, or not volinit's own file: closed too. It is
 * written as the version file is (a fresh file, fsync, rename, directory
 * fsync), before the version file changes; removed before an offline
 * migration's first step and by a stamp. A value above the version counts
 * as the version. */
#ifndef VOLINIT_WINDOW_H
#define VOLINIT_WINDOW_H

#include <stdint.h>

enum window_state {
	WINDOW_CLOSED,     /* no .volinit/readers: readers = the version */
	WINDOW_SET,        /* read, and for this version */
	WINDOW_STALE,      /* read, but for other versions (detail): closed */
	WINDOW_UNREADABLE, /* there, but not a record of volinit's (detail): closed */
};

struct window {
	enum window_state state;
	int32_t readers;   /* in effect: at most the version */
	char detail[160];
};

/* The window over the data at version. Creates nothing, never blocks. */
void window_read(int voldirfd, int32_t version, struct window *w);

/* Records readers for the data at versions from..to, or (readers < 0)
 * removes the record, closing the window; durably, before the version file
 * is written. The caller holds the exclusive lock. Returns 0 or an errno
 * value. */
int window_record(int voldirfd, int32_t readers, int32_t from, int32_t to);

#endif
