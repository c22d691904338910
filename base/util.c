/* util.c — memory, buffers, logging, time, small string and file helpers. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "util.h"

static void
oom(void)
{
	static const char msg[] = "peoplesync: out of memory\n";
	ssize_t r = write(2, msg, sizeof(msg) - 1);
	(void)r;
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	struct buf b = { 0 };
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (b.p == NULL)
		return xstrdup("");
	return b.p;
}

/* ---- buffers ---- */

void
buf_init(struct buf *b)
{
	b->p = NULL;
	b->len = b->cap = 0;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

void
buf_grow(struct buf *b, size_t extra)
{
	size_t need, ncap;

	if (extra > SIZE_MAX - b->len - 1)
		oom();
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	b->p = xrealloc(b->p, ncap);
	b->cap = ncap;
	b->p[b->len] = '\0';		/* keeps the promise: p is always a C string */
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	buf_reserve(b, 64);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
buf_json_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *run;

	buf_addc(b, '"');
	if (s == NULL) {
		buf_addc(b, '"');
		return;
	}
	run = p;
	for (; *p; p++) {
		unsigned char c = *p;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, run, (size_t)(p - run));
		run = p + 1;
		switch (c) {
		case '"':  buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		case '\b': buf_add(b, "\\b", 2); break;
		case '\f': buf_add(b, "\\f", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			buf_add(b, u, 6);
		}
		}
	}
	buf_add(b, run, (size_t)(p - run));
	buf_addc(b, '"');
}

void
buf_urlencode(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	buf_reserve(b, n * 3);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			b->p[b->len++] = (char)c;
		} else {
			b->p[b->len++] = '%';
			b->p[b->len++] = hex[c >> 4];
			b->p[b->len++] = hex[c & 15];
		}
	}
	b->p[b->len] = '\0';
}

void
buf_html_esc(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_addc(b, *s);
		}
	}
}

/* ---- logging ---- */

static int log_level = LOG_INFO;
static int log_tty = -1;
static int progress_shown;

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

int
log_is_tty(void)
{
	if (log_tty < 0)
		log_tty = isatty(2) && getenv("PEOPLESYNC_NO_TTY") == NULL;
	return log_tty;
}

void
log_msg(int level, const char *fmt, ...)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	struct buf b = { 0 };
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	if (log_is_tty()) {
		if (progress_shown)
			log_progress_end();
		buf_adds(&b, "peoplesync: ");
		if (level == LOG_WARN)
			buf_adds(&b, "warning: ");
		buf_vprintf(&b, fmt, ap);
	} else {
		struct buf m = { 0 };
		buf_vprintf(&m, fmt, ap);
		buf_printf(&b, "level=%s msg=", names[level]);
		buf_json_str(&b, m.p ? m.p : "");
		buf_free(&m);
	}
	va_end(ap);
	buf_addc(&b, '\n');
	fwrite(b.p, 1, b.len, stderr);
	fflush(stderr);
	buf_free(&b);
}

void
log_progress(const char *fmt, ...)
{
	struct buf b = { 0 };
	va_list ap;

	if (!log_is_tty() || log_level < LOG_INFO)
		return;
	va_start(ap, fmt);
	buf_adds(&b, "\r\033[K");
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	fwrite(b.p, 1, b.len, stderr);
	fflush(stderr);
	buf_free(&b);
	progress_shown = 1;
}

