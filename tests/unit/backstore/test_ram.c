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

#include "backstore.h"

#define MiB (1024u * 1024u)
#define SIZE (8 * (uint64_t)MiB)

struct done_rec {
	int calls;
	int result;
};

static void on_done(struct prk_bs_io *io)
{
	struct done_rec *d = io->priv;

	d->calls++;
	d->result = io->result;
}

/* Submits and checks that done() ran exactly once, inline. */
static int run(struct prk_bs *bs, enum prk_bs_op op, uint64_t off, uint64_t len, struct iovec *iov,
               int iovcnt, bool fua)
{
	struct done_rec d = {0, 12345};
	struct prk_bs_io io = {.op = op,
	                       .offset = off,
	                       .len = len,
	                       .iov = iov,
	                       .iovcnt = iovcnt,
	                       .fua = fua,
	                       .done = on_done,
	                       .priv = &d};

	prk_bs_submit(bs, &io);
	assert_int_equal(d.calls, 1);
	assert_int_equal(prk_bs_inflight(bs), 0);
	return d.result;
}

static int rw(struct prk_bs *bs, enum prk_bs_op op, uint64_t off, void *buf, size_t len)
{
	struct iovec v = {buf, len};

	return run(bs, op, off, len, &v, 1, false);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 9));
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
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

/* Written through three iovecs, read back through two differently split
 * ones, across the boundary between the first two chunks. */
static void test_round_trip_iovecs(void **state)
{
	struct prk_bs *bs = *state;
	uint64_t off = MiB - 700;
	uint8_t a[100], b[1000], c[5000], out[6100];
	uint8_t *whole = malloc(6100);
	struct iovec wv[3] = {{a, sizeof(a)}, {b, sizeof(b)}, {c, sizeof(c)}};
	struct iovec rv[2] = {{out, 3333}, {out + 3333, 6100 - 3333}};

	fill(a, sizeof(a), 1);
	fill(b, sizeof(b), 2);
	fill(c, sizeof(c), 3);
	memcpy(whole, a, 100);
	memcpy(whole + 100, b, 1000);
	memcpy(whole + 1100, c, 5000);
	assert_int_equal(run(bs, PRK_BS_WRITE, off, 6100, wv, 3, false), 0);
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(run(bs, PRK_BS_READ, off, 6100, rv, 2, false), 0);
	assert_memory_equal(out, whole, 6100);
	/* The bytes just before and after stayed zero. */
	assert_int_equal(rw(bs, PRK_BS_READ, off - 512, out, 512), 0);
	assert_true(all_zero(out, 512));
	assert_int_equal(rw(bs, PRK_BS_READ, off + 6100, out, 512), 0);
	assert_true(all_zero(out, 512));
	free(whole);
}

static void test_unwritten_reads_zero(void **state)
{
	struct prk_bs *bs = *state;
	uint64_t run_len = 0;
	uint8_t buf[4096];

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(rw(bs, PRK_BS_READ, 5 * MiB, buf, sizeof(buf)), 0);
	assert_true(all_zero(buf, sizeof(buf)));
	assert_int_equal(prk_bs_mapped(bs, 0, SIZE, &run_len), 0);
	assert_int_equal(run_len, SIZE);
}

/* One byte written commits exactly its chunk. */
static void test_mapped_tracks_chunks(void **state)
{
	struct prk_bs *bs = *state;
	uint64_t run_len = 0;
	uint8_t x = 0x5a;

	assert_int_equal(rw(bs, PRK_BS_WRITE, 2 * MiB + 5, &x, 1), 0);
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

	fill(pat, len, 9);
	assert_int_equal(rw(bs, PRK_BS_WRITE, 0, pat, len), 0);
	assert_int_equal(prk_bs_mapped(bs, 0, len, &run_len), 1);
	assert_int_equal(run_len, len);

	assert_int_equal(run(bs, PRK_BS_UNMAP, 512, len - 1024, NULL, 0, false), 0);
	assert_int_equal(rw(bs, PRK_BS_READ, 0, out, len), 0);
	assert_memory_equal(out, pat, 512);
	assert_true(all_zero(out + 512, len - 1024));
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

	fill(pat, sizeof(pat), 4);
	assert_int_equal(rw(bs, PRK_BS_WRITE, 4096, pat, sizeof(pat)), 0);
	assert_int_equal(run(bs, PRK_BS_WRITE_ZEROES, 4096 + 1024, 2048, NULL, 0, false), 0);
	assert_int_equal(rw(bs, PRK_BS_READ, 4096, out, sizeof(out)), 0);
	assert_memory_equal(out, pat, 1024);
	assert_true(all_zero(out + 1024, 2048));
	assert_memory_equal(out + 3072, pat + 3072, sizeof(pat) - 3072);

	assert_int_equal(run(bs, PRK_BS_WRITE_ZEROES, 4 * MiB, 2 * MiB, NULL, 0, false), 0);
	assert_int_equal(prk_bs_mapped(bs, 4 * MiB, 2 * MiB, &run_len), 0);
	assert_int_equal(run_len, 2 * MiB);
	assert_int_equal(prk_bs_mapped(bs, 0, 512, &run_len), 1);
}

