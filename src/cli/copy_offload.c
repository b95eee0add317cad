/* `prkit copy`: the offload. Each command of the plan is one EXTENDED
 * COPY (LID1, LIST ID USAGE 00b: the copy manager holds the result) sent
 * to SRC; while it runs, RECEIVE COPY RESULTS (COPY STATUS) with the same
 * list identifier goes out on the same session every half second for the
 * progress. When it ends, one more COPY STATUS reads the held result
 * (which releases it, so that the list identifier is free for the next
 * command) and says how many segments the copy manager processed: on a
 * failure, the segment the copy stopped at. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy_list.h"
#include "copy_run.h"
#include "copy_sense.h"
#include "persist_exit.h"
#include "prkit/scsi_sense.h"

#define POLL_MS 500

struct flight {
	struct copy_run *r;
	struct prk_raw_cmd xc, rcr;
	bool xc_done, rcr_busy;
	uint8_t rcr_buf[64];
	uint64_t base; /* bytes copied by the commands before this one */
};

static void xc_done(struct prk_mpdev *d, struct prk_raw_cmd *c, void *arg)
{
	(void)d;
	(void)c;
	((struct flight *)arg)->xc_done = true;
}

static void rcr_done(struct prk_mpdev *d, struct prk_raw_cmd *c, void *arg)
{
	(void)d;
	struct flight *fl = arg;
	fl->rcr_busy = false;
	struct prk_xcopy_status st;
	/* A poll that meets the end of the copy (or any error) says nothing
	 * about the copy itself: the EXTENDED COPY's own status does. */
	if (c->status != PRK_STATUS_GOOD || fl->xc_done ||
	    prk_rcr_status_decode(fl->rcr_buf, c->in_len, &st))
		return;
	/* TiB units and above would only come from a confused target (and
	 * could overflow): no progress from them. */
	if (st.status == PRK_XCOPY_ST_IN_PROGRESS && st.units <= 4) {
		uint64_t b = (uint64_t)st.count << (10 * st.units);
		fl->r->bytes_now = fl->base + b;
		copy_progress(fl->r, false);
	}
}

static void rcr_start(struct flight *fl, struct copy_run *r)
{
	fl->rcr = (struct prk_raw_cmd){.cdb_len = 16,
	                               .dir = PRK_RAW_READ,
	                               .in = fl->rcr_buf,
	                               .in_cap = sizeof(fl->rcr_buf),
	                               .timeout_ms = r->a->timeout * 1000};
	prk_rcr_cdb_encode(PRK_RCR_SA_COPY_STATUS, r->a->list_id, sizeof(fl->rcr_buf), fl->rcr.cdb);
	if (prk_mpdev_raw_async(r->src.dev, 0, &fl->rcr, rcr_done, fl) == 0)
		fl->rcr_busy = true;
}

/* COPY STATUS after the end: releases the held result, and tells how far
 * the copy manager got. -1 when it could not be read. */
static int final_status(struct copy_run *r, struct prk_xcopy_status *st)
{
	uint8_t buf[64];
	struct prk_raw_cmd c = {.cdb_len = 16,
	                        .dir = PRK_RAW_READ,
	                        .in = buf,
	                        .in_cap = sizeof(buf),
	                        .timeout_ms = r->a->timeout * 1000};
	prk_rcr_cdb_encode(PRK_RCR_SA_COPY_STATUS, r->a->list_id, sizeof(buf), c.cdb);
	if (copy_raw_sync(&r->src, &c) != PRK_STATUS_GOOD)
		return -1;
	return prk_rcr_status_decode(buf, c.in_len, st);
}

