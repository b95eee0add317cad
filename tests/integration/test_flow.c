/* iSCSI sequencing corner cases, over a plain socket (raw_iscsi.c):
 *  - F=1 on a write command with InitialR2T=No and less immediate data
 *    than the first burst: no unsolicited Data-Out follows, so the target
 *    must ask for the rest with R2T (RFC 7143 11.3.4), not wait;
 *  - ABORT TASK naming a command not received yet, with its RefCmdSN in
 *    the window: "Function complete", and the command, when it comes, does
 *    not run (RFC 7143 11.5.1), while the CmdSN window goes on;
 *  - a flood of rejected PDUs logs a line, then a count, not a line each. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "raw_iscsi.h"

#define INI "iqn.2026-11.io.prkit.test:flow"
#define RAW_OP_TMF_REQ 0x02
#define RAW_OP_TMF_RSP 0x22

static struct h_daemon daemon_;

static int setup(void **state)
{
	(void)state;
	char cfg[4096];
	h_config_basic(cfg, sizeof(cfg), 1, 4);
	return h_start(&daemon_, cfg);
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

static void cdb10(uint8_t cdb[16], uint8_t op, uint32_t lba, uint16_t blocks)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	raw_put32(cdb + 2, lba);
	cdb[7] = (uint8_t)(blocks >> 8);
	cdb[8] = (uint8_t)blocks;
}

/* Logs in and takes the power-on unit attention with TEST UNIT READY. */
static void login(struct raw *r, uint8_t isid_q, const struct raw_opts *o)
{
	assert_int_equal(raw_login(r, &daemon_, H_TARGET, INI, isid_q, o), 0);
	uint8_t tur[16] = {0};
	assert_int_equal(raw_cmd(r, 1, tur, false, false, 0, NULL, 0), 0);
	assert_true(raw_wait_status(r, 1, NULL, 0, NULL, 5000) >= 0);
}

static void test_final_bit_solicits_rest(void **state)
{
	(void)state;
	struct raw r;
	struct raw_opts o = {.initial_r2t = false, .immediate_data = true};
	login(&r, 1, &o);
	assert_false(r.initial_r2t);
	assert_true(r.immediate_data);
	assert_true(r.first_burst >= 8192);

	/* 8 KiB to write, 4 KiB of it immediate, F=1: nothing unsolicited
	 * follows, so the other 4 KiB must be asked for. */
	uint8_t buf[8192];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	uint8_t cdb[16];
	cdb10(cdb, 0x2a, 40, 16);
	assert_int_equal(raw_cmd(&r, 0x10, cdb, false, true, sizeof(buf), buf, 4096), 0);
	struct raw_pdu p;
	assert_int_equal(raw_read(&r, &p, 2000), 0); /* before the fix: nothing comes */
	assert_int_equal(p.bhs[0] & 0x3f, RAW_OP_R2T);
	assert_int_equal(raw_get32(p.bhs + 16), 0x10);
	assert_int_equal(raw_get32(p.bhs + 40), 4096); /* Buffer Offset */
	assert_int_equal(raw_get32(p.bhs + 44), 4096); /* Desired Data Transfer Length */
	uint32_t ttt = raw_get32(p.bhs + 20);
	raw_pdu_free(&p);
	assert_int_equal(raw_data_out(&r, 0x10, ttt, 0, 4096, buf + 4096, 4096, true), 0);
	assert_int_equal(raw_wait_status(&r, 0x10, NULL, 0, NULL, 5000), 0);

	uint8_t back[8192];
	assert_int_equal(raw_read10(&r, 0x11, 40, back, sizeof(back), 512), 0);
	assert_memory_equal(back, buf, sizeof(buf));
	raw_close(&r);
}

/* An immediate ABORT TASK for rtt, whose command has CmdSN refcmdsn. */
static void send_abort_task(struct raw *r, uint32_t itt, uint32_t rtt, uint32_t refcmdsn)
{
	uint8_t bhs[48] = {0};
	bhs[0] = 0x40 | RAW_OP_TMF_REQ;
	bhs[1] = 0x80 | 1; /* F, ABORT TASK */
	raw_put32(bhs + 16, itt);
	raw_put32(bhs + 20, rtt);
	raw_put32(bhs + 24, r->cmdsn);
	raw_put32(bhs + 28, r->expstatsn);
	raw_put32(bhs + 32, refcmdsn);
	assert_int_equal(raw_send_all(r->fd, bhs, 48), 0);
}

