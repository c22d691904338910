/*
 * reconcile.c — identity and status rules (include/reconcile.h). Pure: no I/O.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile.h"
#include "util.h"

/* Flags that are our own bookkeeping, not facts from the platform. */
#define OWN_FLAGS	(ACCT_ADMIN_LINK | ACCT_CONFLICT)

char *
rec_email_normalize(const char *raw, const struct config *cfg, int *aliased)
{
	const char *s = raw, *e, *at = NULL;
	char *out;
	size_t n, i;

	*aliased = 0;
	if (raw == NULL)
		return NULL;
	while (*s && isspace((unsigned char)*s))
		s++;
	if (strncasecmp(s, "smtp:", 5) == 0)
		s += 5;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - s);
	if (n < 3 || n > 320)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		/* RFC 5322 specials other than '.' and '@' only occur quoted or in a domain
		 * literal; refusing ':' also keeps this idempotent ("smtp:smtp:a@x" would
		 * otherwise give "smtp:a@x", which normalises to "a@x") */
		if (c <= 0x20 || c == 0x7f || strchr(",<>\"():;[]\\", c) != NULL)
			return NULL;
		if (c == '@') {
			if (at)
				return NULL;
			at = s + i;
		}
	}
	if (at == NULL || at == s || at == e - 1 || at[1] == '.' || e[-1] == '.')
		return NULL;
	out = xstrndup(s, n);
	str_lower(out);
	if (cfg) {
		char *dom = strchr(out, '@') + 1;
		for (int k = 0; k < cfg->identity.naliases; k++) {
			const struct domain_alias *da = &cfg->identity.aliases[k];
			if (strcmp(dom, da->from) == 0) {
				char *mapped = xasprintf("%.*s@%s", (int)(dom - 1 - out), out, da->to);
				free(out);
				out = mapped;
				*aliased = 1;
				break;
			}
		}
	}
	return out;
}

void
rec_account_normalize(struct account *a, const struct config *cfg)
{
	char **raw = a->emails;
	uint8_t *how = a->email_how;
	int n = a->nemails, i;

	a->emails = NULL;
	a->email_how = NULL;
	a->nemails = 0;
	for (i = 0; i < n; i++) {
		int aliased;
		char *e = rec_email_normalize(raw[i], cfg, &aliased);
		if (e) {
			account_add_email(a, e, aliased ? LINK_ALIAS :
			    (enum link_how)(how ? how[i] : LINK_EMAIL));
			free(e);
		}
		free(raw[i]);
	}
	free(raw);
	free(how);
	free(a->email);
	a->email = a->nemails ? xstrdup(a->emails[0]) : NULL;
}

int
rec_account_is_human(const struct account *a)
{
	return !(a->flags & (ACCT_BOT | ACCT_APP | ACCT_SLACKBOT));
}

int
rec_account_is_active(const struct account *a)
{
	return rec_account_is_human(a) &&
	    !(a->flags & (ACCT_DELETED | ACCT_MISSING | ACCT_REMOVED | ACCT_NOLOGIN |
	    ACCT_INVITED));
}

static int
str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

int
rec_emails_changed(const struct account *a, const struct account *b)
{
	int i;

	if (a->nemails != b->nemails)
		return 1;
	for (i = 0; i < a->nemails; i++) {
		if (strcmp(a->emails[i], b->emails[i]) != 0)
			return 1;
		if ((a->email_how ? a->email_how[i] : 0) != (b->email_how ? b->email_how[i] : 0))
			return 1;
	}
	return 0;
}

int
rec_account_changed(const struct account *a, const struct account *b)
{
	return a->platform != b->platform || str_differs(a->team_id, b->team_id) ||
	    str_differs(a->user_id, b->user_id) || str_differs(a->email, b->email) ||
	    rec_emails_changed(a, b) || str_differs(a->name, b->name) ||
	    str_differs(a->first_name, b->first_name) || str_differs(a->tz, b->tz) ||
	    str_differs(a->workspaces, b->workspaces) ||
	    (a->flags & ~OWN_FLAGS) != (b->flags & ~OWN_FLAGS) || a->updated != b->updated;
}

void
rec_account_merge(struct account *out, const struct account *fresh,
    const struct account *stored)
{
	if ((fresh->flags & ACCT_REMOVED) && stored) {
		/* a delta "@removed" entry carries only the id: keep what we knew */
		account_copy(out, stored);
		out->flags |= ACCT_REMOVED;
		return;
	}
	account_copy(out, fresh);
	out->flags &= ~OWN_FLAGS;
	if (stored && out->tz == NULL && stored->tz != NULL && fresh->platform == PLAT_TEAMS)
		out->tz = xstrdup(stored->tz);	/* the mailbox's, fetched apart (zones.c) */
	if (stored) {
		out->tz_at = stored->tz_at;	/* a roster never says when zones.c asked */
		out->flags |= stored->flags & OWN_FLAGS;
		out->person_id = stored->person_id;
		out->link_how = stored->link_how;
		out->version = stored->version;
	} else {
		out->person_id = 0;
		out->link_how = LINK_NONE;
		out->version = 0;
	}
}

