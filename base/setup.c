/*
 * setup.c — `peoplesync init`: the config, keys, secret files and directories of a new
 * installation, created but never replaced, and the list of what the admin has left to do.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "setup.h"
#include "util.h"

#define SERVICE_USER	"peoplesync"
#define NP		(-1)

/* Who owns what init creates. */
struct owner {
	int	 root;		/* running as root */
	int	 user;		/* the service user exists */
	uid_t	 uid;		/* service user, or -1: leave as created */
	gid_t	 gid;		/* service group, or -1 */
};

/* The files and settings an installation needs, in the order the to-do list names them. */
enum need { N_KEY, N_SECRET, N_TOKEN, N_APP, N_SET };

static const struct item {
	enum need	 need;
	int		 plat;
	const char	*key;
	const char	*todo;	/* {file}: the file, or the config for N_SET; {c}: " -c CFG" or "" */
} items[] = {
	{ N_KEY, NP, "link_key_file", NULL },
	{ N_KEY, NP, "token_key_file", NULL },	/* when a --set names one */
	{ N_APP, PLAT_SLACK, "slack.bot_token_file", "run `peoplesync{c} slack-manifest` and create "
	  "the Slack app from it (api.slack.com/apps, \"From an app manifest\"), then install it" },
	{ N_SECRET, PLAT_SLACK, "slack.bot_token_file", "put the Slack bot token (xoxb-...) in {file} "
	  "(mode 0600)" },
	{ N_SET, PLAT_SLACK, "slack.oauth.client_id", "set slack.oauth.client_id in {file} (the Slack "
	  "app's Client ID, for the Sync now sign-in) and uncomment client_secret_file below it" },
	{ N_SECRET, PLAT_SLACK, "slack.oauth.client_secret_file", "put the Slack app's Client "
	  "Secret in {file} (mode 0600)" },
	{ N_SET, PLAT_TEAMS, "teams.tenant_id", "set teams.tenant_id in {file} (the directory "
	  "(tenant) id of your Entra ID)" },
	{ N_SET, PLAT_TEAMS, "teams.client_id", "set teams.client_id in {file} (the application "
	  "(client) id of the app registration)" },
	{ N_SECRET, PLAT_TEAMS, "teams.client_secret_file", "put the app registration's client "
	  "secret in {file} (mode 0600)" },
	{ N_TOKEN, PLAT_TEAMS, "teams.service_user_refresh_token_file", "run `peoplesync{c} login "
	  "teams` (the service user that sends the prompts signs in; writes {file})" },
	{ N_SECRET, PLAT_WEBEX, "webex.token_file", "put the Webex bot's access token "
	  "(developer.webex.com, My Webex Apps) in {file} (mode 0600)" },
	{ N_SET, PLAT_WEBEX, "webex.oauth.client_id", "set webex.oauth.client_id in {file} (the Webex "
	  "integration's Client ID, for the Sync now sign-in) and uncomment client_secret_file "
	  "below it" },
	{ N_SECRET, PLAT_WEBEX, "webex.oauth.client_secret_file", "put the Webex integration's "
	  "Client Secret in {file} (mode 0600)" },
	{ N_SET, NP, "public_url", "set public_url in {file} (the https address of `peoplesync "
	  "serve` behind the TLS proxy)" },
};

static void
owner_find(struct owner *ow)
{
	const struct passwd *pw;
	const struct group *gr;

	ow->root = geteuid() == 0;
	ow->uid = (uid_t)-1;
	ow->gid = (gid_t)-1;
	ow->user = 0;
	if (!ow->root)
		return;
	if ((pw = getpwnam(SERVICE_USER)) != NULL) {
		ow->user = 1;
		ow->uid = pw->pw_uid;
		ow->gid = pw->pw_gid;
	}
	if ((gr = getgrnam(SERVICE_USER)) != NULL)
		ow->gid = gr->gr_gid;
}

/* What init says about an owner it set (uid/gid are -1 unless the service user exists). */
static const char *
owner_note(uid_t uid, gid_t gid)
{
	if (uid != (uid_t)-1)
		return ", owner " SERVICE_USER;
	return gid != (gid_t)-1 ? ", group " SERVICE_USER : "";
}

