/* Unit tests of the linearizability checker: small hand-written histories
 * whose verdict is known, each the smallest case of one kind of bug a
 * cluster could have (a read that misses a completed write, a stale
 * generation, two winners, a lost update), their linearizable twins, and
 * the history file format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lin_test_util.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"

#define REG PRK_PROUT_REGISTER
#define RESV PRK_PROUT_RESERVE

static int setup(void **state)
{
	(void)state;
	lt_init();
	return 0;
}

static void test_sequential(void **state)
{
	struct prk_lin_history h = {0};
	uint64_t ka[] = {LT_KA}, kab[] = {LT_KA, LT_KB};
	uint8_t rd[64];
	struct prk_prin_resv rv = {
	    .generation = 2, .present = true, .key = LT_KA, .type = PRK_PR_WE};
	size_t rlen = prk_prin_resv_encode(&rv, rd, sizeof(rd));

	(void)state;
	lt_keys(&h, &lt_c, 0, 5, 0, NULL, 0);
	lt_out(&h, &lt_a, REG, 0, 0, LT_KA, 10, 20, LT_GOOD);
	lt_keys(&h, &lt_c, 30, 40, 1, ka, 1);
	lt_out(&h, &lt_b, REG, 0, 0, LT_KB, 50, 60, LT_GOOD);
	lt_keys(&h, &lt_c, 70, 80, 2, kab, 2);
	lt_out(&h, &lt_a, RESV, PRK_PR_WE, LT_KA, 0, 90, 100, LT_GOOD);
	lt_in(&h, &lt_b, PRK_PRIN_READ_RESERVATION, 110, 120, rd, rlen);
	lt_out(&h, &lt_b, RESV, PRK_PR_WE, LT_KB, 0, 130, 140, LT_CONFLICT);
	struct prk_lin_verdict v = lt_check(&h, PRK_LIN_LINEARIZABLE);
	assert_int_equal(v.n_ops, 8);
	assert_int_equal(v.n_lus, 1);
	prk_lin_history_free(&h);
}

/* B's REGISTER overlaps A's: READ KEYS may list B first. */
static void test_overlapping_registers(void **state)
{
	struct prk_lin_history h = {0};
	uint64_t ba[] = {LT_KB, LT_KA};

	(void)state;
	lt_out(&h, &lt_a, REG, 0, 0, LT_KA, 0, 100, LT_GOOD);
	lt_out(&h, &lt_b, REG, 0, 0, LT_KB, 10, 90, LT_GOOD);
	lt_keys(&h, &lt_c, 200, 210, 2, ba, 2);
	lt_check(&h, PRK_LIN_LINEARIZABLE);
	prk_lin_history_free(&h);
}

/* The same answers when A's REGISTER completed before B's was sent: B
 * cannot come first. */
static void test_real_time_order(void **state)
{
	struct prk_lin_history h = {0};
	uint64_t ba[] = {LT_KB, LT_KA};

	(void)state;
	lt_out(&h, &lt_a, REG, 0, 0, LT_KA, 0, 40, LT_GOOD);
	lt_out(&h, &lt_b, REG, 0, 0, LT_KB, 50, 90, LT_GOOD);
	lt_keys(&h, &lt_c, 200, 210, 2, ba, 2);
	struct prk_lin_verdict v = lt_check(&h, PRK_LIN_NOT_LINEARIZABLE);
	assert_int_equal(v.bad_op, 2);
	prk_lin_history_free(&h);
}

/* A read that completed before the REGISTER was sent cannot show it. */
static void test_read_before_invoke(void **state)
{
	struct prk_lin_history h = {0};
	uint64_t ka[] = {LT_KA};

	(void)state;
	lt_keys(&h, &lt_c, 0, 10, 1, ka, 1);
	lt_out(&h, &lt_a, REG, 0, 0, LT_KA, 20, 30, LT_GOOD);
	lt_check(&h, PRK_LIN_NOT_LINEARIZABLE);
	prk_lin_history_free(&h);
}

/* A REGISTER without an answer that took effect: a later read shows it. */
static void test_unanswered_took_effect(void **state)
{
	struct prk_lin_history h = {0};
	uint64_t ka[] = {LT_KA};

	(void)state;
	lt_out(&h, &lt_a, REG, 0, 0, LT_KA, 0, LT_NONE, LT_GOOD);
	lt_keys(&h, &lt_c, 100, 110, 1, ka, 1);
	lt_check(&h, PRK_LIN_LINEARIZABLE);
	prk_lin_history_free(&h);
}

