/* Helpers shared by the LU tests (tests/unit/lu/test_*.c): a LU over a RAM
 * backstore, a cast of I_T nexuses, a synchronous command runner that
 * checks the completion contract (done() exactly once, nothing in flight
 * afterwards), and sense assertions.
 *
 * Include <stdarg.h>, <stddef.h>, <setjmp.h>, <stdint.h> and <cmocka.h>
 * before this header. */
#ifndef PRKIT_TESTS_LU_TEST_UTIL_H
#define PRKIT_TESTS_LU_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backstore.h"
#include "lu.h"

#define LT_NAME_A "iqn.2001-04.com.example:node-a"
#define LT_NAME_B "iqn.2001-04.com.example:node-b"
#define LT_NAME_C "iqn.2001-04.com.example:node-c"
#define LT_TARGET "iqn.2024-01.org.prkit:target0"
#define LT_BLOCKS 8192 /* 4 MiB of 512-byte blocks */

struct lt_ctx {
	struct prk_bs *bs;
	struct prk_lu *lu;
	struct prk_lu_config cfg;
	struct prk_nexus a, b, c;
	struct prk_lu_port port;
};

struct lt_res {
	uint8_t status;
	uint8_t sense_raw[PRK_LU_SENSE_MAX];
	uint8_t sense_len;
	struct prk_sense sense; /* decoded, when sense_len */
	uint8_t *data;          /* data-in, owned (free with lt_res_free) */
	uint32_t len;
	uint32_t spdtl;
};

/* Setups: a thick 512-byte LU, a thin one, a readonly one, a 4096-byte one.
 * Nexuses a and b are logged in and their power-on UA consumed; c is not
 * logged in. */
int lt_setup(void **state);
int lt_setup_thin(void **state);
int lt_setup_ro(void **state);
int lt_setup_4k(void **state);
int lt_teardown(void **state);
/* Builds the context from cfg (num_blocks/block_size must be set). */
struct lt_ctx *lt_new(const struct prk_lu_config *cfg);
void lt_free(struct lt_ctx *t);
void lt_login(struct lt_ctx *t, const struct prk_nexus *nx);

/* Runs one command to completion. edtl = data_out_len for writes; for
 * reads the caller passes the EDTL (dir_read set when edtl > 0 and no
 * data-out). */
struct lt_res lt_run(struct lt_ctx *t, const struct prk_nexus *nx, const uint8_t *cdb,
                     size_t cdb_len, const void *data_out, uint32_t data_out_len, uint32_t edtl);
void lt_res_free(struct lt_res *r);

/* Convenience wrappers. */
struct lt_res lt_in(struct lt_ctx *t, const struct prk_nexus *nx, const uint8_t *cdb,
                    size_t cdb_len, uint32_t edtl);
struct lt_res lt_out(struct lt_ctx *t, const struct prk_nexus *nx, const uint8_t *cdb,
                     size_t cdb_len, const void *data, uint32_t len);
/* Plain medium access with READ(16)/WRITE(16). */
void lt_write_blocks(struct lt_ctx *t, uint64_t lba, uint32_t n, const uint8_t *data);
void lt_read_blocks(struct lt_ctx *t, uint64_t lba, uint32_t n, uint8_t *out);
/* Fills buf with a pattern derived from seed. */
void lt_pattern(uint8_t *buf, size_t n, unsigned seed);

void lt_put16(uint8_t *p, uint16_t v);
void lt_put32(uint8_t *p, uint32_t v);
void lt_put64(uint8_t *p, uint64_t v);
uint16_t lt_get16(const uint8_t *p);
uint32_t lt_get32(const uint8_t *p);
uint64_t lt_get64(const uint8_t *p);

/* CDB builders. */
void lt_cdb10(uint8_t *c, uint8_t op, uint8_t flags, uint32_t lba, uint16_t len);
void lt_cdb16(uint8_t *c, uint8_t op, uint8_t flags, uint64_t lba, uint32_t len);

/* Assertions (report the caller's line). */
#define lt_assert_good(r) lt_assert_good_at((r), __FILE__, __LINE__)
#define lt_assert_sense(r, key, asc) lt_assert_sense_at((r), (key), (asc), __FILE__, __LINE__)
/* ILLEGAL REQUEST with a field pointer: in_cdb, byte, bit (-1: no BPV). */
#define lt_assert_field(r, asc, in_cdb, byte, bit)                                                 \
	lt_assert_field_at((r), (asc), (in_cdb), (byte), (bit), __FILE__, __LINE__)
void lt_assert_good_at(const struct lt_res *r, const char *file, int line);
void lt_assert_sense_at(const struct lt_res *r, uint8_t key, uint16_t asc, const char *file,
                        int line);
void lt_assert_field_at(const struct lt_res *r, uint16_t asc, bool in_cdb, uint16_t byte, int bit,
                        const char *file, int line);

#endif
