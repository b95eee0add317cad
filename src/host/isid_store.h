/* The ISIDs of the paths (isid_store.c). Private to src/host. */
#ifndef PRKIT_HOST_ISID_STORE_H
#define PRKIT_HOST_ISID_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "host_base.h"

struct hpath;

/* isid_store.c: the ISID of (initiator, target, portal), kept in the
 * state directory, and a lock held while a process uses it. */
int prk_isid_acquire(struct prk_host *h, struct hpath *p, bool ephemeral_ok,
                     struct prk_host_err *err);
void prk_isid_release(struct hpath *p);
/* The 48-bit ISID libiscsi sends for iscsi_set_isid_random(rnd, qual). */
uint64_t prk_isid_of_random(uint32_t rnd, uint32_t qual);

#endif
