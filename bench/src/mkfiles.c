/* mkfiles DIR N: create N empty files f0 .. f(N-1) in DIR (for the 100,000-file volume). */
#include "common.h"

#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3)
		return 64;
	int dir = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (dir < 0)
		die(argv[1]);
	long n = strtol(argv[2], NULL, 10);
	char name[32];
	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof name, "f%ld", i);
		int fd = openat(dir, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			die(name);
		close(fd);
	}
	return 0;
}
