/* prkit fenced's storage and local I/O (src/fenced/fd_storage.c,
 * fd_local.c) against a real prkitd: five RAM LUs, LUNs 0-1 the data LUs
 * and 2-4 the coordinators. Simulated nodes are prk_fds instances with
 * their own initiator name and state directory <dir>/nN; a node's I/O
 * process is a host-library loop in this process that listens on the
 * control socket of that state directory.
 *
 * The storage calls are synchronous and the control socket is served only
 * by the I/O process's own loop, so each call runs on a helper thread
 * while this thread pumps the writers' loops. What landed on the target is
 * read through a separate nexus (initiator "reader", ephemeral ISIDs). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fd_config.h"
#include "fd_local.h"
#include "fd_storage.h"
#include "fence_key.h"
#include "harness.h"
#include "load_util.h"
#include "prkit/host.h"
#include "prkit/host_ctl.h"
#include "prkit/scsi_cdb.h"

#define N_LUNS 5
#define N_DATA 2
#define INI(n) "iqn.2026-11.io.prkit.test:n" #n
#define READER "iqn.2026-11.io.prkit.test:reader"
/* Node-mode keys in cluster "prkit" (tag 0x84d4, fence_key.h). */
#define KEY(node, inc) (0x84d4000000000000ULL | ((uint64_t)(node) << 32) | (inc))

static struct h_daemon dmn;
static char url[N_LUNS][240];
static struct prk_host *reader;
static struct prk_mpdev *rd[N_LUNS]; /* the reader's nexus to each LUN */

static int setup(void **state)
{
	(void)state;
	char cfg[2048];
	int n = snprintf(cfg, sizeof(cfg),
	                 "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}], "
	                 "\"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000, "
	                 "\"targets\": [{\"name\": \"" H_TARGET "\", \"luns\": [");
	for (int i = 0; i < N_LUNS; i++)
		n += snprintf(cfg + n, sizeof(cfg) - (size_t)n,
		              "%s{\"backstore\": {\"type\": \"ram\", \"size\": \"4M\"}}",
		              i ? ", " : "");
	snprintf(cfg + n, sizeof(cfg) - (size_t)n, "]}]}");
	if (h_start(&dmn, cfg))
		return -1;
	for (int i = 0; i < N_LUNS; i++)
		snprintf(url[i], sizeof(url[i]), "iscsi://127.0.0.1:%u/%s/%d", dmn.ports[0],
		         H_TARGET, i);
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/reader", dmn.dir);
	struct prk_host_err e;
	reader = prk_host_new(&(struct prk_host_opts){.state_dir = dir}, &e);
	if (!reader)
		return -1;
	for (int i = 0; i < N_LUNS; i++) {
		const char *u[1] = {url[i]};
		struct prk_mpdev_opts mo = {
		    .initiator_name = READER, .urls = u, .n_urls = 1, .ephemeral_isid_ok = true};
		rd[i] = prk_mpdev_new(reader, &mo, &e);
		if (!rd[i] || prk_mpdev_wait_paths(rd[i], 1, 5000) != 1)
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < N_LUNS; i++)
		prk_mpdev_free(rd[i]);
	prk_host_free(reader);
	reader = NULL;
	return h_stop(&dmn) == 0 ? 0 : -1;
}

/* ---- the target's view, through the reader ---- */

static int lun_of(const char *naa)
{
	for (int i = 0; i < N_LUNS; i++)
		if (strcasecmp(prk_mpdev_naa(rd[i]), naa) == 0)
			return i;
	fail_msg("no LUN has naa.%s", naa);
	return -1;
}

static void view(int lun, struct prk_resv_view *v)
{
	struct prk_host_err e;
	if (prk_mpdev_read_state(rd[lun], v, &e))
		fail_msg("LUN %d: READ KEYS: %s", lun, e.msg);
}

static int count_key(int lun, uint64_t key)
{
	struct prk_resv_view v;
	view(lun, &v);
	int n = 0;
	for (size_t i = 0; i < v.n_keys; i++)
		n += v.keys[i] == key;
	return n;
}

static bool has_node(int lun, uint16_t node)
{
	struct prk_resv_view v;
	view(lun, &v);
	for (size_t i = 0; i < v.n_keys; i++)
		if (prk_fence_key_is_node(v.keys[i], 0x84d4, node))
			return true;
	return false;
}

