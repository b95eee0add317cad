/* Helpers shared by the PR engine tests (tests/unit/pr/test_*.c).
 *
 * Every command goes through the public API the way a target would drive it:
 * PR OUT CDBs and parameter lists are built with the src/scsi encoders and
 * handed to prk_pr_out(); PR IN data is parsed with the src/scsi decoders.
 *
 * The assertion macros report the caller's file and line. Include <stdarg.h>,
 * <stddef.h>, <setjmp.h>, <stdint.h> and <cmocka.h> before this header. */
#ifndef PRKIT_TESTS_PR_TEST_UTIL_H
#define PRKIT_TESTS_PR_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prkit/pr.h"

/* ---- The cast of I_T nexuses ----
 * a, b, c, d are four different initiator ports. a_upper is a with its name
 * in upper case (the same I_T nexus: iSCSI names compare case-insensitively).
 * a_isid2 is a's initiator device with another ISID (another initiator
 * port); a_port2 is a's initiator port on target port 2; b_port2, c_port1
 * likewise. */
#define PT_NAME_A "iqn.2001-04.com.example:node-a"
#define PT_NAME_A_UPPER "IQN.2001-04.COM.EXAMPLE:NODE-A"
#define PT_NAME_B "iqn.2001-04.com.example:node-b"
#define PT_NAME_C "iqn.2001-04.com.example:node-c"
#define PT_NAME_D "iqn.2001-04.com.example:node-d"
#define PT_ISID_A 0x400001370001ULL
#define PT_ISID_A2 0x400001370009ULL
#define PT_ISID_B 0x23d000000002ULL
#define PT_ISID_C 0x23d000000003ULL
#define PT_ISID_D 0x80123456789aULL
#define PT_RTPI_1 1
#define PT_RTPI_2 2

#define KEY_A 0xaaaa0000000000a1ULL
#define KEY_B 0xbbbb0000000000b2ULL
#define KEY_C 0xcccc0000000000c3ULL
#define KEY_D 0xdddd0000000000d4ULL
#define KEY_X 0x1234567890abcdefULL /* registered by nobody */

struct pt_ctx {
	struct prk_pr_state *st;
	struct prk_nexus a, b, c, d;
	struct prk_nexus a_upper, a_isid2, a_port2, b_port2, c_port1;
};

/* cmocka group/test setup: a fresh state with the default config, or with
 * max_registrations / the port list below. *state becomes a struct pt_ctx. */
int pt_setup(void **state);
int pt_setup_cfg(void **state, const struct prk_pr_config *cfg);
int pt_teardown(void **state);
/* Setups with a small registration limit (2) and with ports {1, 2}. */
int pt_setup_max2(void **state);
int pt_setup_ports12(void **state);

void pt_nexus(struct prk_nexus *nx, const char *name, uint64_t isid, uint16_t rtpi);

/* TransportIDs: format 01b for nx's initiator port, format 00b for a name. */
void pt_tid_port(struct prk_tid *t, const struct prk_nexus *nx);
void pt_tid_dev(struct prk_tid *t, const char *name);

/* ---- PR OUT ---- */
struct pt_req {
	uint8_t sa;
	uint8_t scope;
	uint8_t type;
	uint64_t key;
	uint64_t sa_key;
	bool all_tg_pt;
	bool aptpl;
	const struct prk_tid *tids; /* SPEC_I_PT list (n_tids > 0 sets SPEC_I_PT) */
	size_t n_tids;
	/* REGISTER AND MOVE */
	bool unreg;
	uint16_t rtpi;
	const struct prk_tid *move_tid;
};

/* Each of these initialises *res (prk_pr_result_init); the caller frees it
 * with prk_pr_result_free. Return value: that of prk_pr_out. */
int pt_out_req(struct prk_pr_state *st, const struct prk_nexus *from, const struct pt_req *rq,
               struct prk_pr_result *res);
/* Basic list, LU scope, no flags. */
int pt_out(struct prk_pr_state *st, const struct prk_nexus *from, uint8_t sa, uint8_t type,
           uint64_t key, uint64_t sa_key, struct prk_pr_result *res);
/* Arbitrary CDB/parameter bytes. */
int pt_out_raw(struct prk_pr_state *st, const struct prk_nexus *from, const uint8_t *cdb,
               const uint8_t *params, size_t params_len, struct prk_pr_result *res);
/* Builds a PR OUT CDB. */
void pt_prout_cdb(uint8_t cdb[10], uint8_t sa, uint8_t scope, uint8_t type, uint32_t param_len);

/* Setup steps that must succeed (GOOD), reported at the caller's line. */
void pt_must_out_at(struct prk_pr_state *st, const struct prk_nexus *from, const struct pt_req *rq,
                    const char *file, int line);
void pt_reg_at(struct prk_pr_state *st, const struct prk_nexus *from, uint64_t key, bool all_tg_pt,
               const char *file, int line);
void pt_resv_at(struct prk_pr_state *st, const struct prk_nexus *from, uint64_t key, uint8_t type,
                const char *file, int line);
#define pt_must_out(st, from, rq) pt_must_out_at((st), (from), (rq), __FILE__, __LINE__)
/* REGISTER (RESERVATION KEY 0, SA key = key) from an unregistered nexus. */
#define pt_reg(st, from, key) pt_reg_at((st), (from), (key), false, __FILE__, __LINE__)
#define pt_reg_atp(st, from, key) pt_reg_at((st), (from), (key), true, __FILE__, __LINE__)
/* RESERVE with LU scope. */
#define pt_resv(st, from, key, type) pt_resv_at((st), (from), (key), (type), __FILE__, __LINE__)

