/* The behaviour every backstore shares, run over one backend per build:
 * BS_FILE selects the file backstore (in a mkdtemp() directory under
 * $TMPDIR), otherwise RAM. Round trips through split iovecs, unwritten
 * blocks reading zero, FLUSH and FUA, and the errors for ranges past the
 * end, iovecs that do not add up and unknown operations, each completing
 * inside prk_bs_submit. What only one backend does (RAM's thin chunks, the
 * file's io_uring, short reads, fallbacks, O_DIRECT) stays in test_ram.c
 * and test_file.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bs_util.h"

#define SIZE (8 * (uint64_t)MiB)

#ifdef BS_FILE
#define BACKEND "file"
static char dir[256];
static unsigned n_opened;

static int group_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/prk-bs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char path[512];

	(void)state;
	for (unsigned i = 0; i < n_opened; i++) {
		snprintf(path, sizeof(path), "%s/%u.img", dir, i);
		unlink(path);
	}
	return rmdir(dir);
}

/* A new file of size bytes for each test: none sees another's data. */
static struct prk_bs *open_bs(uint64_t size)
{
	char path[512], err[512] = "";
	struct prk_bs_file_opts o = {.path = path, .size = size};
	struct prk_bs *bs;

	snprintf(path, sizeof(path), "%s/%u.img", dir, n_opened++);
	bs = prk_bs_file_open(&o, err, sizeof(err));
	if (!bs)
		fail_msg("%s", err);
	return bs;
}
#else
#define BACKEND "ram"
#define group_setup NULL
#define group_teardown NULL

static struct prk_bs *open_bs(uint64_t size)
{
	char err[128] = "";
	struct prk_bs *bs = prk_bs_ram_open(size, err, sizeof(err));

	if (!bs)
		fail_msg("%s", err);
	return bs;
}
#endif

static int setup(void **state)
{
	*state = open_bs(SIZE);
	return 0;
}

static int teardown(void **state)
{
	prk_bs_close(*state);
	return 0;
}

/* Written through three iovecs, read back through two differently split
 * ones, across a 1 MiB boundary (RAM's first chunk). */
static void test_round_trip_iovecs(void **state)
{
	struct prk_bs *bs = *state;
	uint64_t off = MiB - 700;
	uint8_t a[100], b[1000], c[5000], out[6100];
	uint8_t *whole = malloc(6100);
	struct iovec wv[3] = {{a, sizeof(a)}, {b, sizeof(b)}, {c, sizeof(c)}};
	struct iovec rv[2] = {{out, 3333}, {out + 3333, 6100 - 3333}};

	bs_fill(a, sizeof(a), 1);
	bs_fill(b, sizeof(b), 2);
	bs_fill(c, sizeof(c), 3);
	memcpy(whole, a, 100);
	memcpy(whole + 100, b, 1000);
	memcpy(whole + 1100, c, 5000);
	assert_int_equal(bs_run(bs, PRK_BS_WRITE, off, 6100, wv, 3, false, true), 0);
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(bs_run(bs, PRK_BS_READ, off, 6100, rv, 2, false, true), 0);
	assert_memory_equal(out, whole, 6100);
	/* The bytes just before and after stayed zero. */
	assert_int_equal(bs_rw(bs, PRK_BS_READ, off - 512, out, 512), 0);
	assert_true(bs_all_zero(out, 512));
	assert_int_equal(bs_rw(bs, PRK_BS_READ, off + 6100, out, 512), 0);
	assert_true(bs_all_zero(out, 512));
	free(whole);
}

