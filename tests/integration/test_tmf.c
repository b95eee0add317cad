/* Task management functions as SAM-5 says, seen from two I_T nexuses.
 *
 * A keeps up to QD WRITE(16)s in flight on a file LU opened with O_DIRECT
 * (so that commands stay inside the LU for a while); B, the requester,
 * keeps a few of its own in flight and sends the TMF on the same LU. Then
 * each nexus's commands are accounted for: what they ended with (GOOD,
 * TASK ABORTED, a unit attention) and which were never answered. Expected:
 *  - ABORT TASK (B's own task, and an ITT of A's named from B) and ABORT
 *    TASK SET touch B's tasks only: A sees every command GOOD and no UA.
 *  - CLEAR TASK SET and LOGICAL UNIT RESET abort A's tasks too. TAS=1: each
 *    ends with TASK ABORTED, none stays unanswered, no 2F/00. TAS=0: they
 *    end silently, and A gets exactly one 2F/00 COMMANDS CLEARED BY
 *    ANOTHER INITIATOR when any did. The requester B never gets TASK
 *    ABORTED or 2F/00 for its own tasks.
 *  - LOGICAL UNIT RESET also gives 29/03 to both nexuses.
 * max_tasks is 32, A's queue depth: aborted tasks fill A's whole CmdSN
 * window, so A goes on only if the target announces the window the silent
 * aborts free (a NOP-In), as nothing else answers A.
 * Several rounds per case; whether a command is still in flight when the
 * TMF arrives is a race, so each case also checks that, over its rounds,
 * the TMF did find A's commands (or there would be nothing to judge). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"

#define INI_A "iqn.2026-11.io.prkit.test:tmf-a"
#define INI_B "iqn.2026-11.io.prkit.test:tmf-b"
#define QD_A 32
#define QD_B 4
#define XFER (32 * 1024) /* bytes per write */
#define SPAN 512         /* write slots of XFER bytes: 16 MiB */
#define ROUNDS 8

#define ASCQ_COMMANDS_CLEARED 0x2f00
#define ASCQ_BUS_DEVICE_RESET 0x2903

static struct h_daemon daemon_;

static int setup(void **state)
{
	(void)state;
	const char *cfg =
	    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}], "
	    "\"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000, \"max_tasks\": "
	    "32, "
	    "\"targets\": [{\"name\": \"" H_TARGET "\", \"luns\": ["
	    "{\"lun\": 0, \"backstore\": {\"type\": \"file\", \"path\": \"@DIR@/lu0.img\", "
	    "\"size\": \"16M\", \"create\": true, \"direct\": true, \"queue_depth\": 64}}]}]}";
	return h_start(&daemon_, cfg);
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- one nexus and what its commands ended with ---- */

struct nexus {
	const char *name;
	struct iscsi_context *ctx;
	int qd;
	bool active;
	int pre;  /* issued before the TMF was answered, not answered yet */
	int post; /* issued after, not answered yet */
	long good, aborted, cancelled;
	int ua[16]; /* the ASC/ASCQ of every unit attention, in order */
	int n_ua;
	struct scsi_task *last; /* the last command issued, while outstanding */
};

static struct nexus A = {.name = "A", .qd = QD_A}, B = {.name = "B", .qd = QD_B};
/* settled: the (last) TMF has been answered. A command issued before
 * that may have reached the target before the TMF and been aborted (even
 * one of A's issued after B sent it: another connection); one issued after
 * cannot have been, and must be answered. */
static bool tmf_done, settled, tearing_down;
static uint32_t tmf_response;
static uint8_t wbuf[XFER];

struct cmd {
	struct nexus *n;
	struct scsi_task *task;
	bool pre;
};

static void note_ua(struct nexus *n, int ascq)
{
	if (n->n_ua < (int)(sizeof(n->ua) / sizeof(n->ua[0])))
		n->ua[n->n_ua++] = ascq;
}

static int count_ua(const struct nexus *n, int ascq)
{
	int k = 0;
	for (int i = 0; i < n->n_ua; i++)
		k += n->ua[i] == ascq;
	return k;
}

