/* A multipath device's life: creating it (its paths from the URLs, their
 * ISIDs), freeing it, and its part of the host's loop: the sessions'
 * descriptors, the timers, and the slow work (a path's bring-up,
 * mpdev_up.c; ALUA refresh; reservation recovery). The top of the
 * device: it calls the device's other files and path.c, and only host.c
 * calls it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isid_store.h"
#include "mpdev.h"
#include "mpdev_pr.h"
#include "prkit/scsi_cdb.h"

/* Descriptors of sessions one loop pass waits on (the rest wait for the
 * next pass). */
#define DEV_MAX_PATH_FDS 64

static int parse_url(struct hpath *p, const char *url, struct prk_host_err *err)
{
	struct iscsi_context *tmp = iscsi_create_context("iqn.2026-11.io.prkit:url-parser");
	if (!tmp) {
		prk_herr(err, PRK_HE_STATE, p->idx, "cannot create a libiscsi context");
		return -1;
	}
	struct iscsi_url *u = iscsi_parse_full_url(tmp, url);
	if (!u) {
		prk_herr(err, PRK_HE_USAGE, p->idx,
		         "bad URL '%s': %s (want iscsi://host[:port]/iqn/lun)", url,
		         iscsi_get_error(tmp));
		iscsi_destroy_context(tmp);
		return -1;
	}
	snprintf(p->url, sizeof(p->url), "%s", url);
	snprintf(p->portal, sizeof(p->portal), "%s", u->portal);
	snprintf(p->target, sizeof(p->target), "%s", u->target);
	snprintf(p->user, sizeof(p->user), "%s", u->user);
	snprintf(p->secret, sizeof(p->secret), "%s", u->passwd);
	snprintf(p->tuser, sizeof(p->tuser), "%s", u->target_user);
	snprintf(p->tsecret, sizeof(p->tsecret), "%s", u->target_passwd);
	p->lun = u->lun;
	iscsi_destroy_url(u);
	iscsi_destroy_context(tmp);
	return 0;
}

struct prk_mpdev *prk_mpdev_new(struct prk_host *h, const struct prk_mpdev_opts *o,
                                struct prk_host_err *err)
{
	if (!o->initiator_name || !*o->initiator_name) {
		prk_herr(err, PRK_HE_USAGE, -1, "an initiator name is required");
		return NULL;
	}
	if (o->n_urls < 1 || o->n_urls > PRK_MPDEV_MAX_PATHS) {
		prk_herr(err, PRK_HE_USAGE, -1, "need 1 to %d iscsi:// URLs, got %zu",
		         PRK_MPDEV_MAX_PATHS, o->n_urls);
		return NULL;
	}
	struct prk_mpdev *d = calloc(1, sizeof(*d));
	if (!d) {
		prk_herr(err, PRK_HE_STATE, -1, "out of memory");
		return NULL;
	}
	d->h = h;
	d->o = *o;
	d->o.urls = NULL;
	snprintf(d->isid_role, sizeof(d->isid_role), "%s", o->isid_role ? o->isid_role : "");
	d->o.isid_role = d->isid_role;
	d->single_lock_fd = -1;
	d->spc2_path = -1;
	prk_obj_pool_init(&d->io_pool, sizeof(struct hio), PRK_DEV_IO_POOL_MAX);
	d->key = o->key;
	snprintf(d->initiator, sizeof(d->initiator), "%s", o->initiator_name);
	d->n_paths = o->n_urls;
	for (size_t i = 0; i < o->n_urls; i++) {
		struct hpath *p = &d->paths[i];
		p->dev = d;
		p->hooks = &prk_dev_path_hooks;
		p->h = h;
		p->o = &d->o;
		p->initiator = d->initiator;
		p->idx = (int)i;
		p->isid_lock_fd = -1;
		p->state = PRK_PATH_DOWN;
		p->priority = 50;
		if (parse_url(p, o->urls[i], err))
			goto fail;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(d->paths[j].portal, p->portal) == 0 &&
			    strcmp(d->paths[j].target, p->target) == 0) {
				prk_herr(err, PRK_HE_USAGE, (int)i,
				         "URL %zu repeats the portal of URL %zu", i + 1, j + 1);
				goto fail;
			}
		}
	}
	for (size_t i = 0; i < d->n_paths; i++)
		if (prk_isid_acquire(h, &d->paths[i], o->ephemeral_isid_ok, err))
			goto fail;
	d->next = h->devs;
	h->devs = d;
	for (size_t i = 0; i < d->n_paths; i++)
		prk_path_connect_async(&d->paths[i]);
	return d;
