/* See xcopy_util.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "prkit/scsi_pr_wire.h"
#include "xcopy_util.h"

struct scsi_sense x_sense;
uint8_t x_raw_sense[260];
size_t x_raw_sense_len;

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

void x_naa(struct iscsi_context *c, int lun, uint8_t naa[16])
{
	struct scsi_task *t = iscsi_inquiry_sync(c, lun, 1, 0x83, 255);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	const uint8_t *d = t->datain.data;
	size_t len = (size_t)t->datain.size;
	assert_true(len >= 4);
	size_t end = 4 + be16(d + 2);
	if (end > len)
		end = len;
	bool found = false;
	for (size_t off = 4; off + 4 <= end; off += 4 + d[off + 3]) {
		const uint8_t *x = d + off;
		/* binary, association 0 (the LU), type 3 (NAA), 16 bytes */
		if ((x[0] & 0x0f) == 1 && ((x[1] >> 4) & 3) == 0 && (x[1] & 0x0f) == 3 &&
		    x[3] == 16 && off + 20 <= end) {
			memcpy(naa, x + 4, 16);
			found = true;
			break;
		}
	}
	scsi_free_scsi_task(t);
	if (!found)
		fail_msg("LUN %d: no NAA designator in VPD 83h", lun);
}

void x_list(struct prk_xcopy_list *l, uint8_t id, uint8_t usage)
{
	memset(l, 0, sizeof(*l));
	l->list_id = id;
	l->list_id_usage = usage;
}

uint16_t x_cscd(struct prk_xcopy_list *l, const uint8_t naa[16])
{
	assert_true(l->n_cscd < PRK_XCOPY_MAX_CSCD);
	prk_xcopy_cscd_naa(&l->cscd[l->n_cscd], naa, 0x00, 512);
	return l->n_cscd++;
}

static struct prk_xcopy_seg *new_seg(struct prk_xcopy_list *l, uint8_t type)
{
	assert_true(l->n_seg < PRK_XCOPY_MAX_SEG);
	struct prk_xcopy_seg *s = &l->seg[l->n_seg++];
	memset(s, 0, sizeof(*s));
	s->type = type;
	return s;
}

void x_b2b(struct prk_xcopy_list *l, uint16_t src, uint16_t dst, uint16_t blocks, uint64_t slba,
           uint64_t dlba)
{
	struct prk_xcopy_seg *s = new_seg(l, PRK_XCOPY_SEG_B2B);
	s->src = src;
	s->dst = dst;
	s->n_blocks = blocks;
	s->src_lba = slba;
	s->dst_lba = dlba;
}

void x_regkey(struct prk_xcopy_list *l, uint16_t dst, uint64_t key, uint64_t sa_key)
{
	struct prk_xcopy_seg *s = new_seg(l, PRK_XCOPY_SEG_REGKEY);
	s->dst = dst;
	s->key = key;
	s->sa_key = sa_key;
}

void x_3pr(struct prk_xcopy_list *l, uint16_t dst, uint64_t cm_key, uint64_t key,
           const struct prk_tid *tid, uint16_t rtpi, bool unreg, uint8_t *mv)
{
	struct prk_xcopy_seg *s = new_seg(l, PRK_XCOPY_SEG_3PR);
	s->dst = dst;
	size_t n = prk_prout_params_encode_move(cm_key, key, unreg, false, rtpi, tid, mv, 280);
	assert_true(n > 24 && n <= 280);
	s->move = mv;
	s->move_len = (uint32_t)n;
}

long x_abort_segment(void)
{
	const uint8_t *s = x_raw_sense;
	if (x_raw_sense_len < 8)
		return -1;
	/* COMMAND-SPECIFIC INFORMATION: source and destination sense
	 * offsets, then SEGMENT NUMBER (2 bytes) */
	if ((s[0] & 0x7f) == 0x70 || (s[0] & 0x7f) == 0x71)
		return x_raw_sense_len >= 12 ? (long)be16(s + 10) : -1;
	/* descriptor format: the command-specific information descriptor
	 * (type 01h), whose 8-byte field ends with the same 4 bytes */
	size_t end = 8 + (size_t)s[7];
	if (end > x_raw_sense_len)
		end = x_raw_sense_len;
	for (size_t off = 8; off + 2 <= end; off += 2 + s[off + 1])
		if (s[off] == 0x01 && off + 12 <= end)
			return (long)be16(s + off + 10);
	return -1;
}

