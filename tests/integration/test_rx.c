/* prkitd's receive path (src/iscsi/rx.c), over a plain socket:
 *  - many PDUs in one write(): 32 WRITE(10) with immediate data and
 *    NOP-Outs with ping data, every one answered, the data read back;
 *  - the same kind of stream cut into pieces (one byte at a time, then
 *    random sizes, many rounds) with header and data digests: every cut
 *    of BHS, AHS, header digest, data, padding and data digest, and an
 *    unsolicited Data-Out whose header arrives before its data;
 *  - a 256 KiB Data-Out (MaxRecvDataSegmentLength) in one PDU after an
 *    R2T, a 1 MiB write in four of them, and a 64 KiB unsolicited one;
 *  - a data digest error on a Data-Out received in place: Reject, the
 *    task ends with ABORTED COMMAND, and the LU keeps its old data;
 *  - Data-Out with a wrong offset or DataSN still fails its task;
 *  - the task freed (LU reset) while its Data-Out arrives in place;
 *  - flow control: a buffer of PDUs left unparsed while the transmit
 *    queue is full is dispatched once the initiator reads again.
 * Digests are computed here with a CRC32C of the test's own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "raw_iscsi.h"

#define INI "iqn.2026-12.io.prkit.test:rx"
#define BLOCK 512

static struct h_daemon daemon_;

static int setup(void **state)
{
	(void)state;
	char cfg[4096];
	h_config_basic(cfg, sizeof(cfg), 1, 16);
	return h_start(&daemon_, cfg);
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

/* CRC32C, bit by bit (the target's is table-driven: a second opinion). */
static uint32_t crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

/* A stream of PDUs built in memory, sent as the test likes. */
struct stream {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct stream *s, const void *p, size_t n)
{
	if (!n)
		return; /* p may be NULL then */
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->p = realloc(s->p, s->cap);
		assert_non_null(s->p);
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

static void put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

/* Appends one PDU with the digests r negotiated; bad_dd spoils the data
 * digest. */
static void pdu_ahs(struct stream *s, const struct raw *r, uint8_t bhs[48], const uint8_t *ahs,
                    uint8_t ahs_words, const uint8_t *data, uint32_t dlen, bool bad_dd)
{
	put24(bhs + 5, dlen);
	bhs[4] = ahs_words;
	put(s, bhs, 48);
	put(s, ahs, (size_t)ahs_words * 4);
	if (r->hd) {
		/* Over the BHS and the AHS; little-endian on the wire. */
		uint32_t d = crc32c(crc32c(0, bhs, 48), ahs, (size_t)ahs_words * 4);
		uint8_t le[4] = {(uint8_t)d, (uint8_t)(d >> 8), (uint8_t)(d >> 16),
		                 (uint8_t)(d >> 24)};
		put(s, le, 4);
	}
	if (!dlen)
		return;
	static const uint8_t zeros[3];
	size_t pad = ((dlen + 3) & ~3u) - dlen;
	put(s, data, dlen);
	put(s, zeros, pad);
	if (r->dd) {
		uint32_t d = crc32c(crc32c(0, data, dlen), zeros, pad) ^ (bad_dd ? 1u : 0u);
		uint8_t le[4] = {(uint8_t)d, (uint8_t)(d >> 8), (uint8_t)(d >> 16),
		                 (uint8_t)(d >> 24)};
		put(s, le, 4);
	}
}

static void pdu(struct stream *s, const struct raw *r, uint8_t bhs[48], const uint8_t *data,
                uint32_t dlen, bool bad_dd)
{
	pdu_ahs(s, r, bhs, NULL, 0, data, dlen, bad_dd);
}

static void cmd_pdu(struct stream *s, struct raw *r, uint32_t itt, uint8_t op, uint32_t lba,
                    uint32_t len, const uint8_t *imm, uint32_t imm_len, bool final)
{
	uint8_t bhs[48] = {0};
	bool write = op == 0x2a;
	bhs[0] = RAW_OP_SCSI_CMD;
	bhs[1] = (final ? 0x80 : 0) | (write ? 0x20 : 0x40) | 1;
	raw_put32(bhs + 16, itt);
	raw_put32(bhs + 20, len);
	raw_put32(bhs + 24, r->cmdsn++);
	raw_put32(bhs + 28, r->expstatsn);
	bhs[32] = op;
	raw_put32(bhs + 34, lba);
	bhs[39] = (uint8_t)(len / BLOCK >> 8);
	bhs[40] = (uint8_t)(len / BLOCK);
	pdu(s, r, bhs, imm, imm_len, false);
}

static void data_out_pdu(struct stream *s, const struct raw *r, uint32_t itt, uint32_t ttt,
                         uint32_t datasn, uint32_t offset, const uint8_t *data, uint32_t len,
                         bool final, bool bad_dd)
{
	uint8_t bhs[48] = {0};
	bhs[0] = RAW_OP_DATA_OUT;
	bhs[1] = final ? 0x80 : 0;
	raw_put32(bhs + 16, itt);
	raw_put32(bhs + 20, ttt);
	raw_put32(bhs + 28, r->expstatsn);
	raw_put32(bhs + 36, datasn);
	raw_put32(bhs + 40, offset);
	pdu(s, r, bhs, data, len, bad_dd);
}

/* A ping with an AHS (prkitd reads past an AHS it has no use for). */
static void nop_pdu_ahs(struct stream *s, const struct raw *r, uint32_t itt, const uint8_t *data,
                        uint32_t len)
{
	static const uint8_t ahs[8] = {0, 5, 0xfe, 0, 1, 2, 3, 0}; /* length 5, type FEh */
	uint8_t bhs[48] = {0};
	bhs[0] = 0x40 | RAW_OP_NOP_OUT;
	bhs[1] = 0x80;
	raw_put32(bhs + 16, itt);
	raw_put32(bhs + 20, RAW_RSVD_TAG);
	raw_put32(bhs + 24, r->cmdsn);
	raw_put32(bhs + 28, r->expstatsn);
	pdu_ahs(s, r, bhs, ahs, 2, data, len, false);
}

static void nop_pdu(struct stream *s, const struct raw *r, uint32_t itt, const uint8_t *data,
                    uint32_t len)
{
	uint8_t bhs[48] = {0};
	bhs[0] = 0x40 | RAW_OP_NOP_OUT;
	bhs[1] = 0x80;
	raw_put32(bhs + 16, itt);
	raw_put32(bhs + 20, RAW_RSVD_TAG);
	raw_put32(bhs + 24, r->cmdsn);
	raw_put32(bhs + 28, r->expstatsn);
	pdu(s, r, bhs, data, len, false);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 9)) ^ seed);
}

