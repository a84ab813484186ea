/*
 * miniinit [--] PROGRAM [ARG...]: the floor for an init linked statically
 * with glibc.  fork, exec, reap until PROGRAM exits, exit with its status.
 * No signal forwarding, no options: only what every init must do at start.
 * Built with -DMINIINIT_VFORK it starts PROGRAM with vfork instead (no page
 * tables copied, no copy-on-write faults), as volinit's spawn.c does.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Its own function: nothing of main's is live across vfork. */
static pid_t start(char **prog)
{
#ifdef MINIINIT_VFORK
	pid_t pid = vfork();
#else
	pid_t pid = fork();
#endif
	if (pid == 0) {
		execvp(prog[0], prog);
		_exit(127);
	}
	return pid;
}

int main(int argc, char **argv)
{
	int i = 1;
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc)
		return 64;
	pid_t pid = start(&argv[i]);
	if (pid < 0)
		return 70;
	for (;;) {
		int st;
		pid_t w = wait(&st);
		if (w < 0)
			return 70;
		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
}