static void assert_reserved_we_ro(int lun)
{
	struct prk_resv_view v;
	view(lun, &v);
	assert_true(v.present);
	assert_int_equal(v.type, PRK_PR_WE_RO);
}

/* A nexus of its own (initiator ini, ISID role role) on lun registered with
 * key: a former life of a node, or another side of a race. */
static struct prk_mpdev *other_nexus(const char *ini, const char *role, int lun, uint64_t key)
{
	const char *u[1] = {url[lun]};
	struct prk_mpdev_opts mo = {
	    .initiator_name = ini, .urls = u, .n_urls = 1, .isid_role = role};
	struct prk_host_err e;
	struct prk_mpdev *d = prk_mpdev_new(reader, &mo, &e);
	assert_non_null(d);
	assert_int_equal(prk_mpdev_wait_paths(d, 1, 5000), 1);
	if (prk_mpdev_register(d, key, &e))
		fail_msg("register: %s", e.msg);
	return d;
}

struct sync_io {
	bool done;
	enum prk_io_status st;
};

static void sync_cb(struct prk_mpdev *d, const struct prk_io_result *r, void *arg)
{
	(void)d;
	struct sync_io *s = arg;
	s->done = true;
	s->st = r->status;
}

/* One 8-block I/O through d on loop h, waited for (at most 5 s). */
static enum prk_io_status sync_rw(struct prk_host *h, struct prk_mpdev *d, bool write, uint64_t lba,
                                  uint8_t *buf)
{
	struct sync_io s = {0};
	int rc = write ? prk_mpdev_write_async(d, lba, 8, buf, sync_cb, &s)
	               : prk_mpdev_read_async(d, lba, 8, buf, sync_cb, &s);
	assert_int_equal(rc, 0);
	uint64_t end = prk_host_now_ms() + 5000;
	while (!s.done && prk_host_now_ms() < end)
		prk_host_run(h, 10);
	assert_true(s.done);
	return s.st;
}

/* 8 blocks of lun as the reader sees them (READ(16), pass-through: the
 * reader never registers). */
static void read_lun(int lun, uint64_t lba, uint8_t *buf)
{
	struct prk_raw_cmd c = {.cdb_len = 16, .dir = PRK_RAW_READ, .in = buf, .in_cap = 4096};
	c.cdb[0] = 0x88;
	for (int i = 0; i < 8; i++)
		c.cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	c.cdb[13] = 8;
	assert_int_equal(prk_mpdev_raw_sync(rd[lun], -1, &c), 0);
	assert_int_equal(c.in_len, 4096);
}

/* ---- simulated nodes ---- */

static void node_cfg(struct prk_fd_config *c, int node, bool cluster_key)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->cluster_name, sizeof(c->cluster_name), "prkit");
	c->cluster_key = cluster_key;
	for (int i = 0; i < N_DATA; i++) {
		c->devices[i].n_paths = 1;
		snprintf(c->devices[i].paths[0], sizeof(c->devices[i].paths[0]), "%s", url[i]);
	}
	c->n_devices = N_DATA;
	for (int i = N_DATA; i < N_LUNS; i++) {
		struct prk_fence_device *d = &c->coordinators[c->n_coordinators++];
		d->n_paths = 1;
		snprintf(d->paths[0], sizeof(d->paths[0]), "%s", url[i]);
	}
	snprintf(c->initiator, sizeof(c->initiator), "iqn.2026-11.io.prkit.test:n%d", node);
	snprintf(c->state_dir, sizeof(c->state_dir), "%s/n%d", dmn.dir, node);
	c->io_timeout_ms = 5000;
	c->stall_max_ms = 10000;
	c->check_ms = 1000;
}

static struct prk_fds *node_open(int node, bool cluster_key)
{
	static struct prk_fd_config c;
	node_cfg(&c, node, cluster_key);
	char err[512];
	struct prk_fds *s = prk_fds_open(&c, (uint16_t)node, err, sizeof(err));
	if (!s)
		fail_msg("node %d: open: %s", node, err);
	return s;
}

/* ---- a node's I/O process: a loop with a control socket ---- */

struct writer {
	struct prk_host *h;
	struct prk_mpdev *d;
	struct h_load l;
	int stalls, resumes, fenced_events, key_changes;
};

