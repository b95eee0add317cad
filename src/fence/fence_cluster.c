/* Cluster mode (key_mode=cluster, the seed design's alternative): every
 * member registers one key, cluster tag | opener's node id | generation
 * (fence_key.h), and the key changes at every membership change.
 *
 * - on: register the current key (the highest generation of this cluster
 *   on the devices); with no key anywhere, or with `first`, open a new
 *   generation and remove every other key.
 * - off (a survivor fences a victim): open the next generation; on each
 *   device, in NAA order, with this node's I/O stalled: change our own
 *   nexuses from the key they hold there (READ FULL STATUS) to the new
 *   one (REGISTER with that key as RESERVATION KEY, so a nexus that lost
 *   it cannot come back),
 *   do the same for this node's I/O processes, then PREEMPT AND ABORT the
 *   old key and any rival new key. The victim and every other member lose
 *   their registration; the other members join the new generation by
 *   running `on` (docs/fence.md, "Cluster-wide key").
 * - The durable state is the generation counter and the key this node
 *   holds (incarnation.h). */
#include <stdio.h>
#include <string.h>

#include "fence_key.h"
#include "fence_run.h"
#include "incarnation.h"
#include "prkit/host.h"
#include "prkit/host_ctl.h"
#include "prkit/scsi_cdb.h"

static uint32_t gen_of(uint64_t key)
{
	return (uint32_t)key;
}

static int state_err(struct fence_run *r, const char *msg)
{
	fprintf(r->err, "fence_prkit: %s\n", msg);
	return PRK_FENCE_EXIT_ERROR;
}

/* The cluster key this node holds, from the state directory. */
static int load_my_key(struct fence_run *r)
{
	char msg[256];
	if (prk_fence_cluster_key_load(r->o->state_dir, r->o->cluster_name, &r->my_key, msg,
	                               sizeof(msg)))
		return state_err(r, msg), -1;
	if (!r->my_key) {
		fprintf(r->err,
		        "fence_prkit: this node has not joined cluster %s (no key in %s): run "
		        "action on first\n",
		        r->o->cluster_name, r->o->state_dir);
		return -1;
	}
	return 0;
}

/* The current cluster key on every device: *cur (0 when no device has
 * one). Devices that disagree, or a generation change under way, are
 * errors (printed). */
int prk_fence_cluster_find_current(struct fence_run *r, uint64_t *cur)
{
	*cur = 0;
	size_t at = 0;
	for (size_t i = 0; i < r->n; i++) {
		struct prk_host_err e;
		struct prk_resv_view v;
		uint64_t k = 0;
		char a[PRK_FENCE_KEY_STR_LEN], b[PRK_FENCE_KEY_STR_LEN], m[160];
		if (prk_mpdev_read_state(r->devs[i], &v, &e))
			return prk_fence_step_err(r, i, "read keys", e.msg), -1;
		int c = prk_fence_cluster_current(v.keys, v.n_keys, r->tag, &k);
		if (c < 0) {
			snprintf(m, sizeof(m),
			         "two keys of generation %u: a generation change is under way; "
			         "try again",
			         gen_of(k));
			return prk_fence_step_err(r, i, "read keys", m), -1;
		}
		if (c == 0)
			continue;
		if (*cur && k != *cur) {
			prk_fence_key_str(*cur, a);
			prk_fence_key_str(k, b);
			snprintf(m, sizeof(m), "cluster key %s here, %s on device naa.%s", b, a,
			         prk_mpdev_naa(r->devs[at]));
			return prk_fence_step_err(r, i, "read keys", m), -1;
		}
		*cur = k;
		at = i;
	}
	return 0;
}

/* Removes every key on device i but ours (the cluster's other keys; with
 * all_keys, also keys of other clusters and unknown ones), then checks
 * that none is left and a reservation exists. A rival key that shows up
 * again meanwhile (a racing survivor re-keying its own processes) is
 * removed again, a few rounds at most. 0, 1 (we were fenced), -1. */
