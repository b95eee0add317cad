/* prkit-lincheck HISTORY.jsonl: is a recorded history of PR commands
 * linearizable against prkit's PR engine? For the cluster tests; not
 * installed. Exit status: 0 linearizable, 1 not, 2 malformed history (or
 * bad usage), 3 undecided (configuration limit reached) or out of memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decimal.h"
#include "lincheck.h"

static int usage(void)
{
	fprintf(stderr, "usage: prkit-lincheck [-v] [--max-configs N] HISTORY.jsonl\n"
	                "  exit 0 linearizable, 1 not, 2 malformed history, 3 undecided\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct prk_lin_options opt = {0};
	const char *path = NULL;
	bool verbose = false;

	for (int i = 1; i < argc; i++) {
		uint64_t n;
		if (strcmp(argv[i], "-v") == 0) {
			verbose = true;
		} else if (strcmp(argv[i], "--max-configs") == 0 && i + 1 < argc) {
			if (!prk_parse_dec(argv[++i], SIZE_MAX, &n) || n == 0) {
				fprintf(stderr, "prkit-lincheck: --max-configs needs a positive "
				                "number\n");
				return 2;
			}
			opt.max_configs = (size_t)n;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			return usage();
		} else if (!path) {
			path = argv[i];
		} else {
			return usage();
		}
	}
	if (!path)
		return usage();

	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		fprintf(stderr, "prkit-lincheck: %s: %s\n", path, strerror(errno));
		return 2;
	}
	struct prk_lin_history h;
	char err[512];
	int r = prk_lin_history_read(f, &h, err, sizeof(err));
	if (f != stdin)
		fclose(f);
	if (r < 0) {
		fprintf(stderr, "prkit-lincheck: %s: %s\n", path, err);
		return 2;
	}

	struct timespec t0, t1;
	struct prk_lin_verdict v;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	prk_lin_check(&h, &opt, &v);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (verbose)
		fprintf(stderr,
		        "prkit-lincheck: %zu ops, %zu not applied, %zu LUs, %zu configurations, "
		        "%.3f s\n",
		        v.n_ops, v.n_skipped, v.n_lus, v.configs,
		        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	prk_lin_history_free(&h);
	switch (v.result) {
	case PRK_LIN_LINEARIZABLE:
		printf("linearizable: %zu ops\n", v.n_ops);
		return 0;
	case PRK_LIN_NOT_LINEARIZABLE:
		printf("%s\n", v.explain);
		return 1;
	default:
		printf("%s\n", v.explain);
		return 3;
	}
}
