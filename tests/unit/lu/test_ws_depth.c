/* Long WRITE SAME and SANITIZE OVERWRITE over a backstore that completes
 * inline (like RAM) must not recurse once per chunk: WRITE SAME with 0
 * blocks on a large LU is one CDB away for any initiator, and 16384
 * nested chunk completions would exhaust the stack. A fake backstore of
 * 16 GiB (4096-byte blocks, writes discarded) records how deep the stack
 * is at every write it receives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bs_internal.h"
#include "lu_internal.h"
#include "lu_test_util.h"

#define BS 4096
#define SIZE (16ULL << 30)

static uintptr_t lowest, highest;
static unsigned writes;

static void fake_submit(struct prk_bs *bs, struct prk_bs_io *io)
{
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	if (io->op == PRK_BS_WRITE) {
		writes++;
		if (!lowest || here < lowest)
			lowest = here;
		if (here > highest)
			highest = here;
	}
	prk_bs_finish(bs, io, 0); /* inline, like RAM */
}
static int fake_complete(struct prk_bs *bs)
{
	(void)bs;
	return 0;
}
static int fake_mapped(struct prk_bs *bs, uint64_t offset, uint64_t len, uint64_t *run)
{
	(void)bs;
	(void)offset;
	*run = len;
	return 1;
}
static void fake_close(struct prk_bs *bs)
{
	free(bs);
}
static const struct prk_bs_ops fake_ops = {
    .submit = fake_submit, .complete = fake_complete, .mapped = fake_mapped, .close = fake_close};

static struct lt_ctx *setup_fake(void)
{
	struct prk_bs *bs = calloc(1, sizeof(*bs));
	prk_bs_init(bs, &fake_ops, SIZE, false);
	struct lt_ctx *t = calloc(1, sizeof(*t));
	char err[128];
	t->bs = bs;
	t->cfg = (struct prk_lu_config){.block_size = BS, .num_blocks = SIZE / BS};
	memcpy(t->cfg.serial, "DEPTH", 6);
	t->lu = prk_lu_new(&t->cfg, bs, err, sizeof(err));
	assert_non_null(t->lu);
	assert_int_equal(prk_nexus_init(&t->a, LT_NAME_A, 1, 1), 0);
	assert_int_equal(prk_nexus_init(&t->b, LT_NAME_B, 2, 1), 0);
	t->port = (struct prk_lu_port){.rtpi = 1, .tpg = 1, .target_name = LT_TARGET, .tpgt = 1};
	lt_login(t, &t->a);
	return t;
}

static void test_write_same_to_the_end_does_not_recurse(void **state)
{
	(void)state;
	struct lt_ctx *t = setup_fake();
	uint8_t blk[BS], c[16];
	memset(blk, 0x5a, BS);
	lowest = highest = 0;
	writes = 0;
	lt_cdb16(c, PRK_OP_WRITE_SAME16, 0, 0, 0); /* 0 blocks: all 16 GiB */
	struct lt_res r = lt_out(t, &t->a, c, 16, blk, BS);
	lt_assert_good(&r);
	assert_int_equal(writes, SIZE / PRK_LU_WS_CHUNK);
	if (highest - lowest > 16384)
		fail_msg("the stack grew by %lu bytes over %u chunk writes",
		         (unsigned long)(highest - lowest), writes);
	lt_free(t);
}

static void test_sanitize_overwrite_does_not_recurse(void **state)
{
	(void)state;
	struct lt_ctx *t = setup_fake();
	uint8_t p[8] = {2, 0, 0, 4, 1, 2, 3, 4}; /* two passes */
	uint8_t c[16] = {PRK_OP_SANITIZE, 0x01, 0, 0, 0, 0, 0, 0, 8};
	lowest = highest = 0;
	writes = 0;
	struct lt_res r = lt_out(t, &t->a, c, 10, p, 8);
	lt_assert_good(&r);
	assert_int_equal(writes, 2 * (SIZE / PRK_LU_WS_CHUNK));
	if (highest - lowest > 16384)
		fail_msg("the stack grew by %lu bytes over %u chunk writes",
		         (unsigned long)(highest - lowest), writes);
	lt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_write_same_to_the_end_does_not_recurse),
	    cmocka_unit_test(test_sanitize_overwrite_does_not_recurse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
