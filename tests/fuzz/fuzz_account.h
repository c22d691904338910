/*
 * fuzz_account.h — shared by the page targets (fuzz_slack_page.c, fuzz_graph_page.c,
 * fuzz_webex_page.c): the invariants every account a page parser returns must keep, before
 * and after rec_account_normalize, and the reconcile rules run over it. abort() on a broken
 * one, so libFuzzer saves the input.
 */
#ifndef PS_FUZZ_ACCOUNT_H
#define PS_FUZZ_ACCOUNT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "model.h"
#include "reconcile.h"
#include "util.h"

#define FCHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: broken invariant: %s\n", __FILE__, __LINE__, #cond); \
		abort();						\
	}								\
} while (0)

/* One alias domain, as etc/peoplesync.cfg has it: normalising maps it to corp.com. */
static struct domain_alias fuzz_alias = { "corp.onmicrosoft.com", "corp.com" };

static void
fuzz_account_cfg(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->identity.aliases = &fuzz_alias;
	cfg->identity.naliases = 1;
	cfg->identity.order[0] = PLAT_SLACK;
	cfg->identity.order[1] = PLAT_TEAMS;
	cfg->identity.order[2] = PLAT_WEBEX;
	cfg->identity.norder = 3;
}

/* A string a parser copied out of the JSON: json_strdup() gives UTF-8 without NUL. */
static void
fuzz_check_str(const char *s)
{
	if (s != NULL)
		FCHECK(utf8_valid(s, strlen(s)));
}

/* The address list: no NULL, no duplicate, email is the first one (or NULL when none). */
static void
fuzz_check_emails(const struct account *a)
{
	int i, k;

	FCHECK(a->nemails >= 0);
	FCHECK(a->nemails == 0 || (a->emails != NULL && a->email_how != NULL));
	for (i = 0; i < a->nemails; i++) {
		FCHECK(a->emails[i] != NULL);
		fuzz_check_str(a->emails[i]);
		FCHECK(a->email_how[i] <= LINK_ADMIN);
		for (k = 0; k < i; k++)
			FCHECK(strcmp(a->emails[k], a->emails[i]) != 0);
	}
	if (a->nemails == 0)
		FCHECK(a->email == NULL);
	else
		FCHECK(a->email != NULL && strcmp(a->email, a->emails[0]) == 0);
}

/* What a page parser returned, raw. */
static void
fuzz_check_raw(const struct account *a, enum platform p)
{
	struct account copy = { 0 };

	FCHECK(a->platform == p);
	FCHECK(a->user_id != NULL && a->user_id[0] != '\0');
	FCHECK(a->team_id != NULL);
	fuzz_check_str(a->user_id);
	fuzz_check_str(a->team_id);
	fuzz_check_str(a->name);
	fuzz_check_str(a->first_name);
	fuzz_check_str(a->tz);
	fuzz_check_emails(a);
	/* driver.h: what a parser keeps from hostile data is bounded */
	FCHECK(a->name == NULL || strlen(a->name) <= DRV_NAME_MAX);
	FCHECK(a->first_name == NULL || strlen(a->first_name) <= DRV_NAME_MAX);
	FCHECK(a->tz == NULL || (a->tz[0] != '\0' && strlen(a->tz) <= DRV_TZ_MAX));
	for (int i = 0; i < a->nemails; i++)
		FCHECK(a->emails[i][0] != '\0' && strlen(a->emails[i]) <= DRV_EMAIL_MAX);
	/* a Graph delta "@removed" entry is its id only: the rest is merged from the store */
	if (a->flags & ACCT_REMOVED)
		FCHECK(p == PLAT_TEAMS && a->nemails == 0 && a->name == NULL);
	FCHECK(a->person_id == 0 && a->version == 0);
	account_copy(&copy, a);
	FCHECK(!rec_account_changed(&copy, a) && !rec_emails_changed(&copy, a));
	account_free(&copy);
}

/* After rec_account_normalize: every address is a normal form (normalising it again gives
 * itself, never an alias domain), lower-case ASCII letters, one '@', no space. */
static void
fuzz_check_normalized(const struct account *a, const struct config *cfg)
{
	int i, aliased;

	fuzz_check_emails(a);
	for (i = 0; i < a->nemails; i++) {
		const char *e = a->emails[i], *at = strchr(e, '@');
		char *again = rec_email_normalize(e, cfg, &aliased);

		FCHECK(again != NULL && strcmp(again, e) == 0 && !aliased);
		free(again);
		FCHECK(at != NULL && at != e && at[1] != '\0' && strchr(at + 1, '@') == NULL);
		for (const char *c = e; *c; c++)
			FCHECK(!(*c >= 'A' && *c <= 'Z') && (unsigned char)*c > 0x20);
		if (a->email_how[i] == LINK_ALIAS)
			FCHECK(strcmp(at + 1, fuzz_alias.to) == 0);
	}
}

/* The reconcile rules over the normalised accounts of one page, as if they were one person. */
static void
fuzz_check_reconcile(const struct account *accts, int n, const struct config *cfg)
{
	struct person p = { 0 };
	struct account merged = { 0 };
	enum link_how how;
	uint64_t *found;
	int i, amb;

	for (i = 0; i < n; i++) {
		const struct account *a = &accts[i];

		if (rec_account_is_active(a))
			FCHECK(rec_account_is_human(a));
		rec_account_merge(&merged, a, NULL);
		FCHECK(!rec_account_changed(&merged, a));
		account_free(&merged);
		rec_account_merge(&merged, a, a);	/* merging with itself changes nothing */
		FCHECK(!rec_account_changed(&merged, a));
		account_free(&merged);
		/* nobody known: a new person; everybody the same person: that one */
		found = xcalloc((size_t)a->nemails + 1, sizeof(*found));
		FCHECK(rec_match(a, found, &how, &amb) == 0 && !amb);
		for (int k = 0; k < a->nemails; k++)
			found[k] = 7;
		FCHECK(rec_match(a, found, &how, &amb) == (a->nemails ? 7 : 0) && !amb);
		free(found);
	}
	p.primary_platform = -1;
	(void)rec_person_derive(&p, accts, n, cfg);
	FCHECK(rec_person_derive(&p, accts, n, cfg) == 0);	/* derived once is settled */
	if (p.active)
		FCHECK(p.primary_platform >= 0 && p.primary_platform < PLAT_COUNT &&
		    p.primary_team_id != NULL && p.primary_source == PS_INFERRED);
	person_free(&p);
}

/* Everything above for the n accounts one page gave; normalises them in place. */
static void
fuzz_check_page(struct account *accts, int n, enum platform plat)
{
	struct config cfg;
	int i;

	fuzz_account_cfg(&cfg);
	for (i = 0; i < n; i++) {
		fuzz_check_raw(&accts[i], plat);
		rec_account_normalize(&accts[i], &cfg);
		fuzz_check_normalized(&accts[i], &cfg);
	}
	fuzz_check_reconcile(accts, n, &cfg);
}

#endif
