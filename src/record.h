/* record: volinit's JSON records on a volume (a journal line, the dirty
 * marker) parsed strictly into their fields, and written out again from
 * those fields alone. The volume is the app's: a record is either one of
 * volinit's flat objects or "unreadable", never pasted into a report. */
#ifndef VOLINIT_RECORD_H
#define VOLINIT_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "jbuf.h"

/* The longest record parsed (volinit writes less); longer is unreadable. */
#define RECORD_MAX 4096

enum record_kind { RECORD_ABSENT, RECORD_NULL, RECORD_STRING, RECORD_INT };

struct record_value {
	enum record_kind kind;
	const char *str; /* RECORD_STRING: valid UTF-8, no NUL inside */
	long long num;   /* RECORD_INT */
};

/* time, host, pid, image, event, volume, from, to, detail. */
struct journal_record {
	bool readable;
	struct record_value time, host, pid, image, event, volume, from, to, detail;
	char store[RECORD_MAX + 1]; /* the strings' decoded bytes */
};

/* from, to, hook, sha256, pid, host, started_at, the snapshot's id, and
 * readers for a step of an online migration. */
struct dirty_record {
	bool readable;
	struct record_value from, to, hook, sha256, pid, host, started_at, snapshot, readers;
	char store[RECORD_MAX + 1];
};

/* Parses text (len bytes, whitespace around the object allowed): a flat
 * JSON object with only the known keys, each at most once and of its type
 * (event is required; from and to too for dirty). Anything else (another
 * structure, an unknown or doubled key, invalid UTF-8, a NUL, longer than
 * RECORD_MAX) leaves readable false. Returns readable. */
bool record_parse_journal(const char *text, size_t len, struct journal_record *r);
bool record_parse_dirty(const char *text, size_t len, struct dirty_record *r);

/* The record as a JSON object built from its fields, all in printable
 * ASCII (\uXXXX for the rest), strings cut at max bytes each; an
 * unreadable one is {"unreadable":true}. Safe on a terminal too. */
void record_journal_json(struct jbuf *b, const struct journal_record *r, size_t max);
void record_dirty_json(struct jbuf *b, const struct dirty_record *r, size_t max);

/* s (valid UTF-8) as a JSON string in printable ASCII, cut after a whole
 * character to at most max bytes between the quotes (then "..."). */
void record_json_str(struct jbuf *b, const char *s, size_t max);

/* s for a line of text: printable as it is, control characters (C0, DEL,
 * C1) and bytes that are not UTF-8 as \xNN, so that no escape sequence
 * reaches a terminal. */
void record_text(struct jbuf *b, const char *s);

#endif
