/* Helpers of the copy manager tests; see copy_test_util.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "bs_internal.h"
#include "copy_test_util.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"

/* ---- The test backstore: memory, inline or queued completions ---- */

struct tbs {
	struct prk_bs base;
	uint8_t *mem;
};

#define QMAX 4096
static struct {
	struct prk_bs *bs[QMAX];
	struct prk_bs_io *io[QMAX];
	unsigned head, n, max;
	bool async;
} q;

static void perform(struct prk_bs *b, struct prk_bs_io *io)
{
	struct tbs *t = (struct tbs *)b;
	uint64_t off = io->offset;
	switch (io->op) {
	case PRK_BS_READ:
	case PRK_BS_WRITE:
		for (int i = 0; i < io->iovcnt; i++) {
			if (io->op == PRK_BS_READ)
				memcpy(io->iov[i].iov_base, t->mem + off, io->iov[i].iov_len);
			else
				memcpy(t->mem + off, io->iov[i].iov_base, io->iov[i].iov_len);
			off += io->iov[i].iov_len;
		}
		break;
	case PRK_BS_WRITE_ZEROES:
	case PRK_BS_UNMAP:
		memset(t->mem + off, 0, io->len);
		break;
	case PRK_BS_FLUSH:
		break;
	}
	prk_bs_finish(b, io, 0);
}

static void tb_submit(struct prk_bs *b, struct prk_bs_io *io)
{
	if (!q.async) {
		perform(b, io);
		return;
	}
	assert_true(q.n < QMAX);
	unsigned i = (q.head + q.n) % QMAX;
	q.bs[i] = b;
	q.io[i] = io;
	q.n++;
	if (q.n > q.max)
		q.max = q.n;
}
static int tb_complete(struct prk_bs *b)
{
	(void)b;
	return 0;
}
static int tb_mapped(struct prk_bs *b, uint64_t offset, uint64_t len, uint64_t *run)
{
	(void)b;
	(void)offset;
	*run = len;
	return 1;
}
static void tb_close(struct prk_bs *b)
{
	struct tbs *t = (struct tbs *)b;
	free(t->mem);
	free(t);
}
static const struct prk_bs_ops tb_ops = {
    .submit = tb_submit, .complete = tb_complete, .mapped = tb_mapped, .close = tb_close};

static struct prk_bs *tb_open(uint64_t size)
{
	struct tbs *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->mem = calloc(1, size);
	assert_non_null(t->mem);
	prk_bs_init(&t->base, &tb_ops, size, false);
	return &t->base;
}

void ct_set_async(bool on)
{
	q.async = on;
}

unsigned ct_drain(unsigned max)
{
	unsigned done = 0;
	while (q.n && (!max || done < max)) {
		struct prk_bs *b = q.bs[q.head];
		struct prk_bs_io *io = q.io[q.head];
		q.head = (q.head + 1) % QMAX;
		q.n--;
		perform(b, io);
		done++;
	}
	return done;
}

unsigned ct_queued(void)
{
	return q.n;
}

unsigned ct_max_queued(bool reset)
{
	unsigned m = q.max;
	if (reset)
		q.max = q.n;
	return m;
}

/* ---- The environment ---- */

static struct prk_lu *resolve(void *ctx, struct prk_lu *via, const struct prk_nexus *nx,
                              const struct prk_xcopy_cscd *d)
{
	struct ct_env *e = ctx;
	(void)via;
	(void)nx;
	e->resolves++;
	if (d->desig_type != 3 || d->desig_len != 16)
		return NULL;
	for (size_t i = 0; i < e->n; i++)
		if (e->l[i].visible && !memcmp(d->desig, prk_lu_naa(e->l[i].lu), 16))
			return e->l[i].lu;
	return NULL;
}

static bool allow_3pr(void *ctx, struct prk_lu *lu)
{
	struct ct_env *e = ctx;
	for (size_t i = 0; i < e->n; i++)
		if (e->l[i].lu == lu)
			return e->l[i].allow3pr;
	return false;
}

