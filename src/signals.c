/* signals: blocking, waiting, and restoring for exec (see signals.h).
 *
 * The mask is set with the raw system call: glibc's sigprocmask leaves its
 * two internal signals (32 and 33) unblocked, and either, sent from
 * outside, would kill volinit or never reach PROGRAM. volinit is one thread
 * and never needs them. SIGSEGV and the kernel's other fault signals are
 * blocked too: a real fault of volinit's own still kills it (the kernel
 * unblocks a fault signal it must deliver), while one sent with kill(2) is
 * forwarded like any other. */
#include "signals.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t original_mask; /* the kernel's mask word, all 64 signals */
/* Signals taken before a hook ran that are PROGRAM's, in arrival order. */
static int held[64];
static size_t nheld;
static pid_t self; /* getpid() once: it is asked on every forwarded signal */
static bool sigchld_was_ignored;

static void set_mask(const uint64_t *mask, uint64_t *old)
{
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, mask, old, sizeof(*mask));
}

/* Every signal, glibc's internal ones included (sigfillset leaves them out). */
static void fill_all(sigset_t *set)
{
	memset(set, 0xff, sizeof(*set));
}

void signals_block_all(void)
{
	uint64_t all = ~(uint64_t)0; /* the kernel leaves out KILL and STOP */
	set_mask(&all, &original_mask);
	self = getpid();

	/* An ignored SIGCHLD would make the kernel reap children behind our
	 * back; volinit needs their status. The child gets SIG_IGN back. */
	struct sigaction sa;
	if (sigaction(SIGCHLD, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) {
		sigchld_was_ignored = true;
		sa.sa_handler = SIG_DFL;
		sigaction(SIGCHLD, &sa, NULL);
	}
}

void signals_restore_for_exec(void)
{
	if (sigchld_was_ignored) {
		struct sigaction sa = { .sa_handler = SIG_IGN };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGCHLD, &sa, NULL);
	}
	set_mask(&original_mask, NULL);
}

int signals_wait(siginfo_t *si, const struct timespec *timeout)
{
	sigset_t all;
	fill_all(&all);
	for (;;) {
		int sig = timeout ? sigtimedwait(&all, si, timeout) : sigwaitinfo(&all, si);
		if (sig > 0)
			return sig;
		if (errno == EAGAIN)
			return 0;
		/* EINTR: a stop/continue; wait again. */
	}
}

bool signals_self_sent(const siginfo_t *si)
{
	return si->si_code == SI_USER && si->si_pid == self;
}

bool signals_is_stop(int sig)
{
	return sig == SIGTERM || sig == SIGINT || sig == SIGQUIT;
}

static void stop_set(sigset_t *stop)
{
	sigemptyset(stop);
	sigaddset(stop, SIGTERM);
	sigaddset(stop, SIGINT);
	sigaddset(stop, SIGQUIT);
}

int signals_take_stop(void)
{
	struct timespec now = { 0, 0 };
	return signals_wait_stop(&now);
}

int signals_wait_stop(const struct timespec *timeout)
{
	sigset_t stop;
	stop_set(&stop);
	siginfo_t si;
	for (;;) {
		int sig = sigtimedwait(&stop, &si, timeout);
		if (sig > 0)
			return sig;
		if (errno == EAGAIN)
			return 0;
		/* EINTR: a stop/continue; the rest of the pause is not worth
		 * keeping exact. */
	}
}

void signals_hold_pending(void)
{
	sigset_t set;
	fill_all(&set);
	sigdelset(&set, SIGTERM);
	sigdelset(&set, SIGINT);
	sigdelset(&set, SIGQUIT);
	sigdelset(&set, SIGCHLD);
	struct timespec now = { 0, 0 };
	siginfo_t si;
	int sig;
	while ((sig = sigtimedwait(&set, &si, &now)) > 0) {
		if (signals_self_sent(&si))
			continue;
		/* A standard signal is pending once, as the kernel keeps it;
		 * real-time ones queue, up to our bound. */
		bool seen = false;
		for (size_t i = 0; i < nheld && sig < SIGRTMIN; i++)
			seen = seen || held[i] == sig;
		if (!seen && nheld < sizeof(held) / sizeof(held[0]))
			held[nheld++] = sig;
	}
}

void signals_forward_held(pid_t target, bool group)
{
	for (size_t i = 0; i < nheld; i++)
		kill(group ? -target : target, held[i]);
	nheld = 0;
}
