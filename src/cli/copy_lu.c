/* `prkit copy`: the commands to one LU and how their outcomes read. Every
 * failure names the command and what the target said, decoded, and maps
 * to sg3_utils' exit statuses as prkit persist does. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "copy_run.h"
#include "persist_exit.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"
#include "prkit/scsi_sense.h"
#include "prkit/scsi_vpd.h"

int copy_failf(struct copy_fail *f, int exit, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	f->exit = exit;
	return exit;
}

int copy_outcome(const struct prk_raw_cmd *c, const char *what, struct copy_fail *f)
{
	if (c->status == PRK_STATUS_GOOD)
		return 0;
	if (c->status == PRK_RAW_TIMEOUT)
		return copy_failf(f, PRK_PERSIST_EXIT_TIMEOUT,
		                  "%s: no answer in time (aborted with ABORT TASK)", what);
	if (c->status == PRK_RAW_TRANSPORT)
		return copy_failf(f, PRK_PERSIST_EXIT_TRANSPORT,
		                  "%s: the session failed during the command", what);
	int x = prk_persist_exit_from_sense(c->status, c->sense, c->sense_len);
	struct prk_sense s;
	int key = -1, asc = 0;
	if (c->status == PRK_STATUS_CHECK_CONDITION &&
	    !prk_sense_decode(c->sense, c->sense_len, &s)) {
		key = s.key;
		asc = (s.asc << 8) | s.ascq;
	}
	char d[256];
	prk_persist_describe(d, sizeof(d), c->status, key, asc);
	return copy_failf(f, x, "%s: %s", what, d);
}

bool copy_is_ua(const struct prk_raw_cmd *c)
{
	struct prk_sense s;
	return c->status == PRK_STATUS_CHECK_CONDITION &&
	       !prk_sense_decode(c->sense, c->sense_len, &s) && s.key == PRK_SK_UNIT_ATTENTION;
}

int copy_raw_sync(struct copy_lu *lu, struct prk_raw_cmd *c)
{
	for (int i = 0; i < 8; i++) {
		prk_mpdev_raw_sync(lu->dev, 0, c);
		if (!copy_is_ua(c))
			break;
	}
	return c->status;
}

int copy_host_fail(const struct prk_host_err *e, const char *what, struct copy_fail *f)
{
	return copy_failf(f, prk_persist_exit_of_host_err(e), "%s: %s", what, e->msg);
}

static int inquiry_vpd(struct copy_lu *lu, uint8_t page, uint8_t *buf, uint16_t cap, uint32_t *got,
                       struct copy_fail *f)
{
	struct prk_raw_cmd c = {.cdb_len = 6, .dir = PRK_RAW_READ, .in = buf, .in_cap = cap};
	prk_inquiry_cdb_encode(true, page, cap, c.cdb);
	copy_raw_sync(lu, &c);
	char what[64];
	snprintf(what, sizeof(what), "INQUIRY VPD %02Xh of %s", page, lu->url);
	if (copy_outcome(&c, what, f))
		return f->exit;
	*got = c.in_len;
	return 0;
}

int copy_lu_identify(struct copy_lu *lu, const char *initiator, struct copy_fail *f)
{
	uint8_t buf[1024];
	uint32_t got = 0;
	if (inquiry_vpd(lu, 0x83, buf, sizeof(buf), &got, f))
		return f->exit;
	struct prk_vpd83 v;
	struct prk_field_err fe;
	if (prk_vpd83_decode(buf, got, &v, &fe))
		return copy_failf(f, PRK_PERSIST_EXIT_MALFORMED,
		                  "INQUIRY VPD 83h of %s: malformed (%s)", lu->url, fe.field);
	if (!v.has_naa || v.naa_len != 16)
		return copy_failf(f, PRK_PERSIST_EXIT_OTHER,
		                  "%s has no 16-byte NAA designator in VPD 83h: a CSCD descriptor "
		                  "(E4h) cannot name it",
		                  lu->url);
	memcpy(lu->naa, v.naa, 16);
	struct prk_host_err e;
	char vendor[9], product[17], rev[5];
	if (prk_mpdev_inquiry(lu->dev, vendor, product, rev, &lu->pdt, &e))
		return copy_host_fail(&e, "INQUIRY", f);
	lu->bs = prk_mpdev_block_size(lu->dev);
	lu->blocks = prk_mpdev_blocks(lu->dev);
	if (!lu->bs || !lu->blocks)
		return copy_failf(f, PRK_PERSIST_EXIT_MALFORMED, "%s: no capacity known", lu->url);
	struct prk_path_info pi;
	prk_mpdev_paths(lu->dev, &pi, 1);
	lu->nexus = (struct prk_tid){.format = PRK_TID_FMT_PORT, .isid = pi.isid};
	snprintf(lu->nexus.name, sizeof(lu->nexus.name), "%s", initiator);
	lu->rtpi = v.has_rtpi ? v.rtpi : pi.rtpi;
	return 0;
}

int copy_lu_opparams(struct copy_lu *lu, uint8_t list_id, unsigned timeout_ms,
                     struct prk_xcopy_opparams *op, struct copy_fail *f)
{
	uint8_t buf[512];
	struct prk_raw_cmd c = {.cdb_len = 16,
	                        .dir = PRK_RAW_READ,
	                        .in = buf,
	                        .in_cap = sizeof(buf),
	                        .timeout_ms = timeout_ms};
	prk_rcr_cdb_encode(PRK_RCR_SA_OP_PARAMS, list_id, sizeof(buf), c.cdb);
	copy_raw_sync(lu, &c);
	if (copy_outcome(&c, "RECEIVE COPY RESULTS (OPERATING PARAMETERS)", f))
		return f->exit;
	if (prk_rcr_opparams_decode(buf, c.in_len, op))
		return copy_failf(f, PRK_PERSIST_EXIT_MALFORMED,
		                  "RECEIVE COPY RESULTS (OPERATING PARAMETERS): malformed data "
		                  "(%" PRIu32 " bytes)",
		                  c.in_len);
	return 0;
}

int copy_lu_prout(struct copy_lu *lu, uint8_t sa, uint8_t type, const uint8_t *params, size_t len,
                  const char *what, struct copy_fail *f)
{
	struct prk_host_err e;
	if (prk_mpdev_prout_raw(lu->dev, 0, sa, type, params, (uint32_t)len, &e))
		return copy_host_fail(&e, what, f);
	return 0;
}

int copy_lu_holder(struct copy_lu *lu, struct copy_holder *hd, struct copy_fail *f)
{
	static uint8_t buf[8192];
	size_t got = 0;
	struct prk_host_err e;
	struct prk_field_err fe;
	*hd = (struct copy_holder){0};
	if (prk_mpdev_prin_raw(lu->dev, 0, PRK_PRIN_READ_RESERVATION, buf, 64, &got, &e))
		return copy_host_fail(&e, "PR IN (READ RESERVATION)", f);
	struct prk_prin_resv rv;
	if (prk_prin_resv_decode(buf, got, &rv, &fe))
		return copy_failf(f, PRK_PERSIST_EXIT_MALFORMED,
		                  "PR IN (READ RESERVATION): malformed (%s)", fe.field);
	hd->held = rv.present;
	hd->key = rv.key;
	hd->type = rv.type;
	if (!rv.present)
		return 0;
	if (prk_mpdev_prin_raw(lu->dev, 0, PRK_PRIN_READ_FULL_STATUS, buf, sizeof(buf), &got, &e))
		return copy_host_fail(&e, "PR IN (READ FULL STATUS)", f);
	struct prk_full_dec d;
	struct prk_full_desc fd;
	if (prk_full_dec_start(&d, buf, got, &fe))
		return copy_failf(f, PRK_PERSIST_EXIT_MALFORMED,
		                  "PR IN (READ FULL STATUS): malformed (%s)", fe.field);
	int rc;
	while ((rc = prk_full_dec_next(&d, &fd, &fe)) == 1) {
		if (fd.r_holder) {
			hd->holder_known = true;
			hd->tid = fd.tid;
			hd->rtpi = fd.rtpi;
			break;
		}
	}
	if (rc < 0)
		return copy_failf(f, PRK_PERSIST_EXIT_MALFORMED,
		                  "PR IN (READ FULL STATUS): malformed (%s)", fe.field);
	return 0;
}
