/* LU discovery (prk_host_discover_lus, src/host/discover_lus.c) and prkit
 * fenced's "discover" (prk_fds_open, src/fenced/fd_storage.c) against a real
 * prkitd with two portals and two targets: d1 with LUNs 0-2 and d2 with
 * LUNs 0 and 5. prkitd serves every target on every portal, so each of the
 * five LUs has two paths, one per portal.
 *
 * What discovery should find is learned another way: a device opened on an
 * explicit URL reports the LU's NAA (prk_mpdev_naa), and the paths are the
 * URLs of the LU through both portals. Every LU has an explicit serial,
 * so the NAAs the test expects do not depend on prkitd's default (target
 * name and LUN, docs/prkitd.md). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd_config.h"
#include "fd_storage.h"
#include "fence_key.h"
#include "harness.h"
#include "prkit/host.h"
#include "prkit/host_ctl.h"

#define T1 "iqn.2026-11.io.prkit.test:d1"
#define T2 "iqn.2026-11.io.prkit.test:d2"
#define INI "iqn.2026-11.io.prkit.test:disc"
#define READER "iqn.2026-11.io.prkit.test:reader"
#define N_LU 5

static const struct {
	const char *target;
	int lun;
} lu_at[N_LU] = {{T1, 0}, {T1, 1}, {T1, 2}, {T2, 0}, {T2, 5}};

static struct h_daemon dmn;
static struct prk_host *reader;
static struct prk_mpdev *rd[N_LU]; /* the reader's device on each LU, portal 0 */
static char portal_url[64];

static void lu_url(char *buf, size_t cap, int portal, int i)
{
	snprintf(buf, cap, "iscsi://127.0.0.1:%u/%s/%d", dmn.ports[portal], lu_at[i].target,
	         lu_at[i].lun);
}

static int setup(void **state)
{
	(void)state;
	static const char cfg[] =
	    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0},"
	    "               {\"address\": \"127.0.0.1\", \"port\": 0}],"
	    " \"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000,"
	    " \"targets\": ["
	    "  {\"name\": \"" T1 "\", \"luns\": ["
	    "   {\"lun\": 0, \"serial\": \"d1l0\", \"backstore\": {\"type\": \"ram\", \"size\": "
	    "\"1M\"}},"
	    "   {\"lun\": 1, \"serial\": \"d1l1\", \"backstore\": {\"type\": \"ram\", \"size\": "
	    "\"1M\"}},"
	    "   {\"lun\": 2, \"serial\": \"d1l2\", \"backstore\": {\"type\": \"ram\", \"size\": "
	    "\"1M\"}}]},"
	    "  {\"name\": \"" T2 "\", \"luns\": ["
	    "   {\"lun\": 0, \"serial\": \"d2l0\", \"backstore\": {\"type\": \"ram\", \"size\": "
	    "\"1M\"}},"
	    "   {\"lun\": 5, \"serial\": \"d2l5\", \"backstore\": {\"type\": \"ram\", \"size\": "
	    "\"1M\"}}]}]}";
	if (h_start(&dmn, cfg) || dmn.n_ports != 2)
		return -1;
	snprintf(portal_url, sizeof(portal_url), "iscsi://127.0.0.1:%u", dmn.ports[0]);
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/reader", dmn.dir);
	struct prk_host_err e;
	reader = prk_host_new(&(struct prk_host_opts){.state_dir = dir}, &e);
	if (!reader)
		return -1;
	for (int i = 0; i < N_LU; i++) {
		char u[300];
		lu_url(u, sizeof(u), 0, i);
		const char *urls[1] = {u};
		struct prk_mpdev_opts mo = {
		    .initiator_name = READER, .urls = urls, .n_urls = 1, .ephemeral_isid_ok = true};
		rd[i] = prk_mpdev_new(reader, &mo, &e);
		if (!rd[i] || prk_mpdev_wait_paths(rd[i], 1, 5000) != 1 || !prk_mpdev_naa(rd[i])[0])
			return -1;
	}
	/* The serials make five distinct LUs. */
	for (int i = 0; i < N_LU; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(prk_mpdev_naa(rd[i]), prk_mpdev_naa(rd[j])) == 0)
				return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < N_LU; i++)
		prk_mpdev_free(rd[i]);
	prk_host_free(reader);
	reader = NULL;
	return h_stop(&dmn) == 0 ? 0 : -1;
}

static int lu_of_naa(const char *naa)
{
	for (int i = 0; i < N_LU; i++)
		if (strcmp(prk_mpdev_naa(rd[i]), naa) == 0)
			return i;
	return -1;
}

