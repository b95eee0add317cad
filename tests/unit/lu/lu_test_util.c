/* Helpers shared by the LU tests; see lu_test_util.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lu_test_util.h"

void lt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void lt_put32(uint8_t *p, uint32_t v)
{
	lt_put16(p, (uint16_t)(v >> 16));
	lt_put16(p + 2, (uint16_t)v);
}

void lt_put64(uint8_t *p, uint64_t v)
{
	lt_put32(p, (uint32_t)(v >> 32));
	lt_put32(p + 4, (uint32_t)v);
}

uint16_t lt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t lt_get32(const uint8_t *p)
{
	return (uint32_t)lt_get16(p) << 16 | lt_get16(p + 2);
}

uint64_t lt_get64(const uint8_t *p)
{
	return (uint64_t)lt_get32(p) << 32 | lt_get32(p + 4);
}

void lt_cdb10(uint8_t *c, uint8_t op, uint8_t flags, uint32_t lba, uint16_t len)
{
	memset(c, 0, 10);
	c[0] = op;
	c[1] = flags;
	lt_put32(c + 2, lba);
	lt_put16(c + 7, len);
}

void lt_cdb16(uint8_t *c, uint8_t op, uint8_t flags, uint64_t lba, uint32_t len)
{
	memset(c, 0, 16);
	c[0] = op;
	c[1] = flags;
	lt_put64(c + 2, lba);
	lt_put32(c + 10, len);
}

void lt_pattern(uint8_t *buf, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
}

struct lt_ctx *lt_new(const struct prk_lu_config *cfg)
{
	char err[128];
	struct lt_ctx *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->cfg = *cfg;
	if (!t->cfg.serial[0])
		snprintf(t->cfg.serial, sizeof(t->cfg.serial), "SN0001");
	t->bs = prk_bs_ram_open(t->cfg.num_blocks * t->cfg.block_size, err, sizeof(err));
	assert_non_null(t->bs);
	t->lu = prk_lu_new(&t->cfg, t->bs, err, sizeof(err));
	if (!t->lu)
		fail_msg("prk_lu_new: %s", err);
	assert_int_equal(prk_nexus_init(&t->a, LT_NAME_A, 0x400001370001ULL, 1), 0);
	assert_int_equal(prk_nexus_init(&t->b, LT_NAME_B, 0x23d000000002ULL, 1), 0);
	assert_int_equal(prk_nexus_init(&t->c, LT_NAME_C, 0x23d000000003ULL, 1), 0);
	t->port = (struct prk_lu_port){.rtpi = 1, .tpg = 7, .target_name = LT_TARGET, .tpgt = 1};
	lt_login(t, &t->a);
	lt_login(t, &t->b);
	return t;
}

void lt_free(struct lt_ctx *t)
{
	assert_int_equal(prk_lu_inflight(t->lu), 0);
	prk_lu_free(t->lu);
	prk_bs_close(t->bs);
	free(t);
}

/* Logs in and consumes the power-on UA with a TEST UNIT READY. */
void lt_login(struct lt_ctx *t, const struct prk_nexus *nx)
{
	uint8_t tur[6] = {0};
	prk_lu_nexus_up(t->lu, nx);
	struct lt_res r = lt_run(t, nx, tur, 6, NULL, 0, 0);
	lt_assert_sense(&r, PRK_SK_UNIT_ATTENTION, PRK_ASC_POWER_ON_RESET);
	lt_res_free(&r);
}

static struct lt_ctx *setup_with(bool thin, bool ro, uint32_t bs)
{
	struct prk_lu_config cfg = {0};
	cfg.block_size = bs;
	cfg.num_blocks = (uint64_t)LT_BLOCKS * 512 / bs;
	cfg.thin = thin;
	cfg.readonly = ro;
	cfg.write_cache = true;
	return lt_new(&cfg);
}

int lt_setup(void **state)
{
	*state = setup_with(false, false, 512);
	return 0;
}

int lt_setup_thin(void **state)
{
	*state = setup_with(true, false, 512);
	return 0;
}

int lt_setup_ro(void **state)
{
	*state = setup_with(false, true, 512);
	return 0;
}

int lt_setup_4k(void **state)
{
	*state = setup_with(false, false, 4096);
	return 0;
}

int lt_teardown(void **state)
{
	lt_free(*state);
	return 0;
}

struct done_rec {
	int calls;
};

static void on_done(struct prk_lu_cmd *cmd)
{
	((struct done_rec *)cmd->priv)->calls++;
}

