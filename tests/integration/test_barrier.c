/* PREEMPT AND ABORT as an I/O barrier, over real iSCSI sessions.
 *
 * Two writers hammer one LU with versioned blocks: the victim V and the
 * reservation holder S (Write Exclusive - Registrants Only), each through
 * its own libiscsi context with up to QD asynchronous WRITE(16)s of one
 * block at random LBAs of a shared range. Each block carries (writer,
 * version); versions grow monotonically and the time each V version was
 * issued is recorded. At a random moment a third registered nexus P sends
 * PREEMPT AND ABORT of V's key (type WE-RO; S keeps its reservation).
 * prkitd must complete it only when none of V's commands can still reach
 * the medium. V keeps writing for a while after (getting UNIT ATTENTION,
 * RESERVATION CONFLICT, TASK ABORTED, or no answer at all). Each round:
 *   1. no V write issued after the PREEMPT AND ABORT completed may end with
 *      GOOD, and no block may carry a V version issued after it completed;
 *   2. on the file LU the test reads the backing file itself (O_DIRECT)
 *      the moment the PREEMPT AND ABORT completes: no V version may appear
 *      on the medium later. This is what catches a barrier that does not
 *      wait for the commands still in the backstore (checks through the
 *      target cannot: its range lock orders later I/O after them);
 *   3. V hears of the preemption once (2A/05); with TAS=0 the commands
 *      never answered are the aborted ones, announced by one 2F/00; with
 *      TAS=1 (set by MODE SELECT) every aborted command ends with TASK
 *      ABORTED and none stays unanswered;
 *   4. S rewrites every block of the range once (V still trying) and the
 *      range must then read back as exactly S's versions.
 * Rounds: PRKIT_BARRIER_ROUNDS per LU (50 by default), on a file LU
 * (O_DIRECT, io_uring: commands stay in the backstore for a while) and on
 * a RAM LU; V registers again between rounds. PRKIT_BARRIER_SEED repeats
 * a run. PREEMPT AND ABORT latency with I/O outstanding is printed, not
 * asserted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"
#include "harness_cmd.h"

#define INI_V "iqn.2026-11.io.prkit.test:victim"
#define INI_S "iqn.2026-11.io.prkit.test:survivor"
#define INI_P "iqn.2026-11.io.prkit.test:preemptor"

#define RANGE 256 /* blocks written at random */
#define QD 32
#define BS 512
#define MAGIC 0x50524b42u /* "PRKB" */
#define T_WE_RO SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY
#define KEY_S 0x5555ULL
#define KEY_P 0x7777ULL

#define ASCQ_REGISTRATIONS_PREEMPTED 0x2a05
#define ASCQ_COMMANDS_CLEARED 0x2f00

static struct h_daemon daemon_;
/* With several event loops (PRKIT_TEST_THREADS): P's loop, and the rounds
 * in which V's session was on another one. */
static int p_loop = -1;
static int v_other_loop;

static int setup(void **state)
{
	(void)state;
	/* LUN 0: a file with O_DIRECT; LUN 1: RAM. Two portals: V and P on
	 * portal 0, S on portal 1. */
	const char *cfg =
	    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}, "
	    "{\"address\": \"127.0.0.1\", \"port\": 0}], "
	    "\"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000, "
	    "\"targets\": [{\"name\": \"" H_TARGET "\", \"luns\": ["
	    "{\"lun\": 0, \"backstore\": {\"type\": \"file\", \"path\": \"@DIR@/lu0.img\", "
	    "\"size\": \"4M\", \"create\": true, \"direct\": true, \"queue_depth\": 64}}, "
	    "{\"lun\": 1, \"backstore\": {\"type\": \"ram\", \"size\": \"4M\"}}]}]}";
	return h_start(&daemon_, cfg);
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* ---- versioned blocks ---- */

enum { W_V = 1, W_S = 2 };

struct blk_hdr {
	uint32_t magic, writer, lun, pad;
	uint64_t version, lba;
};

static uint8_t pattern(uint64_t version, uint32_t writer, size_t i)
{
	return (uint8_t)(version * 131 + writer * 17 + i);
}