static int remove_others(struct fence_run *r, size_t i, bool all_keys)
{
	struct prk_mpdev *d = r->devs[i];
	uint64_t mine = prk_mpdev_key(d);
	for (int round = 0; round < 4; round++) {
		struct prk_host_err e;
		struct prk_resv_view v;
		prk_fence_local_renew(r, i);
		if (prk_mpdev_read_state(d, &v, &e))
			return prk_fence_step_err(r, i, "read keys", e.msg), -1;
		/* Our own nexuses, not the key: this node's I/O processes
		 * may hold it while the agent's registration is gone. */
		if (!prk_fence_registered(d))
			return prk_fence_step_err(r, i, "read keys",
			                          "our nexuses are not registered: this node was "
			                          "fenced; stopping"),
			       1;
		bool others = false;
		for (size_t k = 0; k < v.n_keys; k++) {
			uint64_t key = v.keys[k];
			bool seen = false;
			for (size_t j = 0; j < k; j++)
				seen |= v.keys[j] == key; /* one key on many nexuses */
			if (seen || key == mine ||
			    (!all_keys && !prk_fence_key_same_cluster(key, r->tag)))
				continue;
			others = true;
			int rc = prk_fence_preempt(r, i, key);
			if (rc)
				return rc;
		}
		if (!others) {
			if (!v.present)
				return prk_fence_step_err(r, i, "verify", "no reservation"), -1;
			return 0;
		}
	}
	return prk_fence_step_err(r, i, "verify",
	                          "other keys of the cluster keep coming back; stopping"),
	       -1;
}

/* A new generation, above ours and above floor; its key opened by us. */
int prk_fence_cluster_new_key(struct fence_run *r, uint32_t floor, uint64_t *key)
{
	char msg[256];
	uint32_t g;
	if (prk_fence_generation_next_above(r->o->state_dir, r->o->cluster_name, floor, &g, msg,
	                                    sizeof(msg)))
		return state_err(r, msg), -1;
	*key = prk_fence_key_make(r->tag, r->me, g);
	return 0;
}

int prk_fence_cluster_save_key(struct fence_run *r, uint64_t key)
{
	char msg[256];
	if (prk_fence_cluster_key_save(r->o->state_dir, r->o->cluster_name, key, msg, sizeof(msg)))
		return state_err(r, msg), -1;
	r->my_key = key;
	return 0;
}

/* on, one device: register key, reserve if nobody does; for a fresh
 * generation move this node's I/O processes to it (atomically: only if
 * they hold the old key cur) and remove the other keys; bring processes
 * that lost their registration into it. 0, or -1 (printed). */
int prk_fence_cluster_on_device(struct fence_run *r, size_t i, uint64_t cur, uint64_t key,
                                bool fresh)
{
	struct prk_mpdev *d = r->devs[i];
	struct prk_host_err e;
	struct prk_resv_view v;
	if (prk_mpdev_register(d, key, &e))
		return prk_fence_step_err(r, i, "register", e.msg), -1;
	if (prk_mpdev_read_state(d, &v, &e))
		return prk_fence_step_err(r, i, "read reservation", e.msg), -1;
	if (!v.present && prk_mpdev_reserve(d, PRK_PR_WE_RO, &e) && e.code != PRK_HE_CONFLICT)
		return prk_fence_step_err(r, i, "reserve", e.msg), -1;
	if (fresh) {
		if (cur)
			prk_fence_local_set_key(r, i, cur, key);
		if (remove_others(r, i, r->o->first))
			return -1;
	} else if (prk_mpdev_read_state(d, &v, &e) || !prk_fence_has_key(&v, key) || !v.present) {
		return prk_fence_step_err(r, i, "verify", "our key or the reservation is missing"),
		       -1;
	}
	prk_fence_local_set_key(r, i, 0, key);
	return 0;
}

int prk_fence_cluster_on(struct fence_run *r)
{
	uint64_t cur, key;
	if (prk_fence_open_devices(r, 0, false) || prk_fence_cluster_find_current(r, &cur))
		return PRK_FENCE_EXIT_ERROR;
	/* A new generation when there is none, or as the first member (whose
	 * generation ends every registration left from before). */
	bool fresh = !cur || r->o->first;
	if (fresh ? prk_fence_cluster_new_key(r, cur ? gen_of(cur) : 0, &key) : (key = cur, 0))
		return PRK_FENCE_EXIT_ERROR;
	if (prk_fence_cluster_save_key(r, key)) /* on disk before the key is used */
		return PRK_FENCE_EXIT_ERROR;
	prk_fence_local_connect(r);
	for (size_t i = 0; i < r->n; i++) {
		/* This node's I/O held meanwhile: none of it goes through a
		 * nexus whose key is being changed or not registered yet. */
		prk_fence_local_stall(r, i);
		int rc = prk_fence_cluster_on_device(r, i, cur, key, fresh);
		prk_fence_local_resume(r, i);
		if (rc)
			return PRK_FENCE_EXIT_ERROR;
	}
	char ks[PRK_FENCE_KEY_STR_LEN];
	prk_fence_key_str(key, ks);
	fprintf(r->out, "Success: Powered ON (cluster key %s, generation %u)\n", ks, gen_of(key));
	return PRK_FENCE_EXIT_OK;
}

