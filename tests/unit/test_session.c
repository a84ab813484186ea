/* Unit tests for session_open: what each lock mode takes, creates and
 * waits for, on a real directory, with a second open file description of
 * .volinit/lock playing the other process (OFD locks conflict between
 * descriptions, also within one process). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session.h"

struct dir {
	char root[64], vol[80], lock[96];
	struct volume_conf v;
};

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));
	if (!d)
		return -1;
	snprintf(d->root, sizeof(d->root), "/tmp/test_session.XXXXXX");
	if (!mkdtemp(d->root))
		return -1;
	snprintf(d->vol, sizeof(d->vol), "%s/vol", d->root);
	snprintf(d->lock, sizeof(d->lock), "%s/.volinit/lock", d->vol);
	if (mkdir(d->vol, 0755) != 0)
		return -1;
	d->v.name = "data";
	d->v.path = d->vol;
	d->v.version_file = "schema_version.txt";
	d->v.expected = 1;
	d->v.lock_timeout = 1;
	*state = d;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static int teardown(void **state)
{
	struct dir *d = *state;
	nftw(d->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(d);
	return 0;
}

static void put_version(const struct dir *d, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/schema_version.txt", d->vol);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The other process's lock: type F_RDLCK or F_WRLCK on a description of
 * its own. Returns its descriptor, or -1 when it conflicts (EAGAIN). */
static int other_lock(const struct dir *d, short type)
{
	int fd = open(d->lock, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return fd;
	assert_int_equal(errno, EAGAIN);
	close(fd);
	return -1;
}

static bool exists(const struct dir *d, const char *name)
{
	char path[160];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", d->vol, name);
	return lstat(path, &st) == 0;
}

static void none_and_shared_create_nothing(void **state)
{
	struct dir *d = *state;
	put_version(d, "1\n");
	struct session s;
	assert_int_equal(session_open(&s, &d->v, SESSION_NONE, GUARD_START), 0);
	assert_int_equal(s.d.action, ACT_RUN);
	assert_int_equal(s.lockfd, -1);
	session_close(&s);
	assert_int_equal(session_open(&s, &d->v, SESSION_SHARED, GUARD_START), 0);
	assert_int_equal(s.d.action, ACT_RUN);
	assert_int_equal(s.lockfd, -1); /* no lock yet: nothing to wait for */
	session_close(&s);
	assert_false(exists(d, ".volinit"));
}

static void exclusive_makes_the_lock_and_excludes(void **state)
{
	struct dir *d = *state;
	put_version(d, "1\n");
	struct session s;
	assert_int_equal(session_open(&s, &d->v, SESSION_EXCLUSIVE, GUARD_START), 0);
	assert_true(s.lockfd >= 0);
	assert_int_equal(s.obs.what, OBS_VERSION);
	assert_int_equal(other_lock(d, F_RDLCK), -1);
	assert_true(exists(d, ".volinit/holders"));
	session_close(&s);
	int fd = other_lock(d, F_WRLCK);
	assert_true(fd >= 0);
	close(fd);
}

static void hold_inits_under_a_shared_lock(void **state)
{
	struct dir *d = *state;
	struct session s;
	assert_int_equal(session_open(&s, &d->v, SESSION_HOLD, GUARD_START), 0);
	assert_int_equal(s.d.action, ACT_INIT);
	assert_int_equal(other_lock(d, F_WRLCK), -1);
	int fd = other_lock(d, F_RDLCK); /* another replica's start */
	assert_true(fd >= 0);
	/* Acting needs the exclusive lock, which the other replica denies:
	 * settle waits shared (never queued behind it) and times out. */
	assert_int_equal(session_settle(&s, NULL), 75);
	close(fd);
	assert_false(exists(d, "schema_version.txt"));
	session_close(&s);
	assert_int_equal(session_open(&s, &d->v, SESSION_HOLD, GUARD_START), 0);
	assert_int_equal(session_settle(&s, NULL), 0);
	assert_true(exists(d, "schema_version.txt"));
	assert_int_equal(other_lock(d, F_WRLCK), -1); /* back to shared, still held */
	session_close(&s);
}

static void peek_never_waits(void **state)
{
	struct dir *d = *state;
	put_version(d, "1\n");
	struct session s;
	assert_int_equal(session_open(&s, &d->v, SESSION_EXCLUSIVE, GUARD_START), 0);
	struct session p;
	assert_int_equal(session_open(&p, &d->v, SESSION_PEEK, GUARD_START), 0);
	assert_true(p.others.migrating);
	assert_int_equal(p.lockfd, -1);
	assert_int_equal(p.obs.what, OBS_VERSION); /* shown all the same */
	session_close(&p);
	session_close(&s);
}

static void shared_waits_then_75(void **state)
{
	struct dir *d = *state;
	put_version(d, "1\n");
	struct session s;
	assert_int_equal(session_open(&s, &d->v, SESSION_EXCLUSIVE, GUARD_START), 0);
	struct session c;
	assert_int_equal(session_open(&c, &d->v, SESSION_SHARED, GUARD_START), 75);
	assert_int_equal(c.obs.what, OBS_VERSION); /* check --json shows it */
	session_close(&c);
	session_close(&s);
}

static void unreachable_creates_nothing(void **state)
{
	struct dir *d = *state;
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/none", d->vol);
	d->v.path = missing;
	struct session s;
	assert_int_equal(session_open(&s, &d->v, SESSION_SHARED, GUARD_START), 0);
	assert_int_equal(s.obs.what, OBS_NO_PATH);
	assert_int_equal(s.d.action, ACT_REFUSE);
	int code = s.d.code;
	assert_true(code > 0);
	session_close(&s);
	assert_int_equal(session_open(&s, &d->v, SESSION_HOLD, GUARD_START), code);
	session_close(&s);
	assert_int_equal(session_open(&s, &d->v, SESSION_EXCLUSIVE, GUARD_START), code);
	session_close(&s);
	assert_false(exists(d, "none"));
	/* Not mounted: the directory is there, no .volinit/ is made in it. */
	d->v.path = d->vol;
	d->v.require_mount = true;
	int rc = session_open(&s, &d->v, SESSION_HOLD, GUARD_START);
	assert_int_equal(s.obs.what, OBS_NOT_MOUNTED);
	assert_int_equal(s.d.action, ACT_REFUSE);
	assert_int_equal(rc, s.d.code);
	session_close(&s);
	assert_false(exists(d, ".volinit"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(none_and_shared_create_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(exclusive_makes_the_lock_and_excludes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(hold_inits_under_a_shared_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(peek_never_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(shared_waits_then_75, setup, teardown),
		cmocka_unit_test_setup_teardown(unreachable_creates_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
