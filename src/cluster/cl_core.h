/* The replication protocol of cluster mode, as a pure state machine: no
 * I/O, no clocks, no threads. The daemon feeds it what Corosync delivers
 * (configuration changes, messages, quorum) and the time, and carries out
 * what it asks through struct prk_cl_core_ops (multicast, apply an event to
 * a LU, take or install a snapshot, complete a command). docs/cluster.md
 * explains the protocol; in short:
 *
 *  - Every PR-changing event is multicast and applied, in CPG's total
 *    order, by every node that holds the replicated state ("appliers").
 *  - After applying an event and carrying out its local effects a node
 *    multicasts ACK; the event is stable when every applier acked and any
 *    departure hold has passed. A command completes when its event is
 *    stable; a PR IN waits until every event applied before it is stable.
 *  - Only a primary view (a majority of the configured nodes, or the side
 *    votequorum gives the quorum device's vote) applies events. A node
 *    outside one stops serving at once; a node serves data only within
 *    its lease, renewed by the self-delivery of its heartbeats.
 *  - A view that gains members runs a round: every member multicasts
 *    HELLO (its LU definitions, ports and versions); the definitions are
 *    checked; a deterministic donor multicasts SNAPSHOTs and SYNC_DONE;
 *    newcomers install them and apply the events delivered after the last
 *    HELLO. */
#ifndef PRKIT_CL_CORE_H
#define PRKIT_CL_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cl_msg.h"

enum prk_cl_state {
	PRK_CL_ST_STARTING,      /* no view yet */
	PRK_CL_ST_NEGOTIATING,   /* HELLO round */
	PRK_CL_ST_SYNCHRONISING, /* waiting for the snapshots */
	PRK_CL_ST_SERVING,
	PRK_CL_ST_INQUORATE,
	PRK_CL_ST_FAILED, /* needs a restart (definition mismatch, ...) */
};
const char *prk_cl_state_name(enum prk_cl_state s);

struct prk_cl_core_cfg {
	uint32_t node, pid;    /* this prkitd */
	uint32_t n_configured; /* nodes in Corosync's nodelist */
	bool qdevice;          /* a quorum device is configured */
	uint64_t heartbeat_ns, lease_ns, margin_ns;
	/* With a quorum device, what the survivors add to the departure hold:
	 * a cut-off node keeps counting the device's vote (and so renewing
	 * its lease) until qdevice takes it away, up to the device's timeout
	 * plus failure detection after the split. */
	uint64_t qdevice_hold_ns;
	/* The least time between a node failure and the survivors' view
	 * without it (Corosync's token timeout): the failed node's lease has
	 * been running out for at least that long already. */
	uint64_t detection_ns;
};

/* What the core asks of the daemon. Each is called from inside a
 * prk_cl_core_* call; none may call back into the core synchronously
 * except apply, which may call prk_cl_core_applied. */
struct prk_cl_core_ops {
	void *ctx;
	/* Multicast (queued; never delivered synchronously). 0 or -1. */
	int (*send)(void *ctx, const uint8_t *msg, size_t len);
	/* This node's LUs (definitions and state versions), malloc'ed. */
	size_t (*lus)(void *ctx, struct prk_cl_lu_def **out);
	/* This node's own target ports. */
	size_t (*ports)(void *ctx, struct prk_cl_port *out, size_t cap);
	/* Apply an event to its LU; own is this node's command that sent it
	 * (NULL for other nodes' events). Call prk_cl_core_applied when the
	 * local effects are done. An event for an unknown LU: call it at once
	 * with status 0xff. */
	void (*apply)(void *ctx, const struct prk_cl_event *ev, void *own);
	/* The complete replicated state of one LU, malloc'ed; 0 on error. */
	size_t (*snapshot)(void *ctx, const uint8_t naa[16], uint8_t **out, uint64_t *seq);
	/* Replace a LU's state with a snapshot. 0, or -1 (the node fails). */
	int (*install)(void *ctx, const uint8_t naa[16], const uint8_t *blob, size_t len,
	               uint64_t seq);
	/* own's event is stable everywhere (ok), or its outcome is unknown
	 * because this node left the primary view (!ok). */
	void (*complete)(void *ctx, void *own, bool ok);
	/* A held PR IN may be answered (ok) or must fail (!ok). */
	void (*read_ready)(void *ctx, void *cookie, bool ok);
	/* The node's state changed; why says why (for the log and status). */
	void (*state)(void *ctx, enum prk_cl_state st, const char *why);
	/* The cluster's table of target ports changed (ALUA across nodes). */
	void (*ports_changed)(void *ctx, const struct prk_cl_port *p, size_t n);
	/* A peer delivered a UA to its nexus / saw a first login. */
	void (*ua_pop)(void *ctx, const struct prk_cl_ua *u);
	void (*nexus_up)(void *ctx, const struct prk_cl_ua *u);
	/* A line for the log (level: 0 error, 1 warning, 2 info, 3 debug). */
	void (*log)(void *ctx, int level, const char *msg);
	/* This node must leave the group (it failed): the daemon leaves CPG. */
	void (*leave)(void *ctx);
};