/* One that did not take effect (yet): the read does not show it; a later
 * read may, since it can still take effect any time after it was sent. */
static void test_unanswered_no_effect(void **state)
{
	struct prk_lin_history h = {0};
	uint64_t kb[] = {LT_KB}, kba[] = {LT_KB, LT_KA};

	(void)state;
	lt_out(&h, &lt_a, REG, 0, 0, LT_KA, 0, LT_NONE, LT_GOOD);
	lt_keys(&h, &lt_c, 100, 110, 0, NULL, 0);
	lt_check(&h, PRK_LIN_LINEARIZABLE);
	lt_out(&h, &lt_b, REG, 0, 0, LT_KB, 120, 130, LT_GOOD);
	lt_keys(&h, &lt_c, 140, 150, 1, kb, 1);
	lt_keys(&h, &lt_c, 160, 170, 2, kba, 2);
	lt_check(&h, PRK_LIN_LINEARIZABLE);
	/* But it takes effect once: a generation that would need it twice
	 * (B's REGISTER, A's twice = 3) is impossible. */
	lt_keys(&h, &lt_c, 180, 190, 3, kba, 2);
	lt_check(&h, PRK_LIN_NOT_LINEARIZABLE);
	prk_lin_history_free(&h);
}

/* A command the recorder declares not applied (NOT READY 04/0C from a node
 * that was not serving) is skipped; without the declaration its answer
 * must be reproduced, and the engine never says NOT READY. */
static void test_not_applied(void **state)
{
	struct prk_lin_history h = {0};
	struct lt_ans not_ready = {PRK_STATUS_CHECK_CONDITION, PRK_SK_NOT_READY, 0x04, 0x0c};

	(void)state;
	lt_out(&h, &lt_a, REG, 0, 0, LT_KA, 0, 10, not_ready);
	lt_keys(&h, &lt_c, 20, 30, 0, NULL, 0);
	struct prk_lin_verdict v = lt_check(&h, PRK_LIN_NOT_LINEARIZABLE);
	assert_non_null(strstr(v.explain, "CHECK CONDITION 2/04/0c"));
	h.ops[0].not_applied = true;
	v = lt_check(&h, PRK_LIN_LINEARIZABLE);
	assert_int_equal(v.n_skipped, 1);
	assert_int_equal(v.n_ops, 1);
	prk_lin_history_free(&h);
}

/* A CHECK CONDITION must match in sense key, ASC and ASCQ, not only in
 * status: RESERVE with a reserved TYPE is INVALID FIELD IN CDB (5/24/00). */
static void test_sense_must_match(void **state)
{
	struct prk_lin_history h = {0};

	(void)state;
	lt_out(&h, &lt_a, REG, 0, 0, LT_KA, 0, 10, LT_GOOD);
	lt_out(&h, &lt_a, RESV, 0x2, LT_KA, 0, 20, 30,
	       (struct lt_ans){PRK_STATUS_CHECK_CONDITION, PRK_SK_ILLEGAL_REQUEST, 0x24, 0});
	lt_check(&h, PRK_LIN_LINEARIZABLE);
	h.ops[1].asc = 0x26;
	lt_check(&h, PRK_LIN_NOT_LINEARIZABLE);
	h.ops[1].asc = 0x24;
	h.ops[1].sense_key = PRK_SK_NOT_READY;
	lt_check(&h, PRK_LIN_NOT_LINEARIZABLE);
	prk_lin_history_free(&h);
}

/* A PR IN after a completed REGISTER that does not show it. The
 * explanation names the command, its answer and the engine's. */
static void test_read_misses_register(void **state)
{
	struct prk_lin_history h = {0};

	(void)state;
	lt_out(&h, &lt_a, REG, 0, 0, LT_KA, 0, 10, LT_GOOD);
	lt_keys(&h, &lt_c, 20, 30, 0, NULL, 0);
	struct prk_lin_verdict v = lt_check(&h, PRK_LIN_NOT_LINEARIZABLE);
	assert_int_equal(v.bad_op, 1);
	print_message("# %s\n", v.explain);
	assert_non_null(strstr(v.explain, "op 2 (line 2"));
	assert_non_null(strstr(v.explain, "PR IN READ KEYS from iqn.2026-12.test:c"));
	assert_non_null(strstr(v.explain, "returned generation 0, keys []"));
	assert_non_null(strstr(v.explain, "gives generation 1, keys [0xa1]"));
	prk_lin_history_free(&h);
}

