/* jbuf: bounded text building with JSON escaping (see jbuf.h). */
#include "jbuf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void jbuf_init(struct jbuf *b, char *storage, size_t cap)
{
	b->buf = storage;
	b->cap = cap;
	b->len = 0;
	b->truncated = false;
	if (cap > 0)
		storage[0] = '\0';
}

void jbuf_add(struct jbuf *b, const char *s, size_t n)
{
	if (b->cap == 0)
		return;
	size_t room = b->cap - 1 - b->len;
	if (n > room) {
		n = room;
		b->truncated = true;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void jbuf_puts(struct jbuf *b, const char *s)
{
	jbuf_add(b, s, strlen(s));
}

void jbuf_printf(struct jbuf *b, const char *fmt, ...)
{
	if (b->cap == 0)
		return;
	size_t room = b->cap - b->len;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->buf + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= room) {
		b->len = b->cap - 1;
		b->truncated = true;
	} else {
		b->len += (size_t)n;
	}
}

/* The JSON form of the character at p: in out (escaped, NUL-terminated),
 * or, for a whole UTF-8 sequence, its own bytes (*raw set); a byte that
 * starts no valid sequence becomes U+FFFD. Returns the number of bytes of p
 * it stands for; a sequence is never split. */
static size_t json_char(const unsigned char *p, char out[8], bool *raw)
{
	*raw = false;
	switch (*p) {
	case '"': strcpy(out, "\\\""); return 1;
	case '\\': strcpy(out, "\\\\"); return 1;
	case '\n': strcpy(out, "\\n"); return 1;
	case '\t': strcpy(out, "\\t"); return 1;
	case '\r': strcpy(out, "\\r"); return 1;
	}
	if (*p < 0x20 || *p == 0x7f) {
		snprintf(out, 8, "\\u%04x", *p);
		return 1;
	}
	size_t n = *p < 0x80 ? 1 : *p >= 0xc2 && *p <= 0xdf ? 2 : *p >= 0xe0 && *p <= 0xef ? 3 :
		   *p >= 0xf0 && *p <= 0xf4 ? 4 : 0;
	/* The second byte's range is narrower after four leads (RFC 3629):
	 * E0 80..9F is an overlong, ED A0..BF an encoded surrogate, F0 80..8F
	 * an overlong, F4 90..BF above U+10FFFF. */
	unsigned char lo = *p == 0xe0 ? 0xa0 : *p == 0xf0 ? 0x90 : 0x80;
	unsigned char hi = *p == 0xed ? 0x9f : *p == 0xf4 ? 0x8f : 0xbf;
	if (n > 1 && (p[1] < lo || p[1] > hi))
		n = 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			n = 0;
	if (n == 0) { /* not UTF-8 (a Latin-1 file name, say): JSON must be */
		strcpy(out, "\\ufffd");
		return 1;
	}
	*raw = true;
	return n;
}

void jbuf_json_str_max(struct jbuf *b, const char *s, size_t max)
{
	if (!s) {
		jbuf_puts(b, "null");
		return;
	}
	char esc[8];
	bool raw;
	size_t total = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = json_char(p, esc, &raw);
		total += raw ? n : strlen(esc);
		p += n;
	}
	/* Too long: whole characters up to max - 3, then "...". */
	size_t limit = total <= max ? total : max >= 3 ? max - 3 : 0, used = 0;
	jbuf_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = json_char(p, esc, &raw), w = raw ? n : strlen(esc);
		if (used + w > limit)
			break;
		jbuf_add(b, raw ? (const char *)p : esc, w);
		used += w;
		p += n;
	}
	if (total > max)
		jbuf_add(b, "...", max >= 3 ? 3 : max);
	jbuf_add(b, "\"", 1);
}

void jbuf_json_str(struct jbuf *b, const char *s)
{
	jbuf_json_str_max(b, s, (size_t)-1);
}

void jbuf_json_key(struct jbuf *b, const char *key)
{
	if (b->len > 0 && b->buf[b->len - 1] != '{' && b->buf[b->len - 1] != '[')
		jbuf_add(b, ",", 1);
	jbuf_json_str(b, key);
	jbuf_add(b, ":", 1);
}

void jbuf_escape_bytes(struct jbuf *b, const unsigned char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = data[i];
		if (c == '\n')
			jbuf_puts(b, "\\n");
		else if (c == '\t')
			jbuf_puts(b, "\\t");
		else if (c == '\r')
			jbuf_puts(b, "\\r");
		else if (c == '\\' || c == '"')
			jbuf_printf(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			jbuf_printf(b, "\\x%02x", c);
		else
			jbuf_add(b, (const char *)&c, 1);
	}
}

/* UTC from the epoch by arithmetic: gmtime_r would pull glibc's time-zone
 * code (and sscanf with it) into the static binary for nothing. */
void jbuf_time(struct jbuf *b)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	long long secs = ts.tv_sec, days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	/* civil_from_days (H. Hinnant): proleptic Gregorian calendar. */
	long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153, day = doy - (153 * mp + 2) / 5 + 1;
	long long month = mp < 10 ? mp + 3 : mp - 9, year = yoe + era * 400 + (month <= 2);
	jbuf_printf(b, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03ldZ", year, month, day,
		    rem / 3600, rem / 60 % 60, rem % 60, ts.tv_nsec / 1000000);
}

bool jbuf_time_parse(const char *s, long long *secs)
{
	int v[6], widths[6] = { 4, 2, 2, 2, 2, 2 };
	const char seps[6] = { '-', '-', 'T', ':', ':', '.' };
	for (int i = 0; i < 6; i++) {
		v[i] = 0;
		for (int k = 0; k < widths[i]; k++, s++) {
			if (*s < '0' || *s > '9')
				return false;
			v[i] = v[i] * 10 + (*s - '0');
		}
		if (*s++ != seps[i])
			return false;
	}
	/* days_from_civil (H. Hinnant), the inverse of jbuf_time's. */
	long long y = v[0] - (v[1] <= 2), era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400, mp = v[1] > 2 ? v[1] - 3 : v[1] + 9;
	long long doy = (153 * mp + 2) / 5 + v[2] - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	*secs = (era * 146097 + doe - 719468) * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
	return true;
}
