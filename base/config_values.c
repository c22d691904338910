/*
 * config_values.c — the checks of single values (URLs, times, zones, addresses), secret and
 * key files, the two list-valued keys, and the scan of libconfig's quirks.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libconfig.h>

#include "config_p.h"
#include "util.h"


static int
is_ctl(unsigned char c, int multiline)
{
	if (multiline && (c == '\n' || c == '\t' || c == '\r'))
		return 0;
	return c < 0x20 || c == 0x7f;
}

int
cfg_has_ctl(const char *s, size_t n, int multiline)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (is_ctl((unsigned char)s[i], multiline))
			return 1;
	return 0;
}

/* ---- libconfig quirks ---------------------------------------------------------------------- */

/*
 * libconfig 1.5 silently wraps a decimal integer that does not fit in 32 bits (99999999999
 * reads as 1215752191) unless it carries an L suffix. This scan of the raw text notes the
 * lines holding such literals so that the key is refused instead of taking a wrapped value.
 * It also refuses @include (a config is one file, so every line number names the file it is
 * in) and NUL bytes (libconfig would silently stop reading there). -1 after such a problem.
 */
static void
note_literal(struct loader *ld, const char *tok, size_t n, unsigned line)
{
	char tmp[64];
	long long v;
	size_t i;
	int hex;

	if (tok[n - 1] == 'L' || n >= sizeof(tmp))
		goto big;
	hex = n > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X');
	for (i = 0; i < n && !hex; i++)
		if (tok[i] == '.' || tok[i] == 'e' || tok[i] == 'E')
			return;			/* a float: libconfig reads doubles right */
	memcpy(tmp, tok, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtoll(tmp, NULL, hex ? 16 : 10);
	if (errno == 0 && v >= INT_MIN && v <= INT_MAX)
		return;
big:
	if (tok[n - 1] == 'L')
		return;			/* 64-bit literal: read right; range checks apply */
	ld->bigline = xrealloc(ld->bigline, (ld->nbigline + 1) * sizeof(*ld->bigline));
	ld->bigline[ld->nbigline++] = line;
}

int
cfg_prescan(struct loader *ld, const char *t, size_t n)
{
	const char *nul = memchr(t, '\0', n);
	unsigned line = 1;
	size_t i = 0, start;

	if (nul != NULL) {
		for (i = 0; t + i < nul; i++)
			line += t[i] == '\n';
		cfg_problem_at(ld, line, NULL, "syntax error: NUL byte");
		return -1;
	}
	while (i < n) {
		unsigned char c = (unsigned char)t[i];

		if (c == '\n') {
			line++;
			i++;
		} else if (c == '#' || (c == '/' && i + 1 < n && t[i + 1] == '/')) {
			while (i < n && t[i] != '\n')
				i++;
		} else if (c == '/' && i + 1 < n && t[i + 1] == '*') {
			for (i += 2; i < n && !(t[i] == '*' && i + 1 < n && t[i + 1] == '/'); i++)
				line += t[i] == '\n';
			i = i < n ? i + 2 : n;
		} else if (c == '"') {
			for (i++; i < n && t[i] != '"'; i++) {
				if (t[i] == '\\' && i + 1 < n)
					i++;
				line += t[i] == '\n';
			}
			i = i < n ? i + 1 : n;
		} else if (c == '@') {
			if (n - i >= 8 && memcmp(t + i, "@include", 8) == 0) {
				cfg_problem_at(ld, line, NULL,
				    "@include is not supported; keep the whole config in one file");
				return -1;
			}
			i++;
		} else if (isalpha(c) || c == '*') {
			while (i < n && (isalnum((unsigned char)t[i]) || t[i] == '-' || t[i] == '_' ||
			    t[i] == '*'))
				i++;
		} else if (isdigit(c) || ((c == '-' || c == '+') && i + 1 < n &&
		    isdigit((unsigned char)t[i + 1]))) {
			start = i++;
			while (i < n && (isalnum((unsigned char)t[i]) || t[i] == '.' ||
			    ((t[i] == '-' || t[i] == '+') && (t[i - 1] == 'e' || t[i - 1] == 'E'))))
				i++;
			note_literal(ld, t + start, i - start, line);
		} else {
			i++;
		}
	}
	return 0;
}

int
cfg_wrapped(const struct loader *ld, const config_setting_t *s)
{
	unsigned line = config_setting_source_line(s);
	size_t i;

	if (config_setting_type(s) != CONFIG_TYPE_INT)
		return 0;
	for (i = 0; i < ld->nbigline; i++)
		if (ld->bigline[i] == line)
			return 1;
	return 0;
}

/* ---- value checks -------------------------------------------------------------------------- */

static int
is_loopback(const char *host, int bracketed)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (bracketed)
		return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return 0;
}

