/* libFuzzer target: the APTPL record decoder. Any accepted record must be
 * canonical: encoding the decoded state gives back the same bytes. A
 * rejected record must leave the state untouched. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prkit/pr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prk_pr_state *st = prk_pr_state_new(NULL);
	if (!st)
		return 0;
	struct prk_field_err err;
	if (prk_pr_record_decode(st, data, size, &err) == 0) {
		uint8_t *out = NULL;
		size_t n = prk_pr_record_encode(st, &out);
		if (n != size || memcmp(out, data, size) != 0)
			__builtin_trap();
		free(out);
	} else if (prk_pr_reg_count(st) != 0 || !err.field) {
		__builtin_trap();
	}
	prk_pr_state_free(st);
	return 0;
}
