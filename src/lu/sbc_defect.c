/* READ DEFECT DATA(10/12) (SBC-4 5.18, 5.19).
 *
 * A LU over a file or RAM has no defect management of its own: the
 * honest answer is that both the primary (PLIST) and the grown (GLIST)
 * list exist and are empty. So the lists requested are reported valid
 * (PLISTV/GLISTV echo REQ_PLIST/REQ_GLIST) in the format asked for, with a
 * DEFECT LIST LENGTH of 0; every defined format (000b..110b) can describe
 * an empty list, 111b is reserved (24/00). The GENERATION CODE of the
 * 12-byte header is 0 ("not supported"): the lists never change. An
 * ADDRESS DESCRIPTOR INDEX past the (empty) list returns the header only. */
#include "lu_internal.h"

void prk_lu_read_defect_data(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb;
	bool ten = c[0] == PRK_OP_READ_DEFECT10;
	size_t req_off = ten ? 2 : 1;
	uint8_t req = c[req_off] & 0x1f; /* REQ_PLIST, REQ_GLIST, DEFECT LIST FORMAT */
	uint32_t alloc = ten ? prk_get_be16(c + 7) : prk_get_be32(c + 6);
	uint8_t d[8] = {0};

	if ((req & 0x07) == 0x07) {
		prk_lu_fail_cdb(lu, cmd, req_off, 2);
		return;
	}
	d[1] = req;
	prk_lu_reply(lu, cmd, d, ten ? 4 : 8, alloc);
}
