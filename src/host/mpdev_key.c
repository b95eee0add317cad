/* Changing the device's reservation key atomically (host_ctl.h).
 *
 * PR OUT REGISTER with RESERVATION KEY = old and SERVICE ACTION
 * RESERVATION KEY = new, on every path with a session: the target changes
 * a nexus's key only if it still holds old, so a nexus another node has
 * preempted in the meantime answers RESERVATION CONFLICT and stays
 * unregistered (REGISTER AND IGNORE EXISTING KEY would resurrect it). This
 * is what a cluster-wide-key fence agent needs: survivors move to a new
 * key, then the old key is preempted, and a node that was being fenced
 * cannot slip through by re-registering. */
#include <stdio.h>
#include <string.h>

#include "mpdev_pr.h"
#include "prkit/host_ctl.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"

static void key_changed_event(struct prk_mpdev *d)
{
	struct prk_event ev = {
	    .kind = PRK_EV_KEY_CHANGED, .path = -1, .old_path = -1, .why = "key changed"};
	prk_dev_event(d, &ev);
}

/* READ FULL STATUS could not be read after some paths changed: what each
 * REGISTER answered is the best knowledge left. */
static void trust_answers(struct prk_mpdev *d, const bool *changed)
{
	d->key_registered = true;
	prk_dev_unfenced(d); /* some nexus holds the new key: held I/O may go */
	for (size_t i = 0; i < d->n_paths; i++) {
		d->paths[i].registered = changed[i];
		if (!changed[i])
			d->paths[i].holder = false;
	}
}

int prk_mpdev_change_key(struct prk_mpdev *d, uint64_t old_key, uint64_t new_key,
                         struct prk_host_err *err)
{
	if (!old_key || !new_key) {
		prk_herr(err, PRK_HE_USAGE, -1,
		         "change key: neither key may be 0 (prk_mpdev_register registers, "
		         "prk_mpdev_unregister removes)");
		return -1;
	}
	if (d->spc2 || d->pr_unsupported) {
		prk_herr(err, PRK_HE_UNSUPPORTED, -1,
		         "change key: the target has no persistent reservations");
		return -1;
	}
	SLOW_BEGIN(d);
	int rc = -1;
	unsigned good = 0, conflict = 0;
	bool changed[PRK_MPDEV_MAX_PATHS] = {false};
	struct prk_host_err first = {.code = PRK_HE_OK};
	for (size_t i = 0; i < d->n_paths; i++) {
		struct hpath *p = &d->paths[i];
		if (p->removed || p->conn != HC_READY)
			continue;
		struct prk_host_err e;
		if (prk_devpr_prout_sync(p, PRK_PROUT_REGISTER, 0, old_key, new_key, d->o.aptpl,
		                         &e) == 0) {
			changed[i] = true;
			good++;
		} else if (e.code == PRK_HE_CONFLICT) {
			conflict++; /* this nexus does not hold old_key: left alone */
		} else {
			prk_hlog(d->h, 1, "change key: %s", e.msg);
			if (first.code == PRK_HE_OK)
				first = e;
		}
	}
	if (!good && !conflict) {
		if (first.code != PRK_HE_OK) {
			if (err)
				*err = first;
		} else {
			prk_herr(
			    err, PRK_HE_NO_PATH, -1, "change key: no path to the LU is up (%s)",
			    d->paths[0].last_error[0] ? d->paths[0].last_error : "not connected");
		}
		goto out;
	}
	uint64_t was = d->key;
	d->key = new_key;
	/* Which nexuses hold new_key now: also those that had it already (a
	 * repeated change answers CONFLICT there), and the holder. */
	struct hpath *via = prk_devpr_any_session(d, false);
	if (!via) {
		prk_herr(err, PRK_HE_NO_PATH, -1, "change key: no path left for READ FULL STATUS");
		if (good)
			trust_answers(d, changed);
		else
			d->key = was;
		goto out;
	}
	if (prk_devpr_read_state_sync(d, via, err)) {
		if (good)
			trust_answers(d, changed);
		else
			d->key = was;
		goto out;
	}
	unsigned n_reg = 0;
	for (size_t i = 0; i < d->n_paths; i++)
		n_reg += d->paths[i].registered;
	if (!n_reg) {
		d->key = was;
		prk_devpr_mark_fenced(d, -1, "no nexus of ours held the old key (key change)");
		prk_herr(err, PRK_HE_FENCED, -1,
		         "change key 0x%llx -> 0x%llx: no nexus of ours holds 0x%llx (preempted)",
		         (unsigned long long)old_key, (unsigned long long)new_key,
		         (unsigned long long)old_key);
		goto out;
	}
	d->key_registered = true;
	prk_dev_unfenced(d);
	prk_hlog(d->h, 1, "naa.%s: key 0x%llx -> 0x%llx on %u path(s)", d->naa,
	         (unsigned long long)old_key, (unsigned long long)new_key, n_reg);
	key_changed_event(d);
	rc = 0;
out:
	SLOW_END(d);
	return rc;
}

