/* INQUIRY: standard data and the VPD pages 00h, 80h, 83h, 86h, B0h, B1h and
 * (thin LUs only) B2h. */
#include <stdio.h>

#include "lu_internal.h"

#define STD_LEN 96
#define VPD_MAX 1024

/* Space-padded ASCII field (SPC-4 4.4.1). */
static void ascii(uint8_t *dst, size_t n, const char *s)
{
	size_t l = strlen(s);
	memset(dst, ' ', n);
	memcpy(dst, s, l < n ? l : n);
}

static size_t standard(const struct prk_lu *lu, uint8_t *d)
{
	memset(d, 0, STD_LEN);
	d[0] = 0x00;        /* peripheral qualifier 0, direct access block device */
	d[2] = 0x06;        /* VERSION: SPC-4 */
	d[3] = 0x10 | 0x02; /* HISUP, RESPONSE DATA FORMAT 2 */
	d[4] = STD_LEN - 5;
	d[5] = 0x10; /* TPGS 01b: implicit ALUA */
	if (lu->has_copy)
		d[5] |= 0x08; /* 3PC: EXTENDED COPY through the copy hooks */
	d[7] = 0x02;          /* CMDQUE */
	ascii(d + 8, 8, lu->cfg.vendor);
	ascii(d + 16, 16, lu->cfg.product);
	ascii(d + 32, 4, lu->cfg.revision);
	/* Version descriptors: SAM-5, iSCSI, SPC-4, SBC-3. */
	static const uint16_t ver[] = {0x00a0, 0x0960, 0x0460, 0x04c0};
	for (size_t i = 0; i < sizeof(ver) / sizeof(ver[0]); i++)
		prk_put_be16(d + 58 + 2 * i, ver[i]);
	return STD_LEN;
}

static size_t vpd_hdr(uint8_t *d, uint8_t page, size_t len)
{
	d[0] = 0x00;
	d[1] = page;
	prk_put_be16(d + 2, (uint16_t)len);
	return len + 4;
}

static size_t vpd_supported(const struct prk_lu *lu, uint8_t *d)
{
	/* Ascending page codes; 8Fh only with copy hooks, B2h only when thin. */
	static const uint8_t pages[] = {0x00, 0x80, 0x83, 0x86, 0x8f, 0xb0, 0xb1, 0xb2};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(pages); i++) {
		if ((pages[i] == 0x8f && !lu->has_copy) || (pages[i] == 0xb2 && !lu->cfg.thin))
			continue;
		d[4 + n++] = pages[i];
	}
	return vpd_hdr(d, 0x00, n);
}

static size_t vpd_serial(const struct prk_lu *lu, uint8_t *d)
{
	size_t n = strlen(lu->cfg.serial);
	memcpy(d + 4, lu->cfg.serial, n);
	return vpd_hdr(d, 0x80, n);
}

/* One designation descriptor: header + designator; returns its length. */
static size_t desig(uint8_t *d, uint8_t proto_codeset, uint8_t piv_assoc_type, const void *id,
                    size_t len)
{
	d[0] = proto_codeset;
	d[1] = piv_assoc_type;
	d[2] = 0;
	d[3] = (uint8_t)len;
	memcpy(d + 4, id, len);
	return 4 + len;
}

/* A SCSI name string designator: UTF-8, NUL-terminated, padded with NULs
 * to a multiple of 4 bytes (SPC-4 7.8.6.11). */
static size_t name_desig(uint8_t *d, uint8_t assoc, const char *s)
{
	uint8_t buf[256] = {0};
	size_t n = strlen(s);
	if (n > 251)
		n = 251;
	memcpy(buf, s, n);
	size_t len = (n + 1 + 3) & ~(size_t)3;
	/* PROTOCOL IDENTIFIER 5h (iSCSI), CODE SET 3h (UTF-8); PIV=1,
	 * DESIGNATOR TYPE 8h (SCSI name string). */
	return desig(d, 0x53, (uint8_t)(0x80 | assoc << 4 | 0x08), buf, len);
}

static size_t vpd_devid(const struct prk_lu *lu, const struct prk_lu_cmd *cmd, uint8_t *d)
{
	size_t off = 4;
	/* Logical unit: NAA 6 (CODE SET binary, ASSOCIATION 00b, TYPE 3h). */
	off += desig(d + off, 0x01, 0x03, lu->naa, sizeof(lu->naa));
	const struct prk_lu_port *p = cmd->port;
	if (p) {
		uint8_t id[4] = {0};
		/* Target port: RELATIVE TARGET PORT IDENTIFIER (iSCSI, binary,
		 * PIV=1, ASSOCIATION 01b, TYPE 4h), TARGET PORT GROUP (5h). */
		prk_put_be16(id + 2, p->rtpi);
		off += desig(d + off, 0x51, 0x94, id, 4);
		prk_put_be16(id + 2, p->tpg);
		off += desig(d + off, 0x51, 0x95, id, 4);
		if (p->target_name) {
			char port[256];
			snprintf(port, sizeof(port), "%s,t,0x%04x", p->target_name, p->tpgt);
			off += name_desig(d + off, 1, port);           /* target port */
			off += name_desig(d + off, 2, p->target_name); /* target device */
		}
	}
	return vpd_hdr(d, 0x83, off - 4);
}

