/* Reservations across the paths of one device: one key on every path's
 * I_T nexus, the reservation held through one of them, and the repairs
 * multipath needs (a returning path, a holder path that died).
 *
 * These run synchronously with the host's slow work blocked (in_slow), so
 * a path bring-up never interleaves with an operation of the caller. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isid_store.h"
#include "mpdev_pr.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"

void prk_cmd_err(struct prk_host_err *err, struct hpath *p, int st, const struct hsync *s,
                 const char *what)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	err->path = p ? p->idx : -1;
	err->status = st;
	const char *portal = p ? p->portal : "?";
	if (st < 0) {
		prk_herr(err, PRK_HE_NO_PATH, err->path, "%s through %s: transport failure (%s)",
		         what, portal, p ? p->last_error : "");
		err->status = -1;
	} else if (st == SCSI_STATUS_RESERVATION_CONFLICT) {
		prk_herr(err, PRK_HE_CONFLICT, err->path, "%s through %s: RESERVATION CONFLICT",
		         what, portal);
	} else if (st == SCSI_STATUS_CHECK_CONDITION) {
		err->sense_key = s->sense_key;
		err->asc = s->asc;
		bool unsupported = s->sense_key == 0x5 && s->asc == 0x2000;
		prk_herr(err, unsupported ? PRK_HE_UNSUPPORTED : PRK_HE_SCSI, err->path,
		         "%s through %s: CHECK CONDITION, sense key %xh, ASC/ASCQ %02x/%02x", what,
		         portal, s->sense_key, s->asc >> 8, s->asc & 0xff);
	} else {
		prk_herr(err, PRK_HE_SCSI, err->path, "%s through %s: SCSI status %02xh", what,
		         portal, (unsigned)st);
	}
	err->status = st;
}

static int prout_params(struct hpath *p, uint8_t sa, uint8_t type, const uint8_t *params,
                        uint32_t len, struct prk_host_err *err)
{
	struct prk_prout_cdb c = {.sa = sa, .scope = 0, .type = type, .param_len = len};
	uint8_t cdb[10];
	prk_prout_cdb_encode(&c, cdb);
	struct hsync s = {.cdb = cdb,
	                  .cdb_len = 10,
	                  .dir = len ? SCSI_XFER_WRITE : SCSI_XFER_NONE,
	                  .out = params,
	                  .out_len = len};
	int st = prk_path_cmd_sync(p, &s);
	if (st == SCSI_STATUS_GOOD)
		return 0;
	char what[64];
	snprintf(what, sizeof(what), "PR OUT %s", prk_prout_sa_name(sa));
	prk_cmd_err(err, p, st, &s, what);
	return -1;
}

int prk_devpr_prout_sync(struct hpath *p, uint8_t sa, uint8_t type, uint64_t rk, uint64_t sark,
                         bool aptpl, struct prk_host_err *err)
{
	uint8_t params[PRK_PROUT_BASIC_LEN];
	prk_prout_params_encode_basic(rk, sark, false, aptpl, NULL, 0, params, sizeof(params));
	return prout_params(p, sa, type, params, sizeof(params), err);
}

int prk_devpr_prin_sync(struct hpath *p, uint8_t sa, uint8_t *buf, uint16_t cap, size_t *got,
                        struct prk_host_err *err)
{
	struct prk_prin_cdb c = {.sa = sa, .alloc_len = cap};
	uint8_t cdb[10];
	prk_prin_cdb_encode(&c, cdb);
	struct hsync s = {
	    .cdb = cdb, .cdb_len = 10, .dir = SCSI_XFER_READ, .in = buf, .in_cap = cap};
	int st = prk_path_cmd_sync(p, &s);
	*got = s.in_len;
	if (st == SCSI_STATUS_GOOD)
		return 0;
	prk_cmd_err(err, p, st, &s, "PR IN");
	return -1;
}

int prk_devpr_count_key_sync(struct hpath *p, uint64_t key, size_t *n, struct prk_host_err *err)
{
	static uint8_t buf[8 + 8 * 1024];
	size_t got;
	if (prk_devpr_prin_sync(p, PRK_PRIN_READ_KEYS, buf, sizeof(buf), &got, err))
		return -1;
	struct prk_prin_keys k;
	struct prk_field_err fe;
	if (prk_prin_keys_decode(buf, got, &k, &fe)) {
		prk_herr(err, PRK_HE_SCSI, p->idx, "READ KEYS through %s: malformed data (%s)",
		         p->portal, fe.field ? fe.field : "?");
		return -1;
	}
	*n = 0;
	for (size_t i = 0; i < k.n_present; i++)
		if (prk_prin_keys_at(&k, i) == key)
			(*n)++;
	return 0;
}

int prk_devpr_register_path_sync(struct hpath *p, uint64_t key, struct prk_host_err *err)
{
	if (prk_devpr_prout_sync(p, PRK_PROUT_REGISTER_AND_IGNORE, 0, 0, key, p->dev->o.aptpl, err))
		return -1;
	p->registered = key != 0;
	if (!key)
		p->holder = false;
	return 0;
}

int prk_devpr_unregister_path_sync(struct hpath *p, struct prk_host_err *err)
{
	return prk_devpr_register_path_sync(p, 0, err);
}

void prk_devpr_mark_fenced(struct prk_mpdev *d, int path, const char *why)
{
	d->key_registered = false;
	d->resv_held = false;
	for (size_t i = 0; i < d->n_paths; i++) {
		d->paths[i].registered = false;
		d->paths[i].holder = false;
	}
	if (!d->fenced) {
		d->fenced = true;
		struct prk_event ev = {
		    .kind = PRK_EV_FENCED, .path = path, .old_path = -1, .why = why};
		prk_dev_event(d, &ev);
	}
}

/* A path that comes back (or joins late) while the device is registered.
 * First REGISTER with our key as RESERVATION KEY: it succeeds only if this
 * nexus still holds the key (atomic, nothing to resurrect). If the nexus
 * holds none (a new ISID, or its registration was removed), it gets our
 * key only while another nexus of ours still holds it, checked after the
 * REGISTER AND IGNORE: a preemption before it removed those others too,
 * one after it removes this one as well. Otherwise we were preempted and
 * the registration is not resurrected. */
