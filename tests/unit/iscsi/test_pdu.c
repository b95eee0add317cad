/* BHS codecs: field offsets per RFC 7143 section 11, validation of
 * initiator PDUs, round trips. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pdu.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void assert_sn(const uint8_t *bhs, uint32_t statsn, uint32_t exp, uint32_t max)
{
	assert_int_equal(be32(bhs + 24), statsn);
	assert_int_equal(be32(bhs + 28), exp);
	assert_int_equal(be32(bhs + 32), max);
}

static const struct prk_iscsi_sn SN = {0x11111111, 0x22222222, 0x33333333};

static void test_hdr(void **state)
{
	uint8_t bhs[PRK_ISCSI_BHS_LEN] = {0};
	struct prk_iscsi_hdr h;
	static const uint8_t ini[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10};

	(void)state;
	for (size_t i = 0; i < sizeof(ini); i++) {
		bhs[0] = ini[i];
		assert_int_equal(prk_iscsi_hdr_decode(bhs, &h), 0);
		assert_int_equal(h.opcode, ini[i]);
	}
	for (int op = 0; op < 64; op++) {
		bool valid = memchr(ini, op, sizeof(ini)) != NULL;

		bhs[0] = (uint8_t)op;
		assert_int_equal(prk_iscsi_hdr_decode(bhs, &h), valid ? 0 : -1);
	}
	bhs[0] = 0x41;
	bhs[1] = 0xa1;
	bhs[4] = 2;
	bhs[5] = 0x01;
	bhs[6] = 0x02;
	bhs[7] = 0x03;
	bhs[8] = 0x00;
	bhs[9] = 0x07;
	bhs[16] = 0xde;
	bhs[17] = 0xad;
	bhs[18] = 0xbe;
	bhs[19] = 0xef;
	assert_int_equal(prk_iscsi_hdr_decode(bhs, &h), 0);
	assert_true(h.immediate);
	assert_true(h.final);
	assert_int_equal(h.flags, 0xa1);
	assert_int_equal(h.ahs_words, 2);
	assert_int_equal(h.dlen, 0x010203);
	assert_int_equal(h.lun, 0x0007000000000000ull);
	assert_int_equal(h.itt, 0xdeadbeef);
}

static void test_tail_len(void **state)
{
	struct prk_iscsi_hdr h = {0};

	(void)state;
	assert_int_equal(prk_iscsi_pdu_tail_len(&h, false, false), 0);
	assert_int_equal(prk_iscsi_pdu_tail_len(&h, true, true), 4);
	h.dlen = 5;
	assert_int_equal(prk_iscsi_pdu_tail_len(&h, false, false), 8);
	assert_int_equal(prk_iscsi_pdu_tail_len(&h, false, true), 12);
	assert_int_equal(prk_iscsi_pdu_tail_len(&h, true, true), 16);
	h.ahs_words = 3;
	h.dlen = 8;
	assert_int_equal(prk_iscsi_pdu_tail_len(&h, true, false), 12 + 4 + 8);
	h.dlen = PRK_ISCSI_DSL_MAX;
	h.ahs_words = 255;
	assert_int_equal(prk_iscsi_pdu_tail_len(&h, true, true), 1020 + 4 + 16777216 + 4);
	assert_int_equal(prk_iscsi_pad4(0), 0);
	assert_int_equal(prk_iscsi_pad4(1), 4);
	assert_int_equal(prk_iscsi_pad4(4), 4);
}

static void test_lun(void **state)
{
	uint16_t lun;

	(void)state;
	assert_int_equal(prk_iscsi_lun_encode(0), 0);
	assert_int_equal(prk_iscsi_lun_encode(5), 0x0005000000000000ull);
	assert_int_equal(prk_iscsi_lun_encode(255), 0x00ff000000000000ull);
	assert_int_equal(prk_iscsi_lun_encode(256), 0x4100000000000000ull);
	assert_int_equal(prk_iscsi_lun_encode(300), 0x412c000000000000ull);
	assert_int_equal(prk_iscsi_lun_encode(16383), 0x7fff000000000000ull);
	for (uint32_t l = 0; l < 16384; l += 7) {
		assert_int_equal(prk_iscsi_lun_decode(prk_iscsi_lun_encode((uint16_t)l), &lun), 0);
		assert_int_equal(lun, l);
	}
	/* Flat addressing of a small LUN. */
	assert_int_equal(prk_iscsi_lun_decode(0x4005000000000000ull, &lun), 0);
	assert_int_equal(lun, 5);
	/* Bus != 0, second level, extended and logical unit addressing. */
	assert_int_equal(prk_iscsi_lun_decode(0x0105000000000000ull, &lun), -1);
	assert_int_equal(prk_iscsi_lun_decode(0x0005000100000000ull, &lun), -1);
	assert_int_equal(prk_iscsi_lun_decode(0xc000000000000000ull, &lun), -1);
	assert_int_equal(prk_iscsi_lun_decode(0x8000000000000000ull, &lun), -1);
}

