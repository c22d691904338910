/*
 * devicegrant.h — the OAuth 2.0 device authorization grant (RFC 8628) of a platform's own
 * user, as `peoplesync login` runs it: ask for a device code, show the person where to enter
 * the user code, poll the token endpoint at the interval the platform asked for (5 s more on
 * slow_down, going on through authorization_pending) until the tokens come, the person
 * declines or the codes expire.
 *
 * The device code and the tokens never reach a message: errors name the platform, the
 * step, the HTTP status and the platform's error code.
 */
#ifndef PS_DEVICEGRANT_H
#define PS_DEVICEGRANT_H

#include "driver.h"
#include "fail.h"
#include "tokens.h"

struct device_code {
	char	*device_code;		/* for the polls only */
	char	*user_code;		/* what the person types */
	char	*verification_uri;	/* where */
	int	 expires_in;		/* seconds the codes live */
	int	 interval;		/* seconds between polls (5 when the answer says none) */
};
void	device_code_free(struct device_code *dc);

/* The polling rules (RFC 8628 §3.4-3.5), pure for tests. */
struct device_poll {
	double	interval;		/* the wait before the next poll, seconds */
	double	deadline;		/* when the codes expire (the clock of now) */
	int	polls;			/* answers judged */
	int	slow_downs;		/* slow_down answers seen */
};
enum device_next {
	DEVICE_TOKEN,		/* the answer holds the tokens */
	DEVICE_WAIT,		/* poll again after p->interval seconds */
	DEVICE_DENIED,		/* the person declined (access_denied, authorization_declined) */
	DEVICE_EXPIRED,		/* expired_token, or pending past the deadline */
	DEVICE_REFUSED,		/* any other answer: the client, the code or the request is wrong */
};
void	device_poll_init(struct device_poll *p, const struct device_code *dc, double now);
/* Judges one token answer: HTTP status and its "error" code ("" when none) at time now.
 * slow_down adds 5 s to p->interval for every later poll. */
enum device_next device_judge(struct device_poll *p, long status, const char *code,
	    double now);

/* How the grant meets the person and the clock (tests replace sleep and now). */
struct device_ui {
	void	(*show)(const struct device_code *dc, void *arg);
	void	(*sleep)(double seconds, void *arg);
	double	(*now)(void *arg);		/* seconds, monotonic */
	void	*arg;
};

/*
 * Runs the grant of platform name (for messages) with dev's endpoints and scopes. On
 * FAIL_NONE tok holds the tokens (a refresh token among them; caller frees). Else err says
 * why: FAIL_LATER no answer, FAIL_CONFIG the client or its scopes refused, FAIL_DENIED the
 * person declined, FAIL_AGAIN the codes expired (run it again), FAIL_DATA an answer without
 * what it must hold.
 */
enum fail device_login(const struct config *cfg, const char *name,
	    const struct driver_device *dev, const struct device_ui *ui,
	    struct oauth_tokens *tok, char *err, size_t errlen);

#endif