int prk_devpr_reregister_returning_sync(struct hpath *p)
{
	struct prk_mpdev *d = p->dev;
	struct prk_host_err err;
	struct prk_event ev = {.kind = PRK_EV_REREGISTERED,
	                       .path = p->idx,
	                       .old_path = -1,
	                       .why = "path registered before carrying I/O"};
	if (!p->reg_unverified) {
		if (prk_devpr_prout_sync(p, PRK_PROUT_REGISTER, 0, d->key, d->key, d->o.aptpl,
		                         &err) == 0) {
			p->registered = true;
			prk_dev_event(d, &ev);
			return 0;
		}
		if (err.code != PRK_HE_CONFLICT)
			return -1;
	}
	size_t before;
	if (prk_devpr_count_key_sync(p, d->key, &before, &err))
		return -1;
	if (before == 0) {
		prk_devpr_mark_fenced(d, p->idx, "our key was removed while a path was away");
		return 0;
	}
	/* Until verified (or taken back), this nexus's registration is not
	 * ours to trust: a failure below leaves the flag set, the path does
	 * not carry I/O, and the next bring-up goes through this check
	 * again instead of the shortcut above. */
	p->reg_unverified = true;
	if (prk_devpr_register_path_sync(p, d->key, &err) ||
	    prk_devpr_read_state_sync(d, p, &err)) {
		if (prk_devpr_unregister_path_sync(p, &err) == 0)
			p->reg_unverified = false;
		return -1;
	}
	bool others = false;
	for (size_t i = 0; i < d->n_paths; i++)
		others |= &d->paths[i] != p && d->paths[i].registered;
	if (!others) {
		int rc = prk_devpr_unregister_path_sync(p, &err);
		prk_devpr_mark_fenced(d, p->idx, "preempted while a path was being re-registered");
		if (rc)
			return -1; /* still registered: try again at the next bring-up */
		p->reg_unverified = false;
		return 0;
	}
	p->reg_unverified = false;
	prk_dev_event(d, &ev);
	return 0;
}

