/* volinit: guard the volumes' schema versions, then run PROGRAM as PID 1.
 * main is the script of the phases: parse, load, guard, prepare, spawn,
 * supervise. Each phase lives in its own file. */
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "env.h"
#include "howto.h"
#include "journal.h"
#include "lifecycle.h"
#include "log.h"
#include "privs.h"
#include "report.h"
#include "signals.h"
#include "spawn.h"
#include "startup.h"
#include "supervise.h"
#include "termlog.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

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
		cfg->grace = cli->grace; /* the command line over the file */
	return 0;
}

/* What the exit event needs: the volumes and when PROGRAM was spawned. */
struct program_run {
	const struct config *cfg;
	const struct startup *held;
	struct timespec began;
};

/* PROGRAM has ended: an exit event on every volume that got its start
 * event, so that status can tell a crash loop from clean restarts. */
static void journal_exit(int status, const struct timespec *at, void *ctx)
{
	const struct program_run *run = ctx;
	long long ns = (long long)(at->tv_sec - run->began.tv_sec) * 1000000000LL +
		       (at->tv_nsec - run->began.tv_nsec);
	char detail[LIFECYCLE_DETAIL_MAX];
	lifecycle_exit_detail(detail, sizeof(detail), status, ns / 1000000);
	for (size_t i = 0; i < run->held->n; i++) {
		const struct volume_conf *v = &run->cfg->volumes[i];
		journal_event(run->held->volumes[i].session.dirfd, v, "exit", v->expected,
			      v->expected, detail);
	}
}

static int run_program(struct cli *cli, struct config *cfg)
{
	supervise_become_reaper(cli->subreaper);

	struct privs privs;
	int rc = privs_resolve(cfg, "/", &privs);
	if (!rc)
		rc = privs_check(&privs); /* before any volume is touched */
	if (rc)
		return rc;
	struct startup held;
	rc = startup_admit(cfg, &privs, &held);
	if (rc) {
		bool hold = cfg->on_refuse == REFUSE_HOLD && rc < 128;
		if (hold)
			startup_journal(cfg, &held, "hold", "on_refuse = hold");
		/* Let go of the volumes first: the operator who execs in must be
		 * able to take the exclusive lock (volinit stamp, migrate). */
		startup_release(&held);
		return hold ? supervise_hold(rc) : rc;
	}
	/* SIGTERM while volumes were prepared: start nothing more. */
	int stop = signals_take_stop();
	if (stop) {
		log_fatal(128 + stop, NULL, "stopped by signal %d before the program started", stop);
		startup_release(&held);
		return 128 + stop;
	}
	const char *home = privs_home(&privs);
	char **env = home ? env_with(environ, &home, 1) : NULL;
	if (home && !env) {
		log_fatal(70, NULL, "cannot start a process: out of memory");
		startup_release(&held);
		return 70;
	}
	struct spawn s = {
		.argv = cli->args, .envp = env, .cwd_fd = -1, .prepare = privs_apply, .ctx = &privs,
	};
	pid_t child;
	struct program_run run = { .cfg = cfg, .held = &held };
	clock_gettime(CLOCK_MONOTONIC, &run.began);
	rc = spawn_start(&s, &child);
	free(env); /* the child has exec'd: spawn_start returns only then */
	if (rc == 0) {
		/* Signals that came before a hook ran, kept for PROGRAM. */
		signals_forward_held(child, cli->sup.group);
		startup_started(cfg, &held);
		struct supervise_opts sup = cli->sup;
		sup.grace = cfg->grace;
		sup.ended = journal_exit;
		sup.ctx = &run;
		rc = supervise_run(child, &sup);
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
	int rc = cli_parse(argc, argv, &cli);
	if (rc >= 0)
		goto out;
	log_setup(LOG_TEXT, cli.verbosity);
	rc = load_config(&cli, &cfg);
	if (rc)
		goto out;
	log_setup(cfg.log_format, cli.verbosity);
	howto_setup(&cfg, cli.config_file, cli.expects, cli.nexpects, cli.cmd == CMD_RUN);
	report_unmounted(&cfg);

	switch (cli.cmd) {
	case CMD_RUN: rc = run_program(&cli, &cfg); break;
	case CMD_CHECK: {
		/* Verify hooks run as the configured user: only then resolved,
		 * so that check stays what it was without them. */
		struct privs privs;
		bool verify = false;
		for (size_t i = 0; i < cfg.nvolumes; i++)
			verify = verify || cfg.volumes[i].verify;
		rc = verify ? privs_resolve(&cfg, "/", &privs) : 0;
		if (!rc && verify)
			rc = privs_check(&privs);
		if (!rc)
			rc = command_check(&cfg, cli.json, verify ? &privs : NULL);
		break;
	}
	case CMD_STATUS: rc = command_status(&cfg, cli.json); break;
	case CMD_MIGRATE: {
		struct privs privs;
		rc = privs_resolve(&cfg, "/", &privs);
		if (!rc)
			rc = privs_check(&privs);
		if (!rc)
			rc = command_migrate(&cfg, &privs, cli.dry_run);
		break;
	}
	case CMD_STAMP: rc = command_stamp(&cfg, cli.args[0], cli.args[1]); break;
	}
out:
	if (rc)
		termlog_write(&cfg);
	config_free(&cfg);
	cli_free(&cli);
	return rc;
}
