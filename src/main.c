/* volinit: guard the volumes' schema versions, then run PROGRAM as PID 1.
 * main is the script of the phases: parse, load, guard, prepare, spawn,
 * supervise. Each phase lives in its own file. */
#include "commands.h"
#include "config.h"
#include "log.h"
#include "privs.h"
#include "signals.h"
#include "spawn.h"
#include "startup.h"
#include "supervise.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cli {
	enum command cmd;
	const char *config_file;   /* -c */
	char **expects;            /* --expect arguments */
	size_t nexpects;
	bool json, dry_run, subreaper, grace_set;
	int verbosity;
	struct supervise_opts sup;
	char **args;               /* PROGRAM and its arguments, or stamp's */
	int nargs;
};

static const char usage[] =
	"usage: volinit [OPTIONS] [--] PROGRAM [ARG...]   guard the volumes, then run PROGRAM as its init\n"
	"       volinit check   [OPTIONS] [--json]        exit 0 if every volume is compatible\n"
	"       volinit migrate [OPTIONS] [--dry-run]     bring every volume to its expected version\n"
	"       volinit status  [OPTIONS] [--json]        what is on the volumes; changes nothing\n"
	"       volinit stamp   [OPTIONS] VOLUME VERSION  set a volume's version without hooks\n"
	"       volinit --help | --version\n"
	"\n"
	"options:\n"
	"  -c, --config FILE     ini file (default $VOLINIT_CONFIG, else /etc/volinit.ini)\n"
	"  --expect PATH=VERSION declare a volume inline (repeatable)\n"
	"  -g                    forward signals to PROGRAM's process group\n"
	"  -s                    become a child subreaper (automatic when not PID 1)\n"
	"  -e CODE               treat PROGRAM's exit code CODE as 0 (repeatable)\n"
	"  --grace SECONDS       let other processes finish after PROGRAM exits\n"
	"  -v, -q                more / less logging\n"
	"\n"
	"exit codes: PROGRAM's (128+N for signal N); 64 usage, 65 corrupt version file,\n"
	"66 volume missing, 73 cannot write, 75 lock timeout, 77 privileges, 78 config,\n"
	"80 volume older, 81 volume newer, 82 migration failed, 83 dirty volume,\n"
	"126/127 PROGRAM not executable / not found\n";

enum { OPT_EXPECT = 256, OPT_GRACE, OPT_JSON, OPT_DRY_RUN, OPT_HELP, OPT_VERSION };

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

/* Returns -1 to go on, or an exit code. */
static int parse_cli(int argc, char **argv, struct cli *cli)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "expect", required_argument, NULL, OPT_EXPECT },
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	memset(cli, 0, sizeof(*cli));
	cli->cmd = argc > 1 ? command_named(argv[1]) : CMD_RUN;
	int skip = cli->cmd == CMD_RUN ? 0 : 1;
	cli->expects = calloc((size_t)argc, sizeof(char *));
	if (!cli->expects)
		return 70;

	/* '+': stop at the first non-option, so PROGRAM keeps its options. */
	opterr = 0;
	optind = 1;
	int c;
	const char *shortopts = cli->cmd == CMD_RUN ? "+:c:gse:vqh" : "+:c:vqh";
	while ((c = getopt_long(argc - skip, argv + skip, shortopts, longopts, NULL)) != -1) {
		bool run_only = false;
		switch (c) {
		case 'c': cli->config_file = optarg; break;
		case OPT_EXPECT: cli->expects[cli->nexpects++] = optarg; break;
		case 'g': cli->sup.group = true; break;
		case 's': cli->subreaper = true; break;
		case 'e': {
			int32_t code;
			if (!config_parse_version(optarg, &code) || code > 255)
				return usage_error("-e %s: want an exit code from 0 to 255", optarg);
			cli->sup.remap[code / 8] |= (uint8_t)(1u << (code % 8));
			break;
		}
		case OPT_GRACE:
			run_only = true;
			if (!config_parse_seconds(optarg, &cli->sup.grace))
				return usage_error("--grace %s: want a number of seconds", optarg);
			cli->grace_set = true;
			break;
		case OPT_JSON:
			if (cli->cmd != CMD_CHECK && cli->cmd != CMD_STATUS)
				return usage_error("--json goes with check and status");
			cli->json = true;
			break;
		case OPT_DRY_RUN:
			if (cli->cmd != CMD_MIGRATE)
				return usage_error("--dry-run goes with migrate");
			cli->dry_run = true;
			break;
		case 'v': cli->verbosity++; break;
		case 'q': cli->verbosity = -1; break;
		case 'h':
		case OPT_HELP: fputs(usage, stdout); return 0;
		case OPT_VERSION: printf("volinit %s\n", VOLINIT_VERSION); return 0;
		case ':': return usage_error("option %s needs a value", argv[skip + optind - 1]);
		default:
			if (optopt)
				return usage_error("unknown option -%c", optopt);
			return usage_error("unknown option %s", argv[skip + optind - 1]);
		}
		if (run_only && cli->cmd != CMD_RUN)
			return usage_error("%s is an option of a start, not of a subcommand",
					   argv[skip + optind - 1]);
	}
	cli->args = argv + skip + optind;
	cli->nargs = argc - skip - optind;
	if (cli->cmd == CMD_RUN && cli->nargs == 0)
		return usage_error("no PROGRAM to run");
	if (cli->cmd == CMD_STAMP && cli->nargs != 2)
		return usage_error("stamp takes VOLUME VERSION");
	if (cli->cmd != CMD_RUN && cli->cmd != CMD_STAMP && cli->nargs > 0)
		return usage_error("unexpected argument \"%s\"", cli->args[0]);
	return -1;
}

