/* cli: volinit's command line, parsed into struct cli. Bad command lines
 * are 64, with one FATAL line. */
#include "cli.h"

#include "config.h"
#include "log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: volinit [OPTIONS] [--] PROGRAM [ARG...]   guard the volumes, then run PROGRAM as its init\n"
	"       volinit check   [OPTIONS] [--json]        exit 0 if every volume is compatible\n"
	"       volinit migrate [OPTIONS] [--dry-run]     bring every volume to its expected version\n"
	"       volinit status  [OPTIONS] [--json]        what is on the volumes; changes nothing\n"
	"       volinit stamp   [OPTIONS] VOLUME VERSION  set a volume's version without hooks\n"
	"       volinit --help | --version | -V\n"
	"\n"
	"options:\n"
	"  -c, --config FILE     ini file (default $VOLINIT_CONFIG, else /etc/volinit.ini)\n"
	"  --expect PATH=VERSION declare a volume inline (repeatable)\n"
	"  -g                    forward signals to PROGRAM's process group\n"
	"  -s                    become a child subreaper (automatic when not PID 1)\n"
	"  -e CODE               treat PROGRAM's exit code CODE as 0 (repeatable)\n"
	"  --grace SECONDS       let other processes finish after PROGRAM exits\n"
	"  -v, -q                more / less logging\n"
	"  -h, --help            this text; -V, --version: volinit's version\n"
	"\n"
	"exit codes: PROGRAM's (128+N for signal N); 64 usage, 65 corrupt version file,\n"
	"66 volume missing or not mounted, 70 internal error, 73 cannot write,\n"
	"75 lock timeout, 77 privileges, 78 config, 80 volume older, 81 volume newer,\n"
	"82 migration failed, 83 dirty volume, 84 verify failed,\n"
	"126/127 PROGRAM or a hook not executable / not found,\n"
	"128+N volinit stopped by signal N before PROGRAM started\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fatal(64, NULL, "%s (see volinit --help)", msg);
	return 64;
}

static enum command command_named(const char *s)
{
	static const char *const names[] = {
		[CMD_CHECK] = "check", [CMD_MIGRATE] = "migrate", [CMD_STATUS] = "status",
		[CMD_STAMP] = "stamp",
	};
	for (int c = CMD_CHECK; c <= CMD_STAMP; c++)
		if (strcmp(s, names[c]) == 0)
			return (enum command)c;
	return CMD_RUN;
}

/* The value of an option: "-cFILE" (attached), or the next argument. */
static const char *option_value(int argc, char **argv, int *i, const char *attached)
{
	if (*attached)
		return attached;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* One option (argv[*i], which starts with '-'). Returns -1 to go on, or an
 * exit code. A small parser of our own: getopt_long would cost the static
 * binary more than this whole function. */
static int parse_option(int argc, char **argv, int *i, struct cli *cli)
{
	const char *arg = argv[*i];
	bool run = cli->cmd == CMD_RUN;
	if (arg[1] == '-') {
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t n = eq ? (size_t)(eq - name) : strlen(name);
		const char *attached = eq ? eq + 1 : NULL;
#define IS(word) (n == strlen(word) && strncmp(name, word, n) == 0)
		if (IS("help")) {
			fputs(usage, stdout);
			return 0;
		}
		if (IS("version")) {
			printf("volinit %s\n", VOLINIT_VERSION);
			return 0;
		}
		if (IS("json") && !eq && (cli->cmd == CMD_CHECK || cli->cmd == CMD_STATUS)) {
			cli->json = true;
			return -1;
		}
		if (IS("dry-run") && !eq && cli->cmd == CMD_MIGRATE) {
			cli->dry_run = true;
			return -1;
		}
		bool config = IS("config"), expect = IS("expect"), grace = IS("grace") && run;
#undef IS
		if (!config && !expect && !grace)
			return usage_error("unknown option %s%s", arg,
					   run ? "" : " for this subcommand");
		/* "--config=FILE", or "--config FILE"; "--config=" is empty, and
		 * never takes the next argument (PROGRAM's) for its value. */
		const char *value = eq ? attached : option_value(argc, argv, i, "");
		if (!value || !*value)
			return usage_error("option --%.*s needs a value", (int)n, name);
		if (config)
			cli->config_file = value;
		else if (expect)
			cli->expects[cli->nexpects++] = (char *)value;
		else if (!config_parse_seconds(value, &cli->grace))
			return usage_error("--grace %s: want a number of seconds", value);
		else
			cli->grace_set = true;
		return -1;
	}
	/* A cluster of short options: -gs, -vv, -cFILE, -e 143. */
	for (const char *p = arg + 1; *p; p++) {
		switch (*p) {
		case 'v': cli->verbosity++; continue;
		case 'q': cli->verbosity = -1; continue;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': printf("volinit %s\n", VOLINIT_VERSION); return 0;
		case 'g': if (run) { cli->sup.group = true; continue; } break;
		case 's': if (run) { cli->subreaper = true; continue; } break;
		case 'c':
		case 'e': {
			if (*p == 'e' && !run)
				break;
			const char *value = option_value(argc, argv, i, p + 1);
			if (!value || !*value)
				return usage_error("option -%c needs a value", *p);
			int32_t code;
			if (*p == 'c')
				cli->config_file = value;
			else if (!config_parse_version(value, &code) || code > 255)
				return usage_error("-e %s: want an exit code from 0 to 255", value);
			else
				cli->sup.remap[code / 8] |= (uint8_t)(1u << (code % 8));
			return -1;
		}
		default:
			break;
		}
		return usage_error("unknown option -%c%s", *p, run ? "" : " for this subcommand");
	}
	return -1;
}

int cli_parse(int argc, char **argv, struct cli *cli)
{
	memset(cli, 0, sizeof(*cli));
	cli->cmd = argc > 1 ? command_named(argv[1]) : CMD_RUN;
	cli->expects = calloc((size_t)argc + 1, sizeof(char *));
	if (!cli->expects)
		return 70;
	int i = cli->cmd == CMD_RUN ? 1 : 2;
	for (; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		int rc = parse_option(argc, argv, &i, cli);
		if (rc >= 0)
			return rc;
	}
	cli->args = argv + i;
	cli->nargs = argc - i;
	if (cli->cmd == CMD_RUN && cli->nargs == 0)
		return usage_error("no PROGRAM to run");
	if (cli->cmd == CMD_STAMP && cli->nargs != 2)
		return usage_error("stamp takes VOLUME VERSION");
	if (cli->cmd != CMD_RUN && cli->cmd != CMD_STAMP && cli->nargs > 0)
		return usage_error("unexpected argument \"%s\"", cli->args[0]);
	return -1;
}

void cli_free(struct cli *cli)
{
	free(cli->expects);
	cli->expects = NULL;
}
