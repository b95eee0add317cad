/* Internal shape of the iSCSI runtime: server, portals, sessions,
 * connections and tasks. */
#ifndef PRKIT_ISCSI_SRV_INTERNAL_H
#define PRKIT_ISCSI_SRV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "loop_post.h"
#include "lu.h"
#include "login.h"
#include "pdu.h"
#include "prkit/pr.h"
#include "server.h"

struct prk_loop;
struct prk_loop_fd;
struct prk_conn;

#define PRK_TXQ_PAUSE ((size_t)4 << 20)

/* At most one log line about rejected PDUs per connection this often. */
#define PRK_REJECT_LOG_MS 5000

/* Tasks a session may hold beyond max_tasks: immediate commands take no
 * CmdSN, so the window does not count them. */
#define PRK_IMMEDIATE_SLACK 16

struct prk_portal {
	struct prk_iscsi_server *srv;
	char addr[64];
	uint16_t port; /* as bound */
	uint16_t tpgt, rtpi;
	int fd;
	struct prk_loop_fd *h;
	struct prk_portal *next;
};

/* A command that ABORT TASK aborted before it arrived (RFC 7143 11.5.1):
 * when it comes, it is discarded unrun. A few are remembered per session,
 * the oldest forgotten first. */
#define PRK_ABORTED_AHEAD 8
struct prk_aborted_ahead {
	uint32_t cmdsn, itt;
	bool used;
	bool arrived; /* the command came (and went): its Data-Out is dropped too */
};

/* With several loops (loops.c): what loop 0 reads of a session while its
 * commands are in the LU (cmd.nx, cmd.port), kept by the session and by
 * each of its tasks in the LU (refs), so that closing the session on its
 * own loop frees nothing loop 0 still reads. Loop 0 also keeps the
 * records whose nexus is up (the registry), which orders the nexus loss
 * of a session reinstated from another loop before the new one's. */
struct prk_srv_rec {
	struct prk_nexus nx;
	struct prk_lu_port port;
	struct prk_iscsi_target *tgt;
	struct prk_iscsi_server *main;
	_Atomic unsigned refs;
	/* loop 0 only */
	bool up, downed;
	/* Up and not downed, for the session's own loop: its fast path runs
	 * only once loop 0 has brought the nexus up (and given it 29/00). */
	_Atomic bool live;
	struct prk_srv_rec *next;
	struct prk_loop_msg up_msg, down_msg;
};

struct prk_session {
	struct prk_iscsi_server *srv;
	struct prk_srv_rec *rec;      /* several loops, normal sessions only */
	uint64_t serial;              /* unique in the daemon: names it in messages */
	bool unlinked;                /* taken off the table by a reinstatement */
	struct prk_iscsi_target *tgt; /* NULL for discovery */
	struct prk_iscsi_params params;
	uint64_t isid;
	uint16_t tsih;
	struct prk_nexus nexus;
	struct prk_lu_port port;
	uint32_t expcmdsn;
	/* The highest MaxCmdSN advertised: initiators ignore a lower one
	 * (RFC 7143 4.2.2.1), so it never goes down. */
	uint32_t maxcmdsn;
	struct prk_conn *conn; /* MaxConnections=1 */
	struct prk_aborted_ahead ahead[PRK_ABORTED_AHEAD];
	unsigned ahead_next; /* slot to fill next */
	struct prk_session *next;
};

/* One item of a connection's transmit queue: a header (BHS + digest) and
 * an optional data segment (padded, + digest). */
struct prk_tx {
	struct prk_tx *next;
	uint8_t hdr[PRK_ISCSI_BHS_LEN + PRK_ISCSI_DIGEST_LEN];
	size_t hdr_len;
	const uint8_t *data;
	size_t dlen;
	uint8_t trailer[3 + PRK_ISCSI_DIGEST_LEN]; /* padding + data digest */
	size_t trailer_len;
	size_t sent;                /* bytes of hdr+data+trailer already written */
	void *owner;                /* freed after this item is sent */
	void (*sent_cb)(void *arg); /* called after this item is sent (e.g. logout) */
	void *sent_arg;
	/* Bytes of the task memory budget the data stands for (the data-in
	 * of a READ): given back once this item is sent or dropped. */
	size_t charge;
};

enum prk_task_state {
	TASK_DATA_OUT, /* waiting for write data */
	TASK_WAIT_MEM, /* complete, waiting for room for its data-in */
	TASK_IN_LU,    /* submitted to the LU */
};

