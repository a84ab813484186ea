/* Unit tests for the version-file parser and the atomic writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "version.h"

static int parse(const char *s, int32_t *out)
{
	return version_parse(s, strlen(s), out);
}

static void valid_versions(void **state)
{
	(void)state;
	int32_t v;
	assert_int_equal(parse("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse("2\n", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(parse("  17 \t\r\n", &v), 0);
	assert_int_equal(v, 17);
	assert_int_equal(parse("0002", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(parse("2147483647", &v), 0);
	assert_int_equal(v, 2147483647);
}

static void corrupt_versions(void **state)
{
	(void)state;
	int32_t v = 99;
	const char *bad[] = { "", " ", "\n", "-1", "+1", "1.0", "1 2", "0x10", "one", "2147483648",
			      "99999999999999999999", "1a", "a1", "1\n2\n", "\xef\xbb\xbf\x31" /* a BOM, then 1 */ };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &v), -1);
		assert_int_equal(v, 99); /* untouched on failure */
	}
	/* An embedded NUL is not whitespace. */
	assert_int_equal(version_parse("1\0", 2, &v), -1);
}

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/volinit-unit-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void write_then_read(void **state)
{
	(void)state;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	struct version_read r;
	version_read_at(fd, "v.txt", &r);
	assert_int_equal(r.status, VERSION_MISSING);
	assert_int_equal(version_write_at(fd, "v.txt", 42), 0);
	version_read_at(fd, "v.txt", &r);
	assert_int_equal(r.status, VERSION_OK);
	assert_int_equal(r.version, 42);

	char text[16] = "";
	int f = openat(fd, "v.txt", O_RDONLY);
	assert_int_equal(read(f, text, sizeof(text) - 1), 3);
	close(f);
	assert_string_equal(text, "42\n");
	/* No temporary file is left behind. */
	char path[128];
	snprintf(path, sizeof(path), "%s/.v.txt.volinit-tmp.%ld", dir, (long)getpid());
	assert_int_not_equal(access(path, F_OK), 0);
	close(fd);
}

static void refuses_non_regular(void **state)
{
	(void)state;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	struct version_read r;
	assert_int_equal(symlinkat("/etc/hostname", fd, "link"), 0);
	version_read_at(fd, "link", &r);
	assert_int_equal(r.status, VERSION_CORRUPT);
	assert_non_null(strstr(r.detail, "symbolic link"));
	assert_int_equal(mkfifoat(fd, "fifo", 0600), 0);
	version_read_at(fd, "fifo", &r); /* must not block */
	assert_int_equal(r.status, VERSION_CORRUPT);
	assert_int_equal(mkdirat(fd, "d", 0700), 0);
	version_read_at(fd, "d", &r);
	assert_int_equal(r.status, VERSION_CORRUPT);
	close(fd);
}

static void shows_first_bytes_escaped(void **state)
{
	(void)state;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	int f = openat(fd, "bad", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(f, "v2\x01\n", 4), 4);
	close(f);
	struct version_read r;
	version_read_at(fd, "bad", &r);
	assert_int_equal(r.status, VERSION_CORRUPT);
	assert_non_null(strstr(r.detail, "\"v2\\x01\\n\""));

	/* Whitespace and leading zeros make a valid file long: a page of them
	 * is read whole; past VERSION_FILE_MAX it is corrupt, read no further. */
	char buf[VERSION_FILE_MAX + 1];
	memset(buf, ' ', sizeof(buf));
	buf[0] = '2';
	f = openat(fd, "spaces", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(f, buf, 72), 72);
	close(f);
	version_read_at(fd, "spaces", &r);
	assert_int_equal(r.status, VERSION_OK);
	assert_int_equal(r.version, 2);
	f = openat(fd, "zeros", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(f, "0000000000000000000000000000000000000000000000000000000000000000000000000002\n", 77), 77);
	close(f);
	version_read_at(fd, "zeros", &r);
	assert_int_equal(r.status, VERSION_OK);
	assert_int_equal(r.version, 2);
	f = openat(fd, "page", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(f, buf, VERSION_FILE_MAX), VERSION_FILE_MAX);
	close(f);
	version_read_at(fd, "page", &r);
	assert_int_equal(r.status, VERSION_OK);
	f = openat(fd, "big", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(f, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(f);
	version_read_at(fd, "big", &r);
	assert_int_equal(r.status, VERSION_CORRUPT);
	assert_non_null(strstr(r.detail, "longer than 4096 bytes"));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_versions),
		cmocka_unit_test(corrupt_versions),
		cmocka_unit_test_setup_teardown(write_then_read, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(refuses_non_regular, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(shows_first_bytes_escaped, make_dir, remove_dir),
	};
	return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}
