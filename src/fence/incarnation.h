/* The durable counters behind fence_prkit's keys (see fence_key.h).
 *
 * Node mode: <state_dir>/fence-<cluster>-node<N>.inc holds the last
 * incarnation node N of the cluster used. Every join (`on`) takes the next
 * one with prk_fence_incarnation_next(), which has written it to disk
 * before it returns: a crash at any later point can never make the node
 * register the same key twice, so a key seen on a LU is always that of one
 * life of the node.
 *
 * Cluster-wide mode: <state_dir>/fence-<cluster>.gen holds the highest
 * membership generation this node has created or joined (the low 32 bits
 * of the shared key), and <state_dir>/fence-<cluster>.key the cluster key
 * this node holds now ("0x" + 16 hex digits + newline, same crash-safe
 * write; missing: the node has not joined).
 *
 * File format: a decimal number 0..4294967295 and a newline; a missing file
 * counts as 0. Anything else is an error naming the file: the counter is
 * never guessed, because a guess could reuse a key.
 *
 * Writes are crash-safe: a temporary file in the same directory is
 * written and fsync()ed, renamed over the file, and the directory is
 * fsync()ed. Concurrent callers are serialised by an flock on the state
 * directory. The counter never wraps: at 0xffffffff the next call fails.
 *
 * All functions return 0, or -1 with a one-line message in err that names
 * the file (or directory) and, for system errors, the errno text. */
#ifndef PRKIT_FENCE_INCARNATION_H
#define PRKIT_FENCE_INCARNATION_H

#include <stddef.h>
#include <stdint.h>

/* Reads the node's counter, adds 1, stores it durably, returns the new
 * value (>= 1) in *out. Creates state_dir (mode 0700) if it is missing. */
int prk_fence_incarnation_next(const char *state_dir, const char *cluster, uint16_t node,
                               uint32_t *out, char *err, size_t errlen);
/* The node's current counter (0: never joined), without changing it. */
int prk_fence_incarnation_current(const char *state_dir, const char *cluster, uint16_t node,
                                  uint32_t *out, char *err, size_t errlen);

/* The same for the cluster-wide membership generation. */
int prk_fence_generation_next(const char *state_dir, const char *cluster, uint32_t *out, char *err,
                              size_t errlen);
int prk_fence_generation_current(const char *state_dir, const char *cluster, uint32_t *out,
                                 char *err, size_t errlen);

/* Cluster mode: a generation above both this host's counter and floor
 * (the highest generation seen on the LUs), stored before it is returned:
 * a key made from it was never made by this node before. */
int prk_fence_generation_next_above(const char *state_dir, const char *cluster, uint32_t floor,
                                    uint32_t *out, char *err, size_t errlen);
/* Cluster mode: the key this node holds now (0: none, never joined). */
int prk_fence_cluster_key_save(const char *state_dir, const char *cluster, uint64_t key, char *err,
                               size_t errlen);
int prk_fence_cluster_key_load(const char *state_dir, const char *cluster, uint64_t *key, char *err,
                               size_t errlen);

/* The counter file's path: node 0 names the generation file. Returns 0, or
 * -1 with a message when the cluster name is not valid
 * (prk_fence_cluster_name_valid) or the path does not fit. */
int prk_fence_counter_path(char *buf, size_t len, const char *state_dir, const char *cluster,
                           uint16_t node, char *err, size_t errlen);

#endif