static void test_flush_and_fua(void **state)
{
	struct prk_bs *bs = *state;
	uint8_t pat[1024], out[1024];
	struct iovec v = {pat, sizeof(pat)};

	fill(pat, sizeof(pat), 5);
	assert_int_equal(run(bs, PRK_BS_WRITE, SIZE - 1024, 1024, &v, 1, true), 0);
	/* Offset and length of a FLUSH are ignored, even nonsensical ones. */
	assert_int_equal(run(bs, PRK_BS_FLUSH, UINT64_MAX, 77, NULL, 0, false), 0);
	assert_int_equal(rw(bs, PRK_BS_READ, SIZE - 1024, out, sizeof(out)), 0);
	assert_memory_equal(out, pat, sizeof(out));
}

static void test_out_of_range(void **state)
{
	struct prk_bs *bs = *state;
	uint8_t buf[1024];
	struct iovec v = {buf, 1024};
	uint64_t run_len = 99;

	assert_int_equal(rw(bs, PRK_BS_READ, SIZE - 512, buf, 1024), -EINVAL);
	assert_int_equal(rw(bs, PRK_BS_WRITE, SIZE, buf, 512), -EINVAL);
	/* offset + len wraps around: still refused. */
	assert_int_equal(run(bs, PRK_BS_READ, UINT64_MAX - 100, 1024, &v, 1, false), -EINVAL);
	assert_int_equal(run(bs, PRK_BS_WRITE_ZEROES, SIZE - 512, 1024, NULL, 0, false), -EINVAL);
	assert_int_equal(run(bs, PRK_BS_UNMAP, SIZE + 512, 512, NULL, 0, false), -EINVAL);
	assert_int_equal(run(bs, (enum prk_bs_op)42, 0, 512, &v, 1, false), -EINVAL);
	/* The end itself may be touched by nothing, but not passed. */
	assert_int_equal(run(bs, PRK_BS_READ, SIZE, 0, NULL, 0, false), 0);
	assert_int_equal(run(bs, PRK_BS_READ, SIZE + 512, 0, NULL, 0, false), -EINVAL);

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

	assert_int_equal(run(bs, PRK_BS_WRITE, 0, 1536, v, 2, false), -EINVAL);
	assert_int_equal(run(bs, PRK_BS_WRITE, 0, 512, v, 2, false), -EINVAL);
	assert_int_equal(run(bs, PRK_BS_READ, 0, 512, NULL, 1, false), -EINVAL);
	assert_int_equal(run(bs, PRK_BS_READ, 0, 512, v, -1, false), -EINVAL);
	/* Nothing was written by the refused writes. */
	assert_int_equal(prk_bs_mapped(bs, 0, 512, NULL), 0);
}

static void test_zero_length(void **state)
{
	struct prk_bs *bs = *state;
	struct iovec v = {NULL, 0};

	assert_int_equal(run(bs, PRK_BS_READ, 0, 0, NULL, 0, false), 0);
	assert_int_equal(run(bs, PRK_BS_WRITE, 4096, 0, &v, 1, false), 0);
	assert_int_equal(run(bs, PRK_BS_UNMAP, 4096, 0, NULL, 0, false), 0);
	assert_int_equal(run(bs, PRK_BS_WRITE_ZEROES, SIZE, 0, NULL, 0, false), 0);
	assert_int_equal(prk_bs_mapped(bs, 0, SIZE, NULL), 0);
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
	fill(pat, sizeof(pat), 6);
	assert_int_equal(rw(bs, PRK_BS_WRITE, size - 2048, pat, 2048), 0);
	assert_int_equal(rw(bs, PRK_BS_READ, size - 2048, out, 2048), 0);
	assert_memory_equal(out, pat, 2048);
	assert_int_equal(prk_bs_mapped(bs, MiB, 1536, &run_len), 1);
	assert_int_equal(run_len, 1536);
	assert_int_equal(run(bs, PRK_BS_UNMAP, MiB, 1536, NULL, 0, false), 0);
	assert_int_equal(prk_bs_mapped(bs, MiB, 1536, &run_len), 0);
	assert_int_equal(run_len, 1536);
	assert_int_equal(rw(bs, PRK_BS_READ, size - 2048, out, 2048), 0);
	assert_memory_equal(out, pat, 512);
	assert_true(all_zero(out + 512, 1536));
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
	fill(pat, sizeof(pat), 8);
	assert_int_equal(rw(bs, PRK_BS_WRITE, size - 4096, pat, 4096), 0);
	assert_int_equal(rw(bs, PRK_BS_READ, size - 4096, out, 4096), 0);
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
	    cmocka_unit_test_setup_teardown(test_round_trip_iovecs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unwritten_reads_zero, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mapped_tracks_chunks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unmap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_zeroes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush_and_fua, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_of_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_iov_must_add_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zero_length, setup, teardown),
	    cmocka_unit_test(test_short_last_chunk),
	    cmocka_unit_test(test_thin_large),
	    cmocka_unit_test_setup_teardown(test_submit_from_done, setup, teardown),
	};

	return cmocka_run_group_tests_name("backstore_ram", tests, NULL, NULL);
}
