/* migrate: hooks found and checked before anything runs, then one step at a
 * time: dirty marker on disk, hook, version written, marker removed. A
 * failed step puts the snapshot back (see migrate.h). */
#include "migrate.h"
#include "env.h"
#include "guard.h"
#include "report.h"
#include "verify.h"
#include "jbuf.h"
#include "journal.h"
#include "log.h"
#include "self.h"
#include "sha256.h"
#include "signals.h"
#include "snapshot.h"
#include "spawn.h"
#include "state.h"
#include "supervise.h"
#include "trust.h"
#include "version.h"
#include "volume.h"
#include "window.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

int migrate_hook_step(const char *name, int32_t *step)
{
	int64_t v = 0;
	const char *p = name;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (*p - '0');
		if (v > INT32_MAX)
			return -1;
		p++;
	}
	if (p == name)
		return -1;
	*step = (int32_t)v;
	return 0; /* end of name, or a non-digit and anything after it */
}

void migrate_plan_free(struct migrate_plan *plan)
{
	free(plan->steps);
	plan->steps = NULL;
	plan->n = 0;
}

int migrate_plan_check(const struct volume_conf *v, int32_t from)
{
	struct migrate_plan plan;
	int rc = migrate_plan(v, from, &plan);
	migrate_plan_free(&plan);
	return rc;
}

/* Insertion sort: a migrations directory holds tens of hooks, and qsort
 * would cost the static binary more than this. */
static void sort_by_step(struct migrate_step *s, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct migrate_step key = s[i];
		size_t j = i;
		for (; j > 0 && s[j - 1].to > key.to; j--)
			s[j] = s[j - 1];
		s[j] = key;
	}
}

/* Every hook in the directory (an open descriptor, which this takes),
 * sorted by step. Returns 0 or an errno. */
static int list_hooks(int dirfd, struct migrate_step **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	DIR *d = fdopendir(dirfd);
	if (!d) {
		int err = errno;
		close(dirfd);
		return err;
	}
	size_t cap = 0;
	int err = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int32_t step;
		if (e->d_name[0] == '.' || migrate_hook_step(e->d_name, &step) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 32;
			struct migrate_step *grown = realloc(*out, cap * sizeof(**out));
			if (!grown) {
				err = ENOMEM;
				break;
			}
			*out = grown;
		}
		(*out)[*n].to = step;
		snprintf((*out)[*n].hook, sizeof((*out)[*n].hook), "%s", e->d_name);
		(*n)++;
	}
	closedir(d);
	if (!err)
		sort_by_step(*out, *n);
	return err;
}

/* Whether execve would start path: an ELF program or a #! script (its
 * first bytes; a file it cannot read is left to execve to refuse). Found
 * before any step runs, rather than by the step that fails. */
static bool execve_can_run(const char *path)
{
	unsigned char head[4] = { 0 };
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return true;
	ssize_t n = read(fd, head, sizeof(head));
	close(fd);
	if (n < 0)
		return true;
	return (n >= 2 && head[0] == '#' && head[1] == '!') ||
	       (n == 4 && memcmp(head, "\x7f" "ELF", 4) == 0);
}

int migrate_slice(const struct migrate_step *hooks, size_t nhooks, int32_t from, int32_t to,
		  struct migrate_slice *s)
{
	memset(s, 0, sizeof(*s));
	/* Sorted: two hooks for one step stand side by side, found even
	 * outside the path this volume takes. */
	for (size_t i = 1; i < nhooks; i++) {
		if (hooks[i].to == hooks[i - 1].to) {
			s->dup = i;
			return 78;
		}
	}
	/* The steps from+1..to, each exactly once: a run of consecutive
	 * hooks. The plan is a slice of the list, never larger than it. */
	size_t first = 0;
	while (first < nhooks && hooks[first].to <= from)
		first++;
	int32_t want = from + 1;
	size_t i = first;
	for (; want <= to; want++, i++) {
		if (i >= nhooks || hooks[i].to != want) {
			s->missing = want;
			return 80;
		}
		if (want == to)
			break;
	}
	s->first = first;
	s->n = to > from ? i - first + 1 : 0;
	return 0;
}

/* A hook of the plan: the image's (78), a regular executable file, and
 * one execve can run (126). Returns 0 or the code after its FATAL line. */
