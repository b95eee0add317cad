/* The daemon's copy manager (src/copy/cm.h): one per daemon, attached to
 * every LU. The daemon decides what the copy manager may not: which LU a
 * CSCD descriptor names (only one of the requesting session's target: a
 * host must not copy from or to a LU it cannot reach, the class of
 * CVE-2020-28374), and whether a 15h segment may name a block LU (the
 * per-LU option). It logs and counts each copy's end. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backstore.h"
#include "cm.h"
#include "daemon.h"
#include "log.h"
#include "lu.h"
#include "prkit/scsi_xcopy.h"

/* VPD 83h reports one LU designator (inquiry.c): NAA, type 3, binary code
 * set, association 0 (the LU), 16 bytes. A CSCD names a LU by it. */
static bool names_lu(const struct prk_xcopy_cscd *c, const struct prk_lu *lu)
{
	return c->code_set == 1 && c->assoc == 0 && c->desig_type == 3 && c->desig_len == 16 &&
	       memcmp(c->desig, prk_lu_naa(lu), 16) == 0;
}

static struct prk_lu *cm_resolve(void *ctx, struct prk_lu *via, const struct prk_nexus *nx,
                                 const struct prk_xcopy_cscd *c)
{
	struct daemon *d = ctx;
	(void)nx; /* its session's target is via's: it may access exactly those LUs */
	const struct prk_dlu *x = prk_daemon_dlu(d, via);
	if (!x)
		return NULL;
	const struct prk_iscsi_target *t = &d->targets[x->target];
	for (size_t i = 0; i < t->n_luns; i++)
		if (names_lu(c, t->luns[i].lu))
			return t->luns[i].lu;
	return NULL;
}

static bool cm_allow_3pr_block(void *ctx, struct prk_lu *lu)
{
	const struct prk_dlu *x = prk_daemon_dlu(ctx, lu);
	return x && x->cfg.third_party_pr;
}

static void cm_copy_done(void *ctx, struct prk_lu *via, const struct prk_nexus *nx, uint8_t list_id,
                         uint8_t status, uint16_t seg, uint64_t bytes, const char *why)
{
	const struct daemon *d = ctx;
	const struct prk_dlu *x = prk_daemon_dlu(d, via);
	const char *outcome = status == PRK_XCOPY_ST_DONE ? "done" : "failed";
	prk_info("EXTENDED COPY list id %u from %s isid 0x%012llx on %s LUN %u: %s, %u "
	         "segment(s), %llu bytes%s%s%s",
	         list_id, nx->name, (unsigned long long)nx->isid,
	         x ? d->targets[x->target].name : "?", x ? x->cfg.lun : 0, outcome, seg,
	         (unsigned long long)bytes, why ? " (" : "", why ? why : "", why ? ")" : "");
}

