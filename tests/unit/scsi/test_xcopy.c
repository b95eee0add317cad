/* Third-party copy wire codec: the EXTENDED COPY (LID1) parameter list
 * (every error with its field pointer and ASC), RECEIVE COPY RESULTS data,
 * COPY ABORTED sense data and the Third-party Copy VPD page. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "prkit/scsi_cdb.h"
#include "prkit/scsi_xcopy.h"

#include "scsi_test_util.h"

static const struct prk_xcopy_limits lim = {16, 64, 2048, 0};

static const uint8_t naa1[16] = {0x60, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t naa2[16] = {0x60, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* An E4h CSCD written byte by byte from SPC-4 6.4.5.2 (not by the encoder). */
static size_t raw_cscd(uint8_t *p, const uint8_t naa[16], uint8_t flags, uint32_t blk)
{
	memset(p, 0, 32);
	p[0] = 0xe4;
	p[1] = flags;
	put16(p + 2, 0);
	p[4] = 0x01; /* binary */
	p[5] = 0x03; /* assoc 0, NAA */
	p[7] = 16;
	memcpy(p + 8, naa, 16);
	p[29] = (uint8_t)(blk >> 16);
	p[30] = (uint8_t)(blk >> 8);
	p[31] = (uint8_t)blk;
	return 32;
}

static size_t raw_b2b(uint8_t *p, uint16_t src, uint16_t dst, uint16_t n, uint64_t sl, uint64_t dl)
{
	memset(p, 0, 28);
	p[0] = 0x02;
	put16(p + 2, 0x18);
	put16(p + 4, src);
	put16(p + 6, dst);
	put16(p + 10, n);
	put64(p + 12, sl);
	put64(p + 20, dl);
	return 28;
}

static size_t raw_regkey(uint8_t *p, uint16_t dst, uint64_t key, uint64_t sa_key)
{
	memset(p, 0, 28);
	p[0] = 0x14;
	put16(p + 2, 0x18);
	put16(p + 6, dst);
	put64(p + 8, key);
	put64(p + 16, sa_key);
	return 28;
}

static const char *host = "iqn.2026-12.io.example:backup";

static size_t raw_3pr(uint8_t *p, uint16_t dst)
{
	struct prk_tid t;
	size_t ml;

	make_tid(&t, PRK_TID_FMT_PORT, host, 0x23d000000001ULL);
	ml = prk_prout_params_encode_move(0xabcdULL, 0x1234ULL, false, false, 7, &t, p + 8, 512);
	memset(p, 0, 8);
	p[0] = 0x15;
	put16(p + 2, (uint32_t)(ml + 4));
	put16(p + 6, dst);
	return 8 + ml;
}

static size_t raw_hdr(uint8_t *p, uint8_t id, uint8_t flags, size_t cl, size_t sl, uint32_t il)
{
	memset(p, 0, 16);
	p[0] = id;
	p[1] = flags;
	put16(p + 2, (uint32_t)cl);
	put32(p + 8, (uint32_t)sl);
	put32(p + 12, il);
	return 16;
}

/* A full list: 3 CSCDs, segments 15h, 02h, 14h, 02h. */
static size_t full_list(uint8_t *b)
{
	size_t pos = 16, cl, sl;

	pos += raw_cscd(b + pos, naa1, 0x00, 512);
	pos += raw_cscd(b + pos, naa2, 0x00, 4096);
	pos += raw_cscd(b + pos, naa2, 0x01 | 0x20, 0x10000); /* PDT 01h, NUL */
	b[16 + 64 + 28] = 0x05;                               /* FIXED + PAD */
	cl = pos - 16;
	pos += raw_3pr(b + pos, 1);
	pos += raw_b2b(b + pos, 0, 1, 100, 5, 0x123456789aULL);
	b[pos - 28 + 1] = 0x03; /* DC, CAT */
	pos += raw_regkey(b + pos, 1, 0x1111, 0x2222);
	pos += raw_b2b(b + pos, 1, 0, 0xffff, 0, 1);
	sl = pos - 16 - cl;
	raw_hdr(b, 0x42, 0x20 | (2 << 3) | 5, cl, sl, 0);
	return pos;
}

static int dec(const uint8_t *b, size_t len, struct prk_xcopy_list *l, struct prk_field_err *e)
{
	memset(e, 0, sizeof(*e));
	return prk_xcopy_decode(b, len, &lim, l, e);
}

static struct prk_xcopy_list L, L2;