struct hpath *prk_devpr_path_of_tid(struct prk_mpdev *d, const struct prk_full_desc *fd)
{
	if (fd->tid.format != PRK_TID_FMT_PORT || !prk_iscsi_name_eq(fd->tid.name, d->initiator))
		return NULL;
	for (size_t i = 0; i < d->n_paths; i++) {
		struct hpath *p = &d->paths[i];
		if (p->isid == fd->tid.isid &&
		    (fd->all_tg_pt || !p->has_ident || p->rtpi == fd->rtpi))
			return p;
	}
	return NULL;
}

int prk_devpr_read_state_sync(struct prk_mpdev *d, struct hpath *via, struct prk_host_err *err)
{
	static uint8_t buf[65535];
	size_t got;
	if (prk_devpr_prin_sync(via, PRK_PRIN_READ_FULL_STATUS, buf, sizeof(buf), &got, err))
		return -1;
	struct prk_full_dec dec;
	struct prk_field_err fe;
	if (prk_full_dec_start(&dec, buf, got, &fe)) {
		prk_herr(err, PRK_HE_SCSI, via->idx, "READ FULL STATUS: malformed data");
		return -1;
	}
	for (size_t i = 0; i < d->n_paths; i++) {
		d->paths[i].registered = false;
		d->paths[i].holder = false;
	}
	d->resv_held = false;
	struct prk_full_desc fd;
	int r;
	while ((r = prk_full_dec_next(&dec, &fd, &fe)) == 1) {
		struct hpath *p = prk_devpr_path_of_tid(d, &fd);
		if (!p || fd.key != d->key)
			continue;
		p->registered = true;
		if (fd.r_holder) {
			d->resv_held = true;
			d->resv_type = fd.type;
			p->holder = !prk_pr_type_all_registrants(fd.type);
		}
	}
	if (r < 0) {
		prk_herr(err, PRK_HE_SCSI, via->idx, "READ FULL STATUS: malformed descriptor");
		return -1;
	}
	return 0;
}

static struct hpath *holder_path(struct prk_mpdev *d)
{
	for (size_t i = 0; i < d->n_paths; i++)
		if (d->paths[i].holder)
			return &d->paths[i];
	return NULL;
}

/* Every path with a session other than `except` gets the key again. */
static int reregister_others(struct prk_mpdev *d, struct hpath *except, struct prk_host_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < d->n_paths; i++) {
		struct hpath *q = &d->paths[i];
		if (q == except || q->removed || q->conn != HC_READY)
			continue;
		if (prk_devpr_register_path_sync(q, d->key, err))
			rc = -1;
	}
	return rc;
}

/* PREEMPT with our own key through `via`: the reservation moves to via's
 * nexus and every other registration of our key goes (fence-agents #594),
 * so the other live paths register again at once, I/O held meanwhile. */
static int preempt_self(struct prk_mpdev *d, struct hpath *via, uint8_t type,
                        struct prk_host_err *err)
{
	bool was_quiesced = d->quiesced;
	d->quiesced = true;
	prk_dev_wait_drained(
	    d, (int)(dflt(d->o.io_timeout_ms, 10000) + dflt(d->o.tmf_timeout_ms, 3000)));
	int rc = prk_devpr_prout_sync(via, PRK_PROUT_PREEMPT, type, d->key, d->key, false, err);
	if (rc == 0) {
		for (size_t i = 0; i < d->n_paths; i++) {
			d->paths[i].registered = false;
			d->paths[i].holder = false;
		}
		via->registered = true;
		via->holder = !prk_pr_type_all_registrants(type);
		d->resv_held = true;
		d->resv_type = type;
		rc = reregister_others(d, via, err);
	}
	d->quiesced = was_quiesced;
	prk_dev_dispatch(d);
	return rc;
}

