/* The host library's bounded object cache (src/host/obj_pool.c), which
 * the multipath device takes its per-I/O records from: an object given
 * back is handed out again (no malloc per I/O), always zeroed; no more
 * than `cap` idle objects are kept, whatever was given back; draining
 * frees them all (the sanitizer build checks that nothing leaks). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "obj_pool.h"

struct rec {
	void *link;
	uint64_t lba;
	unsigned char tail[200];
};

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void test_reuses_the_object_given_back_zeroed(void **state)
{
	(void)state;
	struct prk_obj_pool pl;
	prk_obj_pool_init(&pl, sizeof(struct rec), 4);
	struct rec *a = prk_obj_pool_get(&pl);
	assert_non_null(a);
	assert_true(all_zero(a, sizeof(*a)));
	memset(a, 0xa5, sizeof(*a));
	prk_obj_pool_put(&pl, a);
	assert_int_equal(pl.n_idle, 1);
	struct rec *b = prk_obj_pool_get(&pl);
	assert_ptr_equal(a, b); /* the same storage: no allocation */
	assert_int_equal(pl.n_idle, 0);
	assert_true(all_zero(b, sizeof(*b)));
	prk_obj_pool_put(&pl, b);
	prk_obj_pool_drain(&pl);
	assert_int_equal(pl.n_idle, 0);
	assert_null(pl.idle);
}

static void test_keeps_at_most_cap_idle(void **state)
{
	(void)state;
	enum { CAP = 3, N = 10 };
	struct prk_obj_pool pl;
	prk_obj_pool_init(&pl, sizeof(struct rec), CAP);
	struct rec *r[N];
	for (int i = 0; i < N; i++) {
		r[i] = prk_obj_pool_get(&pl);
		assert_non_null(r[i]);
	}
	for (int i = 0; i < N; i++) {
		prk_obj_pool_put(&pl, r[i]);
		assert_true(pl.n_idle <= CAP);
	}
	assert_int_equal(pl.n_idle, CAP);
	/* The idle list holds exactly CAP objects, each handed out once. */
	struct rec *again[CAP + 1];
	for (int i = 0; i < CAP; i++) {
		again[i] = prk_obj_pool_get(&pl);
		for (int k = 0; k < i; k++)
			assert_ptr_not_equal(again[k], again[i]);
	}
	assert_int_equal(pl.n_idle, 0);
	assert_null(pl.idle);
	again[CAP] = prk_obj_pool_get(&pl); /* a new one */
	assert_non_null(again[CAP]);
	for (int i = 0; i <= CAP; i++)
		prk_obj_pool_put(&pl, again[i]);
	assert_int_equal(pl.n_idle, CAP);
	prk_obj_pool_drain(&pl);
	assert_int_equal(pl.n_idle, 0);
}

static void test_cap_zero_keeps_nothing(void **state)
{
	(void)state;
	struct prk_obj_pool pl;
	prk_obj_pool_init(&pl, sizeof(struct rec), 0);
	void *a = prk_obj_pool_get(&pl);
	assert_non_null(a);
	prk_obj_pool_put(&pl, a);
	assert_int_equal(pl.n_idle, 0);
	assert_null(pl.idle);
	prk_obj_pool_put(&pl, NULL); /* ignored, as free(NULL) */
	assert_int_equal(pl.n_idle, 0);
}

static void test_tiny_objects_hold_the_link(void **state)
{
	(void)state;
	struct prk_obj_pool pl;
	prk_obj_pool_init(&pl, 1, 2);
	assert_int_equal(pl.size, sizeof(void *));
	void *a = prk_obj_pool_get(&pl), *b = prk_obj_pool_get(&pl);
	prk_obj_pool_put(&pl, a);
	prk_obj_pool_put(&pl, b);
	assert_ptr_equal(prk_obj_pool_get(&pl), b);
	assert_ptr_equal(prk_obj_pool_get(&pl), a);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reuses_the_object_given_back_zeroed),
	    cmocka_unit_test(test_keeps_at_most_cap_idle),
	    cmocka_unit_test(test_cap_zero_keeps_nothing),
	    cmocka_unit_test(test_tiny_objects_hold_the_link),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