static int check_hook(const struct volume_conf *v, const char *hook)
{
	const struct volume_conf *vols = v->config ? v->config->volumes : v;
	size_t nvols = v->config ? v->config->nvolumes : 1;
	char path[4096], why[4400];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", v->migrations, hook);
	enum trust_result t = trust_check(path, "hook", false, vols, nvols, why, sizeof(why));
	if (t == TRUST_UNSAFE) {
		log_fatal(78, v->name, "volume \"%s\": %s", v->name, why);
		return 78;
	}
	if (t != TRUST_OK || stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    access(path, X_OK) != 0) {
		log_fatal(126, v->name, "volume \"%s\": hook %s is not an executable file", v->name,
			  path);
		return 126;
	}
	if (!execve_can_run(path)) {
		log_fatal(126, v->name, "volume \"%s\": hook %s is neither a program (ELF) nor a "
					"script with a #! line", v->name, path);
		log_hint(v->name, "hooks run with execve, never through a shell: begin the script "
				  "with #!/bin/sh");
		return 126;
	}
	return 0;
}

int migrate_plan(const struct volume_conf *v, int32_t from, struct migrate_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->from = from;
	plan->to = v->expected;
	char why[4400];
	if (!v->migrations) {
		report_unmigratable(v, from, REPORT_NO_MIGRATIONS);
		return 80;
	}
	/* The image's, and outside every guarded volume (SPEC.md
	 * "Migrations"): checked before any hook is looked at. */
	const struct volume_conf *vols = v->config ? v->config->volumes : v;
	size_t nvols = v->config ? v->config->nvolumes : 1;
	int mfd, err = 0;
	enum trust_result t = trust_open(v->migrations, "migrations", true, vols, nvols, &mfd,
					 why, sizeof(why));
	if (t == TRUST_UNSAFE) {
		log_fatal(78, v->name, "volume \"%s\": %s", v->name, why);
		return 78;
	}
	if (t != TRUST_OK)
		err = t == TRUST_TYPE ? ENOTDIR : errno;
	struct migrate_step *hooks = NULL;
	size_t nhooks = 0;
	if (!err)
		err = list_hooks(mfd, &hooks, &nhooks);
	if (err) {
		snprintf(why, sizeof(why), "cannot read the migrations directory %s: %s",
			 v->migrations, strerror(err));
		report_unmigratable(v, from, why);
		free(hooks);
		return 80;
	}
	struct migrate_slice sl;
	int rc = migrate_slice(hooks, nhooks, from, v->expected, &sl);
	if (rc == 78) {
		log_fatal(78, v->name, "migrations %s: two hooks for step %d: \"%s\" and \"%s\"",
			  v->migrations, (int)hooks[sl.dup].to, hooks[sl.dup - 1].hook,
			  hooks[sl.dup].hook);
		free(hooks);
		return 78;
	}
	if (rc == 80) {
		int32_t want = sl.missing;
		snprintf(why, sizeof(why), "no hook for step %d -> %d in %s: name it %d or "
			 "%04d-what-it-does", (int)want - 1, (int)want, v->migrations,
			 (int)want, (int)want);
		report_unmigratable(v, from, why);
		free(hooks);
		return 80;
	}
	size_t first = sl.first, n = sl.n;
	if (n > 0) /* hooks is NULL when the directory held none */
		memmove(hooks, hooks + first, n * sizeof(*hooks));
	plan->steps = hooks;
	plan->n = n;
	for (size_t k = 0; k < n && !rc; k++)
		rc = check_hook(v, plan->steps[k].hook);
	if (rc) {
		migrate_plan_free(plan);
		return rc;
	}
	/* Run after the last step: the image's, and there, before any step. */
	if ((rc = verify_trust(v)) != 0)
		migrate_plan_free(plan);
	return rc;
}

/* volinit's environment with VOLINIT_VOLUME, _PATH, _FROM, _TO set, and
 * HOME when the hook runs as another user. */
static char **hook_env(const struct volume_conf *v, int32_t from, int32_t to,
		       const struct privs *privs, char vars[4][4200])
{
	snprintf(vars[0], 4200, "VOLINIT_VOLUME=%s", v->name);
	snprintf(vars[1], 4200, "VOLINIT_PATH=%s", v->path);
	snprintf(vars[2], 4200, "VOLINIT_FROM=%d", (int)from);
	snprintf(vars[3], 4200, "VOLINIT_TO=%d", (int)to);
	const char *set[] = { vars[0], vars[1], vars[2], vars[3], privs_home(privs) };
	return env_with(environ, set, set[4] ? 5 : 4);
}

