/* The reservation keys of `prkit fence` (fence_prkit).
 *
 * A key is 8 bytes, sent big-endian (most significant byte first) in the
 * PERSISTENT RESERVE OUT parameter list:
 *
 *   bits 63..48  cluster tag   16 bits, never 0
 *   bits 47..32  node id       16 bits, 1..65535 (0 in cluster-wide mode)
 *   bits 31..0   incarnation   32 bits, 1..0xffffffff
 *
 * Printed as 16 hex digits it reads "CCCC NNNN IIIIIIII": 0x7a3c000200000005
 * is incarnation 5 of node 2 in the cluster whose tag is 7a3c.
 *
 * The cluster tag is the 32-bit FNV-1a hash of the cluster name, folded to
 * 16 bits by XOR of its halves; a fold of 0 becomes 1. It keeps the keys of
 * two clusters that share a LU apart (and lets a node recognise keys of its
 * own cluster) without any configuration beyond the cluster name.
 *
 * The incarnation grows by one every time the node joins (`on`), and is
 * stored durably before the key is used (see incarnation.h): a node that
 * comes back never reuses the key it was fenced under, so a stale
 * registration (an old I_T nexus) is always recognisable as older.
 *
 * Cluster-wide-key mode (the seed design's alternative): every member
 * registers the same key, and the low 32 bits hold the membership
 * generation (>= 1), which grows at each membership change (a fence, or a
 * first member's join). The node id field holds the node that opened the
 * generation: two survivors that race to open the next generation make
 * different keys, so one can remove the other's (docs/fence.md).
 *
 * A key of 0 is never made: SCSI uses 0 for "no key". */
#ifndef PRKIT_FENCE_KEY_H
#define PRKIT_FENCE_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRK_FENCE_KEY_STR_LEN 32
#define PRK_FENCE_CLUSTER_NAME_MAX 64

/* A cluster name we accept: 1..PRK_FENCE_CLUSTER_NAME_MAX characters out of
 * A-Z a-z 0-9 '.' '_' '-', not starting with '.' or '-' (it is part of the
 * state file names, see incarnation.h). */
bool prk_fence_cluster_name_valid(const char *name);

/* FNV-1a (32 bits) of the name, XOR-folded to 16 bits; 0 becomes 1. NULL
 * is taken as "". */
uint16_t prk_fence_cluster_tag(const char *cluster_name);

/* (tag << 48) | (node << 32) | incarnation. Returns 0 (no key) when tag or
 * incarnation is 0. node 0 makes a cluster-wide key (incarnation =
 * membership generation). */
uint64_t prk_fence_key_make(uint16_t tag, uint16_t node, uint32_t incarnation);

/* Splits a key into its fields (any pointer may be NULL). False when the
 * key cannot be one of ours: tag 0 or incarnation 0 (the fields are still
 * stored). */
bool prk_fence_key_parse(uint64_t key, uint16_t *tag, uint16_t *node, uint32_t *inc);

/* A valid key of node (any incarnation) in the cluster of tag. With node
 * 0: any cluster-wide key of that cluster. */
bool prk_fence_key_is_node(uint64_t key, uint16_t tag, uint16_t node);

/* A valid key (any node, any incarnation) of the cluster of tag. */
bool prk_fence_key_same_cluster(uint64_t key, uint16_t tag);

/* Cluster mode: the current cluster key among keys, the valid key of the
 * cluster of tag with the highest generation. 1 found (*cur), 0 there is
 * none, -1 two different keys share the highest generation (a generation
 * change is under way: survivors racing). */
int prk_fence_cluster_current(const uint64_t *keys, size_t n, uint16_t tag, uint64_t *cur);

/* "0x" and 16 lower-case hex digits. */
void prk_fence_key_str(uint64_t key, char buf[PRK_FENCE_KEY_STR_LEN]);

#endif