static void test_scsi_cmd(void **state)
{
	struct prk_iscsi_scsi_cmd c = {0}, d;
	uint8_t bhs[PRK_ISCSI_BHS_LEN], reason = 0;

	(void)state;
	c.h.opcode = PRK_ISCSI_OP_SCSI_CMD;
	c.h.final = true;
	c.h.dlen = 512;
	c.h.lun = prk_iscsi_lun_encode(3);
	c.h.itt = 0x1234;
	c.write = true;
	c.attr = 1;
	c.edtl = 4096;
	c.cmdsn = 77;
	c.expstatsn = 88;
	c.cdb[0] = 0x2a;
	c.cdb[15] = 0x99;
	prk_iscsi_scsi_cmd_encode(&c, bhs);
	assert_int_equal(bhs[0], 0x01);
	assert_int_equal(bhs[1], 0xa1);
	assert_int_equal(be32(bhs + 20), 4096);
	assert_int_equal(be32(bhs + 24), 77);
	assert_int_equal(be32(bhs + 28), 88);
	assert_int_equal(bhs[32], 0x2a);
	assert_int_equal(bhs[47], 0x99);
	assert_int_equal(prk_iscsi_scsi_cmd_decode(bhs, &d, &reason), 0);
	assert_true(d.write);
	assert_false(d.read);
	assert_int_equal(d.attr, 1);
	assert_int_equal(d.edtl, 4096);
	assert_int_equal(d.cmdsn, 77);
	assert_int_equal(d.expstatsn, 88);
	assert_int_equal(d.h.dlen, 512);
	assert_int_equal(d.h.itt, 0x1234);
	assert_memory_equal(d.cdb, c.cdb, 16);

	/* No data, EDTL 0, R and W clear: what libiscsi sends for TEST UNIT
	 * READY. */
	c.write = false;
	c.edtl = 0;
	prk_iscsi_scsi_cmd_encode(&c, bhs);
	assert_int_equal(prk_iscsi_scsi_cmd_decode(bhs, &d, &reason), 0);
	/* EDTL without a direction. */
	c.edtl = 1;
	prk_iscsi_scsi_cmd_encode(&c, bhs);
	assert_int_equal(prk_iscsi_scsi_cmd_decode(bhs, &d, &reason), -1);
	assert_int_equal(reason, PRK_REJECT_INVALID_PDU_FIELD);
	/* Reserved task attribute. */
	c.edtl = 0;
	c.attr = 5;
	prk_iscsi_scsi_cmd_encode(&c, bhs);
	assert_int_equal(prk_iscsi_scsi_cmd_decode(bhs, &d, &reason), -1);
	assert_int_equal(reason, PRK_REJECT_INVALID_PDU_FIELD);
	/* Wrong opcode. */
	bhs[0] = PRK_ISCSI_OP_NOP_OUT;
	assert_int_equal(prk_iscsi_scsi_cmd_decode(bhs, &d, &reason), -1);
}

