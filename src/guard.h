/* guard: what state a volume is in (observe.c), and what a start or
 * migrate does about it (decide.c, pure: the one place each exit code of a
 * volume's state is decided). What is said about it: report.h. */
#ifndef VOLINIT_GUARD_H
#define VOLINIT_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "fsinfo.h"
#include "window.h"

enum observed {
	OBS_VERSION,     /* a valid version file: .version */
	OBS_EMPTY,       /* no version file, nothing else on the volume */
	OBS_UNVERSIONED, /* no version file, but data */
	OBS_CORRUPT,     /* .detail says why */
	OBS_NO_PATH,     /* path missing or not a directory: .err */
	OBS_NOT_MOUNTED, /* require_mount and path is no mount point */
	OBS_UNREADABLE,  /* .err */
	OBS_DIRTY,       /* an interrupted migration: .detail */
	OBS_STATE_MOVED, /* volinit's state directory is not .volinit/ (renamed, or
			    another beside it): .detail names them */
};

struct observation {
	enum observed what;
	int32_t version;
	int err;
	bool snapshot;   /* dirty, with the complete snapshot of that migration */
	char snapshot_id[96]; /* which one (snapshot_id), or "" for a marker of
				 volinit 0.1, which named none */
	bool restored;   /* seen just after a restore: a refusal's hint says so */
	bool online;     /* dirty, by a step of an online migration ... */
	int32_t online_readers; /* ... beside apps expecting this or later */
	bool has_version; /* version holds the version file's value (also when dirty) */
	struct window window; /* with has_version: which older images may run on it */
	char detail[512];
	struct fsinfo fs; /* the filesystem and how far its locks reach */
};

enum action {
	ACT_RUN,     /* compatible: nothing to do */
	ACT_INIT,    /* empty volume: write expected */
	ACT_ADOPT,   /* data without version file: write baseline (== expected) */
	ACT_MIGRATE, /* from .from to expected with the hooks */
	ACT_RESTORE, /* dirty, with a complete snapshot: put it back */
	ACT_REFUSE,  /* exit with .code */
};

struct decision {
	enum action action;
	int code;
	int32_t from;     /* the version the volume is taken to hold */
	bool has_from;
	bool node_locks;  /* refused (73): it would act where its locks stay on this
			     node (guard_locks_stay) */
};

/* Which purpose the decision serves: a start of PROGRAM, or the operator's
 * explicit `volinit migrate`, which migrates whatever on_older says. */
enum guard_purpose { GUARD_START, GUARD_MIGRATE };

/* Looks at the volume without changing anything. *dirfd is the open volume
 * directory, or -1 to open it here (it stays -1 when that fails); the
 * caller closes it. */
void guard_observe(const struct volume_conf *v, struct observation *obs, int *dirfd);

/* Pure: the decision for an observation. */
struct decision guard_decide(const struct volume_conf *v, const struct observation *obs,
			     enum guard_purpose purpose);

/* Pure: whether volinit must not act on the volume because its locks
 * stay on this node while others may mount it (SPEC.md "Shared volumes"),
 * and the config does not say that one node mounts it (single_node). */
bool guard_locks_stay(const struct volume_conf *v, const struct observation *obs);

/* The state's name in status output: current, older, newer, uninitialized,
 * unversioned, corrupt, unavailable, unreadable, dirty, moved. */
const char *guard_state_name(const struct volume_conf *v, const struct observation *obs);

#endif
