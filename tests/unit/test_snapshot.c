/* Unit tests for the snapshot's identity (snapshot_id, snapshot_take_id,
 * snapshot_restore_id) and the walker's hard-link table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot.h"
#include "walk.h"

static char dir[64];

static void put(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void get(int dirfd, const char *name, char *buf, size_t len)
{
	int fd = openat(dirfd, name, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, len - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

static void rm_rf(const char *path)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static void identity(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/volinit-unit-snap.XXXXXX");
	assert_non_null(mkdtemp(dir));
	int vfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(vfd >= 0);
	put(vfd, "data.txt", "one");
	struct volume_conf v = { .name = "t", .path = dir, .snapshot = true };
	char id[64], again[64], where[256], buf[16];

	assert_int_equal(snapshot_id(vfd, id, sizeof(id)), ENOENT);
	assert_int_equal(snapshot_take_id(&v, vfd, id, sizeof(id)), 0);
	assert_true(strlen(id) > 3);
	assert_int_equal(snapshot_id(vfd, again, sizeof(again)), 0);
	assert_string_equal(id, again);

	/* Another snapshot's name: refused, nothing changed. */
	put(vfd, "data.txt", "two");
	assert_int_equal(snapshot_restore_id(vfd, "1:b1.000000000", where, sizeof(where)), ESTALE);
	get(vfd, "data.txt", buf, sizeof(buf));
	assert_string_equal(buf, "two");

	/* Its own: restored. */
	assert_int_equal(snapshot_restore_id(vfd, id, where, sizeof(where)), 0);
	get(vfd, "data.txt", buf, sizeof(buf));
	assert_string_equal(buf, "one");

	/* A new snapshot is another one. */
	snapshot_remove(vfd);
	assert_int_equal(snapshot_id(vfd, again, sizeof(again)), ENOENT);
	assert_int_equal(snapshot_take_id(&v, vfd, again, sizeof(again)), 0);
	assert_string_not_equal(id, again);
	assert_int_equal(snapshot_restore_id(vfd, id, where, sizeof(where)), ESTALE);
	snapshot_remove(vfd);
	close(vfd);
	rm_rf(dir);
}

static void link_table(void **state)
{
	(void)state;
	struct walk_links t = { 0 };
	bool added;
	for (unsigned long i = 0; i < 100000; i++) {
		struct walk_link *l = walk_links_get(&t, 7, (ino_t)i * 4099, &added);
		assert_non_null(l);
		assert_true(added);
		l->left = i;
	}
	for (unsigned long i = 0; i < 100000; i++) {
		struct walk_link *l = walk_links_get(&t, 7, (ino_t)i * 4099, &added);
		assert_false(added);
		assert_int_equal(l->left, i);
	}
	assert_non_null(walk_links_get(&t, 8, 0, &added));
	assert_true(added);
	walk_links_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identity),
		cmocka_unit_test(link_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