/* The reservation is held through a path whose session is gone (or which
 * fails): move it to a live registered path before anyone else can take
 * it (libmpathpersist's preempt_self). */
int prk_devpr_recover_dead_holder_sync(struct prk_mpdev *d)
{
	struct hpath *h = holder_path(d);
	if (!h || (h->conn == HC_READY && h->state != PRK_PATH_FAILED) || h->inflight)
		return 0;
	struct hpath *via = prk_dev_best_path(d, true);
	if (!via || via == h)
		return 0;
	struct prk_host_err err;
	int old = h->idx;
	if (preempt_self(d, via, d->resv_type, &err)) {
		prk_hlog(d->h, 1, "moving the reservation off path %d failed: %s", old, err.msg);
		return -1;
	}
	struct prk_event ev = {.kind = PRK_EV_RESV_MOVED,
	                       .path = via->idx,
	                       .old_path = old,
	                       .why = "the path holding the reservation died"};
	prk_dev_event(d, &ev);
	return 0;
}

/* ---- the public operations ---- */

struct hpath *prk_devpr_any_session(struct prk_mpdev *d, bool need_registered)
{
	struct hpath *p = prk_dev_best_path(d, need_registered);
	if (p)
		return p;
	for (size_t i = 0; i < d->n_paths; i++) {
		struct hpath *q = &d->paths[i];
		if (q->conn == HC_READY && !q->removed && (!need_registered || q->registered))
			return q;
	}
	return NULL;
}

static int no_path(struct prk_mpdev *d, struct prk_host_err *err, const char *what)
{
	prk_herr(err, PRK_HE_NO_PATH, -1, "%s: no path to the LU is up (%s)", what,
	         d->paths[0].last_error[0] ? d->paths[0].last_error : "not connected");
	return -1;
}

int prk_mpdev_register(struct prk_mpdev *d, uint64_t key, struct prk_host_err *err)
{
	if (!key) {
		prk_herr(err, PRK_HE_USAGE, -1, "the key must not be 0 (0 unregisters)");
		return -1;
	}
	SLOW_BEGIN(d);
	int rc = -1, n = 0;
	d->key = key;
	for (size_t i = 0; i < d->n_paths; i++) {
		struct hpath *p = &d->paths[i];
		if (p->removed || p->conn != HC_READY)
			continue;
		if (prk_devpr_register_path_sync(p, key, err))
			goto out;
		n++;
	}
	if (!n) {
		no_path(d, err, "REGISTER");
		goto out;
	}
	d->key_registered = true;
	prk_dev_unfenced(d);
	/* Verify: READ FULL STATUS must show our key on every path we sent
	 * it through, each on its own ISID (no stale nexus). */
	struct hpath *via = prk_devpr_any_session(d, true);
	bool want[PRK_MPDEV_MAX_PATHS];
	for (size_t i = 0; i < d->n_paths; i++)
		want[i] = d->paths[i].registered;
	if (!via || prk_devpr_read_state_sync(d, via, err))
		goto out;
	for (size_t i = 0; i < d->n_paths; i++) {
		if (want[i] && !d->paths[i].registered) {
			prk_herr(
			    err, PRK_HE_MISMATCH, (int)i,
			    "REGISTER: path %s (ISID 0x%012llx) does not show our key afterwards",
			    d->paths[i].portal, (unsigned long long)d->paths[i].isid);
			goto out;
		}
	}
	rc = 0;
out:
	SLOW_END(d);
	return rc;
}