static void write_cb(struct iscsi_context *iscsi, int status, void *data, void *priv)
{
	(void)iscsi;
	(void)data;
	struct cmd *c = priv;
	struct nexus *n = c->n;
	struct scsi_task *t = c->task;
	if (c->pre)
		n->pre--;
	else
		n->post--;
	if (n->last == t)
		n->last = NULL;
	if (status == SCSI_STATUS_GOOD) {
		n->good++;
	} else if (status == SCSI_STATUS_TASK_ABORTED) {
		n->aborted++;
	} else if (status == SCSI_STATUS_CANCELLED) {
		/* cancelled by libiscsi itself: B's own tasks on ABORT TASK (SET)
		 * and LU RESET, and the leftovers at the end of a round */
		n->cancelled++;
	} else if (status == SCSI_STATUS_CHECK_CONDITION &&
	           t->sense.key == SCSI_SENSE_UNIT_ATTENTION) {
		note_ua(n, t->sense.ascq);
	} else if (!tearing_down) {
		fail_msg("%s: write ended with status 0x%02x sense %x/%04x", n->name, status,
		         t->sense.key, t->sense.ascq);
	}
	scsi_free_scsi_task(t);
	free(c);
}

static void issue(struct nexus *n)
{
	struct cmd *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->n = n;
	c->pre = !settled;
	uint64_t lba = (uint64_t)(rand() % SPAN) * (XFER / 512);
	c->task = iscsi_write16_task(n->ctx, 0, lba, wbuf, XFER, 512, 0, 0, 0, 0, 0, write_cb, c);
	assert_non_null(c->task);
	n->last = c->task;
	if (c->pre)
		n->pre++;
	else
		n->post++;
}

static void refill(struct nexus *n)
{
	while (n->active && n->pre + n->post < n->qd)
		issue(n);
}

static void service(void)
{
	struct nexus *ns[2] = {&A, &B};
	struct pollfd pfd[2];
	for (int i = 0; i < 2; i++)
		pfd[i] = (struct pollfd){.fd = iscsi_get_fd(ns[i]->ctx),
		                         .events = (short)iscsi_which_events(ns[i]->ctx)};
	assert_true(poll(pfd, 2, 1) >= 0);
	for (int i = 0; i < 2; i++)
		if (pfd[i].revents && iscsi_service(ns[i]->ctx, pfd[i].revents) < 0)
			fail_msg("%s: iscsi_service: %s", ns[i]->name, iscsi_get_error(ns[i]->ctx));
}

/* Runs both nexuses until done() or for ms milliseconds (done NULL). */
static void run(bool (*done)(void), int ms)
{
	uint64_t end = now_ms() + (uint64_t)(done ? 20000 : ms);
	for (;;) {
		refill(&A);
		refill(&B);
		if (done && done())
			return;
		if (now_ms() >= end) {
			if (done && getenv("PRKIT_TMF_DEBUG")) { /* the daemon's view */
				char cmd[400];
				snprintf(cmd, sizeof(cmd), "tail -60 '%s' >&2", daemon_.log);
				if (system(cmd) != 0)
					fprintf(stderr, "no log\n");
			}
			if (done)
				fail_msg("stuck: TMF %s, A %d+%d outstanding, B %d+%d",
				         tmf_done ? "answered" : "pending", A.pre, A.post, B.pre,
				         B.post);
			return;
		}
		service();
	}
}

static bool is_tmf_done(void)
{
	return tmf_done;
}

static bool post_drained(void)
{
	return A.post == 0 && B.post == 0;
}

static void tmf_cb(struct iscsi_context *iscsi, int status, void *data, void *priv)
{
	(void)iscsi;
	(void)priv;
	assert_int_equal(status, SCSI_STATUS_GOOD);
	tmf_response = *(uint32_t *)data;
	tmf_done = true;
}

/* TEST UNIT READY until GOOD, noting every unit attention on the way. */
static void collect_ua(struct nexus *n)
{
	for (int i = 0; i < 8; i++) {
		struct scsi_task *t = iscsi_testunitready_sync(n->ctx, 0);
		assert_non_null(t);
		int status = t->status;
		bool ua = status == SCSI_STATUS_CHECK_CONDITION &&
		          t->sense.key == SCSI_SENSE_UNIT_ATTENTION;
		if (ua)
			note_ua(n, t->sense.ascq);
		scsi_free_scsi_task(t);
		if (!ua) {
			assert_int_equal(status, SCSI_STATUS_GOOD);
			return;
		}
	}
	fail_msg("%s: unit attentions without end", n->name);
}

/* MODE SELECT(6) of the control page with TAS=1, from A; B's 2A/01 MODE
 * PARAMETERS CHANGED is consumed. */