void
log_progress_end(void)
{
	if (!progress_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	progress_shown = 0;
}

/* ---- time ---- */

time_t
ps_now(void)
{
	const char *s = getenv("PEOPLESYNC_NOW");
	long long v;

	if (s && parse_ll(s, 0, LLONG_MAX, &v) == 0)
		return (time_t)v;
	return time(NULL);
}

double
ps_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
fmt_iso8601(time_t t, char out[32])
{
	struct tm tm;

	out[0] = '\0';
	if (t == 0)
		return;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
parse_iso8601(const char *s, time_t *t)
{
	struct tm tm;
	int y, mo, d, h, mi, se, off = 0;
	const char *p;

	if (strlen(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
			return -1;
		off = (oh * 60 + om) * 60 * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*t = timegm(&tm) - off;
	return 0;
}

/* ---- strings ---- */

void
str_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

int
parse_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
str_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int *row, r;

	if (la > 256 || lb > 256)
		return 1000;
	row = xmalloc((lb + 1) * sizeof(int));
	for (j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (i = 1; i <= la; i++) {
		int prev = row[0];
		row[0] = (int)i;
		for (j = 1; j <= lb; j++) {
			int cur = row[j];
			int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			int v = prev + cost;
			if (row[j] + 1 < v)
				v = row[j] + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			prev = cur;
		}
	}
	r = row[lb];
	free(row);
	return r;
}

int
utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			if (i + 1 >= n || (s[i + 1] & 0xc0) != 0x80)
				return 0;
			i += 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			if (i + 2 >= n || (s[i + 1] & 0xc0) != 0x80 || (s[i + 2] & 0xc0) != 0x80)
				return 0;
			if (c == 0xe0 && s[i + 1] < 0xa0)
				return 0;		/* overlong */
			if (c == 0xed && s[i + 1] >= 0xa0)
				return 0;		/* surrogate */
			i += 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			if (i + 3 >= n || (s[i + 1] & 0xc0) != 0x80 || (s[i + 2] & 0xc0) != 0x80 ||
			    (s[i + 3] & 0xc0) != 0x80)
				return 0;
			if (c == 0xf0 && s[i + 1] < 0x90)
				return 0;
			if (c == 0xf4 && s[i + 1] >= 0x90)
				return 0;
			i += 4;
		} else {
			return 0;
		}
	}
	return 1;
}

/* Width of one code point: a pragmatic wcwidth covering what roster names contain. */
static int
cp_width(unsigned cp)
{
	if (cp == 0)
		return 0;
	if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    (cp >= 0xfe00 && cp <= 0xfe0f) || cp == 0x200d || (cp >= 0x1f3fb && cp <= 0x1f3ff) ||
	    (cp >= 0x591 && cp <= 0x5c7 && cp != 0x5be && cp != 0x5c0 && cp != 0x5c3 &&
	     cp != 0x5c6) || (cp >= 0x610 && cp <= 0x61a) || (cp >= 0x64b && cp <= 0x65f) ||
	    cp == 0x670 || (cp >= 0x900 && cp <= 0x903) || (cp >= 0x93a && cp <= 0x94f &&
	     cp != 0x93d) || (cp >= 0x951 && cp <= 0x957))
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
	    (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
	    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
	    (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x1f680 && cp <= 0x1f6ff) ||
	    (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

int
utf8_width(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int w = 0;

	while (*s) {
		unsigned cp;
		int n;
		if (*s < 0x80) {
			cp = *s;
			n = 1;
		} else if ((*s & 0xe0) == 0xc0) {
			cp = *s & 0x1f;
			n = 2;
		} else if ((*s & 0xf0) == 0xe0) {
			cp = *s & 0x0f;
			n = 3;
		} else {
			cp = *s & 0x07;
			n = 4;
		}
		for (int k = 1; k < n; k++) {
			if ((s[k] & 0xc0) != 0x80) {
				n = k;
				break;
			}
			cp = (cp << 6) | (s[k] & 0x3f);
		}
		w += cp < 0x20 ? 0 : cp_width(cp);
		s += n;
	}
	return w;
}

/* ---- files ---- */

int
read_file(const char *path, size_t cap, struct buf *out)
{
	char tmp[65536];
	int fd, saved;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > cap) {
			errno = EFBIG;
			goto fail;
		}
		buf_add(out, tmp, (size_t)n);
	}
	close(fd);
	if (out->p == NULL)
		buf_reserve(out, 0);
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* The directory part of path ("." when there is none, "/" for a file in the root). */
static char *
dir_of(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');

	*base = slash ? slash + 1 : path;
	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* A fresh temporary file beside the target: unpredictable name, O_EXCL | O_NOFOLLOW, so that
 * nothing planted at a guessed name (a symlink, a file of someone else's) is ever opened. */
static int
open_temp(int dfd, const char *base, int mode, struct buf *name)
{
	unsigned char r[8];
	int tries, fd = -1;

	for (tries = 0; tries < 16 && fd < 0; tries++) {
		random_bytes(r, sizeof(r));
		name->len = 0;
		buf_printf(name, ".%s.tmp.%02x%02x%02x%02x%02x%02x%02x%02x", base, r[0], r[1], r[2],
		    r[3], r[4], r[5], r[6], r[7]);
		fd = openat(dfd, name->p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    (mode_t)mode);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Writes data into a fresh temporary file beside base in dfd (mode, and owner uid/gid unless
 * -1), fsynced and closed. 0 with its name in *tmp, or -1 with errno set and nothing left.
 */
static int
write_temp(int dfd, const char *base, const void *data, size_t n, int mode, uid_t uid,
    gid_t gid, struct buf *tmp)
{
	int fd, saved;

	if ((fd = open_temp(dfd, base, mode, tmp)) < 0)
		return -1;
	/* The data must be on disk before a rename or a link makes it visible under its name;
	 * the owner is set before, so the file never shows up with the wrong one. */
	if (write_all(fd, data, n) < 0 || fsync(fd) < 0 || fchmod(fd, (mode_t)mode) < 0 ||
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)) {
		saved = errno;
		close(fd);
		unlinkat(dfd, tmp->p, 0);
		errno = saved;
		return -1;
	}
	if (close(fd) < 0) {
		saved = errno;
		unlinkat(dfd, tmp->p, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

/*
 * The two ways a file is published. replace: only a regular file (or nothing) at path is
 * replaced, by rename(2). !replace: nothing at path is ever replaced, by link(2).
 */
static int
place_file(const char *path, const void *data, size_t n, int mode, uid_t uid, gid_t gid,
    int replace)
{
	struct buf tmp = { 0 };
	const char *base;
	char *dir = dir_of(path, &base);
	int dfd, rc = -1, saved;
	struct stat st;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (dfd < 0)
		return -1;
	/* Only a regular file is ever replaced: not a device, a fifo, a symlink or a directory;
	 * and when nothing may be replaced, a name taken leaves the directory untouched (not
	 * even a temp file in it). */
	if (*base == '\0' || (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (!replace || !S_ISREG(st.st_mode)))) {
		errno = *base == '\0' || (replace && S_ISDIR(st.st_mode)) ? EISDIR : EEXIST;
		goto out;
	}
	if (write_temp(dfd, base, data, n, mode, uid, gid, &tmp) < 0)
		goto out;
	/* link(2), unlike rename(2), fails with EEXIST when anything (even a dangling symlink)
	 * holds the name by now: the complete file appears at once, or nothing is touched. */
	if (replace ? renameat(dfd, tmp.p, dfd, base) == 0 : linkat(dfd, tmp.p, dfd, base, 0) == 0)
		rc = 0;
	saved = errno;
	if (rc < 0 || !replace)
		unlinkat(dfd, tmp.p, 0);
	errno = saved;
	/* And the new name must survive a crash: sync the directory. */
	if (rc == 0)
		fsync(dfd);
out:
	saved = errno;
	close(dfd);
	errno = saved;
	buf_free(&tmp);
	return rc;
}

int
write_file_atomic(const char *path, const void *data, size_t n, int mode)
{
	return place_file(path, data, n, mode, (uid_t)-1, (gid_t)-1, 1);
}

int
create_file_excl(const char *path, const void *data, size_t n, int mode, uid_t uid, gid_t gid)
{
	return place_file(path, data, n, mode, uid, gid, 0);
}

void
random_bytes(void *out, size_t n)
{
	if (RAND_bytes(out, (int)n) != 1) {
		fputs("peoplesync: RAND_bytes failed\n", stderr);
		abort();
	}
}

double
random_unit(void)
{
	uint64_t v;

	random_bytes(&v, sizeof(v));
	return (double)(v >> 11) / 9007199254740992.0;
}