static void test_decode_full(void **state)
{
	uint8_t b[1024];
	size_t len = full_list(b);
	struct prk_field_err e;

	(void)state;
	assert_int_equal(dec(b, len, &L, &e), 0);
	assert_int_equal(L.list_id, 0x42);
	assert_true(L.str);
	assert_int_equal(L.list_id_usage, PRK_XCOPY_LIU_NO_HOLD);
	assert_int_equal(L.priority, 5);
	assert_int_equal(L.n_cscd, 3);
	assert_int_equal(L.cscd[0].off, 16);
	assert_int_equal(L.cscd[1].off, 48);
	assert_int_equal(L.cscd[0].code_set, 1);
	assert_int_equal(L.cscd[0].desig_type, 3);
	assert_int_equal(L.cscd[0].assoc, 0);
	assert_int_equal(L.cscd[0].desig_len, 16);
	assert_memory_equal(L.cscd[0].desig, naa1, 16);
	assert_memory_equal(L.cscd[1].desig, naa2, 16);
	assert_int_equal(L.cscd[0].block_len, 512);
	assert_int_equal(L.cscd[1].block_len, 4096);
	assert_false(L.cscd[0].nul);
	assert_true(L.cscd[2].nul);
	assert_int_equal(L.cscd[2].pdt, 1);
	assert_true(L.cscd[2].fixed);
	assert_true(L.cscd[2].pad);
	assert_int_equal(L.cscd[2].block_len, 0x10000);
	assert_int_equal(L.n_seg, 4);
	assert_int_equal(L.seg[0].type, PRK_XCOPY_SEG_3PR);
	assert_int_equal(L.seg[0].off, 112);
	assert_int_equal(L.seg[0].dst, 1);
	assert_ptr_equal(L.seg[0].move, b + 120);
	assert_int_equal(L.seg[0].move_len, L.seg[0].desc_len - 4);
	assert_int_equal(L.seg[0].move_p.key, 0xabcd);
	assert_int_equal(L.seg[0].move_p.sa_key, 0x1234);
	assert_int_equal(L.seg[0].move_p.rtpi, 7);
	assert_string_equal(L.seg[0].move_p.move_tid.name, host);
	assert_int_equal(L.seg[0].move_p.move_tid.isid, 0x23d000000001ULL);
	assert_int_equal(L.seg[1].type, PRK_XCOPY_SEG_B2B);
	assert_true(L.seg[1].dc);
	assert_true(L.seg[1].cat);
	assert_int_equal(L.seg[1].src, 0);
	assert_int_equal(L.seg[1].dst, 1);
	assert_int_equal(L.seg[1].n_blocks, 100);
	assert_int_equal(L.seg[1].src_lba, 5);
	assert_int_equal(L.seg[1].dst_lba, 0x123456789aULL);
	assert_int_equal(L.seg[2].type, PRK_XCOPY_SEG_REGKEY);
	assert_int_equal(L.seg[2].dst, 1);
	assert_int_equal(L.seg[2].key, 0x1111);
	assert_int_equal(L.seg[2].sa_key, 0x2222);
	assert_int_equal(L.seg[3].n_blocks, 0xffff);
	assert_false(L.seg[3].dc);
	assert_int_equal(L.inline_len, 0);
	/* Trailing bytes past the lists are ignored. */
	assert_int_equal(dec(b, len + 7, &L, &e), 0);
	assert_int_equal(L.n_seg, 4);
}

static void test_encode_round_trip(void **state)
{
	uint8_t b[1024], enc[1024];
	size_t len = full_list(b);
	struct prk_field_err e;

	(void)state;
	assert_int_equal(dec(b, len, &L, &e), 0);
	/* The hand-written list has no reserved bits set: the encoder gives
	 * back exactly its bytes. */
	assert_int_equal(prk_xcopy_encode(&L, enc, sizeof(enc)), len);
	assert_memory_equal(enc, b, len);
	/* Truncation at every cap: the prefix, full length returned. */
	for (size_t cap = 0; cap <= len; cap++) {
		uint8_t t[1024];

		memset(t, GUARD, sizeof(t));
		assert_int_equal(prk_xcopy_encode(&L, t, cap), len);
		assert_memory_equal(t, b, cap);
		assert_int_equal(t[cap], GUARD);
	}
	/* Built from the struct side. */
	memset(&L2, 0, sizeof(L2));
	L2.list_id_usage = PRK_XCOPY_LIU_NONE;
	L2.n_cscd = 2;
	prk_xcopy_cscd_naa(&L2.cscd[0], naa1, 0, 512);
	prk_xcopy_cscd_naa(&L2.cscd[1], naa2, 1, 0);
	L2.n_seg = 2;
	L2.seg[0].type = PRK_XCOPY_SEG_B2B;
	L2.seg[0].src = 0;
	L2.seg[0].dst = 1;
	L2.seg[0].n_blocks = 8;
	L2.seg[0].src_lba = 1;
	L2.seg[0].dst_lba = 2;
	L2.seg[1] = L.seg[0]; /* the 15h */
	len = prk_xcopy_encode(&L2, enc, sizeof(enc));
	assert_int_equal(len, 16 + 64 + 28 + L.seg[0].desc_len + 4);
	assert_int_equal(dec(enc, len, &L, &e), 0);
	assert_int_equal(L.list_id_usage, PRK_XCOPY_LIU_NONE);
	assert_int_equal(L.n_cscd, 2);
	assert_int_equal(L.cscd[1].pdt, 1);
	assert_memory_equal(L.cscd[1].desig, naa2, 16);
	assert_int_equal(L.cscd[0].block_len, 512);
	assert_int_equal(L.seg[0].n_blocks, 8);
	assert_int_equal(L.seg[0].dst_lba, 2);
	assert_int_equal(L.seg[1].move_p.key, 0xabcd);
	/* Not encodable. */
	L2.seg[1].move_len -= 2;
	assert_int_equal(prk_xcopy_encode(&L2, enc, sizeof(enc)), 0);
	L2.seg[1].move_len += 2;
	L2.seg[0].type = 0x03;
	assert_int_equal(prk_xcopy_encode(&L2, enc, sizeof(enc)), 0);
	L2.seg[0].type = 0x02;
	L2.n_cscd = PRK_XCOPY_MAX_CSCD + 1;
	assert_int_equal(prk_xcopy_encode(&L2, enc, sizeof(enc)), 0);
	/* Inline data: zeros of that length. */
	L2.n_cscd = 1;
	L2.n_seg = 0;
	L2.inline_len = 100;
	assert_int_equal(prk_xcopy_encode(&L2, enc, sizeof(enc)), 16 + 32 + 100);
	assert_int_equal(prk_xcopy_encode(&L2, enc, 20), 16 + 32 + 100);
}

