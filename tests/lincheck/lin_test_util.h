/* Helpers for the checker's unit tests: build a history in memory, one
 * command per call, with the src/scsi encoders. Include <stdarg.h>,
 * <stddef.h>, <setjmp.h>, <stdint.h> and <cmocka.h> before this header. */
#ifndef PRKIT_TESTS_LINCHECK_LIN_TEST_UTIL_H
#define PRKIT_TESTS_LINCHECK_LIN_TEST_UTIL_H

#include "lincheck.h"

/* Initiators a, b, c: one I_T nexus each (different names and ISIDs). */
extern struct prk_nexus lt_a, lt_b, lt_c;
#define LT_KA 0xa1ULL
#define LT_KB 0xb2ULL
#define LT_KC 0xc3ULL
/* No answer: pass as ret. */
#define LT_NONE (-1)

void lt_init(void);
/* An answer for lt_out/lt_spc2: status and, for CHECK CONDITION, sense. */
struct lt_ans {
	uint8_t status;
	uint8_t key, asc, ascq;
};
#define LT_GOOD ((struct lt_ans){0, 0, 0, 0})
#define LT_CONFLICT ((struct lt_ans){0x18, 0, 0, 0})

/* PR OUT with a basic 24-byte parameter list, on LU "lu0". Returns the
 * command's index in h. */
size_t lt_out(struct prk_lin_history *h, const struct prk_nexus *nx, uint8_t sa, uint8_t type,
              uint64_t key, uint64_t sa_key, int64_t inv, int64_t ret, struct lt_ans a);
/* PR IN with allocation length 1024 and the recorded data. */
size_t lt_in(struct prk_lin_history *h, const struct prk_nexus *nx, uint8_t sa, int64_t inv,
             int64_t ret, const uint8_t *data, size_t len);
/* READ KEYS that returned generation gen and keys[0..n). */
size_t lt_keys(struct prk_lin_history *h, const struct prk_nexus *nx, int64_t inv, int64_t ret,
               uint32_t gen, const uint64_t *keys, size_t n);
/* The last command added, to adjust a field (lu, not_applied...). */
struct prk_lin_op *lt_last(struct prk_lin_history *h);

/* Runs the checker and asserts the verdict; returns it for more checks. */
struct prk_lin_verdict lt_check_at(const struct prk_lin_history *h, enum prk_lin_result want,
                                   const char *file, int line);
#define lt_check(h, want) lt_check_at((h), (want), __FILE__, __LINE__)

#endif
