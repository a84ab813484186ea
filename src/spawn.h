/* spawn: start PROGRAM or a hook as a child, and tell exactly why it could
 * not start (126 not executable, 127 not found, 77 privileges). */
#ifndef VOLINIT_SPAWN_H
#define VOLINIT_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Runs in the child just before exec; returns 0, or an exit code with a
 * one-line reason in msg. */
typedef int (*spawn_prepare_fn)(void *ctx, char *msg, size_t len);

struct spawn {
	char *const *argv;
	char *const *envp;     /* NULL: volinit's environment */
	int cwd_fd;            /* directory to run in, or -1 */
	bool exact_path;       /* execve argv[0] as it is: no PATH search, and no
				  falling back to /bin/sh for a file without #! */
	spawn_prepare_fn prepare;
	void *ctx;
};

/* Starts the child in its own process group, in the terminal's foreground
 * when stdin is a terminal whose foreground is volinit's own group.
 * Returns 0 with *pid set, or the exit code after
 * one FATAL line (the failed child is reaped). */
int spawn_start(const struct spawn *s, pid_t *pid);

/* Gives the terminal back to volinit's own process group, if it gave it
 * away and the child's group still has it. */
void spawn_reclaim_terminal(void);

/* After volinit was continued: gives the terminal to the group of child
 * (a group leader spawn_start made) if volinit's own group has it now. */
void spawn_foreground_again(pid_t child);

#endif