static void test_data_out(void **state)
{
	struct prk_iscsi_data_out o = {0}, d;
	uint8_t bhs[PRK_ISCSI_BHS_LEN], reason;

	(void)state;
	o.h.final = true;
	o.h.dlen = 8192;
	o.h.itt = 5;
	o.h.lun = prk_iscsi_lun_encode(1);
	o.ttt = 0xabc;
	o.expstatsn = 9;
	o.datasn = 2;
	o.offset = 16384;
	prk_iscsi_data_out_encode(&o, bhs);
	assert_int_equal(bhs[0], 0x05);
	assert_int_equal(bhs[1], 0x80);
	assert_int_equal(be32(bhs + 20), 0xabc);
	assert_int_equal(be32(bhs + 28), 9);
	assert_int_equal(be32(bhs + 36), 2);
	assert_int_equal(be32(bhs + 40), 16384);
	assert_int_equal(prk_iscsi_data_out_decode(bhs, &d, &reason), 0);
	assert_true(d.h.final);
	assert_int_equal(d.ttt, 0xabc);
	assert_int_equal(d.datasn, 2);
	assert_int_equal(d.offset, 16384);
	assert_int_equal(d.h.lun, o.h.lun);
}

static void test_nop_out(void **state)
{
	struct prk_iscsi_nop_out n = {0}, d;
	uint8_t bhs[PRK_ISCSI_BHS_LEN], reason;

	(void)state;
	n.h.itt = 3;
	n.ttt = PRK_ISCSI_RSVD_TAG;
	n.cmdsn = 10;
	n.expstatsn = 11;
	prk_iscsi_nop_out_encode(&n, bhs);
	assert_int_equal(bhs[1], 0x80);
	assert_int_equal(prk_iscsi_nop_out_decode(bhs, &d, &reason), 0);
	assert_int_equal(d.ttt, PRK_ISCSI_RSVD_TAG);
	assert_int_equal(d.cmdsn, 10);
	assert_int_equal(d.expstatsn, 11);
	/* F clear. */
	bhs[1] = 0;
	assert_int_equal(prk_iscsi_nop_out_decode(bhs, &d, &reason), -1);
	assert_int_equal(reason, PRK_REJECT_PROTOCOL_ERROR);
	/* No answer wanted but not immediate. */
	n.h.itt = PRK_ISCSI_RSVD_TAG;
	prk_iscsi_nop_out_encode(&n, bhs);
	assert_int_equal(prk_iscsi_nop_out_decode(bhs, &d, &reason), -1);
	n.h.immediate = true;
	prk_iscsi_nop_out_encode(&n, bhs);
	assert_int_equal(prk_iscsi_nop_out_decode(bhs, &d, &reason), 0);
}

static void test_tmf_req(void **state)
{
	struct prk_iscsi_tmf_req t = {0}, d;
	uint8_t bhs[PRK_ISCSI_BHS_LEN], reason;

	(void)state;
	t.h.immediate = true;
	t.function = PRK_TMF_ABORT_TASK;
	t.rtt = 0x55;
	t.cmdsn = 1;
	t.expstatsn = 2;
	t.refcmdsn = 3;
	t.expdatasn = 4;
	prk_iscsi_tmf_req_encode(&t, bhs);
	assert_int_equal(bhs[0], 0x42);
	assert_int_equal(bhs[1], 0x81);
	assert_int_equal(be32(bhs + 20), 0x55);
	assert_int_equal(be32(bhs + 32), 3);
	assert_int_equal(be32(bhs + 36), 4);
	assert_int_equal(prk_iscsi_tmf_req_decode(bhs, &d, &reason), 0);
	assert_int_equal(d.function, 1);
	assert_int_equal(d.rtt, 0x55);
	assert_int_equal(d.refcmdsn, 3);
	/* Unknown functions are for the target to answer, not to reject. */
	t.function = 0x7f;
	prk_iscsi_tmf_req_encode(&t, bhs);
	assert_int_equal(prk_iscsi_tmf_req_decode(bhs, &d, &reason), 0);
	assert_int_equal(d.function, 0x7f);
	bhs[1] = 0x01;
	assert_int_equal(prk_iscsi_tmf_req_decode(bhs, &d, &reason), -1);
	assert_int_equal(reason, PRK_REJECT_PROTOCOL_ERROR);
}

