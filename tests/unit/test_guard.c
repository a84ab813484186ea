/* Unit tests for the decision: which action and exit code for which
 * volume state and configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "guard.h"

static struct volume_conf volume(int32_t expected)
{
	struct volume_conf v;
	memset(&v, 0, sizeof(v));
	v.name = "data";
	v.path = "/data";
	v.version_file = "schema_version.txt";
	v.expected = expected;
	v.has_expected = true;
	v.snapshot = true;
	return v;
}

static struct observation seen(enum observed what, int32_t version)
{
	struct observation o;
	memset(&o, 0, sizeof(o));
	o.what = what;
	o.version = version;
	o.window.readers = version; /* no .volinit/readers: closed */
	return o;
}

static void current_runs(void **state)
{
	(void)state;
	struct volume_conf v = volume(2);
	struct observation o = seen(OBS_VERSION, 2);
	struct decision d = guard_decide(&v, &o, GUARD_START);
	assert_int_equal(d.action, ACT_RUN);
	assert_string_equal(guard_state_name(&v, &o), "current");
}

static void s003_older_refuses_80(void **state)
{
	(void)state;
	struct volume_conf v = volume(2);
	struct observation o = seen(OBS_VERSION, 1);
	struct decision d = guard_decide(&v, &o, GUARD_START);
	assert_int_equal(d.action, ACT_REFUSE);
	assert_int_equal(d.code, 80);
	assert_string_equal(guard_state_name(&v, &o), "older");
	/* migrate wanted, but no hooks: still 80 */
	v.on_older = OLDER_MIGRATE;
	d = guard_decide(&v, &o, GUARD_START);
	assert_int_equal(d.code, 80);
	/* with hooks: migrate from 1 */
	v.migrations = "/migrations";
	d = guard_decide(&v, &o, GUARD_START);
	assert_int_equal(d.action, ACT_MIGRATE);
	assert_int_equal(d.from, 1);
}

static void explicit_migrate_ignores_on_older(void **state)
{
	(void)state;
	struct volume_conf v = volume(3);
	v.migrations = "/m";
	struct observation o = seen(OBS_VERSION, 1);
	assert_int_equal(guard_decide(&v, &o, GUARD_START).action, ACT_REFUSE);
	assert_int_equal(guard_decide(&v, &o, GUARD_MIGRATE).action, ACT_MIGRATE);
}

static void newer(void **state)
{
	(void)state;
	struct volume_conf v = volume(2);
	struct observation o = seen(OBS_VERSION, 3);
	struct decision d = guard_decide(&v, &o, GUARD_START);
	assert_int_equal(d.action, ACT_REFUSE);
	assert_int_equal(d.code, 81);
	v.on_newer = NEWER_ALLOW;
	assert_int_equal(guard_decide(&v, &o, GUARD_START).action, ACT_RUN);
	assert_string_equal(guard_state_name(&v, &o), "newer");
}

static void missing_version_file(void **state)
{
	(void)state;
	struct volume_conf v = volume(2);
	struct observation empty = seen(OBS_EMPTY, 0);
	assert_int_equal(guard_decide(&v, &empty, GUARD_START).action, ACT_INIT);
	v.on_missing = MISSING_FAIL;
	struct decision d = guard_decide(&v, &empty, GUARD_START);
	assert_int_equal(d.action, ACT_REFUSE);
	assert_int_equal(d.code, 80);

	struct observation data = seen(OBS_UNVERSIONED, 0);
	d = guard_decide(&v, &data, GUARD_START);
	assert_int_equal(d.code, 80); /* no baseline */
	v.has_baseline = true;
	v.baseline = 2;
	assert_int_equal(guard_decide(&v, &data, GUARD_START).action, ACT_ADOPT);
	v.baseline = 1;
	d = guard_decide(&v, &data, GUARD_START);
	assert_int_equal(d.code, 80); /* baseline older, on_older = fail */
	v.on_older = OLDER_MIGRATE;
	v.migrations = "/m";
	d = guard_decide(&v, &data, GUARD_START);
	assert_int_equal(d.action, ACT_MIGRATE);
	assert_int_equal(d.from, 1);
	v.baseline = 5;
	assert_int_equal(guard_decide(&v, &data, GUARD_START).code, 81);
}

