/* Randomized test of the PR engine: thousands of random PR OUT, PR IN,
 * SPC-2 and event calls from several I_T nexuses, with the engine's
 * invariants checked after every step:
 *   - a failed command changes nothing and carries no effects;
 *   - the holder of a non-all-registrants reservation is registered;
 *   - PRgeneration moves by exactly one on a successful
 *     registration-changing service action, and never otherwise; every
 *     change to the registrations moves it;
 *   - READ KEYS, READ RESERVATION and READ FULL STATUS agree;
 *   - no two registrations share an identity, and no key is zero;
 *   - encode(decode(encode(state))) == encode(state) for the APTPL record;
 *   - the access check agrees with prk_pr_find / prk_pr_is_holder;
 *   - the same seed gives the same final state (determinism). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "prkit/pr.h"

#define N_NEXUS 6
#define STEPS 4000
#define SEEDS 12

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static unsigned pick(struct rng *r, unsigned n)
{
	return (unsigned)(next(r) % n);
}

static const struct {
	const char *name;
	uint64_t isid;
	uint16_t rtpi;
} nexus_defs[N_NEXUS] = {
    {"iqn.2026-01.org.example:a", 0x23d000000001ULL, 1},
    {"IQN.2026-01.ORG.EXAMPLE:A", 0x23d000000001ULL, 2}, /* same port, other target port */
    {"iqn.2026-01.org.example:b", 0x23d000000002ULL, 1},
    {"iqn.2026-01.org.example:b", 0x23d000000003ULL, 2},
    {"iqn.2026-01.org.example:c", 0x23d000000004ULL, 1},
    {"iqn.2026-01.org.example:d", 0x23d000000005ULL, 2},
};

static struct prk_nexus nx[N_NEXUS];
static const uint16_t ports[] = {1, 2};

static uint64_t rand_key(struct rng *r)
{
	static const uint64_t keys[] = {0, 1, 2, 3, 0xabcdef0123456789ULL};
	return keys[pick(r, 5)];
}

static struct prk_tid tid_of(unsigned i, bool device_format)
{
	struct prk_tid t = {.format = device_format ? PRK_TID_FMT_DEVICE : PRK_TID_FMT_PORT,
	                    .isid = device_format ? 0 : nexus_defs[i].isid};
	strcpy(t.name, nexus_defs[i].name);
	return t;
}

struct snap {
	size_t n;
	struct prk_pr_reg_info regs[64];
};

static void take(const struct prk_pr_state *st, struct snap *s)
{
	s->n = prk_pr_reg_count(st);
	assert_true(s->n <= 64);
	for (size_t i = 0; i < s->n; i++)
		prk_pr_reg_info(st, i, &s->regs[i]);
}

/* Registrations (keys and identities, in order) equal? */
static bool same_regs(const struct snap *a, const struct snap *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct prk_pr_reg_info *x = &a->regs[i], *y = &b->regs[i];
		if (x->key != y->key || x->all_tg_pt != y->all_tg_pt ||
		    x->any_isid != y->any_isid || !prk_nexus_eq(&x->nx, &y->nx))
			return false;
	}
	return true;
}

static size_t prin(const struct prk_pr_state *st, uint8_t sa, uint8_t *buf, size_t cap)
{
	struct prk_prin_cdb c = {.sa = sa, .alloc_len = (uint16_t)cap};
	uint8_t cdb[10];
	prk_prin_cdb_encode(&c, cdb);
	struct prk_pr_result res;
	prk_pr_result_init(&res);
	size_t n = prk_pr_in(st, &nx[0], cdb, sizeof(cdb), buf, cap, &res);
	int status = res.status;
	prk_pr_result_free(&res);
	return status == PRK_STATUS_GOOD ? n : 0;
}

