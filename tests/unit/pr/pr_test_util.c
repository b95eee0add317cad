/* Helpers shared by the PR engine tests. See pr_test_util.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pr_test_util.h"

#define PT_PARAM_MAX 8192
#define PT_PRIN_MAX 65535

/* ---- fixtures ---- */

void pt_nexus(struct prk_nexus *nx, const char *name, uint64_t isid, uint16_t rtpi)
{
	memset(nx, 0, sizeof(*nx));
	int rc = prk_nexus_init(nx, name, isid, rtpi);
	if (rc != 0) {
		print_error("prk_nexus_init(%s, %llx, %u) failed\n", name, (unsigned long long)isid,
		            rtpi);
		fail();
	}
}

int pt_setup_cfg(void **state, const struct prk_pr_config *cfg)
{
	struct pt_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->st = prk_pr_state_new(cfg);
	if (!c->st) {
		free(c);
		return -1;
	}
	pt_nexus(&c->a, PT_NAME_A, PT_ISID_A, PT_RTPI_1);
	pt_nexus(&c->b, PT_NAME_B, PT_ISID_B, PT_RTPI_1);
	pt_nexus(&c->c, PT_NAME_C, PT_ISID_C, PT_RTPI_2);
	pt_nexus(&c->d, PT_NAME_D, PT_ISID_D, PT_RTPI_2);
	pt_nexus(&c->a_upper, PT_NAME_A_UPPER, PT_ISID_A, PT_RTPI_1);
	pt_nexus(&c->a_isid2, PT_NAME_A, PT_ISID_A2, PT_RTPI_1);
	pt_nexus(&c->a_port2, PT_NAME_A, PT_ISID_A, PT_RTPI_2);
	pt_nexus(&c->b_port2, PT_NAME_B, PT_ISID_B, PT_RTPI_2);
	pt_nexus(&c->c_port1, PT_NAME_C, PT_ISID_C, PT_RTPI_1);
	*state = c;
	return 0;
}

int pt_setup(void **state)
{
	struct prk_pr_config cfg = {0};
	return pt_setup_cfg(state, &cfg);
}

int pt_setup_max2(void **state)
{
	struct prk_pr_config cfg = {.max_registrations = 2};
	return pt_setup_cfg(state, &cfg);
}

static const uint16_t pt_ports12[] = {PT_RTPI_1, PT_RTPI_2};

int pt_setup_ports12(void **state)
{
	struct prk_pr_config cfg = {.rtpis = pt_ports12, .n_rtpis = 2};
	return pt_setup_cfg(state, &cfg);
}

int pt_teardown(void **state)
{
	struct pt_ctx *c = *state;
	if (c) {
		prk_pr_state_free(c->st);
		free(c);
	}
	*state = NULL;
	return 0;
}

void pt_tid_port(struct prk_tid *t, const struct prk_nexus *nx)
{
	memset(t, 0, sizeof(*t));
	t->format = PRK_TID_FMT_PORT;
	t->isid = nx->isid;
	snprintf(t->name, sizeof(t->name), "%s", nx->name);
}

void pt_tid_dev(struct prk_tid *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	t->format = PRK_TID_FMT_DEVICE;
	snprintf(t->name, sizeof(t->name), "%s", name);
}

/* ---- PR OUT ---- */

void pt_prout_cdb(uint8_t cdb[10], uint8_t sa, uint8_t scope, uint8_t type, uint32_t param_len)
{
	struct prk_prout_cdb c = {.sa = sa, .scope = scope, .type = type, .param_len = param_len};
	memset(cdb, 0, 10);
	assert_int_equal(prk_prout_cdb_encode(&c, cdb), 10);
}

int pt_out_raw(struct prk_pr_state *st, const struct prk_nexus *from, const uint8_t *cdb,
               const uint8_t *params, size_t params_len, struct prk_pr_result *res)
{
	prk_pr_result_init(res);
	return prk_pr_out(st, from, cdb, 10, params, params_len, res);
}

