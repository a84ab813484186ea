/*
 * fileinit before|after DIR [--] PROGRAM [ARG...]: miniinit plus one small
 * file created in DIR (like volinit's holders file) and removed when PROGRAM
 * has exited.  "before": the file is written before the fork, on the path to
 * PROGRAM's start; "after": right after the fork, while the child execs.
 * Measures what such a file costs a start, and what moving it off the start
 * path saves, on DIR's file system.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void note(int dir)
{
	static const char text[] = "host=h pid=1 since=2026-01-01T00:00:00Z image=\n";
	int f = openat(dir, "holder-1", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f < 0 || write(f, text, sizeof text - 1) != (ssize_t)(sizeof text - 1))
		_exit(71);
	close(f);
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 64;
	int before = !strcmp(argv[1], "before");
	int dir = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return 66;
	int i = 3;
	if (!strcmp(argv[i], "--"))
		i++;
	if (i >= argc)
		return 64;
	if (before)
		note(dir);
	pid_t pid = fork();
	if (pid < 0)
		return 70;
	if (pid == 0) {
		execvp(argv[i], &argv[i]);
		_exit(127);
	}
	if (!before)
		note(dir);
	for (;;) {
		int st;
		pid_t w = wait(&st);
		if (w < 0)
			return 70;
		if (w == pid) {
			unlinkat(dir, "holder-1", 0);
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
	}
}