struct prk_tmf;

/* One abort's barrier waiting for one task inside the LU. A task may be
 * held by several aborts at once (its own ABORT TASK SET, then another
 * host's PREEMPT AND ABORT): each must wait for it, so the task keeps a
 * list of these, oldest first, and tells every one when it leaves. The
 * first comes with the task (prk_task.wait0), the others with the barrier
 * that needed them (prk_tmf.extra): nothing is allocated per link. */
struct prk_abort_wait {
	struct prk_tmf *barrier; /* NULL: unused */
	struct prk_abort_wait *next;
};

/* TMFs of one connection waiting for tasks to leave the LU: more are
 * answered "Function rejected" at once. Each may wait for the same tasks
 * as the others, so without a cap an initiator repeating an immediate
 * ABORT TASK SET while a write is stuck would grow memory without end. */
#define PRK_TMF_PENDING_MAX 16

struct prk_task {
	struct prk_conn *conn; /* NULL once the connection is gone */
	struct prk_task *next;
	enum prk_task_state state;
	uint32_t itt;
	uint32_t cmdsn;
	uint16_t lun;
	uint32_t edtl;
	bool aborted;        /* answer nothing when the LU completes */
	bool report_aborted; /* ...but TASK ABORTED status (TAS=1, another nexus) */
	/* Aborted inside the LU, and the LU not yet told (prk_lu_cancel):
	 * told once the abort has walked every task (prk_abort_cancel_owed). */
	bool cancel_owed;
	bool cancelled; /* told once, whatever number of aborts take it */
	/* ASC of a Data-Out error: the rest of the data is discarded and the
	 * task ends with ABORTED COMMAND and this code. */
	uint16_t data_error;
	struct prk_abort_wait *waits; /* the aborts waiting for this task */
	struct prk_abort_wait wait0;  /* the first of them */
	struct prk_lu *lu;            /* NULL: LUN does not exist */
	struct prk_iscsi_server *srv;
	/* An orphan: its connection (and session) went away while it was in
	 * the LU. It stays on srv->orphans, linked by next/orphan_prev, with
	 * copies of what the session held, until the LU completes it: an
	 * abort must still find and wait for it (abort.c), and the LU may
	 * still read cmd.nx and cmd.port, which now point at these copies. */
	bool orphan;
	struct prk_task *orphan_prev;
	struct prk_nexus orphan_nx;
	struct prk_lu_port orphan_port;
	struct prk_iscsi_target *orphan_tgt;
	/* Write data. Offsets are those of the wire (0..edtl); only the first
	 * `need` bytes, what the CDB calls for, are stored: the rest of what
	 * the initiator sends is read and dropped, and the residual says so. */
	uint8_t *buf;
	uint32_t need;    /* bytes of write data stored (<= edtl) */
	uint32_t buf_cap; /* bytes allocated in buf, charged to the budget */
	bool mem_wait;    /* queued until the budget has room */
	/* Data-in: bytes reserved before the LU runs (at most EDTL and the
	 * LU's maximum transfer), and reserved so far. */
	uint32_t read_want, read_charge;
	struct prk_task *next_wait;
	uint32_t received;        /* wire bytes of write data received so far */
	uint32_t unsolicited_end; /* immediate + unsolicited data must end here */
	uint32_t r2t_offset;      /* next byte to ask for */
	uint32_t burst_end;       /* end of the R2T burst in flight */
	uint32_t ttt;
	uint32_t r2tsn;
	uint32_t next_datasn; /* expected DataSN within the current sequence */
	uint64_t data_ms;     /* last write data or R2T: stalls hold the budget */
	struct prk_lu_cmd cmd;
	/* Several loops (loops.c): the message that carries the task to loop
	 * 0 and its completion back, the record cmd.nx/port point into, the
	 * loop the task belongs to, and loop 0's own view of it. */
	struct prk_loop_msg msg;
	struct prk_srv_rec *rec;
	struct prk_loop *home;
	bool in_lu0;   /* loop 0: inside the LU */
	bool lu_done0; /* loop 0: the LU completed it, its answer is on its way */
	bool refused0; /* loop 0: completed unrun (aborted on its way, reinstated) */
	bool fast;     /* its loop: in the LU on the fast path (prk_lu_submit_fast) */
};

