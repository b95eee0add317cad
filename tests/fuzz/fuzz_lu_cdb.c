/* libFuzzer target: the logical unit's CDB decoding and execution (every
 * opcode and service action prk_lu_submit dispatches), over one small thin
 * RAM LU created once and kept across inputs, as a long-running target
 * keeps it. Each input is a sequence of commands:
 *   16 bytes  CDB
 *   2 bytes   big-endian n: bit 15 set: a command with n & 0x7fff bytes of
 *             data-out (W, EDTL = the data length, clipped to what the
 *             input holds), which follow; bit 15 clear: a command with
 *             data-in (R, EDTL = n; no data-out). n = 0: no data at all.
 * Commands come alternately from two I_T nexuses (PR access checks, unit
 * attentions per nexus).
 * Checks: no crash or sanitizer report; done() is called exactly once and
 * before prk_lu_submit returns (a RAM backstore completes inline); no
 * command stays in flight; data_in_len <= EDTL and data_in holds that many
 * bytes; sense_len fits the sense buffer; the status is a SCSI status the
 * LU may return. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backstore.h"
#include "lu.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

#define LU_BYTES (1u << 20)

static struct prk_lu *lu;
static struct prk_nexus nx[2];
static const struct prk_lu_port ports[2] = {
    {.rtpi = 1, .tpg = 1, .target_name = "iqn.2026-11.io.prkit.fuzz:tgt", .tpgt = 1},
    {.rtpi = 2, .tpg = 2, .target_name = "iqn.2026-11.io.prkit.fuzz:tgt", .tpgt = 2},
};
static unsigned done_calls;

static void on_done(struct prk_lu_cmd *cmd)
{
	(void)cmd;
	done_calls++;
}

static void setup(void)
{
	char err[256];
	struct prk_bs *bs = prk_bs_ram_open(LU_BYTES, err, sizeof(err));
	CHECK(bs);
	static const uint16_t rtpis[] = {1, 2};
	struct prk_lu_config cfg = {
	    .block_size = 512,
	    .num_blocks = LU_BYTES / 512,
	    .thin = true,
	    .serial = "fuzzlu0001",
	    .write_cache = true,
	    .pr = {.max_registrations = 64, .rtpis = rtpis, .n_rtpis = 2},
	};
	lu = prk_lu_new(&cfg, bs, err, sizeof(err));
	CHECK(lu);
	CHECK(prk_nexus_init(&nx[0], "iqn.2026-11.io.prkit.fuzz:host-a", 0x400000000001ULL, 1) ==
	      0);
	CHECK(prk_nexus_init(&nx[1], "iqn.2026-11.io.prkit.fuzz:host-b", 0x400000000002ULL, 2) ==
	      0);
	prk_lu_nexus_up(lu, &nx[0]);
	prk_lu_nexus_up(lu, &nx[1]);
}

static bool valid_status(uint8_t s)
{
	return s == PRK_STATUS_GOOD || s == PRK_STATUS_CHECK_CONDITION || s == PRK_STATUS_BUSY ||
	       s == PRK_STATUS_RESERVATION_CONFLICT || s == PRK_STATUS_TASK_SET_FULL ||
	       s == PRK_STATUS_TASK_ABORTED || s == 0x04 /* CONDITION MET (PRE-FETCH) */;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!lu)
		setup();
	size_t pos = 0;
	unsigned index = 0;
	while (size - pos >= 18) {
		struct prk_lu_cmd cmd;
		memset(&cmd, 0, sizeof(cmd));
		memcpy(cmd.cdb, data + pos, 16);
		cmd.cdb_len = 16;
		uint16_t n = (uint16_t)(data[pos + 16] << 8 | data[pos + 17]);
		pos += 18;
		uint8_t *out = NULL;
		if (n & 0x8000) {
			size_t len = n & 0x7fff;
			if (len > size - pos)
				len = size - pos;
			if (len) {
				/* A copy of exactly len bytes: ASan sees any overread. */
				out = malloc(len);
				CHECK(out);
				memcpy(out, data + pos, len);
				cmd.dir_write = true;
				cmd.data_out = out;
				cmd.data_out_len = (uint32_t)len;
				cmd.edtl = (uint32_t)len;
			}
			pos += len;
		} else if (n) {
			cmd.dir_read = true;
			cmd.edtl = n;
		}
		cmd.nx = &nx[index & 1];
		cmd.port = &ports[index & 1];
		index++;
		cmd.done = on_done;
		done_calls = 0;
		prk_lu_submit(lu, &cmd);
		CHECK(done_calls == 1);
		CHECK(prk_lu_inflight(lu) == 0);
		CHECK(valid_status(cmd.status));
		CHECK(cmd.sense_len <= sizeof(cmd.sense));
		CHECK(cmd.status != PRK_STATUS_CHECK_CONDITION || cmd.sense_len > 0);
		CHECK(cmd.data_in_len <= cmd.edtl);
		CHECK(!cmd.data_in_len || cmd.data_in);
		if (cmd.data_in_len) {
			/* Touch every byte the transport would send. */
			volatile uint8_t sum = 0;
			for (uint32_t i = 0; i < cmd.data_in_len; i++)
				sum ^= cmd.data_in[i];
			(void)sum;
		}
		free(cmd.data_in);
		free(out);
	}
	return 0;
}
