/* What the fence actions share (src/fence/fence_*.c): one run of the
 * agent, its devices (multipath devices of the host library, sorted by
 * NAA), and the steps every mode uses. Internal to src/fence. */
#ifndef PRKIT_FENCE_RUN_H
#define PRKIT_FENCE_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fence_opts.h"
#include "prkit/host.h"

struct prk_ctl_client;

#define FENCE_MAX_LOCAL 16 /* I/O processes of this node reached at once */
/* Devices of one run: the agent's 16, and room for prkit fenced's
 * coordinator LUs besides its 16 data LUs. */
#define FENCE_RUN_MAX_DEVS 32

/* Another owner of this node's I/O processes (prkit fenced, fd_local.c):
 * the steps below call these instead of the agent's own control-socket
 * clients, so one set of steps serves both. */
struct fence_local_hooks {
	/* Like prk_fence_local_set_key, for the LU naa. */
	int (*set_key)(void *arg, const char *naa, uint64_t old_key, uint64_t new_key);
	/* Like prk_fence_local_renew (every stall the owner holds). */
	void (*renew)(void *arg);
	void *arg;
};

struct fence_run {
	const struct prk_fence_opts *o;
	FILE *out, *err;
	struct prk_host *h;
	struct prk_mpdev *devs[FENCE_RUN_MAX_DEVS];
	size_t n;
	uint16_t tag;
	uint16_t me;
	uint64_t my_key;
	/* This node's I/O processes (their control sockets), fence_local.c. */
	struct prk_ctl_client *local[FENCE_MAX_LOCAL];
	size_t n_local;
	bool local_stalled[FENCE_MAX_LOCAL];
	const struct fence_local_hooks *hooks; /* NULL: the agent's own (above) */
};

/* fence_ops.c */
/* Opens every configured device with key (paths up, identity known) and
 * sorts them by NAA. read_only: ephemeral nexuses allowed. 0 or -1
 * (printed). */
int prk_fence_open_devices(struct fence_run *r, uint64_t key, bool read_only);
/* Prints "fence_prkit: device naa.X: step: msg"; returns the error exit. */
int prk_fence_step_err(struct fence_run *r, size_t i, const char *step, const char *msg);
bool prk_fence_has_key(const struct prk_resv_view *v, uint64_t k);
/* Does one of the agent's own nexuses to device d hold d's key, as the
 * last prk_mpdev_read_state found (READ FULL STATUS)? Not the same as the
 * key being registered: this node's I/O processes may hold it too. */
bool prk_fence_registered(const struct prk_mpdev *d);
/* PREEMPT AND ABORT of key on device i with the device's key, keeping a
 * Write Exclusive, Registrants Only reservation. A RESERVATION CONFLICT is
 * looked into: if our key is gone this node was fenced (1); if it is the
 * victim's key that is gone (another survivor removed it first) that is
 * success (0). -1 on any other failure. Messages printed. */
int prk_fence_preempt(struct fence_run *r, size_t i, uint64_t key);

/* Is r->my_key registered on every opened device (READ KEYS)? 0 with
 * *all set, or -1 when a device could not be read. */
int prk_fence_key_everywhere(struct fence_run *r, bool *all);
/* The watchdog check of r->my_key (what: "key" / "cluster key" for the
 * message): opens the devices read-only, retries as the options say.
 * Exit 0, or 2 when the key is missing or a device cannot be read. */
int prk_fence_check_key(struct fence_run *r, const char *what);

/* fence_steps.c: the per-device steps, on devices already open (the
 * agent's for one action, or prkit fenced's for its whole life), with
 * r->tag, r->me and r->my_key set. Messages name the device and the step
 * (prk_fence_step_err). */
/* Registers r->my_key on every nexus of device i (REGISTER AND IGNORE
 * EXISTING KEY) and reserves Write Exclusive, Registrants Only when
 * nobody holds a reservation. *v (may be NULL): the state read after the
 * registration. 0 or -1. */
int prk_fence_join_device(struct fence_run *r, size_t i, struct prk_resv_view *v);
/* PREEMPT AND ABORT of every older key of this node on device i (the
 * nexuses of a former life), then verify: our key registered and a
 * reservation present. 0, 1 (we were fenced meanwhile), -1. */
int prk_fence_drop_stale(struct fence_run *r, size_t i);
/* Reads the keys of device i and verifies that r->my_key is registered
 * and a reservation exists. 0 or -1. */
int prk_fence_verify_joined(struct fence_run *r, size_t i);
/* Node mode, fencing victim on device i: PREEMPT AND ABORT every key of
 * the victim (any incarnation) keeping the reservation, then verify. 0
 * done, 1 this node was fenced (stop: nothing further may be touched),
 * -1 error. */
int prk_fence_node_off_device(struct fence_run *r, size_t i, uint16_t victim);

/* fence_cluster.c, the cluster-key steps. */
/* The current cluster key on every device (0: none). 0, or -1 when they
 * disagree or a generation change is under way (printed). */
int prk_fence_cluster_find_current(struct fence_run *r, uint64_t *cur);
/* A new generation above ours and above floor, stored before it is
 * returned; its key opened by r->me. 0 or -1. */
int prk_fence_cluster_new_key(struct fence_run *r, uint32_t floor, uint64_t *key);
/* The key this node holds, on disk; r->my_key = key. 0 or -1. */
int prk_fence_cluster_save_key(struct fence_run *r, uint64_t key);
/* Join device i with key (fresh: a generation we opened: move the local
 * processes from cur and remove the other keys). 0 or -1. */
int prk_fence_cluster_on_device(struct fence_run *r, size_t i, uint64_t cur, uint64_t key,
                                bool fresh);
/* Survivor, device i: move our nexuses and the local processes to new,
 * remove every other key of the cluster. *saved: the new key is on disk
 * (set at the first device). 0, 1 (we were fenced), -1. */
int prk_fence_cluster_off_device(struct fence_run *r, size_t i, uint64_t new, bool *saved);

/* fence_node.c: one key per node (node id + incarnation). */
int prk_fence_node_on(struct fence_run *r);
int prk_fence_node_off(struct fence_run *r, uint16_t victim);
int prk_fence_node_status(struct fence_run *r, uint16_t node);
int prk_fence_node_list(struct fence_run *r);
int prk_fence_node_check(struct fence_run *r);

/* fence_cluster.c: one cluster-wide key with a generation. */
int prk_fence_cluster_on(struct fence_run *r);
int prk_fence_cluster_off(struct fence_run *r, uint16_t victim);
int prk_fence_cluster_status(struct fence_run *r, uint16_t node);
int prk_fence_cluster_check(struct fence_run *r);

/* fence_local.c: this node's own I/O processes, through the control
 * sockets in the state directory (docs/host.md). Failures to reach them
 * are warnings: fencing the victim must not wait on a hung application. */
void prk_fence_local_connect(struct fence_run *r);
void prk_fence_local_close(struct fence_run *r);
/* Stalls device i in every local process that has it, and waits until
 * their in-flight I/O has drained. */
void prk_fence_local_stall(struct fence_run *r, size_t i);
void prk_fence_local_resume(struct fence_run *r, size_t i);
/* Renews the stalls of device i (each lasts a limited time), between the
 * steps of fencing it. */
void prk_fence_local_renew(struct fence_run *r, size_t i);
/* Every local process whose device i uses old_key changes it to new_key
 * (old_key 0: every local process whose device i uses a key of this
 * cluster registers new_key). Returns how many processes changed. */
int prk_fence_local_set_key(struct fence_run *r, size_t i, uint64_t old_key, uint64_t new_key);

#endif