struct prk_tmf {
	struct prk_conn *conn; /* NULL once the connection is gone */
	struct prk_tmf *next;  /* in conn->tmfs */
	uint32_t itt;
	uint8_t function;
	uint8_t response;
	unsigned waiting; /* aborted tasks still in the LU */
	/* Links to tasks that an earlier abort already held when this one
	 * took them (their wait0 was taken), sized before the walk. */
	struct prk_abort_wait *extra;
	size_t n_extra, extra_used;
	bool lu_reset_pending;
	struct prk_lu *reset_lu;
	struct prk_iscsi_target *reset_target;
	bool drop_after; /* target cold reset */
	/* A PREEMPT AND ABORT barrier instead of a TMF: called (and no TMF
	 * response sent) once every aborted task has left the LU. */
	void (*on_done)(void *arg);
	void *on_done_arg;
	struct prk_iscsi_server *srv0; /* loop 0's server */
};

enum prk_conn_state {
	CONN_LOGIN,
	CONN_FFP,
	CONN_CLOSING, /* drain the transmit queue, then close */
};

struct prk_conn {
	struct prk_iscsi_server *srv;
	struct prk_portal *portal;
	int fd;
	struct prk_loop_fd *h;
	char peer[64];
	enum prk_conn_state state;
	struct prk_login *login;
	struct prk_text *text;
	struct prk_session *sess;
	struct prk_iscsi_params params;
	uint16_t cid;
	uint32_t statsn;
	/* receive (rx.c): the connection buffer; bytes [rx_head, rx_tail)
	 * are received and not yet dispatched. */
	uint8_t *rx;
	size_t rx_cap, rx_head, rx_tail;
	/* Complete PDUs wait in rx because the transmit queue is over
	 * PRK_TXQ_PAUSE: dispatched once it drains (flush_tx). */
	bool rx_paused;
	/* A Data-Out received straight into its task's buffer: its header
	 * stays at rx + rx_head (place_hdr bytes), its data lands at
	 * place_task->buf + place_off, padding and digest in place_trl.
	 * place_task becomes NULL when the task goes away meanwhile (the
	 * rest of the data is then read and dropped). */
	bool placing;
	struct prk_task *place_task;
	uint32_t place_off, place_len, place_got;
	size_t place_hdr;
	uint8_t place_trl[3 + PRK_ISCSI_DIGEST_LEN];
	size_t place_trl_len, place_trl_got;
	uint32_t place_crc; /* data digest so far, over the bytes where they landed */
	/* Liveness: a handler may close the connection it runs for. While
	 * hold > 0 prk_conn_close only marks it closed; the holder frees it
	 * (prk_conn_release), so checking is O(1). */
	unsigned hold;
	bool closed;
	/* transmit */
	struct prk_tx *txq, *txq_tail;
	bool want_out; /* EPOLLOUT is on: the socket was full */
	/* Bytes queued and not yet written. Above PRK_TXQ_PAUSE the
	 * connection is not read (EPOLLIN off) until it drains to half: an
	 * initiator that sends and never reads cannot make us queue
	 * answers without end. */
	size_t txq_bytes;
	bool rx_off;
	bool dirty; /* queued output not yet written */
	struct prk_conn *next_dirty;
	/* tasks, and task management functions waiting for the LU */
	struct prk_tmf *tmfs;
	unsigned tmf_rejects; /* TMFs rejected at PRK_TMF_PENDING_MAX */
	struct prk_task *tasks;
	unsigned n_tasks;
	uint32_t next_ttt;
	bool in_login; /* counted in srv->n_login */
	/* liveness */
	uint64_t accepted_ms;
	uint64_t last_rx_ms;
	uint32_t ping_ttt; /* outstanding NOP-In ping, 0 = none */
	uint64_t ping_sent_ms;
	/* Rejects are logged at most once per PRK_REJECT_LOG_MS per
	 * connection (a flood of bad PDUs would flood the log too); the
	 * others are counted and the count logged with the next line. */
	uint64_t reject_log_ms;
	unsigned reject_quiet;
	uint8_t reject_last_op, reject_last_reason;
	uint64_t serial; /* unique in the daemon: names it in messages */
	struct prk_conn *next;
};

struct prk_srv_multi;

/* One per event loop. With one loop it is the whole server; with several
 * (loops.c) loop 0's is the main one: it holds the targets, portals, the
 * session table and accepting, and every other loop's its own connections,
 * orphans, task memory budget and housekeeping timer. */