/* The marker names the snapshot this migration took (snapshot_id), or
 * null: a start restores that one and no other. */
static int mark_dirty(const struct volume_conf *v, int voldirfd, const struct migrate_step *s,
		      const char *snapshot_id)
{
	char digest[65] = "", json[1024], since[40];
	int mfd = open(v->migrations, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd >= 0) {
		sha256_file_at(mfd, s->hook, digest);
		close(mfd);
	}
	struct jbuf t, b;
	jbuf_init(&t, since, sizeof(since));
	jbuf_time(&t);
	jbuf_init(&b, json, sizeof(json));
	jbuf_printf(&b, "{\"from\":%d,\"to\":%d,\"hook\":", (int)s->to - 1, (int)s->to);
	jbuf_json_str_max(&b, s->hook, 256);
	jbuf_puts(&b, ",\"sha256\":");
	jbuf_json_str(&b, digest);
	jbuf_printf(&b, ",\"pid\":%ld,\"host\":", self_pid());
	jbuf_json_str_max(&b, self_host(), 256);
	jbuf_puts(&b, ",\"started_at\":");
	jbuf_json_str(&b, since);
	jbuf_puts(&b, ",\"snapshot\":");
	if (snapshot_id[0])
		jbuf_json_str(&b, snapshot_id);
	else
		jbuf_puts(&b, "null");
	/* Online: the step may run again, beside apps of these versions. */
	if (config_online(v))
		jbuf_printf(&b, ",\"readers\":%d", (int)config_readers(v));
	jbuf_puts(&b, "}\n");
	return state_dirty_write(voldirfd, json);
}

/* Runs one hook. Returns its wait status, or -code when it did not start. */
static int run_hook(const struct volume_conf *v, int voldirfd, const struct migrate_step *s,
		    const struct privs *privs, int *stop)
{
	char path[4096], vars[4][4200];
	snprintf(path, sizeof(path), "%s/%s", v->migrations, s->hook);
	char **env = hook_env(v, s->to - 1, s->to, privs, vars);
	if (!env)
		return -70;
	char *argv[] = { path, NULL };
	struct spawn sp = {
		.argv = argv, .envp = env, .cwd_fd = voldirfd, .exact_path = true,
		.prepare = privs ? privs_apply : NULL, .ctx = (void *)privs,
	};
	/* What the hook leaves behind must come to us, to be killed before
	 * the next step (automatic as PID 1, and when a start made us one). */
	supervise_become_reaper(false);
	/* Signals that came before the hook (during a lock wait, say) are
	 * PROGRAM's: keep them from the hook. */
	signals_hold_pending();
	pid_t pid;
	int rc = spawn_start(&sp, &pid);
	free(env);
	if (rc)
		return -rc;
	return supervise_wait_hook(pid, stop);
}

/* An online migration (readers below expected) takes none: apps run on
 * the volume meanwhile, and a restore would drop what they wrote. */
static bool takes_snapshot(const struct volume_conf *v)
{
	return v->snapshot && !config_online(v);
}

/* After a failed online step: nothing to put back, and the step runs
 * again at the next start (its hook must be safe to run again): the
 * version stays at the last completed step, the marker goes. When the
 * steps all ended and the verify hook failed, no step runs again: the
 * data is suspect, so no older image may start on it either (the window
 * closes), and this image's starts refuse it (84) until it is fixed. */
static int fail_online(const struct volume_conf *v, int voldirfd, const struct migrate_step *s,
		       const char *why, int code)
{
	int err = state_dirty_clear(voldirfd);
	struct version_read r;
	version_read_at(voldirfd, v->version_file, &r);
	int32_t at = r.status == VERSION_OK ? r.version : s->to - 1;
	bool verified = at >= s->to; /* the step ended: it was the verify hook */
	if (verified && !err)
		err = window_record(voldirfd, -1, 0, 0);
	log_fatal(code, v->name, "volume \"%s\" (%s): online migration step %d -> %d (%s) %s; "
				 "the volume stays at %d%s", v->name, v->path, (int)s->to - 1,
		  (int)s->to, s->hook, why, (int)at,
		  err ? ", and .volinit/ could not be updated" : "");
	if (verified)
		log_hint(v->name, "online: no snapshot was taken, apps ran on beside it; every start "
				  "of this image verifies it again and refuses it (84) until the data is "
				  "fixed; older images no longer start on it");
	else
		log_hint(v->name, "online: no snapshot was taken, apps ran on beside it; fix the hook "
				  "and start again: the next start runs step %d -> %d again", (int)at,
			 (int)at + 1);
	return code;
}