static int
host_chars_ok(const char *h)
{
	if (*h == '\0' || *h == '.' || *h == '-')
		return 0;
	for (; *h != '\0'; h++)
		if (!isalnum((unsigned char)*h) && *h != '.' && *h != '-' && *h != '_')
			return 0;
	return 1;
}

/* 1..65535 written as 1 to 5 digits. */
static int
port_ok(const char *p, size_t n)
{
	size_t i;
	long v = 0;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/*
 * scheme://host[:port][/path]: https, or http when the host is loopback (localhost,
 * 127.0.0.0/8, [::1]). Returns a copy without trailing '/' (callers append "/endpoint"), or
 * NULL after a problem.
 */
char *
cfg_check_url(struct loader *ld, const config_setting_t *s, const char *key, const char *u)
{
	const char *h, *e, *rest;
	char *host = NULL, *out = NULL;
	size_t n, keep;
	int https, bracketed = 0;

	if (strncasecmp(u, "https://", 8) == 0) {
		https = 1;
		h = u + 8;
	} else if (strncasecmp(u, "http://", 7) == 0) {
		https = 0;
		h = u + 7;
	} else {
		cfg_problem(ld, s, key, "%s is not a URL (expected https://host[:port][/path])", u);
		goto out;
	}
	e = h + strcspn(h, "/?#");
	if (memchr(h, '@', (size_t)(e - h)) != NULL) {
		/* Not echoed: the part before '@' may be a password. */
		cfg_problem(ld, s, key, "credentials in a URL are not allowed; use the *_file keys");
		goto out;
	}
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(e - h));
		if (rb == NULL) {
			cfg_problem(ld, s, key, "%s: unterminated [IPv6] host", u);
			goto out;
		}
		host = xstrndup(h + 1, (size_t)(rb - h - 1));
		bracketed = 1;
		rest = rb + 1;
		if (inet_pton(AF_INET6, host, &(struct in6_addr){ 0 }) != 1) {
			cfg_problem(ld, s, key, "%s: bad IPv6 address", u);
			goto out;
		}
	} else {
		rest = h + strcspn(h, ":/?#");
		host = xstrndup(h, (size_t)(rest - h));
		if (!host_chars_ok(host)) {
			cfg_problem(ld, s, key, "%s: bad host name", u);
			goto out;
		}
	}
	if (*rest == ':') {
		if (!port_ok(rest + 1, (size_t)(e - rest - 1))) {
			cfg_problem(ld, s, key, "%s: bad port (1..65535)", u);
			goto out;
		}
	} else if (rest != e) {
		cfg_problem(ld, s, key, "%s: bad host name", u);
		goto out;
	}
	if (*e == '#' || strchr(e, '#') != NULL || strchr(e, ' ') != NULL) {
		cfg_problem(ld, s, key, "%s: a base URL takes no fragment or spaces", u);
		goto out;
	}
	if (!https && !is_loopback(host, bracketed)) {
		cfg_problem(ld, s, key, "%s is not https and its host is not loopback "
		    "(localhost, 127.0.0.0/8, [::1])", u);
		goto out;
	}
	keep = (size_t)(e - u);
	n = strlen(u);
	while (n > keep && u[n - 1] == '/')
		n--;
	out = xstrndup(u, n);
out:
	free(host);
	return out;
}

/* "HH:MM" -> minute of day, or -1. */
static int
parse_hhmm(const char *s)
{
	int h, m;

	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return -1;
	return h * 60 + m;
}

/* "HH:MM-HH:MM" -> start, end; "" -> -1, -1. 0, or -1 when malformed or empty range. */
int
cfg_parse_quiet(const char *s, int *start, int *end)
{
	if (*s == '\0') {
		*start = *end = -1;
		return 0;
	}
	if (strlen(s) != 11 || s[5] != '-')
		return -1;
	*start = parse_hhmm(s);
	*end = parse_hhmm(s + 6);
	if (*start < 0 || *end < 0 || *start == *end)
		return -1;
	return 0;
}

