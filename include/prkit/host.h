/* The host side: a multipath device over libiscsi paths, with one
 * persistent-reservation key on every path and the open modes of the seed
 * design.
 *
 * One struct prk_host is one event loop (one thread): it drives every path
 * of every device made from it. Data I/O is asynchronous (callbacks run
 * from prk_host_run); open, close and the reservation operations are
 * synchronous (they run the loop themselves until they finish, so I/O of
 * other devices keeps moving meanwhile). The names say which: a call
 * ending in _async returns at once and completes through its callback;
 * every other call that talks to the target blocks until it is done.
 *
 * A path is one libiscsi context (one iSCSI session, one I_T nexus) to one
 * portal, with an explicit ISID that is kept in the host state directory so
 * that the next run of the host logs in as the same I_T nexus. libiscsi's
 * automatic reconnect (which picks a new ISID and replays commands) is
 * off; we reconnect ourselves with the same ISID, and re-register before
 * the path carries I/O again. */
#ifndef PRKIT_HOST_H
#define PRKIT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRK_MPDEV_MAX_PATHS 8

struct prk_host;
struct prk_mpdev;

/* ---- errors ---- */

enum prk_host_errc {
	PRK_HE_OK = 0,
	PRK_HE_USAGE,      /* bad argument (message names it) */
	PRK_HE_NO_PATH,    /* no path could carry the command */
	PRK_HE_SCSI,       /* the target answered with a status other than GOOD */
	PRK_HE_CONFLICT,   /* RESERVATION CONFLICT */
	PRK_HE_BUSY,       /* open: another key holds the reservation (holder_key) */
	PRK_HE_IN_USE,     /* open (single): the device is already open on this host */
	PRK_HE_FENCED,     /* our registration was preempted */
	PRK_HE_IDENTITY,   /* paths lead to different logical units */
	PRK_HE_STATE,      /* the state directory (ISIDs, locks) failed */
	PRK_HE_TIMEOUT,    /* a command did not complete in time */
	PRK_HE_MISMATCH,   /* verification after a change failed (READ KEYS etc.) */
	PRK_HE_UNSUPPORTED /* the target lacks what was asked (e.g. PR) */
};

struct prk_host_err {
	enum prk_host_errc code;
	int path;            /* index of the path involved, or -1 */
	int status;          /* SCSI status, or -1 for a transport failure */
	uint8_t sense_key;   /* when status is CHECK CONDITION */
	uint16_t asc;        /* ASC << 8 | ASCQ */
	uint64_t holder_key; /* PRK_HE_BUSY: who holds the reservation */
	char msg[256];       /* one line: what failed, where, why */
};

/* ---- the event loop ---- */

struct prk_host_opts {
	/* Where path ISIDs and per-device locks are kept. NULL: the
	 * environment PRKIT_STATE_DIR, else /var/lib/prkit (root), else
	 * $XDG_STATE_HOME/prkit or ~/.local/state/prkit. */
	const char *state_dir;
	int log_level; /* 0 quiet (default), 1 info, 2 debug: to stderr */
};

struct prk_host *prk_host_new(const struct prk_host_opts *o, struct prk_host_err *err);
/* The initiator name the prkit tools use when none is given: env (the
 * value of $PRKIT_INITIATOR_NAME) when set, which must be a valid iSCSI
 * name, else "iqn.2026-11.io.prkit:host-" + hostname lower-cased, with
 * characters a name cannot hold turned into '-'. Pure. 0, or -1 with a
 * message in err. */
#define PRK_HOST_INITIATOR_ENV "PRKIT_INITIATOR_NAME"
#define PRK_HOST_INITIATOR_PREFIX "iqn.2026-11.io.prkit:host-"
int prk_host_initiator_name(const char *env, const char *hostname, char *buf, size_t cap, char *err,
                            size_t errcap);
