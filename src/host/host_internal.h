/* Private structures of the host library (src/host). */
#ifndef PRKIT_HOST_INTERNAL_H
#define PRKIT_HOST_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <poll.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "prkit/host.h"

struct prk_host {
	char state_dir[512];
	int log_level;
	struct prk_mpdev *devs;
	/* Slow work (path bring-up, reservation recovery) runs synchronously
	 * from the timer pass and nests prk_host_run; this flag keeps it from
	 * nesting into itself. */
	bool in_slow;
	int depth; /* nesting of prk_host_run */
	/* The control socket (ctl_server.c), NULL when not listening. */
	struct ctl_server *ctl;
};

/* Where a path is in its life. */
enum hpath_conn {
	HC_IDLE,       /* no context */
	HC_CONNECTING, /* TCP connect / login in progress */
	HC_LOGGED_IN,  /* session up, bring-up (identity, ALUA, registration) pending */
	HC_READY       /* brought up: state says whether it carries I/O */
};

struct hcmd;
struct hio;

struct hpath {
	struct prk_mpdev *dev;
	int idx;
	bool removed;
	char url[256];
	char portal[256];
	char target[256];
	int lun;
	char user[256], secret[256];
	char tuser[256], tsecret[256];

	struct iscsi_context *ctx;
	enum hpath_conn conn;
	enum prk_path_state state;
	uint64_t isid;
	uint32_t isid_rnd, isid_qual;
	int isid_lock_fd;
	bool isid_ephemeral;

	bool registered; /* our key is on this nexus */
	/* We sent REGISTER AND IGNORE here and have not verified it nor
	 * taken it back: the nexus may hold our key without the right to. */
	bool reg_unverified;
	bool holder; /* this nexus holds our (non all-registrants) reservation */
	bool has_ident;
	uint16_t rtpi, tpg;
	uint8_t alua_state;
	bool alua_known;
	int priority;
	bool alua_standby; /* STANDBY because of the ALUA state */
	bool wait_failback;
	bool ever_ready;
	uint64_t healthy_since_ms;

	struct hcmd *cmds; /* in flight on this context */
	unsigned inflight;
	uint64_t inflight_bytes;
	uint64_t completed, failures;
	unsigned failed_logins; /* connect or login attempts that failed */
	unsigned tmf_pending;
	uint64_t tmf_deadline_ms;
	bool check_inflight;
	uint64_t next_check_ms;
	uint64_t next_connect_ms;
	uint64_t connect_deadline_ms;
	bool drop_requested; /* drop the session after the current service call */
	char last_error[128];
};

struct prk_mpdev {
	struct prk_host *h;
	struct prk_mpdev *next;
	struct prk_mpdev_opts o;
	char initiator[224];
	char isid_role[64];
	char *url_store[PRK_MPDEV_MAX_PATHS];
	struct hpath paths[PRK_MPDEV_MAX_PATHS];
	size_t n_paths;
	unsigned rr;

	char naa[33];
	uint32_t block_size;
	uint64_t blocks;

	/* Reservation state as this host believes it. */
	uint64_t key;
	bool key_registered; /* we registered key on the device */
	bool resv_held;      /* we hold a reservation of resv_type */
	uint8_t resv_type;
	bool fenced;
	/* Grows at every (re-)registration of our key: a RESERVATION
	 * CONFLICT for an I/O sent under an older epoch is not a fence. */
	unsigned key_epoch;
	bool spc2; /* SPC-2 RESERVE/RELEASE on spc2_path only */
	int spc2_path;
	/* spc2_path's session ended: the target released our SPC-2
	 * reservation with the nexus, RESERVE again before any I/O. */
	bool spc2_lost;
	/* RESERVE(6) met RESERVATION CONFLICT since then (maybe from our own
	 * old nexus, which the target has not dropped yet); next try at. */
	uint64_t spc2_conflict_since_ms, spc2_next_try_ms;
	bool pr_unsupported;

	bool open;
	enum prk_open_mode mode;
	int single_lock_fd;
	bool quiesced; /* close and preempt_self: no new I/O while they work */
	/* prk_mpdev_stall (host_ctl.h): counted, separate from quiesced so
	 * that a close or a reservation move ending does not resume I/O that
	 * someone else stalled. */
	unsigned stalls;
	uint64_t stalled_since_ms;
	bool rtpg_refresh;
	bool freeing;

