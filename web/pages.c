/*
 * pages.c — the HTML of the Sync now pages: the one template, the HTML formatter (untrusted
 * text through buf_html_esc) and the table of outcomes: every refusal, redirect and plain
 * page with its status, title, text and "what happens next".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "web_p.h"

/*
 * Appends fmt to b: "%s" inserts an argument HTML-escaped, "%r" a trusted fragment as is,
 * "%%" a '%'. Every other character is copied.
 */
void
htmlf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%' || fmt[1] == '\0') {
			buf_addc(b, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == 's')
			buf_html_esc(b, va_arg(ap, const char *));
		else if (*fmt == 'r')
			buf_adds(b, va_arg(ap, const char *));
		else
			buf_addc(b, *fmt);
	}
	va_end(ap);
}

static const char css[] =
"*{box-sizing:border-box}"
"body{margin:0;background:#f4f5f7;color:#1c1e21;"
"font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}"
"main{max-width:36rem;margin:0 auto;padding:1.25rem 1rem 2rem}"
".card{background:#fff;border-radius:12px;padding:1.25rem 1.25rem 1rem;"
"box-shadow:0 1px 3px rgba(0,0,0,.1)}"
"h1{font-size:1.4rem;line-height:1.25;margin:0 0 .75rem}"
"h1.bad{color:#a4161a}h1.good{color:#17663a}"
"ol{padding-left:1.3rem}li{margin:.75rem 0}"
".btn,button{display:inline-block;background:#2155d6;color:#fff;border:0;"
"border-radius:8px;padding:.6rem 1.1rem;font:inherit;font-weight:600;"
"text-decoration:none;cursor:pointer}"
".ok{color:#17663a;font-weight:600}.muted{color:#5c6370;font-size:.92rem}"
".primary{font-size:1.15rem}"
"fieldset{border:0;padding:0;margin:0 0 1rem}legend{font-weight:600;margin-bottom:.25rem}"
"label{display:block;border:1px solid #d5d8dd;border-radius:8px;padding:.6rem .75rem;"
"margin:.4rem 0;cursor:pointer}"
".next{background:#eef2fb;border-radius:8px;padding:.75rem .9rem;margin:1rem 0 0}"
"footer{color:#7a808a;font-size:.8rem;text-align:center;margin-top:1rem}"
"@media (prefers-color-scheme:dark){body{background:#17181b;color:#e8e9eb}"
".card{background:#222428}.next{background:#27304a}label{border-color:#3a3d44}"
".muted{color:#a3a8b1}}";

/* The whole page: title (our text), body and the "what happens next" paragraph (HTML). */
void
page(struct reply *rp, unsigned status, const char *h1class, const char *title,
    const char *body, const char *next)
{
	struct buf *b = &rp->html;

	rp->status = status;
	rp->ctype = "text/html; charset=utf-8";
	buf_reset(b);
	htmlf(b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	    "<meta name=\"robots\" content=\"noindex\">"
	    "<title>%s — People Sync</title><style>%r</style></head><body><main>"
	    "<div class=\"card\"><h1 class=\"%r\">%s</h1>%r"
	    "<p class=\"next\"><strong>What happens next:</strong> %r</p></div>"
	    "<footer>People Sync</footer></main></body></html>\n",
	    title, css, h1class, title, body, next);
}

#define NEXT_NEW_LINK \
	"nothing was changed. Open the newest Sync now link you received (in the People Sync " \
	"message in your chat app), or ask your administrator to send you a new one."

/*
 * Every page but the two a handler writes itself. text is our own HTML, one paragraph; a
 * "%s" in it stands for rp->subject (escaped). to: a redirect's path under public_url.
 */
