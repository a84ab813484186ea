/* Unit tests for howto: the command a hint names, in the form that runs
 * where the user is (on a host; in a container: VOLINIT_IMAGE set here, as
 * a unit test is never PID 1; holding), with its words shell-quoted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "howto.h"

static struct volume_conf vols[2] = {
	{ .name = "data", .path = "/data" },
	{ .name = "cache", .path = "/var/cache/app" },
};
static struct config cfg = { .volumes = vols, .nvolumes = 1, .on_refuse = REFUSE_EXIT };

static int host(void **state)
{
	(void)state;
	unsetenv("VOLINIT_IMAGE");
	cfg.nvolumes = 1;
	cfg.on_refuse = REFUSE_EXIT;
	howto_setup(&cfg, NULL, NULL, 0, true);
	return 0;
}

static void on_a_host(void **state)
{
	(void)state;
	assert_false(howto_in_container());
	assert_string_equal(howto("migrate"), "volinit migrate");
	assert_string_equal(howto_stamp_at("data", 2), "volinit stamp data 2");
	assert_string_equal(howto_stamp("data", "N"), "volinit stamp data N");
}

static void options_repeated_and_words_quoted(void **state)
{
	(void)state;
	char *expects[] = { "/srv/my data=3", NULL };
	howto_setup(&cfg, "/etc/it's.ini", expects, 1, true);
	assert_string_equal(howto_stamp_at("my vol", 3),
			    "volinit stamp -c '/etc/it'\\''s.ini' --expect '/srv/my data=3' 'my vol' 3");
	/* Several in one hint: each string lives until the fourth call after. */
	const char *a = howto("migrate"), *b = howto("status");
	assert_string_equal(a, "volinit migrate -c '/etc/it'\\''s.ini' --expect '/srv/my data=3'");
	assert_string_equal(b, "volinit status -c '/etc/it'\\''s.ini' --expect '/srv/my data=3'");
}

static void in_a_container(void **state)
{
	(void)state;
	char self[PATH_MAX], want[PATH_MAX + 256];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	setenv("VOLINIT_IMAGE", "registry.example/app:2", 1);
	assert_true(howto_in_container());
	snprintf(want, sizeof(want),
		 "docker run --rm -v VOLUME:/data --entrypoint %s registry.example/app:2 migrate", self);
	assert_string_equal(howto("migrate"), want);
	/* Every volume mounted, each a word of its own to fill in. */
	cfg.nvolumes = 2;
	snprintf(want, sizeof(want),
		 "docker run --rm -v VOLUME1:/data -v VOLUME2:/var/cache/app --entrypoint %s "
		 "registry.example/app:2 stamp data 2", self);
	assert_string_equal(howto_stamp_at("data", 2), want);
	/* A container that holds stays up: exec into it. */
	cfg.on_refuse = REFUSE_HOLD;
	snprintf(want, sizeof(want), "docker exec CONTAINER %s migrate", self);
	assert_string_equal(howto("migrate"), want);
	/* Only a start holds: migrate run by hand is a container of its own. */
	howto_setup(&cfg, NULL, NULL, 0, false);
	assert_non_null(strstr(howto("migrate"), "docker run --rm -v VOLUME1:/data"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(on_a_host, host),
		cmocka_unit_test_setup(options_repeated_and_words_quoted, host),
		cmocka_unit_test_setup(in_a_container, host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
