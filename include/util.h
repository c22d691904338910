/*
 * util.h — memory, growable buffers, logging and time helpers shared by every module.
 *
 * Out of memory aborts (xmalloc and friends never return NULL).
 */
#ifndef PS_UTIL_H
#define PS_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Formatted allocation; aborts on failure. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A growable byte buffer. p is always NUL-terminated after any buf_* call (the NUL is not
 * counted in len), so p can be used as a C string when the content has no NUL.
 * A zero-initialised struct buf is an empty buffer.
 */
struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

void	buf_init(struct buf *b);
void	buf_free(struct buf *b);		/* releases memory; buffer is empty again */
void	buf_reset(struct buf *b);		/* len = 0, keeps capacity */
void	buf_grow(struct buf *b, size_t extra);	/* buf_reserve's slow path */

/* Room for extra more bytes and the NUL. Inline: the encoders call these per field. */
static inline void
buf_reserve(struct buf *b, size_t extra)
{
	if (b->cap <= b->len || extra >= b->cap - b->len)
		buf_grow(b, extra);
}

static inline void
buf_add(struct buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static inline void
buf_addc(struct buf *b, char c)
{
	buf_reserve(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}
void	buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Append s as a JSON string literal (with quotes), escaping as RFC 8259 requires. */
void	buf_json_str(struct buf *b, const char *s);
/* Append n bytes of s, URL-encoded (RFC 3986 unreserved kept). */
void	buf_urlencode(struct buf *b, const char *s, size_t n);
/* Append s HTML-escaped (& < > " ' as entities), for element text and quoted attribute
 * values; s == NULL appends nothing. */
void	buf_html_esc(struct buf *b, const char *s);

/* Logging to stderr. On a terminal: "peoplesync: message"; otherwise key=value lines
 * ("level=warn msg=\"...\""). Messages must never contain secrets. */
enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };
void	log_set_level(int level);
int	log_get_level(void);
int	log_is_tty(void);
void	log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)
/* A progress line on a terminal (overwritten in place); nothing otherwise. */
void	log_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_progress_end(void);

/* Time. ps_now() honours $PEOPLESYNC_NOW (unix seconds) for tests. */
time_t	ps_now(void);
double	ps_monotonic(void);			/* seconds, CLOCK_MONOTONIC */
/* ISO 8601 UTC "2026-11-24T10:00:00Z" into out (at least 21 bytes). t == 0 gives "". */
void	fmt_iso8601(time_t t, char out[32]);
/* Parses "YYYY-MM-DDTHH:MM:SS(.fff)?(Z|+hh:mm)"; returns 0 and sets *t, or -1. */
int	parse_iso8601(const char *s, time_t *t);

/* Lower-case ASCII in place. */
void	str_lower(char *s);
/* Parses a whole decimal integer in [min,max]; 0 on success, -1 otherwise. */
int	parse_ll(const char *s, long long min, long long max, long long *out);
/* Levenshtein distance (ASCII), for "did you mean". */
int	str_distance(const char *a, const char *b);
/* UTF-8 well-formedness (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
int	utf8_valid(const char *s, size_t n);
/* Display width in terminal columns of a UTF-8 string (CJK/emoji count 2, combining 0). */
int	utf8_width(const char *s);

/* Reads a whole file (cap bytes at most); 0 on success, -1 with errno set. */
int	read_file(const char *path, size_t cap, struct buf *out);
/* Atomically replaces path with data: a temp file of an unpredictable name in the same dir
 * (O_EXCL | O_NOFOLLOW), fsync, rename, fsync dir. Only a regular file (or nothing) at path
 * is replaced: a symlink, device or fifo there is refused with EEXIST, a directory with
 * EISDIR, and left as it was. 0 on success, -1 with errno set. */
int	write_file_atomic(const char *path, const void *data, size_t n, int mode);
/* Creates path with data, never replacing anything: the same temp file as above (mode, owner
 * uid/gid unless (uid_t)-1/(gid_t)-1, set before it is visible), then link(2) to path, which
 * fails with EEXIST when anything holds the name (a file, a symlink, a directory). 0 on
 * success, -1 with errno set (nothing created). */
int	create_file_excl(const char *path, const void *data, size_t n, int mode, uid_t uid,
	    gid_t gid);

/* Big-endian 64-bit integers (keys sort as numbers; tokens carry them portably). */
/* Big-endian 8 bytes (keys sort as numbers). */
static inline void
put_be64(unsigned char *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, 8);
}

static inline uint64_t
get_be64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* Random bytes from OpenSSL's CSPRNG; aborts on failure. */
void	random_bytes(void *out, size_t n);
/* Uniform double in [0,1) (not for secrets). */
double	random_unit(void);

#endif