/* Path discovery: logs in to the portal of url (a discovery session,
 * SendTargets, with the URL's CHAP credentials if any) and returns one
 * path URL per portal the target named in url is reachable through, same
 * LUN and credentials: url itself first, then the others in the target's
 * order, at most cap. Synchronous; timeout_s bounds each step (0: 10).
 * 0 with *n set, or -1 with err naming the step. */
#define PRK_HOST_URL_MAX 256
int prk_host_discover(const char *initiator, const char *url, int timeout_s,
                      char (*urls)[PRK_HOST_URL_MAX], size_t cap, size_t *n,
                      struct prk_host_err *err);
/* LU discovery: every LU behind a portal. Logs in to the portal of
 * portal_url (iscsi://[user%secret@]host[:port], nothing after the port; a
 * SendTargets discovery session with the URL's CHAP credentials), then to
 * each target listed (through the first of its portals that accepts the
 * login), reads REPORT LUNS and each LUN's NAA (INQUIRY VPD 83h, as
 * prk_mpdev_naa reports it). One entry per distinct NAA, sorted by NAA,
 * with one path URL (iscsi://[cred@]portal/target/lun, same credentials)
 * for every portal of every target the LU was found through, in listing
 * order. Synchronous; timeout_s bounds each step (0: 10). 0 with *n LUs
 * (0 when the portal lists none), or -1 with err naming the step and the
 * target; more than cap LUs is an error (PRK_HE_USAGE) that sets *n to the
 * number found. Paths listed are not verified here: a device made from
 * them refuses a path that leads to another LU when it comes up. */
struct prk_host_lu {
	char naa[33];   /* lower-case hex */
	size_t n_paths; /* 1..PRK_MPDEV_MAX_PATHS */
	size_t n_found; /* distinct paths seen: more than n_paths when some were left out */
	char paths[PRK_MPDEV_MAX_PATHS][PRK_HOST_URL_MAX];
};
int prk_host_discover_lus(const char *initiator, const char *portal_url, int timeout_s,
                          struct prk_host_lu *lus, size_t cap, size_t *n, struct prk_host_err *err);
/* The state directory prk_host_new uses when none is given. */
void prk_host_default_state_dir(char *buf, size_t cap);
void prk_host_free(struct prk_host *h);
/* Runs one iteration: waits at most timeout_ms for socket events or the
 * next timer, services them and runs due timers (path checks, command
 * timeouts, reconnects). Returns 0, or -1 if poll failed. */
int prk_host_run(struct prk_host *h, int timeout_ms);
/* Monotonic milliseconds, the clock the host uses. */
uint64_t prk_host_now_ms(void);

/* The application's own descriptor on the host's loop (prkit mount: the
 * FUSE session's /dev/fuse descriptor), so that one thread serves it and
 * the devices. fn runs from prk_host_run when fd has any of events (or
 * POLLERR/POLLHUP/POLLNVAL) - only from the application's own top-level
 * call, never while the library runs the loop for a synchronous operation
 * (like the control socket: a handler may itself call open, close or a
 * reservation operation). At most PRK_HOST_MAX_WATCH descriptors. 0, or
 * -1 with err (PRK_HE_USAGE: full, or fd already watched). */
#define PRK_HOST_MAX_WATCH 4
typedef void (*prk_host_fd_fn)(int fd, short revents, void *arg);
int prk_host_watch_fd(struct prk_host *h, int fd, short events, prk_host_fd_fn fn, void *arg,
                      struct prk_host_err *err);
/* Stops watching fd (nothing when it is not watched). Safe from fn. */
void prk_host_unwatch_fd(struct prk_host *h, int fd);

/* ---- the multipath device ---- */

enum prk_path_state {
	PRK_PATH_DOWN,    /* no session: never connected, lost, or login failing */
	PRK_PATH_FAILED,  /* a session, but commands fail or time out; no I/O */
	PRK_PATH_STANDBY, /* healthy, not used: ALUA standby, or waiting to fail back */
	PRK_PATH_UP       /* carries I/O */
};
const char *prk_path_state_name(enum prk_path_state s);