/* Logs in and takes the power-on unit attention with TEST UNIT READY. */
static void login(struct raw *r, uint8_t isid_q, const struct raw_opts *o)
{
	assert_int_equal(raw_login(r, &daemon_, H_TARGET, INI, isid_q, o), 0);
	struct stream s = {0};
	uint8_t bhs[48] = {0};
	bhs[0] = RAW_OP_SCSI_CMD;
	bhs[1] = 0x80 | 1;
	raw_put32(bhs + 16, 1);
	raw_put32(bhs + 24, r->cmdsn++);
	raw_put32(bhs + 28, r->expstatsn);
	pdu(&s, r, bhs, NULL, 0, false);
	assert_int_equal(raw_send_all(r->fd, s.p, s.len), 0);
	free(s.p);
	assert_true(raw_wait_status(r, 1, NULL, 0, NULL, 5000) >= 0);
}

/* READ(10) through the builder (digests as negotiated), compared. */
static void check_read(struct raw *r, uint32_t itt, uint32_t lba, const uint8_t *want, uint32_t len)
{
	struct stream s = {0};
	cmd_pdu(&s, r, itt, 0x28, lba, len, NULL, 0, true);
	assert_int_equal(raw_send_all(r->fd, s.p, s.len), 0);
	free(s.p);
	uint8_t *in = calloc(1, len);
	assert_non_null(in);
	assert_int_equal(raw_wait_status(r, itt, in, len, NULL, 5000), 0);
	assert_memory_equal(in, want, len);
	free(in);
}

/* Reads PDUs until the SCSI Response of itt: CHECK CONDITION with
 * ABORTED COMMAND and this ASC/ASCQ (fixed format sense). */
