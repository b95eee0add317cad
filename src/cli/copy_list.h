/* `prkit copy`: the EXTENDED COPY parameter list of one command of a plan.
 * Pure. */
#ifndef PRKIT_CLI_COPY_LIST_H
#define PRKIT_CLI_COPY_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "copy_plan.h"

/* How a CSCD descriptor (E4h) names a LU. */
struct prk_copy_lu_id {
	uint8_t naa[16]; /* VPD 83h, NAA, 16 bytes */
	uint8_t pdt;
	uint32_t bs;
};

/* Command cmd of p: LIST ID USAGE 00b (held results) with list_id; the
 * CSCDs src and dst (dst NULL: the same LU, one CSCD); a 15h first when
 * move is given (its REGISTER AND MOVE list, move_len bytes, naming the
 * destination CSCD), then the command's 02h segments (DC 0). Returns the
 * list's length (at most cap bytes written), or 0 when it does not
 * encode; *n02 = its 02h descriptors. */
size_t prk_copy_list_build(const struct prk_copy_plan *p, uint64_t cmd, uint8_t list_id,
                           const struct prk_copy_lu_id *src, const struct prk_copy_lu_id *dst,
                           const uint8_t *move, size_t move_len, uint8_t *buf, size_t cap,
                           uint16_t *n02);

#endif
