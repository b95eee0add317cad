/* The unit attention table as replicated state: export/import round trip
 * (same delivery order per nexus), refusal of malformed bytes with the
 * table unchanged, removal of exactly one condition a peer delivered,
 * identities known from peers (29/00 first with power_on), and the hooks
 * that tell peers about deliveries and first logins. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lu_test_util.h"
#include "cl_util.h"
#include "prkit/crc32c.h"

struct seen {
	unsigned consumed, first;
	uint16_t asc;
	struct prk_nexus nx;
};

static void h_consumed(void *ctx, struct prk_lu *lu, const struct prk_nexus *nx, uint16_t asc)
{
	struct seen *s = ctx;
	(void)lu;
	s->consumed++;
	s->asc = asc;
	s->nx = *nx;
}

static void h_first(void *ctx, struct prk_lu *lu, const struct prk_nexus *nx)
{
	struct seen *s = ctx;
	(void)lu;
	s->first++;
	s->nx = *nx;
}

static int setup(void **state)
{
	return lt_setup(state);
}

static int teardown(void **state)
{
	return lt_teardown(state);
}

static struct lt_ctx *fresh(void)
{
	struct prk_lu_config cfg = {.block_size = 512, .num_blocks = LT_BLOCKS};
	return lt_new(&cfg);
}

/* nexus d: never logged in anywhere in the fixture. */
static void nexus_d(struct prk_nexus *d, uint16_t rtpi)
{
	assert_int_equal(
	    prk_nexus_init(d, "iqn.2001-04.com.example:node-d", 0x23d000000009ULL, rtpi), 0);
}

/* A table with several nexuses, mixed conditions (a 29h one that went to
 * the front) and a set-UA for identities not seen yet. */
static void populate(struct lt_ctx *t)
{
	prk_lu_queue_ua_all(t->lu, PRK_ASC_RESERVATIONS_RELEASED);
	struct prk_nexus_set sa = {.nx = t->a};
	prk_lu_queue_ua(t->lu, &sa, NULL, PRK_ASC_REGISTRATIONS_PREEMPTED);
	prk_lu_queue_ua(t->lu, &sa, NULL, PRK_ASC_BUS_DEVICE_RESET);
	struct prk_nexus d;
	nexus_d(&d, 7);
	struct prk_nexus_set any = {.nx = d, .any_port = true};
	prk_lu_queue_ua(t->lu, &any, NULL, PRK_ASC_RESERVATIONS_PREEMPTED);
	prk_lu_nexus_known(t->lu, &t->c, false);
}

static void test_export_import_round_trip_same_order(void **state)
{
	struct lt_ctx *t = *state;
	populate(t);
	uint8_t *buf;
	size_t len = prk_lu_ua_export(t->lu, &buf);
	assert_true(len > 0);

	struct lt_ctx *u = fresh(); /* a, b logged in there too, UAs consumed */
	assert_int_equal(prk_lu_ua_import(u->lu, buf, len), 0);
	/* The import is canonical: exporting it again gives the same bytes
	 * (same insertion, same hash layout). */
	uint8_t *again;
	size_t len2 = prk_lu_ua_export(u->lu, &again);
	assert_int_equal(len2, len);
	free(again);
	const struct prk_nexus *nt[] = {&t->a, &t->b, &t->c}, *nu[] = {&u->a, &u->b, &u->c};
	size_t total = 0;
	for (int i = 0; i < 3; i++) {
		uint16_t x[16], y[16];
		size_t n = cl_drain(t, nt[i], x, 16);
		assert_int_equal(cl_drain(u, nu[i], y, 16), n);
		assert_memory_equal(x, y, n * sizeof(x[0]));
		total += n;
	}
	assert_true(total >= 4);
	/* a: 29/03 first, then 2A/04, 2A/05 in queueing order. */

	/* The set-UA travelled: d's first login on u gets 29/00 then 2A/03. */
	struct prk_nexus d;
	nexus_d(&d, 3);
	prk_lu_nexus_up(u->lu, &d);
	uint16_t y[16];
	assert_int_equal(cl_drain(u, &d, y, 16), 2);
	assert_int_equal(y[0], PRK_ASC_POWER_ON_RESET);
	assert_int_equal(y[1], PRK_ASC_RESERVATIONS_PREEMPTED);
	free(buf);
	lt_free(u);
}

