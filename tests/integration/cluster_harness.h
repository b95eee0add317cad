/* Cluster-test harness: three (or n) prkitd nodes, each with its own
 * Corosync, in the network namespaces of tests/cluster/topo.sh ("Test
 * topology" in docs/cluster.md). One LU, identical on every node, lives in
 * one shared backing file in the work directory; node i serves it on
 * 10.98.i.2:3260 (TPGT i, RTPI i), which the test process (root namespace)
 * reaches over the node's front veth.
 *
 * Everything the harness starts is recorded in <work>/pids so that
 * `topo.sh down <work>` (run by cl_down, by an atexit handler and on
 * SIGTERM/SIGINT) stops it, also after a failed assertion. Include after
 * <cmocka.h>. */
#ifndef PRKIT_CLUSTER_HARNESS_H
#define PRKIT_CLUSTER_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iscsi/iscsi.h>
#include <json-c/json.h>

#define CL_TARGET "iqn.2026-11.io.prkit.test:cl"
#define CL_MAX_NODES 3
/* The cluster timing every node is configured with (cl_up). */
#define CL_HEARTBEAT_MS 200
#define CL_LEASE_MS                                                                                \
	3000 /* longer than failure detection (token + consensus), as prkitd derives it */
#define CL_MARGIN_MS 200
#define CL_TOKEN_MS 1000

struct cl_opts {
	/* Block size of the LU on node i (index 1..n); 0: 512. A node given
	 * another size than the rest must be refused by the cluster. */
	uint32_t block_size[CL_MAX_NODES + 1];
	/* Size of the shared LU in MiB; 0: 16. */
	unsigned lu_mb;
	/* Set: do not wait for "serving" (the caller waits for what it
	 * expects). */
	bool no_wait;
	/* Set: the shared LU allows 15h ("third_party_reservations") and every
	 * node has a LUN 1 too, a 16 MiB RAM LU (its own data on each node,
	 * its PR state replicated), as a copy source. */
	bool xcopy;
	/* Set: the LUs have no "serial": every node derives the same one
	 * from the target's name and LUN, so the nodes still agree on the
	 * LUs' NAA identifiers. */
	bool default_serial;
};

/* Is the machine able to run the cluster tests (root, ip, corosync,
 * topo.sh, network namespaces)? 1, or 0 with the reason in why. */
int cl_available(char *why, size_t cap);
/* For main(): when cl_available says no, prints a TAP plan that skips the
 * whole program ("1..0 # SKIP why") and returns 1; the caller returns 0. */
int cl_skip_all(void);

/* Builds the topology with n nodes (1..CL_MAX_NODES), writes the
 * configurations, starts Corosync and prkitd on every node and (unless
 * o->no_wait) waits until every node says "serving". o may be NULL.
 * Waits (up to 3 minutes) while another topology holds the namespaces.
 * 0, or -1 (message and logs printed). */
int cl_up(int n, const struct cl_opts *o);
/* ---- Corosync only (the prkit fenced tests bring their own daemons) ---- */

struct cl_cs_opts {
	/* Corosync's token timeout in ms; 0: CL_TOKEN_MS. */
	unsigned token_ms;
	/* votequorum two_node: 1 (topo.sh up --two-node; n must be 2). */
	bool two_node;
};
/* Builds the topology with n nodes and starts Corosync on every node, no
 * prkitd; waits (30 s) until every node is quorate. The other cl_*
 * helpers work on it (cl_partition, cl_heal, cl_work, cl_down); cl_kill
 * and cl_start concern Corosync only. 0, or -1. */
int cl_up_corosync(int n, const struct cl_cs_opts *o);
/* Node i's Corosync alone: start (waits until its IPC answers), and
 * SIGKILL. 0/-1. */
int cl_corosync_start(int i);
void cl_corosync_kill(int i);
/* Waits (ms) until node i's Corosync says quorate (want) or not. 1/0. */
int cl_wait_quorate(int i, bool want, int ms);

/* Starts argv (argv[0] found in PATH) inside node i's network namespace
 * (`ip netns exec`), stdin /dev/null, stdout to out_path and stderr to
 * err_path (NULL: /dev/null; the same path twice: one file), recorded
 * under <work>/pids/<name> so that cl_down (topo.sh down) stops it after
 * a failed assertion. The process dies with the test program. Its PID,
 * or -1. */
pid_t cl_spawn(int i, const char *name, const char *const *argv, const char *out_path,
               const char *err_path);
/* Sends sig to what cl_spawn started under name (if it still runs). */
void cl_signal(const char *name, int sig);
/* Waits up to ms for it to exit and reaps it: 1 with its wait status in
 * *status, 0 when it still runs, -1 when there is no such process. */
int cl_reap(const char *name, int ms, int *status);

/* Stops every daemon (prkitd first), removes the topology and, unless
 * the test failed (cl_failed set) or PRKIT_CL_KEEP is set, the work
 * directory. Idempotent. */
void cl_down(void);
/* Set by a test that wants the logs kept and printed at cl_down. */
extern bool cl_failed;

/* Node i's Corosync, then its prkitd (no waiting for "serving"). 0/-1. */
int cl_start(int i);
/* SIGKILL to prkitd AND Corosync of node i (a node crash). */
void cl_kill(int i);
/* A clean stop of node i: SIGTERM to prkitd (which must exit 0), then to
 * Corosync. 0, or -1. */
int cl_stop(int i);
/* cl_start, then waits (30 s) until node i serves. 0, or -1. */
int cl_restart(int i);
/* Cuts every cluster link of node i in the switch namespace / restores
 * them. 0, or -1. */
int cl_partition(int i);
int cl_heal(int i);

/* The "cluster" object of node i's admin answer ({"cmd":"cluster"}), or
 * NULL when the daemon does not answer (or answers without it). The
 * caller puts it. */
json_object *cl_state(int i);
/* Node i's "state" string into buf ("" when it does not answer). */
const char *cl_state_name(int i, char *buf, size_t cap);
/* Polls (every 20 ms) until node i's state is `state`, at most ms. 1, or
 * 0 (the last state seen is printed). */
int cl_wait_state(int i, const char *state, int ms);
/* cl_wait_state(i, "serving", ms), then until node i's portal accepts a
 * TCP connection (it opens when the node starts to serve). 1, or 0. */
int cl_wait_serving(int i, int ms);

/* "iscsi://10.98.i.2:3260/<target>/0" and "10.98.i.2:3260". */
void cl_url(int i, char *buf, size_t cap);
void cl_portal(int i, char *buf, size_t cap);
/* The work directory and the shared backing file of the LU. */
const char *cl_work(void);
const char *cl_backing(void);
/* Node i's prkitd log (the current run's). */
void cl_log_path(int i, char *buf, size_t cap);

/* Logs in to node i as initiator ini with ISID qualifier q, sending no
 * command (so what is pending stays pending). NULL on failure. */
struct iscsi_context *cl_login(int i, const char *ini, uint32_t q);
/* cl_login, asserting success, then TEST UNIT READY until no unit
 * attention is left (asserting GOOD). */
struct iscsi_context *cl_login_clear(int i, const char *ini, uint32_t q);

/* PERSISTENT RESERVE IN READ FULL STATUS through iscsi into buf (cap
 * bytes), sent again past unit attentions (each printed: a node joining
 * or leaving queues 2A/06 everywhere); asserts GOOD and returns the length
 * of the data. */
size_t cl_read_full_status(struct iscsi_context *iscsi, uint8_t *buf, size_t cap);
/* The PR generation (READ KEYS header), as above. */
uint32_t cl_generation(struct iscsi_context *iscsi);

#endif
