/* prkit-lincheck-gen N SEED UNANSWERED_PCT [--corrupt]: writes a generated
 * history (lincheck.h, "Generated histories") to stdout: 6 initiators,
 * 100 us between instants, up to 300 us of jitter at each end (about six
 * commands in flight at once). --corrupt breaks one READ KEYS answer. For
 * the checker's tests and measurements; not installed. */
#include <stdio.h>
#include <string.h>

#include "decimal.h"
#include "lincheck.h"

int main(int argc, char **argv)
{
	uint64_t n, seed, pct;
	bool corrupt = argc == 5 && strcmp(argv[4], "--corrupt") == 0;

	if ((argc != 4 && !corrupt) || !prk_parse_dec(argv[1], PRK_LIN_OPS_MAX, &n) ||
	    !prk_parse_dec(argv[2], UINT64_MAX, &seed) || !prk_parse_dec(argv[3], 100, &pct)) {
		fprintf(stderr, "usage: prkit-lincheck-gen N SEED UNANSWERED_PCT [--corrupt]\n");
		return 2;
	}
	struct prk_lin_history h = {0};
	struct prk_lin_gen g = {.n_ops = n,
	                        .seed = seed,
	                        .unanswered_pct = (unsigned)pct,
	                        .initiators = 6,
	                        .spacing_ns = 100000,
	                        .jitter_ns = 300000};
	if (prk_lin_gen_history(&h, &g) < 0) {
		fprintf(stderr, "prkit-lincheck-gen: out of memory\n");
		return 1;
	}
	if (corrupt && prk_lin_gen_corrupt(&h) < 0) {
		fprintf(stderr, "prkit-lincheck-gen: no READ KEYS answer to corrupt\n");
		prk_lin_history_free(&h);
		return 1;
	}
	int r = 0;
	for (size_t i = 0; i < h.n && r == 0; i++)
		r = prk_lin_op_write(stdout, &h.ops[i]);
	prk_lin_history_free(&h);
	return r == 0 && fflush(stdout) == 0 ? 0 : 1;
}
