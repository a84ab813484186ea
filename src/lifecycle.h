/* lifecycle: PROGRAM's starts and exits as a volume's journal records
 * them: the exit event's detail written and read back, and the summary
 * status shows (last start, last exit, crashes among the last starts), so
 * that a crash loop can be told from clean restarts offline. Pure: no I/O,
 * no allocation; records from the volume are parsed, never pasted. */
#ifndef VOLINIT_LIFECYCLE_H
#define VOLINIT_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jbuf.h"
#include "record.h"

/* How many of the newest starts the crash count looks at. */
#define LIFECYCLE_STARTS 10

/* The exit event's detail, e.g. "exited with 0 after 12.345 s" or
 * "killed by signal 9 after 3.200 s"; this size always holds it. */
#define LIFECYCLE_DETAIL_MAX 64

/* How PROGRAM ended: an exit status (signal 0) or a signal (status -1),
 * and how long it ran in milliseconds. */
struct lifecycle_exit {
	int status;
	int signal;
	long long ms;
};

/* The detail for wait_status (PROGRAM's own, before -e) after ms. */
void lifecycle_exit_detail(char *out, size_t size, int wait_status, long long ms);

/* Parses a detail written by lifecycle_exit_detail, strictly: anything
 * else returns false. */
bool lifecycle_parse_exit(const char *detail, struct lifecycle_exit *e);

enum lifecycle_outcome { LIFECYCLE_OPEN, LIFECYCLE_CLEAN, LIFECYCLE_CRASH };

/* Times are volinit's own form (2026-11-23T17:44:42.123Z), "" when none. */
struct lifecycle {
	char last_start[32];
	char last_exit_time[32];
	struct lifecycle_exit last_exit;
	/* The newest starts, oldest first: who started it (host and pid,
	 * hashed: an exit closes its own volinit's start, not a replica's)
	 * and how it ended so far. */
	struct {
		uint64_t who;
		enum lifecycle_outcome outcome;
	} recent[LIFECYCLE_STARTS];
	size_t nrecent;
};

void lifecycle_init(struct lifecycle *l);

/* Adds one journal record, oldest first. Only readable start and exit
 * events with volinit's time format count (an exit also needs a detail
 * that parses); everything else is ignored. */
void lifecycle_add(struct lifecycle *l, const struct journal_record *r);

/* init, then add each of the n records. */
void lifecycle_summarize(const struct journal_record *recs, size_t n, struct lifecycle *l);

/* Of the recent starts, those that crashed: ended non-zero or by a
 * signal, or have no exit while a newer start followed (killed hard, the
 * host died). The newest start without an exit is taken to be running. */
size_t lifecycle_crashes(const struct lifecycle *l);

/* Whether the newest start has no exit yet. */
bool lifecycle_running(const struct lifecycle *l);

/* status --json's "lifecycle" object, and status's text lines (each
 * starting with two spaces and ending with a newline). */
void lifecycle_json(struct jbuf *b, const struct lifecycle *l);
void lifecycle_text(struct jbuf *b, const struct lifecycle *l);

#endif