enum prk_selector {
	PRK_SEL_SERVICE_TIME = 0, /* least outstanding bytes / path throughput (default) */
	PRK_SEL_ROUND_ROBIN,
	PRK_SEL_QUEUE_LENGTH /* least outstanding commands */
};
const char *prk_selector_name(enum prk_selector s);
int prk_selector_parse(const char *s, enum prk_selector *out);

enum prk_failback {
	PRK_FAILBACK_IMMEDIATE = 0, /* a path that recovers carries I/O at once */
	PRK_FAILBACK_MANUAL,        /* it waits in STANDBY until prk_mpdev_failback() */
	PRK_FAILBACK_DELAYED        /* it waits failback_delay_ms of continuous health */
};

enum prk_event_kind {
	PRK_EV_PATH_STATE,   /* path changed state: old_state -> new_state */
	PRK_EV_UA,           /* a unit attention arrived on path (asc) */
	PRK_EV_FENCED,       /* RESERVATION CONFLICT on data I/O, or our key vanished */
	PRK_EV_REREGISTERED, /* a returning path was registered again */
	PRK_EV_RESV_MOVED,   /* the reservation held through a dead path moved to path */
	PRK_EV_IO_REDRIVEN,  /* an I/O was re-driven from old path to path */
	PRK_EV_STALLED,      /* I/O stalled (the stall count went 0 -> 1; host_ctl.h) */
	PRK_EV_RESUMED,      /* I/O resumed (the stall count went 1 -> 0) */
	PRK_EV_KEY_CHANGED   /* the device's key changed (host_ctl.h) */
};
const char *prk_event_name(enum prk_event_kind k);

struct prk_event {
	enum prk_event_kind kind;
	int path;
	int old_path; /* PRK_EV_IO_REDRIVEN, PRK_EV_RESV_MOVED */
	enum prk_path_state old_state, new_state;
	uint8_t sense_key;
	uint16_t asc; /* PRK_EV_UA: ASC << 8 | ASCQ */
	const char *why;
};
typedef void (*prk_event_fn)(struct prk_mpdev *d, const struct prk_event *ev, void *arg);

struct prk_mpdev_opts {
	const char *initiator_name; /* required */
	/* iscsi://[user%secret@]host[:port]/target-iqn/lun, one per path. */
	const char *const *urls;
	size_t n_urls;
	uint64_t key;                 /* the device's reservation key; 0: none */
	bool aptpl;                   /* set APTPL when registering */
	unsigned checker_interval_ms; /* 0: 1000 */
	unsigned io_timeout_ms;       /* 0: 10000; then ABORT TASK */
	unsigned tmf_timeout_ms;      /* 0: 3000; then the session is dropped */
	unsigned no_path_timeout_ms;  /* 0: 15000; how long I/O waits for a path */
	unsigned max_retries;         /* 0: 5; re-drives of one I/O */
	/* 0 (default): an I/O that meets RESERVATION CONFLICT completes at
	 * once with PRK_IO_FENCED. Else the device holds it up to this long
	 * for our key to be registered again — a member of a cluster-wide-key
	 * cluster whose generation changed, until its `prkit fence -o on`
	 * re-keys it (docs/fence.md) — sends it again then, and fails it
	 * only when the hold runs out. Other I/O is sent as usual (the
	 * target refuses what a fenced host may not do). */
	unsigned fenced_hold_ms;
	enum prk_selector selector;
	enum prk_failback failback;
	unsigned failback_delay_ms;
	bool header_digest; /* offer CRC32C header digests */
	/* The ISID store may hand out a fresh, unsaved ISID when the saved one
	 * is in use by another process: only for read-only tools. */
	bool ephemeral_isid_ok;
	/* Another set of nexuses for the same initiator name (e.g. "fence"
	 * for a fence agent running beside the node's I/O process): the
	 * ISIDs are kept per role. NULL or "": the default set. */
	const char *isid_role;
	prk_event_fn on_event;
	void *event_arg;
};