static const struct outcome {
	unsigned	 status;
	const char	*h1class;
	const char	*title;
	const char	*text;
	const char	*next;
	const char	*to;
} outcomes[WO_COUNT] = {
	[WO_HOME] = { 200, "", "People Sync",
	    "This is where People Sync's <em>Sync now</em> links lead. Syncing connects your "
	    "chat accounts so that colleagues on other chat platforms can reach you in the one "
	    "place you choose.",
	    "open the Sync now link from the People Sync message in your chat app; it takes you "
	    "through the steps.", NULL },
	[WO_TO_SYNC] = { 303, "", "One moment", "Taking you to the next step.",
	    "your browser goes on by itself.", "/sync" },
	[WO_TO_DONE] = { 303, "", "One moment", "Taking you to the next step.",
	    "your browser goes on by itself.", "/done" },
	[WO_TO_SIGNIN] = { 302, "", "One moment", "Taking you to the sign-in page.",
	    "sign in as yourself and allow People Sync; you then come back here.", NULL },
	[WO_LINK_MALFORMED] = { 400, "bad", "This link is incomplete",
	    "The address you opened is not a whole Sync now link: part of it may have been cut "
	    "off when it was copied.", NEXT_NEW_LINK, NULL },
	[WO_LINK_FORGED] = { 403, "bad", "This link is not valid",
	    "People Sync did not issue this link, or it was changed after it was sent.",
	    NEXT_NEW_LINK, NULL },
	[WO_LINK_EXPIRED] = { 410, "bad", "This link has expired",
	    "Sync now links work for a limited time, and this one is past it.",
	    NEXT_NEW_LINK, NULL },
	[WO_LINK_USED] = { 409, "", "You have already synced with this link",
	    "This Sync now link was already used to complete syncing, so it cannot be used "
	    "again.",
	    "nothing more to do: your primary team is set. To change it, ask your administrator "
	    "for a new Sync now link.", NULL },
	[WO_LINK_USED_MEANWHILE] = { 409, "", "You have already synced with this link",
	    "Syncing was completed with this link (perhaps in another window), so it cannot be "
	    "used again.", "nothing more to do: your primary team is set.", NULL },
	[WO_PERSON_GONE] = { 410, "bad", "This link is no longer valid",
	    "The chat accounts this link was made for are no longer active.",
	    NEXT_NEW_LINK, NULL },
	[WO_STORE] = { 503, "bad", "Please try again in a minute",
	    "People Sync could not read or write its database just now.",
	    "nothing was lost. Reload this page in a minute; if it keeps happening, tell your "
	    "administrator.", NULL },
	[WO_BUSY] = { 503, "bad", "Please try again in a few minutes",
	    "Too many people are in the middle of syncing right now.",
	    "nothing was changed. Open your Sync now link again in a few minutes.", NULL },
	[WO_NO_SESSION] = { 403, "bad", "Your Sync now session has ended",
	    "This page belongs to a Sync now session that has expired (sessions last an hour), "
	    "or your browser did not send its cookie (cookies must be allowed for this site).",
	    "nothing was changed. Open your Sync now link again from the People Sync message in "
	    "your chat app; you will start over where you left off.", NULL },
	[WO_NOTHING_TO_CONNECT] = { 404, "bad", "Nothing to connect there",
	    "You have no account on that platform that People Sync can sign you in to.",
	    "go back to your Sync now page and follow the steps it shows.", NULL },
	[WO_STATE_MISMATCH] = { 400, "bad", "This sign-in does not belong to your session",
	    "The answer from the sign-in page does not match the Sync now session in this "
	    "browser. This happens when a sign-in was started in another browser or window, or "
	    "when someone tried to slip their own sign-in into yours.",
	    "nothing was saved. Go back to your Sync now page and press Connect again.", NULL },
	[WO_STATE_SPENT] = { 400, "bad", "This sign-in was already used",
	    "This answer from the sign-in page was already received once.",
	    "go back to your Sync now page; press Connect again if the step is not done.",
	    NULL },
	[WO_SIGNIN_CANCELLED] = { 200, "bad", "Sign-in cancelled",
	    "You did not allow People Sync to use your %s account.",
	    "nothing was saved. Go back to your Sync now page and press Connect to try again.",
	    NULL },
	[WO_SIGNIN_INCOMPLETE] = { 400, "bad", "Sign-in did not complete",
	    "The %s sign-in page did not complete.",
	    "nothing was saved. Go back to your Sync now page and press Connect to try again.",
	    NULL },
	[WO_EXCHANGE_FAILED] = { 502, "bad", "Sign-in did not complete",
	    "%s did not complete the sign-in for People Sync.",
	    "nothing was saved. Go back to your Sync now page and press Connect to try again; "
	    "if it fails again, tell your administrator.", NULL },
	[WO_NOT_YOURS] = { 403, "bad", "That is not your account",
	    "You signed in to %s with an account that is not yours according to your "
	    "organisation's directory, or that People Sync does not know as active.",
	    "nothing was saved. Go back to your Sync now page, press Connect again and sign in "
	    "with your own account (sign out of the other one first if the sign-in page does not "
	    "ask).", NULL },
	[WO_SESSION_ENDED_SIGNIN] = { 403, "bad", "Your Sync now session has ended",
	    "The session expired while you were signing in.",
	    "nothing was saved. Open your Sync now link again.", NULL },
	[WO_FORM_EXPIRED] = { 403, "bad", "This form has expired",
	    "The form you sent does not belong to your current Sync now session.",
	    "nothing was changed. Go back to your Sync now page, reload it and choose your "
	    "primary team again.", NULL },
	[WO_NO_TEAM] = { 400, "bad", "Please choose a team",
	    "The form did not say which team you chose.",
	    "go back to your Sync now page and choose one of your teams.", NULL },
	[WO_UNKNOWN_TEAM] = { 400, "bad", "Please choose a team", "That is not one of your teams.",
	    "go back to your Sync now page and choose one of your teams.", NULL },
	[WO_SESSION_ENDED_CONFIRM] = { 403, "bad", "Your Sync now session has ended",
	    "The session expired before you confirmed.",
	    "nothing was changed. Open your Sync now link again.", NULL },
	[WO_NOT_CONNECTED] = { 409, "", "Connect your accounts first",
	    "Every account on your Sync now page must be connected before you choose your "
	    "primary team.",
	    "nothing was changed. Go back to your Sync now page and connect the accounts it "
	    "lists.", NULL },
	[WO_NOT_YOUR_TEAM] = { 400, "bad", "Please choose one of your teams",
	    "That team is not one of the teams you have an active account in.",
	    "nothing was changed. Go back to your Sync now page and choose again.", NULL },
	[WO_NOT_FOUND] = { 404, "bad", "Page not found", "There is no page at this address.",
	    "open the Sync now link from the People Sync message in your chat app.", NULL },
	[WO_BAD_METHOD] = { 405, "bad", "Not like this",
	    "This address does not take that kind of request.",
	    "open the Sync now link from your chat app instead.", NULL },
	[WO_ONLY_GET_POST] = { 405, "bad", "Not like this",
	    "This service only answers GET and POST requests.",
	    "open the Sync now link from your chat app instead.", NULL },
	[WO_TOO_BIG] = { 413, "bad", "Too much data",
	    "The request carried more data than any People Sync form sends.",
	    "go back to your Sync now page and try again.", NULL },
	[WO_INTERNAL] = { 500, "bad", "Something went wrong",
	    "People Sync could not answer this request.", "reload the page.", NULL },
};

void
outcome_page(const struct server *sv, struct reply *rp, enum web_outcome o)
{
	const struct outcome *oc = &outcomes[o];
	struct buf body = { 0 };

	htmlf(&body, "<p>");
	htmlf(&body, oc->text, rp->subject);
	htmlf(&body, "</p>");
	if (oc->to) {
		free(rp->location);
		rp->location = xasprintf("%s%s", sv->base, oc->to);
	}
	page(rp, oc->status, oc->h1class, oc->title, body.p, oc->next);
	buf_free(&body);
}

enum web_outcome
store_fail(const struct server *sv, struct reply *rp, const char *what)
{
	log_err("serve: %s: %s", what, store_error(sv->st));
	snprintf(rp->note, sizeof(rp->note), "store error");
	return WO_STORE;
}
