/* READ and WRITE on the connection's own event loop (the fast path,
 * src/lu/lu_fast.c), with prkitd on three loops and a RAM LU:
 *
 *  - the path taken: a session on a loop other than 0 writes and reads;
 *    the LU's counters (admin socket, "rw_fast"/"rw_slow") show that every
 *    one of them ran on the fast path, and the data reads back;
 *  - writers on two loops at once, every block verified afterwards;
 *  - PR OUT exactness: while A streams writes from loop 1, B preempts A's
 *    registration; every write A issued after B's PR OUT completed fails
 *    (unit attention, then RESERVATION CONFLICT), and the medium holds
 *    only writes that ended GOOD;
 *  - unit attentions: after B preempts A, A's very next READ (a fast
 *    candidate) gets 2A/05 REGISTRATIONS PREEMPTED;
 *  - a LOGICAL UNIT RESET while a session on another loop has fast writes
 *    in flight on a file LU (O_DIRECT) answers only after they finished:
 *    the backing file read at the response does not change afterwards;
 *  - COMPARE AND WRITE against fast writes to the same block from another
 *    loop: every CAW ends GOOD or MISCOMPARE, and the block only ever
 *    holds whole patterns (read while the writer stands still);
 *  - a SANITIZE OVERWRITE with IMMED=1 that ends in the background: a
 *    READ from another loop meanwhile gets NOT READY, SANITIZE IN PROGRESS
 *    (how many do depends on how long loop 0 takes: see the case), and
 *    once it has ended READs take the fast path again and see only the
 *    pattern, never old data and never NOT READY again. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
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

#define LOOPS 3
#define BS 512
#define KEY_A 0xa1
#define KEY_B 0xb2
#define T_WE_RO SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY
#define SA_REG SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY

static struct h_daemon daemon_;
static unsigned n_ini;

static int start(const char *backstore)
{
	char cfg[2048];
	snprintf(cfg, sizeof(cfg),
	         "{\"threads\": %d, \"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}], "
	         "\"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000, "
	         "\"targets\": [{\"name\": \"%s\", \"luns\": [{\"backstore\": %s}]}]}",
	         LOOPS, H_TARGET, backstore);
	return h_start(&daemon_, cfg);
}

static int setup(void **state)
{
	(void)state;
	return start("{\"type\": \"ram\", \"size\": \"8M\"}");
}

/* A file LU: each loop submits through its own io_uring ring. */
static int setup_file(void **state)
{
	(void)state;
	return start("{\"type\": \"file\", \"path\": \"@DIR@/lu0.img\", \"size\": \"8M\", "
	             "\"create\": true}");
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(h_stop(&daemon_), 0);
	return 0;
}

/* A session (unit attentions cleared) on an event loop other than 0 and
 * other than `not` (-1: any). Logins go to the loops in turn, so a few
 * tries find one; the others are logged out. */
static struct iscsi_context *login_on_loop(const char *tag, int not, int *loop)
{
	struct iscsi_context *extra[LOOPS] = {NULL};
	for (unsigned tries = 0; tries < LOOPS + 1; tries++) {
		char ini[96];
		snprintf(ini, sizeof(ini), "iqn.2026-12.io.prkit.test:fast-%s-%u", tag, n_ini++);
		struct iscsi_context *c = h_login_raw_clear(&daemon_, 0, ini, 0x40 + n_ini, 1);
		int l = h_session_loop(&daemon_, ini);
		if (l > 0 && l != not ) {
			for (unsigned i = 0; i < LOOPS; i++)
				if (extra[i])
					h_logout(extra[i]);
			*loop = l;
			return c;
		}
		extra[tries % LOOPS] = c;
	}
	fail_msg("no session landed on a loop other than 0 and %d", not );
	return NULL;
}

static void fill(uint8_t *b, uint64_t tag, uint64_t lba)
{
	for (unsigned i = 0; i < BS; i += 16) {
		memcpy(b + i, &lba, 8);
		memcpy(b + i + 8, &tag, 8);
	}
}

static int write1(struct iscsi_context *c, uint64_t lba, const uint8_t *b)
{
	return h_status(iscsi_write16_sync(c, 0, lba, (unsigned char *)b, BS, BS, 0, 0, 0, 0, 0));
}

