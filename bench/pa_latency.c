/* pa_latency: PREEMPT AND ABORT latency with outstanding I/O (libiscsi,
 * asynchronous).
 *
 * Two initiators log in to the same LU: P (the preemptor) registers key KP
 * and holds a WE-RO (type 5) reservation; each round, a fresh victim session
 * V logs in, registers key KV and keeps --qd 4 KiB writes in flight; after
 * --settle ms, P sends PREEMPT AND ABORT of KV and the time from its
 * submission to its GOOD completion is measured. prkitd completes it only
 * after every task of V has been aborted and has left the LU. V's aborted
 * tasks are dropped (TAS=0) or end with TASK ABORTED; V is then torn down
 * and the next round logs in again (same ISID: session reinstatement) and
 * re-registers.
 *
 * Usage: pa_latency --url iscsi://HOST:PORT/IQN/LUN [--rounds R] [--qd N]
 *        [--settle MS]
 * Prints: RESULT rounds=R qd=N p50_us=X p99_us=Y max_us=Z inflight_avg=W
 * (inflight_avg: V's writes outstanding when PA was sent, averaged).
 * Exits 1 if any PR command or write failed unexpectedly, 2 on set-up errors. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"

#define KP 0x5041000000000001ULL /* preemptor */
#define KV 0x5041000000000002ULL /* victim */
#define IO_BYTES 4096
#define MAX_QD 128

static const char *url_s;
static unsigned rounds = 50, qd = 32, settle_ms = 20;
static int lun;
static uint32_t block_size;
static uint64_t nblocks;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct iscsi_context *login(const struct iscsi_url *url, const char *initiator,
                                   uint32_t isid_rnd)
{
	struct iscsi_context *c = iscsi_create_context(initiator);
	if (!c)
		return NULL;
	if (iscsi_set_targetname(c, url->target) ||
	    iscsi_set_session_type(c, ISCSI_SESSION_NORMAL) ||
	    iscsi_set_header_digest(c, ISCSI_HEADER_DIGEST_NONE) ||
	    iscsi_set_isid_random(c, isid_rnd, 0)) {
		fprintf(stderr, "pa_latency: %s\n", iscsi_get_error(c));
		iscsi_destroy_context(c);
		return NULL;
	}
	iscsi_set_noautoreconnect(c, 1);
	if (iscsi_full_connect_sync(c, url->portal, url->lun)) {
		fprintf(stderr, "pa_latency: %s: login failed: %s\n", initiator,
		        iscsi_get_error(c));
		iscsi_destroy_context(c);
		return NULL;
	}
	return c;
}

static struct scsi_task *prout_task(uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key,
                                    struct iscsi_data *d, uint8_t *pbuf)
{
	size_t plen = prk_prout_params_encode_basic(key, sa_key, false, false, NULL, 0, pbuf,
	                                            PRK_PROUT_BASIC_LEN);
	struct prk_prout_cdb pc = {
	    .sa = sa, .scope = PRK_PR_SCOPE_LU, .type = type, .param_len = (uint32_t)plen};
	uint8_t cdb[10];
	prk_prout_cdb_encode(&pc, cdb);
	d->data = pbuf;
	d->size = plen;
	return scsi_create_task(10, cdb, SCSI_XFER_WRITE, (int)plen);
}

/* A synchronous PR OUT, retried past unit attentions. Returns the status. */
static int prout_sync(struct iscsi_context *c, uint8_t sa, uint8_t type, uint64_t key,
                      uint64_t sa_key)
{
	for (int tries = 0; tries < 8; tries++) {
		uint8_t pbuf[PRK_PROUT_BASIC_LEN];
		struct iscsi_data d;
		struct scsi_task *t = prout_task(sa, type, key, sa_key, &d, pbuf);
		if (!t)
			return -1;
		struct scsi_task *r = iscsi_scsi_command_sync(c, lun, t, &d);
		int st = r ? r->status : -1;
		int sk = r ? (int)t->sense.key : 0;
		scsi_free_scsi_task(t);
		if (st == SCSI_STATUS_CHECK_CONDITION && sk == SCSI_SENSE_UNIT_ATTENTION)
			continue;
		if (st != SCSI_STATUS_GOOD)
			fprintf(stderr, "pa_latency: PR OUT %s: status %#x: %s\n",
			        prk_prout_sa_name(sa), (unsigned)st, iscsi_get_error(c));
		return st;
	}
	return -1;
}

/* ---- the victim's writes ---- */
static struct iscsi_context *victim;
static unsigned v_inflight;
static bool v_stop;
static uint64_t v_good, v_bad, v_conflict, v_aborted, v_ua;
static uint8_t wbuf[IO_BYTES];
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static void write_cb(struct iscsi_context *c, int status, void *data, void *priv);

