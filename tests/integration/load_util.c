/* The shared I/O load of the host-library integration tests
 * (load_util.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "load_util.h"

static void load_issue(struct h_load *l, int i);

static void load_done(struct prk_mpdev *d, const struct prk_io_result *r, void *arg)
{
	(void)d;
	struct h_load_slot *s = arg;
	struct h_load *l = s->l;
	l->outstanding--;
	if (r->status == PRK_IO_OK) {
		l->ok++;
		if (r->path >= 0 && r->path < 8)
			l->per_path[r->path]++;
	} else if (r->status == PRK_IO_FENCED) {
		l->fenced++;
	} else {
		if (!l->errors)
			fprintf(stderr, "# first I/O error: %s, status %x, sense %x/%04x\n",
			        prk_io_status_name(r->status), (unsigned)r->scsi_status,
			        r->sense_key, r->asc);
		l->errors++;
	}
	if (!l->stop)
		load_issue(l, s->i);
}

static void load_issue(struct h_load *l, int i)
{
	/* 512 x 4 KiB: within the smallest LU of the tests (2 MiB) */
	uint64_t lba = (l->next_lba++ % 512) * 8;
	memset(l->bufs[i], (int)(lba & 0xff), sizeof(l->bufs[i]));
	l->slots[i] = (struct h_load_slot){.l = l, .i = i};
	int rc = (i & 1) ? prk_mpdev_read_async(l->d, lba, 8, l->bufs[i], load_done, &l->slots[i])
	                 : prk_mpdev_write_async(l->d, lba, 8, l->bufs[i], load_done, &l->slots[i]);
	if (rc == 0)
		l->outstanding++;
	else
		l->errors++;
}

void h_load_start(struct h_load *l, struct prk_host *h, struct prk_mpdev *d, int qd)
{
	assert_true(qd >= 1 && qd <= H_LOAD_MAX_QD);
	memset(l, 0, sizeof(*l));
	l->h = h;
	l->d = d;
	for (int i = 0; i < qd; i++)
		load_issue(l, i);
}

void h_load_stop(struct h_load *l)
{
	l->stop = true;
	uint64_t end = prk_host_now_ms() + 20000;
	while (l->outstanding && prk_host_now_ms() < end)
		prk_host_run(l->h, 10);
	assert_int_equal(l->outstanding, 0);
}

struct prk_mpdev *h_mk(struct prk_host *def, const char *const *urls, prk_event_fn on_event,
                       const struct h_mk_opts *m)
{
	struct prk_mpdev_opts o = {.initiator_name = m->ini,
	                           .urls = urls,
	                           .n_urls = (size_t)m->n_paths,
	                           .key = m->key,
	                           .checker_interval_ms = m->checker_ms,
	                           .fenced_hold_ms = m->hold_ms,
	                           .no_path_timeout_ms = m->no_path_ms,
	                           .on_event = on_event};
	struct prk_host_err err;
	struct prk_mpdev *d = prk_mpdev_new(m->on ? m->on : def, &o, &err);
	if (!d)
		fail_msg("prk_mpdev_new: %s", err.msg);
	return d;
}

void h_open_ok(struct prk_mpdev *d, enum prk_open_mode m)
{
	struct prk_open_opts oo = {.mode = m};
	struct prk_host_err err;
	if (prk_mpdev_open(d, &oo, &err))
		fail_msg("open (%s): %s", prk_open_mode_name(m), err.msg);
}

void h_pump(struct prk_host *h, int ms)
{
	uint64_t end = prk_host_now_ms() + (uint64_t)ms;
	while (prk_host_now_ms() < end)
		prk_host_run(h, 10);
}
