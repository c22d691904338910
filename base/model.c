/* model.c — record helpers shared by every module. */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "util.h"

const char *
link_how_name(enum link_how h)
{
	static const char *names[] = { "none", "new", "email", "alias domain", "proxyAddresses",
	    "otherMails", "userPrincipalName", "admin" };
	return (unsigned)h < ARRAY_LEN(names) ? names[h] : "unknown";
}

const char *
status_name(enum status s)
{
	switch (s) {
	case ST_ON: return "on";
	case ST_PENDING: return "pending";
	default: return "off";
	}
}

const char *
primary_source_name(enum primary_source s)
{
	switch (s) {
	case PS_CHOSEN: return "chosen";
	case PS_INFERRED: return "inferred";
	case PS_AUTO: return "auto";
	default: return NULL;
	}
}

const char *
sync_type_name(enum sync_type s)
{
	switch (s) {
	case SYNC_USER: return "user";
	case SYNC_BOT: return "bot";
	default: return NULL;
	}
}

void
account_free(struct account *a)
{
	int i;

	if (a == NULL)
		return;
	free(a->team_id);
	free(a->user_id);
	free(a->email);
	for (i = 0; i < a->nemails; i++)
		free(a->emails[i]);
	free(a->emails);
	free(a->email_how);
	free(a->name);
	free(a->first_name);
	free(a->tz);
	free(a->workspaces);
	memset(a, 0, sizeof(*a));
}

void
person_free(struct person *p)
{
	if (p == NULL)
		return;
	free(p->email);
	free(p->name);
	free(p->primary_team_id);
	memset(p, 0, sizeof(*p));
	p->primary_platform = -1;
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void
account_copy(struct account *dst, const struct account *src)
{
	int i;

	*dst = *src;
	dst->team_id = dup_or_null(src->team_id);
	dst->user_id = dup_or_null(src->user_id);
	dst->email = dup_or_null(src->email);
	dst->name = dup_or_null(src->name);
	dst->first_name = dup_or_null(src->first_name);
	dst->tz = dup_or_null(src->tz);
	dst->workspaces = dup_or_null(src->workspaces);
	dst->emails = NULL;
	dst->email_how = NULL;
	dst->nemails = 0;
	for (i = 0; i < src->nemails; i++)
		account_add_email(dst, src->emails[i],
		    src->email_how ? (enum link_how)src->email_how[i] : LINK_EMAIL);
}

void
person_copy(struct person *dst, const struct person *src)
{
	*dst = *src;
	dst->email = dup_or_null(src->email);
	dst->name = dup_or_null(src->name);
	dst->primary_team_id = dup_or_null(src->primary_team_id);
}

int
account_add_email(struct account *a, const char *email, enum link_how how)
{
	int i;

	for (i = 0; i < a->nemails; i++)
		if (strcmp(a->emails[i], email) == 0)
			return 0;
	a->emails = xrealloc(a->emails, (size_t)(a->nemails + 1) * sizeof(char *));
	a->email_how = xrealloc(a->email_how, (size_t)(a->nemails + 1));
	a->emails[a->nemails] = xstrdup(email);
	a->email_how[a->nemails] = (uint8_t)how;
	a->nemails++;
	if (a->email == NULL)
		a->email = xstrdup(email);	/* the primary address is the first */
	return 1;
}

const char *
prompt_reason_name(enum prompt_reason r)
{
	switch (r) {
	case PR_ADMIN: return "admin";
	case PR_BULK: return "bulk";
	case PR_AUTO: return "auto";
	case PR_REAUTH: return "re-consent";
	default: return "unknown";
	}
}

const char *
prompt_state_name(enum prompt_state s)
{
	static const char *names[] = { "queued", "sending", "delivered", "failed", "cancelled" };
	return (unsigned)s < ARRAY_LEN(names) ? names[s] : "unknown";
}

void
prompt_free(struct prompt *p)
{
	if (p == NULL)
		return;
	free(p->team_id);
	free(p->user_id);
	free(p->ref);
	free(p->channel);
	free(p->message_id);
	free(p->error);
	memset(p, 0, sizeof(*p));
}
