/* ALUA and knet links across the nodes of a three-node cluster
 * (cluster_harness.h, cluster_extra.h):
 *   rtpg_everywhere  REPORT TARGET PORT GROUPS through each node lists the
 *                    three nodes' groups (TPG i with relative port i),
 *                    all active/optimized; node 3 crashes: through nodes
 *                    1 and 2, its group turns unavailable (the time from
 *                    the kill is printed) and theirs stay as they were;
 *   link_failure     two knet links per node, each listed up for every
 *                    peer by every node; link 1 of node 3 cut in the
 *                    switch is shown down on node 1 by `prkit target
 *                    cluster --json`, and nothing else changes (three
 *                    members, every node serving, a PR OUT through node 3
 *                    completes); link 0 cut as well is a node failure:
 *                    node 3 leaves the members of nodes 1 and 2. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "cluster_extra.h"
#include "cluster_harness.h"
#include "harness.h"
#include "harness_cmd.h"

#define INI1 "iqn.2026-11.io.prkit.test:cl-one"
#define INI2 "iqn.2026-11.io.prkit.test:cl-two"
#define INI3 "iqn.2026-11.io.prkit.test:cl-three"
#define K1 0x1111ULL
#define K3 0x3333ULL

#define ALUA_AO 0x0
#define ALUA_UNAVAILABLE 0x3

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static int teardown(void **state)
{
	(void)state;
	cl_down();
	cx_topology(1, false);
	return 0;
}

static int setup_plain(void **state)
{
	(void)state;
	cx_topology(1, false);
	return cl_up(3, NULL);
}

static int setup_two_links(void **state)
{
	(void)state;
	cx_topology(2, false);
	return cl_up(3, NULL);
}

/* RTPG through iscsi, retried past unit attentions (a change of the
 * groups' states may queue one); the groups into g (sorted by TPG as
 * found: the caller looks them up). Returns their number. */
static int groups(struct iscsi_context *iscsi, struct cx_group *g, int cap)
{
	uint8_t buf[512];
	size_t len = 0;
	for (int tries = 0;; tries++) {
		int st = cx_rtpg(iscsi, buf, sizeof(buf), &len);
		if (st == SCSI_STATUS_GOOD)
			break;
		/* The sense of the last try is lost with the task; a unit
		 * attention is the one reason to try again. */
		if (st != SCSI_STATUS_CHECK_CONDITION || tries == 8)
			fail_msg("REPORT TARGET PORT GROUPS: status 0x%02x", st);
	}
	int n = cx_parse_rtpg(buf, len, g, cap);
	if (n < 0)
		fail_msg("REPORT TARGET PORT GROUPS: malformed answer of %zu bytes", len);
	return n;
}

static const struct cx_group *group_of(const struct cx_group *g, int n, uint16_t tpg)
{
	for (int i = 0; i < n; i++)
		if (g[i].tpg == tpg)
			return &g[i];
	return NULL;
}

/* Through iscsi: exactly the groups 1..3, each one port with the relative
 * port id of its node; group k in state want[k-1]. */
static void assert_groups(struct iscsi_context *iscsi, int via, const uint8_t *want)
{
	struct cx_group g[8];
	int n = groups(iscsi, g, 8);
	if (n != 3)
		fail_msg("RTPG through node %d lists %d groups, not 3", via, n);
	for (uint16_t k = 1; k <= 3; k++) {
		const struct cx_group *x = group_of(g, n, k);
		if (!x)
			fail_msg("RTPG through node %d does not list TPG %u", via, k);
		assert_int_equal(x->n_ports, 1);
		assert_int_equal(x->rtpi, k);
		if (x->state != want[k - 1])
			fail_msg("RTPG through node %d: TPG %u in state %u, not %u", via, k,
			         x->state, want[k - 1]);
	}
}

static void test_rtpg_everywhere(void **state)
{
	(void)state;
	cl_failed = true;
	struct iscsi_context *s[4] = {NULL, cl_login_clear(1, INI1, 1), cl_login_clear(2, INI2, 2),
	                              cl_login_clear(3, INI3, 3)};
	const uint8_t all_ao[3] = {ALUA_AO, ALUA_AO, ALUA_AO};
	for (int i = 1; i <= 3; i++)
		assert_groups(s[i], i, all_ao);

	uint64_t t0 = h_now_ms();
	cl_kill(3);
	iscsi_destroy_context(s[3]); /* its node is gone */
	/* Unavailable through both survivors once they saw the departure
	 * (token timeout plus consensus: about 2.2 s). */
	uint64_t seen[3] = {0, 0, 0};
	while (!seen[1] || !seen[2]) {
		for (int i = 1; i <= 2; i++) {
			if (seen[i])
				continue;
			struct cx_group g[8];
			int n = groups(s[i], g, 8);
			const struct cx_group *x = group_of(g, n, 3);
			assert_non_null(x);
			if (x->state == ALUA_UNAVAILABLE)
				seen[i] = h_now_ms() - t0;
			else
				assert_int_equal(x->state, ALUA_AO);
		}
		if (h_now_ms() - t0 > 15000)
			fail_msg("node 3's group is not unavailable through node %d 15 s after "
			         "the kill",
			         seen[1] ? 2 : 1);
		sleep_ms(50);
	}
	print_message("# TPG 3 unavailable through node 1 after %llu ms, node 2 after %llu ms\n",
	              (unsigned long long)seen[1], (unsigned long long)seen[2]);
	const uint8_t third_gone[3] = {ALUA_AO, ALUA_AO, ALUA_UNAVAILABLE};
	assert_groups(s[1], 1, third_gone);
	assert_groups(s[2], 2, third_gone);
	h_logout(s[1]);
	h_logout(s[2]);
	cl_failed = false;
}