int pt_out_req(struct prk_pr_state *st, const struct prk_nexus *from, const struct pt_req *rq,
               struct prk_pr_result *res)
{
	uint8_t params[PT_PARAM_MAX];
	size_t len;
	memset(params, 0, sizeof(params));
	if (rq->sa == PRK_PROUT_REGISTER_AND_MOVE) {
		struct prk_tid none;
		const struct prk_tid *tid = rq->move_tid;
		if (!tid) {
			pt_tid_port(&none, from);
			tid = &none;
		}
		len = prk_prout_params_encode_move(rq->key, rq->sa_key, rq->unreg, rq->aptpl,
		                                   rq->rtpi, tid, params, sizeof(params));
	} else {
		len = prk_prout_params_encode_basic(rq->key, rq->sa_key, rq->all_tg_pt, rq->aptpl,
		                                    rq->tids, rq->n_tids, params, sizeof(params));
	}
	if (len == 0 || len > sizeof(params)) {
		print_error("parameter list encoding failed (len %zu)\n", len);
		fail();
	}
	uint8_t cdb[10];
	pt_prout_cdb(cdb, rq->sa, rq->scope, rq->type, (uint32_t)len);
	return pt_out_raw(st, from, cdb, params, len, res);
}

int pt_out(struct prk_pr_state *st, const struct prk_nexus *from, uint8_t sa, uint8_t type,
           uint64_t key, uint64_t sa_key, struct prk_pr_result *res)
{
	struct pt_req rq = {.sa = sa, .type = type, .key = key, .sa_key = sa_key};
	return pt_out_req(st, from, &rq, res);
}

static void pt_describe(const struct prk_pr_result *r)
{
	print_error("  status 0x%02x, sense %x/%02x/%02x (sksv %d cd %d bpv %d bit %u field %u), "
	            "why \"%s\"\n",
	            r->status, r->sense.key, r->sense.asc, r->sense.ascq, r->sense.sksv,
	            r->sense.cd, r->sense.bpv, r->sense.bit, r->sense.field, r->why ? r->why : "");
}

void pt_must_out_at(struct prk_pr_state *st, const struct prk_nexus *from, const struct pt_req *rq,
                    const char *file, int line)
{
	struct prk_pr_result r;
	int rc = pt_out_req(st, from, rq, &r);
	if (rc != 0 || r.status != PRK_STATUS_GOOD) {
		print_error("setup PR OUT %s from %s failed: rc %d\n", prk_prout_sa_name(rq->sa),
		            from->name, rc);
		pt_describe(&r);
		prk_pr_result_free(&r);
		_fail(file, line);
	}
	prk_pr_result_free(&r);
}

void pt_reg_at(struct prk_pr_state *st, const struct prk_nexus *from, uint64_t key, bool all_tg_pt,
               const char *file, int line)
{
	struct pt_req rq = {.sa = PRK_PROUT_REGISTER, .sa_key = key, .all_tg_pt = all_tg_pt};
	pt_must_out_at(st, from, &rq, file, line);
}

void pt_resv_at(struct prk_pr_state *st, const struct prk_nexus *from, uint64_t key, uint8_t type,
                const char *file, int line)
{
	struct pt_req rq = {.sa = PRK_PROUT_RESERVE, .type = type, .key = key};
	pt_must_out_at(st, from, &rq, file, line);
}

/* ---- PR IN ---- */

size_t pt_in(const struct prk_pr_state *st, const struct prk_nexus *from, uint8_t sa, uint8_t *buf,
             size_t cap, struct prk_pr_result *res)
{
	uint8_t cdb[10];
	struct prk_prin_cdb c = {.sa = sa, .alloc_len = (uint16_t)(cap > 0xffff ? 0xffff : cap)};
	memset(cdb, 0, sizeof(cdb));
	assert_int_equal(prk_prin_cdb_encode(&c, cdb), 10);
	prk_pr_result_init(res);
	return prk_pr_in(st, from, cdb, 10, buf, cap, res);
}

static uint8_t *pt_prin_good(const struct prk_pr_state *st, const struct prk_nexus *from,
                             uint8_t sa, size_t *n, const char *file, int line)
{
	uint8_t *buf = calloc(1, PT_PRIN_MAX);
	struct prk_pr_result r;
	assert_non_null(buf);
	*n = pt_in(st, from, sa, buf, PT_PRIN_MAX, &r);
	if (r.status != PRK_STATUS_GOOD) {
		print_error("PR IN service action %u failed\n", sa);
		pt_describe(&r);
		prk_pr_result_free(&r);
		free(buf);
		_fail(file, line);
	}
	prk_pr_result_free(&r);
	return buf;
}

