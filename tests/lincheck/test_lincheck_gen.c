/* The checker on generated histories (lincheck.h, "Generated histories"):
 * random sequential runs through the engine, widened into overlapping
 * intervals, with lost answers. Each must be found linearizable; the same
 * history with one READ KEYS answer broken must not, with the broken
 * command named. Prints the time the checker took (measurements, not
 * assertions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lin_test_util.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct shape {
	size_t unanswered, max_overlap;
};

static int cmp_ev(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;

	/* (time, +1 call / -1 return): returns first at a tie. */
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* How many answers are missing, and how many answered commands were in
 * flight at once at most: the test is only worth something if the history
 * really overlaps and really lost answers. */
static struct shape shape_of(const struct prk_lin_history *h)
{
	int64_t(*ev)[2] = calloc(2 * h->n + 1, sizeof(*ev));
	size_t n = 0;
	struct shape s = {0, 0};
	long cur = 0;

	assert_non_null(ev);
	for (size_t i = 0; i < h->n; i++) {
		if (!h->ops[i].answered) {
			s.unanswered++;
			continue;
		}
		ev[n][0] = h->ops[i].invoke_ns;
		ev[n++][1] = 1;
		ev[n][0] = h->ops[i].return_ns;
		ev[n++][1] = -1;
	}
	qsort(ev, n, sizeof(*ev), cmp_ev);
	for (size_t i = 0; i < n; i++) {
		cur += ev[i][1];
		if (cur > (long)s.max_overlap)
			s.max_overlap = (size_t)cur;
	}
	free(ev);
	return s;
}

static void gen(struct prk_lin_history *h, size_t n, uint64_t seed, unsigned pct)
{
	struct prk_lin_gen g = {.n_ops = n,
	                        .seed = seed,
	                        .unanswered_pct = pct,
	                        .initiators = 6,
	                        .spacing_ns = 100000,
	                        .jitter_ns = 300000};

	memset(h, 0, sizeof(*h));
	assert_int_equal(prk_lin_gen_history(h, &g), 0);
	assert_int_equal(h->n, n);
}

/* n ops: linearizable as generated, not after the corruption. */
static void check_pair(size_t n, uint64_t seed, unsigned pct, bool print)
{
	struct prk_lin_history h;
	struct prk_lin_verdict v;

	gen(&h, n, seed, pct);
	struct shape s = shape_of(&h);
	assert_true(s.max_overlap >= 4);
	assert_true(s.unanswered >= n * pct / 200 && s.unanswered <= n * pct * 2 / 100 + 1);

	double t0 = now();
	enum prk_lin_result r = prk_lin_check(&h, NULL, &v);
	double t1 = now();
	if (r != PRK_LIN_LINEARIZABLE)
		print_error("seed %llu: %s\n", (unsigned long long)seed, v.explain);
	assert_int_equal(r, PRK_LIN_LINEARIZABLE);
	assert_int_equal(v.n_ops, n);

	long bad = prk_lin_gen_corrupt(&h);
	assert_true(bad >= 0);
	double t2 = now();
	r = prk_lin_check(&h, NULL, &v);
	double t3 = now();
	if (r != PRK_LIN_NOT_LINEARIZABLE)
		print_error("seed %llu: corrupted op %ld not found\n", (unsigned long long)seed,
		            bad);
	assert_int_equal(r, PRK_LIN_NOT_LINEARIZABLE);
	assert_int_equal(v.bad_op, (size_t)bad);
	if (print)
		print_message(
		    "# %zu ops (%u%%: %zu unanswered, up to %zu in flight): linearizable in "
		    "%.3f s; corrupted op %ld found in %.3f s (%zu configurations)\n",
		    n, pct, s.unanswered, s.max_overlap, t1 - t0, bad, t3 - t2, v.configs);
	prk_lin_history_free(&h);
}

/* With no jitter and no lost answers the history is the sequential run. */
static void test_sequential_run(void **state)
{
	struct prk_lin_history h;
	struct prk_lin_gen g = {.n_ops = 500, .seed = 7, .initiators = 6, .spacing_ns = 10};

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(prk_lin_gen_history(&h, &g), 0);
	lt_check(&h, PRK_LIN_LINEARIZABLE);
	prk_lin_history_free(&h);
}

static void test_many_seeds(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 30; seed++)
		check_pair(300, seed, 10, false);
}

static void test_1000(void **state)
{
	(void)state;
	check_pair(1000, 1000, 2, true);
}

static void test_3000(void **state)
{
	(void)state;
	check_pair(3000, 3000, 1, true);
}

static void test_10000(void **state)
{
	(void)state;
	check_pair(10000, 10000, 0, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sequential_run), cmocka_unit_test(test_many_seeds),
	    cmocka_unit_test(test_1000),           cmocka_unit_test(test_3000),
	    cmocka_unit_test(test_10000),
	};
	lt_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
