/* prkitd in cluster mode: the glue between the replication protocol
 * (src/cluster/cl_core.c), Corosync (src/cluster/cs.c) and the daemon's
 * LUs and portals. docs/cluster.md describes the whole. */
#ifndef PRKIT_DAEMON_CLUSTER_H
#define PRKIT_DAEMON_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct daemon;
struct prk_dlu;

/* Joins the cluster (the LUs are built, the portals not yet open: they
 * open when this node first serves). Returns 0, or -1 with a message
 * (Corosync not running, a two-node cluster without a quorum device). */
int prk_dcluster_start(struct daemon *d, char *err, size_t errlen);
/* Leaves the cluster and frees everything (teardown). */
void prk_dcluster_stop(struct daemon *d);
/* Adds cluster mode's hooks to h (the LU's standalone hooks) and sets
 * the LU's serving gate; nothing when d is not in cluster mode. */
struct prk_lu_pr_hooks;
void prk_dcluster_lu_hooks(struct daemon *d, struct prk_dlu *x, struct prk_lu_pr_hooks *h);
/* The admin socket's "cluster" answer. */
json_object *prk_dcluster_status(struct daemon *d);

/* The APTPL record in cluster mode carries the cluster's version of the
 * state: "PRKCL1\0\0", epoch (8), seq (8), then the engine's record. */
#define PRK_DCLUSTER_REC_MAGIC "PRKCL1\0\0"
#define PRK_DCLUSTER_REC_HDR 24
size_t prk_dcluster_record_wrap(uint64_t epoch, uint64_t seq, const uint8_t *rec, size_t len,
                                uint8_t **out);
/* 1 when buf has the header (*rec, *rlen: the engine's record inside),
 * 0 when it has none (a standalone record). */
int prk_dcluster_record_unwrap(const uint8_t *buf, size_t len, uint64_t *epoch, uint64_t *seq,
                               const uint8_t **rec, size_t *rlen);

#endif