/* Creates the device and starts connecting its paths (asynchronously).
 * NULL on a bad option (err says which). */
struct prk_mpdev *prk_mpdev_new(struct prk_host *h, const struct prk_mpdev_opts *o,
                                struct prk_host_err *err);
/* Closes (if open), logs out every path and frees. */
void prk_mpdev_free(struct prk_mpdev *d);

/* Runs the loop until at least min_up paths are usable (or all paths
 * have been tried once and failed), at most timeout_ms. Returns the
 * number of usable paths. */
int prk_mpdev_wait_paths(struct prk_mpdev *d, int min_up, int timeout_ms);

/* ---- open modes ---- */

enum prk_open_mode {
	PRK_OPEN_DEFAULT = 0, /* register; reserve if nobody holds it; fail if another key does */
	PRK_OPEN_FORCED,      /* register; PREEMPT AND ABORT another holder */
	PRK_OPEN_RETAIN,      /* default, and close keeps the reservation */
	PRK_OPEN_NO_RESERVE,  /* register only (shared); release our own reservation */
	PRK_OPEN_SINGLE,      /* default, and a second open on this host fails */
	/* ours: register only, as a member of a cluster whose reservation
	 * (registrants-only or all-registrants, held by any member) gives every
	 * registrant access; fails only on a Write Exclusive / Exclusive Access
	 * reservation of another key. Never reserves or releases. */
	PRK_OPEN_CLUSTER
};
const char *prk_open_mode_name(enum prk_open_mode m);
int prk_open_mode_parse(const char *s, enum prk_open_mode *out);

struct prk_open_opts {
	enum prk_open_mode mode;
	uint8_t type;   /* reservation type; 0: Exclusive Access, Registrants Only (6) */
	int timeout_ms; /* for the paths to come up; 0: 10000 */
};

/* Opens the device as the mode says (see docs/host.md for the exact
 * command sequences). 0, or -1 with err filled. */
int prk_mpdev_open(struct prk_mpdev *d, const struct prk_open_opts *o, struct prk_host_err *err);
/* Stops new I/O, waits for outstanding I/O, releases the reservation
 * through the path that holds it unless the mode retains it. */
int prk_mpdev_close(struct prk_mpdev *d, struct prk_host_err *err);

/* ---- data I/O ---- */

enum prk_io_status {
	PRK_IO_OK = 0,
	PRK_IO_FENCED,     /* RESERVATION CONFLICT: this host is fenced; not retried */
	PRK_IO_SCSI_ERROR, /* a CHECK CONDITION that is not the path's fault */
	PRK_IO_NO_PATH,    /* no usable path within no_path_timeout_ms, or retries exhausted */
	PRK_IO_CLOSED      /* the device was closed or freed */
};
const char *prk_io_status_name(enum prk_io_status s);

struct prk_io_result {
	enum prk_io_status status;
	int path; /* the path that completed it, or -1 */
	int scsi_status;
	uint8_t sense_key;
	uint16_t asc;
	unsigned redrives;
};
/* An I/O callback may submit I/O and may close the device, but must not
 * free it (prk_mpdev_free): do that from the loop's caller. */
typedef void (*prk_io_fn)(struct prk_mpdev *d, const struct prk_io_result *r, void *arg);

/* Queues a READ(16) / WRITE(16) of nblocks blocks at lba. buf must stay
 * valid until the callback. 0, or -1 if the device is not open or the
 * range is outside the LU. */
int prk_mpdev_read_async(struct prk_mpdev *d, uint64_t lba, uint32_t nblocks, void *buf,
                         prk_io_fn cb, void *arg);
int prk_mpdev_write_async(struct prk_mpdev *d, uint64_t lba, uint32_t nblocks, const void *buf,
                          prk_io_fn cb, void *arg);

