/* Unit tests for the trust rule (trust_judge): owner, the object's own
 * mode, and the directory above it, sticky included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "trust.h"

static struct stat node(mode_t mode, uid_t uid)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_mode = mode;
	st.st_uid = uid;
	return st;
}

static void owner(void **state)
{
	(void)state;
	struct stat dir = node(S_IFDIR | 0755, 0);
	struct stat f = node(S_IFREG | 0755, 0);
	assert_int_equal(trust_judge(&f, &dir, 0, true), TRUST_FINE);
	f.st_uid = 1000;
	assert_int_equal(trust_judge(&f, &dir, 0, true), TRUST_OWNER);
	/* volinit's own user is trusted as root is. */
	assert_int_equal(trust_judge(&f, &dir, 1000, true), TRUST_FINE);
	assert_int_equal(trust_judge(&f, &dir, 1001, true), TRUST_OWNER);
	/* A directory on the way, and a symlink, are held to it too. */
	struct stat sub = node(S_IFDIR | 0755, 1000);
	assert_int_equal(trust_judge(&sub, &dir, 0, false), TRUST_OWNER);
	struct stat ln = node(S_IFLNK | 0777, 1000);
	assert_int_equal(trust_judge(&ln, &dir, 0, false), TRUST_OWNER);
	ln.st_uid = 0;
	assert_int_equal(trust_judge(&ln, &dir, 0, false), TRUST_FINE);
	/* "/" has no parent. */
	assert_int_equal(trust_judge(&dir, NULL, 0, false), TRUST_FINE);
}

static void own_mode(void **state)
{
	(void)state;
	struct stat dir = node(S_IFDIR | 0755, 0);
	struct stat f = node(S_IFREG | 0775, 0);
	assert_int_equal(trust_judge(&f, &dir, 0, true), TRUST_MODE);
	f.st_mode = S_IFREG | 0757;
	assert_int_equal(trust_judge(&f, &dir, 0, true), TRUST_MODE);
	f.st_mode = S_IFREG | 0700;
	assert_int_equal(trust_judge(&f, &dir, 0, true), TRUST_FINE);
	/* The object's own sticky bit is no excuse: anyone may add a hook. */
	struct stat m = node(S_IFDIR | 01777, 0);
	assert_int_equal(trust_judge(&m, &dir, 0, true), TRUST_MODE);
	/* A directory on the way is judged as the parent of the next step. */
	assert_int_equal(trust_judge(&m, &dir, 0, false), TRUST_FINE);
}

static void parent(void **state)
{
	(void)state;
	struct stat f = node(S_IFREG | 0755, 0);
	struct stat dir = node(S_IFDIR | 0775, 0);
	assert_int_equal(trust_judge(&f, &dir, 0, true), TRUST_PARENT);
	dir.st_mode = S_IFDIR | 0777;
	assert_int_equal(trust_judge(&f, &dir, 0, true), TRUST_PARENT);
	/* /tmp: sticky is fine above an entry of root's... */
	dir.st_mode = S_IFDIR | 01777;
	assert_int_equal(trust_judge(&f, &dir, 0, true), TRUST_FINE);
	/* ...and only root's (SPEC.md), even volinit's own user's. */
	f.st_uid = 1000;
	assert_int_equal(trust_judge(&f, &dir, 1000, true), TRUST_PARENT);
	struct stat ln = node(S_IFLNK | 0777, 1000);
	assert_int_equal(trust_judge(&ln, &dir, 0, false), TRUST_OWNER);
	ln.st_uid = 0;
	assert_int_equal(trust_judge(&ln, &dir, 0, false), TRUST_FINE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(owner),
		cmocka_unit_test(own_mode),
		cmocka_unit_test(parent),
	};
	return cmocka_run_group_tests_name("trust", tests, NULL, NULL);
}
