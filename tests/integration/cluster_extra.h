/* Helpers of the cluster tests beyond cluster_harness.h (which another
 * work package owns): topologies with two knet links or a quorum device,
 * REPORT TARGET PORT GROUPS, `prkit target cluster --json`, and the exit
 * of a prkitd that refuses to start. Include after cluster_harness.h.
 *
 * cluster_harness.c starts every topology through topo.sh, with the
 * options it knows (one link, no quorum device). cx_topology() points it
 * (PRKIT_TOPO_SH) at cluster_extra.sh, which adds the others and then
 * runs the real topo.sh: so a node of such a topology is still started,
 * killed, partitioned and cleaned up by the harness. */
#ifndef PRKIT_CLUSTER_EXTRA_H
#define PRKIT_CLUSTER_EXTRA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iscsi/iscsi.h>
#include <json-c/json.h>

/* The next cl_up() builds a topology with `links` (1 or 2) knet links
 * per node and, when qdevice, corosync-qnetd plus a corosync-qdevice per
 * node. cx_topology(1, false) returns to the plain topo.sh. */
void cx_topology(int links, bool qdevice);

/* topo.sh link-down / link-up of node i's link l (0 or 1). 0/-1. */
int cx_link(int i, int l, bool up);

/* Waits up to ms for node i's prkitd (a child of this process, started
 * by cl_up or cl_start) to end, without reaping it: 1 with its exit code
 * in *code (128 + the signal when killed), 0 when it still runs, -1 when
 * there is no such process. */
int cx_wait_exit(int i, int ms, int *code);

/* REPORT TARGET PORT GROUPS (not extended) through iscsi: the status
 * (GOOD or else); the data into buf, its length into *len. */
int cx_rtpg(struct iscsi_context *iscsi, uint8_t *buf, size_t cap, size_t *len);

/* One target port group of an RTPG answer. */
struct cx_group {
	uint16_t tpg;
	uint8_t state; /* asymmetric access state, 0..15 */
	uint16_t rtpi; /* the first port's relative target port id */
	uint8_t n_ports;
};
/* Parses an RTPG answer into g[0..cap-1]: the number of groups, or -1
 * when the answer is malformed (a length that does not add up). */
int cx_parse_rtpg(const uint8_t *buf, size_t len, struct cx_group *g, int cap);

/* `prkit target -s <node i's admin socket> cluster --json`, run as a user
 * would: the "cluster" object of its answer (put it), or NULL (the
 * command failed; its stderr is printed). */
json_object *cx_cli_cluster(int i);
/* The members of a "cluster" object: how many, and whether node is one. */
int cx_n_members(json_object *c);
bool cx_is_member(json_object *c, int node);
/* Link l to node `node` in a "cluster" object: 1 up, 0 down, -1 not
 * listed. */
int cx_link_state(json_object *c, int node, int l);
/* The "lease_ms_left" of a "cluster" object (0 when absent). */
long cx_lease_left(json_object *c);

#endif