/* Node 1's view through the CLI, asserted present. */
static json_object *view(int i)
{
	json_object *c = cx_cli_cluster(i);
	if (!c)
		fail_msg("prkit target cluster --json on node %d gave no cluster object", i);
	return c;
}

static const char *state_of(json_object *c)
{
	json_object *v;
	return json_object_object_get_ex(c, "state", &v) ? json_object_get_string(v) : "";
}

/* Nothing but the link changed: three members on every node, each
 * serving. */
static void assert_whole(const char *when)
{
	for (int i = 1; i <= 3; i++) {
		json_object *c = cl_state(i);
		if (!c)
			fail_msg("%s: node %d does not answer", when, i);
		if (cx_n_members(c) != 3 || strcmp(state_of(c), "serving") != 0)
			fail_msg("%s: node %d is %s with %d members", when, i, state_of(c),
			         cx_n_members(c));
		json_object_put(c);
	}
}

static void test_link_failure(void **state)
{
	(void)state;
	cl_failed = true;
	struct iscsi_context *a = cl_login_clear(1, INI1, 1);
	struct iscsi_context *c3 = cl_login_clear(3, INI3, 3);
	assert_int_equal(
	    h_prout(a, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, K1, 0, 0),
	    SCSI_STATUS_GOOD);
	/* Every node lists both links of every peer, up (they may still be
	 * coming up right after the start). */
	for (uint64_t t = h_now_ms();;) {
		int missing = 0;
		for (int i = 1; i <= 3; i++) {
			json_object *v = view(i);
			for (int j = 1; j <= 3; j++)
				for (int l = 0; l < 2; l++)
					missing += j != i && cx_link_state(v, j, l) != 1;
			json_object_put(v);
		}
		if (!missing)
			break;
		if (h_now_ms() - t > 10000)
			fail_msg("%d peer links are not listed up after 10 s", missing);
		sleep_ms(200);
	}
	json_object *c = view(1);
	print_message("# before: node 3's links as node 1 shows them: link 0 %d, link 1 %d "
	              "(1 up, 0 down, -1 not listed)\n",
	              cx_link_state(c, 3, 0), cx_link_state(c, 3, 1));
	assert_int_equal(cx_n_members(c), 3);
	assert_int_not_equal(cx_link_state(c, 3, 1), 0);
	json_object_put(c);

	/* A cable: link 1 of node 3. */
	uint64_t t0 = h_now_ms();
	assert_int_equal(cx_link(3, 1, false), 0);
	uint64_t shown = 0;
	while (!shown) {
		c = view(1);
		if (cx_link_state(c, 3, 1) == 0)
			shown = h_now_ms() - t0;
		/* Link 0 carries on: never reported down. */
		assert_int_not_equal(cx_link_state(c, 3, 0), 0);
		json_object_put(c);
		assert_true(h_now_ms() - t0 < 10000);
		assert_whole("link 1 of node 3 down");
		sleep_ms(100);
	}
	print_message("# link 1 of node 3 shown down on node 1 after %llu ms\n",
	              (unsigned long long)shown);
	/* Two token timeouts more: still one cluster of three. */
	while (h_now_ms() - t0 < shown + 2500) {
		assert_whole("link 1 of node 3 down");
		sleep_ms(100);
	}
	uint32_t g = cl_generation(a);
	assert_int_equal(
	    h_prout(c3, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, K3, 0, 0),
	    SCSI_STATUS_GOOD);
	assert_int_equal(cl_generation(a), g + 1);
	assert_whole("after a PR OUT through node 3");

	/* Every link of node 3: a node failure. */
	uint64_t t1 = h_now_ms();
	assert_int_equal(cx_link(3, 0, false), 0);
	uint64_t gone[3] = {0, 0, 0};
	while (!gone[1] || !gone[2]) {
		for (int i = 1; i <= 2; i++) {
			json_object *s = cl_state(i);
			assert_non_null(s);
			if (!gone[i] && !cx_is_member(s, 3)) {
				gone[i] = h_now_ms() - t1;
				assert_int_equal(cx_n_members(s), 2);
				assert_string_equal(state_of(s), "serving");
			}
			json_object_put(s);
		}
		if (h_now_ms() - t1 > 15000)
			fail_msg("node 3 still a member 15 s after its last link went down");
		sleep_ms(50);
	}
	print_message("# every link of node 3 down: it left node 1's members after %llu ms, "
	              "node 2's after %llu ms\n",
	              (unsigned long long)gone[1], (unsigned long long)gone[2]);
	h_logout(a);
	iscsi_destroy_context(c3);
	cl_failed = false;
}

int main(void)
{
	if (cl_skip_all())
		return 0;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rtpg_everywhere, setup_plain, teardown),
	    cmocka_unit_test_setup_teardown(test_link_failure, setup_two_links, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
