/*
 * prompt.h — who is prompted, where, and why not: pure rules (reconcile/prompt.c), and the
 * message texts. Callers pass the clock (now) and the person's local time of day.
 */
#ifndef PS_PROMPT_H
#define PS_PROMPT_H

#include <time.h>

#include "config.h"
#include "model.h"
#include "util.h"

enum decision {
	DEC_SEND = 0,	/* prompt now */
	DEC_WAIT = 1,	/* not now (quiet hours, cooldown): a later run may */
	DEC_NEVER = 2	/* not prompted (on, inactive, guest, max reached, ...) */
};

/* Why a prompt waits, for callers that act on it (why[] is for people to read). */
enum hold {
	HOLD_NONE = 0,
	HOLD_PENDING,	/* DEC_NEVER: another prompt is queued or sending already */
	HOLD_QUIET	/* DEC_WAIT: the person's quiet hours; queue it, it goes out later */
};

struct prompt_decision {
	enum decision		 d;
	enum hold		 hold;
	const struct account	*target;	/* the account to message (DEC_SEND/WAIT) */
	char			 why[256];	/* "not prompted: cooldown until ..." */
};

struct prompt_input {
	const struct person	*p;
	const struct account	*accts;		/* every account of the person */
	int			 n;
	enum prompt_reason	 reason;
	int			 via_platform;	/* auto-prompt: the sender's platform; else -1 */
	const char		*via_user;	/* auto-prompt: the sender's account id; else NULL */
	int			 local_minute;	/* minutes since local midnight in the person's zone */
	const char		*zone;		/* the zone's name, for the reason text */
	int			 has_pending;	/* a prompt is queued or sending already */
	int			 platform_enabled[PLAT_COUNT];
	time_t			 now;
};

/*
 * The decision, in this order: inactive, already on, Slack auto-sync (Teams/Webex primaries
 * are synced without a prompt), guest (unless <platform>.include_guests), a prompt already
 * pending, max_prompts reached, inside cooldown_hours of the last prompt, no active account
 * on an enabled platform to message, quiet hours in the person's zone. Bulk prompts take
 * only people with status off. A re-consent prompt (PR_REAUTH) goes to a synced person whose
 * stored user token can no longer be refreshed (PERSON_REAUTH), whatever max_prompts says. The target is the sender's account for an auto-prompt, else
 * the primary account, else the first active one.
 */
void	rec_prompt_decide(const struct config *cfg, const struct prompt_input *in,
	    struct prompt_decision *out);

/* Would Slack auto-sync mode turn this person on? (auto_sync on, primary Teams or Webex) */
int	rec_auto_sync_applies(const struct config *cfg, const struct person *p);

/* A person whose status is pending for longer than prompts.stale_days. */
int	rec_pending_stale(const struct config *cfg, const struct person *p, time_t now);

/*
 * The message text for platform pl: greets by first name, says in two sentences why to
 * sync, carries the Sync now link and the reference. Slack mrkdwn, Teams HTML, Webex
 * markdown; <platform>.prompt_template overrides it, with {first_name}, {name}, {link},
 * {ref} replaced (escaped for the platform's format).
 */
void	prompt_render(const struct config *cfg, enum platform pl, const char *first_name,
	    const char *link, const char *ref, struct buf *out);

/* A short, unambiguous reference from a prompt id ("PS-4K7Q-2"): letters and digits only. */
void	prompt_ref(uint64_t id, uint32_t salt, char out[24]);

#endif