struct prk_iscsi_server {
	struct prk_loop *loop;
	struct prk_iscsi_server *main; /* loop 0's; itself with one loop */
	struct prk_srv_multi *multi;   /* NULL: one loop, today's direct calls */
	unsigned idx;                  /* the loop's number */
	struct prk_iscsi_server_opts opts;
	struct prk_iscsi_target **targets;
	size_t n_targets;
	struct prk_portal *portals;
	struct prk_session *sessions;
	unsigned n_sessions;
	struct prk_conn *conns;
	struct prk_conn *dirty; /* connections with output queued in this batch */
	/* Tasks still in the LU whose connection is gone (task.c). */
	struct prk_task *orphans;
	uint16_t next_tsih;
	uint64_t next_serial;      /* sessions (main, under the session lock) */
	uint64_t next_conn_serial; /* connections (each loop its own) */
	struct prk_loop_fd *timer;
	/* Write buffers (task_mem.c): bytes allocated, bytes of them held by
	 * queued tasks (their unsolicited data), and the FIFO of tasks
	 * waiting for room. */
	size_t mem_used, mem_held_waiting;
	struct prk_task *mem_wait_head, *mem_wait_tail;
	/* Accepting (accept.c): connections in login, whether the portals
	 * are polled, and the back-off after accept() ran out of resources. */
	unsigned n_login;
	bool listening;
	bool at_login_cap;
	bool accept_backoff;
	unsigned accept_failures; /* in a row */
	/* Rate limit of the lines about both (accept.c). */
	uint64_t cap_log_ms, accept_log_ms;
	unsigned cap_log_suppressed, accept_log_suppressed;
	bool accept_logged; /* this episode's first failure was logged */
	struct prk_loop_fd *accept_timer;
	/* Several loops: this loop's request to loop 0 to cancel its tasks
	 * (prk_srv_cancel_later), posted once until loop 0 runs it. */
	struct prk_loop_msg cancel_msg;
	_Atomic bool cancel_posted;
};

/* loops.c: several event loops. */
/* Starts n-1 more loops with their threads; 0 or -1. */
int prk_srv_loops_start(struct prk_iscsi_server *s, unsigned n);
/* Closes every loop's connections, stops and joins the threads. */
void prk_srv_loops_stop(struct prk_iscsi_server *s);
/* Last, when the server goes. */
void prk_srv_loops_free(struct prk_iscsi_server *s);
unsigned prk_srv_n_shards(const struct prk_iscsi_server *s);
/* Is this thread loop 0's? (Always, with one loop.) */
bool prk_srv_on_main(const struct prk_iscsi_server *s);
struct prk_iscsi_server *prk_srv_shard(const struct prk_iscsi_server *s, unsigned i);
/* Loop 0 only: every other loop waits (in a message handler) until the
 * matching start, so that loop 0 may read and change their connections and
 * tasks; nests. No-ops with one loop. */
void prk_srv_world_stop(struct prk_iscsi_server *s);
void prk_srv_world_start(struct prk_iscsi_server *s);
/* A new connection from loop 0's accept, for some loop. */
void prk_srv_accept_spread(struct prk_portal *p, int fd, const char *peer);
/* A connection of s left login: loop 0 counts it (accept cap). */
void prk_srv_login_left(struct prk_iscsi_server *s);
/* The session table (shared; a mutex with several loops). */
void prk_srv_sess_lock(struct prk_iscsi_server *s);
void prk_srv_sess_unlock(struct prk_iscsi_server *s);
/* Session ss of another loop is reinstated: that loop closes it. */
void prk_srv_close_remote(struct prk_session *ss);
/* ss entered full feature phase / goes away: its nexus up / down on every
 * LU of its target, on loop 0, in that order. */
int prk_srv_rec_new(struct prk_session *ss);
void prk_srv_nexus_up(struct prk_session *ss);
void prk_srv_nexus_down(struct prk_session *ss);
void prk_srv_rec_put(struct prk_srv_rec *r);
/* A complete command goes to its LU, on loop 0 (t->conn's loop otherwise
 * hears back through t->msg). */
void prk_srv_submit(struct prk_task *t);
/* Loop s (not 0) has tasks owed a cancel (abort.c): loop 0 pauses the
 * loops and tells their LUs (prk_abort_cancel_owed on s). */
void prk_srv_cancel_later(struct prk_iscsi_server *s);
/* A TMF arriving on c: with several loops it runs on loop 0, world
 * stopped (abort.c walks every loop's tasks). */
void prk_srv_tmf(struct prk_conn *c, const uint8_t *bhs);
/* task.c: answer a task the LU completed, on its own loop. */
void prk_task_answer(struct prk_task *t);

