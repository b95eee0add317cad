/* This node's own I/O processes, as seen from the fence agent: every
 * program on the host library that listens on a control socket in the
 * state directory (docs/host.md, "Control socket"). `off` stalls their I/O
 * to a device while it fences (and, in cluster mode, moves them to the new
 * key before the old one is preempted); `on` in cluster mode registers the
 * current key for them.
 *
 * Nothing here can stop fencing: a process that cannot be reached, does
 * not answer in time or fails to stall is reported on stderr and left
 * alone. Removing the victim matters more than the survivor's own I/O
 * (which at worst sees RESERVATION CONFLICT and reports "fenced"), and a
 * stall the agent forgets is released by the process itself (on
 * disconnect, or after max_ms). */
#include <string.h>
#include <strings.h>

#include "fence_key.h"
#include "fence_run.h"
#include "prkit/host_ctl.h"

/* A stall lasts at most the agent's timeout plus slack, even if the agent
 * hangs while holding it. */
static unsigned stall_max_ms(const struct fence_run *r)
{
	return (r->o->timeout + 5) * 1000;
}

void prk_fence_local_connect(struct fence_run *r)
{
	char err[256];
	int n = prk_ctl_connect_all(r->o->state_dir, (int)r->o->timeout * 1000, r->local,
	                            FENCE_MAX_LOCAL, err, sizeof(err));
	if (n < 0) {
		fprintf(r->err, "fence_prkit: warning: local I/O processes: %s\n", err);
		n = 0;
	}
	r->n_local = (size_t)n;
	if (n == FENCE_MAX_LOCAL)
		fprintf(r->err,
		        "fence_prkit: warning: %d or more local I/O processes; only %d are "
		        "handled\n",
		        FENCE_MAX_LOCAL, FENCE_MAX_LOCAL);
	if (r->o->verbose)
		fprintf(r->err, "fence_prkit: %d local I/O process(es) reached\n", n);
}

void prk_fence_local_close(struct fence_run *r)
{
	for (size_t k = 0; k < r->n_local; k++)
		prk_ctl_close(r->local[k]);
	r->n_local = 0;
}

void prk_fence_local_stall(struct fence_run *r, size_t i)
{
	const char *naa = prk_mpdev_naa(r->devs[i]);
	for (size_t k = 0; k < r->n_local; k++) {
		char err[256];
		int rc = prk_ctl_stall(r->local[k], naa, stall_max_ms(r), err, sizeof(err));
		r->local_stalled[k] = rc == 1;
		if (rc < 0)
			fprintf(r->err,
			        "fence_prkit: warning: device naa.%s: stalling the I/O of %s: %s\n",
			        naa, prk_ctl_client_path(r->local[k]), err);
		else if (rc == 1 && r->o->verbose)
			fprintf(r->err, "fence_prkit: device naa.%s: I/O of %s stalled\n", naa,
			        prk_ctl_client_path(r->local[k]));
	}
}

void prk_fence_local_renew(struct fence_run *r, size_t i)
{
	if (r->hooks) {
		r->hooks->renew(r->hooks->arg);
		return;
	}
	const char *naa = prk_mpdev_naa(r->devs[i]);
	for (size_t k = 0; k < r->n_local; k++) {
		char err[256];
		if (r->local_stalled[k] &&
		    prk_ctl_stall(r->local[k], naa, stall_max_ms(r), err, sizeof(err)) != 1)
			fprintf(r->err,
			        "fence_prkit: warning: device naa.%s: renewing the stall of %s: "
			        "%s\n",
			        naa, prk_ctl_client_path(r->local[k]), err);
	}
}

void prk_fence_local_resume(struct fence_run *r, size_t i)
{
	const char *naa = prk_mpdev_naa(r->devs[i]);
	for (size_t k = 0; k < r->n_local; k++) {
		char err[256];
		if (!r->local_stalled[k])
			continue;
		r->local_stalled[k] = false;
		if (prk_ctl_resume(r->local[k], naa, err, sizeof(err)) < 0)
			fprintf(r->err,
			        "fence_prkit: warning: device naa.%s: resuming the I/O of %s: %s "
			        "(it resumes by itself after %u ms)\n",
			        naa, prk_ctl_client_path(r->local[k]), err, stall_max_ms(r));
	}
}

/* Does local process k have device naa open with a key of our cluster?
 * Its key in *key, whether it has been fenced in *fenced. */
static bool local_cluster_dev(struct fence_run *r, size_t k, const char *naa, uint64_t *key,
                              bool *fenced)
{
	static struct prk_ctl_dev devs[256];
	char err[256];
	int n = prk_ctl_list(r->local[k], devs, 256, err, sizeof(err));
	if (n < 0) {
		fprintf(r->err, "fence_prkit: warning: listing the devices of %s: %s\n",
		        prk_ctl_client_path(r->local[k]), err);
		return false;
	}
	for (int j = 0; j < n; j++) {
		if (strcasecmp(devs[j].naa, naa) == 0 && devs[j].open &&
		    prk_fence_key_same_cluster(devs[j].key, r->tag)) {
			*key = devs[j].key;
			*fenced = devs[j].fenced;
			return true;
		}
	}
	return false;
}

int prk_fence_local_set_key(struct fence_run *r, size_t i, uint64_t old_key, uint64_t new_key)
{
	const char *naa = prk_mpdev_naa(r->devs[i]);
	if (r->hooks)
		return r->hooks->set_key(r->hooks->arg, naa, old_key, new_key);
	int changed = 0;
	for (size_t k = 0; k < r->n_local; k++) {
		uint64_t cur;
		bool was_fenced;
		if (!local_cluster_dev(r, k, naa, &cur, &was_fenced) ||
		    (cur == new_key && !was_fenced) || (old_key && cur != old_key))
			continue;
		char err[256];
		bool fenced = false;
		int rc =
		    prk_ctl_set_key(r->local[k], naa, old_key, new_key, &fenced, err, sizeof(err));
		if (rc == 1)
			changed++;
		else if (rc < 0)
			fprintf(r->err,
			        "fence_prkit: warning: device naa.%s: changing the key of %s: %s\n",
			        naa, prk_ctl_client_path(r->local[k]), err);
	}
	return changed;
}
