/* privs: user, groups, capabilities and no_new_privs (see privs.h). The
 * order is the one that cannot leave a half-privileged child: bounding set
 * first (needs CAP_SETPCAP), then groups, gid, uid (keeping the permitted
 * set across setuid only for what is kept), then the kept capabilities as
 * permitted, effective, inheritable and ambient, so they survive exec; last,
 * everything is read back and compared, as a switch that half worked must
 * not run anything. */
#include "privs.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Names longer than this are refused rather than cut: a cut name could be
 * another user's. */
#define NAME_MAX_LEN 255

/* A UID or GID: digits only, 0 to 4294967294 ((uid_t)-1 means "none"). */
static bool parse_id(const char *s, unsigned *out)
{
	unsigned long long v = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v >= 4294967295ULL)
			return false;
	}
	if (p == s || *p)
		return false;
	*out = (unsigned)v;
	return true;
}

static const char *shown_root(const char *root)
{
	return strcmp(root, "/") == 0 ? "" : root;
}

static FILE *open_db(const char *root, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/etc/%s", shown_root(root), name);
	return fopen(path, "re");
}

/* fgetpwent: no NSS, so it works in a static binary. Returns 1 found, 0 not
 * found, -1 when the file cannot be read (errno set). */
static int find_user(const char *root, const char *name, bool by_id, uid_t uid,
		     struct passwd *out, char *namebuf, size_t namelen, char *home, size_t homelen)
{
	FILE *f = open_db(root, "passwd");
	if (!f)
		return -1;
	struct passwd *pw;
	int found = 0;
	while ((pw = fgetpwent(f)) != NULL) {
		if (by_id ? pw->pw_uid == uid : strcmp(pw->pw_name, name) == 0) {
			*out = *pw;
			snprintf(namebuf, namelen, "%s", pw->pw_name);
			out->pw_name = namebuf;
			snprintf(home, homelen, "HOME=%s", pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
			/* The rest points into fgetpwent's buffer: not kept. */
			out->pw_passwd = out->pw_gecos = out->pw_dir = out->pw_shell = NULL;
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

static bool add_group(struct privs *p, gid_t gid)
{
	for (size_t i = 0; i < p->ngroups; i++)
		if (p->groups[i] == gid)
			return true;
	if (p->ngroups == PRIVS_MAX_GROUPS)
		return false;
	p->groups[p->ngroups++] = gid;
	return true;
}

/* The group named (sets *gid), or every group that lists user as a member
 * (added to p->groups). Returns 0, -1 for a group not found, -2 when the
 * file cannot be read, -3 for too many groups. */
static int scan_groups(const char *root, const char *group, gid_t *gid, const char *user,
		       struct privs *p)
{
	FILE *f = open_db(root, "group");
	if (!f)
		return group || errno != ENOENT ? -2 : 0; /* no file: member of nothing */
	struct group *gr;
	int rc = group ? -1 : 0;
	while ((gr = fgetgrent(f)) != NULL) {
		if (group && strcmp(gr->gr_name, group) == 0) {
			*gid = gr->gr_gid;
			rc = 0;
			break;
		}
		for (char **m = gr->gr_mem; user && m && *m; m++) {
			if (strcmp(*m, user) == 0 && !add_group(p, gr->gr_gid)) {
				rc = -3;
				break;
			}
		}
		if (rc == -3)
			break;
	}
	fclose(f);
	return rc;
}

static int resolve_user(const char *spec, const char *root, struct privs *p)
{
	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	if (ulen > NAME_MAX_LEN || (colon && strlen(colon + 1) > NAME_MAX_LEN)) {
		log_fatal(77, NULL, "user \"%s\": name longer than %d characters", spec,
			  NAME_MAX_LEN);
		return 77;
	}
	char user[NAME_MAX_LEN + 1], group[NAME_MAX_LEN + 1] = "";
	memcpy(user, spec, ulen);
	user[ulen] = '\0';
	if (colon)
		snprintf(group, sizeof(group), "%s", colon + 1);

	struct passwd pw;
	char name[NAME_MAX_LEN + 1];
	unsigned id;
	bool numeric = parse_id(user, &id);
	snprintf(p->home, sizeof(p->home), "HOME=/");
	int known = find_user(root, user, numeric, numeric ? id : 0, &pw, name, sizeof(name),
			      p->home, sizeof(p->home));
	if (!numeric && known < 0) {
		log_fatal(77, NULL, "user \"%s\": cannot read %s/etc/passwd: %s", user,
			  shown_root(root), strerror(errno));
		return 77;
	}
	if (!numeric && !known) {
		log_fatal(77, NULL, "user \"%s\": no such user in %s/etc/passwd", user,
			  shown_root(root));
		return 77;
	}
	known = known > 0;
	p->uid = numeric ? id : pw.pw_uid;
	/* A numeric UID unknown to /etc/passwd gets its own number as GID
	 * rather than root's group: never more than was asked for. */
	p->gid = known ? pw.pw_gid : p->uid;
	p->ngroups = 0;
	int rc = 0;
	if (group[0]) {
		/* An explicit group replaces the user's list, as su-exec does. */
		if (parse_id(group, &id))
			p->gid = id;
		else
			rc = scan_groups(root, group, &p->gid, NULL, p);
	} else if (known) {
		rc = scan_groups(root, NULL, NULL, pw.pw_name, p);
	}
	if (rc == -1) {
		log_fatal(77, NULL, "group \"%s\": no such group in %s/etc/group", group,
			  shown_root(root));
		return 77;
	}
	if (rc == -2) {
		log_fatal(77, NULL, "user \"%s\": cannot read %s/etc/group: %s", spec,
			  shown_root(root), strerror(errno));
		return 77;
	}
	/* The primary group is a supplementary one too, as login does. */
	if (rc == -3 || !add_group(p, p->gid)) {
		log_fatal(77, NULL, "user \"%s\": member of more than %d groups", spec,
			  PRIVS_MAX_GROUPS);
		return 77;
	}
	p->switch_user = true;
	return 0;
}

static int resolve_caps(const char *spec, struct privs *p)
{
	char buf[1024];
	if (strlen(spec) >= sizeof(buf)) {
		log_fatal(77, NULL, "capabilities: list too long");
		return 77;
	}
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

const char *privs_home(const struct privs *p)
{
	return p && p->switch_user ? p->home : NULL;
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

static int mismatch(char *msg, size_t len, const char *what)
{
	snprintf(msg, len, "%s not as configured after the switch", what);
	return 77;
}

/* The highest capability the running kernel knows, which may be more than
 * libcap was built with. */
static cap_value_t last_cap(void)
{
	cap_value_t last = (cap_value_t)cap_max_bits() - 1;
	return last > 63 ? 63 : last;
}

static bool kept(unsigned long long keep, cap_value_t c)
{
	return c < 64 && (keep & (1ULL << c));
}

/* Drops every capability but keep from the bounding set. An unprivileged
 * volinit cannot (no CAP_SETPCAP); that is tolerated only when nothing was
 * configured explicitly and volinit holds no capability to pass on. */
static int drop_bounding(unsigned long long keep, bool tolerate_eperm, char *msg, size_t len)
{
	for (cap_value_t c = 0; c <= last_cap(); c++) {
		if (kept(keep, c) || cap_get_bound(c) != 1)
			continue;
		if (cap_drop_bound(c) == 0)
			continue;
		if (errno == EPERM && tolerate_eperm)
			return 0;
		return failed(msg, len, "drop a capability from the bounding set");
	}
	return 0;
}

static bool holds_no_capability(void)
{
	cap_t now = cap_get_proc(), none = cap_init();
	bool empty = now && none && cap_compare(now, none) == 0;
	cap_free(now);
	cap_free(none);
	return empty;
}

/* Permitted, effective and inheritable become exactly keep; ambient too,
 * which is what a non-root PROGRAM keeps across its exec. */
static int set_caps(unsigned long long keep, char *msg, size_t len)
{
	cap_t caps = cap_init(); /* all clear */
	if (!caps)
		return failed(msg, len, "allocate capabilities");
	cap_value_t list[64];
	int n = 0;
	for (cap_value_t c = 0; c < 64; c++)
		if (kept(keep, c))
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
	if (cap_reset_ambient() != 0 && !(errno == EINVAL && n == 0))
		return failed(msg, len, "clear ambient capabilities");
	for (int i = 0; i < n; i++)
		if (cap_set_ambient(list[i], CAP_SET) != 0)
			return failed(msg, len, "raise an ambient capability");
	return 0;
}

/* Reads everything back: a call that returned 0 but did less than asked
 * must not go unnoticed (see capsh's --user and cap_setuid). */
static int verify_caps(unsigned long long keep, bool bounding_dropped, char *msg, size_t len)
{
	cap_t now = cap_get_proc();
	if (!now)
		return failed(msg, len, "read capabilities back");
	int bad = 0;
	for (cap_value_t c = 0; c <= last_cap() && !bad; c++) {
		cap_flag_value_t want = kept(keep, c) ? CAP_SET : CAP_CLEAR, v;
		for (cap_flag_t f = CAP_EFFECTIVE; f <= CAP_INHERITABLE && !bad; f++)
			if (cap_get_flag(now, c, f, &v) != 0 || v != want)
				bad = 1;
		if (!bad && cap_get_ambient(c) != (want == CAP_SET ? 1 : 0) &&
		    !(want == CAP_CLEAR && cap_get_ambient(c) < 0))
			bad = 2;
		if (!bad && bounding_dropped && !kept(keep, c) && cap_get_bound(c) == 1)
			bad = 3;
	}
	cap_free(now);
	static const char *const what[] = { "", "capabilities are", "ambient capabilities are",
					    "the bounding set is" };
	return bad ? mismatch(msg, len, what[bad]) : 0;
}

/* True when the process is this identity: then an unprivileged volinit
 * (Kubernetes runAsUser) need not switch. The primary group may be
 * missing from the supplementary list (runc leaves it empty): the gid gives
 * the same access. */
static bool already(const struct privs *p)
{
	uid_t r, e, s;
	gid_t rg, eg, sg, now[PRIVS_MAX_GROUPS];
	if (getresuid(&r, &e, &s) != 0 || r != p->uid || e != p->uid || s != p->uid)
		return false;
	if (getresgid(&rg, &eg, &sg) != 0 || rg != p->gid || eg != p->gid || sg != p->gid)
		return false;
	int n = getgroups(PRIVS_MAX_GROUPS, now);
	if (n < 0)
		return false;
	for (size_t j = 0; j < p->ngroups; j++) {
		bool found = p->groups[j] == p->gid;
		for (int i = 0; i < n && !found; i++)
			found = now[i] == p->groups[j];
		if (!found)
			return false;
	}
	for (int i = 0; i < n; i++) {
		bool found = false;
		for (size_t j = 0; j < p->ngroups && !found; j++)
			found = now[i] == p->groups[j];
		if (!found)
			return false;
	}
	return true;
}

static int switch_user(const struct privs *p, char *msg, size_t len)
{
	if (setgroups(p->ngroups, p->groups) != 0) {
		/* Not allowed to switch, but already that user: nothing to do. */
		if (errno == EPERM && already(p))
			return 0;
		return failed(msg, len, "set supplementary groups");
	}
	if (setresgid(p->gid, p->gid, p->gid) != 0)
		return failed(msg, len, "set the group id");
	if (setresuid(p->uid, p->uid, p->uid) != 0)
		return failed(msg, len, "set the user id");
	return already(p) ? 0 : mismatch(msg, len, "user, group or groups are");
}

int privs_apply(void *ctx, char *msg, size_t len)
{
	const struct privs *p = ctx;
	/* Capabilities given: keep exactly those. A switch to a non-root user
	 * without them: keep none, bounding set included, so that no setuid
	 * or file-capability program gives any back. Otherwise (root, or no
	 * user): the capabilities volinit was given. */
	bool limit = p->set_caps || (p->switch_user && p->uid != 0);
	unsigned long long keep = p->set_caps ? p->keep : 0;
	bool bounding_dropped = false;

	if (limit) {
		bool tolerate = !p->set_caps && holds_no_capability();
		int rc = drop_bounding(keep, tolerate, msg, len);
		if (rc)
			return rc;
		bounding_dropped = !tolerate;
		/* The permitted set must survive setuid for the kept ones. */
		if (p->switch_user && keep && prctl(PR_SET_KEEPCAPS, 1) != 0)
			return failed(msg, len, "keep capabilities across setuid");
	}
	if (p->switch_user) {
		int rc = switch_user(p, msg, len);
		if (rc)
			return rc;
	}
	if (limit) {
		int rc = set_caps(keep, msg, len);
		if (!rc)
			rc = verify_caps(keep, bounding_dropped, msg, len);
		if (rc)
			return rc;
		if (p->switch_user && keep)
			prctl(PR_SET_KEEPCAPS, 0);
	}
	if (p->no_new_privs) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
			return failed(msg, len, "set no_new_privs");
		if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
			return mismatch(msg, len, "no_new_privs is");
	}
	return 0;
}

int privs_check(const struct privs *p)
{
	if (!p->switch_user && !p->set_caps && !p->no_new_privs)
		return 0;
	struct { int code; char msg[300]; } r = { 0, "" };
	int fd[2];
	if (pipe2(fd, O_CLOEXEC) != 0) {
		log_fatal(77, NULL, "cannot check the user switch: %s", strerror(errno));
		return 77;
	}
	pid_t pid = fork();
	if (pid < 0) {
		log_fatal(77, NULL, "cannot check the user switch: %s", strerror(errno));
		close(fd[0]);
		close(fd[1]);
		return 77;
	}
	if (pid == 0) {
		close(fd[0]);
		r.code = privs_apply((void *)p, r.msg, sizeof(r.msg));
		(void)!write(fd[1], &r, sizeof(r));
		_exit(0);
	}
	close(fd[1]);
	ssize_t n;
	do
		n = read(fd[0], &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	close(fd[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(r)) {
		log_fatal(77, NULL, "cannot check the user switch: the trial process died");
		return 77;
	}
	if (r.code) {
		r.msg[sizeof(r.msg) - 1] = '\0';
		log_fatal(77, NULL, "%s", r.msg);
		return 77;
	}
	return 0;
}
