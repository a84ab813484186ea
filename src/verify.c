/* verify: see verify.h. */
#include "verify.h"
#include "env.h"
#include "howto.h"
#include "journal.h"
#include "log.h"
#include "signals.h"
#include "spawn.h"
#include "supervise.h"
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int verify_trust(const struct volume_conf *v)
{
	if (!v->verify)
		return 0;
	const struct volume_conf *vols = v->config ? v->config->volumes : v;
	size_t nvols = v->config ? v->config->nvolumes : 1;
	char why[4400];
	struct stat st;
	enum trust_result t = trust_check(v->verify, "verify hook", false, vols, nvols, why,
					  sizeof(why));
	if (t == TRUST_UNSAFE) {
		log_fatal(78, v->name, "volume \"%s\": %s", v->name, why);
		return 78;
	}
	if (t == TRUST_SYSTEM && (errno == ENOENT || errno == ENOTDIR)) {
		log_fatal(127, v->name, "volume \"%s\": verify hook %s: %s", v->name, v->verify, why);
		return 127;
	}
	if (t != TRUST_OK || stat(v->verify, &st) != 0 || !S_ISREG(st.st_mode) ||
	    access(v->verify, X_OK) != 0) {
		log_fatal(126, v->name, "volume \"%s\": verify hook %s is not an executable file",
			  v->name, v->verify);
		return 126;
	}
	return 0;
}

/* The volume bind-mounted on itself in a mount namespace of the child's
 * own, read-only with everything below it. Returns 0 or -1 (no
 * CAP_SYS_ADMIN: EPERM). */
static int readonly_namespace(const char *path)
{
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount(path, path, NULL, MS_BIND | MS_REC, NULL) != 0)
		return -1;
	struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
	if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &a, sizeof(a)) == 0)
		return 0;
	return mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
}

/* Shared with the child (spawn's vfork shares memory until exec). */
struct verify_child {
	const struct volume_conf *v;
	const struct privs *privs;
	int errfd;
	bool ro; /* the child made the read-only namespace */
};

static int prepare(void *ctx, char *msg, size_t len)
{
	struct verify_child *c = ctx;
	c->ro = readonly_namespace(c->v->path) == 0;
	/* The working directory was the volume's mount before the bind. */
	if (c->ro && chdir(c->v->path) != 0) {
		snprintf(msg, len, "cannot enter the volume: %s", strerror(errno));
		return 73;
	}
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(c->errfd, STDERR_FILENO) < 0) {
		snprintf(msg, len, "cannot set up the verify hook's input and output: %s",
			 strerror(errno));
		return 70;
	}
	return c->privs ? privs_apply((void *)c->privs, msg, len) : 0;
}

/* What the hook writes on stderr: passed on to volinit's as it comes,
 * never held (a hook that copies a huge file there must not make PID 1
 * hold it); kept is only what the refusal uses, the start of its last
 * non-empty line (a bounded tail). */
struct hook_stderr {
	int fd;           /* the pipe's read end, non-blocking */
	bool passing;     /* volinit's stderr still takes it */
	bool line_done;   /* the last byte seen ended a line */
	bool empty;       /* the last read found nothing there (yet) */
	size_t lastn;
	char last[512];
};

/* Reads what is there, up to a bounded amount (the caller looks at
 * signals and time in between): false at end of file, or when nothing
 * more can come. */
static bool stderr_ready(void *ctx)
{
	struct hook_stderr *h = ctx;
	char buf[16384];
	h->empty = false;
	for (int round = 0; round < 4; round++) {
		ssize_t n = read(h->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			h->empty = true;
		if (n < 0)
			return h->empty;
		if (n == 0)
			return false;
		for (ssize_t off = 0; h->passing && off < n;) {
			ssize_t w = write(STDERR_FILENO, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				h->passing = false; /* nowhere to show it: why still gets its last line */
			else
				off += w;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				h->line_done = true;
				continue;
			}
			if (h->line_done)
				h->lastn = 0; /* a new line begins */
			h->line_done = false;
			if (h->lastn < sizeof(h->last) - 1)
				h->last[h->lastn++] = buf[i];
		}
	}
	return true;
}

/* A pipe for the hook's stderr: fds[0] non-blocking and close-on-exec
 * (volinit's), fds[1] for the hook. 0 or an errno. */
static int stderr_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) != 0)
		return errno;
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
		int err = errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	return 0;
}