struct lt_res lt_run(struct lt_ctx *t, const struct prk_nexus *nx, const uint8_t *cdb,
                     size_t cdb_len, const void *data_out, uint32_t data_out_len, uint32_t edtl)
{
	struct prk_lu_cmd cmd;
	struct done_rec rec = {0};
	struct lt_res r;

	memset(&cmd, 0, sizeof(cmd));
	memset(&r, 0, sizeof(r));
	cmd.nx = nx;
	cmd.port = &t->port;
	memcpy(cmd.cdb, cdb, cdb_len);
	cmd.cdb_len = 16; /* iSCSI always carries 16 bytes */
	cmd.edtl = edtl;
	cmd.dir_write = data_out != NULL;
	cmd.dir_read = !cmd.dir_write && edtl > 0;
	cmd.data_out = data_out;
	cmd.data_out_len = data_out_len;
	cmd.done = on_done;
	cmd.priv = &rec;
	unsigned before = prk_lu_inflight(t->lu);
	prk_lu_submit(t->lu, &cmd);
	/* The RAM backstore completes inline: so must every command. */
	assert_int_equal(rec.calls, 1);
	assert_int_equal(prk_lu_inflight(t->lu), before);
	assert_true(cmd.data_in_len <= edtl);
	if (cmd.status != PRK_STATUS_GOOD)
		assert_int_equal(cmd.data_in_len, 0);
	if (cmd.data_in_len)
		assert_non_null(cmd.data_in);
	r.status = cmd.status;
	r.sense_len = cmd.sense_len;
	memcpy(r.sense_raw, cmd.sense, sizeof(r.sense_raw));
	if (cmd.sense_len)
		assert_int_equal(prk_sense_decode(cmd.sense, cmd.sense_len, &r.sense), 0);
	r.data = cmd.data_in;
	r.len = cmd.data_in_len;
	r.spdtl = cmd.spdtl;
	return r;
}

void lt_res_free(struct lt_res *r)
{
	free(r->data);
	r->data = NULL;
}

struct lt_res lt_in(struct lt_ctx *t, const struct prk_nexus *nx, const uint8_t *cdb,
                    size_t cdb_len, uint32_t edtl)
{
	return lt_run(t, nx, cdb, cdb_len, NULL, 0, edtl);
}

struct lt_res lt_out(struct lt_ctx *t, const struct prk_nexus *nx, const uint8_t *cdb,
                     size_t cdb_len, const void *data, uint32_t len)
{
	static const uint8_t none[1];
	return lt_run(t, nx, cdb, cdb_len, data ? data : none, len, len);
}

void lt_write_blocks(struct lt_ctx *t, uint64_t lba, uint32_t n, const uint8_t *data)
{
	uint8_t c[16];
	lt_cdb16(c, 0x8a, 0, lba, n);
	struct lt_res r = lt_out(t, &t->a, c, 16, data, n * t->cfg.block_size);
	lt_assert_good(&r);
	lt_res_free(&r);
}

void lt_read_blocks(struct lt_ctx *t, uint64_t lba, uint32_t n, uint8_t *out)
{
	uint8_t c[16];
	lt_cdb16(c, 0x88, 0, lba, n);
	struct lt_res r = lt_in(t, &t->a, c, 16, n * t->cfg.block_size);
	lt_assert_good(&r);
	assert_int_equal(r.len, n * t->cfg.block_size);
	memcpy(out, r.data, r.len);
	lt_res_free(&r);
}

void lt_assert_good_at(const struct lt_res *r, const char *file, int line)
{
	if (r->status != PRK_STATUS_GOOD)
		fail_msg("%s:%d: status %02xh, sense key %xh asc %02x/%02x", file, line, r->status,
		         r->sense.key, r->sense.asc, r->sense.ascq);
	if (r->sense_len)
		fail_msg("%s:%d: GOOD with sense data", file, line);
}

void lt_assert_sense_at(const struct lt_res *r, uint8_t key, uint16_t asc, const char *file,
                        int line)
{
	if (r->status != PRK_STATUS_CHECK_CONDITION || !r->sense_len)
		fail_msg("%s:%d: status %02xh, expected CHECK CONDITION", file, line, r->status);
	if (r->sense.key != key || r->sense.asc != (asc >> 8) || r->sense.ascq != (asc & 0xff))
		fail_msg("%s:%d: sense %xh %02x/%02x, expected %xh %02x/%02x", file, line,
		         r->sense.key, r->sense.asc, r->sense.ascq, key, asc >> 8, asc & 0xff);
}

void lt_assert_field_at(const struct lt_res *r, uint16_t asc, bool in_cdb, uint16_t byte, int bit,
                        const char *file, int line)
{
	lt_assert_sense_at(r, PRK_SK_ILLEGAL_REQUEST, asc, file, line);
	if (!r->sense.sksv)
		fail_msg("%s:%d: no field pointer", file, line);
	if (r->sense.cd != in_cdb || r->sense.field != byte)
		fail_msg("%s:%d: field pointer C/D=%d byte %u, expected C/D=%d byte %u", file, line,
		         r->sense.cd, r->sense.field, in_cdb, byte);
	if (bit < 0 && r->sense.bpv)
		fail_msg("%s:%d: unexpected bit pointer %u", file, line, r->sense.bit);
	if (bit >= 0 && (!r->sense.bpv || r->sense.bit != bit))
		fail_msg("%s:%d: bit pointer %d/%u, expected %d", file, line, r->sense.bpv,
		         r->sense.bit, bit);
}