static void test_export_order_of_a(void **state)
{
	struct lt_ctx *t = *state;
	populate(t);
	uint16_t x[16];
	assert_int_equal(cl_drain(t, &t->a, x, 16), 3);
	assert_int_equal(x[0], PRK_ASC_BUS_DEVICE_RESET);
	assert_int_equal(x[1], PRK_ASC_RESERVATIONS_RELEASED);
	assert_int_equal(x[2], PRK_ASC_REGISTRATIONS_PREEMPTED);
}

/* Every truncation and every single-bit flip: refused, table unchanged. */
static void test_import_malformed_refused(void **state)
{
	struct lt_ctx *t = *state;
	populate(t);
	uint8_t *good;
	size_t len = prk_lu_ua_export(t->lu, &good);
	struct lt_ctx *u = fresh();
	struct prk_nexus_set sb = {.nx = u->b};
	prk_lu_queue_ua(u->lu, &sb, NULL, PRK_ASC_RESERVATIONS_PREEMPTED);
	uint8_t *before;
	size_t blen = prk_lu_ua_export(u->lu, &before);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(prk_lu_ua_import(u->lu, good, n), -1);
	uint8_t *bad = malloc(len + 1);
	for (size_t bit = 0; bit < len * 8; bit++) {
		memcpy(bad, good, len);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(prk_lu_ua_import(u->lu, bad, len), -1);
	}
	memcpy(bad, good, len);
	bad[len] = 0;
	assert_int_equal(prk_lu_ua_import(u->lu, bad, len + 1), -1);
	uint8_t *after;
	size_t alen = prk_lu_ua_export(u->lu, &after);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	uint16_t y[4];
	assert_int_equal(cl_drain(u, &u->b, y, 4), 1);
	assert_int_equal(y[0], PRK_ASC_RESERVATIONS_PREEMPTED);
	free(bad);
	free(good);
	free(before);
	free(after);
	lt_free(u);
}

/* Re-sealed but impossible contents (huge counts, zero conditions): refused. */
static void reseal(uint8_t *b, size_t len)
{
	uint32_t crc = prk_crc32c(0, b, 12);
	crc = prk_crc32c(crc, b + 16, len - 16);
	lt_put32(b + 12, crc);
}

static void test_import_bounds(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t *buf;
	size_t len = prk_lu_ua_export(t->lu, &buf); /* a and b, no UAs pending */
	assert_int_equal(lt_get32(buf + 16), 2);
	lt_put32(buf + 16, 0xffffffffu); /* records */
	reseal(buf, len);
	assert_int_equal(prk_lu_ua_import(t->lu, buf, len), -1);
	lt_put32(buf + 16, 2);
	lt_put32(buf + 20, 100000); /* set-UAs */
	reseal(buf, len);
	assert_int_equal(prk_lu_ua_import(t->lu, buf, len), -1);
	lt_put32(buf + 20, 0);
	buf[24 + 1] = 17 /* PRK_LU_UA_QUEUE + 1 */; /* pending count of the first record */
	reseal(buf, len);
	assert_int_equal(prk_lu_ua_import(t->lu, buf, len), -1);
	buf[24 + 1] = 0;
	buf[24 + 12 + 21] = 0; /* a NUL inside the name ("iqn.2001-04.com.examp" is valid) */
	reseal(buf, len);
	assert_int_equal(prk_lu_ua_import(t->lu, buf, len), -1);
	buf[24 + 12 + 21] = LT_NAME_A[21];
	buf[24] = 0; /* empty name */
	reseal(buf, len);
	assert_int_equal(prk_lu_ua_import(t->lu, buf, len), -1);
	free(buf);

	/* Duplicate identity: two copies of one record. */
	len = prk_lu_ua_export(t->lu, &buf);
	size_t rec = 12 + strlen(LT_NAME_A);
	uint8_t *dup = malloc(24 + 2 * rec);
	memcpy(dup, buf, 24);
	/* the first record may be a's or b's: both names have the same length */
	memcpy(dup + 24, buf + 24, rec);
	memcpy(dup + 24 + rec, buf + 24, rec);
	lt_put32(dup + 8, (uint32_t)(24 + 2 * rec));
	reseal(dup, 24 + 2 * rec);
	assert_int_equal(prk_lu_ua_import(t->lu, dup, 24 + 2 * rec), -1);
	/* And the original still imports. */
	assert_int_equal(prk_lu_ua_import(t->lu, buf, len), 0);
	free(dup);
	free(buf);
}

