/*
 * events.c — what the three event receivers (events_slack.c, events_teams.c,
 * events_webex.c) share: their short text/plain answers, the HMAC of a signed body, and
 * the commit of verified events to the inbox (include/inbox.h) before the 2xx.
 *
 * A receiver verifies, deduplicates and commits; nothing else. The work (the auto-prompt
 * rule, lookups) is the next reconcile's. A refused request writes nothing at all.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "inbox.h"
#include "web_p.h"

void
ev_reply(struct reply *rp, unsigned status, const char *text)
{
	rp->status = status;
	rp->ctype = "text/plain; charset=utf-8";
	buf_reset(&rp->html);
	buf_adds(&rp->html, text);
}

enum web_outcome
ev_refuse(struct reply *rp, unsigned status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rp->note, sizeof(rp->note), fmt, ap);
	va_end(ap);
	ev_reply(rp, status, status == 413 ? "too large\n" : status == 400 ? "bad request\n" :
	    "refused\n");
	return WO_OK;
}

int
ev_hmac_hex(const char *md_name, const void *key, size_t klen, const struct buf *parts,
    int nparts, char *out, size_t outlen)
{
	OSSL_PARAM params[2];
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t n = 0, i;
	int rc = -1;

	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)md_name, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (c == NULL || EVP_MAC_init(c, key, klen, params) != 1)
		goto out;
	for (i = 0; i < (size_t)nparts; i++)
		if (parts[i].len && EVP_MAC_update(c, (const unsigned char *)parts[i].p,
		    parts[i].len) != 1)
			goto out;
	if (EVP_MAC_final(c, md, &n, sizeof(md)) != 1 || outlen < 2 * n + 1)
		goto out;
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(mac);
	explicit_bzero(md, sizeof(md));
	return rc;
}

int
ev_id_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= max && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_.:@=+/") == n;
}

void
ev_item_free(struct ev_item *it)
{
	free(it->msgkey);
	free(it->from);
	free(it->to);
	memset(it, 0, sizeof(*it));
}

int
ev_commit(struct server *sv, const char *platform, struct ev_item *items, int n, int *added)
{
	char name[48];
	struct txn *t;
	int i, r = 0, dup = 0;

	*added = 0;
	if ((t = begin_write(sv)) == NULL)
		return -1;
	for (i = 0; i < n && r >= 0; i++) {
		if ((r = store_inbox_add(t, items[i].msgkey, items[i].from, items[i].to,
		    items[i].ts)) == 0)
			++*added;
		else if (r == 1)
			dup++;
	}
	snprintf(name, sizeof(name), "%s.events", platform);
	if (r >= 0 && *added)
		r = store_inbox_counter_add(t, name, (uint64_t)*added);
	snprintf(name, sizeof(name), "%s.duplicates", platform);
	if (r >= 0 && dup)
		r = store_inbox_counter_add(t, name, (uint64_t)dup);
	if (r < 0) {
		log_err("serve: %s events: %s", platform, store_error(sv->st));
		end_write(sv, t, 0);
		return -1;
	}
	if (end_write(sv, t, 1) < 0) {
		log_err("serve: %s events: %s", platform, store_error(sv->st));
		return -1;
	}
	return 0;
}