int prk_daemon_cm_start(struct daemon *d, char *err, size_t errlen)
{
	const struct prk_cfg_copy_manager *c = &d->cfg.copy_manager;
	if (c->disabled)
		return 0;
	struct prk_cm_config cc = {.isid = c->isid, .rtpi = c->rtpi, .max_copies = c->max_copies};
	snprintf(cc.initiator, sizeof(cc.initiator), "%s", c->initiator);
	static const struct prk_cm_ops ops_tmpl = {.resolve = cm_resolve,
	                                           .allow_3pr_block = cm_allow_3pr_block,
	                                           .copy_done = cm_copy_done};
	struct prk_cm_ops ops = ops_tmpl;
	ops.ctx = d;
	char e[512];
	d->cm = prk_cm_new(&cc, &ops, e, sizeof(e));
	if (!d->cm) {
		snprintf(err, errlen, "copy_manager: %s", e);
		return -1;
	}
	const struct prk_nexus *nx = prk_cm_nexus(d->cm);
	prk_info("copy manager: %s,i,0x%012llx on relative target port %u", nx->name,
	         (unsigned long long)nx->isid, nx->rtpi);
	return 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void prk_daemon_cm_drain(struct daemon *d)
{
	if (!d->cm)
		return;
	struct prk_cm_stats st;
	uint64_t until = mono_ms() + 10000;
	for (prk_cm_stats(d->cm, &st); st.active && mono_ms() < until; prk_cm_stats(d->cm, &st)) {
		for (size_t i = 0; i < d->n_lus; i++)
			if (prk_bs_event_fd(d->lus[i]->bs) >= 0) {
				prk_bs_complete(d->lus[i]->bs);
				/* the loop's hooks no longer submit what that queued */
				prk_bs_kick(d->lus[i]->bs);
			}
		poll(NULL, 0, 1);
	}
	if (st.active)
		prk_err("shutdown: %u EXTENDED COPY command(s) still running after 10 s",
		        st.active);
}

void prk_daemon_cm_stop(struct daemon *d)
{
	prk_cm_free(d->cm);
	d->cm = NULL;
}

void prk_daemon_cm_nexus_gone(void *ctx, const struct prk_nexus *nx)
{
	struct daemon *d = ctx;
	if (d->cm)
		prk_cm_nexus_gone(d->cm, nx);
}

json_object *prk_daemon_cm_json(const struct daemon *d)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "enabled", json_object_new_boolean(d->cm != NULL));
	if (!d->cm)
		return o;
	const struct prk_nexus *nx = prk_cm_nexus(d->cm);
	char tid[PRK_ISCSI_NAME_MAX + 32], isid[16];
	snprintf(isid, sizeof(isid), "0x%012llx", (unsigned long long)nx->isid);
	/* TransportID format 01b as text: what REGISTER AND MOVE names. */
	snprintf(tid, sizeof(tid), "%s,i,%s", nx->name, isid);
	struct prk_cm_stats st;
	prk_cm_stats(d->cm, &st);
	json_object_object_add(o, "transport_id", json_object_new_string(tid));
	json_object_object_add(o, "initiator", json_object_new_string(nx->name));
	json_object_object_add(o, "isid", json_object_new_string(isid));
	json_object_object_add(o, "rtpi", json_object_new_int(nx->rtpi));
	json_object_object_add(o, "max_copies",
	                       json_object_new_int(prk_cm_opparams(d->cm)->total_concurrent));
	json_object_object_add(o, "active", json_object_new_int((int)st.active));
	json_object_object_add(o, "started", json_object_new_int64((int64_t)st.started));
	json_object_object_add(o, "done", json_object_new_int64((int64_t)st.done));
	json_object_object_add(o, "failed", json_object_new_int64((int64_t)st.failed));
	json_object_object_add(o, "aborted", json_object_new_int64((int64_t)st.aborted));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)st.bytes));
	json_object_object_add(o, "held", json_object_new_int((int)st.held));
	return o;
}

/* ---- PREEMPT AND ABORT: the iSCSI server's barrier and the copy
 * manager's at once; the PR OUT completes when both are done. ---- */

struct abort_join {
	unsigned left;
	void (*done)(void *arg);
	void *arg;
};

static void join_one(void *arg)
{
	struct abort_join *j = arg;
	if (--j->left)
		return;
	void (*done)(void *) = j->done;
	void *darg = j->arg;
	free(j);
	done(darg);
}

void prk_daemon_pr_abort(struct daemon *d, struct prk_lu *lu, const struct prk_nexus_set *sets,
                         size_t n, const struct prk_lu_cmd *except, void (*done)(void *arg),
                         void *arg)
{
	struct abort_join *j = d->cm ? malloc(sizeof(*j)) : NULL;
	if (!j) {
		if (d->cm)
			prk_err("PREEMPT AND ABORT: out of memory; the copy manager's commands "
			        "were not waited for");
		prk_iscsi_server_pr_abort(d->srv, lu, sets, n, except, done, arg);
		return;
	}
	/* One count held while both start: either may finish at once. */
	*j = (struct abort_join){.left = 3, .done = done, .arg = arg};
	prk_iscsi_server_pr_abort(d->srv, lu, sets, n, except, join_one, j);
	prk_cm_abort(d->cm, lu, sets, n, join_one, j);
	join_one(j);
}
