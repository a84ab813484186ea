/*
 * The size floor for volinit's dependencies: a static program that calls
 * inih, libcap's IAB functions, fgetpwent and signalfd, built like
 * volinit-static (-Os, sections, --gc-sections, stripped).  Never run.
 */
#include <ini.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <sys/capability.h>
#include <sys/signalfd.h>

static int handler(void *u, const char *s, const char *k, const char *v)
{
	(void)u;
	return s[0] + k[0] + v[0] != 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 0;
	int r = ini_parse(argv[1], handler, NULL);
	cap_iab_t iab = cap_iab_from_text(argv[0]);
	if (iab) {
		char *t = cap_iab_to_text(iab);
		if (t)
			puts(t);
		cap_iab_set_proc(iab);
		cap_free(iab);
	}
	FILE *f = fopen("/etc/passwd", "r");
	struct passwd *pw;
	while (f && (pw = fgetpwent(f)))
		r += (int)pw->pw_uid;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	return signalfd(-1, &s, 0) + r;
}
