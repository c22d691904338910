/*
 * fuzz_events.c — libFuzzer target: arbitrary bytes as an events file (JSON Lines), read the
 * way reconcile/outbox.c events_ingest() reads one: getline, line ends ("\n", "\r\n") stripped,
 * empty lines skipped, each line through events_parse_line(). What it accepts must be what
 * the store look-ups expect ("PLATFORM:USER_ID" with a known platform and a non-empty id,
 * a time that formats back to itself); what it refuses must say why.
 *
 *	make fuzz FUZZ_TARGETS=fuzz_events
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "config.h"
#include "outbox.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_events: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		abort();						\
	}								\
} while (0)

static void
check_spec(const char *s)
{
	const char *colon;
	enum platform p;
	char pn[16];

	CHECK(s != NULL && utf8_valid(s, strlen(s)));
	colon = strchr(s, ':');
	CHECK(colon != NULL && colon[1] != '\0' && (size_t)(colon - s) < sizeof(pn));
	memcpy(pn, s, (size_t)(colon - s));
	pn[colon - s] = '\0';
	CHECK(platform_parse(pn, &p) == 0 && strcasecmp(platform_name(p), pn) == 0);
}

static void
check_line(const char *line, size_t len)
{
	char err[192], when[32], *from = (char *)1, *to = (char *)1;
	time_t ts = 0, again;

	if (events_parse_line(line, len, &from, &to, &ts, err, sizeof(err)) < 0) {
		CHECK(from == NULL && to == NULL);
		CHECK(strncmp(err, "invalid JSON at byte ", 21) == 0 ||
		    strcmp(err, "not a JSON object") == 0 ||
		    strcmp(err, "\"from\": not PLATFORM:USER_ID") == 0 ||
		    strcmp(err, "\"to\": not PLATFORM:USER_ID") == 0 ||
		    strcmp(err, "\"ts\": not an ISO 8601 time") == 0);
		return;
	}
	check_spec(from);
	check_spec(to);
	/* a time that formats as a 4-digit year parses back to the same second */
	fmt_iso8601(ts, when);
	if (when[0] != '\0' && parse_iso8601(when, &again) == 0)
		CHECK(again == ts);
	free(from);
	free(to);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;

	if (size == 0)
		return 0;
	if ((fp = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		return 0;
	while ((len = getline(&line, &cap, fp)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		check_line(line, (size_t)len);
	}
	free(line);
	fclose(fp);
	return 0;
}