bool prk_dev_key_is_local(const struct prk_mpdev *d)
{
	if (d->open || d->key_registered)
		return false;
	for (size_t i = 0; i < d->n_paths; i++)
		if (d->paths[i].registered || d->paths[i].reg_unverified)
			return false;
	return true;
}

void prk_dev_set_key_local(struct prk_mpdev *d, uint64_t new_key)
{
	uint64_t was = d->key;
	d->key = new_key;
	prk_hlog(d->h, 1, "naa.%s: key 0x%llx -> 0x%llx (closed: registered at the next open)",
	         d->naa, (unsigned long long)was, (unsigned long long)new_key);
	struct prk_event ev = {.kind = PRK_EV_KEY_CHANGED,
	                       .path = -1,
	                       .old_path = -1,
	                       .why = "key changed (device closed: registered at the next open)"};
	prk_dev_event(d, &ev);
}

int prk_mpdev_own_key(struct prk_mpdev *d, uint64_t *key, unsigned *n_nexuses,
                      struct prk_host_err *err)
{
	static uint8_t buf[65535];
	SLOW_BEGIN(d);
	int rc = -1;
	*key = 0;
	if (n_nexuses)
		*n_nexuses = 0;
	struct hpath *via = prk_devpr_any_session(d, false);
	size_t got;
	if (!via) {
		prk_herr(err, PRK_HE_NO_PATH, -1, "READ FULL STATUS: no path to the LU is up");
		goto out;
	}
	if (prk_devpr_prin_sync(via, PRK_PRIN_READ_FULL_STATUS, buf, sizeof(buf), &got, err))
		goto out;
	struct prk_full_dec dec;
	struct prk_field_err fe;
	struct prk_full_desc fd;
	if (prk_full_dec_start(&dec, buf, got, &fe)) {
		prk_herr(err, PRK_HE_SCSI, via->idx, "READ FULL STATUS: malformed data");
		goto out;
	}
	/* The key on most of our nexuses (they normally agree). */
	uint64_t keys[PRK_MPDEV_MAX_PATHS];
	unsigned counts[PRK_MPDEV_MAX_PATHS], n = 0, total = 0;
	int r;
	while ((r = prk_full_dec_next(&dec, &fd, &fe)) == 1) {
		if (!prk_devpr_path_of_tid(d, &fd))
			continue;
		total++;
		unsigned k = 0;
		while (k < n && keys[k] != fd.key)
			k++;
		if (k == n && n < PRK_MPDEV_MAX_PATHS) {
			keys[n] = fd.key;
			counts[n++] = 0;
		}
		if (k < n)
			counts[k]++;
	}
	if (r < 0) {
		prk_herr(err, PRK_HE_SCSI, via->idx, "READ FULL STATUS: malformed descriptor");
		goto out;
	}
	unsigned best = 0;
	for (unsigned k = 1; k < n; k++)
		if (counts[k] > counts[best])
			best = k;
	if (n)
		*key = keys[best];
	if (n_nexuses)
		*n_nexuses = total;
	rc = 0;
out:
	SLOW_END(d);
	return rc;
}
