/* howto: the volinit command a hint names, in the form that runs where
 * the user is (SPEC.md "Messages"): on a host, `volinit SUB ...`; as PID 1
 * of a container or with VOLINIT_IMAGE set, `docker run --rm -v
 * VOLUME:PATH --entrypoint SELF IMAGE SUB ...` (an image's ENTRYPOINT
 * would run its app instead); in a container that holds (on_refuse =
 * hold), `docker exec CONTAINER SELF SUB ...`. */
#ifndef VOLINIT_HOWTO_H
#define VOLINIT_HOWTO_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* What the command line must repeat for a subcommand to see the same
 * volumes (-c FILE, --expect ...), and whether this run is a start (one
 * that may hold). cfg and the strings must outlive every howto call. */
void howto_setup(const struct config *cfg, const char *config_file, char *const *expects,
		 size_t nexpects, bool start);

/* Whether volinit runs in a container: PID 1, or VOLINIT_IMAGE set. */
bool howto_in_container(void);

/* volinit's own path, as /proc/self/exe names it (/sbin/volinit when it
 * cannot be read). */
const char *howto_self(void);

/* The command line of subcommand sub (check, migrate, status), words
 * shell-quoted where they need it. Each string lives until the fourth
 * call after it (several fit in one hint). */
const char *howto(const char *sub);

/* `... stamp VOLUME VERSION`; version: a number, or a word (N). */
const char *howto_stamp(const char *volume, const char *version);
const char *howto_stamp_at(const char *volume, int version);

#endif
