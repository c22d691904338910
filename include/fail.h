/*
 * fail.h — failure classes (after isync's driver results): not "-1 and some text", but what
 * the caller can do about it. The engine and the drivers return a class with their message;
 * the front end maps the class to a sysexits code in one place (fail_exit), never the text.
 */
#ifndef PS_FAIL_H
#define PS_FAIL_H

#include <stddef.h>

enum fail {
	FAIL_NONE = 0,
	FAIL_AGAIN,	/* retry now: something local and brief holds it (the run lock)   -> 75 */
	FAIL_LATER,	/* retry later: a platform or the network is unavailable          -> 69 */
	FAIL_CONFIG,	/* not until the config (or the binary) changes: credentials,
			   settings, a database schema newer than this binary             -> 78 */
	FAIL_DATA,	/* bad data: malformed input, a refused pull, a damaged database  -> 65 */
	FAIL_IO,	/* local I/O: the store, a file we read or write                   -> 74 */
	FAIL_OUTPUT,	/* cannot create an output file                                     -> 73 */
	FAIL_USAGE,	/* the command line                                                 -> 64 */
	FAIL_DENIED,	/* a person declined what was asked (a device sign-in)            -> 77 */
	FAIL_COUNT
};

/* An error that names its culprit once, with its class. msg is "" when cls is FAIL_NONE. */
struct failure {
	enum fail	cls;
	char		msg[1024];
};

/* The sysexits code of a class (0 for FAIL_NONE). */
int		 fail_exit(enum fail cls);
/* "retry later", ... for logs and tests. */
const char	*fail_name(enum fail cls);
/* Sets f (if not NULL) to cls and the formatted message; returns cls, so that
 * `return fail_set(f, FAIL_IO, "%s: %s", path, strerror(errno));` reads as one step. */
enum fail	 fail_set(struct failure *f, enum fail cls, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* The worse of two classes, for a run that collects several: the one with the higher exit
 * precedence (config > data > I/O > output > later > again > none; usage never mixes). */
enum fail	 fail_worse(enum fail a, enum fail b);

#endif