/* server.c */
/* Timers and the after-batch hook of one loop's server; 0 or -1. */
int prk_srv_shard_init(struct prk_iscsi_server *s, struct prk_loop *loop);
struct prk_iscsi_target *prk_srv_find_target(struct prk_iscsi_server *s, const char *name);
struct prk_lu *prk_srv_find_lu(struct prk_iscsi_target *t, uint16_t lun);
void prk_srv_session_close(struct prk_session *sess);
uint64_t prk_now_ms(void);

/* accept.c */
void prk_srv_on_accept(void *portal, uint32_t events);
/* Polls the portals or not, by the login cap and the accept back-off. */
void prk_srv_listen_update(struct prk_iscsi_server *s);
void prk_srv_accept_resume(void *server);

/* conn.c */
void prk_conn_accept(struct prk_portal *p, int fd, const char *peer);
/* The connection on loop s (its own thread). */
int prk_conn_accept_on(struct prk_iscsi_server *s, struct prk_portal *p, int fd, const char *peer);
void prk_conn_close(struct prk_conn *c, const char *why);
/* Queues a PDU: bhs (48 bytes), data (dlen bytes, not copied: stays valid
 * until `owner` is freed after sending; owner may be NULL when data is
 * static or owned elsewhere). */
struct prk_tx *prk_conn_send(struct prk_conn *c, const uint8_t *bhs, const uint8_t *data,
                             size_t dlen, void *owner);
void prk_conn_fill_sn(struct prk_conn *c, struct prk_iscsi_sn *sn, bool advance_statsn);
void prk_conn_reject(struct prk_conn *c, const uint8_t *bhs, uint8_t reason);
/* One complete PDU, digests checked; data is borrowed (valid during the
 * call only): a handler copies what it keeps. */
void prk_conn_dispatch(struct prk_conn *c, const uint8_t *bhs, const uint8_t *data, size_t dlen);
/* Keeps c allocated across a call that may close it; release frees it if
 * it was closed meanwhile and returns true then. */
void prk_conn_hold(struct prk_conn *c);
bool prk_conn_release(struct prk_conn *c);

/* rx.c */
int prk_conn_rx_init(struct prk_conn *c);
void prk_conn_rx_free(struct prk_conn *c);
/* The socket is readable: receives and dispatches (c held by the caller). */
void prk_conn_rx(struct prk_conn *c);
/* Dispatches PDUs left in the buffer by flow control (c held). */
void prk_conn_rx_parse(struct prk_conn *c);
/* Writes the output queued on every connection during this batch of events
 * (the loop's after-batch hook). */
void prk_conns_flush(void *server);

/* task.c */
void prk_task_scsi_cmd(struct prk_conn *c, const uint8_t *bhs, const uint8_t *data, size_t dlen);
/* data may be t->buf + offset already (received in place, rx.c), or NULL
 * when it was dropped because its task went away while it arrived. */
void prk_task_data_out(struct prk_conn *c, const uint8_t *bhs, const uint8_t *data, size_t dlen);
/* The header of a Data-Out with a dlen-byte data segment is in: the task
 * whose buffer its data can be received into directly, at *offset, when
 * the PDU passes every check prk_task_data_out makes (in order, inside
 * its burst, within what is stored); NULL otherwise. */
struct prk_task *prk_task_place(struct prk_conn *c, const uint8_t *bhs, uint32_t dlen,
                                uint32_t *offset);
void prk_task_free(struct prk_task *t);
/* Ends t with TASK ABORTED status (TAS=1). */
void prk_task_send_aborted(struct prk_conn *c, struct prk_task *t);
/* A Data-Out PDU for a task arrived damaged (data digest): the task will
 * end with ABORTED COMMAND / asc. */
void prk_task_data_error(struct prk_conn *c, const uint8_t *bhs, uint16_t asc);
void prk_task_unlink(struct prk_conn *c, struct prk_task *t);
/* A task of c holds buffer memory, has had no write data for longer
 * than timeout_ms, and other tasks wait for memory: an initiator that
 * does not send what it was asked for starves everyone else. */
bool prk_tasks_stalled(const struct prk_conn *c, uint64_t now, unsigned timeout_ms);
/* The connection is going away: abandon its tasks. Those in the LU
 * become orphans on srv->orphans, still in reach of every abort, and are
 * freed when the LU completes them. */
void prk_tasks_orphan(struct prk_conn *c);
/* The server is going away before the LUs: its orphans forget it. */
void prk_tasks_orphans_detach(struct prk_iscsi_server *s);

