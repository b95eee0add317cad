/* The LU over the io_uring file backstore: completions arrive later, from
 * prk_bs_complete() (the event loop), so every command path is exercised
 * asynchronously; with O_DIRECT the data-in buffers must be aligned and
 * unaligned data-out goes through a bounce buffer. Skipped when io_uring
 * is not available. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lu_test_util.h"

#define BS 512
#define NBLK 4096

struct ft {
	char path[64];
	struct prk_bs *bs;
	struct prk_lu *lu;
	struct prk_nexus a;
	struct prk_lu_port port;
};

static int calls;
static void on_done(struct prk_lu_cmd *cmd)
{
	(void)cmd;
	calls++;
}

/* Submits and runs the "event loop" until the command completed. */
static void run(struct ft *f, struct prk_lu_cmd *cmd)
{
	calls = 0;
	cmd->nx = &f->a;
	cmd->port = &f->port;
	cmd->cdb_len = 16;
	cmd->done = on_done;
	prk_lu_submit(f->lu, cmd);
	for (int spins = 0; calls == 0 && spins < 100000; spins++) {
		prk_bs_complete(f->bs);
		if (calls == 0)
			usleep(100);
	}
	assert_int_equal(calls, 1);
	assert_int_equal(prk_lu_inflight(f->lu), 0);
}

static struct ft *open_ft(bool direct)
{
	char err[256];
	struct ft *f = calloc(1, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "/var/tmp/prk-lu-test-%d-%d", (int)getpid(), direct);
	struct prk_bs_file_opts o = {.path = f->path, .size = NBLK * BS, .direct = direct};
	f->bs = prk_bs_file_open(&o, err, sizeof(err));
	if (!f->bs) {
		unlink(f->path);
		free(f);
		return NULL;
	}
	struct prk_lu_config cfg = {.block_size = BS, .num_blocks = NBLK, .write_cache = true};
	snprintf(cfg.serial, sizeof(cfg.serial), "FILE1");
	f->lu = prk_lu_new(&cfg, f->bs, err, sizeof(err));
	assert_non_null(f->lu);
	assert_int_equal(prk_nexus_init(&f->a, LT_NAME_A, 1, 1), 0);
	f->port = (struct prk_lu_port){.rtpi = 1, .tpg = 1, .target_name = LT_TARGET, .tpgt = 1};
	return f;
}

static void close_ft(struct ft *f)
{
	prk_lu_free(f->lu);
	prk_bs_close(f->bs);
	unlink(f->path);
	free(f);
}

static void exercise(struct ft *f)
{
	struct prk_lu_cmd cmd;
	uint8_t *raw = malloc(8 * BS + 1), *w = raw + 1; /* deliberately unaligned */
	lt_pattern(w, 8 * BS, 77);

	memset(&cmd, 0, sizeof(cmd));
	lt_cdb10(cmd.cdb, PRK_OP_WRITE10, 0x08, 16, 8);
	cmd.data_out = w;
	cmd.data_out_len = cmd.edtl = 8 * BS;
	cmd.dir_write = true;
	run(f, &cmd);
	assert_int_equal(cmd.status, PRK_STATUS_GOOD);

	memset(&cmd, 0, sizeof(cmd));
	lt_cdb10(cmd.cdb, PRK_OP_READ10, 0, 16, 8);
	cmd.edtl = 8 * BS;
	cmd.dir_read = true;
	run(f, &cmd);
	assert_int_equal(cmd.status, PRK_STATUS_GOOD);
	assert_int_equal(cmd.data_in_len, 8 * BS);
	assert_int_equal((uintptr_t)cmd.data_in % prk_bs_alignment(f->bs), 0);
	assert_memory_equal(cmd.data_in, w, 8 * BS);
	free(cmd.data_in);

	/* COMPARE AND WRITE: read, compare, write, all asynchronous */
	uint8_t *caw = malloc(2 * BS);
	memcpy(caw, w, BS);
	memset(caw + BS, 0x5a, BS);
	memset(&cmd, 0, sizeof(cmd));
	cmd.cdb[0] = PRK_OP_COMPARE_AND_WRITE;
	lt_put64(cmd.cdb + 2, 16);
	cmd.cdb[13] = 1;
	cmd.data_out = caw;
	cmd.data_out_len = cmd.edtl = 2 * BS;
	cmd.dir_write = true;
	run(f, &cmd);
	assert_int_equal(cmd.status, PRK_STATUS_GOOD);
	run(f, &cmd); /* again: now it miscompares at byte 0 */
	assert_int_equal(cmd.status, PRK_STATUS_CHECK_CONDITION);
	struct prk_sense s;
	assert_int_equal(prk_sense_decode(cmd.sense, cmd.sense_len, &s), 0);
	assert_int_equal(s.key, PRK_SK_MISCOMPARE);
	assert_int_equal(s.info, 0);
	free(caw);

	/* WRITE SAME over several pattern chunks, SYNCHRONIZE CACHE */
	memset(&cmd, 0, sizeof(cmd));
	lt_cdb16(cmd.cdb, PRK_OP_WRITE_SAME16, 0, 100, 3000);
	cmd.data_out = w;
	cmd.data_out_len = cmd.edtl = BS;
	cmd.dir_write = true;
	run(f, &cmd);
	assert_int_equal(cmd.status, PRK_STATUS_GOOD);
	memset(&cmd, 0, sizeof(cmd));
	cmd.cdb[0] = PRK_OP_SYNC_CACHE10;
	run(f, &cmd);
	assert_int_equal(cmd.status, PRK_STATUS_GOOD);
	memset(&cmd, 0, sizeof(cmd));
	lt_cdb16(cmd.cdb, PRK_OP_READ16, 0, 3099, 1);
	cmd.edtl = BS;
	cmd.dir_read = true;
	run(f, &cmd);
	assert_int_equal(cmd.status, PRK_STATUS_GOOD);
	assert_memory_equal(cmd.data_in, w, BS);
	free(cmd.data_in);
	free(raw);
}

static void test_file_buffered(void **state)
{
	(void)state;
	struct ft *f = open_ft(false);
	if (!f)
		skip();
	exercise(f);
	close_ft(f);
}

static void test_file_direct(void **state)
{
	(void)state;
	struct ft *f = open_ft(true);
	if (!f)
		skip();
	exercise(f);
	close_ft(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_buffered),
	    cmocka_unit_test(test_file_direct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
