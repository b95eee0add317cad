/* prkit fenced: this node's own I/O processes (prkit io, prkit mount, any
 * program on the host library listening on its control socket in the
 * state directory), reached through the control socket (prkit/host_ctl.h).
 * Only devices whose NAA is one of the daemon's LUs are touched.
 *
 * A stall is held by the daemon's connection with a lease (stall_max_ms)
 * that prk_fdl_renew extends; if the daemon dies, the connection closes
 * and the process resumes (the optional watchdog is what covers a dead
 * daemon). A process that cannot be reached or does not answer within
 * the timeout is logged and skipped: fencing must not wait on a hung
 * application. */
#ifndef PRKIT_FENCED_FD_LOCAL_H
#define PRKIT_FENCED_FD_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct prk_fdl;

struct prk_fdl_proc {
	char socket[108];
	unsigned n_devices; /* of ours */
	unsigned stalled;   /* of ours, stalled by us */
	unsigned fenced;    /* of ours, fenced (failed) */
	uint64_t key;       /* the key of its first device of ours */
};

/* naas: the daemon's LUs. timeout_ms: one request. */
struct prk_fdl *prk_fdl_new(const char *state_dir, const char *const *naas, size_t n_naas,
                            unsigned timeout_ms, unsigned stall_max_ms);
void prk_fdl_free(struct prk_fdl *l);
/* Connects to processes that appeared since (rescan of <state_dir>/ctl)
 * and forgets those gone. Returns how many are connected. */
size_t prk_fdl_scan(struct prk_fdl *l);
/* Stalls every device of ours in every process (scanning first) and
 * returns once their in-flight I/O has drained (or timed out: logged).
 * Processes that appear while stalled are stalled by the next scan
 * (prk_fdl_renew scans). Returns how many devices are stalled. */
size_t prk_fdl_stall_all(struct prk_fdl *l);
/* Extends the leases; stalls newcomers while stalled. */
void prk_fdl_renew(struct prk_fdl *l);
void prk_fdl_resume_all(struct prk_fdl *l);
bool prk_fdl_is_stalled(const struct prk_fdl *l);
/* Self-fence: every device of ours in every process fails its queued and
 * new I/O as fenced (host_ctl.h prk_ctl_fail), sticky until a key is set
 * again; then the stall is released (so what waited fails). Processes
 * that appear later are failed by prk_fdl_renew as well. Returns how many
 * devices were failed. */
size_t prk_fdl_fail_all(struct prk_fdl *l, const char *reason);
/* Changes the key of device naa in every process: old_key != 0 only where
 * the process uses old_key; old_key 0: every process registers new_key.
 * Returns how many processes changed, or -1 when one failed. */
int prk_fdl_set_key(struct prk_fdl *l, const char *naa, uint64_t old_key, uint64_t new_key);
size_t prk_fdl_procs(const struct prk_fdl *l, struct prk_fdl_proc *out, size_t cap);

#endif
