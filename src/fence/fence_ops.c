/* The fence actions against the storage, through the host library's
 * multipath devices (so every path of a device carries this node's key on
 * its own, stable nexus; no stale ISID is left behind): the dispatch by
 * action and key mode, and the steps both modes share.
 *
 * The agent uses its own set of nexuses (ISID role "fence"), registered
 * with the node's key, so it never disturbs the sessions of the node's I/O
 * process. Devices are handled in ascending order of their NAA identifier
 * (docs/fence.md, "Fencing order"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fence_key.h"
#include "fence_ops.h"
#include "fence_run.h"
#include "prkit/host.h"
#include "prkit/host_ctl.h"
#include "prkit/scsi_cdb.h"

static int cmp_naa(const void *a, const void *b)
{
	struct prk_mpdev *const *x = a, *const *y = b;
	return strcasecmp(prk_mpdev_naa(*x), prk_mpdev_naa(*y));
}

int prk_fence_open_devices(struct fence_run *r, uint64_t key, bool read_only)
{
	struct prk_host_err e;
	for (size_t i = 0; i < r->o->n_devices; i++) {
		const struct prk_fence_device *fd = &r->o->devices[i];
		const char *urls[PRK_FENCE_MAX_PATHS];
		for (size_t k = 0; k < fd->n_paths; k++)
			urls[k] = fd->paths[k];
		struct prk_mpdev_opts mo = {.initiator_name = r->o->initiator,
		                            .urls = urls,
		                            .n_urls = fd->n_paths,
		                            .key = key,
		                            .io_timeout_ms = r->o->timeout * 1000,
		                            .ephemeral_isid_ok = read_only,
		                            .isid_role = "fence"};
		struct prk_mpdev *d = prk_mpdev_new(r->h, &mo, &e);
		if (!d) {
			fprintf(r->err, "fence_prkit: device %zu (%s): %s\n", i + 1, fd->paths[0],
			        e.msg);
			return -1;
		}
		r->devs[r->n++] = d;
		if (prk_mpdev_wait_paths(d, (int)fd->n_paths, (int)r->o->timeout * 1000) == 0) {
			struct prk_path_info pi;
			prk_mpdev_paths(d, &pi, 1);
			fprintf(r->err, "fence_prkit: device %zu (%s): no path came up: %s\n",
			        i + 1, fd->paths[0], pi.last_error);
			return -1;
		}
	}
	qsort(r->devs, r->n, sizeof(r->devs[0]), cmp_naa);
	return 0;
}

int prk_fence_step_err(struct fence_run *r, size_t i, const char *step, const char *msg)
{
	fprintf(r->err, "fence_prkit: device naa.%s: %s: %s\n", prk_mpdev_naa(r->devs[i]), step,
	        msg);
	return PRK_FENCE_EXIT_ERROR;
}

bool prk_fence_has_key(const struct prk_resv_view *v, uint64_t k)
{
	for (size_t i = 0; i < v->n_keys; i++)
		if (v->keys[i] == k)
			return true;
	return false;
}

bool prk_fence_registered(const struct prk_mpdev *d)
{
	struct prk_path_info pi[PRK_MPDEV_MAX_PATHS];
	size_t n = prk_mpdev_paths(d, pi, PRK_MPDEV_MAX_PATHS);
	for (size_t k = 0; k < n; k++)
		if (pi[k].registered)
			return true;
	return false;
}

int prk_fence_preempt(struct fence_run *r, size_t i, uint64_t key)
{
	struct prk_mpdev *d = r->devs[i];
	struct prk_host_err e;
	if (prk_mpdev_preempt(d, key, PRK_PR_WE_RO, true, &e) == 0)
		return 0;
	if (e.code != PRK_HE_CONFLICT) {
		prk_fence_step_err(r, i, "PREEMPT AND ABORT", e.msg);
		return -1;
	}
	/* RESERVATION CONFLICT: either our own registration is gone (we were
	 * fenced first), or nobody holds the victim's key any more (another
	 * survivor removed it between our READ KEYS and our PREEMPT). */
	struct prk_resv_view v;
	if (prk_mpdev_read_state(d, &v, &e)) {
		prk_fence_step_err(r, i, "PREEMPT AND ABORT: RESERVATION CONFLICT, then READ KEYS",
		                   e.msg);
		return -1;
	}
	if (!prk_fence_registered(d)) {
		prk_fence_step_err(r, i, "PREEMPT AND ABORT",
		                   "RESERVATION CONFLICT: this node was fenced first; stopping");
		return 1;
	}
	if (!prk_fence_has_key(&v, key))
		return 0;
	prk_fence_step_err(r, i, "PREEMPT AND ABORT",
	                   "RESERVATION CONFLICT although both keys are registered");
	return -1;
}