static void test_login_req(void **state)
{
	struct prk_iscsi_login_req l = {0}, d;
	uint8_t bhs[PRK_ISCSI_BHS_LEN], reason;

	(void)state;
	l.h.immediate = true;
	l.h.dlen = 100;
	l.h.itt = 9;
	l.transit = true;
	l.csg = 1;
	l.nsg = 3;
	l.version_max = 0;
	l.version_min = 0;
	l.isid = 0x80123456789aull;
	l.tsih = 0xbeef;
	l.cid = 0x0102;
	l.cmdsn = 5;
	l.expstatsn = 6;
	prk_iscsi_login_req_encode(&l, bhs);
	assert_int_equal(bhs[0], 0x43);
	assert_int_equal(bhs[1], 0x87);
	assert_int_equal(bhs[8], 0x80);
	assert_int_equal(bhs[13], 0x9a);
	assert_int_equal(bhs[14], 0xbe);
	assert_int_equal(bhs[15], 0xef);
	assert_int_equal(bhs[20], 0x01);
	assert_int_equal(bhs[21], 0x02);
	assert_int_equal(prk_iscsi_login_req_decode(bhs, &d, &reason), 0);
	assert_true(d.transit);
	assert_false(d.cont);
	assert_int_equal(d.csg, 1);
	assert_int_equal(d.nsg, 3);
	assert_int_equal(d.isid, l.isid);
	assert_int_equal(d.tsih, 0xbeef);
	assert_int_equal(d.cid, 0x0102);
	assert_int_equal(d.cmdsn, 5);
	assert_int_equal(d.expstatsn, 6);
	/* T and C both set. */
	l.cont = true;
	prk_iscsi_login_req_encode(&l, bhs);
	assert_int_equal(prk_iscsi_login_req_decode(bhs, &d, &reason), -1);
	assert_int_equal(reason, PRK_REJECT_PROTOCOL_ERROR);
	/* Reserved stage 2, FFP as the current stage, NSG 2 with T. */
	l.cont = false;
	l.csg = 2;
	prk_iscsi_login_req_encode(&l, bhs);
	assert_int_equal(prk_iscsi_login_req_decode(bhs, &d, &reason), -1);
	assert_int_equal(reason, PRK_REJECT_INVALID_PDU_FIELD);
	l.csg = 3;
	prk_iscsi_login_req_encode(&l, bhs);
	assert_int_equal(prk_iscsi_login_req_decode(bhs, &d, &reason), -1);
	l.csg = 0;
	l.nsg = 2;
	prk_iscsi_login_req_encode(&l, bhs);
	assert_int_equal(prk_iscsi_login_req_decode(bhs, &d, &reason), -1);
	assert_int_equal(reason, PRK_REJECT_INVALID_PDU_FIELD);
	/* NSG is reserved without T. */
	l.transit = false;
	prk_iscsi_login_req_encode(&l, bhs);
	assert_int_equal(prk_iscsi_login_req_decode(bhs, &d, &reason), 0);
}