/* The keys are right but the generation is one behind. */
static void test_stale_generation(void **state)
{
	struct prk_lin_history h = {0};
	uint64_t kab[] = {LT_KA, LT_KB};

	(void)state;
	lt_out(&h, &lt_a, REG, 0, 0, LT_KA, 0, 10, LT_GOOD);
	lt_out(&h, &lt_b, REG, 0, 0, LT_KB, 20, 30, LT_GOOD);
	lt_keys(&h, &lt_c, 40, 50, 1, kab, 2);
	lt_check(&h, PRK_LIN_NOT_LINEARIZABLE);
	lt_last(&h)->data[3] = 2; /* generation 2: right */
	lt_check(&h, PRK_LIN_LINEARIZABLE);
	prk_lin_history_free(&h);
}

/* Two overlapping RESERVEs of conflicting types that both succeed: in any
 * order the second gets RESERVATION CONFLICT. Its twin, where one of them
 * got the conflict, is fine whichever it was. */
static void test_two_reserves(void **state)
{
	struct prk_lin_history h = {0};

	(void)state;
	lt_out(&h, &lt_a, REG, 0, 0, LT_KA, 0, 10, LT_GOOD);
	lt_out(&h, &lt_b, REG, 0, 0, LT_KB, 0, 10, LT_GOOD);
	lt_out(&h, &lt_a, RESV, PRK_PR_WE, LT_KA, 0, 100, 200, LT_GOOD);
	lt_out(&h, &lt_b, RESV, PRK_PR_EA, LT_KB, 0, 110, 190, LT_GOOD);
	lt_check(&h, PRK_LIN_NOT_LINEARIZABLE);
	h.ops[2].status = PRK_STATUS_RESERVATION_CONFLICT;
	lt_check(&h, PRK_LIN_LINEARIZABLE);
	h.ops[2].status = PRK_STATUS_GOOD;
	h.ops[3].status = PRK_STATUS_RESERVATION_CONFLICT;
	lt_check(&h, PRK_LIN_LINEARIZABLE);
	prk_lin_history_free(&h);
}

/* Two concurrent REGISTERs both succeed, but a later read shows only one:
 * an update was lost. */
static void test_lost_update(void **state)
{
	struct prk_lin_history h = {0};
	uint64_t kb[] = {LT_KB};

	(void)state;
	lt_out(&h, &lt_a, REG, 0, 0, LT_KA, 0, 50, LT_GOOD);
	lt_out(&h, &lt_b, REG, 0, 0, LT_KB, 0, 50, LT_GOOD);
	lt_keys(&h, &lt_c, 60, 70, 1, kb, 1);
	lt_check(&h, PRK_LIN_NOT_LINEARIZABLE);
	prk_lin_history_free(&h);
}

/* SPC-2 RESERVE(6) from two initiators, both GOOD: impossible. */
static void test_spc2_two_holders(void **state)
{
	struct prk_lin_history h = {0};
	struct prk_lin_op op;

	(void)state;
	for (int i = 0; i < 2; i++) {
		memset(&op, 0, sizeof(op));
		op.id = op.line = (size_t)i + 1;
		strcpy(op.lu, "lu0");
		op.nx = i ? lt_b : lt_a;
		op.kind = PRK_LIN_SPC2;
		op.cdb[0] = PRK_OP_RESERVE6;
		op.cdb_len = 6;
		op.invoke_ns = 10 * i;
		op.answered = true;
		op.return_ns = 100;
		assert_int_equal(prk_lin_history_add(&h, &op), 0);
	}
	lt_check(&h, PRK_LIN_NOT_LINEARIZABLE);
	h.ops[1].status = PRK_STATUS_RESERVATION_CONFLICT;
	lt_check(&h, PRK_LIN_LINEARIZABLE);
	prk_lin_history_free(&h);
}

/* Each LU has its own state: A's REGISTER on lu0 is not seen on lu1. */
static void test_lus_independent(void **state)
{
	struct prk_lin_history h = {0};

	(void)state;
	lt_out(&h, &lt_a, REG, 0, 0, LT_KA, 0, 10, LT_GOOD);
	lt_keys(&h, &lt_c, 20, 30, 0, NULL, 0);
	strcpy(lt_last(&h)->lu, "lu1");
	struct prk_lin_verdict v = lt_check(&h, PRK_LIN_LINEARIZABLE);
	assert_int_equal(v.n_lus, 2);
	strcpy(lt_last(&h)->lu, "lu0");
	lt_check(&h, PRK_LIN_NOT_LINEARIZABLE);
	prk_lin_history_free(&h);
}

