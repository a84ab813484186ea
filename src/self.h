/* self: who this volinit is, as the journal, the holders files and the
 * dirty marker name it: host name, pid, image (VOLINIT_IMAGE). Looked up
 * once: a start writes them several times. */
#ifndef VOLINIT_SELF_H
#define VOLINIT_SELF_H

#include <stdbool.h>
#include <sys/types.h>

const char *self_host(void); /* "unknown" when gethostname fails */
long self_pid(void);
const char *self_image(void); /* "" when VOLINIT_IMAGE is unset */

/* What /proc/PID/stat says of pid: its parent, and its start time (clock
 * ticks after boot), which tells it from a later process given the same
 * pid. Returns false when it is gone or unreadable. */
bool self_proc_stat(pid_t pid, pid_t *ppid, unsigned long long *start);

#endif