static void test_text_req(void **state)
{
	struct prk_iscsi_text_req t = {0}, d;
	uint8_t bhs[PRK_ISCSI_BHS_LEN], reason;

	(void)state;
	t.h.final = true;
	t.h.itt = 4;
	t.ttt = PRK_ISCSI_RSVD_TAG;
	t.cmdsn = 8;
	t.expstatsn = 9;
	prk_iscsi_text_req_encode(&t, bhs);
	assert_int_equal(bhs[0], 0x04);
	assert_int_equal(bhs[1], 0x80);
	assert_int_equal(prk_iscsi_text_req_decode(bhs, &d, &reason), 0);
	assert_int_equal(d.ttt, PRK_ISCSI_RSVD_TAG);
	assert_int_equal(d.cmdsn, 8);
	t.cont = true;
	prk_iscsi_text_req_encode(&t, bhs);
	assert_int_equal(bhs[1], 0xc0);
	assert_int_equal(prk_iscsi_text_req_decode(bhs, &d, &reason), -1);
	assert_int_equal(reason, PRK_REJECT_PROTOCOL_ERROR);
	t.h.final = false;
	prk_iscsi_text_req_encode(&t, bhs);
	assert_int_equal(prk_iscsi_text_req_decode(bhs, &d, &reason), 0);
	assert_true(d.cont);
}

static void test_logout_req(void **state)
{
	struct prk_iscsi_logout_req l = {0}, d;
	uint8_t bhs[PRK_ISCSI_BHS_LEN], reason;

	(void)state;
	l.h.immediate = true;
	l.reason = 1;
	l.cid = 3;
	l.cmdsn = 4;
	l.expstatsn = 5;
	prk_iscsi_logout_req_encode(&l, bhs);
	assert_int_equal(bhs[0], 0x46);
	assert_int_equal(bhs[1], 0x81);
	assert_int_equal(prk_iscsi_logout_req_decode(bhs, &d, &reason), 0);
	assert_int_equal(d.reason, 1);
	assert_int_equal(d.cid, 3);
	l.reason = 3;
	prk_iscsi_logout_req_encode(&l, bhs);
	assert_int_equal(prk_iscsi_logout_req_decode(bhs, &d, &reason), -1);
	assert_int_equal(reason, PRK_REJECT_INVALID_PDU_FIELD);
	bhs[1] = 0x00;
	assert_int_equal(prk_iscsi_logout_req_decode(bhs, &d, &reason), -1);
	assert_int_equal(reason, PRK_REJECT_PROTOCOL_ERROR);
}

static void test_scsi_rsp(void **state)
{
	struct prk_iscsi_scsi_rsp r = {0}, d;
	uint8_t bhs[PRK_ISCSI_BHS_LEN];

	(void)state;
	r.itt = 0x77;
	r.status = 0x02;
	r.underflow = true;
	r.residual = 512;
	r.expdatasn = 3;
	r.dlen = 20;
	r.sn = SN;
	prk_iscsi_scsi_rsp_encode(&r, bhs);
	assert_int_equal(bhs[0], 0x21);
	assert_int_equal(bhs[1], 0x82);
	assert_int_equal(bhs[2], 0);
	assert_int_equal(bhs[3], 0x02);
	assert_int_equal(bhs[7], 20);
	assert_sn(bhs, SN.statsn, SN.expcmdsn, SN.maxcmdsn);
	assert_int_equal(be32(bhs + 36), 3);
	assert_int_equal(be32(bhs + 44), 512);
	assert_int_equal(prk_iscsi_scsi_rsp_decode(bhs, &d), 0);
	assert_memory_equal(&d, &r, sizeof(r));
	assert_int_equal(prk_iscsi_data_in_decode(bhs, &(struct prk_iscsi_data_in){0}), -1);
}

