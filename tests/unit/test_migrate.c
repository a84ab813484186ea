/* Unit tests for the migration planner: migrate_hook_step (names),
 * migrate_slice (the run of consecutive steps, pure), and migrate_plan on
 * a real migrations directory under /tmp (the trust rule holds there: the
 * tests run as root, and /tmp is sticky). Refusals log a FATAL line to
 * stderr: expected here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrate.h"

static void hook_step_names(void **state)
{
	(void)state;
	int32_t step = -7;
	assert_int_equal(migrate_hook_step("0", &step), 0);
	assert_int_equal(step, 0);
	assert_int_equal(migrate_hook_step("7", &step), 0);
	assert_int_equal(step, 7);
	assert_int_equal(migrate_hook_step("0003-add-index", &step), 0);
	assert_int_equal(step, 3);
	assert_int_equal(migrate_hook_step("12abc", &step), 0);
	assert_int_equal(step, 12);
	assert_int_equal(migrate_hook_step("2147483647", &step), 0);
	assert_int_equal(step, INT32_MAX);
	/* Zero padding does not count against the range. */
	assert_int_equal(migrate_hook_step("000000000002147483647.sh", &step), 0);
	assert_int_equal(step, INT32_MAX);

	step = -7;
	assert_int_equal(migrate_hook_step("2147483648", &step), -1);
	assert_int_equal(migrate_hook_step("99999999999999999999", &step), -1);
	assert_int_equal(migrate_hook_step("abc", &step), -1);
	assert_int_equal(migrate_hook_step("README", &step), -1);
	assert_int_equal(migrate_hook_step("", &step), -1);
	assert_int_equal(migrate_hook_step("-1", &step), -1);
	assert_int_equal(migrate_hook_step(" 1", &step), -1);
	assert_int_equal(step, -7); /* untouched when the name is no hook's */
}

/* A sorted list of hooks, one per step given. */
static size_t hooks_of(struct migrate_step *h, const int32_t *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h[i].to = steps[i];
		snprintf(h[i].hook, sizeof(h[i].hook), "%d", (int)steps[i]);
	}
	return n;
}

#define SLICE(rc, s, from, to, ...)                                                         \
	do {                                                                                \
		const int32_t st_[] = { __VA_ARGS__ };                                      \
		struct migrate_step h_[16];                                                 \
		size_t n_ = hooks_of(h_, st_, sizeof(st_) / sizeof(st_[0]));                \
		rc = migrate_slice(h_, n_, (from), (to), &(s));                             \
	} while (0)

static void slice_consecutive(void **state)
{
	(void)state;
	struct migrate_slice s;
	int rc;
	SLICE(rc, s, 0, 4, 1, 2, 3, 4);
	assert_int_equal(rc, 0);
	assert_int_equal(s.first, 0);
	assert_int_equal(s.n, 4);

	/* Hooks at or below from, and beyond to, are not the plan's. */
	SLICE(rc, s, 1, 3, 1, 2, 3, 4, 5);
	assert_int_equal(rc, 0);
	assert_int_equal(s.first, 1);
	assert_int_equal(s.n, 2);

	/* A gap outside the path taken does not matter. */
	SLICE(rc, s, 5, 7, 1, 3, 6, 7, 9);
	assert_int_equal(rc, 0);
	assert_int_equal(s.first, 2);
	assert_int_equal(s.n, 2);

	SLICE(rc, s, INT32_MAX - 1, INT32_MAX, 1, INT32_MAX);
	assert_int_equal(rc, 0);
	assert_int_equal(s.first, 1);
	assert_int_equal(s.n, 1);
}

static void slice_nothing_to_do(void **state)
{
	(void)state;
	struct migrate_slice s;
	int rc;
	SLICE(rc, s, 3, 3, 1, 2, 3, 4);
	assert_int_equal(rc, 0);
	assert_int_equal(s.n, 0);
	/* No hooks at all, and none needed. */
	rc = migrate_slice(NULL, 0, 5, 5, &s);
	assert_int_equal(rc, 0);
	assert_int_equal(s.n, 0);
}

