/* cli: volinit's command line: the subcommand, the options, and PROGRAM
 * with its arguments. Parsing only: nothing is loaded or run here. */
#ifndef VOLINIT_CLI_H
#define VOLINIT_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "commands.h"
#include "supervise.h"

struct cli {
	enum command cmd;
	const char *config_file;   /* -c */
	char **expects;            /* --expect arguments */
	size_t nexpects;
	bool json, dry_run, subreaper;
	int verbosity;
	unsigned grace;            /* --grace, when grace_set: over the config's */
	bool grace_set;
	struct supervise_opts sup; /* -g, -e (grace comes from the config) */
	char **args;               /* PROGRAM and its arguments, or stamp's */
	int nargs;
};

/* Fills cli from argv. Returns -1 to go on, or an exit code: 0 after
 * --help or --version, 64 for a bad command line (one FATAL line logged).
 * Parsing stops at the first non-option, so that PROGRAM keeps its own
 * options. Strings point into argv; cli_free releases the rest. */
int cli_parse(int argc, char **argv, struct cli *cli);
void cli_free(struct cli *cli);

#endif
