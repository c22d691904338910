/*
 * model.h — the records every module shares: accounts (one per platform user) and people
 * (one per human). Plain structs with owned strings; x_free() releases the strings and
 * zeroes the struct; x_free(NULL) is fine.
 */
#ifndef PS_MODEL_H
#define PS_MODEL_H

#include <stdint.h>
#include <time.h>

#include "config.h"

/* Account flags: facts the platform told us. */
#define ACCT_DELETED	0x0001u		/* Slack deleted, Graph accountEnabled=false / @removed */
#define ACCT_BOT	0x0002u		/* bot user / Webex type bot */
#define ACCT_APP	0x0004u		/* Slack is_app_user */
#define ACCT_SLACKBOT	0x0008u		/* USLACKBOT */
#define ACCT_GUEST	0x0010u		/* Slack is_restricted, Graph Guest, Webex appuser */
#define ACCT_ULTRA	0x0020u		/* Slack is_ultra_restricted (single-channel guest) */
#define ACCT_INVITED	0x0040u		/* invited, not joined (Slack is_invited_user, Webex invitePending) */
#define ACCT_STRANGER	0x0080u		/* Slack Connect stranger */
#define ACCT_NOLOGIN	0x0100u		/* Webex loginEnabled=false */
#define ACCT_MISSING	0x0200u		/* absent from the last complete pull */
#define ACCT_REMOVED	0x0400u		/* Graph delta @removed */
#define ACCT_ADMIN_LINK	0x0800u		/* person link set by an admin: runs never move it */
#define ACCT_CONFLICT	0x1000u		/* its address is contested; kept apart, see conflicts */

/* How an account was linked to its person. */
enum link_how {
	LINK_NONE = 0, LINK_NEW, LINK_EMAIL, LINK_ALIAS, LINK_PROXY, LINK_OTHERMAIL, LINK_UPN,
	LINK_ADMIN
};
const char *link_how_name(enum link_how h);

struct account {
	enum platform	 platform;
	char		*team_id;
	char		*user_id;
	char		*email;		/* primary address, normalised; NULL if none */
	char		**emails;	/* every normalised address (primary first), nemails of them */
	uint8_t		*email_how;	/* enum link_how of each address (EMAIL, PROXY, ...) */
	int		 nemails;
	char		*name;		/* best display name */
	char		*first_name;
	char		*tz;		/* IANA zone or NULL */
	int64_t		 tz_at;		/* Teams: when the mailbox zone was last asked
					   (reconcile/zones.c; unix seconds), 0 never */
	char		*workspaces;	/* Slack Enterprise Grid: the workspaces (team ids,
					   comma-separated, sorted) of an account whose team_id
					   is the Grid's enterprise id; else NULL */
	uint32_t	 flags;
	int64_t		 updated;	/* platform's last-change or activity time, 0 unknown */
	uint64_t	 person_id;	/* 0: not linked (not a human) */
	uint8_t		 link_how;	/* enum link_how */
	uint32_t	 version;	/* bumped by every stored write */
};

enum status { ST_OFF = 0, ST_PENDING = 1, ST_ON = 2 };
enum primary_source { PS_NONE = 0, PS_CHOSEN = 1, PS_INFERRED = 2, PS_AUTO = 3 };
enum sync_type { SYNC_NONE = 0, SYNC_USER = 1, SYNC_BOT = 2 };

#define PERSON_GUEST		0x01u	/* every active account is a guest */
#define PERSON_CONFLICT		0x02u	/* has a contested account */
#define PERSON_REAUTH		0x04u	/* stored user token can no longer be refreshed */

struct person {
	uint64_t	 id;
	char		*email;		/* canonical address (primary account's), or NULL */
	char		*name;
	int		 active;	/* some account is active */
	uint8_t		 status;	/* enum status */
	int8_t		 primary_platform; /* enum platform or -1 */
	char		*primary_team_id;
	uint8_t		 primary_source; /* enum primary_source */
	uint8_t		 sync_type;	/* enum sync_type */
	uint32_t	 flags;
	int32_t		 prompt_count;
	int64_t		 last_prompted_at;
	int64_t		 synced_at;
	int64_t		 created_at;
	uint32_t	 version;
};

/* A prompt: one "please sync" direct message to one account of a person. */
enum prompt_reason { PR_ADMIN = 1, PR_BULK = 2, PR_AUTO = 3, PR_REAUTH = 4 };
enum prompt_state {
	PQ_QUEUED = 0,		/* decided, not yet sent */
	PQ_SENDING = 1,		/* committed before the request: after a crash it is in doubt */
	PQ_DELIVERED = 2,
	PQ_FAILED = 3,		/* the platform refused it (error kept) */
	PQ_CANCELLED = 4	/* no longer due (synced, deactivated) before it was sent */
};

struct prompt {
	uint64_t	 id;
	uint64_t	 person_id;
	uint8_t		 reason;	/* enum prompt_reason */
	uint8_t		 state;		/* enum prompt_state */
	enum platform	 platform;	/* target account */
	char		*team_id;
	char		*user_id;
	char		*ref;		/* short reference carried by the message text */
	char		*channel;	/* DM channel / chat id once known */
	char		*message_id;	/* platform's id of the delivered message */
	char		*error;		/* last error (failed, or a retried attempt) */
	int32_t		 attempts;
	int64_t		 created_at;
	int64_t		 updated_at;
	int64_t		 delivered_at;
	uint32_t	 version;
};

const char *prompt_reason_name(enum prompt_reason r);
const char *prompt_state_name(enum prompt_state s);
void	prompt_free(struct prompt *p);

const char *status_name(enum status s);
const char *primary_source_name(enum primary_source s);	/* NULL for PS_NONE */
const char *sync_type_name(enum sync_type s);		/* NULL for SYNC_NONE */

void	account_free(struct account *a);
void	person_free(struct person *p);
void	account_copy(struct account *dst, const struct account *src);	/* deep copy */
void	person_copy(struct person *dst, const struct person *src);
/* Adds an address unless present (the first added also becomes a->email); returns 1 if
 * added. */
int	account_add_email(struct account *a, const char *email, enum link_how how);

#endif
