/* journal: PATH/.volinit/journal.jsonl, append-only, one JSON object per
 * line (time, host, pid, image, event, volume, from, to, detail), rotated
 * to journal.jsonl.1 past 1 MiB. Best effort: a journal that cannot be
 * written never stops a start. */
#ifndef VOLINIT_JOURNAL_H
#define VOLINIT_JOURNAL_H

#include <stdint.h>

#include "config.h"

#define JOURNAL_ROTATE_BYTES (1024 * 1024)

/* from/to < 0 are written as null; detail may be NULL. Does nothing when
 * .volinit/ does not exist (check and status create nothing). */
void journal_event(int voldirfd, const struct volume_conf *v, const char *event, int32_t from,
		   int32_t to, const char *detail);

/* The last n lines (n <= JOURNAL_TAIL_LINES) parsed, oldest first, for
 * status: each volinit's record or unreadable. Returns the count. */
#define JOURNAL_TAIL_LINES 3
struct journal_record;
int journal_read_tail(int voldirfd, struct journal_record *out, int n);

/* What status summarizes PROGRAM's starts and exits over: the journal's
 * last JOURNAL_RECENT_BYTES, the end of journal.jsonl.1 first when the
 * journal is shorter (just rotated). Bounded, whatever the volume holds:
 * hundreds of starts at volinit's line lengths (a forged line longer than
 * the window leaves nothing before it to read). */
#define JOURNAL_RECENT_BYTES (64 * 1024)

/* Calls fn with each whole line of that window parsed (unreadable ones
 * too), oldest first; a line cut by the window's start is skipped.
 * Returns the number of lines. */
int journal_read_recent(int voldirfd, void (*fn)(const struct journal_record *r, void *ctx),
			void *ctx);

#endif