static void fill_block(uint8_t *b, uint32_t writer, int lun, uint64_t version, uint64_t lba)
{
	struct blk_hdr h = {
	    .magic = MAGIC, .writer = writer, .lun = (uint32_t)lun, .version = version, .lba = lba};
	memcpy(b, &h, sizeof(h));
	for (size_t i = sizeof(h); i < BS; i++)
		b[i] = pattern(version, writer, i);
}

/* Decodes a block read back: writer 0 for a block never written; fails on
 * anything torn or foreign. */
static struct blk_hdr parse_block(const uint8_t *b, int lun, uint64_t lba)
{
	struct blk_hdr h;
	memcpy(&h, b, sizeof(h));
	if (h.magic == 0) {
		for (size_t i = 0; i < BS; i++)
			assert_int_equal(b[i], 0);
		return h;
	}
	assert_int_equal(h.magic, MAGIC);
	assert_true(h.writer == W_V || h.writer == W_S);
	assert_int_equal(h.lun, lun);
	assert_int_equal(h.lba, lba);
	for (size_t i = sizeof(h); i < BS; i++)
		if (b[i] != pattern(h.version, h.writer, i))
			fail_msg("LBA %llu: torn block (writer %u version %llu, byte %zu)",
			         (unsigned long long)lba, h.writer, (unsigned long long)h.version,
			         i);
	return h;
}

/* ---- writers ---- */

struct writer {
	uint32_t id;
	struct iscsi_context *ctx;
	uint64_t next_version; /* grows over the whole test */
	int inflight;          /* outstanding writes */
	int inflight_post;     /* V: those issued after the preemption completed */
	bool active;           /* issue random writes while there is room */
};

struct wr {
	struct writer *w;
	struct scsi_task *task;
	uint64_t version, lba, t_issue;
	bool post;  /* issued after the PREEMPT AND ABORT completed */
	bool sweep; /* S's rewrite of the whole range */
	uint8_t buf[BS];
};

/* What one LU's rounds saw. */
struct stats {
	int lun;
	bool tas;
	uint64_t *lat_ns;
	int n_lat;
	long v_good, v_good_late, v_ua_2a05, v_ua_2f00, v_conflict, v_aborted, v_silent;
	long v_outstanding_at_pa, v_window_on_disk, s_writes;
	uint64_t s_max_ns; /* S's slowest write: the backstore's own stalls */
};

/* State of the round under way. */
static struct {
	int lun;
	struct writer v, s;
	struct iscsi_context *p;
	uint64_t *v_issue; /* issue time of each V version */
	size_t v_issue_cap;
	bool pa_sent, pa_done;
	int pa_status;
	uint64_t t_pa_sent, t_pa_done;
	uint64_t v_max_before_pa; /* highest V version issued before the PA was sent */
	uint64_t sweep_version[RANGE];
	int sweep_left;
	long violations;
	char violation[256];
	long ua_2a05, ua_2f00, aborted; /* V's, this round */
	uint64_t s_max_ns;              /* S's slowest write, this round */
	/* The file LU's backing file, read (O_DIRECT) the moment the PREEMPT
	 * AND ABORT completes: what was on the medium then. */
	int snap_fd;
	uint8_t *snap;
	bool snapped;
	struct stats *st;
} R;

static void note_violation(const char *fmt, ...)
{
	va_list ap;
	if (R.violations++ == 0) {
		va_start(ap, fmt);
		vsnprintf(R.violation, sizeof(R.violation), fmt, ap);
		va_end(ap);
	}
}

/* Set while V's leftover commands are cancelled at the end of a round. */
static bool tearing_down;

