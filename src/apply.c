/* apply: acting on the guard's decision (see apply.h). */
#include "apply.h"
#include "journal.h"
#include "log.h"
#include "report.h"
#include "migrate.h"
#include "version.h"
#include "volume.h"
#include "window.h"

#include <stdio.h>
#include <string.h>

static int write_version(const struct volume_conf *v, int dirfd, int32_t version,
			 const char *why, bool dry_run)
{
	if (dry_run) {
		printf("volume \"%s\" (%s): would write %s = %d (%s)\n", v->name, v->path,
		       v->version_file, (int)version, why);
		return 0;
	}
	/* The data this image writes at expected is what its readers say;
	 * anything else closes the window (window.h: before the version). */
	bool ours = version == v->expected && config_online(v);
	int err = window_record(dirfd, ours ? config_readers(v) : -1, version, version);
	if (err) {
		log_fatal(73, v->name, "volume \"%s\" (%s): cannot write .volinit/readers: %s",
			  v->name, v->path, strerror(err));
		log_hint(v->name, "is the volume read-only, full, or owned by another user?");
		return 73;
	}
	/* The data it vouches for first (SPEC.md "Power loss"): what the app
	 * wrote before an adoption, what an emptied volume no longer holds. */
	err = volume_sync(dirfd);
	if (!err)
		err = version_write_at(dirfd, v->version_file, version);
	if (err) {
		log_fatal(73, v->name, "volume \"%s\" (%s): cannot write %s: %s", v->name, v->path,
			  v->version_file, strerror(err));
		log_hint(v->name, "is the volume read-only, full, or owned by another user?");
		return 73;
	}
	log_notice(v->name, "volume \"%s\" (%s): %s; wrote %s = %d", v->name, v->path, why,
		   v->version_file, (int)version);
	journal_event(dirfd, v, "stamp", version, version, why);
	return 0;
}

static int refuse(const struct volume_conf *v, int dirfd, const struct observation *obs,
		  const struct decision *d, enum guard_purpose purpose, bool dry_run)
{
	/* `volinit migrate` asked for hooks that are not configured: say
	 * that, rather than suggest running volinit migrate. */
	if (purpose == GUARD_MIGRATE && d->code == 80 && obs->what == OBS_VERSION &&
	    !v->migrations) {
		report_unmigratable(v, d->from, REPORT_NO_MIGRATIONS);
		return d->code;
	}
	report_refusal(v, obs, d);
	if (!dry_run)
		journal_event(dirfd, v, "refuse", obs->what == OBS_VERSION ? obs->version : -1,
			      v->expected, guard_state_name(v, obs));
	return d->code;
}

int apply_decision(const struct volume_conf *v, int dirfd, const struct observation *obs,
		   const struct decision *d, enum guard_purpose purpose, const struct privs *hooks,
		   bool dry_run)
{
	switch (d->action) {
	case ACT_RUN: {
		char at[128];
		report_at(v, d, at, sizeof(at));
		if (dry_run)
			printf("volume \"%s\" (%s): %s, nothing to do\n", v->name, v->path, at);
		log_info(v->name, "volume \"%s\" (%s): %s, nothing to do", v->name, v->path, at);
		return 0;
	}
	case ACT_INIT:
		return write_version(v, dirfd, v->expected, "initialized an empty volume", dry_run);
	case ACT_ADOPT:
		return write_version(v, dirfd, d->from,
				     "adopted the data without version file as its baseline", dry_run);
	case ACT_MIGRATE:
		return migrate_volume(v, dirfd, d->from, hooks, dry_run);
	case ACT_REFUSE:
		return refuse(v, dirfd, obs, d, purpose, dry_run);
	case ACT_RESTORE:
		break;
	}
	if (dry_run) {
		printf("volume \"%s\" (%s): dirty; its snapshot would be restored first\n", v->name,
		       v->path);
		return 0;
	}
	int rc = migrate_recover(v, dirfd, obs);
	if (rc)
		return rc;
	/* As if that migration never began: look and decide again. */
	struct observation again;
	guard_observe(v, &again, &dirfd);
	again.restored = true;
	struct decision next = guard_decide(v, &again, purpose);
	return apply_decision(v, dirfd, &again, &next, purpose, hooks, false);
}
