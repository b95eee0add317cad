/* fence_prkit's key layout: the cluster tag (FNV-1a folded), building,
 * splitting and matching keys, the printed form, cluster names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "fence_key.h"

static void tag_known_values(void **state)
{
	(void)state;
	/* FNV-1a 32 of "" is 0x811c9dc5: 0x811c ^ 0x9dc5. */
	assert_int_equal(prk_fence_cluster_tag(""), 0x1cd9);
	/* "a": 0xe40c292c; "foobar": 0xbf9cf968 (the FNV test vectors). */
	assert_int_equal(prk_fence_cluster_tag("a"), 0xcd20);
	assert_int_equal(prk_fence_cluster_tag("foobar"), 0x46f4);
	/* The default cluster name: 0x332db7f9. */
	assert_int_equal(prk_fence_cluster_tag("prkit"), 0x84d4);
	assert_int_equal(prk_fence_cluster_tag("mycluster"), 0xffb5);
	assert_int_equal(prk_fence_cluster_tag(NULL), 0x1cd9);
}

static void tag_zero_becomes_one(void **state)
{
	(void)state;
	/* FNV-1a of "xer" is 0xc45cc45c: its halves cancel. */
	assert_int_equal(prk_fence_cluster_tag("xer"), 1);
}

static void tag_is_case_and_byte_sensitive(void **state)
{
	(void)state;
	assert_int_not_equal(prk_fence_cluster_tag("prkit"), prk_fence_cluster_tag("PRKIT"));
	assert_int_not_equal(prk_fence_cluster_tag("prkit"), prk_fence_cluster_tag("prkit "));
}

static void make_layout(void **state)
{
	uint64_t k = prk_fence_key_make(0x1234, 0x0002, 5);
	uint8_t be[8];

	(void)state;
	assert_true(k == 0x1234000200000005ULL);
	/* Sent most significant byte first: CC CC NN NN II II II II. */
	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(k >> (56 - 8 * i));
	assert_int_equal(be[0], 0x12);
	assert_int_equal(be[1], 0x34);
	assert_int_equal(be[2], 0x00);
	assert_int_equal(be[3], 0x02);
	assert_int_equal(be[7], 0x05);
	assert_true(prk_fence_key_make(0xffff, 0xffff, 0xffffffffu) == UINT64_MAX);
	assert_true(prk_fence_key_make(1, 65535, 1) == 0x0001ffff00000001ULL);
}

static void make_refuses_zero_fields(void **state)
{
	(void)state;
	assert_true(prk_fence_key_make(0, 1, 1) == 0);
	assert_true(prk_fence_key_make(1, 1, 0) == 0);
	/* node 0: the cluster-wide key (generation in the low bits). */
	assert_true(prk_fence_key_make(0x84d4, 0, 7) == 0x84d4000000000007ULL);
}

static void parse_fields(void **state)
{
	uint16_t t = 0, n = 0;
	uint32_t i = 0;

	(void)state;
	assert_true(prk_fence_key_parse(0x7a3c000200000005ULL, &t, &n, &i));
	assert_int_equal(t, 0x7a3c);
	assert_int_equal(n, 2);
	assert_int_equal(i, 5);
	assert_true(prk_fence_key_parse(0xfffffffffffffffeULL, &t, &n, &i));
	assert_int_equal(t, 0xffff);
	assert_int_equal(n, 0xffff);
	assert_true(i == 0xfffffffeu);
	/* Round trip. */
	assert_true(prk_fence_key_parse(prk_fence_key_make(0xbeef, 300, 123456789), &t, &n, &i));
	assert_int_equal(t, 0xbeef);
	assert_int_equal(n, 300);
	assert_int_equal(i, 123456789);
	/* NULL outputs are allowed. */
	assert_true(prk_fence_key_parse(0x0001000100000001ULL, NULL, NULL, NULL));
}

static void parse_rejects(void **state)
{
	uint16_t t = 9, n = 9;
	uint32_t i = 9;

	(void)state;
	assert_false(prk_fence_key_parse(0, &t, &n, &i));
	assert_false(prk_fence_key_parse(0x0000000500000007ULL, &t, &n, &i)); /* tag 0 */
	assert_int_equal(t, 0);
	assert_int_equal(n, 5);
	assert_int_equal(i, 7);
	assert_false(prk_fence_key_parse(0x1234000500000000ULL, &t, &n, &i)); /* incarnation 0 */
	assert_int_equal(t, 0x1234);
	assert_int_equal(i, 0);
	/* node 0 is valid: a cluster-wide key. */
	assert_true(prk_fence_key_parse(0x1234000000000003ULL, &t, &n, &i));
	assert_int_equal(n, 0);
}

static void is_node(void **state)
{
	(void)state;
	assert_true(prk_fence_key_is_node(prk_fence_key_make(0x1234, 2, 1), 0x1234, 2));
	assert_true(prk_fence_key_is_node(prk_fence_key_make(0x1234, 2, 99), 0x1234, 2));
	assert_false(prk_fence_key_is_node(prk_fence_key_make(0x1234, 3, 1), 0x1234, 2));
	assert_false(prk_fence_key_is_node(prk_fence_key_make(0x1235, 2, 1), 0x1234, 2));
	assert_false(prk_fence_key_is_node(0x1234000200000000ULL, 0x1234, 2)); /* incarnation 0 */
	assert_false(prk_fence_key_is_node(0x0000000200000001ULL, 0, 2));      /* tag 0 */
	/* Cluster-wide keys are node 0. */
	assert_true(prk_fence_key_is_node(prk_fence_key_make(0x1234, 0, 4), 0x1234, 0));
	assert_false(prk_fence_key_is_node(prk_fence_key_make(0x1234, 0, 4), 0x1234, 2));
	/* A foreign key whose low half looks like ours. */
	assert_false(prk_fence_key_is_node(0x0000123400020001ULL, 0x1234, 2));
}

