/* apply: doing what the guard decided for one volume (initialize, adopt,
 * restore, migrate, or explain the refusal). One place for a start and for
 * `volinit migrate`; the caller holds the exclusive lock, or asks for a dry
 * run, which changes nothing. */
#ifndef VOLINIT_APPLY_H
#define VOLINIT_APPLY_H

#include <stdbool.h>

#include "config.h"
#include "guard.h"
#include "privs.h"

/* Acts on d, the decision for obs. A restore is followed by a new look and
 * whatever that decides. Returns 0 or the exit code, after its FATAL line. */
int apply_decision(const struct volume_conf *v, int dirfd, const struct observation *obs,
		   const struct decision *d, enum guard_purpose purpose, const struct privs *hooks,
		   bool dry_run);

#endif
