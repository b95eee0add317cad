/* `prkit copy`: what COPY ABORTED sense data says about where a copy
 * stopped. Pure. */
#ifndef PRKIT_CLI_COPY_SENSE_H
#define PRKIT_CLI_COPY_SENSE_H

#include <stddef.h>
#include <stdint.h>

/* The SEGMENT NUMBER of COPY ABORTED sense data: the last two bytes of the
 * COMMAND-SPECIFIC INFORMATION (fixed format: bytes 10..11; descriptor
 * format: the command-specific information descriptor, 01h). 0 with *seg,
 * or -1 when the sense is not COPY ABORTED, is too short or has no such
 * field. */
int prk_copy_abort_segment(const uint8_t *sense, size_t len, uint16_t *seg);

#endif