static void same_cluster(void **state)
{
	(void)state;
	assert_true(prk_fence_key_same_cluster(prk_fence_key_make(0x84d4, 7, 1), 0x84d4));
	assert_true(prk_fence_key_same_cluster(prk_fence_key_make(0x84d4, 0, 1), 0x84d4));
	assert_false(prk_fence_key_same_cluster(prk_fence_key_make(0x84d5, 7, 1), 0x84d4));
	assert_false(prk_fence_key_same_cluster(0x84d4000700000000ULL, 0x84d4));
	assert_false(prk_fence_key_same_cluster(0, 0));
}

static void key_str(void **state)
{
	char buf[PRK_FENCE_KEY_STR_LEN];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	prk_fence_key_str(0x7a3c000200000005ULL, buf);
	assert_string_equal(buf, "0x7a3c000200000005");
	prk_fence_key_str(0, buf);
	assert_string_equal(buf, "0x0000000000000000");
	prk_fence_key_str(0xABCDEF0123456789ULL, buf);
	assert_string_equal(buf, "0xabcdef0123456789");
	prk_fence_key_str(UINT64_MAX, buf);
	assert_string_equal(buf, "0xffffffffffffffff");
	assert_int_equal(strlen(buf), 18);
}

static void cluster_names(void **state)
{
	char long_ok[65], too_long[66];

	(void)state;
	memset(long_ok, 'c', 64);
	long_ok[64] = '\0';
	memset(too_long, 'c', 65);
	too_long[65] = '\0';
	assert_true(prk_fence_cluster_name_valid("prkit"));
	assert_true(prk_fence_cluster_name_valid("Prod_DB-1.a"));
	assert_true(prk_fence_cluster_name_valid("9"));
	assert_true(prk_fence_cluster_name_valid(long_ok));
	assert_false(prk_fence_cluster_name_valid(too_long));
	assert_false(prk_fence_cluster_name_valid(""));
	assert_false(prk_fence_cluster_name_valid(NULL));
	assert_false(prk_fence_cluster_name_valid("."));
	assert_false(prk_fence_cluster_name_valid(".."));
	assert_false(prk_fence_cluster_name_valid("-x"));
	assert_false(prk_fence_cluster_name_valid("a/b"));
	assert_false(prk_fence_cluster_name_valid("a b"));
	assert_false(prk_fence_cluster_name_valid("a:b"));
	assert_false(prk_fence_cluster_name_valid("caf\xc3\xa9"));
}

/* Cluster mode: the current key is the highest generation of our
 * cluster; other clusters, invalid keys and duplicates (one key on many
 * nexuses) do not count; two different keys at the top are a race. */
static void cluster_current(void **state)
{
	(void)state;
	uint16_t tag = prk_fence_cluster_tag("prkit");
	uint64_t a5 = prk_fence_key_make(tag, 1, 5), b5 = prk_fence_key_make(tag, 2, 5);
	uint64_t c6 = prk_fence_key_make(tag, 3, 6);
	uint64_t foreign = prk_fence_key_make(tag ^ 1, 1, 99);
	uint64_t cur = 0;

	assert_int_equal(prk_fence_cluster_current(NULL, 0, tag, &cur), 0);
	uint64_t k1[] = {foreign, 0x77, 0};
	assert_int_equal(prk_fence_cluster_current(k1, 3, tag, &cur), 0);
	uint64_t k2[] = {a5, foreign, a5, a5};
	assert_int_equal(prk_fence_cluster_current(k2, 4, tag, &cur), 1);
	assert_int_equal(cur, a5);
	uint64_t k3[] = {a5, b5, a5};
	assert_int_equal(prk_fence_cluster_current(k3, 3, tag, &cur), -1);
	uint64_t k4[] = {a5, b5, c6, a5};
	assert_int_equal(prk_fence_cluster_current(k4, 4, tag, &cur), 1);
	assert_int_equal(cur, c6);
	uint64_t k5[] = {c6, a5, b5};
	assert_int_equal(prk_fence_cluster_current(k5, 3, tag, &cur), 1);
	assert_int_equal(cur, c6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tag_known_values),
	    cmocka_unit_test(tag_zero_becomes_one),
	    cmocka_unit_test(tag_is_case_and_byte_sensitive),
	    cmocka_unit_test(make_layout),
	    cmocka_unit_test(make_refuses_zero_fields),
	    cmocka_unit_test(parse_fields),
	    cmocka_unit_test(parse_rejects),
	    cmocka_unit_test(is_node),
	    cmocka_unit_test(same_cluster),
	    cmocka_unit_test(key_str),
	    cmocka_unit_test(cluster_names),
	    cmocka_unit_test(cluster_current),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
