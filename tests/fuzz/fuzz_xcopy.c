/* libFuzzer target: the third-party copy codec. The input is decoded as an
 * EXTENDED COPY (LID1) parameter list, as the three RECEIVE COPY RESULTS
 * formats and searched as a Third-party Copy VPD page.
 *
 * An accepted parameter list must survive encode -> decode unchanged
 * (decode(encode(decode(x))) == decode(x)) and re-encode to the same bytes.
 * The bytes of x itself are not compared with encode(decode(x)): reserved
 * fields (header byte 1 bits 7..6 and bytes 4..7, CSCD bytes 6 and 24..27,
 * the designator's protocol identifier and PIV, designator bytes past its
 * length, device-specific bits other than PAD and FIXED, the segments'
 * reserved bytes), inline data contents and bytes past the lists are
 * ignored by the decoder, so they cannot come back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prkit/scsi_xcopy.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

#define MAX_DATA 60000

static struct prk_xcopy_list a, b;
static uint8_t enc[MAX_DATA + 64], enc2[MAX_DATA + 64];

static void check_err(const struct prk_field_err *e, size_t size)
{
	CHECK(!e->in_cdb && e->field != NULL);
	CHECK(e->bit >= -1 && e->bit <= 7);
	if (!e->has_ptr) {
		CHECK(e->asc == PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return;
	}
	CHECK(e->asc == PRK_ASC_INVALID_FIELD_IN_PARAM_LIST ||
	      e->asc == PRK_ASC_TOO_MANY_TARGET_DESCRIPTORS ||
	      e->asc == PRK_ASC_UNSUPPORTED_TARGET_DESCRIPTOR_TYPE ||
	      e->asc == PRK_ASC_TOO_MANY_SEGMENT_DESCRIPTORS ||
	      e->asc == PRK_ASC_UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE ||
	      e->asc == PRK_ASC_INLINE_DATA_LENGTH_EXCEEDED);
	CHECK(e->byte < size);
}

static void same_cscd(const struct prk_xcopy_cscd *x, const struct prk_xcopy_cscd *y)
{
	CHECK(x->off == y->off && x->lu_id_type == y->lu_id_type && x->nul == y->nul);
	CHECK(x->pdt == y->pdt && x->rel_init_port == y->rel_init_port);
	CHECK(x->code_set == y->code_set && x->assoc == y->assoc);
	CHECK(x->desig_type == y->desig_type && x->desig_len == y->desig_len);
	CHECK(memcmp(x->desig, y->desig, x->desig_len) == 0);
	CHECK(x->pad == y->pad && x->fixed == y->fixed && x->block_len == y->block_len);
}

static void same_seg(const struct prk_xcopy_seg *x, const struct prk_xcopy_seg *y)
{
	CHECK(x->off == y->off && x->type == y->type && x->desc_len == y->desc_len);
	CHECK(x->dst == y->dst);
	switch (x->type) {
	case PRK_XCOPY_SEG_B2B:
		CHECK(x->src == y->src && x->dc == y->dc && x->cat == y->cat);
		CHECK(x->n_blocks == y->n_blocks && x->src_lba == y->src_lba);
		CHECK(x->dst_lba == y->dst_lba);
		break;
	case PRK_XCOPY_SEG_REGKEY:
		CHECK(x->key == y->key && x->sa_key == y->sa_key);
		break;
	case PRK_XCOPY_SEG_3PR:
		CHECK(x->move_len == y->move_len);
		CHECK(memcmp(x->move, y->move, x->move_len) == 0);
		CHECK(x->move_p.key == y->move_p.key && x->move_p.sa_key == y->move_p.sa_key);
		CHECK(x->move_p.rtpi == y->move_p.rtpi && x->move_p.unreg == y->move_p.unreg);
		CHECK(x->move_p.aptpl == y->move_p.aptpl);
		CHECK(strcmp(x->move_p.move_tid.name, y->move_p.move_tid.name) == 0);
		CHECK(x->move_p.move_tid.isid == y->move_p.move_tid.isid);
		CHECK(x->move_p.move_tid.format == y->move_p.move_tid.format);
		break;
	default:
		CHECK(0);
	}
}

static void list(const uint8_t *data, size_t size, const struct prk_xcopy_limits *lim)
{
	struct prk_field_err err;
	size_t len, len2;

	memset(&err, 0, sizeof(err));
	if (prk_xcopy_decode(data, size, lim, &a, &err) < 0) {
		check_err(&err, size);
		return;
	}
	CHECK(a.n_cscd <= lim->max_cscd && a.n_seg <= lim->max_seg);
	CHECK(a.inline_len <= lim->max_inline);
	len = prk_xcopy_encode(&a, enc, sizeof(enc));
	/* Exactly the header and the three lists the input announced. */
	CHECK(len >= PRK_XCOPY_HDR_LEN && len <= size);
	CHECK(len == PRK_XCOPY_HDR_LEN + (size_t)a.n_cscd * PRK_XCOPY_CSCD_LEN +
	                 ((size_t)data[8] << 24 | (size_t)data[9] << 16 | (size_t)data[10] << 8 |
	                  data[11]) +
	                 a.inline_len);
	CHECK(prk_xcopy_decode(enc, len, lim, &b, &err) == 0);
	CHECK(a.list_id == b.list_id && a.list_id_usage == b.list_id_usage);
	CHECK(a.str == b.str && a.priority == b.priority && a.inline_len == b.inline_len);
	CHECK(a.n_cscd == b.n_cscd && a.n_seg == b.n_seg);
	for (uint16_t i = 0; i < a.n_cscd; i++)
		same_cscd(&a.cscd[i], &b.cscd[i]);
	for (uint16_t i = 0; i < a.n_seg; i++)
		same_seg(&a.seg[i], &b.seg[i]);
	len2 = prk_xcopy_encode(&b, enc2, sizeof(enc2));
	CHECK(len2 == len && memcmp(enc, enc2, len) == 0);
	/* A short buffer gets the prefix. */
	if (len > 1) {
		memset(enc2, 0xa5, len);
		CHECK(prk_xcopy_encode(&a, enc2, len / 2) == len);
		CHECK(memcmp(enc2, enc, len / 2) == 0 && enc2[len / 2] == 0xa5);
	}
}

