/*
 * miniinit [--] PROGRAM [ARG...]: the floor for an init linked statically
 * with glibc.  fork, exec, reap until PROGRAM exits, exit with its status.
 * No signal forwarding, no options: only what every init must do at start.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int i = 1;
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc)
		return 64;
	pid_t pid = fork();
	if (pid < 0)
		return 70;
	if (pid == 0) {
		execvp(argv[i], &argv[i]);
		_exit(127);
	}
	for (;;) {
		int st;
		pid_t w = wait(&st);
		if (w < 0)
			return 70;
		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
}
