/* Unit tests for the command line (cli_parse): where a subcommand may
 * stand, option values, what each subcommand accepts, and where parsing
 * stops. A bad command line logs its FATAL line to stderr: expected here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define MAXARGS 16

static char *argv_buf[MAXARGS + 1];

/* Parses "volinit" followed by the given arguments (NULL-terminated). */
static int parse(struct cli *cli, ...)
{
	va_list ap;
	int argc = 0;
	argv_buf[argc++] = "volinit";
	va_start(ap, cli);
	for (char *a; (a = va_arg(ap, char *)) != NULL;)
		if (argc < MAXARGS)
			argv_buf[argc++] = a;
	va_end(ap);
	argv_buf[argc] = NULL;
	return cli_parse(argc, argv_buf, cli);
}

static bool remapped(const struct cli *cli, int code)
{
	return (cli->sup.remap[code / 8] >> (code % 8)) & 1u;
}

static void subcommand_only_first(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "check", NULL), -1);
	assert_int_equal(cli.cmd, CMD_CHECK);
	assert_int_equal(cli.nargs, 0);
	cli_free(&cli);

	/* After an option, "migrate" is PROGRAM, not the subcommand. */
	assert_int_equal(parse(&cli, "-c", "F", "migrate", NULL), -1);
	assert_int_equal(cli.cmd, CMD_RUN);
	assert_string_equal(cli.config_file, "F");
	assert_int_equal(cli.nargs, 1);
	assert_string_equal(cli.args[0], "migrate");
	cli_free(&cli);

	assert_int_equal(parse(&cli, "--", "check", NULL), -1);
	assert_int_equal(cli.cmd, CMD_RUN);
	assert_int_equal(cli.nargs, 1);
	assert_string_equal(cli.args[0], "check");
	cli_free(&cli);

	assert_int_equal(parse(&cli, "status", NULL), -1);
	assert_int_equal(cli.cmd, CMD_STATUS);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "migrate", NULL), -1);
	assert_int_equal(cli.cmd, CMD_MIGRATE);
	cli_free(&cli);
}

static void config_values(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "-cFILE", "prog", NULL), -1);
	assert_string_equal(cli.config_file, "FILE");
	assert_string_equal(cli.args[0], "prog");
	cli_free(&cli);

	assert_int_equal(parse(&cli, "-c", "FILE", "prog", NULL), -1);
	assert_string_equal(cli.config_file, "FILE");
	assert_string_equal(cli.args[0], "prog");
	cli_free(&cli);

	assert_int_equal(parse(&cli, "--config=FILE", "prog", NULL), -1);
	assert_string_equal(cli.config_file, "FILE");
	assert_string_equal(cli.args[0], "prog");
	cli_free(&cli);

	assert_int_equal(parse(&cli, "--config", "FILE", "prog", NULL), -1);
	assert_string_equal(cli.config_file, "FILE");
	assert_int_equal(cli.nargs, 1);
	assert_string_equal(cli.args[0], "prog");
	cli_free(&cli);

	/* The last -c wins. */
	assert_int_equal(parse(&cli, "-c", "A", "--config=B", "prog", NULL), -1);
	assert_string_equal(cli.config_file, "B");
	cli_free(&cli);
}

static void empty_or_missing_value(void **state)
{
	(void)state;
	struct cli cli;
	/* "--config=" is empty: 64, and PROGRAM is never taken as its value. */
	assert_int_equal(parse(&cli, "--config=", "prog", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--config=", "prog", "arg", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "check", "--config=", "x", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--config=", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--config", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "-c", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "-c", "", "prog", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--expect=", "prog", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "-e", NULL), 64);
	cli_free(&cli);
}

static void exit_code_remap(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "-e", "143", "prog", NULL), -1);
	assert_true(remapped(&cli, 143));
	assert_false(remapped(&cli, 142));
	assert_false(remapped(&cli, 144));
	assert_false(remapped(&cli, 0));
	cli_free(&cli);

	assert_int_equal(parse(&cli, "-e0", "-e", "255", "prog", NULL), -1);
	assert_true(remapped(&cli, 0));
	assert_true(remapped(&cli, 255));
	assert_false(remapped(&cli, 1));
	cli_free(&cli);

	assert_int_equal(parse(&cli, "-e", "256", "prog", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "-e", "-1", "prog", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "-e", "1x", "prog", NULL), 64);
	cli_free(&cli);
	/* -e belongs to a start only. */
	assert_int_equal(parse(&cli, "check", "-e", "1", NULL), 64);
	cli_free(&cli);
}

