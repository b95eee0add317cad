/* Two aborts of the same task: the later one must wait for it too.
 *
 * Each round, a victim V (raw socket) registers a key and sends many
 * 64 KiB WRITEs (immediate data) to a file LU opened with O_DIRECT and a
 * queue depth of 2, so that most of them wait in the backstore's FIFO.
 * Then a first abort takes some of them, chosen at random per round:
 *
 *  - V's own ABORT TASK SET,
 *  - ABORT TASK of V's last write, queued behind a third nexus C's writes,
 *  - CLEAR TASK SET from a third nexus C.
 *
 * Its sender pings (NOP-Out) and waits for the NOP-In, which proves the
 * target has taken the TMF (it answers in order), but not for the TMF's
 * own response. In half the rounds V's connection is then closed, so the
 * tasks are also orphans. Right away a preemptor P PREEMPT AND ABORTs V's
 * key. The moment that completes the test reads V's range from the
 * backing file (O_DIRECT), and again 50 ms later: the two must match, as
 * nothing of V may reach the medium after the barrier, whatever earlier
 * abort was already waiting for the same tasks. The first TMF must still
 * be answered "Function complete" (or "task does not exist" for an ABORT
 * TASK whose write had already finished) when its connection is still up.
 *
 * Rounds: PRKIT_OVERLAP_ROUNDS (24 by default); PRKIT_OVERLAP_SEED
 * repeats a run. The number of times a barrier found tasks an earlier
 * abort already held is printed (read from the daemon's log), so a run
 * shows that it exercised the case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"
#include "raw_iscsi.h"

#define INI_V "iqn.2026-11.io.prkit.test:overlap-victim"
#define INI_C "iqn.2026-11.io.prkit.test:overlap-clearer"
#define INI_P "iqn.2026-11.io.prkit.test:overlap-preemptor"
#define CHUNK 65536u
#define N_WRITES 32
#define RANGE ((size_t)N_WRITES * CHUNK)
#define KEY_P 0x7777ULL
#define KEY_C 0x8888ULL
#define C_WRITES 32
#define C_LBA 16384u /* 8 MiB: beyond V's range */
#define T_WE_RO SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY

#define OP_TMF_REQ 0x02
#define OP_TMF_RSP 0x22
#define TMF_ABORT_TASK 1
#define TMF_ABORT_TASK_SET 2
#define TMF_CLEAR_TASK_SET 4

enum first_abort { BY_ABORT_TASK_SET, BY_ABORT_TASK, BY_CLEAR_TASK_SET, N_KINDS };
static const char *const kind_name[N_KINDS] = {"ABORT TASK SET", "ABORT TASK", "CLEAR TASK SET"};

static struct h_daemon daemon_;

static int setup(void **state)
{
	(void)state;
	const char *cfg =
	    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}], "
	    "\"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000, "
	    "\"max_tasks\": 256, "
	    "\"targets\": [{\"name\": \"" H_TARGET "\", \"luns\": ["
	    "{\"lun\": 0, \"backstore\": {\"type\": \"file\", \"path\": \"@DIR@/lu0.img\", "
	    "\"size\": \"16M\", \"create\": true, \"direct\": true, \"queue_depth\": 2}}]}]}";
	return h_start(&daemon_, cfg);
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static void fill_victim(uint8_t *b, unsigned round, unsigned i)
{
	memset(b, (int)(0x10 + (round + i) % 64), CHUNK);
	memcpy(b, "VICT", 4);
	raw_put32(b + 4, round);
	raw_put32(b + 8, i);
}

static int raw_simple(struct raw *r, uint32_t itt, const uint8_t cdb[16])
{
	if (raw_cmd(r, itt, cdb, false, false, 0, NULL, 0))
		return -1;
	return raw_wait_status(r, itt, NULL, 0, NULL, 5000);
}

