/*
 * config_p.h — private to base/config*.c: the key table's row type, the loader and the
 * helpers the loader (config.c) and the value checks (config_values.c) share.
 */
#ifndef PS_CONFIG_P_H
#define PS_CONFIG_P_H

#include <stdarg.h>
#include <stddef.h>

#include <libconfig.h>

#include "config.h"

#define CONFIG_MAX	(1024 * 1024)	/* bytes in a config file */
#define SECRET_MAX	65536		/* bytes in a secret file */
#define KEY_MIN		32		/* bytes in link_key_file / token_key_file */
#define STR_MAX		4096		/* bytes in a one-line string value */
#define TEXT_MAX	16384		/* bytes in a prompt template */

enum kind {
	K_GROUP,	/* { ... }; members are rows of their own */
	K_BOOL,		/* int */
	K_INT,		/* int in min..max */
	K_LLONG,	/* long long in min..max */
	K_FLOAT,	/* double in min..max; an integer is accepted */
	K_RATE_MIN,	/* per minute, stored per second (double) */
	K_STR,		/* one line of text */
	K_ID,		/* one line of text without spaces (client ids) */
	K_TENANT,	/* a tenant GUID or domain: [A-Za-z0-9.-] */
	K_TEXT,		/* text that may span lines (prompt templates) */
	K_URL,		/* https://host[:port][/path], http only to a loopback host */
	K_PATH,		/* resolved against the config file's directory */
	K_SECRET_FILE,	/* char *read from the file named */
	K_SECRET_ENV,	/* char *read from the environment variable named */
	K_KEY_FILE,	/* path at off, raw bytes at off2, length at off3 */
	K_TOKEN_FILE,	/* path at off, contents at off2 when the platform is enabled */
	K_QUIET,	/* "HH:MM-HH:MM" or "": minutes at off and off2 */
	K_TZ,		/* a tz database name */
	K_LISTEN,	/* ADDR:PORT */
	K_ALIASES,	/* identity.domain_aliases */
	K_ORDER,	/* identity.platform_order */
	K_WORKSPACES,	/* slack.workspaces: read after the walk (config_ws.c) */
	K_EMAILS,	/* admin.emails: a list of addresses */
};

#define F_REQ	0x01	/* required (when its platform is enabled, if it has one) */
#define F_ALIAS	0x02	/* another row with the same off carries the default */

struct key {
	const char	*path;		/* dotted, as written in the file */
	enum kind	 kind;
	int		 plat;		/* platform whose enabled gates secrets and F_REQ, or -1 */
	int		 flags;
	size_t		 off, off2, off3;	/* into struct config */
	double		 min, max;	/* bounds of numbers */
	double		 def;		/* default of numbers and booleans */
	const char	*sdef;		/* default of strings */
};


struct loader {
	const char		*name;		/* in messages */
	char			*base;		/* absolute dir that relative paths resolve against */
	struct config		*cfg;
	config_t		 lc;
	int			 nerr;
	int			 flags;		/* config_load's CONFIG_* */
	int			 enabled[PLAT_COUNT];
	const config_setting_t	**seen;			/* NKEYS: the setting given for each row */
	int			 ws_list;	/* slack.workspaces was given */
	unsigned		*bigline;	/* lines holding an integer libconfig wraps */
	size_t			 nbigline;
};

void cfg_aliases(struct loader *ld, const config_setting_t *s, const char *key);
char *cfg_check_url(struct loader *ld, const config_setting_t *s, const char *key, const char *u);
int cfg_gated_off(const struct loader *ld, const struct key *k);
int cfg_has_ctl(const char *s, size_t n, int multiline);
void cfg_key_file(struct loader *ld, const struct key *k, const config_setting_t *s, const char *key, const char *v);
int cfg_listen_ok(const char *s);
void cfg_emails(struct loader *ld, const config_setting_t *s, const char *key);
void cfg_order(struct loader *ld, const config_setting_t *s, const char *key);
void cfg_order_fill(struct config *c, const int *listed, int n);
int cfg_parse_quiet(const char *s, int *start, int *end);
int cfg_prescan(struct loader *ld, const char *t, size_t n);
/* "NAME:LINE: key: text" on stderr, counted in ld->nerr (at s's line, or at line). */
void cfg_problem(struct loader *ld, const config_setting_t *s, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cfg_problem_at(struct loader *ld, unsigned line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
char *cfg_resolve(const struct loader *ld, const char *p);
void cfg_secret_env(struct loader *ld, const struct key *k, const config_setting_t *s, const char *key, const char *v);
void cfg_secret_file(struct loader *ld, const struct key *k, const config_setting_t *s, const char *key, const char *v);
void cfg_set_secret(struct config *c, size_t off, char *v);
void cfg_set_str(struct config *c, size_t off, char *v);
void cfg_token_file(struct loader *ld, const struct key *k, const config_setting_t *s, const char *key, const char *v);
const char *cfg_type_name(const config_setting_t *s);
int cfg_tz_ok(const char *s);
void cfg_wipe_free(void *p, size_t n);
int cfg_wrapped(const struct loader *ld, const config_setting_t *s);
void cfg_wrong_type(struct loader *ld, const config_setting_t *s, const char *key, const char *want);
/* check-config: the database and spool directories, the metrics file's directory. */
void cfg_check_paths(struct loader *ld);
/* The setting given for path, or for another row storing into the same place. */
const config_setting_t *cfg_given(const struct loader *ld, const char *path);
/* One setting s of row ki (key: its path in messages) into ld->cfg. */
void	cfg_handle(struct loader *ld, int ki, const config_setting_t *s, const char *key);
/* slack.workspaces into cfg->inst[PLAT_SLACK] (and every other platform's one instance);
 * run after the walk, before the defaults that follow from api_url (config_ws.c). */
void	cfg_workspaces(struct loader *ld);
/* Frees the strings of one instance (the workspace entries'); cfg_platform_copy: a deep
 * copy. */
void	cfg_platform_free(struct cfg_platform *pc);
void	cfg_platform_copy(struct cfg_platform *dst, const struct cfg_platform *src);
/* The key table (config_keys.c). */
extern const struct key	cfg_keys[];
extern const size_t	cfg_nkeys;
#define NKEYS	cfg_nkeys
char	**cfg_str_at(struct config *c, size_t off);
int	*cfg_int_at(struct config *c, size_t off);
void	 cfg_wipe_str(char **p);
int	 cfg_find_key(const char *path);
/* The line of s, or of its nearest parent that has one (list elements carry none). */
unsigned cfg_setting_line(const config_setting_t *s);

#endif
