/*
 * appsetup.h — what setting up the platforms' apps needs (reconcile/appsetup.c): the Slack
 * app manifest and the Webex integration's settings from the scope table (scopes.h), the
 * sign-in of a platform's own user by the device grant (`login teams`), and the online check
 * of every enabled platform's credentials (`check-config --online`).
 */
#ifndef PS_APPSETUP_H
#define PS_APPSETUP_H

#include <stdio.h>

#include "config.h"
#include "devicegrant.h"
#include "fail.h"
#include "util.h"

/* The Slack app manifest (JSON, indented, ready to paste) for the features cfg enables:
 * bot and user scopes, the sign-in's redirect URL and the Events API request URL under
 * public_url. FAIL_CONFIG when Slack is not enabled. */
enum fail rec_slack_manifest(const struct config *cfg, struct buf *out, struct failure *f);
/* The Webex integration's settings (JSON): its redirect URI and scopes. FAIL_CONFIG when
 * Webex is not enabled. */
enum fail rec_webex_integration(const struct config *cfg, struct buf *out,
	    struct failure *f);

/*
 * `login PLATFORM`: the device grant of the platform's own user (ui shows the code, waits);
 * the refresh token is stored atomically, mode 0600, in the file the config names (owned
 * by the owner of its directory when run as root). On FAIL_NONE *path is that file (the
 * config's). Else f says why: FAIL_USAGE a platform without one, FAIL_CONFIG not enabled or
 * no file configured or the client refused, FAIL_OUTPUT the file cannot be written, and
 * device_login's classes.
 */
enum fail rec_login(const struct config *cfg, enum platform p, const struct device_ui *ui,
	    const char **path, struct failure *f);

/*
 * `check-config --online`: every enabled platform's credentials proven by a request (the
 * others are still checked when one fails); what they are printed on out, one line each;
 * each problem logged once, a missing scope with the features that need it. Returns the
 * worst class: FAIL_NONE, FAIL_LATER (a platform unreachable or failing), FAIL_CONFIG (a
 * credential refused or a scope missing).
 */
enum fail rec_check_online(const struct config *cfg, FILE *out);

#endif
