/* Unit tests for record: a journal line or dirty marker is either one of
 * volinit's flat objects, parsed into fields, or unreadable; and what is
 * written out again is valid JSON in printable ASCII whatever came in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "record.h"

static struct journal_record jr;
static struct dirty_record dr;

static bool journal(const char *s)
{
	return record_parse_journal(s, strlen(s), &jr);
}

static bool dirty(const char *s)
{
	return record_parse_dirty(s, strlen(s), &dr);
}

static const char *journal_out(size_t max)
{
	static char out[16384];
	struct jbuf b;
	jbuf_init(&b, out, sizeof(out));
	record_journal_json(&b, &jr, max);
	assert_false(b.truncated);
	return out;
}

static const char *dirty_out(void)
{
	static char out[16384];
	struct jbuf b;
	jbuf_init(&b, out, sizeof(out));
	record_dirty_json(&b, &dr, 1024);
	assert_false(b.truncated);
	return out;
}

#define LINE "{\"time\":\"2026-11-23T17:44:42.123Z\",\"host\":\"h1\",\"pid\":7,\"image\":\"img:1\"," \
	     "\"event\":\"step_ok\",\"volume\":\"data\",\"from\":1,\"to\":2,\"detail\":\"0002\"}"

static void volinits_own_line(void **state)
{
	(void)state;
	assert_true(journal(LINE "\n"));
	assert_int_equal(jr.time.kind, RECORD_STRING);
	assert_string_equal(jr.time.str, "2026-11-23T17:44:42.123Z");
	assert_string_equal(jr.host.str, "h1");
	assert_int_equal(jr.pid.kind, RECORD_INT);
	assert_int_equal(jr.pid.num, 7);
	assert_string_equal(jr.event.str, "step_ok");
	assert_int_equal(jr.from.num, 1);
	assert_int_equal(jr.to.num, 2);
	assert_string_equal(jr.detail.str, "0002");
	/* Written out again: the same object. */
	assert_string_equal(journal_out(1024), LINE);

	assert_true(journal("{\"event\":\"start\",\"from\":null,\"to\":null,\"detail\":null}"));
	assert_int_equal(jr.from.kind, RECORD_NULL);
	assert_int_equal(jr.detail.kind, RECORD_NULL);
	assert_int_equal(jr.time.kind, RECORD_ABSENT);
	assert_string_equal(journal_out(1024),
			    "{\"event\":\"start\",\"from\":null,\"to\":null,\"detail\":null}");
	assert_true(journal("  { \"event\" : \"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\udc33\" }  \r\n"));
	assert_string_equal(jr.event.str, "a\"b\\c/\n\xc3\xa9\xf0\x9f\x90\xb3");
}

static void anything_else_is_unreadable(void **state)
{
	(void)state;
	const char *bad[] = {
		"", " ", "{[}", "[]", "\"event\"", "null", "{}", /* no event */
		"{\"event\":\"x\"", "{\"event\":\"x\",}", "{\"event\" \"x\"}", "{\"event\":\"x}",
		"{\"event\":\"x\"} {}", "{\"event\":\"x\"}x", "{event:\"x\"}", "{'event':'x'}",
		/* extra, unknown or doubled keys, nesting */
		"{\"event\":\"x\",\"state\":\"current\"}",
		"{\"event\":\"refuse\",\"event\":\"start\"}",
		"{\"event\":\"refuse\",\"\\u0065vent\":\"start\"}",
		"{\"event\":{\"a\":1}}", "{\"event\":[\"x\"]}", "{\"event\":\"x\",\"detail\":{}}",
		/* wrong types */
		"{\"event\":1}", "{\"event\":null}", "{\"event\":true}", "{\"event\":\"x\",\"pid\":\"7\"}",
		"{\"event\":\"x\",\"from\":1.5}", "{\"event\":\"x\",\"from\":1e3}",
		"{\"event\":\"x\",\"from\":01}", "{\"event\":\"x\",\"from\":-1}",
		"{\"event\":\"x\",\"from\":2147483648}", "{\"event\":\"x\",\"pid\":1234567890123456789}",
		"{\"event\":\"x\",\"from\":-}", "{\"event\":\"x\",\"time\":null}",
		/* strings JSON forbids or a C string cannot hold */
		"{\"event\":\"a\x1b[31mb\"}", "{\"event\":\"a\tb\"}", "{\"event\":\"\\u0000\"}",
		"{\"event\":\"\\ud800\"}", "{\"event\":\"\\udc00x\"}", "{\"event\":\"\\ud800\\u0041\"}",
		"{\"event\":\"\\x41\"}", "{\"event\":\"\\u12\"}", "{\"event\":\"x\\\"}",
		/* invalid UTF-8: Latin-1, overlong, surrogate, above U+10FFFF, cut */
		"{\"event\":\"caf\xe9\"}", "{\"event\":\"\xc0\xaf\"}", "{\"event\":\"\xe0\x80\xaf\"}",
		"{\"event\":\"\xed\xa0\x80\"}", "{\"event\":\"\xf4\x90\x80\x80\"}",
		"{\"event\":\"\xe2\x82\"}", "{\"event\":\"x\"}\xff",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (journal(bad[i]))
			fail_msg("parsed as readable: %s", bad[i]);
		assert_string_equal(journal_out(1024), "{\"unreadable\":true}");
	}
	/* A NUL inside. */
	assert_false(record_parse_journal("{\"event\":\"x\0y\"}", 15, &jr));
	assert_false(record_parse_journal("{\"event\":\"x\"}\0", 14, &jr));
}