	struct hio *pending_head, *pending_tail;
	/* I/O that met RESERVATION CONFLICT, held for fenced_hold_ms until
	 * our key is registered again (prk_dev_unfenced). */
	struct hio *held_head, *held_tail;
	unsigned inflight;
	uint64_t next_tick_ms;
};

/* One command in flight on a path. */
typedef void (*hcmd_fn)(struct hcmd *c, int status, struct scsi_task *t);
struct hcmd {
	struct hpath *p;
	struct scsi_task *task;
	uint64_t deadline_ms;
	bool aborting;
	bool owned; /* allocated by prk_path_cmd_async, freed after done() */
	uint64_t bytes;
	hcmd_fn done;
	void *arg;
	struct hcmd *next, *prev;
};

struct hio {
	struct prk_mpdev *d;
	bool write;
	uint64_t lba;
	uint32_t nblocks;
	void *buf;
	prk_io_fn cb;
	void *arg;
	unsigned redrives;
	int last_path;
	uint64_t queued_ms;
	uint64_t not_before_ms;
	const char *redrive_why; /* why it is sent again (static text) */
	unsigned key_epoch;      /* the device's key_epoch when it was sent */
	uint64_t held_since_ms;  /* first RESERVATION CONFLICT (fenced_hold_ms), or 0 */
	struct scsi_iovec iov;
	/* The command carrying it (one at a time): no allocation per send. */
	struct hcmd cmd;
	struct hio *next;
};

/* An option's value, or its default when 0. */
static inline unsigned dflt(unsigned v, unsigned d)
{
	return v ? v : d;
}

/* Multi-step operations mark the host busy so that slow work (bring-up,
 * reservation recovery) does not interleave with them. */
#define SLOW_BEGIN(d)                                                                              \
	bool slow_was_ = (d)->h->in_slow;                                                          \
	(d)->h->in_slow = true
#define SLOW_END(d) ((d)->h->in_slow = slow_was_)

/* host.c */
/* One loop pass for the library's own waits (synchronous commands,
 * draining, waiting for paths): like prk_host_run, but the control socket
 * is never served from it. */