struct prk_cl_core;

struct prk_cl_core *prk_cl_core_new(const struct prk_cl_core_cfg *cfg,
                                    const struct prk_cl_core_ops *ops);
void prk_cl_core_free(struct prk_cl_core *c);

/* Corosync's inputs. members: sorted by (node, pid). node_failure: a
 * member left because its node was lost (not because its process ended
 * or left on a live node). */
void prk_cl_core_confchg(struct prk_cl_core *c, const struct prk_cl_member *members, size_t n,
                         bool node_failure, uint64_t now);
void prk_cl_core_quorum(struct prk_cl_core *c, bool quorate, uint64_t now);
void prk_cl_core_deliver(struct prk_cl_core *c, uint32_t node, uint32_t pid, const uint8_t *msg,
                         size_t len, uint64_t now);
/* The connection to Corosync is gone: stop serving, forget the view. */
void prk_cl_core_down(struct prk_cl_core *c, uint64_t now);
/* Timers (heartbeats, the departure hold). Call at least at
 * prk_cl_core_next_tick(). */
void prk_cl_core_tick(struct prk_cl_core *c, uint64_t now);
uint64_t prk_cl_core_next_tick(const struct prk_cl_core *c);

/* A local event to replicate (ev->id is filled in). own: the command to
 * complete when it is stable (NULL for nexus loss and LU reset, which no
 * command waits for). Returns 0, or -1 when this node does not serve: the
 * command then fails with NOT READY 04/0C and nothing was sent. */
int prk_cl_core_submit(struct prk_cl_core *c, struct prk_cl_event *ev, void *own, uint64_t now);
/* The local effects of an applied event are done: multicasts ACK. */
void prk_cl_core_applied(struct prk_cl_core *c, const struct prk_cl_event_id *id,
                         const struct prk_cl_ack *outcome);
/* A PR IN: true when it may be answered now; else the core keeps cookie
 * and calls read_ready later. false with *refuse set: fail it now (not
 * serving). */
bool prk_cl_core_read(struct prk_cl_core *c, void *cookie, bool *refuse, uint64_t now);
/* A held command (own or read cookie) is going away (the LU aborts it):
 * the core forgets it and will not call complete/read_ready for it. */
void prk_cl_core_forget(struct prk_cl_core *c, void *cookie);
/* UA delivered locally / first login of a nexus: tell the peers. */
void prk_cl_core_ua(struct prk_cl_core *c, uint8_t type, const struct prk_cl_ua *u);

/* The serving lease: data commands may run while now < this (ns). */
uint64_t prk_cl_core_lease(const struct prk_cl_core *c);
enum prk_cl_state prk_cl_core_state(const struct prk_cl_core *c);
uint64_t prk_cl_core_epoch(const struct prk_cl_core *c);

struct prk_cl_status {
	enum prk_cl_state state;
	char why[256];
	struct prk_cl_view view;
	bool quorate, primary, synced;
	uint64_t epoch;
	uint64_t events_applied, divergences;
	size_t pending, held_reads, sent;
	uint64_t lease_until, hold_until;
	struct prk_cl_port ports[PRK_CL_MAX_PORTS * 4];
	size_t n_ports;
};
void prk_cl_core_status(const struct prk_cl_core *c, struct prk_cl_status *out);

#endif
