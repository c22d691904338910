/*
 * fuzz_slack_page.c — libFuzzer target: arbitrary bytes as a Slack users.list body, taken
 * the way drivers/slack.c slack_pull() takes a page: json_parse, the "ok" check, the
 * "members" array sized by json_count and walked with json_first/json_next through
 * slack_parse_member, the next cursor; then every account through rec_account_normalize and
 * the reconcile rules (tests/fuzz/fuzz_account.h checks what they promise).
 *
 *	make fuzz FUZZ_TARGETS=fuzz_slack_page		(builds with the whole library, runs)
 *	build/fuzz/fuzz_slack_page -max_total_time=60 build/fuzz/corpus/fuzz_slack_page
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "driver.h"
#include "json.h"
#include "fuzz_account.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json j;		/* reused across pages, as slack_pull does */
	struct account *accts = NULL;
	char err[160], *s;
	int members, m, n = 0, cap, ok = 0;

	if (json_parse(&j, (const char *)data, size, err, sizeof(err)) < 0)
		return 0;
	/* slack_check: HTTP 200 with "ok": false is an error, its "error" named */
	if (json_bool(&j, json_get(&j, 0, "ok"), &ok) < 0 || !ok) {
		free(json_strdup(&j, json_get(&j, 0, "error")));
		return 0;
	}
	members = json_get(&j, 0, "members");
	if (!json_is_array(&j, members))
		return 0;
	cap = json_count(&j, members);
	if (cap > 0)
		accts = xmalloc((size_t)cap * sizeof(*accts));
	for (m = json_first(&j, members); m >= 0; m = json_next(&j, members, m)) {
		FCHECK(n < cap);
		/* the team from auth.test, or none known (then "unknown") */
		if (slack_parse_member(&j, m, (size & 1) ? NULL : "T0FUZZ", &accts[n]) == 0)
			n++;
	}
	fuzz_check_page(accts, n, PLAT_SLACK);
	for (m = 0; m < n; m++)
		account_free(&accts[m]);
	free(accts);
	s = json_strdup(&j, json_path(&j, 0, "response_metadata.next_cursor"));
	fuzz_check_str(s);
	free(s);
	return 0;
}
