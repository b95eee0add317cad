/* How many bytes of data-out a CDB calls for: the SCSI-protocol data
 * transfer length (SAM-5 "SPDTL") of the commands that send data to the
 * device server, from the CDB alone and the logical block size.
 *
 * The transport sizes a command's write buffer from this, never from the
 * Expected Data Transfer Length the initiator claims (which may be 4 GiB
 * for a one-block WRITE). Pure code: no I/O, no allocation. */
#ifndef PRKIT_SCSI_XFER_H
#define PRKIT_SCSI_XFER_H

#include <stddef.h>
#include <stdint.h>

enum prk_xfer_kind {
	PRK_XFER_KNOWN = 0, /* *bytes is the command's data-out length (0: none) */
	PRK_XFER_UNKNOWN,   /* an operation code this table does not describe */
};

/* The data-out length of the CDB cdb[0..len) for logical blocks of
 * block_size bytes, in *bytes (64 bits: WRITE(16) may call for 2^32 blocks
 * of 4 KiB). A CDB too short for its own fields is PRK_XFER_UNKNOWN. */
enum prk_xfer_kind prk_cdb_data_out_len(const uint8_t *cdb, size_t len, uint32_t block_size,
                                        uint64_t *bytes);

#endif