/* A budget too small to decide gives "undecided", not a verdict. */
static void test_budget(void **state)
{
	struct prk_lin_history h = {0};
	struct prk_lin_options opt = {.max_configs = 1};
	struct prk_lin_verdict v;

	(void)state;
	lt_out(&h, &lt_a, REG, 0, 0, LT_KA, 0, 10, LT_GOOD);
	lt_out(&h, &lt_b, REG, 0, 0, LT_KB, 20, 30, LT_GOOD);
	assert_int_equal(prk_lin_check(&h, &opt, &v), PRK_LIN_UNDECIDED);
	assert_non_null(strstr(v.explain, "undecided"));
	prk_lin_history_free(&h);
}

/* ---- The file format ---- */

static void test_write_parse_roundtrip(void **state)
{
	struct prk_lin_history h = {0};
	uint64_t ka[] = {LT_KA};
	char *buf = NULL;
	size_t len = 0;
	char err[256];

	(void)state;
	lt_out(&h, &lt_a, REG, 0, 0, LT_KA, 5, 15, LT_GOOD);
	lt_out(&h, &lt_b, RESV, PRK_PR_WE, LT_KB, 0, 6, LT_NONE, LT_GOOD);
	lt_out(&h, &lt_b, RESV, PRK_PR_WE, LT_KB, 0, 7, 17,
	       (struct lt_ans){PRK_STATUS_CHECK_CONDITION, 5, 0x24, 0});
	lt_last(&h)->not_applied = true;
	lt_keys(&h, &lt_c, 20, 30, 1, ka, 1);
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	for (size_t i = 0; i < h.n; i++)
		assert_int_equal(prk_lin_op_write(f, &h.ops[i]), 0);
	fclose(f);
	print_message("# %.*s", (int)strcspn(buf, "\n") + 1, buf);

	struct prk_lin_history g;
	f = fmemopen(buf, len, "r");
	assert_non_null(f);
	assert_int_equal(prk_lin_history_read(f, &g, err, sizeof(err)), 0);
	fclose(f);
	assert_int_equal(g.n, h.n);
	for (size_t i = 0; i < h.n; i++) {
		const struct prk_lin_op *a = &h.ops[i], *b = &g.ops[i];
		assert_int_equal(a->id, b->id);
		assert_int_equal(b->line, i + 1);
		assert_string_equal(a->lu, b->lu);
		assert_true(prk_nexus_eq(&a->nx, &b->nx));
		assert_int_equal(a->kind, b->kind);
		assert_memory_equal(a->cdb, b->cdb, a->cdb_len);
		assert_int_equal(a->params_len, b->params_len);
		if (a->params_len)
			assert_memory_equal(a->params, b->params, a->params_len);
		assert_int_equal(a->invoke_ns, b->invoke_ns);
		assert_int_equal(a->answered, b->answered);
		assert_int_equal(a->not_applied, b->not_applied);
		if (!a->answered)
			continue;
		assert_int_equal(a->return_ns, b->return_ns);
		assert_int_equal(a->status, b->status);
		assert_int_equal(a->has_sense, b->has_sense);
		assert_int_equal(a->asc, b->asc);
		assert_int_equal(a->data_len, b->data_len);
		if (a->data_len)
			assert_memory_equal(a->data, b->data, a->data_len);
	}
	prk_lin_history_free(&g);
	prk_lin_history_free(&h);
	free(buf);
}

/* Fields a line may spell differently: full fixed-format sense data, an
 * integer ISID, explicit nulls for "no answer", fields for people. */