/* A port on 127.0.0.1 nobody listens on: bound, then closed. */
static unsigned closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* ---- the host call ---- */

/* Through either portal: the five LUs, each once, sorted by NAA, each
 * with its two paths (one per portal, its own target and LUN); a device
 * made from an entry's paths comes up on both. */
static void test_discover_every_lu(void **state)
{
	(void)state;
	static struct prk_host_lu lus[8];
	for (int portal = 0; portal < 2; portal++) {
		char pu[64];
		snprintf(pu, sizeof(pu), "iscsi://127.0.0.1:%u/", dmn.ports[portal]);
		size_t n = 0;
		struct prk_host_err e;
		if (prk_host_discover_lus(INI, pu, 5, lus, 8, &n, &e))
			fail_msg("discover through %s: %s", pu, e.msg);
		assert_int_equal(n, N_LU);
		bool seen[N_LU] = {0};
		for (size_t k = 0; k < n; k++) {
			if (k)
				assert_true(strcmp(lus[k - 1].naa, lus[k].naa) < 0);
			int i = lu_of_naa(lus[k].naa);
			if (i < 0)
				fail_msg("naa.%s is none of the LUs", lus[k].naa);
			assert_false(seen[i]);
			seen[i] = true;
			assert_int_equal(lus[k].n_paths, 2);
			assert_int_equal(lus[k].n_found, 2);
			for (int p = 0; p < 2; p++) {
				char want[300];
				lu_url(want, sizeof(want), p, i);
				if (strcmp(lus[k].paths[0], want) && strcmp(lus[k].paths[1], want))
					fail_msg("naa.%s: path %s not found (got %s, %s)",
					         lus[k].naa, want, lus[k].paths[0],
					         lus[k].paths[1]);
			}
		}
	}
	const char *urls[2] = {lus[N_LU - 1].paths[0], lus[N_LU - 1].paths[1]};
	struct prk_mpdev_opts mo = {
	    .initiator_name = INI, .urls = urls, .n_urls = 2, .ephemeral_isid_ok = true};
	struct prk_host_err e;
	struct prk_mpdev *d = prk_mpdev_new(reader, &mo, &e);
	assert_non_null(d);
	assert_int_equal(prk_mpdev_wait_paths(d, 2, 5000), 2);
	assert_string_equal(prk_mpdev_naa(d), lus[N_LU - 1].naa);
	prk_mpdev_free(d);
}

/* More LUs than room: an error that gives the number found. */
static void test_discover_too_many(void **state)
{
	(void)state;
	struct prk_host_lu lus[3];
	size_t n = 0;
	struct prk_host_err e;
	assert_int_equal(prk_host_discover_lus(INI, portal_url, 5, lus, 3, &n, &e), -1);
	assert_int_equal(e.code, PRK_HE_USAGE);
	assert_int_equal(n, N_LU);
	assert_non_null(strstr(e.msg, "5 LUs found, room for at most 3"));
}

/* Bad portal URLs are refused before any connection, each with what is
 * wrong; a portal nobody listens on fails the discovery login, named. */