int verify_run(const struct volume_conf *v, int dirfd, int32_t version,
	       const struct privs *privs, char *why, size_t len, char *how, size_t hlen)
{
	char vars[4][4200];
	snprintf(vars[0], sizeof(vars[0]), "VOLINIT_VOLUME=%s", v->name);
	snprintf(vars[1], sizeof(vars[1]), "VOLINIT_PATH=%s", v->path);
	snprintf(vars[2], sizeof(vars[2]), "VOLINIT_VERSION=%d", (int)version);
	const char *set[] = { vars[0], vars[1], vars[2], privs_home(privs) };
	char **env = env_with(environ, set, set[3] ? 4 : 3);
	int fds[2] = { -1, -1 };
	int err = env ? stderr_pipe(fds) : ENOMEM;
	struct hook_stderr h = { .fd = fds[0], .passing = true };
	struct supervise_io io = { .fd = -1, .sigfd = -1 };
	if (!err && supervise_io_init(&io, fds[0], stderr_ready, &h) != 0)
		err = errno;
	snprintf(how, hlen, "not started");
	if (err) {
		snprintf(why, len, "cannot start it: %s", strerror(err));
		free(env);
		supervise_io_close(&io);
		if (fds[0] >= 0) {
			close(fds[0]);
			close(fds[1]);
		}
		return 84;
	}
	struct verify_child c = { .v = v, .privs = privs, .errfd = fds[1] };
	char *argv[] = { v->verify, NULL };
	struct spawn sp = { .argv = argv, .envp = env, .cwd_fd = dirfd, .exact_path = true,
			    .prepare = prepare, .ctx = &c };
	supervise_become_reaper(false); /* what it leaves behind is ours to kill */
	supervise_hook_starting();      /* what is there already is not */
	signals_hold_pending();         /* signals from before are PROGRAM's */
	pid_t pid;
	int rc = spawn_start(&sp, &pid);
	free(env);
	close(fds[1]); /* the hook's (and what it starts): its end of file is theirs */
	if (rc) {
		supervise_io_close(&io);
		close(fds[0]);
		snprintf(why, len, "could not start it (%d)", rc);
		return 84;
	}
	snprintf(how, hlen, "%s", c.ro ? "in a read-only mount namespace"
				       : "on the volume as it is, without CAP_SYS_ADMIN for a "
					 "read-only namespace");
	int stop;
	bool timed_out;
	int status = supervise_wait_hook_for(pid, v->verify_timeout, &io, &stop, &timed_out);
	/* The hook and what it left are gone: the rest of the pipe, to its
	 * end (or to what is there, should a writer remain). */
	while (stderr_ready(&h) && !h.empty)
		;
	supervise_io_close(&io);
	close(fds[0]);
	why[0] = '\0';
	if (h.lastn) {
		h.last[h.lastn] = '\0';
		snprintf(why, len, "%s", h.last);
	}
	if (timed_out) {
		snprintf(why, len, "timed out after %u s (killed)", v->verify_timeout);
		return 84;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return stop ? 128 + stop : 0;
	if (stop)
		return 128 + stop;
	if (!why[0])
		snprintf(why, len, WIFSIGNALED(status) ? "died of signal %d" : "exited with %d",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return 84;
}

int verify_refuse(const struct volume_conf *v, int dirfd, int32_t version, const char *why,
		  const char *how)
{
	log_fatal(84, v->name,
		  "incompatible persistent state in volume \"%s\" (%s): schema_version=%d, "
		  "expected=%d: verify failed: %s", v->name, v->path, (int)version,
		  (int)v->expected, why);
	log_hint(v->name, "the data on the volume was not changed");
	log_hint(v->name, "what the data must hold at %d is the image's: %s checks it (it ran %s)",
		 (int)version, v->verify, how);
	log_hint(v->name, "look at the volume and its journal: %s", howto("status"));
	log_hint(v->name, "restore the volume from a backup; or, to start over, destroying the "
			  "data: docker volume rm VOLUME (Compose: docker compose down -v)");
	char detail[1024];
	snprintf(detail, sizeof(detail), "%s (ran %s)", why, how);
	journal_event(dirfd, v, "verify_fail", version, v->expected, detail);
	return 84;
}

int verify_volume(const struct volume_conf *v, int dirfd, int32_t version,
		  const struct privs *privs)
{
	if (!v->verify)
		return 0;
	int rc = verify_trust(v);
	if (rc)
		return rc;
	char why[512], how[128];
	log_info(v->name, "volume \"%s\" (%s): verifying %d with %s", v->name, v->path,
		 (int)version, v->verify);
	rc = verify_run(v, dirfd, version, privs, why, sizeof(why), how, sizeof(how));
	if (rc == 84)
		return verify_refuse(v, dirfd, version, why, how);
	if (rc > 128)
		log_fatal(rc, v->name, "volume \"%s\": stopped by signal %d while it was verified",
			  v->name, rc - 128);
	return rc;
}