static void test_abort_task_before_command(void **state)
{
	(void)state;
	struct raw r;
	struct raw_opts o = {.initial_r2t = true, .immediate_data = true};
	login(&r, 2, &o);
	assert_true(r.immediate_data);

	/* The WRITE that will come late takes CmdSN n; ABORT TASK names it
	 * first (its CmdSN n+1 is above RefCmdSN n, which is in the window). */
	uint32_t n = r.cmdsn++;
	send_abort_task(&r, 0x20, 0x21, n);
	struct raw_pdu p;
	assert_int_equal(raw_read(&r, &p, 2000), 0);
	assert_int_equal(p.bhs[0] & 0x3f, RAW_OP_TMF_RSP);
	assert_int_equal(raw_get32(p.bhs + 16), 0x20);
	assert_int_equal(p.bhs[2], 0); /* Function complete */
	r.expstatsn = raw_get32(p.bhs + 24) + 1;
	raw_pdu_free(&p);

	/* Now the command itself: one block of 0x5a over zeros. */
	uint8_t blk[512];
	memset(blk, 0x5a, sizeof(blk));
	uint8_t cdb[16];
	cdb10(cdb, 0x2a, 70, 1);
	uint32_t next = r.cmdsn;
	r.cmdsn = n;
	assert_int_equal(raw_cmd(&r, 0x21, cdb, false, true, sizeof(blk), blk, sizeof(blk)), 0);
	r.cmdsn = next;

	/* A READ with CmdSN n+1 runs (the window went on) and finds zeros;
	 * nothing answers the aborted WRITE. */
	cdb10(cdb, 0x28, 70, 1);
	assert_int_equal(raw_cmd(&r, 0x22, cdb, true, false, sizeof(blk), NULL, 0), 0);
	uint8_t back[512];
	memset(back, 0xee, sizeof(back));
	bool answered_write = false;
	int status = -1;
	for (;;) {
		assert_int_equal(raw_read(&r, &p, 5000), 0);
		uint8_t op = p.bhs[0] & 0x3f;
		uint32_t itt = raw_get32(p.bhs + 16);
		if (itt == 0x21 && (op == RAW_OP_SCSI_RSP || op == RAW_OP_R2T))
			answered_write = true;
		if (itt == 0x22 && op == RAW_OP_DATA_IN) {
			memcpy(back + raw_get32(p.bhs + 40), p.data, p.dlen);
			if (p.bhs[1] & 0x01)
				status = p.bhs[3];
		} else if (itt == 0x22 && op == RAW_OP_SCSI_RSP) {
			status = p.bhs[3];
		}
		raw_pdu_free(&p);
		if (status >= 0)
			break;
	}
	assert_int_equal(status, 0);
	assert_false(answered_write);
	uint8_t zero[512] = {0};
	assert_memory_equal(back, zero, sizeof(zero));
	/* Both CmdSNs were taken. */
	assert_int_equal(r.expcmdsn, n + 2);
	raw_close(&r);
}

/* Lines of the daemon's log that contain s. */
static int log_count(const char *s)
{
	FILE *f = fopen(daemon_.log, "r");
	if (!f)
		return -1;
	char line[2048];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, s))
			n++;
	fclose(f);
	return n;
}

static void test_reject_log_rate_limited(void **state)
{
	(void)state;
	struct raw r;
	struct raw_opts o = {.initial_r2t = true, .immediate_data = true};
	login(&r, 3, &o);
	int before = log_count("rejected a PDU");
	/* 50 Data-Out PDUs for tasks that never existed: 50 Rejects. */
	for (uint32_t i = 0; i < 50; i++)
		assert_int_equal(raw_data_out(&r, 0x7000 + i, RAW_RSVD_TAG, 0, 0, NULL, 0, true),
		                 0);
	for (int i = 0; i < 50; i++) {
		struct raw_pdu p;
		assert_int_equal(raw_read(&r, &p, 5000), 0);
		assert_int_equal(p.bhs[0] & 0x3f, RAW_OP_REJECT);
		raw_pdu_free(&p);
	}
	/* The session still works. */
	uint8_t back[512];
	assert_int_equal(raw_read10(&r, 0x30, 0, back, sizeof(back), 512), 0);
	raw_close(&r);
	assert_int_equal(h_log_wait(&daemon_, "49 more PDU(s) rejected", 5000), 1);
	int lines = log_count("rejected a PDU") - before;
	fprintf(stderr, "# 50 rejects: %d log line(s) naming one\n", lines);
	assert_int_equal(lines, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_final_bit_solicits_rest),
	    cmocka_unit_test(test_abort_task_before_command),
	    cmocka_unit_test(test_reject_log_rate_limited),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