/* -c, else $VOLINIT_CONFIG, else the default file, which may be missing. */
static int load_config(const struct cli *cli, struct config *cfg)
{
	char err[512];
	const char *file = cli->config_file;
	if (!file || !*file)
		file = getenv("VOLINIT_CONFIG");
	bool named = file && *file;
	if (!named)
		file = CONFIG_DEFAULT_FILE;

	int rc = 0;
	if (named || access(file, F_OK) == 0 || errno != ENOENT)
		rc = config_load(cfg, file, err, sizeof(err));
	else if (cli->nexpects == 0)
		log_warn(NULL, "no %s and no --expect: no volume is guarded", file);
	for (size_t i = 0; rc == 0 && i < cli->nexpects; i++)
		rc = config_add_expect(cfg, cli->expects[i], err, sizeof(err));
	if (rc) {
		log_fatal(rc, NULL, "%s", err);
		return rc;
	}
	if (cli->grace_set)
		cfg->grace = cli->sup.grace;
	return 0;
}

static int run_program(struct cli *cli, struct config *cfg)
{
	supervise_become_reaper(cli->subreaper);

	struct privs privs;
	int rc = privs_resolve(cfg, "/", &privs);
	if (rc)
		return rc;
	struct startup held;
	rc = startup_admit(cfg, &privs, &held);
	if (rc) {
		if (cfg->on_refuse == REFUSE_HOLD && rc < 128) {
			startup_journal(cfg, &held, "hold", "on_refuse = hold");
			rc = supervise_hold(rc);
		}
		startup_release(&held);
		return rc;
	}
	/* SIGTERM while volumes were prepared: start nothing more. */
	int stop = signals_take_stop();
	if (stop) {
		log_fatal(128 + stop, NULL, "stopped by signal %d before the program started", stop);
		startup_release(&held);
		return 128 + stop;
	}
	struct spawn s = {
		.argv = cli->args, .cwd_fd = -1, .prepare = privs_apply, .ctx = &privs,
	};
	pid_t child;
	rc = spawn_start(&s, &child);
	if (rc == 0) {
		cli->sup.grace = cfg->grace;
		rc = supervise_run(child, &cli->sup);
	}
	startup_release(&held);
	return rc;
}

int main(int argc, char **argv)
{
	signals_block_all();
	log_setup(LOG_TEXT, 0);

	struct cli cli;
	struct config cfg;
	config_init(&cfg);
	int rc = parse_cli(argc, argv, &cli);
	if (rc >= 0)
		goto out;
	log_setup(LOG_TEXT, cli.verbosity);
	rc = load_config(&cli, &cfg);
	if (rc)
		goto out;
	log_setup(cfg.log_format, cli.verbosity);

	switch (cli.cmd) {
	case CMD_RUN: rc = run_program(&cli, &cfg); break;
	case CMD_CHECK: rc = command_check(&cfg, cli.json); break;
	case CMD_STATUS: rc = command_status(&cfg, cli.json); break;
	case CMD_MIGRATE: {
		struct privs privs;
		rc = privs_resolve(&cfg, "/", &privs);
		if (!rc)
			rc = command_migrate(&cfg, &privs, cli.dry_run);
		break;
	}
	case CMD_STAMP: rc = command_stamp(&cfg, cli.args[0], cli.args[1]); break;
	}
out:
	config_free(&cfg);
	free(cli.expects);
	return rc;
}
