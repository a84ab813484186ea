/* report: what volinit says about a volume's state (see report.c). */
#ifndef VOLINIT_REPORT_H
#define VOLINIT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "guard.h"
#include "howto.h" /* the commands hints name */
#include "lock.h"

/* The one FATAL line (with d's code) and the hints for a refusal. */
void report_refusal(const struct volume_conf *v, const struct observation *obs,
		    const struct decision *d);

/* The refusal (73) of an act (what: the volume's state, or "stamp") on a
 * volume whose locks stay on this node (guard_locks_stay). */
void report_node_locks(const struct volume_conf *v, const struct observation *obs,
		       const char *what);

/* The filesystem's line of status, check and --dry-run, into buf. */
void report_fs(const struct observation *obs, char *buf, size_t len);

/* The refusal (80) of a volume at version from that no chain of hooks can
 * bring to expected; why says what is missing and what to do. */
void report_unmigratable(const struct volume_conf *v, int32_t from, const char *why);

/* why, for a volume whose config has no migrations directory. */
#define REPORT_NO_MIGRATIONS \
	"no migrations directory is configured: set migrations = DIR with a hook for each step"

/* After a migrate or stamp that changed a volume: with on_refuse = hold,
 * the hint that the holding container starts its program only when
 * restarted. */
void report_restart(const struct config *cfg);

/* The hint for .volinit/ that volinit's user may not open (err EACCES):
 * whose it is, and the two ways out. Nothing when err is another. */
void report_state_denied(const struct volume_conf *v, int voldirfd, int err);

/* As PID 1, one warning for each guarded path that is not a mount point
 * (docker run without -v: the container's own layer), unless
 * require_mount makes it a refusal. */
void report_unmounted(const struct config *cfg);

/* Where a volume that needs nothing is: "at N", or "empty (on_missing =
 * app: the program writes its version file)". */
void report_at(const struct volume_conf *v, const struct decision *d, char *buf, size_t len);

/* An action's name in check and status: run, init, adopt, migrate,
 * restore, refuse. */
extern const char *const report_action_names[];

/* What status and check can read of a volume's .volinit/: they run as
 * the app's user too, who may not open volinit's (root's, 0700) state. */
enum report_state { REPORT_STATE_NONE, REPORT_STATE_ABSENT, REPORT_STATE_READABLE,
		    REPORT_STATE_DENIED };
enum report_state report_state_of(int voldirfd); /* NONE when voldirfd < 0 */

/* The FATAL line (73) and hint of a status or check (sub) that cannot
 * read .volinit/: what it shows lacks the lock, dirty marker, snapshot
 * and journal. */
void report_state_unreadable(const struct volume_conf *v, int voldirfd, const char *sub);

/* One volume of check --json. action: what a start would do, or "locked"
 * when the lock could not be had to look (code 75 or 128+N); verified:
 * "passed", "failed", or NULL (no verify hook, or not run: the volume is
 * not at a version a start would run on as it is). */
void report_check_json(const struct volume_conf *v, const struct observation *obs,
		       enum report_state state, const char *action, int code,
		       const char *verified, bool first);

/* One volume of status, as text or as an object of --json. dirfd: the
 * volume (-1: not opened); others: what other holders hold of its lock, as
 * the kernel says. Only what was parsed from the volume is printed, never
 * its bytes. */
void report_status_text(const struct volume_conf *v, const struct observation *obs,
			const struct decision *d, int dirfd, enum report_state state,
			const struct lock_survey *others);
void report_status_json(const struct volume_conf *v, const struct observation *obs,
			const struct decision *d, int dirfd, enum report_state state,
			const struct lock_survey *others, bool first);

#endif
