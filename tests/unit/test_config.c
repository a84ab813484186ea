/* Unit tests for the config loader: defaults, every key, and errors that
 * name file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static char err[512];

static int load(struct config *cfg, const char *text)
{
	config_init(cfg);
	err[0] = '\0';
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	int rc = config_load_stream(cfg, "t.ini", f, err, sizeof(err));
	fclose(f);
	return rc;
}

static void defaults(void **state)
{
	(void)state;
	struct config cfg;
	assert_int_equal(load(&cfg, "[data]\npath = /data\nexpected = 2\n"), 0);
	assert_int_equal(cfg.nvolumes, 1);
	struct volume_conf *v = &cfg.volumes[0];
	assert_string_equal(v->name, "data");
	assert_string_equal(v->path, "/data");
	assert_string_equal(v->version_file, "schema_version.txt");
	assert_int_equal(v->expected, 2);
	assert_false(v->has_baseline);
	assert_int_equal(v->on_missing, MISSING_INIT);
	assert_int_equal(v->on_older, OLDER_FAIL);
	assert_int_equal(v->on_newer, NEWER_FAIL);
	assert_null(v->migrations);
	assert_true(v->snapshot);
	assert_int_equal(v->lock_timeout, 60);
	assert_false(v->require_mount);
	assert_false(v->single_node);
	assert_int_equal(cfg.on_refuse, REFUSE_EXIT);
	assert_int_equal(cfg.log_format, LOG_TEXT);
	assert_null(cfg.user);
	assert_int_equal(cfg.grace, 0);
	config_free(&cfg);
}

static void every_key(void **state)
{
	(void)state;
	struct config cfg;
	const char *text =
		"; comment\n"
		"[volinit]\n"
		"on_refuse = hold\nlog_format = json\nuser = app:staff\n"
		"capabilities = cap_net_bind_service, cap_chown\nno_new_privs = yes\ngrace = 5\n"
		"[pg]\n"
		"path = /var/lib/postgresql/data/\nversion_file = PG_VERSION\nexpected = 15\n"
		"on_missing = fail\nbaseline = 14 ; inline comment\non_older = migrate\n"
		"on_newer = allow\nmigrations = /migrations\nsnapshot = off\nlock_timeout = 5\n"
		"require_mount = true\nsingle_node = yes\n";
	assert_int_equal(load(&cfg, text), 0);
	assert_int_equal(cfg.on_refuse, REFUSE_HOLD);
	assert_int_equal(cfg.log_format, LOG_JSON);
	assert_string_equal(cfg.user, "app:staff");
	assert_string_equal(cfg.capabilities, "cap_net_bind_service, cap_chown");
	assert_true(cfg.no_new_privs);
	assert_int_equal(cfg.grace, 5);
	struct volume_conf *v = &cfg.volumes[0];
	assert_string_equal(v->path, "/var/lib/postgresql/data"); /* trailing / dropped */
	assert_string_equal(v->version_file, "PG_VERSION");
	assert_int_equal(v->expected, 15);
	assert_int_equal(v->on_missing, MISSING_FAIL);
	assert_true(v->has_baseline);
	assert_int_equal(v->baseline, 14);
	assert_int_equal(v->on_older, OLDER_MIGRATE);
	assert_int_equal(v->on_newer, NEWER_ALLOW);
	assert_string_equal(v->migrations, "/migrations");
	assert_false(v->snapshot);
	assert_int_equal(v->lock_timeout, 5);
	assert_true(v->require_mount);
	assert_true(v->single_node);
	config_free(&cfg);
}

static void empty_values_take_defaults(void **state)
{
	(void)state;
	struct config cfg;
	assert_int_equal(load(&cfg, "[volinit]\nuser =\ngrace =\n[d]\npath=/d\nexpected=1\n"
				    "baseline =\nsnapshot =\n"), 0);
	assert_null(cfg.user);
	assert_false(cfg.volumes[0].has_baseline);
	assert_true(cfg.volumes[0].snapshot);
	config_free(&cfg);
}