static void test_parse_variants(void **state)
{
	struct prk_lin_op op;
	char err[256];
	const char *line =
	    "{\"id\":3,\"lu\":\"naa.6001405abcdef\",\"node\":2,"
	    "\"nexus\":{\"name\":\"IQN.2026-12.test:A\",\"isid\":70368744177665,\"rtpi\":1},"
	    "\"op\":\"prout\",\"cdb\":\"5f01010000000000180000\","
	    "\"params\":\"00000000000000a1000000000000000000000000000000\"}";

	(void)state;
	/* 23 parameter bytes for a PARAMETER LIST LENGTH of 24. */
	assert_int_equal(prk_lin_op_parse(line, 1, &op, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"params\" has 23 bytes"));

	line = "{\"id\":3,\"lu\":\"naa.6001405abcdef\",\"node\":2,"
	       "\"nexus\":{\"name\":\"IQN.2026-12.test:A\",\"isid\":70368744177665,\"rtpi\":1},"
	       "\"op\":\"prout\",\"cdb\":\"5f01010000000000180000\","
	       "\"params\":\"00000000000000a100000000000000000000000000000000\","
	       "\"invoke_ns\":5,\"return_ns\":9,\"status\":2,"
	       "\"sense\":\"700006000000000a00000000260000000000\",\"data\":null}";
	assert_int_equal(prk_lin_op_parse(line, 1, &op, err, sizeof(err)), 0);
	assert_true(prk_nexus_eq(&op.nx, &lt_a));
	assert_int_equal(op.sense_key, 6);
	assert_int_equal(op.asc, 0x26);
	assert_false(op.has_data);
	prk_lin_op_free(&op);

	line = "{\"id\":4,\"lu\":\"x\",\"nexus\":{\"name\":\"iqn.2026-12.test:a\","
	       "\"isid\":\"0x400000000001\",\"rtpi\":1},\"op\":\"spc2\",\"cdb\":\"170000000000\","
	       "\"invoke_ns\":5,\"return_ns\":null,\"status\":null}";
	assert_int_equal(prk_lin_op_parse(line, 1, &op, err, sizeof(err)), 0);
	assert_false(op.answered);
	prk_lin_op_free(&op);
}

