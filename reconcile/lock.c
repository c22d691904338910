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
#include <time.h>
#include <unistd.h>

#include "run.h"

/* This process holds the run lock: record locks never conflict within a process, so
 * F_GETLK cannot name us. */
static int held_here;

/* The pid that holds the run lock behind fd (whose flock just failed): the kernel's answer
 * for the holder's record lock, 0 while there is none (the holder is between its flock and
 * its record lock, or has just let go). */
static long
holder_pid(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (held_here)
		return (long)getpid();
	if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
		return 0;
	return (long)fl.l_pid;
}

/* The pid written in the lock file, 0 when none. */
static long
file_pid(int fd)
{
	char buf[32], *end;
	ssize_t n;
	long pid;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	pid = strtol(buf, &end, 10);
	return end != buf && *end == '\n' && pid > 0 ? pid : 0;
}

/* Takes the flock, or names its holder in *pid (0: not known). 0 taken, -1 held. The
 * holder's record lock follows its flock by microseconds: ask again until it shows; a
 * holder that never shows one (a flock alone, as older versions took it) is named by the
 * file. */
static int
take(int fd, long *pid)
{
	const struct timespec ms = { 0, 1000000 };
	int i;

	*pid = 0;
	for (i = 0; i < 200; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if ((*pid = holder_pid(fd)) > 0)
			return -1;
		nanosleep(&ms, NULL);
	}
	*pid = file_pid(fd);
	return -1;
}

/* run_lock, or with wait set run_lock_wait. */
static int
lock(const char *dbdir, int wait, struct failure *f)
{
	char *path = xasprintf("%s/peoplesync.lock", dbdir);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char buf[32];
	long pid;
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fail_set(f, FAIL_IO, "%s: cannot open lock file: %s", path, strerror(errno));
		goto out;
	}
	if (wait && flock(fd, LOCK_EX) < 0) {
		fail_set(f, FAIL_IO, "%s: %s", path, strerror(errno));
		close(fd);
		fd = -1;
		goto out;
	}
	if (!wait && take(fd, &pid) < 0) {
		snprintf(buf, sizeof(buf), "%ld", pid);
		fail_set(f, FAIL_AGAIN, "another run (pid %s) holds %s; try again when it has "
		    "finished", pid > 0 ? buf : "unknown", path);
		close(fd);
		fd = -1;
		goto out;
	}
	/* the record lock is what tells others our pid (F_GETLK); the flock excludes */
	if (fcntl(fd, F_SETLK, &fl) < 0)
		log_debug("%s: record lock: %s", path, strerror(errno));
	held_here = 1;
	/* for people reading the file */
	if (ftruncate(fd, 0) == 0) {
		n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
		if (pwrite(fd, buf, (size_t)n, 0) < 0)
			log_debug("%s: %s", path, strerror(errno));
	}
out:
	free(path);
	return fd;
}

int
run_lock(const char *dbdir, struct failure *f)
{
	return lock(dbdir, 0, f);
}

int
run_lock_wait(const char *dbdir, struct failure *f)
{
	return lock(dbdir, 1, f);
}

void
run_unlock(int fd)
{
	if (fd < 0)
		return;
	held_here = 0;
	close(fd);		/* releases the flock and the record lock */
}
