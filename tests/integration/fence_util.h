/* What the `prkit fence` integration tests share: a prkitd with two
 * portals and two 16 MiB RAM LUs, simulated nodes n1..n3 (each its own
 * initiator name and state directory <dir>/<node>), the agent run as a
 * separate `prkit fence` process, and a node's own I/O: versioned writes
 * through the host library, with the control socket open in the node's
 * state directory so the node's agent can stall it and change its key. */
#ifndef PRKIT_FENCE_UTIL_H
#define PRKIT_FENCE_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "harness.h"
#include "prkit/host.h"

#define FU_HOSTMAP "n1:1,n2:2,n3:3"
/* The node-mode key of node n, incarnation inc, in cluster "prkit". */
#define FU_KEY(node, inc) (0x84d4000000000000ULL | ((uint64_t)(node) << 32) | (inc))

extern struct h_daemon fu_daemon;
extern char fu_url[2][2][240]; /* [lun][portal] */
extern char fu_devs[2][1024];  /* "--devices" values: one per LU, paths comma-separated */
extern char fu_out[65536], fu_err[16384];
/* Appended to every fence command (NULL-terminated), e.g. the key mode. */
extern const char *fu_extra[8];
/* How many of the two LUs fence commands name (2 unless a test says). */
extern int fu_n_devs;

int fu_setup(void **state);
int fu_teardown(void **state);

/* argv for `prkit fence` as node with -o action [-n victim], then fu_extra,
 * then more (NULL-terminated, may be NULL). a needs 40 entries. */
void fu_fence_cmd(const char **a, const char *node, const char *action, const char *victim,
                  const char *const *more);
/* Runs it; returns the exit status (output in fu_out / fu_err). */
int fu_fence(const char *node, const char *action, const char *victim);
int fu_fence_more(const char *node, const char *action, const char *victim,
                  const char *const *more);

/* The keys registered on LU lun (one per registered nexus), read through
 * a throw-away nexus. */
int fu_keys_of(int lun, uint64_t *keys, int cap);
bool fu_lu_has(int lun, uint64_t key);
/* Every key on LU lun equals key (and there is at least one). */
bool fu_lu_only(int lun, uint64_t key);

/* A node's own I/O: 32 writes in flight to blocks base..base+31 of LU 0,
 * each block holding a sequence number that grows. */
struct fu_writer {
	struct prk_host *h;
	struct prk_mpdev *d;
	uint64_t base;
	uint8_t buf[32][512];
	uint64_t seq;
	int outstanding;
	long ok, fenced, other;
	long stalls, resumes, key_changes;
	bool stop;
	struct fu_slot {
		struct fu_writer *w;
		int i;
	} slots[32];
};
/* Opens LU 0 through both portals as node (open mode cluster) with key;
 * ctl: listen on the default control socket of <dir>/<node>; hold_ms:
 * the device's fenced_hold_ms. */
void fu_writer_start(struct fu_writer *w, const char *node, uint64_t key, uint64_t base, bool ctl,
                     unsigned hold_ms);
/* Runs the loops of the n writers for ms. */
void fu_pump(struct fu_writer *const *ws, int n, int ms);
void fu_writer_stop(struct fu_writer *w);
/* Starts the agent (fu_fence_cmd) and runs the writers' loops until it
 * exits; returns its exit status. */
int fu_fence_while(struct fu_writer *const *ws, int n, const char *node, const char *action,
                   const char *victim, const char *const *more);

/* Runs `node1 -o off victim1` and `node2 -o off victim2` at the same
 * time while the n writers' loops run; their exit statuses in rc. */
void fu_fence_both(struct fu_writer *const *ws, int n, const char *node1, const char *victim1,
                   const char *node2, const char *victim2, int rc[2]);

/* Right after an off that fenced victim while own (this node's I/O,
 * control socket open) went on: none of the victim's writes lands any
 * more (its blocks read the same before and after the ws loops run for
 * 500 ms), the victim's library says fenced, and own was stalled and
 * resumed, saw no error and goes on writing. */
void fu_assert_fenced_and_survivor_ok(struct fu_writer *victim, struct fu_writer *own,
                                      struct fu_writer *const *ws, int n);

/* Blocks base..base+31 of LU 0 as a third party reads them. */
void fu_snapshot(uint64_t base, uint64_t v[32]);

#endif