static void check_reports_agree(const struct prk_pr_state *st)
{
	uint8_t kb[4096], rb[64], fb[16384];
	struct prk_field_err err;
	if (prk_pr_spc2_holder(st, NULL))
		return; /* PR IN conflicts while an SPC-2 reservation is held */
	size_t kn = prin(st, PRK_PRIN_READ_KEYS, kb, sizeof(kb));
	size_t rn = prin(st, PRK_PRIN_READ_RESERVATION, rb, sizeof(rb));
	size_t fn = prin(st, PRK_PRIN_READ_FULL_STATUS, fb, sizeof(fb));
	struct prk_prin_keys keys;
	struct prk_prin_resv resv;
	struct prk_full_dec fd;
	assert_int_equal(prk_prin_keys_decode(kb, kn, &keys, &err), 0);
	assert_int_equal(prk_prin_resv_decode(rb, rn, &resv, &err), 0);
	assert_int_equal(prk_full_dec_start(&fd, fb, fn, &err), 0);
	assert_int_equal(keys.generation, prk_pr_generation(st));
	assert_int_equal(resv.generation, prk_pr_generation(st));
	assert_int_equal(fd.generation, prk_pr_generation(st));
	assert_int_equal(keys.n_total, prk_pr_reg_count(st));
	assert_int_equal(keys.n_present, keys.n_total);

	uint8_t type = 0, scope = 0;
	long holder = -1;
	bool present = prk_pr_reservation(st, &type, &scope, &holder);
	assert_int_equal(resv.present, present);
	size_t i = 0, holders = 0;
	struct prk_full_desc d;
	while (prk_full_dec_next(&fd, &d, &err) == 1) {
		struct prk_pr_reg_info ri;
		prk_pr_reg_info(st, i, &ri);
		assert_true(d.key == prk_prin_keys_at(&keys, i));
		assert_true(d.key == ri.key);
		assert_int_equal(d.all_tg_pt, ri.all_tg_pt);
		assert_int_equal(d.r_holder, ri.holder);
		if (d.r_holder) {
			holders++;
			assert_int_equal(d.type, resv.type);
			assert_int_equal(d.scope, resv.scope);
			if (!prk_pr_type_all_registrants(type))
				assert_true(resv.key == d.key);
		}
		i++;
	}
	assert_false(fd.truncated);
	assert_int_equal(i, prk_pr_reg_count(st));
	if (!present)
		assert_int_equal(holders, 0);
	else if (prk_pr_type_all_registrants(type)) {
		assert_int_equal(holders, prk_pr_reg_count(st));
		assert_true(resv.key == 0);
		assert_true(holders > 0);
	} else {
		assert_int_equal(holders, 1);
		assert_true(holder >= 0);
	}
}

static void check_invariants(const struct prk_pr_state *st)
{
	size_t n = prk_pr_reg_count(st);
	for (size_t i = 0; i < n; i++) {
		struct prk_pr_reg_info a;
		prk_pr_reg_info(st, i, &a);
		assert_true(a.key != 0);
		for (size_t j = i + 1; j < n; j++) {
			struct prk_pr_reg_info b;
			prk_pr_reg_info(st, j, &b);
			bool same = a.all_tg_pt == b.all_tg_pt && a.any_isid == b.any_isid &&
			            strcmp(a.nx.name, b.nx.name) == 0 &&
			            (a.any_isid || a.nx.isid == b.nx.isid) &&
			            (a.all_tg_pt || a.nx.rtpi == b.nx.rtpi);
			assert_false(same);
		}
	}
	uint8_t type;
	long holder;
	if (prk_pr_reservation(st, &type, NULL, &holder)) {
		if (prk_pr_type_all_registrants(type)) {
			assert_int_equal(holder, -1);
			assert_true(n > 0);
		} else {
			assert_true(holder >= 0 && (size_t)holder < n);
		}
	}
	check_reports_agree(st);

	/* APTPL record round trip. */
	uint8_t *rec = NULL, *rec2 = NULL;
	size_t len = prk_pr_record_encode(st, &rec);
	assert_true(len > 0);
	struct prk_pr_state *copy = prk_pr_state_new(NULL);
	struct prk_field_err err;
	assert_int_equal(prk_pr_record_decode(copy, rec, len, &err), 0);
	size_t len2 = prk_pr_record_encode(copy, &rec2);
	assert_int_equal(len, len2);
	assert_memory_equal(rec, rec2, len);
	if (!prk_pr_spc2_holder(st, NULL) && !prk_pr_lost(st))
		assert_true(prk_pr_state_equal(st, copy));
	free(rec);
	free(rec2);
	prk_pr_state_free(copy);

	/* The access check agrees with the introspection calls. */
	static const uint8_t write10[10] = {PRK_OP_WRITE10};
	static const uint8_t read10[10] = {PRK_OP_READ10};
	for (int i = 0; i < N_NEXUS; i++) {
		enum prk_access w = prk_pr_access(st, &nx[i], write10, sizeof(write10));
		enum prk_access r = prk_pr_access(st, &nx[i], read10, sizeof(read10));
		struct prk_nexus h;
		if (prk_pr_spc2_holder(st, &h)) {
			bool mine = prk_nexus_eq(&h, &nx[i]);
			if (!mine) {
				assert_int_equal(w, PRK_ACCESS_CONFLICT);
				assert_int_equal(r, PRK_ACCESS_CONFLICT);
				continue;
			}
		}
		if (prk_pr_lost(st)) {
			assert_int_equal(w, PRK_ACCESS_LOST);
			continue;
		}
		bool reg = prk_pr_find(st, &nx[i]) >= 0;
		bool hold = prk_pr_is_holder(st, &nx[i]);
		if (!prk_pr_reservation(st, &type, NULL, NULL)) {
			assert_int_equal(w, PRK_ACCESS_ALLOWED);
			continue;
		}
		if (hold)
			assert_true(reg);
		bool may_write = hold || (reg && (prk_pr_type_registrants_only(type) ||
		                                  prk_pr_type_all_registrants(type)));
		bool may_read =
		    may_write || type == PRK_PR_WE || type == PRK_PR_WE_RO || type == PRK_PR_WE_AR;
		assert_int_equal(w, may_write ? PRK_ACCESS_ALLOWED : PRK_ACCESS_CONFLICT);
		assert_int_equal(r, may_read ? PRK_ACCESS_ALLOWED : PRK_ACCESS_CONFLICT);
	}
}

