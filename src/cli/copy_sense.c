/* `prkit copy`: the segment a COPY ABORTED names (SPC-4 6.4.5.x, and the
 * layout prk_xcopy_abort_encode writes). */
#include "copy_sense.h"

#define SK_COPY_ABORTED 0xa

int prk_copy_abort_segment(const uint8_t *s, size_t len, uint16_t *seg)
{
	if (len < 8)
		return -1;
	uint8_t rc = s[0] & 0x7f;
	if (rc == 0x70 || rc == 0x71) {
		if (len < 12 || (s[2] & 0x0f) != SK_COPY_ABORTED)
			return -1;
		*seg = (uint16_t)(s[10] << 8 | s[11]);
		return 0;
	}
	if (rc != 0x72 && rc != 0x73)
		return -1;
	if ((s[1] & 0x0f) != SK_COPY_ABORTED)
		return -1;
	size_t end = 8 + (size_t)s[7];
	if (end > len)
		end = len;
	for (size_t p = 8; p + 2 <= end; p += 2 + (size_t)s[p + 1]) {
		/* 01h: 2 header bytes, 2 reserved, the 8-byte field */
		if (s[p] == 0x01 && s[p + 1] >= 0x0a && p + 12 <= end) {
			*seg = (uint16_t)(s[p + 10] << 8 | s[p + 11]);
			return 0;
		}
	}
	return -1;
}
