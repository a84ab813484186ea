/*
 * sigchild FIFO: the program an init supervises in the RSS, idle and signal
 * benchmarks.  It opens FIFO for writing, says "ready" (an int64 0), then
 * sleeps in pause().  Each SIGUSR1 is answered, from inside the handler, with
 * the CLOCK_MONOTONIC time (int64 ns) at which the handler started.  Any other
 * signal keeps its default action (SIGTERM ends it).
 */
#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

static int out = -1;

static void on_usr1(int sig)
{
	(void)sig;
	int saved = errno;
	int64_t t = now_ns();
	if (write(out, &t, sizeof t) != sizeof t)
		_exit(2);
	errno = saved;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: sigchild FIFO\n");
		return 64;
	}
	out = open(argv[1], O_WRONLY | O_CLOEXEC);
	if (out < 0)
		die(argv[1]);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		die("sigaction");
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGTERM);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	int64_t ready = 0;
	if (write(out, &ready, sizeof ready) != sizeof ready)
		die("write");
	for (;;)
		pause();
}
