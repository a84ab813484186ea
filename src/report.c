/* report: everything volinit says about a volume's state: the FATAL
 * line and hints of a refusal (the code comes from the decision: decided
 * in one place, guard_decide), and the check and status output, text and
 * JSON. */
#include "report.h"
#include "holders.h"
#include "jbuf.h"
#include "journal.h"
#include "lifecycle.h"
#include "log.h"
#include "record.h"
#include "snapshot.h"
#include "state.h"
#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void hint_untouched(const struct volume_conf *v, bool restored)
{
	if (restored)
		log_hint(v->name, "the volume was restored from its snapshot, as it was before the "
				  "interrupted migration; nothing else was changed");
	else
		log_hint(v->name, "the data on the volume was not changed");
}

static void hint_destroy(const struct volume_conf *v)
{
	log_hint(v->name, "to start over, destroying the data: docker volume rm VOLUME "
			  "(Compose: docker compose down -v)");
}

static void report_incompatible(const struct volume_conf *v, const struct observation *obs,
				const struct decision *d)
{
	char found[32];
	/* Data without a version file is at its baseline, when one is set:
	 * that is the version refused, and the one to name. */
	bool at_baseline = obs->what == OBS_UNVERSIONED && v->has_baseline;
	if (obs->what == OBS_VERSION || at_baseline)
		snprintf(found, sizeof(found), "%d",
			 (int)(at_baseline ? v->baseline : obs->version));
	else
		snprintf(found, sizeof(found), "none");
	/* Newer, with a window open (SPEC.md "Rolling updates"): which older
	 * images still start on it. */
	char window[48] = "";
	if (d->code == 81 && obs->what == OBS_VERSION && obs->window.readers < obs->version)
		snprintf(window, sizeof(window), ", readers=%d", (int)obs->window.readers);
	log_fatal(d->code, v->name,
		  "incompatible persistent state in volume \"%s\" (%s): schema_version=%s, "
		  "expected=%d%s", v->name, v->path, found, (int)v->expected, window);
	hint_untouched(v, obs->restored);
	if (at_baseline)
		log_hint(v->name, "the volume holds data but no %s: baseline = %d takes it to be at "
				  "%d", v->version_file, (int)v->baseline, (int)v->baseline);
	if (obs->what == OBS_EMPTY) {
		log_hint(v->name, "the volume is empty and on_missing = fail: set on_missing = init, "
				  "or write the version with: %s",
			 howto_stamp_at(v->name, (int)v->expected));
	} else if (obs->what == OBS_UNVERSIONED && !at_baseline) {
		log_hint(v->name, "the volume holds data but no %s: say which version it is with "
				  "baseline = N, or: %s", v->version_file, howto_stamp(v->name, "N"));
	} else if (d->code == 81) {
		if (obs->what == OBS_VERSION && obs->window.readers < obs->version)
			log_hint(v->name, "the data at %d can still be used by images that expect %d "
					  "to %d (its readers); this one expects %d", (int)obs->version,
				 (int)obs->window.readers, (int)obs->version, (int)v->expected);
		else if (obs->what == OBS_VERSION)
			log_hint(v->name, "the data at %d can be used only by images that expect %d "
					  "(the image that wrote it declared no readers below it)",
				 (int)obs->version, (int)obs->version);
		log_hint(v->name, "the data was written by a newer image: run that image (roll "
				  "forward), or set on_newer = allow if this one can read it");
	} else if (!v->migrations) {
		/* volinit migrate would refuse too (80): not named. */
		log_hint(v->name, "to migrate, ship hooks for each step in a migrations directory "
				  "(migrations = DIR) and set on_older = migrate");
	} else {
		log_hint(v->name, "hooks are configured but on_older = fail: set on_older = "
				  "migrate, or run: %s", howto("migrate"));
	}
	if ((obs->what == OBS_VERSION || at_baseline) && d->code == 80)
		log_hint(v->name, "if the data already is at %d: %s", (int)v->expected,
			 howto_stamp_at(v->name, (int)v->expected));
	hint_destroy(v);
}

