/* codec.c — versioned record encodings (see store_p.h). */
#include <stdlib.h>
#include <string.h>

#include "store_p.h"
#include "subs.h"

enum { WT_VARINT = 0, WT_BYTES = 2 };

static void
put_varint(struct buf *b, uint64_t v)
{
	unsigned char tmp[10];
	int n = 0;

	if (v < 0x80) {		/* most tags and lengths */
		buf_addc(b, (char)v);
		return;
	}
	do {
		tmp[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	buf_add(b, tmp, (size_t)n);
}

static void
put_uint(struct buf *b, unsigned field, uint64_t v)
{
	if (v == 0)
		return;			/* absent means zero: keeps records small */
	put_varint(b, (uint64_t)field << 3 | WT_VARINT);
	put_varint(b, v);
}

static void
put_sint(struct buf *b, unsigned field, int64_t v)
{
	put_uint(b, field, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void
put_bytes(struct buf *b, unsigned field, const void *p, size_t n)
{
	put_varint(b, (uint64_t)field << 3 | WT_BYTES);
	put_varint(b, n);
	buf_add(b, p, n);
}

static void
put_str(struct buf *b, unsigned field, const char *s)
{
	if (s != NULL)
		put_bytes(b, field, s, strlen(s));
}

struct rd {
	const unsigned char *p, *end;
};

static int
get_varint(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;
	int shift = 0;

	while (r->p < r->end && shift < 64) {
		unsigned char c = *r->p++;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
		shift += 7;
	}
	return -1;
}

/* Next field: returns 1 with the field number, wire type and either *v or (*data,*len); 0 at end; -1 bad. */
static int
next_field(struct rd *r, unsigned *field, int *wt, uint64_t *v, const char **data, size_t *len)
{
	uint64_t tag, n;

	if (r->p == r->end)
		return 0;
	if (get_varint(r, &tag) < 0)
		return -1;
	*field = (unsigned)(tag >> 3);
	*wt = (int)(tag & 7);
	if (*wt == WT_VARINT)
		return get_varint(r, v) < 0 ? -1 : 1;
	if (*wt != WT_BYTES || get_varint(r, &n) < 0 || n > (uint64_t)(r->end - r->p))
		return -1;
	*data = (const char *)r->p;
	*len = (size_t)n;
	r->p += n;
	return 1;
}

static int64_t
unzig(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static int
rd_start(struct rd *r, const void *data, size_t n)
{
	r->p = data;
	r->end = r->p + n;
	if (n < 1 || r->p[0] == 0 || r->p[0] > REC_FORMAT)
		return -1;
	r->p++;
	return 0;
}

static char *
dup_field(char **slot, const char *d, size_t n)
{
	free(*slot);
	*slot = xstrndup(d, n);
	return *slot;
}

enum {
	A_PLATFORM = 1, A_TEAM, A_USER, A_EMAIL, A_EMAILS, A_NAME, A_FIRST, A_TZ, A_FLAGS,
	A_UPDATED, A_PERSON, A_LINKHOW, A_VERSION, A_WORKSPACES, A_TZ_AT
};

void
codec_account_encode(const struct account *a, struct buf *out)
{
	int i;

	buf_addc(out, REC_FORMAT);
	put_uint(out, A_PLATFORM, (uint64_t)a->platform);
	put_str(out, A_TEAM, a->team_id);
	put_str(out, A_USER, a->user_id);
	put_str(out, A_EMAIL, a->email);
	for (i = 0; i < a->nemails; i++) {
		/* bytes: how the address was learnt (one byte), then the address */
		size_t n = strlen(a->emails[i]);
		put_varint(out, (uint64_t)A_EMAILS << 3 | WT_BYTES);
		put_varint(out, n + 1);
		buf_addc(out, (char)(a->email_how ? a->email_how[i] : LINK_EMAIL));
		buf_add(out, a->emails[i], n);
	}
	put_str(out, A_NAME, a->name);
	put_str(out, A_FIRST, a->first_name);
	put_str(out, A_TZ, a->tz);
	put_str(out, A_WORKSPACES, a->workspaces);
	if (a->tz_at != 0)
		put_sint(out, A_TZ_AT, a->tz_at);
	put_uint(out, A_FLAGS, a->flags);
	put_sint(out, A_UPDATED, a->updated);
	put_uint(out, A_PERSON, a->person_id);
	put_uint(out, A_LINKHOW, a->link_how);
	put_uint(out, A_VERSION, a->version);
}

int
codec_account_decode(const void *data, size_t n, struct account *a)
{
	struct rd r;
	unsigned f;
	int wt, rc;
	uint64_t v = 0;
	const char *d = NULL;
	size_t len = 0;

	memset(a, 0, sizeof(*a));
	if (rd_start(&r, data, n) < 0)
		return -1;
	while ((rc = next_field(&r, &f, &wt, &v, &d, &len)) == 1) {
		if (wt == WT_VARINT) {
			switch (f) {
			case A_PLATFORM: a->platform = (enum platform)(v < PLAT_COUNT ? v : 0); break;
			case A_FLAGS: a->flags = (uint32_t)v; break;
			case A_UPDATED: a->updated = unzig(v); break;
			case A_PERSON: a->person_id = v; break;
			case A_LINKHOW: a->link_how = (uint8_t)v; break;
			case A_VERSION: a->version = (uint32_t)v; break;
			case A_TZ_AT: a->tz_at = unzig(v); break;
			default: break;
			}
			continue;
		}
		switch (f) {
		case A_TEAM: dup_field(&a->team_id, d, len); break;
		case A_USER: dup_field(&a->user_id, d, len); break;
		case A_EMAIL: dup_field(&a->email, d, len); break;
		case A_EMAILS:
			if (len >= 1) {
				char *e = xstrndup(d + 1, len - 1);
				account_add_email(a, e, (enum link_how)(unsigned char)d[0]);
				free(e);
			}
			break;
		case A_NAME: dup_field(&a->name, d, len); break;
		case A_FIRST: dup_field(&a->first_name, d, len); break;
		case A_TZ: dup_field(&a->tz, d, len); break;
		case A_WORKSPACES: dup_field(&a->workspaces, d, len); break;
		default: break;
		}
	}
	if (rc < 0 || a->team_id == NULL || a->user_id == NULL) {
		account_free(a);
		return -1;
	}
	return 0;
}

enum {
	P_ID = 1, P_EMAIL, P_NAME, P_ACTIVE, P_STATUS, P_PPLAT, P_PTEAM, P_SOURCE, P_SYNC,
	P_FLAGS, P_PROMPTS, P_LASTPROMPT, P_SYNCED, P_CREATED, P_VERSION
};

void
codec_person_encode(const struct person *p, struct buf *out)
{
	buf_addc(out, REC_FORMAT);
	put_uint(out, P_ID, p->id);
	put_str(out, P_EMAIL, p->email);
	put_str(out, P_NAME, p->name);
	put_uint(out, P_ACTIVE, (uint64_t)p->active);
	put_uint(out, P_STATUS, p->status);
	/* stored +1 so that "none" (-1) is the absent zero */
	put_uint(out, P_PPLAT, (uint64_t)(p->primary_platform + 1));
	put_str(out, P_PTEAM, p->primary_team_id);
	put_uint(out, P_SOURCE, p->primary_source);
	put_uint(out, P_SYNC, p->sync_type);
	put_uint(out, P_FLAGS, p->flags);
	put_uint(out, P_PROMPTS, (uint64_t)p->prompt_count);
	put_sint(out, P_LASTPROMPT, p->last_prompted_at);
	put_sint(out, P_SYNCED, p->synced_at);
	put_sint(out, P_CREATED, p->created_at);
	put_uint(out, P_VERSION, p->version);
}

int
codec_person_view(const void *data, size_t n, struct person_view *p)
{
	struct rd r;
	unsigned f;
	int wt, rc;
	uint64_t v = 0;
	const char *d = NULL;
	size_t len = 0;

	memset(p, 0, sizeof(*p));
	p->primary_platform = -1;
	if (rd_start(&r, data, n) < 0)
		return -1;
	while ((rc = next_field(&r, &f, &wt, &v, &d, &len)) == 1) {
		if (wt == WT_VARINT) {
			switch (f) {
			case P_ID: p->id = v; break;
			case P_ACTIVE: p->active = v != 0; break;
			case P_STATUS: p->status = (uint8_t)(v <= ST_ON ? v : ST_OFF); break;
			case P_PPLAT: p->primary_platform = (int8_t)(v >= 1 && v <= PLAT_COUNT ? (int)v - 1 : -1); break;
			case P_SOURCE: p->primary_source = (uint8_t)(v <= PS_AUTO ? v : PS_NONE); break;
			case P_SYNC: p->sync_type = (uint8_t)(v <= SYNC_BOT ? v : SYNC_NONE); break;
			case P_FLAGS: p->flags = (uint32_t)v; break;
			case P_PROMPTS: p->prompt_count = (int32_t)v; break;
			case P_LASTPROMPT: p->last_prompted_at = unzig(v); break;
			case P_SYNCED: p->synced_at = unzig(v); break;
			case P_CREATED: p->created_at = unzig(v); break;
			case P_VERSION: p->version = (uint32_t)v; break;
			default: break;
			}
			continue;
		}
		switch (f) {
		case P_EMAIL: p->email = d; p->email_len = len; break;
		case P_NAME: p->name = d; p->name_len = len; break;
		case P_PTEAM: p->team = d; p->team_len = len; break;
		default: break;
		}
	}
	return rc < 0 || p->id == 0 ? -1 : 0;
}

int
codec_person_decode(const void *data, size_t n, struct person *p)
{
	struct person_view v;

	memset(p, 0, sizeof(*p));
	p->primary_platform = -1;
	if (codec_person_view(data, n, &v) < 0)
		return -1;
	p->id = v.id;
	p->email = v.email ? xstrndup(v.email, v.email_len) : NULL;
	p->name = v.name ? xstrndup(v.name, v.name_len) : NULL;
	p->active = v.active;
	p->status = v.status;
	p->primary_platform = v.primary_platform;
	p->primary_team_id = v.team ? xstrndup(v.team, v.team_len) : NULL;
	p->primary_source = v.primary_source;
	p->sync_type = v.sync_type;
	p->flags = v.flags;
	p->prompt_count = v.prompt_count;
	p->last_prompted_at = v.last_prompted_at;
	p->synced_at = v.synced_at;
	p->created_at = v.created_at;
	p->version = v.version;
	return 0;
}

enum {
	Q_ID = 1, Q_PERSON, Q_REASON, Q_STATE, Q_PLATFORM, Q_TEAM, Q_USER, Q_REF, Q_CHANNEL,
	Q_MSGID, Q_ERROR, Q_ATTEMPTS, Q_CREATED, Q_UPDATED, Q_DELIVERED, Q_VERSION
};

void
codec_prompt_encode(const struct prompt *p, struct buf *out)
{
	buf_addc(out, REC_FORMAT);
	put_uint(out, Q_ID, p->id);
	put_uint(out, Q_PERSON, p->person_id);
	put_uint(out, Q_REASON, p->reason);
	/* stored +1: "queued" is 0 and absent would read as queued anyway, but be explicit */
	put_uint(out, Q_STATE, (uint64_t)p->state + 1);
	put_uint(out, Q_PLATFORM, (uint64_t)p->platform + 1);
	put_str(out, Q_TEAM, p->team_id);
	put_str(out, Q_USER, p->user_id);
	put_str(out, Q_REF, p->ref);
	put_str(out, Q_CHANNEL, p->channel);
	put_str(out, Q_MSGID, p->message_id);
	put_str(out, Q_ERROR, p->error);
	put_uint(out, Q_ATTEMPTS, (uint64_t)p->attempts);
	put_sint(out, Q_CREATED, p->created_at);
	put_sint(out, Q_UPDATED, p->updated_at);
	put_sint(out, Q_DELIVERED, p->delivered_at);
	put_uint(out, Q_VERSION, p->version);
}

int
codec_prompt_decode(const void *data, size_t n, struct prompt *p)
{
	struct rd r;
	unsigned f;
	int wt, rc;
	uint64_t v = 0;
	const char *d = NULL;
	size_t len = 0;

	memset(p, 0, sizeof(*p));
	if (rd_start(&r, data, n) < 0)
		return -1;
	while ((rc = next_field(&r, &f, &wt, &v, &d, &len)) == 1) {
		if (wt == WT_VARINT) {
			switch (f) {
			case Q_ID: p->id = v; break;
			case Q_PERSON: p->person_id = v; break;
			case Q_REASON: p->reason = (uint8_t)v; break;
			case Q_STATE: p->state = (uint8_t)(v >= 1 && v <= PQ_CANCELLED + 1 ? v - 1 : PQ_FAILED); break;
			case Q_PLATFORM: p->platform = (enum platform)(v >= 1 && v <= PLAT_COUNT ? v - 1 : 0); break;
			case Q_ATTEMPTS: p->attempts = (int32_t)v; break;
			case Q_CREATED: p->created_at = unzig(v); break;
			case Q_UPDATED: p->updated_at = unzig(v); break;
			case Q_DELIVERED: p->delivered_at = unzig(v); break;
			case Q_VERSION: p->version = (uint32_t)v; break;
			default: break;
			}
			continue;
		}
		switch (f) {
		case Q_TEAM: dup_field(&p->team_id, d, len); break;
		case Q_USER: dup_field(&p->user_id, d, len); break;
		case Q_REF: dup_field(&p->ref, d, len); break;
		case Q_CHANNEL: dup_field(&p->channel, d, len); break;
		case Q_MSGID: dup_field(&p->message_id, d, len); break;
		case Q_ERROR: dup_field(&p->error, d, len); break;
		default: break;
		}
	}
	if (rc < 0 || p->id == 0 || p->team_id == NULL || p->user_id == NULL) {
		prompt_free(p);
		return -1;
	}
	return 0;
}

enum { H_TS = 1, H_KIND, H_TEXT };

void
codec_history_encode(int64_t ts, const char *kind, const char *text, struct buf *out)
{
	buf_addc(out, REC_FORMAT);
	put_sint(out, H_TS, ts);
	put_str(out, H_KIND, kind);
	put_str(out, H_TEXT, text);
}

int
codec_history_decode(const void *data, size_t n, int64_t *ts, char **kind, char **text)
{
	struct rd r;
	unsigned f;
	int wt, rc;
	uint64_t v = 0;
	const char *d = NULL;
	size_t len = 0;

	*ts = 0;
	*kind = *text = NULL;
	if (rd_start(&r, data, n) < 0)
		return -1;
	while ((rc = next_field(&r, &f, &wt, &v, &d, &len)) == 1) {
		if (wt == WT_VARINT && f == H_TS)
			*ts = unzig(v);
		else if (wt == WT_BYTES && f == H_KIND)
			dup_field(kind, d, len);
		else if (wt == WT_BYTES && f == H_TEXT)
			dup_field(text, d, len);
	}
	if (rc < 0) {
		free(*kind);
		free(*text);
		*kind = *text = NULL;
		return -1;
	}
	if (*kind == NULL)
		*kind = xstrdup("");
	if (*text == NULL)
		*text = xstrdup("");
	return 0;
}

/* The encoder writes U_ID..U_RESOURCE and U_CREATED..U_MARKED in loops: keep them in a row. */
enum {
	U_PLATFORM = 1, U_PERSON, U_ID, U_TEAM, U_USER, U_RESOURCE, U_SALT, U_CREATED,
	U_EXPIRES, U_MARKED, U_STATE, U_FLAGS
};

void
codec_sub_encode(const struct sub *s, struct buf *out)
{
	const char *strs[] = { s->id, s->team, s->user, s->resource };	/* U_ID.. U_RESOURCE */
	const int64_t times[] = { s->created, s->expires, s->marked };	/* U_CREATED.. U_MARKED */
	unsigned i;

	buf_addc(out, REC_FORMAT);
	/* platform stored +1: absent (0) is refused by the decoder */
	put_uint(out, U_PLATFORM, (uint64_t)s->platform + 1);
	put_uint(out, U_PERSON, s->person_id);
	for (i = 0; i < 4; i++)
		put_str(out, U_ID + i, strs[i]);
	put_bytes(out, U_SALT, s->salt, SUB_SALT_LEN);
	for (i = 0; i < 3; i++)
		put_sint(out, U_CREATED + i, times[i]);
	put_uint(out, U_STATE, (uint64_t)s->state);
	put_uint(out, U_FLAGS, s->flags);
}

/* The varint fields of a subscription record; an out-of-range platform or state is -1. */
static int
sub_varint(struct sub *s, unsigned f, uint64_t v)
{
	switch (f) {
	case U_PLATFORM:
		if (v < 1 || v > PLAT_COUNT)
			return -1;
		s->platform = (enum platform)(v - 1);
		break;
	case U_PERSON: s->person_id = v; break;
	case U_CREATED: s->created = unzig(v); break;
	case U_EXPIRES: s->expires = unzig(v); break;
	case U_MARKED: s->marked = unzig(v); break;
	case U_STATE:
		if (v >= SUB_STATE_COUNT)
			return -1;
		s->state = (int)v;
		break;
	case U_FLAGS: s->flags = (uint32_t)v; break;
	default: break;
	}
	return 0;
}

/* The bytes fields of a subscription record; *salt notes a salt of the right size. */
static void
sub_bytes(struct sub *s, unsigned f, const char *d, size_t len, int *salt)
{
	char **slot[] = { [U_ID] = &s->id, [U_TEAM] = &s->team, [U_USER] = &s->user,
	    [U_RESOURCE] = &s->resource };

	if (f < sizeof(slot) / sizeof(slot[0]) && slot[f] != NULL) {
		dup_field(slot[f], d, len);
	} else if (f == U_SALT && len == SUB_SALT_LEN) {
		memcpy(s->salt, d, SUB_SALT_LEN);
		*salt = 1;
	}
}

int
codec_sub_decode(const void *data, size_t n, struct sub *s)
{
	struct rd r;
	struct { unsigned f; int wt; uint64_t v; const char *d; size_t len; } x = { 0 };
	int rc = -1, salt = 0;

	memset(s, 0, sizeof(*s));
	s->platform = PLAT_COUNT;
	if (rd_start(&r, data, n) == 0)
		while ((rc = next_field(&r, &x.f, &x.wt, &x.v, &x.d, &x.len)) == 1) {
			if (x.wt == WT_VARINT && sub_varint(s, x.f, x.v) < 0)
				rc = -1;
			else if (x.wt == WT_BYTES)
				sub_bytes(s, x.f, x.d, x.len, &salt);
			if (rc < 0)
				break;
		}
	if (rc < 0 || !salt || s->platform == PLAT_COUNT || s->id == NULL || !*s->id) {
		/* freed here, not by sub_free: codec.c calls nothing of subs.c (no cycle) */
		free(s->id);
		free(s->team);
		free(s->user);
		free(s->resource);
		memset(s, 0, sizeof(*s));
		return -1;
	}
	return 0;
}

enum {
	S_PERSON = 1, S_NONCE, S_LINK_EXP, S_EXP, S_CSRF, S_DONE, S_CHOSEN_PLATFORM,
	S_CHOSEN_TEAM, S_PLAT
};
enum { SP_INDEX = 1, SP_STATE, SP_VERIFIER, SP_TEAM, SP_USER, SP_SIGNIN_TEAM };

void
codec_session_encode(const struct web_session *s, struct buf *out)
{
	struct buf sub = { 0 };

	buf_addc(out, REC_FORMAT);
	put_uint(out, S_PERSON, s->person);
	put_bytes(out, S_NONCE, s->nonce, sizeof(s->nonce));
	put_sint(out, S_LINK_EXP, s->link_exp);
	put_sint(out, S_EXP, s->exp);
	put_str(out, S_CSRF, s->csrf);
	put_uint(out, S_DONE, s->done != 0);
	put_uint(out, S_CHOSEN_PLATFORM, (uint64_t)(s->chosen_platform + 1));	/* -1: absent */
	put_str(out, S_CHOSEN_TEAM, s->chosen_team);
	for (int i = 0; i < PLAT_COUNT; i++) {
		const struct web_session_plat *sp = &s->p[i];
		buf_reset(&sub);
		/* stored +1: absent would read as 0 */
		put_uint(&sub, SP_INDEX, (uint64_t)i + 1);
		put_str(&sub, SP_STATE, sp->state);
		put_str(&sub, SP_VERIFIER, sp->verifier);
		put_str(&sub, SP_TEAM, sp->team);
		put_str(&sub, SP_USER, sp->user);
		put_str(&sub, SP_SIGNIN_TEAM, sp->signin_team);
		put_bytes(out, S_PLAT, sub.p, sub.len);
	}
	if (sub.p)
		explicit_bzero(sub.p, sub.len);		/* it held the state and verifier */
	buf_free(&sub);
}

/* A string field into a fixed array: -1 when it does not fit. */
static int
copy_field(char *out, size_t outlen, const char *d, size_t n)
{
	if (n >= outlen || memchr(d, '\0', n) != NULL)
		return -1;
	memcpy(out, d, n);
	out[n] = '\0';
	return 0;
}

/* One platform's part of a session (S_PLAT): its index is stored + 1. *seen counts them. */
static int
session_plat_decode(const char *data, size_t n, struct web_session *s, int *seen)
{
	struct rd r = { (const unsigned char *)data, (const unsigned char *)data + n };
	struct web_session_plat tmp, *sp;
	unsigned f;
	int wt, rc, index = -1;
	uint64_t v = 0;
	const char *d = NULL;
	size_t len = 0;

	memset(&tmp, 0, sizeof(tmp));
	while ((rc = next_field(&r, &f, &wt, &v, &d, &len)) == 1) {
		if (wt == WT_VARINT && f == SP_INDEX && v >= 1 && v <= PLAT_COUNT)
			index = (int)v - 1;
		else if (wt == WT_BYTES && f == SP_STATE)
			rc = copy_field(tmp.state, sizeof(tmp.state), d, len);
		else if (wt == WT_BYTES && f == SP_VERIFIER)
			rc = copy_field(tmp.verifier, sizeof(tmp.verifier), d, len);
		else if (wt == WT_BYTES && f == SP_TEAM)
			dup_field(&tmp.team, d, len);
		else if (wt == WT_BYTES && f == SP_USER)
			dup_field(&tmp.user, d, len);
		else if (wt == WT_BYTES && f == SP_SIGNIN_TEAM)
			dup_field(&tmp.signin_team, d, len);
		if (rc < 0)
			break;
	}
	sp = index >= 0 ? &s->p[index] : NULL;
	if (rc < 0 || sp == NULL || (*seen & (1 << index))) {
		free(tmp.team);
		free(tmp.user);
		free(tmp.signin_team);
		explicit_bzero(&tmp, sizeof(tmp));
		return -1;
	}
	*seen |= 1 << index;
	*sp = tmp;
	explicit_bzero(&tmp, sizeof(tmp));
	return 0;
}

int
codec_session_decode(const void *data, size_t n, struct web_session *s)
{
	struct rd r;
	unsigned f;
	int wt, rc, seen = 0;
	uint64_t v = 0;
	const char *d = NULL;
	size_t len = 0, nonce = 0;

	if (rd_start(&r, data, n) < 0)
		return -1;
	while ((rc = next_field(&r, &f, &wt, &v, &d, &len)) == 1) {
		if (wt == WT_VARINT) {
			switch (f) {
			case S_PERSON: s->person = v; break;
			case S_LINK_EXP: s->link_exp = unzig(v); break;
			case S_EXP: s->exp = unzig(v); break;
			case S_DONE: s->done = v != 0; break;
			case S_CHOSEN_PLATFORM:
				s->chosen_platform = v <= PLAT_COUNT ? (int)v - 1 : PLAT_COUNT;
				break;
			default: break;
			}
			continue;
		}
		switch (f) {
		case S_NONCE:
			if ((nonce = len) == sizeof(s->nonce))
				memcpy(s->nonce, d, len);
			break;
		case S_CSRF: rc = copy_field(s->csrf, sizeof(s->csrf), d, len); break;
		case S_CHOSEN_TEAM: dup_field(&s->chosen_team, d, len); break;
		case S_PLAT: rc = session_plat_decode(d, len, s, &seen); break;
		default: break;
		}
		if (rc < 0)
			break;
	}
	if (rc < 0 || s->person == 0 || nonce != sizeof(s->nonce) ||
	    seen != (1 << PLAT_COUNT) - 1 || s->chosen_platform >= PLAT_COUNT)
		return -1;
	return 0;
}