fail:
	for (size_t i = 0; i < d->n_paths; i++)
		prk_isid_release(&d->paths[i]);
	free(d);
	return NULL;
}

static void fail_pending(struct prk_mpdev *d, enum prk_io_status st)
{
	prk_dev_take_held(d);
	while (d->pending_head) {
		struct hio *io = d->pending_head;
		d->pending_head = io->next;
		struct prk_io_result r = {.status = st, .path = -1, .redrives = io->redrives};
		io->cb(d, &r, io->arg);
		prk_dev_io_free(d, io);
	}
	d->pending_tail = NULL;
}

void prk_mpdev_free(struct prk_mpdev *d)
{
	if (!d)
		return;
	/* A control connection may hold a stall of d: it must not touch d
	 * once freed. */
	if (d->h->dev_freed)
		d->h->dev_freed(d->h, d);
	if (d->open)
		prk_mpdev_close(d, NULL);
	d->freeing = true;
	for (size_t i = 0; i < d->n_paths; i++) {
		struct hpath *p = &d->paths[i];
		p->removed = true;
		prk_path_close_sync(p);
		prk_isid_release(p);
	}
	fail_pending(d, PRK_IO_CLOSED);
	if (d->single_lock_fd >= 0)
		close(d->single_lock_fd);
	for (struct prk_mpdev **pp = &d->h->devs; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	prk_obj_pool_drain(&d->io_pool);
	free(d);
}

/* Bring-up of the paths that logged in, ALUA refresh, and the recovery
 * of a reservation: the work that runs commands synchronously, one
 * device at a time, never nested (in_slow). */
static void slow_work(struct prk_mpdev *d)
{
	if (d->freeing)
		return;
	for (size_t i = 0; i < d->n_paths; i++) {
		struct hpath *p = &d->paths[i];
		if (p->conn == HC_LOGGED_IN && !p->removed)
			prk_dev_bring_up_sync(p);
	}
	if (d->rtpg_refresh) {
		struct hpath *p = NULL;
		for (size_t i = 0; i < d->n_paths && !p; i++)
			if (d->paths[i].conn == HC_READY)
				p = &d->paths[i];
		if (p && prk_dev_refresh_alua_sync(p) == 0)
			d->rtpg_refresh = false;
	}
	if (d->spc2 && d->spc2_lost)
		prk_spc2_recover_sync(d);
	else if (d->resv_held && !prk_pr_type_all_registrants(d->resv_type))
		prk_devpr_recover_dead_holder_sync(d);
}

int prk_devs_poll_fill(void *arg, struct pollfd *pfd, void **tag, int cap, uint64_t now,
                       uint64_t *next_ms)
{
	struct prk_host *h = arg;
	int n = 0;
	if (cap > DEV_MAX_PATH_FDS)
		cap = DEV_MAX_PATH_FDS;
	for (struct prk_mpdev *d = h->devs; d; d = d->next) {
		if (d->next_tick_ms < *next_ms)
			*next_ms = d->next_tick_ms;
		for (size_t i = 0; i < d->n_paths && n < cap; i++) {
			struct hpath *p = &d->paths[i];
			if (prk_path_poll_fill(p, &pfd[n], now, next_ms))
				tag[n++] = p;
		}
	}
	return n;
}

void prk_devs_service(void *arg, struct pollfd *pfd, void **tag, int n)
{
	struct prk_host *h = arg;
	/* One clock read for the pass: its ticks, and the deadlines of the
	 * commands its completions issue (host_base.h, pass_ms). */
	uint64_t now = prk_host_now_ms();
	h->pass_ms = now;
	for (int i = 0; i < n; i++)
		prk_path_service(tag[i], &pfd[i]);
	for (struct prk_mpdev *d = h->devs; d; d = d->next)
		if (now >= d->next_tick_ms)
			prk_dev_tick(d, now);
	/* Slow work runs for as long as its commands take: the clock again. */
	h->pass_ms = 0;
	/* Slow work: one device at a time, never nested. */
	if (!h->in_slow) {
		h->in_slow = true;
		for (struct prk_mpdev *d = h->devs; d; d = d->next)
			slow_work(d);
		h->in_slow = false;
	}
}

void prk_devs_pass_end(void *arg)
{
	struct prk_host *h = arg;
	for (struct prk_mpdev *d = h->devs; d; d = d->next)
		for (size_t i = 0; i < d->n_paths; i++)
			prk_path_flush(&d->paths[i]);
}
