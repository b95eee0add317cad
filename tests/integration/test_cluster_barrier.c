/* PREEMPT AND ABORT as a cluster-wide I/O barrier (the single-node version
 * is test_barrier.c; this one spans three nodes, cluster_harness.h).
 *
 * P (through node 1) holds a Write Exclusive - Registrants Only
 * reservation. Two victims share one key: V2 writes through node 2, V3
 * through node 3, each with up to QD asynchronous WRITE(16)s of versioned
 * blocks (writer, version: one version counter for both, the issue time of
 * every version recorded) at random LBAs of a shared range. At a random
 * moment P sends PREEMPT AND ABORT of the victims' key. GOOD may come back
 * only when no victim command, on any node, can still reach the medium.
 * The moment it completes the test reads the range from the shared backing
 * FILE itself (O_DIRECT: every node opens it with O_DIRECT too, so there
 * is no page cache between them). The victims keep writing for a while;
 * then, per round:
 *   1. no victim write issued after the completion ends with GOOD;
 *   2. the file holds no victim version issued after the completion, and
 *      no victim block that was not there at the completion (each version
 *      is written once, to one LBA: a difference landed afterwards);
 *   3. each victim nexus reports REGISTRATIONS PREEMPTED (2A/05) exactly
 *      once, and only P's key is left.
 * PRKIT_CL_BARRIER_ROUNDS rounds (25 by default; at least 20 in CI),
 * PRKIT_CL_BARRIER_SEED repeats a run. The PREEMPT AND ABORT latency with
 * I/O outstanding on two other nodes is printed, not asserted. */
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

#include "cluster_harness.h"
#include "harness.h"
#include "harness_cmd.h"

#define INI_P "iqn.2026-11.io.prkit.test:cl-preemptor"
#define INI_V2 "iqn.2026-11.io.prkit.test:cl-victim2"
#define INI_V3 "iqn.2026-11.io.prkit.test:cl-victim3"

#define RANGE 256
#define QD 16
#define BS 512
#define MAGIC 0x50524b43u /* "PRKC" */
#define T_WE_RO SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY
#define KEY_P 0x7777ULL

#define ASCQ_REGISTRATIONS_PREEMPTED 0x2a05
#define ASCQ_COMMANDS_CLEARED 0x2f00

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

struct blk_hdr {
	uint32_t magic, writer, pad0, pad1;
	uint64_t version, lba;
};

static uint8_t pattern(uint64_t version, uint32_t writer, size_t i)
{
	return (uint8_t)(version * 131 + writer * 17 + i);
}

static void fill_block(uint8_t *b, uint32_t writer, uint64_t version, uint64_t lba)
{
	struct blk_hdr h = {.magic = MAGIC, .writer = writer, .version = version, .lba = lba};
	memcpy(b, &h, sizeof(h));
	for (size_t i = sizeof(h); i < BS; i++)
		b[i] = pattern(version, writer, i);
}

/* A block of the file: writer 0 when never written; fails on anything
 * torn or foreign. */
static struct blk_hdr parse_block(const uint8_t *b, uint64_t lba)
{
	struct blk_hdr h;
	memcpy(&h, b, sizeof(h));
	if (h.magic == 0) {
		for (size_t i = 0; i < BS; i++)
			assert_int_equal(b[i], 0);
		return h;
	}
	assert_int_equal(h.magic, MAGIC);
	assert_true(h.writer == 2 || h.writer == 3);
	assert_int_equal(h.lba, lba);
	for (size_t i = sizeof(h); i < BS; i++)
		if (b[i] != pattern(h.version, h.writer, i))
			fail_msg("LBA %llu: torn block (writer %u version %llu, byte %zu)",
			         (unsigned long long)lba, h.writer, (unsigned long long)h.version,
			         i);
	return h;
}

struct writer {
	uint32_t id; /* the node it writes through: 2 or 3 */
	struct iscsi_context *ctx;
	int inflight, inflight_post;
	bool active;
	long ua_2a05, ua_2f00; /* this round */
};

struct wr {
	struct writer *w;
	struct scsi_task *task;
	uint64_t version, lba, t_issue;
	bool post; /* issued after the PREEMPT AND ABORT completed */
	uint8_t buf[BS];
};