static int submit_write(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	uint32_t per = IO_BYTES / block_size;
	uint64_t lba = (rng % (nblocks / per)) * per;
	if (lba > 0xffffffffULL)
		lba %= 0xffffffffULL / per * per;
	uint8_t cdb[10] = {
	    0x2a,         0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16), (uint8_t)(lba >> 8),
	    (uint8_t)lba, 0, (uint8_t)(per >> 8),  (uint8_t)per,         0};
	struct scsi_task *t = scsi_create_task(10, cdb, SCSI_XFER_WRITE, IO_BYTES);
	if (!t)
		return -1;
	struct iscsi_data d = {.size = IO_BYTES, .data = wbuf};
	if (iscsi_scsi_command_async(victim, lun, t, write_cb, &d, NULL)) {
		scsi_free_scsi_task(t);
		return -1;
	}
	v_inflight++;
	return 0;
}

static void write_cb(struct iscsi_context *c, int status, void *data, void *priv)
{
	(void)c;
	(void)priv;
	struct scsi_task *t = data;
	v_inflight--;
	if (status == SCSI_STATUS_GOOD)
		v_good++;
	else if (status == SCSI_STATUS_RESERVATION_CONFLICT)
		v_conflict++;
	else if (status == SCSI_STATUS_TASK_ABORTED || status == SCSI_STATUS_CANCELLED)
		v_aborted++;
	else if (status == SCSI_STATUS_CHECK_CONDITION && t &&
	         t->sense.key == SCSI_SENSE_UNIT_ATTENTION)
		v_ua++;
	else
		v_bad++;
	if (t)
		scsi_free_scsi_task(t);
	if (!v_stop && (status == SCSI_STATUS_GOOD ||
	                (status == SCSI_STATUS_CHECK_CONDITION && v_good == 0))) {
		if (submit_write())
			v_bad++;
	}
}

/* ---- P's PREEMPT AND ABORT ---- */
static bool pa_done;
static int pa_status;
static uint64_t pa_end;

static void pa_cb(struct iscsi_context *c, int status, void *data, void *priv)
{
	(void)c;
	(void)priv;
	pa_status = status;
	pa_end = now_ns();
	pa_done = true;
	if (data)
		scsi_free_scsi_task(data);
}