static void slice_missing_step(void **state)
{
	(void)state;
	struct migrate_slice s;
	int rc;
	SLICE(rc, s, 0, 3, 1, 3);
	assert_int_equal(rc, 80);
	assert_int_equal(s.missing, 2);
	SLICE(rc, s, 0, 3, 1, 2);
	assert_int_equal(rc, 80);
	assert_int_equal(s.missing, 3);
	SLICE(rc, s, 0, 2, 2, 3);
	assert_int_equal(rc, 80);
	assert_int_equal(s.missing, 1);
	rc = migrate_slice(NULL, 0, 0, 1, &s);
	assert_int_equal(rc, 80);
	assert_int_equal(s.missing, 1);
}

static void slice_two_hooks_for_a_step(void **state)
{
	(void)state;
	struct migrate_slice s;
	int rc;
	SLICE(rc, s, 0, 3, 1, 2, 2, 3);
	assert_int_equal(rc, 78);
	assert_int_equal(s.dup, 2);
	/* Also outside the path this volume takes, and when none is due. */
	SLICE(rc, s, 0, 2, 1, 2, 5, 5);
	assert_int_equal(rc, 78);
	assert_int_equal(s.dup, 3);
	SLICE(rc, s, 4, 4, 1, 1, 2, 3, 4);
	assert_int_equal(rc, 78);
	assert_int_equal(s.dup, 1);
}

/* migrate_plan on a directory: root/m holds the hooks, root/vol is the
 * volume. */
struct dir {
	char root[64], m[80], vol[80];
	struct volume_conf v;
};

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));
	if (!d)
		return -1;
	snprintf(d->root, sizeof(d->root), "/tmp/test_migrate.XXXXXX");
	if (!mkdtemp(d->root) || chmod(d->root, 0755) != 0)
		return -1;
	snprintf(d->m, sizeof(d->m), "%s/m", d->root);
	snprintf(d->vol, sizeof(d->vol), "%s/vol", d->root);
	if (mkdir(d->m, 0755) != 0 || mkdir(d->vol, 0755) != 0)
		return -1;
	d->v.name = "data";
	d->v.path = d->vol;
	d->v.version_file = "schema_version.txt";
	d->v.migrations = d->m;
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

static void hook(const struct dir *d, const char *name, const char *text, mode_t mode)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", d->m, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

#define SH "#!/bin/sh\n"

static void plan_run(void **state)
{
	struct dir *d = *state;
	hook(d, "1", SH, 0755);
	hook(d, "0002-add-index", SH, 0755);
	hook(d, "03_rename.sh", SH, 0755);
	hook(d, "4", SH, 0755);
	struct migrate_plan p;
	d->v.expected = 3;
	assert_int_equal(migrate_plan(&d->v, 1, &p), 0);
	assert_int_equal(p.from, 1);
	assert_int_equal(p.to, 3);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.steps[0].to, 2);
	assert_string_equal(p.steps[0].hook, "0002-add-index");
	assert_int_equal(p.steps[1].to, 3);
	assert_string_equal(p.steps[1].hook, "03_rename.sh");
	migrate_plan_free(&p);

	d->v.expected = 4;
	assert_int_equal(migrate_plan(&d->v, 0, &p), 0);
	assert_int_equal(p.n, 4);
	assert_string_equal(p.steps[0].hook, "1");
	assert_string_equal(p.steps[3].hook, "4");
	migrate_plan_free(&p);
}

static void plan_missing_step(void **state)
{
	struct dir *d = *state;
	hook(d, "1", SH, 0755);
	hook(d, "3", SH, 0755);
	struct migrate_plan p;
	d->v.expected = 3;
	assert_int_equal(migrate_plan(&d->v, 0, &p), 80);
	migrate_plan_free(&p);
	/* From 2 on, only 3 is needed. */
	assert_int_equal(migrate_plan(&d->v, 2, &p), 0);
	assert_int_equal(p.n, 1);
	migrate_plan_free(&p);
}

static void plan_two_hooks_for_a_step(void **state)
{
	struct dir *d = *state;
	hook(d, "1", SH, 0755);
	hook(d, "2", SH, 0755);
	hook(d, "5-a", SH, 0755);
	hook(d, "0005-b", SH, 0755);
	struct migrate_plan p;
	d->v.expected = 2; /* step 5 is outside the path taken */
	assert_int_equal(migrate_plan(&d->v, 0, &p), 78);
	migrate_plan_free(&p);
}