int prk_mpdev_release(struct prk_mpdev *d, struct prk_host_err *err)
{
	SLOW_BEGIN(d);
	int rc = -1;
	if (d->spc2) {
		struct hpath *p = d->spc2_path >= 0 ? &d->paths[d->spc2_path] : NULL;
		uint8_t cdb[6] = {0x17};
		struct hsync s = {.cdb = cdb, .cdb_len = 6, .dir = SCSI_XFER_NONE};
		int st = p && p->conn == HC_READY ? prk_path_cmd_sync(p, &s) : -1;
		if (st == SCSI_STATUS_GOOD) {
			d->resv_held = false;
			rc = 0;
		} else {
			prk_cmd_err(err, p, st, &s, "RELEASE(6)");
		}
		goto out;
	}
	if (!d->resv_held) {
		rc = 0;
		goto out;
	}
	prk_devpr_recover_dead_holder_sync(d);
	struct hpath *h = prk_pr_type_all_registrants(d->resv_type) ? prk_devpr_any_session(d, true)
	                                                            : holder_path(d);
	if (!h || h->conn != HC_READY) {
		no_path(d, err, "RELEASE");
		goto out;
	}
	if (prk_devpr_prout_sync(h, PRK_PROUT_RELEASE, d->resv_type, d->key, 0, false, err))
		goto out;
	d->resv_held = false;
	for (size_t i = 0; i < d->n_paths; i++)
		d->paths[i].holder = false;
	rc = 0;
out:
	SLOW_END(d);
	return rc;
}

int prk_mpdev_unregister(struct prk_mpdev *d, struct prk_host_err *err)
{
	if (d->resv_held && prk_mpdev_release(d, err))
		return -1;
	SLOW_BEGIN(d);
	int rc = 0;
	for (size_t i = 0; i < d->n_paths; i++) {
		struct hpath *p = &d->paths[i];
		if (p->removed || p->conn != HC_READY || !p->registered)
			continue;
		if (prk_devpr_unregister_path_sync(p, err))
			rc = -1;
	}
	d->key_registered = false;
	SLOW_END(d);
	return rc;
}

int prk_mpdev_reserve(struct prk_mpdev *d, uint8_t type, struct prk_host_err *err)
{
	if (!prk_pr_type_valid(type)) {
		prk_herr(err, PRK_HE_USAGE, -1, "reservation type %u is not one of 1,3,5,6,7,8",
		         type);
		return -1;
	}
	SLOW_BEGIN(d);
	int rc = -1;
	struct hpath *p = prk_devpr_any_session(d, true);
	if (!p) {
		no_path(d, err, "RESERVE");
		goto out;
	}
	if (prk_devpr_prout_sync(p, PRK_PROUT_RESERVE, type, d->key, 0, false, err))
		goto out;
	d->resv_held = true;
	d->resv_type = type;
	for (size_t i = 0; i < d->n_paths; i++)
		d->paths[i].holder = false;
	p->holder = !prk_pr_type_all_registrants(type);
	rc = 0;
out:
	SLOW_END(d);
	return rc;
}

int prk_mpdev_clear(struct prk_mpdev *d, struct prk_host_err *err)
{
	SLOW_BEGIN(d);
	int rc = -1;
	struct hpath *p = prk_devpr_any_session(d, true);
	if (!p) {
		no_path(d, err, "CLEAR");
		goto out;
	}
	if (prk_devpr_prout_sync(p, PRK_PROUT_CLEAR, 0, d->key, 0, false, err))
		goto out;
	d->key_registered = false;
	d->resv_held = false;
	for (size_t i = 0; i < d->n_paths; i++) {
		d->paths[i].registered = false;
		d->paths[i].holder = false;
	}
	rc = 0;
out:
	SLOW_END(d);
	return rc;
}

