/* `prkit fence` (fence_prkit) against a real prkitd with two portals and
 * two LUs. Nodes are simulated: each has its own initiator name and state
 * directory; a node's I/O runs in this process through the host library
 * (several paths), its fence agent runs as a separate `prkit fence`
 * process, as Pacemaker would run it.
 *
 * Checked: join (keys, the reservation), fencing a node that is writing
 * (after `off` returns none of its writes lands — versioned blocks read
 * back — and its library reports "fenced"), rejoin with a new incarnation,
 * two survivors fencing each other at once (exactly one wins, on both
 * LUs), a path down during join, self-fencing refused, and the
 * fence-agents conventions of status, list, metadata and stdin options. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"
#include "prkit/host.h"

static struct h_daemon daemon_;
static char u[2][2][240];  /* [lun][portal] */
static char devs[2][1024]; /* "--devices" values: one per LU, paths comma-separated */
static char out[65536], err[16384];

#define HOSTMAP "n1:1,n2:2,n3:3"

static int setup(void **state)
{
	(void)state;
	const char *cfg =
	    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}, {\"address\": "
	    "\"127.0.0.1\", \"port\": 0}], \"admin_socket\": \"@DIR@/admin.sock\", "
	    "\"nop_interval_ms\": 60000, \"targets\": [{\"name\": \"" H_TARGET "\", \"luns\": "
	    "[{\"backstore\": {\"type\": \"ram\", \"size\": \"16M\"}}, {\"backstore\": {\"type\": "
	    "\"ram\", \"size\": \"16M\"}}]}]}";
	if (h_start(&daemon_, cfg))
		return -1;
	for (int l = 0; l < 2; l++) {
		for (int p = 0; p < 2; p++)
			snprintf(u[l][p], sizeof(u[l][p]), "iscsi://127.0.0.1:%u/%s/%d",
			         daemon_.ports[p], H_TARGET, l);
		snprintf(devs[l], sizeof(devs[l]), "%s,%s", u[l][0], u[l][1]);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

static void node_args(const char **a, int *n, const char *node)
{
	static char ini[4][128], st[4][400];
	int k = node[1] - '0';
	snprintf(ini[k], sizeof(ini[k]), "iqn.2026-11.io.prkit.test:%s", node);
	snprintf(st[k], sizeof(st[k]), "%s/%s", daemon_.dir, node);
	a[(*n)++] = "fence";
	a[(*n)++] = "--local-node";
	a[(*n)++] = node;
	a[(*n)++] = "--initiator";
	a[(*n)++] = ini[k];
	a[(*n)++] = "--state-dir";
	a[(*n)++] = st[k];
	a[(*n)++] = "--host-map";
	a[(*n)++] = HOSTMAP;
	a[(*n)++] = "--devices";
	a[(*n)++] = devs[0];
	a[(*n)++] = "--devices";
	a[(*n)++] = devs[1];
}

/* prkit fence as `node` with -o action [-n victim]. */
static void fence_cmd(const char **a, const char *node, const char *action, const char *victim)
{
	int n = 0;
	node_args(a, &n, node);
	a[n++] = "-o";
	a[n++] = action;
	if (victim) {
		a[n++] = "-n";
		a[n++] = victim;
	}
	a[n] = NULL;
}

static int fence(const char *node, const char *action, const char *victim)
{
	const char *a[32];
	fence_cmd(a, node, action, victim);
	int rc = h_prkit(&daemon_, out, sizeof(out), err, sizeof(err), a);
	if (rc == 1 || rc < 0)
		print_message("# fence %s -o %s: rc %d: %s|%s", node, action, rc, out, err);
	return rc;
}

/* The keys registered on LU lun, read through a throw-away nexus. */
static int keys_of(int lun, uint64_t *keys, int cap)
{
	const char *a[] = {"persist", "--initiator", "iqn.2026-11.io.prkit.test:reader",
	                   "-n",      "-i",          "-k",
	                   "--json",  u[lun][0],     NULL};
	assert_int_equal(h_prkit(&daemon_, out, sizeof(out), err, sizeof(err), a), 0);
	int n = 0;
	for (const char *p = strstr(out, "\"key\""); p && n < cap; p = strstr(p + 1, "\"key\"")) {
		const char *q = strstr(p, "0x");
		if (q)
			keys[n++] = strtoull(q, NULL, 16);
	}
	return n;
}

static bool lu_has(int lun, uint64_t key)
{
	uint64_t k[64];
	int n = keys_of(lun, k, 64);
	for (int i = 0; i < n; i++)
		if (k[i] == key)
			return true;
	return false;
}

#define KEY(node, inc) (0x84d4000000000000ULL | ((uint64_t)(node) << 32) | (inc))

/* ---- a node's own I/O: versioned writes through the host library ---- */

struct writer {
	struct prk_host *h;
	struct prk_mpdev *d;
	uint8_t buf[32][512];
	uint64_t seq;
	int outstanding;
	long ok, fenced, other;
	bool stop;
};
static struct writer W;

static void w_issue(int slot);

static void w_done(struct prk_mpdev *d, const struct prk_io_result *r, void *arg)
{
	(void)d;
	int slot = (int)(intptr_t)arg;
	W.outstanding--;
	if (r->status == PRK_IO_OK)
		W.ok++;
	else if (r->status == PRK_IO_FENCED)
		W.fenced++;
	else
		W.other++;
	if (!W.stop)
		w_issue(slot);
}

static void w_issue(int slot)
{
	uint64_t v = ++W.seq;
	memcpy(W.buf[slot], &v, 8);
	if (prk_mpdev_write(W.d, (uint64_t)slot, 1, W.buf[slot], w_done, (void *)(intptr_t)slot) ==
	    0)
		W.outstanding++;
}

/* Node `node` (joined already: its key is KEY(node_id, inc)) opens LU 0
 * through both portals (cluster mode: the WE-RO reservation of another
 * member gives it access) and
 * keeps 32 versioned writes in flight to blocks 0..31. */
static void writer_start(const char *node, uint64_t key)
{
	memset(&W, 0, sizeof(W));
	char dir[400], ini[128];
	snprintf(dir, sizeof(dir), "%s/%s-io", daemon_.dir, node);
	snprintf(ini, sizeof(ini), "iqn.2026-11.io.prkit.test:%s", node);
	struct prk_host_opts ho = {.state_dir = dir};
	W.h = prk_host_new(&ho, NULL);
	assert_non_null(W.h);
	const char *urls[] = {u[0][0], u[0][1]};
	struct prk_mpdev_opts o = {.initiator_name = ini, .urls = urls, .n_urls = 2, .key = key};
	W.d = prk_mpdev_new(W.h, &o, NULL);
	assert_non_null(W.d);
	struct prk_open_opts oo = {.mode = PRK_OPEN_CLUSTER};
	struct prk_host_err e;
	if (prk_mpdev_open(W.d, &oo, &e))
		fail_msg("writer open: %s", e.msg);
	for (int i = 0; i < 32; i++)
		w_issue(i);
}

static void writer_pump(int ms)
{
	uint64_t end = h_now_ms() + (uint64_t)ms;
	while (h_now_ms() < end)
		prk_host_run(W.h, 5);
}

static void writer_stop(void)
{
	W.stop = true;
	uint64_t end = h_now_ms() + 20000;
	while (W.outstanding && h_now_ms() < end)
		prk_host_run(W.h, 5);
	prk_mpdev_free(W.d);
	prk_host_free(W.h);
}

static bool rd_done;
static int rd_status;

static void rd_cb(struct prk_mpdev *d, const struct prk_io_result *r, void *arg)
{
	(void)d;
	(void)arg;
	rd_done = true;
	rd_status = r->status;
}

/* Blocks 0..31 of LU 0 as a third party reads them (a reader registered
 * with a key outside the cluster; reads are open to every registrant). */
static void snapshot(uint64_t v[32])
{
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/reader", daemon_.dir);
	struct prk_host_opts ho = {.state_dir = dir};
	struct prk_host *h = prk_host_new(&ho, NULL);
	assert_non_null(h);
	const char *urls[] = {u[0][0]};
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
	assert_int_equal(prk_mpdev_read(d, 0, 32, b, rd_cb, NULL), 0);
	while (!rd_done)
		prk_host_run(h, 10);
	assert_int_equal(rd_status, PRK_IO_OK);
	prk_mpdev_unregister(d, &e);
	prk_mpdev_free(d);
	prk_host_free(h);
	for (int i = 0; i < 32; i++)
		memcpy(&v[i], b + i * 512, 8);
}

/* ---- tests ---- */

static void test_join_registers_every_path_and_reserves(void **state)
{
	(void)state;
	assert_int_equal(fence("n1", "on", NULL), 0);
	assert_non_null(strstr(out, "0x84d4000100000001"));
	assert_int_equal(fence("n2", "on", NULL), 0);
	for (int l = 0; l < 2; l++) {
		uint64_t k[16];
		int n = keys_of(l, k, 16);
		assert_int_equal(n, 4); /* 2 nodes x 2 paths */
		assert_true(lu_has(l, KEY(1, 1)));
		assert_true(lu_has(l, KEY(2, 1)));
		assert_non_null(strstr(out, "\"key\""));
	}
	const char *a[] = {"persist", "--initiator", "iqn.2026-11.io.prkit.test:reader",
	                   "-n",      "-i",          "-r",
	                   u[1][1],   NULL};
	assert_int_equal(h_prkit(&daemon_, out, sizeof(out), err, sizeof(err), a), 0);
	assert_non_null(strstr(out, "type: Write Exclusive, registrants only"));
	/* status / list as fence agents report them */
	assert_int_equal(fence("n1", "status", "n2"), 0);
	assert_non_null(strstr(out, "Status: ON"));
	assert_int_equal(fence("n1", "list", NULL), 0);
	assert_non_null(strstr(out, "n1,\n"));
	assert_non_null(strstr(out, "n2,\n"));
	assert_int_equal(fence("n1", "status", "n3"), 2);
	assert_non_null(strstr(out, "Status: OFF"));
	assert_int_equal(fence("n1", "check", NULL), 0);
	assert_int_equal(fence("n1", "monitor", NULL), 0);
	/* fencing oneself is refused */
	assert_int_equal(fence("n1", "off", "n1"), 1);
}

/* n2 writes at QD32 over two paths; n1 fences it. After off returns, no
 * write of n2 lands: the blocks read the same before and after n2 goes on
 * trying; n2's library says fenced. */
static void test_fence_writing_node(void **state)
{
	(void)state;
	assert_int_equal(fence("n1", "on", NULL), 0);
	assert_int_equal(fence("n2", "on", NULL), 0);
	writer_start("n2", KEY(2, 1));
	writer_pump(300);
	assert_true(W.ok > 0);
	const char *a[32];
	fence_cmd(a, "n1", "off", "n2");
	struct h_proc p;
	assert_int_equal(h_prkit_spawn(&daemon_, &p, a), 0);
	int rc;
	uint64_t t0 = h_now_ms();
	while (!h_proc_poll(&p, &rc, out, sizeof(out), err, sizeof(err)))
		prk_host_run(W.h, 2); /* the victim keeps writing meanwhile */
	if (rc != 0)
		fail_msg("off: %s %s", out, err);
	print_message("# off took %llu ms\n", (unsigned long long)(h_now_ms() - t0));
	uint64_t before[32], after[32];
	snapshot(before);
	writer_pump(500);
	snapshot(after);
	for (int i = 0; i < 32; i++)
		assert_int_equal(before[i], after[i]);
	assert_true(W.fenced > 0);
	assert_true(prk_mpdev_is_fenced(W.d));
	writer_stop();
	for (int l = 0; l < 2; l++) {
		assert_false(lu_has(l, KEY(2, 1)));
		assert_true(lu_has(l, KEY(1, 1)));
	}
	assert_int_equal(fence("n1", "status", "n2"), 2);
	assert_int_equal(fence("n2", "check", NULL), 2); /* the watchdog would reboot n2 */

	/* n2 comes back: a new incarnation, a new key. */
	assert_int_equal(fence("n2", "on", NULL), 0);
	assert_non_null(strstr(out, "0x84d4000200000002"));
	for (int l = 0; l < 2; l++) {
		assert_true(lu_has(l, KEY(2, 2)));
		assert_false(lu_has(l, KEY(2, 1)));
	}
	assert_int_equal(fence("n1", "status", "n2"), 0);
}

/* Two survivors fence each other at the same moment: the LUs are taken in
 * NAA order and a loser stops at its first RESERVATION CONFLICT, so one
 * wins both LUs. */
static void test_two_survivors_fence_each_other(void **state)
{
	(void)state;
	assert_int_equal(fence("n1", "on", NULL), 0);
	assert_int_equal(fence("n2", "on", NULL), 0);
	const char *a1[32], *a2[32];
	fence_cmd(a1, "n1", "off", "n2");
	fence_cmd(a2, "n2", "off", "n1");
	struct h_proc p1, p2;
	assert_int_equal(h_prkit_spawn(&daemon_, &p1, a1), 0);
	assert_int_equal(h_prkit_spawn(&daemon_, &p2, a2), 0);
	int rc1 = -1, rc2 = -1;
	static char o2[4096], e2[4096];
	bool d1 = false, d2 = false;
	while (!d1 || !d2) {
		if (!d1)
			d1 = h_proc_poll(&p1, &rc1, out, sizeof(out), err, sizeof(err));
		if (!d2)
			d2 = h_proc_poll(&p2, &rc2, o2, sizeof(o2), e2, sizeof(e2));
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	assert_true((rc1 == 0) != (rc2 == 0)); /* exactly one wins */
	int winner = rc1 == 0 ? 1 : 2, loser = 3 - winner;
	for (int l = 0; l < 2; l++) {
		assert_true(lu_has(l, KEY(winner, 1)));
		assert_false(lu_has(l, KEY(loser, 1)));
	}
}

/* A path is down while a node joins: it registers through the live path
 * and succeeds. */
static void test_join_with_a_path_down(void **state)
{
	(void)state;
	char ap[64];
	snprintf(ap, sizeof(ap), "127.0.0.1:%u", daemon_.ports[1]);
	const char *a[] = {"remove-portal", ap, NULL};
	int rc = h_cli(&daemon_, out, sizeof(out), err, sizeof(err), a);
	if (rc)
		fail_msg("remove-portal: %d %s %s", rc, out, err);
	assert_int_equal(fence("n3", "on", NULL), 0);
	for (int l = 0; l < 2; l++) {
		uint64_t k[16];
		assert_int_equal(keys_of(l, k, 16), 1);
		assert_int_equal(k[0], KEY(3, 1));
	}
}

/* Pacemaker's way: no action on the command line, key=value on stdin;
 * metadata as fence-agents print it. */
static void test_stdin_options_and_metadata(void **state)
{
	(void)state;
	assert_int_equal(fence("n1", "on", NULL), 0);
	const char *m[] = {"fence", "-o", "metadata", NULL};
	assert_int_equal(h_prkit(&daemon_, out, sizeof(out), err, sizeof(err), m), 0);
	assert_non_null(strstr(out, "<resource-agent name=\"fence_prkit\""));
	assert_non_null(strstr(out, "<action name=\"on\" on_target=\"1\" automatic=\"1\"/>"));
	assert_non_null(strstr(out, "<action name=\"off\""));
	assert_non_null(strstr(out, "<action name=\"status\""));
	assert_non_null(strstr(out, "<action name=\"list\""));

	char in[4096], path[512];
	snprintf(in, sizeof(in),
	         "action=status\nnodename=n1\ndevices=%s %s\nhost_map=" HOSTMAP
	         "\nlocal_node=n2\ninitiator=iqn.2026-11.io.prkit.test:n2\nstate_dir=%s/n2\n",
	         devs[0], devs[1], daemon_.dir);
	snprintf(path, sizeof(path), "%s/stdin.txt", daemon_.dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(in, f);
	fclose(f);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s fence < %s > %s/stdin.out 2>&1", PRKIT_PATH, path,
	         daemon_.dir);
	assert_int_equal(WEXITSTATUS(system(cmd)), 0);
	snprintf(path, sizeof(path), "%s/stdin.out", daemon_.dir);
	f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	fclose(f);
	assert_non_null(strstr(out, "Status: ON"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_join_registers_every_path_and_reserves, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_fence_writing_node, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_survivors_fence_each_other, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_join_with_a_path_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stdin_options_and_metadata, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