static void test_data_in(void **state)
{
	struct prk_iscsi_data_in i = {0}, d;
	uint8_t bhs[PRK_ISCSI_BHS_LEN];

	(void)state;
	i.itt = 1;
	i.lun = prk_iscsi_lun_encode(2);
	i.ttt = PRK_ISCSI_RSVD_TAG;
	i.datasn = 4;
	i.offset = 8192;
	i.dlen = 8192;
	i.sn = SN;
	prk_iscsi_data_in_encode(&i, bhs);
	assert_int_equal(bhs[0], 0x25);
	assert_int_equal(bhs[1], 0x00);
	/* StatSN only with S. */
	assert_sn(bhs, 0, SN.expcmdsn, SN.maxcmdsn);
	assert_int_equal(be32(bhs + 36), 4);
	assert_int_equal(be32(bhs + 40), 8192);
	i.final = true;
	i.status = true;
	i.overflow = true;
	i.residual = 100;
	i.scsi_status = 0;
	prk_iscsi_data_in_encode(&i, bhs);
	assert_int_equal(bhs[1], 0x85);
	assert_sn(bhs, SN.statsn, SN.expcmdsn, SN.maxcmdsn);
	assert_int_equal(be32(bhs + 44), 100);
	assert_int_equal(prk_iscsi_data_in_decode(bhs, &d), 0);
	assert_memory_equal(&d, &i, sizeof(i));
}

static void test_r2t_nop_tmf(void **state)
{
	struct prk_iscsi_r2t r = {0}, rd;
	struct prk_iscsi_nop_in n = {0};
	struct prk_iscsi_tmf_rsp t = {0};
	uint8_t bhs[PRK_ISCSI_BHS_LEN];

	(void)state;
	r.itt = 2;
	r.lun = prk_iscsi_lun_encode(7);
	r.ttt = 0x100;
	r.r2tsn = 1;
	r.offset = 65536;
	r.length = 262144;
	r.sn = SN;
	prk_iscsi_r2t_encode(&r, bhs);
	assert_int_equal(bhs[0], 0x31);
	assert_int_equal(bhs[1], 0x80);
	assert_int_equal(bhs[9], 7);
	assert_sn(bhs, SN.statsn, SN.expcmdsn, SN.maxcmdsn);
	assert_int_equal(be32(bhs + 36), 1);
	assert_int_equal(be32(bhs + 40), 65536);
	assert_int_equal(be32(bhs + 44), 262144);
	assert_int_equal(prk_iscsi_r2t_decode(bhs, &rd), 0);
	assert_memory_equal(&rd, &r, sizeof(r));

	n.itt = PRK_ISCSI_RSVD_TAG;
	n.ttt = 0x42;
	n.sn = SN;
	prk_iscsi_nop_in_encode(&n, bhs);
	assert_int_equal(bhs[0], 0x20);
	assert_int_equal(bhs[1], 0x80);
	assert_int_equal(be32(bhs + 16), PRK_ISCSI_RSVD_TAG);
	assert_int_equal(be32(bhs + 20), 0x42);
	assert_sn(bhs, SN.statsn, SN.expcmdsn, SN.maxcmdsn);

	t.itt = 8;
	t.response = 5;
	t.sn = SN;
	prk_iscsi_tmf_rsp_encode(&t, bhs);
	assert_int_equal(bhs[0], 0x22);
	assert_int_equal(bhs[1], 0x80);
	assert_int_equal(bhs[2], 5);
	assert_int_equal(be32(bhs + 16), 8);
	assert_sn(bhs, SN.statsn, SN.expcmdsn, SN.maxcmdsn);
}