static void expect_aborted(struct raw *r, uint32_t itt, uint16_t asc)
{
	for (;;) {
		struct raw_pdu p;
		assert_int_equal(raw_read(r, &p, 5000), 0);
		if ((p.bhs[0] & 0x3f) != RAW_OP_SCSI_RSP || raw_get32(p.bhs + 16) != itt) {
			raw_pdu_free(&p);
			continue;
		}
		r->expstatsn = raw_get32(p.bhs + 24) + 1;
		assert_int_equal(p.bhs[3], 2); /* CHECK CONDITION */
		assert_true(p.dlen >= 2 + 14);
		const uint8_t *sense = p.data + 2;
		assert_int_equal(sense[2] & 0x0f, 0x0b); /* ABORTED COMMAND */
		assert_int_equal(sense[12] << 8 | sense[13], asc);
		raw_pdu_free(&p);
		return;
	}
}

/* Reads PDUs until every one of n expected answers came: SCSI status
 * GOOD for itts [cmd0, cmd0 + ncmd), NOP-In echoing ping for [nop0, ...). */
static void expect_answers(struct raw *r, uint32_t cmd0, unsigned ncmd, uint32_t nop0,
                           unsigned nnop, const uint8_t *ping, uint32_t ping_len)
{
	unsigned got_cmd = 0, got_nop = 0;
	bool seen[256] = {0};
	while (got_cmd < ncmd || got_nop < nnop) {
		struct raw_pdu p;
		assert_int_equal(raw_read(r, &p, 5000), 0);
		uint8_t op = p.bhs[0] & 0x3f;
		uint32_t itt = raw_get32(p.bhs + 16);
		if (op == RAW_OP_SCSI_RSP) {
			assert_true(itt >= cmd0 && itt < cmd0 + ncmd);
			assert_false(seen[itt - cmd0]);
			seen[itt - cmd0] = true;
			assert_int_equal(p.bhs[3], 0); /* GOOD */
			r->expstatsn = raw_get32(p.bhs + 24) + 1;
			got_cmd++;
		} else if (op == RAW_OP_NOP_IN) {
			assert_true(itt >= nop0 && itt < nop0 + nnop);
			assert_int_equal(p.dlen, ping_len);
			assert_memory_equal(p.data, ping, ping_len);
			got_nop++;
		} else {
			fail_msg("unexpected PDU opcode 0x%02x itt 0x%x", op, itt);
		}
		raw_pdu_free(&p);
	}
}

static void test_many_pdus_one_write(void **state)
{
	(void)state;
	struct raw r;
	struct raw_opts o = {.initial_r2t = true, .immediate_data = true};
	login(&r, 1, &o);
	assert_true(r.immediate_data);
	assert_true(r.maxcmdsn - r.cmdsn + 1 >= 32);
	enum { N = 32, LEN = 4096 };
	uint8_t *data = malloc(N * LEN);
	assert_non_null(data);
	fill(data, N * LEN, 1);
	static const uint8_t ping[] = "seven b"; /* 8 bytes with the NUL */
	struct stream s = {0};
	for (unsigned i = 0; i < N; i++) {
		cmd_pdu(&s, &r, 0x100 + i, 0x2a, 1000 + i * (LEN / BLOCK), LEN, data + i * LEN, LEN,
		        true);
		if (i % 4 == 3)
			nop_pdu(&s, &r, 0x200 + i / 4, ping, 5); /* padded */
	}
	/* One write(): the target finds all of it in one or two reads. */
	ssize_t w = send(r.fd, s.p, s.len, MSG_NOSIGNAL);
	assert_int_equal((size_t)w, s.len);
	free(s.p);
	expect_answers(&r, 0x100, N, 0x200, N / 4, ping, 5);
	check_read(&r, 0x300, 1000, data, N * LEN);
	raw_close(&r);
	free(data);
}

/* Sends s in pieces: every piece 1 byte (step 0) or random sizes. Small
 * pauses make the target read the cuts one by one. */
