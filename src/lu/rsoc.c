/* REPORT SUPPORTED OPERATION CODES (SPC-4 6.35): the rows of the command
 * table (optable.c) this LU's configuration offers, with each CDB's usage
 * bitmap. Dispatch reads the same table, so what is listed is what runs;
 * REPORT LUNS is listed too, answered by the target for the LU. */
#include "lu_internal.h"

/* Command timeouts descriptor (SPC-4 6.35.4): no nominal or recommended
 * timeout is claimed (0 = not specified). */
static size_t timeouts(uint8_t *d)
{
	memset(d, 0, 12);
	prk_put_be16(d, 0x0a);
	return 12;
}

#define RSOC_MAX (4 + PRK_LU_MAX_OPS * 20)

void prk_lu_rsoc(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb;
	bool rctd = c[2] & 0x80;
	uint8_t opts = c[2] & 0x07;
	uint8_t rop = c[3];
	uint16_t rsa = prk_get_be16(c + 4);
	uint32_t alloc = prk_get_be32(c + 6);
	uint8_t d[RSOC_MAX] = {0};
	size_t off;

	if (opts == 0) {
		off = 4;
		const struct prk_lu_op *o;
		for (size_t i = 0; (o = prk_lu_op_row(i)); i++) {
			if (!prk_lu_op_available(lu, o))
				continue;
			d[off] = o->op;
			prk_put_be16(d + off + 2, o->sa < 0 ? 0 : (uint16_t)o->sa);
			d[off + 5] = (uint8_t)((rctd ? 0x02 : 0) | (o->sa >= 0 ? 0x01 : 0));
			prk_put_be16(d + off + 6, o->cdb_len);
			off += 8;
			if (rctd)
				off += timeouts(d + off);
		}
		prk_put_be32(d, (uint32_t)(off - 4));
		prk_lu_reply(lu, cmd, d, off, alloc);
		return;
	}
	if (opts > 3) {
		prk_lu_fail_cdb(lu, cmd, 2, 2);
		return;
	}
	/* 001b: opcode only (24/00 if it has service actions); 010b: opcode and
	 * service action (24/00 if it has none); 011b: the service action is
	 * used only when the opcode has them. */
	bool has_sa = prk_lu_op_has_sa(rop);
	if (opts == 1 && has_sa) {
		prk_lu_fail_cdb(lu, cmd, 3, -1);
		return;
	}
	if (opts == 2 && !has_sa) {
		prk_lu_fail_cdb(lu, cmd, 3, -1);
		return;
	}
	const struct prk_lu_op *o = prk_lu_op_find(rop, has_sa ? rsa : -1);
	if (o && !prk_lu_op_available(lu, o))
		o = NULL;
	d[1] = rctd ? 0x80 : 0;
	if (!o) {
		d[1] |= 0x01; /* SUPPORT 001b: not supported */
		off = 4;
	} else {
		d[1] |= 0x03; /* SUPPORT 011b: supported as the standard says */
		prk_put_be16(d + 2, o->cdb_len);
		memcpy(d + 4, o->usage, o->cdb_len);
		/* Bits a fully provisioned LU ignores (WRITE SAME's UNMAP and
		 * ANCHOR) are not advertised there. */
		if (!lu->cfg.thin)
			d[5] &= (uint8_t)~o->thin_usage1;
		off = 4 + o->cdb_len;
	}
	if (rctd)
		off += timeouts(d + off);
	prk_lu_reply(lu, cmd, d, off, alloc);
}

bool prk_lu_rsoc_consistent(const struct prk_lu *lu)
{
	const struct prk_lu_op *o;
	for (size_t i = 0; (o = prk_lu_op_row(i)); i++) {
		if (!prk_lu_op_available(lu, o) || o->op == PRK_OP_REPORT_LUNS)
			continue;
		if (!prk_lu_cmd_supported(lu, o->op, o->sa))
			return false;
		if (o->usage[0] != o->op || o->cdb_len != prk_cdb_len_of_opcode(o->op))
			return false;
	}
	return true;
}