/* Budget for write data buffers (task_mem.c). */
/* Grows t's buffer to n bytes (at most t->need) for data already on its
 * way (immediate and unsolicited): charged even past the budget, which
 * back-pressure on the CmdSN window bounds. 0, or -1 (out of memory). */
int prk_task_mem_unsolicited(struct prk_task *t, uint32_t n);
/* Grows t's buffer to t->need when the budget has room (or when nothing
 * else holds it: a command larger than the budget still runs, alone).
 * 0: ready; 1: queued, prk_task_buffer_ready() follows; -1: out of memory. */
int prk_task_mem_full(struct prk_task *t);
/* Reserves t->read_want bytes for the data-in of a command about to run:
 * 0 reserved, 1 queued (prk_task_buffer_ready() follows). */
int prk_task_mem_read(struct prk_task *t);
/* The LU produced len bytes of data-in: the reservation becomes exactly
 * that, and is handed over (returned) to whoever holds the data now. */
size_t prk_task_mem_take_read(struct prk_task *t, size_t len);
/* Gives back n bytes handed over by prk_task_mem_take_read. */
void prk_srv_mem_uncharge(struct prk_iscsi_server *s, size_t n);
/* Frees t's buffer and gives its bytes back; leaves the queue. */
void prk_task_mem_release(struct prk_task *t);
/* Gives queued tasks their buffers, in order, while there is room (after
 * each batch of events). */
void prk_task_mem_grant(struct prk_iscsi_server *s);
/* Is the budget exhausted (or are tasks queued for it)? Then MaxCmdSN
 * stops advancing. */
bool prk_task_mem_tight(const struct prk_iscsi_server *s);
/* task.c: a queued task got its buffer (ok) or the allocation failed. */
void prk_task_buffer_ready(struct prk_task *t, bool ok);

/* tmf.c */
void prk_tmf_request(struct prk_conn *c, const uint8_t *bhs);
/* A non-immediate command (cmdsn, itt) arrived: true when ABORT TASK
 * aborted it before it came, and it must be discarded without running. */
bool prk_tmf_aborted_ahead(struct prk_session *ss, uint32_t cmdsn, uint32_t itt);
/* Unsolicited Data-Out for itt found no task: true when it belongs to such
 * a discarded command (dropped quietly, not rejected). */
bool prk_tmf_aborted_ahead_data(const struct prk_session *ss, uint32_t itt);
/* A task the barrier tmf waits for has left the LU: the last one sends
 * the TMF response (or calls on_done). */
void prk_tmf_task_done(struct prk_tmf *tmf);

/* abort.c: which tasks an abort takes, and on whose behalf. Tasks of the
 * nexus `by` end silently; those of other nexuses get TAS semantics. */
struct prk_abort {
	const char *what;                 /* for the log: "CLEAR TASK SET", ... */
	const struct prk_nexus *by;       /* the I_T nexus that caused the abort */
	struct prk_task *task;            /* ABORT TASK: this task only */
	struct prk_lu *lu;                /* tasks for this LU; NULL: every LU of tgt */
	struct prk_iscsi_target *tgt;     /* with lu NULL: this target's sessions */
	bool own_only;                    /* ABORT TASK SET: tasks of `by` only */
	const struct prk_nexus_set *sets; /* PREEMPT AND ABORT: nexuses in these */
	size_t n_sets;
	const struct prk_lu_cmd *except; /* the PR OUT command itself */
};
/* Aborts every task in scope on every connection (SAM-5 5.6); tasks inside
 * the LU are added to barrier->waiting, also those an earlier abort waits
 * for already. Returns how many were aborted, or -1 when the links for
 * the latter could not be allocated (then nothing was aborted). Call it
 * once per barrier. */
int prk_abort_tasks(struct prk_iscsi_server *s, const struct prk_abort *a, struct prk_tmf *barrier);
/* Tells the LU of every aborted task inside it not yet told
 * (prk_lu_cancel), so that a long EXTENDED COPY stops instead of running
 * to its end. Called after the abort's walk: the LU may complete a task
 * at once, which frees it. */
void prk_abort_cancel_owed(struct prk_iscsi_server *s);
/* task.c calls this when t leaves the LU: every barrier waiting for it is
 * told (prk_tmf_task_done), oldest first. */
void prk_abort_task_left(struct prk_task *t);
/* task.c calls this when a task aborted without status has left the LU:
 * the initiator is told the CmdSN window it frees. */
void prk_abort_silent_left(struct prk_conn *c);

#endif