static void write_cb(struct iscsi_context *iscsi, int status, void *command_data,
                     void *private_data)
{
	(void)iscsi;
	(void)command_data;
	struct wr *x = private_data;
	struct writer *w = x->w;
	struct scsi_task *t = x->task;
	w->inflight--;
	if (x->post)
		w->inflight_post--;
	if (w->id == W_S) {
		if (status != SCSI_STATUS_GOOD)
			fail_msg("S's write of LBA %llu: status 0x%02x sense %x/%04x",
			         (unsigned long long)x->lba, status, t->sense.key, t->sense.ascq);
		R.st->s_writes++;
		uint64_t took = now_ns() - x->t_issue;
		if (took > R.s_max_ns)
			R.s_max_ns = took;
		if (x->sweep)
			R.sweep_left--;
	} else if (status == SCSI_STATUS_GOOD) {
		R.st->v_good++;
		if (R.pa_done && x->t_issue > R.t_pa_done)
			note_violation(
			    "V's write version %llu, issued %.3f ms after the PREEMPT AND "
			    "ABORT completed, completed with GOOD",
			    (unsigned long long)x->version,
			    (double)(x->t_issue - R.t_pa_done) / 1e6);
		else if (R.pa_sent)
			R.st->v_good_late++;
	} else if (status == SCSI_STATUS_CHECK_CONDITION &&
	           t->sense.key == SCSI_SENSE_UNIT_ATTENTION &&
	           (t->sense.ascq == ASCQ_REGISTRATIONS_PREEMPTED ||
	            t->sense.ascq == ASCQ_COMMANDS_CLEARED) &&
	           R.pa_sent) {
		if (t->sense.ascq == ASCQ_REGISTRATIONS_PREEMPTED)
			R.ua_2a05++;
		else
			R.ua_2f00++;
	} else if (status == SCSI_STATUS_RESERVATION_CONFLICT && R.pa_sent) {
		R.st->v_conflict++;
	} else if (status == SCSI_STATUS_TASK_ABORTED && R.pa_sent && !x->post) {
		R.aborted++;
	} else if (status == SCSI_STATUS_CANCELLED && (!x->post || tearing_down)) {
		/* never answered: cancelled by libiscsi when V logs out */
	} else {
		fail_msg("V's write version %llu (%s the preemption): status 0x%02x sense %x/%04x",
		         (unsigned long long)x->version, x->post ? "after" : "before", status,
		         t ? t->sense.key : 0, t ? t->sense.ascq : 0);
	}
	scsi_free_scsi_task(t);
	free(x);
}

static void issue(struct writer *w, uint64_t lba, bool sweep)
{
	struct wr *x = calloc(1, sizeof(*x));
	assert_non_null(x);
	x->w = w;
	x->version = w->next_version++;
	x->lba = lba;
	x->sweep = sweep;
	x->post = R.pa_done;
	fill_block(x->buf, w->id, R.lun, x->version, lba);
	x->t_issue = now_ns();
	if (w->id == W_V) {
		if (x->version >= R.v_issue_cap) {
			size_t cap = R.v_issue_cap ? R.v_issue_cap * 2 : 65536;
			while (cap <= x->version)
				cap *= 2;
			R.v_issue = realloc(R.v_issue, cap * sizeof(*R.v_issue));
			assert_non_null(R.v_issue);
			R.v_issue_cap = cap;
		}
		R.v_issue[x->version] = x->t_issue;
	}
	x->task =
	    iscsi_write16_task(w->ctx, R.lun, lba, x->buf, BS, BS, 0, 0, 0, 0, 0, write_cb, x);
	assert_non_null(x->task);
	w->inflight++;
	if (x->post)
		w->inflight_post++;
}

/* Random writes while a writer is active and has room (V's commands that
 * were outstanding at the preemption may never be answered: after it, only
 * V's later commands count). */
static void refill(struct writer *w)
{
	if (!w->active || !w->ctx)
		return;
	for (;;) {
		int n = w->id == W_V && R.pa_done ? w->inflight_post : w->inflight;
		if (n >= QD)
			break;
		issue(w, (uint64_t)(rand() % RANGE), false);
	}
}

static void pa_cb(struct iscsi_context *iscsi, int status, void *command_data, void *private_data)
{
	(void)iscsi;
	(void)private_data;
	R.t_pa_done = now_ns();
	R.pa_done = true;
	R.pa_status = status;
	if (command_data)
		scsi_free_scsi_task(command_data);
	if (R.snap_fd >= 0) {
		assert_int_equal(pread(R.snap_fd, R.snap, RANGE * BS, 0), RANGE * BS);
		R.snapped = true;
	}
}