int copy_offload_cmd(struct copy_run *r, uint64_t cmd, const uint8_t *move, size_t move_len)
{
	static uint8_t list[PRK_XCOPY_HDR_LEN + PRK_XCOPY_MAX_CSCD * PRK_XCOPY_CSCD_LEN +
	                    PRK_XCOPY_MAX_SEG * 300];
	uint16_t n02;
	struct prk_copy_lu_id src = {.pdt = r->src.pdt, .bs = r->src.bs},
	                      dst = {.pdt = r->dst.pdt, .bs = r->dst.bs};
	memcpy(src.naa, r->src.naa, 16);
	memcpy(dst.naa, r->dst.naa, 16);
	bool one = r->src.shared || !memcmp(r->src.naa, r->dst.naa, 16);
	size_t len = prk_copy_list_build(&r->plan, cmd, r->a->list_id, &src, one ? NULL : &dst,
	                                 move, move_len, list, sizeof(list), &n02);
	if (!len || len > sizeof(list))
		return copy_failf(&r->fail, PRK_PERSIST_EXIT_OTHER,
		                  "EXTENDED COPY %" PRIu64 ": the parameter list does not encode",
		                  cmd + 1);
	static struct flight fl;
	/* A unit attention means the command did not run: send it again. */
	for (int attempt = 0; attempt < 8; attempt++) {
		fl = (struct flight){.r = r, .base = r->bytes_done};
		fl.xc = (struct prk_raw_cmd){.cdb_len = 16,
		                             .dir = PRK_RAW_WRITE,
		                             .out = list,
		                             .out_len = (uint32_t)len,
		                             .timeout_ms =
		                                 r->a->timeout * 1000u * (n02 + (move ? 1u : 0u))};
		prk_xcopy_cdb_encode((uint32_t)len, fl.xc.cdb);
		if (prk_mpdev_raw_async(r->src.dev, 0, &fl.xc, xc_done, &fl))
			return copy_failf(&r->fail, PRK_PERSIST_EXIT_TRANSPORT,
			                  "EXTENDED COPY %" PRIu64 ": no session to %s", cmd + 1,
			                  r->src.url);
		uint64_t next_poll = prk_host_now_ms() + POLL_MS;
		while (!fl.xc_done || fl.rcr_busy) {
			uint64_t now = prk_host_now_ms();
			if (!fl.xc_done && !fl.rcr_busy && now >= next_poll) {
				rcr_start(&fl, r);
				r->polls++;
				next_poll = now + POLL_MS;
			}
			prk_host_run(r->h, 50);
		}
		if (!copy_is_ua(&fl.xc))
			break;
	}
	uint64_t first;
	uint16_t n;
	prk_copy_plan_cmd(&r->plan, cmd, &first, &n);
	struct prk_copy_seg last;
	prk_copy_plan_seg(&r->plan, first + n - 1, &last);
	uint64_t cmd_bytes =
	    (last.src_lba + last.n_blocks - r->plan.src_lba) * r->plan.src_bs - (r->bytes_done);
	char what[160];
	snprintf(what, sizeof(what),
	         "EXTENDED COPY %" PRIu64 " of %" PRIu64 " (segments %" PRIu64 "..%" PRIu64 ")",
	         cmd + 1, r->plan.n_cmds, first, first + n - 1);
	struct prk_xcopy_status st;
	int have_st = -1;
	if (fl.xc.status != PRK_RAW_TRANSPORT && fl.xc.status != PRK_RAW_TIMEOUT)
		have_st = final_status(r, &st);
	if (copy_outcome(&fl.xc, what, &r->fail)) {
		uint16_t k;
		if (!prk_copy_abort_segment(fl.xc.sense, fl.xc.sense_len, &k)) {
			/* Descriptors are numbered from 0 in the list; a 15h, when
			 * there is one, is number 0. */
			size_t m = strlen(r->fail.msg);
			uint16_t extra = move ? 1 : 0;
			if (move && k == 0) {
				snprintf(r->fail.msg + m, sizeof(r->fail.msg) - m,
				         "; at segment descriptor 0 (the 15h)");
			} else if (k >= extra && k - extra < n) {
				struct prk_copy_seg ps;
				prk_copy_plan_seg(&r->plan, first + k - extra, &ps);
				snprintf(r->fail.msg + m, sizeof(r->fail.msg) - m,
				         "; at segment descriptor %u (02h: %" PRIu32
				         " blocks from source LBA %" PRIu64
				         " to destination LBA %" PRIu64 ")",
				         k, ps.n_blocks, ps.src_lba, ps.dst_lba);
			} else {
				snprintf(r->fail.msg + m, sizeof(r->fail.msg) - m,
				         "; at segment descriptor %u", k);
			}
		}
		if (have_st == 0) {
			size_t m = strlen(r->fail.msg);
			snprintf(r->fail.msg + m, sizeof(r->fail.msg) - m,
			         "; copy status: %s, %u segment descriptor%s processed",
			         st.status == PRK_XCOPY_ST_FAILED ? "failed" : "not failed",
			         st.segs_done, st.segs_done == 1 ? "" : "s");
		}
		return r->fail.exit;
	}
	r->bytes_done += cmd_bytes;
	r->bytes_now = r->bytes_done;
	r->segs_done += n;
	r->cmds_done++;
	r->offloaded = true;
	copy_progress(r, false);
	return 0;
}

int copy_offload(struct copy_run *r)
{
	for (uint64_t c = 0; c < r->plan.n_cmds; c++)
		if (copy_offload_cmd(r, c, NULL, 0))
			return r->fail.exit;
	return 0;
}