static void w_event(struct prk_mpdev *d, const struct prk_event *ev, void *arg)
{
	(void)d;
	struct writer *w = arg;
	w->stalls += ev->kind == PRK_EV_STALLED;
	w->resumes += ev->kind == PRK_EV_RESUMED;
	w->fenced_events += ev->kind == PRK_EV_FENCED;
	w->key_changes += ev->kind == PRK_EV_KEY_CHANGED;
}

/* Opens data LUN lun as node (open mode cluster) with key, listens on the
 * node's control socket, and starts 4 I/Os in flight. */
static void writer_start(struct writer *w, int node, int lun, uint64_t key, unsigned hold_ms)
{
	memset(w, 0, sizeof(*w));
	char dir[600], ini[128];
	snprintf(dir, sizeof(dir), "%s/n%d", dmn.dir, node);
	snprintf(ini, sizeof(ini), "iqn.2026-11.io.prkit.test:n%d", node);
	struct prk_host_err e;
	w->h = prk_host_new(&(struct prk_host_opts){.state_dir = dir}, &e);
	assert_non_null(w->h);
	if (prk_host_ctl_listen(w->h, NULL, &e))
		fail_msg("listen: %s", e.msg);
	const char *u[1] = {url[lun]};
	struct prk_mpdev_opts mo = {.initiator_name = ini,
	                            .urls = u,
	                            .n_urls = 1,
	                            .key = key,
	                            .fenced_hold_ms = hold_ms,
	                            .on_event = w_event,
	                            .event_arg = w};
	w->d = prk_mpdev_new(w->h, &mo, &e);
	assert_non_null(w->d);
	h_open_ok(w->d, PRK_OPEN_CLUSTER);
	h_load_start(&w->l, w->h, w->d, 4);
}

static void writer_stop(struct writer *w)
{
	h_load_stop(&w->l);
	prk_mpdev_free(w->d);
	prk_host_free(w->h);
}

/* ---- running a blocking call while the writers' loops run ---- */

struct job {
	void (*fn)(struct job *);
	struct prk_fds *s;
	struct prk_fdl *l;
	uint16_t victims[4];
	size_t n_victims;
	uint64_t key;
	int rc;
	size_t n;
	char err[512];
	atomic_int done;
};

static void *job_thread(void *arg)
{
	struct job *j = arg;
	j->fn(j);
	atomic_store(&j->done, 1);
	return NULL;
}

static void run(struct job *j, struct writer *const *ws, int n_ws)
{
	pthread_t t;
	atomic_store(&j->done, 0);
	assert_int_equal(pthread_create(&t, NULL, job_thread, j), 0);
	while (!atomic_load(&j->done)) {
		for (int i = 0; i < n_ws; i++)
			prk_host_run(ws[i]->h, 5);
		if (!n_ws)
			usleep(5000);
	}
	pthread_join(t, NULL);
}

static void j_join(struct job *j)
{
	j->rc = prk_fds_join(j->s, j->l, &j->key, j->err, sizeof(j->err));
}
static void j_fence(struct job *j)
{
	j->rc =
	    prk_fds_fence(j->s, j->l, j->victims, j->n_victims, &j->key, j->err, sizeof(j->err));
}
static void j_adopt(struct job *j)
{
	j->rc = prk_fds_adopt(j->s, j->l, j->key, j->err, sizeof(j->err));
}
static void j_stall(struct job *j)
{
	j->n = prk_fdl_stall_all(j->l);
}
static void j_resume(struct job *j)
{
	prk_fdl_resume_all(j->l);
}
static void j_fail(struct job *j)
{
	j->n = prk_fdl_fail_all(j->l, "self-fenced: test");
}
static void j_renew(struct job *j)
{
	prk_fdl_renew(j->l);
}

static uint64_t join_ok(struct prk_fds *s, struct prk_fdl *l, struct writer *const *ws, int n)
{
	static struct job j;
	memset(&j, 0, sizeof(j));
	j.fn = j_join;
	j.s = s;
	j.l = l;
	run(&j, ws, n);
	if (j.rc)
		fail_msg("join: %s", j.err);
	assert_int_equal(j.key, prk_fds_key(s));
	return j.key;
}