static bool bumps_generation(uint8_t sa)
{
	switch (sa) {
	case PRK_PROUT_REGISTER:
	case PRK_PROUT_REGISTER_AND_IGNORE:
	case PRK_PROUT_CLEAR:
	case PRK_PROUT_PREEMPT:
	case PRK_PROUT_PREEMPT_AND_ABORT:
	case PRK_PROUT_REGISTER_AND_MOVE:
	case PRK_PROUT_REPLACE_LOST:
		return true;
	}
	return false;
}

/* One random PR OUT; returns its service action (0xff if not sent). */
static void random_prout(struct prk_pr_state *st, struct rng *r, unsigned from,
                         struct prk_pr_result *res, uint8_t *sa_out, uint64_t *sa_key_out)
{
	uint8_t params[512];
	size_t plen;
	struct prk_prout_cdb c = {
	    .sa = (uint8_t)(pick(r, 20) == 0 ? 9 + pick(r, 23) : pick(r, 9)),
	    .scope = (uint8_t)(pick(r, 30) == 0 ? 1 : 0),
	    .type = (uint8_t)(pick(r, 10)),
	};
	/* Mostly valid types, so that reservations happen often. */
	if (pick(r, 4))
		c.type = (uint8_t[]){1, 3, 5, 6, 7, 8}[pick(r, 6)];
	uint64_t key = rand_key(r), sa_key = rand_key(r);
	bool aptpl = pick(r, 3) == 0;
	if (c.sa == PRK_PROUT_REGISTER_AND_MOVE) {
		struct prk_tid t = tid_of(pick(r, N_NEXUS), pick(r, 8) == 0);
		plen = prk_prout_params_encode_move(key, sa_key, pick(r, 3) == 0, aptpl,
		                                    (uint16_t)(1 + pick(r, 3)), &t, params,
		                                    sizeof(params));
	} else {
		struct prk_tid tids[2];
		size_t n_tids = 0;
		if (c.sa == PRK_PROUT_REGISTER && pick(r, 5) == 0) {
			n_tids = pick(r, 3);
			for (size_t i = 0; i < n_tids; i++)
				tids[i] = tid_of(pick(r, N_NEXUS), pick(r, 4) == 0);
		}
		bool all_tg_pt =
		    (c.sa == PRK_PROUT_REGISTER || c.sa == PRK_PROUT_REGISTER_AND_IGNORE) &&
		    pick(r, 6) == 0;
		plen = prk_prout_params_encode_basic(key, sa_key, all_tg_pt, aptpl, tids, n_tids,
		                                     params, sizeof(params));
	}
	assert_true(plen > 0 && plen <= sizeof(params));
	c.param_len = (uint32_t)plen;
	uint8_t cdb[10];
	prk_prout_cdb_encode(&c, cdb);
	prk_pr_out(st, &nx[from], cdb, sizeof(cdb), params, plen, res);
	*sa_out = c.sa;
	*sa_key_out = sa_key;
}

