/*
 * signin.c — the OAuth steps of Sync now: GET /connect/<platform> (a new state, and PKCE
 * for Teams, kept in the session; off to the platform's authorize page) and
 * GET /oauth/<platform>/callback (state and cookie checked, the code exchanged, the identity
 * checked against the person's accounts, the user token stored encrypted).
 *
 * With several Slack workspaces each may have its own OAuth client: the sign-in uses the
 * client of the workspace of the person's account, and the session keeps that team
 * (signin_team) so that the callback exchanges the code with the client that asked for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oauth.h"
#include "reconcile.h"
#include "scopes.h"
#include "usertoken_store.h"
#include "web_p.h"
#include "workspace.h"

/* ---- GET /connect/<platform> ---- */

struct remember {
	enum platform	 pl;
	const char	*state, *verifier;
	const char	*team;		/* whose instance's client signs in */
};

static int
remember_edit(struct web_session *cur, void *arg)
{
	const struct remember *r = arg;

	snprintf(cur->p[r->pl].state, sizeof(cur->p[r->pl].state), "%s", r->state);
	snprintf(cur->p[r->pl].verifier, sizeof(cur->p[r->pl].verifier), "%s", r->verifier);
	free(cur->p[r->pl].signin_team);
	cur->p[r->pl].signin_team = xstrdup(r->team);
	return 0;
}

/* The person's account on pl that signs in (the first whose instance has an OAuth client):
 * its team, a copy, and its instance in *pc; NULL when none. */
static char *
signin_team(const struct config *cfg, struct txn *t, const struct accts *ac, enum platform pl,
    const struct cfg_platform **pc)
{
	for (int i = 0; i < ac->n; i++)
		if (ac->a[i].platform == pl && (*pc = account_signin(cfg, t, &ac->a[i])) != NULL)
			return xstrdup(ac->a[i].team_id);
	*pc = NULL;
	return NULL;
}

enum web_outcome
h_connect(struct server *sv, struct MHD_Connection *conn, enum platform pl, struct reply *rp)
{
	struct web_session s;
	struct person p;
	struct accts ac = { 0 };
	struct buf url = { 0 }, redir = { 0 };
	struct txn *t;
	char state[OAUTH_STATE_LEN + 1], verifier[OAUTH_VERIFIER_LEN + 1];
	char challenge[OAUTH_CHALLENGE_LEN + 1];
	struct remember r = { pl, state, verifier, NULL };
	const struct cfg_platform *pc = NULL;
	char *team = NULL;
	enum web_outcome o;

	state[0] = verifier[0] = '\0';
	o = flow_begin(sv, conn, rp, &s, &t, &p, &ac);
	if (o == WO_OK)
		team = signin_team(sv->cfg, t, &ac, pl, &pc);
	if (t)
		store_abort(t);
	if (o != WO_OK)
		goto out;
	if (team == NULL) {
		o = WO_NOTHING_TO_CONNECT;
		goto out;
	}
	r.team = team;
	oauth_random_string(state, OAUTH_STATE_LEN);
	if (oauth_uses_pkce(pl)) {
		oauth_random_string(verifier, OAUTH_VERIFIER_LEN);
		oauth_pkce_challenge(verifier, challenge);
	}
	/* another tab may have connected a platform meanwhile: sess_update re-reads */
	if (sess_update(sv, s.key, remember_edit, &r) != 0) {
		o = store_fail(sv, rp, "write session");
		goto out;
	}
	oauth_redirect_uri(sv->base, pl, &redir);
	oauth_inst_authorize_url(sv->cfg, pl, pc, redir.p, state,
	    oauth_uses_pkce(pl) ? challenge : NULL, &url);
	rp->location = xstrdup(url.p);
	snprintf(rp->note, sizeof(rp->note), "to %s sign-in (person %llu)", platform_name(pl),
	    (unsigned long long)s.person);
	o = WO_TO_SIGNIN;
out:
	explicit_bzero(state, sizeof(state));
	explicit_bzero(verifier, sizeof(verifier));
	free(team);
	accts_free(&ac);
	person_free(&p);
	buf_free(&url);
	buf_free(&redir);
	store_session_free(&s);
	return o;
}

/* ---- GET /oauth/<platform>/callback ---- */

struct spend {
	enum platform	 pl;
	const char	*state;
	char		*verifier;	/* SESSION_SECRET_LEN + 1 */
	char		*team;		/* the sign-in's team, handed out (caller frees) */
};

/* Spends the session's state for pl (an answer is accepted once, whatever happens next)
 * and hands out its PKCE verifier and team; leaves a state that was spent by a concurrent
 * request. */
static int
spend_edit(struct web_session *cur, void *arg)
{
	struct spend *sp = arg;

	if (!secret_eq(sp->state, cur->p[sp->pl].state))
		return 1;
	memcpy(sp->verifier, cur->p[sp->pl].verifier, SESSION_SECRET_LEN + 1);
	cur->p[sp->pl].state[0] = cur->p[sp->pl].verifier[0] = '\0';
	free(sp->team);
	sp->team = cur->p[sp->pl].signin_team;
	cur->p[sp->pl].signin_team = NULL;
	return 0;
}

/* The instance whose client asked for the code: the one of the sign-in's team (NULL: the
 * platform's own block, as a session from before workspaces had no team). */
