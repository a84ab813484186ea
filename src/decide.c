/* decide: the one place an observation and the config become an action
 * and an exit code (guard.h). Pure: no I/O. */
#include "guard.h"

static struct decision refuse(int code)
{
	return (struct decision){ .action = ACT_REFUSE, .code = code };
}

/* found: the volume's version; readers: the oldest version that may run
 * on it (its window, SPEC.md "Rolling updates"). */
static struct decision compare(const struct volume_conf *v, int32_t found, int32_t readers,
			       enum guard_purpose purpose, enum action if_current)
{
	struct decision d = { .action = if_current, .from = found, .has_from = true };
	if (found > v->expected && v->on_newer == NEWER_FAIL && readers > v->expected) {
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

static struct decision decide(const struct volume_conf *v, const struct observation *obs,
			      enum guard_purpose purpose)
{
	switch (obs->what) {
	case OBS_VERSION:
		return compare(v, obs->version, obs->window.readers, purpose, ACT_RUN);
	case OBS_EMPTY:
		if (v->on_missing == MISSING_INIT)
			return (struct decision){ .action = ACT_INIT, .from = v->expected };
		if (v->on_missing == MISSING_APP) /* PROGRAM writes it (initdb) */
			return (struct decision){ .action = ACT_RUN };
		return refuse(80);
	case OBS_UNVERSIONED:
		if (!v->has_baseline)
			return refuse(80);
		return compare(v, v->baseline, v->baseline, purpose, ACT_ADOPT);
	case OBS_CORRUPT:
		return refuse(65);
	case OBS_NO_PATH:
	case OBS_NOT_MOUNTED:
		return refuse(66);
	case OBS_UNREADABLE:
	case OBS_STATE_MOVED:
		return refuse(73);
	case OBS_DIRTY:
		if (obs->snapshot)
			return (struct decision){ .action = ACT_RESTORE };
		if (obs->online && obs->has_version) {
			/* An online step that did not end (killed): apps of its
			 * readers ran beside it and may go on, and its hook is
			 * safe to run again: the volume is where its version
			 * file says. */
			struct decision d = compare(v, obs->version, obs->window.readers, purpose,
						    ACT_RUN);
			if (d.action != ACT_RUN || v->expected >= obs->online_readers)
				return d;
		}
		return refuse(83);
	}
	return refuse(70);
}

bool guard_locks_stay(const struct volume_conf *v, const struct observation *obs)
{
	return obs->fs.locks == FS_LOCKS_NODE && !v->single_node;
}

/* Any act (init, adopt, restore, migrate) where the locks would not keep
 * another node out is refused (73); running at a compatible version never
 * is. */
struct decision guard_decide(const struct volume_conf *v, const struct observation *obs,
			     enum guard_purpose purpose)
{
	struct decision d = decide(v, obs, purpose);
	if (d.action != ACT_RUN && d.action != ACT_REFUSE && guard_locks_stay(v, obs)) {
		d.action = ACT_REFUSE;
		d.code = 73;
		d.node_locks = true;
	}
	return d;
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
	case OBS_STATE_MOVED: return "moved";
	}
	return "unknown";
}