static void broken_volumes(void **state)
{
	(void)state;
	struct volume_conf v = volume(2);
	struct { enum observed what; int code; } cases[] = {
		{ OBS_CORRUPT, 65 }, { OBS_NO_PATH, 66 }, { OBS_NOT_MOUNTED, 66 },
		{ OBS_UNREADABLE, 73 }, { OBS_DIRTY, 83 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct observation o = seen(cases[i].what, 0);
		struct decision d = guard_decide(&v, &o, GUARD_START);
		assert_int_equal(d.action, ACT_REFUSE);
		assert_int_equal(d.code, cases[i].code);
	}
	struct observation dirty = seen(OBS_DIRTY, 0);
	dirty.snapshot = true;
	assert_int_equal(guard_decide(&v, &dirty, GUARD_START).action, ACT_RESTORE);
}

/* The window (SPEC.md "Rolling updates"): an older image starts on newer
 * data whose readers it is not below; on_newer = allow still allows all. */
static void newer_inside_the_window_runs(void **state)
{
	(void)state;
	struct volume_conf v = volume(2);
	struct observation o = seen(OBS_VERSION, 3);
	o.window.readers = 2;
	assert_int_equal(guard_decide(&v, &o, GUARD_START).action, ACT_RUN);
	o.window.readers = 3;
	struct decision d = guard_decide(&v, &o, GUARD_START);
	assert_int_equal(d.action, ACT_REFUSE);
	assert_int_equal(d.code, 81);
	v.on_newer = NEWER_ALLOW;
	assert_int_equal(guard_decide(&v, &o, GUARD_START).action, ACT_RUN);
	/* Older than the image: the window plays no part. */
	struct volume_conf w = volume(4);
	w.on_older = OLDER_MIGRATE;
	w.migrations = "/m";
	o.window.readers = 1;
	assert_int_equal(guard_decide(&w, &o, GUARD_START).action, ACT_MIGRATE);
}

/* A killed online step leaves dirty without a snapshot: the volume is where
 * its version file says for images of its readers (the image that migrates
 * it runs the step again); for images below them, 83 as ever. */
static void online_dirty_is_where_its_version_says(void **state)
{
	(void)state;
	struct observation o = seen(OBS_DIRTY, 2);
	o.has_version = true;
	o.online = true;
	o.online_readers = 2;
	struct volume_conf v3 = volume(3);
	v3.on_older = OLDER_MIGRATE;
	v3.migrations = "/m";
	struct decision d = guard_decide(&v3, &o, GUARD_START);
	assert_int_equal(d.action, ACT_MIGRATE);
	assert_int_equal(d.from, 2);
	struct volume_conf v2 = volume(2);
	assert_int_equal(guard_decide(&v2, &o, GUARD_START).action, ACT_RUN);
	struct volume_conf v1 = volume(1);
	v1.on_newer = NEWER_ALLOW;
	d = guard_decide(&v1, &o, GUARD_START);
	assert_int_equal(d.action, ACT_REFUSE);
	assert_int_equal(d.code, 83);
	/* An offline marker without a snapshot: 83 for everyone. */
	o.online = false;
	d = guard_decide(&v3, &o, GUARD_START);
	assert_int_equal(d.code, 83);
}

/* Locks that stay on this node (bindfs, NFS with nolock): every act is
 * refused (73, node_locks), running at a compatible version never is, and
 * single_node = true lets it act. Shared, local and unknown act. */
static void node_local_locks_refuse_acts(void **state)
{
	(void)state;
	struct volume_conf v = volume(2);
	v.on_older = OLDER_MIGRATE;
	v.migrations = "/m";
	struct observation older = seen(OBS_VERSION, 1), current = seen(OBS_VERSION, 2),
			   empty = seen(OBS_EMPTY, 0), dirty = seen(OBS_DIRTY, 1);
	dirty.snapshot = true;
	struct observation *acts[] = { &older, &empty, &dirty };
	enum action what[] = { ACT_MIGRATE, ACT_INIT, ACT_RESTORE };
	for (int locks = FS_LOCKS_UNKNOWN; locks <= FS_LOCKS_NODE; locks++) {
		for (int single = 0; single <= 1; single++) {
			v.single_node = single;
			bool stays = locks == FS_LOCKS_NODE && !single;
			for (size_t i = 0; i < 3; i++) {
				acts[i]->fs.locks = (enum fs_locks)locks;
				struct decision d = guard_decide(&v, acts[i], GUARD_START);
				assert_int_equal(guard_locks_stay(&v, acts[i]), stays);
				assert_int_equal(d.action, stays ? ACT_REFUSE : what[i]);
				assert_int_equal(d.code, stays ? 73 : 0);
				assert_int_equal(d.node_locks, stays);
			}
			current.fs.locks = (enum fs_locks)locks;
			struct decision d = guard_decide(&v, &current, GUARD_START);
			assert_int_equal(d.action, ACT_RUN);
			assert_false(d.node_locks);
		}
	}
	/* A refusal for the volume's own state keeps its code. */
	struct observation newer = seen(OBS_VERSION, 3);
	newer.fs.locks = FS_LOCKS_NODE;
	v.single_node = false;
	struct decision d = guard_decide(&v, &newer, GUARD_START);
	assert_int_equal(d.code, 81);
	assert_false(d.node_locks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(current_runs),
		cmocka_unit_test(s003_older_refuses_80),
		cmocka_unit_test(explicit_migrate_ignores_on_older),
		cmocka_unit_test(newer),
		cmocka_unit_test(missing_version_file),
		cmocka_unit_test(broken_volumes),
		cmocka_unit_test(newer_inside_the_window_runs),
		cmocka_unit_test(online_dirty_is_where_its_version_says),
		cmocka_unit_test(node_local_locks_refuse_acts),
	};
	return cmocka_run_group_tests_name("guard", tests, NULL, NULL);
}
