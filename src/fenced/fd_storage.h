/* prkit fenced: what the daemon does to the shared LUs, through the fence
 * agent's steps (src/fence, fence_run.h) over one long-lived host-library
 * instance: the devices stay open (stable ISIDs of the host library's ISID
 * role "fenced"), so a self-check every second costs one READ KEYS per LU
 * and no login. Every call is synchronous (it runs the host loop itself)
 * and bounded by the configured io_timeout_ms per command; between calls
 * the daemon pumps the host loop with prk_fds_pump.
 *
 * Order: coordinators first, then the data LUs, each group in ascending
 * NAA order (docs/fence.md "Fencing order"): two sides racing to fence
 * each other meet at the same first LU, and the loser stops there. */
#ifndef PRKIT_FENCED_FD_STORAGE_H
#define PRKIT_FENCED_FD_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fd_config.h"

struct prk_fds;
struct prk_fdl;

#define PRK_FDS_MAX_LUS (PRK_FENCE_MAX_DEVICES + PRK_FD_MAX_COORD)
#define PRK_FDS_MAX_KEYS 32

/* One LU as the status shows it. */
struct prk_fds_lu {
	char naa[33];
	bool coordinator;
	bool reachable;   /* the last read succeeded */
	bool has_our_key; /* our key is registered on it */
	bool reserved;
	uint64_t holder; /* reservation key of the holder (0: none) */
	uint64_t keys[PRK_FDS_MAX_KEYS];
	size_t n_keys; /* distinct keys */
};

/* Opens every configured LU (coordinators and devices; discovery resolved
 * here) as node nodeid, paths up and identity known, sorted as above.
 * NULL with a message naming the device. */
struct prk_fds *prk_fds_open(const struct prk_fd_config *cfg, uint16_t nodeid, char *err,
                             size_t errlen);
void prk_fds_free(struct prk_fds *s);
/* Serves the host library's sockets for at most ms (0: what is ready). */
void prk_fds_pump(struct prk_fds *s, int ms);

size_t prk_fds_count(const struct prk_fds *s);
/* The i-th LU in fencing order (NAA of it, coordinator flag). */
const char *prk_fds_naa(const struct prk_fds *s, size_t i);
bool prk_fds_is_coordinator(const struct prk_fds *s, size_t i);
/* The key this node holds now (0 before prk_fds_join). */
uint64_t prk_fds_key(const struct prk_fds *s);

/* Join (node mode): the next incarnation, on disk before use; register it
 * on our nexuses of every LU (REGISTER AND IGNORE EXISTING KEY); reserve
 * Write Exclusive, Registrants Only where nobody holds a reservation;
 * re-key the local I/O processes (local may be NULL) while their I/O to
 * each LU is stalled; then PREEMPT every older key of this node (stale
 * incarnations: a former life's nexuses) and verify. Cluster-key mode: the
 * fence agent's `on` (adopt the current cluster key, or open a new
 * generation when the LUs hold none). 0 with *key, or -1 with err naming
 * the LU and the step. */
int prk_fds_join(struct prk_fds *s, struct prk_fdl *local, uint64_t *key, char *err, size_t errlen);

/* Fence the victims (node ids) on every LU, in order: PREEMPT AND ABORT
 * every key of each victim (any incarnation), keeping a Write Exclusive,
 * Registrants Only reservation, then verify none is left. Local I/O is
 * already stalled by the caller. Cluster-key mode: open generation G+1
 * with our id, change our nexuses and the local processes (local) to it,
 * PREEMPT AND ABORT every other key of the cluster, verify; *new_key is
 * the new cluster key. Returns 0 done, 1 lost (our own nexuses no longer
 * held our key at an LU: another side fenced us first; nothing after that
 * LU was touched), -1 error (err). */
int prk_fds_fence(struct prk_fds *s, struct prk_fdl *local, const uint16_t *victims, size_t n,
                  uint64_t *new_key, char *err, size_t errlen);

/* Cluster-key mode, a member after the executor's FENCED: register key on
 * our nexuses and in the local processes (old key changed), verify.
 * 0, or -1 (err). */
int prk_fds_adopt(struct prk_fds *s, struct prk_fdl *local, uint64_t key, char *err, size_t errlen);

/* The self-check: READ KEYS on every LU that counts (the coordinators when
 * there are any, else every LU). *ok when our key is on a strict majority
 * of them; no LU, no key, or an LU that cannot be read count against us.
 * with_key / counted: the numbers (for the log and status). Always
 * returns after at most io_timeout_ms per LU. */
void prk_fds_check(struct prk_fds *s, bool *ok, size_t *with_key, size_t *counted, char *why,
                   size_t whylen);

/* The LUs as last read (by check, join or fence; refreshed by
 * prk_fds_read_all). Returns the count (<= cap). */
size_t prk_fds_lus(const struct prk_fds *s, struct prk_fds_lu *out, size_t cap);
void prk_fds_read_all(struct prk_fds *s);

#endif
