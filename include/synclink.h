/* synclink.h — a fresh Sync now link for one person (the engine behind `sync-link`). */
#ifndef PS_SYNCLINK_H
#define PS_SYNCLINK_H

#include <time.h>

#include "config.h"
#include "fail.h"
#include "store.h"

/*
 * Appends to url the Sync now link (linktoken_url) of the person `who` names (an email
 * address or PLATFORM:USER_ID, as rec_find_person), valid until `expires`. cfg must have a
 * link_key. Returns FAIL_NONE, or with f's message: FAIL_IO (store error), FAIL_DATA (no
 * such person, or none of their accounts is active: a link would lead nowhere).
 */
enum fail	rec_sync_link(const struct config *cfg, struct store *st, const char *who,
		    time_t expires, struct buf *url, struct failure *f);

#endif