/* The same at an offset that is no multiple of 512, split otherwise. */
static void test_round_trip_unaligned(void **state)
{
	struct prk_bs *bs = open_bs(MiB);
	uint8_t a[512], b[3000], c[584], out[4096], whole[4096];
	struct iovec wv[3] = {{a, sizeof(a)}, {b, sizeof(b)}, {c, sizeof(c)}};
	struct iovec rv[2] = {{out, 100}, {out + 100, 3996}};

	(void)state;
	bs_fill(a, sizeof(a), 3);
	bs_fill(b, sizeof(b), 4);
	bs_fill(c, sizeof(c), 5);
	memcpy(whole, a, 512);
	memcpy(whole + 512, b, 3000);
	memcpy(whole + 3512, c, 584);
	assert_int_equal(bs_run(bs, PRK_BS_WRITE, 12345, 4096, wv, 3, false, true), 0);
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(bs_run(bs, PRK_BS_READ, 12345, 4096, rv, 2, false, true), 0);
	assert_memory_equal(out, whole, sizeof(out));
	/* Never written: zeroes. */
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(bs_rw(bs, PRK_BS_READ, 512 * KiB, out, sizeof(out)), 0);
	assert_true(bs_all_zero(out, sizeof(out)));
	prk_bs_close(bs);
}

static void test_unwritten_reads_zero(void **state)
{
	struct prk_bs *bs = *state;
	uint64_t run_len = 0;
	uint8_t buf[4096];

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(bs_rw(bs, PRK_BS_READ, 5 * MiB, buf, sizeof(buf)), 0);
	assert_true(bs_all_zero(buf, sizeof(buf)));
	assert_int_equal(prk_bs_mapped(bs, 0, SIZE, &run_len), 0);
	assert_int_equal(run_len, SIZE);
}

static void test_flush_and_fua(void **state)
{
	struct prk_bs *bs = *state;
	uint8_t pat[1024], out[1024];
	struct iovec v = {pat, sizeof(pat)};

	bs_fill(pat, sizeof(pat), 5);
	assert_int_equal(bs_run(bs, PRK_BS_WRITE, SIZE - 1024, 1024, &v, 1, true, true), 0);
	/* Offset and length of a FLUSH are ignored, even nonsensical ones. */
	assert_int_equal(bs_range_op(bs, PRK_BS_FLUSH, UINT64_MAX, 77), 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, SIZE - 1024, out, sizeof(out)), 0);
	assert_memory_equal(out, pat, sizeof(out));
}

static void test_out_of_range(void **state)
{
	struct prk_bs *bs = *state;
	uint8_t buf[1024];
	struct iovec v = {buf, 1024};
	uint64_t run_len = 99;

	assert_int_equal(bs_run(bs, PRK_BS_READ, SIZE - 512, 1024, &v, 1, false, false), -EINVAL);
	assert_int_equal(bs_run(bs, PRK_BS_WRITE, SIZE, 512, &v, 1, false, false), -EINVAL);
	/* offset + len wraps around: still refused. */
	assert_int_equal(bs_run(bs, PRK_BS_READ, UINT64_MAX - 100, 1024, &v, 1, false, false),
	                 -EINVAL);
	assert_int_equal(bs_run(bs, PRK_BS_WRITE_ZEROES, SIZE - 512, 1024, NULL, 0, false, false),
	                 -EINVAL);
	assert_int_equal(bs_run(bs, PRK_BS_UNMAP, SIZE + 512, 512, NULL, 0, false, false), -EINVAL);
	assert_int_equal(bs_run(bs, (enum prk_bs_op)42, 0, 512, &v, 1, false, false), -EINVAL);
	/* The end itself may be touched by nothing, but not passed. */
	assert_int_equal(bs_run(bs, PRK_BS_READ, SIZE, 0, NULL, 0, false, false), 0);
	assert_int_equal(bs_run(bs, PRK_BS_READ, SIZE + 512, 0, NULL, 0, false, false), -EINVAL);

	assert_int_equal(prk_bs_mapped(bs, SIZE - 512, 1024, &run_len), -EINVAL);
	assert_int_equal(prk_bs_mapped(bs, 0, 0, &run_len), -EINVAL);
	assert_int_equal(prk_bs_mapped(bs, UINT64_MAX, 2, &run_len), -EINVAL);
	assert_int_equal(run_len, 99);
}