static void set_tas(void)
{
	uint8_t list[16] = {0, 0, 0, 0, 0x0a, 0x0a, 0x00, 0x10, 0x00, 0x40};
	uint8_t cdb[6] = {0x15, 0x10, 0, 0, sizeof(list), 0};
	struct scsi_task *t = scsi_create_task(6, cdb, SCSI_XFER_WRITE, sizeof(list));
	assert_non_null(t);
	struct iscsi_data d = {.size = sizeof(list), .data = list};
	assert_non_null(iscsi_scsi_command_sync(A.ctx, 0, t, &d));
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	scsi_free_scsi_task(t);
	assert_int_equal(h_clear_ua(B.ctx, 0), SCSI_STATUS_GOOD);
}

static struct iscsi_context *login(const char *ini, uint32_t q)
{
	struct h_login_opts o = {.no_tur = 1};
	struct iscsi_context *iscsi = h_login_ex(&daemon_, 0, ini, q, &o);
	assert_non_null(iscsi);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	return iscsi;
}

/* ---- one round ---- */

enum fn { F_ABORT_TASK, F_ABORT_TASK_SET, F_CLEAR_TASK_SET, F_LU_RESET };

struct totals {
	long a_aborted, a_silent, a_at_tmf;
};

static void send_tmf(enum fn f)
{
	int rc = -1;
	switch (f) {
	case F_ABORT_TASK:
		/* First an ITT of A's, named from B: it is not B's task, and
		 * must not be touched (the response may say it does not exist
		 * or, RefCmdSN falling in B's window, that it is complete). */
		assert_non_null(A.last);
		rc = iscsi_task_mgmt_async(B.ctx, 0, ISCSI_TM_ABORT_TASK, A.last->itt,
		                           A.last->cmdsn, tmf_cb, NULL);
		assert_int_equal(rc, 0);
		run(is_tmf_done, 0);
		tmf_done = false;
		/* Then one of B's own. */
		refill(&B);
		assert_non_null(B.last);
		rc = iscsi_task_mgmt_abort_task_async(B.ctx, B.last, tmf_cb, NULL);
		break;
	case F_ABORT_TASK_SET:
		rc = iscsi_task_mgmt_abort_task_set_async(B.ctx, 0, tmf_cb, NULL);
		break;
	case F_CLEAR_TASK_SET:
		rc = iscsi_task_mgmt_async(B.ctx, 0, ISCSI_TM_CLEAR_TASK_SET, 0xffffffff, 0, tmf_cb,
		                           NULL);
		break;
	case F_LU_RESET:
		rc = iscsi_task_mgmt_lun_reset_async(B.ctx, 0, tmf_cb, NULL);
		break;
	}
	assert_int_equal(rc, 0);
}

static void round_(enum fn f, bool tas, struct totals *tot)
{
	if (tas)
		set_tas();
	A.n_ua = B.n_ua = 0;
	A.good = A.aborted = A.cancelled = B.good = B.aborted = B.cancelled = 0;
	tmf_done = settled = false;
	A.active = B.active = true;
	run(NULL, 5 + rand() % 25);
	refill(&A); /* full queues, and `last` still outstanding */
	refill(&B);
	tot->a_at_tmf += A.pre;
	send_tmf(f);
	run(is_tmf_done, 0);
	settled = true; /* from here on, new commands are "post" */
	/* Both go on for a while, then stop; what they issued after the TMF
	 * must all be answered. */
	run(NULL, 30);
	A.active = B.active = false;
	run(post_drained, 0);
	/* Late answers to the earlier commands, if any. Where every one of
	 * A's commands must be answered (A's tasks were not B's to abort, or
	 * TAS=1 owes them TASK ABORTED), wait for that rather than for a fixed
	 * time, so that a loaded machine does not pass for a silent abort; the
	 * assertions below still fail if answers are missing after 5 s. */
	bool all_answered_due = f == F_ABORT_TASK || f == F_ABORT_TASK_SET || tas;
	for (uint64_t end = now_ms() + (all_answered_due ? 5000 : 100);
	     now_ms() < end && !(all_answered_due && A.pre == 0);)
		run(NULL, 20);
	int a_silent = A.pre;
	collect_ua(&A);
	collect_ua(&B);

	if (f != F_ABORT_TASK)
		assert_int_equal(tmf_response, ISCSI_TMR_FUNC_COMPLETE);
	else
		assert_true(tmf_response == ISCSI_TMR_FUNC_COMPLETE ||
		            tmf_response == ISCSI_TMR_TASK_DOES_NOT_EXIST);
	/* The requester's own aborted tasks end silently, whatever TAS says. */
	assert_int_equal(B.aborted, 0);
	assert_int_equal(count_ua(&B, ASCQ_COMMANDS_CLEARED), 0);
	if (f == F_ABORT_TASK || f == F_ABORT_TASK_SET) {
		/* Another nexus's tasks are not B's to abort. */
		assert_int_equal(a_silent, 0);
		assert_int_equal(A.aborted, 0);
		assert_int_equal(A.n_ua, 0);
	} else if (tas) {
		assert_int_equal(a_silent, 0);
		assert_int_equal(count_ua(&A, ASCQ_COMMANDS_CLEARED), 0);
	} else {
		assert_int_equal(A.aborted, 0);
		assert_int_equal(count_ua(&A, ASCQ_COMMANDS_CLEARED), a_silent > 0 ? 1 : 0);
	}
	if (f == F_LU_RESET) {
		assert_int_equal(count_ua(&A, ASCQ_BUS_DEVICE_RESET), 1);
		assert_int_equal(count_ua(&B, ASCQ_BUS_DEVICE_RESET), 1);
	} else {
		assert_int_equal(count_ua(&A, ASCQ_BUS_DEVICE_RESET), 0);
		assert_int_equal(count_ua(&B, ASCQ_BUS_DEVICE_RESET), 0);
	}
	tot->a_aborted += A.aborted;
	tot->a_silent += a_silent;

	/* What was never answered is cancelled, so its bookkeeping is freed. */
	tearing_down = true;
	iscsi_scsi_cancel_all_tasks(A.ctx);
	iscsi_scsi_cancel_all_tasks(B.ctx);
	tearing_down = false;
	assert_int_equal(A.pre + A.post + B.pre + B.post, 0);
}

