/* The fence steps on one device that is already open (fence_run.h):
 * join (register, reserve), drop this node's stale keys, verify, and fence
 * a node. The agent runs them on devices it opens for one action;
 * prkit fenced runs them on devices it keeps open, so that a fencing or
 * a self-check costs no login. */
#include <stdio.h>

#include "fence_key.h"
#include "fence_run.h"
#include "prkit/host.h"
#include "prkit/scsi_cdb.h"

static bool has_node(const struct prk_resv_view *v, uint16_t tag, uint16_t node)
{
	for (size_t i = 0; i < v->n_keys; i++)
		if (prk_fence_key_is_node(v->keys[i], tag, node))
			return true;
	return false;
}

int prk_fence_join_device(struct fence_run *r, size_t i, struct prk_resv_view *out)
{
	struct prk_mpdev *d = r->devs[i];
	struct prk_host_err e;
	struct prk_resv_view v;
	if (prk_mpdev_register(d, r->my_key, &e))
		return prk_fence_step_err(r, i, "register", e.msg), -1;
	if (prk_mpdev_read_state(d, &v, &e))
		return prk_fence_step_err(r, i, "read reservation", e.msg), -1;
	/* A conflict: another member reserved meanwhile, which is as good. */
	if (!v.present && prk_mpdev_reserve(d, PRK_PR_WE_RO, &e) && e.code != PRK_HE_CONFLICT)
		return prk_fence_step_err(r, i, "reserve", e.msg), -1;
	if (out)
		*out = v;
	return 0;
}

int prk_fence_verify_joined(struct fence_run *r, size_t i)
{
	struct prk_host_err e;
	struct prk_resv_view v;
	if (prk_mpdev_read_state(r->devs[i], &v, &e))
		return prk_fence_step_err(r, i, "verify", e.msg), -1;
	if (!prk_fence_has_key(&v, r->my_key))
		return prk_fence_step_err(r, i, "verify", "our key is not registered"), -1;
	if (!v.present)
		return prk_fence_step_err(r, i, "verify", "no reservation"), -1;
	return 0;
}

int prk_fence_drop_stale(struct fence_run *r, size_t i)
{
	struct prk_host_err e;
	struct prk_resv_view v;
	if (prk_mpdev_read_state(r->devs[i], &v, &e))
		return prk_fence_step_err(r, i, "read keys", e.msg), -1;
	for (size_t k = 0; k < v.n_keys; k++) {
		uint64_t key = v.keys[k];
		bool seen = false;
		for (size_t j = 0; j < k; j++)
			seen |= v.keys[j] == key; /* one key on many nexuses */
		if (seen || key == r->my_key || !prk_fence_key_is_node(key, r->tag, r->me))
			continue;
		int rc = prk_fence_preempt(r, i, key);
		if (rc)
			return rc;
	}
	return prk_fence_verify_joined(r, i);
}

/* Fencing a node: PREEMPT AND ABORT every key of the victim (all
 * incarnations) keeping the reservation, then verify. */
int prk_fence_node_off_device(struct fence_run *r, size_t i, uint16_t victim)
{
	struct prk_mpdev *d = r->devs[i];
	struct prk_host_err e;
	struct prk_resv_view v;
	if (prk_mpdev_read_state(d, &v, &e))
		return prk_fence_step_err(r, i, "read keys", e.msg), -1;
	/* Never REGISTER here: a survivor that lost a race would resurrect
	 * its own registration after the winner removed it. Our nexuses were
	 * registered by `on` (stable ISIDs); if ours is gone we were fenced,
	 * and we stop. */
	if (!prk_fence_registered(d))
		return prk_fence_step_err(r, i, "check our own key",
		                          "our nexuses are not registered: this node was fenced"),
		       1;
	prk_fence_local_renew(r, i);
	for (size_t k = 0; k < v.n_keys; k++) {
		uint64_t key = v.keys[k];
		bool seen = false;
		for (size_t j = 0; j < k; j++)
			seen |= v.keys[j] == key; /* one key on many nexuses */
		if (seen || !prk_fence_key_is_node(key, r->tag, victim))
			continue;
		int rc = prk_fence_preempt(r, i, key);
		if (rc)
			return rc;
	}
	if (prk_mpdev_read_state(d, &v, &e))
		return prk_fence_step_err(r, i, "verify", e.msg), -1;
	if (has_node(&v, r->tag, victim))
		return prk_fence_step_err(r, i, "verify",
		                          "a key of the victim is still registered"),
		       -1;
	if (!v.present)
		return prk_fence_step_err(r, i, "verify", "no reservation after fencing"), -1;
	return 0;
}