static int fence(struct prk_fds *s, struct prk_fdl *l, uint16_t victim, uint64_t *key, char *err,
                 struct writer *const *ws, int n)
{
	static struct job j;
	memset(&j, 0, sizeof(j));
	j.fn = j_fence;
	j.s = s;
	j.l = l;
	j.victims[0] = victim;
	j.n_victims = 1;
	run(&j, ws, n);
	if (key)
		*key = j.key;
	snprintf(err, 512, "%s", j.err);
	return j.rc;
}

static size_t local_op(void (*fn)(struct job *), struct prk_fdl *l, struct writer *const *ws, int n)
{
	static struct job j;
	memset(&j, 0, sizeof(j));
	j.fn = fn;
	j.l = l;
	run(&j, ws, n);
	return j.n;
}

static struct prk_fdl *local_of(struct prk_fds *s, int node)
{
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/n%d", dmn.dir, node);
	const char *naas[PRK_FDS_MAX_LUS];
	size_t n = prk_fds_count(s);
	for (size_t i = 0; i < n; i++)
		naas[i] = prk_fds_naa(s, i);
	struct prk_fdl *l = prk_fdl_new(dir, naas, n, 5000, 10000);
	assert_non_null(l);
	return l;
}

static void pump(struct writer *const *ws, int n, int ms)
{
	uint64_t end = prk_host_now_ms() + (uint64_t)ms;
	while (prk_host_now_ms() < end)
		for (int i = 0; i < n; i++)
			prk_host_run(ws[i]->h, 5);
}

/* ---- tests ---- */

/* Open: coordinators first, each group in ascending NAA order. Join:
 * incarnation 1, the key on every LU with a Write Exclusive, Registrants
 * Only reservation. Check: ok with the key on all coordinators; not ok
 * before the join; a node fenced by another: no key of it on any LU, the
 * reservation kept, and its check fails (0 of 3). */
static void test_join_fence_check(void **state)
{
	(void)state;
	struct prk_fds *n1 = node_open(1, false), *n2 = node_open(2, false);
	assert_int_equal(prk_fds_count(n1), N_LUNS);
	for (size_t i = 0; i < N_LUNS; i++) {
		assert_int_equal(prk_fds_is_coordinator(n1, i), i < N_LUNS - N_DATA);
		assert_int_equal(lun_of(prk_fds_naa(n1, i)) >= N_DATA, i < N_LUNS - N_DATA);
		if (i && prk_fds_is_coordinator(n1, i) == prk_fds_is_coordinator(n1, i - 1))
			assert_true(strcasecmp(prk_fds_naa(n1, i - 1), prk_fds_naa(n1, i)) < 0);
	}
	bool ok = true;
	size_t with, counted;
	char why[256];
	prk_fds_check(n1, &ok, &with, &counted, why, sizeof(why));
	assert_false(ok); /* no key yet */
	assert_non_null(strstr(why, "no key"));

	assert_int_equal(join_ok(n1, NULL, NULL, 0), KEY(1, 1));
	assert_int_equal(join_ok(n2, NULL, NULL, 0), KEY(2, 1));
	for (int lun = 0; lun < N_LUNS; lun++) {
		assert_int_equal(count_key(lun, KEY(1, 1)), 1);
		assert_int_equal(count_key(lun, KEY(2, 1)), 1);
		assert_reserved_we_ro(lun);
	}
	prk_fds_check(n1, &ok, &with, &counted, why, sizeof(why));
	assert_true(ok);
	assert_int_equal(with, 3);
	assert_int_equal(counted, 3);
	struct prk_fds_lu lus[PRK_FDS_MAX_LUS];
	assert_int_equal(prk_fds_lus(n1, lus, PRK_FDS_MAX_LUS), N_LUNS);
	assert_true(lus[0].has_our_key && lus[0].reachable && lus[0].coordinator);

	/* A registration of another life of node 1 on a data LU and on a
	 * coordinator: fencing removes every incarnation. */
	struct prk_mpdev *former[2] = {other_nexus(INI(1), "former", 0, KEY(1, 7)),
	                               other_nexus(INI(1), "former", N_LUNS - 1, KEY(1, 7))};
	assert_int_equal(count_key(0, KEY(1, 7)), 1);
	uint64_t nk = 0;
	char err[512];
	if (fence(n2, NULL, 1, &nk, err, NULL, 0))
		fail_msg("fence: %s", err);
	assert_int_equal(nk, KEY(2, 1)); /* node mode: our key stays */
	for (int lun = 0; lun < N_LUNS; lun++) {
		assert_false(has_node(lun, 1));
		assert_int_equal(count_key(lun, KEY(2, 1)), 1);
		assert_reserved_we_ro(lun);
	}
	prk_fds_check(n1, &ok, &with, &counted, why, sizeof(why));
	assert_false(ok);
	assert_int_equal(with, 0);
	assert_int_equal(counted, 3);
	assert_non_null(strstr(why, "0 of 3"));
	prk_fds_check(n2, &ok, &with, &counted, why, sizeof(why));
	assert_true(ok);
	prk_mpdev_free(former[0]);
	prk_mpdev_free(former[1]);
	prk_fds_free(n1);
	prk_fds_free(n2);
}

