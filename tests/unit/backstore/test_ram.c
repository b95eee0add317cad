/* RAM backstore: round trips across chunk boundaries, thin allocation seen
 * through prk_bs_mapped, UNMAP and WRITE_ZEROES, range checks. Every I/O
 * must complete before prk_bs_submit returns. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bs_util.h"

#define SIZE (8 * (uint64_t)MiB)

/* RAM completes every I/O inside prk_bs_submit (bs_run checks it). */
static int run(struct prk_bs *bs, enum prk_bs_op op, uint64_t off, uint64_t len, struct iovec *iov,
               int iovcnt, bool fua)
{
	return bs_run(bs, op, off, len, iov, iovcnt, fua, false);
}

static int setup(void **state)
{
	char err[128];

	*state = prk_bs_ram_open(SIZE, err, sizeof(err));
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	prk_bs_close(*state);
	return 0;
}

static void test_open_errors(void **state)
{
	char err[128];

	(void)state;
	assert_null(prk_bs_ram_open(0, err, sizeof(err)));
	assert_string_equal(err, "backstore ram: size 0 is not a positive multiple of 512");
	assert_null(prk_bs_ram_open(1000, err, sizeof(err)));
	assert_string_equal(err, "backstore ram: size 1000 is not a positive multiple of 512");
	/* A tiny err buffer is truncated, not overrun. */
	memset(err, 'x', sizeof(err));
	assert_null(prk_bs_ram_open(1000, err, 8));
	assert_string_equal(err, "backsto");
	assert_null(prk_bs_ram_open(1000, NULL, 0));
}

static void test_properties(void **state)
{
	struct prk_bs *bs = *state;

	assert_int_equal(prk_bs_size(bs), SIZE);
	assert_int_equal(prk_bs_alignment(bs), 1);
	assert_int_equal(prk_bs_event_fd(bs), -1);
	assert_int_equal(prk_bs_complete(bs), 0);
	assert_int_equal(prk_bs_inflight(bs), 0);
	/* Every write lands in one step of the event loop: all-or-nothing
	 * for any length (and nothing at all survives a crash). */
	assert_int_equal(prk_bs_atomic_write_max(bs), SIZE);
}

/* One byte written commits exactly its chunk. */
static void test_mapped_tracks_chunks(void **state)
{
	struct prk_bs *bs = *state;
	uint64_t run_len = 0;
	uint8_t x = 0x5a;

	assert_int_equal(bs_rw(bs, PRK_BS_WRITE, 2 * MiB + 5, &x, 1), 0);
	assert_int_equal(prk_bs_mapped(bs, 0, 4 * MiB, &run_len), 0);
	assert_int_equal(run_len, 2 * MiB);
	assert_int_equal(prk_bs_mapped(bs, 2 * MiB, 4 * MiB, &run_len), 1);
	assert_int_equal(run_len, MiB);
	assert_int_equal(prk_bs_mapped(bs, 2 * MiB + 4096, 512, &run_len), 1);
	assert_int_equal(run_len, 512);
	assert_int_equal(prk_bs_mapped(bs, 3 * MiB, SIZE - 3 * MiB, &run_len), 0);
	assert_int_equal(run_len, SIZE - 3 * MiB);
	assert_int_equal(prk_bs_mapped(bs, 2 * MiB, 512, NULL), 1);
}

/* UNMAP frees the chunks it covers whole and zeroes the partial ends. */
static void test_unmap(void **state)
{
	struct prk_bs *bs = *state;
	size_t len = 3 * MiB;
	uint8_t *pat = malloc(len), *out = malloc(len);
	uint64_t run_len = 0;

	bs_fill(pat, len, 9);
	assert_int_equal(bs_rw(bs, PRK_BS_WRITE, 0, pat, len), 0);
	assert_int_equal(prk_bs_mapped(bs, 0, len, &run_len), 1);
	assert_int_equal(run_len, len);

	assert_int_equal(run(bs, PRK_BS_UNMAP, 512, len - 1024, NULL, 0, false), 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, 0, out, len), 0);
	assert_memory_equal(out, pat, 512);
	assert_true(bs_all_zero(out + 512, len - 1024));
	assert_memory_equal(out + len - 512, pat + len - 512, 512);

	assert_int_equal(prk_bs_mapped(bs, 0, len, &run_len), 1);
	assert_int_equal(run_len, MiB);
	assert_int_equal(prk_bs_mapped(bs, MiB, len - MiB, &run_len), 0);
	assert_int_equal(run_len, MiB);
	assert_int_equal(prk_bs_mapped(bs, 2 * MiB, MiB, &run_len), 1);
	assert_int_equal(run_len, MiB);

	/* Unmapping everything leaves nothing mapped. */
	assert_int_equal(run(bs, PRK_BS_UNMAP, 0, SIZE, NULL, 0, false), 0);
	assert_int_equal(prk_bs_mapped(bs, 0, SIZE, &run_len), 0);
	assert_int_equal(run_len, SIZE);
	free(pat);
	free(out);
}