static void results(const uint8_t *data, size_t size)
{
	struct prk_xcopy_status s, s2;
	struct prk_xcopy_opparams p, p2;
	static struct prk_xcopy_failed f, f2;
	struct prk_tid tid;
	uint16_t rtpi;
	uint8_t out[PRK_XCOPY_SENSE_MAX + 64];

	if (prk_rcr_status_decode(data, size, &s) == 0) {
		CHECK(prk_rcr_status_encode(&s, out, sizeof(out)) == 12);
		CHECK(prk_rcr_status_decode(out, 12, &s2) == 0);
		CHECK(memcmp(&s, &s2, sizeof(s)) == 0);
	}
	if (prk_rcr_opparams_decode(data, size, &p) == 0) {
		size_t n = prk_rcr_opparams_encode(&p, out, sizeof(out));

		CHECK(n == 44 + (size_t)p.n_impl && n <= sizeof(out));
		CHECK(prk_rcr_opparams_decode(out, n, &p2) == 0);
		CHECK(memcmp(&p, &p2, sizeof(p)) == 0);
	}
	if (prk_rcr_failed_decode(data, size, &f) == 0) {
		size_t n = prk_rcr_failed_encode(&f, out, sizeof(out));

		CHECK(f.sense_len <= PRK_XCOPY_SENSE_MAX && n == 60 + (size_t)f.sense_len);
		CHECK(prk_rcr_failed_decode(out, n, &f2) == 0);
		CHECK(f.status == f2.status && f.sense_len == f2.sense_len);
		CHECK(memcmp(f.sense, f2.sense, f.sense_len) == 0);
	}
	if (prk_vpd_3pc_cm_nexus(data, size, &tid, &rtpi) == 0) {
		static const struct prk_xcopy_opparams none;
		static uint8_t page[1024];
		struct prk_tid t2;
		uint16_t r2;
		size_t n;

		CHECK(prk_iscsi_name_valid(tid.name));
		/* What was found can be announced and found again. */
		n = prk_vpd_3pc_encode(0, &none, &tid, rtpi, page, sizeof(page));
		CHECK(n <= sizeof(page));
		CHECK(prk_vpd_3pc_cm_nexus(page, n, &t2, &r2) == 0);
		CHECK(r2 == rtpi && strcmp(t2.name, tid.name) == 0 && t2.isid == tid.isid);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The copy manager's limits, and the largest ones the struct holds
	 * with inline data allowed. */
	static const struct prk_xcopy_limits cm = {16, 64, 2048, 0};
	static const struct prk_xcopy_limits wide = {PRK_XCOPY_MAX_CSCD, PRK_XCOPY_MAX_SEG,
	                                             UINT32_MAX, 4096};
	uint8_t *copy;

	if (size > MAX_DATA)
		size = MAX_DATA;
	/* An exact-size heap copy, so that ASan sees any read past the end. */
	copy = malloc(size ? size : 1);
	CHECK(copy);
	if (size)
		memcpy(copy, data, size);
	list(copy, size, &cm);
	list(copy, size, &wide);
	results(copy, size);
	free(copy);
	return 0;
}
