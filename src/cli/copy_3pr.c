/* `prkit copy --third-party KEY`: SPC-4 Annex B.3, as a backup
 * application runs it, on DST:
 *   register   REGISTER AND IGNORE EXISTING KEY: KEY on our nexus;
 *   reserve    RESERVE, Exclusive Access (type 3);
 *   discover   the copy manager's I_T nexus: VPD 8Fh descriptor F001h
 *              (or --cm-transport-id and --cm-rtpi);
 * then for each EXTENDED COPY command of the plan:
 *   move       REGISTER AND MOVE to the copy manager's nexus with the
 *              copy manager's key (we stay registered: UNREG 0);
 *   copy       EXTENDED COPY to SRC: a 15h (first) whose REGISTER AND MOVE
 *              list moves the reservation back to our nexus with KEY and
 *              unregisters the copy manager (UNREG 1), then the 02h
 *              segments;
 *   verify     PR IN: the reservation is ours again (key, type, and the
 *              holder's TransportID in READ FULL STATUS);
 * and at the end, unless --keep, release and unregister.
 *
 * The EXTENDED COPY goes to SRC because DST is reserved, Exclusive
 * Access, by the copy manager while it runs: our nexus may not send it
 * commands. When the copy fails before the copy manager moved the
 * reservation back (the 15h itself refused, e.g. a block LU without
 * "third_party_reservations"), the reservation is left with the copy
 * manager: we take it back with PREEMPT of its key ("recover"), still
 * registered with KEY, and say so. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "copy_run.h"
#include "persist_exit.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"
#include "prkit/scsi_sense.h"
#include "prkit/scsi_vpd.h"

#define EXCLUSIVE_ACCESS 3

static char *tid_str(const struct prk_tid *t, char *buf, size_t cap)
{
	if (t->format == PRK_TID_FMT_PORT)
		snprintf(buf, cap, "%s,i,0x%012" PRIx64, t->name, t->isid);
	else
		snprintf(buf, cap, "%s", t->name);
	return buf;
}

static int basic(struct copy_run *r, uint8_t sa, uint8_t type, uint64_t rk, uint64_t sark,
                 const char *what)
{
	uint8_t p[PRK_PROUT_BASIC_LEN];
	prk_prout_params_encode_basic(rk, sark, false, false, NULL, 0, p, sizeof(p));
	return copy_lu_prout(&r->dst, sa, type, p, sizeof(p), what, &r->fail);
}

static int discover(struct copy_run *r)
{
	const struct prk_copy_args *a = r->a;
	struct copy_step *s = copy_step_begin(r, "discover");
	char t[300];
	if (a->cm_tid_given) {
		r->cm_tid = a->cm_tid;
		r->cm_rtpi = a->cm_rtpi;
		r->cm_from = "options";
	} else {
		static uint8_t page[4096];
		struct prk_raw_cmd c = {
		    .cdb_len = 6, .dir = PRK_RAW_READ, .in = page, .in_cap = sizeof(page)};
		prk_inquiry_cdb_encode(true, 0x8f, sizeof(page), c.cdb);
		copy_raw_sync(&r->dst, &c);
		if (copy_outcome(&c, "INQUIRY VPD 8Fh (Third-party Copy) of DST", &r->fail)) {
			copy_step_end(r, s, r->fail.exit, "%s", r->fail.msg);
			return r->fail.exit;
		}
		if (prk_vpd_3pc_cm_nexus(page, c.in_len, &r->cm_tid, &r->cm_rtpi)) {
			copy_failf(&r->fail, PRK_PERSIST_EXIT_OTHER,
			           "DST's Third-party Copy VPD page has no copy manager nexus "
			           "descriptor (F001h): give --cm-transport-id and --cm-rtpi");
			copy_step_end(r, s, r->fail.exit, "%s", r->fail.msg);
			return r->fail.exit;
		}
		r->cm_from = "VPD 8Fh descriptor F001h";
	}
	copy_step_end(r, s, 0, "copy manager %s on relative target port %u (%s)",
	              tid_str(&r->cm_tid, t, sizeof(t)), r->cm_rtpi, r->cm_from);
	return 0;
}

/* Who holds DST's reservation, as a step ("verify" or "check"). want_key:
 * the key that should. 0 when it does (and, for our key, through our
 * nexus). */