/* ---- PR IN ---- */
/* Runs PR IN (CDB allocation length = cap) into buf; initialises *res. */
size_t pt_in(const struct prk_pr_state *st, const struct prk_nexus *from, uint8_t sa, uint8_t *buf,
             size_t cap, struct prk_pr_result *res);

/* These assert GOOD and a full, well-formed answer. */
size_t pt_read_keys_at(const struct prk_pr_state *st, const struct prk_nexus *from, uint32_t *gen,
                       uint64_t *keys, size_t max, const char *file, int line);
void pt_read_resv_at(const struct prk_pr_state *st, const struct prk_nexus *from,
                     struct prk_prin_resv *out, const char *file, int line);
void pt_read_caps_at(const struct prk_pr_state *st, const struct prk_nexus *from,
                     struct prk_prin_caps *out, const char *file, int line);
size_t pt_read_full_at(const struct prk_pr_state *st, const struct prk_nexus *from, uint32_t *gen,
                       struct prk_full_desc *d, size_t max, const char *file, int line);
#define pt_read_keys(st, from, gen, keys, max)                                                     \
	pt_read_keys_at((st), (from), (gen), (keys), (max), __FILE__, __LINE__)
#define pt_read_resv(st, from, out) pt_read_resv_at((st), (from), (out), __FILE__, __LINE__)
#define pt_read_caps(st, from, out) pt_read_caps_at((st), (from), (out), __FILE__, __LINE__)
#define pt_read_full(st, from, gen, d, max)                                                        \
	pt_read_full_at((st), (from), (gen), (d), (max), __FILE__, __LINE__)

/* How many times READ KEYS lists key. */
size_t pt_key_count(const struct prk_pr_state *st, uint64_t key);

/* ---- Result assertions ---- */
void pt_assert_status_at(const struct prk_pr_result *r, uint8_t status, const char *file, int line);
void pt_assert_check_at(const struct prk_pr_result *r, uint8_t key, uint16_t asc, const char *file,
                        int line);
/* Field pointer: cd = in the CDB; bit = -1 to not check the bit pointer. */
void pt_assert_field_at(const struct prk_pr_result *r, bool cd, uint16_t byte, int bit,
                        const char *file, int line);
#define assert_good(r) pt_assert_status_at((r), PRK_STATUS_GOOD, __FILE__, __LINE__)
#define assert_conflict(r)                                                                         \
	pt_assert_status_at((r), PRK_STATUS_RESERVATION_CONFLICT, __FILE__, __LINE__)
#define assert_check(r, sk, asc) pt_assert_check_at((r), (sk), (asc), __FILE__, __LINE__)
#define assert_illegal(r, asc)                                                                     \
	pt_assert_check_at((r), PRK_SK_ILLEGAL_REQUEST, (asc), __FILE__, __LINE__)
#define assert_field(r, cd, byte, bit)                                                             \
	pt_assert_field_at((r), (cd), (byte), (bit), __FILE__, __LINE__)

/* Unit attentions: does the result establish a UA with this ASC for nx?
 * (A UA whose set contains nx, unless it skips the sender and nx is the
 * sender.) */
bool pt_has_ua(const struct prk_pr_result *r, uint16_t asc, const struct prk_nexus *sender,
               const struct prk_nexus *nx);
/* Any UA at all for nx (any ASC)? */
bool pt_has_any_ua(const struct prk_pr_result *r, const struct prk_nexus *sender,
                   const struct prk_nexus *nx);
bool pt_in_abort(const struct prk_pr_result *r, const struct prk_nexus *nx);
void pt_assert_ua_at(const struct prk_pr_result *r, uint16_t asc, const struct prk_nexus *sender,
                     const struct prk_nexus *nx, bool want, const char *file, int line);
#define assert_ua(r, asc, sender, nx)                                                              \
	pt_assert_ua_at((r), (asc), (sender), (nx), true, __FILE__, __LINE__)
#define assert_no_ua(r, asc, sender, nx)                                                           \
	pt_assert_ua_at((r), (asc), (sender), (nx), false, __FILE__, __LINE__)
#define assert_abort(r, nx)                                                                        \
	_assert_true(pt_in_abort((r), (nx)), "in abort set: " #nx, __FILE__, __LINE__)
#define assert_no_abort(r, nx)                                                                     \
	_assert_true(!pt_in_abort((r), (nx)), "not in abort set: " #nx, __FILE__, __LINE__)

/* ---- State assertions ---- */
void pt_assert_registered_at(const struct prk_pr_state *st, const struct prk_nexus *nx, bool want,
                             const char *file, int line);
#define assert_registered(st, nx) pt_assert_registered_at((st), (nx), true, __FILE__, __LINE__)
#define assert_unregistered(st, nx) pt_assert_registered_at((st), (nx), false, __FILE__, __LINE__)
/* Key of the registration covering nx (asserts there is one). */
uint64_t pt_key_of_at(const struct prk_pr_state *st, const struct prk_nexus *nx, const char *file,
                      int line);
#define pt_key_of(st, nx) pt_key_of_at((st), (nx), __FILE__, __LINE__)
/* Reservation present with this type and LU scope. */
void pt_assert_resv_at(const struct prk_pr_state *st, uint8_t type, const char *file, int line);
#define assert_resv(st, type) pt_assert_resv_at((st), (type), __FILE__, __LINE__)
void pt_assert_no_resv_at(const struct prk_pr_state *st, const char *file, int line);
#define assert_no_resv(st) pt_assert_no_resv_at((st), __FILE__, __LINE__)

/* A one-shot request for pt_out_req. */
#define PT_REQ(...) (&(const struct pt_req){__VA_ARGS__})

#endif