/* Services V, S and P once (waiting at most 1 ms). */
static void service(void)
{
	struct iscsi_context *ctx[3] = {R.v.ctx, R.s.ctx, R.p};
	struct pollfd pfd[3];
	int map[3], n = 0;
	for (int i = 0; i < 3; i++) {
		if (!ctx[i])
			continue;
		pfd[n] = (struct pollfd){.fd = iscsi_get_fd(ctx[i]),
		                         .events = (short)iscsi_which_events(ctx[i])};
		map[n++] = i;
	}
	int r = poll(pfd, (nfds_t)n, 1);
	assert_true(r >= 0);
	for (int i = 0; i < n && r > 0; i++)
		if (pfd[i].revents && iscsi_service(ctx[map[i]], pfd[i].revents) < 0)
			fail_msg("iscsi_service: %s", iscsi_get_error(ctx[map[i]]));
}

/* Runs the loop until done() holds (at most 20 s). */
static void run_until(bool (*done)(void), uint64_t until_ns)
{
	uint64_t limit = now_ns() + 20000000000ULL;
	for (;;) {
		refill(&R.v);
		refill(&R.s);
		if (done ? done() : now_ns() >= until_ns)
			return;
		if (now_ns() > limit)
			fail_msg("round stuck: V %d outstanding (%d after the preemption), S %d, "
			         "preemption %s",
			         R.v.inflight, R.v.inflight_post, R.s.inflight,
			         R.pa_done ? "done" : "pending");
		service();
	}
}

static bool pa_done(void)
{
	return R.pa_done;
}

static bool drained(void)
{
	return R.s.inflight == 0 && R.v.inflight_post == 0;
}

static bool sweep_done(void)
{
	return R.sweep_left == 0;
}

/* ---- sync helpers (no async I/O outstanding on that context) ---- */

static void read_range(struct iscsi_context *iscsi, int lun, struct blk_hdr *out)
{
	struct scsi_task *t = iscsi_read16_sync(iscsi, lun, 0, RANGE * BS, BS, 0, 0, 0, 0, 0);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	assert_int_equal(t->datain.size, RANGE * BS);
	for (int b = 0; b < RANGE; b++)
		out[b] = parse_block(t->datain.data + (size_t)b * BS, lun, (uint64_t)b);
	scsi_free_scsi_task(t);
}

/* MODE SELECT(6) of the control page with TAS=1 (the other fields as
 * they are: D_SENSE 0, QUEUE ALGORITHM MODIFIER 1h, SWP 0). */
static void set_tas(struct iscsi_context *iscsi, int lun)
{
	uint8_t list[16] = {0, 0, 0, 0, 0x0a, 0x0a, 0x00, 0x10, 0x00, 0x40};
	uint8_t cdb[6] = {0x15, 0x10, 0, 0, sizeof(list), 0};
	struct scsi_task *t = scsi_create_task(6, cdb, SCSI_XFER_WRITE, sizeof(list));
	assert_non_null(t);
	struct iscsi_data d = {.size = sizeof(list), .data = list};
	assert_non_null(iscsi_scsi_command_sync(iscsi, lun, t, &d));
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	scsi_free_scsi_task(t);
	t = iscsi_modesense6_sync(iscsi, lun, 1, SCSI_MODESENSE_PC_CURRENT, SCSI_MODEPAGE_CONTROL,
	                          0, 255);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	assert_true(t->datain.size >= 4 + 12);
	assert_int_equal(t->datain.data[4 + 5] & 0x40, 0x40);
	scsi_free_scsi_task(t);
}

/* ---- one round ---- */