/* A node that starts again: the next incarnation; a stale key of its own
 * (a former life's nexus, another ISID) is removed from every LU; its I/O
 * process is stalled meanwhile, takes the new key, and goes on without an
 * error. */
static void test_join_rekeys_and_drops_stale(void **state)
{
	(void)state;
	struct prk_fds *n1 = node_open(1, false);
	uint64_t k1 = join_ok(n1, NULL, NULL, 0);
	assert_int_equal(k1, KEY(1, 1));
	static struct writer w;
	writer_start(&w, 1, 0, k1, 0);
	struct writer *ws[] = {&w};
	struct prk_mpdev *former = other_nexus(INI(1), "former", N_LUNS - 1, k1);
	pump(ws, 1, 200);
	prk_fds_free(n1); /* the daemon stops; its registrations stay */
	assert_int_equal(count_key(0, k1), 2);
	assert_int_equal(count_key(N_LUNS - 1, k1), 2);

	n1 = node_open(1, false);
	struct prk_fdl *l = local_of(n1, 1);
	long ok0 = w.l.ok;
	uint64_t k2 = join_ok(n1, l, ws, 1);
	assert_int_equal(k2, KEY(1, 2));
	for (int lun = 0; lun < N_LUNS; lun++) {
		assert_int_equal(count_key(lun, k1), 0);
		assert_int_equal(count_key(lun, k2), lun == 0 ? 2 : 1); /* + the writer */
		assert_reserved_we_ro(lun);
	}
	assert_int_equal(prk_mpdev_key(w.d), k2);
	assert_true(w.stalls >= 1);
	assert_int_equal(w.stalls, w.resumes);
	assert_false(prk_mpdev_is_stalled(w.d));
	pump(ws, 1, 300);
	assert_true(w.l.ok > ok0);
	assert_int_equal(w.l.errors, 0);
	assert_int_equal(w.l.fenced, 0);
	bool ok;
	size_t with, counted;
	char why[256];
	prk_fds_check(n1, &ok, &with, &counted, why, sizeof(why));
	assert_true(ok);
	assert_int_equal(with, 3);
	prk_fdl_free(l);
	writer_stop(&w);
	prk_mpdev_free(former);
	prk_fds_free(n1);
}

/* The two-node race: node 2 (through a nexus of its own) fenced node 1 on
 * the first coordinator; node 1's fence of node 2 then answers lost and
 * touches no later LU: node 2's key is still everywhere, node 1's still on
 * every LU but the first. */
static void test_fence_lost_at_first_coordinator(void **state)
{
	(void)state;
	struct prk_fds *n1 = node_open(1, false), *n2 = node_open(2, false);
	uint64_t k1 = join_ok(n1, NULL, NULL, 0), k2 = join_ok(n2, NULL, NULL, 0);
	int first = lun_of(prk_fds_naa(n1, 0));
	assert_true(first >= N_DATA);
	struct prk_mpdev *x = other_nexus(INI(2), "race", first, k2);
	struct prk_host_err e;
	if (prk_mpdev_preempt(x, k1, PRK_PR_WE_RO, true, &e))
		fail_msg("preempt: %s", e.msg);
	char err[512];
	assert_int_equal(fence(n1, NULL, 2, NULL, err, NULL, 0), 1);
	assert_non_null(strstr(err, prk_fds_naa(n1, 0)));
	assert_non_null(strstr(err, "fenced this node first"));
	for (int lun = 0; lun < N_LUNS; lun++) {
		assert_true(count_key(lun, k2) >= 1);
		assert_int_equal(count_key(lun, k1), lun == first ? 0 : 1);
		assert_reserved_we_ro(lun);
	}
	prk_mpdev_free(x);
	prk_fds_free(n1);
	prk_fds_free(n2);
}