#define assert_len_err(e_)                                                                         \
	do {                                                                                       \
		assert_false((e_).has_ptr);                                                        \
		assert_int_equal((e_).asc, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);                   \
	} while (0)

static void test_length_errors(void **state)
{
	uint8_t b[4096] = {0};
	size_t len = full_list(b);
	struct prk_field_err e;
	struct prk_xcopy_limits small = lim;

	(void)state;
	for (size_t l = 0; l < len; l++) {
		assert_int_equal(dec(b, l, &L, &e), -1);
		assert_len_err(e);
	}
	/* The descriptor lists exceed MAXIMUM DESCRIPTOR LIST LENGTH. */
	small.max_list_len = (uint32_t)(len - 16 - 1);
	memset(&e, 0, sizeof(e));
	assert_int_equal(prk_xcopy_decode(b, len, &small, &L, &e), -1);
	assert_len_err(e);
	small.max_list_len = (uint32_t)(len - 16);
	assert_int_equal(prk_xcopy_decode(b, len, &small, &L, &e), 0);
	/* Lengths that would overflow 32 bits. */
	raw_hdr(b, 0, 0, 0xffff, 0xffffffff, 0xffffffff);
	assert_int_equal(dec(b, len, &L, &e), -1);
	assert_len_err(e);
}

static void test_header_errors(void **state)
{
	uint8_t b[1024];
	size_t len = full_list(b);
	struct prk_field_err e;
	struct prk_xcopy_limits il = lim;

	(void)state;
	b[1] = (uint8_t)((b[1] & ~0x18) | (1 << 3));
	assert_int_equal(dec(b, len, &L, &e), -1);
	assert_perr(e, 1, 4, "LIST ID USAGE");
	b[1] = (uint8_t)(b[1] | 0x18); /* 11b with list id 42h */
	assert_int_equal(dec(b, len, &L, &e), -1);
	assert_perr(e, 0, -1, "LIST IDENTIFIER");
	b[0] = 0;
	assert_int_equal(dec(b, len, &L, &e), 0);
	/* Inline data. */
	put32(b + 12, 4);
	assert_int_equal(dec(b, len + 4, &L, &e), -1);
	assert_ferr(e, false, 12, -1, PRK_ASC_INLINE_DATA_LENGTH_EXCEEDED, "INLINE DATA LENGTH");
	il.max_inline = 4;
	assert_int_equal(prk_xcopy_decode(b, len + 4, &il, &L, &e), 0);
	assert_int_equal(L.inline_len, 4);
}

/* libiscsi's DescrLimits: max+1 CSCDs, max+1 segments, both. */
static void test_too_many(void **state)
{
	static uint8_t b[16 + 17 * 32 + 65 * 28];
	struct prk_field_err e;
	struct prk_xcopy_limits big = lim;
	size_t pos = 16, cl;

	(void)state;
	big.max_list_len = 2304;
	for (int i = 0; i < 17; i++)
		pos += raw_cscd(b + pos, naa1, 0, 512);
	cl = pos - 16;
	pos += raw_b2b(b + pos, 0, 0, 1, 0, 1);
	raw_hdr(b, 1, 0, cl, 28, 0);
	assert_int_equal(prk_xcopy_decode(b, pos, &big, &L, &e), -1);
	assert_ferr(e, false, 2, -1, PRK_ASC_TOO_MANY_TARGET_DESCRIPTORS,
	            "CSCD DESCRIPTOR LIST LENGTH");
	/* Exactly 16: fine. */
	memmove(b + 16 + 16 * 32, b + 16 + 17 * 32, 28);
	raw_hdr(b, 1, 0, 16 * 32, 28, 0);
	assert_int_equal(prk_xcopy_decode(b, pos - 32, &big, &L, &e), 0);
	assert_int_equal(L.n_cscd, 16);

	pos = 16 + raw_cscd(b + 16, naa1, 0, 512);
	for (int i = 0; i < 65; i++)
		pos += raw_b2b(b + pos, 0, 0, 1, 0, 1);
	raw_hdr(b, 2, 0, 32, 65 * 28, 0);
	assert_int_equal(prk_xcopy_decode(b, pos, &big, &L, &e), -1);
	assert_ferr(e, false, 8, -1, PRK_ASC_TOO_MANY_SEGMENT_DESCRIPTORS,
	            "SEGMENT DESCRIPTOR LIST LENGTH");
	raw_hdr(b, 2, 0, 32, 64 * 28, 0);
	assert_int_equal(prk_xcopy_decode(b, pos - 28, &big, &L, &e), 0);
	assert_int_equal(L.n_seg, 64);

	/* Both too many and too long: the length wins. */
	pos = 16;
	for (int i = 0; i < 17; i++)
		pos += raw_cscd(b + pos, naa1, 0, 512);
	for (int i = 0; i < 65; i++)
		pos += raw_b2b(b + pos, 0, 0, 1, 0, 1);
	raw_hdr(b, 3, 0, 17 * 32, 65 * 28, 0);
	assert_int_equal(prk_xcopy_decode(b, pos, &big, &L, &e), -1);
	assert_len_err(e);
}

