/* The Corosync adapter: one CPG group member (libcpg), quorum news
 * (libvotequorum) and knet link status (libcfg) on prkitd's event loop.
 * It knows nothing of SCSI; the cluster layer above gives meaning to the
 * bytes. Every callback runs from the loop, in the order Corosync delivered
 * (deliver and confchg share one stream, so a confchg sits exactly between
 * the messages of the old view and those of the new one). */
#ifndef PRKIT_CLUSTER_CS_H
#define PRKIT_CLUSTER_CS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct prk_loop;
struct prk_cs;

struct prk_cs_member {
	uint32_t nodeid, pid;
};

struct prk_cs_ops {
	void (*deliver)(void *arg, uint32_t nodeid, uint32_t pid, const uint8_t *msg, size_t len);
	/* Every CPG configuration change of the group, in stream order with
	 * deliver; members sorted by (nodeid, pid). */
	void (*confchg)(void *arg, const struct prk_cs_member *members, size_t n);
	/* votequorum: the first state after each (re)connection, then
	 * changes only. */
	void (*quorum)(void *arg, bool quorate);
	/* A knet link to a peer went up or down (libcfg polled every 250 ms;
	 * the first poll reports every enabled link's state, later ones changes). */
	void (*link)(void *arg, uint32_t nodeid, unsigned link_no, bool up);
	/* The connection to corosync was lost (it died). The adapter
	 * reconnects every second by itself; once back it reports a fresh
	 * confchg and quorum. Any of the callbacks may be NULL. */
	void (*down)(void *arg);
	/* Before a confchg, once per member that left it: node_down when
	 * Corosync lost the member's node (a failure found by the token
	 * timeout), not when the process left or died on a live node. */
	void (*left)(void *arg, uint32_t nodeid, uint32_t pid, bool node_down);
	/* The totem ring: every Corosync node in this partition, whether or
	 * not a process of it is in the group (the first ring after joining,
	 * then every change). Delivered in the same stream as confchg and
	 * deliver, so a message sent after a change arrives after it: a node
	 * that counts the ring before it acts never acts on a stale ring. */
	void (*ring)(void *arg, const uint32_t *nodes, size_t n);
};

#define PRK_CS_MAX_NODES 64

struct prk_cs_info {
	uint32_t local_nodeid;
	size_t n_nodes;
	uint32_t nodes[PRK_CS_MAX_NODES]; /* the configured nodelist, ascending */
	bool qdevice;                     /* quorum.device.model is set */
	uint32_t qdevice_timeout_ms;      /* quorum.device.timeout (10000 when unset) */
	uint32_t token_ms;                /* the totem token timeout in effect */
	uint32_t consensus_ms;            /* the consensus timeout in effect */
	uint32_t expected_votes;
	bool quorate;
};

/* Most bytes prk_cs_send keeps queued while corosync pushes back. */
#define PRK_CS_QUEUE_MAX ((size_t)64 << 20)

/* Connects to the local corosync and joins `group`. NULL with a message in
 * err naming the step that failed ("cannot connect to corosync (is it
 * running?): CS_ERR_LIBRARY", ...). */
struct prk_cs *prk_cs_open(struct prk_loop *l, const char *group, const struct prk_cs_ops *ops,
                           void *arg, char *err, size_t errlen);
/* 0, or -1 while the connection is down. */
int prk_cs_info(struct prk_cs *c, struct prk_cs_info *out);
/* Multicasts msg to the group in agreed (total) order. Never blocks: when
 * corosync says "try again" the message waits in a FIFO (order kept) that a
 * 10 ms timer retries. 0, or -1 when the connection is down, the message
 * is refused, or the queue would exceed PRK_CS_QUEUE_MAX. */
int prk_cs_send(struct prk_cs *c, const void *msg, size_t len);
/* Bytes waiting in the send queue (for tests and `prkit target cluster`). */
size_t prk_cs_queued(const struct prk_cs *c);
/* Leaves the group and disconnects; removes its fds and timers from the
 * loop. Safe to call from inside one of its own callbacks. */
void prk_cs_close(struct prk_cs *c);

/* The name of a corosync error code ("CS_ERR_TRY_AGAIN"). */
const char *prk_cs_strerror(int cs_error);

#endif