/* SYNCHRONIZE CACHE(16) of the whole LU, and UNMAP of nblocks at lba
 * (split into as many UNMAP commands as the LU's Block Limits VPD page
 * requires; cb runs once, after the last, with the first failure).
 * Queued, stalled, re-driven and fenced like READ and WRITE: a RESERVATION
 * CONFLICT completes as PRK_IO_FENCED. 0, or -1 if the device is not open,
 * the range is outside the LU, or (UNMAP) the LU is not thin. */
int prk_mpdev_flush_async(struct prk_mpdev *d, prk_io_fn cb, void *arg);
int prk_mpdev_unmap_async(struct prk_mpdev *d, uint64_t lba, uint64_t nblocks, prk_io_fn cb,
                          void *arg);
/* The LU is thin (READ CAPACITY(16) LBPME), so UNMAP is allowed; and
 * whether an unmapped block reads back as zeros (LBPRZ). Known once a path
 * has come up (false before). */
bool prk_mpdev_thin(const struct prk_mpdev *d);
bool prk_mpdev_unmap_zeroes(const struct prk_mpdev *d);

uint32_t prk_mpdev_block_size(const struct prk_mpdev *d);
uint64_t prk_mpdev_blocks(const struct prk_mpdev *d);
unsigned prk_mpdev_inflight(const struct prk_mpdev *d);
bool prk_mpdev_is_fenced(const struct prk_mpdev *d);

/* ---- paths ---- */

struct prk_path_info {
	char url[256];
	char portal[256];
	uint64_t isid;
	enum prk_path_state state;
	bool registered;    /* our key is registered through this path */
	bool holder;        /* this path's I_T nexus holds our reservation */
	uint16_t rtpi;      /* from VPD 83h */
	uint16_t tpg;       /* target port group, from VPD 83h */
	uint8_t alua_state; /* from REPORT TARGET PORT GROUPS (0 active/optimized) */
	int priority;       /* 50 optimized, 10 non-optimized, 1 standby, 0 unavailable */
	unsigned inflight;
	uint64_t completed; /* commands completed through it */
	uint64_t failures;  /* times it went DOWN or FAILED */
	char last_error[128];
};
size_t prk_mpdev_paths(const struct prk_mpdev *d, struct prk_path_info *out, size_t cap);
size_t prk_mpdev_n_paths(const struct prk_mpdev *d);
/* The LU's NAA identifier from VPD 83h, as hex ("" until known). */
const char *prk_mpdev_naa(const struct prk_mpdev *d);

/* Failback now (PRK_FAILBACK_MANUAL): every healthy STANDBY path that
 * waits for failback goes UP. */
void prk_mpdev_failback(struct prk_mpdev *d);
/* Removes path i: stops sending to it, moves the reservation off it if it
 * holds it, unregisters it, logs out. */
int prk_mpdev_remove_path(struct prk_mpdev *d, int i, struct prk_host_err *err);

/* ---- reservation operations across paths ----
 * REGISTER-type actions go to every path that has a session; RESERVE,
 * RELEASE, CLEAR, PREEMPT go through one registered path (the one holding
 * the reservation when there is one). Unit attentions met on the way are
 * reported as events and the command is sent again (at most 4 times). */

/* Registers key on every path (REGISTER AND IGNORE EXISTING KEY), then
 * verifies with READ KEYS that each path's nexus shows it. */
int prk_mpdev_register(struct prk_mpdev *d, uint64_t key, struct prk_host_err *err);
/* Unregisters every path (releasing the reservation first if we hold it). */
int prk_mpdev_unregister(struct prk_mpdev *d, struct prk_host_err *err);
int prk_mpdev_reserve(struct prk_mpdev *d, uint8_t type, struct prk_host_err *err);
int prk_mpdev_release(struct prk_mpdev *d, struct prk_host_err *err);
int prk_mpdev_clear(struct prk_mpdev *d, struct prk_host_err *err);
/* PREEMPT (abort false) or PREEMPT AND ABORT of victim_key with our key;
 * victim == our key moves the reservation to a live path and re-registers
 * the others. */
