/* The access check (pr-rules.md B3 and the table in docs/pr-engine.md
 * "Access check"): real CDBs of every command class, under each of the six
 * reservation types, from the holder, a registered non-holder and an
 * unregistered nexus. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pr_test_util.h"

#define CTX                                                                                        \
	struct pt_ctx *c = *state;                                                                 \
	struct prk_pr_state *st = c->st

struct cmd {
	const char *name;
	uint8_t cdb[32];
	size_t len;
	enum prk_cmd_class cls;
};

/* Real CDBs with plausible fields (LBA 0x10, 8 blocks, allocation lengths). */
static const struct cmd cmds[] = {
    /* medium reads */
    {"READ(10)", {0x28, 0, 0, 0, 0, 0x10, 0, 0, 8, 0}, 10, PRK_CLASS_READ},
    {"READ(16)", {0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 8, 0, 0}, 16, PRK_CLASS_READ},
    {"READ(32)",
     {0x7f, 0, 0, 0,    0, 0, 0, 0x18, 0x00, 0x09, 0, 0, 0, 0, 0, 0,
      0,    0, 0, 0x10, 0, 0, 0, 0,    0,    0,    0, 0, 0, 0, 0, 8},
     32,
     PRK_CLASS_READ},
    {"VERIFY(10)", {0x2f, 0, 0, 0, 0, 0x10, 0, 0, 8, 0}, 10, PRK_CLASS_READ},
    {"PRE-FETCH(10)", {0x34, 0, 0, 0, 0, 0x10, 0, 0, 8, 0}, 10, PRK_CLASS_READ},
    {"READ(6)", {0x08, 0, 0, 0x10, 8, 0}, 6, PRK_CLASS_READ},
    {"READ(12)", {0xa8, 0, 0, 0, 0, 0x10, 0, 0, 0, 8, 0, 0}, 12, PRK_CLASS_READ},
    {"VERIFY(16)", {0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 8, 0, 0}, 16, PRK_CLASS_READ},
    {"VERIFY(32)",
     {0x7f, 0, 0, 0,    0, 0, 0, 0x18, 0x00, 0x0a, 0, 0, 0, 0, 0, 0,
      0,    0, 0, 0x10, 0, 0, 0, 0,    0,    0,    0, 0, 0, 0, 0, 8},
     32,
     PRK_CLASS_READ},
    {"PRE-FETCH(16)", {0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 8, 0, 0}, 16, PRK_CLASS_READ},
    {"GET LBA STATUS",
     {0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0x10, 0, 0, 0},
     16,
     PRK_CLASS_READ},
    /* READ DEFECT DATA reads what the medium says about itself */
    {"READ DEFECT DATA(10)", {0x37, 0, 0x18, 0, 0, 0, 0, 0, 32, 0}, 10, PRK_CLASS_READ},
    {"READ DEFECT DATA(12)", {0xb7, 0x18, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0}, 12, PRK_CLASS_READ},
    /* medium writes */
    {"ORWRITE(16)", {0x8b, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 8, 0, 0}, 16, PRK_CLASS_WRITE},
    {"WRITE ATOMIC(16)",
     {0x9c, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 8, 0},
     16,
     PRK_CLASS_WRITE},
    {"SANITIZE OVERWRITE", {0x48, 0x01, 0, 0, 0, 0, 0, 0, 8, 0}, 10, PRK_CLASS_WRITE},
    {"SANITIZE BLOCK ERASE", {0x48, 0x02, 0, 0, 0, 0, 0, 0, 0, 0}, 10, PRK_CLASS_WRITE},
    {"WRITE(10)", {0x2a, 0, 0, 0, 0, 0x10, 0, 0, 8, 0}, 10, PRK_CLASS_WRITE},
    {"WRITE(16)", {0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 8, 0, 0}, 16, PRK_CLASS_WRITE},
    {"WRITE(32)",
     {0x7f, 0, 0, 0,    0, 0, 0, 0x18, 0x00, 0x0b, 0, 0, 0, 0, 0, 0,
      0,    0, 0, 0x10, 0, 0, 0, 0,    0,    0,    0, 0, 0, 0, 0, 8},
     32,
     PRK_CLASS_WRITE},
    {"WRITE(6)", {0x0a, 0, 0, 0x10, 8, 0}, 6, PRK_CLASS_WRITE},
    {"WRITE(12)", {0xaa, 0, 0, 0, 0, 0x10, 0, 0, 0, 8, 0, 0}, 12, PRK_CLASS_WRITE},
    {"WRITE AND VERIFY(10)", {0x2e, 0, 0, 0, 0, 0x10, 0, 0, 8, 0}, 10, PRK_CLASS_WRITE},
    {"WRITE AND VERIFY(16)",
     {0x8e, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 8, 0, 0},
     16,
     PRK_CLASS_WRITE},
    {"WRITE SAME(32)",
     {0x7f, 0, 0, 0,    0, 0, 0, 0x18, 0x00, 0x0d, 0, 0, 0, 0, 0, 0,
      0,    0, 0, 0x10, 0, 0, 0, 0,    0,    0,    0, 0, 0, 0, 0, 8},
     32,
     PRK_CLASS_WRITE},
    {"FORMAT UNIT", {0x04, 0, 0, 0, 0, 0}, 6, PRK_CLASS_WRITE},
    {"WRITE SAME(10)", {0x41, 0, 0, 0, 0, 0x10, 0, 0, 8, 0}, 10, PRK_CLASS_WRITE},
    {"WRITE SAME(16)",
     {0x93, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 8, 0, 0},
     16,
     PRK_CLASS_WRITE},
    {"UNMAP", {0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0}, 10, PRK_CLASS_WRITE},
    {"COMPARE AND WRITE",
     {0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0},
     16,
     PRK_CLASS_WRITE},
    {"SYNCHRONIZE CACHE(10)", {0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 10, PRK_CLASS_WRITE},
    {"SYNCHRONIZE CACHE(16)",
     {0x91, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
     16,
     PRK_CLASS_WRITE},
    {"EXTENDED COPY",
     {0x83, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0},
     16,
     PRK_CLASS_WRITE},
    {"unknown opcode C5h",
     {0xc5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
     16,
     PRK_CLASS_WRITE},
    {"unknown SA 9Eh/1Fh",
     {0x9e, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0},
     16,
     PRK_CLASS_WRITE},
    /* always allowed */
    {"INQUIRY", {0x12, 0, 0, 0, 0x24, 0}, 6, PRK_CLASS_ALWAYS},
    {"REPORT LUNS", {0xa0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0}, 12, PRK_CLASS_ALWAYS},
    {"TEST UNIT READY", {0x00, 0, 0, 0, 0, 0}, 6, PRK_CLASS_ALWAYS},
    {"REQUEST SENSE", {0x03, 0, 0, 0, 18, 0}, 6, PRK_CLASS_ALWAYS},
    {"LOG SENSE", {0x4d, 0, 0x4d, 0, 0, 0, 0, 0x02, 0, 0}, 10, PRK_CLASS_ALWAYS},
    {"READ CAPACITY(10)", {0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 10, PRK_CLASS_ALWAYS},
    {"READ CAPACITY(16)",
     {0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0},
     16,
     PRK_CLASS_ALWAYS},
    {"REPORT TARGET PORT GROUPS",
     {0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 0x04, 0, 0, 0},
     12,
     PRK_CLASS_ALWAYS},
    {"REPORT IDENTIFYING INFORMATION",
     {0xa3, 0x05, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0},
     12,
     PRK_CLASS_ALWAYS},
    {"REPORT ALIASES", {0xa3, 0x0b, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0}, 12, PRK_CLASS_ALWAYS},
    {"REPORT PRIORITY", {0xa3, 0x0e, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0}, 12, PRK_CLASS_ALWAYS},
    {"REPORT TIMESTAMP", {0xa3, 0x0f, 0, 0, 0, 0, 0, 0, 0, 0x0c, 0, 0}, 12, PRK_CLASS_ALWAYS},
    {"ACCESS CONTROL IN",
     {0x86, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0},
     16,
     PRK_CLASS_ALWAYS},
    {"ACCESS CONTROL OUT",
     {0x87, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0},
     16,
     PRK_CLASS_ALWAYS},
    /* read-like admin */
    {"MODE SENSE(6)", {0x1a, 0, 0x3f, 0, 0xff, 0}, 6, PRK_CLASS_ADMIN_READ},
    {"MODE SENSE(10)", {0x5a, 0, 0x3f, 0, 0, 0, 0, 0x01, 0, 0}, 10, PRK_CLASS_ADMIN_READ},
    {"READ BUFFER", {0x3c, 0x02, 0, 0, 0, 0, 0, 0x10, 0, 0}, 10, PRK_CLASS_ADMIN_READ},
    {"RECEIVE DIAGNOSTIC RESULTS", {0x1c, 0x01, 0, 0, 0xff, 0}, 6, PRK_CLASS_ADMIN_READ},
    {"REPORT SUPPORTED OPCODES",
     {0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0},
     12,
     PRK_CLASS_ADMIN_READ},
    {"READ ATTRIBUTE",
     {0x8c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0},
     16,
     PRK_CLASS_ADMIN_READ},
    {"SECURITY PROTOCOL IN", {0xa2, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0}, 12, PRK_CLASS_ADMIN_READ},
    {"MANAGEMENT PROTOCOL IN",
     {0xa3, 0x10, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0},
     12,
     PRK_CLASS_ADMIN_READ},
    {"REPORT SUPPORTED TMFS",
     {0xa3, 0x0d, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0},
     12,
     PRK_CLASS_ADMIN_READ},
    /* write-like admin */
    {"MODE SELECT(6)", {0x15, 0x10, 0, 0, 0x18, 0}, 6, PRK_CLASS_ADMIN_WRITE},
    {"MODE SELECT(10)", {0x55, 0x10, 0, 0, 0, 0, 0, 0, 0x18, 0}, 10, PRK_CLASS_ADMIN_WRITE},
    {"LOG SELECT", {0x4c, 0x02, 0, 0, 0, 0, 0, 0, 0, 0}, 10, PRK_CLASS_ADMIN_WRITE},
    {"WRITE BUFFER", {0x3b, 0x05, 0, 0, 0, 0, 0, 0x10, 0, 0}, 10, PRK_CLASS_ADMIN_WRITE},
    {"SEND DIAGNOSTIC", {0x1d, 0x04, 0, 0, 0, 0}, 6, PRK_CLASS_ADMIN_WRITE},
    {"WRITE ATTRIBUTE",
     {0x8d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0},
     16,
     PRK_CLASS_ADMIN_WRITE},
    {"SECURITY PROTOCOL OUT",
     {0xb5, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0},
     12,
     PRK_CLASS_ADMIN_WRITE},
    {"RECEIVE COPY RESULTS",
     {0x84, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0},
     16,
     PRK_CLASS_ADMIN_WRITE},
    {"CHANGE ALIASES", {0xa4, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0}, 12, PRK_CLASS_ADMIN_WRITE},
    /* decided by the engine's own execution */
    {"PERSISTENT RESERVE IN", {0x5e, 0x00, 0, 0, 0, 0, 0, 0x10, 0, 0}, 10, PRK_CLASS_PR},
    {"PERSISTENT RESERVE OUT", {0x5f, 0x01, 0x01, 0, 0, 0, 0, 0, 24, 0}, 10, PRK_CLASS_PR},
    {"RESERVE(6)", {0x16, 0, 0, 0, 0, 0}, 6, PRK_CLASS_SPC2},
    {"RELEASE(6)", {0x17, 0, 0, 0, 0, 0}, 6, PRK_CLASS_SPC2},
    {"RESERVE(10)", {0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 10, PRK_CLASS_SPC2},
    {"RELEASE(10)", {0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 10, PRK_CLASS_SPC2},
};
#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < N_CMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	fail_msg("no command %s", name);
	return NULL;
}

static const uint8_t all_types[] = {PRK_PR_WE,    PRK_PR_EA,    PRK_PR_WE_RO,
                                    PRK_PR_EA_RO, PRK_PR_WE_AR, PRK_PR_EA_AR};

enum role { HOLDER, REGISTERED, UNREGISTERED };
static const char *role_name[] = {"holder", "registered non-holder", "unregistered"};

/* The B3 table, from docs/pr-engine.md "Access check". */
static enum prk_access expected(enum prk_cmd_class cls, uint8_t type, enum role role)
{
	if (cls == PRK_CLASS_ALWAYS || cls == PRK_CLASS_PR || cls == PRK_CLASS_SPC2)
		return PRK_ACCESS_ALLOWED;
	if (role == HOLDER)
		return PRK_ACCESS_ALLOWED;
	bool read = cls == PRK_CLASS_READ || cls == PRK_CLASS_ADMIN_READ;
	bool reg = role == REGISTERED;
	switch (type) {
	case PRK_PR_WE:
		return read ? PRK_ACCESS_ALLOWED : PRK_ACCESS_CONFLICT;
	case PRK_PR_EA:
		return PRK_ACCESS_CONFLICT;
	case PRK_PR_WE_RO:
	case PRK_PR_WE_AR:
		return (reg || read) ? PRK_ACCESS_ALLOWED : PRK_ACCESS_CONFLICT;
	case PRK_PR_EA_RO:
	case PRK_PR_EA_AR:
		return reg ? PRK_ACCESS_ALLOWED : PRK_ACCESS_CONFLICT;
	}
	fail_msg("bad type %u", type);
	return PRK_ACCESS_CONFLICT;
}

static const char *access_name(enum prk_access a)
{
	switch (a) {
	case PRK_ACCESS_ALLOWED:
		return "ALLOWED";
	case PRK_ACCESS_CONFLICT:
		return "CONFLICT";
	case PRK_ACCESS_LOST:
		return "LOST";
	}
	return "?";
}

/* a registered and holder of `type` (for AR: a reserved it); b registered;
 * d unregistered. */
static void setup_type(struct pt_ctx *c, uint8_t type)
{
	pt_reg(c->st, &c->a, KEY_A);
	pt_reg(c->st, &c->b, KEY_B);
	pt_resv(c->st, &c->a, KEY_A, type);
}

static void clear_all(struct pt_ctx *c)
{
	struct prk_pr_result r;
	pt_out(c->st, &c->a, PRK_PROUT_CLEAR, 0, KEY_A, 0, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
}

/* Checks every command of class `cls` under every type and role. Reports
 * every mismatch, then fails. */
static void check_class(struct pt_ctx *c, enum prk_cmd_class cls)
{
	int bad = 0, checked = 0;
	for (size_t t = 0; t < sizeof(all_types); t++) {
		uint8_t type = all_types[t];
		setup_type(c, type);
		const struct prk_nexus *who[3] = {&c->a, &c->b, &c->d};
		for (size_t i = 0; i < N_CMDS; i++) {
			if (cmds[i].cls != cls)
				continue;
			for (int role = HOLDER; role <= UNREGISTERED; role++) {
				/* Under AR types every registrant is a holder. */
				enum role eff = role;
				if (role == REGISTERED && prk_pr_type_all_registrants(type))
					eff = HOLDER;
				enum prk_access want = expected(cls, type, eff);
				enum prk_access got =
				    prk_pr_access(c->st, who[role], cmds[i].cdb, cmds[i].len);
				checked++;
				if (got != want) {
					print_error("%s under %s from %s: got %s, want %s\n",
					            cmds[i].name, prk_pr_type_name(type),
					            role_name[role], access_name(got),
					            access_name(want));
					bad++;
				}
			}
		}
		clear_all(c);
	}
	assert_true(checked > 0);
	assert_int_equal(bad, 0);
}

static void test_b3_row_medium_reads(void **state)
{
	check_class(*state, PRK_CLASS_READ);
}

static void test_b3_row_medium_writes(void **state)
{
	check_class(*state, PRK_CLASS_WRITE);
}

static void test_b3_row_always_allowed(void **state)
{
	check_class(*state, PRK_CLASS_ALWAYS);
}

static void test_b3_row_read_like_admin(void **state)
{
	check_class(*state, PRK_CLASS_ADMIN_READ);
}

static void test_b3_row_write_like_admin(void **state)
{
	check_class(*state, PRK_CLASS_ADMIN_WRITE);
}

/* PR IN / PR OUT and RESERVE / RELEASE are decided by their own execution:
 * the access check allows them. */
static void test_b3_row_pr_and_spc2_allowed_by_access_check(void **state)
{
	check_class(*state, PRK_CLASS_PR);
	check_class(*state, PRK_CLASS_SPC2);
}

/* Every CDB of the table is classified as listed. */
static void test_b3_classify_every_command(void **state)
{
	(void)state;
	int bad = 0;
	for (size_t i = 0; i < N_CMDS; i++) {
		enum prk_cmd_class got = prk_pr_classify(cmds[i].cdb, cmds[i].len);
		if (got != cmds[i].cls) {
			print_error("%s: class %d, want %d\n", cmds[i].name, got, cmds[i].cls);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void test_b3_classify_spot_checks(void **state)
{
	(void)state;
	/* Service actions decide for 9Eh, A3h and 7Fh. */
	uint8_t sai[16] = {0x9e, 0x10};
	assert_int_equal(prk_pr_classify(sai, 16), PRK_CLASS_ALWAYS);
	sai[1] = 0x12;
	assert_int_equal(prk_pr_classify(sai, 16), PRK_CLASS_READ);
	sai[1] = 0x1f;
	assert_int_equal(prk_pr_classify(sai, 16), PRK_CLASS_WRITE);
	uint8_t mi[12] = {0xa3, 0x0a};
	assert_int_equal(prk_pr_classify(mi, 12), PRK_CLASS_ALWAYS);
	mi[1] = 0x0c;
	assert_int_equal(prk_pr_classify(mi, 12), PRK_CLASS_ADMIN_READ);
	mi[1] = 0x1f; /* unknown MAINTENANCE IN service action */
	assert_int_equal(prk_pr_classify(mi, 12), PRK_CLASS_WRITE);
	uint8_t var[32] = {0x7f, 0, 0, 0, 0, 0, 0, 0x18, 0x00, 0x09};
	assert_int_equal(prk_pr_classify(var, 32), PRK_CLASS_READ);
	var[9] = 0x0b;
	assert_int_equal(prk_pr_classify(var, 32), PRK_CLASS_WRITE);
	var[8] = 0x7e; /* unknown variable-length service action */
	var[9] = 0x01;
	assert_int_equal(prk_pr_classify(var, 32), PRK_CLASS_WRITE);
	/* Plain opcodes. */
	uint8_t op[16] = {0};
	op[0] = PRK_OP_READ6;
	assert_int_equal(prk_pr_classify(op, 6), PRK_CLASS_READ);
	op[0] = PRK_OP_WRITE6;
	assert_int_equal(prk_pr_classify(op, 6), PRK_CLASS_WRITE);
	op[0] = PRK_OP_READ12;
	assert_int_equal(prk_pr_classify(op, 12), PRK_CLASS_READ);
	op[0] = PRK_OP_WRITE12;
	assert_int_equal(prk_pr_classify(op, 12), PRK_CLASS_WRITE);
	op[0] = PRK_OP_VERIFY16;
	assert_int_equal(prk_pr_classify(op, 16), PRK_CLASS_READ);
	op[0] = PRK_OP_WRITE_VERIFY10;
	assert_int_equal(prk_pr_classify(op, 10), PRK_CLASS_WRITE);
	op[0] = PRK_OP_FORMAT_UNIT;
	assert_int_equal(prk_pr_classify(op, 6), PRK_CLASS_WRITE);
	op[0] = PRK_OP_INQUIRY;
	assert_int_equal(prk_pr_classify(op, 6), PRK_CLASS_ALWAYS);
	op[0] = PRK_OP_PR_OUT;
	assert_int_equal(prk_pr_classify(op, 10), PRK_CLASS_PR);
	op[0] = PRK_OP_RESERVE6;
	assert_int_equal(prk_pr_classify(op, 6), PRK_CLASS_SPC2);
	op[0] = PRK_OP_MODE_SELECT6;
	assert_int_equal(prk_pr_classify(op, 6), PRK_CLASS_ADMIN_WRITE);
	op[0] = 0xff; /* vendor specific, unknown */
	assert_int_equal(prk_pr_classify(op, 16), PRK_CLASS_WRITE);
}

/* No reservation: everything is allowed, registered or not. */
static void test_b3_no_reservation_everything_allowed(void **state)
{
	CTX;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			pt_reg(st, &c->a, KEY_A);
			pt_reg(st, &c->b, KEY_B);
		}
		const struct prk_nexus *who[] = {&c->a, &c->b, &c->d};
		for (size_t w = 0; w < 3; w++)
			for (size_t i = 0; i < N_CMDS; i++) {
				enum prk_access got =
				    prk_pr_access(st, who[w], cmds[i].cdb, cmds[i].len);
				if (got != PRK_ACCESS_ALLOWED)
					fail_msg("%s from %s without reservation: %s", cmds[i].name,
					         who[w]->name, access_name(got));
			}
	}
}

/* libiscsi test_prout_reserve_access.c: (registered read, registered write,
 * unregistered read, unregistered write) for a registered non-holder and an
 * unregistered nexus. */
static void test_b3_libiscsi_matrix(void **state)
{
	CTX;
	static const struct {
		uint8_t type;
		int rr, rw, ur, uw;
	} m[] = {
	    {PRK_PR_EA, 0, 0, 0, 0},    {PRK_PR_WE, 1, 0, 1, 0},    {PRK_PR_EA_RO, 1, 1, 0, 0},
	    {PRK_PR_EA_AR, 1, 1, 0, 0}, {PRK_PR_WE_RO, 1, 1, 1, 0}, {PRK_PR_WE_AR, 1, 1, 1, 0},
	};
	const struct cmd *rd = find_cmd("READ(10)"), *wr = find_cmd("WRITE(10)");
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		setup_type(c, m[i].type);
		int got[4] = {
		    prk_pr_access(st, &c->b, rd->cdb, rd->len) == PRK_ACCESS_ALLOWED,
		    prk_pr_access(st, &c->b, wr->cdb, wr->len) == PRK_ACCESS_ALLOWED,
		    prk_pr_access(st, &c->d, rd->cdb, rd->len) == PRK_ACCESS_ALLOWED,
		    prk_pr_access(st, &c->d, wr->cdb, wr->len) == PRK_ACCESS_ALLOWED,
		};
		if (got[0] != m[i].rr || got[1] != m[i].rw || got[2] != m[i].ur ||
		    got[3] != m[i].uw)
			fail_msg("%s: got %d/%d/%d/%d, want %d/%d/%d/%d",
			         prk_pr_type_name(m[i].type), got[0], got[1], got[2], got[3],
			         m[i].rr, m[i].rw, m[i].ur, m[i].uw);
		/* The holder always has access. */
		assert_int_equal(prk_pr_access(st, &c->a, wr->cdb, wr->len), PRK_ACCESS_ALLOWED);
		assert_int_equal(prk_pr_access(st, &c->a, rd->cdb, rd->len), PRK_ACCESS_ALLOWED);
		clear_all(c);
	}
}

/* Holder identity is case-insensitive in the name but exact in ISID and
 * target port. */
static void test_b3_holder_identity(void **state)
{
	CTX;
	const struct cmd *rd = find_cmd("READ(10)"), *wr = find_cmd("WRITE(10)");
	setup_type(c, PRK_PR_EA);
	assert_int_equal(prk_pr_access(st, &c->a_upper, wr->cdb, wr->len), PRK_ACCESS_ALLOWED);
	assert_int_equal(prk_pr_access(st, &c->a_isid2, rd->cdb, rd->len), PRK_ACCESS_CONFLICT);
	assert_int_equal(prk_pr_access(st, &c->a_port2, rd->cdb, rd->len), PRK_ACCESS_CONFLICT);
}

/* An ALL_TG_PT registration is a registration on every target port. */
static void test_b3_all_tg_pt_registration_other_rtpi(void **state)
{
	CTX;
	const struct cmd *rd = find_cmd("READ(10)"), *wr = find_cmd("WRITE(10)");
	pt_reg(st, &c->b, KEY_B);
	pt_reg_atp(st, &c->a, KEY_A);
	pt_reg(st, &c->c, KEY_C); /* exact: port 2 only */
	pt_resv(st, &c->b, KEY_B, PRK_PR_EA_RO);
	assert_int_equal(prk_pr_access(st, &c->a_port2, wr->cdb, wr->len), PRK_ACCESS_ALLOWED);
	assert_int_equal(prk_pr_access(st, &c->a, wr->cdb, wr->len), PRK_ACCESS_ALLOWED);
	assert_int_equal(prk_pr_access(st, &c->a_isid2, rd->cdb, rd->len), PRK_ACCESS_CONFLICT);
	assert_int_equal(prk_pr_access(st, &c->c, wr->cdb, wr->len), PRK_ACCESS_ALLOWED);
	assert_int_equal(prk_pr_access(st, &c->c_port1, rd->cdb, rd->len), PRK_ACCESS_CONFLICT);
	clear_all(c);

	/* The holder's ALL_TG_PT registration holds on every port (docs). */
	pt_reg_atp(st, &c->a, KEY_A);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA);
	assert_int_equal(prk_pr_access(st, &c->a_port2, wr->cdb, wr->len), PRK_ACCESS_ALLOWED);
	assert_int_equal(prk_pr_access(st, &c->a_isid2, rd->cdb, rd->len), PRK_ACCESS_CONFLICT);
}

/* A format-00b (any-ISID) registration covers every ISID of the name. */
static void test_b3_any_isid_registration(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	const struct cmd *wr = find_cmd("WRITE(10)");
	struct prk_nexus b_isid9;
	pt_nexus(&b_isid9, PT_NAME_B, 0x000000000999ULL, PT_RTPI_1);
	pt_tid_dev(&t, PT_NAME_B);
	pt_out_req(st, &c->a,
	           PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A, .tids = &t, .n_tids = 1), &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE_RO);
	assert_int_equal(prk_pr_access(st, &b_isid9, wr->cdb, wr->len), PRK_ACCESS_ALLOWED);
	assert_int_equal(prk_pr_access(st, &c->b, wr->cdb, wr->len), PRK_ACCESS_ALLOWED);
	assert_int_equal(prk_pr_access(st, &c->b_port2, wr->cdb, wr->len), PRK_ACCESS_CONFLICT);
	assert_int_equal(prk_pr_access(st, &c->d, wr->cdb, wr->len), PRK_ACCESS_CONFLICT);
}

/* Lost PR information: medium access and admin commands get LOST; the
 * always-allowed commands and PR IN run. */
static void test_b3_lost_state(void **state)
{
	CTX;
	setup_type(c, PRK_PR_WE);
	prk_pr_mark_lost(st);
	const struct prk_nexus *who[] = {&c->a, &c->d};
	int bad = 0;
	for (size_t w = 0; w < 2; w++)
		for (size_t i = 0; i < N_CMDS; i++) {
			enum prk_access want;
			switch (cmds[i].cls) {
			case PRK_CLASS_READ:
			case PRK_CLASS_WRITE:
			case PRK_CLASS_ADMIN_READ:
			case PRK_CLASS_ADMIN_WRITE:
				want = PRK_ACCESS_LOST;
				break;
			case PRK_CLASS_ALWAYS:
			case PRK_CLASS_PR:
				want = PRK_ACCESS_ALLOWED;
				break;
			default:
				continue; /* RESERVE/RELEASE: not specified */
			}
			enum prk_access got = prk_pr_access(st, who[w], cmds[i].cdb, cmds[i].len);
			if (got != want) {
				print_error("lost: %s from %s: got %s, want %s\n", cmds[i].name,
				            who[w]->name, access_name(got), access_name(want));
				bad++;
			}
		}
	assert_int_equal(bad, 0);
	const struct cmd *rd = find_cmd("READ(10)"), *inq = find_cmd("INQUIRY");
	assert_int_equal(prk_pr_access(st, &c->a, rd->cdb, rd->len), PRK_ACCESS_LOST);
	assert_int_equal(prk_pr_access(st, &c->a, inq->cdb, inq->len), PRK_ACCESS_ALLOWED);

	/* After REPLACE LOST RESERVATION, normal rules apply again. */
	struct prk_pr_result r;
	pt_out(st, &c->b, PRK_PROUT_REPLACE_LOST, PRK_PR_WE, 0, KEY_B, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_access(st, &c->a, rd->cdb, rd->len), PRK_ACCESS_ALLOWED);
	const struct cmd *wr = find_cmd("WRITE(10)");
	assert_int_equal(prk_pr_access(st, &c->a, wr->cdb, wr->len), PRK_ACCESS_CONFLICT);
	assert_int_equal(prk_pr_access(st, &c->b, wr->cdb, wr->len), PRK_ACCESS_ALLOWED);
}

#define T(f) cmocka_unit_test_setup_teardown(f, pt_setup, pt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_b3_row_medium_reads),
	    T(test_b3_row_medium_writes),
	    T(test_b3_row_always_allowed),
	    T(test_b3_row_read_like_admin),
	    T(test_b3_row_write_like_admin),
	    T(test_b3_row_pr_and_spc2_allowed_by_access_check),
	    T(test_b3_classify_every_command),
	    T(test_b3_classify_spot_checks),
	    T(test_b3_no_reservation_everything_allowed),
	    T(test_b3_libiscsi_matrix),
	    T(test_b3_holder_identity),
	    T(test_b3_all_tg_pt_registration_other_rtpi),
	    T(test_b3_any_isid_registration),
	    T(test_b3_lost_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
