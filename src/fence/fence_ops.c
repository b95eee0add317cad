/* The fence actions against the storage, through the host library's
 * multipath devices (so every path of a device carries this node's key on
 * its own, stable nexus; no stale ISID is left behind).
 *
 * The agent uses its own set of nexuses (ISID role "fence"), registered
 * with the node's key, so it never disturbs the sessions of the node's I/O
 * process. Devices are handled in ascending order of their NAA identifier
 * (docs/fence.md, "Fencing order"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fence_key.h"
#include "fence_ops.h"
#include "incarnation.h"
#include "prkit/host.h"
#include "prkit/scsi_cdb.h"

struct fence_run {
	const struct prk_fence_opts *o;
	FILE *out, *err;
	struct prk_host *h;
	struct prk_mpdev *devs[16];
	size_t n;
	uint16_t tag;
	uint16_t me;
	uint64_t my_key;
};

static int cmp_naa(const void *a, const void *b)
{
	struct prk_mpdev *const *x = a, *const *y = b;
	return strcasecmp(prk_mpdev_naa(*x), prk_mpdev_naa(*y));
}

static const char *dev_name(struct fence_run *r, size_t i, char *buf, size_t cap)
{
	snprintf(buf, cap, "device naa.%s", prk_mpdev_naa(r->devs[i]));
	return buf;
}

/* Opens every configured device (paths up, identity known) and sorts
 * them by NAA. */