int
cfg_tz_ok(const char *s)
{
	const char *p;
	size_t seg = 0;

	if (strlen(s) > 64 || *s == '/')
		return 0;
	for (p = s; *p != '\0'; p++) {
		if (*p == '/') {
			if (seg == 0)
				return 0;
			seg = 0;
		} else if (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '+') {
			seg++;
		} else {
			return 0;
		}
	}
	return seg > 0;
}

int
cfg_listen_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *host;
	int ok;

	if (colon == NULL || colon == s || !port_ok(colon + 1, strlen(colon + 1)))
		return 0;
	host = xstrndup(s, (size_t)(colon - s));
	if (host[0] == '[') {
		size_t n = strlen(host);
		ok = n > 2 && host[n - 1] == ']';
		if (ok) {
			host[n - 1] = '\0';
			ok = inet_pton(AF_INET6, host + 1, &(struct in6_addr){ 0 }) == 1;
		}
	} else {
		ok = host_chars_ok(host);
	}
	free(host);
	return ok;
}

/* A lower-case DNS domain: labels of [a-z0-9-], dot separated. Lower-cases d in place. */
static int
domain_ok(char *d)
{
	size_t n = strlen(d), i;

	str_lower(d);
	if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.' || strstr(d, "..") != NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)d[i]) && d[i] != '.' && d[i] != '-')
			return 0;
	return 1;
}

/* ---- secrets ------------------------------------------------------------------------------- */

/*
 * Reads a secret file: a regular file without any group/other permission bit, at most
 * SECRET_MAX bytes, one trailing "\n" or "\r\n" trimmed, not empty. 0 and *out (NUL-terminated;
 * wipe it before freeing) or -1 after a problem. The contents never reach a message; fill
 * says how a missing or empty file gets its contents.
 */
static int
read_secret(struct loader *ld, const config_setting_t *s, const char *key, const char *path,
    const char *fill, char **out, size_t *outlen)
{
	struct stat st;
	char *p = NULL;
	size_t len = 0, cap = SECRET_MAX + 1;
	ssize_t n;
	int fd, rc = -1;

	/* O_NONBLOCK: a FIFO named by mistake must not hang the load (S_ISREG refuses it). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1 && errno == ENOENT) {
		cfg_problem(ld, s, key, "%s: %s; %s", path, strerror(errno), fill);
		goto out;
	}
	if (fd == -1) {
		cfg_problem(ld, s, key, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		cfg_problem(ld, s, key, "%s: %s", path, strerror(errno));
		goto out_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_problem(ld, s, key, "%s: not a regular file", path);
		goto out_fd;
	}
	if (st.st_mode & 0044) {
		cfg_problem(ld, s, key, "%s is readable by group or others (mode %04o); chmod 600 it",
		    path, (unsigned)(st.st_mode & 07777));
		goto out_fd;
	}
	if (st.st_mode & 0033) {
		cfg_problem(ld, s, key, "%s is writable by group or others (mode %04o); chmod 600 it",
		    path, (unsigned)(st.st_mode & 07777));
		goto out_fd;
	}
	p = xmalloc(cap);
	while (len < cap) {
		n = read(fd, p + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cfg_problem(ld, s, key, "%s: %s", path, strerror(errno));
			goto out_fd;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > SECRET_MAX) {
		cfg_problem(ld, s, key, "%s: larger than %d bytes", path, SECRET_MAX);
		goto out_fd;
	}
	if (len > 0 && p[len - 1] == '\n') {
		len--;
		if (len > 0 && p[len - 1] == '\r')
			len--;
	}
	if (len == 0) {
		cfg_problem(ld, s, key, "%s is empty; %s", path, fill);
		goto out_fd;
	}
	p[len] = '\0';
	*out = p;
	*outlen = len;
	p = NULL;
	rc = 0;
out_fd:
	close(fd);
out:
	cfg_wipe_free(p, len < cap ? len : cap);
	return rc;
}

int
cfg_gated_off(const struct loader *ld, const struct key *k)
{
	return k->plat >= 0 && !ld->enabled[k->plat];
}

void
cfg_secret_file(struct loader *ld, const struct key *k, const config_setting_t *s, const char *key,
    const char *v)
{
	char *path, *sec = NULL;
	size_t len;

	if (cfg_gated_off(ld, k) || (ld->flags & CONFIG_NO_SECRETS))
		return;			/* a disabled platform's secrets are not read */
	path = cfg_resolve(ld, v);
	if (read_secret(ld, s, key, path, "put the secret in it (one line, mode 0600)", &sec,
	    &len) == 0) {
		if (cfg_has_ctl(sec, len, 0)) {
			cfg_problem(ld, s, key, "%s: contains control characters", path);
		} else {
			cfg_set_secret(ld->cfg, k->off, sec);
			sec = NULL;
		}
	}
	if (sec != NULL)
		cfg_wipe_free(sec, len);
	free(path);
}

