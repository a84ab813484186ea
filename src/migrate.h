/* migrate: planning and running a volume's migration hooks, step by step,
 * with the dirty marker, the snapshot, and the journal. */
#ifndef VOLINIT_MIGRATE_H
#define VOLINIT_MIGRATE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "guard.h"
#include "privs.h"

struct migrate_step {
	int32_t to;        /* the step from to-1 to to */
	char hook[256];    /* file name in the migrations directory */
};

struct migrate_plan {
	int32_t from, to;
	struct migrate_step *steps;
	size_t n;
};

/* The step number a hook's file name stands for: digits, optionally
 * zero-padded, optionally followed by a non-digit and anything. Returns 0
 * with *step set, or -1 when the name is no hook's. */
int migrate_hook_step(const char *name, int32_t *step);

struct migrate_slice {
	size_t first, n;   /* on 0: the plan is hooks[first] .. hooks[first + n - 1] */
	size_t dup;        /* on 78: hooks[dup - 1] and hooks[dup] stand for one step */
	int32_t missing;   /* on 80: the step that no hook stands for */
};

/* Where the steps from+1..to stand in hooks (sorted by step), pure:
 * returns 0 (n = 0 when from >= to), 78 when two hooks stand for one step,
 * even outside from..to, or 80 when a step has no hook. Logs nothing. */
int migrate_slice(const struct migrate_step *hooks, size_t nhooks, int32_t from, int32_t to,
		  struct migrate_slice *s);

/* Finds every hook from..to before anything runs. Returns 0, 78 (two hooks
 * for a step), 80 (a missing step, no migrations directory) or 126 (a hook
 * that is not executable), after a FATAL line. */
int migrate_plan(const struct volume_conf *v, int32_t from, struct migrate_plan *plan);
void migrate_plan_free(struct migrate_plan *plan);

/* Plans and forgets the plan: 0 when every hook from from to expected is
 * there, or the plan's code after its FATAL line. Nothing runs. */
int migrate_plan_check(const struct volume_conf *v, int32_t from);

/* Migrates from the version given to v->expected; the caller holds the
 * exclusive lock. dry_run: print the plan only. Returns 0, 73, 78, 80, 82,
 * 126, 127 or 128+N. */
int migrate_volume(const struct volume_conf *v, int voldirfd, int32_t from,
		   const struct privs *privs, int dry_run);

/* A dirty volume with a complete snapshot: restores it and removes the
 * marker, as if the interrupted migration never began. */
int migrate_recover(const struct volume_conf *v, int voldirfd, const struct observation *obs);

#endif