static void copy_done(void *ctx, struct prk_lu *via, const struct prk_nexus *nx, uint8_t id,
                      uint8_t status, uint16_t seg, uint64_t bytes, const char *why)
{
	struct ct_env *e = ctx;
	(void)via;
	(void)nx;
	(void)id;
	(void)seg;
	(void)bytes;
	(void)why;
	e->dones++;
	e->last_status = status;
}

static void consume_power_on(struct ct_env *e, size_t i, const struct prk_nexus *nx)
{
	uint8_t tur[16] = {0};
	struct ct_cmd *c = ct_run(e, i, nx, tur, NULL, 0, 0);
	ct_assert_sense(c, PRK_SK_UNIT_ATTENTION, PRK_ASC_POWER_ON_RESET);
	ct_cmd_free(c);
}

struct ct_env *ct_new(size_t n, const uint32_t *bs, const uint64_t *blocks,
                      const struct prk_cm_config *cfg)
{
	char err[128];
	struct ct_env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	assert_true(n <= CT_MAX_LU);
	q.async = false;
	q.max = 0;
	assert_int_equal(prk_nexus_init(&e->a, CT_NAME_A, 0x400001370001ULL, 1), 0);
	assert_int_equal(prk_nexus_init(&e->b, CT_NAME_B, 0x23d000000002ULL, 1), 0);
	e->port = (struct prk_lu_port){.rtpi = 1, .tpg = 1, .target_name = CT_TARGET, .tpgt = 1};
	struct prk_cm_config c = {0};
	if (cfg) {
		c = *cfg;
	} else { /* small chunks, several in flight: a copy is many sub-commands */
		c.chunk = 64 * 1024;
		c.depth = 4;
	}
	struct prk_cm_ops ops = {
	    .ctx = e, .resolve = resolve, .allow_3pr_block = allow_3pr, .copy_done = copy_done};
	e->cm = prk_cm_new(&c, &ops, err, sizeof(err));
	if (!e->cm)
		fail_msg("prk_cm_new: %s", err);
	static const uint16_t rtpis[] = {1, PRK_CM_DEFAULT_RTPI};
	for (size_t i = 0; i < n; i++) {
		struct prk_lu_config lc = {0};
		lc.block_size = bs[i];
		lc.num_blocks = blocks[i];
		lc.write_cache = true;
		snprintf(lc.serial, sizeof(lc.serial), "CT%04zu", i);
		lc.pr.rtpis = rtpis;
		lc.pr.n_rtpis = 2;
		e->l[i].bs = tb_open(blocks[i] * bs[i]);
		e->l[i].lu = prk_lu_new(&lc, e->l[i].bs, err, sizeof(err));
		if (!e->l[i].lu)
			fail_msg("prk_lu_new: %s", err);
		e->l[i].block_size = bs[i];
		e->l[i].blocks = blocks[i];
		e->l[i].visible = true;
		e->n++;
		prk_cm_attach(e->cm, e->l[i].lu);
		prk_lu_nexus_up(e->l[i].lu, &e->a);
		prk_lu_nexus_up(e->l[i].lu, &e->b);
		consume_power_on(e, i, &e->a);
		consume_power_on(e, i, &e->b);
	}
	return e;
}

void ct_free(struct ct_env *e)
{
	ct_drain(0);
	for (size_t i = 0; i < e->n; i++) {
		assert_false(prk_cm_busy(e->cm, e->l[i].lu));
		assert_int_equal(prk_lu_inflight(e->l[i].lu), 0);
	}
	for (size_t i = 0; i < e->n; i++) {
		prk_cm_detach(e->cm, e->l[i].lu);
		prk_lu_free(e->l[i].lu);
		prk_bs_close(e->l[i].bs);
	}
	prk_cm_free(e->cm);
	free(e);
	q.async = false;
}