static void test_discover_bad_portal(void **state)
{
	(void)state;
	struct prk_host_lu lus[8];
	size_t n = 7;
	struct prk_host_err e;
	static const struct {
		const char *url, *says;
	} bad[] = {
	    {"http://127.0.0.1:3260", "want iscsi://"},
	    {"iscsi://", "bad URL 'iscsi://'"},
	    {"iscsi://127.0.0.1:99999", "bad URL 'iscsi://127.0.0.1:99999'"},
	    {"iscsi://127.0.0.1:3260/" T1 "/0", "names a target or LUN"},
	    {"iscsi://u%secret12345678@:3260", "bad URL"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(prk_host_discover_lus(INI, bad[i].url, 5, lus, 8, &n, &e), -1);
		assert_int_equal(n, 0);
		assert_int_equal(e.code, PRK_HE_USAGE);
		if (!strstr(e.msg, bad[i].says))
			fail_msg("%s: '%s' does not say '%s'", bad[i].url, e.msg, bad[i].says);
	}
	char pu[64], portal[32];
	unsigned port = closed_port();
	snprintf(pu, sizeof(pu), "iscsi://127.0.0.1:%u", port);
	snprintf(portal, sizeof(portal), "127.0.0.1:%u", port);
	uint64_t t0 = h_now_ms();
	assert_int_equal(prk_host_discover_lus(INI, pu, 5, lus, 8, &n, &e), -1);
	assert_true(h_now_ms() - t0 < 5000);
	assert_int_equal(e.code, PRK_HE_NO_PATH);
	assert_non_null(strstr(e.msg, "discovery login failed"));
	assert_non_null(strstr(e.msg, portal));
}

/* A portal that drops our SYN (here: a listener whose accept queue is
 * full; a dead host does the same): the discovery gives up after its
 * timeout and says so, instead of waiting minutes for the kernel. */
static void test_discover_portal_silent(void **state)
{
	(void)state;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 0), 0);
	socklen_t alen = sizeof(a);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	/* Never accepted: these fill the queue, later SYNs are dropped. */
	int fill[3];
	for (int i = 0; i < 3; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(fill[i] >= 0);
		connect(fill[i], (struct sockaddr *)&a, sizeof(a));
	}
	usleep(100000);
	char pu[64];
	snprintf(pu, sizeof(pu), "iscsi://127.0.0.1:%u", ntohs(a.sin_port));
	struct prk_host_lu lus[8];
	size_t n = 0;
	struct prk_host_err e;
	uint64_t t0 = h_now_ms();
	int rc = prk_host_discover_lus(INI, pu, 2, lus, 8, &n, &e);
	uint64_t took = h_now_ms() - t0;
	for (int i = 0; i < 3; i++)
		close(fill[i]);
	close(lfd);
	assert_int_equal(rc, -1);
	printf("# silent portal: gave up after %llu ms (timeout 2 s)\n", (unsigned long long)took);
	assert_true(took >= 1900 && took < 4000);
	assert_int_equal(e.code, PRK_HE_NO_PATH);
	if (!strstr(e.msg, "discovery login failed: TCP connect to 127.0.0.1:") ||
	    !strstr(e.msg, "no answer in 2 s"))
		fail_msg("error: %s", e.msg);
}

/* A target the discovery lists but that refuses our login (it wants CHAP
 * we do not have): the whole discovery fails and says which target, rather
 * than leaving its LUs out. */
static void test_discover_target_refuses(void **state)
{
	(void)state;
	static const char cfg[] =
	    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}],"
	    " \"admin_socket\": \"@DIR@/admin.sock\","
	    " \"targets\": ["
	    "  {\"name\": \"" T1 "\", \"luns\": [{\"serial\": \"x1\", \"backstore\": "
	    "{\"type\": \"ram\", \"size\": \"1M\"}}]},"
	    "  {\"name\": \"" T2 "\", \"chap\": {\"user\": \"u\", \"secret\": "
	    "\"twelve-chars-at-least\"},"
	    "   \"luns\": [{\"serial\": \"x2\", \"backstore\": {\"type\": \"ram\", \"size\": "
	    "\"1M\"}}]}]}";
	struct h_daemon d2 = {0};
	assert_int_equal(h_start(&d2, cfg), 0);
	char pu[64];
	snprintf(pu, sizeof(pu), "iscsi://127.0.0.1:%u", d2.ports[0]);
	struct prk_host_lu lus[8];
	size_t n = 0;
	struct prk_host_err e;
	int rc = prk_host_discover_lus(INI, pu, 5, lus, 8, &n, &e);
	assert_int_equal(h_stop(&d2), 0);
	assert_int_equal(rc, -1);
	assert_int_equal(e.code, PRK_HE_NO_PATH);
	if (!strstr(e.msg, "target " T2 ": login through 1 portal(s) failed"))
		fail_msg("error: %s", e.msg);
}

/* ---- prkit fenced's "discover" ---- */

static void node_cfg(struct prk_fd_config *c, int node)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->cluster_name, sizeof(c->cluster_name), "prkit");
	snprintf(c->discover, sizeof(c->discover), "%s", portal_url);
	/* One coordinator, named by one explicit path: d2 LUN 5. */
	c->n_coordinators = 1;
	c->coordinators[0].n_paths = 1;
	lu_url(c->coordinators[0].paths[0], sizeof(c->coordinators[0].paths[0]), 1, 4);
	snprintf(c->initiator, sizeof(c->initiator), "iqn.2026-11.io.prkit.test:n%d", node);
	snprintf(c->state_dir, sizeof(c->state_dir), "%s/n%d", dmn.dir, node);
	c->io_timeout_ms = 5000;
	c->stall_max_ms = 10000;
	c->check_ms = 1000;
}

static bool has_node(int i, uint16_t node)
{
	struct prk_resv_view v;
	struct prk_host_err e;
	if (prk_mpdev_read_state(rd[i], &v, &e))
		fail_msg("LU %d: READ KEYS: %s", i, e.msg);
	for (size_t k = 0; k < v.n_keys; k++)
		if (prk_fence_key_is_node(v.keys[k], prk_fence_cluster_tag("prkit"), node))
			return true;
	return false;
}

