/*
 * admin_html.c — what every page of the admin console shares (web/admin_p.h): the layout,
 * a notice, the request's arguments and form fields, the CSRF field, the write txn of an
 * action and the record of it (audit list and history).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_p.h"

/* ---- pages ---- */

void
admin_page_head(struct admin_req *a, unsigned status, const char *title, const char *body,
    const char *head)
{
	struct reply *rp = a->rp;
	struct buf *b = &rp->html;
	const char *base = a->sv->base;

	rp->status = status;
	rp->ctype = "text/html; charset=utf-8";
	rp->csp = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
	    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
	buf_reset(b);
	htmlf(b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	    "<meta name=\"robots\" content=\"noindex\"><title>%s — People Sync console</title>"
	    "<link rel=\"stylesheet\" href=\"%s/admin/console.css\">"
	    "<script src=\"%s/admin/console.js\" defer></script>%r</head><body>", title, base,
	    base, head ? head : "");
	if (a->email[0]) {
		htmlf(b, "<header><nav aria-label=\"Console\"><a href=\"%s/admin\">People</a> "
		    "<a href=\"%s/admin/conflicts\">Conflicts</a> <a href=\"%s/admin/audit\">"
		    "Audit</a></nav><form method=\"post\" action=\"%s/admin/signout\">", base,
		    base, base, base);
		admin_csrf_field(a, b);
		htmlf(b, "<span class=\"who\">%s</span> <button type=\"submit\">Sign out</button>"
		    "</form></header>", a->email);
	}
	htmlf(b, "<main><h1>%s</h1>%r</main></body></html>\n", title, body);
}

void
admin_page(struct admin_req *a, unsigned status, const char *title, const char *body)
{
	admin_page_head(a, status, title, body, NULL);
}

void
admin_notice(struct admin_req *a, unsigned status, const char *title, const char *text,
    const char *back)
{
	struct buf body = { 0 };

	htmlf(&body, "<p>%r</p><p><a href=\"%s/admin%s\">Back</a></p>", text, a->sv->base,
	    back ? back : "");
	admin_page(a, status, title, body.p);
	buf_free(&body);
}

const char *
admin_arg(struct admin_req *a, const char *name)
{
	return MHD_lookup_connection_value(a->conn, MHD_GET_ARGUMENT_KIND, name);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes one form-urlencoded component into out (reset first): 0, or -1 when it is not
 * UTF-8 text. */
static int
form_decode(const char *s, size_t n, struct buf *out)
{
	buf_reset(out);
	buf_reserve(out, n);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+')
			buf_addc(out, ' ');
		else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			buf_addc(out, (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2])));
			i += 2;
		} else
			buf_addc(out, s[i]);
	}
	if (out->p == NULL)
		buf_adds(out, "");
	return memchr(out->p, 0, out->len) || !utf8_valid(out->p, out->len) ? -1 : 0;
}

int
admin_form_each(const struct buf *body, const char *name, int (*cb)(const char *v, void *arg),
    void *arg)
{
	const char *p = body && body->p ? body->p : "", *end = p + (body ? body->len : 0);
	struct buf k = { 0 }, v = { 0 };
	int r = 0;

	while (p < end && r == 0) {
		const char *amp = memchr(p, '&', (size_t)(end - p)), *fe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(fe - p));
		if (eq && form_decode(p, (size_t)(eq - p), &k) == 0 && strcmp(k.p, name) == 0 &&
		    form_decode(eq + 1, (size_t)(fe - eq - 1), &v) == 0)
			r = cb(v.p, arg);
		p = fe + 1;
	}
	buf_free(&k);
	buf_free(&v);
	return r;
}

static int
first_cb(const char *v, void *arg)
{
	*(char **)arg = xstrdup(v);
	return 1;
}

char *
admin_form_get(const struct buf *body, const char *name)
{
	char *v = NULL;

	admin_form_each(body, name, first_cb, &v);
	return v;
}

void
admin_csrf_field(struct admin_req *a, struct buf *b)
{
	htmlf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", a->csrf);
}

struct txn *
admin_begin_write(struct admin_req *a)
{
	struct txn *t = begin_write(a->sv);

	if (t == NULL)
		admin_write_failed(a, "begin write");
	return t;
}

void
admin_write_failed(struct admin_req *a, const char *what)
{
	store_fail(a->sv, a->rp, what);
	admin_notice(a, 503, "Please try again in a minute", "The database could not be "
	    "written just now; nothing was changed.", NULL);
}

int
admin_record(struct admin_req *a, struct txn *t, uint64_t person, const char *action,
    const char *fmt, ...)
{
	struct buf text = { 0 };
	va_list ap;
	time_t now = ps_now();
	int rc;

	va_start(ap, fmt);
	buf_vprintf(&text, fmt, ap);
	va_end(ap);
	rc = store_audit_add(t, (int64_t)now, a->email, action, person, text.p ? text.p : "");
	if (rc == 0 && person != 0)
		rc = store_history_add(t, person, (int64_t)now, "admin", "%s by %s: %s", action,
		    a->email, text.p ? text.p : "");
	buf_free(&text);
	return rc;
}

