/* guard: observing a volume, deciding, and explaining a refusal. */
#include "guard.h"
#include "record.h"
#include "version.h"
#include "volume.h"
#include "snapshot.h"
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The dirty marker, and whether the snapshot present is the one its
 * migration took: a marker names its snapshot (null: it took none), so that
 * one left by another migration, half removed by a crash say, is never
 * restored. A marker of volinit 0.1 names none and takes any complete one,
 * as 0.1 did; an unreadable marker takes none. Returns state_dirty_read's. */
static int observe_dirty(int dirfd, struct observation *obs)
{
	static struct dirty_record r; /* a 4 KiB store: not on the stack */
	int dirty = state_dirty_read_record(dirfd, &r, obs->detail, sizeof(obs->detail));
	if (dirty != 1)
		return dirty;
	char id[sizeof(obs->snapshot_id)];
	if (!r.readable || r.snapshot.kind == RECORD_NULL) {
		obs->snapshot = false;
	} else if (r.snapshot.kind == RECORD_ABSENT) {
		obs->snapshot = snapshot_exists(dirfd);
	} else {
		obs->snapshot = r.snapshot.kind == RECORD_STRING &&
				snapshot_id(dirfd, id, sizeof(id)) == 0 &&
				strcmp(id, r.snapshot.str) == 0;
		if (obs->snapshot)
			snprintf(obs->snapshot_id, sizeof(obs->snapshot_id), "%s", id);
	}
	return 1;
}

void guard_observe(const struct volume_conf *v, struct observation *obs, int *dirfd)
{
	memset(obs, 0, sizeof(*obs));
	if (*dirfd < 0)
		*dirfd = volume_open(v->path);
	if (*dirfd < 0) {
		obs->err = errno;
		obs->what = (errno == ENOENT || errno == ENOTDIR) ? OBS_NO_PATH : OBS_UNREADABLE;
		return;
	}
	if (v->require_mount) {
		int m = volume_is_mountpoint_at(*dirfd);
		if (m != 1) {
			obs->err = m < 0 ? errno : 0;
			obs->what = OBS_NOT_MOUNTED;
			return;
		}
	}
	struct version_read r;
	int dirty = observe_dirty(*dirfd, obs);
	if (dirty < 0) {
		/* Not a marker volinit wrote (a FIFO, a hard link): refused,
		 * 73; detail names it. */
		obs->what = OBS_UNREADABLE;
		obs->err = errno;
		return;
	}
	if (dirty == 1) {
		obs->what = OBS_DIRTY;
		/* For status: what the file says while a step is unfinished. */
		version_read_at(*dirfd, v->version_file, &r);
		obs->has_version = r.status == VERSION_OK;
		obs->version = obs->has_version ? r.version : 0;
		return;
	}
	version_read_at(*dirfd, v->version_file, &r);
	switch (r.status) {
	case VERSION_OK:
		obs->what = OBS_VERSION;
		obs->version = r.version;
		obs->has_version = true;
		return;
	case VERSION_CORRUPT:
		obs->what = OBS_CORRUPT;
		snprintf(obs->detail, sizeof(obs->detail), "%s", r.detail);
		return;
	case VERSION_UNREADABLE:
		obs->what = OBS_UNREADABLE;
		obs->err = r.err;
		return;
	case VERSION_MISSING:
		break;
	}
	int empty = volume_is_empty(*dirfd);
	if (empty < 0) {
		obs->what = OBS_UNREADABLE;
		obs->err = errno;
		return;
	}
	obs->what = empty ? OBS_EMPTY : OBS_UNVERSIONED;
}

static struct decision refuse(int code)
{
	return (struct decision){ .action = ACT_REFUSE, .code = code };
}

static struct decision compare(const struct volume_conf *v, int32_t found,
			       enum guard_purpose purpose, enum action if_current)
{
	struct decision d = { .action = if_current, .from = found, .has_from = true };
	if (found > v->expected && v->on_newer == NEWER_FAIL) {
		d.action = ACT_REFUSE;
		d.code = 81;
	} else if (found < v->expected) {
		bool wanted = purpose == GUARD_MIGRATE || v->on_older == OLDER_MIGRATE;
		if (wanted && v->migrations) {
			d.action = ACT_MIGRATE;
		} else {
			d.action = ACT_REFUSE;
			d.code = 80;
		}
	}
	return d;
}

struct decision guard_decide(const struct volume_conf *v, const struct observation *obs,
			     enum guard_purpose purpose)
{
	switch (obs->what) {
	case OBS_VERSION:
		return compare(v, obs->version, purpose, ACT_RUN);
	case OBS_EMPTY:
		if (v->on_missing == MISSING_INIT)
			return (struct decision){ .action = ACT_INIT, .from = v->expected };
		return refuse(80);
	case OBS_UNVERSIONED:
		if (!v->has_baseline)
			return refuse(80);
		return compare(v, v->baseline, purpose, ACT_ADOPT);
	case OBS_CORRUPT:
		return refuse(65);
	case OBS_NO_PATH:
	case OBS_NOT_MOUNTED:
		return refuse(66);
	case OBS_UNREADABLE:
		return refuse(73);
	case OBS_DIRTY:
		if (obs->snapshot)
			return (struct decision){ .action = ACT_RESTORE };
		return refuse(83);
	}
	return refuse(70);
}

