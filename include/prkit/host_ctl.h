/* Stalling a multipath device, changing its key, and the control socket
 * through which another process (the fence agent) asks an I/O process to
 * do so.
 *
 * Why: a fence agent that fences another node must, meanwhile, stop this
 * node's own I/O to the device (stall: new I/O waits, in-flight I/O
 * finishes), sometimes change the key of this node's I/O process's
 * nexuses atomically (REGISTER with the old key as RESERVATION KEY, so
 * only nexuses that still hold it change), and resume. The I/O process is
 * any program built on the host library; its devices live in its own
 * process, so the agent asks over a UNIX socket (docs/host.md, "Control
 * socket"). */
#ifndef PRKIT_HOST_CTL_H
#define PRKIT_HOST_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prkit/host.h"

/* ---- in-process: stall, drain, key change (src/host) ---- */

/* Stops sending I/O of d: new and queued I/O waits (it is not failed, and
 * the no-path timeout does not run while stalled); in-flight commands
 * complete. Counted: every stall needs one resume. */
void prk_mpdev_stall(struct prk_mpdev *d);
void prk_mpdev_resume(struct prk_mpdev *d);
bool prk_mpdev_is_stalled(const struct prk_mpdev *d);
/* Runs the loop until none of d's I/O is in flight, at most timeout_ms.
 * 0, or -1 when I/O is still in flight. */
int prk_mpdev_drain(struct prk_mpdev *d, int timeout_ms);
/* The key the device registers (0: none). */
uint64_t prk_mpdev_key(const struct prk_mpdev *d);
/* Atomic key change on every path with a session: PR OUT REGISTER with
 * RESERVATION KEY old_key and SERVICE ACTION RESERVATION KEY new_key. A
 * nexus that does not hold old_key answers RESERVATION CONFLICT and is left
 * alone (it is not registered afterwards). Then READ FULL STATUS decides
 * which paths are registered (and which holds the reservation). 0 when at
 * least one path holds new_key; -1 with PRK_HE_FENCED when no path held
 * old_key (the device is then marked fenced, PRK_EV_FENCED); other errors
 * -1 with their code. On success d's key becomes new_key, the device is
 * not fenced, and a PRK_EV_KEY_CHANGED event is emitted. */
int prk_mpdev_change_key(struct prk_mpdev *d, uint64_t old_key, uint64_t new_key,
                         struct prk_host_err *err);
/* READ FULL STATUS: the key registered on this device's own I_T nexuses
 * (our initiator name with the ISID and port of one of our paths), the
 * one most of them hold; 0 when none is registered. *n_nexuses (may be
 * NULL): how many of our nexuses are registered. 0, or -1 (err). */
int prk_mpdev_own_key(struct prk_mpdev *d, uint64_t *key, unsigned *n_nexuses,
                      struct prk_host_err *err);
/* Self-fencing (prkit fenced, when this node lost quorum or its key): d
 * is marked fenced without asking the target. Queued, held and stalled
 * I/O and every new I/O complete with PRK_IO_FENCED; a PRK_EV_FENCED event
 * carries reason. In-flight commands are not aborted (a stall before
 * drained them). Sticky until our key is registered again
 * (prk_mpdev_register, or prk_mpdev_change_key succeeding). */
void prk_mpdev_self_fence(struct prk_mpdev *d, const char *reason);

/* ---- the control socket (server side, in the I/O process) ---- */

/* Listens on a UNIX stream socket at path (NULL: <state_dir>/ctl/<pid>.sock,
 * the directory made with mode 0700). Requests are served only by a
 * prk_host_run that the application calls itself (not nested inside
 * another prk_host_run, and never while the library runs the loop for a
 * synchronous operation such as open or a reservation command). Only peers
 * with our uid or uid 0 are served (SO_PEERCRED). An existing socket file
 * at path that nobody listens on is replaced; one somebody listens on, or
 * a file that is not a socket, is an error. prk_host_free closes and
 * unlinks it. 0, or -1 (err). */
