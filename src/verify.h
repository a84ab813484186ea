/* verify: a volume's verify hook (SPEC.md "Verify"), the image's answer to
 * "does the data really hold what its version file claims?". */
#ifndef VOLINIT_VERIFY_H
#define VOLINIT_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "privs.h"

/* The hook is the image's (owner and modes as a migration hook's, outside
 * every guarded volume: else 78) and can run (else 127 not found, 126 not
 * executable): 0, or the code after one FATAL line. 0 without one. */
int verify_trust(const struct volume_conf *v);

/* Runs v's verify hook on the volume (dirfd, its working directory) at
 * version: as privs says, stdin /dev/null, VOLINIT_VOLUME, VOLINIT_PATH,
 * VOLINIT_VERSION; in a private mount namespace with the volume read-only
 * where volinit may (CAP_SYS_ADMIN); killed with its process group after
 * verify_timeout. Its standard output goes to volinit's; its standard
 * error is passed on to volinit's as it comes (through a pipe, never
 * held: only the start of its last line is kept). Returns 0 when it passed; else 84 with
 * why (the last line it wrote on stderr, or how it ended) and how (where
 * it ran, for the journal); 128+N when a stop signal N came meanwhile. */
int verify_run(const struct volume_conf *v, int dirfd, int32_t version,
	       const struct privs *privs, char *why, size_t len, char *how, size_t hlen);

/* The refusal of a volume whose verify failed: 84, the FATAL line in the
 * searchable form, hints, a verify_fail journal event. */
int verify_refuse(const struct volume_conf *v, int dirfd, int32_t version, const char *why,
		  const char *how);

/* verify_trust, then verify_run, then verify_refuse on failure: for a
 * start and for check. Returns 0, 78, 84 or 128+N. */
int verify_volume(const struct volume_conf *v, int dirfd, int32_t version,
		  const struct privs *privs);

#endif