static void test_login_text_logout_rsp(void **state)
{
	struct prk_iscsi_login_rsp l = {0}, ld;
	struct prk_iscsi_text_rsp t = {0}, td;
	struct prk_iscsi_logout_rsp o = {0};
	uint8_t bhs[PRK_ISCSI_BHS_LEN];

	(void)state;
	l.transit = true;
	l.csg = 1;
	l.nsg = 3;
	l.isid = 0x123456789abcull;
	l.tsih = 0x0102;
	l.itt = 3;
	l.status_class = 2;
	l.status_detail = 7;
	l.dlen = 44;
	l.sn = SN;
	prk_iscsi_login_rsp_encode(&l, bhs);
	assert_int_equal(bhs[0], 0x23);
	assert_int_equal(bhs[1], 0x87);
	assert_int_equal(bhs[8], 0x12);
	assert_int_equal(bhs[14], 0x01);
	assert_int_equal(bhs[15], 0x02);
	assert_int_equal(bhs[36], 2);
	assert_int_equal(bhs[37], 7);
	assert_sn(bhs, SN.statsn, SN.expcmdsn, SN.maxcmdsn);
	assert_int_equal(prk_iscsi_login_rsp_decode(bhs, &ld), 0);
	assert_memory_equal(&ld, &l, sizeof(l));

	t.final = false;
	t.cont = true;
	t.itt = 4;
	t.ttt = 5;
	t.dlen = 512;
	t.sn = SN;
	prk_iscsi_text_rsp_encode(&t, bhs);
	assert_int_equal(bhs[0], 0x24);
	assert_int_equal(bhs[1], 0x40);
	assert_int_equal(be32(bhs + 20), 5);
	assert_sn(bhs, SN.statsn, SN.expcmdsn, SN.maxcmdsn);
	assert_int_equal(prk_iscsi_text_rsp_decode(bhs, &td), 0);
	assert_memory_equal(&td, &t, sizeof(t));

	o.itt = 6;
	o.response = 0;
	o.time2wait = 2;
	o.time2retain = 20;
	o.sn = SN;
	prk_iscsi_logout_rsp_encode(&o, bhs);
	assert_int_equal(bhs[0], 0x26);
	assert_int_equal(bhs[1], 0x80);
	assert_sn(bhs, SN.statsn, SN.expcmdsn, SN.maxcmdsn);
	assert_int_equal(bhs[41], 2);
	assert_int_equal(bhs[43], 20);
}

static void test_reject_async(void **state)
{
	struct prk_iscsi_reject r = {0};
	struct prk_iscsi_async a = {0};
	uint8_t bhs[PRK_ISCSI_BHS_LEN];

	(void)state;
	r.reason = PRK_REJECT_INVALID_PDU_FIELD;
	r.dlen = 48;
	r.sn = SN;
	prk_iscsi_reject_encode(&r, bhs);
	assert_int_equal(bhs[0], 0x3f);
	assert_int_equal(bhs[1], 0x80);
	assert_int_equal(bhs[2], 0x09);
	assert_int_equal(bhs[7], 48);
	assert_int_equal(be32(bhs + 16), PRK_ISCSI_RSVD_TAG);
	assert_sn(bhs, SN.statsn, SN.expcmdsn, SN.maxcmdsn);

	a.lun = prk_iscsi_lun_encode(1);
	a.event = 1;
	a.param3 = 5;
	a.sn = SN;
	prk_iscsi_async_encode(&a, bhs);
	assert_int_equal(bhs[0], 0x32);
	assert_int_equal(bhs[1], 0x80);
	assert_int_equal(be32(bhs + 16), PRK_ISCSI_RSVD_TAG);
	assert_sn(bhs, SN.statsn, SN.expcmdsn, SN.maxcmdsn);
	assert_int_equal(bhs[36], 1);
	assert_int_equal(bhs[43], 5);
}

static void test_sn(void **state)
{
	(void)state;
	assert_true(prk_sn_lt(1, 2));
	assert_false(prk_sn_lt(2, 2));
	assert_false(prk_sn_lt(2, 1));
	assert_true(prk_sn_lt(0xffffffff, 0));
	assert_false(prk_sn_lt(0, 0xffffffff));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hdr),          cmocka_unit_test(test_tail_len),
	    cmocka_unit_test(test_lun),          cmocka_unit_test(test_scsi_cmd),
	    cmocka_unit_test(test_data_out),     cmocka_unit_test(test_nop_out),
	    cmocka_unit_test(test_tmf_req),      cmocka_unit_test(test_login_req),
	    cmocka_unit_test(test_text_req),     cmocka_unit_test(test_logout_req),
	    cmocka_unit_test(test_scsi_rsp),     cmocka_unit_test(test_data_in),
	    cmocka_unit_test(test_r2t_nop_tmf),  cmocka_unit_test(test_login_text_logout_rsp),
	    cmocka_unit_test(test_reject_async), cmocka_unit_test(test_sn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