/* After a failed step: put the snapshot back, or leave the volume dirty.
 * It never drops the snapshot: migrate_volume alone decides that, once the
 * volume is no longer dirty (a restore that failed keeps both, so that the
 * next start restores again). */
static int fail_step(const struct volume_conf *v, int voldirfd, const struct migrate_step *s,
		     int32_t began_at, const char *snapshot_id, const char *why, int code)
{
	journal_event(voldirfd, v, "step_fail", s->to - 1, s->to, why);
	if (config_online(v))
		return fail_online(v, voldirfd, s, why, code);
	if (!v->snapshot) {
		log_fatal(code, v->name, "volume \"%s\" (%s): migration step %d -> %d (%s) %s; the "
					 "volume is left dirty (no snapshot)", v->name, v->path,
			  (int)s->to - 1, (int)s->to, s->hook, why);
		log_hint(v->name, "starts refuse with 83 until you check the data and run: volinit "
				  "stamp %s N", v->name);
		return code;
	}
	char where[4096];
	int err = snapshot_restore_id(voldirfd, snapshot_id, where, sizeof(where));
	if (!err && (err = state_dirty_clear(voldirfd)) != 0)
		snprintf(where, sizeof(where), ".volinit/dirty");
	if (err) {
		log_fatal(code, v->name, "volume \"%s\" (%s): migration step %d -> %d (%s) %s, and "
					 "the restore failed: %s: %s", v->name, v->path, (int)s->to - 1,
			  (int)s->to, s->hook, why, where, snapshot_strerror(err));
		log_hint(v->name, "the snapshot is kept in %s/.volinit/snapshot; the next start "
				  "restores it again", v->path);
		return code;
	}
	journal_event(voldirfd, v, "restore", s->to - 1, began_at, why);
	log_fatal(code, v->name, "volume \"%s\" (%s): migration step %d -> %d (%s) %s; the "
				 "volume was restored as it was before the migration", v->name, v->path,
		  (int)s->to - 1, (int)s->to, s->hook, why);
	log_hint(v->name, "fix the hook and start again; the journal is in %s/.volinit/"
			  "journal.jsonl", v->path);
	return code;
}

/* The one place that drops a migration's snapshot: only when no dirty
 * marker is left (the migration ended, or its restore finished). A marker
 * that cannot be read counts as there. */
static void drop_snapshot_unless_dirty(const struct volume_conf *v, int voldirfd)
{
	char detail[16];
	if (takes_snapshot(v) && state_dirty_read(voldirfd, detail, sizeof(detail)) == 0)
		snapshot_remove(voldirfd);
}

/* "a, b" of the mounts inside the volume, cut to fit. */
static void join_mounts(const struct walk_list *mounts, char *out, size_t len)
{
	struct jbuf b;
	jbuf_init(&b, out, len);
	for (size_t i = 0; i < mounts->n; i++)
		jbuf_printf(&b, "%s%s", i ? ", " : "", mounts->items[i]);
}

static void print_plan(const struct volume_conf *v, int voldirfd, const struct migrate_plan *plan)
{
	printf("volume \"%s\" (%s): %d -> %d in %zu step%s%s\n", v->name, v->path,
	       (int)plan->from, (int)plan->to, plan->n, plan->n == 1 ? "" : "s",
	       config_online(v) ? ", online, without a snapshot"
	       : v->snapshot ? ", with a snapshot" : ", without a snapshot");
	for (size_t i = 0; i < plan->n; i++)
		printf("  %d -> %d: %s/%s\n", (int)plan->steps[i].to - 1, (int)plan->steps[i].to,
		       v->migrations, plan->steps[i].hook);
	struct walk_list mounts = { 0 };
	if (takes_snapshot(v) && snapshot_mounts(voldirfd, &mounts) == 0 && mounts.n) {
		char names[1024];
		join_mounts(&mounts, names, sizeof(names));
		printf("  left out of the snapshot and left alone by a restore (mounts inside "
		       "the volume): %s\n", names);
	}
	walk_list_free(&mounts);
}

/* Takes the snapshot (id gets its identity) and journals migrate_begin,
 * naming the mounts inside the volume that the snapshot left out: a
 * restore leaves them as they are. Returns 0 or snapshot_take's code. */
