/* A path's bring-up, driven by its device from the slow work: once the
 * path has logged in, it tells who it leads to (path.c); the device
 * checks that it is the same LU as its other paths, reads the LU's
 * capacity once, reads the ALUA states of every path, lets the path
 * report pending unit attentions, registers our key on it (mpdev_pr.c),
 * and only then lets it carry I/O. The same commands in the same order
 * as when path.c did it all. */
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "mpdev.h"
#include "mpdev_pr.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_vpd.h"

/* The LU a path leads to must be the device's (the first path's). */
static int accept_identity(struct hpath *p, const struct hpath_ident *id)
{
	struct prk_mpdev *d = p->dev;
	if (d->naa[0] && strcmp(d->naa, id->naa) != 0) {
		snprintf(p->last_error, sizeof(p->last_error),
		         "leads to LU naa.%s, not naa.%s like the other paths", id->naa, d->naa);
		return -1;
	}
	snprintf(d->naa, sizeof(d->naa), "%s", id->naa);
	p->has_ident = true;
	p->rtpi = id->rtpi;
	p->tpg = id->tpg;
	return 0;
}

/* How many blocks one UNMAP may carry, from the Block Limits VPD page
 * (B0h), for a thin LU. A target without the page (or with a short one)
 * sets no limit but the descriptor's 32-bit count; MAXIMUM UNMAP LBA
 * COUNT or MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT 0 means UNMAP is not
 * supported, and the LU is then not thin for us (host.h:
 * prk_mpdev_thin is "UNMAP allowed"). */
static void read_unmap_limits_sync(struct hpath *p)
{
	struct prk_mpdev *d = p->dev;
	uint8_t cdb[6] = {0x12, 0x01, 0xb0, 0, 64, 0};
	uint8_t buf[64];
	struct hsync s = {
	    .cdb = cdb, .cdb_len = 6, .dir = SCSI_XFER_READ, .in = buf, .in_cap = sizeof(buf)};
	d->unmap_max_blocks = UINT32_MAX;
	int st = prk_path_cmd_sync(p, &s);
	if (st != SCSI_STATUS_GOOD || s.in_len < 28 || buf[1] != 0xb0 ||
	    (size_t)prk_get_be16(buf + 2) + 4 < 28)
		return;
	uint32_t max_lbas = prk_get_be32(buf + 20);
	uint32_t max_descs = prk_get_be32(buf + 24);
	if (!max_lbas || !max_descs) {
		d->thin = false;
		prk_hlog(d->h, 1, "naa.%s: LBPME but Block Limits allow no UNMAP: not thin",
		         d->naa);
		return;
	}
	d->unmap_max_blocks = max_lbas;
}

/* The LU's capacity, read once per device, through the first path that
 * can tell. */
static int read_capacity_sync(struct hpath *p)
{
	struct prk_mpdev *d = p->dev;
	if (d->blocks)
		return 0;
	uint8_t cdb[16] = {0x9e, 0x10};
	cdb[13] = 32;
	uint8_t buf[32];
	struct hsync s = {
	    .cdb = cdb, .cdb_len = 16, .dir = SCSI_XFER_READ, .in = buf, .in_cap = sizeof(buf)};
	int st = prk_path_cmd_sync(p, &s);
	if (st == SCSI_STATUS_CHECK_CONDITION && s.sense_key == SCSI_SENSE_NOT_READY &&
	    (s.asc == 0x040b || s.asc == 0x040c))
		return 0; /* an ALUA standby/unavailable port: another path will tell */
	if (st != SCSI_STATUS_GOOD || s.in_len < 12) {
		snprintf(p->last_error, sizeof(p->last_error), "READ CAPACITY(16) failed (%d)", st);
		return -1;
	}
	d->blocks = prk_get_be64(buf) + 1;
	d->block_size = prk_get_be32(buf + 8);
	if (s.in_len >= 15) {
		d->thin = buf[14] & 0x80;         /* LBPME */
		d->unmap_zeroes = buf[14] & 0x40; /* LBPRZ */
	}
	if (d->thin)
		read_unmap_limits_sync(p);
	return 0;
}

int prk_dev_refresh_alua_sync(struct hpath *p)
{
	struct prk_mpdev *d = p->dev;
	uint8_t cdb[12];
	static uint8_t buf[4096];
	size_t n = prk_rtpg_cdb_encode(true, sizeof(buf), cdb);
	struct hsync s = {
	    .cdb = cdb, .cdb_len = n, .dir = SCSI_XFER_READ, .in = buf, .in_cap = sizeof(buf)};
	int st = prk_path_cmd_sync(p, &s);
	if (st == SCSI_STATUS_CHECK_CONDITION && s.sense_key == 0x5) {
		/* No ALUA: every path is active/optimized. */
		for (size_t i = 0; i < d->n_paths; i++) {
			d->paths[i].alua_known = false;
			d->paths[i].priority = 50;
		}
		return 0;
	}
	if (st != SCSI_STATUS_GOOD)
		return -1;
	struct prk_rtpg r;
	struct prk_field_err fe;
	if (prk_rtpg_decode(buf, s.in_len, &r, &fe))
		return -1;
	for (size_t i = 0; i < d->n_paths; i++) {
		struct hpath *q = &d->paths[i];
		if (!q->has_ident)
			continue;
		const struct prk_rtpg_group *g = prk_rtpg_find_port(&r, q->rtpi);
		if (!g)
			continue;
		bool was_standby = q->alua_standby;
		q->alua_known = true;
		q->alua_state = g->state;
		q->priority = prk_alua_priority(g->state, g->pref);
		q->alua_standby = g->state == PRK_ALUA_STANDBY ||
		                  g->state == PRK_ALUA_UNAVAILABLE || g->state == PRK_ALUA_OFFLINE;
		if (q->conn != HC_READY)
			continue;
		if (q->alua_standby && q->state == PRK_PATH_UP)
			prk_path_set_state(q, PRK_PATH_STANDBY, "ALUA state");
		else if (!q->alua_standby && was_standby && q->state == PRK_PATH_STANDBY)
			prk_dev_path_ready(q);
	}
	return 0;
}

int prk_dev_bring_up_sync(struct hpath *p)
{
	struct prk_mpdev *d = p->dev;
	struct hpath_ident id;
	if (prk_path_identify_sync(p, &id) || accept_identity(p, &id) || read_capacity_sync(p)) {
		prk_path_drop(p, p->last_error);
		return -1;
	}
	if (p->conn != HC_LOGGED_IN)
		return -1;
	p->priority = 50;
	if (prk_dev_refresh_alua_sync(p) == 0)
		d->rtpg_refresh = false;
	if (prk_path_ua_check_sync(p))
		return -1;
	if (prk_devpr_path_up_sync(p))
		return -1;
	prk_dev_path_enter_ready(p);
	return 0;
}
