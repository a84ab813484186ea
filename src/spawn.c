/* spawn: start a child that shares volinit's memory until it execs
 * (clone with CLONE_VM|CLONE_VFORK, as posix_spawn does), prepare it, exec,
 * and report a failure in that shared memory (see spawn.h).
 *
 * Sharing memory instead of forking copies no page tables and takes no
 * copy-on-write faults: about 60 us less per start on this machine (see
 * BENCHMARKS.md). volinit is suspended until the child has exec'd or
 * exited, so the child may call ordinary functions (the privilege switch,
 * snprintf) on its own stack; it never returns into volinit's frames. */
#include "spawn.h"
#include "log.h"
#include "signals.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __has_feature
#define __has_feature(x) 0 /* gcc: it says __SANITIZE_ADDRESS__ instead */
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
/* The child's frames poison parts of its stack and never return to clear
 * them (it execs or exits): clear them before this frame is reused. */
#define child_stack_done(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define child_stack_done(p, n) ((void)(p), (void)(n))
#endif

extern char **environ;

struct failure {
	int code;
	char msg[300];
};

/* What the child reads and writes; it lives in volinit's frame. */
struct child_args {
	const struct spawn *s;
	struct failure f; /* code 0: exec succeeded */
	bool tty;         /* the child took the terminal */
};

/* The child's stack. execvpe needs room for a copy of argv when it falls
 * back to /bin/sh; the privilege switch and snprintf need a few KiB. */
enum { CHILD_STACK = 64 * 1024 };

static bool gave_terminal;
static pid_t terminal_pgrp; /* the group volinit gave the terminal to */

static int child(void *arg)
{
	struct child_args *a = arg;
	const struct spawn *s = a->s;
	struct failure *f = &a->f;

	/* Own process group: -g can signal it as a whole, and a terminal's
	 * keyboard signals reach it, as a shell would arrange. The terminal
	 * only when volinit's group is its foreground: SIGTTOU is blocked
	 * here, so tcsetpgrp would succeed from a background job too and take
	 * the terminal from the shell (`volinit -- prog &`). */
	bool fg = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
	setpgid(0, 0);
	if (fg && tcsetpgrp(STDIN_FILENO, getpgrp()) == 0)
		a->tty = true;

	if (s->cwd_fd >= 0 && fchdir(s->cwd_fd) != 0) {
		f->code = 73;
		snprintf(f->msg, sizeof(f->msg), "cannot enter the volume: %s", strerror(errno));
		goto out;
	}
	if (s->prepare) {
		f->code = s->prepare(s->ctx, f->msg, sizeof(f->msg));
		if (f->code)
			goto out;
	}
	signals_restore_for_exec();
	if (s->exact_path)
		execve(s->argv[0], s->argv, s->envp ? s->envp : environ);
	else
		execvpe(s->argv[0], s->argv, s->envp ? s->envp : environ);
	int err = errno;
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	f->code = (err == ENOENT || err == ENOTDIR) ? 127 : 126;
	snprintf(f->msg, sizeof(f->msg), "cannot run \"%s\": %s", s->argv[0], strerror(err));
out:
	_exit(f->code);
}

int spawn_start(const struct spawn *s, pid_t *pid)
{
	size_t argc = 0;
	while (s->argv[argc])
		argc++;
	/* A stack in this frame costs nothing; a huge argv gets one on the heap. */
	_Alignas(16) char local[CHILD_STACK];
	size_t need = CHILD_STACK / 2 + (argc + 3) * sizeof(char *);
	char *stack = need <= sizeof(local) ? local : malloc(need);
	if (!stack) {
		log_fatal(70, NULL, "cannot start a process: out of memory");
		return 70;
	}
	size_t size = stack == local ? sizeof(local) : need;
	struct child_args a = { .s = s };

	/* Returns once the child has exec'd or exited. */
	pid_t p = clone(child, stack + (size & ~(size_t)15), CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	int err = errno;
	child_stack_done(stack, size);
	if (stack != local)
		free(stack);
	if (p < 0) {
		log_fatal(70, NULL, "cannot start a process: %s", strerror(err));
		return 70;
	}
	/* The child has made its process group, and taken the terminal,
	 * already: clone returns only after its exec (or its exit). */
	gave_terminal = a.tty;
	terminal_pgrp = p;

	if (a.f.code == 0) {
		*pid = p;
		return 0;
	}
	int status;
	while (waitpid(p, &status, 0) < 0 && errno == EINTR)
		;
	spawn_reclaim_terminal();
	a.f.msg[sizeof(a.f.msg) - 1] = '\0';
	log_fatal(a.f.code, NULL, "%s", a.f.msg);
	return a.f.code;
}

void spawn_reclaim_terminal(void)
{
	/* Only while the child's group still has it: after a `bg` the shell
	 * has taken it back, and volinit must not take it from the shell. */
	if (gave_terminal && isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == terminal_pgrp)
		tcsetpgrp(STDIN_FILENO, getpgrp());
	gave_terminal = false;
}

void spawn_foreground_again(pid_t child)
{
	/* The shell's `fg` gave volinit's group the terminal; pass it on to
	 * the child's group, which reads it. After `bg` it stays where it is. */
	if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp() &&
	    tcsetpgrp(STDIN_FILENO, child) == 0) {
		gave_terminal = true;
		terminal_pgrp = child;
	}
}