static struct {
	struct writer v[2];
	struct iscsi_context *p;
	uint64_t next_version; /* both victims, over the whole test */
	uint64_t *issued;      /* issue time of each version */
	size_t issued_cap;
	bool pa_sent, pa_done, snapped;
	int pa_status;
	uint64_t t_pa_done;
	int fd; /* the backing file, O_DIRECT */
	uint8_t *snap, *after;
	long violations;
	char violation[256];
	bool tearing_down;
	/* over all rounds */
	long good, good_late, conflict, aborted, silent;
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
	if (status == SCSI_STATUS_GOOD) {
		R.good++;
		if (R.pa_done && x->t_issue > R.t_pa_done)
			note_violation("V%u's write version %llu, issued %.3f ms after the PREEMPT "
			               "AND ABORT completed, completed with GOOD",
			               w->id, (unsigned long long)x->version,
			               (double)(x->t_issue - R.t_pa_done) / 1e6);
		else if (R.pa_sent)
			R.good_late++;
	} else if (status == SCSI_STATUS_CHECK_CONDITION && R.pa_sent &&
	           t->sense.key == SCSI_SENSE_UNIT_ATTENTION &&
	           t->sense.ascq == ASCQ_REGISTRATIONS_PREEMPTED) {
		w->ua_2a05++;
	} else if (status == SCSI_STATUS_CHECK_CONDITION && R.pa_sent &&
	           t->sense.key == SCSI_SENSE_UNIT_ATTENTION &&
	           t->sense.ascq == ASCQ_COMMANDS_CLEARED) {
		w->ua_2f00++;
	} else if (status == SCSI_STATUS_RESERVATION_CONFLICT && R.pa_sent) {
		R.conflict++;
	} else if (status == SCSI_STATUS_TASK_ABORTED && R.pa_sent && !x->post) {
		R.aborted++;
	} else if (status == SCSI_STATUS_CANCELLED && (!x->post || R.tearing_down)) {
		/* never answered: cancelled by libiscsi at the victim's logout */
	} else {
		fail_msg("V%u's write version %llu (%s the preemption): status 0x%02x sense "
		         "%x/%04x",
		         w->id, (unsigned long long)x->version, x->post ? "after" : "before",
		         status, t ? t->sense.key : 0, t ? t->sense.ascq : 0);
	}
	scsi_free_scsi_task(t);
	free(x);
}

static void issue(struct writer *w)
{
	struct wr *x = calloc(1, sizeof(*x));
	assert_non_null(x);
	x->w = w;
	x->version = R.next_version++;
	x->lba = (uint64_t)(rand() % RANGE);
	x->post = R.pa_done;
	if (x->version >= R.issued_cap) {
		size_t cap = R.issued_cap ? R.issued_cap * 2 : 65536;
		while (cap <= x->version)
			cap *= 2;
		R.issued = realloc(R.issued, cap * sizeof(*R.issued));
		assert_non_null(R.issued);
		R.issued_cap = cap;
	}
	fill_block(x->buf, w->id, x->version, x->lba);
	x->t_issue = now_ns();
	R.issued[x->version] = x->t_issue;
	x->task = iscsi_write16_task(w->ctx, 0, x->lba, x->buf, BS, BS, 0, 0, 0, 0, 0, write_cb, x);
	assert_non_null(x->task);
	w->inflight++;
	if (x->post)
		w->inflight_post++;
}

/* Commands outstanding at the preemption may never be answered (aborted
 * with TAS=0): after it, only the later ones count against QD. */
static void refill(struct writer *w)
{
	while (w->active && (R.pa_done ? w->inflight_post : w->inflight) < QD)
		issue(w);
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
	/* What is on the medium the moment the barrier completed. */
	assert_int_equal(pread(R.fd, R.snap, RANGE * BS, 0), RANGE * BS);
	R.snapped = true;
}

static void service(void)
{
	struct iscsi_context *ctx[3] = {R.v[0].ctx, R.v[1].ctx, R.p};
	struct pollfd pfd[3];
	for (int i = 0; i < 3; i++)
		pfd[i] = (struct pollfd){.fd = iscsi_get_fd(ctx[i]),
		                         .events = (short)iscsi_which_events(ctx[i])};
	int r = poll(pfd, 3, 1);
	assert_true(r >= 0);
	for (int i = 0; i < 3 && r > 0; i++)
		if (pfd[i].revents && iscsi_service(ctx[i], pfd[i].revents) < 0)
			fail_msg("iscsi_service: %s", iscsi_get_error(ctx[i]));
}