static void test_iov_must_add_up(void **state)
{
	struct prk_bs *bs = *state;
	uint8_t buf[1024];
	struct iovec v[2] = {{buf, 512}, {buf + 512, 512}};

	assert_int_equal(bs_run(bs, PRK_BS_WRITE, 0, 1536, v, 2, false, false), -EINVAL);
	assert_int_equal(bs_run(bs, PRK_BS_WRITE, 0, 512, v, 2, false, false), -EINVAL);
	assert_int_equal(bs_run(bs, PRK_BS_READ, 0, 512, NULL, 1, false, false), -EINVAL);
	assert_int_equal(bs_run(bs, PRK_BS_READ, 0, 512, v, -1, false, false), -EINVAL);
	/* Nothing was written by the refused writes. */
	assert_int_equal(prk_bs_mapped(bs, 0, 512, NULL), 0);
}

static void test_zero_length(void **state)
{
	struct prk_bs *bs = *state;
	struct iovec v = {NULL, 0};

	assert_int_equal(bs_run(bs, PRK_BS_READ, 0, 0, NULL, 0, false, false), 0);
	assert_int_equal(bs_run(bs, PRK_BS_WRITE, 4096, 0, &v, 1, false, false), 0);
	assert_int_equal(bs_run(bs, PRK_BS_UNMAP, 4096, 0, NULL, 0, false, false), 0);
	assert_int_equal(bs_run(bs, PRK_BS_WRITE_ZEROES, SIZE, 0, NULL, 0, false, false), 0);
	assert_int_equal(prk_bs_mapped(bs, 0, SIZE, NULL), 0);
}

static void test_invalid_and_empty(void **state)
{
	struct prk_bs *bs = open_bs(MiB);
	uint8_t buf[1024];
	struct iovec v = {buf, sizeof(buf)};

	(void)state;
	assert_int_equal(bs_run(bs, PRK_BS_READ, MiB - 512, 1024, &v, 1, false, false), -EINVAL);
	assert_int_equal(bs_run(bs, PRK_BS_WRITE, UINT64_MAX - 511, 1024, &v, 1, false, false),
	                 -EINVAL);
	assert_int_equal(bs_run(bs, PRK_BS_UNMAP, MiB, 512, NULL, 0, false, false), -EINVAL);
	assert_int_equal(bs_run(bs, PRK_BS_WRITE_ZEROES, 0, MiB + 512, NULL, 0, false, false),
	                 -EINVAL);
	assert_int_equal(bs_run(bs, PRK_BS_WRITE, 0, 512, &v, 1, false, false), -EINVAL);
	assert_int_equal(bs_run(bs, PRK_BS_READ, 0, 0, NULL, 0, false, false), 0);
	assert_int_equal(bs_run(bs, PRK_BS_WRITE, MiB, 0, NULL, 0, false, false), 0);
	assert_int_equal(bs_run(bs, PRK_BS_UNMAP, 0, 0, NULL, 0, false, false), 0);
	/* Empty iovecs among full ones are fine. */
	{
		uint8_t pat[1024];
		struct iovec wv[4] = {{NULL, 0}, {pat, 512}, {NULL, 0}, {pat + 512, 512}};

		bs_fill(pat, sizeof(pat), 10);
		assert_int_equal(bs_run(bs, PRK_BS_WRITE, 512, 1024, wv, 4, false, true), 0);
		assert_int_equal(bs_rw(bs, PRK_BS_READ, 512, buf, 1024), 0);
		assert_memory_equal(buf, pat, 1024);
	}
	prk_bs_close(bs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip_iovecs, setup, teardown),
	    cmocka_unit_test(test_round_trip_unaligned),
	    cmocka_unit_test_setup_teardown(test_unwritten_reads_zero, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush_and_fua, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_of_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_iov_must_add_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zero_length, setup, teardown),
	    cmocka_unit_test(test_invalid_and_empty),
	};

	return cmocka_run_group_tests_name("backstore_shared_" BACKEND, tests, group_setup,
	                                   group_teardown);
}