int prk_hloop_run_nested(struct prk_host *h, int timeout_ms);
void prk_hlog(struct prk_host *h, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void prk_herr(struct prk_host_err *e, enum prk_host_errc code, int path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* isid_store.c: the ISID of (initiator, target, portal), kept in the
 * state directory, and a lock held while a process uses it. */
int prk_isid_acquire(struct prk_host *h, struct hpath *p, bool ephemeral_ok,
                     struct prk_host_err *err);
void prk_isid_release(struct hpath *p);
/* The 48-bit ISID libiscsi sends for iscsi_set_isid_random(rnd, qual). */
uint64_t prk_isid_of_random(uint32_t rnd, uint32_t qual);

/* path.c */
void prk_path_connect_async(struct hpath *p);
void prk_path_drop(struct hpath *p, const char *why);
void prk_path_set_state(struct hpath *p, enum prk_path_state s, const char *why);
struct hcmd *prk_path_cmd_async(struct hpath *p, struct scsi_task *t, unsigned timeout_ms,
                                uint64_t bytes, hcmd_fn done, void *arg);
/* The same in storage the caller owns (c->owned false: kept alive until
 * done() has been called). */
bool prk_path_cmd_async_in(struct hpath *p, struct hcmd *c, struct scsi_task *t,
                           unsigned timeout_ms, uint64_t bytes, hcmd_fn done, void *arg);
void prk_path_timers(struct hpath *p, uint64_t now);
void prk_path_checker(struct hpath *p, uint64_t now);
int prk_path_bring_up_sync(struct hpath *p);
/* REPORT TARGET PORT GROUPS through p, applied to every path. */
int prk_path_refresh_alua_sync(struct hpath *p);
bool prk_path_usable(const struct hpath *p);
/* Synchronous command through p (runs the loop). Unit attentions are
 * reported as events and the command is sent again (at most 8 times).
 * Returns the SCSI status, or -1 on a transport failure (err filled). */
struct hsync {
	const uint8_t *cdb;
	size_t cdb_len;
	int dir; /* SCSI_XFER_NONE / READ / WRITE */
	const uint8_t *out;
	uint32_t out_len;
	uint8_t *in;
	uint32_t in_cap;
	size_t in_len;
	unsigned timeout_ms;
	uint8_t sense_key;
	uint16_t asc;
};
int prk_path_cmd_sync(struct hpath *p, struct hsync *s);

/* mpdev.c */
/* I/O of d may not be sent now: a close or reservation move (quiesced),
 * a stall, or the device going away. */
static inline bool prk_dev_held(const struct prk_mpdev *d)
{
	return d->quiesced || d->stalls || d->freeing;
}
void prk_dev_event(struct prk_mpdev *d, const struct prk_event *ev);
void prk_dev_dispatch(struct prk_mpdev *d);
/* Our key is registered again: not fenced; I/O held by fenced_hold_ms
 * goes out again at the next dispatch. */
void prk_dev_unfenced(struct prk_mpdev *d);
/* Held I/O joins the pending queue (to be completed by close/free). */
void prk_dev_take_held(struct prk_mpdev *d);
void prk_dev_tick(struct prk_mpdev *d, uint64_t now);
void prk_dev_slow_work(struct prk_mpdev *d);
int prk_dev_wait_drained(struct prk_mpdev *d, int timeout_ms);
struct hpath *prk_dev_best_path(struct prk_mpdev *d, bool need_registered);
void prk_dev_path_ready(struct hpath *p);

/* open.c */
/* SPC-2 fallback: RESERVE(6) through p. 0; -1 with PRK_HE_BUSY when
 * another initiator holds it; other errors -1. */
int prk_spc2_reserve_sync(struct prk_mpdev *d, struct hpath *p, struct prk_host_err *err);
/* After spc2_path lost its session: reserve again through a usable path
 * (I/O waits meanwhile); another initiator's reservation means fenced. */
void prk_spc2_recover_sync(struct prk_mpdev *d);

/* mpdev_pr.c */
int prk_devpr_register_path_sync(struct hpath *p, uint64_t key, struct prk_host_err *err);
int prk_devpr_unregister_path_sync(struct hpath *p, struct prk_host_err *err);
int prk_devpr_reregister_returning_sync(struct hpath *p);
int prk_devpr_recover_dead_holder_sync(struct prk_mpdev *d);
int prk_devpr_prout_sync(struct hpath *p, uint8_t sa, uint8_t type, uint64_t rk, uint64_t sark,
                         bool aptpl, struct prk_host_err *err);
int prk_devpr_prin_sync(struct hpath *p, uint8_t sa, uint8_t *buf, uint16_t cap, size_t *got,
                        struct prk_host_err *err);
int prk_devpr_count_key_sync(struct hpath *p, uint64_t key, size_t *n, struct prk_host_err *err);
/* READ FULL STATUS through via: which of our paths are registered and
 * which holds the reservation; sets resv_held / resv_type. */
int prk_devpr_read_state_sync(struct prk_mpdev *d, struct hpath *via, struct prk_host_err *err);
void prk_cmd_err(struct prk_host_err *err, struct hpath *p, int st, const struct hsync *s,
                 const char *what);
/* Our registration is gone: every path unregistered, PRK_EV_FENCED. */
void prk_devpr_mark_fenced(struct prk_mpdev *d, int path, const char *why);
struct hpath *prk_devpr_any_session(struct prk_mpdev *d, bool need_registered);
/* The path of ours whose I_T nexus a READ FULL STATUS descriptor names,
 * or NULL. */
struct prk_full_desc;
struct hpath *prk_devpr_path_of_tid(struct prk_mpdev *d, const struct prk_full_desc *fd);

/* ctl_server.c: the control socket, served from the top-level loop. */
#define CTL_MAX_POLLFDS 17 /* the listening socket and 16 connections */
/* Adds the control socket's descriptors to pfd (at most cap); returns how
 * many, and lowers *next_ms to the next deadline (drain, max_ms). */
int prk_ctl_poll_fill(struct prk_host *h, struct pollfd *pfd, int cap, uint64_t *next_ms);
/* Serves the descriptors prk_ctl_poll_fill added (n of them, in pfd), then
 * the deadlines. */
void prk_ctl_service(struct prk_host *h, struct pollfd *pfd, int n);
/* d is being freed: the stalls held on it are forgotten. */
void prk_ctl_dev_freed(struct prk_host *h, struct prk_mpdev *d);
/* Closes every connection (releasing their stalls) and the socket. */
void prk_ctl_server_free(struct prk_host *h);

#endif