/* For threads other than the main one, where cmocka must not assert:
 * the status, or -1 when the command got no answer (the error is
 * printed). */
static int write1_quiet(struct iscsi_context *c, uint64_t lba, const uint8_t *b)
{
	struct scsi_task *t =
	    iscsi_write16_sync(c, 0, lba, (unsigned char *)b, BS, BS, 0, 0, 0, 0, 0);
	if (!t) {
		fprintf(stderr, "write to lba %llu: %s\n", (unsigned long long)lba,
		        iscsi_get_error(c));
		return -1;
	}
	int st = t->status;
	scsi_free_scsi_task(t);
	return st;
}

static void test_path_taken(void **state)
{
	(void)state;
	int loop;
	struct iscsi_context *a = login_on_loop("taken", -1, &loop);
	uint64_t f0, s0, f1, s1;
	h_lu_rw_counts(&daemon_, 0, &f0, &s0);
	uint8_t b[BS];
	for (uint64_t lba = 0; lba < 100; lba++) {
		fill(b, 7, lba);
		h_assert_write_read(a, 0, lba, b, BS);
	}
	h_lu_rw_counts(&daemon_, 0, &f1, &s1);
	print_message("# loop %d: fast %llu, slow %llu\n", loop, (unsigned long long)(f1 - f0),
	              (unsigned long long)(s1 - s0));
	/* 100 writes and 100 reads, all on the session's own loop. */
	assert_int_equal(f1 - f0, 200);
	assert_int_equal(s1 - s0, 0);
	h_logout(a);
}

#define WBLOCKS 512

struct writer {
	struct iscsi_context *c;
	uint64_t id;
	int failures;
};

/* Writer id owns the blocks of its parity. */
static void *write_half(void *arg)
{
	struct writer *w = arg;
	uint8_t b[BS];
	for (uint64_t k = 0; k < WBLOCKS / 2; k++) {
		uint64_t lba = 2 * k + w->id;
		fill(b, w->id + 100, lba);
		if (write1_quiet(w->c, lba, b) != SCSI_STATUS_GOOD)
			w->failures++;
	}
	return NULL;
}

static void test_writers_on_two_loops(void **state)
{
	(void)state;
	int l0, l1;
	struct writer w[2];
	w[0] = (struct writer){.c = login_on_loop("w0", -1, &l0), .id = 0};
	w[1] = (struct writer){.c = login_on_loop("w1", l0, &l1), .id = 1};
	uint64_t f0, s0, f1, s1;
	h_lu_rw_counts(&daemon_, 0, &f0, &s0);
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, write_half, &w[i]), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	h_lu_rw_counts(&daemon_, 0, &f1, &s1);
	assert_int_equal(f1 - f0, WBLOCKS);
	assert_int_equal(s1 - s0, 0);
	uint8_t want[BS];
	for (int i = 0; i < 2; i++) {
		struct scsi_task *t =
		    iscsi_read16_sync(w[i].c, 0, 0, WBLOCKS * BS, BS, 0, 0, 0, 0, 0);
		assert_non_null(t);
		assert_int_equal(t->status, SCSI_STATUS_GOOD);
		for (uint64_t lba = 0; lba < WBLOCKS; lba++) {
			fill(want, lba % 2 + 100, lba);
			assert_memory_equal(t->datain.data + lba * BS, want, BS);
		}
		scsi_free_scsi_task(t);
	}
	h_logout(w[0].c);
	h_logout(w[1].c);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define STREAM_MAX 200000
#define STREAM_LBAS 64

struct stream {
	struct iscsi_context *c;
	atomic_bool stop;
	unsigned n;
	uint64_t *issued; /* [seq] when it was sent */
	int *status;      /* [seq] */
};

/* A's writes: seq i goes to lba i % STREAM_LBAS, tagged with i. */
static void *stream_writes(void *arg)
{
	struct stream *s = arg;
	uint8_t b[BS];
	while (!atomic_load(&s->stop) && s->n < STREAM_MAX) {
		unsigned i = s->n;
		fill(b, i, i % STREAM_LBAS);
		s->issued[i] = now_ns();
		s->status[i] = write1_quiet(s->c, i % STREAM_LBAS, b);
		s->n++;
	}
	return NULL;
}