/* WRITE_ZEROES zeroes in place and never commits memory. */
static void test_write_zeroes(void **state)
{
	struct prk_bs *bs = *state;
	uint8_t pat[8192], out[8192];
	uint64_t run_len = 0;

	bs_fill(pat, sizeof(pat), 4);
	assert_int_equal(bs_rw(bs, PRK_BS_WRITE, 4096, pat, sizeof(pat)), 0);
	assert_int_equal(run(bs, PRK_BS_WRITE_ZEROES, 4096 + 1024, 2048, NULL, 0, false), 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, 4096, out, sizeof(out)), 0);
	assert_memory_equal(out, pat, 1024);
	assert_true(bs_all_zero(out + 1024, 2048));
	assert_memory_equal(out + 3072, pat + 3072, sizeof(pat) - 3072);

	assert_int_equal(run(bs, PRK_BS_WRITE_ZEROES, 4 * MiB, 2 * MiB, NULL, 0, false), 0);
	assert_int_equal(prk_bs_mapped(bs, 4 * MiB, 2 * MiB, &run_len), 0);
	assert_int_equal(run_len, 2 * MiB);
	assert_int_equal(prk_bs_mapped(bs, 0, 512, &run_len), 1);
}

/* A size that is not a whole number of chunks: the short last chunk. */
static void test_short_last_chunk(void **state)
{
	char err[128];
	uint64_t size = MiB + 3 * 512, run_len = 0;
	struct prk_bs *bs = prk_bs_ram_open(size, err, sizeof(err));
	uint8_t pat[2048], out[2048];

	(void)state;
	assert_non_null(bs);
	bs_fill(pat, sizeof(pat), 6);
	assert_int_equal(bs_rw(bs, PRK_BS_WRITE, size - 2048, pat, 2048), 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, size - 2048, out, 2048), 0);
	assert_memory_equal(out, pat, 2048);
	assert_int_equal(prk_bs_mapped(bs, MiB, 1536, &run_len), 1);
	assert_int_equal(run_len, 1536);
	assert_int_equal(run(bs, PRK_BS_UNMAP, MiB, 1536, NULL, 0, false), 0);
	assert_int_equal(prk_bs_mapped(bs, MiB, 1536, &run_len), 0);
	assert_int_equal(run_len, 1536);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, size - 2048, out, 2048), 0);
	assert_memory_equal(out, pat, 512);
	assert_true(bs_all_zero(out + 512, 1536));
	prk_bs_close(bs);
}

/* Thin: a TiB costs only its chunk table until written. */
static void test_thin_large(void **state)
{
	char err[128];
	uint64_t size = (uint64_t)1 << 40;
	struct prk_bs *bs = prk_bs_ram_open(size, err, sizeof(err));
	uint8_t pat[4096], out[4096];

	(void)state;
	assert_non_null(bs);
	assert_int_equal(prk_bs_size(bs), size);
	bs_fill(pat, sizeof(pat), 8);
	assert_int_equal(bs_rw(bs, PRK_BS_WRITE, size - 4096, pat, 4096), 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, size - 4096, out, 4096), 0);
	assert_memory_equal(out, pat, 4096);
	assert_int_equal(prk_bs_mapped(bs, 0, size, NULL), 0);
	prk_bs_close(bs);
}

/* done() may submit again from inside the completion. */
static struct prk_bs *chained_bs;
static int chained;

static void chain_done(struct prk_bs_io *io)
{
	chained++;
	if (chained < 3) {
		io->offset += 512;
		prk_bs_submit(chained_bs, io);
	}
}

static void test_submit_from_done(void **state)
{
	uint8_t buf[512];
	struct iovec v = {buf, sizeof(buf)};
	struct prk_bs_io io = {
	    .op = PRK_BS_READ, .len = 512, .iov = &v, .iovcnt = 1, .done = chain_done};

	chained_bs = *state;
	chained = 0;
	prk_bs_submit(chained_bs, &io);
	assert_int_equal(chained, 3);
	assert_int_equal(io.offset, 1024);
	assert_int_equal(io.result, 0);
	assert_int_equal(prk_bs_inflight(chained_bs), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test_setup_teardown(test_properties, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mapped_tracks_chunks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unmap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_zeroes, setup, teardown),
	    cmocka_unit_test(test_short_last_chunk),
	    cmocka_unit_test(test_thin_large),
	    cmocka_unit_test_setup_teardown(test_submit_from_done, setup, teardown),
	};

	return cmocka_run_group_tests_name("backstore_ram", tests, NULL, NULL);
}