/* The sense of a finished task: libiscsi keeps the SCSI response's data
 * segment (SENSE LENGTH, then the sense bytes) as datain. */
static void keep_sense(struct scsi_task *t)
{
	x_sense = t->sense;
	x_raw_sense_len = 0;
	if (t->status == SCSI_STATUS_CHECK_CONDITION && t->datain.size > 2) {
		size_t n = be16(t->datain.data);
		if (n > (size_t)t->datain.size - 2)
			n = (size_t)t->datain.size - 2;
		if (n > sizeof(x_raw_sense))
			n = sizeof(x_raw_sense);
		memcpy(x_raw_sense, t->datain.data + 2, n);
		x_raw_sense_len = n;
	}
}

static uint8_t *encode(const struct prk_xcopy_list *l, size_t *len)
{
	size_t cap = 65536;
	uint8_t *buf = calloc(1, cap);
	assert_non_null(buf);
	size_t n = prk_xcopy_encode(l, buf, cap);
	assert_true(n > 0 && n <= cap);
	*len = n;
	return buf;
}

static int xcopy_once(struct iscsi_context *c, int lun, const struct prk_xcopy_list *l)
{
	size_t len;
	uint8_t *buf = encode(l, &len);
	uint8_t cdb[16];
	prk_xcopy_cdb_encode((uint32_t)len, cdb);
	struct scsi_task *t = scsi_create_task(16, cdb, SCSI_XFER_WRITE, (int)len);
	assert_non_null(t);
	struct iscsi_data d = {.size = len, .data = buf};
	if (!iscsi_scsi_command_sync(c, lun, t, &d)) {
		free(buf);
		return -1;
	}
	int status = t->status;
	keep_sense(t);
	scsi_free_scsi_task(t);
	free(buf);
	return status;
}

int x_xcopy(struct iscsi_context *c, int lun, const struct prk_xcopy_list *l)
{
	/* A unit attention (a reservation moved, preempted, cleared) is not
	 * the copy's answer: send it again. */
	int st = -1;
	for (int i = 0; i < 8; i++) {
		st = xcopy_once(c, lun, l);
		if (st != SCSI_STATUS_CHECK_CONDITION || x_sense.key != SCSI_SENSE_UNIT_ATTENTION)
			break;
	}
	return st;
}

struct async {
	int *status;
	bool *done;
	uint8_t *buf;
};

static void async_cb(struct iscsi_context *c, int status, void *data, void *priv)
{
	(void)c;
	struct scsi_task *t = data;
	struct async *a = priv;
	*a->status = status;
	*a->done = true;
	if (t) {
		keep_sense(t);
		scsi_free_scsi_task(t);
	}
	free(a->buf);
	free(a);
}

struct scsi_task *x_xcopy_async(struct iscsi_context *c, int lun, const struct prk_xcopy_list *l,
                                int *status, bool *done)
{
	struct async *a = calloc(1, sizeof(*a));
	assert_non_null(a);
	size_t len;
	a->buf = encode(l, &len);
	a->status = status;
	a->done = done;
	*done = false;
	uint8_t cdb[16];
	prk_xcopy_cdb_encode((uint32_t)len, cdb);
	struct scsi_task *t = scsi_create_task(16, cdb, SCSI_XFER_WRITE, (int)len);
	assert_non_null(t);
	struct iscsi_data d = {.size = len, .data = a->buf};
	assert_int_equal(iscsi_scsi_command_async(c, lun, t, async_cb, &d, a), 0);
	return t;
}

int x_wait(struct iscsi_context *c, const bool *done, int timeout_ms)
{
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	while (!*done) {
		if (h_now_ms() > end)
			return -1;
		struct pollfd p = {.fd = iscsi_get_fd(c), .events = (short)iscsi_which_events(c)};
		if (poll(&p, 1, 10) > 0 && iscsi_service(c, p.revents) < 0)
			fail_msg("iscsi_service: %s", iscsi_get_error(c));
	}
	return 0;
}

int x_rcr(struct iscsi_context *c, int lun, uint8_t sa, uint8_t list_id, uint8_t *buf, size_t cap,
          size_t *got)
{
	uint8_t cdb[16];
	prk_rcr_cdb_encode(sa, list_id, (uint32_t)cap, cdb);
	struct scsi_task *t = scsi_create_task(16, cdb, SCSI_XFER_READ, (int)cap);
	assert_non_null(t);
	*got = 0;
	if (!iscsi_scsi_command_sync(c, lun, t, NULL))
		return -1;
	int status = t->status;
	keep_sense(t);
	if (status == SCSI_STATUS_GOOD && t->datain.size > 0) {
		size_t n = (size_t)t->datain.size < cap ? (size_t)t->datain.size : cap;
		memcpy(buf, t->datain.data, n);
		*got = n;
	}
	scsi_free_scsi_task(t);
	return status;
}

