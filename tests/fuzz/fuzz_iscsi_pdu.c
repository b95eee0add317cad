/* libFuzzer target: every BHS decoder over an arbitrary 48-byte header, and
 * encode/decode round trips of whatever decodes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pdu.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

/* decode(x) -> encode -> decode -> encode must be a fixed point: the second
 * decode equals the first up to the bits the encoder normalises (reserved
 * bits in byte 1, fields RFC 7143 reserves for the opcode). */
#define ROUND_TRIP(type, dec, enc, fix)                                                            \
	do {                                                                                       \
		struct type a, b;                                                                  \
		uint8_t e1[PRK_ISCSI_BHS_LEN], e2[PRK_ISCSI_BHS_LEN], reason = 0;                  \
		if (dec(bhs, &a, &reason) == 0) {                                                  \
			enc(&a, e1);                                                               \
			CHECK(dec(e1, &b, &reason) == 0);                                          \
			b.h.flags = a.h.flags;                                                     \
			fix;                                                                       \
			CHECK(memcmp(&a, &b, sizeof(a)) == 0);                                     \
			enc(&b, e2);                                                               \
			CHECK(memcmp(e1, e2, sizeof(e1)) == 0);                                    \
		} else {                                                                           \
			CHECK(reason == PRK_REJECT_PROTOCOL_ERROR ||                               \
			      reason == PRK_REJECT_INVALID_PDU_FIELD);                             \
		}                                                                                  \
	} while (0)

#define TGT_ROUND_TRIP(type, dec, enc)                                                             \
	do {                                                                                       \
		struct type a, b;                                                                  \
		uint8_t e1[PRK_ISCSI_BHS_LEN], e2[PRK_ISCSI_BHS_LEN];                              \
		if (dec(bhs, &a) == 0) {                                                           \
			enc(&a, e1);                                                               \
			CHECK(dec(e1, &b) == 0);                                                   \
			enc(&b, e2);                                                               \
			CHECK(memcmp(e1, e2, sizeof(e1)) == 0);                                    \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prk_iscsi_hdr h;
	uint8_t *bhs;
	uint16_t lun;

	if (size < PRK_ISCSI_BHS_LEN)
		return 0;
	/* An exact-size copy: reading past the BHS is caught by ASan. */
	bhs = malloc(PRK_ISCSI_BHS_LEN);
	CHECK(bhs);
	memcpy(bhs, data, PRK_ISCSI_BHS_LEN);

	if (prk_iscsi_hdr_decode(bhs, &h) == 0) {
		size_t t = prk_iscsi_pdu_tail_len(&h, size > 48 && (data[48] & 1),
		                                  size > 48 && (data[48] & 2));

		CHECK(t >= prk_iscsi_pad4(h.dlen));
		CHECK(t <= 1020 + 4 + ((size_t)PRK_ISCSI_DSL_MAX + 1) + 4);
	}
	if (prk_iscsi_lun_decode(h.lun, &lun) == 0) {
		uint16_t again;

		CHECK(lun < 16384);
		CHECK(prk_iscsi_lun_decode(prk_iscsi_lun_encode(lun), &again) == 0 && again == lun);
	}

	ROUND_TRIP(prk_iscsi_scsi_cmd, prk_iscsi_scsi_cmd_decode, prk_iscsi_scsi_cmd_encode, );
	ROUND_TRIP(prk_iscsi_data_out, prk_iscsi_data_out_decode, prk_iscsi_data_out_encode,
	           b.h.immediate = a.h.immediate);
	ROUND_TRIP(prk_iscsi_nop_out, prk_iscsi_nop_out_decode, prk_iscsi_nop_out_encode, );
	ROUND_TRIP(prk_iscsi_tmf_req, prk_iscsi_tmf_req_decode, prk_iscsi_tmf_req_encode, );
	ROUND_TRIP(prk_iscsi_login_req, prk_iscsi_login_req_decode, prk_iscsi_login_req_encode, );
	ROUND_TRIP(prk_iscsi_text_req, prk_iscsi_text_req_decode, prk_iscsi_text_req_encode, );
	ROUND_TRIP(prk_iscsi_logout_req, prk_iscsi_logout_req_decode, prk_iscsi_logout_req_encode,
	           b.h.lun = a.h.lun);

	TGT_ROUND_TRIP(prk_iscsi_scsi_rsp, prk_iscsi_scsi_rsp_decode, prk_iscsi_scsi_rsp_encode);
	TGT_ROUND_TRIP(prk_iscsi_data_in, prk_iscsi_data_in_decode, prk_iscsi_data_in_encode);
	TGT_ROUND_TRIP(prk_iscsi_r2t, prk_iscsi_r2t_decode, prk_iscsi_r2t_encode);
	TGT_ROUND_TRIP(prk_iscsi_login_rsp, prk_iscsi_login_rsp_decode, prk_iscsi_login_rsp_encode);
	TGT_ROUND_TRIP(prk_iscsi_text_rsp, prk_iscsi_text_rsp_decode, prk_iscsi_text_rsp_encode);
	free(bhs);
	return 0;
}
