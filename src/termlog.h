/* termlog: the termination message an orchestrator shows (Kubernetes'
 * terminationMessagePath, /dev/termination-log by default: `kubectl
 * describe pod` prints it as the last state's Message). */
#ifndef VOLINIT_TERMLOG_H
#define VOLINIT_TERMLOG_H

#include "config.h"

/* After a failure of volinit's own: its first FATAL line and the hint
 * after it, into the config's termination_log (default
 * /dev/termination-log), only where that is a regular file that exists and
 * can be written; nothing otherwise, and nothing said. */
void termlog_write(const struct config *cfg);

#endif
