/* privs: the identity and capabilities PROGRAM and the hooks run with
 * (user, capabilities, no_new_privs), resolved without NSS so that a static
 * binary works in a FROM scratch image. */
#ifndef VOLINIT_PRIVS_H
#define VOLINIT_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

/* More supplementary groups than this: 77, never a silently shorter list. */
#define PRIVS_MAX_GROUPS 256

struct privs {
	bool switch_user;
	uid_t uid;
	gid_t gid;
	gid_t groups[PRIVS_MAX_GROUPS];
	size_t ngroups;
	bool set_caps;           /* capabilities was given: keep exactly those */
	unsigned long long keep; /* bit N: capability N */
	bool no_new_privs;
	char home[4200];         /* "HOME=DIR" for the user switched to */
};

/* Resolves cfg's user, group and capabilities (from /etc/passwd and
 * /etc/group; root is an alternative root directory for tests, normally
 * "/"). NAME[:GROUP]: the user's groups from /etc/group, or only GROUP when
 * given; UID[:GID] needs no file (GID defaults to the passwd entry's, else to
 * UID). Returns 0, or 77 after a FATAL line. */
int privs_resolve(const struct config *cfg, const char *root, struct privs *p);

/* "HOME=DIR" for PROGRAM and hooks when they run as another user (DIR from
 * /etc/passwd, "/" for a UID it does not list, as gosu and su-exec do); NULL
 * when p is NULL or switches no user. */
const char *privs_home(const struct privs *p);

/* In the child, just before exec (spawn_prepare_fn): bounding set, groups,
 * gid, uid, capabilities, no_new_privs, then all read back. With
 * capabilities: exactly those in every set (bounding and ambient included);
 * with a non-root user and no capabilities: none at all; otherwise
 * volinit's own are left alone. Returns 0 or 77 with a reason in msg. */
int privs_apply(void *privs, char *msg, size_t len);

/* Applies p in a throwaway child and reports the result, so that a switch
 * that cannot work (volinit lacking CAP_SETUID, CAP_SETPCAP...) is found
 * before any volume is touched. Returns 0, or 77 after one FATAL line. */
int privs_check(const struct privs *p);

#endif
