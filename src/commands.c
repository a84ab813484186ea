/* commands: check, status, migrate and stamp (see commands.h). check and
 * status create nothing on a volume and work on a read-only mount. */
#include "commands.h"
#include "report.h"
#include "apply.h"
#include "guard.h"
#include "holders.h"
#include "jbuf.h"
#include "journal.h"
#include "log.h"
#include "migrate.h"
#include "session.h"
#include "verify.h"
#include "record.h"
#include "snapshot.h"
#include "state.h"
#include "version.h"
#include "volume.h"
#include "window.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

int command_check(const struct config *cfg, bool json, const struct privs *privs)
{
	int first = 0;
	if (json)
		printf("{\"volumes\":[");
	for (size_t i = 0; i < cfg->nvolumes; i++) {
		const struct volume_conf *v = &cfg->volumes[i];
		struct session s;
		int rc = session_open(&s, v, SESSION_SHARED, GUARD_START);
		const char *action = "locked", *verified = NULL;
		if (rc == 0) {
			struct decision d = s.d;
			action = report_action_names[d.action];
			if (d.action == ACT_RESTORE)
				d = after_restore(v, s.dirfd, &s.obs);
			if (d.action == ACT_REFUSE) {
				report_refusal(v, &s.obs, &d);
				rc = d.code;
			} else if (d.action == ACT_MIGRATE) {
				rc = migrate_plan_check(v, d.from);
			} else if (d.action == ACT_RUN && d.has_from && v->verify &&
				   s.d.action == ACT_RUN) {
				rc = verify_volume(v, s.dirfd, d.from, privs);
				verified = rc == 0 ? "passed" : rc == 84 ? "failed" : NULL;
			}
		}
		if (json)
			report_check_json(v, &s.obs, action, rc, verified, i == 0);
		if (rc && !first)
			first = rc;
		session_close(&s);
	}
	if (json)
		printf("],\"code\":%d}\n", first);
	return first;
}

int command_status(const struct config *cfg, bool json)
{
	int first = 0;
	if (json)
		printf("{\"volumes\":[");
	for (size_t i = 0; i < cfg->nvolumes; i++) {
		const struct volume_conf *v = &cfg->volumes[i];
		struct session s;
		/* Never waits: a migration in progress is shown, not waited for. */
		session_open(&s, v, SESSION_PEEK, GUARD_START);
		if (json)
			report_status_json(v, &s.obs, &s.d, s.dirfd, &s.others, i == 0);
		else
			report_status_text(v, &s.obs, &s.d, s.dirfd, &s.others);
		if ((s.obs.what == OBS_NO_PATH || s.obs.what == OBS_UNREADABLE ||
		     s.obs.what == OBS_NOT_MOUNTED) && !first) {
			first = s.d.code;
			report_refusal(v, &s.obs, &s.d);
		}
		session_close(&s);
	}
	if (json)
		printf("]}\n");
	fflush(stdout);
	return first;
}

/* --dry-run: whether the migration is online, and who would hold it off
 * now. */
static void print_blockers(const struct session *s)
{
	const struct volume_conf *v = s->v;
	char who[1024];
	session_blockers(s, who, sizeof(who));
	if (config_online(v))
		printf("  online (readers %d): apps expecting %d or later run on beside it; "
		       "held off now by: %s\n", (int)config_readers(v), (int)config_readers(v), who);
	else
		printf("  offline: every running app holds it off; held off now by: %s\n", who);
}

/* A volume that needs nothing is looked at under the shared lock, which a
 * running app's shared lock does not deny (a second replica's init
 * container must not wait for the first replica to stop), and nothing is
 * created on it; one that needs something is opened again to be written,
 * and acts through session_settle (what the act needs of the lock, taken
 * without queueing behind an app). */
static int migrate_one(const struct volume_conf *v, const struct privs *hooks, bool dry_run)
{
	struct session s;
	int rc = session_open(&s, v, SESSION_SHARED, GUARD_MIGRATE);
	if (rc == 0 && !dry_run && s.d.action == ACT_RUN) {
		char at[128];
		report_at(v, &s.d, at, sizeof(at));
		log_info(v->name, "volume \"%s\" (%s): %s, nothing to do", v->name, v->path, at);
	} else if (rc == 0 && !dry_run) {
		session_close(&s);
		rc = session_open(&s, v, SESSION_MIGRATE, GUARD_MIGRATE);
		bool acts = s.d.action != ACT_RUN && s.d.action != ACT_REFUSE;
		if (rc == 0 && acts)
			rc = session_settle(&s, hooks);
		else if (rc == 0) /* done meanwhile, or refused */
			rc = apply_decision(v, s.dirfd, &s.obs, &s.d, GUARD_MIGRATE, hooks, false);
	} else if (rc == 0) {
		rc = apply_decision(v, s.dirfd, &s.obs, &s.d, GUARD_MIGRATE, hooks, true);
		if (rc == 0 && s.d.action == ACT_MIGRATE)
			print_blockers(&s);
	}
	session_close(&s);
	return rc;
}

/* Every volume's plan before any volume changes (SPEC.md "Migrations": a
 * missing or doubled hook is found before anything runs). A look without
 * the lock: each volume is looked at again under it before it is touched. */
static int plan_all(const struct config *cfg)
{
	int first = 0;
	for (size_t i = 0; i < cfg->nvolumes; i++) {
		struct session s;
		session_open(&s, &cfg->volumes[i], SESSION_NONE, GUARD_MIGRATE);
		int rc = s.d.action == ACT_MIGRATE ? migrate_plan_check(s.v, s.d.from) : 0;
		session_close(&s);
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
	struct session s;
	int rc = session_open(&s, v, SESSION_EXCLUSIVE, GUARD_START);
	if (rc == 0) {
		int dirfd = s.dirfd;
		const struct observation obs = s.obs;
		/* An operator's version: no window over it (window.h). */
		int err = window_record(dirfd, -1, 0, 0);
		/* What the operator vouches for reaches the disk first. */
		if (!err)
			err = volume_sync(dirfd);
		if (!err)
			err = version_write_at(dirfd, v->version_file, to);
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
	session_close(&s);
	return rc;
}
