/* `prkit persist`: sg_persist's vocabulary over iSCSI, through the host
 * library's multipath device. With several URLs it behaves like
 * mpathpersist: REGISTER-type actions and RELEASE go through every path
 * (one I_T nexus each), the others through one path; PREEMPT of our own
 * key re-registers the other paths afterwards. Parsing and printing are in
 * persist_args.c / persist_fmt.c; exit statuses follow sg3_utils. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persist.h"
#include "persist_args.h"
#include "persist_exit.h"
#include "persist_fmt.h"
#include "prkit/host.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"

static int verbose_events;

static void on_event(struct prk_mpdev *d, const struct prk_event *ev, void *arg)
{
	(void)d;
	(void)arg;
	if (ev->kind == PRK_EV_UA)
		fprintf(stderr, "prkit persist: path %d: unit attention %02x/%02x (reported)\n",
		        ev->path, ev->asc >> 8, ev->asc & 0xff);
	else if (verbose_events)
		fprintf(stderr, "prkit persist: path %d: %s%s%s\n", ev->path,
		        prk_event_name(ev->kind), ev->why ? ": " : "", ev->why ? ev->why : "");
}

static const struct prk_persist_args *cur_args;

/* sg_persist's own failure lines (scripts grep them), then our detail:
 * which path, which command, which sense. */
static int fail(const struct prk_host_err *e)
{
	int x = prk_persist_exit_of_host_err(e);
	if (cur_args && x)
		prk_persist_print_outcome(stderr, cur_args, x);
	fprintf(stderr, "prkit persist: %s\n", e->msg);
	return x;
}

/* The parameter list of a PR OUT as the arguments ask. */
static size_t prout_params(const struct prk_persist_args *a, bool spec_i_pt, uint8_t *buf,
                           size_t cap)
{
	if (a->prout_sa == PRK_PROUT_REGISTER_AND_MOVE)
		return prk_prout_params_encode_move(a->rk, a->sark, a->unreg, a->aptpl, a->rtpi,
		                                    &a->tids[0], buf, cap);
	return prk_prout_params_encode_basic(a->rk, a->sark, a->all_tg_pt, a->aptpl,
	                                     spec_i_pt ? a->tids : NULL, spec_i_pt ? a->n_tids : 0,
	                                     buf, cap);
}

static int run_out(struct prk_mpdev *d, const struct prk_persist_args *a)
{
	static uint8_t params[8192];
	struct prk_host_err err;
	int idx[PRK_MPDEV_MAX_PATHS];
	size_t n = prk_mpdev_ready_paths(d, idx, PRK_MPDEV_MAX_PATHS);
	uint8_t sa = a->prout_sa;
	bool every_path = sa == PRK_PROUT_REGISTER || sa == PRK_PROUT_REGISTER_AND_IGNORE ||
	                  sa == PRK_PROUT_RELEASE;
	if (!every_path)
		n = 1;
	bool sent = false;
	for (size_t i = 0; i < n; i++) {
		/* SPEC_I_PT registers the other ports once, from the first path. */
		size_t len = prout_params(a, !sent && a->n_tids > 0, params, sizeof(params));
		if (!len) {
			fprintf(stderr, "prkit persist: --transport-id: cannot encode\n");
			return PRK_PERSIST_EXIT_SYNTAX;
		}
		int path = every_path ? idx[i] : -1;
		int rc = prk_mpdev_prout_raw(d, path, sa, a->type, params, (uint32_t)len, &err);
		if (rc && sa == PRK_PROUT_REGISTER && err.code == PRK_HE_CONFLICT && sent) {
			/* Registered through some paths already but not this one
			 * (mpathpersist's rule): register it regardless. */
			rc = prk_mpdev_prout_raw(d, path, PRK_PROUT_REGISTER_AND_IGNORE, 0, params,
			                         (uint32_t)len, &err);
		}
		if (rc)
			return fail(&err);
		sent = true;
	}
	if ((sa == PRK_PROUT_PREEMPT || sa == PRK_PROUT_PREEMPT_AND_ABORT) && a->sark == a->rk &&
	    a->rk) {
		/* Preempting our own key dropped the other paths' registrations
		 * (fence-agents #594): put them back. */
		size_t m = prk_mpdev_ready_paths(d, idx, PRK_MPDEV_MAX_PATHS);
		prk_prout_params_encode_basic(0, a->rk, false, a->aptpl, NULL, 0, params,
		                              sizeof(params));
		for (size_t i = 0; i < m; i++)
			if (prk_mpdev_prout_raw(d, idx[i], PRK_PROUT_REGISTER_AND_IGNORE, 0, params,
			                        PRK_PROUT_BASIC_LEN, &err))
				return fail(&err);
	}
	return 0;
}

