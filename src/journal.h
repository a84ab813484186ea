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

#endif