/* Discovery gives the data LUs (the coordinator left out by NAA, first in
 * fencing order); two nodes join on all five, one fences the other from
 * all five, and the self-checks agree: as with listed devices. */
static void test_fds_discover_join_fence(void **state)
{
	(void)state;
	static struct prk_fd_config c1, c2;
	node_cfg(&c1, 1);
	node_cfg(&c2, 2);
	char err[512];
	struct prk_fds *n1 = prk_fds_open(&c1, 1, err, sizeof(err));
	if (!n1)
		fail_msg("node 1: open: %s", err);
	struct prk_fds *n2 = prk_fds_open(&c2, 2, err, sizeof(err));
	if (!n2)
		fail_msg("node 2: open: %s", err);
	assert_int_equal(prk_fds_count(n1), N_LU);
	assert_true(prk_fds_is_coordinator(n1, 0));
	assert_int_equal(lu_of_naa(prk_fds_naa(n1, 0)), 4);
	bool seen[N_LU] = {0};
	for (size_t k = 0; k < N_LU; k++) {
		int i = lu_of_naa(prk_fds_naa(n1, k));
		assert_true(i >= 0 && !seen[i]);
		seen[i] = true;
		assert_int_equal(prk_fds_is_coordinator(n1, k), k == 0);
		if (k > 1)
			assert_true(strcmp(prk_fds_naa(n1, k - 1), prk_fds_naa(n1, k)) < 0);
	}

	uint64_t k1 = 0, k2 = 0, nk = 0;
	if (prk_fds_join(n1, NULL, &k1, err, sizeof(err)))
		fail_msg("node 1: join: %s", err);
	if (prk_fds_join(n2, NULL, &k2, err, sizeof(err)))
		fail_msg("node 2: join: %s", err);
	for (int i = 0; i < N_LU; i++)
		assert_true(has_node(i, 1) && has_node(i, 2));
	bool ok;
	size_t with, counted;
	char why[256];
	prk_fds_check(n1, &ok, &with, &counted, why, sizeof(why));
	assert_true(ok);

	uint16_t victim = 1;
	assert_int_equal(prk_fds_fence(n2, NULL, &victim, 1, &nk, err, sizeof(err)), 0);
	assert_int_equal(nk, k2);
	for (int i = 0; i < N_LU; i++) {
		assert_false(has_node(i, 1));
		assert_true(has_node(i, 2));
	}
	prk_fds_check(n1, &ok, &with, &counted, why, sizeof(why));
	assert_false(ok);
	assert_int_equal(with, 0);
	prk_fds_check(n2, &ok, &with, &counted, why, sizeof(why));
	assert_true(ok);
	prk_fds_free(n1);
	prk_fds_free(n2);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* What discovery adds to the daemon's start, measured: prk_fds_open with
 * discover against prk_fds_open with the same four data LUs listed with
 * their two paths each (the same coordinator). Both must open the same
 * LUs; medians of 5 are printed, no timing asserted (a shared machine). */
static void test_fds_discover_open_cost(void **state)
{
	(void)state;
	enum { ROUNDS = 5 };
	static struct prk_fd_config c;
	uint64_t t_disc[ROUNDS], t_list[ROUNDS];
	char err[512];
	for (int r = 0; r < ROUNDS; r++) {
		node_cfg(&c, 4);
		uint64_t t0 = h_now_ms();
		struct prk_fds *s = prk_fds_open(&c, 4, err, sizeof(err));
		t_disc[r] = h_now_ms() - t0;
		if (!s)
			fail_msg("open (discover): %s", err);
		assert_int_equal(prk_fds_count(s), N_LU);
		prk_fds_free(s);

		node_cfg(&c, 4);
		c.discover[0] = '\0';
		for (int i = 0; i < N_LU - 1; i++) {
			c.devices[i].n_paths = 2;
			for (int p = 0; p < 2; p++)
				lu_url(c.devices[i].paths[p], sizeof(c.devices[i].paths[p]), p, i);
		}
		c.n_devices = N_LU - 1;
		t0 = h_now_ms();
		s = prk_fds_open(&c, 4, err, sizeof(err));
		t_list[r] = h_now_ms() - t0;
		if (!s)
			fail_msg("open (listed): %s", err);
		assert_int_equal(prk_fds_count(s), N_LU);
		prk_fds_free(s);
	}
	qsort(t_disc, ROUNDS, sizeof(t_disc[0]), cmp_u64);
	qsort(t_list, ROUNDS, sizeof(t_list[0]), cmp_u64);
	printf("# prk_fds_open, 5 LUs (4 data, 2 paths each, 1 coordinator), median of %d: "
	       "discover %llu ms, listed %llu ms\n",
	       ROUNDS, (unsigned long long)t_disc[ROUNDS / 2],
	       (unsigned long long)t_list[ROUNDS / 2]);
}

/* Errors of prk_fds_open with discover: both devices and discover; a
 * portal nobody listens on; a portal with nothing besides the coordinator;
 * more than 16 data LUs (each names what is wrong). */
static void test_fds_discover_errors(void **state)
{
	(void)state;
	static struct prk_fd_config c;
	char err[512];
	node_cfg(&c, 3);
	c.n_devices = 1;
	c.devices[0].n_paths = 1;
	lu_url(c.devices[0].paths[0], sizeof(c.devices[0].paths[0]), 0, 0);
	assert_null(prk_fds_open(&c, 3, err, sizeof(err)));
	assert_non_null(strstr(err, "devices and discover"));

	node_cfg(&c, 3);
	snprintf(c.discover, sizeof(c.discover), "iscsi://127.0.0.1:%u", closed_port());
	assert_null(prk_fds_open(&c, 3, err, sizeof(err)));
	if (!strstr(err, "discover (iscsi://127.0.0.1:") || !strstr(err, "discovery login failed"))
		fail_msg("error: %s", err);

	char cfg[4096];
	int len = snprintf(cfg, sizeof(cfg),
	                   "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}],"
	                   " \"admin_socket\": \"@DIR@/admin.sock\","
	                   " \"targets\": [{\"name\": \"" T1 "\", \"luns\": [");
	for (int i = 0; i < 18; i++)
		len += snprintf(cfg + len, sizeof(cfg) - (size_t)len,
		                "%s{\"serial\": \"m%d\", \"backstore\": {\"type\": \"ram\", "
		                "\"size\": \"1M\"}}",
		                i ? "," : "", i);
	snprintf(cfg + len, sizeof(cfg) - (size_t)len, "]}]}");
	struct h_daemon d2 = {0};
	assert_int_equal(h_start(&d2, cfg), 0);
	/* 18 LUs, one of them the coordinator: 17 data LUs, one too many. */
	node_cfg(&c, 3);
	snprintf(c.discover, sizeof(c.discover), "iscsi://127.0.0.1:%u", d2.ports[0]);
	snprintf(c.coordinators[0].paths[0], sizeof(c.coordinators[0].paths[0]),
	         "iscsi://127.0.0.1:%u/" T1 "/17", d2.ports[0]);
	snprintf(c.state_dir, sizeof(c.state_dir), "%s/n3", d2.dir);
	struct prk_fds *s = prk_fds_open(&c, 3, err, sizeof(err));
	assert_null(s);
	if (!strstr(err, "17 LUs found besides the coordinators; at most 16"))
		fail_msg("error: %s", err);
	assert_int_equal(h_stop(&d2), 0);

	/* The coordinator is the only LU behind the portal. */
	const char one[] = "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}],"
	                   " \"admin_socket\": \"@DIR@/admin.sock\","
	                   " \"targets\": [{\"name\": \"" T1 "\", \"luns\": [{\"serial\": \"o1\","
	                   " \"backstore\": {\"type\": \"ram\", \"size\": \"1M\"}}]}]}";
	struct h_daemon d3 = {0};
	assert_int_equal(h_start(&d3, one), 0);
	node_cfg(&c, 3);
	snprintf(c.discover, sizeof(c.discover), "iscsi://127.0.0.1:%u", d3.ports[0]);
	snprintf(c.coordinators[0].paths[0], sizeof(c.coordinators[0].paths[0]),
	         "iscsi://127.0.0.1:%u/" T1 "/0", d3.ports[0]);
	snprintf(c.state_dir, sizeof(c.state_dir), "%s/n3", d3.dir);
	s = prk_fds_open(&c, 3, err, sizeof(err));
	assert_int_equal(h_stop(&d3), 0);
	assert_null(s);
	if (!strstr(err, "the portal leads to no LU besides the coordinators"))
		fail_msg("error: %s", err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_discover_every_lu),
	    cmocka_unit_test(test_discover_too_many),
	    cmocka_unit_test(test_discover_bad_portal),
	    cmocka_unit_test(test_discover_portal_silent),
	    cmocka_unit_test(test_discover_target_refuses),
	    cmocka_unit_test(test_fds_discover_join_fence),
	    cmocka_unit_test(test_fds_discover_errors),
	    cmocka_unit_test(test_fds_discover_open_cost),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
