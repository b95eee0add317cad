/* One path of a device: its session, its commands and its bring-up
 * (path.c). A path tells its device what happens through the hooks the
 * device gave it, and never calls into the device itself. Private to
 * src/host. */
#ifndef PRKIT_HOST_PATH_H
#define PRKIT_HOST_PATH_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "host_base.h"

struct hcmd;
struct hpath;

/* What a path reports to its device (set by the device, mpdev.c). */
struct hpath_hooks {
	/* A path state change, a unit attention. */
	void (*event)(struct hpath *p, const struct prk_event *ev);
	/* The session is ending: called before its commands are
	 * cancelled (their completions may re-drive I/O at once). */
	void (*session_ending)(struct hpath *p);
	/* The session ended; its commands completed as CANCELLED. */
	void (*dropped)(struct hpath *p);
	/* The target said the ALUA states may have changed (2A/xx, or a
	 * standby answer): read them again for every path. */
	void (*alua_changed)(struct hpath *p);
	/* The path is healthy again (a check answered, ALUA active): it
	 * may go UP or STANDBY, as the device decides. */
	void (*healthy)(struct hpath *p);
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
	/* The device owns the path; the path knows it only by name, and
	 * reports to it through hooks. What the path needs of it, set by
	 * the device: the host (log, loop), the options, the initiator. */
	struct prk_mpdev *dev;
	const struct hpath_hooks *hooks;
	struct prk_host *h;
	const struct prk_mpdev_opts *o;
	const char *initiator;
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
	/* A command or TMF was queued on the context since prk_path_flush
	 * last ran: libiscsi only writes when asked to serve POLLOUT. */
	bool unsent;
	char last_error[128];
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

void prk_path_connect_async(struct hpath *p);
void prk_path_drop(struct hpath *p, const char *why);
/* Ends p's session for good (its device is going): a logout when logged
 * in, then every command still in flight completes as CANCELLED, exactly
 * once, whatever libiscsi did with it. It calls no hook itself (a
 * completion may). */
void prk_path_close_sync(struct hpath *p);
void prk_path_set_state(struct hpath *p, enum prk_path_state s, const char *why);
struct hcmd *prk_path_cmd_async(struct hpath *p, struct scsi_task *t, unsigned timeout_ms,
                                uint64_t bytes, hcmd_fn done, void *arg);
/* The same in storage the caller owns (c->owned false: kept alive until
 * done() has been called). */
bool prk_path_cmd_async_in(struct hpath *p, struct hcmd *c, struct scsi_task *t,
                           unsigned timeout_ms, uint64_t bytes, hcmd_fn done, void *arg);
void prk_path_timers(struct hpath *p, uint64_t now);
void prk_path_checker(struct hpath *p, uint64_t now);
/* Who a logged-in path leads to (VPD 83h): the LU's NAA, the target
 * port and its group. The device compares it with the other paths. */
struct hpath_ident {
	char naa[33];
	uint16_t rtpi, tpg;
};
/* The path's part of its bring-up, "identity known". 0 with *id filled;
 * -1 with p->last_error set (the caller drops the path). */
int prk_path_identify_sync(struct hpath *p, struct hpath_ident *id);
/* A TEST UNIT READY, so that pending unit attentions (29/xx after a
 * reconnect, 2A/xx) are reported as events. 0 while still logged in;
 * -1 when it failed (dropped) or the session went. */
int prk_path_ua_check_sync(struct hpath *p);
/* The device is done with a brought-up path: READY, checks start. */
void prk_path_ready(struct hpath *p);
/* The path may carry I/O now. Inline: every I/O asks. */
static inline bool prk_path_usable(const struct hpath *p)
{
	return !p->removed && !p->drop_requested && p->conn == HC_READY && p->state == PRK_PATH_UP;
}
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
/* The descriptor p's session waits on: 1 with *pfd filled, or 0 (no
 * session; or libiscsi waits for a back-off, and *next_ms is lowered to
 * look again soon). */
int prk_path_poll_fill(struct hpath *p, struct pollfd *pfd, uint64_t now, uint64_t *next_ms);
/* Serves what poll() found on the descriptor prk_path_poll_fill gave. */
void prk_path_service(struct hpath *p, const struct pollfd *pfd);
/* Writes what was queued on p's session since the last flush, without
 * waiting for poll() to report the socket writable (the loop's end of
 * pass). Not from inside a libiscsi callback. */
void prk_path_flush(struct hpath *p);

#endif
