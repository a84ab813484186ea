/* supervise: volinit as PID 1 (or subreaper): forward signals, reap every
 * child, and exit with PROGRAM's status. From here on volinit never dies by
 * its own error: it can only report and go on. */
#ifndef VOLINIT_SUPERVISE_H
#define VOLINIT_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct supervise_opts {
	bool group;            /* -g: signal PROGRAM's whole process group */
	unsigned grace;        /* seconds for other descendants after PROGRAM */
	uint8_t remap[32];     /* -e: bit N set: exit code N becomes 0 */
	/* When not NULL, called once PROGRAM is reaped, before any grace
	 * (which a container's stop timeout may cut short): its own wait
	 * status (before -e) and the CLOCK_MONOTONIC time it was reaped. */
	void (*ended)(int status, const struct timespec *at, void *ctx);
	void *ctx;
};

/* Becomes a child subreaper when asked or when not PID 1, so that orphans
 * are ours to reap. */
void supervise_become_reaper(bool force);

/* Supervises child until it exits; returns the exit code for volinit. */
int supervise_run(pid_t child, const struct supervise_opts *o);

/* Before a hook is spawned: records the processes volinit has now (every
 * descendant, by pid and start time), which the sweep after the hook
 * leaves alone with everything below them. */
void supervise_hook_starting(void);

/* Waits for a hook: forwards signals to it,
 * reaps others. Once it has ended, kills (SIGKILL) and reaps whatever it
 * left behind: its process group, and every other descendant of volinit
 * with no process of supervise_hook_starting's record above it (without
 * that record: every other descendant). Processes volinit inherited are
 * never killed. Returns its wait status; *stop is the first stop signal
 * (TERM, INT, QUIT) received meanwhile, or 0. */
int supervise_wait_hook(pid_t hook, int *stop);

/* A pipe the hook writes to, read as it comes while it runs. */
struct supervise_io {
	int fd;    /* the read end, non-blocking */
	int sigfd; /* signals, while fd is watched too */
	/* fd is readable: reads a bounded amount of it; false at its end. */
	bool (*ready)(void *ctx);
	void *ctx;
};

/* Prepares io for fd: 0, or -1 with errno (no signalfd). */
int supervise_io_init(struct supervise_io *io, int fd, bool (*ready)(void *ctx), void *ctx);
void supervise_io_close(struct supervise_io *io);

/* The same, bounded: after timeout seconds (0: none) the hook and its
 * process group are killed (SIGKILL), and *timed_out set. io (or NULL):
 * read whenever it is readable, until its end of file. */
int supervise_wait_hook_for(pid_t hook, unsigned timeout, const struct supervise_io *io,
			    int *stop, bool *timed_out);

/* on_refuse = hold: stays up, idle, reaping, until SIGTERM or SIGINT;
 * then returns code. */
int supervise_hold(int code);

/* 128+N for a death by signal N, else the exit status. */
int supervise_exit_code(int status);

#endif
