/* Unit tests for jbuf's JSON strings: escaping, and cutting to a maximum
 * without ever leaving invalid JSON or a split UTF-8 sequence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "jbuf.h"

static const char *json(const char *s, size_t max)
{
	static char out[512];
	struct jbuf b;
	jbuf_init(&b, out, sizeof(out));
	jbuf_json_str_max(&b, s, max);
	assert_false(b.truncated);
	return out;
}

static void escapes(void **state)
{
	(void)state;
	assert_string_equal(json("plain", 100), "\"plain\"");
	assert_string_equal(json("a\"b\\c", 100), "\"a\\\"b\\\\c\"");
	assert_string_equal(json("l1\nl2\t\r", 100), "\"l1\\nl2\\t\\r\"");
	assert_string_equal(json("\x01\x1f\x7f", 100), "\"\\u0001\\u001f\\u007f\"");
	assert_string_equal(json("", 100), "\"\"");
	assert_string_equal(json(NULL, 100), "null");
}

static void utf8_kept_and_invalid_bytes_replaced(void **state)
{
	(void)state;
	assert_string_equal(json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", 100),
			    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3\"");
	/* Latin-1 e-acute, a lone continuation byte, a sequence cut by the end. */
	assert_string_equal(json("caf\xe9", 100), "\"caf\\ufffd\"");
	assert_string_equal(json("\x80x", 100), "\"\\ufffdx\"");
	assert_string_equal(json("x\xe2\x82", 100), "\"x\\ufffd\\ufffd\"");
	assert_string_equal(json("\xc0\xaf", 100), "\"\\ufffd\\ufffd\"");
}

/* Each byte of a sequence that is not UTF-8 becomes U+FFFD: strict JSON
 * parsers (and UTF-8 decoders) reject them. */
static void not_utf8_replaced(void **state)
{
	(void)state;
	/* Encoded surrogates U+D800 and U+DFFF. */
	assert_string_equal(json("a\xed\xa0\x80z", 100), "\"a\\ufffd\\ufffd\\ufffdz\"");
	assert_string_equal(json("\xed\xbf\xbf", 100), "\"\\ufffd\\ufffd\\ufffd\"");
	/* Overlongs: '/' in two and three bytes, U+0800 in four. */
	assert_string_equal(json("\xc0\xaf", 100), "\"\\ufffd\\ufffd\"");
	assert_string_equal(json("\xe0\x80\xaf", 100), "\"\\ufffd\\ufffd\\ufffd\"");
	assert_string_equal(json("\xf0\x80\xa0\x80", 100),
			    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* Above U+10FFFF, and bytes that never occur in UTF-8. */
	assert_string_equal(json("\xf4\x90\x80\x80", 100),
			    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	assert_string_equal(json("\xf5\xff\xfe", 100), "\"\\ufffd\\ufffd\\ufffd\"");
	/* The edges that are valid stay as they are. */
	assert_string_equal(json("\xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80", 100),
			    "\"\xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80\"");
	assert_string_equal(json("\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf", 100),
			    "\"\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf\"");
}

static void cut_to_max(void **state)
{
	(void)state;
	/* Exactly max fits whole; one more is cut to max - 3 and "...". */
	assert_string_equal(json("abcdef", 6), "\"abcdef\"");
	assert_string_equal(json("abcdefg", 6), "\"abc...\"");
	/* Never inside an escape: \n is 2 bytes and does not fit in 1. */
	assert_string_equal(json("a\nbcdefgh", 5), "\"a...\"");
	assert_string_equal(json("\x01zzzzzzzz", 8), "\"...\"");
	/* Never inside a UTF-8 sequence: the euro sign is 3 bytes. */
	assert_string_equal(json("ab\xe2\x82\xac" "cdefgh", 7), "\"ab...\"");
	assert_string_equal(json("ab\xe2\x82\xac" "cdefgh", 8), "\"ab\xe2\x82\xac...\"");
	assert_string_equal(json("ab\xe2\x82\xac" "cdefgh", 9), "\"ab\xe2\x82\xac" "c...\"");
	/* A maximum below 3 still closes the string. */
	assert_string_equal(json("abcdef", 2), "\"..\"");
	assert_string_equal(json("abcdef", 0), "\"\"");
}

static void cut_output_is_bounded(void **state)
{
	(void)state;
	char s[300];
	for (size_t i = 0; i < sizeof(s) - 1; i++)
		s[i] = "a\"\\\n\x01\xc3\xa9"[i % 7];
	s[sizeof(s) - 1] = '\0';
	for (size_t max = 0; max < 200; max++) {
		const char *out = json(s, max);
		size_t len = strlen(out);
		assert_true(len >= 2 && out[0] == '"' && out[len - 1] == '"');
		assert_true(len - 2 <= max);
	}
}

/* The times volinit writes read back: known values, a leap day, jbuf_time's
 * own output, and what is not one of its times. */
static void time_parsed_back(void **state)
{
	(void)state;
	long long t;
	assert_true(jbuf_time_parse("2026-12-07T23:51:17.681Z", &t));
	assert_int_equal(t, 1796687477LL);
	assert_true(jbuf_time_parse("2000-02-29T00:00:00.000Z", &t));
	assert_int_equal(t, 951782400LL);
	assert_true(jbuf_time_parse("1970-01-01T00:00:00.000Z", &t));
	assert_int_equal(t, 0);
	char buf[40];
	struct jbuf b;
	jbuf_init(&b, buf, sizeof(buf));
	long long before = (long long)time(NULL);
	jbuf_time(&b);
	assert_true(jbuf_time_parse(buf, &t));
	assert_true(t >= before && t <= (long long)time(NULL));
	assert_false(jbuf_time_parse("2026-12-07 23:51:17.681Z", &t));
	assert_false(jbuf_time_parse("2026-12-07T23:51", &t));
	assert_false(jbuf_time_parse("", &t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escapes),
		cmocka_unit_test(utf8_kept_and_invalid_bytes_replaced),
		cmocka_unit_test(not_utf8_replaced),
		cmocka_unit_test(cut_to_max),
		cmocka_unit_test(cut_output_is_bounded),
		cmocka_unit_test(time_parsed_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
