/* The prkit fenced tests' world (docs/hacking.md, "prkit fenced"):
 * the cluster harness's topology with Corosync only (cl_up_corosync), one
 * prkitd in the root namespace serving every LU on a portal per node at
 * the node's front address 10.98.i.1:3260 (these exist on the topology's
 * veths only: that is where node i reaches the storage), the LUs in files
 * of its directory; on every node `prkit fenced` and, per data LU, a
 * versioned writer (`prkit io --rw randwrite --run-id <node>
 * --seq-clock`) over the node's own region of the LU, both in the node's
 * namespace with the node's state directory (where the writer's control
 * socket is found).
 *
 * A checker reads the backing files afterwards: every block the writers
 * wrote carries the run id (the node) and the wall-clock microsecond at
 * which the write was issued, so "blocks of node X issued after T" counts
 * writes that got through after T. Include after <cmocka.h>. */
#ifndef PRKIT_FENCED_HARNESS_H
#define PRKIT_FENCED_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iscsi/iscsi.h>
#include <json-c/json.h>

#define FD_TARGET "iqn.2026-11.io.prkit.test:fenced"
#define FD_MAX_NODES 3
#define FD_MAX_LUS 16
#define FD_MAX_COORD 3
#define FD_BLOCK 512

struct fd_opts {
	int nodes;                        /* 2..FD_MAX_NODES */
	int lus;                          /* data LUs, 1..FD_MAX_LUS */
	int coordinators;                 /* 0, 1 or 3 */
	unsigned lu_mb;                   /* size of every LU; 0: 8 */
	unsigned token_ms;                /* Corosync; 0: the cluster harness's */
	bool two_node;                    /* votequorum two_node (nodes == 2) */
	unsigned self_fence_ms, check_ms; /* fenced; 0: 2000, 500 */
	int writers; /* data LUs with a writer per node (the first ones); -1: none, 0: all */
};

/* Brings the whole world up and waits until every node's fenced runs
 * (joined) and every writer has written. 0, or -1 (logs printed). */
int fd_up(const struct fd_opts *o);
/* Everything down (writers, daemons, prkitd, topology). Idempotent. */
void fd_down(void);

/* Node i: starts its Corosync (if not running), fenced, waits until
 * joined, starts its writers. 0, or -1. */
int fd_node_start(int i);
/* Node i's fenced and Corosync get SIGKILL; the writers too unless
 * keep_writers (a node whose cluster stack died while its applications
 * still write: what fencing is for). */
void fd_node_kill(int i, bool keep_writers);
/* Starts node i's fenced alone / waits until its key is known. */
int fd_fenced_start(int i);
int fd_writers_start(int i);

/* `prkit fenced status --json -s <node i's socket>`: the reply (put it),
 * or NULL; *rc the command's exit status (when not NULL). */
json_object *fd_status(int i, int *rc);
/* Polls node i's status every 50 ms until its "state" is state, at most
 * ms: 1, or 0 (the last reply printed). */
int fd_wait_state(int i, const char *state, int ms);
/* Polls until node i's status has "fencings" >= n, at most ms. The reply
 * (put it), or NULL. */
json_object *fd_wait_fencings(int i, int n, int ms);
/* The node's key (`prkit fenced key -s SOCK`), or 0. */
uint64_t fd_key(int i);
/* The key node i had when its fenced last joined (what its writers use). */
uint64_t fd_known_key(int i);
/* A member of a JSON object as an integer / string ("" when absent). */
int64_t fd_json_int(json_object *o, const char *path);
const char *fd_json_str(json_object *o, const char *path);

/* Writer (node i, data LU k): SIGTERM (ending its run with a report) and
 * collects it. 1 with its exit status and JSON report (put it; may be
 * NULL), 0 when it did not end within ms. */
int fd_writer_stop(int i, int k, int ms, int *exit_status, json_object **report);
/* Waits for a writer to end by itself (fenced: exit 4). As above. */
int fd_writer_wait(int i, int k, int ms, int *exit_status, json_object **report);

/* The checker. Over node `node`'s region of data LU k (or of every data
 * LU with k = -1): blocks written by that node; of them issued after
 * after_us (CLOCK_REALTIME us); the latest issue time found; blocks whose
 * header is the node's but whose data is wrong (torn or misplaced). */
struct fd_blocks {
	uint64_t written, after, bad;
	uint64_t latest_us;
};
void fd_check(int k, int node, uint64_t after_us, struct fd_blocks *out);
/* The same over any byte buffer (the checker's core; blocks of FD_BLOCK
 * bytes, the first at first_lba). */
void fd_scan(const uint8_t *buf, size_t len, uint64_t first_lba, uint64_t run_id, uint64_t after_us,
             struct fd_blocks *out);

/* CLOCK_REALTIME in us / ms. */
uint64_t fd_wall_us(void);

/* A separate nexus (root namespace, through node 1's portal, its own
 * initiator): logged in to LU lun (data LUs 0..lus-1, then the
 * coordinators). */
struct iscsi_context *fd_login(int lun, const char *initiator);
/* READ KEYS of LU lun through such a nexus: the keys (distinct), how many. */
size_t fd_read_keys(int lun, uint64_t *keys, size_t cap);
/* LU numbers: data LU k is LUN k; coordinator c is LUN lus + c. */
int fd_lus(void);
int fd_coordinators(void);
/* The work directory (logs, configurations, LU files). */
const char *fd_work(void);
/* Node i's fenced log. */
void fd_log_path(int i, char *buf, size_t cap);
/* Does node i's fenced log contain s? */
bool fd_log_has(int i, const char *s);

#endif
