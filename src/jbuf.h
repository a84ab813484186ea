/* jbuf: a fixed-capacity text buffer that never allocates, with JSON string
 * escaping; shared by log lines, journal records, dirty markers and --json. */
#ifndef VOLINIT_JBUF_H
#define VOLINIT_JBUF_H

#include <stdbool.h>
#include <stddef.h>

struct jbuf {
	char *buf;
	size_t cap;
	size_t len;
	bool truncated;
};

void jbuf_init(struct jbuf *b, char *storage, size_t cap);
void jbuf_add(struct jbuf *b, const char *s, size_t n);
void jbuf_puts(struct jbuf *b, const char *s);
void jbuf_printf(struct jbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends s as a quoted JSON string, or null when s is NULL. */
void jbuf_json_str(struct jbuf *b, const char *s);
/* The same with at most max bytes between the quotes: a longer string is
 * cut after a whole character (never inside an escape or a UTF-8
 * sequence) and ends in "...". With bounded fields a record can be sized
 * so that it is never cut, and stays valid JSON. */
void jbuf_json_str_max(struct jbuf *b, const char *s, size_t max);
/* Appends ,"key": (the comma only when the object already has a member). */
void jbuf_json_key(struct jbuf *b, const char *key);
/* Appends the first max bytes of data escaped for a one-line message. */
void jbuf_escape_bytes(struct jbuf *b, const unsigned char *data, size_t n);
/* UTC time as 2026-11-23T17:44:42.123Z. */
void jbuf_time(struct jbuf *b);

/* The seconds since the epoch of a time jbuf_time wrote (its milliseconds
 * left out), or false when s does not begin with one. */
bool jbuf_time_parse(const char *s, long long *secs);

#endif