static int service(struct iscsi_context *a, struct iscsi_context *b, int timeout_ms)
{
	struct pollfd pfd[2] = {
	    {.fd = iscsi_get_fd(a), .events = (short)iscsi_which_events(a)},
	    {.fd = iscsi_get_fd(b), .events = (short)iscsi_which_events(b)},
	};
	int n = poll(pfd, 2, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	if (iscsi_service(a, pfd[0].revents) < 0) {
		fprintf(stderr, "pa_latency: %s\n", iscsi_get_error(a));
		return -1;
	}
	if (iscsi_service(b, pfd[1].revents) < 0) {
		fprintf(stderr, "pa_latency: %s\n", iscsi_get_error(b));
		return -1;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pa_latency --url iscsi://HOST[:PORT]/IQN/LUN [options]\n"
	           "  --rounds R   PREEMPT AND ABORT rounds (50)\n"
	           "  --qd N       the victim's outstanding 4 KiB writes (32)\n"
	           "  --settle MS  victim load before each PREEMPT AND ABORT (20)\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"url", required_argument, NULL, 'u'}, {"rounds", required_argument, NULL, 'r'},
	    {"qd", required_argument, NULL, 'q'},  {"settle", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "u:r:q:s:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			url_s = optarg;
			break;
		case 'r':
			rounds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'q':
			qd = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			settle_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!url_s || rounds < 1 || rounds > 100000 || qd < 1 || qd > MAX_QD) {
		usage(stderr);
		return 2;
	}
	memset(wbuf, 0xa5, sizeof(wbuf));

	struct iscsi_context *pctx = iscsi_create_context("iqn.2026-11.io.prkit:pa-preemptor");
	struct iscsi_url *url = pctx ? iscsi_parse_full_url(pctx, url_s) : NULL;
	if (!url) {
		fprintf(stderr, "pa_latency: --url: %s\n",
		        pctx ? iscsi_get_error(pctx) : "no memory");
		return 2;
	}
	lun = url->lun;
	struct iscsi_context *p = login(url, "iqn.2026-11.io.prkit:pa-preemptor", 0x0a0001);
	if (!p)
		return 2;
	struct scsi_task *t = NULL;
	for (int i = 0; i < 8; i++) {
		t = iscsi_readcapacity16_sync(p, lun);
		if (t && t->status == SCSI_STATUS_GOOD)
			break;
		if (t)
			scsi_free_scsi_task(t);
		t = NULL;
	}
	struct scsi_readcapacity16 *rc16 = t ? scsi_datain_unmarshall(t) : NULL;
	if (!rc16 || rc16->block_length == 0 || IO_BYTES % rc16->block_length) {
		fprintf(stderr, "pa_latency: READ CAPACITY(16) failed\n");
		return 2;
	}
	block_size = rc16->block_length;
	nblocks = rc16->returned_lba + 1;
	scsi_free_scsi_task(t);

	/* P: REGISTER KP (or take over a stale KP), RESERVE WE-RO. */
	if (prout_sync(p, PRK_PROUT_REGISTER_AND_IGNORE, 0, 0, KP) != SCSI_STATUS_GOOD ||
	    prout_sync(p, PRK_PROUT_RESERVE, PRK_PR_WE_RO, KP, 0) != SCSI_STATUS_GOOD)
		return 2;

	uint64_t *lat = calloc(rounds, sizeof(*lat));
	if (!lat)
		return 2;
	int rc = 0;
	uint64_t inflight_sum = 0;
	for (unsigned r = 0; r < rounds; r++) {
		victim = login(url, "iqn.2026-11.io.prkit:pa-victim", 0x0b0001);
		if (!victim) {
			rc = 1;
			break;
		}
		if (prout_sync(victim, PRK_PROUT_REGISTER_AND_IGNORE, 0, 0, KV) !=
		    SCSI_STATUS_GOOD) {
			rc = 1;
			break;
		}
		v_stop = false;
		v_good = 0;
		for (unsigned i = 0; i < qd; i++)
			if (submit_write()) {
				rc = 1;
				break;
			}
		uint64_t until = now_ns() + (uint64_t)settle_ms * 1000000ULL;
		while (rc == 0 && now_ns() < until)
			if (service(victim, p, 1))
				rc = 1;
		if (rc)
			break;
		if (v_good == 0) {
			fprintf(stderr, "pa_latency: round %u: the victim completed no write\n", r);
			rc = 1;
			break;
		}

		uint8_t pbuf[PRK_PROUT_BASIC_LEN];
		struct iscsi_data d;
		struct scsi_task *pa =
		    prout_task(PRK_PROUT_PREEMPT_AND_ABORT, PRK_PR_WE_RO, KP, KV, &d, pbuf);
		pa_done = false;
		inflight_sum += v_inflight;
		uint64_t t0 = now_ns();
		if (!pa || iscsi_scsi_command_async(p, lun, pa, pa_cb, &d, NULL)) {
			fprintf(stderr, "pa_latency: cannot send PREEMPT AND ABORT\n");
			rc = 1;
			break;
		}
		uint64_t limit = t0 + 10000000000ULL;
		while (!pa_done && rc == 0) {
			if (service(victim, p, 10) || now_ns() > limit) {
				if (!pa_done)
					fprintf(stderr,
					        "pa_latency: round %u: PREEMPT AND ABORT did not "
					        "complete within 10 s\n",
					        r);
				rc = 1;
			}
		}
		v_stop = true;
		if (rc)
			break;
		if (pa_status != SCSI_STATUS_GOOD) {
			fprintf(stderr, "pa_latency: round %u: PREEMPT AND ABORT status %#x\n", r,
			        (unsigned)pa_status);
			rc = 1;
			break;
		}
		lat[r] = pa_end - t0;
		/* Collect what V still gets back for a moment (TASK ABORTED with
		 * TAS=1, conflicts for writes sent after the preemption), then
		 * drop the session: with TAS=0 the aborted tasks never answer. */
		until = now_ns() + 5000000ULL;
		while (v_inflight && now_ns() < until)
			if (service(victim, p, 1))
				break;
		iscsi_destroy_context(victim); /* cancels what is left */
		victim = NULL;
	}
	if (victim)
		iscsi_destroy_context(victim);
	prout_sync(p, PRK_PROUT_REGISTER_AND_IGNORE, 0, 0, 0); /* unregister: drops the resv */
	iscsi_logout_sync(p);
	iscsi_destroy_context(p);
	iscsi_destroy_url(url);
	iscsi_destroy_context(pctx);

	if (rc == 0) {
		qsort(lat, rounds, sizeof(*lat), cmp_u64);
		size_t i99 = (size_t)((double)rounds * 0.99 + 0.5);
		if (i99 >= 1)
			i99--;
		printf("RESULT rounds=%u qd=%u p50_us=%.1f p99_us=%.1f max_us=%.1f "
		       "inflight_avg=%.1f\n",
		       rounds, qd, lat[rounds / 2] / 1e3, lat[i99] / 1e3, lat[rounds - 1] / 1e3,
		       (double)inflight_sum / rounds);
		fprintf(stderr,
		        "pa_latency: victim writes: %" PRIu64 " unexpected, %" PRIu64
		        " conflicts, %" PRIu64 " aborted/cancelled, %" PRIu64 " unit attentions\n",
		        v_bad, v_conflict, v_aborted, v_ua);
	}
	free(lat);
	if (rc == 0 && v_bad)
		rc = 1;
	return rc;
}