static void round_(struct stats *st, int round)
{
	const int lun = st->lun;
	const uint64_t key_v = 0x5600000000ULL + (uint64_t)round;
	R.lun = lun;
	R.st = st;
	R.pa_sent = R.pa_done = R.snapped = false;
	R.violations = 0;
	R.ua_2a05 = R.ua_2f00 = R.aborted = 0;
	R.s_max_ns = 0;
	R.v.ctx = h_login_raw_clear(&daemon_, 0, INI_V, 0x56, 2);
	R.v.inflight = R.v.inflight_post = 0;
	if (p_loop >= 0 && h_session_loop(&daemon_, INI_V) != p_loop)
		v_other_loop++;
	assert_int_equal(h_prout_past_ua(R.v.ctx, lun,
	                                 SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
	                                 0, 0, key_v),
	                 SCSI_STATUS_GOOD);

	/* Both write; P preempts V at a random moment 2..30 ms in. */
	R.v.active = R.s.active = true;
	uint64_t t0 = now_ns();
	run_until(NULL, t0 + (uint64_t)(2 + rand() % 29) * 1000000);
	struct scsi_persistent_reserve_out_basic pa = {.reservation_key = KEY_P,
	                                               .service_action_reservation_key = key_v};
	R.v_max_before_pa = R.v.next_version - 1;
	st->v_outstanding_at_pa += R.v.inflight;
	R.t_pa_sent = now_ns();
	R.pa_sent = true;
	assert_non_null(iscsi_persistent_reserve_out_task(
	    R.p, lun, SCSI_PERSISTENT_RESERVE_PREEMPT_AND_ABORT, 0, T_WE_RO, &pa, pa_cb, NULL));
	run_until(pa_done, 0);
	assert_int_equal(R.pa_status, SCSI_STATUS_GOOD);
	uint64_t lat = R.t_pa_done - R.t_pa_sent;
	st->lat_ns[st->n_lat++] = lat;
	if (lat > 100000000) /* information: is the backstore slow too? */
		print_message("# LUN %d round %d: PREEMPT AND ABORT took %.1f ms; S's slowest "
		              "write so far this round: %.1f ms\n",
		              lun, round, (double)lat / 1e6, (double)R.s_max_ns / 1e6);

	/* V keeps trying for 30 ms, then both stop and drain. V's commands
	 * issued after the preemption must all be answered. */
	run_until(NULL, now_ns() + 30000000);
	R.v.active = R.s.active = false;
	run_until(drained, 0);
	/* V's commands outstanding at the preemption that were never
	 * answered: with TAS=0 the aborted ones, reported by one 2F/00
	 * COMMANDS CLEARED BY ANOTHER INITIATOR; with TAS=1 none (they end
	 * with TASK ABORTED). V hears of its lost registration once. */
	int silent = R.v.inflight;
	assert_int_equal(R.ua_2a05, 1);
	if (st->tas) {
		assert_int_equal(silent, 0);
		assert_int_equal(R.ua_2f00, 0);
	} else {
		assert_int_equal(R.aborted, 0);
		assert_int_equal(R.ua_2f00, silent > 0 ? 1 : 0);
	}
	st->v_silent += silent;
	st->v_ua_2a05 += R.ua_2a05;
	st->v_ua_2f00 += R.ua_2f00;
	st->v_aborted += R.aborted;
	if (R.s_max_ns > st->s_max_ns)
		st->s_max_ns = R.s_max_ns;

	/* Check 1: V's versions on the medium were issued before the
	 * preemption completed. */
	struct blk_hdr blk[RANGE];
	read_range(R.s.ctx, lun, blk);
	for (int b = 0; b < RANGE; b++) {
		if (blk[b].writer != W_V)
			continue;
		assert_true(blk[b].version < R.v.next_version);
		uint64_t t = R.v_issue[blk[b].version];
		if (t > R.t_pa_done)
			note_violation("LBA %d holds V's version %llu, issued %.3f ms after the "
			               "PREEMPT AND ABORT completed",
			               b, (unsigned long long)blk[b].version,
			               (double)(t - R.t_pa_done) / 1e6);
		if (blk[b].version > R.v_max_before_pa)
			st->v_window_on_disk++; /* issued while the PA was under way */
		/* Each version is written once, to one LBA: if it was not on
		 * the medium when the PA completed, it landed afterwards. */
		struct blk_hdr then;
		memcpy(&then, R.snap + (size_t)b * BS, sizeof(then));
		if (R.snapped && (then.writer != W_V || then.version != blk[b].version))
			note_violation(
			    "LBA %d holds V's version %llu, which was not on the medium "
			    "when the PREEMPT AND ABORT completed (then: writer %u version "
			    "%llu)",
			    b, (unsigned long long)blk[b].version, then.writer,
			    (unsigned long long)then.version);
	}
	/* The preemption took V's key only. */
	struct scsi_task *t =
	    iscsi_persistent_reserve_in_sync(R.p, lun, SCSI_PERSISTENT_RESERVE_READ_KEYS, 256);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	struct scsi_persistent_reserve_in_read_keys *rk = scsi_datain_unmarshall(t);
	assert_non_null(rk);
	assert_int_equal(rk->num_keys, 2);
	assert_true(rk->keys[0] != key_v && rk->keys[1] != key_v);
	scsi_free_scsi_task(t);

	/* Check 2: S rewrites the range while V keeps trying; the range then
	 * holds exactly S's new versions. */
	R.v.active = true;
	R.sweep_left = RANGE;
	for (int b = 0; b < RANGE;) {
		refill(&R.v);
		while (b < RANGE && R.s.inflight < QD) {
			R.sweep_version[b] = R.s.next_version;
			issue(&R.s, (uint64_t)b++, true);
		}
		service();
	}
	run_until(sweep_done, 0);
	R.v.active = false;
	run_until(drained, 0);
	read_range(R.s.ctx, lun, blk);
	for (int b = 0; b < RANGE; b++)
		if (blk[b].writer != W_S || blk[b].version != R.sweep_version[b])
			note_violation("after S rewrote the range, LBA %d holds %s version %llu "
			               "(S wrote %llu)",
			               b, blk[b].writer == W_V ? "V's" : "another",
			               (unsigned long long)blk[b].version,
			               (unsigned long long)R.sweep_version[b]);
	if (R.violations)
		fail_msg("LUN %d round %d: %ld barrier violations; first: %s", lun, round,
		         R.violations, R.violation);

	/* V logs out. What was never answered is cancelled first, so that the
	 * callbacks run and free their bookkeeping (destroying the context
	 * alone drops the tasks without calling back: a leak under ASan). */
	tearing_down = true;
	iscsi_scsi_cancel_all_tasks(R.v.ctx);
	tearing_down = false;
	h_logout(R.v.ctx);
	R.v.ctx = NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void run_lun(int lun, bool tas)
{
	int rounds = 50;
	const char *e = getenv("PRKIT_BARRIER_ROUNDS");
	if (e && atoi(e) > 0)
		rounds = atoi(e);
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)lun;
	e = getenv("PRKIT_BARRIER_SEED");
	if (e)
		seed = (unsigned)strtoul(e, NULL, 0) ^ (unsigned)lun;
	srand(seed);

	/* Versions keep growing from run to run: the range may still hold
	 * blocks of an earlier run on the same LU. */
	if (!R.v.id) {
		R.v = (struct writer){.id = W_V, .next_version = 1};
		R.s = (struct writer){.id = W_S, .next_version = 1};
	}
	R.s.ctx = h_login_raw_clear(&daemon_, 1, INI_S, 0x55, 2);
	if (tas)
		set_tas(R.s.ctx, lun);
	R.p = h_login_raw_clear(&daemon_, 0, INI_P, 0x77, 2);
	const char *threads = getenv("PRKIT_TEST_THREADS");
	p_loop = threads && atoi(threads) > 1 ? h_session_loop(&daemon_, INI_P) : -1;
	v_other_loop = 0;
	assert_int_equal(h_prout_past_ua(R.s.ctx, lun,
	                                 SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
	                                 0, 0, KEY_S),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(h_prout_past_ua(R.p, lun,
	                                 SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
	                                 0, 0, KEY_P),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(
	    h_prout_past_ua(R.s.ctx, lun, SCSI_PERSISTENT_RESERVE_RESERVE, T_WE_RO, KEY_S, 0),
	    SCSI_STATUS_GOOD);

	R.snap_fd = -1;
	if (lun == 0) {
		char path[400];
		snprintf(path, sizeof(path), "%s/lu0.img", daemon_.dir);
		R.snap_fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
		assert_true(R.snap_fd >= 0);
	}
	if (!R.snap)
		assert_int_equal(posix_memalign((void **)&R.snap, 4096, RANGE * BS), 0);
	struct stats st = {
	    .lun = lun, .tas = tas, .lat_ns = calloc((size_t)rounds, sizeof(uint64_t))};
	assert_non_null(st.lat_ns);
	uint64_t t0 = now_ns();
	uint64_t fast0 = 0, slow0 = 0, fast1 = 0, slow1 = 0;
	if (p_loop >= 0)
		h_lu_rw_counts(&daemon_, lun, &fast0, &slow0);
	for (int r = 0; r < rounds; r++)
		round_(&st, r);
	if (p_loop >= 0)
		h_lu_rw_counts(&daemon_, lun, &fast1, &slow1);
	qsort(st.lat_ns, (size_t)st.n_lat, sizeof(uint64_t), cmp_u64);
	size_t p99 = ((size_t)st.n_lat * 99 + 99) / 100 - 1;
	print_message("# LUN %d (%s, TAS=%d): %d rounds in %.1f s, seed %u, no barrier violation\n",
	              lun, lun ? "RAM" : "file, O_DIRECT", tas, rounds,
	              (double)(now_ns() - t0) / 1e9, seed);
	print_message("# PREEMPT AND ABORT latency with I/O outstanding (avg %.1f V writes): "
	              "median %.3f ms, p99 %.3f ms, max %.3f ms\n",
	              (double)st.v_outstanding_at_pa / rounds,
	              (double)st.lat_ns[st.n_lat / 2] / 1e6, (double)st.lat_ns[p99] / 1e6,
	              (double)st.lat_ns[st.n_lat - 1] / 1e6);
	print_message("# V: %ld GOOD (%ld after the PA was sent, issued before it completed), "
	              "%ld UA 2A/05, %ld UA 2F/00, %ld RESERVATION CONFLICT, %ld TASK ABORTED, "
	              "%ld never answered; V versions from the PA window on the medium: %ld; "
	              "S: %ld writes, slowest %.1f ms\n",
	              st.v_good, st.v_good_late, st.v_ua_2a05, st.v_ua_2f00, st.v_conflict,
	              st.v_aborted, st.v_silent, st.v_window_on_disk, st.s_writes,
	              (double)st.s_max_ns / 1e6);
	assert_int_equal(st.v_ua_2a05, rounds);
	assert_true(st.v_conflict > 0);
	if (p_loop >= 0) {
		/* The barrier crossed loops: V preempted from another loop. */
		print_message("# several loops: V on another loop than P in %d of %d rounds\n",
		              v_other_loop, rounds);
		assert_true(v_other_loop > 0);
		/* ...and the writes it fenced ran on their own loops (the
		 * fast path, src/lu/lu_fast.c), not through loop 0. */
		print_message("# READ/WRITE on the fast path %llu, through loop 0 %llu\n",
		              (unsigned long long)(fast1 - fast0),
		              (unsigned long long)(slow1 - slow0));
		assert_true(fast1 - fast0 > 0);
	}
	free(st.lat_ns);
	if (R.snap_fd >= 0)
		close(R.snap_fd);
	R.snap_fd = -1;
	h_logout(R.s.ctx);
	h_logout(R.p);
	R.s.ctx = R.p = NULL;
}

static void test_barrier_file_lu(void **state)
{
	(void)state;
	run_lun(0, false);
}

static void test_barrier_ram_lu(void **state)
{
	(void)state;
	run_lun(1, false);
}

/* TAS=1: V's aborted commands end with TASK ABORTED instead of silence. */
static void test_barrier_file_lu_tas(void **state)
{
	(void)state;
	run_lun(0, true);
}

static int group_teardown(void **state)
{
	free(R.v_issue);
	free(R.snap);
	return teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_barrier_file_lu),
	    cmocka_unit_test(test_barrier_ram_lu),
	    cmocka_unit_test(test_barrier_file_lu_tas),
	};
	return cmocka_run_group_tests(tests, setup, group_teardown);
}
