/* Integration tests of prkitd's limits and their defined behaviour:
 * max_sessions, max_tasks (the CmdSN window), the data segment limits
 * (max_recv_data_segment_length, 64 KiB during login), malformed first
 * PDUs, and NOP-In pings of idle connections.
 *
 * Some tests speak iSCSI over a plain socket (no digests, login straight
 * into full feature phase as libiscsi does it) to observe what libiscsi
 * hides: the CmdSN window, and a connection that ignores NOP-In pings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"
#include "harness_cmd.h"

#define INI_A "iqn.2026-11.io.prkit.test:host-a"
#define INI_B "iqn.2026-11.io.prkit.test:host-b"
#define INI_RAW "iqn.2026-11.io.prkit.test:raw"

#define MAX_TASKS 4

static struct h_daemon daemon_;

/* One portal, H_TARGET with a 32 MiB RAM LU, and extra top-level fields. */
static int start_with(const char *extra)
{
	char cfg[2048];
	snprintf(cfg, sizeof(cfg),
	         "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}],"
	         " \"admin_socket\": \"@DIR@/admin.sock\", %s,"
	         " \"targets\": [{\"name\": \"%s\", \"luns\": [{\"backstore\": "
	         "{\"type\": \"ram\", \"size\": \"32M\"}}]}]}",
	         extra, H_TARGET);
	return h_start(&daemon_, cfg);
}

static int setup_sessions(void **state)
{
	(void)state;
	return start_with("\"max_sessions\": 2, \"nop_interval_ms\": 60000");
}

static int setup_tasks(void **state)
{
	(void)state;
	return start_with("\"max_tasks\": 4, \"nop_interval_ms\": 60000");
}

static int setup_small_dsl(void **state)
{
	(void)state;
	return start_with("\"max_recv_data_segment_length\": 4096, \"nop_interval_ms\": 60000");
}

static int setup_default(void **state)
{
	(void)state;
	return start_with("\"nop_interval_ms\": 60000");
}

