/* The shared part of the `prkit fence` integration tests (fence_util.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fence_util.h"
#include "prkit/host_ctl.h"

struct h_daemon fu_daemon;
char fu_url[2][2][240];
char fu_out[65536], fu_err[16384];
const char *fu_extra[8];
int fu_n_devs = 2;
char fu_devs[2][1024];

int fu_setup(void **state)
{
	(void)state;
	const char *cfg =
	    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}, {\"address\": "
	    "\"127.0.0.1\", \"port\": 0}], \"admin_socket\": \"@DIR@/admin.sock\", "
	    "\"nop_interval_ms\": 60000, \"targets\": [{\"name\": \"" H_TARGET "\", \"luns\": "
	    "[{\"backstore\": {\"type\": \"ram\", \"size\": \"16M\"}}, {\"backstore\": {\"type\": "
	    "\"ram\", \"size\": \"16M\"}}]}]}";
	if (h_start(&fu_daemon, cfg))
		return -1;
	for (int l = 0; l < 2; l++) {
		for (int p = 0; p < 2; p++)
			snprintf(fu_url[l][p], sizeof(fu_url[l][p]), "iscsi://127.0.0.1:%u/%s/%d",
			         fu_daemon.ports[p], H_TARGET, l);
		snprintf(fu_devs[l], sizeof(fu_devs[l]), "%s,%s", fu_url[l][0], fu_url[l][1]);
	}
	return 0;
}

int fu_teardown(void **state)
{
	(void)state;
	return h_stop(&fu_daemon) == 0 ? 0 : -1;
}

static const char *initiator_of(const char *node)
{
	static char ini[4][128];
	int k = (node[1] - '0') & 3;
	snprintf(ini[k], sizeof(ini[k]), "iqn.2026-11.io.prkit.test:%s", node);
	return ini[k];
}

static const char *state_of(const char *node)
{
	static char st[4][400];
	int k = (node[1] - '0') & 3;
	snprintf(st[k], sizeof(st[k]), "%s/%s", fu_daemon.dir, node);
	return st[k];
}

/* Prints what a fence command said as TAP comments: every line of its
 * output prefixed with "# " (a bare line would break the TAP stream). */
static void show(const char *what, int rc, const char *o, const char *e)
{
	print_message("# %s: rc %d\n", what, rc);
	const char *parts[] = {o, e};
	for (int k = 0; k < 2; k++) {
		for (const char *p = parts[k]; p && *p;) {
			const char *nl = strchr(p, '\n');
			int len = nl ? (int)(nl - p) : (int)strlen(p);
			print_message("#   %.*s\n", len, p);
			p += len + (nl ? 1 : 0);
		}
	}
}

void fu_fence_cmd(const char **a, const char *node, const char *action, const char *victim,
                  const char *const *more)
{
	int n = 0;
	const char *fixed[] = {
	    "fence",       "--local-node", node,         "--initiator", initiator_of(node),
	    "--state-dir", state_of(node), "--host-map", FU_HOSTMAP,    "-o",
	    action};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		a[n++] = fixed[i];
	for (int l = 0; l < fu_n_devs && l < 2; l++) {
		a[n++] = "--devices";
		a[n++] = fu_devs[l];
	}
	if (victim) {
		a[n++] = "-n";
		a[n++] = victim;
	}
	for (int i = 0; fu_extra[i] && n < 30; i++)
		a[n++] = fu_extra[i];
	for (int i = 0; more && more[i] && n < 39; i++)
		a[n++] = more[i];
	a[n] = NULL;
}

int fu_fence_more(const char *node, const char *action, const char *victim, const char *const *more)
{
	const char *a[40];
	fu_fence_cmd(a, node, action, victim, more);
	int rc = h_prkit(&fu_daemon, fu_out, sizeof(fu_out), fu_err, sizeof(fu_err), a);
	if (rc == 1 || rc < 0) {
		char what[96];
		snprintf(what, sizeof(what), "fence %s -o %s", node, action);
		show(what, rc, fu_out, fu_err);
	}
	return rc;
}

int fu_fence(const char *node, const char *action, const char *victim)
{
	return fu_fence_more(node, action, victim, NULL);
}

int fu_keys_of(int lun, uint64_t *keys, int cap)
{
	static char o[65536], e[4096];
	const char *a[] = {"persist", "--initiator",  "iqn.2026-11.io.prkit.test:reader",
	                   "-n",      "-i",           "-k",
	                   "--json",  fu_url[lun][0], NULL};
	assert_int_equal(h_prkit(&fu_daemon, o, sizeof(o), e, sizeof(e), a), 0);
	int n = 0;
	for (const char *p = strstr(o, "\"key\""); p && n < cap; p = strstr(p + 1, "\"key\"")) {
		const char *q = strstr(p, "0x");
		if (q)
			keys[n++] = strtoull(q, NULL, 16);
	}
	return n;
}

