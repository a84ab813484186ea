/* record: strict parsing of volinit's records, and writing them out from
 * their fields (see record.h). Pure: no I/O, no allocation. */
#include "record.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The code point at p (n bytes left), strictly: no overlong form, no
 * surrogate, nothing above U+10FFFF. Returns its length, 0 when invalid. */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c = p[0], min;
	size_t len;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static size_t utf8_put(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* --- parsing ---------------------------------------------------------- */

enum { T_STR = 1, T_INT = 2, T_NULL = 4 };

struct field {
	const char *key;
	unsigned types;
	long long min, max; /* for T_INT */
	struct record_value *out;
	bool required;
};

struct parser {
	const unsigned char *p, *end;
	char *store;
	size_t used, cap;
};

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int hex4(const unsigned char *p, const unsigned char *end, uint32_t *out)
{
	if (end - p < 4)
		return -1;
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

/* A JSON string at ps->p, decoded into out (cap bytes, NUL-terminated).
 * Refuses raw control characters, invalid UTF-8, lone surrogates and
 * \u0000 (a C string cannot hold it). */
static bool parse_string(struct parser *ps, char *out, size_t cap, size_t *outlen)
{
	if (ps->p >= ps->end || *ps->p != '"')
		return false;
	ps->p++;
	size_t n = 0;
	while (ps->p < ps->end && *ps->p != '"') {
		char enc[4];
		size_t w;
		if (*ps->p == '\\') {
			if (ps->end - ps->p < 2)
				return false;
			unsigned char e = ps->p[1];
			ps->p += 2;
			uint32_t c;
			switch (e) {
			case '"': case '\\': case '/': c = e; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				if (hex4(ps->p, ps->end, &c) != 0)
					return false;
				ps->p += 4;
				if (c >= 0xdc00 && c <= 0xdfff)
					return false;
				if (c >= 0xd800 && c <= 0xdbff) {
					uint32_t lo;
					if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
					    hex4(ps->p + 2, ps->end, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
						return false;
					ps->p += 6;
					c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				}
				if (c == 0)
					return false;
				break;
			default:
				return false;
			}
			w = utf8_put(c, enc);
		} else {
			uint32_t c;
			if (*ps->p < 0x20)
				return false;
			w = utf8_next(ps->p, (size_t)(ps->end - ps->p), &c);
			if (w == 0)
				return false;
			memcpy(enc, ps->p, w);
			ps->p += w;
		}
		if (n + w >= cap)
			return false;
		memcpy(out + n, enc, w);
		n += w;
	}
	if (ps->p >= ps->end)
		return false;
	ps->p++; /* the closing quote */
	out[n] = '\0';
	*outlen = n;
	return true;
}

/* An integer: -?(0|[1-9][0-9]*), no fraction or exponent, 18 digits at most. */
static bool parse_int(struct parser *ps, long long *out)
{
	bool neg = ps->p < ps->end && *ps->p == '-';
	if (neg)
		ps->p++;
	const unsigned char *start = ps->p;
	long long v = 0;
	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
		if (ps->p - start >= 18)
			return false;
		v = v * 10 + (*ps->p - '0');
		ps->p++;
	}
	size_t digits = (size_t)(ps->p - start);
	if (digits == 0 || (digits > 1 && *start == '0'))
		return false;
	if (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E'))
		return false;
	*out = neg ? -v : v;
	return true;
}

static bool parse_value(struct parser *ps, const struct field *f)
{
	struct record_value *v = f->out;
	if (ps->p >= ps->end)
		return false;
	if (*ps->p == '"') {
		if (!(f->types & T_STR))
			return false;
		size_t n;
		char *dst = ps->store + ps->used;
		if (!parse_string(ps, dst, ps->cap - ps->used, &n))
			return false;
		ps->used += n + 1;
		v->kind = RECORD_STRING;
		v->str = dst;
		return true;
	}
	if (*ps->p == 'n') {
		if (!(f->types & T_NULL) || ps->end - ps->p < 4 || memcmp(ps->p, "null", 4) != 0)
			return false;
		ps->p += 4;
		v->kind = RECORD_NULL;
		return true;
	}
	if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
		if (!(f->types & T_INT) || !parse_int(ps, &v->num))
			return false;
		if (v->num < f->min || v->num > f->max)
			return false;
		v->kind = RECORD_INT;
		return true;
	}
	return false; /* true, false, an object, an array, or garbage */
}

/* One flat object whose keys are all in fields (nf of them), each once. */
static bool parse_object(const char *text, size_t len, const struct field *fields, size_t nf,
			 char *store, size_t cap)
{
	for (size_t i = 0; i < nf; i++)
		*fields[i].out = (struct record_value){ .kind = RECORD_ABSENT };
	if (len > RECORD_MAX)
		return false;
	struct parser ps = { (const unsigned char *)text, (const unsigned char *)text + len,
			     store, 0, cap };
	skip_ws(&ps);
	if (ps.p >= ps.end || *ps.p != '{')
		return false;
	ps.p++;
	skip_ws(&ps);
	if (ps.p < ps.end && *ps.p == '}') {
		ps.p++;
	} else {
		for (;;) {
			char key[32];
			size_t klen;
			skip_ws(&ps);
			if (!parse_string(&ps, key, sizeof(key), &klen))
				return false;
			const struct field *f = NULL;
			for (size_t i = 0; i < nf && !f; i++)
				if (strlen(fields[i].key) == klen && memcmp(fields[i].key, key, klen) == 0)
					f = &fields[i];
			/* Unknown, or doubled: a parser that keeps the last one
			 * would see another record than one that keeps the first. */
			if (!f || f->out->kind != RECORD_ABSENT)
				return false;
			skip_ws(&ps);
			if (ps.p >= ps.end || *ps.p != ':')
				return false;
			ps.p++;
			skip_ws(&ps);
			if (!parse_value(&ps, f))
				return false;
			skip_ws(&ps);
			if (ps.p < ps.end && *ps.p == ',') {
				ps.p++;
				continue;
			}
			if (ps.p < ps.end && *ps.p == '}') {
				ps.p++;
				break;
			}
			return false;
		}
	}
	skip_ws(&ps);
	if (ps.p != ps.end)
		return false;
	for (size_t i = 0; i < nf; i++)
		if (fields[i].required && fields[i].out->kind == RECORD_ABSENT)
			return false;
	return true;
}

#define VERSION_LIMIT 2147483647LL
#define PID_LIMIT 2147483647LL

bool record_parse_journal(const char *text, size_t len, struct journal_record *r)
{
	const struct field fields[] = {
		{ "time", T_STR, 0, 0, &r->time, false },
		{ "host", T_STR, 0, 0, &r->host, false },
		{ "pid", T_INT, 0, PID_LIMIT, &r->pid, false },
		{ "image", T_STR, 0, 0, &r->image, false },
		{ "event", T_STR, 0, 0, &r->event, true },
		{ "volume", T_STR, 0, 0, &r->volume, false },
		{ "from", T_INT | T_NULL, 0, VERSION_LIMIT, &r->from, false },
		{ "to", T_INT | T_NULL, 0, VERSION_LIMIT, &r->to, false },
		{ "detail", T_STR | T_NULL, 0, 0, &r->detail, false },
	};
	r->readable = parse_object(text, len, fields, sizeof(fields) / sizeof(fields[0]), r->store,
				   sizeof(r->store));
	return r->readable;
}

bool record_parse_dirty(const char *text, size_t len, struct dirty_record *r)
{
	const struct field fields[] = {
		{ "from", T_INT, 0, VERSION_LIMIT, &r->from, true },
		{ "to", T_INT, 0, VERSION_LIMIT, &r->to, true },
		{ "hook", T_STR, 0, 0, &r->hook, false },
		{ "sha256", T_STR, 0, 0, &r->sha256, false },
		{ "pid", T_INT, 0, PID_LIMIT, &r->pid, false },
		{ "host", T_STR, 0, 0, &r->host, false },
		{ "started_at", T_STR, 0, 0, &r->started_at, false },
		{ "snapshot", T_STR | T_NULL, 0, 0, &r->snapshot, false },
		{ "readers", T_INT, 0, VERSION_LIMIT, &r->readers, false },
	};
	r->readable = parse_object(text, len, fields, sizeof(fields) / sizeof(fields[0]), r->store,
				   sizeof(r->store));
	return r->readable;
}

/* --- writing ---------------------------------------------------------- */

/* The JSON form of the character at p, in printable ASCII, into out.
 * Returns the bytes of p it stands for (a byte that is not UTF-8: one, as
 * U+FFFD; the parser lets none through). */
static size_t json_char(const unsigned char *p, size_t n, char out[16])
{
	uint32_t c;
	size_t len = utf8_next(p, n, &c);
	if (len == 0) {
		strcpy(out, "\\ufffd");
		return 1;
	}
	switch (c) {
	case '"': strcpy(out, "\\\""); break;
	case '\\': strcpy(out, "\\\\"); break;
	case '\n': strcpy(out, "\\n"); break;
	case '\t': strcpy(out, "\\t"); break;
	case '\r': strcpy(out, "\\r"); break;
	default:
		if (c >= 0x20 && c < 0x7f) {
			out[0] = (char)c;
			out[1] = '\0';
		} else if (c < 0x10000) {
			snprintf(out, 16, "\\u%04x", (unsigned)c);
		} else {
			c -= 0x10000;
			snprintf(out, 16, "\\u%04x\\u%04x", (unsigned)(0xd800 + (c >> 10)),
				 (unsigned)(0xdc00 + (c & 0x3ff)));
		}
	}
	return len;
}

void record_json_str(struct jbuf *b, const char *s, size_t max)
{
	if (!s) {
		jbuf_puts(b, "null");
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), total = 0;
	char esc[16];
	for (size_t i = 0; i < n;) {
		i += json_char(p + i, n - i, esc);
		total += strlen(esc);
	}
	size_t limit = total <= max ? total : max >= 3 ? max - 3 : 0, used = 0;
	jbuf_add(b, "\"", 1);
	for (size_t i = 0; i < n;) {
		size_t k = json_char(p + i, n - i, esc), w = strlen(esc);
		if (used + w > limit)
			break;
		jbuf_add(b, esc, w);
		used += w;
		i += k;
	}
	if (total > max)
		jbuf_add(b, "...", max >= 3 ? 3 : max);
	jbuf_add(b, "\"", 1);
}

static void put_value(struct jbuf *b, const char *key, const struct record_value *v, size_t max)
{
	if (v->kind == RECORD_ABSENT)
		return;
	jbuf_json_key(b, key);
	if (v->kind == RECORD_NULL)
		jbuf_puts(b, "null");
	else if (v->kind == RECORD_INT)
		jbuf_printf(b, "%lld", v->num);
	else
		record_json_str(b, v->str, max);
}

void record_journal_json(struct jbuf *b, const struct journal_record *r, size_t max)
{
	if (!r->readable) {
		jbuf_puts(b, "{\"unreadable\":true}");
		return;
	}
	jbuf_puts(b, "{");
	put_value(b, "time", &r->time, max);
	put_value(b, "host", &r->host, max);
	put_value(b, "pid", &r->pid, max);
	put_value(b, "image", &r->image, max);
	put_value(b, "event", &r->event, max);
	put_value(b, "volume", &r->volume, max);
	put_value(b, "from", &r->from, max);
	put_value(b, "to", &r->to, max);
	put_value(b, "detail", &r->detail, max);
	jbuf_puts(b, "}");
}

void record_dirty_json(struct jbuf *b, const struct dirty_record *r, size_t max)
{
	if (!r->readable) {
		jbuf_puts(b, "{\"unreadable\":true}");
		return;
	}
	jbuf_puts(b, "{");
	put_value(b, "from", &r->from, max);
	put_value(b, "to", &r->to, max);
	put_value(b, "hook", &r->hook, max);
	put_value(b, "sha256", &r->sha256, max);
	put_value(b, "pid", &r->pid, max);
	put_value(b, "host", &r->host, max);
	put_value(b, "started_at", &r->started_at, max);
	put_value(b, "snapshot", &r->snapshot, max);
	put_value(b, "readers", &r->readers, max);
	jbuf_puts(b, "}");
}

void record_text(struct jbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t len = utf8_next(p + i, n - i, &c);
		if (len == 0 || c < 0x20 || (c >= 0x7f && c < 0xa0)) {
			/* C1 too: some terminals take U+009B for CSI. */
			size_t k = len ? len : 1;
			for (size_t j = 0; j < k; j++)
				jbuf_printf(b, "\\x%02x", p[i + j]);
			i += k;
		} else {
			jbuf_add(b, (const char *)p + i, len);
			i += len;
		}
	}
}