static int check_holder(struct copy_run *r, const char *name, uint64_t want_key, bool ours)
{
	struct copy_step *s = copy_step_begin(r, name);
	struct copy_holder hd;
	char t[300];
	if (copy_lu_holder(&r->dst, &hd, &r->fail)) {
		copy_step_end(r, s, r->fail.exit, "%s", r->fail.msg);
		return r->fail.exit;
	}
	if (!hd.held) {
		copy_failf(&r->fail, PRK_PERSIST_EXIT_OTHER,
		           "%s: DST has no reservation (expected key 0x%" PRIx64 ")", name,
		           want_key);
	} else if (hd.key != want_key || hd.type != EXCLUSIVE_ACCESS) {
		copy_failf(&r->fail, PRK_PERSIST_EXIT_OTHER,
		           "%s: DST's reservation is held by key 0x%" PRIx64 " (type %u), "
		           "expected 0x%" PRIx64 " (Exclusive Access)",
		           name, hd.key, hd.type, want_key);
	} else if (ours && hd.holder_known && !prk_tid_same_port(&hd.tid, &r->dst.nexus)) {
		copy_failf(&r->fail, PRK_PERSIST_EXIT_OTHER,
		           "%s: DST's reservation has our key but is held by %s, not our nexus",
		           name, tid_str(&hd.tid, t, sizeof(t)));
	} else {
		copy_step_end(r, s, 0, "reservation held by key 0x%" PRIx64 "%s%s", hd.key,
		              hd.holder_known ? ", nexus " : "",
		              hd.holder_known ? tid_str(&hd.tid, t, sizeof(t)) : "");
		return 0;
	}
	copy_step_end(r, s, r->fail.exit, "%s", r->fail.msg);
	return r->fail.exit;
}

/* After a failed copy: if the copy manager still holds the reservation,
 * take it back (PREEMPT of its key: it loses its registration too). */
static void recover(struct copy_run *r)
{
	struct copy_fail keep = r->fail;
	struct copy_holder hd;
	if (copy_lu_holder(&r->dst, &hd, &r->fail) == 0 && hd.held && hd.key == r->a->cm_key) {
		struct copy_step *s = copy_step_begin(r, "recover");
		if (basic(r, PRK_PROUT_PREEMPT, EXCLUSIVE_ACCESS, r->a->key, r->a->cm_key,
		          "PR OUT PREEMPT of the copy manager's key"))
			copy_step_end(r, s, r->fail.exit, "%s", r->fail.msg);
		else
			copy_step_end(r, s, 0,
			              "the copy manager still held the reservation: taken back "
			              "with PREEMPT of key 0x%" PRIx64,
			              r->a->cm_key);
	}
	r->fail = keep;
}