int prk_cli_persist(int argc, char **argv)
{
	static struct prk_persist_args a;
	char msg[512];
	int rc = prk_persist_parse(argc, argv, &a, msg, sizeof(msg));
	if (rc) {
		fprintf(stderr, "prkit persist: %s\n", msg);
		fprintf(stderr, "Try 'prkit persist --help' for more information.\n");
		return rc;
	}
	if (a.help) {
		prk_persist_usage(stdout, a.help);
		return 0;
	}
	if (a.version) {
		printf("prkit persist 0.1.0\n");
		return 0;
	}
	if (!a.initiator_given &&
	    prk_persist_default_initiator(a.initiator, sizeof(a.initiator), msg, sizeof(msg))) {
		fprintf(stderr, "prkit persist: %s\n", msg);
		return PRK_PERSIST_EXIT_SYNTAX;
	}
	prk_persist_print_notes(stderr, &a);
	cur_args = &a;
	verbose_events = a.verbose;

	struct prk_host_err err = {0};
	struct prk_host_opts ho = {.log_level = a.verbose > 1 ? a.verbose - 1 : 0};
	struct prk_host *h = prk_host_new(&ho, &err);
	if (!h)
		return fail(&err);
	const char *urls[PRK_PERSIST_MAX_URLS];
	for (size_t i = 0; i < a.n_urls; i++)
		urls[i] = a.urls[i].text;
	struct prk_mpdev_opts o = {.initiator_name = a.initiator,
	                           .urls = urls,
	                           .n_urls = a.n_urls,
	                           .io_timeout_ms = a.timeout * 1000,
	                           .ephemeral_isid_ok = a.dir == PRK_PERSIST_IN,
	                           .on_event = on_event};
	struct prk_mpdev *d = prk_mpdev_new(h, &o, &err);
	if (!d) {
		prk_host_free(h);
		return fail(&err);
	}
	int x = 0;
	if (prk_mpdev_wait_paths(d, (int)a.n_urls, (int)a.timeout * 1000) == 0) {
		struct prk_path_info pi;
		prk_mpdev_paths(d, &pi, 1);
		fprintf(stderr, "prkit persist: cannot open %s: %s\n", a.urls[0].text,
		        pi.last_error[0] ? pi.last_error : "no path came up");
		x = PRK_PERSIST_EXIT_FILE_ERROR;
		goto out;
	}
	json_object *inq = NULL;
	if (!a.no_inquiry) {
		char v[9], p[17], r[5];
		uint8_t pdt;
		if (prk_mpdev_inquiry(d, v, p, r, &pdt, &err)) {
			x = fail(&err);
			goto out;
		}
		if (a.json)
			inq = prk_persist_json_inquiry(v, p, r, pdt);
		else if (!a.hex)
			prk_persist_print_inquiry(stdout, v, p, r, pdt);
	}
	if (a.dir == PRK_PERSIST_IN) {
		static uint8_t buf[65535];
		size_t got = 0;
		if (prk_mpdev_prin_raw(d, -1, a.prin_sa, buf, a.alloc_len, &got, &err)) {
			x = fail(&err);
		} else if (a.json && inq) {
			/* The report, with the INQUIRY data added to it. */
			FILE *mem = NULL;
			char *text = NULL;
			size_t tlen = 0;
			mem = open_memstream(&text, &tlen);
			x = prk_persist_report_prin(mem, stderr, &a, buf, got);
			fclose(mem);
			json_object *o2 = json_tokener_parse(text);
			if (o2 && json_object_is_type(o2, json_type_object)) {
				json_object_object_add(o2, "inquiry", json_object_get(inq));
				prk_persist_json_print(stdout, o2);
			} else {
				fputs(text, stdout);
			}
			json_object_put(o2);
			free(text);
		} else {
			x = prk_persist_report_prin(stdout, stderr, &a, buf, got);
		}
	} else {
		x = run_out(d, &a);
		if (x == 0)
			prk_persist_print_outcome(stderr, &a, 0);
		if (a.json) {
			json_object *o2 = prk_persist_json_prout(&a, x);
			if (inq)
				json_object_object_add(o2, "inquiry", json_object_get(inq));
			prk_persist_json_print(stdout, o2);
			json_object_put(o2);
		}
	}
	json_object_put(inq);
out:
	prk_mpdev_free(d);
	prk_host_free(h);
	return x;
}
