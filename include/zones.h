/*
 * zones.h — each person's own time zone (reconcile/zones.c): the zones a platform keeps
 * apart from its roster (Graph mailboxes) fetched into the accounts, and the choice of a
 * person's zone for quiet hours, with where it came from (explain says it).
 */
#ifndef PS_ZONES_H
#define PS_ZONES_H

#include "config.h"
#include "model.h"
#include "store.h"

#define ZONES_PER_RUN	2000	/* mailbox zones asked at most per run (one request each) */
#define ZONE_REFRESH	86400	/* seconds after which a zone is asked again */

/*
 * For every platform whose driver has a zone hook (Teams) and whose pull went through this
 * run (pulled[p]): active human accounts never asked are asked for their zone, then those
 * asked ZONE_REFRESH ago or more (by ps_now(); at most ZONES_PER_RUN a run, the rest next
 * run), and the answer is stored in the account (a later pull keeps it); "none" is stored
 * as "", with when it was asked (the account's tz_at). A platform that refuses (403:
 * no MailboxSettings.Read) is asked no more this run, with one warning; what it answered
 * before is kept. *n = zones stored. 0, or -1 on a store error (logged).
 */
int	rec_fill_zones(const struct config *cfg, struct store *st, const int *pulled, long *n);

/*
 * The zone of a person for quiet hours: the first known, existing zone among the accounts
 * of the person's primary platform (the primary team's first), then the target account
 * (NULL: none), then the other accounts in identity.platform_order, else
 * prompts.default_tz (the host's zone unless given). *from (not NULL) says where it came
 * from: "slack:U123's Slack profile (tz)", "prompts.default_tz (TZ)"... (static or in the
 * 160-byte buffer from_buf). The zone string lives as long as accts and cfg.
 */
const char *rec_person_zone(const struct config *cfg, const struct person *p,
	    const struct account *accts, int n, const struct account *target, char *from_buf,
	    size_t from_len);
/* 1 when zone names a zone this host knows ("UTC" or a file under /usr/share/zoneinfo). */
int	rec_zone_exists(const char *zone);

#endif