bool fu_lu_has(int lun, uint64_t key)
{
	uint64_t k[64];
	int n = fu_keys_of(lun, k, 64);
	for (int i = 0; i < n; i++)
		if (k[i] == key)
			return true;
	return false;
}

bool fu_lu_only(int lun, uint64_t key)
{
	uint64_t k[64];
	int n = fu_keys_of(lun, k, 64);
	for (int i = 0; i < n; i++)
		if (k[i] != key) {
			print_message("# LU %d: key 0x%016llx besides 0x%016llx\n", lun,
			              (unsigned long long)k[i], (unsigned long long)key);
			return false;
		}
	return n > 0;
}

/* ---- a node's own I/O ---- */

static void w_issue(struct fu_writer *w, int slot);

static void w_done(struct prk_mpdev *d, const struct prk_io_result *r, void *arg)
{
	(void)d;
	struct fu_slot *sl = arg;
	struct fu_writer *w = sl->w;
	w->outstanding--;
	if (r->status == PRK_IO_OK)
		w->ok++;
	else if (r->status == PRK_IO_FENCED)
		w->fenced++;
	else
		w->other++;
	if (!w->stop)
		w_issue(w, sl->i);
}

static void w_issue(struct fu_writer *w, int slot)
{
	uint64_t v = ++w->seq;
	memcpy(w->buf[slot], &v, 8);
	w->slots[slot].w = w;
	w->slots[slot].i = slot;
	if (prk_mpdev_write_async(w->d, w->base + (uint64_t)slot, 1, w->buf[slot], w_done,
	                          &w->slots[slot]) == 0)
		w->outstanding++;
}

static void w_event(struct prk_mpdev *d, const struct prk_event *ev, void *arg)
{
	(void)d;
	struct fu_writer *w = arg;
	if (ev->kind == PRK_EV_STALLED)
		w->stalls++;
	else if (ev->kind == PRK_EV_RESUMED)
		w->resumes++;
	else if (ev->kind == PRK_EV_KEY_CHANGED)
		w->key_changes++;
}

void fu_writer_start(struct fu_writer *w, const char *node, uint64_t key, uint64_t base, bool ctl,
                     unsigned hold_ms)
{
	memset(w, 0, sizeof(*w));
	w->base = base;
	struct prk_host_opts ho = {.state_dir = state_of(node)};
	struct prk_host_err e;
	w->h = prk_host_new(&ho, &e);
	assert_non_null(w->h);
	if (ctl && prk_host_ctl_listen(w->h, NULL, &e))
		fail_msg("writer %s: control socket: %s", node, e.msg);
	const char *urls[] = {fu_url[0][0], fu_url[0][1]};
	struct prk_mpdev_opts o = {.initiator_name = initiator_of(node),
	                           .urls = urls,
	                           .n_urls = 2,
	                           .key = key,
	                           .fenced_hold_ms = hold_ms,
	                           .on_event = w_event,
	                           .event_arg = w};
	w->d = prk_mpdev_new(w->h, &o, &e);
	assert_non_null(w->d);
	struct prk_open_opts oo = {.mode = PRK_OPEN_CLUSTER};
	if (prk_mpdev_open(w->d, &oo, &e))
		fail_msg("writer %s open: %s", node, e.msg);
	for (int i = 0; i < 32; i++)
		w_issue(w, i);
}

void fu_pump(struct fu_writer *const *ws, int n, int ms)
{
	uint64_t end = h_now_ms() + (uint64_t)ms;
	do {
		for (int i = 0; i < n; i++)
			prk_host_run(ws[i]->h, n > 1 ? 1 : 5);
	} while (h_now_ms() < end);
}

void fu_writer_stop(struct fu_writer *w)
{
	w->stop = true;
	uint64_t end = h_now_ms() + 20000;
	while (w->outstanding && h_now_ms() < end)
		prk_host_run(w->h, 5);
	prk_mpdev_free(w->d);
	prk_host_free(w->h);
}

