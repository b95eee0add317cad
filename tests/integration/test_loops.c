/* prkitd with several event loops ("threads"): sessions spread over the
 * loops share LUs exactly as on one loop.
 *
 *  - writers on every loop: four sessions, each on its own loop (checked
 *    through the admin socket), write interleaved blocks of one LU at the
 *    same time from four threads; every session then reads the whole range
 *    back and finds every writer's blocks;
 *  - PR OUT across loops: a PREEMPT sent on one loop gives the preempted
 *    session on another loop exactly one 2A/05 REGISTRATIONS PREEMPTED and
 *    the third session, on a third loop, nothing; a CLEAR then gives the
 *    remaining registrant exactly one 2A/03 RESERVATIONS PREEMPTED;
 *  - session reinstatement across loops: a session holding an SPC-2
 *    reservation is reinstated by a login that lands on another loop; the
 *    old connection is closed, only the new session is listed, the old
 *    nexus's loss reached the LU (the reservation is gone: another
 *    initiator writes) and the new session works. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"
#include "harness_cmd.h"

#define LOOPS 4
#define WRITERS 4
#define BLOCKS_PER_WRITER 256
#define BS 512

static struct h_daemon daemon_;

static int setup(void **state)
{
	(void)state;
	char cfg[2048];
	snprintf(cfg, sizeof(cfg),
	         "{\"threads\": %d, \"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}], "
	         "\"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000, "
	         "\"targets\": [{\"name\": \"%s\", \"luns\": [{\"backstore\": "
	         "{\"type\": \"ram\", \"size\": \"8M\"}}]}]}",
	         LOOPS, H_TARGET);
	return h_start(&daemon_, cfg);
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(h_stop(&daemon_), 0);
	return 0;
}

static void fill(uint8_t *b, unsigned writer, uint64_t lba)
{
	for (unsigned i = 0; i < BS; i += 16) {
		memset(b + i, 0, 16);
		memcpy(b + i, &lba, 8);
		b[i + 8] = (uint8_t)writer;
		b[i + 9] = 0xa5;
	}
}

struct writer {
	struct iscsi_context *ctx;
	unsigned id;
	int failures;
};

/* Writer w owns every WRITERS-th block: lba = k * WRITERS + w. */
static void *write_all(void *arg)
{
	struct writer *w = arg;
	uint8_t b[BS];
	for (unsigned k = 0; k < BLOCKS_PER_WRITER; k++) {
		uint64_t lba = (uint64_t)k * WRITERS + w->id;
		fill(b, w->id, lba);
		struct scsi_task *t = iscsi_write16_sync(w->ctx, 0, lba, b, BS, BS, 0, 0, 0, 0, 0);
		if (!t || t->status != SCSI_STATUS_GOOD)
			w->failures++;
		if (t)
			scsi_free_scsi_task(t);
	}
	return NULL;
}

static void verify_all(struct iscsi_context *ctx)
{
	uint32_t len = WRITERS * BLOCKS_PER_WRITER * BS;
	struct scsi_task *t = iscsi_read16_sync(ctx, 0, 0, len, BS, 0, 0, 0, 0, 0);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	assert_int_equal(t->datain.size, (int)len);
	uint8_t want[BS];
	for (uint64_t lba = 0; lba < WRITERS * BLOCKS_PER_WRITER; lba++) {
		fill(want, (unsigned)(lba % WRITERS), lba);
		assert_memory_equal(t->datain.data + lba * BS, want, BS);
	}
	scsi_free_scsi_task(t);
}

static void test_writers_on_every_loop(void **state)
{
	(void)state;
	struct writer w[WRITERS];
	char ini[WRITERS][64];
	bool seen[LOOPS] = {false};
	for (unsigned i = 0; i < WRITERS; i++) {
		snprintf(ini[i], sizeof(ini[i]), "iqn.2026-12.io.prkit.test:writer%u", i);
		w[i] = (struct writer){.ctx = h_login_raw_clear(&daemon_, 0, ini[i], 0x10 + i, 1),
		                       .id = i};
		int loop = h_session_loop(&daemon_, ini[i]);
		assert_true(loop >= 0 && loop < LOOPS);
		seen[loop] = true;
	}
	/* Connections go to the loops in turn: four logins, four loops. */
	for (unsigned l = 0; l < LOOPS; l++)
		assert_true(seen[l]);
	pthread_t th[WRITERS];
	for (unsigned i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, write_all, &w[i]), 0);
	for (unsigned i = 0; i < WRITERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	for (unsigned i = 0; i < WRITERS; i++)
		verify_all(w[i].ctx);
	for (unsigned i = 0; i < WRITERS; i++)
		h_logout(w[i].ctx);
}

#define KEY_A 0xa1
#define KEY_B 0xb2
#define KEY_C 0xc3
#define T_WE_RO SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY

/* One TEST UNIT READY: its status (sense in h_sense). */
static int tur(struct iscsi_context *ctx)
{
	return h_tur(ctx, 0);
}