/* Cluster-key mode: the first member opens generation 1, the second
 * adopts it; a fence opens generation 2 with the executor's id and
 * removes every other key; the other member adopts the new key and moves
 * its I/O process to it (its I/O, held meanwhile, goes on). */
static void test_cluster_key_fence_and_adopt(void **state)
{
	(void)state;
	struct prk_fds *n1 = node_open(1, true), *n2 = node_open(2, true);
	uint64_t c1 = join_ok(n1, NULL, NULL, 0);
	uint16_t tag, node;
	uint32_t gen;
	assert_true(prk_fence_key_parse(c1, &tag, &node, &gen));
	assert_int_equal(tag, 0x84d4);
	assert_int_equal(node, 1);
	assert_int_equal(gen, 1);
	assert_int_equal(join_ok(n2, NULL, NULL, 0), c1);
	for (int lun = 0; lun < N_LUNS; lun++)
		assert_int_equal(count_key(lun, c1), 2);
	static struct writer w;
	writer_start(&w, 2, 0, c1, 10000);
	struct writer *ws[] = {&w};
	pump(ws, 1, 200);

	uint64_t c2 = 0;
	char err[512];
	if (fence(n1, NULL, 3, &c2, err, NULL, 0))
		fail_msg("fence: %s", err);
	assert_true(prk_fence_key_parse(c2, &tag, &node, &gen));
	assert_int_equal(node, 1);
	assert_int_equal(gen, 2);
	assert_int_equal(prk_fds_key(n1), c2);
	for (int lun = 0; lun < N_LUNS; lun++) {
		assert_int_equal(count_key(lun, c1), 0);
		assert_int_equal(count_key(lun, c2), 1);
		assert_reserved_we_ro(lun);
	}
	/* Its registration is gone: writes meet RESERVATION CONFLICT and
	 * are held (reads still go: registrants-only). */
	pump(ws, 1, 300);
	assert_true(prk_mpdev_is_fenced(w.d));
	assert_int_equal(w.l.fenced, 0);

	struct prk_fdl *l = local_of(n2, 2);
	static struct job j;
	memset(&j, 0, sizeof(j));
	j.fn = j_adopt;
	j.s = n2;
	j.l = l;
	j.key = c2;
	run(&j, ws, 1);
	if (j.rc)
		fail_msg("adopt: %s", j.err);
	assert_int_equal(prk_fds_key(n2), c2);
	for (int lun = 0; lun < N_LUNS; lun++)
		assert_int_equal(count_key(lun, c2), lun == 0 ? 3 : 2); /* + the writer */
	assert_int_equal(prk_mpdev_key(w.d), c2);
	assert_false(prk_mpdev_is_fenced(w.d));
	long ok0 = w.l.ok;
	pump(ws, 1, 300);
	assert_true(w.l.ok > ok0 + 4);
	assert_int_equal(w.l.errors, 0);
	assert_int_equal(w.l.fenced, 0);
	bool ok;
	size_t with, counted;
	char why[256];
	prk_fds_check(n2, &ok, &with, &counted, why, sizeof(why));
	assert_true(ok);
	prk_fdl_free(l);
	writer_stop(&w);
	prk_fds_free(n1);
	prk_fds_free(n2);
}

/* The self-check counts the coordinators: the key removed (behind the
 * node's back) from one of three still leaves a majority, from two it
 * does not. With no LU at all a node cannot even be opened. */
