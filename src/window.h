/* window: which older images may still run on a volume's data (SPEC.md
 * "Rolling updates (readers)"). .volinit/readers holds the oldest version
 * an image may expect and still run on the data; absent, that is the
 * volume's version (the window is closed). It is written as the version
 * file is (a fresh file, fsync, rename, directory fsync), and always
 * before the version file changes: removed before an offline migration's
 * first step, so that a crash never leaves an old window over newer data;
 * written before an online migration's first step, whose hooks keep the
 * data usable by the apps inside it at every moment. A value above the
 * version counts as the version. */
#ifndef VOLINIT_WINDOW_H
#define VOLINIT_WINDOW_H

#include <stdint.h>

enum window_state {
	WINDOW_CLOSED,     /* no .volinit/readers: readers = the version */
	WINDOW_SET,        /* .volinit/readers read */
	WINDOW_UNREADABLE, /* there, but not one of volinit's (detail says why): closed */
};

struct window {
	enum window_state state;
	int32_t readers;   /* in effect: at most the version */
	char detail[160];
};

/* The window over the data at version. Creates nothing, never blocks. */
void window_read(int voldirfd, int32_t version, struct window *w);

/* Records readers (< 0: removes the record, closing the window), durably,
 * before the version file is written. The caller holds the exclusive lock.
 * Returns 0 or an errno value. */
int window_record(int voldirfd, int32_t readers);

#endif