static void clusters(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "-gs", "prog", NULL), -1);
	assert_true(cli.sup.group);
	assert_true(cli.subreaper);
	assert_int_equal(cli.verbosity, 0);
	cli_free(&cli);

	assert_int_equal(parse(&cli, "-vv", "prog", NULL), -1);
	assert_int_equal(cli.verbosity, 2);
	assert_false(cli.sup.group);
	cli_free(&cli);

	assert_int_equal(parse(&cli, "-q", "prog", NULL), -1);
	assert_int_equal(cli.verbosity, -1);
	cli_free(&cli);

	/* A value ends the cluster: here the next argument is -e's. */
	assert_int_equal(parse(&cli, "-gse", "143", "prog", NULL), -1);
	assert_true(cli.sup.group);
	assert_true(cli.subreaper);
	assert_true(remapped(&cli, 143));
	assert_string_equal(cli.args[0], "prog");
	cli_free(&cli);

	assert_int_equal(parse(&cli, "-gZ", "prog", NULL), 64);
	cli_free(&cli);
	/* -g and -s belong to a start only. */
	assert_int_equal(parse(&cli, "status", "-g", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "check", "-v", NULL), -1);
	assert_int_equal(cli.verbosity, 1);
	cli_free(&cli);
}

static void subcommand_options(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "check", "--json", NULL), -1);
	assert_true(cli.json);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "status", "--json", NULL), -1);
	assert_true(cli.json);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "migrate", "--json", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--json", "prog", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "check", "--json=1", NULL), 64);
	cli_free(&cli);

	assert_int_equal(parse(&cli, "migrate", "--dry-run", NULL), -1);
	assert_true(cli.dry_run);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "check", "--dry-run", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--dry-run", "prog", NULL), 64);
	cli_free(&cli);

	/* --grace: a start only, a number of seconds. */
	assert_int_equal(parse(&cli, "--grace", "5", "prog", NULL), -1);
	assert_true(cli.grace_set);
	assert_int_equal(cli.grace, 5);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--grace=abc", "prog", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "check", "--grace=5", NULL), 64);
	cli_free(&cli);

	/* --expect is repeatable, for every subcommand. */
	assert_int_equal(parse(&cli, "check", "--expect", "/a=1", "--expect=/b=2", NULL), -1);
	assert_int_equal(cli.nexpects, 2);
	assert_string_equal(cli.expects[0], "/a=1");
	assert_string_equal(cli.expects[1], "/b=2");
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--no-such-option", "prog", NULL), 64);
	cli_free(&cli);
}

static void arguments(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "stamp", "/vol", "3", NULL), -1);
	assert_int_equal(cli.cmd, CMD_STAMP);
	assert_int_equal(cli.nargs, 2);
	assert_string_equal(cli.args[0], "/vol");
	assert_string_equal(cli.args[1], "3");
	cli_free(&cli);
	assert_int_equal(parse(&cli, "stamp", "/vol", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "stamp", "/vol", "3", "4", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "stamp", NULL), 64);
	cli_free(&cli);
	/* check, status and migrate take no argument. */
	assert_int_equal(parse(&cli, "check", "extra", NULL), 64);
	cli_free(&cli);

	/* No PROGRAM: 64. */
	assert_int_equal(parse(&cli, NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "-g", NULL), 64);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--", NULL), 64);
	cli_free(&cli);
}

static void stops_at_program(void **state)
{
	(void)state;
	struct cli cli;
	/* PROGRAM's own options are PROGRAM's, even ones volinit knows. */
	assert_int_equal(parse(&cli, "-g", "prog", "-v", "--config=x", "--", "-s", NULL), -1);
	assert_true(cli.sup.group);
	assert_int_equal(cli.verbosity, 0);
	assert_null(cli.config_file);
	assert_false(cli.subreaper);
	assert_int_equal(cli.nargs, 5);
	assert_string_equal(cli.args[0], "prog");
	assert_string_equal(cli.args[1], "-v");
	assert_string_equal(cli.args[4], "-s");
	cli_free(&cli);

	/* "-" alone is not an option: it is PROGRAM. */
	assert_int_equal(parse(&cli, "-", "x", NULL), -1);
	assert_int_equal(cli.nargs, 2);
	assert_string_equal(cli.args[0], "-");
	cli_free(&cli);

	/* Only the first "--" is volinit's. */
	assert_int_equal(parse(&cli, "--", "--", "prog", NULL), -1);
	assert_int_equal(cli.nargs, 2);
	assert_string_equal(cli.args[0], "--");
	cli_free(&cli);
}

static void help_and_version(void **state)
{
	(void)state;
	struct cli cli;
	/* The usage text goes to stdout: keep it out of cmocka's report. */
	fflush(stdout);
	int saved = dup(1), null = open("/dev/null", O_WRONLY);
	assert_true(saved >= 0 && null >= 0);
	dup2(null, 1);
	int help = parse(&cli, "--help", NULL);
	cli_free(&cli);
	int h = parse(&cli, "-h", "prog", NULL);
	cli_free(&cli);
	int version = parse(&cli, "--version", NULL);
	cli_free(&cli);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(null);
	assert_int_equal(help, 0);
	assert_int_equal(h, 0);
	assert_int_equal(version, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(subcommand_only_first),
		cmocka_unit_test(config_values),
		cmocka_unit_test(empty_or_missing_value),
		cmocka_unit_test(exit_code_remap),
		cmocka_unit_test(clusters),
		cmocka_unit_test(subcommand_options),
		cmocka_unit_test(arguments),
		cmocka_unit_test(stops_at_program),
		cmocka_unit_test(help_and_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
