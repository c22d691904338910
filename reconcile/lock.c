/*
 * lock.c — the run lock (include/run.h): one writer at a time, across processes, for runs
 * and the commands that change people or prompts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "run.h"

int
run_lock(const char *dbdir, struct failure *f)
{
	char *path = xasprintf("%s/peoplesync.lock", dbdir);
	char pid[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fail_set(f, FAIL_IO, "%s: cannot open lock file: %s", path, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fail_set(f, FAIL_AGAIN, "another run (pid %s) holds %s; try again when it has "
		    "finished", pid[0] ? pid : "unknown", path);
		close(fd);
		fd = -1;
		goto out;
	}
	if (ftruncate(fd, 0) == 0) {
		n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if (pwrite(fd, pid, (size_t)n, 0) < 0)
			log_debug("%s: %s", path, strerror(errno));
	}
out:
	free(path);
	return fd;
}

void
run_unlock(int fd)
{
	if (fd >= 0)
		close(fd);		/* releases the flock */
}