static void length_bounded(void **state)
{
	(void)state;
	size_t n = 1024 * 1024;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'a', n);
	memcpy(big, "{\"event\":\"", 10);
	memcpy(big + n - 2, "\"}", 2);
	big[n] = '\0';
	assert_false(journal(big));
	/* RECORD_MAX bytes is still parsed; one more is not. */
	memcpy(big + RECORD_MAX - 2, "\"}", 2);
	assert_true(record_parse_journal(big, RECORD_MAX, &jr));
	assert_int_equal(strlen(jr.event.str), RECORD_MAX - 12);
	memset(big + RECORD_MAX - 2, 'a', 2);
	memcpy(big + RECORD_MAX - 1, "\"}", 2);
	assert_false(record_parse_journal(big, RECORD_MAX + 1, &jr));
	free(big);
}

static void written_in_printable_ascii(void **state)
{
	(void)state;
	/* ESC, DEL, C1 CSI, a right-to-left override, an emoji: all \u. */
	assert_true(journal("{\"event\":\"x\",\"detail\":\"\\u001b[2J\x7f\xc2\x9b\xe2\x80\xae\xf0\x9f\x90\xb3\"}"));
	const char *out = journal_out(1024);
	assert_string_equal(out, "{\"event\":\"x\",\"detail\":\"\\u001b[2J\\u007f\\u009b\\u202e"
				 "\\ud83d\\udc33\"}");
	for (const char *p = out; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	/* Cut after a whole escape, then "...". */
	assert_true(journal("{\"event\":\"ab\\u001bcdef\"}"));
	assert_string_equal(journal_out(8), "{\"event\":\"ab...\"}");
	assert_string_equal(journal_out(11), "{\"event\":\"ab\\u001b...\"}");
	assert_string_equal(journal_out(12), "{\"event\":\"ab\\u001bcdef\"}");
}

static void dirty_markers(void **state)
{
	(void)state;
	const char *m = "{\"from\":1,\"to\":2,\"hook\":\"0002-x.sh\",\"sha256\":\"ab\",\"pid\":9,"
			"\"host\":\"h\",\"started_at\":\"2020-01-01T00:00:00Z\"}";
	assert_true(dirty(m));
	assert_string_equal(dirty_out(), m);
	assert_true(dirty("{\"from\":1,\"to\":2,\"snapshot\":\"s-1\"}\n"));
	assert_string_equal(dr.snapshot.str, "s-1");
	assert_true(dirty("{\"from\":1,\"to\":2,\"snapshot\":null}"));
	assert_int_equal(dr.snapshot.kind, RECORD_NULL);
	const char *bad[] = {
		"{[}", "", "{\"from\":1}", "{\"to\":2}", "{\"from\":null,\"to\":2}",
		"{\"from\":1,\"to\":2,\"to\":3}", "{\"from\":1,\"to\":2,\"event\":\"x\"}",
		"{\"from\":1,\"to\":2,\"hook\":\"\x1b]0;owned\x07\"}", "{\"from\":1,\"to\":2}{",
		"{\"from\":1,\"to\":2,\"snapshot\":3}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dirty(bad[i]))
			fail_msg("parsed as readable: %s", bad[i]);
		assert_string_equal(dirty_out(), "{\"unreadable\":true}");
	}
}

static void text_escaped(void **state)
{
	(void)state;
	char out[256];
	struct jbuf b;
	jbuf_init(&b, out, sizeof(out));
	record_text(&b, "data \x1b[31m\xc2\x9b caf\xc3\xa9 \xe9\x7f");
	assert_string_equal(out, "data \\x1b[31m\\xc2\\x9b caf\xc3\xa9 \\xe9\\x7f");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(volinits_own_line),
		cmocka_unit_test(anything_else_is_unreadable),
		cmocka_unit_test(length_bounded),
		cmocka_unit_test(written_in_printable_ascii),
		cmocka_unit_test(dirty_markers),
		cmocka_unit_test(text_escaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