static void send_cut(int fd, const struct stream *s, unsigned max_piece, unsigned *seed)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (size_t off = 0; off < s->len;) {
		size_t n = max_piece <= 1 ? 1 : 1 + (size_t)(rand_r(seed) % max_piece);
		if (n > s->len - off)
			n = s->len - off;
		assert_int_equal(raw_send_all(fd, s->p + off, n), 0);
		off += n;
		if (max_piece > 1 || off % 16 == 0)
			usleep(50);
	}
}

static void test_split_everywhere_with_digests(void **state)
{
	(void)state;
	struct raw r;
	struct raw_opts o = {.initial_r2t = false,
	                     .immediate_data = true,
	                     .header_digest = true,
	                     .data_digest = true};
	login(&r, 2, &o);
	assert_true(r.hd);
	assert_true(r.dd);
	assert_false(r.initial_r2t);
	enum { LEN = 8192, IMM = 1024 };
	uint8_t data[LEN], small[BLOCK];
	static const uint8_t ping[] = {1, 2, 3, 4, 5};
	unsigned seed = 17;
	for (unsigned round = 0; round < 40; round++) {
		uint32_t lba = 2000 + round * 20;
		fill(data, sizeof(data), round);
		fill(small, sizeof(small), round + 100);
		struct stream s = {0};
		uint32_t itt = 0x1000 + round * 4;
		/* One block with immediate data; a ping with an AHS and padding;
		 * 8 KiB, 1 KiB immediate and 7 KiB in an unsolicited Data-Out. */
		cmd_pdu(&s, &r, itt, 0x2a, lba, BLOCK, small, BLOCK, true);
		nop_pdu_ahs(&s, &r, itt + 1, ping, sizeof(ping));
		cmd_pdu(&s, &r, itt + 2, 0x2a, lba + 1, LEN, data, IMM, false);
		data_out_pdu(&s, &r, itt + 2, RAW_RSVD_TAG, 0, IMM, data + IMM, LEN - IMM, true,
		             false);
		send_cut(r.fd, &s, round == 0 ? 1 : 1 + round * 8, &seed);
		free(s.p);
		/* itt + 1 is the NOP; the writes are itt and itt + 2. */
		unsigned got = 0, nops = 0;
		while (got < 2 || nops < 1) {
			struct raw_pdu p;
			assert_int_equal(raw_read(&r, &p, 5000), 0);
			uint8_t op = p.bhs[0] & 0x3f;
			uint32_t pitt = raw_get32(p.bhs + 16);
			if (op == RAW_OP_NOP_IN) {
				assert_int_equal(pitt, itt + 1);
				assert_int_equal(p.dlen, sizeof(ping));
				assert_memory_equal(p.data, ping, sizeof(ping));
				nops++;
			} else {
				assert_int_equal(op, RAW_OP_SCSI_RSP);
				assert_true(pitt == itt || pitt == itt + 2);
				assert_int_equal(p.bhs[3], 0);
				r.expstatsn = raw_get32(p.bhs + 24) + 1;
				got++;
			}
			raw_pdu_free(&p);
		}
		check_read(&r, itt + 3, lba, small, BLOCK);
		check_read(&r, 0x8000 + round, lba + 1, data, LEN);
	}
	raw_close(&r);
}

/* Writes len bytes at lba answering every R2T with one Data-Out of the
 * whole burst (the target's MaxRecvDataSegmentLength allows 256 KiB). */
static void write_big_pdus(struct raw *r, uint32_t itt, uint32_t lba, const uint8_t *buf,
                           uint32_t len)
{
	struct stream s = {0};
	cmd_pdu(&s, r, itt, 0x2a, lba, len, NULL, 0, true);
	assert_int_equal(raw_send_all(r->fd, s.p, s.len), 0);
	s.len = 0;
	unsigned r2ts = 0;
	for (;;) {
		struct raw_pdu p;
		assert_int_equal(raw_read(r, &p, 5000), 0);
		uint8_t op = p.bhs[0] & 0x3f;
		assert_int_equal(raw_get32(p.bhs + 16), itt);
		if (op == RAW_OP_R2T) {
			uint32_t ttt = raw_get32(p.bhs + 20), off = raw_get32(p.bhs + 40);
			uint32_t want = raw_get32(p.bhs + 44);
			assert_int_equal(want, 262144);
			s.len = 0;
			data_out_pdu(&s, r, itt, ttt, 0, off, buf + off, want, true, false);
			assert_int_equal(raw_send_all(r->fd, s.p, s.len), 0);
			r2ts++;
		} else {
			assert_int_equal(op, RAW_OP_SCSI_RSP);
			assert_int_equal(p.bhs[3], 0);
			r->expstatsn = raw_get32(p.bhs + 24) + 1;
			raw_pdu_free(&p);
			break;
		}
		raw_pdu_free(&p);
	}
	assert_int_equal(r2ts, len / 262144);
	free(s.p);
}

