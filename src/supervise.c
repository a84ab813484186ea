/* supervise: the PID 1 loop (see supervise.h). It sleeps in sigwaitinfo
 * until a signal or a child event: no polling, no wake-ups while idle. */
#include "supervise.h"
#include "log.h"
#include "self.h"
#include "signals.h"
#include "spawn.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <stdbool.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

void supervise_become_reaper(bool force)
{
	if (getpid() == 1 && !force)
		return;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		log_warn(NULL, "cannot become a child subreaper: %s; orphans will not be reaped",
			 strerror(errno));
}

int supervise_exit_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static void forward(pid_t target, bool group, int sig)
{
	if (kill(group ? -target : target, sig) != 0 && errno != ESRCH)
		log_error("cannot forward signal %d: %s", sig, strerror(errno));
}

/* Reaps every child that has ended. Returns the number reaped, sets
 * *watched_status when watched was among them, and *none_left when volinit
 * has no children at all any more. */
static int reap(pid_t watched, int *watched_status, bool *watched_done, bool *none_left)
{
	int n = 0, status;
	*none_left = false;
	for (;;) {
		pid_t p = waitpid(-1, &status, WNOHANG);
		if (p > 0) {
			n++;
			if (p == watched) {
				*watched_status = status;
				*watched_done = true;
			}
			continue;
		}
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0 && errno == ECHILD)
			*none_left = true;
		return n;
	}
}

/* Our pid as the /proc mounted here numbers processes, or -1 when we are
 * not in it. It may be an outer PID namespace's (unshare --pid without
 * --mount-proc, a container given the host's /proc), where getpid() is
 * another process's number. */
static pid_t proc_self(void)
{
	char link[32];
	ssize_t n = readlink("/proc/self", link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = '\0';
	char *end;
	long pid = strtol(link, &end, 10);
	return *end || pid <= 0 ? -1 : (pid_t)pid;
}

/* Sends sig to the process /proc numbers pid, started at start: through
 * its /proc directory as a pidfd, which names it in any namespace (and is
 * checked to be the process that started then); kill() where the kernel
 * lacks pidfd_send_signal and /proc numbers as we do. */
static bool signal_proc_pid(long pid, unsigned long long start, int sig, bool ours)
{
	char path[32];
	snprintf(path, sizeof(path), "/proc/%ld", pid);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	pid_t pp;
	unsigned long long now;
	if (!self_proc_stat((pid_t)pid, &pp, &now) || now != start) {
		close(fd); /* gone, or its pid is another process's now */
		return false;
	}
	long r = syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
	int err = errno;
	close(fd);
	if (r == 0)
		return true;
	return err == ENOSYS && ours && kill((pid_t)pid, sig) == 0;
}

/* The processes volinit had before a hook started (supervise_hook_starting),
 * each by pid and start time: what the sweep after the hook never kills,
 * with everything below them. */
struct proc_id {
	pid_t pid;
	unsigned long long start;
};
static struct {
	struct proc_id *p;
	size_t n, cap;
	bool recorded; /* supervise_hook_starting ran for this hook */
	bool known;    /* recorded from a /proc that shows our descendants */
	bool children; /* volinit had children then (known or not) */
} before;

static bool was_there(pid_t pid, unsigned long long start)
{
	for (size_t i = 0; i < before.n; i++)
		if (before.p[i].pid == pid && before.p[i].start == start)
			return true;
	return false;
}

static bool remember(pid_t pid, unsigned long long start)
{
	if (before.n == before.cap) {
		size_t cap = before.cap ? 2 * before.cap : 16;
		struct proc_id *p = realloc(before.p, cap * sizeof(*p));
		if (!p)
			return false;
		before.p = p;
		before.cap = cap;
	}
	before.p[before.n++] = (struct proc_id){ pid, start };
	return true;
}

enum walk_do {
	WALK_SIGNAL_ALL, /* every descendant */
	WALK_SIGNAL_NEW, /* those with no process of `before` on their way up to us */
	WALK_RECORD,     /* into `before` */
};

/* Goes through every descendant of volinit found in /proc (climbing each
 * process's parents to us), to signal it with sig or record it. The
 * process is held by its /proc directory (a pidfd) from the look at its
 * start time to the signal: a pid reused meanwhile is never signalled.
 * Returns how many it signalled (or recorded), -1 without /proc or when we
 * are not in it (or, recording, out of memory). */
static int walk_descendants(enum walk_do what, int sig)
{
	pid_t self = proc_self();
	DIR *d = self > 0 ? opendir("/proc") : NULL;
	if (!d)
		return -1;
	bool ours = self == getpid();
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid == self)
			continue;
		pid_t p = (pid_t)pid, pp;
		unsigned long long start, start0;
		if (!self_proc_stat(p, &pp, &start0))
			continue; /* gone */
		/* Climb to us or to the top; the tree is shallow. */
		bool spared = what == WALK_SIGNAL_NEW && was_there(p, start0);
		for (int depth = 0; depth < 64 && pp > 1 && pp != self && !spared; depth++) {
			p = pp;
			if (!self_proc_stat(p, &pp, &start)) {
				pp = -1;
				break;
			}
			spared = what == WALK_SIGNAL_NEW && was_there(p, start);
		}
		if (pp != self || spared)
			continue;
		if (what == WALK_RECORD) {
			if (!remember((pid_t)pid, start0)) {
				closedir(d);
				return -1;
			}
			n++;
		} else if (signal_proc_pid(pid, start0, sig, ours)) {
			n++;
		}
	}
	closedir(d);
	return n;
}

