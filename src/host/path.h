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
	struct prk_mpdev *dev;
	const struct hpath_hooks *hooks;
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
void prk_path_set_state(struct hpath *p, enum prk_path_state s, const char *why);
struct hcmd *prk_path_cmd_async(struct hpath *p, struct scsi_task *t, unsigned timeout_ms,
                                uint64_t bytes, hcmd_fn done, void *arg);
/* The same in storage the caller owns (c->owned false: kept alive until
 * done() has been called). */
bool prk_path_cmd_async_in(struct hpath *p, struct hcmd *c, struct scsi_task *t,
                           unsigned timeout_ms, uint64_t bytes, hcmd_fn done, void *arg);
void prk_path_timers(struct hpath *p, uint64_t now);
void prk_path_checker(struct hpath *p, uint64_t now);
/* Bring-up of a logged-in path, up to "identity known": the LU's
 * identity (the same LU as the other paths), its capacity, the ALUA
 * states, pending unit attentions. 0 with the path still LOGGED_IN: the
 * device registers on it, then calls prk_path_ready. -1: dropped, or no
 * longer logged in. */
int prk_path_bring_up_sync(struct hpath *p);
/* The device is done with a brought-up path: READY, checks start. */
void prk_path_ready(struct hpath *p);
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
/* The descriptor p's session waits on: 1 with *pfd filled, or 0 (no
 * session; or libiscsi waits for a back-off, and *next_ms is lowered to
 * look again soon). */
int prk_path_poll_fill(struct hpath *p, struct pollfd *pfd, uint64_t now, uint64_t *next_ms);
/* Serves what poll() found on the descriptor prk_path_poll_fill gave. */
void prk_path_service(struct hpath *p, const struct pollfd *pfd);

#endif