/* ---- Commands ---- */

static void on_done(struct prk_lu_cmd *cmd)
{
	((struct ct_cmd *)cmd->priv)->done++;
}

struct ct_cmd *ct_start(struct ct_env *e, size_t lu, const struct prk_nexus *nx, const uint8_t *cdb,
                        const void *data, uint32_t len, uint32_t edtl)
{
	struct ct_cmd *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	memcpy(c->cdb, cdb, 16);
	c->cmd.nx = nx;
	c->cmd.port = &e->port;
	memcpy(c->cmd.cdb, cdb, 16);
	c->cmd.cdb_len = 16;
	if (data) {
		c->out = malloc(len ? len : 1);
		assert_non_null(c->out);
		memcpy(c->out, data, len);
		c->cmd.data_out = c->out;
		c->cmd.data_out_len = len;
		c->cmd.dir_write = true;
		c->cmd.edtl = len;
	} else {
		c->cmd.edtl = edtl;
		c->cmd.dir_read = edtl > 0;
	}
	c->cmd.done = on_done;
	c->cmd.priv = c;
	prk_lu_submit(e->l[lu].lu, &c->cmd);
	return c;
}

void ct_wait(struct ct_cmd *c)
{
	while (!c->done)
		if (!ct_drain(1))
			fail_msg("command did not complete and no I/O is queued");
	assert_int_equal(c->done, 1);
}

void ct_cmd_free(struct ct_cmd *c)
{
	free(c->cmd.data_in);
	free(c->out);
	free(c);
}

struct ct_cmd *ct_run(struct ct_env *e, size_t lu, const struct prk_nexus *nx, const uint8_t *cdb,
                      const void *data, uint32_t len, uint32_t edtl)
{
	struct ct_cmd *c = ct_start(e, lu, nx, cdb, data, len, edtl);
	ct_wait(c);
	return c;
}

static void decode(const struct ct_cmd *c, struct prk_sense *s)
{
	if (c->cmd.status != PRK_STATUS_CHECK_CONDITION || !c->cmd.sense_len)
		fail_msg("status %02xh, expected CHECK CONDITION", c->cmd.status);
	assert_int_equal(prk_sense_decode(c->cmd.sense, c->cmd.sense_len, s), 0);
}

void ct_assert_good(const struct ct_cmd *c)
{
	if (c->cmd.status != PRK_STATUS_GOOD) {
		struct prk_sense s = {0};
		if (c->cmd.sense_len)
			prk_sense_decode(c->cmd.sense, c->cmd.sense_len, &s);
		fail_msg("status %02xh, sense %xh %02x/%02x", c->cmd.status, s.key, s.asc, s.ascq);
	}
	assert_int_equal(c->cmd.sense_len, 0);
}

void ct_assert_sense(const struct ct_cmd *c, uint8_t key, uint16_t asc)
{
	struct prk_sense s;
	decode(c, &s);
	if (s.key != key || s.asc != asc >> 8 || s.ascq != (asc & 0xff))
		fail_msg("sense %xh %02x/%02x, expected %xh %02x/%02x", s.key, s.asc, s.ascq, key,
		         asc >> 8, asc & 0xff);
}

void ct_assert_aborted(const struct ct_cmd *c, uint16_t asc, uint32_t seg)
{
	ct_assert_sense(c, PRK_SK_COPY_ABORTED, asc);
	assert_int_equal(c->cmd.sense[0] & 0x7f, 0x70); /* fixed format (D_SENSE 0) */
	/* COMMAND-SPECIFIC INFORMATION: source and destination sense
	 * offsets, then the SEGMENT NUMBER. */
	uint32_t got = (uint32_t)c->cmd.sense[10] << 8 | c->cmd.sense[11];
	if (got != seg)
		fail_msg("segment number %u, expected %u", got, seg);
}

/* ---- Medium ---- */

static void pattern(uint8_t *buf, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
}

