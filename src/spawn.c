/* spawn: fork, prepare, exec, and report a failure through a pipe that
 * exec closes (see spawn.h). */
#include "spawn.h"
#include "log.h"
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct failure {
	int code;
	char msg[300];
};

static bool gave_terminal;

static void write_failure(int fd, const struct failure *f)
{
	ssize_t n;
	do
		n = write(fd, f, sizeof(*f));
	while (n < 0 && errno == EINTR);
}

static void child(const struct spawn *s, int report_fd)
{
	struct failure f = { 0 };

	/* Own process group: -g can signal it as a whole, and a terminal's
	 * keyboard signals reach it, as a shell would arrange. SIGTTOU is
	 * still blocked here, so tcsetpgrp from the background works. */
	setpgid(0, 0);
	if (isatty(STDIN_FILENO))
		tcsetpgrp(STDIN_FILENO, getpgrp());

	if (s->cwd_fd >= 0 && fchdir(s->cwd_fd) != 0) {
		f.code = 73;
		snprintf(f.msg, sizeof(f.msg), "cannot enter the volume: %s", strerror(errno));
		goto out;
	}
	if (s->prepare) {
		f.code = s->prepare(s->ctx, f.msg, sizeof(f.msg));
		if (f.code)
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
	f.code = (err == ENOENT || err == ENOTDIR) ? 127 : 126;
	snprintf(f.msg, sizeof(f.msg), "cannot run \"%s\": %s", s->argv[0], strerror(err));
out:
	write_failure(report_fd, &f);
	_exit(f.code);
}

int spawn_start(const struct spawn *s, pid_t *pid)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		log_fatal(70, NULL, "cannot create a pipe: %s", strerror(errno));
		return 70;
	}
	pid_t p = fork();
	if (p < 0) {
		log_fatal(70, NULL, "cannot fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return 70;
	}
	if (p == 0) {
		close(pipefd[0]);
		child(s, pipefd[1]);
	}
	close(pipefd[1]);
	/* Also set here: whichever runs first, the group exists before we
	 * signal it. EACCES after the child's exec is harmless. */
	setpgid(p, p);
	if (isatty(STDIN_FILENO))
		gave_terminal = true;

	struct failure f;
	ssize_t n;
	do
		n = read(pipefd[0], &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n != (ssize_t)sizeof(f)) {
		*pid = p; /* exec succeeded: the pipe closed empty */
		return 0;
	}
	int status;
	while (waitpid(p, &status, 0) < 0 && errno == EINTR)
		;
	spawn_reclaim_terminal();
	f.msg[sizeof(f.msg) - 1] = '\0';
	log_fatal(f.code, NULL, "%s", f.msg);
	return f.code;
}

void spawn_reclaim_terminal(void)
{
	if (gave_terminal && isatty(STDIN_FILENO))
		tcsetpgrp(STDIN_FILENO, getpgrp());
	gave_terminal = false;
}