static int signal_descendants_walk(int sig)
{
	return walk_descendants(WALK_SIGNAL_ALL, sig);
}

/* Sends sig to every descendant of volinit. As PID 1, kill(-1) is exactly
 * that; as a subreaper it would reach the whole host, so walk /proc. */
static void signal_descendants(int sig)
{
	if (getpid() == 1) {
		kill(-1, sig);
		return;
	}
	signal_descendants_walk(sig);
}

static struct timespec until(const struct timespec *deadline)
{
	struct timespec now, left = { 0, 0 };
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ns = (deadline->tv_sec - now.tv_sec) * 1000000000LL +
		       (deadline->tv_nsec - now.tv_nsec);
	if (ns > 0) {
		left.tv_sec = ns / 1000000000LL;
		left.tv_nsec = ns % 1000000000LL;
	}
	return left;
}

static int final_code(int status, const struct supervise_opts *o)
{
	int code = supervise_exit_code(status);
	if (code >= 0 && code < 256 && (o->remap[code / 8] & (1u << (code % 8))))
		return 0;
	return code;
}

/* PROGRAM has ended: give the other descendants `grace` seconds after a
 * SIGTERM, then SIGKILL, reaping all of them. */
static void drain(unsigned grace)
{
	int status;
	bool done, none_left;
	reap(0, &status, &done, &none_left); /* 0: no child is watched any more */
	if (none_left)
		return;
	log_info(NULL, "program exited; giving the other processes %u s to finish", grace);
	signal_descendants(SIGTERM);
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += grace;
	for (;;) {
		struct timespec left = until(&deadline);
		if (left.tv_sec == 0 && left.tv_nsec == 0)
			break;
		siginfo_t si;
		int sig = signals_wait(&si, &left);
		if (sig == SIGCHLD) {
			reap(0, &status, &done, &none_left);
			if (none_left)
				return;
		} else if (sig > 0 && !signals_self_sent(&si)) {
			signal_descendants(sig);
		}
	}
	log_warn(NULL, "processes still running after %u s of grace: killing them", grace);
	signal_descendants(SIGKILL);
	while (waitpid(-1, &status, 0) > 0 || errno == EINTR)
		;
}

