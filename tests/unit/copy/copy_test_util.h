/* Helpers of the copy manager tests: a few LUs over a test backstore
 * (memory, completing inline or held back until the test drains it, so
 * that both completion orders are exercised), a copy manager over them
 * with a resolve that looks among the LUs marked visible, a command
 * runner that drains, and builders for EXTENDED COPY lists and PR OUT.
 *
 * Include <stdarg.h>, <stddef.h>, <setjmp.h>, <stdint.h> and <cmocka.h>
 * before this header. */
#ifndef PRKIT_TESTS_COPY_TEST_UTIL_H
#define PRKIT_TESTS_COPY_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backstore.h"
#include "cm.h"
#include "lu.h"

#define CT_MAX_LU 4
#define CT_NAME_A "iqn.2001-04.com.example:backup-app"
#define CT_NAME_B "iqn.2001-04.com.example:other-host"
#define CT_TARGET "iqn.2024-01.org.prkit:target0"

struct ct_lu {
	struct prk_bs *bs;
	struct prk_lu *lu;
	uint32_t block_size;
	uint64_t blocks;
	bool visible;  /* resolve finds it */
	bool allow3pr; /* allow_3pr_block */
};

struct ct_env {
	struct ct_lu l[CT_MAX_LU];
	size_t n;
	struct prk_cm *cm;
	struct prk_nexus a, b;
	struct prk_lu_port port;
	unsigned resolves; /* resolve calls */
	unsigned dones;    /* copy_done calls */
	uint8_t last_status;
};

/* The backstores: inline completion (false, the default) or queued until
 * ct_drain. */
void ct_set_async(bool on);
/* Completes up to max queued I/Os in order (0: all, including those the
 * completions queue); returns how many. */
unsigned ct_drain(unsigned max);
unsigned ct_queued(void);
/* The largest number of I/Os queued at once since the last reset. */
unsigned ct_max_queued(bool reset);

/* n LUs with the given block sizes and sizes in blocks; the copy manager
 * with cfg (NULL: defaults with chunk 64 KiB so copies take several
 * chunks). Nexuses a and b are logged in everywhere, their power-on UA
 * consumed. */
struct ct_env *ct_new(size_t n, const uint32_t *bs, const uint64_t *blocks,
                      const struct prk_cm_config *cfg);
void ct_free(struct ct_env *e);

/* A command of its own, for asynchronous tests. */
struct ct_cmd {
	struct prk_lu_cmd cmd;
	int done;
	uint8_t cdb[16];
	uint8_t *out;
};
/* Submits (does not drain). data is copied. */
struct ct_cmd *ct_start(struct ct_env *e, size_t lu, const struct prk_nexus *nx, const uint8_t *cdb,
                        const void *data, uint32_t len, uint32_t edtl);
/* Drains until cmd completed; asserts exactly one completion. */
void ct_wait(struct ct_cmd *c);
void ct_cmd_free(struct ct_cmd *c);

/* Runs one command to completion (drains). Returns the ct_cmd (free it). */
struct ct_cmd *ct_run(struct ct_env *e, size_t lu, const struct prk_nexus *nx, const uint8_t *cdb,
                      const void *data, uint32_t len, uint32_t edtl);

/* Sense helpers on a completed command. */
void ct_assert_good(const struct ct_cmd *c);
void ct_assert_sense(const struct ct_cmd *c, uint8_t key, uint16_t asc);
/* COPY ABORTED with asc, and the segment number in COMMAND-SPECIFIC
 * INFORMATION (fixed format). */
void ct_assert_aborted(const struct ct_cmd *c, uint16_t asc, uint32_t seg);

/* Medium helpers: ct_fill writes as nexus a (inline); ct_read and
 * ct_same look at the backing memory. */
void ct_fill(struct ct_env *e, size_t lu, uint64_t lba, uint32_t n, unsigned seed);
bool ct_same(struct ct_env *e, size_t s, uint64_t slba, size_t d, uint64_t dlba, uint64_t bytes);
void ct_read(struct ct_env *e, size_t lu, uint64_t lba, uint32_t n, uint8_t *out);

/* EXTENDED COPY lists. */
void ct_list_init(struct prk_xcopy_list *l, uint8_t id, uint8_t usage);
/* Adds CSCD of LU lu (PDT pdt, block length field bl); returns its index. */
uint16_t ct_cscd(struct ct_env *e, struct prk_xcopy_list *l, size_t lu, uint8_t pdt, uint32_t bl);
void ct_seg_b2b(struct prk_xcopy_list *l, uint16_t src, uint16_t dst, uint16_t n, uint64_t slba,
                uint64_t dlba, bool dc);
void ct_seg_regkey(struct prk_xcopy_list *l, uint16_t dst, uint64_t key, uint64_t sa_key);
/* 15h moving the reservation from the copy manager (key cm_key) back to
 * nexus nx with key key; buf (>= 300 bytes) holds the list. */
void ct_seg_3pr(struct prk_xcopy_list *l, uint16_t dst, uint64_t cm_key, uint64_t key,
                const struct prk_nexus *nx, uint8_t *buf);
/* Sends it through LU via as nx: returns the running command. */
struct ct_cmd *ct_xcopy_start(struct ct_env *e, size_t via, const struct prk_nexus *nx,
                              const struct prk_xcopy_list *l);
struct ct_cmd *ct_xcopy(struct ct_env *e, size_t via, const struct prk_nexus *nx,
                        const struct prk_xcopy_list *l);
struct ct_cmd *ct_rcr(struct ct_env *e, size_t via, const struct prk_nexus *nx, uint8_t sa,
                      uint8_t id);

/* PR helpers (GOOD asserted). */
void ct_register(struct ct_env *e, size_t lu, const struct prk_nexus *nx, uint64_t key);
void ct_reserve(struct ct_env *e, size_t lu, const struct prk_nexus *nx, uint64_t key,
                uint8_t type);
/* REGISTER AND MOVE to the copy manager's nexus (UNREG set). */
void ct_move_to_cm(struct ct_env *e, size_t lu, const struct prk_nexus *nx, uint64_t key,
                   uint64_t cm_key);
/* The reservation holder's nexus per the engine; false when none. */
bool ct_holder(struct ct_env *e, size_t lu, struct prk_nexus *out, uint64_t *key);

#endif
