/*
 * fuzz_webex_page.c — libFuzzer target: arbitrary bytes as a Webex GET /people body, taken
 * the way drivers/webex.c webex_pull() takes a page: json_parse, the "items" array sized by
 * json_count and walked through webex_parse_person (booleans or "true"/"false" strings,
 * lastActivity times), the first account's org for the team name; then every account
 * through rec_account_normalize and the reconcile rules (tests/fuzz/fuzz_account.h).
 *
 *	make fuzz FUZZ_TARGETS=fuzz_webex_page
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
	static struct json j;
	struct account *accts = NULL;
	char err[160], *s;
	int arr, e, n = 0, cap;

	if (json_parse(&j, (const char *)data, size, err, sizeof(err)) < 0)
		return 0;
	/* an error body names its "message" */
	s = json_strdup(&j, json_get(&j, 0, "message"));
	fuzz_check_str(s);
	free(s);
	arr = json_get(&j, 0, "items");
	if (!json_is_array(&j, arr))
		return 0;
	cap = json_count(&j, arr);
	if (cap > 0)
		accts = xmalloc((size_t)cap * sizeof(*accts));
	for (e = json_first(&j, arr); e >= 0; e = json_next(&j, arr, e)) {
		FCHECK(n < cap);
		if (webex_parse_person(&j, e, &accts[n]) == 0)
			n++;
	}
	if (n > 0)
		FCHECK(accts[0].team_id != NULL);	/* names the org in the sink */
	fuzz_check_page(accts, n, PLAT_WEBEX);
	for (e = 0; e < n; e++)
		account_free(&accts[e]);
	free(accts);
	return 0;
}