static void test_big_data_out(void **state)
{
	(void)state;
	struct raw r;
	struct raw_opts o = {.initial_r2t = true, .immediate_data = false};
	login(&r, 3, &o);
	assert_int_equal(r.max_send_dsl, 262144);
	enum { BIG = 1 << 20 };
	uint8_t *buf = malloc(BIG);
	assert_non_null(buf);
	fill(buf, BIG, 5);
	write_big_pdus(&r, 0x10, 4096, buf, 262144);
	check_read(&r, 0x11, 4096, buf, 262144);
	fill(buf, BIG, 6);
	write_big_pdus(&r, 0x12, 8192, buf, BIG);
	check_read(&r, 0x13, 8192, buf, BIG);
	raw_close(&r);

	/* Unsolicited: InitialR2T=No, no immediate data, the first burst
	 * (64 KiB) in one Data-Out. */
	struct raw_opts u = {.initial_r2t = false, .immediate_data = false};
	login(&r, 4, &u);
	assert_false(r.initial_r2t);
	assert_int_equal(r.first_burst, 65536);
	fill(buf, 65536, 7);
	struct stream s = {0};
	cmd_pdu(&s, &r, 0x20, 0x2a, 12288, 65536, NULL, 0, false);
	data_out_pdu(&s, &r, 0x20, RAW_RSVD_TAG, 0, 0, buf, 65536, true, false);
	assert_int_equal(raw_send_all(r.fd, s.p, s.len), 0);
	free(s.p);
	assert_int_equal(raw_wait_status(&r, 0x20, NULL, 0, NULL, 5000), 0);
	check_read(&r, 0x21, 12288, buf, 65536);
	raw_close(&r);
	free(buf);
}

static void test_digest_error_on_placed_data_out(void **state)
{
	(void)state;
	struct raw r;
	struct raw_opts o = {.initial_r2t = true,
	                     .immediate_data = false,
	                     .header_digest = true,
	                     .data_digest = true};
	login(&r, 5, &o);
	assert_true(r.dd);
	enum { LEN = 262144 };
	uint8_t *old = malloc(LEN), *bad = malloc(LEN);
	assert_non_null(old);
	assert_non_null(bad);
	fill(old, LEN, 9);
	fill(bad, LEN, 10);
	write_big_pdus(&r, 0x30, 16384, old, LEN); /* placed, digest good */
	check_read(&r, 0x31, 16384, old, LEN);

	struct stream s = {0};
	cmd_pdu(&s, &r, 0x32, 0x2a, 16384, LEN, NULL, 0, true);
	assert_int_equal(raw_send_all(r.fd, s.p, s.len), 0);
	struct raw_pdu p;
	assert_int_equal(raw_read(&r, &p, 5000), 0);
	assert_int_equal(p.bhs[0] & 0x3f, RAW_OP_R2T);
	uint32_t ttt = raw_get32(p.bhs + 20);
	raw_pdu_free(&p);
	s.len = 0;
	data_out_pdu(&s, &r, 0x32, ttt, 0, 0, bad, LEN, true, true);
	/* The header alone first: the target starts receiving in place. */
	assert_int_equal(raw_send_all(r.fd, s.p, 52), 0);
	usleep(100 * 1000);
	assert_int_equal(raw_send_all(r.fd, s.p + 52, s.len - 52), 0);
	free(s.p);
	assert_int_equal(raw_read(&r, &p, 5000), 0);
	assert_int_equal(p.bhs[0] & 0x3f, RAW_OP_REJECT);
	assert_int_equal(p.bhs[2], 0x02); /* data digest error */
	raw_pdu_free(&p);
	/* Before: the task waited for data that never came, no status. */
	expect_aborted(&r, 0x32, 0x4705); /* PROTOCOL SERVICE CRC ERROR */
	check_read(&r, 0x33, 16384, old, LEN);
	raw_close(&r);
	free(old);
	free(bad);
}

