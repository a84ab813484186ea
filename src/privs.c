/* privs: user, groups, capabilities and no_new_privs (see privs.h). The
 * order is the one that cannot leave a half-privileged child: bounding set
 * first (needs CAP_SETPCAP), then groups, gid, uid (keeping the permitted
 * set across setuid only for what is kept), then the kept capabilities as
 * permitted, effective, inheritable and ambient, so they survive exec. */
#include "privs.h"
#include "log.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

static bool parse_id(const char *s, unsigned *out)
{
	int32_t v;
	if (!config_parse_version(s, &v))
		return false;
	*out = (unsigned)v;
	return true;
}

static FILE *open_db(const char *root, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/etc/%s", strcmp(root, "/") == 0 ? "" : root, name);
	return fopen(path, "re");
}

/* fgetpwent: no NSS, so it works in a static binary. */
static bool find_user(const char *root, const char *name, bool by_id, uid_t uid,
		      struct passwd *out, char *namebuf, size_t namelen)
{
	FILE *f = open_db(root, "passwd");
	if (!f)
		return false;
	struct passwd *pw;
	bool found = false;
	while ((pw = fgetpwent(f)) != NULL) {
		if (by_id ? pw->pw_uid == uid : strcmp(pw->pw_name, name) == 0) {
			*out = *pw;
			snprintf(namebuf, namelen, "%s", pw->pw_name);
			out->pw_name = namebuf;
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

/* The group named, or every group that lists user as a member. */
static int scan_groups(const char *root, const char *group, gid_t *gid, const char *user,
		       struct privs *p)
{
	FILE *f = open_db(root, "group");
	if (!f)
		return group ? -1 : 0;
	struct group *gr;
	int found = group ? -1 : 0;
	while ((gr = fgetgrent(f)) != NULL) {
		if (group && strcmp(gr->gr_name, group) == 0) {
			*gid = gr->gr_gid;
			found = 0;
		}
		for (char **m = gr->gr_mem; user && m && *m; m++)
			if (strcmp(*m, user) == 0 && p->ngroups < PRIVS_MAX_GROUPS)
				p->groups[p->ngroups++] = gr->gr_gid;
	}
	fclose(f);
	return found;
}

static int resolve_user(const char *spec, const char *root, struct privs *p)
{
	char user[256], group[256] = "";
	const char *colon = strchr(spec, ':');
	snprintf(user, sizeof(user), "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
	if (colon)
		snprintf(group, sizeof(group), "%s", colon + 1);

	struct passwd pw;
	char name[256];
	unsigned id;
	bool numeric = parse_id(user, &id);
	bool known = find_user(root, user, numeric, numeric ? id : 0, &pw, name, sizeof(name));
	if (!numeric && !known) {
		log_fatal(77, NULL, "user \"%s\": no such user in %s/etc/passwd", user,
			  strcmp(root, "/") ? root : "");
		return 77;
	}
	p->uid = numeric ? id : pw.pw_uid;
	/* A numeric UID unknown to /etc/passwd gets its own number as GID
	 * rather than root's group. */
	p->gid = known ? pw.pw_gid : p->uid;
	p->ngroups = 0;
	if (group[0]) {
		if (parse_id(group, &id)) {
			p->gid = id;
		} else if (scan_groups(root, group, &p->gid, NULL, p) != 0) {
			log_fatal(77, NULL, "group \"%s\": no such group in %s/etc/group", group,
				  strcmp(root, "/") ? root : "");
			return 77;
		}
	} else if (known) {
		scan_groups(root, NULL, NULL, pw.pw_name, p);
	}
	if (p->ngroups < PRIVS_MAX_GROUPS)
		p->groups[p->ngroups++] = p->gid;
	p->switch_user = true;
	return 0;
}

static int resolve_caps(const char *spec, struct privs *p)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", spec);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		cap_value_t cap;
		if (cap_from_name(tok, &cap) != 0 || cap < 0 || cap >= 64) {
			log_fatal(77, NULL, "unknown capability \"%s\"", tok);
			return 77;
		}
		if (!CAP_IS_SUPPORTED(cap)) {
			log_fatal(77, NULL, "capability %s is not supported by this kernel", tok);
			return 77;
		}
		p->keep |= 1ULL << cap;
	}
	p->set_caps = true;
	return 0;
}

int privs_resolve(const struct config *cfg, const char *root, struct privs *p)
{
	memset(p, 0, sizeof(*p));
	p->no_new_privs = cfg->no_new_privs;
	int rc = 0;
	if (cfg->user)
		rc = resolve_user(cfg->user, root, p);
	if (!rc && cfg->capabilities)
		rc = resolve_caps(cfg->capabilities, p);
	return rc;
}

static int failed(char *msg, size_t len, const char *what)
{
	snprintf(msg, len, "cannot %s: %s", what, strerror(errno));
	return 77;
}

static int apply_caps(const struct privs *p, char *msg, size_t len)
{
	cap_t caps = cap_init(); /* all clear */
	if (!caps)
		return failed(msg, len, "allocate capabilities");
	cap_value_t list[64];
	int n = 0;
	for (int c = 0; c < 64; c++)
		if (p->keep & (1ULL << c))
			list[n++] = c;
	if (n > 0 && (cap_set_flag(caps, CAP_PERMITTED, n, list, CAP_SET) != 0 ||
		      cap_set_flag(caps, CAP_EFFECTIVE, n, list, CAP_SET) != 0 ||
		      cap_set_flag(caps, CAP_INHERITABLE, n, list, CAP_SET) != 0)) {
		cap_free(caps);
		return failed(msg, len, "build the capability set");
	}
	int rc = cap_set_proc(caps);
	cap_free(caps);
	if (rc != 0)
		return failed(msg, len, "set capabilities");
	/* Ambient: what a non-root PROGRAM keeps across its exec. */
	if (cap_reset_ambient() != 0 && errno != EINVAL)
		return failed(msg, len, "clear ambient capabilities");
	for (int i = 0; i < n; i++)
		if (cap_set_ambient(list[i], CAP_SET) != 0)
			return failed(msg, len, "raise an ambient capability");
	return 0;
}

int privs_apply(void *ctx, char *msg, size_t len)
{
	const struct privs *p = ctx;
	if (p->set_caps) {
		for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
			if (!(p->keep & (1ULL << c)) && CAP_IS_SUPPORTED(c) &&
			    cap_get_bound(c) == 1 && cap_drop_bound(c) != 0)
				return failed(msg, len, "drop a capability from the bounding set");
		}
		/* The permitted set must survive setuid for the kept ones. */
		if (p->switch_user && prctl(PR_SET_KEEPCAPS, 1) != 0)
			return failed(msg, len, "keep capabilities across setuid");
	}
	if (p->switch_user) {
		if (setgroups(p->ngroups, p->groups) != 0)
			return failed(msg, len, "set supplementary groups");
		if (setgid(p->gid) != 0)
			return failed(msg, len, "set the group id");
		if (setuid(p->uid) != 0)
			return failed(msg, len, "set the user id");
	}
	if (p->set_caps) {
		int rc = apply_caps(p, msg, len);
		if (rc)
			return rc;
		if (p->switch_user)
			prctl(PR_SET_KEEPCAPS, 0);
	}
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return failed(msg, len, "set no_new_privs");
	return 0;
}
