/* Unit tests for the lock's byte ranges (lock.h): which claims exclude
 * which, on a real file, with other open file descriptions playing the
 * other processes (OFD locks conflict between descriptions, also within
 * one process). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lock.h"

static char path[64];

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_lock.XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static int open_lock(void)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* Another process's try: 0, or -1 (EAGAIN, and then it holds nothing). */
static int other_take(int fd, struct lock_claim c)
{
	int rc = lock_take(fd, &c);
	if (rc != 0)
		assert_int_equal(errno, EAGAIN);
	return rc;
}

static void claims_are_these_ranges(void **state)
{
	(void)state;
	struct lock_claim c = lock_claim_look(3);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.r[0].type, F_RDLCK);
	assert_true(c.r[0].start == LOCK_MIGRATION_BYTE && c.r[0].len == 1);
	assert_true(c.r[1].start == 3 && c.r[1].len == 1);
	assert_int_equal(lock_claim_look(-1).n, 1);
	c = lock_claim_online(2);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.r[0].type, F_WRLCK);
	assert_true(c.r[0].start == LOCK_MIGRATION_BYTE && c.r[0].len == 1);
	assert_true(c.r[1].start == 0 && c.r[1].len == 2);
	assert_int_equal(lock_claim_online(0).n, 1); /* no version below 0 */
	c = lock_claim_all();
	assert_true(c.n == 1 && c.r[0].start == 0 && c.r[0].len == 0);
	/* Past every version: no app's byte is the migration byte. */
	assert_true(LOCK_MIGRATION_BYTE > VERSION_MAX);
}

/* An app expecting 1 runs beside a migration with readers 1, and holds off
 * one with readers 2 and an offline one. */
static void apps_at_or_above_readers_run_beside(void **state)
{
	(void)state;
	int app = open_lock(), mig = open_lock();
	lock_keep(app, -1, false);
	assert_int_equal(other_take(app, lock_claim_look(1)), 0);
	lock_keep(app, 1, false); /* the look's byte goes, the app's stays */
	assert_int_equal(other_take(mig, lock_claim_online(1)), 0);
	lock_release(mig);
	assert_int_equal(other_take(mig, lock_claim_online(2)), -1);
	assert_int_equal(other_take(mig, lock_claim_all()), -1);
	close(app); /* killed: the kernel drops its lock at once */
	assert_int_equal(other_take(mig, lock_claim_all()), 0);
	close(mig);
}

/* A migrator excludes other migrators and lookers, not the apps above its
 * readers; a failed take leaves nothing held. */
static void migrators_exclude_each_other_and_lookers(void **state)
{
	(void)state;
	int a = open_lock(), b = open_lock(), c = open_lock();
	assert_int_equal(other_take(a, lock_claim_online(1)), 0);
	assert_int_equal(other_take(b, lock_claim_online(1)), -1);
	assert_int_equal(other_take(c, lock_claim_look(-1)), -1);
	assert_int_equal(other_take(c, lock_claim_look(5)), -1);
	lock_release(a);
	/* A looker holds the migration byte shared: a migrator fails, and
	 * holds nothing after (byte 0 is free for anyone). */
	assert_int_equal(other_take(c, lock_claim_look(-1)), 0);
	assert_int_equal(other_take(a, lock_claim_online(3)), -1);
	struct lock_claim zero = { .n = 1, .r = { { F_WRLCK, 0, 1 } } };
	assert_int_equal(other_take(b, zero), 0);
	close(a);
	close(b);
	close(c);
}

/* After acting, the migrator keeps only its app's byte (and, still
 * looking, the migration byte shared): another migration with readers at
 * or below it may run, one above it waits. */
static void keep_app_converts_then_drops(void **state)
{
	(void)state;
	int a = open_lock(), b = open_lock();
	assert_int_equal(other_take(a, lock_claim_all()), 0);
	/* A start still looking (verify) keeps the migration byte too: no
	 * migration yet, other lookers welcome. */
	lock_keep(a, 2, true);
	assert_int_equal(other_take(b, lock_claim_online(0)), -1);
	assert_int_equal(other_take(b, lock_claim_look(2)), 0);
	lock_release(b);
	lock_keep(a, 2, false);
	assert_int_equal(other_take(b, lock_claim_online(2)), 0);
	lock_release(b);
	assert_int_equal(other_take(b, lock_claim_online(3)), -1);
	struct lock_claim two = { .n = 1, .r = { { F_RDLCK, 2, 1 } } };
	assert_int_equal(other_take(b, two), 0); /* shared with another app */
	close(a);
	close(b);
}

/* The survey names what the kernel holds for others: apps by version,
 * ascending, only those in the way of a claim; a migration; a look. */
static void survey_names_versions(void **state)
{
	(void)state;
	int apps[3] = { open_lock(), open_lock(), open_lock() };
	int versions[3] = { 5, 0, 1 };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(other_take(apps[i], lock_claim_look(versions[i])), 0);
		lock_keep(apps[i], versions[i], false);
	}
	int me = open_lock();
	struct lock_survey s;
	lock_survey(me, NULL, &s);
	assert_int_equal(s.napps, 3);
	assert_int_equal(s.apps[0], 0);
	assert_int_equal(s.apps[1], 1);
	assert_int_equal(s.apps[2], 5);
	assert_false(s.migrating || s.looking || s.old_shared || s.more_apps);
	struct lock_claim c = lock_claim_online(2);
	lock_survey(me, &c, &s);
	assert_int_equal(s.napps, 2); /* 5 is not in the way */
	assert_int_equal(s.apps[1], 1);
	/* Our own locks are never reported. */
	assert_int_equal(other_take(me, lock_claim_look(7)), 0);
	lock_survey(me, NULL, &s);
	assert_int_equal(s.napps, 3);
	assert_false(s.looking);
	lock_release(me);
	int m = open_lock();
	assert_int_equal(other_take(m, lock_claim_online(0)), 0);
	lock_survey(me, NULL, &s);
	assert_true(s.migrating);
	close(m);
	/* A whole-file shared lock is an app of volinit 0.1. */
	int old = open_lock();
	struct lock_claim whole = { .n = 1, .r = { { F_RDLCK, 0, 0 } } };
	assert_int_equal(other_take(old, whole), 0);
	lock_survey(me, NULL, &s);
	assert_true(s.old_shared);
	c = lock_claim_online(0);
	assert_int_equal(other_take(me, c), -1); /* it holds off any migration */
	close(old);
	for (int i = 0; i < 3; i++)
		close(apps[i]);
	close(me);
}

/* More apps than a survey lists: bounded, and said. */
static void survey_is_bounded(void **state)
{
	(void)state;
	int fds[LOCK_APPS_MAX + 2];
	for (int i = 0; i < LOCK_APPS_MAX + 2; i++) {
		fds[i] = open_lock();
		struct lock_claim c = { .n = 1, .r = { { F_RDLCK, 10 + 2 * i, 1 } } };
		assert_int_equal(other_take(fds[i], c), 0);
	}
	int me = open_lock();
	struct lock_survey s;
	lock_survey(me, NULL, &s);
	assert_int_equal(s.napps, LOCK_APPS_MAX);
	assert_true(s.more_apps);
	for (int i = 0; i < LOCK_APPS_MAX + 2; i++)
		close(fds[i]);
	close(me);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(claims_are_these_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(apps_at_or_above_readers_run_beside, setup,
						teardown),
		cmocka_unit_test_setup_teardown(migrators_exclude_each_other_and_lookers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(keep_app_converts_then_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(survey_names_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(survey_is_bounded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
