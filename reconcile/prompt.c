/*
 * prompt.c — who is prompted, where and why not (include/prompt.h). Pure: no I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "prompt.h"
#include "reconcile.h"

int
rec_auto_sync_applies(const struct config *cfg, const struct person *p)
{
	return cfg->plat[PLAT_SLACK].enabled && cfg->slack.auto_sync && p->active &&
	    (p->primary_platform == PLAT_TEAMS || p->primary_platform == PLAT_WEBEX);
}

int
rec_pending_stale(const struct config *cfg, const struct person *p, time_t now)
{
	return p->status == ST_PENDING && p->last_prompted_at > 0 &&
	    now - p->last_prompted_at > (time_t)cfg->prompts.stale_days * 86400;
}

static int
in_quiet_hours(const struct config *cfg, int minute)
{
	int s = cfg->prompts.quiet_start, e = cfg->prompts.quiet_end;

	if (s < 0 || e < 0 || s == e || minute < 0)
		return 0;
	if (s < e)
		return minute >= s && minute < e;
	return minute >= s || minute < e;	/* wraps midnight: 20:00-08:00 */
}

static const struct account *
pick_target(const struct prompt_input *in)
{
	const struct person *p = in->p;
	const struct account *first = NULL;
	int i;

	for (i = 0; i < in->n; i++) {
		const struct account *a = &in->accts[i];
		if (!rec_account_is_active(a) || !in->platform_enabled[a->platform])
			continue;
		if (in->via_platform >= 0) {
			if ((int)a->platform == in->via_platform &&
			    (in->via_user == NULL || strcmp(a->user_id, in->via_user) == 0))
				return a;
			continue;
		}
		if ((int)a->platform == p->primary_platform && p->primary_team_id &&
		    strcmp(a->team_id, p->primary_team_id) == 0)
			return a;
		if (first == NULL)
			first = a;
	}
	return in->via_platform >= 0 ? NULL : first;
}

void
rec_prompt_decide(const struct config *cfg, const struct prompt_input *in,
    struct prompt_decision *out)
{
	const struct person *p = in->p;
	char iso[32];

	memset(out, 0, sizeof(*out));
	out->d = DEC_NEVER;
	if (!p->active) {
		snprintf(out->why, sizeof(out->why), "not prompted: inactive (every account is "
		    "deactivated or gone)");
		return;
	}
	if (in->reason == PR_REAUTH && !(p->flags & PERSON_REAUTH)) {
		snprintf(out->why, sizeof(out->why), "not prompted: no re-authorization needed");
		return;
	}
	if (p->status == ST_ON && in->reason != PR_REAUTH) {
		snprintf(out->why, sizeof(out->why), "not prompted: already synced");
		return;
	}
	if (rec_auto_sync_applies(cfg, p)) {
		snprintf(out->why, sizeof(out->why), "not prompted: synced automatically (Slack "
		    "auto-sync, %s primary)", platform_name((enum platform)p->primary_platform));
		return;
	}
	if (in->reason == PR_BULK && p->status != ST_OFF) {
		snprintf(out->why, sizeof(out->why), "not prompted: bulk prompts go to people with "
		    "status off (this one is %s)", status_name((enum status)p->status));
		return;
	}
	if (in->reason == PR_AUTO && p->status != ST_OFF) {
		snprintf(out->why, sizeof(out->why), "not prompted: auto-prompt is for people with "
		    "status off (this one is %s)", status_name((enum status)p->status));
		return;
	}
	out->target = pick_target(in);
	if (out->target == NULL) {
		snprintf(out->why, sizeof(out->why), in->via_platform >= 0 ?
		    "not prompted: the sender's %s account is not active or not enabled" :
		    "not prompted: no active account on an enabled platform%s",
		    in->via_platform >= 0 ? platform_name((enum platform)in->via_platform) : "");
		return;
	}
	if ((p->flags & PERSON_GUEST) && !cfg->plat[out->target->platform].include_guests) {
		snprintf(out->why, sizeof(out->why), "not prompted: a guest (%s.include_guests is "
		    "off)", platform_name(out->target->platform));
		out->target = NULL;
		return;
	}
	if (in->has_pending) {
		out->hold = HOLD_PENDING;
		snprintf(out->why, sizeof(out->why), "not prompted again: a prompt is already "
		    "queued");
		return;
	}
	if (p->prompt_count >= cfg->prompts.max_prompts && in->reason != PR_REAUTH) {
		snprintf(out->why, sizeof(out->why), "not prompted: all %d prompts used "
		    "(prompts.max_prompts)", cfg->prompts.max_prompts);
		return;
	}
	if (p->last_prompted_at > 0 &&
	    in->now < p->last_prompted_at + (time_t)cfg->prompts.cooldown_hours * 3600) {
		time_t until = (time_t)p->last_prompted_at + (time_t)cfg->prompts.cooldown_hours * 3600;
		fmt_iso8601(until, iso);
		iso[16] = '\0';			/* 2026-11-27T10:00 */
		iso[10] = ' ';
		out->d = DEC_WAIT;
		snprintf(out->why, sizeof(out->why), "not prompted: cooldown until %s UTC, %d of %d "
		    "prompts used", iso, p->prompt_count, cfg->prompts.max_prompts);
		return;
	}
	if (in_quiet_hours(cfg, in->local_minute)) {
		out->d = DEC_WAIT;
		out->hold = HOLD_QUIET;
		snprintf(out->why, sizeof(out->why), "not now: quiet hours in %s (%02d:%02d-%02d:%02d "
		    "local, it is %02d:%02d there); a later run sends it", in->zone ? in->zone : "UTC",
		    cfg->prompts.quiet_start / 60, cfg->prompts.quiet_start % 60,
		    cfg->prompts.quiet_end / 60, cfg->prompts.quiet_end % 60,
		    in->local_minute / 60, in->local_minute % 60);
		return;
	}
	out->d = DEC_SEND;
	if (p->prompt_count == 0)
		snprintf(out->why, sizeof(out->why), "to be prompted on %s: status %s, never "
		    "prompted", platform_name(out->target->platform),
		    status_name((enum status)p->status));
	else {
		fmt_iso8601((time_t)p->last_prompted_at, iso);
		snprintf(out->why, sizeof(out->why), "to be prompted on %s: status %s, %d of %d "
		    "prompts used, last %s", platform_name(out->target->platform),
		    status_name((enum status)p->status), p->prompt_count, cfg->prompts.max_prompts, iso);
	}
}