static int one_command(struct copy_run *r, uint64_t cmd)
{
	const struct prk_copy_args *a = r->a;
	uint8_t p[PRK_PROUT_MOVE_HDR_LEN + PRK_TID_MAX_LEN];
	char t[300];
	struct copy_step *s = copy_step_begin(r, "move");
	size_t len = prk_prout_params_encode_move(a->key, a->cm_key, false, false, r->cm_rtpi,
	                                          &r->cm_tid, p, sizeof(p));
	if (!len || copy_lu_prout(&r->dst, PRK_PROUT_REGISTER_AND_MOVE, EXCLUSIVE_ACCESS, p, len,
	                          "PR OUT REGISTER AND MOVE to the copy manager", &r->fail)) {
		if (!len)
			copy_failf(&r->fail, PRK_PERSIST_EXIT_SYNTAX,
			           "the copy manager's TransportID does not encode");
		copy_step_end(r, s, r->fail.exit, "%s", r->fail.msg);
		return r->fail.exit;
	}
	copy_step_end(r, s, 0, "reservation moved to %s (key 0x%" PRIx64 ")",
	              tid_str(&r->cm_tid, t, sizeof(t)), a->cm_key);
	if (a->verbose > 1 && check_holder(r, "check", a->cm_key, false))
		return r->fail.exit;

	/* The 15h's list: the copy manager (holder, its key) moves the
	 * reservation to our nexus, through the port we reach DST by. */
	uint8_t back[PRK_PROUT_MOVE_HDR_LEN + PRK_TID_MAX_LEN];
	size_t blen = prk_prout_params_encode_move(a->cm_key, a->key, true, false, r->dst.rtpi,
	                                           &r->dst.nexus, back, sizeof(back));
	s = copy_step_begin(r, "copy");
	int x =
	    blen ? copy_offload_cmd(r, cmd, back, blen)
	         : copy_failf(&r->fail, PRK_PERSIST_EXIT_OTHER, "our TransportID does not encode");
	if (x) {
		copy_step_end(r, s, x, "%s", r->fail.msg);
		struct copy_fail cf = r->fail;
		recover(r);
		check_holder(r, "verify", a->key, true);
		r->fail = cf;
		return x;
	}
	copy_step_end(r, s, 0, "EXTENDED COPY %" PRIu64 " of %" PRIu64 " done", cmd + 1,
	              r->plan.n_cmds);
	return check_holder(r, "verify", a->key, true);
}

int copy_third_party(struct copy_run *r)
{
	const struct prk_copy_args *a = r->a;
	if (!memcmp(r->src.naa, r->dst.naa, 16))
		return copy_failf(&r->fail, PRK_PERSIST_EXIT_CONTRADICT,
		                  "--third-party: SRC and DST are the same LU; while the copy "
		                  "manager holds its reservation we could not send it the "
		                  "EXTENDED COPY");
	struct copy_step *s = copy_step_begin(r, "register");
	if (basic(r, PRK_PROUT_REGISTER_AND_IGNORE, 0, 0, a->key,
	          "PR OUT REGISTER AND IGNORE EXISTING KEY")) {
		copy_step_end(r, s, r->fail.exit, "%s", r->fail.msg);
		return r->fail.exit;
	}
	char t[300];
	copy_step_end(r, s, 0, "key 0x%" PRIx64 " registered for %s", a->key,
	              tid_str(&r->dst.nexus, t, sizeof(t)));
	s = copy_step_begin(r, "reserve");
	if (basic(r, PRK_PROUT_RESERVE, EXCLUSIVE_ACCESS, a->key, 0,
	          "PR OUT RESERVE (Exclusive Access)")) {
		copy_step_end(r, s, r->fail.exit, "%s", r->fail.msg);
		return r->fail.exit;
	}
	copy_step_end(r, s, 0, "Exclusive Access reserved with key 0x%" PRIx64, a->key);
	int x = discover(r);
	for (uint64_t c = 0; !x && c < r->plan.n_cmds; c++)
		x = one_command(r, c);
	r->resv_end = x ? "see the steps" : "ours";
	if (a->keep)
		return x;
	/* Release and unregister whatever happened: we leave the LU as we
	 * found it, and keep the first failure's exit status. */
	struct copy_fail first = r->fail;
	s = copy_step_begin(r, "release");
	struct copy_holder hd;
	int y = copy_lu_holder(&r->dst, &hd, &r->fail);
	if (!y && hd.held && hd.key == a->key)
		y = basic(r, PRK_PROUT_RELEASE, EXCLUSIVE_ACCESS, a->key, 0, "PR OUT RELEASE");
	copy_step_end(r, s, y, "%s", y ? r->fail.msg : "released");
	s = copy_step_begin(r, "unregister");
	int z = basic(r, PRK_PROUT_REGISTER, 0, a->key, 0, "PR OUT REGISTER (unregister)");
	copy_step_end(r, s, z, "%s", z ? r->fail.msg : "key unregistered");
	if (x) {
		r->fail = first;
		return x;
	}
	if (y || z)
		return r->fail.exit;
	r->resv_end = "released";
	return 0;
}