static size_t vpd_ext_inquiry(uint8_t *d)
{
	d[5] = 0x01; /* SIMPSUP */
	d[6] = 0x01; /* V_SUP: a volatile cache (WCE) that SYNCHRONIZE CACHE flushes */
	return vpd_hdr(d, 0x86, 0x3c);
}

static size_t vpd_block_limits(const struct prk_lu *lu, uint8_t *d)
{
	uint32_t bs = lu->cfg.block_size;
	uint32_t max = lu->cfg.max_xfer_blocks;
	uint32_t opt = (1u << 20) / bs;
	if (opt > max)
		opt = max;
	d[4] = 0x00; /* WSNZ=0: WRITE SAME with 0 blocks runs to the end of the medium */
	d[5] = (uint8_t)PRK_LU_MAX_CAW_BLOCKS;
	prk_put_be16(d + 6, bs < 4096 ? (uint16_t)(4096 / bs) : 1); /* OPTIMAL GRANULARITY */
	prk_put_be32(d + 8, max);
	prk_put_be32(d + 12, opt);
	if (lu->cfg.thin) {
		prk_put_be32(d + 20, PRK_LU_MAX_UNMAP_LBAS);
		prk_put_be32(d + 24, PRK_LU_MAX_UNMAP_DESCS);
		prk_put_be32(d + 28, 1); /* OPTIMAL UNMAP GRANULARITY */
	}
	prk_put_be64(d + 36, PRK_LU_MAX_WRITE_SAME);
	/* MAXIMUM ATOMIC TRANSFER LENGTH (0 without WRITE ATOMIC); ATOMIC
	 * ALIGNMENT, GRANULARITY and the boundary fields stay 0 (sbc_atomic.c). */
	prk_put_be32(d + 44, prk_lu_atomic_max_blocks(lu));
	return vpd_hdr(d, 0xb0, 0x3c);
}

static size_t vpd_block_chars(const struct prk_lu *lu, uint8_t *d)
{
	prk_put_be16(d + 4, 0x0001); /* MEDIUM ROTATION RATE: non-rotating */
	/* WABEREQ 01b: after a SANITIZE BLOCK ERASE (thin LUs only) reads
	 * succeed (erased blocks read as zeros, LBPRZ=1). WACEREQ 00b: no
	 * CRYPTOGRAPHIC ERASE. */
	if (lu->cfg.thin)
		d[7] = 0x40;
	return vpd_hdr(d, 0xb1, 0x3c);
}

static size_t vpd_provisioning(uint8_t *d)
{
	d[5] = 0x80 | 0x40 | 0x20 | 0x04; /* LBPU, LBPWS, LBPWS10, LBPRZ */
	d[6] = 0x02;                      /* PROVISIONING TYPE: thin */
	return vpd_hdr(d, 0xb2, 4);
}

/* CmdDt (byte 1 bit 1, obsolete) is 24/00; EVPD=0 with a PAGE CODE is 24/00
 * at byte 2; an unknown page is 24/00 at byte 2. INQUIRY ignores pending
 * unit attentions (lu.c). */
void prk_lu_inquiry(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb;
	uint8_t d[VPD_MAX] = {0};
	uint16_t alloc = prk_get_be16(c + 3);
	size_t n;

	if (c[1] & 0x02) {
		prk_lu_fail_cdb(lu, cmd, 1, 1);
		return;
	}
	if (!(c[1] & 0x01)) {
		if (c[2]) {
			prk_lu_fail_cdb(lu, cmd, 2, -1);
			return;
		}
		n = standard(lu, d);
		prk_lu_reply(lu, cmd, d, n, alloc);
		return;
	}
	switch (c[2]) {
	case 0x00:
		n = vpd_supported(lu, d);
		break;
	case 0x80:
		n = vpd_serial(lu, d);
		break;
	case 0x83:
		n = vpd_devid(lu, cmd, d);
		break;
	case 0x86:
		n = vpd_ext_inquiry(d);
		break;
	case 0xb0:
		n = vpd_block_limits(lu, d);
		break;
	case 0xb1:
		n = vpd_block_chars(lu, d);
		break;
	case 0x8f:
		n = prk_lu_vpd_3pc(lu, d, sizeof(d));
		if (n)
			break;
		prk_lu_fail_cdb(lu, cmd, 2, -1);
		return;
	case 0xb2:
		if (lu->cfg.thin) {
			n = vpd_provisioning(d);
			break;
		}
		/* fall through */
	default:
		prk_lu_fail_cdb(lu, cmd, 2, -1);
		return;
	}
	prk_lu_reply(lu, cmd, d, n, alloc);
}