/* path, relative ones against dir (as the loader resolves them against the config's dir). */
static char *
resolve(const char *dir, const char *path)
{
	return path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", dir, path);
}

/* A directory: created with mode and owner, or kept. 0, or -1 after naming the problem. */
static int
make_dir(const char *path, int mode, uid_t uid, gid_t gid, FILE *out)
{
	struct stat st;
	int fd, rc = -1;

	if (lstat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			log_err("init: %s exists and is not a directory", path);
			return -1;
		}
		fprintf(out, "kept %s (exists)\n", path);
		return 0;
	}
	if (mkdir(path, (mode_t)mode) < 0) {
		log_err("init: cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	/* mkdir's mode went through the umask: set it, and the owner, on what we created */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, (mode_t)mode) < 0 ||
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)) {
		log_err("init: %s: setting mode and owner: %s", path, strerror(errno));
		goto out;
	}
	fprintf(out, "created %s (mode %04o%s)\n", path, (unsigned)mode, owner_note(uid, gid));
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* A file: created with data, mode and owner, or kept. 0, or -1 after naming the problem. */
static int
make_file(const char *path, const void *data, size_t n, int mode, uid_t uid, gid_t gid,
    const char *what, FILE *out)
{
	if (create_file_excl(path, data, n, mode, uid, gid) == 0) {
		fprintf(out, "created %s (mode %04o%s, %s)\n", path, (unsigned)mode,
		    owner_note(uid, gid), what);
		return 0;
	}
	if (errno == EEXIST) {
		fprintf(out, "kept %s (exists)\n", path);
		return 0;
	}
	log_err("init: cannot create %s: %s", path, strerror(errno));
	return -1;
}

/* 32 random bytes; never one ending in "\n", which the loader would trim off. */
static int
make_key(const char *path, const struct owner *ow, FILE *out)
{
	unsigned char key[32];
	int rc;

	do
		random_bytes(key, sizeof(key));
	while (key[sizeof(key) - 1] == '\n');
	rc = make_file(path, key, sizeof(key), 0600, ow->uid, ow->gid, "random key, 32 bytes",
	    out);
	explicit_bzero(key, sizeof(key));
	return rc;
}

static int
make_config(const struct setup_opts *o, const struct config_draft *d, const struct owner *ow,
    FILE *out)
{
	struct buf text = { 0 }, head = { 0 };
	int p, rc;

	buf_printf(&head, "peoplesync.cfg, written by `peoplesync init` for");
	for (p = 0; p < PLAT_COUNT; p++)
		if (o->draft.platform[p])
			buf_printf(&head, " %s", platform_name((enum platform)p));
	buf_printf(&head, " (libconfig syntax).\n\nCheck it with: peoplesync%s check-config\n\n"
	    "Every key is described in peoplesync(1), CONFIGURATION; a key left out takes its "
	    "default. Secrets are never written here: each is read from a file (mode 0600, one "
	    "line) or from an environment variable (KEY_env). URLs must be https unless the host "
	    "is loopback. Problems are reported as FILE:LINE: key: problem.", o->cfg_arg);
	config_draft_text(d, head.p, &text);
	/* root-owned, readable by the service's group: the config holds no secret */
	rc = make_file(o->cfg_path, text.p, text.len, 0640, (uid_t)-1, ow->root ? ow->gid :
	    (gid_t)-1, "commented config", out);
	buf_free(&text);
	buf_free(&head);
	return rc;
}

