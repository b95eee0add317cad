/* libFuzzer target: the cluster snapshot decoder. An accepted snapshot
 * must be canonical (encoding the decoded state gives back the same
 * bytes); a refused one must leave the destination's state untouched and
 * name the bad field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prkit/pr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prk_pr_config cfg = {.max_registrations = 64};
	struct prk_pr_state *st = prk_pr_state_new(&cfg);
	if (!st)
		return 0;
	struct prk_field_err err = {0};
	if (prk_pr_snapshot_decode(st, data, size, &err) == 0) {
		uint8_t *out = NULL;
		size_t n = prk_pr_snapshot_encode(st, &out);
		if (n != size || memcmp(out, data, size) != 0)
			__builtin_trap();
		free(out);
	} else if (prk_pr_reg_count(st) != 0 || prk_pr_spc2_holder(st, NULL) || prk_pr_lost(st) ||
	           !err.field) {
		__builtin_trap();
	}
	prk_pr_state_free(st);
	return 0;
}