int prk_fence_key_everywhere(struct fence_run *r, bool *all)
{
	*all = true;
	for (size_t i = 0; i < r->n && *all; i++) {
		struct prk_host_err e;
		struct prk_resv_view v;
		if (prk_mpdev_read_state(r->devs[i], &v, &e))
			return -1;
		*all = prk_fence_has_key(&v, r->my_key);
	}
	return 0;
}

int prk_fence_check_key(struct fence_run *r, const char *what)
{
	/* A device that cannot be reached counts as the key gone, after the
	 * retries: a check that errors out must not keep a fenced node up. */
	if (prk_fence_open_devices(r, 0, true) == 0) {
		for (unsigned attempt = 0;; attempt++) {
			bool all = false;
			if (prk_fence_key_everywhere(r, &all) == 0 && all)
				return PRK_FENCE_EXIT_OK;
			if (attempt >= r->o->retry)
				break;
			sleep(r->o->retry_sleep);
		}
	}
	char ks[PRK_FENCE_KEY_STR_LEN];
	prk_fence_key_str(r->my_key, ks);
	fprintf(r->err, "fence_prkit: check: %s %s of this node is missing\n", what, ks);
	return PRK_FENCE_EXIT_OFF;
}

static int run_action(struct fence_run *r)
{
	const struct prk_fence_opts *o = r->o;
	const bool cluster = o->key_mode == PRK_FENCE_KEY_CLUSTER;
	char msg[256];
	uint16_t node;
	switch (o->action) {
	case PRK_FENCE_ON:
		return cluster ? prk_fence_cluster_on(r) : prk_fence_node_on(r);
	case PRK_FENCE_OFF:
		if (prk_fence_target_id(o, &node, msg, sizeof(msg))) {
			fprintf(r->err, "fence_prkit: %s\n", msg);
			return PRK_FENCE_EXIT_ERROR;
		}
		return cluster ? prk_fence_cluster_off(r, node) : prk_fence_node_off(r, node);
	case PRK_FENCE_STATUS:
		if (prk_fence_target_id(o, &node, msg, sizeof(msg))) {
			fprintf(r->err, "fence_prkit: %s\n", msg);
			return PRK_FENCE_EXIT_ERROR;
		}
		return cluster ? prk_fence_cluster_status(r, node) : prk_fence_node_status(r, node);
	case PRK_FENCE_LIST:
		if (cluster) {
			fprintf(r->err, "fence_prkit: list: with key_mode=cluster every member "
			                "registers the same key, so the keys do not tell which "
			                "nodes are registered; use pcmk_host_map (static list)\n");
			return PRK_FENCE_EXIT_ERROR;
		}
		return prk_fence_node_list(r);
	case PRK_FENCE_MONITOR:
		return prk_fence_open_devices(r, 0, true) ? PRK_FENCE_EXIT_ERROR
		                                          : PRK_FENCE_EXIT_OK;
	case PRK_FENCE_CHECK:
		return cluster ? prk_fence_cluster_check(r) : prk_fence_node_check(r);
	default:
		return PRK_FENCE_EXIT_ERROR;
	}
}

int prk_fence_run(const struct prk_fence_opts *o, FILE *out, FILE *err)
{
	if (o->action == PRK_FENCE_METADATA) {
		prk_fence_metadata(out);
		return PRK_FENCE_EXIT_OK;
	}
	if (o->action == PRK_FENCE_VALIDATE)
		return PRK_FENCE_EXIT_OK; /* the caller validated the options */
	struct fence_run r = {.o = o, .out = out, .err = err};
	r.tag = prk_fence_cluster_tag(o->cluster_name);
	char msg[256];
	if (prk_fence_local_id(o, &r.me, msg, sizeof(msg)) && o->action != PRK_FENCE_STATUS &&
	    o->action != PRK_FENCE_LIST && o->action != PRK_FENCE_MONITOR) {
		fprintf(err, "fence_prkit: %s\n", msg);
		return PRK_FENCE_EXIT_ERROR;
	}
	struct prk_host_err e;
	struct prk_host_opts ho = {.state_dir = o->state_dir,
	                           .log_level = o->verbose > 1 ? o->verbose - 1 : 0};
	r.h = prk_host_new(&ho, &e);
	if (!r.h) {
		fprintf(err, "fence_prkit: %s\n", e.msg);
		return PRK_FENCE_EXIT_ERROR;
	}
	int rc = run_action(&r);
	prk_fence_local_close(&r);
	for (size_t i = 0; i < r.n; i++)
		prk_mpdev_free(r.devs[i]);
	prk_host_free(r.h);
	return rc;
}