void
cfg_secret_env(struct loader *ld, const struct key *k, const config_setting_t *s, const char *key,
    const char *v)
{
	const char *p, *val;

	if (!isalpha((unsigned char)v[0]) && v[0] != '_')
		goto badname;
	for (p = v; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			goto badname;
	if (cfg_gated_off(ld, k) || (ld->flags & CONFIG_NO_SECRETS))
		return;
	val = getenv(v);
	if (val == NULL)
		cfg_problem(ld, s, key, "environment variable %s is not set", v);
	else if (*val == '\0')
		cfg_problem(ld, s, key, "environment variable %s is empty", v);
	else if (cfg_has_ctl(val, strlen(val), 0))
		cfg_problem(ld, s, key, "environment variable %s contains control characters", v);
	else
		cfg_set_secret(ld->cfg, k->off, xstrdup(val));
	return;
badname:
	cfg_problem(ld, s, key, "\"%s\" is not an environment variable name", v);
}

void
cfg_key_file(struct loader *ld, const struct key *k, const config_setting_t *s, const char *key,
    const char *v)
{
	struct config *c = ld->cfg;
	unsigned char **bytes = (unsigned char **)(void *)((char *)c + k->off2);
	size_t *blen = (size_t *)(void *)((char *)c + k->off3);
	char *path = cfg_resolve(ld, v), *sec = NULL;
	size_t len;

	cfg_set_str(c, k->off, path);
	if (ld->flags & CONFIG_NO_SECRETS)
		return;
	if (read_secret(ld, s, key, path, "put a key in it (openssl rand -hex 32), mode 0600",
	    &sec, &len) == -1)
		return;
	if (len < KEY_MIN) {
		cfg_problem(ld, s, key, "%s holds %zu bytes; a key needs at least %d "
		    "(openssl rand -hex 32 > %s)", path, len, KEY_MIN, path);
		cfg_wipe_free(sec, len);
		return;
	}
	cfg_wipe_free(*bytes, *blen);
	*bytes = (unsigned char *)sec;
	*blen = len;
}

void
cfg_token_file(struct loader *ld, const struct key *k, const config_setting_t *s, const char *key,
    const char *v)
{
	struct config *c = ld->cfg;
	char *path = cfg_resolve(ld, v), *sec = NULL;
	size_t len;

	cfg_set_str(c, k->off, path);
	if (cfg_gated_off(ld, k) || (ld->flags & CONFIG_NO_SECRETS))
		return;
	if (read_secret(ld, s, key, path, "run `peoplesync login teams` to write it", &sec,
	    &len) == -1)
		return;
	if (cfg_has_ctl(sec, len, 0)) {
		cfg_problem(ld, s, key, "%s: contains control characters", path);
		cfg_wipe_free(sec, len);
		return;
	}
	cfg_set_secret(c, k->off2, sec);
}

/* ---- lists --------------------------------------------------------------------------------- */

void
cfg_aliases(struct loader *ld, const config_setting_t *s, const char *key)
{
	struct config *c = ld->cfg;
	int i, j, n, t = config_setting_type(s);

	if (t != CONFIG_TYPE_LIST && !(t == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0)) {
		cfg_wrong_type(ld, s, key, "a list of (\"from\", \"to\") pairs");
		return;
	}
	n = config_setting_length(s);
	c->identity.aliases = xcalloc((size_t)n + 1, sizeof(*c->identity.aliases));
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const config_setting_t *f, *to;
		struct domain_alias a;
		char ek[64];

		snprintf(ek, sizeof(ek), "%s[%d]", key, i);
		if ((config_setting_type(e) != CONFIG_TYPE_LIST &&
		    config_setting_type(e) != CONFIG_TYPE_ARRAY) || config_setting_length(e) != 2 ||
		    config_setting_type(f = config_setting_get_elem(e, 0)) != CONFIG_TYPE_STRING ||
		    config_setting_type(to = config_setting_get_elem(e, 1)) != CONFIG_TYPE_STRING) {
			cfg_problem(ld, e, ek, "expected (\"from.example\", \"to.example\")");
			continue;
		}
		a.from = xstrdup(config_setting_get_string(f));
		a.to = xstrdup(config_setting_get_string(to));
		if (!domain_ok(a.from) || !domain_ok(a.to)) {
			cfg_problem(ld, e, ek, "\"%s\" is not a domain", !domain_ok(a.from) ?
			    config_setting_get_string(f) : config_setting_get_string(to));
			goto drop;
		}
		if (strcmp(a.from, a.to) == 0) {
			cfg_problem(ld, e, ek, "maps %s to itself", a.from);
			goto drop;
		}
		for (j = 0; j < c->identity.naliases; j++) {
			if (strcmp(c->identity.aliases[j].from, a.from) == 0) {
				cfg_problem(ld, e, ek, "%s is already mapped to %s", a.from,
				    c->identity.aliases[j].to);
				goto drop;
			}
		}
		c->identity.aliases[c->identity.naliases++] = a;
		continue;
drop:
		free(a.from);
		free(a.to);
	}
	/* Aliases are applied once, not followed: a target that is itself aliased is a mistake. */
	for (i = 0; i < c->identity.naliases; i++)
		for (j = 0; j < c->identity.naliases; j++)
			if (strcmp(c->identity.aliases[i].to, c->identity.aliases[j].from) == 0)
				cfg_problem(ld, s, key, "%s maps to %s, which is itself an alias of %s",
				    c->identity.aliases[i].from, c->identity.aliases[i].to,
				    c->identity.aliases[j].to);
}