int prk_mpdev_preempt(struct prk_mpdev *d, uint64_t victim, uint8_t type, bool abort,
                      struct prk_host_err *err)
{
	SLOW_BEGIN(d);
	int rc = -1;
	struct hpath *p = prk_devpr_any_session(d, true);
	if (!p) {
		no_path(d, err, "PREEMPT");
		goto out;
	}
	if (victim == d->key) {
		rc = preempt_self(d, p, type, err);
		goto out;
	}
	if (prk_devpr_prout_sync(p, abort ? PRK_PROUT_PREEMPT_AND_ABORT : PRK_PROUT_PREEMPT, type,
	                         d->key, victim, false, err))
		goto out;
	rc = prk_devpr_read_state_sync(d, p, err);
out:
	SLOW_END(d);
	return rc;
}

int prk_mpdev_read_state(struct prk_mpdev *d, struct prk_resv_view *v, struct prk_host_err *err)
{
	SLOW_BEGIN(d);
	int rc = -1;
	memset(v, 0, sizeof(*v));
	struct hpath *p = prk_devpr_any_session(d, false);
	if (!p) {
		no_path(d, err, "READ KEYS");
		goto out;
	}
	uint8_t buf[8 + 8 * 64];
	size_t got;
	if (prk_devpr_prin_sync(p, PRK_PRIN_READ_KEYS, buf, sizeof(buf), &got, err))
		goto out;
	struct prk_prin_keys k;
	struct prk_field_err fe;
	if (prk_prin_keys_decode(buf, got, &k, &fe)) {
		prk_herr(err, PRK_HE_SCSI, p->idx, "READ KEYS: malformed data");
		goto out;
	}
	v->generation = k.generation;
	v->n_keys = k.n_present < 64 ? k.n_present : 64;
	for (size_t i = 0; i < v->n_keys; i++)
		v->keys[i] = prk_prin_keys_at(&k, i);
	uint8_t rb[PRK_PRIN_RESV_LEN];
	if (prk_devpr_prin_sync(p, PRK_PRIN_READ_RESERVATION, rb, sizeof(rb), &got, err))
		goto out;
	struct prk_prin_resv r;
	if (prk_prin_resv_decode(rb, got, &r, &fe)) {
		prk_herr(err, PRK_HE_SCSI, p->idx, "READ RESERVATION: malformed data");
		goto out;
	}
	v->present = r.present;
	v->key = r.key;
	v->type = r.type;
	/* Learn which of our paths carry our key (a fresh process knows
	 * nothing yet): READ FULL STATUS, when we have a key. */
	if (d->key && !d->pr_unsupported) {
		if (prk_devpr_read_state_sync(d, p, err))
			goto out;
		bool any = false;
		for (size_t i = 0; i < d->n_paths; i++)
			any |= d->paths[i].registered;
		if (any)
			d->key_registered = true;
	}
	rc = 0;
out:
	SLOW_END(d);
	return rc;
}

static struct hpath *pick(struct prk_mpdev *d, int path)
{
	if (path >= 0)
		return (size_t)path < d->n_paths && d->paths[path].conn == HC_READY
		           ? &d->paths[path]
		           : NULL;
	return prk_devpr_any_session(d, false);
}

int prk_mpdev_prout_raw(struct prk_mpdev *d, int path, uint8_t sa, uint8_t type,
                        const uint8_t *params, uint32_t len, struct prk_host_err *err)
{
	SLOW_BEGIN(d);
	struct hpath *p = pick(d, path);
	int rc = p ? prout_params(p, sa, type, params, len, err) : no_path(d, err, "PR OUT");
	SLOW_END(d);
	return rc;
}

int prk_mpdev_prin_raw(struct prk_mpdev *d, int path, uint8_t sa, uint8_t *buf, uint16_t cap,
                       size_t *got, struct prk_host_err *err)
{
	SLOW_BEGIN(d);
	struct hpath *p = pick(d, path);
	int rc = p ? prk_devpr_prin_sync(p, sa, buf, cap, got, err) : no_path(d, err, "PR IN");
	SLOW_END(d);
	return rc;
}

size_t prk_mpdev_ready_paths(const struct prk_mpdev *d, int *idx, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_paths && n < cap; i++)
		if (d->paths[i].conn == HC_READY && !d->paths[i].removed)
			idx[n++] = (int)i;
	return n;
}