/* Local login state survives an import. */
static void test_import_keeps_local_logins(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_ctx *u = fresh();
	uint8_t *buf;
	/* u knows of nobody but its own a and b; t has a, b and c's record */
	prk_lu_nexus_known(t->lu, &t->c, false);
	size_t len = prk_lu_ua_export(t->lu, &buf);
	struct seen s = {0};
	struct prk_lu_pr_hooks h = {.ctx = &s, .nexus_first = h_first};
	prk_lu_set_pr_hooks(u->lu, &h);
	assert_int_equal(prk_lu_ua_import(u->lu, buf, len), 0);
	/* a was logged in on u before: no new 29/00, no first-login hook. */
	prk_lu_nexus_up(u->lu, &u->a);
	assert_int_equal(s.first, 0);
	uint16_t y[4];
	assert_int_equal(cl_drain(u, &u->a, y, 4), 0);
	/* c is known, but its first login here earns 29/00 and the hook. */
	prk_lu_nexus_up(u->lu, &u->c);
	assert_int_equal(s.first, 1);
	assert_true(prk_nexus_eq(&s.nx, &u->c));
	assert_int_equal(cl_drain(u, &u->c, y, 4), 1);
	assert_int_equal(y[0], PRK_ASC_POWER_ON_RESET);
	prk_lu_nexus_down(u->lu, &u->c);
	prk_lu_nexus_up(u->lu, &u->c);
	assert_int_equal(s.first, 1); /* once per identity since start */
	prk_lu_set_pr_hooks(u->lu, NULL);
	free(buf);
	lt_free(u);
}

static void test_consumed_removes_exactly_one(void **state)
{
	struct lt_ctx *t = *state;
	struct prk_nexus_set sa = {.nx = t->a};
	prk_lu_queue_ua(t->lu, &sa, NULL, PRK_ASC_RESERVATIONS_PREEMPTED);
	prk_lu_queue_ua(t->lu, &sa, NULL, PRK_ASC_RESERVATIONS_RELEASED);
	prk_lu_queue_ua(t->lu, &sa, NULL, PRK_ASC_REGISTRATIONS_PREEMPTED);
	prk_lu_ua_consumed(t->lu, &t->a, PRK_ASC_RESERVATIONS_RELEASED);
	prk_lu_ua_consumed(t->lu, &t->a, PRK_ASC_BUS_DEVICE_RESET);       /* not pending: nothing */
	prk_lu_ua_consumed(t->lu, &t->c, PRK_ASC_RESERVATIONS_PREEMPTED); /* no record */
	uint16_t x[4];
	assert_int_equal(cl_drain(t, &t->a, x, 4), 2);
	assert_int_equal(x[0], PRK_ASC_RESERVATIONS_PREEMPTED);
	assert_int_equal(x[1], PRK_ASC_REGISTRATIONS_PREEMPTED);
	assert_int_equal(cl_drain(t, &t->b, x, 4), 0);
	/* The LU's pending count stayed right: nothing left, the fast path. */
	prk_lu_ua_consumed(t->lu, &t->a, PRK_ASC_RESERVATIONS_PREEMPTED);
	assert_int_equal(cl_drain(t, &t->a, x, 4), 0);
}