void ct_fill(struct ct_env *e, size_t lu, uint64_t lba, uint32_t n, unsigned seed)
{
	uint32_t len = n * e->l[lu].block_size;
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	pattern(buf, len, seed);
	uint8_t cdb[16] = {PRK_OP_WRITE16};
	cdb[2] = (uint8_t)(lba >> 56);
	for (int i = 0; i < 8; i++)
		cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		cdb[10 + i] = (uint8_t)(n >> (24 - 8 * i));
	struct ct_cmd *c = ct_run(e, lu, &e->a, cdb, buf, len, len);
	ct_assert_good(c);
	ct_cmd_free(c);
	free(buf);
}

void ct_read(struct ct_env *e, size_t lu, uint64_t lba, uint32_t n, uint8_t *out)
{
	/* Straight from the medium: what landed, whatever the PR state lets
	 * a host read. Queued I/O must have been drained. */
	struct tbs *t = (struct tbs *)e->l[lu].bs;
	uint64_t bsz = e->l[lu].block_size;
	assert_true(lba + n <= e->l[lu].blocks);
	memcpy(out, t->mem + lba * bsz, n * bsz);
}

bool ct_same(struct ct_env *e, size_t s, uint64_t slba, size_t d, uint64_t dlba, uint64_t bytes)
{
	uint8_t *a = malloc(bytes), *b = malloc(bytes);
	assert_non_null(a);
	assert_non_null(b);
	ct_read(e, s, slba, (uint32_t)(bytes / e->l[s].block_size), a);
	ct_read(e, d, dlba, (uint32_t)(bytes / e->l[d].block_size), b);
	bool same = !memcmp(a, b, bytes);
	free(a);
	free(b);
	return same;
}

/* ---- EXTENDED COPY ---- */

void ct_list_init(struct prk_xcopy_list *l, uint8_t id, uint8_t usage)
{
	memset(l, 0, sizeof(*l));
	l->list_id = id;
	l->list_id_usage = usage;
}

uint16_t ct_cscd(struct ct_env *e, struct prk_xcopy_list *l, size_t lu, uint8_t pdt, uint32_t bl)
{
	uint16_t i = l->n_cscd++;
	prk_xcopy_cscd_naa(&l->cscd[i], prk_lu_naa(e->l[lu].lu), pdt, bl);
	return i;
}

void ct_seg_b2b(struct prk_xcopy_list *l, uint16_t src, uint16_t dst, uint16_t n, uint64_t slba,
                uint64_t dlba, bool dc)
{
	struct prk_xcopy_seg *g = &l->seg[l->n_seg++];
	memset(g, 0, sizeof(*g));
	g->type = PRK_XCOPY_SEG_B2B;
	g->src = src;
	g->dst = dst;
	g->n_blocks = n;
	g->src_lba = slba;
	g->dst_lba = dlba;
	g->dc = dc;
}

void ct_seg_regkey(struct prk_xcopy_list *l, uint16_t dst, uint64_t key, uint64_t sa_key)
{
	struct prk_xcopy_seg *g = &l->seg[l->n_seg++];
	memset(g, 0, sizeof(*g));
	g->type = PRK_XCOPY_SEG_REGKEY;
	g->dst = dst;
	g->key = key;
	g->sa_key = sa_key;
}

void ct_seg_3pr(struct prk_xcopy_list *l, uint16_t dst, uint64_t cm_key, uint64_t key,
                const struct prk_nexus *nx, uint8_t *buf)
{
	struct prk_tid tid = {.format = PRK_TID_FMT_PORT, .isid = nx->isid};
	snprintf(tid.name, sizeof(tid.name), "%s", nx->name);
	size_t n = prk_prout_params_encode_move(cm_key, key, true, false, nx->rtpi, &tid, buf, 300);
	assert_true(n > 0 && n <= 300);
	struct prk_xcopy_seg *g = &l->seg[l->n_seg++];
	memset(g, 0, sizeof(*g));
	g->type = PRK_XCOPY_SEG_3PR;
	g->dst = dst;
	g->move = buf;
	g->move_len = (uint32_t)n;
}