size_t pt_read_keys_at(const struct prk_pr_state *st, const struct prk_nexus *from, uint32_t *gen,
                       uint64_t *keys, size_t max, const char *file, int line)
{
	size_t n;
	uint8_t *buf = pt_prin_good(st, from, PRK_PRIN_READ_KEYS, &n, file, line);
	struct prk_prin_keys k;
	struct prk_field_err err;
	_assert_int_equal(prk_prin_keys_decode(buf, n, &k, &err), 0, file, line);
	_assert_int_equal(n, PRK_PRIN_HDR_LEN + k.additional_len, file, line);
	_assert_int_equal(k.n_present, k.n_total, file, line);
	if (gen)
		*gen = k.generation;
	for (size_t i = 0; i < k.n_total && i < max; i++)
		keys[i] = prk_prin_keys_at(&k, i);
	free(buf);
	return k.n_total;
}

void pt_read_resv_at(const struct prk_pr_state *st, const struct prk_nexus *from,
                     struct prk_prin_resv *out, const char *file, int line)
{
	size_t n;
	uint8_t *buf = pt_prin_good(st, from, PRK_PRIN_READ_RESERVATION, &n, file, line);
	struct prk_field_err err;
	_assert_int_equal(prk_prin_resv_decode(buf, n, out, &err), 0, file, line);
	_assert_int_equal(n, out->present ? PRK_PRIN_RESV_LEN : PRK_PRIN_HDR_LEN, file, line);
	free(buf);
}

void pt_read_caps_at(const struct prk_pr_state *st, const struct prk_nexus *from,
                     struct prk_prin_caps *out, const char *file, int line)
{
	size_t n;
	uint8_t *buf = pt_prin_good(st, from, PRK_PRIN_REPORT_CAPABILITIES, &n, file, line);
	struct prk_field_err err;
	_assert_int_equal(n, PRK_PRIN_CAPS_LEN, file, line);
	_assert_int_equal(prk_prin_caps_decode(buf, n, out, &err), 0, file, line);
	free(buf);
}

size_t pt_read_full_at(const struct prk_pr_state *st, const struct prk_nexus *from, uint32_t *gen,
                       struct prk_full_desc *d, size_t max, const char *file, int line)
{
	size_t n;
	uint8_t *buf = pt_prin_good(st, from, PRK_PRIN_READ_FULL_STATUS, &n, file, line);
	struct prk_full_dec dec;
	struct prk_field_err err;
	struct prk_full_desc one;
	size_t count = 0;
	_assert_int_equal(prk_full_dec_start(&dec, buf, n, &err), 0, file, line);
	_assert_int_equal(n, PRK_PRIN_HDR_LEN + dec.additional_len, file, line);
	if (gen)
		*gen = dec.generation;
	for (;;) {
		int rc = prk_full_dec_next(&dec, &one, &err);
		_assert_true(rc >= 0, "READ FULL STATUS descriptor decodes", file, line);
		if (rc == 0)
			break;
		if (count < max)
			d[count] = one;
		count++;
	}
	_assert_true(!dec.truncated, "READ FULL STATUS not truncated", file, line);
	free(buf);
	return count;
}

size_t pt_key_count(const struct prk_pr_state *st, uint64_t key)
{
	struct prk_nexus who;
	uint64_t keys[512];
	pt_nexus(&who, "iqn.2001-04.com.example:observer", 1, 1);
	size_t n = pt_read_keys(st, &who, NULL, keys, 512);
	size_t c = 0;
	for (size_t i = 0; i < n && i < 512; i++)
		c += keys[i] == key;
	return c;
}

/* ---- result assertions ---- */

void pt_assert_status_at(const struct prk_pr_result *r, uint8_t status, const char *file, int line)
{
	if (r->status != status) {
		print_error("expected status 0x%02x\n", status);
		pt_describe(r);
		_fail(file, line);
	}
}

void pt_assert_check_at(const struct prk_pr_result *r, uint8_t key, uint16_t asc, const char *file,
                        int line)
{
	if (r->status != PRK_STATUS_CHECK_CONDITION || r->sense.key != key ||
	    r->sense.asc != (asc >> 8) || r->sense.ascq != (asc & 0xff)) {
		print_error("expected CHECK CONDITION %x/%02x/%02x\n", key, asc >> 8, asc & 0xff);
		pt_describe(r);
		_fail(file, line);
	}
}

void pt_assert_field_at(const struct prk_pr_result *r, bool cd, uint16_t byte, int bit,
                        const char *file, int line)
{
	bool ok = r->status == PRK_STATUS_CHECK_CONDITION && r->sense.sksv && r->sense.cd == cd &&
	          r->sense.field == byte;
	if (ok && bit >= 0)
		ok = r->sense.bpv && r->sense.bit == bit;
	if (!ok) {
		print_error("expected field pointer %s byte %u bit %d\n", cd ? "CDB" : "data", byte,
		            bit);
		pt_describe(r);
		_fail(file, line);
	}
}