static void run_case(enum fn f, bool tas)
{
	static const char *const names[] = {"ABORT TASK", "ABORT TASK SET", "CLEAR TASK SET",
	                                    "LOGICAL UNIT RESET"};
	unsigned seed = (unsigned)time(NULL);
	const char *e = getenv("PRKIT_TMF_SEED");
	if (e)
		seed = (unsigned)strtoul(e, NULL, 0);
	srand(seed);
	memset(wbuf, 0x5a, sizeof(wbuf));
	A = (struct nexus){.name = "A", .qd = QD_A};
	B = (struct nexus){.name = "B", .qd = QD_B};
	A.ctx = login(INI_A, 0xa1);
	B.ctx = login(INI_B, 0xb2);
	struct totals tot = {0};
	for (int r = 0; r < ROUNDS; r++)
		round_(f, tas, &tot);
	print_message("# %s, TAS=%d, seed %u: A had %ld writes in flight at the TMFs; %ld ended "
	              "TASK ABORTED, %ld were aborted silently\n",
	              names[f], tas, seed, tot.a_at_tmf, tot.a_aborted, tot.a_silent);
	/* Something to judge: the TMFs found A's commands in flight. */
	assert_true(tot.a_at_tmf > 0);
	if (f == F_CLEAR_TASK_SET || f == F_LU_RESET)
		assert_true((tas ? tot.a_aborted : tot.a_silent) > 0);
	h_logout(A.ctx);
	h_logout(B.ctx);
	A.ctx = B.ctx = NULL;
}

static void test_abort_task(void **state)
{
	(void)state;
	run_case(F_ABORT_TASK, false);
}

static void test_abort_task_tas(void **state)
{
	(void)state;
	run_case(F_ABORT_TASK, true);
}

static void test_abort_task_set(void **state)
{
	(void)state;
	run_case(F_ABORT_TASK_SET, false);
}

static void test_abort_task_set_tas(void **state)
{
	(void)state;
	run_case(F_ABORT_TASK_SET, true);
}

static void test_clear_task_set(void **state)
{
	(void)state;
	run_case(F_CLEAR_TASK_SET, false);
}

static void test_clear_task_set_tas(void **state)
{
	(void)state;
	run_case(F_CLEAR_TASK_SET, true);
}

static void test_lu_reset(void **state)
{
	(void)state;
	run_case(F_LU_RESET, false);
}

static void test_lu_reset_tas(void **state)
{
	(void)state;
	run_case(F_LU_RESET, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_abort_task, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abort_task_tas, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abort_task_set, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abort_task_set_tas, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clear_task_set, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clear_task_set_tas, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lu_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lu_reset_tas, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