static void test_descriptor_errors(void **state)
{
	uint8_t b[1024], c[1024];
	size_t len = full_list(b);
	struct prk_field_err e;

	(void)state;
	/* libiscsi DescrType: an FC N_Port_Name CSCD (E0h). */
	memcpy(c, b, len);
	c[48] = 0xe0;
	assert_int_equal(dec(c, len, &L, &e), -1);
	assert_ferr(e, false, 48, -1, PRK_ASC_UNSUPPORTED_TARGET_DESCRIPTOR_TYPE,
	            "DESCRIPTOR TYPE CODE");
	/* libiscsi ValidTgtDescr: reserved LU ID TYPE 10b (and 11b) is
	 * ignored in an E4h descriptor (SPC-4), kept for the record. */
	memcpy(c, b, len);
	c[48 + 1] = 0x80;
	assert_int_equal(dec(c, len, &L, &e), 0);
	assert_int_equal(L.cscd[1].lu_id_type, 2);
	c[48 + 1] = 0xc0;
	assert_int_equal(dec(c, len, &L, &e), 0);
	assert_int_equal(L.cscd[1].lu_id_type, 3);
	c[48 + 1] = 0x40 | 0x20; /* proxy token + NUL: the copy manager's */
	assert_int_equal(dec(c, len, &L, &e), 0);
	assert_int_equal(L.cscd[1].lu_id_type, 1);
	assert_true(L.cscd[1].nul);
	memcpy(c, b, len);
	c[48 + 7] = 17;
	assert_int_equal(dec(c, len, &L, &e), -1);
	assert_perr(e, 55, -1, "DESIGNATOR LENGTH");
	/* CSCD list length not a multiple of 32: the last E4h is cut. */
	memcpy(c, b, len);
	put16(c + 2, 95);
	put32(c + 8, (uint32_t)(len - 16 - 95));
	assert_int_equal(dec(c, len, &L, &e), -1);
	assert_perr(e, 2, -1, "CSCD DESCRIPTOR LIST LENGTH");

	/* libiscsi DescrType: a stream-to-stream (03h) segment. */
	assert_int_equal(dec(b, len, &L, &e), 0);
	size_t s1 = L.seg[1].off, s2 = L.seg[2].off, s3 = L.seg[3].off;

	memcpy(c, b, len);
	c[s1] = 0x03;
	assert_int_equal(dec(c, len, &L, &e), -1);
	assert_ferr(e, false, s1, -1, PRK_ASC_UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE,
	            "DESCRIPTOR TYPE CODE");
	/* 02h and 14h: DESCRIPTOR LENGTH 0018h only. */
	memcpy(c, b, len);
	put16(c + s1 + 2, 0x14);
	assert_int_equal(dec(c, len, &L, &e), -1);
	assert_perr(e, s1 + 2, -1, "DESCRIPTOR LENGTH");
	memcpy(c, b, len);
	put16(c + s2 + 2, 0x1c);
	assert_int_equal(dec(c, len, &L, &e), -1);
	assert_perr(e, s2 + 2, -1, "DESCRIPTOR LENGTH");
	/* A descriptor running past the segment list. */
	memcpy(c, b, len);
	put16(c + s3 + 2, 0x18 + 4);
	assert_int_equal(dec(c, len, &L, &e), -1);
	assert_perr(e, s3 + 2, -1, "DESCRIPTOR LENGTH");
	/* A list that ends inside a segment header. */
	memcpy(c, b, len);
	put32(c + 8, (uint32_t)(len - 16 - 96 + 2));
	assert_int_equal(dec(c, len + 2, &L, &e), -1);
	assert_perr(e, 8, -1, "SEGMENT DESCRIPTOR LIST LENGTH");
}

