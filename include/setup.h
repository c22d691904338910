/*
 * setup.h — what `peoplesync init` does: a commented config, key and secret files, the
 * database and spool directories, never replacing anything; then what is left to do.
 */
#ifndef PS_SETUP_H
#define PS_SETUP_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

struct setup_opts {
	struct draft_opts	 draft;		/* platforms, directories, public_url */
	char *const		*sets;		/* --set KEY=VALUE */
	size_t			 nsets;
	const char		*cfg_path;	/* draft.dir + "/peoplesync.cfg" */
	const char		*cfg_arg;	/* " -c PATH" for the commands printed, or "" */
};

/*
 * Creates draft.dir (0755), the config (0640, group peoplesync), link_key_file (and
 * token_key_file when a --set names one: 32 bytes from the CSPRNG, 0600), the secret files the
 * config names (empty, 0600, for the admin to fill), the database (0700) and spool (0770)
 * directories. Run as root, keys, secrets and directories belong to the user and group
 * peoplesync when they exist (else root, and out says so). An existing file or directory is
 * kept as it is, never modified. Prints one line per path ("created PATH (...)", "kept PATH
 * (exists)") and then one line per thing left to do, in order. Returns 0 when everything
 * exists afterwards, EX_USAGE when a --set is refused (nothing created), EX_CANTCREAT when
 * something could not be created (named on stderr; the rest is still done).
 */
int	setup_run(const struct setup_opts *o, FILE *out);

#endif