/* Job control, when volinit is not PID 1 and runs in its terminal's session
 * (an interactive shell's job): returns the signal that stopped child
 * (SIGTSTP, SIGTTIN, SIGTTOU), or 0; an exit it sees is recorded as reap's. */
static int child_stopped(pid_t child, int *status, bool *done)
{
	int st;
	pid_t p;
	while ((p = waitpid(child, &st, WNOHANG | WUNTRACED)) < 0 && errno == EINTR)
		;
	if (p != child)
		return 0;
	if (!WIFSTOPPED(st)) {
		*status = st;
		*done = true;
		return 0;
	}
	int sig = WSTOPSIG(st);
	return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU ? sig : 0;
}

/* Stops volinit with the signal that stopped PROGRAM, so that the shell
 * waiting for volinit sees its job stopped and gives its prompt back (as
 * dumb-init does). The kernel's default action, not SIGSTOP: in a process
 * group that nobody could continue (orphaned) it does not stop volinit. */
static void stop_self(int sig)
{
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, sig);
	kill(getpid(), sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL); /* stops here until SIGCONT */
	sigprocmask(SIG_BLOCK, &one, NULL);
}

static bool is_tty_stop(int sig)
{
	return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* volinit itself got sig (SIGTSTP, SIGTTIN, SIGTTOU), not as PID 1: passed
 * on (with -g as SIGSTOP, which PROGRAM's group cannot catch), then volinit
 * stops (SIGSTOP, as dumb-init does), so that a program that catches
 * SIGTSTP never leaves the shell waiting for a job that does not stop.
 * Continued, it continues PROGRAM's group once, in the foreground after
 * `fg`. */
static void stop_with_child(pid_t child, bool group, int sig)
{
	forward(child, group, group ? SIGSTOP : sig);
	kill(getpid(), SIGSTOP); /* stops before kill returns; SIGCONT ends it */
	/* The SIGCONT that continued us is pending (blocked): it is this
	 * one's, not one to forward again. */
	sigset_t cont;
	sigemptyset(&cont);
	sigaddset(&cont, SIGCONT);
	struct timespec now = { 0, 0 };
	while (sigtimedwait(&cont, NULL, &now) < 0 && errno == EINTR)
		;
	spawn_foreground_again(child);
	forward(child, true, SIGCONT);
}

int supervise_run(pid_t child, const struct supervise_opts *o)
{
	int status = 0;
	bool done = false, none_left, stopped = false;
	/* PROGRAM has its own working directory now; volinit's would keep a
	 * volume (or any directory it was started in) busy. */
	if (chdir("/") != 0)
		log_warn(NULL, "cannot change directory to /: %s", strerror(errno));
	bool job_control = getpid() != 1 && isatty(STDIN_FILENO) &&
			   tcgetsid(STDIN_FILENO) == getsid(0);
	while (!done) {
		siginfo_t si;
		int sig = signals_wait(&si, NULL);
		if (sig == SIGCHLD) {
			int stop = job_control ? child_stopped(child, &status, &done) : 0;
			if (stop) {
				stopped = true;
				stop_self(stop);
			}
			reap(child, &status, &done, &none_left);
		} else if (sig == SIGCONT && stopped) {
			/* `fg` or `bg` continued volinit: continue PROGRAM's whole
			 * group, as the terminal stopped all of it, in the
			 * foreground only after `fg`. */
			stopped = false;
			spawn_foreground_again(child);
			forward(child, true, SIGCONT);
		} else if (is_tty_stop(sig) && getpid() != 1 && !signals_self_sent(&si)) {
			stop_with_child(child, o->group, sig);
		} else if (!signals_self_sent(&si)) {
			forward(child, o->group, sig);
		}
	}
	if (o->ended) {
		struct timespec at;
		clock_gettime(CLOCK_MONOTONIC, &at);
		o->ended(status, &at, o->ctx);
	}
	spawn_reclaim_terminal();
	if (o->grace > 0)
		drain(o->grace);
	return final_code(status, o);
}

/* Whether volinit has a child now (none: waitid says ECHILD). */
static bool has_children(void)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 || errno != ECHILD;
}

/* The sweep walks /proc rather than kill(-1) as PID 1 (a shell an
 * operator started with `docker exec` is not ours to kill, nor is what
 * volinit inherited), wherever /proc shows us: our PID namespace's, or an
 * outer one's (where it numbers us otherwise). */
static bool sweep_walks(void)
{
	return proc_self() > 0;
}

void supervise_hook_starting(void)
{
	before.n = 0;
	before.recorded = true;
	before.children = has_children();
	/* No child, no descendant (an orphan of theirs would be our child):
	 * nothing to walk for, the usual case of a container's PID 1. */
	before.known = sweep_walks() &&
		       (!before.children || walk_descendants(WALK_RECORD, 0) >= 0);
	if (!before.known)
		before.n = 0;
}

/* A hook has ended: SIGKILL what it left behind and reap it, so that
 * nothing of it runs during the next step, a restore or PROGRAM: its
 * process group (killed already) and every descendant of ours that has no
 * process volinit had before the hook on its way up to us (a setsid'd
 * daemon re-parented to us included). Processes volinit inherited before
 * it was exec'd (`sh -c 'logger & exec volinit ...'`), and what they start,
 * are not the hook's: never killed. Bounded: SIGKILL cannot be ignored,
 * and each process killed has a child of ours killed above it, whose end
 * wakes the wait. Returns whether it killed anything. */
static bool kill_leftovers(pid_t hook)
{
	bool killed = false;
	int status;
	if (!before.recorded) {
		/* Not told what was there before: none of it is spared. */
		before.known = sweep_walks();
		before.children = false;
		before.n = 0;
	}
	before.recorded = false;
	if (!before.known) {
		/* No /proc of ours to tell them apart. As PID 1 with no child
		 * before the hook, every other process here is the hook's; with
		 * children before, only its group (killed already) is surely
		 * its. Not PID 1: nothing more can be found. */
		if (getpid() != 1 || before.children) {
			if (getpid() == 1)
				log_warn(NULL, "no /proc of this PID namespace: of what the hook (pid "
					       "%d) left behind, only its process group was killed "
					       "(volinit cannot tell the rest from processes it "
					       "inherited)", (int)hook);
			while (waitpid(-1, &status, WNOHANG) > 0)
				;
			return false;
		}
	}
	for (;;) {
		int n = before.known ? walk_descendants(WALK_SIGNAL_NEW, SIGKILL)
				     : kill(-1, SIGKILL) == 0;
		killed = killed || n > 0;
		/* Nothing killed (or no /proc now): never wait for a live
		 * child, which may be one volinit inherited. */
		pid_t p = n > 0 ? waitpid(-1, &status, 0) : 0;
		if (p < 0 && errno == EINTR)
			continue;
		while ((p = waitpid(-1, &status, WNOHANG)) > 0)
			;
		if (n <= 0 || (p < 0 && errno == ECHILD))
			return killed;
	}
}

int supervise_io_init(struct supervise_io *io, int fd, bool (*ready)(void *ctx), void *ctx)
{
	sigset_t all;
	memset(&all, 0xff, sizeof(all)); /* as signals_wait: every signal */
	*io = (struct supervise_io){ .fd = fd, .ready = ready, .ctx = ctx };
	io->sigfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
	return io->sigfd < 0 ? -1 : 0;
}

void supervise_io_close(struct supervise_io *io)
{
	if (io->sigfd >= 0)
		close(io->sigfd);
	io->sigfd = -1;
}

/* The next event: a signal (its number; si gets its code and sender), 0
 * when left (NULL: none) has passed, or -1 when iofd (watched when >= 0)
 * is readable. Signals first. Without iofd: signals_wait. */
static int next_event(siginfo_t *si, const struct timespec *left, int sigfd, int iofd)
{
	if (iofd < 0)
		return signals_wait(si, left);
	struct pollfd p[2] = { { .fd = sigfd, .events = POLLIN }, { .fd = iofd, .events = POLLIN } };
	for (;;) {
		/* Every signal stays blocked: the signalfd reports them. */
		int r = ppoll(p, 2, left, NULL);
		if (r < 0 && errno == EINTR)
			continue; /* a stop/continue; wait again */
		if (r < 0)
			return signals_wait(si, left);
		if (r == 0)
			return 0;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo ssi;
			if (read(sigfd, &ssi, sizeof(ssi)) == (ssize_t)sizeof(ssi)) {
				memset(si, 0, sizeof(*si));
				si->si_signo = (int)ssi.ssi_signo;
				si->si_code = ssi.ssi_code;
				si->si_pid = (pid_t)ssi.ssi_pid;
				si->si_uid = (uid_t)ssi.ssi_uid;
				return (int)ssi.ssi_signo;
			}
		}
		if (p[1].revents)
			return -1;
	}
}