/* Data-Out that cannot be placed (wrong offset, wrong DataSN) takes the
 * checked way and fails its task as before, with the LU unchanged. */
static void test_out_of_order_data_out_fails(void **state)
{
	(void)state;
	struct raw r;
	struct raw_opts o = {.initial_r2t = true, .immediate_data = false};
	login(&r, 7, &o);
	enum { LEN = 262144, HALF = LEN / 2 };
	uint8_t *old = malloc(LEN), *bad = malloc(LEN);
	assert_non_null(old);
	assert_non_null(bad);
	fill(old, LEN, 21);
	fill(bad, LEN, 22);
	write_big_pdus(&r, 0x50, 20480, old, LEN);
	for (int k = 0; k < 2; k++) {
		uint32_t itt = 0x51 + (uint32_t)k;
		struct stream s = {0};
		cmd_pdu(&s, &r, itt, 0x2a, 20480, LEN, NULL, 0, true);
		assert_int_equal(raw_send_all(r.fd, s.p, s.len), 0);
		struct raw_pdu p;
		assert_int_equal(raw_read(&r, &p, 5000), 0);
		assert_int_equal(p.bhs[0] & 0x3f, RAW_OP_R2T);
		uint32_t ttt = raw_get32(p.bhs + 20);
		raw_pdu_free(&p);
		s.len = 0;
		if (k == 0) { /* the second half first: an offset error */
			data_out_pdu(&s, &r, itt, ttt, 0, HALF, bad + HALF, HALF, false, false);
			data_out_pdu(&s, &r, itt, ttt, 1, 0, bad, HALF, true, false);
		} else { /* the right offsets, DataSN 1 first: a data phase error */
			data_out_pdu(&s, &r, itt, ttt, 1, 0, bad, HALF, false, false);
			data_out_pdu(&s, &r, itt, ttt, 2, HALF, bad + HALF, HALF, true, false);
		}
		assert_int_equal(raw_send_all(r.fd, s.p, s.len), 0);
		free(s.p);
		expect_aborted(&r, itt, k == 0 ? 0x4b05 : 0x4b00);
	}
	check_read(&r, 0x60, 20480, old, LEN);
	raw_close(&r);
	free(old);
	free(bad);
}

/* The task goes away while its Data-Out is half received in place: a
 * LOGICAL UNIT RESET from another session frees it. The rest of the data
 * is read and dropped, the PDU is rejected as data for no task, and the
 * connection stays in step (a ping after it is answered). */