/* off, one device: move our nexuses (and this node's I/O processes) from
 * the key they hold to new, then remove every other key of the cluster.
 * The old key is read from our own nexuses on this device, not from the
 * state directory: after an earlier off stopped half-way the devices
 * hold different keys, and a new run must still go through. 0, 1 (we
 * were fenced), -1. */
int prk_fence_cluster_off_device(struct fence_run *r, size_t i, uint64_t new, bool *saved)
{
	struct prk_mpdev *d = r->devs[i];
	struct prk_host_err e;
	uint64_t old;
	if (prk_mpdev_own_key(d, &old, NULL, &e))
		return prk_fence_step_err(r, i, "read our registration", e.msg), -1;
	if (!prk_fence_key_same_cluster(old, r->tag))
		return prk_fence_step_err(r, i, "read our registration",
		                          "our nexuses hold no key of this cluster: this node was "
		                          "fenced; stopping"),
		       1;
	if (prk_mpdev_change_key(d, old, new, &e)) {
		if (e.code == PRK_HE_FENCED)
			return prk_fence_step_err(
			           r, i, "change to the new key",
			           "our nexuses do not hold the old key: this node was "
			           "fenced; stopping"),
			       1;
		return prk_fence_step_err(r, i, "change to the new key", e.msg), -1;
	}
	if (!*saved) {
		if (prk_fence_cluster_save_key(r, new))
			return -1;
		*saved = true;
	}
	prk_fence_local_renew(r, i);
	prk_fence_local_set_key(r, i, old, new);
	prk_fence_local_renew(r, i);
	return remove_others(r, i, false);
}

int prk_fence_cluster_off(struct fence_run *r, uint16_t victim)
{
	uint64_t key;
	if (load_my_key(r) || prk_fence_open_devices(r, r->my_key, false) ||
	    prk_fence_cluster_new_key(r, gen_of(r->my_key), &key))
		return PRK_FENCE_EXIT_ERROR;
	bool saved = false;
	prk_fence_local_connect(r);
	for (size_t i = 0; i < r->n; i++) {
		prk_fence_local_stall(r, i);
		int rc = prk_fence_cluster_off_device(r, i, key, &saved);
		prk_fence_local_resume(r, i);
		if (rc)
			return PRK_FENCE_EXIT_ERROR;
	}
	char ks[PRK_FENCE_KEY_STR_LEN];
	prk_fence_key_str(key, ks);
	fprintf(r->out,
	        "Success: Powered OFF (node %u; cluster key now %s, generation %u: the other "
	        "members must run action on to rejoin)\n",
	        victim, ks, gen_of(key));
	return PRK_FENCE_EXIT_OK;
}

int prk_fence_cluster_status(struct fence_run *r, uint16_t node)
{
	if (node != r->me) {
		fprintf(r->err,
		        "fence_prkit: status: with key_mode=cluster every member registers the "
		        "same key, so the keys cannot tell whether node %u is registered; only "
		        "this node's status can be asked (node %u)\n",
		        node, r->me);
		return PRK_FENCE_EXIT_ERROR;
	}
	if (load_my_key(r))
		return PRK_FENCE_EXIT_OFF;
	bool on = false;
	if (prk_fence_open_devices(r, 0, true) == 0 && prk_fence_key_everywhere(r, &on) == 0 &&
	    on) {
		fprintf(r->out, "Status: ON\n");
		return PRK_FENCE_EXIT_OK;
	}
	fprintf(r->out, "Status: OFF\n");
	return PRK_FENCE_EXIT_OFF;
}

int prk_fence_cluster_check(struct fence_run *r)
{
	if (load_my_key(r))
		return PRK_FENCE_EXIT_ERROR; /* the check could not be done */
	return prk_fence_check_key(r, "cluster key");
}
