/* fail.c — failure classes and their exit codes (include/fail.h). */
#include <stdarg.h>
#include <stdio.h>
#include <sysexits.h>

#include "fail.h"

static const struct {
	int		 exit;
	const char	*name;
	int		 rank;		/* fail_worse: higher wins */
} classes[FAIL_COUNT] = {
	[FAIL_NONE]	= { 0,		"ok",				0 },
	[FAIL_AGAIN]	= { EX_TEMPFAIL,	"retry now",		1 },
	[FAIL_LATER]	= { EX_UNAVAILABLE,	"retry later",		2 },
	[FAIL_OUTPUT]	= { EX_CANTCREAT,	"cannot create output",	3 },
	[FAIL_IO]	= { EX_IOERR,		"I/O error",		4 },
	[FAIL_DATA]	= { EX_DATAERR,		"bad data",		5 },
	[FAIL_CONFIG]	= { EX_CONFIG,		"not until the config changes", 6 },
	[FAIL_USAGE]	= { EX_USAGE,		"usage",		7 },
	[FAIL_DENIED]	= { EX_NOPERM,		"declined",		1 },
};

int
fail_exit(enum fail cls)
{
	return (unsigned)cls < FAIL_COUNT ? classes[cls].exit : EX_SOFTWARE;
}

const char *
fail_name(enum fail cls)
{
	return (unsigned)cls < FAIL_COUNT ? classes[cls].name : "unknown";
}

enum fail
fail_set(struct failure *f, enum fail cls, const char *fmt, ...)
{
	va_list ap;

	if (f == NULL)
		return cls;
	f->cls = cls;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	return cls;
}

enum fail
fail_worse(enum fail a, enum fail b)
{
	if ((unsigned)a >= FAIL_COUNT)
		return a;
	if ((unsigned)b >= FAIL_COUNT)
		return b;
	return classes[a].rank >= classes[b].rank ? a : b;
}