/* Creates everything; the number of things that could not be created. */
static int
create_all(const struct setup_opts *o, const struct config_draft *d, const struct owner *ow,
    FILE *out)
{
	const char *v;
	char *path;
	size_t i;
	int bad = 0;

	bad += make_dir(o->draft.dir, 0755, (uid_t)-1, (gid_t)-1, out) < 0;
	bad += make_config(o, d, ow, out) < 0;
	for (i = 0; i < ARRAY_LEN(items); i++) {
		if ((items[i].need != N_KEY && items[i].need != N_SECRET) ||
		    (v = config_draft_str(d, items[i].key)) == NULL)
			continue;
		path = resolve(o->draft.dir, v);
		if (items[i].need == N_KEY)
			bad += make_key(path, ow, out) < 0;
		else
			bad += make_file(path, "", 0, 0600, ow->uid, ow->gid,
			    "empty: for the admin to fill", out) < 0;
		free(path);
	}
	if ((v = config_draft_str(d, "database")) != NULL) {
		path = resolve(o->draft.dir, v);
		bad += make_dir(path, 0700, ow->uid, ow->gid, out) < 0;
		free(path);
	}
	if ((v = config_draft_str(d, "events.spool_dir")) != NULL) {
		path = resolve(o->draft.dir, v);
		bad += make_dir(path, 0770, ow->uid, ow->gid, out) < 0;
		free(path);
	}
	if (ow->root && !ow->user)
		fprintf(out, "user %s does not exist: the files above are left to root\n",
		    SERVICE_USER);
	return bad;
}

/* 1 when the file a key names is missing or empty (the admin has to fill it). */
static int
unfilled(const char *dir, const char *v)
{
	char *path = resolve(dir, v);
	struct stat st;
	int rc = stat(path, &st) < 0 || st.st_size == 0;

	free(path);
	return rc;
}

/* "N. text" with {file} and {c} replaced. */
static void
put_todo(FILE *out, int n, const char *text, const char *file, const char *carg)
{
	const char *p;

	fprintf(out, "%2d. ", n);
	for (p = text; *p != '\0'; p++) {
		if (strncmp(p, "{file}", 6) == 0) {
			fputs(file, out);
			p += 5;
		} else if (strncmp(p, "{c}", 3) == 0) {
			fputs(carg, out);
			p += 2;
		} else {
			fputc(*p, out);
		}
	}
	fputc('\n', out);
}

/* One line per thing left to do, numbered. */
static void
print_todo(const struct setup_opts *o, const struct config_draft *d, const struct owner *ow,
    int cfg_created, FILE *out)
{
	const struct item *it;
	const char *v;
	char *path;
	size_t i;
	int n = 0;

	fprintf(out, "left to do:\n");
	for (i = 0; i < ARRAY_LEN(items); i++) {
		it = &items[i];
		if (it->plat >= 0 && !o->draft.platform[it->plat])
			continue;
		if (it->need == N_SET) {
			/* a kept config is the admin's: check-config says what it lacks */
			if (cfg_created && config_draft_unset(d, it->key) != NULL)
				put_todo(out, ++n, it->todo, o->cfg_path, o->cfg_arg);
			continue;
		}
		if (it->need == N_KEY || (v = config_draft_str(d, it->key)) == NULL ||
		    !unfilled(o->draft.dir, v))
			continue;
		path = resolve(o->draft.dir, v);
		put_todo(out, ++n, it->todo, path, o->cfg_arg);
		free(path);
	}
	if (ow->root && !ow->user)
		fprintf(out, "%2d. create the user %s (systemd-sysusers peoplesync.conf), then give "
		    "it the key and secret files, the database and the spool directory (chown)\n",
		    ++n, SERVICE_USER);
	else if (!ow->root)
		fprintf(out, "%2d. not run as root: the files belong to you; give them to the user "
		    "the service runs as (%s)\n", ++n, SERVICE_USER);
	fprintf(out, "%2d. check the config and the credentials: peoplesync%s check-config "
	    "--online\n", ++n, o->cfg_arg);
	fprintf(out, "%2d. start: systemctl enable --now peoplesync.timer "
	    "peoplesync-web.service\n", ++n);
}

int
setup_run(const struct setup_opts *o, FILE *out)
{
	struct config_draft *d;
	struct owner ow;
	struct stat st;
	int bad, cfg_created;

	if ((d = config_draft_new(&o->draft, o->sets, o->nsets)) == NULL)
		return EX_USAGE;
	owner_find(&ow);
	cfg_created = lstat(o->cfg_path, &st) < 0;
	bad = create_all(o, d, &ow, out);
	cfg_created = cfg_created && lstat(o->cfg_path, &st) == 0;
	print_todo(o, d, &ow, cfg_created, out);
	config_draft_free(d);
	return bad > 0 ? EX_CANTCREAT : 0;
}