struct bad {
	const char *text;
	const char *expect; /* substring of the message, with file:line */
};

static void errors_name_file_line_key(void **state)
{
	(void)state;
	static const struct bad cases[] = {
		{ "[data]\npath=/d\nexpected=1\nexpectd=2\n", "t.ini:4: [data] expectd: unknown key" },
		{ "[data]\npath=/d\nexpected=x\n", "t.ini:3: [data] expected: not an integer" },
		{ "[data]\npath=/d\nexpected=-1\n", "t.ini:3: [data] expected" },
		{ "[data]\npath=/d\nexpected=2147483648\n", "t.ini:3: [data] expected" },
		{ "[data]\npath=/d\nexpected=1\nexpected=2\n", "t.ini:4: [data] expected: duplicate key" },
		{ "[data]\nexpected=1\n", "t.ini:1: [data] path: required" },
		{ "[data]\npath=/d\n", "t.ini:1: [data] expected: required" },
		{ "[data]\npath=data\nexpected=1\n", "t.ini:2: [data] path: must be an absolute path" },
		{ "[a]\npath=/d\nexpected=1\n[b]\npath=/d/\nexpected=1\n", "t.ini:5: [b] path: /d is already the path of [a]" },
		{ "[data]\npath=/d\nexpected=1\nversion_file=../x\n", "t.ini:4: [data] version_file" },
		{ "[data]\npath=/d\nexpected=1\non_older=maybe\n", "t.ini:4: [data] on_older: must be fail or migrate" },
		{ "[data]\npath=/d\nexpected=1\nsnapshot=perhaps\n", "t.ini:4: [data] snapshot: must be true or false" },
		{ "[data]\npath=/d\nexpected=1\nlock_timeout=1m\n", "t.ini:4: [data] lock_timeout" },
		{ "[volinit]\ngrace=-3\n", "t.ini:2: [volinit] grace" },
		{ "[volinit]\nlog_format=xml\n", "t.ini:2: [volinit] log_format" },
		{ "[volinit]\nuser=root;rm\n", "t.ini:2: [volinit] user" },
		{ "[volinit]\ncapabilities=cap_fly\n", "t.ini:2: [volinit] capabilities: unknown capability \"cap_fly\"" },
		{ "path=/d\n", "t.ini:1: path: key outside a section" },
		{ "[data\npath=/d\n", "t.ini:1: syntax error" },
		{ "[data]\njust words\n", "t.ini:2: syntax error" },
		{ "[data]\npath=/d\nexpected=1\n[data]\n", "t.ini:4: [data] appears twice" },
		{ "[volinit]\n[volinit]\n", "t.ini:2: [volinit] appears twice" },
		{ "[empty]\n", "t.ini:1: [empty] path: required" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config cfg;
		int rc = load(&cfg, cases[i].text);
		if (rc != 78 || !strstr(err, cases[i].expect))
			fail_msg("case %zu: rc %d, message \"%s\", wanted \"%s\"", i, rc, err,
				 cases[i].expect);
		config_free(&cfg);
	}
}

static void indented_keys_are_keys(void **state)
{
	(void)state;
	struct config cfg;
	assert_int_equal(load(&cfg, "[volinit]\n  grace = 3\n[data]\n  path = /data\n\texpected = 2\n"
				    "  on_older = migrate\n  ; a comment\n"),
			 0);
	assert_int_equal(cfg.grace, 3);
	assert_string_equal(cfg.volumes[0].path, "/data");
	assert_int_equal(cfg.volumes[0].expected, 2);
	assert_int_equal(cfg.volumes[0].on_older, OLDER_MIGRATE);
	config_free(&cfg);
	/* No continuation lines: an indented line is one of its own. */
	assert_int_equal(load(&cfg, "[data]\npath = /data\nexpected = 2\n  more\n"), 78);
	assert_non_null(strstr(err, "t.ini:4: syntax error"));
	config_free(&cfg);
}

static void long_line_is_an_error(void **state)
{
	(void)state;
	char text[1024] = "[data]\npath=/";
	memset(text + strlen(text), 'a', 400);
	strcat(text, "\nexpected=1\n");
	struct config cfg;
	assert_int_equal(load(&cfg, text), 78);
	assert_non_null(strstr(err, "t.ini:2: line longer than"));
	config_free(&cfg);
}

static void expect_argument(void **state)
{
	(void)state;
	struct config cfg;
	config_init(&cfg);
	assert_int_equal(config_add_expect(&cfg, "/data=3", err, sizeof(err)), 0);
	assert_string_equal(cfg.volumes[0].name, "/data");
	assert_int_equal(cfg.volumes[0].expected, 3);
	assert_int_equal(config_add_expect(&cfg, "/data/=4", err, sizeof(err)), 78);
	assert_int_equal(config_add_expect(&cfg, "data=1", err, sizeof(err)), 64);
	assert_int_equal(config_add_expect(&cfg, "/x", err, sizeof(err)), 64);
	assert_int_equal(config_add_expect(&cfg, "/x=", err, sizeof(err)), 64);
	assert_int_equal(config_add_expect(&cfg, "/x=1.5", err, sizeof(err)), 64);
	assert_int_equal(config_add_expect(&cfg, "=1", err, sizeof(err)), 64);
	config_free(&cfg);
}

/* One directory under two spellings would lock against itself: 78, with
 * both sections named. A path not there yet is left to the guard. */
static void same_directory_twice(void **state)
{
	(void)state;
	char dir[] = "/tmp/volinit-unit.XXXXXX", text[1024], link[64];
	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(".", link), 0);
	const char *spellings[] = { "/.", "/link", "/link/." };
	for (size_t i = 0; i < 3; i++) {
		char other[128];
		snprintf(other, sizeof(other), "%s%s", dir, spellings[i]);
		snprintf(text, sizeof(text), "[a]\npath = %s\nexpected = 1\n[b]\npath = %s\n"
			 "expected = 1\n", dir, other);
		struct config cfg;
		assert_int_equal(load(&cfg, text), 78);
		assert_non_null(strstr(err, "t.ini:5: [b] path: "));
		assert_non_null(strstr(err, "is the same directory as"));
		assert_non_null(strstr(err, "the path of [a]"));
		config_free(&cfg);
	}
	/* Missing paths, and two different directories, are fine. */
	snprintf(text, sizeof(text), "[a]\npath = %s/gone\nexpected = 1\n[b]\npath = %s/gone/.\n"
		 "expected = 1\n[c]\npath = /\nexpected = 1\n", dir, dir);
	struct config cfg;
	assert_int_equal(load(&cfg, text), 0);
	/* Each volume knows its config, for checks across volumes. */
	for (size_t i = 0; i < cfg.nvolumes; i++)
		assert_ptr_equal(cfg.volumes[i].config, &cfg);
	config_free(&cfg);
	/* --expect against the file's volumes and its own. */
	snprintf(text, sizeof(text), "[a]\npath = %s\nexpected = 1\n", dir);
	assert_int_equal(load(&cfg, text), 0);
	char arg[128];
	snprintf(arg, sizeof(arg), "%s/link=2", dir);
	assert_int_equal(config_add_expect(&cfg, arg, err, sizeof(err)), 78);
	assert_non_null(strstr(err, "the path of [a]"));
	config_free(&cfg);
	unlink(link);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(every_key),
		cmocka_unit_test(empty_values_take_defaults),
		cmocka_unit_test(errors_name_file_line_key),
		cmocka_unit_test(indented_keys_are_keys),
		cmocka_unit_test(long_line_is_an_error),
		cmocka_unit_test(expect_argument),
		cmocka_unit_test(same_directory_twice),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