static int setup_nop(void **state)
{
	(void)state;
	return start_with("\"nop_interval_ms\": 300, \"nop_timeout_ms\": 900");
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

/* ---- iSCSI over a plain socket ---- */

#define OP_NOP_OUT 0x00
#define OP_SCSI_CMD 0x01
#define OP_LOGIN_REQ 0x03
#define OP_NOP_IN 0x20
#define OP_SCSI_RSP 0x21
#define OP_LOGIN_RSP 0x23
#define OP_R2T 0x31
#define RSVD_TAG 0xffffffffu

struct raw {
	int fd;
	uint32_t cmdsn;     /* of the next non-immediate command */
	uint32_t expstatsn; /* next StatSN expected */
	uint32_t itt;
	/* From the last PDU that carried them. */
	uint32_t expcmdsn, maxcmdsn;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes within timeout_ms. 0, or -1 on close/timeout. */
static int recv_all(int fd, void *buf, size_t len, int timeout_ms)
{
	uint8_t *p = buf;
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	while (len) {
		uint64_t now = h_now_ms();
		if (now >= end)
			return -1;
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int r = poll(&pf, 1, (int)(end - now));
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		ssize_t n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one PDU without digests: the BHS, and the data segment (up to cap
 * bytes kept; *dlen is its length). Updates the window. 0, or -1. */
static int raw_read_pdu(struct raw *r, uint8_t bhs[48], uint8_t *data, size_t cap, uint32_t *dlen,
                        int timeout_ms)
{
	if (recv_all(r->fd, bhs, 48, timeout_ms))
		return -1;
	uint32_t n = get24(bhs + 5), padded = (n + 3) & ~3u;
	size_t ahs = (size_t)bhs[4] * 4;
	uint8_t *tmp = malloc(ahs + padded + 1);
	if (!tmp || recv_all(r->fd, tmp, ahs + padded, timeout_ms)) {
		free(tmp);
		return -1;
	}
	if (data && cap)
		memcpy(data, tmp + ahs, n < cap ? n : cap);
	free(tmp);
	if (dlen)
		*dlen = n;
	uint8_t op = bhs[0] & 0x3f;
	if (op == OP_NOP_IN || op == OP_SCSI_RSP || op == OP_LOGIN_RSP || op == OP_R2T ||
	    op == 0x25 /* Data-In */) {
		r->expcmdsn = get32(bhs + 28);
		r->maxcmdsn = get32(bhs + 32);
	}
	return 0;
}

/* The CmdSN window the last PDU advertised. */
static uint32_t raw_window(const struct raw *r)
{
	return r->maxcmdsn - r->expcmdsn + 1;
}

static size_t add_kv(uint8_t *buf, size_t len, const char *kv)
{
	size_t n = strlen(kv) + 1;
	memcpy(buf + len, kv, n);
	return len + n;
}

/* Connects and logs in to H_TARGET in one request (operational stage
 * straight to full feature phase, no authentication). On success returns
 * 0 and, when text is not NULL, keeps the login response's NUL-separated
 * key=value pairs in text (*text_len bytes). */
static int raw_login(struct raw *r, const char *initiator, uint8_t isid_q, char *text, size_t cap,
                     size_t *text_len)
{
	memset(r, 0, sizeof(*r));
	r->fd = h_tcp_connect(&daemon_, 0);
	if (r->fd < 0)
		return -1;
	uint8_t pdu[48 + 1024] = {0};
	char kv[300];
	size_t len = 0;
	snprintf(kv, sizeof(kv), "InitiatorName=%s", initiator);
	len = add_kv(pdu + 48, len, kv);
	snprintf(kv, sizeof(kv), "TargetName=%s", H_TARGET);
	len = add_kv(pdu + 48, len, kv);
	len = add_kv(pdu + 48, len, "SessionType=Normal");
	len = add_kv(pdu + 48, len, "HeaderDigest=None");
	len = add_kv(pdu + 48, len, "DataDigest=None");
	len = add_kv(pdu + 48, len, "InitialR2T=Yes");
	len = add_kv(pdu + 48, len, "ImmediateData=No");
	len = add_kv(pdu + 48, len, "MaxRecvDataSegmentLength=65536");
	pdu[0] = 0x40 | OP_LOGIN_REQ; /* immediate */
	pdu[1] = 0x80 | 1 << 2 | 3;   /* T, CSG operational, NSG full feature phase */
	put24(pdu + 5, (uint32_t)len);
	pdu[8] = 0x80; /* ISID: random format */
	pdu[9] = 0x52;
	pdu[10] = 0x41;
	pdu[11] = 0x57;
	pdu[13] = isid_q;
	put32(pdu + 16, r->itt++); /* ITT */
	put32(pdu + 24, 1);        /* CmdSN */
	r->cmdsn = 1;
	if (send_all(r->fd, pdu, 48 + ((len + 3) & ~(size_t)3)))
		return -1;
	uint8_t bhs[48];
	uint32_t dlen;
	char rsp[4096] = {0};
	if (raw_read_pdu(r, bhs, (uint8_t *)rsp, sizeof(rsp) - 1, &dlen, 5000))
		return -1;
	if ((bhs[0] & 0x3f) != OP_LOGIN_RSP || bhs[36] != 0 || !(bhs[1] & 0x80) ||
	    (bhs[1] & 3) != 3) {
		fprintf(stderr, "raw login: opcode 0x%02x status %u/%u flags 0x%02x\n", bhs[0],
		        bhs[36], bhs[37], bhs[1]);
		return -1;
	}
	r->expstatsn = get32(bhs + 24) + 1;
	r->cmdsn = r->expcmdsn;
	if (text && cap) {
		size_t n = dlen < cap - 1 ? dlen : cap - 1;
		n = n < sizeof(rsp) - 1 ? n : sizeof(rsp) - 1;
		memcpy(text, rsp, n);
		text[n] = 0;
		*text_len = n;
	}
	return 0;
}

/* Is key=value among the NUL-separated pairs of text (len bytes)? */
static bool text_has(const char *text, size_t len, const char *kv)
{
	for (size_t off = 0; off < len; off += strlen(text + off) + 1)
		if (strcmp(text + off, kv) == 0)
			return true;
	return false;
}

/* An immediate NOP-Out that asks for an answer, with dlen bytes of ping
 * data. Returns 0 when sent. */
static int raw_nop_out(struct raw *r, uint32_t itt, uint32_t dlen)
{
	size_t total = 48 + ((dlen + 3) & ~3u);
	uint8_t *pdu = calloc(1, total);
	if (!pdu)
		return -1;
	pdu[0] = 0x40 | OP_NOP_OUT;
	pdu[1] = 0x80;
	put24(pdu + 5, dlen);
	put32(pdu + 16, itt);
	put32(pdu + 20, RSVD_TAG);
	put32(pdu + 24, r->cmdsn);
	put32(pdu + 28, r->expstatsn);
	for (uint32_t i = 0; i < dlen; i++)
		pdu[48 + i] = (uint8_t)(i * 31);
	int rc = send_all(r->fd, pdu, total);
	free(pdu);
	return rc;
}

/* A non-immediate SCSI command with a 16-byte CDB and no data. */
static int raw_scsi_cmd(struct raw *r, uint32_t itt, const uint8_t cdb[16], bool write,
                        uint32_t edtl)
{
	uint8_t pdu[48] = {0};
	pdu[0] = OP_SCSI_CMD;
	pdu[1] = 0x80 | (write ? 0x20 : 0) | 1; /* F, W, SIMPLE */
	put32(pdu + 16, itt);
	put32(pdu + 20, edtl);
	put32(pdu + 24, r->cmdsn++);
	put32(pdu + 28, r->expstatsn);
	memcpy(pdu + 32, cdb, 16);
	return send_all(r->fd, pdu, sizeof(pdu));
}

/* Reads PDUs until the SCSI Response of itt; returns its status, or -1. */
static int raw_wait_status(struct raw *r, uint32_t itt, uint8_t *sense_key)
{
	for (int i = 0; i < 64; i++) {
		uint8_t bhs[48], data[64];
		uint32_t dlen;
		if (raw_read_pdu(r, bhs, data, sizeof(data), &dlen, 5000))
			return -1;
		if ((bhs[0] & 0x3f) != OP_SCSI_RSP || get32(bhs + 16) != itt)
			continue;
		r->expstatsn = get32(bhs + 24) + 1;
		if (sense_key)
			*sense_key = dlen >= 5 ? data[2 + 2] & 0x0f : 0;
		return bhs[3];
	}
	return -1;
}

/* TEST UNIT READY until GOOD (the first one reports the power-on UA). */
static void raw_clear_ua(struct raw *r)
{
	static const uint8_t tur[16] = {0};
	int st = -1;
	for (int i = 0; i < 4 && st != SCSI_STATUS_GOOD; i++) {
		uint32_t itt = r->itt++;
		assert_int_equal(raw_scsi_cmd(r, itt, tur, false, 0), 0);
		st = raw_wait_status(r, itt, NULL);
	}
	assert_int_equal(st, SCSI_STATUS_GOOD);
}

/* The daemon still serves a normal libiscsi session. */
static void assert_serving(uint32_t isid)
{
	struct iscsi_context *iscsi = h_login(&daemon_, 0, INI_A, isid);
	assert_non_null(iscsi);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	h_logout(iscsi);
}

/* ---- max_sessions ---- */

static void test_max_sessions_refuses_third_then_admits_after_logout(void **state)
{
	(void)state;
	struct iscsi_context *s1 = h_login(&daemon_, 0, INI_A, 1);
	struct iscsi_context *s2 = h_login(&daemon_, 0, INI_A, 2);
	assert_non_null(s1);
	assert_non_null(s2);
	char err[256];
	struct h_login_opts o = {.error = err, .error_cap = sizeof(err)};
	struct iscsi_context *s3 = h_login_ex(&daemon_, 0, INI_B, 3, &o);
	assert_null(s3);
	/* Login status 03/02: out of resources. */
	assert_non_null(strstr(err, "Out of resources"));
	assert_true(h_log_contains(&daemon_, "2 sessions is the limit"));
	/* The two sessions still work. */
	assert_int_equal(h_clear_ua(s1, 0), SCSI_STATUS_GOOD);
	assert_int_equal(h_clear_ua(s2, 0), SCSI_STATUS_GOOD);

	h_logout(s1);
	/* The logout response goes out as the session ends, so the next login
	 * succeeds at once; retry briefly all the same, never for long. */
	struct iscsi_context *s4 = NULL;
	for (int i = 0; i < 50 && !s4; i++) {
		s4 = h_login(&daemon_, 0, INI_B, 4);
		if (!s4)
			usleep(100 * 1000);
	}
	assert_non_null(s4);
	assert_int_equal(h_clear_ua(s4, 0), SCSI_STATUS_GOOD);
	/* Still two: a fifth is refused. */
	assert_null(h_login_ex(&daemon_, 0, INI_B, 5, &o));
	assert_non_null(strstr(err, "Out of resources"));

	/* Reinstatement at the limit: the same initiator and ISID replace their
	 * old session, which does not count against the new one. */
	struct iscsi_context *s2b = h_login(&daemon_, 0, INI_A, 2);
	assert_non_null(s2b);
	assert_int_equal(h_clear_ua(s2b, 0), SCSI_STATUS_GOOD);
	assert_true(h_log_contains(&daemon_, "reinstating session of " INI_A));
	iscsi_destroy_context(s2); /* closed by the target */
	h_logout(s2b);
	h_logout(s4);
}

/* ---- max_tasks and the CmdSN window ---- */

/* The window the target advertises at login and afterwards never exceeds
 * max_tasks. */
static void test_max_tasks_bounds_advertised_window(void **state)
{
	(void)state;
	struct raw r;
	assert_int_equal(raw_login(&r, INI_RAW, 1, NULL, 0, NULL), 0);
	uint32_t w = raw_window(&r);
	print_message("# login: ExpCmdSN %u MaxCmdSN %u window %u\n", r.expcmdsn, r.maxcmdsn, w);
	assert_true(w >= 1 && w <= MAX_TASKS);
	assert_int_equal(raw_nop_out(&r, 0x77, 0), 0);
	uint8_t bhs[48];
	assert_int_equal(raw_read_pdu(&r, bhs, NULL, 0, NULL, 5000), 0);
	assert_int_equal(bhs[0] & 0x3f, OP_NOP_IN);
	assert_int_equal(get32(bhs + 16), 0x77);
	w = raw_window(&r);
	assert_true(w >= 1 && w <= MAX_TASKS);
	raw_clear_ua(&r);
	w = raw_window(&r);
	assert_true(w >= 1 && w <= MAX_TASKS);
	close(r.fd);
}

struct async_state {
	int pending;
	int good;
	int bad_status;
	uint8_t *expect[64]; /* reads: the data each one must return */
	uint32_t len;
};

struct async_op {
	struct async_state *st;
	int index;
};

static void async_done(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	(void)iscsi;
	struct async_op *op = priv;
	struct scsi_task *t = command_data;
	struct async_state *st = op->st;
	st->pending--;
	if (status == SCSI_STATUS_GOOD && t && t->status == SCSI_STATUS_GOOD) {
		bool ok = true;
		if (st->expect[op->index])
			ok = t->datain.size == (int)st->len &&
			     memcmp(t->datain.data, st->expect[op->index], st->len) == 0;
		st->good += ok;
		st->bad_status += !ok;
	} else {
		fprintf(stderr, "async command %d: status %d (scsi 0x%x, sense %s)\n", op->index,
		        status, t ? t->status : -1, t ? scsi_sense_key_str(t->sense.key) : "-");
		st->bad_status++;
	}
	if (t)
		scsi_free_scsi_task(t);
}

/* Services iscsi until nothing is pending (0) or timeout_ms pass (-1). */
static int run_until_done(struct iscsi_context *iscsi, const int *pending, int timeout_ms)
{
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	while (*pending > 0) {
		if (h_now_ms() >= end)
			return -1;
		struct pollfd pf = {.fd = iscsi_get_fd(iscsi), .events = iscsi_which_events(iscsi)};
		int r = poll(&pf, 1, 100);
		if (r < 0 && errno != EINTR)
			return -1;
		if (iscsi_service(iscsi, r > 0 ? pf.revents : 0) < 0)
			return -1;
	}
	return 0;
}

#define N_ASYNC (MAX_TASKS + 8)

/* max_tasks + 8 READs at once: the window holds the initiator back and
 * every one completes GOOD with the right data. */
static void test_max_tasks_many_reads_all_good(void **state)
{
	(void)state;
	struct iscsi_context *iscsi = h_login(&daemon_, 0, INI_A, 1);
	assert_non_null(iscsi);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	const uint32_t len = 65536;
	struct async_state st = {.len = len};
	struct async_op ops[N_ASYNC];
	for (int i = 0; i < N_ASYNC; i++) {
		st.expect[i] = malloc(len);
		assert_non_null(st.expect[i]);
		for (uint32_t k = 0; k < len; k++)
			st.expect[i][k] = (uint8_t)(k * 13 + i * 101 + (k >> 10));
		struct scsi_task *t = iscsi_write16_sync(iscsi, 0, (uint64_t)i * 256, st.expect[i],
		                                         len, 512, 0, 0, 0, 0, 0);
		assert_non_null(t);
		assert_int_equal(t->status, SCSI_STATUS_GOOD);
		scsi_free_scsi_task(t);
	}
	for (int i = 0; i < N_ASYNC; i++) {
		ops[i] = (struct async_op){.st = &st, .index = i};
		assert_non_null(iscsi_read16_task(iscsi, 0, (uint64_t)i * 256, len, 512, 0, 0, 0, 0,
		                                  0, async_done, &ops[i]));
		st.pending++;
	}
	assert_int_equal(run_until_done(iscsi, &st.pending, 30000), 0);
	assert_int_equal(st.bad_status, 0);
	assert_int_equal(st.good, N_ASYNC);
	for (int i = 0; i < N_ASYNC; i++)
		free(st.expect[i]);
	assert_false(h_log_contains(&daemon_, "outside ["));
	h_logout(iscsi);
}

/* The same with WRITEs larger than FirstBurstLength: each waits for an R2T
 * and stays outstanding in the target meanwhile. Every one completes GOOD
 * and the data reads back. */
static void test_max_tasks_many_r2t_writes_all_good(void **state)
{
	(void)state;
	struct iscsi_context *iscsi = h_login(&daemon_, 0, INI_A, 2);
	assert_non_null(iscsi);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	const uint32_t len = 256 * 1024;
	struct async_state st = {.len = len};
	struct async_op ops[N_ASYNC];
	uint8_t *bufs[N_ASYNC];
	for (int i = 0; i < N_ASYNC; i++) {
		bufs[i] = malloc(len);
		assert_non_null(bufs[i]);
		for (uint32_t k = 0; k < len; k++)
			bufs[i][k] = (uint8_t)(k * 7 + i * 29 + (k >> 9));
		ops[i] = (struct async_op){.st = &st, .index = i};
		assert_non_null(iscsi_write16_task(iscsi, 0, 8192 + (uint64_t)i * 1024, bufs[i],
		                                   len, 512, 0, 0, 0, 0, 0, async_done, &ops[i]));
		st.pending++;
	}
	assert_int_equal(run_until_done(iscsi, &st.pending, 30000), 0);
	assert_int_equal(st.bad_status, 0);
	assert_int_equal(st.good, N_ASYNC);
	for (int i = 0; i < N_ASYNC; i++) {
		struct scsi_task *t =
		    iscsi_read16_sync(iscsi, 0, 8192 + (uint64_t)i * 1024, len, 512, 0, 0, 0, 0, 0);
		assert_non_null(t);
		assert_int_equal(t->status, SCSI_STATUS_GOOD);
		assert_int_equal(t->datain.size, (int)len);
		assert_memory_equal(t->datain.data, bufs[i], len);
		scsi_free_scsi_task(t);
		free(bufs[i]);
	}
	h_logout(iscsi);
}

/* With max_tasks commands outstanding (WRITEs waiting for their data),
 * either the target closes the window (MaxCmdSN below the next CmdSN), or a
 * command sent inside the window it advertises must not fail with TASK SET
 * FULL: an initiator that respects the window never sees it. */
static void test_max_tasks_window_respected_means_no_task_set_full(void **state)
{
	(void)state;
	struct raw r;
	assert_int_equal(raw_login(&r, INI_RAW, 2, NULL, 0, NULL), 0);
	raw_clear_ua(&r);
	uint8_t w16[16] = {0x8a};
	w16[13] = 16; /* 16 blocks: 8 KiB, sent only after an R2T */
	for (int i = 0; i < MAX_TASKS; i++) {
		w16[9] = (uint8_t)(i * 16);
		assert_int_equal(raw_scsi_cmd(&r, 0x1000 + (uint32_t)i, w16, true, 8192), 0);
	}
	int r2ts = 0;
	while (r2ts < MAX_TASKS) {
		uint8_t bhs[48];
		assert_int_equal(raw_read_pdu(&r, bhs, NULL, 0, NULL, 5000), 0);
		assert_int_equal(bhs[0] & 0x3f, OP_R2T);
		r2ts++;
	}
	/* MAX_TASKS tasks are outstanding now. */
	int32_t room = (int32_t)(r.maxcmdsn - r.cmdsn) + 1; /* commands the window admits */
	print_message(
	    "# %d tasks outstanding: ExpCmdSN %u MaxCmdSN %u next CmdSN %u: room for %d\n",
	    MAX_TASKS, r.expcmdsn, r.maxcmdsn, r.cmdsn, room);
	if (room > 0) {
		static const uint8_t tur[16] = {0};
		uint8_t key = 0;
		assert_int_equal(raw_scsi_cmd(&r, 0x2000, tur, false, 0), 0);
		int status = raw_wait_status(&r, 0x2000, &key);
		print_message("# a command inside the window: status 0x%02x\n", status);
		assert_int_not_equal(status, SCSI_STATUS_TASK_SET_FULL);
		assert_int_equal(status, SCSI_STATUS_GOOD);
	}
	close(r.fd);
	assert_serving(9);
}

/* ---- data segment limits ---- */

/* A 1 MiB WRITE through a 4 KiB MaxRecvDataSegmentLength: many Data-Out
 * PDUs in R2T bursts; it reads back intact. */
static void test_small_max_recv_dsl_large_write_reads_back(void **state)
{
	(void)state;
	struct iscsi_context *iscsi = h_login(&daemon_, 0, INI_A, 1);
	assert_non_null(iscsi);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	const uint32_t len = 1024 * 1024;
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 11 + (i >> 12) * 3);
	h_assert_write_read(iscsi, 0, 4096, buf, len);
	free(buf);
	h_logout(iscsi);
}

/* The target declares the configured MaxRecvDataSegmentLength; a PDU with
 * exactly that much data is served, one with more closes the connection. */
static void test_small_max_recv_dsl_longer_pdu_closes(void **state)
{
	(void)state;
	struct raw r;
	char text[4096];
	size_t tlen = 0;
	assert_int_equal(raw_login(&r, INI_RAW, 3, text, sizeof(text), &tlen), 0);
	assert_true(text_has(text, tlen, "MaxRecvDataSegmentLength=4096"));
	assert_int_equal(raw_nop_out(&r, 0x10, 4096), 0);
	uint8_t bhs[48];
	uint8_t *echo = malloc(4096);
	uint32_t dlen = 0;
	assert_non_null(echo);
	assert_int_equal(raw_read_pdu(&r, bhs, echo, 4096, &dlen, 5000), 0);
	assert_int_equal(bhs[0] & 0x3f, OP_NOP_IN);
	assert_int_equal(dlen, 4096);
	for (uint32_t i = 0; i < 4096; i++)
		assert_int_equal(echo[i], (uint8_t)(i * 31));
	free(echo);
	assert_int_equal(raw_nop_out(&r, 0x11, 8192), 0);
	assert_int_equal(h_wait_closed(r.fd, 2000), 1);
	close(r.fd);
	assert_true(h_log_contains(&daemon_, "8192-byte data segment (limit 4096)"));
	assert_serving(7);
}

/* ---- malformed first PDUs ---- */

static void test_garbage_first_pdu_closes_connection(void **state)
{
	(void)state;
	int fd = h_tcp_connect(&daemon_, 0);
	assert_true(fd >= 0);
	uint8_t junk[48];
	memset(junk, 0xff, sizeof(junk));
	assert_int_equal(send_all(fd, junk, sizeof(junk)), 0);
	assert_int_equal(h_wait_closed(fd, 2000), 1);
	close(fd);
	assert_serving(1);
	/* Half a header, then the peer goes away: nothing to answer. */
	fd = h_tcp_connect(&daemon_, 0);
	assert_true(fd >= 0);
	assert_int_equal(send_all(fd, junk, 20), 0);
	close(fd);
	assert_serving(2);
}

static void test_login_pdu_over_64k_closes_connection(void **state)
{
	(void)state;
	int fd = h_tcp_connect(&daemon_, 0);
	assert_true(fd >= 0);
	uint8_t pdu[48] = {0x40 | OP_LOGIN_REQ, 0x80 | 1 << 2 | 3};
	put24(pdu + 5, 65537);
	pdu[8] = 0x80;
	assert_int_equal(send_all(fd, pdu, sizeof(pdu)), 0);
	assert_int_equal(h_wait_closed(fd, 2000), 1);
	close(fd);
	assert_true(h_log_contains(&daemon_, "65537-byte data segment (limit 65536)"));
	assert_serving(3);
}

/* A SCSI command as the first PDU: only Login may come first. */
static void test_non_login_first_pdu_closes_connection(void **state)
{
	(void)state;
	struct raw r = {.fd = h_tcp_connect(&daemon_, 0)};
	assert_true(r.fd >= 0);
	static const uint8_t tur[16] = {0};
	assert_int_equal(raw_scsi_cmd(&r, 1, tur, false, 0), 0);
	assert_int_equal(h_wait_closed(r.fd, 2000), 1);
	close(r.fd);
	assert_serving(4);
}

/* ---- NOP-In pings ---- */

/* A connection that ignores NOP-In pings is dropped after about
 * nop_interval + nop_timeout; a libiscsi session, which answers them,
 * stays up meanwhile and afterwards. */
static void test_nop_drops_silent_connection_keeps_answering_one(void **state)
{
	(void)state;
	struct iscsi_context *iscsi = h_login(&daemon_, 0, INI_A, 1);
	assert_non_null(iscsi);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	struct raw r;
	assert_int_equal(raw_login(&r, INI_RAW, 4, NULL, 0, NULL), 0);
	uint64_t t0 = h_now_ms(), closed_at = 0;
	int pings = 0, service_errors = 0;
	/* At least 4 s (several ping rounds for the libiscsi session), at most
	 * 10 s for the silent one to go. */
	while (h_now_ms() - t0 < 4000 || (!closed_at && h_now_ms() - t0 < 10000)) {
		struct pollfd pf[2] = {
		    {.fd = iscsi_get_fd(iscsi), .events = iscsi_which_events(iscsi)},
		    {.fd = closed_at ? -1 : r.fd, .events = POLLIN},
		};
		int n = poll(pf, 2, 100);
		if (n < 0 && errno != EINTR)
			break;
		if (iscsi_service(iscsi, n > 0 ? pf[0].revents : 0) < 0)
			service_errors++;
		if (!closed_at && n > 0 && pf[1].revents) {
			uint8_t bhs[48];
			if (raw_read_pdu(&r, bhs, NULL, 0, NULL, 2000)) {
				closed_at = h_now_ms();
				continue;
			}
			/* A ping: NOP-In with a TTT (RFC 7143 11.19), not answered. */
			if ((bhs[0] & 0x3f) == OP_NOP_IN && get32(bhs + 20) != RSVD_TAG &&
			    get32(bhs + 16) == RSVD_TAG)
				pings++;
		}
	}
	close(r.fd);
	print_message("# silent connection: %d ping(s), dropped after %llu ms\n", pings,
	              (unsigned long long)(closed_at - t0));
	assert_true(closed_at != 0);
	assert_true(pings >= 1);
	assert_true(closed_at - t0 >= 900);  /* not before nop_timeout_ms */
	assert_true(closed_at - t0 <= 6000); /* interval + timeout + timer ticks */
	assert_true(h_log_contains(&daemon_, "no answer to NOP-In ping"));
	assert_int_equal(service_errors, 0);
	/* The libiscsi session was idle as long, was pinged, answered, and is
	 * still logged in. */
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	char out[8192], err[1024];
	const char *args[] = {"--json", "sessions", NULL};
	assert_int_equal(h_cli(&daemon_, out, sizeof(out), err, sizeof(err), args), 0);
	assert_non_null(strstr(out, INI_A));
	assert_null(strstr(out, INI_RAW));
	h_logout(iscsi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_max_sessions_refuses_third_then_admits_after_logout, setup_sessions, teardown),
	    cmocka_unit_test_setup_teardown(test_max_tasks_bounds_advertised_window, setup_tasks,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_max_tasks_many_reads_all_good, setup_tasks,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_max_tasks_many_r2t_writes_all_good, setup_tasks,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_max_tasks_window_respected_means_no_task_set_full,
	                                    setup_tasks, teardown),
	    cmocka_unit_test_setup_teardown(test_small_max_recv_dsl_large_write_reads_back,
	                                    setup_small_dsl, teardown),
	    cmocka_unit_test_setup_teardown(test_small_max_recv_dsl_longer_pdu_closes,
	                                    setup_small_dsl, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_first_pdu_closes_connection, setup_default,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_login_pdu_over_64k_closes_connection,
	                                    setup_default, teardown),
	    cmocka_unit_test_setup_teardown(test_non_login_first_pdu_closes_connection,
	                                    setup_default, teardown),
	    cmocka_unit_test_setup_teardown(test_nop_drops_silent_connection_keeps_answering_one,
	                                    setup_nop, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
