/*
 * admin_p.h — private to the admin console (web/admin*.c): one request of a signed-in
 * admin, the page layout, forms, and the handlers of each page.
 *
 * The console lives under public_url/admin (docs/admin-console.md):
 *	GET  /admin			the People page (the sign-in page when signed out)
 *	GET  /admin/signin/<platform>	off to the platform's sign-in
 *	GET  /admin/oauth/<platform>/callback	back from it: an admin gets a session
 *	POST /admin/signout
 *	GET  /admin/person/<id>		a person's page
 *	GET  /admin/conflicts, /admin/audit
 *	GET  /admin/export.csv|.json|.html	the table's export with the current filters
 *	GET  /admin/bulk		the preview of a bulk prompt for the current filters
 *	POST /admin/bulk, /admin/prompt, /admin/auto-prompt, /admin/link, /admin/unlink,
 *	     /admin/synclink		the actions (CSRF token and Origin checked)
 *	GET  /admin/console.css, /admin/console.js
 */
#ifndef PS_ADMIN_P_H
#define PS_ADMIN_P_H

#include "query.h"
#include "web_p.h"

#define ADMIN_EMAIL_MAX	254

struct admin_req {
	struct server		*sv;
	struct MHD_Connection	*conn;
	struct reply		*rp;
	const struct buf	*body;		/* a POST's body */
	char			 email[ADMIN_EMAIL_MAX + 1];	/* the admin signed in */
	char			 csrf[SESSION_SECRET_LEN + 1];
};

/* ---- admin_html.c ---- */
/* The page: title (our text), body (HTML), for the signed-in admin (a header with the
 * console's links and the sign-out) or not (email ""). status 200 unless said. */
void	admin_page(struct admin_req *a, unsigned status, const char *title, const char *body);
/* The same, with head (trusted HTML, NULL none) added to the page's head. */
void	admin_page_head(struct admin_req *a, unsigned status, const char *title,
	    const char *body, const char *head);
/* A short page saying what happened (text: our HTML), with a link back (href: under
 * /admin, escaped here). */
void	admin_notice(struct admin_req *a, unsigned status, const char *title, const char *text,
	    const char *back);
/* A GET argument (decoded by libmicrohttpd), NULL when absent. */
const char *admin_arg(struct admin_req *a, const char *name);
/* The values of name in a POST body, decoded: cb(value, arg) for each, until non-zero.
 * form_get: the first (caller frees), NULL when absent or not UTF-8. */
int	admin_form_each(const struct buf *body, const char *name,
	    int (*cb)(const char *v, void *arg), void *arg);
char	*admin_form_get(const struct buf *body, const char *name);
/* The hidden CSRF field of every form. */
void	admin_csrf_field(struct admin_req *a, struct buf *b);
/* A write txn for an admin action (end it with end_write). NULL: store error (noted, page
 * written). admin_write_failed: the page of a write that failed (what: for the log). */
struct txn *admin_begin_write(struct admin_req *a);
void	admin_write_failed(struct admin_req *a, const char *what);
/* Records an admin action in the audit list and, for a person, in their history. 0/-1. */
int	admin_record(struct admin_req *a, struct txn *t, uint64_t person, const char *action,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- admin_assets.c: console.css and console.js (name: "css" or "js") ---- */
enum web_outcome admin_asset(struct admin_req *a, const char *name);

/* ---- admin_query.c: the filters, sort and page of the URL ---- */
extern const char *const admin_status_names[3];	/* "off", "pending", "on" */
extern const char *const admin_type_names[3];	/* "", "user", "bot" */
/* The index of s in names (n of them; "" never matches), or -1. */
int	admin_name_index(const char *s, const char *const *names, int n);
/* The filters of the URL (or of a POST's body when body is not NULL) into q; strings
 * point into the request or into *hold (freed by the caller). */
void	admin_query(struct admin_req *a, const struct buf *body, struct query *q,
	    struct buf *hold);
void	admin_query_free(struct buf *hold);
/* The query string of q's filters (and sort, unless filters_only), escaped for HTML. */
void	admin_query_string(const struct query *q, int filters_only, struct buf *out);
/* The hidden fields of q's filters, for a form that acts on them. */
void	admin_query_fields(const struct query *q, struct buf *out);

/* ---- admin_people.c: the People page and the exports ---- */
enum web_outcome admin_people(struct admin_req *a);
enum web_outcome admin_export(struct admin_req *a, const char *fmt);

/* ---- admin_person.c: a person, conflicts, audit, link/unlink, Sync now link ---- */
enum web_outcome admin_person(struct admin_req *a, const char *id);
enum web_outcome admin_conflicts(struct admin_req *a);
enum web_outcome admin_audit(struct admin_req *a);
enum web_outcome admin_link(struct admin_req *a, int unlink);
enum web_outcome admin_synclink(struct admin_req *a);

/* ---- admin_prompt.c: prompting and auto-prompt ---- */
enum web_outcome admin_prompt(struct admin_req *a);
enum web_outcome admin_bulk_preview(struct admin_req *a);
enum web_outcome admin_bulk(struct admin_req *a);
enum web_outcome admin_auto_prompt(struct admin_req *a);

#endif
