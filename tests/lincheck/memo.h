/* The set of configurations the search has already explored (Lowe's
 * memoization): byte strings, compared whole, so that a hash collision can
 * never hide a configuration that was not explored. Internal to lincheck. */
#ifndef PRKIT_TESTS_LINCHECK_MEMO_H
#define PRKIT_TESTS_LINCHECK_MEMO_H

#include <stddef.h>
#include <stdint.h>

struct prk_lin_memo_ent;

struct prk_lin_memo {
	struct prk_lin_memo_ent **slots; /* open addressing, power-of-two size */
	size_t cap, n;
	size_t bytes; /* memory held, for reports */
};

void prk_lin_memo_init(struct prk_lin_memo *m);
/* 1: key was new and is now in the set; 0: it was there; -1: no memory. */
int prk_lin_memo_insert(struct prk_lin_memo *m, const uint8_t *key, size_t len);
void prk_lin_memo_free(struct prk_lin_memo *m);

#endif