/* ---- texts ---- */

/* A name in the platform's markup stays text: the driver says what each character becomes. */
static void
escape_for(const struct driver *d, const char *s, struct buf *out)
{
	for (; s && *s; s++) {
		const char *r = (unsigned char)*s < 128 ? d->escape[(unsigned char)*s] : NULL;

		if (r)
			buf_adds(out, r);
		else
			buf_addc(out, *s);
	}
}

void
prompt_render(const struct config *cfg, enum platform pl, const char *first_name,
    const char *link, const char *ref, struct buf *out)
{
	const char *tpl = cfg->plat[pl].prompt_template;
	const struct driver *d = driver_for(pl);
	const char *p;

	if (tpl == NULL || *tpl == '\0')
		tpl = d->prompt_default;
	if (first_name == NULL || *first_name == '\0')
		first_name = "there";
	for (p = tpl; *p; ) {
		if (strncmp(p, "{first_name}", 12) == 0 || strncmp(p, "{name}", 6) == 0) {
			escape_for(d, first_name, out);
			p += p[1] == 'f' ? 12 : 6;
		} else if (strncmp(p, "{link}", 6) == 0) {
			buf_adds(out, link);	/* our own URL: base64url token, no escaping needed */
			p += 6;
		} else if (strncmp(p, "{ref}", 5) == 0) {
			buf_adds(out, ref);
			p += 5;
		} else {
			buf_addc(out, *p++);
		}
	}
}

void
prompt_ref(uint64_t id, uint32_t salt, char out[24])
{
	/* Crockford base32: no I, L, O, U — easy to read out over the phone */
	static const char a32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	char tmp[16];
	int n = 0, i, o = 0;
	uint64_t v = id;

	do {
		tmp[n++] = a32[v % 32];
		v /= 32;
	} while (v && n < 13);
	out[o++] = 'P';
	out[o++] = 'S';
	out[o++] = '-';
	for (i = n - 1; i >= 0; i--)
		out[o++] = tmp[i];
	out[o++] = '-';
	for (i = 0; i < 4; i++) {
		out[o++] = a32[salt % 32];
		salt /= 32;
	}
	out[o] = '\0';
}