uint64_t
rec_match(const struct account *a, const uint64_t *found, enum link_how *how, int *ambiguous)
{
	uint64_t chosen = 0;
	int i;

	*ambiguous = 0;
	*how = LINK_NEW;
	for (i = 0; i < a->nemails; i++) {
		if (found[i] == 0)
			continue;
		if (chosen == 0) {
			chosen = found[i];
			*how = a->email_how ? (enum link_how)a->email_how[i] : LINK_EMAIL;
		} else if (found[i] != chosen) {
			*ambiguous = 1;
			*how = LINK_NEW;
			return 0;
		}
	}
	return chosen;
}

static int
sync_for(int platform)
{
	if (platform < 0)
		return SYNC_NONE;
	return platform == PLAT_SLACK ? SYNC_USER : SYNC_BOT;
}

static int
order_rank(const struct config *cfg, enum platform p)
{
	int i;

	for (i = 0; cfg && i < cfg->identity.norder; i++)
		if (cfg->identity.order[i] == p)
			return i;
	return PLAT_COUNT + (int)p;	/* not listed: after the listed ones, natural order */
}

static void
set_str(char **slot, const char *v, int *changed)
{
	if (!str_differs(*slot, v))
		return;
	free(*slot);
	*slot = v ? xstrdup(v) : NULL;
	*changed = 1;
}

int
rec_person_derive(struct person *p, const struct account *accts, int n,
    const struct config *cfg)
{
	const struct account *best = NULL, *primary = NULL, *any_named = NULL;
	int changed = 0, active = 0, guests = 0, i;
	uint32_t flags;

	for (i = 0; i < n; i++) {
		const struct account *a = &accts[i];
		if (!rec_account_is_human(a))
			continue;
		if (any_named == NULL && a->name)
			any_named = a;
		if (!rec_account_is_active(a))
			continue;
		active++;
		if (a->flags & ACCT_GUEST)
			guests++;
		if ((p->primary_source == PS_CHOSEN || p->primary_source == PS_AUTO) &&
		    p->primary_platform == (int)a->platform &&
		    !str_differs(p->primary_team_id, a->team_id))
			primary = a;
		if (best == NULL || order_rank(cfg, a->platform) < order_rank(cfg, best->platform) ||
		    (a->platform == best->platform && (a->updated > best->updated ||
		    (a->updated == best->updated && strcmp(a->team_id, best->team_id) < 0))))
			best = a;
	}
	if (primary == NULL) {
		/* nothing chosen (or the chosen account is gone): infer */
		primary = best;
		if (p->primary_source != PS_INFERRED && primary) {
			p->primary_source = PS_INFERRED;
			changed = 1;
		}
		if (primary == NULL && p->primary_source != PS_NONE &&
		    p->primary_source != PS_CHOSEN && p->primary_source != PS_AUTO) {
			p->primary_source = PS_NONE;
			changed = 1;
		}
	}
	if (primary) {
		if (p->primary_platform != (int)primary->platform) {
			p->primary_platform = (int8_t)primary->platform;
			changed = 1;
		}
		set_str(&p->primary_team_id, primary->team_id, &changed);
	} else if (p->primary_source != PS_CHOSEN && p->primary_source != PS_AUTO) {
		if (p->primary_platform != -1) {
			p->primary_platform = -1;
			changed = 1;
		}
		set_str(&p->primary_team_id, NULL, &changed);
	}
	if (p->sync_type != sync_for(p->primary_platform)) {
		p->sync_type = (uint8_t)sync_for(p->primary_platform);
		changed = 1;
	}
	if (p->active != (active > 0)) {
		p->active = active > 0;
		changed = 1;
	}
	flags = p->flags & ~(PERSON_GUEST | PERSON_CONFLICT);
	if (active > 0 && guests == active)
		flags |= PERSON_GUEST;
	for (i = 0; i < n; i++)
		if (accts[i].flags & ACCT_CONFLICT)
			flags |= PERSON_CONFLICT;
	if (flags != p->flags) {
		p->flags = flags;
		changed = 1;
	}
	/* name and canonical address: the primary account's, else any account's */
	{
		const struct account *src = primary && primary->name ? primary : any_named;
		const struct account *esrc = primary && primary->email ? primary : NULL;
		for (i = 0; esrc == NULL && i < n; i++)
			if (rec_account_is_human(&accts[i]) && accts[i].email &&
			    !(accts[i].flags & ACCT_CONFLICT))
				esrc = &accts[i];
		for (i = 0; esrc == NULL && i < n; i++)
			if (rec_account_is_human(&accts[i]) && accts[i].email)
				esrc = &accts[i];
		set_str(&p->name, src ? src->name : NULL, &changed);
		set_str(&p->email, esrc ? esrc->email : NULL, &changed);
	}
	return changed;
}
