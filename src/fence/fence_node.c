/* Node mode (key_mode=node, the default): every node registers its own
 * key, cluster tag | node id | incarnation (fence_key.h), a new
 * incarnation at every join. docs/fence.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fence_key.h"
#include "fence_run.h"
#include "incarnation.h"
#include "prkit/host.h"
#include "prkit/scsi_cdb.h"

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
int prk_fence_node_on(struct fence_run *r)
{
	char msg[256];
	uint32_t inc;
	if (prk_fence_incarnation_next(r->o->state_dir, r->o->cluster_name, r->me, &inc, msg,
	                               sizeof(msg))) {
		fprintf(r->err, "fence_prkit: %s\n", msg);
		return PRK_FENCE_EXIT_ERROR;
	}
	r->my_key = prk_fence_key_make(r->tag, r->me, inc);
	if (prk_fence_open_devices(r, r->my_key, false))
		return PRK_FENCE_EXIT_ERROR;
	for (size_t i = 0; i < r->n; i++) {
		struct prk_resv_view v;
		if (prk_fence_join_device(r, i, &v))
			return PRK_FENCE_EXIT_ERROR;
		if (r->o->first) {
			/* Every key that is not a current member's goes: other
			 * clusters' and unknown keys too (they would keep write
			 * access under registrants-only), and this node's older
			 * incarnations. */
			for (size_t k = 0; k < v.n_keys; k++) {
				uint64_t key = v.keys[k];
				uint16_t tag, node;
				uint32_t kinc;
				bool ours =
				    prk_fence_key_parse(key, &tag, &node, &kinc) && tag == r->tag;
				bool seen = false;
				for (size_t j = 0; j < k; j++)
					seen |= v.keys[j] == key;
				if (seen || key == r->my_key ||
				    (ours && node != r->me && is_member(r->o, node)))
					continue;
				if (prk_fence_preempt(r, i, key)) {
					char ks[PRK_FENCE_KEY_STR_LEN];
					prk_fence_key_str(key, ks);
					return prk_fence_step_err(
					    r, i, "first: remove a non-member's key", ks);
				}
			}
		}
		if (prk_fence_verify_joined(r, i))
			return PRK_FENCE_EXIT_ERROR;
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

/* off: device by device in NAA order, with this node's own I/O to the
 * device stalled meanwhile. A RESERVATION CONFLICT that shows our key gone
 * means we were fenced ourselves: stop there (docs/fence.md, "Fencing
 * order"). */
int prk_fence_node_off(struct fence_run *r, uint16_t victim)
{
	if (own_key(r) || prk_fence_open_devices(r, r->my_key, false))
		return PRK_FENCE_EXIT_ERROR;
	prk_fence_local_connect(r);
	for (size_t i = 0; i < r->n; i++) {
		prk_fence_local_stall(r, i);
		int rc = prk_fence_node_off_device(r, i, victim);
		prk_fence_local_resume(r, i);
		if (rc)
			return PRK_FENCE_EXIT_ERROR;
	}
	fprintf(r->out, "Success: Powered OFF\n");
	return PRK_FENCE_EXIT_OK;
}

/* status: ON (0) when the node's key is on every device, OFF (2) else. */
int prk_fence_node_status(struct fence_run *r, uint16_t node)
{
	if (prk_fence_open_devices(r, 0, true))
		return PRK_FENCE_EXIT_ERROR;
	for (size_t i = 0; i < r->n; i++) {
		struct prk_host_err e;
		struct prk_resv_view v;
		if (prk_mpdev_read_state(r->devs[i], &v, &e))
			return prk_fence_step_err(r, i, "read keys", e.msg);
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
int prk_fence_node_list(struct fence_run *r)
{
	if (prk_fence_open_devices(r, 0, true))
		return PRK_FENCE_EXIT_ERROR;
	struct prk_host_err e;
	struct prk_resv_view v;
	if (r->n && prk_mpdev_read_state(r->devs[0], &v, &e))
		return prk_fence_step_err(r, 0, "read keys", e.msg);
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
int prk_fence_node_check(struct fence_run *r)
{
	if (own_key(r))
		return PRK_FENCE_EXIT_ERROR; /* the check could not be done */
	return prk_fence_check_key(r, "key");
}
