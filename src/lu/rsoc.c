/* REPORT SUPPORTED OPERATION CODES (SPC-4 6.35): the command table with
 * each CDB's usage bitmap (a bit is set where the device server looks at
 * the CDB; the control byte reports NACA and LINK, which are checked).
 *
 * The table lists what lu.c dispatches (the tests check that each entry is
 * accepted by the dispatcher) plus REPORT LUNS, which the target answers
 * for the LU. UNMAP, GET LBA STATUS and SANITIZE BLOCK ERASE are listed
 * only on thin LUs, PERSISTENT RESERVE IN/OUT only on LUs with persistent
 * reservations, WRITE ATOMIC(16) only where the backstore makes writes
 * all-or-nothing. */
#include "lu_internal.h"

struct opinfo {
	uint8_t op;
	int16_t sa; /* -1: no service action */
	bool thin_only;
	uint8_t len;
	uint8_t usage[16];
};

#define X 0xff
#define C 0x05 /* control byte: NACA, LINK */

static const struct opinfo ops[] = {
    {0x00, -1, false, 6, {0x00, 0, 0, 0, 0, C}},
    {0x03, -1, false, 6, {0x03, 0x01, 0, 0, X, C}},
    {0x08, -1, false, 6, {0x08, 0x1f, X, X, X, C}},
    {0x0a, -1, false, 6, {0x0a, 0x1f, X, X, X, C}},
    {0x12, -1, false, 6, {0x12, 0x03, X, X, X, C}},
    {0x15, -1, false, 6, {0x15, 0x11, 0, 0, X, C}},
    {0x16, -1, false, 6, {0x16, 0x1f, 0, 0, 0, C}},
    {0x17, -1, false, 6, {0x17, 0x1f, 0, 0, 0, C}},
    {0x1a, -1, false, 6, {0x1a, 0x08, X, X, X, C}},
    {0x1b, -1, false, 6, {0x1b, 0x01, 0, 0x0f, 0xf7, C}},
    {0x25, -1, false, 10, {0x25, 0, X, X, X, X, 0, 0, 0x01, C}},
    {0x28, -1, false, 10, {0x28, 0xf8, X, X, X, X, 0, X, X, C}},
    {0x2a, -1, false, 10, {0x2a, 0xf8, X, X, X, X, 0, X, X, C}},
    {0x2e, -1, false, 10, {0x2e, 0xf6, X, X, X, X, 0, X, X, C}},
    {0x2f, -1, false, 10, {0x2f, 0xf6, X, X, X, X, 0, X, X, C}},
    {0x34, -1, false, 10, {0x34, 0x02, X, X, X, X, 0, X, X, C}},
    {0x35, -1, false, 10, {0x35, 0x02, X, X, X, X, 0, X, X, C}},
    {0x37, -1, false, 10, {0x37, 0, 0x1f, 0, 0, 0, 0, X, X, C}},
    {0x41, -1, false, 10, {0x41, 0xfe, X, X, X, X, 0, X, X, C}},
    {0x42, -1, true, 10, {0x42, 0x01, 0, 0, 0, 0, 0, X, X, C}},
    {0x48, 0x01, false, 10, {0x48, 0xa1, 0, 0, 0, 0, 0, X, X, C}},
    {0x48, 0x02, true, 10, {0x48, 0xa2, 0, 0, 0, 0, 0, X, X, C}},
    {0x48, 0x1f, false, 10, {0x48, 0xbf, 0, 0, 0, 0, 0, X, X, C}},
    {0x55, -1, false, 10, {0x55, 0x11, 0, 0, 0, 0, 0, X, X, C}},
    {0x56, -1, false, 10, {0x56, 0x12, 0, 0, 0, 0, 0, 0, 0, C}},
    {0x57, -1, false, 10, {0x57, 0x12, 0, 0, 0, 0, 0, 0, 0, C}},
    {0x5a, -1, false, 10, {0x5a, 0x18, X, X, 0, 0, 0, X, X, C}},
    {0x5e, -1, false, 10, {0x5e, 0x1f, 0, 0, 0, 0, 0, X, X, C}},
    {0x5f, -1, false, 10, {0x5f, 0x1f, X, 0, 0, X, X, X, X, C}},
    {0x88, -1, false, 16, {0x88, 0xf8, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {0x89, -1, false, 16, {0x89, 0xf8, X, X, X, X, X, X, X, X, 0, 0, 0, X, 0, C}},
    {0x8a, -1, false, 16, {0x8a, 0xf8, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {0x8b, -1, false, 16, {0x8b, 0xf8, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {0x8e, -1, false, 16, {0x8e, 0xf6, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {0x8f, -1, false, 16, {0x8f, 0xf6, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {0x90, -1, false, 16, {0x90, 0x02, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {0x91, -1, false, 16, {0x91, 0x02, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {0x93, -1, false, 16, {0x93, 0xff, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {0x9c, -1, false, 16, {0x9c, 0xf8, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {0x9e, 0x10, false, 16, {0x9e, 0x10, X, X, X, X, X, X, X, X, X, X, X, X, 0x01, C}},
    {0x9e, 0x12, true, 16, {0x9e, 0x12, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {0xa0, -1, false, 12, {0xa0, 0, X, 0, 0, 0, X, X, X, X, 0, C}},
    {0xa3, 0x0a, false, 12, {0xa3, 0xea, 0, 0, 0, 0, X, X, X, X, 0, C}},
    {0xa3, 0x0c, false, 12, {0xa3, 0x0c, 0x87, X, X, X, X, X, X, X, 0, C}},
    {0xa3, 0x0d, false, 12, {0xa3, 0x0d, 0x80, 0, 0, 0, X, X, X, X, 0, C}},
    {0xa8, -1, false, 12, {0xa8, 0xf8, X, X, X, X, X, X, X, X, 0, C}},
    {0xaa, -1, false, 12, {0xaa, 0xf8, X, X, X, X, X, X, X, X, 0, C}},
    {0xae, -1, false, 12, {0xae, 0xf6, X, X, X, X, X, X, X, X, 0, C}},
    {0xaf, -1, false, 12, {0xaf, 0xf6, X, X, X, X, X, X, X, X, 0, C}},
    {0xb7, -1, false, 12, {0xb7, 0x1f, X, X, X, X, X, X, X, X, 0, C}},
};
#define N_OPS (sizeof(ops) / sizeof(ops[0]))

static bool listed(const struct prk_lu *lu, const struct opinfo *o)
{
	if (lu->cfg.no_pr && (o->op == PRK_OP_PR_IN || o->op == PRK_OP_PR_OUT))
		return false;
	if (o->op == PRK_OP_WRITE_ATOMIC16 && !prk_lu_atomic_max_blocks(lu))
		return false;
	return !o->thin_only || lu->cfg.thin;
}

static bool has_sa(uint8_t op)
{
	return op == 0x9e || op == 0xa3 || op == PRK_OP_SANITIZE;
}

/* Command timeouts descriptor (SPC-4 6.35.4): no nominal or recommended
 * timeout is claimed (0 = not specified). */
static size_t timeouts(uint8_t *d)
{
	memset(d, 0, 12);
	prk_put_be16(d, 0x0a);
	return 12;
}

#define RSOC_MAX (4 + N_OPS * 20)

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
		for (size_t i = 0; i < N_OPS; i++) {
			const struct opinfo *o = &ops[i];
			if (!listed(lu, o))
				continue;
			d[off] = o->op;
			prk_put_be16(d + off + 2, o->sa < 0 ? 0 : (uint16_t)o->sa);
			d[off + 5] = (uint8_t)((rctd ? 0x02 : 0) | (o->sa >= 0 ? 0x01 : 0));
			prk_put_be16(d + off + 6, o->len);
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
	if (opts == 1 && has_sa(rop)) {
		prk_lu_fail_cdb(lu, cmd, 3, -1);
		return;
	}
	if (opts == 2 && !has_sa(rop)) {
		prk_lu_fail_cdb(lu, cmd, 3, -1);
		return;
	}
	int want_sa = has_sa(rop) ? rsa : -1;
	const struct opinfo *o = NULL;
	for (size_t i = 0; i < N_OPS; i++)
		if (ops[i].op == rop && ops[i].sa == want_sa && listed(lu, &ops[i]))
			o = &ops[i];
	d[1] = rctd ? 0x80 : 0;
	if (!o) {
		d[1] |= 0x01; /* SUPPORT 001b: not supported */
		off = 4;
	} else {
		d[1] |= 0x03; /* SUPPORT 011b: supported as the standard says */
		prk_put_be16(d + 2, o->len);
		memcpy(d + 4, o->usage, o->len);
		/* WRITE SAME's UNMAP and ANCHOR bits are ignored on a fully
		 * provisioned LU: do not advertise them there. */
		if (!lu->cfg.thin && (o->op == PRK_OP_WRITE_SAME10 || o->op == PRK_OP_WRITE_SAME16))
			d[5] &= (uint8_t)~0x18;
		off = 4 + o->len;
	}
	if (rctd)
		off += timeouts(d + off);
	prk_lu_reply(lu, cmd, d, off, alloc);
}

bool prk_lu_rsoc_consistent(const struct prk_lu *lu)
{
	for (size_t i = 0; i < N_OPS; i++) {
		const struct opinfo *o = &ops[i];
		if (!listed(lu, o) || o->op == PRK_OP_REPORT_LUNS)
			continue;
		if (!prk_lu_cmd_supported(lu, o->op, o->sa))
			return false;
		if (o->usage[0] != o->op || o->len != prk_cdb_len_of_opcode(o->op))
			return false;
	}
	return true;
}