static void test_pr_out_exact_under_load(void **state)
{
	(void)state;
	int la, lb;
	struct iscsi_context *a = login_on_loop("pa", -1, &la);
	struct iscsi_context *b = login_on_loop("pb", la, &lb);
	assert_int_equal(h_prout(a, SA_REG, 0, 0, KEY_A, 0, 0), SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(b, SA_REG, 0, 0, KEY_B, 0, 0), SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(b, SCSI_PERSISTENT_RESERVE_RESERVE, T_WE_RO, KEY_B, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	/* Blocks start with a tag no write uses. */
	uint8_t blk[BS];
	for (uint64_t lba = 0; lba < STREAM_LBAS; lba++) {
		fill(blk, UINT32_MAX, lba);
		assert_int_equal(write1(b, lba, blk), SCSI_STATUS_GOOD);
	}
	struct stream s = {.c = a};
	s.issued = calloc(STREAM_MAX, sizeof(*s.issued));
	s.status = calloc(STREAM_MAX, sizeof(*s.status));
	assert_non_null(s.issued);
	assert_non_null(s.status);
	atomic_init(&s.stop, false);
	uint64_t f0, s0, f1, s1;
	h_lu_rw_counts(&daemon_, 0, &f0, &s0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, stream_writes, &s), 0);
	usleep(100 * 1000);
	h_lu_rw_counts(&daemon_, 0, &f1, &s1);
	/* B takes A's registration away while A writes. */
	assert_int_equal(h_prout(b, SCSI_PERSISTENT_RESERVE_PREEMPT, T_WE_RO, KEY_B, KEY_A, 0, 0),
	                 SCSI_STATUS_GOOD);
	uint64_t done = now_ns();
	usleep(100 * 1000);
	atomic_store(&s.stop, true);
	assert_int_equal(pthread_join(th, NULL), 0);
	print_message("# A on loop %d, B on loop %d: %u writes, %llu fast before the PREEMPT\n", la,
	              lb, s.n, (unsigned long long)(f1 - f0));
	assert_true(f1 - f0 > 0); /* A's writes did run on its loop */
	unsigned after = 0, good_before = 0;
	bool first = true;
	for (unsigned i = 0; i < s.n; i++) {
		if (s.issued[i] < done) {
			good_before += s.status[i] == SCSI_STATUS_GOOD;
			continue;
		}
		after++;
		/* The first command after the PREEMPT reports it (2A/05); the
		 * others conflict. None may be GOOD. */
		assert_int_not_equal(s.status[i], SCSI_STATUS_GOOD);
		if (first && s.status[i] == SCSI_STATUS_CHECK_CONDITION)
			first = false;
		else
			assert_int_equal(s.status[i], SCSI_STATUS_RESERVATION_CONFLICT);
	}
	assert_true(good_before > 0);
	assert_true(after > 0);
	/* What the medium holds: only writes that ended GOOD. */
	struct scsi_task *t = iscsi_read16_sync(b, 0, 0, STREAM_LBAS * BS, BS, 0, 0, 0, 0, 0);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	for (uint64_t lba = 0; lba < STREAM_LBAS; lba++) {
		uint64_t tag;
		memcpy(&tag, t->datain.data + lba * BS + 8, 8);
		if (tag == UINT32_MAX)
			continue;
		assert_true(tag < s.n);
		assert_int_equal(s.status[tag], SCSI_STATUS_GOOD);
	}
	scsi_free_scsi_task(t);
	free(s.issued);
	free(s.status);
	h_logout(a);
	h_logout(b);
}

static int read1(struct iscsi_context *c, uint64_t lba)
{
	return h_status(iscsi_read10_sync(c, 0, (uint32_t)lba, BS, BS, 0, 0, 0, 0, 0));
}

static void test_ua_on_next_read(void **state)
{
	(void)state;
	int la, lb;
	struct iscsi_context *a = login_on_loop("ua", -1, &la);
	struct iscsi_context *b = login_on_loop("ub", la, &lb);
	assert_int_equal(h_prout(a, SA_REG, 0, 0, KEY_A, 0, 0), SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(b, SA_REG, 0, 0, KEY_B, 0, 0), SCSI_STATUS_GOOD);
	uint64_t f0, s0, f1, s1;
	h_lu_rw_counts(&daemon_, 0, &f0, &s0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(read1(a, (uint64_t)i), SCSI_STATUS_GOOD);
	h_lu_rw_counts(&daemon_, 0, &f1, &s1);
	assert_int_equal(f1 - f0, 10); /* A's READs are fast-path candidates */
	assert_int_equal(h_prout(b, SCSI_PERSISTENT_RESERVE_PREEMPT, 0, KEY_B, KEY_A, 0, 0),
	                 SCSI_STATUS_GOOD);
	h_assert_sense(read1(a, 0), SCSI_SENSE_UNIT_ATTENTION, 0x2a05);
	assert_int_equal(read1(a, 0), SCSI_STATUS_GOOD); /* once */
	h_logout(a);
	h_logout(b);
}

#define CAW_ROUNDS 300

/* One writer (two would tear each other's blocks, which SCSI allows for
 * concurrent overlapping writes): writes pattern `tag` to LBA 9 until
 * stopped, and stands still while `pause` is set (acknowledged in
 * `paused`) so that the main thread reads what the medium holds. */
struct hammer {
	struct iscsi_context *c;
	uint64_t tag;
	atomic_bool stop, pause, paused;
	int failures;
};

static void *hammer_block(void *arg)
{
	struct hammer *h = arg;
	uint8_t b[BS];
	fill(b, h->tag, 9);
	/* No cmocka assertion off the main thread: failures are counted. */
	while (!atomic_load(&h->stop)) {
		if (atomic_load(&h->pause)) {
			atomic_store(&h->paused, true);
			usleep(100);
			continue;
		}
		atomic_store(&h->paused, false);
		int st = write1_quiet(h->c, 9, b);
		if (st != SCSI_STATUS_GOOD)
			h->failures++;
		if (st < 0)
			break;
	}
	return NULL;
}

/* LBA 9 holds one whole pattern (LBA 9, tag in every 16 bytes): a
 * COMPARE AND WRITE whose write interleaved with a fast write would leave
 * a mix. */
static uint64_t whole_tag(const uint8_t *d)
{
	uint64_t tag;
	memcpy(&tag, d + 8, 8);
	uint8_t want[BS];
	fill(want, tag, 9);
	assert_memory_equal(d, want, BS);
	return tag;
}

static void test_caw_against_fast_writes(void **state)
{
	(void)state;
	int l1;
	struct iscsi_context *w1 = login_on_loop("c1", -1, &l1);
	struct iscsi_context *c =
	    h_login_raw_clear(&daemon_, 0, "iqn.2026-12.io.prkit.test:caw", 0x7f, 1);
	uint8_t buf[2 * BS];
	fill(buf, 1, 9);
	assert_int_equal(write1(c, 9, buf), SCSI_STATUS_GOOD);
	struct hammer h = {.c = w1, .tag = 1};
	atomic_init(&h.stop, false);
	atomic_init(&h.pause, false);
	atomic_init(&h.paused, false);
	uint64_t f0, s0, f1, s1;
	h_lu_rw_counts(&daemon_, 0, &f0, &s0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, hammer_block, &h), 0);
	unsigned good = 0, miscompare = 0;
	for (unsigned r = 0; r < CAW_ROUNDS; r++) {
		/* Expect pattern 1, replace it by a tag of this round. */
		fill(buf, 1, 9);
		fill(buf + BS, 1000 + r, 9);
		int st =
		    h_status(iscsi_compareandwrite_sync(c, 0, 9, buf, 2 * BS, BS, 0, 0, 0, 0, 0));
		if (st == SCSI_STATUS_GOOD) {
			good++;
		} else {
			h_assert_sense(st, SCSI_SENSE_MISCOMPARE, 0x1d00);
			miscompare++;
		}
		if (r % 10)
			continue;
		atomic_store(&h.pause, true);
		while (!atomic_load(&h.paused) && !atomic_load(&h.stop))
			usleep(100);
		struct scsi_task *t = iscsi_read16_sync(c, 0, 9, BS, BS, 0, 0, 0, 0, 0);
		assert_non_null(t);
		assert_int_equal(t->status, SCSI_STATUS_GOOD);
		uint64_t tag = whole_tag(t->datain.data);
		assert_true(tag == 1 || (tag >= 1000 && tag <= 1000 + r));
		scsi_free_scsi_task(t);
		atomic_store(&h.paused, false);
		atomic_store(&h.pause, false);
	}
	atomic_store(&h.stop, true);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(h.failures, 0);
	h_lu_rw_counts(&daemon_, 0, &f1, &s1);
	print_message("# CAW: %u GOOD, %u MISCOMPARE; writes on the fast path %llu\n", good,
	              miscompare, (unsigned long long)(f1 - f0));
	assert_int_equal(good + miscompare, CAW_ROUNDS);
	assert_true(good > 0);
	assert_true(f1 - f0 > 0);
	h_logout(w1);
	h_logout(c);
}

/* A file LU with O_DIRECT: writes stay in the kernel for a while. */
static int setup_direct(void **state)
{
	(void)state;
	return start("{\"type\": \"file\", \"path\": \"@DIR@/lu0.img\", \"size\": \"8M\", "
	             "\"create\": true, \"direct\": true, \"queue_depth\": 64}");
}

#define RESET_QD 32
#define RESET_ROUNDS 20

struct wr {
	int done;
};

static void wr_cb(struct iscsi_context *c, int status, void *data, void *priv)
{
	(void)c;
	(void)status;
	struct wr *w = priv;
	w->done++;
	scsi_free_scsi_task(data);
}

static void nop_cb(struct iscsi_context *c, int status, void *data, void *priv)
{
	(void)c;
	(void)status;
	(void)data;
	*(int *)priv = 1;
}

/* A NOP-Out, answered: the target has read every PDU c sent before it
 * (a connection's PDUs are handled in order), so those commands were
 * received before whatever the caller does next. */
static void ping(struct iscsi_context *c)
{
	int got = 0;
	assert_int_equal(iscsi_nop_out_async(c, nop_cb, NULL, 0, &got), 0);
	for (int i = 0; i < 500 && !got; i++) {
		struct pollfd p = {.fd = iscsi_get_fd(c), .events = (short)iscsi_which_events(c)};
		assert_true(poll(&p, 1, 10) >= 0);
		assert_int_equal(iscsi_service(c, p.revents), 0);
	}
	assert_true(got);
}

/* Services c until nothing is left to send (its commands are out). */
static void flush_out(struct iscsi_context *c)
{
	for (int i = 0; i < 100 && (iscsi_which_events(c) & POLLOUT); i++) {
		struct pollfd p = {.fd = iscsi_get_fd(c), .events = (short)iscsi_which_events(c)};
		assert_true(poll(&p, 1, 100) >= 0);
		assert_int_equal(iscsi_service(c, p.revents), 0);
	}
}

static void test_lu_reset_waits_for_fast_io(void **state)
{
	(void)state;
	int la, lb;
	struct iscsi_context *a = login_on_loop("ra", -1, &la);
	struct iscsi_context *b = login_on_loop("rb", la, &lb);
	char path[400];
	snprintf(path, sizeof(path), "%s/lu0.img", daemon_.dir);
	int fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	assert_true(fd >= 0);
	uint8_t *s1 = NULL, *s2 = NULL, *blk = NULL;
	assert_int_equal(posix_memalign((void **)&s1, 4096, RESET_QD * BS), 0);
	assert_int_equal(posix_memalign((void **)&s2, 4096, RESET_QD * BS), 0);
	assert_int_equal(posix_memalign((void **)&blk, 4096, RESET_QD * BS), 0);
	uint64_t f0, sl0, f1, sl1;
	h_lu_rw_counts(&daemon_, 0, &f0, &sl0);
	unsigned changed = 0;
	/* Static: the silently aborted writes are answered only by
	 * iscsi_destroy_context, after the rounds. */
	static struct wr wrs[RESET_ROUNDS];
	for (unsigned r = 0; r < RESET_ROUNDS; r++) {
		struct wr *wp = &wrs[r], w0 = {0};
		*wp = w0;
		for (unsigned i = 0; i < RESET_QD; i++)
			fill(blk + i * BS, 2000 + r, i);
		for (unsigned i = 0; i < RESET_QD; i++)
			assert_non_null(iscsi_write16_task(a, 0, i, blk + i * BS, BS, BS, 0, 0, 0,
			                                   0, 0, wr_cb, wp));
		flush_out(a);
		ping(a);
		/* B resets the LU while A's writes are in the target (received:
		 * the ping says so; a write received after the reset may land
		 * after its response, which is no fault). */
		assert_int_equal(iscsi_task_mgmt_lun_reset_sync(b, 0), 0);
		assert_int_equal(pread(fd, s1, RESET_QD * BS, 0), RESET_QD * BS);
		usleep(20 * 1000);
		assert_int_equal(pread(fd, s2, RESET_QD * BS, 0), RESET_QD * BS);
		if (memcmp(s1, s2, RESET_QD * BS) != 0)
			changed++;
		/* A's answers (or none: TAS=0 aborts silently); then its UA. */
		for (int i = 0; i < 20 && wp->done < RESET_QD; i++) {
			struct pollfd p = {.fd = iscsi_get_fd(a),
			                   .events = (short)iscsi_which_events(a)};
			if (poll(&p, 1, 10) > 0)
				assert_int_equal(iscsi_service(a, p.revents), 0);
		}
		h_clear_ua(a, 0);
		h_clear_ua(b, 0);
	}
	h_lu_rw_counts(&daemon_, 0, &f1, &sl1);
	print_message("# A on loop %d, B on loop %d: %u of %u resets saw the medium change after "
	              "the response; fast writes %llu\n",
	              la, lb, changed, RESET_ROUNDS, (unsigned long long)(f1 - f0));
	assert_int_equal(changed, 0);
	assert_true(f1 - f0 > 0);
	close(fd);
	free(s1);
	free(s2);
	free(blk);
	iscsi_destroy_context(a); /* its aborted commands are never answered */
	h_logout(b);
}

/* SANITIZE OVERWRITE (service action 1) with IMMED=1: 8 passes of a
 * 4-byte pattern over the LU. */
static int sanitize_overwrite_immed(struct iscsi_context *c, const uint8_t pat[4])
{
	uint8_t params[8] = {8, 0, 0, 4, pat[0], pat[1], pat[2], pat[3]};
	uint8_t cdb[10] = {0x48, 0x80 | 0x01, 0, 0, 0, 0, 0, 0, sizeof(params), 0};
	struct scsi_task *t = scsi_create_task(10, cdb, SCSI_XFER_WRITE, sizeof(params));
	assert_non_null(t);
	struct iscsi_data d = {.size = sizeof(params), .data = params};
	assert_non_null(iscsi_scsi_command_sync(c, 0, t, &d));
	return h_status(t);
}

/* What a reader saw, in order: 'o' old data, 'p' the pattern, 'n' NOT
 * READY / SANITIZE IN PROGRESS, 'x' anything else. */
#define SAN_MAX_READS 400000
#define SAN_READS_AFTER 200

struct san_reader {
	struct iscsi_context *c;
	const uint8_t *want;
	char *seen;
	unsigned n;
	atomic_uint progress; /* n, for the main thread while the reader runs */
};

static void *read_through_sanitize(void *arg)
{
	struct san_reader *r = arg;
	unsigned after = 0;
	while (r->n < SAN_MAX_READS && after < SAN_READS_AFTER) {
		uint64_t lba = r->n % 64;
		struct scsi_task *t = iscsi_read16_sync(r->c, 0, lba, BS, BS, 0, 0, 0, 0, 0);
		char k = 'x';
		if (!t) {
			fprintf(stderr, "read of lba %llu: %s\n", (unsigned long long)lba,
			        iscsi_get_error(r->c));
		} else if (t->status == SCSI_STATUS_GOOD && t->datain.size == BS) {
			uint8_t old[BS];
			fill(old, 9, lba);
			k = !memcmp(t->datain.data, r->want, BS) ? 'p'
			    : !memcmp(t->datain.data, old, BS)   ? 'o'
			                                         : 'x';
		} else if (t->status == SCSI_STATUS_CHECK_CONDITION &&
		           t->sense.key == SCSI_SENSE_NOT_READY && t->sense.ascq == 0x041b) {
			k = 'n';
		}
		if (t)
			scsi_free_scsi_task(t);
		r->seen[r->n++] = k;
		atomic_store(&r->progress, r->n);
		if (k == 'x')
			break;
		if (k == 'p') /* only after the sanitize: the reader outlives it */
			after++;
	}
	return NULL;
}

static void test_sanitize_ends_in_background(void **state)
{
	(void)state;
	int loop, loop_b;
	struct iscsi_context *a = login_on_loop("san", -1, &loop);
	struct iscsi_context *b = login_on_loop("san-b", loop, &loop_b);
	uint8_t blk[BS];
	for (uint64_t lba = 0; lba < 64; lba++) {
		fill(blk, 9, lba);
		assert_int_equal(write1(a, lba, blk), SCSI_STATUS_GOOD);
	}
	const uint8_t pat[4] = {0xc3, 0x5a, 0x00, 0xff};
	uint8_t want[BS];
	for (unsigned i = 0; i < BS; i++)
		want[i] = pat[i % 4];
	struct san_reader r = {.c = a, .want = want, .seen = calloc(SAN_MAX_READS, 1)};
	assert_non_null(r.seen);
	uint64_t f0, s0, f1, s1;
	h_lu_rw_counts(&daemon_, 0, &f0, &s0);
	/* A reads from its loop all along; B sanitizes from another. */
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, read_through_sanitize, &r), 0);
	while (atomic_load(&r.progress) < 10)
		usleep(1000);
	assert_int_equal(sanitize_overwrite_immed(b, pat), SCSI_STATUS_GOOD);
	assert_int_equal(pthread_join(th, NULL), 0);
	h_lu_rw_counts(&daemon_, 0, &f1, &s1);
	unsigned cnt[4] = {0}, back = 0;
	for (unsigned i = 0; i < r.n; i++) {
		cnt[r.seen[i] == 'o' ? 0 : r.seen[i] == 'n' ? 1 : r.seen[i] == 'p' ? 2 : 3]++;
		/* Old data, then (maybe) NOT READY, then only the pattern. */
		if (i && (r.seen[i] == 'o' && r.seen[i - 1] != 'o'))
			back++;
		if (i && (r.seen[i] == 'n' && r.seen[i - 1] == 'p'))
			back++;
	}
	/* How many READs meet the sanitize running is not asserted: when
	 * every write of it completes before loop 0 looks again, loop 0 runs
	 * it to the end in one pass and answers what waits for it (the IMMED
	 * response too) only then (always on RAM; on a file, often). */
	print_message("# A on loop %d, B on loop %d: %u READs: %u old, %u NOT READY, %u pattern, "
	              "%u other; fast %llu\n",
	              loop, loop_b, r.n, cnt[0], cnt[1], cnt[2], cnt[3],
	              (unsigned long long)(f1 - f0));
	assert_int_equal(cnt[3], 0);
	assert_int_equal(back, 0);
	assert_true(r.n < SAN_MAX_READS);
	assert_true(cnt[2] >= SAN_READS_AFTER);
	assert_int_equal(r.seen[r.n - 1], 'p');
	/* The READs after the end ran on A's own loop again: all but at most
	 * the one in flight when it ended. */
	assert_true(f1 - f0 >= cnt[0] + SAN_READS_AFTER - 1);
	free(r.seen);
	h_logout(b);
	h_logout(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_path_taken, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writers_on_two_loops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pr_out_exact_under_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ua_on_next_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_caw_against_fast_writes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_path_taken, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(test_writers_on_two_loops, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(test_pr_out_exact_under_load, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(test_ua_on_next_read, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(test_caw_against_fast_writes, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(test_lu_reset_waits_for_fast_io, setup_direct,
	                                    teardown),
	    /* A file LU: on RAM every write completes inline, so the whole
	     * sanitize runs before loop 0 next looks at a socket. */
	    cmocka_unit_test_setup_teardown(test_sanitize_ends_in_background, setup_file, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
