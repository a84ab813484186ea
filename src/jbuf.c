/* jbuf: bounded text building with JSON escaping (see jbuf.h). */
#include "jbuf.h"

#include <stdarg.h>
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

void jbuf_json_str(struct jbuf *b, const char *s)
{
	if (!s) {
		jbuf_puts(b, "null");
		return;
	}
	jbuf_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': jbuf_add(b, "\\\"", 2); break;
		case '\\': jbuf_add(b, "\\\\", 2); break;
		case '\n': jbuf_add(b, "\\n", 2); break;
		case '\t': jbuf_add(b, "\\t", 2); break;
		case '\r': jbuf_add(b, "\\r", 2); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				jbuf_printf(b, "\\u%04x", *p);
			else
				jbuf_add(b, (const char *)p, 1);
		}
	}
	jbuf_add(b, "\"", 1);
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