static const struct cfg_platform *
callback_inst(struct server *sv, enum platform pl, const char *team)
{
	const struct cfg_platform *pc = NULL;
	struct txn *t;

	if (team == NULL || (t = store_begin(sv->st, 0)) == NULL)
		return rec_instance(sv->cfg, NULL, pl, team);
	pc = rec_instance(sv->cfg, t, pl, team);
	store_abort(t);
	return pc;
}

/* The identity that signed in: if it is an active account of the session's person, its
 * user token is stored and the session notes the connection, in one write txn.
 * WO_TO_SYNC, or the outcome that refused it. */
static enum web_outcome
callback_store(struct server *sv, const struct web_session *s, enum platform pl,
    const struct oauth_tokens *tok, const struct oauth_identity *id, struct reply *rp)
{
	struct web_session cur;
	struct account a;
	struct utoken u;
	struct txn *t;
	enum web_outcome o = WO_TO_SYNC;
	int rc;

	memset(&a, 0, sizeof(a));
	store_session_init(&cur);
	if ((t = begin_write(sv)) == NULL)
		return store_fail(sv, rp, "begin write");
	rc = store_account_get(t, pl, id->team_id, id->user_id, &a);
	if (rc < 0) {
		o = store_fail(sv, rp, "read account");
		goto abort;
	}
	if (rc != 0 || a.person_id != s->person || !rec_account_is_active(&a)) {
		snprintf(rp->note, sizeof(rp->note), "%s callback: identity of someone else "
		    "(person %llu)", platform_name(pl), (unsigned long long)s->person);
		o = WO_NOT_YOURS;
		goto abort;
	}
	rc = store_session_get(t, s->key, ps_now(), &cur);
	if (rc == 0) {
		memset(&u, 0, sizeof(u));
		u.platform = pl;
		u.team_id = id->team_id;
		u.user_id = id->user_id;
		u.person_id = s->person;
		u.tok = *tok;
		rc = utoken_put(sv->cfg, t, &u);
		free(cur.p[pl].team);
		free(cur.p[pl].user);
		cur.p[pl].team = xstrdup(id->team_id);
		cur.p[pl].user = xstrdup(id->user_id);
		if (rc == 0)
			rc = store_session_put(t, &cur);
	}
	if (rc != 0) {
		o = rc == STORE_NOTFOUND ? WO_SESSION_ENDED_SIGNIN :
		    store_fail(sv, rp, "store user token");
		goto abort;
	}
	if (end_write(sv, t, 1) < 0)
		o = store_fail(sv, rp, "commit user token");
	else
		snprintf(rp->note, sizeof(rp->note), "%s connected (person %llu)",
		    platform_name(pl), (unsigned long long)s->person);
	goto out;
abort:
	end_write(sv, t, 0);
out:
	account_free(&a);
	store_session_free(&cur);
	return o;
}

enum web_outcome
h_callback(struct server *sv, struct MHD_Connection *conn, enum platform pl, struct reply *rp)
{
	const char *state = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "state");
	const char *code = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "code");
	const char *error = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "error");
	struct web_session s;
	struct oauth_tokens tok = { 0 };
	struct oauth_identity id = { 0 };
	struct buf redir = { 0 };
	char verifier[SESSION_SECRET_LEN + 1], err[512];
	struct spend sp = { pl, state, verifier, NULL };
	enum web_outcome o;
	int rc, denied;

	verifier[0] = '\0';
	rp->subject = oauth_platform_title(pl);
	if ((o = sess_load(sv, conn, rp, &s)) != WO_OK)
		return o;
	if (s.done) {
		o = WO_TO_DONE;
		goto out;
	}
	if (state == NULL || !secret_eq(state, s.p[pl].state)) {
		snprintf(rp->note, sizeof(rp->note), "%s callback: state mismatch (person %llu)",
		    platform_name(pl), (unsigned long long)s.person);
		o = WO_STATE_MISMATCH;
		goto out;
	}
	if ((rc = sess_update(sv, s.key, spend_edit, &sp)) != 0) {
		if (rc < 0) {
			o = store_fail(sv, rp, "write session");
		} else {
			snprintf(rp->note, sizeof(rp->note), "%s callback: state spent",
			    platform_name(pl));
			o = WO_STATE_SPENT;
		}
		goto out;
	}
	if (error != NULL || code == NULL || *code == '\0') {
		denied = error && strcmp(error, "access_denied") == 0;
		snprintf(rp->note, sizeof(rp->note), "%s callback: %s", platform_name(pl),
		    denied ? "access denied" : "no code");
		o = denied ? WO_SIGNIN_CANCELLED : WO_SIGNIN_INCOMPLETE;
		goto out;
	}
	oauth_redirect_uri(sv->base, pl, &redir);
	if (oauth_inst_exchange(sv->cfg, pl, callback_inst(sv, pl, sp.team), code, redir.p,
	    verifier[0] ? verifier : NULL, &tok, &id, err, sizeof(err)) < 0) {
		snprintf(rp->note, sizeof(rp->note), "%s callback: exchange failed (person %llu): "
		    "%.300s", platform_name(pl), (unsigned long long)s.person, err);
		o = WO_EXCHANGE_FAILED;
		goto out;
	}
	o = callback_store(sv, &s, pl, &tok, &id, rp);
out:
	explicit_bzero(verifier, sizeof(verifier));
	free(sp.team);
	oauth_tokens_free(&tok);
	oauth_identity_free(&id);
	buf_free(&redir);
	store_session_free(&s);
	return o;
}