int supervise_wait_hook(pid_t hook, int *stop)
{
	return supervise_wait_hook_for(hook, 0, NULL, stop, NULL);
}

int supervise_wait_hook_for(pid_t hook, unsigned timeout, const struct supervise_io *io,
			    int *stop, bool *timed_out)
{
	int status = 0;
	bool done = false, none_left;
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout;
	*stop = 0;
	if (timed_out)
		*timed_out = false;
	int iofd = io && io->sigfd >= 0 ? io->fd : -1;
	while (!done) {
		siginfo_t si;
		struct timespec left = until(&deadline);
		bool out_of_time = timeout && left.tv_sec == 0 && left.tv_nsec == 0;
		int sig = out_of_time ? 0 : next_event(&si, timeout ? &left : NULL,
						       io ? io->sigfd : -1, iofd);
		if (sig < 0) {
			/* Its output, as it comes: read a bounded amount, then
			 * look at signals and the time again. */
			if (!io->ready(io->ctx))
				iofd = -1; /* end of file */
			continue;
		}
		if (sig == 0) {
			/* Out of time: the hook and its group now; what else it
			 * left, with the rest below, once it is reaped. */
			if (timed_out)
				*timed_out = true;
			kill(-hook, SIGKILL);
			kill(hook, SIGKILL);
			while (waitpid(hook, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		if (sig == SIGCHLD) {
			/* Look before reaping: while the hook is a zombie its pid,
			 * its process group's id, cannot be reused, so killing the
			 * group reaches only what the hook left in it. */
			siginfo_t hi;
			memset(&hi, 0, sizeof(hi));
			if (waitid(P_PID, (id_t)hook, &hi, WEXITED | WNOHANG | WNOWAIT) == 0 &&
			    hi.si_pid == hook) {
				kill(-hook, SIGKILL);
				while (waitpid(hook, &status, 0) < 0 && errno == EINTR)
					;
				done = true;
			} else {
				reap(hook, &status, &done, &none_left);
			}
			continue;
		}
		if (signals_self_sent(&si))
			continue;
		if (signals_is_stop(sig) && !*stop)
			*stop = sig;
		forward(hook, false, sig);
	}
	spawn_reclaim_terminal();
	if (kill_leftovers(hook))
		log_warn(NULL, "the hook (pid %d) left processes behind: killed them", (int)hook);
	return status;
}

int supervise_hold(int code)
{
	log_msg(LOG_NOTICE, NULL, code,
		"holding (on_refuse = hold): staying up idle so that an operator can exec in; "
		"stop the container to exit with code %d", code);
	for (;;) {
		siginfo_t si;
		int sig = signals_wait(&si, NULL);
		bool done, none_left;
		int status;
		if (sig == SIGCHLD)
			reap(0, &status, &done, &none_left);
		else if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
			return code;
	}
}
