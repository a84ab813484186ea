/* fuzz_version: libFuzzer harness for the version-file parser. The input is
 * parsed by version_parse, compared with a plain reference reading of the
 * SPEC.md rule, then written as a file and read back with version_read_at,
 * which must agree; a valid version is also written with version_write_at
 * and must read back unchanged. */
#include "version.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static int dirfd_ = -1;
static char dirpath[4096];

static void cleanup(void)
{
	unlinkat(dirfd_, "v", 0);
	unlinkat(dirfd_, "w", 0);
	rmdir(dirpath);
}

/* SPEC.md: a decimal integer from 0 to 2147483647, optionally surrounded by
 * ASCII whitespace. */
static int reference(const uint8_t *d, size_t n, int32_t *out)
{
	size_t i = 0, j = n;
	while (i < n && strchr(" \t\n\r\v\f", d[i]) && d[i])
		i++;
	while (j > i && strchr(" \t\n\r\v\f", d[j - 1]) && d[j - 1])
		j--;
	if (i == j)
		return -1;
	uint64_t v = 0;
	for (size_t k = i; k < j; k++) {
		if (d[k] < '0' || d[k] > '9')
			return -1;
		v = v * 10 + (d[k] - '0');
		if (v > INT32_MAX)
			return -1;
	}
	*out = (int32_t)v;
	return 0;
}

static void setup(void)
{
	/* tmpfs where there is one: the harness fsyncs on every valid input. */
	const char *base = getenv("FUZZ_TMPDIR");
	if (!base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dirpath, sizeof(dirpath), "%s/fuzz_version.XXXXXX", base);
	CHECK(mkdtemp(dirpath));
	dirfd_ = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dirfd_ >= 0);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (dirfd_ < 0)
		setup();
	int32_t got = -1, want = -1;
	int rc = version_parse((const char *)data, size, &got);
	int ref = reference(data, size, &want);
	CHECK(rc == ref);
	if (rc == 0)
		CHECK(got == want && got >= 0);

	int fd = openat(dirfd_, "v", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);
	struct version_read r;
	version_read_at(dirfd_, "v", &r);
	CHECK(memchr(r.detail, '\0', sizeof(r.detail)) != NULL);
	if (size == 0 || size > VERSION_FILE_MAX || rc != 0) {
		CHECK(r.status == VERSION_CORRUPT);
		CHECK(r.detail[0] != '\0');
	} else {
		CHECK(r.status == VERSION_OK && r.version == got);
		CHECK(version_write_at(dirfd_, "w", got) == 0);
		version_read_at(dirfd_, "w", &r);
		CHECK(r.status == VERSION_OK && r.version == got);
	}
	return 0;
}