static void test_check_majority(void **state)
{
	(void)state;
	struct prk_fds *n1 = node_open(1, false);
	uint64_t k1 = join_ok(n1, NULL, NULL, 0);
	struct prk_mpdev *x[2];
	struct prk_host_err e;
	bool ok;
	size_t with, counted;
	char why[256];
	for (int r = 0; r < 2; r++) {
		int lun = lun_of(prk_fds_naa(n1, (size_t)r)); /* a coordinator */
		x[r] = other_nexus(READER, "x", lun, 0x7777);
		if (prk_mpdev_preempt(x[r], k1, PRK_PR_WE_RO, true, &e))
			fail_msg("preempt: %s", e.msg);
		assert_int_equal(count_key(lun, k1), 0);
		prk_fds_check(n1, &ok, &with, &counted, why, sizeof(why));
		assert_int_equal(counted, 3);
		assert_int_equal(with, (size_t)(2 - r));
		assert_int_equal(ok, r == 0);
	}
	assert_non_null(strstr(why, "1 of 3"));
	prk_mpdev_free(x[0]);
	prk_mpdev_free(x[1]);
	prk_fds_free(n1);

	struct prk_fd_config c;
	node_cfg(&c, 1, false);
	c.n_devices = c.n_coordinators = 0;
	char err[512] = "";
	assert_null(prk_fds_open(&c, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "no LU"));
}

/* The local side alone: stall_all drains the writer and holds its I/O
 * (nothing completes), resume_all releases it; fail_all fails its queued
 * and new I/O as fenced and it stays so (renew, a write issued later);
 * the target still has the writer's registration (a local decision) and
 * no block written after the fail. */
static void test_local_stall_resume_fail(void **state)
{
	(void)state;
	struct prk_fds *n1 = node_open(1, false);
	uint64_t k1 = join_ok(n1, NULL, NULL, 0);
	static struct writer w;
	writer_start(&w, 1, 0, k1, 0);
	struct writer *ws[] = {&w};
	struct prk_fdl *l = local_of(n1, 1);
	pump(ws, 1, 200);
	assert_true(w.l.ok > 0);

	assert_int_equal(local_op(j_stall, l, ws, 1), 1);
	assert_true(prk_fdl_is_stalled(l));
	assert_true(prk_mpdev_is_stalled(w.d));
	assert_int_equal(prk_mpdev_inflight(w.d), 0);
	long ok0 = w.l.ok;
	pump(ws, 1, 300);
	assert_int_equal(w.l.ok, ok0);
	struct prk_fdl_proc pr[4];
	assert_int_equal(prk_fdl_procs(l, pr, 4), 1);
	assert_int_equal(pr[0].n_devices, 1);
	assert_int_equal(pr[0].stalled, 1);
	assert_int_equal(pr[0].key, k1);
	local_op(j_resume, l, ws, 1);
	assert_false(prk_fdl_is_stalled(l));
	pump(ws, 1, 300);
	assert_false(prk_mpdev_is_stalled(w.d));
	assert_true(w.l.ok > ok0);
	assert_int_equal(w.stalls, 1);
	assert_int_equal(w.resumes, 1);
	assert_int_equal(w.l.fenced, 0);

	/* Stalled, then failed: what waited fails, the stall is released. */
	local_op(j_stall, l, ws, 1);
	ok0 = w.l.ok;
	assert_int_equal(local_op(j_fail, l, ws, 1), 1);
	pump(ws, 1, 200);
	assert_false(prk_mpdev_is_stalled(w.d));
	assert_true(prk_mpdev_is_fenced(w.d));
	assert_true(w.l.fenced >= 4);
	assert_int_equal(w.l.ok, ok0);
	assert_int_equal(w.fenced_events, 1);
	local_op(j_renew, l, ws, 1);
	pump(ws, 1, 200);
	assert_int_equal(w.l.ok, ok0);
	assert_int_equal(prk_fdl_procs(l, pr, 4), 1);
	assert_int_equal(pr[0].fenced, 1);
	/* A write issued now fails too; the block on the target is unchanged. */
	static uint8_t before[4096], mine[4096], after[4096];
	read_lun(0, 3000, before);
	memset(mine, 0x5a, sizeof(mine));
	assert_int_not_equal(memcmp(before, mine, sizeof(mine)), 0);
	h_load_stop(&w.l);
	assert_int_equal(sync_rw(w.h, w.d, true, 3000, mine), PRK_IO_FENCED);
	read_lun(0, 3000, after);
	assert_memory_equal(before, after, sizeof(after));
	assert_int_equal(count_key(0, k1), 2); /* n1's nexus and the writer's */
	prk_fdl_free(l);
	prk_mpdev_free(w.d);
	prk_host_free(w.h);
	prk_fds_free(n1);
}

/* A victim's writer that holds its writes after RESERVATION CONFLICT
 * (fenced_hold_ms) is already "fenced" in its list; the self-fence must
 * still fail what it holds, or the writes would go out if a key were ever
 * registered again. */