static int begin(const struct volume_conf *v, int voldirfd, int32_t from, char *id, size_t len)
{
	/* The window first (window.h): online, what running apps may keep
	 * doing, never wider than it was (an additive step does not bring
	 * back what an earlier one removed); offline, closed. */
	int32_t readers = -1;
	if (config_online(v)) {
		struct window w;
		window_read(voldirfd, from, &w);
		readers = config_readers(v) > w.readers ? config_readers(v) : w.readers;
	}
	int err = window_record(voldirfd, readers, from, v->expected);
	if (err) {
		log_fatal(73, v->name, "volume \"%s\" (%s): cannot write .volinit/readers: %s",
			  v->name, v->path, strerror(err));
		return 73;
	}
	struct walk_list mounts = { 0 };
	int rc = takes_snapshot(v) ? snapshot_take_mounts(v, voldirfd, id, len, &mounts) : 0;
	char detail[1100] = "";
	if (config_online(v)) {
		snprintf(detail, sizeof(detail), "online (readers %d): no snapshot",
			 (int)config_readers(v));
	} else if (mounts.n) {
		char names[1024];
		join_mounts(&mounts, names, sizeof(names));
		snprintf(detail, sizeof(detail), "mounts left alone: %s", names);
		if (!rc)
			log_notice(v->name, "volume \"%s\": left out of the snapshot, and left alone "
					    "by a restore: the mount%s inside it: %s", v->name,
				   mounts.n == 1 ? "" : "s", names);
	}
	walk_list_free(&mounts);
	journal_event(voldirfd, v, "migrate_begin", from, v->expected, detail[0] ? detail : NULL);
	return rc;
}

/* One step: the dirty marker, the hook, then the version file, or the
 * failure (fail_step). After a stop signal it does not run; one during it
 * lets it finish and runs no further step. Returns 0 or the exit code. */
static int run_step(const struct volume_conf *v, int voldirfd, const struct migrate_step *s,
		    int32_t from, const char *snapshot_id, const struct privs *privs, bool last)
{
	char why[128];
	int stop = signals_take_stop();
	if (stop) {
		log_fatal(128 + stop, v->name, "volume \"%s\": stopped by signal %d before step "
					       "%d -> %d; no further step runs", v->name, stop,
			  (int)s->to - 1, (int)s->to);
		return 128 + stop;
	}
	int err = mark_dirty(v, voldirfd, s, snapshot_id);
	if (err) {
		log_fatal(73, v->name, "volume \"%s\" (%s): cannot write .volinit/dirty: %s", v->name,
			  v->path, strerror(err));
		return 73;
	}
	log_notice(v->name, "volume \"%s\": step %d -> %d: %s", v->name, (int)s->to - 1,
		   (int)s->to, s->hook);
	int status = run_hook(v, voldirfd, s, privs, &stop);
	if (status < 0) {
		snprintf(why, sizeof(why), "could not start");
		return fail_step(v, voldirfd, s, from, snapshot_id, why, -status);
	}
	if (status != 0) {
		int code = supervise_exit_code(status);
		snprintf(why, sizeof(why), "%s %d", code > 128 ? "died of signal" : "exited with",
			 code > 128 ? code - 128 : code);
		return fail_step(v, voldirfd, s, from, snapshot_id, why, stop ? 128 + stop : 82);
	}
	/* What the hook wrote reaches the disk before the version that vouches
	 * for it (SPEC.md "Power loss"): without this a power cut can leave
	 * the new version over old data, the snapshot already dropped. */
	if ((err = volume_sync(voldirfd)) != 0) {
		snprintf(why, sizeof(why), "succeeded, but what it wrote could not be made "
			 "durable (syncfs): %s", strerror(err));
		return fail_step(v, voldirfd, s, from, snapshot_id, why, 82);
	}
	if ((err = version_write_at(voldirfd, v->version_file, s->to)) != 0) {
		snprintf(why, sizeof(why), "succeeded, but %s could not be written: %s",
			 v->version_file, strerror(err));
		return fail_step(v, voldirfd, s, from, snapshot_id, why, 73);
	}
	state_dirty_clear(voldirfd);
	journal_event(voldirfd, v, "step_ok", s->to - 1, s->to, s->hook);
	if (stop && !last)
		log_fatal(128 + stop, v->name, "volume \"%s\": stopped by signal %d after step "
					       "%d -> %d; no further step runs", v->name, stop,
			  (int)s->to - 1, (int)s->to);
	return stop ? 128 + stop : 0;
}

