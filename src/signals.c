/* signals: blocking, waiting, and restoring for exec (see signals.h). */
#include "signals.h"

#include <errno.h>
#include <unistd.h>

static sigset_t original_mask;
static pid_t self; /* getpid() once: it is asked on every forwarded signal */
static bool sigchld_was_ignored;

/* Raised by the kernel for a fault of this very thread: they must stay
 * deliverable, or a crash would spin instead of dumping. */
static const int synchronous[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS };

static void fill_blockable(sigset_t *set)
{
	sigfillset(set);
	for (size_t i = 0; i < sizeof(synchronous) / sizeof(synchronous[0]); i++)
		sigdelset(set, synchronous[i]);
}

void signals_block_all(void)
{
	sigset_t all;
	fill_blockable(&all);
	sigprocmask(SIG_SETMASK, &all, &original_mask);
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
	sigprocmask(SIG_SETMASK, &original_mask, NULL);
}

int signals_wait(siginfo_t *si, const struct timespec *timeout)
{
	sigset_t all;
	fill_blockable(&all);
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

int signals_take_stop(void)
{
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	siginfo_t si;
	struct timespec now = { 0, 0 };
	int sig = sigtimedwait(&stop, &si, &now);
	return sig > 0 ? sig : 0;
}