static void test_parse_errors(void **state)
{
	static const char nx[] = "\"nexus\":{\"name\":\"iqn.2026-12.test:a\",\"isid\":\"0x1\","
	                         "\"rtpi\":1}";
	static const char in[] = "\"op\":\"prin\",\"cdb\":\"5e000000000000040000\"";
	char line[1024], err[256];
	struct prk_lin_op op;
	const struct {
		const char *fmt; /* %s: nexus, %s: PR IN op and cdb */
		const char *want;
	} bad[] = {
	    {"{\"id\":1,", "not JSON"},
	    {"[1,2]", "not a JSON object"},
	    {"{\"lu\":\"x\",%s,%s,\"invoke_ns\":1}", "\"id\""},
	    {"{\"id\":-1,\"lu\":\"x\",%s,%s,\"invoke_ns\":1}", "\"id\""},
	    {"{\"id\":1,\"lu\":\"\",%s,%s,\"invoke_ns\":1}", "\"lu\""},
	    {"{\"id\":1,\"lu\":\"x\",\"nexus\":{\"name\":\"bad name\",\"isid\":\"0x1\","
	     "\"rtpi\":1},%.0s%s,\"invoke_ns\":1}",
	     "not a valid iSCSI name"},
	    {"{\"id\":1,\"lu\":\"x\",\"nexus\":{\"name\":\"iqn.2026-12.t:a\","
	     "\"isid\":\"0x1000000000000\",\"rtpi\":1},%.0s%s,\"invoke_ns\":1}",
	     "48-bit"},
	    {"{\"id\":1,\"lu\":\"x\",\"nexus\":{\"name\":\"iqn.2026-12.t:a\","
	     "\"isid\":\"0x1\",\"rtpi\":70000},%.0s%s,\"invoke_ns\":1}",
	     "rtpi"},
	    {"{\"id\":1,\"lu\":\"x\",%s,\"op\":\"read\",\"cdb\":\"280000000000\"%.0s,"
	     "\"invoke_ns\":1}",
	     "\"op\" must be"},
	    {"{\"id\":1,\"lu\":\"x\",%s,\"op\":\"prout\",\"cdb\":\"5e00\"%.0s,\"invoke_ns\":1}",
	     "\"cdb\" has 2 bytes"},
	    {"{\"id\":1,\"lu\":\"x\",%s,\"op\":\"prout\",\"cdb\":\"5e0000000000000400zz\"%.0s,"
	     "\"invoke_ns\":1}",
	     "hex byte pairs"},
	    {"{\"id\":1,\"lu\":\"x\",%s,\"op\":\"prout\",\"cdb\":\"5e000000000000040000\"%.0s,"
	     "\"invoke_ns\":1}",
	     "operation code 5eh does not match"},
	    {"{\"id\":1,\"lu\":\"x\",%s,%s}", "\"invoke_ns\""},
	    {"{\"id\":1,\"lu\":\"x\",%s,%s,\"invoke_ns\":\"1\"}", "\"invoke_ns\""},
	    {"{\"id\":1,\"lu\":\"x\",%s,%s,\"invoke_ns\":10,\"return_ns\":5,\"status\":0,"
	     "\"data\":\"\"}",
	     "before \"invoke_ns\""},
	    {"{\"id\":1,\"lu\":\"x\",%s,%s,\"invoke_ns\":10,\"return_ns\":15}",
	     "\"status\" missing"},
	    {"{\"id\":1,\"lu\":\"x\",%s,%s,\"invoke_ns\":10,\"status\":0}",
	     "without \"return_ns\""},
	    {"{\"id\":1,\"lu\":\"x\",%s,%s,\"invoke_ns\":10,\"return_ns\":15,\"status\":2}",
	     "CHECK CONDITION without \"sense\""},
	    {"{\"id\":1,\"lu\":\"x\",%s,%s,\"invoke_ns\":10,\"return_ns\":15,\"status\":2,"
	     "\"sense\":\"0524\"}",
	     "neither key/asc/ascq"},
	    {"{\"id\":1,\"lu\":\"x\",%s,%s,\"invoke_ns\":10,\"return_ns\":15,\"status\":0}",
	     "needs \"data\""},
	    {"{\"id\":1,\"lu\":\"x\",%s,%s,\"invoke_ns\":10,\"not_applied\":1}", "\"not_applied\""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(line, sizeof(line), bad[i].fmt, nx, in);
#pragma GCC diagnostic pop
		err[0] = '\0';
		if (prk_lin_op_parse(line, 1, &op, err, sizeof(err)) == 0 ||
		    !strstr(err, bad[i].want)) {
			print_error("case %zu: %s\n  error \"%s\", wanted \"%s\"\n", i, line, err,
			            bad[i].want);
			fail();
		}
	}
}

/* The file reader names the line; two ops with one id are refused. */
static void test_read_names_line(void **state)
{
	char text[] = "{\"id\":1,\"lu\":\"x\",\"nexus\":{\"name\":\"iqn.2026-12.t:a\","
	              "\"isid\":\"0x1\",\"rtpi\":1},\"op\":\"spc2\",\"cdb\":\"160000000000\","
	              "\"invoke_ns\":1}\n"
	              "\n"
	              "{\"id\":1,\"lu\":\"x\",\"nexus\":{\"name\":\"iqn.2026-12.t:a\","
	              "\"isid\":\"0x1\",\"rtpi\":1},\"op\":\"spc2\",\"cdb\":\"170000000000\","
	              "\"invoke_ns\":2}\n"
	              "{\"id\":3}\n";
	struct prk_lin_history h;
	char err[256];

	(void)state;
	FILE *f = fmemopen(text, strlen(text), "r");
	assert_int_equal(prk_lin_history_read(f, &h, err, sizeof(err)), -1);
	fclose(f);
	assert_non_null(strstr(err, "line 4: "));
	assert_int_equal(h.n, 0);

	*strstr(text, "{\"id\":3}") = '\0';
	f = fmemopen(text, strlen(text), "r");
	assert_int_equal(prk_lin_history_read(f, &h, err, sizeof(err)), -1);
	fclose(f);
	assert_string_equal(err, "line 3: \"id\" 1 used twice");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sequential),
	    cmocka_unit_test(test_overlapping_registers),
	    cmocka_unit_test(test_real_time_order),
	    cmocka_unit_test(test_read_before_invoke),
	    cmocka_unit_test(test_unanswered_took_effect),
	    cmocka_unit_test(test_unanswered_no_effect),
	    cmocka_unit_test(test_not_applied),
	    cmocka_unit_test(test_sense_must_match),
	    cmocka_unit_test(test_read_misses_register),
	    cmocka_unit_test(test_stale_generation),
	    cmocka_unit_test(test_two_reserves),
	    cmocka_unit_test(test_lost_update),
	    cmocka_unit_test(test_spc2_two_holders),
	    cmocka_unit_test(test_lus_independent),
	    cmocka_unit_test(test_budget),
	    cmocka_unit_test(test_write_parse_roundtrip),
	    cmocka_unit_test(test_parse_variants),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_read_names_line),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