void
cfg_emails(struct loader *ld, const config_setting_t *s, const char *key)
{
	struct config *c = ld->cfg;
	int i, n, t = config_setting_type(s);

	if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY) {
		cfg_wrong_type(ld, s, key, "a list of addresses ([\"it-admin@corp.com\"])");
		return;
	}
	n = config_setting_length(s);
	c->admin.emails = xcalloc((size_t)n + 1, sizeof(*c->admin.emails));
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_type(e) == CONFIG_TYPE_STRING ?
		    config_setting_get_string(e) : NULL;
		char ek[64], *at;

		snprintf(ek, sizeof(ek), "%s[%d]", key, i);
		if (v == NULL || (at = strchr(v, '@')) == NULL || at == v || at[1] == '\0' ||
		    strchr(at + 1, '@') || strlen(v) > 254 || strpbrk(v, " \t\r\n<>\"(),;:")) {
			cfg_problem(ld, e, ek, "expected an address like \"it-admin@corp.com\"");
			continue;
		}
		c->admin.emails[c->admin.nemails] = xstrdup(v);
		for (char *p = c->admin.emails[c->admin.nemails]; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
		c->admin.nemails++;
	}
}

/* Fills identity.order: the platforms listed, then the rest in the default order. */
void
cfg_order_fill(struct config *c, const int *listed, int n)
{
	int seen[PLAT_COUNT] = { 0 }, i;

	c->identity.norder = 0;
	for (i = 0; i < n; i++) {
		c->identity.order[c->identity.norder++] = (enum platform)listed[i];
		seen[listed[i]] = 1;
	}
	for (i = 0; i < PLAT_COUNT; i++)
		if (!seen[i])
			c->identity.order[c->identity.norder++] = (enum platform)i;
}

void
cfg_order(struct loader *ld, const config_setting_t *s, const char *key)
{
	int listed[PLAT_COUNT], n = 0, i, j, len, bad = 0, t = config_setting_type(s);
	enum platform p;

	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		cfg_wrong_type(ld, s, key, "a list of platform names");
		return;
	}
	len = config_setting_length(s);
	if (len == 0) {
		cfg_problem(ld, s, key, "names no platform (slack, teams, webex)");
		return;
	}
	for (i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			cfg_problem(ld, e, key, "expected platform names, not %s", cfg_type_name(e));
			bad = 1;
			continue;
		}
		v = config_setting_get_string(e);
		if (platform_parse(v, &p) == -1) {
			cfg_problem(ld, e, key, "unknown platform \"%s\" (slack, teams, webex)", v);
			bad = 1;
			continue;
		}
		for (j = 0; j < n; j++)
			if (listed[j] == (int)p)
				break;
		if (j < n) {
			cfg_problem(ld, e, key, "%s is listed twice", platform_name(p));
			bad = 1;
			continue;
		}
		listed[n++] = (int)p;
	}
	if (!bad)
		cfg_order_fill(ld->cfg, listed, n);
}