static void test_known_power_on_first(void **state)
{
	struct lt_ctx *t = *state;
	struct prk_nexus d;
	nexus_d(&d, 9);
	struct prk_nexus_set sd = {.nx = d, .any_port = true};
	prk_lu_queue_ua(t->lu, &sd, NULL, PRK_ASC_RESERVATIONS_PREEMPTED);
	prk_lu_nexus_known(t->lu, &d, true);
	prk_lu_queue_ua_all(t->lu, PRK_ASC_RESERVATIONS_RELEASED);
	uint16_t x[8];
	assert_int_equal(cl_drain(t, &d, x, 8), 3);
	assert_int_equal(x[0], PRK_ASC_POWER_ON_RESET);
	assert_int_equal(x[1], PRK_ASC_RESERVATIONS_PREEMPTED);
	assert_int_equal(x[2], PRK_ASC_RESERVATIONS_RELEASED);
	/* Known again with power_on (its node restarted): 29/00 in front. */
	prk_lu_queue_ua_all(t->lu, PRK_ASC_REGISTRATIONS_PREEMPTED);
	prk_lu_nexus_known(t->lu, &d, true);
	assert_int_equal(cl_drain(t, &d, x, 8), 2);
	assert_int_equal(x[0], PRK_ASC_POWER_ON_RESET);
	assert_int_equal(x[1], PRK_ASC_REGISTRATIONS_PREEMPTED);
	/* Without power_on: a record, nothing queued. */
	struct prk_nexus e;
	assert_int_equal(prk_nexus_init(&e, "iqn.2001-04.com.example:node-e", 0x23d00000000aULL, 1),
	                 0);
	prk_lu_nexus_known(t->lu, &e, false);
	assert_int_equal(cl_drain(t, &e, x, 8), 0);
	struct prk_nexus_set se = {.nx = e};
	prk_lu_queue_ua(t->lu, &se, NULL, PRK_ASC_RESERVATIONS_RELEASED);
	assert_int_equal(cl_drain(t, &e, x, 8), 1); /* the record holds UAs for it */
}

/* ua_consumed fires once per delivery, through CHECK CONDITION or REQUEST
 * SENSE, and never when nothing was delivered. */
static void test_consumed_hook_once_per_delivery(void **state)
{
	struct lt_ctx *t = *state;
	struct seen s = {0};
	struct prk_lu_pr_hooks h = {.ctx = &s, .ua_consumed = h_consumed};
	prk_lu_set_pr_hooks(t->lu, &h);
	struct prk_nexus_set sa = {.nx = t->a};
	prk_lu_queue_ua(t->lu, &sa, NULL, PRK_ASC_RESERVATIONS_PREEMPTED);
	prk_lu_queue_ua(t->lu, &sa, NULL, PRK_ASC_RESERVATIONS_RELEASED);
	uint8_t inq[6] = {PRK_OP_INQUIRY, 0, 0, 0, 96, 0};
	struct lt_res x = lt_in(t, &t->a, inq, 6, 96); /* INQUIRY leaves UAs pending */
	lt_assert_good(&x);
	lt_res_free(&x);
	assert_int_equal(s.consumed, 0);
	static const uint8_t tur[6];
	x = lt_run(t, &t->a, tur, 6, NULL, 0, 0);
	lt_assert_sense(&x, PRK_SK_UNIT_ATTENTION, PRK_ASC_RESERVATIONS_PREEMPTED);
	lt_res_free(&x);
	assert_int_equal(s.consumed, 1);
	assert_int_equal(s.asc, PRK_ASC_RESERVATIONS_PREEMPTED);
	assert_true(prk_nexus_eq(&s.nx, &t->a));
	uint8_t rs[6] = {PRK_OP_REQUEST_SENSE, 0, 0, 0, 18, 0};
	x = lt_in(t, &t->a, rs, 6, 18);
	lt_assert_good(&x);
	assert_int_equal(x.data[2] & 0x0f, PRK_SK_UNIT_ATTENTION);
	lt_res_free(&x);
	assert_int_equal(s.consumed, 2);
	assert_int_equal(s.asc, PRK_ASC_RESERVATIONS_RELEASED);
	x = lt_in(t, &t->a, rs, 6, 18); /* nothing pending: NO SENSE, no hook */
	lt_assert_good(&x);
	lt_res_free(&x);
	assert_int_equal(s.consumed, 2);
	/* A peer's delivery (prk_lu_ua_consumed) does not echo back. */
	prk_lu_queue_ua(t->lu, &sa, NULL, PRK_ASC_REGISTRATIONS_PREEMPTED);
	prk_lu_ua_consumed(t->lu, &t->a, PRK_ASC_REGISTRATIONS_PREEMPTED);
	assert_int_equal(s.consumed, 2);
	prk_lu_set_pr_hooks(t->lu, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_export_import_round_trip_same_order, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_export_order_of_a, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_malformed_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_keeps_local_logins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_consumed_removes_exactly_one, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_known_power_on_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_consumed_hook_once_per_delivery, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
