/* `prkit copy`: opens the two LUs through the host library, reads the
 * copy manager's OPERATING PARAMETERS, plans, runs the offload (or the
 * Annex B.3 sequence, or the host copy) and reports. */
#include "copy.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "copy_run.h"
#include "persist_exit.h"
#include "prkit/scsi_pr_wire.h"

static int verbose_events;

static void on_event(struct prk_mpdev *d, const struct prk_event *ev, void *arg)
{
	(void)d;
	(void)arg;
	if (verbose_events > 1)
		fprintf(stderr, "prkit copy: path event: %s%s%s\n", prk_event_name(ev->kind),
		        ev->why ? ": " : "", ev->why ? ev->why : "");
}

/* The ISIDs: with --third-party, DST's nexus is the default one of this
 * initiator for that URL (the one `prkit persist` uses, so that a kept
 * reservation can be released with it); every other session is of the
 * role "copy", which may be a fresh ISID when a saved one is in use. */
static int open_lu(struct copy_run *r, struct copy_lu *lu, const char *url, bool pr_nexus,
                   const char *initiator, struct prk_host_err *e)
{
	static const char *urls[2];
	static struct prk_mpdev_opts o[2];
	int i = lu == &r->src ? 0 : 1;
	urls[i] = url;
	o[i] = (struct prk_mpdev_opts){.initiator_name = initiator,
	                               .urls = &urls[i],
	                               .n_urls = 1,
	                               .io_timeout_ms = r->a->timeout * 1000,
	                               .ephemeral_isid_ok = !pr_nexus,
	                               .isid_role = pr_nexus ? NULL : "copy",
	                               .on_event = on_event};
	lu->url = url;
	lu->dev = prk_mpdev_new(r->h, &o[i], e);
	if (!lu->dev)
		return copy_host_fail(e, url, &r->fail);
	if (prk_mpdev_wait_paths(lu->dev, 1, (int)r->a->timeout * 1000) == 0) {
		struct prk_path_info pi;
		prk_mpdev_paths(lu->dev, &pi, 1);
		return copy_failf(&r->fail, PRK_PERSIST_EXIT_FILE_ERROR, "cannot open %s: %s", url,
		                  pi.last_error[0] ? pi.last_error : "no path came up");
	}
	return 0;
}

static int limits(struct copy_run *r, struct prk_copy_limits *l)
{
	const struct prk_copy_args *a = r->a;
	*l = (struct prk_copy_limits){.seg_blocks = a->seg_blocks, .segs_per_cmd = a->segs_per_cmd};
	if (a->host_copy)
		return 0;
	if (copy_lu_opparams(&r->src, a->list_id, a->timeout * 1000, &r->op, &r->fail))
		return r->fail.exit;
	r->have_op = true;
	l->max_cscd = r->op.max_cscd;
	l->max_seg = r->op.max_seg;
	l->max_list_len = r->op.max_list_len;
	l->max_seg_len = r->op.max_seg_len;
	l->n_cscd = r->src.shared || !memcmp(r->src.naa, r->dst.naa, 16) ? 1 : 2;
	if (a->third_party) {
		/* One 15h: its header (8 bytes) and a REGISTER AND MOVE list
		 * naming our nexus. */
		l->extra_segs = 1;
		l->extra_len =
		    8 + PRK_PROUT_MOVE_HDR_LEN + (uint32_t)prk_tid_encoded_len(&r->dst.nexus);
	}
	return 0;
}

static int run(struct copy_run *r, const char *initiator)
{
	const struct prk_copy_args *a = r->a;
	struct prk_host_err e = {0};
	struct prk_host_opts ho = {.log_level = a->verbose > 2 ? a->verbose - 2 : 0};
	r->h = prk_host_new(&ho, &e);
	if (!r->h)
		return copy_host_fail(&e, "host", &r->fail);
	if (open_lu(r, &r->src, a->src.text, false, initiator, &e))
		return r->fail.exit;
	if (!strcmp(a->src.text, a->dst.text) && !a->third_party) {
		r->dst = r->src;
		r->dst.shared = r->src.shared = true;
	} else if (open_lu(r, &r->dst, a->dst.text, a->third_party, initiator, &e)) {
		return r->fail.exit;
	}
	if (copy_lu_identify(&r->src, initiator, &r->fail) ||
	    copy_lu_identify(&r->dst, initiator, &r->fail))
		return r->fail.exit;
	struct prk_copy_limits l;
	if (limits(r, &l))
		return r->fail.exit;
	struct prk_copy_geom g = {r->src.bs, r->dst.bs, r->src.blocks, r->dst.blocks};
	struct prk_copy_req q = {a->src_lba, a->dst_lba, a->blocks, a->blocks_given};
	char m[400];
	if (prk_copy_plan_make(&g, &q, &l, &r->plan, m, sizeof(m)))
		return copy_failf(&r->fail, PRK_PERSIST_EXIT_SYNTAX, "%s", m);
	if (a->verbose && !a->json)
		fprintf(stderr,
		        "prkit copy: %" PRIu64 " blocks of %" PRIu32 " bytes, %s%" PRIu64
		        " segments of up to %" PRIu32 " blocks in %" PRIu64 " command%s\n",
		        r->plan.blocks, r->plan.src_bs,
		        a->host_copy ? "host copy; offload would be " : "", r->plan.n_segs,
		        r->plan.seg_blocks, r->plan.n_cmds, r->plan.n_cmds == 1 ? "" : "s");
	r->t0_ms = prk_host_now_ms();
	int x = a->host_copy     ? copy_host(r)
	        : a->third_party ? copy_third_party(r)
	                         : copy_offload(r);
	r->t1_ms = prk_host_now_ms();
	if (!x)
		copy_progress(r, true);
	return x;
}

int prk_cli_copy(int argc, char **argv)
{
	static struct prk_copy_args a;
	static struct copy_run r;
	char msg[512];
	int rc = prk_copy_parse(argc, argv, &a, msg, sizeof(msg));
	if (rc) {
		fprintf(stderr, "prkit copy: %s\n", msg);
		fprintf(stderr, "Try 'prkit copy --help' for more information.\n");
		return rc;
	}
	if (a.help) {
		prk_copy_usage(stdout);
		return 0;
	}
	if (a.version) {
		printf("prkit copy 0.1.0\n");
		return 0;
	}
	if (!a.initiator_given &&
	    prk_persist_default_initiator(a.initiator, sizeof(a.initiator), msg, sizeof(msg))) {
		fprintf(stderr, "prkit copy: %s\n", msg);
		return PRK_PERSIST_EXIT_SYNTAX;
	}
	memset(&r, 0, sizeof(r));
	r.a = &a;
	r.tty = isatty(STDERR_FILENO);
	r.progress = a.verbose || (r.tty && !a.json);
	verbose_events = a.verbose;
	int x = run(&r, a.initiator);
	if (x && !r.t1_ms)
		r.t1_ms = r.t0_ms ? prk_host_now_ms() : 0;
	x = copy_report(&r, x);
	if (r.dst.dev && !r.dst.shared)
		prk_mpdev_free(r.dst.dev);
	if (r.src.dev)
		prk_mpdev_free(r.src.dev);
	if (r.h)
		prk_host_free(r.h);
	return x;
}