static void test_pr_out_unit_attentions_across_loops(void **state)
{
	(void)state;
	const char *ia = "iqn.2026-12.io.prkit.test:pr-a";
	const char *ib = "iqn.2026-12.io.prkit.test:pr-b";
	const char *ic = "iqn.2026-12.io.prkit.test:pr-c";
	struct iscsi_context *a = h_login_raw_clear(&daemon_, 0, ia, 0x21, 1);
	struct iscsi_context *b = h_login_raw_clear(&daemon_, 0, ib, 0x22, 1);
	struct iscsi_context *c = h_login_raw_clear(&daemon_, 0, ic, 0x23, 1);
	int la = h_session_loop(&daemon_, ia), lb = h_session_loop(&daemon_, ib),
	    lc = h_session_loop(&daemon_, ic);
	print_message("# loops: A %d, B %d, C %d\n", la, lb, lc);
	assert_true(la != lb && lb != lc && la != lc);
	int sa_reg = SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY;
	assert_int_equal(h_prout(a, sa_reg, 0, 0, KEY_A, 0, 0), SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(b, sa_reg, 0, 0, KEY_B, 0, 0), SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(c, sa_reg, 0, 0, KEY_C, 0, 0), SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_RESERVE, T_WE_RO, KEY_A, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	/* Nothing pending anywhere yet. */
	assert_int_equal(tur(b), SCSI_STATUS_GOOD);
	assert_int_equal(tur(c), SCSI_STATUS_GOOD);
	/* A (its loop) preempts B's registration, the reservation stays. */
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_PREEMPT, T_WE_RO, KEY_A, KEY_B, 0, 0),
	                 SCSI_STATUS_GOOD);
	h_assert_sense(tur(b), SCSI_SENSE_UNIT_ATTENTION, 0x2a05);
	assert_int_equal(tur(b), SCSI_STATUS_GOOD); /* once */
	assert_int_equal(tur(c), SCSI_STATUS_GOOD); /* none for C */
	assert_int_equal(tur(a), SCSI_STATUS_GOOD);
	/* CLEAR: C, still registered, hears of it once; B (no longer
	 * registered) does not. */
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_CLEAR, 0, KEY_A, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	h_assert_sense(tur(c), SCSI_SENSE_UNIT_ATTENTION, 0x2a03);
	assert_int_equal(tur(c), SCSI_STATUS_GOOD);
	assert_int_equal(tur(b), SCSI_STATUS_GOOD);
	assert_int_equal(tur(a), SCSI_STATUS_GOOD);
	h_logout(a);
	h_logout(b);
	h_logout(c);
}

/* RESERVE(6) (SPC-2) of LUN 0. */
static int reserve6(struct iscsi_context *ctx)
{
	struct scsi_task *t = scsi_reportluns_cdb(0, 16); /* any task to reuse */
	assert_non_null(t);
	memset(t->cdb, 0, sizeof(t->cdb));
	t->cdb[0] = 0x16;
	t->cdb_size = 6;
	t->xfer_dir = SCSI_XFER_NONE;
	t->expxferlen = 0;
	struct scsi_task *r = iscsi_scsi_command_sync(ctx, 0, t, NULL);
	assert_non_null(r);
	return h_status(r);
}

static int write_one(struct iscsi_context *ctx)
{
	uint8_t b[BS] = {1};
	return h_status(iscsi_write16_sync(ctx, 0, 0, b, BS, BS, 0, 0, 0, 0, 0));
}

/* Did the target close fd within ms? What it still sends is read and
 * dropped. */
static bool peer_closed(int fd, int ms)
{
	for (int waited = 0; waited < ms; waited += 50) {
		struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
		if (poll(&p, 1, 50) <= 0)
			continue;
		char buf[4096];
		ssize_t n;
		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			;
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return true;
	}
	return false;
}

static void test_reinstatement_across_loops(void **state)
{
	(void)state;
	const char *ir = "iqn.2026-12.io.prkit.test:reinstated";
	const char *io = "iqn.2026-12.io.prkit.test:other";
	struct iscsi_context *other = h_login_raw_clear(&daemon_, 0, io, 0x31, 1);
	struct iscsi_context *old = h_login_raw_clear(&daemon_, 0, ir, 0x32, 1);
	int old_loop = h_session_loop(&daemon_, ir);
	assert_int_equal(reserve6(old), SCSI_STATUS_GOOD);
	assert_int_equal(write_one(other), SCSI_STATUS_RESERVATION_CONFLICT);
	/* The next connection goes to the next loop. */
	struct iscsi_context *fresh = h_login_raw(&daemon_, 0, ir, 0x32);
	int new_loop = h_session_loop(&daemon_, ir);
	print_message("# old session on loop %d, new one on loop %d\n", old_loop, new_loop);
	assert_true(new_loop >= 0 && new_loop != old_loop);
	assert_int_equal(h_session_count(&daemon_, ir), 1);
	assert_int_equal(h_clear_ua(fresh, 0), SCSI_STATUS_GOOD);
	/* The old nexus's loss released its SPC-2 reservation. */
	assert_int_equal(h_clear_ua(other, 0), SCSI_STATUS_GOOD);
	assert_int_equal(write_one(other), SCSI_STATUS_GOOD);
	/* The old connection is closed by its own loop. */
	assert_true(peer_closed(iscsi_get_fd(old), 3000));
	iscsi_destroy_context(old);
	h_logout(fresh);
	h_logout(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_writers_on_every_loop),
	    cmocka_unit_test(test_pr_out_unit_attentions_across_loops),
	    cmocka_unit_test(test_reinstatement_across_loops),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
