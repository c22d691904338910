/*
 * serve.h — the web endpoint behind "Sync now" links (`peoplesync serve`, web/): pages,
 * sessions and the handlers of the flow described in docs/sync-now.md.
 */
#ifndef PS_SERVE_H
#define PS_SERVE_H

#include "config.h"
#include "fail.h"
#include "store.h"

struct server;

/*
 * Checks what serve needs before anything is opened, in this order: listen is ADDR:PORT
 * (ADDR may be [v6]; FAIL_USAGE), cfg has link_key and token_key (FAIL_CONFIG), each enabled
 * platform has an OAuth client (a warning for each that has not), public_url is a URL
 * (FAIL_CONFIG). Returns the server (serve_free), or NULL with f set. cfg must outlive it.
 */
struct server	*serve_new(const struct config *cfg, const char *listen, struct failure *f);

/*
 * Serves the pages from st until SIGTERM or SIGINT (blocked in the calling thread, which
 * waits for them; SIGPIPE is ignored), then stops cleanly. One log line per request, without
 * tokens, codes or query strings. FAIL_NONE after a clean stop; FAIL_LATER with f set when
 * it cannot listen.
 */
enum fail	 serve_run(struct server *sv, struct store *st, struct failure *f);
void		 serve_free(struct server *sv);

#endif