/* Runs the loop until done() holds, or until until_ns (at most 20 s). */
static void run_until(bool (*done)(void), uint64_t until_ns)
{
	uint64_t limit = now_ns() + 20000000000ULL;
	for (;;) {
		refill(&R.v[0]);
		refill(&R.v[1]);
		if (done ? done() : now_ns() >= until_ns)
			return;
		if (now_ns() > limit)
			fail_msg("round stuck: V2 %d outstanding (%d after the preemption), V3 %d "
			         "(%d), preemption %s",
			         R.v[0].inflight, R.v[0].inflight_post, R.v[1].inflight,
			         R.v[1].inflight_post, R.pa_done ? "done" : "pending");
		service();
	}
}

static bool pa_done(void)
{
	return R.pa_done;
}

static bool drained(void)
{
	return R.v[0].inflight_post == 0 && R.v[1].inflight_post == 0;
}

static void round_(int round, uint64_t *lat_ns)
{
	const uint64_t key_v = 0x5600000000ULL + (uint64_t)round;
	R.pa_sent = R.pa_done = R.snapped = false;
	R.violations = 0;
	for (int k = 0; k < 2; k++) {
		struct writer *w = &R.v[k];
		w->ctx = cl_login(w->id, w->id == 2 ? INI_V2 : INI_V3, 0x56);
		assert_non_null(w->ctx);
		assert_int_equal(h_clear_ua(w->ctx, 0), SCSI_STATUS_GOOD);
		w->inflight = w->inflight_post = 0;
		w->ua_2a05 = w->ua_2f00 = 0;
		assert_int_equal(
		    h_prout_past_ua(w->ctx, 0,
		                    SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0,
		                    key_v),
		    SCSI_STATUS_GOOD);
		w->active = true;
	}

	/* Both write; P preempts at a random moment 2..30 ms in. */
	run_until(NULL, now_ns() + (uint64_t)(2 + rand() % 29) * 1000000);
	struct scsi_persistent_reserve_out_basic pa = {.reservation_key = KEY_P,
	                                               .service_action_reservation_key = key_v};
	uint64_t t_sent = now_ns();
	R.pa_sent = true;
	assert_non_null(iscsi_persistent_reserve_out_task(
	    R.p, 0, SCSI_PERSISTENT_RESERVE_PREEMPT_AND_ABORT, 0, T_WE_RO, &pa, pa_cb, NULL));
	run_until(pa_done, 0);
	assert_int_equal(R.pa_status, SCSI_STATUS_GOOD);
	lat_ns[round] = R.t_pa_done - t_sent;

	/* The victims keep trying for 30 ms; what they issue after the
	 * completion must all be answered. */
	run_until(NULL, now_ns() + 30000000);
	R.v[0].active = R.v[1].active = false;
	run_until(drained, 0);

	/* Checks 1 (in write_cb) and 2: the medium. */
	assert_int_equal(pread(R.fd, R.after, RANGE * BS, 0), RANGE * BS);
	assert_true(R.snapped);
	for (int b = 0; b < RANGE; b++) {
		struct blk_hdr now = parse_block(R.after + (size_t)b * BS, (uint64_t)b);
		struct blk_hdr then = parse_block(R.snap + (size_t)b * BS, (uint64_t)b);
		if (!now.magic)
			continue;
		assert_true(now.version < R.next_version);
		if (R.issued[now.version] > R.t_pa_done)
			note_violation("LBA %d holds V%u's version %llu, issued %.3f ms after the "
			               "PREEMPT AND ABORT completed",
			               b, now.writer, (unsigned long long)now.version,
			               (double)(R.issued[now.version] - R.t_pa_done) / 1e6);
		if (then.writer != now.writer || then.version != now.version)
			note_violation(
			    "LBA %d holds V%u's version %llu, which was not on the medium "
			    "when the PREEMPT AND ABORT completed (then: writer %u version "
			    "%llu)",
			    b, now.writer, (unsigned long long)now.version, then.writer,
			    (unsigned long long)then.version);
	}
	if (R.violations)
		fail_msg("round %d: %ld barrier violations; first: %s", round, R.violations,
		         R.violation);

	/* Check 3: each victim nexus heard of it once; only P's key is left. */
	for (int k = 0; k < 2; k++)
		if (R.v[k].ua_2a05 != 1)
			fail_msg("round %d: V%u got REGISTRATIONS PREEMPTED %ld times", round,
			         R.v[k].id, R.v[k].ua_2a05);
	struct scsi_task *t =
	    iscsi_persistent_reserve_in_sync(R.p, 0, SCSI_PERSISTENT_RESERVE_READ_KEYS, 256);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	struct scsi_persistent_reserve_in_read_keys *rk = scsi_datain_unmarshall(t);
	assert_non_null(rk);
	assert_int_equal(rk->num_keys, 1);
	assert_true(rk->keys[0] == KEY_P);
	scsi_free_scsi_task(t);

	/* Logout: what was never answered is cancelled first, so that the
	 * callbacks run and free their bookkeeping. */
	for (int k = 0; k < 2; k++) {
		R.silent += R.v[k].inflight;
		R.tearing_down = true;
		iscsi_scsi_cancel_all_tasks(R.v[k].ctx);
		R.tearing_down = false;
		h_logout(R.v[k].ctx);
		R.v[k].ctx = NULL;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int setup(void **state)
{
	(void)state;
	return cl_up(3, NULL);
}

static int teardown(void **state)
{
	(void)state;
	cl_down();
	free(R.issued);
	free(R.snap);
	free(R.after);
	return 0;
}

static void test_barrier_across_nodes(void **state)
{
	(void)state;
	cl_failed = true;
	int rounds = 25;
	const char *e = getenv("PRKIT_CL_BARRIER_ROUNDS");
	if (e && atoi(e) > 0)
		rounds = atoi(e);
	unsigned seed = (unsigned)time(NULL);
	e = getenv("PRKIT_CL_BARRIER_SEED");
	if (e)
		seed = (unsigned)strtoul(e, NULL, 0);
	srand(seed);

	R.v[0].id = 2;
	R.v[1].id = 3;
	R.next_version = 1;
	R.fd = open(cl_backing(), O_RDONLY | O_DIRECT | O_CLOEXEC);
	assert_true(R.fd >= 0);
	assert_int_equal(posix_memalign((void **)&R.snap, 4096, RANGE * BS), 0);
	assert_int_equal(posix_memalign((void **)&R.after, 4096, RANGE * BS), 0);
	R.p = cl_login_clear(1, INI_P, 0x77);
	assert_int_equal(h_prout_past_ua(R.p, 0,
	                                 SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
	                                 0, 0, KEY_P),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(
	    h_prout_past_ua(R.p, 0, SCSI_PERSISTENT_RESERVE_RESERVE, T_WE_RO, KEY_P, 0),
	    SCSI_STATUS_GOOD);

	uint64_t *lat = calloc((size_t)rounds, sizeof(*lat));
	assert_non_null(lat);
	uint64_t t0 = now_ns();
	for (int r = 0; r < rounds; r++)
		round_(r, lat);
	qsort(lat, (size_t)rounds, sizeof(*lat), cmp_u64);
	size_t p99 = ((size_t)rounds * 99 + 99) / 100 - 1;
	print_message("# %d rounds in %.1f s, seed %u, no barrier violation\n", rounds,
	              (double)(now_ns() - t0) / 1e9, seed);
	print_message("# PREEMPT AND ABORT from node 1 with writes outstanding on nodes 2 and 3: "
	              "median %.3f ms, p99 %.3f ms, max %.3f ms\n",
	              (double)lat[rounds / 2] / 1e6, (double)lat[p99] / 1e6,
	              (double)lat[rounds - 1] / 1e6);
	print_message("# victims: %ld GOOD (%ld issued before the completion, answered after "
	              "the PA was sent), %ld RESERVATION CONFLICT, %ld TASK ABORTED, %ld never "
	              "answered\n",
	              R.good, R.good_late, R.conflict, R.aborted, R.silent);
	/* The victims did get stopped by the reservation (else check 1 could
	 * not have failed). */
	assert_true(R.conflict > 0);
	free(lat);
	close(R.fd);
	h_logout(R.p);
	R.p = NULL;
	cl_failed = false;
}

int main(void)
{
	if (cl_skip_all())
		return 0;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_barrier_across_nodes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