static int raw_register(struct raw *r, uint32_t itt, uint64_t key)
{
	uint8_t cdb[16] = {0x5f, 0x00, 0};
	cdb[8] = 24;
	uint8_t p[24] = {0};
	put64(p + 8, key);
	if (raw_cmd(r, itt, cdb, false, true, 24, p, 24))
		return -1;
	return raw_wait_status(r, itt, NULL, 0, NULL, 5000);
}

/* An immediate TMF on LUN 0 (rtt and refcmdsn matter for ABORT TASK). */
static void send_tmf(struct raw *r, uint32_t itt, uint8_t function, uint32_t rtt, uint32_t refcmdsn)
{
	uint8_t bhs[48] = {0};
	bhs[0] = 0x40 | OP_TMF_REQ;
	bhs[1] = (uint8_t)(0x80 | function);
	raw_put32(bhs + 16, itt);
	raw_put32(bhs + 20, rtt);
	raw_put32(bhs + 24, r->cmdsn);
	raw_put32(bhs + 28, r->expstatsn);
	raw_put32(bhs + 32, refcmdsn);
	assert_int_equal(raw_send_all(r->fd, bhs, 48), 0);
}

/* What the sender of the first abort has heard: the NOP-In of its ping,
 * and the TMF response (which may come first, when the TMF had nothing to
 * wait for). Answers to earlier writes and window updates are skipped. */
struct heard {
	uint32_t nop_itt, tmf_itt;
	bool nop, tmf;
	uint8_t tmf_response;
};

/* Reads r's PDUs until h->nop (want_tmf false) or h->tmf (true). 0, or -1
 * on timeout. */
static int listen_for(struct raw *r, struct heard *h, bool want_tmf, int timeout_ms)
{
	while (want_tmf ? !h->tmf : !h->nop) {
		struct raw_pdu p;
		if (raw_read(r, &p, timeout_ms))
			return -1;
		uint8_t op = p.bhs[0] & 0x3f;
		uint32_t itt = raw_get32(p.bhs + 16);
		if (op == RAW_OP_NOP_IN && itt == h->nop_itt)
			h->nop = true;
		if (op == OP_TMF_RSP && itt == h->tmf_itt) {
			h->tmf = true;
			h->tmf_response = p.bhs[2];
		}
		raw_pdu_free(&p);
	}
	return 0;
}

/* Pings r and waits for the answer: everything r sent before is taken. */
static void sync_ping(struct raw *r, uint32_t itt)
{
	struct heard h = {.nop_itt = itt, .tmf_itt = RAW_RSVD_TAG};
	assert_int_equal(raw_ping(r, itt), 0);
	assert_int_equal(listen_for(r, &h, false, 5000), 0);
}

/* C's writes, beyond V's range; their answers are skipped later. */
static void c_writes(struct raw *c, unsigned round, uint8_t *chunk)
{
	memset(chunk, 0xcc, CHUNK);
	for (unsigned i = 0; i < C_WRITES; i++) {
		uint8_t cdb[16] = {0x2a};
		raw_put32(cdb + 2, (uint32_t)(C_LBA + i * (CHUNK / 512)));
		cdb[7] = (uint8_t)((CHUNK / 512) >> 8);
		cdb[8] = (uint8_t)(CHUNK / 512);
		assert_int_equal(raw_cmd(c, 0x50000 + round * C_WRITES + i, cdb, false, true, CHUNK,
		                         chunk, CHUNK),
		                 0);
	}
	sync_ping(c, 0x60000 + round);
}

static void snapshot(int fd, uint8_t *buf)
{
	assert_int_equal(pread(fd, buf, RANGE, 0), (ssize_t)RANGE);
}

/* Log lines of a barrier joining tasks an earlier abort already waits for. */
static int overlap_lines(void)
{
	FILE *f = fopen(daemon_.log, "r");
	if (!f)
		return -1;
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "PREEMPT AND ABORT") && strstr(line, "an earlier abort"))
			n++;
	fclose(f);
	return n;
}

struct tally {
	long violations[N_KINDS][2]; /* [first abort][V closed] */
	long rounds[N_KINDS][2];
};

