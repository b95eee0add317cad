/* Integration tests of persistent reservations over real iSCSI sessions:
 * the rules libiscsi's conformance suite does not reach. REGISTER AND MOVE
 * to another portal, PREEMPT AND ABORT as the victim sees it, REPLACE LOST
 * RESERVATION without lost state, READ FULL STATUS with two target ports,
 * SPEC_I_PT, ALL_TG_PT, RELEASE with the wrong type, PREEMPT of key 0,
 * unit attentions across portals, and `prkit target pr`.
 *
 * Every test gets a fresh prkitd with two portals (relative target port
 * identifiers 1 and 2), so no PR state or unit attention leaks between
 * tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"
#include "harness_cmd.h"
#include "prkit/scsi_pr_wire.h"

#define INI_A "iqn.2026-11.io.prkit.test:host-a"
#define INI_B "iqn.2026-11.io.prkit.test:host-b"
#define INI_C "iqn.2026-11.io.prkit.test:host-c"

/* h_login's ISIDs: random format, 0x123456, then the 16-bit qualifier. */
#define ISID(q) (0x801234560000ULL | (uint64_t)(q))

#define T_WE SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE
#define T_EA SCSI_PERSISTENT_RESERVE_TYPE_EXCLUSIVE_ACCESS
#define T_WE_RO SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY
#define T_WE_AR SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_ALL_REGISTRANTS

#define SA_REPLACE_LOST 0x08

#define ASCQ_INVALID_FIELD_IN_CDB 0x2400
#define ASCQ_INVALID_FIELD_IN_PARAM 0x2600
#define ASCQ_INVALID_RELEASE 0x2604
#define ASCQ_RESERVATIONS_PREEMPTED 0x2a03
#define ASCQ_RESERVATIONS_RELEASED 0x2a04
#define ASCQ_REGISTRATIONS_PREEMPTED 0x2a05

static struct h_daemon daemon_;