static void test_fail_all_fails_held_io(void **state)
{
	(void)state;
	struct prk_fds *n1 = node_open(1, false), *n2 = node_open(2, false);
	uint64_t k1 = join_ok(n1, NULL, NULL, 0);
	join_ok(n2, NULL, NULL, 0);
	static struct writer w;
	writer_start(&w, 1, 0, k1, 60000);
	struct writer *ws[] = {&w};
	pump(ws, 1, 200);
	char err[512];
	assert_int_equal(fence(n2, NULL, 1, NULL, err, ws, 1), 0);
	assert_int_equal(count_key(0, k1), 0);
	pump(ws, 1, 300);
	assert_true(prk_mpdev_is_fenced(w.d));
	assert_int_equal(w.l.fenced, 0); /* held, not failed */
	struct prk_fdl *l = local_of(n1, 1);
	assert_int_equal(local_op(j_fail, l, ws, 1), 1);
	pump(ws, 1, 200);
	assert_true(w.l.fenced >= 1);
	struct prk_fdl_proc pr[2];
	assert_int_equal(prk_fdl_procs(l, pr, 2), 1);
	assert_int_equal(pr[0].fenced, 1);
	prk_fdl_free(l);
	writer_stop(&w);
	prk_fds_free(n1);
	prk_fds_free(n2);
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* What keeping the nexuses open buys: the self-check (READ KEYS on the
 * three coordinators) against the fence agent's `check` over the same
 * LUs, which opens its devices (logins) every time. Both must pass; the
 * medians are printed for docs/fence.md (no bound asserted: a shared
 * machine's timings are not a test). */
static void test_check_cost_kept_open(void **state)
{
	(void)state;
	struct prk_fds *n1 = node_open(1, false);
	join_ok(n1, NULL, NULL, 0);
	uint64_t t[20];
	for (int i = 0; i < 20; i++) {
		bool ok;
		size_t with, counted;
		char why[256];
		uint64_t t0 = now_us();
		prk_fds_check(n1, &ok, &with, &counted, why, sizeof(why));
		t[i] = now_us() - t0;
		assert_true(ok);
	}
	qsort(t, 20, sizeof(t[0]), cmp_u64);
	uint64_t kept = t[10];
	char dir[600], devs[3][300];
	snprintf(dir, sizeof(dir), "%s/n1", dmn.dir);
	const char *a[32] = {"fence", "--local-node", "n1",   "--initiator", INI(1), "--state-dir",
	                     dir,     "--host-map",   "n1:1", "-o",          "check"};
	int n = 11;
	for (int i = 0; i < 3; i++) {
		snprintf(devs[i], sizeof(devs[i]), "%s", url[N_DATA + i]);
		a[n++] = "--devices";
		a[n++] = devs[i];
	}
	static char out[8192], err[8192];
	for (int i = 0; i < 5; i++) {
		uint64_t t0 = now_us();
		int rc = h_prkit(&dmn, out, sizeof(out), err, sizeof(err), a);
		t[i] = now_us() - t0;
		if (rc != 0)
			fail_msg("prkit fence -o check: rc %d: %s", rc, err);
	}
	qsort(t, 5, sizeof(t[0]), cmp_u64);
	print_message("# self-check of 3 coordinator LUs: %.2f ms kept open (median of 20), "
	              "%.2f ms as `prkit fence -o check` (median of 5, process included)\n",
	              kept / 1000.0, t[2] / 1000.0);
	/* And one fencing over the five LUs, for the record. */
	struct prk_fds *n2 = node_open(2, false);
	join_ok(n2, NULL, NULL, 0);
	char e2[512];
	uint64_t t0 = now_us();
	assert_int_equal(fence(n2, NULL, 1, NULL, e2, NULL, 0), 0);
	print_message("# fence of one node on 5 LUs (3 coordinators): %.2f ms\n",
	              (now_us() - t0) / 1000.0);
	for (int lun = 0; lun < N_LUNS; lun++)
		assert_false(has_node(lun, 1));
	prk_fds_free(n1);
	prk_fds_free(n2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_join_fence_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_majority, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_join_rekeys_and_drops_stale, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fence_lost_at_first_coordinator, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cluster_key_fence_and_adopt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_local_stall_resume_fail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fail_all_fails_held_io, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_cost_kept_open, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