static void one_round(struct iscsi_context *p, struct raw *c, int fd, unsigned round,
                      uint8_t *chunk, uint8_t *snap_a, uint8_t *snap_b, struct tally *tl)
{
	enum first_abort kind = (enum first_abort)(rand() % N_KINDS);
	bool close_v = rand() % 2;
	uint64_t key_v = 0x1000 + round;
	struct raw v;
	struct raw_opts o = {.initial_r2t = true, .immediate_data = true, .first_burst = CHUNK};
	assert_int_equal(raw_login(&v, &daemon_, H_TARGET, INI_V, (uint8_t)(round % 250 + 1), &o),
	                 0);
	assert_true(v.immediate_data);
	assert_true(v.first_burst >= CHUNK && v.max_send_dsl >= CHUNK);
	uint8_t tur[16] = {0};
	raw_simple(&v, 1, tur); /* takes the power-on unit attention */
	assert_int_equal(raw_register(&v, 2, key_v), SCSI_STATUS_GOOD);

	/* C's writes widen the race. With CLEAR TASK SET they go into the
	 * backstore's queue first, so that V's are still queued when C's
	 * TMF comes (V's own TMF follows its writes closely enough). With
	 * ABORT TASK they go between V's others and V's last, which it
	 * takes: a barrier that did not wait for that one would answer long
	 * before it lands. Each ping proves the writes sent before it taken. */
	if (kind == BY_CLEAR_TASK_SET)
		c_writes(c, round, chunk);
	uint32_t base = v.cmdsn;
	for (unsigned i = 0; i < N_WRITES; i++) {
		if (kind == BY_ABORT_TASK && i == N_WRITES - 1) {
			sync_ping(&v, 0x30000 + round);
			c_writes(c, round, chunk);
		}
		uint8_t cdb[16] = {0x2a};
		raw_put32(cdb + 2, i * (CHUNK / 512));
		cdb[7] = (uint8_t)((CHUNK / 512) >> 8);
		cdb[8] = (uint8_t)(CHUNK / 512);
		fill_victim(chunk, round, i);
		assert_int_equal(raw_cmd(&v, 100 + i, cdb, false, true, CHUNK, chunk, CHUNK), 0);
	}
	/* Every write of V is in the target before anyone aborts. */
	sync_ping(&v, 0x40000 + round);

	/* The first abort, and proof that the target has taken it. */
	struct raw *sender = kind == BY_CLEAR_TASK_SET ? c : &v;
	uint32_t tmf_itt = 0x10000 + round;
	if (kind == BY_ABORT_TASK) {
		unsigned idx = N_WRITES - 1;
		send_tmf(&v, tmf_itt, TMF_ABORT_TASK, 100 + idx, base + idx);
	} else {
		send_tmf(sender, tmf_itt,
		         kind == BY_CLEAR_TASK_SET ? TMF_CLEAR_TASK_SET : TMF_ABORT_TASK_SET,
		         RAW_RSVD_TAG, 0);
	}
	struct heard h = {.nop_itt = 0x20000 + round, .tmf_itt = tmf_itt};
	assert_int_equal(raw_ping(sender, h.nop_itt), 0);
	assert_int_equal(listen_for(sender, &h, false, 5000), 0);
	if (close_v)
		raw_close(&v);
	usleep((useconds_t)(rand() % 3) * 1000);

	uint8_t params[24] = {0};
	put64(params, KEY_P);
	put64(params + 8, key_v);
	assert_int_equal(
	    h_pr_out(p, 0, SCSI_PERSISTENT_RESERVE_PREEMPT_AND_ABORT, T_WE_RO, params, 24, NULL),
	    SCSI_STATUS_GOOD);
	snapshot(fd, snap_a);
	usleep(50 * 1000);
	snapshot(fd, snap_b);
	tl->rounds[kind][close_v]++;
	if (memcmp(snap_a, snap_b, RANGE)) {
		size_t at = 0;
		while (snap_a[at] == snap_b[at])
			at++;
		fprintf(stderr,
		        "# round %u (%s first%s): victim data landed after PREEMPT AND ABORT "
		        "(byte %zu)\n",
		        round, kind_name[kind], close_v ? ", V closed" : "", at);
		tl->violations[kind][close_v]++;
	}

	/* The first abort is answered too, once its tasks have left. */
	if (sender != &v || !close_v) {
		assert_int_equal(listen_for(sender, &h, true, 10000), 0);
		if (kind == BY_ABORT_TASK)
			assert_true(h.tmf_response == 0 || h.tmf_response == 1);
		else
			assert_int_equal(h.tmf_response, 0);
	}
	if (!close_v)
		raw_close(&v);
}