void report_unmigratable(const struct volume_conf *v, int32_t from, const char *why)
{
	log_fatal(80, v->name,
		  "incompatible persistent state in volume \"%s\" (%s): schema_version=%d, expected=%d",
		  v->name, v->path, (int)from, (int)v->expected);
	hint_untouched(v, false);
	log_hint(v->name, "%s", why);
	log_hint(v->name, "if the data already is at %d: %s", (int)v->expected,
		 howto_stamp_at(v->name, (int)v->expected));
	hint_destroy(v);
}

void report_node_locks(const struct volume_conf *v, const struct observation *obs,
		       const char *what)
{
	log_fatal(73, v->name, "volume \"%s\" (%s): it would be written (%s), but its locks stay "
			       "on this node: %s (%s); another node mounting it would not be kept out",
		  v->name, v->path, what, obs->fs.type, obs->fs.why);
	log_hint(v->name, "the data on the volume was not changed");
	log_hint(v->name, "if only this node mounts the volume, say so in its section of the "
			  "config: single_node = true; else mount it where locks reach every node "
			  "(README: Shared volumes)");
}

void report_fs(const struct observation *obs, char *buf, size_t len)
{
	if (obs->fs.type[0])
		fsinfo_text(&obs->fs, buf, len);
	else
		snprintf(buf, len, "not known (the volume could not be opened)");
}

void report_restart(const struct config *cfg)
{
	/* As PID 1 this is the container itself (docker run ... migrate). */
	if (cfg->on_refuse != REFUSE_HOLD || getpid() == 1)
		return;
	log_hint(NULL, "a container that holds (on_refuse = hold) does not start its program "
		       "by itself: restart it (docker restart CONTAINER; Compose: docker compose "
		       "restart SERVICE; Kubernetes: kubectl delete pod POD)");
}