int prk_mpdev_preempt(struct prk_mpdev *d, uint64_t victim_key, uint8_t type, bool abort,
                      struct prk_host_err *err);

struct prk_resv_view {
	uint32_t generation;
	bool present;
	uint64_t key;
	uint8_t type;
	size_t n_keys;
	uint64_t keys[64];
};
/* READ KEYS and READ RESERVATION through one usable path. */
int prk_mpdev_read_state(struct prk_mpdev *d, struct prk_resv_view *v, struct prk_host_err *err);

/* One PR OUT / PR IN exactly as given, through path (or -1: the best
 * usable path), for tools such as prkit persist. status is the SCSI status
 * (-1: transport failure); sense in err. The return value is 0 when the
 * command completed with GOOD. */
int prk_mpdev_prout_raw(struct prk_mpdev *d, int path, uint8_t sa, uint8_t type,
                        const uint8_t *params, uint32_t len, struct prk_host_err *err);
int prk_mpdev_prin_raw(struct prk_mpdev *d, int path, uint8_t sa, uint8_t *buf, uint16_t cap,
                       size_t *got, struct prk_host_err *err);
/* INQUIRY standard data of the LU: vendor, product, revision strings and
 * the peripheral device type. */
int prk_mpdev_inquiry(struct prk_mpdev *d, char vendor[9], char product[17], char rev[5],
                      uint8_t *pdt, struct prk_host_err *err);
/* The path index of every path with a session, in order (for tools that
 * send one command per path). Returns how many. */
size_t prk_mpdev_ready_paths(const struct prk_mpdev *d, int *idx, size_t cap);

/* ---- commands as given (pass-through) ----
 * One SCSI command exactly as the caller built it, through path (or -1:
 * the best usable path), for tools that send what the library has no call
 * for (prkit copy: EXTENDED COPY, RECEIVE COPY RESULTS, VPD pages, READ
 * and WRITE without opening the device). Nothing is retried and unit
 * attentions are not consumed: the caller sees the status and the sense
 * data exactly as the target sent them. */
enum prk_raw_dir { PRK_RAW_NONE = 0, PRK_RAW_READ = 1, PRK_RAW_WRITE = 2 };
#define PRK_RAW_SENSE_MAX 252
#define PRK_RAW_TRANSPORT (-1) /* status: the session failed or the command was cancelled */
#define PRK_RAW_TIMEOUT (-2)   /* status: no answer within timeout_ms (aborted) */
struct prk_raw_cmd {
	uint8_t cdb[16];
	uint8_t cdb_len;
	enum prk_raw_dir dir;
	const void *out; /* PRK_RAW_WRITE: out_len bytes, valid until completion */
	uint32_t out_len;
	void *in; /* PRK_RAW_READ: at most in_cap bytes */
	uint32_t in_cap;
	unsigned timeout_ms; /* 0: the device's io_timeout_ms */
	/* Filled on completion: */
	int status; /* SCSI status, or PRK_RAW_TRANSPORT / PRK_RAW_TIMEOUT */
	uint32_t in_len;
	uint16_t sense_len; /* CHECK CONDITION: the sense data as sent */
	uint8_t sense[PRK_RAW_SENSE_MAX];
};
typedef void (*prk_raw_fn)(struct prk_mpdev *d, struct prk_raw_cmd *c, void *arg);
/* Queues c (kept by the caller until cb). 0, or -1 when no path has a
 * session (cb is not called). */
int prk_mpdev_raw_async(struct prk_mpdev *d, int path, struct prk_raw_cmd *c, prk_raw_fn cb,
                        void *arg);
/* The same, running the loop until it completes; returns c->status. */
int prk_mpdev_raw_sync(struct prk_mpdev *d, int path, struct prk_raw_cmd *c);

#endif