static void test_later_abort_waits_too(void **state)
{
	(void)state;
	const char *e = getenv("PRKIT_OVERLAP_ROUNDS");
	unsigned rounds = e ? (unsigned)atoi(e) : 24;
	e = getenv("PRKIT_OVERLAP_SEED");
	unsigned seed = e ? (unsigned)atoi(e) : (unsigned)time(NULL);
	srand(seed);
	fprintf(stderr, "# seed %u, %u rounds\n", seed, rounds);

	struct iscsi_context *p = h_login(&daemon_, 0, INI_P, 1);
	assert_non_null(p);
	assert_int_equal(h_clear_ua(p, 0), SCSI_STATUS_GOOD);
	uint8_t params[24] = {0};
	put64(params + 8, KEY_P);
	assert_int_equal(h_pr_out(p, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, params, 24, NULL),
	                 SCSI_STATUS_GOOD);
	memset(params, 0, sizeof(params));
	put64(params, KEY_P);
	assert_int_equal(h_pr_out(p, 0, SCSI_PERSISTENT_RESERVE_RESERVE, T_WE_RO, params, 24, NULL),
	                 SCSI_STATUS_GOOD);

	/* C sends CLEAR TASK SET, and the writes that queue before V's last. */
	struct raw c;
	struct raw_opts o = {.initial_r2t = true, .immediate_data = true, .first_burst = CHUNK};
	assert_int_equal(raw_login(&c, &daemon_, H_TARGET, INI_C, 1, &o), 0);
	uint8_t tur[16] = {0};
	raw_simple(&c, 1, tur); /* takes the power-on unit attention */
	assert_int_equal(raw_register(&c, 2, KEY_C), SCSI_STATUS_GOOD); /* writes pass P's WE_RO */

	char path[400];
	snprintf(path, sizeof(path), "%s/lu0.img", daemon_.dir);
	int fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	assert_true(fd >= 0);
	uint8_t *chunk = NULL, *a = NULL, *b = NULL;
	assert_int_equal(posix_memalign((void **)&chunk, 4096, CHUNK), 0);
	assert_int_equal(posix_memalign((void **)&a, 4096, RANGE), 0);
	assert_int_equal(posix_memalign((void **)&b, 4096, RANGE), 0);

	struct tally tl = {0};
	for (unsigned r = 0; r < rounds; r++) {
		one_round(p, &c, fd, r, chunk, a, b, &tl);
		/* P may have a unit attention (2F/00 after a CLEAR TASK SET). */
		h_clear_ua(p, 0);
	}
	long total = 0;
	for (int k = 0; k < N_KINDS; k++)
		for (int cl = 0; cl < 2; cl++) {
			fprintf(stderr, "# %s first%s: %ld violation(s) in %ld round(s)\n",
			        kind_name[k], cl ? ", V closed" : "", tl.violations[k][cl],
			        tl.rounds[k][cl]);
			total += tl.violations[k][cl];
		}
	fprintf(stderr,
	        "# %ld violation(s) in %u rounds; PREEMPT AND ABORT found tasks an earlier "
	        "abort held in %d\n",
	        total, rounds, overlap_lines());
	free(chunk);
	free(a);
	free(b);
	close(fd);
	raw_close(&c);
	h_logout(p);
	assert_int_equal(total, 0);
}