static int setup(void **state)
{
	(void)state;
	return h_start_basic(&daemon_, 2, 16);
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

/* ---- helpers ---- */

static void reg(struct iscsi_context *iscsi, uint64_t key)
{
	assert_int_equal(h_prout(iscsi, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0,
	                         0, key, 0, 0),
	                 SCSI_STATUS_GOOD);
}

static void reserve(struct iscsi_context *iscsi, uint64_t key, int type)
{
	assert_int_equal(h_prout(iscsi, SCSI_PERSISTENT_RESERVE_RESERVE, type, key, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
}

/* READ KEYS: fills keys (at most 16), returns their number. */
static size_t read_keys(struct iscsi_context *iscsi, uint64_t *keys, uint32_t *gen)
{
	uint8_t buf[1024];
	size_t got;
	assert_int_equal(
	    h_pr_in(iscsi, 0, SCSI_PERSISTENT_RESERVE_READ_KEYS, buf, sizeof(buf), &got),
	    SCSI_STATUS_GOOD);
	struct prk_prin_keys k;
	struct prk_field_err err;
	assert_int_equal(prk_prin_keys_decode(buf, got, &k, &err), 0);
	assert_int_equal(k.n_present, k.n_total);
	assert_true(k.n_total <= 16);
	for (size_t i = 0; i < k.n_present; i++)
		keys[i] = prk_prin_keys_at(&k, i);
	if (gen)
		*gen = k.generation;
	return k.n_total;
}

static uint32_t generation(struct iscsi_context *iscsi)
{
	uint64_t keys[16];
	uint32_t gen;
	read_keys(iscsi, keys, &gen);
	return gen;
}

static struct prk_prin_resv read_resv(struct iscsi_context *iscsi)
{
	uint8_t buf[64];
	size_t got;
	assert_int_equal(
	    h_pr_in(iscsi, 0, SCSI_PERSISTENT_RESERVE_READ_RESERVATION, buf, sizeof(buf), &got),
	    SCSI_STATUS_GOOD);
	struct prk_prin_resv r;
	struct prk_field_err err;
	assert_int_equal(prk_prin_resv_decode(buf, got, &r, &err), 0);
	return r;
}

/* READ FULL STATUS decoded with the project's decoder; returns the number
 * of descriptors (at most 8). */
static size_t full_status(struct iscsi_context *iscsi, struct prk_full_desc *d, uint32_t *gen)
{
	static uint8_t buf[8192];
	size_t got;
	assert_int_equal(
	    h_pr_in(iscsi, 0, SCSI_PERSISTENT_RESERVE_READ_FULL_STATUS, buf, sizeof(buf), &got),
	    SCSI_STATUS_GOOD);
	struct prk_full_dec dec;
	struct prk_field_err err;
	assert_int_equal(prk_full_dec_start(&dec, buf, got, &err), 0);
	size_t n = 0;
	int r;
	while ((r = prk_full_dec_next(&dec, &d[n], &err)) == 1) {
		n++;
		assert_true(n <= 8);
	}
	assert_int_equal(r, 0);
	assert_false(dec.truncated);
	if (gen)
		*gen = dec.generation;
	return n;
}

static void assert_desc(const struct prk_full_desc *d, uint64_t key, const char *name,
                        uint64_t isid, uint16_t rtpi, bool holder)
{
	assert_int_equal(d->key, key);
	assert_int_equal(d->tid.format, PRK_TID_FMT_PORT);
	assert_string_equal(d->tid.name, name);
	assert_int_equal(d->tid.isid, isid);
	assert_false(d->all_tg_pt);
	assert_int_equal(d->rtpi, rtpi);
	assert_int_equal(d->r_holder, holder);
}

static int write_block(struct iscsi_context *iscsi, uint64_t lba, uint8_t fill)
{
	uint8_t buf[512];
	memset(buf, fill, sizeof(buf));
	return h_status(iscsi_write16_sync(iscsi, 0, lba, buf, 512, 512, 0, 0, 0, 0, 0));
}

static int read_block(struct iscsi_context *iscsi, uint64_t lba)
{
	return h_status(iscsi_read16_sync(iscsi, 0, lba, 512, 512, 0, 0, 0, 0, 0));
}

static struct prk_tid port_tid(const char *name, uint64_t isid)
{
	struct prk_tid t = {.format = PRK_TID_FMT_PORT, .isid = isid};
	snprintf(t.name, sizeof(t.name), "%s", name);
	return t;
}

/* REGISTER AND MOVE to (name, isid) through rtpi, with the CDB's TYPE. */
static int register_and_move(struct iscsi_context *iscsi, uint64_t key, uint64_t sa_key,
                             const char *name, uint64_t isid, uint16_t rtpi, bool unreg,
                             int cdb_type)
{
	uint8_t p[512];
	struct prk_tid tid = port_tid(name, isid);
	size_t n =
	    prk_prout_params_encode_move(key, sa_key, unreg, false, rtpi, &tid, p, sizeof(p));
	assert_true(n > 0 && n <= sizeof(p));
	return h_pr_out(iscsi, 0, SCSI_PERSISTENT_RESERVE_REGISTER_AND_MOVE, (uint8_t)cdb_type, p,
	                (uint32_t)n, &h_sense);
}

/* ---- REGISTER AND MOVE ---- */

/* A holds Write Exclusive through portal 0 and moves it, with UNREG, to B's
 * nexus on portal 1 that was not registered: B is registered with the
 * SERVICE ACTION RESERVATION KEY and holds a reservation of the same type
 * (the CDB's TYPE is ignored), A is gone, PRgeneration + 1, and write
 * access follows the holder. */
static void test_register_and_move_unreg_to_other_portal(void **state)
{
	(void)state;
	struct iscsi_context *a = h_login_clear(&daemon_, 0, INI_A, 0x11);
	struct iscsi_context *b = h_login_clear(&daemon_, 1, INI_B, 0x22);
	reg(a, 0xa1);
	reserve(a, 0xa1, T_WE);
	assert_int_equal(write_block(a, 5, 0xa1), SCSI_STATUS_GOOD);
	assert_int_equal(write_block(b, 5, 0xb1), SCSI_STATUS_RESERVATION_CONFLICT);
	uint32_t gen0 = generation(a);

	assert_int_equal(register_and_move(a, 0xa1, 0xb2, INI_B, ISID(0x22), 2, true, T_EA),
	                 SCSI_STATUS_GOOD);

	uint64_t keys[16];
	uint32_t gen;
	assert_int_equal(read_keys(b, keys, &gen), 1);
	assert_int_equal(keys[0], 0xb2);
	assert_int_equal(gen, gen0 + 1);
	struct prk_prin_resv r = read_resv(b);
	assert_true(r.present);
	assert_int_equal(r.key, 0xb2);
	assert_int_equal(r.type, T_WE);
	assert_int_equal(r.scope, 0);
	struct prk_full_desc d[8];
	assert_int_equal(full_status(a, d, NULL), 1);
	assert_desc(&d[0], 0xb2, INI_B, ISID(0x22), 2, true);
	assert_int_equal(d[0].type, T_WE);

	/* The new holder writes; the old one, now unregistered, conflicts. */
	assert_int_equal(write_block(b, 5, 0xb2), SCSI_STATUS_GOOD);
	assert_int_equal(write_block(a, 5, 0xa2), SCSI_STATUS_RESERVATION_CONFLICT);
	/* REGISTER AND MOVE sends no unit attention to either side. */
	assert_int_equal(h_tur(a, 0), SCSI_STATUS_GOOD);
	assert_int_equal(h_tur(b, 0), SCSI_STATUS_GOOD);
	/* A is no longer registered: a PR OUT with its old key conflicts. */
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_RELEASE, T_WE, 0xa1, 0, 0, 0),
	                 SCSI_STATUS_RESERVATION_CONFLICT);
	h_logout(a);
	h_logout(b);
}

/* The destination is registered already (key 0xb1): its key becomes the
 * SERVICE ACTION RESERVATION KEY; without UNREG the source stays
 * registered, no longer the holder. The same initiator port on the other
 * target port is a valid destination too. */
static void test_register_and_move_to_registered_destination(void **state)
{
	(void)state;
	struct iscsi_context *a0 = h_login_clear(&daemon_, 0, INI_A, 0x11);
	struct iscsi_context *a1 = h_login_clear(&daemon_, 1, INI_A, 0x11);
	struct iscsi_context *b = h_login_clear(&daemon_, 1, INI_B, 0x22);
	reg(a0, 0xa1);
	reg(b, 0xb1);
	reserve(a0, 0xa1, T_WE_RO);
	uint32_t gen0 = generation(a0);

	assert_int_equal(register_and_move(a0, 0xa1, 0xb9, INI_B, ISID(0x22), 2, false, T_WE_RO),
	                 SCSI_STATUS_GOOD);
	uint64_t keys[16];
	uint32_t gen;
	assert_int_equal(read_keys(b, keys, &gen), 2);
	assert_int_equal(keys[0], 0xa1);
	assert_int_equal(keys[1], 0xb9);
	assert_int_equal(gen, gen0 + 1);
	struct prk_full_desc d[8];
	assert_int_equal(full_status(b, d, NULL), 2);
	assert_desc(&d[0], 0xa1, INI_A, ISID(0x11), 1, false);
	assert_desc(&d[1], 0xb9, INI_B, ISID(0x22), 2, true);
	assert_int_equal(d[1].type, T_WE_RO);
	/* B's old key is gone: RELEASE with it conflicts, with the new one
	 * releases. */
	assert_int_equal(h_prout(b, SCSI_PERSISTENT_RESERVE_RELEASE, T_WE_RO, 0xb1, 0, 0, 0),
	                 SCSI_STATUS_RESERVATION_CONFLICT);

	/* Move on from B to A's nexus on portal 1 (same initiator port as
	 * the registered a0, other target port): a new registration. */
	assert_int_equal(register_and_move(b, 0xb9, 0xa7, INI_A, ISID(0x11), 2, true, T_WE_RO),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(full_status(a1, d, NULL), 2);
	assert_desc(&d[0], 0xa1, INI_A, ISID(0x11), 1, false);
	assert_desc(&d[1], 0xa7, INI_A, ISID(0x11), 2, true);
	struct prk_prin_resv r = read_resv(a1);
	assert_true(r.present);
	assert_int_equal(r.key, 0xa7);
	assert_int_equal(r.type, T_WE_RO);
	/* B is unregistered now: WE-RO keeps it from writing. */
	assert_int_equal(write_block(b, 9, 1), SCSI_STATUS_RESERVATION_CONFLICT);
	assert_int_equal(write_block(a1, 9, 2), SCSI_STATUS_GOOD);
	h_logout(a0);
	h_logout(a1);
	h_logout(b);
}

/* iSCSI names compare case-insensitively: a TransportID that spells B's
 * name in capitals names B's port (it is stored, and reported, in lower
 * case). */
static void test_register_and_move_name_in_capitals(void **state)
{
	(void)state;
	struct iscsi_context *a = h_login_clear(&daemon_, 0, INI_A, 0x11);
	struct iscsi_context *b = h_login_clear(&daemon_, 1, INI_B, 0x22);
	reg(a, 0xa1);
	reserve(a, 0xa1, T_WE);
	assert_int_equal(register_and_move(a, 0xa1, 0xb2, "IQN.2026-11.IO.PRKIT.TEST:HOST-B",
	                                   ISID(0x22), 2, true, T_WE),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(write_block(b, 6, 0xb2), SCSI_STATUS_GOOD);
	assert_int_equal(write_block(a, 6, 0xa2), SCSI_STATUS_RESERVATION_CONFLICT);
	struct prk_full_desc d[8];
	assert_int_equal(full_status(b, d, NULL), 1);
	assert_desc(&d[0], 0xb2, INI_B, ISID(0x22), 2, true);
	h_logout(a);
	h_logout(b);
}

/* ---- PREEMPT AND ABORT, the victim's view ---- */

static void test_preempt_and_abort_victim_sees_ua_then_conflict(void **state)
{
	(void)state;
	struct iscsi_context *a = h_login_clear(&daemon_, 0, INI_A, 0x11);
	struct iscsi_context *v = h_login_clear(&daemon_, 1, INI_B, 0x22);
	reg(a, 0xa1);
	reg(v, 0xb1);
	reserve(a, 0xa1, T_WE_RO);
	assert_int_equal(write_block(v, 7, 0xb1), SCSI_STATUS_GOOD);
	uint32_t gen0 = generation(a);

	assert_int_equal(
	    h_prout(a, SCSI_PERSISTENT_RESERVE_PREEMPT_AND_ABORT, T_WE_RO, 0xa1, 0xb1, 0, 0),
	    SCSI_STATUS_GOOD);
	uint64_t keys[16];
	uint32_t gen;
	assert_int_equal(read_keys(a, keys, &gen), 1);
	assert_int_equal(keys[0], 0xa1);
	assert_int_equal(gen, gen0 + 1);

	/* The victim had nothing outstanding: no 2F/00, only 2A/05, on its
	 * next command (a write, which does not run) ... */
	h_assert_sense(write_block(v, 7, 0xb2), SCSI_SENSE_UNIT_ATTENTION,
	               ASCQ_REGISTRATIONS_PREEMPTED);
	/* ... then its writes conflict, reads still run (WE-RO). */
	assert_int_equal(write_block(v, 7, 0xb3), SCSI_STATUS_RESERVATION_CONFLICT);
	assert_int_equal(read_block(v, 7), SCSI_STATUS_GOOD);
	/* The sender gets no unit attention; its reservation is unchanged. */
	assert_int_equal(h_tur(a, 0), SCSI_STATUS_GOOD);
	struct prk_prin_resv r = read_resv(a);
	assert_true(r.present);
	assert_int_equal(r.key, 0xa1);
	assert_int_equal(r.type, T_WE_RO);
	h_logout(a);
	h_logout(v);
}

/* The victim's registration covers both target ports (ALL_TG_PT): both
 * of its nexuses lose it and hear of it. */
static void test_preempt_and_abort_all_tg_pt_victim(void **state)
{
	(void)state;
	struct iscsi_context *a = h_login_clear(&daemon_, 0, INI_A, 0x11);
	struct iscsi_context *v0 = h_login_clear(&daemon_, 0, INI_B, 0x22);
	struct iscsi_context *v1 = h_login_clear(&daemon_, 1, INI_B, 0x22);
	reg(a, 0xa1);
	assert_int_equal(
	    h_prout(v0, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, 0xb1, 1, 0),
	    SCSI_STATUS_GOOD);
	reserve(a, 0xa1, T_WE_RO);
	assert_int_equal(write_block(v1, 8, 1), SCSI_STATUS_GOOD);
	assert_int_equal(
	    h_prout(a, SCSI_PERSISTENT_RESERVE_PREEMPT_AND_ABORT, T_WE_RO, 0xa1, 0xb1, 0, 0),
	    SCSI_STATUS_GOOD);
	struct iscsi_context *v[] = {v0, v1};
	for (int i = 0; i < 2; i++) {
		h_assert_sense(write_block(v[i], 8, 2), SCSI_SENSE_UNIT_ATTENTION,
		               ASCQ_REGISTRATIONS_PREEMPTED);
		assert_int_equal(write_block(v[i], 8, 3), SCSI_STATUS_RESERVATION_CONFLICT);
	}
	uint64_t keys[16];
	assert_int_equal(read_keys(a, keys, NULL), 1);
	assert_int_equal(keys[0], 0xa1);
	h_logout(a);
	h_logout(v0);
	h_logout(v1);
}

/* ---- REPLACE LOST RESERVATION without lost state ---- */

static void test_replace_lost_without_lost_state(void **state)
{
	(void)state;
	struct iscsi_context *a = h_login_clear(&daemon_, 0, INI_A, 0x11);
	struct iscsi_context *c = h_login_clear(&daemon_, 1, INI_C, 0x33);
	reg(a, 0xa1);
	uint32_t gen0 = generation(a);
	uint8_t p[64];
	/* RESERVATION KEY 0, SERVICE ACTION RESERVATION KEY 0xa2. */
	size_t n = prk_prout_params_encode_basic(0, 0xa2, false, false, NULL, 0, p, sizeof(p));
	assert_int_equal(n, PRK_PROUT_BASIC_LEN);
	struct iscsi_context *who[] = {a, c}; /* registered, and not */
	for (int i = 0; i < 2; i++) {
		int st = h_pr_out(who[i], 0, SA_REPLACE_LOST, T_WE, p, (uint32_t)n, &h_sense);
		h_assert_sense(st, SCSI_SENSE_ILLEGAL_REQUEST, ASCQ_INVALID_FIELD_IN_CDB);
		/* The field pointer names the SERVICE ACTION: CDB byte 1. */
		h_assert_field(true, 1);
	}
	/* Nothing changed: one key, no reservation, same generation. */
	uint64_t keys[16];
	uint32_t gen;
	assert_int_equal(read_keys(a, keys, &gen), 1);
	assert_int_equal(keys[0], 0xa1);
	assert_int_equal(gen, gen0);
	assert_false(read_resv(a).present);
	h_logout(a);
	h_logout(c);
}

/* ---- READ FULL STATUS ---- */

/* Three registrations: A through both portals (one initiator port, two
 * I_T nexuses) and B through portal 1; A's portal-0 nexus holds WE-RO. */
static void test_read_full_status_two_portals(void **state)
{
	(void)state;
	struct iscsi_context *a0 = h_login_clear(&daemon_, 0, INI_A, 0x11);
	struct iscsi_context *a1 = h_login_clear(&daemon_, 1, INI_A, 0x11);
	struct iscsi_context *b = h_login_clear(&daemon_, 1, INI_B, 0x2b);
	reg(a0, 0xa1);
	reg(b, 0xb1);
	reg(a1, 0xa2);
	reserve(a0, 0xa1, T_WE_RO);
	struct prk_full_desc d[8];
	uint32_t gen;
	assert_int_equal(full_status(b, d, &gen), 3);
	assert_int_equal(gen, 3);
	assert_int_equal(generation(b), 3);
	/* Registration order; TransportIDs of format 01b with name and ISID. */
	assert_desc(&d[0], 0xa1, INI_A, ISID(0x11), 1, true);
	assert_int_equal(d[0].type, T_WE_RO);
	assert_int_equal(d[0].scope, 0);
	assert_desc(&d[1], 0xb1, INI_B, ISID(0x2b), 2, false);
	assert_desc(&d[2], 0xa2, INI_A, ISID(0x11), 2, false);

	/* A change of type by preempting itself moves nothing: R_HOLDER and
	 * the TYPE of the holder's descriptor follow. The other registrants,
	 * A's own other nexus included, hear of the new type (2A/04). */
	assert_int_equal(h_prout(a0, SCSI_PERSISTENT_RESERVE_PREEMPT, T_WE, 0xa1, 0xa1, 0, 0),
	                 SCSI_STATUS_GOOD);
	h_assert_sense(h_tur(a1, 0), SCSI_SENSE_UNIT_ATTENTION, ASCQ_RESERVATIONS_RELEASED);
	h_assert_sense(h_tur(b, 0), SCSI_SENSE_UNIT_ATTENTION, ASCQ_RESERVATIONS_RELEASED);
	assert_int_equal(h_tur(a0, 0), SCSI_STATUS_GOOD);
	assert_int_equal(full_status(a1, d, &gen), 3);
	assert_int_equal(gen, 4);
	assert_desc(&d[0], 0xa1, INI_A, ISID(0x11), 1, true);
	assert_int_equal(d[0].type, T_WE);
	assert_false(d[1].r_holder);
	assert_false(d[2].r_holder);
	h_logout(a0);
	h_logout(a1);
	h_logout(b);
}

/* ---- SPEC_I_PT ---- */

static char cli_out[65536], cli_err[4096];

/* `prkit target --json pr H_TARGET 0`, parsed; asserts "ok": true. */
static json_object *cli_pr(void)
{
	const char *args[] = {"--json", "pr", H_TARGET, "0", NULL};
	json_object *o = h_cli_json(&daemon_, args);
	assert_true(json_object_get_boolean(h_member(o, "ok")));
	return o;
}

/* The registration of initiator (and isid, "any", or NULL for any) in a
 * `pr` answer, or NULL. */
static json_object *cli_reg(json_object *o, const char *initiator, const char *isid)
{
	json_object *regs = h_member(o, "registrations");
	for (size_t i = 0; i < json_object_array_length(regs); i++) {
		json_object *r = json_object_array_get_idx(regs, i);
		if (strcmp(json_object_get_string(h_member(r, "initiator")), initiator) == 0 &&
		    (!isid || strcmp(json_object_get_string(h_member(r, "isid")), isid) == 0))
			return r;
	}
	return NULL;
}

/* A registers itself, B's initiator port (format 01b) and C's initiator
 * device (format 00b) on the target port that receives the command. */
static void test_spec_i_pt_registers_others_before_they_log_in(void **state)
{
	(void)state;
	struct iscsi_context *a = h_login_clear(&daemon_, 0, INI_A, 0x11);
	struct prk_tid tids[2] = {port_tid(INI_B, ISID(0x22))};
	tids[1].format = PRK_TID_FMT_DEVICE;
	snprintf(tids[1].name, sizeof(tids[1].name), "%s", INI_C);
	uint8_t p[1024];
	size_t n = prk_prout_params_encode_basic(0, 0xa5, false, false, tids, 2, p, sizeof(p));
	assert_true(n > PRK_PROUT_SPEC_I_PT_HDR_LEN && n <= sizeof(p));
	assert_int_equal(
	    h_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, p, (uint32_t)n, &h_sense),
	    SCSI_STATUS_GOOD);

	uint64_t keys[16];
	uint32_t gen;
	assert_int_equal(read_keys(a, keys, &gen), 3);
	assert_int_equal(gen, 1); /* once, however many registrations */
	for (int i = 0; i < 3; i++)
		assert_int_equal(keys[i], 0xa5);
	struct prk_full_desc d[8];
	assert_int_equal(full_status(a, d, NULL), 3);
	assert_desc(&d[0], 0xa5, INI_A, ISID(0x11), 1, false);
	assert_desc(&d[1], 0xa5, INI_B, ISID(0x22), 1, false);
	assert_int_equal(d[2].key, 0xa5);
	assert_int_equal(d[2].tid.format, PRK_TID_FMT_DEVICE);
	assert_string_equal(d[2].tid.name, INI_C);
	assert_int_equal(d[2].rtpi, 1);

	/* The admin view: B and C are registered but not logged in. */
	json_object *o = cli_pr();
	assert_false(json_object_get_boolean(h_member(cli_reg(o, INI_B, NULL), "logged_in")));
	assert_false(json_object_get_boolean(h_member(cli_reg(o, INI_C, "any"), "logged_in")));
	assert_true(json_object_get_boolean(h_member(cli_reg(o, INI_A, NULL), "logged_in")));
	json_object_put(o);

	/* B logs in through portal 0 with that ISID: it is registered, so a
	 * REGISTER with the key A gave it changes its key (an unregistered
	 * nexus would get RESERVATION CONFLICT). */
	struct iscsi_context *b0 = h_login_clear(&daemon_, 0, INI_B, 0x22);
	assert_int_equal(h_prout(b0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0xa5, 0xb6, 0, 0),
	                 SCSI_STATUS_GOOD);
	/* The same initiator port through portal 1 is another I_T nexus,
	 * which SPEC_I_PT did not register. */
	struct iscsi_context *b1 = h_login_clear(&daemon_, 1, INI_B, 0x22);
	assert_int_equal(h_prout(b1, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0xa5, 0xb7, 0, 0),
	                 SCSI_STATUS_RESERVATION_CONFLICT);
	/* C's registration covers every ISID of C on portal 0. */
	struct iscsi_context *c = h_login_clear(&daemon_, 0, INI_C, 0x77);
	assert_int_equal(h_prout(c, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0xa5, 0xc6, 0, 0),
	                 SCSI_STATUS_GOOD);

	assert_int_equal(read_keys(a, keys, &gen), 3);
	assert_int_equal(keys[0], 0xa5);
	assert_int_equal(keys[1], 0xb6);
	assert_int_equal(keys[2], 0xc6);
	assert_int_equal(gen, 3);
	o = cli_pr();
	assert_true(json_object_get_boolean(h_member(cli_reg(o, INI_B, NULL), "logged_in")));
	assert_true(json_object_get_boolean(h_member(cli_reg(o, INI_C, "any"), "logged_in")));
	json_object_put(o);
	h_logout(a);
	h_logout(b0);
	h_logout(b1);
	h_logout(c);
}

/* ---- ALL_TG_PT ---- */

static void test_all_tg_pt_registers_every_target_port(void **state)
{
	(void)state;
	struct iscsi_context *a0 = h_login_clear(&daemon_, 0, INI_A, 0x11);
	assert_int_equal(
	    h_prout(a0, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, 0xa7, 1, 0),
	    SCSI_STATUS_GOOD);
	uint64_t keys[16];
	uint32_t gen;
	assert_int_equal(read_keys(a0, keys, &gen), 1); /* one registration, one key */
	assert_int_equal(keys[0], 0xa7);
	assert_int_equal(gen, 1);
	struct prk_full_desc d[8];
	assert_int_equal(full_status(a0, d, NULL), 1);
	assert_int_equal(d[0].key, 0xa7);
	assert_true(d[0].all_tg_pt);
	assert_string_equal(d[0].tid.name, INI_A);
	assert_int_equal(d[0].tid.isid, ISID(0x11));

	/* B takes WE-RO through portal 1; A's initiator port logs in there
	 * and, registered through ALL_TG_PT, may write. C may not. */
	struct iscsi_context *b = h_login_clear(&daemon_, 1, INI_B, 0x22);
	reg(b, 0xb7);
	reserve(b, 0xb7, T_WE_RO);
	struct iscsi_context *a1 = h_login_clear(&daemon_, 1, INI_A, 0x11);
	struct iscsi_context *c = h_login_clear(&daemon_, 1, INI_C, 0x33);
	assert_int_equal(write_block(a1, 3, 0xa7), SCSI_STATUS_GOOD);
	assert_int_equal(write_block(c, 3, 0xc7), SCSI_STATUS_RESERVATION_CONFLICT);
	assert_int_equal(read_keys(a1, keys, &gen), 2);
	assert_int_equal(keys[0], 0xa7);
	assert_int_equal(keys[1], 0xb7);
	/* A REGISTER through portal 1 changes the key of that one
	 * registration: still two keys. */
	assert_int_equal(h_prout(a1, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0xa7, 0xa8, 0, 0),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(read_keys(a0, keys, &gen), 2);
	assert_int_equal(keys[0], 0xa8);
	assert_int_equal(keys[1], 0xb7);
	assert_int_equal(write_block(a0, 4, 0xa8), SCSI_STATUS_GOOD);
	h_logout(a0);
	h_logout(a1);
	h_logout(b);
	h_logout(c);
}

/* ---- RELEASE with the wrong type ---- */

static void test_release_with_wrong_type(void **state)
{
	(void)state;
	struct iscsi_context *a = h_login_clear(&daemon_, 0, INI_A, 0x11);
	reg(a, 0xa1);
	reserve(a, 0xa1, T_WE_RO);
	h_assert_sense(h_prout(a, SCSI_PERSISTENT_RESERVE_RELEASE, T_WE, 0xa1, 0, 0, 0),
	               SCSI_SENSE_ILLEGAL_REQUEST, ASCQ_INVALID_RELEASE);
	struct prk_prin_resv r = read_resv(a);
	assert_true(r.present);
	assert_int_equal(r.type, T_WE_RO);
	assert_int_equal(r.key, 0xa1);
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_RELEASE, T_WE_RO, 0xa1, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	assert_false(read_resv(a).present);
	h_logout(a);
}

/* ---- PREEMPT with SERVICE ACTION RESERVATION KEY 0 ---- */

static void test_preempt_key_zero_without_all_registrants(void **state)
{
	(void)state;
	struct iscsi_context *a = h_login_clear(&daemon_, 0, INI_A, 0x11);
	struct iscsi_context *b = h_login_clear(&daemon_, 1, INI_B, 0x22);
	reg(a, 0xa9);
	reg(b, 0xb9);
	uint32_t gen0 = generation(a);
	/* No reservation, then a Write Exclusive one: both 26/00 at byte 8
	 * of the parameter list, and nothing changes. */
	for (int i = 0; i < 2; i++) {
		if (i == 1)
			reserve(a, 0xa9, T_WE);
		h_assert_sense(h_prout(a, SCSI_PERSISTENT_RESERVE_PREEMPT, T_WE, 0xa9, 0, 0, 0),
		               SCSI_SENSE_ILLEGAL_REQUEST, ASCQ_INVALID_FIELD_IN_PARAM);
		h_assert_field(false, 8);
		uint64_t keys[16];
		uint32_t gen;
		assert_int_equal(read_keys(a, keys, &gen), 2);
		assert_int_equal(gen, gen0);
	}
	assert_int_equal(h_tur(b, 0), SCSI_STATUS_GOOD);
	/* Under an all-registrants reservation key 0 preempts everyone else. */
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_RELEASE, T_WE, 0xa9, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	reserve(a, 0xa9, T_WE_AR);
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_PREEMPT, T_WE_AR, 0xa9, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	uint64_t keys[16];
	uint32_t gen;
	assert_int_equal(read_keys(a, keys, &gen), 1);
	assert_int_equal(keys[0], 0xa9);
	assert_int_equal(gen, gen0 + 1);
	h_assert_sense(h_tur(b, 0), SCSI_SENSE_UNIT_ATTENTION, ASCQ_REGISTRATIONS_PREEMPTED);
	h_logout(a);
	h_logout(b);
}

/* ---- unit attentions across portals ---- */

static void test_clear_ua_reaches_other_portal(void **state)
{
	(void)state;
	struct iscsi_context *a = h_login_clear(&daemon_, 0, INI_A, 0x11);
	struct iscsi_context *b = h_login_clear(&daemon_, 1, INI_B, 0x22);
	struct iscsi_context *c = h_login_clear(&daemon_, 1, INI_C, 0x33); /* not registered */
	reg(a, 0xaa);
	reg(b, 0xba);
	reserve(a, 0xaa, T_WE_RO);
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_CLEAR, 0, 0xaa, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	h_assert_sense(h_tur(b, 0), SCSI_SENSE_UNIT_ATTENTION, ASCQ_RESERVATIONS_PREEMPTED);
	assert_int_equal(h_tur(b, 0), SCSI_STATUS_GOOD);
	assert_int_equal(h_tur(a, 0), SCSI_STATUS_GOOD); /* not the sender */
	assert_int_equal(h_tur(c, 0), SCSI_STATUS_GOOD); /* not a registrant */
	uint64_t keys[16];
	assert_int_equal(read_keys(b, keys, NULL), 0);
	assert_false(read_resv(b).present);
	/* B writes again (nothing is reserved) */
	assert_int_equal(write_block(b, 1, 0xba), SCSI_STATUS_GOOD);
	h_logout(a);
	h_logout(b);
	h_logout(c);
}

/* A registrant that has not logged in yet (registered by SPEC_I_PT) is
 * told of the CLEAR at its first login, after the power-on condition. */
static void test_clear_ua_reaches_registrant_logging_in_later(void **state)
{
	(void)state;
	struct iscsi_context *a = h_login_clear(&daemon_, 0, INI_A, 0x11);
	struct prk_tid tid = port_tid(INI_B, ISID(0x22));
	uint8_t p[256];
	size_t n = prk_prout_params_encode_basic(0, 0xa5, false, false, &tid, 1, p, sizeof(p));
	assert_int_equal(
	    h_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, p, (uint32_t)n, &h_sense),
	    SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_CLEAR, 0, 0xa5, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	struct iscsi_context *b = h_login_raw(&daemon_, 0, INI_B, 0x22);
	h_assert_sense(h_tur(b, 0), SCSI_SENSE_UNIT_ATTENTION, 0x2900);
	h_assert_sense(h_tur(b, 0), SCSI_SENSE_UNIT_ATTENTION, ASCQ_RESERVATIONS_PREEMPTED);
	assert_int_equal(h_tur(b, 0), SCSI_STATUS_GOOD);
	/* Another ISID of B was never registered: only 29/00. */
	struct iscsi_context *b2 = h_login_raw(&daemon_, 0, INI_B, 0x23);
	h_assert_sense(h_tur(b2, 0), SCSI_SENSE_UNIT_ATTENTION, 0x2900);
	assert_int_equal(h_tur(b2, 0), SCSI_STATUS_GOOD);
	h_logout(a);
	h_logout(b);
	h_logout(b2);
}

/* ---- prkit target pr ---- */

static void test_cli_pr_shows_state(void **state)
{
	(void)state;
	struct iscsi_context *a = h_login_clear(&daemon_, 0, INI_A, 0x11);
	struct iscsi_context *b = h_login_clear(&daemon_, 1, INI_B, 0x22);
	reg(a, 0xac);
	reg(b, 0xbc);
	reserve(a, 0xac, T_WE_RO);
	h_logout(b); /* B's registration outlives its session */

	json_object *o = cli_pr();
	assert_int_equal(json_object_get_int64(h_member(o, "generation")), 2);
	assert_false(json_object_get_boolean(h_member(o, "aptpl")));
	assert_false(json_object_get_boolean(h_member(o, "lost")));
	json_object *r = h_member(o, "reservation");
	assert_int_equal(json_object_get_int(h_member(r, "type_code")), T_WE_RO);
	assert_int_equal(json_object_get_int(h_member(r, "scope")), 0);
	assert_int_equal(json_object_get_int(h_member(r, "holder")), 0);
	json_object *regs = h_member(o, "registrations");
	assert_int_equal(json_object_array_length(regs), 2);
	json_object *ra = json_object_array_get_idx(regs, 0);
	assert_string_equal(json_object_get_string(h_member(ra, "key")), "0x00000000000000ac");
	assert_string_equal(json_object_get_string(h_member(ra, "initiator")), INI_A);
	assert_string_equal(json_object_get_string(h_member(ra, "isid")), "0x801234560011");
	assert_int_equal(json_object_get_int(h_member(ra, "rtpi")), 1);
	assert_false(json_object_get_boolean(h_member(ra, "all_tg_pt")));
	assert_true(json_object_get_boolean(h_member(ra, "holder")));
	assert_true(json_object_get_boolean(h_member(ra, "logged_in")));
	json_object *rb = json_object_array_get_idx(regs, 1);
	assert_string_equal(json_object_get_string(h_member(rb, "key")), "0x00000000000000bc");
	assert_string_equal(json_object_get_string(h_member(rb, "initiator")), INI_B);
	assert_string_equal(json_object_get_string(h_member(rb, "isid")), "0x801234560022");
	assert_int_equal(json_object_get_int(h_member(rb, "rtpi")), 2);
	assert_false(json_object_get_boolean(h_member(rb, "holder")));
	assert_false(json_object_get_boolean(h_member(rb, "logged_in")));
	json_object_put(o);

	/* B back, but through the other portal: that nexus is not the
	 * registered one, so the registration stays "not logged in". */
	struct iscsi_context *b0 = h_login(&daemon_, 0, INI_B, 0x22);
	assert_non_null(b0);
	o = cli_pr();
	assert_false(json_object_get_boolean(h_member(cli_reg(o, INI_B, NULL), "logged_in")));
	json_object_put(o);
	struct iscsi_context *b1 = h_login(&daemon_, 1, INI_B, 0x22);
	assert_non_null(b1);
	o = cli_pr();
	assert_true(json_object_get_boolean(h_member(cli_reg(o, INI_B, NULL), "logged_in")));
	json_object_put(o);
	/* A leaves: its registration and reservation stay. */
	h_logout(a);
	o = cli_pr();
	ra = cli_reg(o, INI_A, NULL);
	assert_false(json_object_get_boolean(h_member(ra, "logged_in")));
	assert_true(json_object_get_boolean(h_member(ra, "holder")));
	json_object_put(o);

	/* The text form says the same. */
	const char *args[] = {"pr", H_TARGET, "0", NULL};
	assert_int_equal(h_cli(&daemon_, cli_out, sizeof(cli_out), cli_err, sizeof(cli_err), args),
	                 0);
	assert_non_null(strstr(cli_out, "PRgeneration 0x2"));
	assert_non_null(strstr(cli_out, "registrations: 2"));
	assert_non_null(strstr(cli_out, "key 0x00000000000000ac  " INI_A
	                                " isid 0x801234560011 rtpi 1  HOLDER  not logged in"));
	assert_non_null(strstr(cli_out, "key 0x00000000000000bc  " INI_B
	                                " isid 0x801234560022 rtpi 2  logged in"));
	h_logout(b0);
	h_logout(b1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_register_and_move_unreg_to_other_portal),
	    T(test_register_and_move_to_registered_destination),
	    T(test_register_and_move_name_in_capitals),
	    T(test_preempt_and_abort_victim_sees_ua_then_conflict),
	    T(test_preempt_and_abort_all_tg_pt_victim),
	    T(test_replace_lost_without_lost_state),
	    T(test_read_full_status_two_portals),
	    T(test_spec_i_pt_registers_others_before_they_log_in),
	    T(test_all_tg_pt_registers_every_target_port),
	    T(test_release_with_wrong_type),
	    T(test_preempt_key_zero_without_all_registrants),
	    T(test_clear_ua_reaches_other_portal),
	    T(test_clear_ua_reaches_registrant_logging_in_later),
	    T(test_cli_pr_shows_state),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
