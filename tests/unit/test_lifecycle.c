/* Unit tests for lifecycle: the exit event's detail round-trips and
 * nothing else parses; the summary over journal records tells a crash loop
 * from clean restarts, pairs each exit with its own volinit's start, and
 * ignores whatever is not volinit's (forged, unreadable). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "lifecycle.h"

#define MAXREC 64
static struct journal_record recs[MAXREC];
static size_t nrecs;
static struct lifecycle l;
static int minute; /* each record a minute after the last */

/* Adds a parsed record: event on host/pid, detail a JSON value. */
static void add_line(const char *line)
{
	assert_true(nrecs < MAXREC);
	record_parse_journal(line, strlen(line), &recs[nrecs++]);
}

static void ev(const char *event, const char *host, int pid, const char *detail_json)
{
	char line[1024];
	snprintf(line, sizeof(line),
		 "{\"time\":\"2026-12-05T07:%02d:00.000Z\",\"host\":\"%s\",\"pid\":%d,\"image\":\"\","
		 "\"event\":\"%s\",\"volume\":\"data\",\"from\":2,\"to\":2,\"detail\":%s}",
		 minute++, host, pid, event, detail_json);
	add_line(line);
	assert_true(recs[nrecs - 1].readable);
}

static void start(int pid) { ev("start", "h", pid, "null"); }
static void exited(int pid, int code)
{
	char d[64];
	snprintf(d, sizeof(d), "\"exited with %d after 1.500 s\"", code);
	ev("exit", "h", pid, d);
}

static int setup(void **state)
{
	(void)state;
	nrecs = 0;
	minute = 0;
	return 0;
}

static void summarize(void) { lifecycle_summarize(recs, nrecs, &l); }

static const char *json(void)
{
	static char out[1024];
	struct jbuf b;
	jbuf_init(&b, out, sizeof(out));
	lifecycle_json(&b, &l);
	assert_false(b.truncated);
	return out;
}

static const char *text(void)
{
	static char out[1024];
	struct jbuf b;
	jbuf_init(&b, out, sizeof(out));
	lifecycle_text(&b, &l);
	assert_false(b.truncated);
	return out;
}

static void detail_round_trip(void **state)
{
	(void)state;
	char d[LIFECYCLE_DETAIL_MAX];
	struct lifecycle_exit e;
	lifecycle_exit_detail(d, sizeof(d), 3 << 8, 12345);
	assert_string_equal(d, "exited with 3 after 12.345 s");
	assert_true(lifecycle_parse_exit(d, &e));
	assert_int_equal(e.status, 3);
	assert_int_equal(e.signal, 0);
	assert_int_equal(e.ms, 12345);
	lifecycle_exit_detail(d, sizeof(d), SIGKILL, 50);
	assert_string_equal(d, "killed by signal 9 after 0.050 s");
	assert_true(lifecycle_parse_exit(d, &e));
	assert_int_equal(e.status, -1);
	assert_int_equal(e.signal, 9);
	assert_int_equal(e.ms, 50);
	lifecycle_exit_detail(d, sizeof(d), 255 << 8, 999999999999999LL);
	assert_string_equal(d, "exited with 255 after 999999999999.999 s");
	assert_true(lifecycle_parse_exit(d, &e));
	assert_int_equal(e.ms, 999999999999999LL);
}

static void other_details_do_not_parse(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "exited with", "exited with 256 after 1.000 s", "exited with 03 after 1.000 s",
		"exited with -1 after 1.000 s", "exited with 0 after 1.00 s",
		"exited with 0 after 1.0000 s", "exited with 0 after 1.000 s\n",
		"exited with 0 after 1.000 s ", "exited with 0 after 01.000 s",
		"exited with 0 after .500 s", "exited with 0  after 1.000 s",
		"killed by signal 0 after 1.000 s", "killed by signal 65 after 1.000 s",
		"killed by signal 9", "Exited with 0 after 1.000 s",
		"exited with 0 after 1000000000000.000 s", "exited with 0\x1b[31m after 1.000 s",
	};
	struct lifecycle_exit e;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (lifecycle_parse_exit(bad[i], &e))
			fail_msg("parsed: \"%s\"", bad[i]);
	assert_false(lifecycle_parse_exit(NULL, &e));
}

static void crash_loop_then_clean(void **state)
{
	(void)state;
	for (int i = 0; i < 5; i++) {
		start(1);
		exited(1, 1);
	}
	start(1);
	exited(1, 0);
	summarize();
	assert_int_equal(l.nrecent, 6);
	assert_int_equal(lifecycle_crashes(&l), 5);
	assert_false(lifecycle_running(&l));
	assert_string_equal(l.last_start, "2026-12-05T07:10:00.000Z");
	assert_string_equal(l.last_exit_time, "2026-12-05T07:11:00.000Z");
	assert_int_equal(l.last_exit.status, 0);
	assert_string_equal(json(), "{\"last_start\":\"2026-12-05T07:10:00.000Z\",\"last_exit\":"
			    "{\"time\":\"2026-12-05T07:11:00.000Z\",\"status\":0,\"signal\":null,"
			    "\"seconds\":1.500},\"running\":false,\"window\":10,\"starts\":6,"
			    "\"crashes\":5}");
	assert_string_equal(text(), "  lifecycle:    last start 2026-12-05T07:10:00.000Z, last exit "
			    "2026-12-05T07:11:00.000Z: exited with 0 after 1.500 s\n"
			    "  crashes:      5 of the last 6 starts (fewer than 10 recorded)\n");
}

