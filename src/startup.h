/* startup: brings every volume to a state PROGRAM may start on, under the
 * volume's lock, and keeps the shared lock for PROGRAM's whole life. */
#ifndef VOLINIT_STARTUP_H
#define VOLINIT_STARTUP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "holders.h"
#include "privs.h"
#include "session.h"

struct held_volume {
	struct session session; /* HOLD: the shared lock for PROGRAM's life */
	bool must_act; /* to initialize, adopt, restore or migrate */
};

struct startup {
	struct held_volume *volumes;
	size_t n;
};

/* Checks every volume (reporting every refusal), then initializes or
 * migrates those that need it. Returns 0, or the first refusal's exit code.
 * hooks_privs: identity for migration hooks. */
int startup_admit(const struct config *cfg, const struct privs *hooks_privs, struct startup *s);

/* PROGRAM has started: our holders files and the start events. Written
 * after the fork, while PROGRAM loads, since the shared lock decides and
 * these are only for people. */
void startup_started(const struct config *cfg, struct startup *s);

/* Adds an event to the journal of every volume that has .volinit/. */
void startup_journal(const struct config *cfg, const struct startup *s, const char *event,
		     const char *detail);

/* Removes our holders files and closes everything (dropping the locks). */
void startup_release(struct startup *s);

#endif