static void test_task_gone_mid_data_out(void **state)
{
	(void)state;
	struct raw a, b;
	struct raw_opts o = {.initial_r2t = true, .immediate_data = false};
	login(&a, 8, &o);
	login(&b, 9, &o);
	enum { LEN = 262144 };
	uint8_t *buf = malloc(LEN);
	assert_non_null(buf);
	fill(buf, LEN, 31);
	struct stream s = {0};
	cmd_pdu(&s, &a, 0x70, 0x2a, 24576, LEN, NULL, 0, true);
	assert_int_equal(raw_send_all(a.fd, s.p, s.len), 0);
	struct raw_pdu p;
	assert_int_equal(raw_read(&a, &p, 5000), 0);
	assert_int_equal(p.bhs[0] & 0x3f, RAW_OP_R2T);
	uint32_t ttt = raw_get32(p.bhs + 20);
	raw_pdu_free(&p);
	s.len = 0;
	data_out_pdu(&s, &a, 0x70, ttt, 0, 0, buf, LEN, true, false);
	size_t half = 48 + LEN / 2;
	assert_int_equal(raw_send_all(a.fd, s.p, half), 0);
	usleep(100 * 1000); /* the target is receiving into the task now */

	uint8_t tmf[48] = {0};
	tmf[0] = 0x40 | 0x02;
	tmf[1] = 0x80 | 5; /* F, LOGICAL UNIT RESET */
	raw_put32(tmf + 16, 0x71);
	raw_put32(tmf + 20, RAW_RSVD_TAG);
	raw_put32(tmf + 24, b.cmdsn);
	raw_put32(tmf + 28, b.expstatsn);
	assert_int_equal(raw_send_all(b.fd, tmf, 48), 0);
	assert_int_equal(raw_read(&b, &p, 5000), 0);
	assert_int_equal(p.bhs[0] & 0x3f, 0x22);
	assert_int_equal(p.bhs[2], 0); /* Function complete */
	raw_pdu_free(&p);

	assert_int_equal(raw_send_all(a.fd, s.p + half, s.len - half), 0);
	free(s.p);
	s = (struct stream){0};
	nop_pdu(&s, &a, 0x72, (const uint8_t *)"ok", 2);
	assert_int_equal(raw_send_all(a.fd, s.p, s.len), 0);
	free(s.p);
	assert_int_equal(raw_read(&a, &p, 5000), 0);
	assert_int_equal(p.bhs[0] & 0x3f, RAW_OP_REJECT);
	assert_int_equal(p.bhs[2], 0x09); /* invalid PDU field: no such task */
	raw_pdu_free(&p);
	/* The rest was dropped in place, not buffered: rx.c says so. */
	assert_true(h_log_contains(&daemon_, "task went away while its data arrived"));
	assert_int_equal(raw_read(&a, &p, 5000), 0);
	assert_int_equal(p.bhs[0] & 0x3f, RAW_OP_NOP_IN);
	assert_int_equal(raw_get32(p.bhs + 16), 0x72);
	raw_pdu_free(&p);
	raw_close(&a);
	raw_close(&b);
	free(buf);
}

/* Pings with 64 KiB of data, 64 MiB of them in one go, and nothing read:
 * once the socket buffers are full the target stops reading past 4 MiB
 * of answers queued, with PDUs left in its buffer. Once we read, every
 * echo comes. */
static void test_paused_buffer_resumes(void **state)
{
	(void)state;
	struct raw r;
	struct raw_opts o = {.initial_r2t = true, .immediate_data = true};
	login(&r, 6, &o);
	enum { N = 1024, LEN = 65536 };
	uint8_t *ping = malloc(LEN);
	assert_non_null(ping);
	fill(ping, LEN, 11);
	struct stream s = {0};
	for (unsigned i = 0; i < N; i++)
		nop_pdu(&s, &r, 0x400 + i, ping, LEN);
	/* A writer thread would be tidier; a non-blocking send loop that
	 * reads nothing until the socket stops taking data does the same. */
	size_t off = 0;
	while (off < s.len) {
		ssize_t n = send(r.fd, s.p + off, s.len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		struct pollfd pf = {.fd = r.fd, .events = POLLOUT};
		if (poll(&pf, 1, 300) == 0)
			break; /* the target stopped reading: its queue is full */
	}
	/* Read everything, sending the rest as room appears. */
	unsigned got = 0;
	while (got < N) {
		if (off < s.len) {
			ssize_t n = send(r.fd, s.p + off, s.len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				off += (size_t)n;
		}
		struct raw_pdu p;
		assert_int_equal(raw_read(&r, &p, 5000), 0);
		assert_int_equal(p.bhs[0] & 0x3f, RAW_OP_NOP_IN);
		assert_int_equal(raw_get32(p.bhs + 16), 0x400 + got);
		assert_int_equal(p.dlen, LEN);
		assert_memory_equal(p.data, ping, LEN);
		raw_pdu_free(&p);
		got++;
	}
	/* The target did stop with whole PDUs buffered, and went on. */
	assert_true(h_log_contains(&daemon_, "answers drained, dispatching"));
	free(s.p);
	free(ping);
	raw_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_many_pdus_one_write),
	    cmocka_unit_test(test_split_everywhere_with_digests),
	    cmocka_unit_test(test_big_data_out),
	    cmocka_unit_test(test_digest_error_on_placed_data_out),
	    cmocka_unit_test(test_out_of_order_data_out_fails),
	    cmocka_unit_test(test_task_gone_mid_data_out),
	    cmocka_unit_test(test_paused_buffer_resumes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
