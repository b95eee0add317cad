/* libFuzzer target: prk_cdb_data_out_len, which the iSCSI transport runs on
 * every SCSI Command PDU's CDB (untrusted bytes) to size the write buffer.
 * Input: 4 bytes of logical block size selector, then the CDB (any length).
 * Checks: no crash or sanitizer report; a CDB the table does not know
 * reports 0 bytes; a known length is at most what the largest CDB field can
 * ask for (2^32 - 1 blocks, twice for COMPARE AND WRITE) times the block
 * size, or a 32-bit byte count; the answer does not depend on bytes past
 * the CDB's own length. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "prkit/scsi_xfer.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t sizes[] = {512, 520, 4096, 1u << 20};
	if (size < 1)
		return 0;
	uint32_t bs = sizes[data[0] & 3];
	const uint8_t *cdb = data + 1;
	size_t len = size - 1;
	uint64_t n = 12345;
	enum prk_xfer_kind k = prk_cdb_data_out_len(cdb, len, bs, &n);
	CHECK(k == PRK_XFER_KNOWN || k == PRK_XFER_UNKNOWN);
	if (k == PRK_XFER_UNKNOWN) {
		CHECK(n == 0);
		return 0;
	}
	uint64_t max_blocks = 2 * (uint64_t)UINT32_MAX * bs;
	CHECK(n <= max_blocks || n <= UINT32_MAX);
	/* Appending bytes never changes a known answer: it came from the
	 * CDB's own fields. */
	uint8_t longer[300];
	if (len + 16 <= sizeof(longer)) {
		memcpy(longer, cdb, len);
		memset(longer + len, 0xa5, 16);
		uint64_t m = 0;
		CHECK(prk_cdb_data_out_len(longer, len + 16, bs, &m) == PRK_XFER_KNOWN);
		CHECK(m == n);
	}
	return 0;
}