void report_state_denied(const struct volume_conf *v, int voldirfd, int err)
{
	struct stat st;
	if (err != EACCES || fstatat(voldirfd, VOLUME_STATE_DIR, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    st.st_uid == geteuid())
		return;
	/* The usual cause: USER in the Dockerfile over a volume that volinit
	 * first ran on as root. */
	log_hint(v->name, "%s/%s/ belongs to uid %u and volinit runs as uid %u: run volinit as "
			  "root with the app's user in the config (user = NAME; no USER line in "
			  "the Dockerfile), or, as root, give it to uid %u: chown -R %u %s/%s",
		 v->path, VOLUME_STATE_DIR, (unsigned)st.st_uid, (unsigned)geteuid(),
		 (unsigned)geteuid(), (unsigned)geteuid(), v->path, VOLUME_STATE_DIR);
}

void report_unmounted(const struct config *cfg)
{
	if (getpid() != 1)
		return; /* on a host, a plain directory is a normal volume */
	for (size_t i = 0; i < cfg->nvolumes; i++) {
		const struct volume_conf *v = &cfg->volumes[i];
		if (!v->require_mount && volume_is_mountpoint(v->path) == 0)
			log_warn(v->name, "volume \"%s\": %s is not a mount point: what is written "
					  "there stays in the container's own layer and goes with it "
					  "(mount a volume: docker run -v VOLUME:%s; require_mount = true "
					  "refuses instead)", v->name, v->path, v->path);
	}
}

void report_refusal(const struct volume_conf *v, const struct observation *obs,
			  const struct decision *d)
{
	if (d->node_locks) {
		report_node_locks(v, obs, guard_state_name(v, obs));
		return;
	}
	switch (obs->what) {
	case OBS_VERSION:
	case OBS_EMPTY:
	case OBS_UNVERSIONED:
		report_incompatible(v, obs, d);
		return;
	case OBS_CORRUPT:
		log_fatal(d->code, v->name, "volume \"%s\" (%s): version file %s %s", v->name, v->path,
			  v->version_file, obs->detail);
		hint_untouched(v, obs->restored);
		log_hint(v->name, "inspect %s/%s; when you know the version: %s", v->path,
			 v->version_file, howto_stamp(v->name, "N"));
		return;
	case OBS_NO_PATH:
		log_fatal(d->code, v->name, "volume \"%s\": %s is %s", v->name, v->path,
			  obs->err == ENOTDIR ? "not a directory" : "missing");
		log_hint(v->name, "mount the volume there (docker run -v VOLUME:%s)", v->path);
		return;
	case OBS_NOT_MOUNTED:
		log_fatal(d->code, v->name, "volume \"%s\": %s is not a mount point (require_mount = true)",
			  v->name, v->path);
		log_hint(v->name, "the volume is not mounted: data written now would be lost with "
				  "the container; mount it (docker run -v VOLUME:%s)", v->path);
		return;
	case OBS_UNREADABLE:
		log_fatal(d->code, v->name, "volume \"%s\" (%s): cannot read: %s", v->name, v->path,
			  obs->detail[0] ? obs->detail : strerror(obs->err));
		return;
	case OBS_STATE_MOVED:
		log_fatal(d->code, v->name, "volume \"%s\" (%s): %s: volinit trusts no state on it",
			  v->name, v->path, obs->detail);
		state_hint_moved(v);
		return;
	case OBS_DIRTY:
		log_fatal(d->code, v->name,
			  "volume \"%s\" (%s): left dirty by an interrupted migration (%s) and no "
			  "snapshot to restore", v->name, v->path, obs->detail);
		if (obs->online)
			log_hint(v->name, "it was an online migration: a start of an image that "
					  "migrates it runs the step again, and images that expect %d or "
					  "later start on it", (int)obs->online_readers);
		log_hint(v->name, "nothing on the volume was changed since; check the data, then "
				  "record its version with: %s", howto_stamp(v->name, "N"));
		return;
	}
}

void report_at(const struct volume_conf *v, const struct decision *d, char *buf, size_t len)
{
	if (d->has_from)
		snprintf(buf, len, "at %d", (int)d->from);
	else
		snprintf(buf, len, "empty (on_missing = app: the program writes %.60s)",
			 v->version_file);
}

enum report_state report_state_of(int voldirfd)
{
	if (voldirfd < 0)
		return REPORT_STATE_NONE;
	int fd = state_open(voldirfd, false);
	if (fd >= 0) {
		close(fd);
		return REPORT_STATE_READABLE;
	}
	return errno == EACCES ? REPORT_STATE_DENIED : REPORT_STATE_ABSENT;
}

static const char *const state_names[] = {
	[REPORT_STATE_NONE] = NULL, [REPORT_STATE_ABSENT] = "absent",
	[REPORT_STATE_READABLE] = "readable", [REPORT_STATE_DENIED] = "unreadable",
};

void report_state_unreadable(const struct volume_conf *v, int voldirfd, const char *sub)
{
	struct stat st;
	unsigned owner = fstatat(voldirfd, VOLUME_STATE_DIR, &st, AT_SYMLINK_NOFOLLOW) == 0
				 ? (unsigned)st.st_uid : 0;
	log_fatal(73, v->name, "volume \"%s\" (%s): cannot read %s/: %s (it is uid %u's, and "
			       "this runs as uid %u): its lock, dirty marker, snapshot and journal "
			       "are not shown", v->name, v->path, VOLUME_STATE_DIR, strerror(EACCES),
		  owner, (unsigned)geteuid());
	log_hint(v->name, "run %s as uid %u (in a container: docker exec -u %u CONTAINER %s %s)",
		 sub, owner, owner, howto_self(), sub);
}

const char *const report_action_names[] = {
	[ACT_RUN] = "run", [ACT_INIT] = "init", [ACT_ADOPT] = "adopt",
	[ACT_MIGRATE] = "migrate", [ACT_RESTORE] = "restore", [ACT_REFUSE] = "refuse",
};

static void json_version(struct jbuf *b, const struct observation *obs)
{
	if (obs->has_version)
		jbuf_printf(b, "%d", (int)obs->version);
	else
		jbuf_puts(b, "null");
}

/* A volume's object in check and status --json, opened and begun with
 * what both say: name, path, version, expected, state. Strings in
 * printable ASCII, invalid UTF-8 replaced: valid JSON whatever the config
 * holds. */
static void json_volume_start(struct jbuf *b, const struct volume_conf *v,
			      const struct observation *obs, enum report_state state, bool first)
{
	jbuf_puts(b, first ? "{" : ",{");
	jbuf_json_key(b, "name");
	record_json_str(b, v->name, 1024);
	jbuf_json_key(b, "path");
	record_json_str(b, v->path, 8192);
	jbuf_json_key(b, "version");
	json_version(b, obs);
	jbuf_json_key(b, "expected");
	jbuf_printf(b, "%d", (int)v->expected);
	jbuf_json_key(b, "state");
	jbuf_json_str(b, guard_state_name(v, obs));
	/* "unreadable": what is below was not seen, not empty. */
	jbuf_json_key(b, "state_dir");
	jbuf_json_str(b, state_names[state]);
	jbuf_json_key(b, "filesystem");
	if (!obs->fs.type[0]) {
		jbuf_puts(b, "null");
		return;
	}
	jbuf_puts(b, "{");
	jbuf_json_key(b, "type");
	record_json_str(b, obs->fs.type, sizeof(obs->fs.type));
	jbuf_json_key(b, "locks");
	jbuf_json_str(b, fsinfo_locks_name(obs->fs.locks));
	jbuf_json_key(b, "why");
	record_json_str(b, obs->fs.why, sizeof(obs->fs.why));
	jbuf_json_key(b, "single_node");
	jbuf_puts(b, v->single_node ? "true}" : "false}");
}

/* One volume of check --json. action: what a start would do, or "locked"
 * when the lock could not be had to look (code 75 or 128+N). */
void report_check_json(const struct volume_conf *v, const struct observation *obs,
		       enum report_state state, const char *action, int code,
		       const char *verified, bool first)
{
	char out[12288]; /* the fields are bounded below it: never cut */
	struct jbuf b;
	jbuf_init(&b, out, sizeof(out));
	json_volume_start(&b, v, obs, state, first);
	jbuf_json_key(&b, "action");
	jbuf_json_str(&b, action);
	jbuf_json_key(&b, "verify");
	jbuf_json_str(&b, verified); /* NULL: null */
	jbuf_json_key(&b, "code");
	jbuf_printf(&b, "%d}", code);
	fputs(out, stdout);
}

/* s for a line of text: control characters escaped (text_escaped's
 * buffer is reused: one at a time). */
static const char *text_escaped(const char *s)
{
	static char buf[8192 * 4 + 1];
	struct jbuf b;
	jbuf_init(&b, buf, sizeof(buf));
	record_text(&b, s);
	return buf;
}

/* Strings of a record from the volume, at most this long each. */
#define FIELD_MAX 512

/* The dirty marker's fields, as volinit's JSON (printable ASCII). */
static void dirty_json(struct jbuf *b, int dirfd)
{
	static struct dirty_record r;
	char why[256];
	if (dirfd < 0 || state_dirty_load(dirfd, &r, why, sizeof(why)) != 1)
		record_parse_dirty("", 0, &r); /* changed since: unreadable */
	record_dirty_json(b, &r, FIELD_MAX);
}

static void lifecycle_add_cb(const struct journal_record *r, void *ctx)
{
	lifecycle_add(ctx, r);
}

/* PROGRAM's starts and exits in the volume's recent journal, from the
 * parsed records only. */
static const struct lifecycle *lifecycle_of(int dirfd)
{
	static struct lifecycle l;
	lifecycle_init(&l);
	journal_read_recent(dirfd, lifecycle_add_cb, &l);
	return &l;
}

/* Text and JSON alike print only what they parsed from the volume, never
 * its bytes: a forged record is "unreadable", and no escape sequence
 * reaches a terminal. */
/* "exclusive" (a migration or stamp), "shared" (apps, or a look) or NULL:
 * what another holds of the lock. */
static const char *lock_held(const struct lock_survey *o)
{
	if (o->migrating)
		return "exclusive";
	return o->napps || o->old_shared || o->looking ? "shared" : NULL;
}

/* The window's line of status: which images start on the data. */
static void window_text(const struct volume_conf *v, const struct observation *obs)
{
	const struct window *w = &obs->window;
	if (w->state == WINDOW_UNREADABLE || w->state == WINDOW_STALE)
		printf("  %-13s %d (only images expecting %d start on it: .volinit/readers %s %s)\n",
		       "readers:", (int)w->readers, (int)obs->version,
		       w->state == WINDOW_STALE ? "is" : "is not volinit's:",
		       text_escaped(w->detail));
	else if (w->readers < obs->version)
		printf("  %-13s %d (images expecting %d to %d start on it)\n", "readers:",
		       (int)w->readers, (int)w->readers, (int)obs->version);
	else
		printf("  %-13s %d (only images expecting %d start on it)\n", "readers:",
		       (int)w->readers, (int)obs->version);
	(void)v;
}

void report_status_text(const struct volume_conf *v, const struct observation *obs,
			const struct decision *d, int dirfd, enum report_state state,
			const struct lock_survey *others)
{
	printf("volume \"%s\" ", text_escaped(v->name));
	printf("(%s)\n", text_escaped(v->path));
	if (obs->has_version)
		printf("  %-13s %s = %d%s\n", "version:", text_escaped(v->version_file),
		       (int)obs->version,
		       obs->what == OBS_DIRTY ? " (a migration step did not finish)" : "");
	else
		printf("  %-13s %s: none\n", "version:", text_escaped(v->version_file));
	/* Only for an image or a volume that uses rolling updates. */
	if (obs->has_version && state != REPORT_STATE_DENIED &&
	    (v->has_readers || obs->window.state != WINDOW_CLOSED))
		window_text(v, obs);
	printf("  %-13s %d\n", "expected:", (int)v->expected);
	printf("  %-13s %s\n", "state:", guard_state_name(v, obs));
	char fs[256];
	report_fs(obs, fs, sizeof(fs));
	printf("  %-13s %s%s\n", "filesystem:", text_escaped(fs),
	       v->single_node && obs->fs.locks != FS_LOCKS_LOCAL ? "; single_node = true" : "");
	if (d->action == ACT_REFUSE)
		printf("  %-13s refuse (exit %d)\n", "a start:", d->code);
	else if (d->action == ACT_MIGRATE)
		printf("  %-13s migrate %d -> %d\n", "a start:", (int)d->from, (int)v->expected);
	else
		printf("  %-13s %s\n", "a start:", report_action_names[d->action]);
	static char out[16384];
	struct jbuf b;
	if (obs->what == OBS_DIRTY) {
		jbuf_init(&b, out, sizeof(out));
		dirty_json(&b, dirfd);
		printf("  %-13s %s\n", "dirty:", out);
	} else if (obs->what == OBS_CORRUPT) {
		printf("  %-13s %s\n", "corrupt:", text_escaped(obs->detail));
	}
	if (state == REPORT_STATE_DENIED)
		printf("  %-13s cannot be read as uid %u: lock, dirty marker, snapshot and journal "
		       "not shown\n", ".volinit/:", (unsigned)geteuid());
	if (dirfd < 0 || state == REPORT_STATE_DENIED)
		return;
	const char *held = lock_held(others);
	if (held) {
		char who[2048];
		holders_describe(dirfd, others, who, sizeof(who)); /* escaped */
		printf("  %-13s %s, by %s\n", "locked:", held, text_escaped(who));
	}
	if (snapshot_exists(dirfd))
		printf("  %-13s present\n", "snapshot:");
	jbuf_init(&b, out, sizeof(out));
	lifecycle_text(&b, lifecycle_of(dirfd));
	fputs(out, stdout);
	static struct journal_record tail[JOURNAL_TAIL_LINES];
	int n = journal_read_tail(dirfd, tail, JOURNAL_TAIL_LINES);
	for (int i = 0; i < n; i++) {
		jbuf_init(&b, out, sizeof(out));
		record_journal_json(&b, &tail[i], FIELD_MAX);
		printf("  %-13s %s\n", "journal:", out);
	}
}

void report_status_json(const struct volume_conf *v, const struct observation *obs,
			const struct decision *d, int dirfd, enum report_state state,
			const struct lock_survey *others, bool first)
{
	/* Unread is null, never empty. */
	bool seen = dirfd >= 0 && state != REPORT_STATE_DENIED;
	/* The fields are bounded below it (FIELD_MAX each from the volume,
	 * 8 KiB for the path): never cut. */
	static char out[65536];
	struct jbuf b;
	jbuf_init(&b, out, sizeof(out));
	json_volume_start(&b, v, obs, state, first);
	jbuf_json_key(&b, "version_file");
	record_json_str(&b, v->version_file, 1024);
	jbuf_json_key(&b, "action");
	jbuf_json_str(&b, report_action_names[d->action]);
	jbuf_json_key(&b, "code");
	jbuf_printf(&b, "%d", d->action == ACT_REFUSE ? d->code : 0);
	jbuf_json_key(&b, "dirty");
	if (obs->what == OBS_DIRTY)
		dirty_json(&b, dirfd);
	else
		jbuf_puts(&b, "null");
	jbuf_json_key(&b, "readers");
	if (obs->has_version && state != REPORT_STATE_DENIED)
		jbuf_printf(&b, "%d", (int)obs->window.readers);
	else
		jbuf_puts(&b, "null");
	jbuf_json_key(&b, "lock");
	jbuf_json_str(&b, lock_held(others)); /* "exclusive", "shared" or NULL */
	jbuf_json_key(&b, "running");
	if (state == REPORT_STATE_DENIED) {
		jbuf_puts(&b, "null");
	} else {
		jbuf_puts(&b, "[");
		for (size_t i = 0; i < others->napps; i++)
			jbuf_printf(&b, "%s%d", i ? "," : "", (int)others->apps[i]);
		jbuf_puts(&b, "]");
	}
	jbuf_json_key(&b, "snapshot");
	jbuf_puts(&b, !seen ? (state == REPORT_STATE_DENIED ? "null" : "false")
			    : snapshot_exists(dirfd) ? "true" : "false");
	jbuf_json_key(&b, "lifecycle");
	if (seen)
		lifecycle_json(&b, lifecycle_of(dirfd));
	else
		jbuf_puts(&b, "null");
	jbuf_json_key(&b, "journal");
	if (state == REPORT_STATE_DENIED) {
		jbuf_puts(&b, "null}");
	} else {
		jbuf_puts(&b, "[");
		static struct journal_record tail[JOURNAL_TAIL_LINES];
		int n = seen ? journal_read_tail(dirfd, tail, JOURNAL_TAIL_LINES) : 0;
		for (int i = 0; i < n; i++) {
			if (i > 0)
				jbuf_puts(&b, ",");
			record_journal_json(&b, &tail[i], FIELD_MAX);
		}
		jbuf_puts(&b, "]}");
	}
	fputs(out, stdout);
}