/* After the last step, before the snapshot is dropped: the verify hook,
 * as part of the migration (dirty again meanwhile, so that a crash here is
 * restored too). Failing, it fails the migration: the snapshot goes back,
 * 82, as for a failed step. */
static int verify_migrated(const struct volume_conf *v, int voldirfd,
			   const struct migrate_step *last, int32_t from, const char *snapshot_id,
			   const struct privs *privs)
{
	int err = mark_dirty(v, voldirfd, last, snapshot_id);
	if (err) {
		log_fatal(73, v->name, "volume \"%s\" (%s): cannot write .volinit/dirty: %s",
			  v->name, v->path, strerror(err));
		return 73;
	}
	char why[512], how[128], failed[700];
	log_notice(v->name, "volume \"%s\": verifying %d with %s", v->name, (int)v->expected,
		   v->verify);
	int rc = verify_run(v, voldirfd, v->expected, privs, why, sizeof(why), how, sizeof(how));
	if (rc == 0) {
		state_dirty_clear(voldirfd);
		return 0;
	}
	if (rc > 128)
		snprintf(failed, sizeof(failed), "succeeded, but the verify hook was stopped by "
			 "signal %d", rc - 128);
	else
		snprintf(failed, sizeof(failed), "succeeded, but the verify hook failed: %s", why);
	char detail[700];
	snprintf(detail, sizeof(detail), "%s (ran %s)", why, how);
	journal_event(voldirfd, v, "verify_fail", v->expected, v->expected, detail);
	return fail_step(v, voldirfd, last, from, snapshot_id, failed, rc > 128 ? rc : 82);
}

int migrate_volume(const struct volume_conf *v, int voldirfd, int32_t from,
		   const struct privs *privs, int dry_run)
{
	struct migrate_plan plan;
	int rc = migrate_plan(v, from, &plan);
	if (rc)
		return rc;
	if (dry_run) {
		print_plan(v, voldirfd, &plan);
		migrate_plan_free(&plan);
		return 0;
	}
	log_notice(v->name, "volume \"%s\" (%s): migrating %d -> %d in %zu step%s", v->name,
		   v->path, (int)from, (int)v->expected, plan.n, plan.n == 1 ? "" : "s");
	char snapshot_id[96] = "";
	if ((rc = begin(v, voldirfd, from, snapshot_id, sizeof(snapshot_id))) != 0) {
		migrate_plan_free(&plan);
		return rc;
	}
	for (size_t i = 0; !rc && i < plan.n; i++)
		rc = run_step(v, voldirfd, &plan.steps[i], from, snapshot_id, privs,
			      i + 1 == plan.n);
	if (rc == 0 && v->verify && plan.n > 0)
		rc = verify_migrated(v, voldirfd, &plan.steps[plan.n - 1], from, snapshot_id, privs);
	drop_snapshot_unless_dirty(v, voldirfd);
	if (rc == 0)
		log_notice(v->name, "volume \"%s\" (%s): migrated to %d", v->name, v->path,
			   (int)v->expected);
	migrate_plan_free(&plan);
	return rc;
}

int migrate_recover(const struct volume_conf *v, int voldirfd, const struct observation *obs)
{
	log_notice(v->name, "volume \"%s\" (%s): an interrupted migration left it dirty (%s); "
			    "restoring its snapshot", v->name, v->path, obs->detail);
	char where[4096];
	/* The snapshot its marker names (guard_observe checked it is there),
	 * or, for a marker of volinit 0.1, the one present. */
	int err = obs->snapshot_id[0]
			  ? snapshot_restore_id(voldirfd, obs->snapshot_id, where, sizeof(where))
			  : snapshot_restore(voldirfd, where, sizeof(where));
	if (err) {
		log_fatal(82, v->name, "volume \"%s\" (%s): cannot restore the snapshot: %s: %s",
			  v->name, v->path, where, snapshot_strerror(err));
		return 82;
	}
	if ((err = state_dirty_clear(voldirfd)) != 0) {
		log_fatal(73, v->name, "volume \"%s\" (%s): cannot remove .volinit/dirty: %s",
			  v->name, v->path, strerror(err));
		return 73;
	}
	snapshot_remove(voldirfd);
	journal_event(voldirfd, v, "restore", -1, -1, obs->detail);
	return 0;
}