static void run_seed(uint64_t seed, uint8_t **final_rec, size_t *final_len)
{
	struct rng r = {.s = seed * 0x9e3779b97f4a7c15ULL + 1};
	struct prk_pr_config cfg = {.max_registrations = 12, .rtpis = ports, .n_rtpis = 2};
	struct prk_pr_state *st = prk_pr_state_new(&cfg);
	assert_non_null(st);
	unsigned goods = 0;
	for (int step = 0; step < STEPS; step++) {
		struct prk_pr_state *before = prk_pr_state_clone(st);
		assert_non_null(before);
		struct snap s0, s1;
		take(st, &s0);
		uint32_t g0 = prk_pr_generation(st);
		unsigned from = pick(&r, N_NEXUS);
		struct prk_pr_result res;
		prk_pr_result_init(&res);
		unsigned what = pick(&r, 100);
		uint8_t sa = 0xff;
		uint64_t sa_key = 0;
		bool was_registered = prk_pr_find(st, &nx[from]) >= 0;
		if (what < 85) {
			random_prout(st, &r, from, &res, &sa, &sa_key);
		} else if (what < 91) {
			uint8_t cdb[6] = {pick(&r, 2) ? PRK_OP_RESERVE6 : PRK_OP_RELEASE6};
			prk_pr_spc2(st, &nx[from], cdb, sizeof(cdb), &res);
		} else if (what < 95) {
			prk_pr_nexus_loss(st, &nx[from], &res);
		} else if (what < 98) {
			prk_pr_lu_reset(st, &res);
		} else if (what < 99) {
			prk_pr_power_on(st);
			res.status = PRK_STATUS_GOOD;
		} else {
			prk_pr_mark_lost(st);
			res.status = PRK_STATUS_GOOD;
		}
		take(st, &s1);
		uint32_t g1 = prk_pr_generation(st);

		if (res.status != PRK_STATUS_GOOD) {
			assert_true(prk_pr_state_equal(before, st));
			assert_int_equal(res.n_ua, 0);
			assert_int_equal(res.n_abort, 0);
			assert_false(res.changed);
		} else {
			goods++;
		}
		if (sa != 0xff) {
			/* The one successful no-op: an unregistered nexus
			 * "unregistering" (B8). */
			bool noop =
			    (sa == PRK_PROUT_REGISTER || sa == PRK_PROUT_REGISTER_AND_IGNORE) &&
			    !was_registered && sa_key == 0;
			if (res.status == PRK_STATUS_GOOD && bumps_generation(sa) && !noop)
				assert_int_equal(g1, g0 + 1);
			else
				assert_int_equal(g1, g0);
			if (!same_regs(&s0, &s1))
				assert_int_equal(g1, g0 + 1);
			for (size_t i = 0; i < res.n_ua; i++)
				assert_true(res.ua[i].skip_sender);
			if (sa != PRK_PROUT_PREEMPT_AND_ABORT)
				assert_int_equal(res.n_abort, 0);
		} else if (what < 98) {
			assert_true(same_regs(&s0, &s1));
			assert_int_equal(g1, g0);
		} else if (what < 99) {
			assert_int_equal(g1, 0);
		}
		check_invariants(st);
		prk_pr_result_free(&res);
		prk_pr_state_free(before);
	}
	/* Enough commands must have succeeded for the run to mean anything. */
	assert_true(goods > STEPS / 10);
	*final_len = prk_pr_record_encode(st, final_rec);
	prk_pr_state_free(st);
}

static void test_random_invariants(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		uint8_t *a = NULL, *b = NULL;
		size_t la, lb;
		run_seed(seed, &a, &la);
		/* Determinism: the same sequence reaches the same state. */
		run_seed(seed, &b, &lb);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		free(a);
		free(b);
	}
}

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < N_NEXUS; i++)
		if (prk_nexus_init(&nx[i], nexus_defs[i].name, nexus_defs[i].isid,
		                   nexus_defs[i].rtpi))
			return -1;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_invariants),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