int prk_mpdev_inquiry(struct prk_mpdev *d, char vendor[9], char product[17], char rev[5],
                      uint8_t *pdt, struct prk_host_err *err)
{
	SLOW_BEGIN(d);
	int rc = -1;
	struct hpath *p = pick(d, -1);
	if (!p) {
		no_path(d, err, "INQUIRY");
		goto out;
	}
	uint8_t cdb[6] = {0x12, 0, 0, 0, 96, 0};
	uint8_t buf[96];
	struct hsync s = {
	    .cdb = cdb, .cdb_len = 6, .dir = SCSI_XFER_READ, .in = buf, .in_cap = sizeof(buf)};
	int st = prk_path_cmd_sync(p, &s);
	if (st != SCSI_STATUS_GOOD || s.in_len < 36) {
		prk_cmd_err(err, p, st, &s, "INQUIRY");
		goto out;
	}
	*pdt = buf[0] & 0x1f;
	memcpy(vendor, buf + 8, 8);
	vendor[8] = 0;
	memcpy(product, buf + 16, 16);
	product[16] = 0;
	memcpy(rev, buf + 32, 4);
	rev[4] = 0;
	rc = 0;
out:
	SLOW_END(d);
	return rc;
}

int prk_mpdev_remove_path(struct prk_mpdev *d, int i, struct prk_host_err *err)
{
	if (i < 0 || (size_t)i >= d->n_paths || d->paths[i].removed) {
		prk_herr(err, PRK_HE_USAGE, i, "no path %d", i);
		return -1;
	}
	struct hpath *p = &d->paths[i];
	SLOW_BEGIN(d);
	int rc = 0;
	/* Stop new I/O on it; let what it carries finish. */
	if (p->state == PRK_PATH_UP)
		prk_path_set_state(p, PRK_PATH_STANDBY, "being removed");
	uint64_t end = prk_host_now_ms() + dflt(d->o.io_timeout_ms, 10000);
	while (p->inflight && prk_host_now_ms() < end)
		prk_hloop_run_nested(&d->h->loop, 50);
	if (p->holder && d->resv_held && p->conn == HC_READY) {
		struct hpath *via = NULL;
		for (size_t k = 0; k < d->n_paths && !via; k++) {
			struct hpath *q = &d->paths[k];
			if (q != p && q->registered && prk_path_usable(q))
				via = q;
		}
		if (via) {
			/* Move the reservation rather than release it: nobody else
			 * can take it in between. */
			p->removed = true;
			rc = preempt_self(d, via, d->resv_type, err);
			p->removed = false;
		} else {
			rc = prk_mpdev_release(d, err);
		}
	}
	if (rc == 0 && p->registered && p->conn == HC_READY)
		rc = prk_devpr_unregister_path_sync(p, err);
	p->removed = true;
	if (p->ctx) {
		iscsi_logout_sync(p->ctx);
		prk_path_drop(p, "path removed");
	}
	prk_isid_release(p);
	SLOW_END(d);
	return rc;
}

int prk_devpr_path_up_sync(struct hpath *p)
{
	struct prk_mpdev *d = p->dev;
	if (p->reg_unverified && !d->key_registered && !p->removed) {
		/* A registration we could not verify nor take back, and the
		 * device is no longer registered (fenced): take it back before
		 * this nexus carries anything. */
		struct prk_host_err e;
		if (prk_devpr_unregister_path_sync(p, &e)) {
			if (p->conn == HC_LOGGED_IN)
				prk_path_drop(p, "unregistering an unverified registration failed");
			return -1;
		}
		p->reg_unverified = false;
	}
	if (d->key_registered && !p->removed && prk_devpr_reregister_returning_sync(p) < 0) {
		if (p->conn == HC_LOGGED_IN)
			prk_path_drop(p, "re-registration failed");
		return -1;
	}
	if (p->conn != HC_LOGGED_IN)
		return -1;
	return 0;
}