/* Since every TMF waits for the tasks it takes, even those another TMF
 * waits for, an initiator repeating an immediate ABORT TASK SET while its
 * writes are in the backstore would pile up waiting TMFs without end: a
 * connection may have PRK_TMF_PENDING_MAX (16) waiting, and one more is
 * answered "Function rejected" (255) at once. 24 of them in one burst
 * behind queued writes: every one is answered, only with 0 or 255, and at
 * least one is rejected (the burst may be taken while the writes are
 * still queued; a few attempts make sure one is). */
#define BURST 24
static void test_waiting_tmfs_capped(void **state)
{
	(void)state;
	struct raw_opts o = {.initial_r2t = true, .immediate_data = true, .first_burst = CHUNK};
	struct raw c, v;
	assert_int_equal(raw_login(&c, &daemon_, H_TARGET, INI_C, 2, &o), 0);
	assert_int_equal(raw_login(&v, &daemon_, H_TARGET, INI_V, 252, &o), 0);
	uint8_t tur[16] = {0};
	raw_simple(&c, 1, tur);
	raw_simple(&v, 1, tur);
	assert_int_equal(raw_register(&c, 2, KEY_C + 1), SCSI_STATUS_GOOD);
	assert_int_equal(raw_register(&v, 2, KEY_C + 2), SCSI_STATUS_GOOD);
	uint8_t *chunk = NULL;
	assert_int_equal(posix_memalign((void **)&chunk, 4096, CHUNK), 0);
	int rejected_total = 0;
	for (unsigned attempt = 0; attempt < 5 && !rejected_total; attempt++) {
		c_writes(&c, 1000 + attempt, chunk); /* V's writes queue behind these */
		for (unsigned i = 0; i < N_WRITES; i++) {
			uint8_t cdb[16] = {0x2a};
			raw_put32(cdb + 2, i * (CHUNK / 512));
			cdb[7] = (uint8_t)((CHUNK / 512) >> 8);
			cdb[8] = (uint8_t)(CHUNK / 512);
			fill_victim(chunk, 1000 + attempt, i);
			assert_int_equal(raw_cmd(&v, 0x100 + attempt * 0x100 + i, cdb, false, true,
			                         CHUNK, chunk, CHUNK),
			                 0);
		}
		uint8_t burst[BURST * 48] = {0};
		for (unsigned k = 0; k < BURST; k++) {
			uint8_t *b = burst + 48 * k;
			b[0] = 0x40 | OP_TMF_REQ;
			b[1] = 0x80 | TMF_ABORT_TASK_SET;
			raw_put32(b + 16, 0x70000 + attempt * 0x100 + k);
			raw_put32(b + 20, RAW_RSVD_TAG);
			raw_put32(b + 24, v.cmdsn);
			raw_put32(b + 28, v.expstatsn);
		}
		assert_int_equal(raw_send_all(v.fd, burst, sizeof(burst)), 0);
		int answered = 0, rejected = 0;
		while (answered < BURST) {
			struct raw_pdu p;
			assert_int_equal(raw_read(&v, &p, 10000), 0);
			uint32_t itt = raw_get32(p.bhs + 16);
			if ((p.bhs[0] & 0x3f) == OP_TMF_RSP && itt >= 0x70000 + attempt * 0x100 &&
			    itt < 0x70000 + attempt * 0x100 + BURST) {
				answered++;
				assert_true(p.bhs[2] == 0 || p.bhs[2] == 255);
				rejected += p.bhs[2] == 255;
			}
			raw_pdu_free(&p);
		}
		fprintf(stderr, "# attempt %u: %d of %d TMFs rejected\n", attempt, rejected, BURST);
		assert_true(rejected <= BURST - 16);
		rejected_total += rejected;
	}
	free(chunk);
	raw_close(&v);
	raw_close(&c);
	assert_true(rejected_total > 0);
	assert_true(h_log_contains(&daemon_, "TMFs already wait for tasks: rejected"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_later_abort_waits_too),
	    cmocka_unit_test(test_waiting_tmfs_capped),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