int fu_fence_while(struct fu_writer *const *ws, int n, const char *node, const char *action,
                   const char *victim, const char *const *more)
{
	const char *a[40];
	fu_fence_cmd(a, node, action, victim, more);
	struct h_proc p;
	assert_int_equal(h_prkit_spawn(&fu_daemon, &p, a), 0);
	int rc;
	uint64_t t0 = h_now_ms();
	while (!h_proc_poll(&p, &rc, fu_out, sizeof(fu_out), fu_err, sizeof(fu_err)))
		fu_pump(ws, n, 2);
	char what[128];
	snprintf(what, sizeof(what), "fence %s -o %s took %llu ms", node, action,
	         (unsigned long long)(h_now_ms() - t0));
	show(what, rc, fu_out, fu_err);
	return rc;
}

/* Runs `node1 -o off victim1` and `node2 -o off victim2` at the same time
 * while the writers' loops run; their exit statuses in rc. */
void fu_fence_both(struct fu_writer *const *ws, int n, const char *node1, const char *victim1,
                   const char *node2, const char *victim2, int rc[2])
{
	const char *a1[40], *a2[40];
	fu_fence_cmd(a1, node1, "off", victim1, NULL);
	fu_fence_cmd(a2, node2, "off", victim2, NULL);
	struct h_proc p1, p2;
	assert_int_equal(h_prkit_spawn(&fu_daemon, &p1, a1), 0);
	assert_int_equal(h_prkit_spawn(&fu_daemon, &p2, a2), 0);
	static char o2[4096], e2[4096];
	bool d1 = false, d2 = false;
	rc[0] = rc[1] = -1;
	while (!d1 || !d2) {
		if (!d1)
			d1 = h_proc_poll(&p1, &rc[0], fu_out, sizeof(fu_out), fu_err,
			                 sizeof(fu_err));
		if (!d2)
			d2 = h_proc_poll(&p2, &rc[1], o2, sizeof(o2), e2, sizeof(e2));
		if (n)
			fu_pump(ws, n, 2);
		else {
			struct timespec ts = {0, 2 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	show(node1, rc[0], fu_out, fu_err);
	show(node2, rc[1], o2, e2);
}

/* ---- a third party's view ---- */

static bool rd_done;
static int rd_status;

static void rd_cb(struct prk_mpdev *d, const struct prk_io_result *r, void *arg)
{
	(void)d;
	(void)arg;
	rd_done = true;
	rd_status = r->status;
}

void fu_snapshot(uint64_t base, uint64_t v[32])
{
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/reader", fu_daemon.dir);
	struct prk_host_opts ho = {.state_dir = dir};
	struct prk_host *h = prk_host_new(&ho, NULL);
	assert_non_null(h);
	const char *urls[] = {fu_url[0][0]};
	/* Reads are open to every registrant of a registrants-only
	 * reservation: register a key outside every cluster, read, leave. */
	struct prk_mpdev_opts o = {.initiator_name = "iqn.2026-11.io.prkit.test:reader",
	                           .urls = urls,
	                           .n_urls = 1,
	                           .key = 0x77};
	struct prk_mpdev *d = prk_mpdev_new(h, &o, NULL);
	assert_non_null(d);
	struct prk_open_opts oo = {.mode = PRK_OPEN_CLUSTER};
	struct prk_host_err e;
	if (prk_mpdev_open(d, &oo, &e))
		fail_msg("reader open: %s", e.msg);
	static uint8_t b[32 * 512];
	rd_done = false;
	assert_int_equal(prk_mpdev_read_async(d, base, 32, b, rd_cb, NULL), 0);
	while (!rd_done)
		prk_host_run(h, 10);
	assert_int_equal(rd_status, PRK_IO_OK);
	prk_mpdev_unregister(d, &e);
	prk_mpdev_free(d);
	prk_host_free(h);
	for (int i = 0; i < 32; i++)
		memcpy(&v[i], b + i * 512, 8);
}

void fu_assert_fenced_and_survivor_ok(struct fu_writer *victim, struct fu_writer *own,
                                      struct fu_writer *const *ws, int n)
{
	uint64_t before[32], after[32];
	fu_snapshot(victim->base, before);
	long own_ok = own->ok;
	fu_pump(ws, n, 500);
	fu_snapshot(victim->base, after);
	for (int i = 0; i < 32; i++)
		assert_int_equal(before[i], after[i]);
	assert_true(victim->fenced > 0);
	assert_true(prk_mpdev_is_fenced(victim->d));
	assert_int_equal(own->fenced, 0);
	assert_int_equal(own->other, 0);
	assert_true(own->stalls >= 1);
	assert_int_equal(own->stalls, own->resumes);
	assert_true(own->ok > own_ok);
	assert_false(prk_mpdev_is_fenced(own->d));
}