static bool ua_reaches(const struct prk_ua *u, const struct prk_nexus *sender,
                       const struct prk_nexus *nx)
{
	if (!prk_nexus_set_contains(&u->to, nx))
		return false;
	if (u->skip_sender && sender && prk_nexus_eq(sender, nx))
		return false;
	return true;
}

bool pt_has_ua(const struct prk_pr_result *r, uint16_t asc, const struct prk_nexus *sender,
               const struct prk_nexus *nx)
{
	for (size_t i = 0; i < r->n_ua; i++)
		if (r->ua[i].asc == asc && ua_reaches(&r->ua[i], sender, nx))
			return true;
	return false;
}

bool pt_has_any_ua(const struct prk_pr_result *r, const struct prk_nexus *sender,
                   const struct prk_nexus *nx)
{
	for (size_t i = 0; i < r->n_ua; i++)
		if (ua_reaches(&r->ua[i], sender, nx))
			return true;
	return false;
}

bool pt_in_abort(const struct prk_pr_result *r, const struct prk_nexus *nx)
{
	for (size_t i = 0; i < r->n_abort; i++)
		if (prk_nexus_set_contains(&r->abort[i], nx))
			return true;
	return false;
}

void pt_assert_ua_at(const struct prk_pr_result *r, uint16_t asc, const struct prk_nexus *sender,
                     const struct prk_nexus *nx, bool want, const char *file, int line)
{
	if (pt_has_ua(r, asc, sender, nx) != want) {
		print_error(
		    "expected %s UA %02x/%02x for %s isid %llx rtpi %u (%zu UAs in result)\n",
		    want ? "a" : "no", asc >> 8, asc & 0xff, nx->name, (unsigned long long)nx->isid,
		    nx->rtpi, r->n_ua);
		for (size_t i = 0; i < r->n_ua; i++)
			print_error(
			    "  ua[%zu] %04x to %s isid %llx rtpi %u any_isid %d any_port %d "
			    "everyone %d skip_sender %d\n",
			    i, r->ua[i].asc, r->ua[i].to.nx.name,
			    (unsigned long long)r->ua[i].to.nx.isid, r->ua[i].to.nx.rtpi,
			    r->ua[i].to.any_isid, r->ua[i].to.any_port, r->ua[i].to.everyone,
			    r->ua[i].skip_sender);
		_fail(file, line);
	}
}

/* ---- state assertions ---- */

void pt_assert_registered_at(const struct prk_pr_state *st, const struct prk_nexus *nx, bool want,
                             const char *file, int line)
{
	long i = prk_pr_find(st, nx);
	if ((i >= 0) != want) {
		print_error("expected %s %s isid %llx rtpi %u to be registered (find = %ld)\n",
		            want ? "" : "NOT", nx->name, (unsigned long long)nx->isid, nx->rtpi, i);
		_fail(file, line);
	}
}

uint64_t pt_key_of_at(const struct prk_pr_state *st, const struct prk_nexus *nx, const char *file,
                      int line)
{
	long i = prk_pr_find(st, nx);
	if (i < 0) {
		print_error("%s isid %llx rtpi %u is not registered\n", nx->name,
		            (unsigned long long)nx->isid, nx->rtpi);
		_fail(file, line);
	}
	struct prk_pr_reg_info info;
	prk_pr_reg_info(st, (size_t)i, &info);
	return info.key;
}

void pt_assert_resv_at(const struct prk_pr_state *st, uint8_t type, const char *file, int line)
{
	uint8_t t = 0xff, s = 0xff;
	long h = -2;
	if (!prk_pr_reservation(st, &t, &s, &h)) {
		print_error("expected a %s reservation, found none\n", prk_pr_type_name(type));
		_fail(file, line);
	}
	if (t != type || s != PRK_PR_SCOPE_LU) {
		print_error("expected a %s reservation, found type %x scope %x\n",
		            prk_pr_type_name(type), t, s);
		_fail(file, line);
	}
}

void pt_assert_no_resv_at(const struct prk_pr_state *st, const char *file, int line)
{
	uint8_t t = 0, s = 0;
	long h = 0;
	if (prk_pr_reservation(st, &t, &s, &h)) {
		print_error("expected no reservation, found type %x scope %x holder %ld\n", t, s,
		            h);
		_fail(file, line);
	}
}