static void plan_not_executable(void **state)
{
	struct dir *d = *state;
	hook(d, "1", SH, 0755);
	hook(d, "2", SH, 0644);
	struct migrate_plan p;
	d->v.expected = 2;
	assert_int_equal(migrate_plan(&d->v, 0, &p), 126);
	migrate_plan_free(&p);
	/* A directory named as a hook is no executable file either. */
	d->v.expected = 3;
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/3", d->m);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(migrate_plan(&d->v, 2, &p), 126);
	migrate_plan_free(&p);
}

static void plan_neither_elf_nor_script(void **state)
{
	struct dir *d = *state;
	hook(d, "1", "echo hello\n", 0755);
	hook(d, "2", "\x7f" "ELF\x02\x01\x01", 0755);
	struct migrate_plan p;
	d->v.expected = 1;
	assert_int_equal(migrate_plan(&d->v, 0, &p), 126);
	migrate_plan_free(&p);
	/* An ELF header is enough to be planned (execve judges the rest). */
	d->v.expected = 2;
	assert_int_equal(migrate_plan(&d->v, 1, &p), 0);
	assert_int_equal(p.n, 1);
	migrate_plan_free(&p);
}

static void plan_nothing_to_do(void **state)
{
	struct dir *d = *state;
	struct migrate_plan p;
	d->v.expected = 5;
	assert_int_equal(migrate_plan(&d->v, 5, &p), 0);
	assert_int_equal(p.n, 0);
	migrate_plan_free(&p);
	hook(d, "5", "not a script", 0644);
	assert_int_equal(migrate_plan(&d->v, 5, &p), 0);
	assert_int_equal(p.n, 0);
	migrate_plan_free(&p);
}

static void plan_skips_other_names(void **state)
{
	struct dir *d = *state;
	hook(d, "1", SH, 0755);
	hook(d, "README", "not a hook", 0644);
	hook(d, ".hidden", "not a hook", 0644);
	/* A hook's name begins with its digits: ".2" is not step 2. */
	hook(d, ".2", SH, 0755);
	struct migrate_plan p;
	d->v.expected = 1;
	assert_int_equal(migrate_plan(&d->v, 0, &p), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.steps[0].hook, "1");
	migrate_plan_free(&p);
	d->v.expected = 2;
	assert_int_equal(migrate_plan(&d->v, 0, &p), 80);
	migrate_plan_free(&p);
}

static void plan_directory_refused(void **state)
{
	struct dir *d = *state;
	hook(d, "1", SH, 0755);
	struct migrate_plan p;
	d->v.expected = 1;
	/* Writable by others: not the image's (trust rule). */
	assert_int_equal(chmod(d->m, 0777), 0);
	assert_int_equal(migrate_plan(&d->v, 0, &p), 78);
	migrate_plan_free(&p);
	assert_int_equal(chmod(d->m, 0755), 0);
	/* No migrations directory configured, or none there. */
	d->v.migrations = NULL;
	assert_int_equal(migrate_plan(&d->v, 0, &p), 80);
	migrate_plan_free(&p);
	char gone[128];
	snprintf(gone, sizeof(gone), "%s/none", d->root);
	d->v.migrations = gone;
	assert_int_equal(migrate_plan(&d->v, 0, &p), 80);
	migrate_plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hook_step_names),
		cmocka_unit_test(slice_consecutive),
		cmocka_unit_test(slice_nothing_to_do),
		cmocka_unit_test(slice_missing_step),
		cmocka_unit_test(slice_two_hooks_for_a_step),
		cmocka_unit_test_setup_teardown(plan_run, setup, teardown),
		cmocka_unit_test_setup_teardown(plan_missing_step, setup, teardown),
		cmocka_unit_test_setup_teardown(plan_two_hooks_for_a_step, setup, teardown),
		cmocka_unit_test_setup_teardown(plan_not_executable, setup, teardown),
		cmocka_unit_test_setup_teardown(plan_neither_elf_nor_script, setup, teardown),
		cmocka_unit_test_setup_teardown(plan_nothing_to_do, setup, teardown),
		cmocka_unit_test_setup_teardown(plan_skips_other_names, setup, teardown),
		cmocka_unit_test_setup_teardown(plan_directory_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