/* ---- files the config names (check-config) ------------------------------------------------ */

/* dir exists as a directory we can write into, or can be created in its existing parent. */
static void
check_dir(struct loader *ld, const char *key, const char *dir, int creatable)
{
	const config_setting_t *s = cfg_given(ld, key);
	struct stat st;
	char *parent;
	const char *slash;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			cfg_problem(ld, s, key, "%s is not a directory", dir);
		else if (access(dir, W_OK | X_OK) == -1)
			cfg_problem(ld, s, key, "%s: %s", dir, strerror(errno));
		return;
	}
	if (errno != ENOENT || !creatable) {
		cfg_problem(ld, s, key, "%s: %s", dir, strerror(errno));
		return;
	}
	slash = strrchr(dir, '/');
	parent = slash == NULL ? xstrdup(".") : slash == dir ? xstrdup("/") :
	    xstrndup(dir, (size_t)(slash - dir));
	if (stat(parent, &st) == -1)
		cfg_problem(ld, s, key, "%s does not exist and cannot be created: %s: %s", dir, parent,
		    strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		cfg_problem(ld, s, key, "%s cannot be created: %s is not a directory", dir, parent);
	else if (access(parent, W_OK | X_OK) == -1)
		cfg_problem(ld, s, key, "%s does not exist and cannot be created: %s: %s", dir, parent,
		    strerror(errno));
	free(parent);
}

/* The directory a file is to be written into (atomic replace needs it writable). */
static void
check_parent(struct loader *ld, const char *key, const char *file)
{
	const char *slash = strrchr(file, '/');
	char *dir = slash == NULL ? xstrdup(".") : slash == file ? xstrdup("/") :
	    xstrndup(file, (size_t)(slash - file));
	const config_setting_t *s = cfg_given(ld, key);
	struct stat st;

	if (stat(dir, &st) == -1)
		cfg_problem(ld, s, key, "%s: %s", dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		cfg_problem(ld, s, key, "%s is not a directory", dir);
	else if (access(dir, W_OK | X_OK) == -1)
		cfg_problem(ld, s, key, "%s: %s", dir, strerror(errno));
	free(dir);
}

void
cfg_check_paths(struct loader *ld)
{
	struct config *c = ld->cfg;
	const char *tzdir;
	struct stat st;
	char *zone;
	int fd;

	if (c->database != NULL)
		check_dir(ld, "database", c->database, 1);
	if (c->events.spool_dir != NULL)
		check_dir(ld, "events.spool_dir", c->events.spool_dir, 0);
	if (c->metrics.file != NULL)
		check_parent(ld, "metrics.file", c->metrics.file);
	if (c->plat[PLAT_TEAMS].enabled && c->teams.service_user_refresh_token != NULL)
		check_parent(ld, "teams.service_user_refresh_token_file",
		    c->teams.service_user_refresh_token_file);
	if (c->http.ca_file != NULL) {
		fd = open(c->http.ca_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd == -1)
			cfg_problem(ld, cfg_given(ld, "http.ca_file"), "http.ca_file", "%s: %s",
			    c->http.ca_file, strerror(errno));
		else
			close(fd);
	}
	/* Only where a zoneinfo tree exists to ask; "UTC" needs none. */
	tzdir = getenv("TZDIR");
	if (tzdir == NULL || *tzdir == '\0')
		tzdir = "/usr/share/zoneinfo";
	if (c->prompts.default_tz != NULL && strcmp(c->prompts.default_tz, "UTC") != 0 &&
	    stat(tzdir, &st) == 0 && S_ISDIR(st.st_mode)) {
		zone = xasprintf("%s/%s", tzdir, c->prompts.default_tz);
		if (stat(zone, &st) == -1 || !S_ISREG(st.st_mode))
			cfg_problem(ld, cfg_given(ld, "prompts.default_tz"), "prompts.default_tz",
			    "unknown time zone \"%s\" (not in %s)", c->prompts.default_tz, tzdir);
		free(zone);
	}
}