const char *guard_state_name(const struct volume_conf *v, const struct observation *obs)
{
	switch (obs->what) {
	case OBS_VERSION:
		return obs->version == v->expected ? "current"
		       : obs->version < v->expected ? "older" : "newer";
	case OBS_EMPTY: return "uninitialized";
	case OBS_UNVERSIONED: return "unversioned";
	case OBS_CORRUPT: return "corrupt";
	case OBS_NO_PATH: return "unavailable";
	case OBS_NOT_MOUNTED: return "unmounted";
	case OBS_UNREADABLE: return "unreadable";
	case OBS_DIRTY: return "dirty";
	}
	return "unknown";
}

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
	log_fatal(d->code, v->name,
		  "incompatible persistent state in volume \"%s\" (%s): schema_version=%s, expected=%d",
		  v->name, v->path, found, (int)v->expected);
	hint_untouched(v, obs->restored);
	if (at_baseline)
		log_hint(v->name, "the volume holds data but no %s: baseline = %d takes it to be at "
				  "%d", v->version_file, (int)v->baseline, (int)v->baseline);
	if (obs->what == OBS_EMPTY) {
		log_hint(v->name, "the volume is empty and on_missing = fail: set on_missing = init, "
				  "or write the version with: volinit stamp %s %d", v->name,
			 (int)v->expected);
	} else if (obs->what == OBS_UNVERSIONED && !at_baseline) {
		log_hint(v->name, "the volume holds data but no %s: say which version it is with "
				  "baseline = N, or: volinit stamp %s N", v->version_file, v->name);
	} else if (d->code == 81) {
		log_hint(v->name, "the data was written by a newer image: run that image (roll "
				  "forward), or set on_newer = allow if this one can read it");
	} else if (!v->migrations) {
		log_hint(v->name, "to migrate, ship hooks for each step in a migrations directory "
				  "and set on_older = migrate, or run: volinit migrate");
	} else {
		log_hint(v->name, "hooks are configured but on_older = fail: set on_older = "
				  "migrate, or run: volinit migrate");
	}
	if ((obs->what == OBS_VERSION || at_baseline) && d->code == 80)
		log_hint(v->name, "if the data already is at %d: volinit stamp %s %d",
			 (int)v->expected, v->name, (int)v->expected);
	hint_destroy(v);
}

void guard_report_unmigratable(const struct volume_conf *v, int32_t from, const char *why)
{
	log_fatal(80, v->name,
		  "incompatible persistent state in volume \"%s\" (%s): schema_version=%d, expected=%d",
		  v->name, v->path, (int)from, (int)v->expected);
	hint_untouched(v, false);
	log_hint(v->name, "%s", why);
	log_hint(v->name, "if the data already is at %d: volinit stamp %s %d", (int)v->expected,
		 v->name, (int)v->expected);
	hint_destroy(v);
}

void guard_report_refusal(const struct volume_conf *v, const struct observation *obs,
			  const struct decision *d)
{
	switch (obs->what) {
	case OBS_VERSION:
	case OBS_EMPTY:
	case OBS_UNVERSIONED:
		report_incompatible(v, obs, d);
		return;
	case OBS_CORRUPT:
		log_fatal(65, v->name, "volume \"%s\" (%s): version file %s %s", v->name, v->path,
			  v->version_file, obs->detail);
		hint_untouched(v, obs->restored);
		log_hint(v->name, "inspect %s/%s; when you know the version: volinit stamp %s N",
			 v->path, v->version_file, v->name);
		return;
	case OBS_NO_PATH:
		log_fatal(66, v->name, "volume \"%s\": %s is %s", v->name, v->path,
			  obs->err == ENOTDIR ? "not a directory" : "missing");
		log_hint(v->name, "mount the volume there (docker run -v VOLUME:%s)", v->path);
		return;
	case OBS_NOT_MOUNTED:
		log_fatal(66, v->name, "volume \"%s\": %s is not a mount point (require_mount = true)",
			  v->name, v->path);
		log_hint(v->name, "the volume is not mounted: data written now would be lost with "
				  "the container; mount it (docker run -v VOLUME:%s)", v->path);
		return;
	case OBS_UNREADABLE:
		log_fatal(73, v->name, "volume \"%s\" (%s): cannot read: %s", v->name, v->path,
			  obs->detail[0] ? obs->detail : strerror(obs->err));
		return;
	case OBS_DIRTY:
		log_fatal(83, v->name,
			  "volume \"%s\" (%s): left dirty by an interrupted migration (%s) and no "
			  "snapshot to restore", v->name, v->path, obs->detail);
		log_hint(v->name, "nothing on the volume was changed since; check the data, then "
				  "record its version with: volinit stamp %s N", v->name);
		return;
	}
}