int prk_host_ctl_listen(struct prk_host *h, const char *path, struct prk_host_err *err);
/* The socket's path, "" when not listening. */
const char *prk_host_ctl_path(const struct prk_host *h);
/* A connection with nothing under way (no request being answered, no
 * stall held, no drain awaited) is closed after ms of that, with a last
 * line {"ok":false,"error":"idle for ... ms: connection closed"}; bytes of
 * an unfinished request line do not reset the clock. 30000 by default.
 * When all 16 connections are taken, the one idle the longest is closed
 * for a new one, so only busy clients can keep the fence agent out. 0, or
 * -1 when not listening or ms is 0. */
int prk_host_ctl_set_idle_ms(struct prk_host *h, unsigned ms);

/* ---- the control socket (client side, e.g. the fence agent) ---- */

struct prk_ctl_client;
struct prk_ctl_dev {
	char naa[33]; /* the LU's NAA id, hex, as prk_mpdev_naa() */
	uint64_t key; /* prk_mpdev_key() */
	bool open;    /* the device is open (I/O allowed) */
	bool fenced;  /* prk_mpdev_is_fenced() */
	bool stalled; /* stalled by anyone */
	unsigned inflight;
	unsigned n_paths, n_up;
};
/* Connects to one control socket. NULL with a message naming the path. Every
 * later request on it waits at most timeout_ms for its answer (0 or less:
 * no limit); a request that times out closes the connection (which
 * releases its stalls). A stall is answered after the device's in-flight
 * I/O drains, which may take its I/O timeout + ABORT TASK timeout (13 s
 * by default): allow for it. */
struct prk_ctl_client *prk_ctl_connect(const char *sock_path, int timeout_ms, char *err,
                                       size_t errlen);
/* Connects to every socket in <state_dir>/ctl/ (every process of this host
 * that listens with the default path). Sockets nobody listens on
 * (ECONNREFUSED / ENOENT) are unlinked and skipped. Returns how many
 * clients were stored in out (at most cap), or -1 (err) when the directory
 * cannot be read (a missing directory is 0, not an error). */
int prk_ctl_connect_all(const char *state_dir, int timeout_ms, struct prk_ctl_client **out,
                        size_t cap, char *err, size_t errlen);
const char *prk_ctl_client_path(const struct prk_ctl_client *c);
/* The process's devices. Returns the count (<= cap) or -1 (err). */
int prk_ctl_list(struct prk_ctl_client *c, struct prk_ctl_dev *out, size_t cap, char *err,
                 size_t errlen);
/* Stalls the device with this NAA (every device of the process with that
 * NAA) and answers once its in-flight I/O has drained. 1 stalled and
 * drained; 0 the process has no such device; -1 error (no answer in time,
 * or not drained within the server's drain limit, in which case the server
 * resumes it). The stall is held until prk_ctl_resume on this connection,
 * the connection closes, or max_ms (1 to 3600000) pass (then the server
 * resumes by itself and logs it): a crashed or hung agent never stalls I/O
 * for good. */
int prk_ctl_stall(struct prk_ctl_client *c, const char *naa, unsigned max_ms, char *err,
                  size_t errlen);
/* Releases this connection's stall of the device. 1, 0 (no such device or
 * not stalled by this connection), -1. */
int prk_ctl_resume(struct prk_ctl_client *c, const char *naa, char *err, size_t errlen);
/* Changes the device's key: old_key != 0 → prk_mpdev_change_key(old_key,
 * new_key) (only if the device's current key is old_key; else answers 0,
 * "not using that key"); old_key == 0 → prk_mpdev_register(new_key)
 * (REGISTER AND IGNORE EXISTING KEY on every path, verified). 1 done, 0 no
 * such device / not using old_key (err says which), -1 error (err carries
 * the process's message; *fenced set true when it failed with
 * PRK_HE_FENCED). fenced may be NULL. A device that is not open and has
 * no registration on any nexus only takes new_key as the key its next
 * open registers (nothing is sent; the old_key match still applies). */
int prk_ctl_set_key(struct prk_ctl_client *c, const char *naa, uint64_t old_key, uint64_t new_key,
                    bool *fenced, char *err, size_t errlen);
/* prk_mpdev_self_fence of every device of the process with this NAA,
 * reason (at most 200 bytes) logged by the process. 1 done, 0 no such
 * device, -1 error. */
int prk_ctl_fail(struct prk_ctl_client *c, const char *naa, const char *reason, char *err,
                 size_t errlen);
void prk_ctl_close(struct prk_ctl_client *c);

#endif