int x_register_and_move(struct iscsi_context *c, int lun, uint64_t key, uint64_t sa_key,
                        const struct prk_tid *tid, uint16_t rtpi, bool unreg)
{
	uint8_t p[280];
	size_t n = prk_prout_params_encode_move(key, sa_key, unreg, false, rtpi, tid, p, sizeof(p));
	assert_true(n > 24 && n <= sizeof(p));
	int st = -1;
	for (int i = 0; i < 8; i++) {
		/* TYPE: the reservation keeps its own (Exclusive Access here). */
		st = h_pr_out(c, lun, 0x07, 0x03, p, (uint32_t)n, &x_sense);
		if (st != SCSI_STATUS_CHECK_CONDITION || x_sense.key != SCSI_SENSE_UNIT_ATTENTION)
			break;
	}
	return st;
}

size_t x_full_status(struct iscsi_context *c, int lun, struct x_reg *r, size_t cap)
{
	static uint8_t buf[8192];
	size_t got;
	h_clear_ua(c, lun);
	assert_int_equal(h_pr_in(c, lun, 0x03, buf, sizeof(buf) - 1, &got), SCSI_STATUS_GOOD);
	assert_true(got >= 8);
	size_t end = 8 + be32(buf + 4), n = 0;
	if (end > got)
		end = got;
	for (size_t off = 8; off + 24 <= end;) {
		const uint8_t *d = buf + off;
		uint32_t tl = be32(d + 20);
		assert_true(off + 24 + tl <= end);
		if (n < cap) {
			struct x_reg *x = &r[n];
			memset(x, 0, sizeof(*x));
			x->key = be64(d);
			x->holder = d[12] & 1;
			x->type = d[13] & 0x0f;
			x->rtpi = be16(d + 18);
			size_t used;
			struct prk_field_err fe;
			assert_int_equal(prk_tid_decode(d + 24, tl, 0, &x->tid, &used, &fe), 0);
		}
		n++;
		off += 24 + tl;
	}
	return n;
}

void x_assert_holder(struct iscsi_context *c, int lun, const char *name, uint64_t isid,
                     uint64_t key)
{
	struct x_reg r[32];
	size_t n = x_full_status(c, lun, r, 32);
	int holders = 0;
	const struct x_reg *h = NULL;
	for (size_t i = 0; i < n && i < 32; i++)
		if (r[i].holder) {
			holders++;
			h = &r[i];
		}
	if (holders != 1)
		fail_msg("LUN %d: %d registrations hold the reservation, expected 1 (%s)", lun,
		         holders, name);
	if (!prk_iscsi_name_eq(h->tid.name, name) ||
	    (h->tid.format == PRK_TID_FMT_PORT && h->tid.isid != isid) || h->key != key)
		fail_msg(
		    "LUN %d: the reservation is held by %s isid 0x%012llx key 0x%llx, expected "
		    "%s isid 0x%012llx key 0x%llx",
		    lun, h->tid.name, (unsigned long long)h->tid.isid, (unsigned long long)h->key,
		    name, (unsigned long long)isid, (unsigned long long)key);
	uint8_t rr[32];
	size_t got;
	h_clear_ua(c, lun);
	assert_int_equal(h_pr_in(c, lun, 0x01, rr, sizeof(rr), &got), SCSI_STATUS_GOOD);
	assert_true(got >= 16);
	assert_int_equal(be32(rr + 4), 16);
	assert_true(be64(rr + 8) == key);
}

struct x_reg x_reg_of(struct iscsi_context *c, int lun, const char *name)
{
	struct x_reg r[32];
	size_t n = x_full_status(c, lun, r, 32);
	for (size_t i = 0; i < n && i < 32; i++)
		if (prk_iscsi_name_eq(r[i].tid.name, name))
			return r[i];
	fail_msg("LUN %d: %s is not registered", lun, name);
	return r[0];
}

void x_cm_tid(struct prk_tid *t)
{
	memset(t, 0, sizeof(*t));
	t->format = PRK_TID_FMT_PORT;
	t->isid = X_CM_ISID;
	snprintf(t->name, sizeof(t->name), "%s", X_CM_NAME);
}

void x_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
}