static int open_devices(struct fence_run *r, uint64_t key, bool read_only)
{
	struct prk_host_err e;
	for (size_t i = 0; i < r->o->n_devices; i++) {
		const struct prk_fence_device *fd = &r->o->devices[i];
		const char *urls[8];
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

static int step_err(struct fence_run *r, size_t i, const char *step, const char *msg)
{
	char b[64];
	fprintf(r->err, "fence_prkit: %s: %s: %s\n", dev_name(r, i, b, sizeof(b)), step, msg);
	return PRK_FENCE_EXIT_ERROR;
}

static bool has_key(const struct prk_resv_view *v, uint64_t k)
{
	for (size_t i = 0; i < v->n_keys; i++)
		if (v->keys[i] == k)
			return true;
	return false;
}

static bool has_node(const struct prk_resv_view *v, uint16_t tag, uint16_t node)
{
	for (size_t i = 0; i < v->n_keys; i++)
		if (prk_fence_key_is_node(v->keys[i], tag, node))
			return true;
	return false;
}

static bool is_member(const struct prk_fence_opts *o, uint16_t node)
{
	uint16_t ids[64];
	size_t n = prk_fence_member_ids(o, ids, 64);
	for (size_t i = 0; i < n; i++)
		if (ids[i] == node)
			return true;
	return false;
}

/* on: register on every path of every device, reserve WE-RO if nobody
 * does, as the first member remove keys of non-members, verify. */
static int act_on(struct fence_run *r)
{
	char msg[256];
	uint32_t inc;
	if (prk_fence_incarnation_next(r->o->state_dir, r->o->cluster_name, r->me, &inc, msg,
	                               sizeof(msg))) {
		fprintf(r->err, "fence_prkit: %s\n", msg);
		return PRK_FENCE_EXIT_ERROR;
	}
	r->my_key = prk_fence_key_make(r->tag, r->me, inc);
	if (open_devices(r, r->my_key, false))
		return PRK_FENCE_EXIT_ERROR;
	for (size_t i = 0; i < r->n; i++) {
		struct prk_mpdev *d = r->devs[i];
		struct prk_host_err e;
		struct prk_resv_view v;
		if (prk_mpdev_register(d, r->my_key, &e))
			return step_err(r, i, "register", e.msg);
		if (prk_mpdev_read_state(d, &v, &e))
			return step_err(r, i, "read reservation", e.msg);
		if (!v.present && prk_mpdev_reserve(d, PRK_PR_WE_RO, &e) &&
		    e.code != PRK_HE_CONFLICT)
			return step_err(r, i, "reserve", e.msg);
		if (r->o->first) {
			for (size_t k = 0; k < v.n_keys; k++) {
				uint64_t key = v.keys[k];
				uint16_t tag, node;
				uint32_t kinc;
				bool ours =
				    prk_fence_key_parse(key, &tag, &node, &kinc) && tag == r->tag;
				if (key == r->my_key ||
				    (ours && node != r->me && is_member(r->o, node)))
					continue;
				if (prk_mpdev_preempt(d, key, PRK_PR_WE_RO, true, &e))
					return step_err(r, i, "remove a non-member's key", e.msg);
			}
		}
		if (prk_mpdev_read_state(d, &v, &e))
			return step_err(r, i, "verify", e.msg);
		if (!has_key(&v, r->my_key))
			return step_err(r, i, "verify", "our key is not registered");
		if (!v.present)
			return step_err(r, i, "verify", "no reservation");
	}
	char ks[PRK_FENCE_KEY_STR_LEN];
	prk_fence_key_str(r->my_key, ks);
	fprintf(r->out, "Success: Powered ON (key %s)\n", ks);
	return PRK_FENCE_EXIT_OK;
}

static int own_key(struct fence_run *r)
{
	char msg[256];
	uint32_t inc = 0;
	if (prk_fence_incarnation_current(r->o->state_dir, r->o->cluster_name, r->me, &inc, msg,
	                                  sizeof(msg))) {
		fprintf(r->err, "fence_prkit: %s\n", msg);
		return -1;
	}
	if (!inc) {
		fprintf(r->err,
		        "fence_prkit: node %u has not joined (no incarnation in %s): run "
		        "action on first\n",
		        r->me, r->o->state_dir);
		return -1;
	}
	r->my_key = prk_fence_key_make(r->tag, r->me, inc);
	return 0;
}

/* off: for each device in NAA order: register our key again (our nexus
 * may have been replaced), PREEMPT AND ABORT every key of the victim (all
 * incarnations) keeping the reservation, verify. A RESERVATION CONFLICT
 * means we were fenced ourselves: stop there. */
static int act_off(struct fence_run *r, uint16_t victim)
{
	if (own_key(r) || open_devices(r, r->my_key, false))
		return PRK_FENCE_EXIT_ERROR;
	for (size_t i = 0; i < r->n; i++) {
		struct prk_mpdev *d = r->devs[i];
		struct prk_host_err e;
		struct prk_resv_view v;
		if (prk_mpdev_read_state(d, &v, &e))
			return step_err(r, i, "read keys", e.msg);
		/* Never REGISTER here: a survivor that lost a race would
		 * resurrect its own registration after the winner removed it.
		 * Our nexuses were registered by `on` (stable ISIDs); if ours
		 * is gone we were fenced, and we stop. */
		if (!has_key(&v, r->my_key))
			return step_err(r, i, "check our own key",
			                "our key is not registered: this node was fenced");
		uint64_t done[64];
		size_t n_done = 0;
		for (size_t k = 0; k < v.n_keys; k++) {
			uint64_t key = v.keys[k];
			bool seen = false;
			for (size_t j = 0; j < n_done; j++)
				seen |= done[j] == key;
			if (seen || !prk_fence_key_is_node(key, r->tag, victim))
				continue;
			if (prk_mpdev_preempt(d, key, PRK_PR_WE_RO, true, &e)) {
				if (e.code == PRK_HE_CONFLICT)
					return step_err(
					    r, i, "PREEMPT AND ABORT",
					    "RESERVATION CONFLICT: this node was fenced "
					    "first; stopping");
				return step_err(r, i, "PREEMPT AND ABORT", e.msg);
			}
			if (n_done < 64)
				done[n_done++] = key;
		}
		if (prk_mpdev_read_state(d, &v, &e))
			return step_err(r, i, "verify", e.msg);
		if (has_node(&v, r->tag, victim))
			return step_err(r, i, "verify", "a key of the victim is still registered");
		if (!v.present)
			return step_err(r, i, "verify", "no reservation after fencing");
	}
	fprintf(r->out, "Success: Powered OFF\n");
	return PRK_FENCE_EXIT_OK;
}

/* status: ON (0) when the node's key is on every device, OFF (2) else. */
static int act_status(struct fence_run *r, uint16_t node)
{
	if (open_devices(r, 0, true))
		return PRK_FENCE_EXIT_ERROR;
	for (size_t i = 0; i < r->n; i++) {
		struct prk_host_err e;
		struct prk_resv_view v;
		if (prk_mpdev_read_state(r->devs[i], &v, &e))
			return step_err(r, i, "read keys", e.msg);
		if (!has_node(&v, r->tag, node)) {
			fprintf(r->out, "Status: OFF\n");
			return PRK_FENCE_EXIT_OFF;
		}
	}
	fprintf(r->out, "Status: ON\n");
	return PRK_FENCE_EXIT_OK;
}

/* list: every node of this cluster with a key on the first device, as
 * "name," lines (names from the host map, else the node id). */
static int act_list(struct fence_run *r)
{
	if (open_devices(r, 0, true))
		return PRK_FENCE_EXIT_ERROR;
	struct prk_host_err e;
	struct prk_resv_view v;
	if (r->n && prk_mpdev_read_state(r->devs[0], &v, &e))
		return step_err(r, 0, "read keys", e.msg);
	uint16_t seen[64];
	size_t n_seen = 0;
	for (size_t k = 0; r->n && k < v.n_keys; k++) {
		uint16_t tag, node;
		uint32_t inc;
		if (!prk_fence_key_parse(v.keys[k], &tag, &node, &inc) || tag != r->tag || !node)
			continue;
		bool dup = false;
		for (size_t j = 0; j < n_seen; j++)
			dup |= seen[j] == node;
		if (dup || n_seen == 64)
			continue;
		seen[n_seen++] = node;
		const char *name = NULL;
		for (size_t j = 0; j < r->o->n_hosts; j++)
			if (r->o->hosts[j].id == node)
				name = r->o->hosts[j].name;
		if (name)
			fprintf(r->out, "%s,\n", name);
		else
			fprintf(r->out, "%u,\n", node);
	}
	return PRK_FENCE_EXIT_OK;
}

/* check (watchdog): 0 while our current key is on every device; 2 when it
 * is missing from any (after the retries), so the watchdog reboots us. */
static int act_check(struct fence_run *r)
{
	if (own_key(r))
		return PRK_FENCE_EXIT_ERROR; /* the check could not be done */
	if (open_devices(r, 0, true))
		return PRK_FENCE_EXIT_OFF;
	for (unsigned attempt = 0;; attempt++) {
		bool ok = true;
		for (size_t i = 0; i < r->n && ok; i++) {
			struct prk_host_err e;
			struct prk_resv_view v;
			ok =
			    prk_mpdev_read_state(r->devs[i], &v, &e) == 0 && has_key(&v, r->my_key);
		}
		if (ok)
			return PRK_FENCE_EXIT_OK;
		if (attempt >= r->o->retry)
			break;
		sleep(r->o->retry_sleep);
	}
	char ks[PRK_FENCE_KEY_STR_LEN];
	prk_fence_key_str(r->my_key, ks);
	fprintf(r->err, "fence_prkit: check: key %s of this node is missing\n", ks);
	return PRK_FENCE_EXIT_OFF;
}

int prk_fence_run(const struct prk_fence_opts *o, FILE *out, FILE *err)
{
	if (o->action == PRK_FENCE_METADATA) {
		prk_fence_metadata(out);
		return PRK_FENCE_EXIT_OK;
	}
	if (o->action == PRK_FENCE_VALIDATE)
		return PRK_FENCE_EXIT_OK; /* the caller validated the options */
	if (o->key_mode == PRK_FENCE_KEY_CLUSTER) {
		fprintf(err, "fence_prkit: key_mode=cluster is not implemented yet; use "
		             "key_mode=node\n");
		return PRK_FENCE_EXIT_ERROR;
	}
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
	int rc = PRK_FENCE_EXIT_ERROR;
	uint16_t victim;
	switch (o->action) {
	case PRK_FENCE_ON:
		rc = act_on(&r);
		break;
	case PRK_FENCE_OFF:
		if (prk_fence_target_id(o, &victim, msg, sizeof(msg)))
			fprintf(err, "fence_prkit: %s\n", msg);
		else
			rc = act_off(&r, victim);
		break;
	case PRK_FENCE_STATUS:
		if (prk_fence_target_id(o, &victim, msg, sizeof(msg)))
			fprintf(err, "fence_prkit: %s\n", msg);
		else
			rc = act_status(&r, victim);
		break;
	case PRK_FENCE_LIST:
		rc = act_list(&r);
		break;
	case PRK_FENCE_MONITOR:
		rc = open_devices(&r, 0, true) ? PRK_FENCE_EXIT_ERROR : PRK_FENCE_EXIT_OK;
		break;
	case PRK_FENCE_CHECK:
		rc = act_check(&r);
		break;
	default:
		break;
	}
	for (size_t i = 0; i < r.n; i++)
		prk_mpdev_free(r.devs[i]);
	prk_host_free(r.h);
	return rc;
}