static void clean_restarts(void **state)
{
	(void)state;
	for (int i = 0; i < 12; i++) {
		start(1);
		exited(1, 0);
	}
	summarize();
	assert_int_equal(l.nrecent, LIFECYCLE_STARTS);
	assert_int_equal(lifecycle_crashes(&l), 0);
	assert_string_equal(text() + strcspn(text(), "\n") + 1,
			    "  crashes:      0 of the last 10 starts\n");
}

static void a_signal_is_a_crash(void **state)
{
	(void)state;
	start(1);
	ev("exit", "h", 1, "\"killed by signal 15 after 0.200 s\"");
	summarize();
	assert_int_equal(lifecycle_crashes(&l), 1);
	assert_int_equal(l.last_exit.signal, 15);
	assert_non_null(strstr(json(), "\"status\":null,\"signal\":15,\"seconds\":0.200}"));
	assert_non_null(strstr(text(), ": killed by signal 15 after 0.200 s\n"));
}

/* Killed hard (no exit), started again: a crash; the newest start without
 * an exit is running, not a crash. */
static void a_start_without_exit(void **state)
{
	(void)state;
	start(1);
	start(1);
	exited(1, 0);
	start(1);
	summarize();
	assert_int_equal(l.nrecent, 3);
	assert_int_equal(lifecycle_crashes(&l), 1);
	assert_true(lifecycle_running(&l));
	assert_non_null(strstr(json(), "\"running\":true"));
	assert_non_null(strstr(text(), "; no exit since (running, or killed hard)\n"));
}

/* Two replicas on one volume: each exit closes its own start. */
static void replicas_pair_by_host_and_pid(void **state)
{
	(void)state;
	ev("start", "a", 1, "null");
	ev("start", "b", 1, "null");
	ev("exit", "a", 1, "\"exited with 0 after 1.000 s\"");
	ev("exit", "b", 1, "\"exited with 0 after 1.000 s\"");
	summarize();
	assert_int_equal(lifecycle_crashes(&l), 0);
	assert_false(lifecycle_running(&l));
}

static void forged_and_unreadable_ignored(void **state)
{
	(void)state;
	start(1);
	exited(1, 0);
	add_line("{\"event\":\"start\",\"time\":\"2026-12-05T08:00:00.000Z\""); /* cut */
	add_line("not json at all");
	/* Readable, but not volinit's: the detail, the time, the event. */
	ev("exit", "h", 1, "\"exited with 0 after 1.000 s \\u001b[31m\"");
	ev("exit", "h", 1, "\"\\u001b]0;pwned\\u0007\"");
	ev("exit", "h", 1, "null");
	ev("exit", "h", 1, "\"killed by signal 9 after 1.000 s\\n\"");
	add_line("{\"time\":\"2026-12-05T07:59:00.000Z\\u001b[2J\",\"event\":\"start\",\"host\":\"h\","
		 "\"pid\":1}");
	add_line("{\"time\":\"yesterday\",\"event\":\"start\"}");
	add_line("{\"time\":\"2026-12-05T07:59:00.000Z\",\"event\":\"exit\",\"host\":\"h\","
		 "\"pid\":1,\"detail\":\"exited with 0 after 1.000 s\",\"extra\":1}");
	ev("Start", "h", 1, "null");
	summarize();
	assert_int_equal(l.nrecent, 1);
	assert_int_equal(lifecycle_crashes(&l), 0);
	assert_string_equal(l.last_start, "2026-12-05T07:00:00.000Z");
	assert_string_equal(l.last_exit_time, "2026-12-05T07:01:00.000Z");
	assert_int_equal(l.last_exit.status, 0);
	assert_int_equal(l.last_exit.ms, 1500);
}

/* Only the newest LIFECYCLE_STARTS starts count; an exit whose start is
 * older than that still is the last exit, and closes nothing. */
static void the_window(void **state)
{
	(void)state;
	for (int i = 0; i < 5; i++)
		start(1); /* four crashes, soon out of the window */
	for (int i = 0; i < 10; i++)
		start(2 + i);
	exited(1, 0);
	summarize();
	assert_int_equal(l.nrecent, 10);
	assert_int_equal(lifecycle_crashes(&l), 9);
	assert_true(lifecycle_running(&l));
	assert_string_equal(l.last_exit_time, "2026-12-05T07:15:00.000Z");
}

static void no_start_recorded(void **state)
{
	(void)state;
	summarize();
	assert_string_equal(json(), "{\"last_start\":null,\"last_exit\":null,\"running\":false,"
			    "\"window\":10,\"starts\":0,\"crashes\":0}");
	assert_string_equal(text(), "  lifecycle:    no start in the journal\n");
	ev("refuse", "h", 1, "\"schema_version=1, expected=2\"");
	summarize();
	assert_int_equal(l.nrecent, 0);
	assert_string_equal(text(), "  lifecycle:    no start in the journal\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(detail_round_trip, setup),
		cmocka_unit_test_setup(other_details_do_not_parse, setup),
		cmocka_unit_test_setup(crash_loop_then_clean, setup),
		cmocka_unit_test_setup(clean_restarts, setup),
		cmocka_unit_test_setup(a_signal_is_a_crash, setup),
		cmocka_unit_test_setup(a_start_without_exit, setup),
		cmocka_unit_test_setup(replicas_pair_by_host_and_pid, setup),
		cmocka_unit_test_setup(forged_and_unreadable_ignored, setup),
		cmocka_unit_test_setup(the_window, setup),
		cmocka_unit_test_setup(no_start_recorded, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