static void test_3pr_errors(void **state)
{
	uint8_t b[1024], c[1024];
	size_t len = full_list(b);
	struct prk_field_err e;
	size_t s0 = 112, dl;

	(void)state;
	dl = (size_t)b[s0 + 2] << 8 | b[s0 + 3];
	/* Not a multiple of 4. */
	memcpy(c, b, len);
	put16(c + s0 + 2, (uint32_t)dl - 2);
	assert_int_equal(dec(c, len, &L, &e), -1);
	assert_perr(e, s0 + 2, -1, "DESCRIPTOR LENGTH");
	/* Shorter than the REGISTER AND MOVE header. */
	{
		uint8_t d[256];
		size_t p = 16 + raw_cscd(d + 16, naa1, 0, 512);

		memset(d + p, 0, 24);
		d[p] = 0x15;
		put16(d + p + 2, 20);
		raw_hdr(d, 0, 0, 32, 24, 0);
		assert_int_equal(dec(d, p + 24, &L, &e), -1);
		assert_perr(e, p + 2, -1, "DESCRIPTOR LENGTH");
	}
	/* The inner TRANSPORTID PARAMETER DATA LENGTH disagrees with the
	 * descriptor: 26/00 at the inner field, offset into the whole list. */
	memcpy(c, b, len);
	put32(c + s0 + 8 + 20, (uint32_t)(dl - 4 - 24 + 4));
	assert_int_equal(dec(c, len, &L, &e), -1);
	assert_perr(e, s0 + 8 + 20, -1, "TRANSPORTID PARAMETER DATA LENGTH");
	/* A bad TransportID protocol identifier. */
	memcpy(c, b, len);
	c[s0 + 8 + 24] = 0x41;
	assert_int_equal(dec(c, len, &L, &e), -1);
	assert_false(e.in_cdb);
	assert_int_equal(e.asc, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	assert_int_equal(e.byte, s0 + 8 + 24);
}

/* A 15h whose DESCRIPTOR LENGTH is 0 at the very end of the data: the
 * decoder must not read its DESTINATION CSCD DESCRIPTOR ID (past the end;
 * found by fuzz_xcopy). The list is in an exact-size heap buffer so that
 * the sanitizer build sees any read past it. */
static void test_3pr_short_at_end(void **state)
{
	static const uint8_t in[20] = {0, 0, 0, 0, 0, 0, 0,    0, 0, 0,
	                               0, 4, 0, 0, 0, 0, 0x15, 0, 0, 0};
	uint8_t *b = malloc(sizeof(in)); /* not test_malloc: its guard bytes would hide the read */
	struct prk_field_err e;

	(void)state;
	memcpy(b, in, sizeof(in));
	assert_int_equal(dec(b, sizeof(in), &L, &e), -1);
	assert_perr(e, 18, -1, "DESCRIPTOR LENGTH");
	free(b);
}

static void test_cdbs(void **state)
{
	uint8_t cdb[16];
	static const uint8_t x[16] = {0x83, 0, 0,    0,    0,    0,    0, 0,
	                              0,    0, 0x01, 0x02, 0x03, 0x04, 0, 0};
	static const uint8_t r[16] = {0x84, 0x04, 0x42, 0, 0,    0,    0, 0,
	                              0,    0,    0,    0, 0x10, 0x00, 0, 0};

	(void)state;
	memset(cdb, GUARD, sizeof(cdb));
	prk_xcopy_cdb_encode(0x01020304, cdb);
	assert_memory_equal(cdb, x, 16);
	memset(cdb, GUARD, sizeof(cdb));
	prk_rcr_cdb_encode(PRK_RCR_SA_FAILED_SEG, 0x42, 4096, cdb);
	assert_memory_equal(cdb, r, 16);
}

static void test_copy_status(void **state)
{
	struct prk_xcopy_status s = {0}, d;
	uint8_t b[16], t[16];
	static const uint8_t want[12] = {0, 0, 0, 8, 0x82, 0x01, 0x02, 0x02, 0, 0, 0x04, 0};

	(void)state;
	s.status = PRK_XCOPY_ST_FAILED;
	s.hdd = true;
	s.segs_done = 0x102;
	prk_xcopy_status_set_bytes(&s, 1024ULL * 1024 * 1024); /* 1 GiB still fits in bytes */
	assert_int_equal(s.units, 0);
	assert_int_equal(s.count, 1u << 30);
	prk_xcopy_status_set_bytes(&s, 5ULL << 32);
	assert_int_equal(s.units, 1);
	assert_int_equal(s.count, 5u << 22);
	prk_xcopy_status_set_bytes(&s, UINT64_MAX);
	assert_int_equal(s.units, 4); /* 2^64 - 1 bytes: 2^24 - 1 TiB */
	assert_int_equal(s.count, (uint32_t)(UINT64_MAX >> 40));
	prk_xcopy_status_set_bytes(&s, (uint64_t)UINT32_MAX);
	assert_int_equal(s.units, 0);
	prk_xcopy_status_set_bytes(&s, (uint64_t)UINT32_MAX + 1);
	assert_int_equal(s.units, 1);
	prk_xcopy_status_set_bytes(&s, 1024ULL * 1024 * 1024 * 1024);
	assert_int_equal(s.units, 1);
	s.units = 2;
	s.count = 1024;
	assert_int_equal(prk_rcr_status_encode(&s, b, sizeof(b)), 12);
	assert_memory_equal(b, want, 12);
	assert_int_equal(prk_rcr_status_decode(b, 12, &d), 0);
	assert_int_equal(d.status, PRK_XCOPY_ST_FAILED);
	assert_true(d.hdd);
	assert_int_equal(d.segs_done, 0x102);
	assert_int_equal(d.units, 2);
	assert_int_equal(d.count, 1024);
	assert_int_equal(prk_rcr_status_decode(b, 11, &d), -1);
	b[3] = 7;
	assert_int_equal(prk_rcr_status_decode(b, 12, &d), -1);
	for (size_t cap = 0; cap < 12; cap++) {
		memset(t, GUARD, sizeof(t));
		assert_int_equal(prk_rcr_status_encode(&s, t, cap), 12);
		assert_memory_equal(t, want, cap);
		assert_int_equal(t[cap], GUARD);
	}
}

static struct prk_xcopy_opparams cm_params(void)
{
	struct prk_xcopy_opparams p = {0};

	p.snlid = true;
	p.max_cscd = 16;
	p.max_seg = 64;
	p.max_list_len = 2048;
	p.max_seg_len = 65535u * 512;
	p.total_concurrent = 32;
	p.max_concurrent = 32;
	p.n_impl = 4;
	p.impl[0] = 0xe4;
	p.impl[1] = 0x02;
	p.impl[2] = 0x15;
	p.impl[3] = 0x14;
	return p;
}

static void test_op_params(void **state)
{
	struct prk_xcopy_opparams p = cm_params(), d;
	uint8_t b[80], t[80];

	(void)state;
	assert_int_equal(prk_rcr_opparams_encode(&p, b, sizeof(b)), 48);
	assert_int_equal(b[3], 44);
	assert_int_equal(b[4], 1);
	assert_int_equal(b[9], 16);
	assert_int_equal(b[11], 64);
	assert_int_equal(b[14], 0x08);
	assert_int_equal(b[35], 32);
	assert_int_equal(b[36], 32);
	assert_int_equal(b[43], 4);
	assert_int_equal(b[44], 0xe4);
	assert_int_equal(prk_rcr_opparams_decode(b, 48, &d), 0);
	assert_memory_equal(&d, &p, sizeof(p));
	/* Cut by the allocation length: the codes present. */
	assert_int_equal(prk_rcr_opparams_decode(b, 46, &d), 0);
	assert_int_equal(d.n_impl, 2);
	assert_int_equal(prk_rcr_opparams_decode(b, 43, &d), -1);
	for (size_t cap = 0; cap < 48; cap++) {
		memset(t, GUARD, sizeof(t));
		assert_int_equal(prk_rcr_opparams_encode(&p, t, cap), 48);
		assert_memory_equal(t, b, cap);
		assert_int_equal(t[cap], GUARD);
	}
}

static void test_failed_details(void **state)
{
	struct prk_xcopy_failed f = {0}, d;
	uint8_t b[200], t[200];

	(void)state;
	f.status = PRK_STATUS_CHECK_CONDITION;
	f.sense_len = 20;
	for (int i = 0; i < 20; i++)
		f.sense[i] = (uint8_t)(0x70 + i);
	assert_int_equal(prk_rcr_failed_encode(&f, b, sizeof(b)), 80);
	assert_int_equal(b[3], 76);
	assert_int_equal(b[56], 2);
	assert_int_equal(b[59], 20);
	assert_int_equal(b[60], 0x70);
	assert_int_equal(prk_rcr_failed_decode(b, 80, &d), 0);
	assert_int_equal(d.status, 2);
	assert_int_equal(d.sense_len, 20);
	assert_memory_equal(d.sense, f.sense, 20);
	assert_int_equal(prk_rcr_failed_decode(b, 70, &d), 0);
	assert_int_equal(d.sense_len, 10);
	assert_int_equal(prk_rcr_failed_decode(b, 59, &d), -1);
	for (size_t cap = 0; cap < 80; cap++) {
		memset(t, GUARD, sizeof(t));
		assert_int_equal(prk_rcr_failed_encode(&f, t, cap), 80);
		assert_memory_equal(t, b, cap);
		assert_int_equal(t[cap], GUARD);
	}
}

static void test_abort_fixed(void **state)
{
	struct prk_xcopy_abort a = {0};
	struct prk_sense s;
	uint8_t b[PRK_XCOPY_SENSE_MAX], t[PRK_XCOPY_SENSE_MAX + 1];
	size_t len;

	(void)state;
	a.asc = PRK_ASC_COPY_TARGET_NOT_REACHABLE;
	a.seg = 0x0103;
	a.has_ptr = true;
	a.sd = true;
	a.bit = -1;
	a.field = 4;
	len = prk_xcopy_abort_encode(&a, false, b, sizeof(b));
	assert_int_equal(len, 18);
	assert_int_equal(prk_sense_decode(b, len, &s), 0);
	assert_int_equal(s.key, PRK_SK_COPY_ABORTED);
	assert_int_equal(s.asc, 0x0d);
	assert_int_equal(s.ascq, 0x02);
	assert_true(s.sksv);
	assert_int_equal(s.field, 4);
	assert_false(s.has_info);
	assert_int_equal(b[8], 0);  /* no source sense */
	assert_int_equal(b[9], 0);  /* no destination sense */
	assert_int_equal(b[10], 1); /* SEGMENT NUMBER */
	assert_int_equal(b[11], 3);
	assert_int_equal(b[15], 0x80 | 0x20); /* SKSV, SD, no BPV */

	/* With the destination's sense forwarded. */
	a.sd = false;
	a.bit = 5;
	a.from_dst = true;
	a.asc = PRK_ASC_THIRD_PARTY_INITIATOR_ERROR;
	a.cscd_sense_len = 18;
	memset(a.cscd_sense, 0, 18);
	a.cscd_sense[0] = 0x70;
	a.cscd_sense[2] = PRK_SK_ILLEGAL_REQUEST;
	a.cscd_sense[7] = 10;
	a.cscd_sense[12] = 0x21;
	len = prk_xcopy_abort_encode(&a, false, b, sizeof(b));
	assert_int_equal(len, 18 + 1 + 18);
	assert_int_equal(b[7], len - 8);
	assert_int_equal(b[8], 0);
	assert_int_equal(b[9], 18);
	assert_int_equal(b[18], PRK_STATUS_CHECK_CONDITION);
	assert_memory_equal(b + 19, a.cscd_sense, 18);
	assert_int_equal(b[15], 0x80 | 0x08 | 5);
	assert_int_equal(prk_sense_decode(b, len, &s), 0);
	assert_int_equal(s.key, PRK_SK_COPY_ABORTED);
	assert_int_equal(s.asc, 0x0d);
	assert_int_equal(s.ascq, 0x00);
	assert_true(s.bpv);
	assert_int_equal(s.bit, 5);
	/* The forwarded sense decodes as the CSCD's. */
	assert_int_equal(prk_sense_decode(b + b[9] + 1, len - b[9] - 1, &s), 0);
	assert_int_equal(s.key, PRK_SK_ILLEGAL_REQUEST);
	assert_int_equal(s.asc, 0x21);
	a.from_dst = false;
	len = prk_xcopy_abort_encode(&a, false, b, sizeof(b));
	assert_int_equal(b[8], 18);
	assert_int_equal(b[9], 0);
	for (size_t cap = 0; cap < len; cap++) {
		memset(t, GUARD, sizeof(t));
		assert_int_equal(prk_xcopy_abort_encode(&a, false, t, cap), len);
		assert_memory_equal(t, b, cap);
		assert_int_equal(t[cap], GUARD);
	}
}

static void test_abort_desc(void **state)
{
	struct prk_xcopy_abort a = {0};
	struct prk_sense s;
	uint8_t b[PRK_XCOPY_SENSE_MAX], t[PRK_XCOPY_SENSE_MAX + 1];
	size_t len;

	(void)state;
	a.asc = PRK_ASC_INVALID_OPERATION_FOR_COPY;
	a.seg = 2;
	len = prk_xcopy_abort_encode(&a, true, b, sizeof(b));
	assert_int_equal(len, 8 + 12);
	assert_int_equal(prk_sense_decode(b, len, &s), 0);
	assert_int_equal(s.key, PRK_SK_COPY_ABORTED);
	assert_int_equal(s.asc, 0x26);
	assert_int_equal(s.ascq, 0x0c);
	assert_false(s.sksv);
	assert_int_equal(b[8], 0x01); /* command-specific information */
	assert_int_equal(b[9], 0x0a);
	assert_int_equal(b[16], 0); /* offsets: sense is in a descriptor */
	assert_int_equal(b[17], 0);
	assert_int_equal(b[18], 0);
	assert_int_equal(b[19], 2);

	a.has_ptr = true;
	a.sd = true;
	a.bit = -1;
	a.field = 6;
	a.from_dst = true;
	a.cscd_sense_len = 18;
	a.cscd_sense[0] = 0x70;
	a.cscd_sense[2] = PRK_SK_MEDIUM_ERROR;
	a.cscd_sense[7] = 10;
	len = prk_xcopy_abort_encode(&a, true, b, sizeof(b));
	assert_int_equal(len, 8 + 12 + 8 + 4 + 18);
	assert_int_equal(b[7], len - 8);
	assert_int_equal(b[20], 0x02); /* sense key specific */
	assert_int_equal(b[24], 0x80 | 0x20);
	assert_int_equal(b[26], 6);
	assert_int_equal(b[28], 0x0c); /* forwarded sense data */
	assert_int_equal(b[29], 2 + 18);
	assert_int_equal(b[30], 0x02); /* SENSE DATA SOURCE: destination */
	assert_int_equal(b[31], PRK_STATUS_CHECK_CONDITION);
	assert_memory_equal(b + 32, a.cscd_sense, 18);
	assert_int_equal(prk_sense_decode(b, len, &s), 0);
	assert_int_equal(s.key, PRK_SK_COPY_ABORTED);
	assert_true(s.sksv);
	assert_int_equal(s.field, 6);
	a.from_dst = false;
	len = prk_xcopy_abort_encode(&a, true, b, sizeof(b));
	assert_int_equal(b[30], 0x01);
	/* The largest: still within PRK_XCOPY_SENSE_MAX. */
	a.cscd_sense_len = sizeof(a.cscd_sense);
	len = prk_xcopy_abort_encode(&a, true, b, sizeof(b));
	assert_true(len <= PRK_XCOPY_SENSE_MAX);
	assert_true(prk_xcopy_abort_encode(&a, false, t, sizeof(t)) <= PRK_XCOPY_SENSE_MAX);
	for (size_t cap = 0; cap < len; cap++) {
		memset(t, GUARD, sizeof(t));
		assert_int_equal(prk_xcopy_abort_encode(&a, true, t, cap), len);
		assert_memory_equal(t, b, cap);
		assert_int_equal(t[cap], GUARD);
	}
}

static void test_vpd_3pc(void **state)
{
	struct prk_xcopy_opparams p = cm_params();
	struct prk_tid cm, got;
	uint8_t b[512], t[512];
	size_t len, pos;
	uint16_t rtpi = 0, last = 0;
	int n = 0;

	(void)state;
	make_tid(&cm, PRK_TID_FMT_PORT, "iqn.2026-12.io.prkit:copy-manager", 1);
	len = prk_vpd_3pc_encode(0, &p, &cm, 65535, b, sizeof(b));
	assert_int_equal(b[1], 0x8f);
	assert_int_equal(((size_t)b[2] << 8 | b[3]) + 4, len);
	/* Descriptors ascending, lengths multiples of 4, laid out per SPC-4. */
	for (pos = 4; pos < len; n++) {
		uint16_t type = (uint16_t)(b[pos] << 8 | b[pos + 1]);
		size_t dl = (size_t)b[pos + 2] << 8 | b[pos + 3];

		assert_true(n == 0 || type > last);
		assert_int_equal(dl % 4, 0);
		if (type == 0x0001) {
			static const uint8_t cmds[] = {8, 0x83, 1, 0, 0x84, 3, 0, 3, 4};

			assert_memory_equal(b + pos + 4, cmds, sizeof(cmds));
		} else if (type == 0x0004) {
			assert_int_equal(dl, 0x1c);
			assert_int_equal(b[pos + 9], 16);
			assert_int_equal(b[pos + 11], 64);
			assert_int_equal(b[pos + 14], 0x08);
		} else if (type == 0x0008) {
			static const uint8_t codes[] = {4, 0x02, 0x14, 0x15, 0xe4};

			assert_memory_equal(b + pos + 4, codes, sizeof(codes));
		} else if (type == 0x000c) {
			assert_int_equal(b[pos + 4], 0);
			assert_int_equal(b[pos + 5], 0);
		} else if (type == 0x8001) {
			assert_int_equal(dl, 0x20);
			assert_int_equal(b[pos + 7], 32);
			assert_int_equal(b[pos + 11], 32);
		} else {
			assert_int_equal(type, PRK_VPD_3PC_CM_NEXUS);
			assert_int_equal(b[pos + 4], 0xff);
			assert_int_equal(b[pos + 5], 0xff);
			assert_int_equal(b[pos + 8], 0x45); /* TransportID format 01b */
		}
		last = type;
		pos += 4 + dl;
	}
	assert_int_equal(pos, len);
	assert_int_equal(n, 6);
	assert_int_equal(prk_vpd_3pc_cm_nexus(b, len, &got, &rtpi), 0);
	assert_int_equal(rtpi, 65535);
	assert_string_equal(got.name, cm.name);
	assert_int_equal(got.format, PRK_TID_FMT_PORT);
	assert_int_equal(got.isid, 1);
	/* Cut by the allocation length: not found rather than misread. */
	assert_int_equal(prk_vpd_3pc_cm_nexus(b, len - 1, &got, &rtpi), -1);
	assert_int_equal(prk_vpd_3pc_cm_nexus(b, 3, &got, &rtpi), -1);
	b[1] = 0x83;
	assert_int_equal(prk_vpd_3pc_cm_nexus(b, len, &got, &rtpi), -1);
	b[1] = 0x8f;
	for (size_t cap = 0; cap < len; cap++) {
		memset(t, GUARD, sizeof(t));
		assert_int_equal(prk_vpd_3pc_encode(0, &p, &cm, 65535, t, cap), len);
		assert_memory_equal(t, b, cap);
		assert_int_equal(t[cap], GUARD);
	}
	/* Without the CM's nexus. */
	len = prk_vpd_3pc_encode(0, &p, NULL, 0, b, sizeof(b));
	assert_int_equal(prk_vpd_3pc_cm_nexus(b, len, &got, &rtpi), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_full),   cmocka_unit_test(test_encode_round_trip),
	    cmocka_unit_test(test_length_errors), cmocka_unit_test(test_header_errors),
	    cmocka_unit_test(test_too_many),      cmocka_unit_test(test_descriptor_errors),
	    cmocka_unit_test(test_3pr_errors),    cmocka_unit_test(test_3pr_short_at_end),
	    cmocka_unit_test(test_cdbs),          cmocka_unit_test(test_copy_status),
	    cmocka_unit_test(test_op_params),     cmocka_unit_test(test_failed_details),
	    cmocka_unit_test(test_abort_fixed),   cmocka_unit_test(test_abort_desc),
	    cmocka_unit_test(test_vpd_3pc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
