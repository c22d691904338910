/*
 * fuzz_graph_page.c — libFuzzer target: arbitrary bytes as a Microsoft Graph GET /users or
 * /users/delta body, taken the way drivers/graph.c graph_pages() takes a page: json_parse,
 * the "value" array sized by json_count and walked through graph_parse_user (delta pages
 * carry {"id","@removed"} entries), @odata.nextLink / @odata.deltaLink, the error code as
 * graph_error_code() reads it; then every account through rec_account_normalize and the
 * reconcile rules (tests/fuzz/fuzz_account.h).
 *
 *	make fuzz FUZZ_TARGETS=fuzz_graph_page
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
	/* an error body: {"error":{"code":...}} or {"error":"..."}, keys in any case */
	e = json_get_ci(&j, 0, "error");
	s = json_is_object(&j, e) ? json_strdup(&j, json_get_ci(&j, e, "code")) :
	    json_strdup(&j, e);
	fuzz_check_str(s);
	free(s);
	arr = json_get(&j, 0, "value");
	if (!json_is_array(&j, arr))
		return 0;
	cap = json_count(&j, arr);
	if (cap > 0)
		accts = xmalloc((size_t)cap * sizeof(*accts));
	for (e = json_first(&j, arr); e >= 0; e = json_next(&j, arr, e)) {
		FCHECK(n < cap);
		if (graph_parse_user(&j, e, "00000000-fuzz-tenant", &accts[n]) == 0)
			n++;
	}
	fuzz_check_page(accts, n, PLAT_TEAMS);
	for (e = 0; e < n; e++)
		account_free(&accts[e]);
	free(accts);
	s = json_strdup(&j, json_get(&j, 0, "@odata.nextLink"));
	if (s == NULL)
		s = json_strdup(&j, json_get(&j, 0, "@odata.deltaLink"));
	fuzz_check_str(s);
	free(s);
	return 0;
}