struct ct_cmd *ct_xcopy_start(struct ct_env *e, size_t via, const struct prk_nexus *nx,
                              const struct prk_xcopy_list *l)
{
	uint8_t buf[8192];
	size_t n = prk_xcopy_encode(l, buf, sizeof(buf));
	assert_true(n > 0 && n <= sizeof(buf));
	uint8_t cdb[16];
	prk_xcopy_cdb_encode((uint32_t)n, cdb);
	return ct_start(e, via, nx, cdb, buf, (uint32_t)n, (uint32_t)n);
}

struct ct_cmd *ct_xcopy(struct ct_env *e, size_t via, const struct prk_nexus *nx,
                        const struct prk_xcopy_list *l)
{
	struct ct_cmd *c = ct_xcopy_start(e, via, nx, l);
	ct_wait(c);
	return c;
}

struct ct_cmd *ct_rcr(struct ct_env *e, size_t via, const struct prk_nexus *nx, uint8_t sa,
                      uint8_t id)
{
	uint8_t cdb[16];
	prk_rcr_cdb_encode(sa, id, 1024, cdb);
	return ct_run(e, via, nx, cdb, NULL, 0, 1024);
}

/* ---- PR ---- */

static void prout(struct ct_env *e, size_t lu, const struct prk_nexus *nx, uint8_t sa, uint8_t type,
                  const uint8_t *p, size_t len)
{
	uint8_t cdb[16] = {PRK_OP_PR_OUT, sa, type};
	cdb[5] = (uint8_t)(len >> 24);
	cdb[6] = (uint8_t)(len >> 16);
	cdb[7] = (uint8_t)(len >> 8);
	cdb[8] = (uint8_t)len;
	struct ct_cmd *c = ct_run(e, lu, nx, cdb, p, (uint32_t)len, (uint32_t)len);
	ct_assert_good(c);
	ct_cmd_free(c);
}

void ct_register(struct ct_env *e, size_t lu, const struct prk_nexus *nx, uint64_t key)
{
	uint8_t p[24];
	assert_int_equal(prk_prout_params_encode_basic(0, key, false, false, NULL, 0, p, 24), 24);
	prout(e, lu, nx, PRK_PROUT_REGISTER, 0, p, 24);
}

void ct_reserve(struct ct_env *e, size_t lu, const struct prk_nexus *nx, uint64_t key, uint8_t type)
{
	uint8_t p[24];
	assert_int_equal(prk_prout_params_encode_basic(key, 0, false, false, NULL, 0, p, 24), 24);
	prout(e, lu, nx, PRK_PROUT_RESERVE, type, p, 24);
}

void ct_move_to_cm(struct ct_env *e, size_t lu, const struct prk_nexus *nx, uint64_t key,
                   uint64_t cm_key)
{
	uint8_t p[300];
	size_t n = prk_prout_params_encode_move(key, cm_key, true, false, prk_cm_nexus(e->cm)->rtpi,
	                                        prk_cm_tid(e->cm), p, sizeof(p));
	assert_true(n > 0 && n <= sizeof(p));
	prout(e, lu, nx, PRK_PROUT_REGISTER_AND_MOVE, PRK_PR_EA, p, n);
}

bool ct_holder(struct ct_env *e, size_t lu, struct prk_nexus *out, uint64_t *key)
{
	uint8_t type, scope;
	long idx;
	struct prk_pr_state *st = prk_lu_pr(e->l[lu].lu);
	if (!prk_pr_reservation(st, &type, &scope, &idx) || idx < 0)
		return false;
	struct prk_pr_reg_info info;
	prk_pr_reg_info(st, (size_t)idx, &info);
	*out = info.nx;
	if (key)
		*key = info.key;
	return true;
}
