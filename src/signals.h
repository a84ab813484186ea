/* signals: volinit takes every signal synchronously. All are blocked at
 * start-up; children get back exactly the mask and dispositions volinit was
 * started with. */
#ifndef VOLINIT_SIGNALS_H
#define VOLINIT_SIGNALS_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

/* Call first in main. */
void signals_block_all(void);

/* In a child before exec: the original mask and SIGCHLD disposition. */
void signals_restore_for_exec(void);

/* Waits for the next signal. timeout NULL: sleeps until one comes.
 * Returns the signal number, or 0 when the timeout passed. */
int signals_wait(siginfo_t *si, const struct timespec *timeout);

/* True when a signal was sent by volinit to itself (a SIGPIPE from a write
 * to a closed stderr, say): those are not forwarded. */
bool signals_self_sent(const siginfo_t *si);

/* The stop signals of the start phases: TERM, INT, and QUIT (some images'
 * STOPSIGNAL). One of them stops a start; any other signal that arrives
 * before PROGRAM runs is left pending, and PROGRAM gets it once it runs. */
bool signals_is_stop(int sig);

/* Takes a pending stop signal, if any: returns it, or 0. */
int signals_take_stop(void);

/* Sleeps until a stop signal comes (returns it) or timeout passes (0),
 * leaving every other signal pending. */
int signals_wait_stop(const struct timespec *timeout);

/* Before a hook starts: takes every pending signal but the stop signals
 * and SIGCHLD, which arrived before it and are PROGRAM's, not the hook's,
 * and keeps them for signals_forward_held. */
void signals_hold_pending(void);

/* Once PROGRAM runs: sends it (its group with -g) the signals held. */
void signals_forward_held(pid_t target, bool group);

#endif
