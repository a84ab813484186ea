/* commands: check, status, migrate and stamp (see commands.h). check and
 * status create nothing on a volume and work on a read-only mount. */
#include "commands.h"
#include "apply.h"
#include "guard.h"
#include "holders.h"
#include "jbuf.h"
#include "journal.h"
#include "lock.h"
#include "log.h"
#include "migrate.h"
#include "record.h"
#include "snapshot.h"
#include "state.h"
#include "version.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const action_names[] = {
	[ACT_RUN] = "run", [ACT_INIT] = "init", [ACT_ADOPT] = "adopt",
	[ACT_MIGRATE] = "migrate", [ACT_RESTORE] = "restore", [ACT_REFUSE] = "refuse",
};

/* The shared lock, but only where .volinit/lock exists already. Returns
 * the lock descriptor or -1, and sets *rc on a timeout or signal. */
static int shared_lock_if_any(const struct volume_conf *v, int dirfd, int *rc)
{
	*rc = 0;
	char why[256] = "";
	int fd = dirfd < 0 ? -1 : lock_open_why(dirfd, false, why, sizeof(why));
	if (fd < 0 && why[0]) {
		/* As a start would: a lock that is not volinit's is refused. */
		log_fatal(73, v->name, "volume \"%s\" (%s): cannot open .volinit/lock: %s", v->name,
			  v->path, why);
		*rc = 73;
		return -1;
	}
	if (fd >= 0 && (*rc = lock_wait(fd, dirfd, v, LOCK_SHARED)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

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
			      const struct observation *obs, bool first)
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
}

/* One volume of check --json. action: what a start would do, or "locked"
 * when the lock could not be had to look (code 75 or 128+N). */
static void check_json(const struct volume_conf *v, const struct observation *obs,
		       const char *action, int code, bool first)
{
	char out[12288]; /* the fields are bounded below it: never cut */
	struct jbuf b;
	jbuf_init(&b, out, sizeof(out));
	json_volume_start(&b, v, obs, first);
	jbuf_json_key(&b, "action");
	jbuf_json_str(&b, action);
	jbuf_json_key(&b, "code");
	jbuf_printf(&b, "%d}", code);
	fputs(out, stdout);
}

/* A start restores a dirty volume's snapshot and then decides again: so
 * does check, on the snapshot as it stands, changing nothing. obs becomes
 * what the start would see after the restore. */
static struct decision after_restore(const struct volume_conf *v, int dirfd,
				     struct observation *obs)
{
	log_notice(v->name, "volume \"%s\" (%s): left dirty by an interrupted migration, with a "
			    "complete snapshot: a start restores it first, then decides on it",
		   v->name, v->path);
	int sfd = snapshot_open(dirfd);
	if (sfd < 0) {
		memset(obs, 0, sizeof(*obs));
		obs->what = OBS_UNREADABLE;
		obs->err = errno;
		return guard_decide(v, obs, GUARD_START);
	}
	struct volume_conf in_snapshot = *v;
	in_snapshot.require_mount = false; /* the volume's was looked at already */
	guard_observe(&in_snapshot, obs, &sfd);
	close(sfd);
	return guard_decide(v, obs, GUARD_START);
}

int command_check(const struct config *cfg, bool json)
{
	int first = 0;
	if (json)
		printf("{\"volumes\":[");
	for (size_t i = 0; i < cfg->nvolumes; i++) {
		const struct volume_conf *v = &cfg->volumes[i];
		int dirfd = -1, rc;
		struct observation obs;
		guard_observe(v, &obs, &dirfd);
		int lockfd = shared_lock_if_any(v, dirfd, &rc);
		const char *action = "locked";
		if (rc == 0) {
			guard_observe(v, &obs, &dirfd);
			struct decision d = guard_decide(v, &obs, GUARD_START);
			action = action_names[d.action];
			if (d.action == ACT_RESTORE)
				d = after_restore(v, dirfd, &obs);
			if (d.action == ACT_REFUSE) {
				guard_report_refusal(v, &obs, &d);
				rc = d.code;
			} else if (d.action == ACT_MIGRATE) {
				rc = migrate_plan_check(v, d.from);
			}
		}
		if (json)
			check_json(v, &obs, action, rc, i == 0);
		if (rc && !first)
			first = rc;
		if (lockfd >= 0)
			close(lockfd);
		if (dirfd >= 0)
			close(dirfd);
	}
	if (json)
		printf("],\"code\":%d}\n", first);
	return first;
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

/* Text and JSON alike print only what they parsed from the volume, never
 * its bytes: a forged record is "unreadable", and no escape sequence
 * reaches a terminal. */
static void status_text(const struct volume_conf *v, const struct observation *obs,
			const struct decision *d, int dirfd, const char *conflict)
{
	printf("volume \"%s\" ", text_escaped(v->name));
	printf("(%s)\n", text_escaped(v->path));
	if (obs->has_version)
		printf("  %-13s %s = %d%s\n", "version:", text_escaped(v->version_file),
		       (int)obs->version,
		       obs->what == OBS_DIRTY ? " (a migration step did not finish)" : "");
	else
		printf("  %-13s %s: none\n", "version:", text_escaped(v->version_file));
	printf("  %-13s %d\n", "expected:", (int)v->expected);
	printf("  %-13s %s\n", "state:", guard_state_name(v, obs));
	if (d->action == ACT_REFUSE)
		printf("  %-13s refuse (exit %d)\n", "a start:", d->code);
	else if (d->action == ACT_MIGRATE)
		printf("  %-13s migrate %d -> %d\n", "a start:", (int)d->from, (int)v->expected);
	else
		printf("  %-13s %s\n", "a start:", action_names[d->action]);
	static char out[16384];
	struct jbuf b;
	if (obs->what == OBS_DIRTY) {
		jbuf_init(&b, out, sizeof(out));
		dirty_json(&b, dirfd);
		printf("  %-13s %s\n", "dirty:", out);
	} else if (obs->what == OBS_CORRUPT) {
		printf("  %-13s %s\n", "corrupt:", text_escaped(obs->detail));
	}
	if (dirfd < 0)
		return;
	if (conflict) {
		char who[512];
		holders_describe(dirfd, who, sizeof(who)); /* escaped */
		printf("  %-13s %s, by %s\n", "locked:", conflict, text_escaped(who));
	}
	if (snapshot_exists(dirfd))
		printf("  %-13s present\n", "snapshot:");
	static struct journal_record tail[JOURNAL_TAIL_LINES];
	int n = journal_read_tail(dirfd, tail, JOURNAL_TAIL_LINES);
	for (int i = 0; i < n; i++) {
		jbuf_init(&b, out, sizeof(out));
		record_journal_json(&b, &tail[i], FIELD_MAX);
		printf("  %-13s %s\n", "journal:", out);
	}
}

static void status_json(const struct volume_conf *v, const struct observation *obs,
			const struct decision *d, int dirfd, const char *conflict, bool first)
{
	/* The fields are bounded below it (FIELD_MAX each from the volume,
	 * 8 KiB for the path): never cut. */
	static char out[65536];
	struct jbuf b;
	jbuf_init(&b, out, sizeof(out));
	json_volume_start(&b, v, obs, first);
	jbuf_json_key(&b, "version_file");
	record_json_str(&b, v->version_file, 1024);
	jbuf_json_key(&b, "action");
	jbuf_json_str(&b, action_names[d->action]);
	jbuf_json_key(&b, "code");
	jbuf_printf(&b, "%d", d->action == ACT_REFUSE ? d->code : 0);
	jbuf_json_key(&b, "dirty");
	if (obs->what == OBS_DIRTY)
		dirty_json(&b, dirfd);
	else
		jbuf_puts(&b, "null");
	jbuf_json_key(&b, "lock");
	jbuf_json_str(&b, conflict); /* "exclusive", "shared" or NULL */
	jbuf_json_key(&b, "snapshot");
	jbuf_puts(&b, dirfd >= 0 && snapshot_exists(dirfd) ? "true" : "false");
	jbuf_json_key(&b, "journal");
	jbuf_puts(&b, "[");
	static struct journal_record tail[JOURNAL_TAIL_LINES];
	int n = dirfd >= 0 ? journal_read_tail(dirfd, tail, JOURNAL_TAIL_LINES) : 0;
	for (int i = 0; i < n; i++) {
		if (i > 0)
			jbuf_puts(&b, ",");
		record_journal_json(&b, &tail[i], FIELD_MAX);
	}
	jbuf_puts(&b, "]}");
	fputs(out, stdout);
}

int command_status(const struct config *cfg, bool json)
{
	int first = 0;
	if (json)
		printf("{\"volumes\":[");
	for (size_t i = 0; i < cfg->nvolumes; i++) {
		const struct volume_conf *v = &cfg->volumes[i];
		int dirfd = -1;
		struct observation obs;
		guard_observe(v, &obs, &dirfd);
		/* Never waits: a migration in progress is shown, not waited for. */
		const char *conflict = NULL;
		int lockfd = dirfd < 0 ? -1 : lock_open(dirfd, false);
		if (lockfd >= 0) {
			conflict = lock_conflict(lockfd);
			if (lock_try(lockfd, LOCK_SHARED) == 0)
				guard_observe(v, &obs, &dirfd);
			close(lockfd);
		}
		struct decision d = guard_decide(v, &obs, GUARD_START);
		if (json)
			status_json(v, &obs, &d, dirfd, conflict, i == 0);
		else
			status_text(v, &obs, &d, dirfd, conflict);
		if ((obs.what == OBS_NO_PATH || obs.what == OBS_UNREADABLE ||
		     obs.what == OBS_NOT_MOUNTED) && !first) {
			first = d.code;
			guard_report_refusal(v, &obs, &d);
		}
		if (dirfd >= 0)
			close(dirfd);
	}
	if (json)
		printf("]}\n");
	fflush(stdout);
	return first;
}

/* Opens the volume for a change: exclusive lock, .volinit/ created. */
static int open_exclusive(const struct volume_conf *v, int *dirfd, int *lockfd,
			  struct holder *holder)
{
	struct observation obs;
	*dirfd = -1;
	*lockfd = -1;
	guard_observe(v, &obs, dirfd);
	if (*dirfd < 0 || obs.what == OBS_NO_PATH || obs.what == OBS_NOT_MOUNTED) {
		struct decision d = guard_decide(v, &obs, GUARD_START);
		guard_report_refusal(v, &obs, &d);
		return d.code;
	}
	*lockfd = lock_open_for(v, *dirfd);
	if (*lockfd < 0 && errno == EROFS) {
		log_fatal(73, v->name, "volume \"%s\" (%s): cannot create .volinit/lock: %s", v->name,
			  v->path, strerror(errno));
		return 73;
	}
	if (*lockfd < 0)
		return 73; /* lock_open_for said why */
	int rc = lock_wait(*lockfd, *dirfd, v, LOCK_EXCLUSIVE);
	if (rc == 0) {
		/* No one else holds the lock: every file left is stale. Ours
		 * names us to whoever waits meanwhile. */
		holders_clear(*dirfd);
		holders_add(*dirfd, holder);
	}
	return rc;
}

static void close_exclusive(int dirfd, int lockfd, struct holder *holder)
{
	holders_remove(holder);
	if (lockfd >= 0)
		close(lockfd);
	if (dirfd >= 0)
		close(dirfd);
}

/* A volume that needs nothing: looked at under the shared lock, which a
 * running app's shared lock does not deny (a second replica's init
 * container must not wait for the first replica to stop). Returns 1 when
 * current, 0 when not, or sets *rc. */
static int already_current(const struct volume_conf *v, int *rc)
{
	int dirfd = -1;
	struct observation obs;
	guard_observe(v, &obs, &dirfd);
	int lockfd = shared_lock_if_any(v, dirfd, rc);
	int current = 0;
	if (*rc == 0) {
		guard_observe(v, &obs, &dirfd);
		struct decision d = guard_decide(v, &obs, GUARD_MIGRATE);
		if (d.action == ACT_RUN) {
			current = 1;
			log_info(v->name, "volume \"%s\" (%s): at %d, nothing to do", v->name, v->path,
				 (int)d.from);
		}
	}
	if (lockfd >= 0)
		close(lockfd);
	if (dirfd >= 0)
		close(dirfd);
	return current;
}

static int migrate_one(const struct volume_conf *v, const struct privs *hooks, bool dry_run)
{
	int dirfd = -1, lockfd = -1, rc = 0;
	struct holder holder = HOLDER_NONE;
	struct observation obs;
	if (dry_run) {
		guard_observe(v, &obs, &dirfd);
		lockfd = shared_lock_if_any(v, dirfd, &rc);
	} else if (already_current(v, &rc) || rc) {
		return rc;
	} else {
		rc = open_exclusive(v, &dirfd, &lockfd, &holder);
	}
	if (rc == 0) {
		guard_observe(v, &obs, &dirfd);
		struct decision d = guard_decide(v, &obs, GUARD_MIGRATE);
		rc = apply_decision(v, dirfd, &obs, &d, GUARD_MIGRATE, hooks, dry_run);
	}
	if (dry_run) {
		if (lockfd >= 0)
			close(lockfd);
		if (dirfd >= 0)
			close(dirfd);
	} else {
		close_exclusive(dirfd, lockfd, &holder);
	}
	return rc;
}

/* Every volume's plan before any volume changes (SPEC.md "Migrations": a
 * missing or doubled hook is found before anything runs). A look without
 * the lock: each volume is looked at again under it before it is touched. */
static int plan_all(const struct config *cfg)
{
	int first = 0;
	for (size_t i = 0; i < cfg->nvolumes; i++) {
		const struct volume_conf *v = &cfg->volumes[i];
		int dirfd = -1, rc = 0;
		struct observation obs;
		guard_observe(v, &obs, &dirfd);
		struct decision d = guard_decide(v, &obs, GUARD_MIGRATE);
		if (d.action == ACT_MIGRATE)
			rc = migrate_plan_check(v, d.from);
		if (dirfd >= 0)
			close(dirfd);
		if (rc && !first)
			first = rc;
	}
	return first;
}

int command_migrate(const struct config *cfg, const struct privs *hooks, bool dry_run)
{
	int first = dry_run ? 0 : plan_all(cfg);
	if (first)
		return first;
	for (size_t i = 0; i < cfg->nvolumes; i++) {
		int rc = migrate_one(&cfg->volumes[i], hooks, dry_run);
		if (rc && !first)
			first = rc;
		if (rc > 128)
			break;
	}
	fflush(stdout);
	return first;
}

int command_stamp(const struct config *cfg, const char *volume, const char *version)
{
	const struct volume_conf *v = NULL;
	for (size_t i = 0; i < cfg->nvolumes && !v; i++)
		if (strcmp(cfg->volumes[i].name, volume) == 0 ||
		    strcmp(cfg->volumes[i].path, volume) == 0)
			v = &cfg->volumes[i];
	if (!v) {
		log_fatal(64, NULL, "stamp: no volume \"%s\" in the configuration", volume);
		return 64;
	}
	int32_t to;
	if (!config_parse_version(version, &to)) {
		log_fatal(64, v->name, "stamp: \"%s\" is not a version from 0 to %d", version,
			  VERSION_MAX);
		return 64;
	}
	int dirfd, lockfd;
	struct holder holder = HOLDER_NONE;
	int rc = open_exclusive(v, &dirfd, &lockfd, &holder);
	if (rc == 0) {
		struct observation obs;
		guard_observe(v, &obs, &dirfd);
		int err = version_write_at(dirfd, v->version_file, to);
		if (!err)
			err = state_dirty_clear(dirfd);
		if (err) {
			log_fatal(73, v->name, "volume \"%s\" (%s): cannot stamp: %s", v->name, v->path,
				  strerror(err));
			rc = 73;
		} else {
			snapshot_remove(dirfd);
			journal_event(dirfd, v, "stamp", obs.what == OBS_VERSION ? obs.version : -1, to,
				      obs.what == OBS_DIRTY ? "by an operator; cleared dirty"
							    : "by an operator");
			log_notice(v->name, "volume \"%s\" (%s): %s = %d%s", v->name, v->path,
				   v->version_file, (int)to,
				   obs.what == OBS_DIRTY ? "; dirty cleared" : "");
		}
	}
	close_exclusive(dirfd, lockfd, &holder);
	return rc;
}
