/* libFuzzer target: the stream framer over arbitrary bytes and rules. The
 * first byte picks the rules; the framer must stay inside the bytes it is
 * given, and its answer must agree with its sizes. */
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct prk_iscsi_frame_rules r = {
	    .login = data[0] & 1,
	    .header_digest = data[0] & 2,
	    .data_digest = data[0] & 4,
	    .max_dlen = data[0] & 8 ? 65536 : 512,
	};
	struct prk_iscsi_frame f;
	enum prk_iscsi_frame_result res = prk_iscsi_frame(data + 1, size - 1, &r, &f);
	switch (res) {
	case PRK_FRAME_NEED_BHS:
		CHECK(size - 1 < 48);
		break;
	case PRK_FRAME_NEED_HEADER:
		CHECK(size - 1 < f.hdr && f.dlen <= r.max_dlen);
		break;
	case PRK_FRAME_NEED_DATA:
		CHECK(size - 1 >= f.hdr && size - 1 < f.total);
		break;
	case PRK_FRAME_COMPLETE:
		CHECK(size - 1 >= f.total);
		break;
	case PRK_FRAME_TOO_LONG:
		CHECK(f.dlen > r.max_dlen);
		break;
	case PRK_FRAME_BAD_BHS:
		CHECK(r.login);
		break;
	case PRK_FRAME_HEADER_DIGEST:
		CHECK(r.header_digest && size - 1 >= f.hdr);
		break;
	}
	if (res != PRK_FRAME_NEED_BHS && res != PRK_FRAME_BAD_BHS) {
		CHECK(f.hdr >= 48 && f.hdr <= 48 + 255 * 4 + 4);
		CHECK(f.total >= f.hdr + f.dlen && f.total <= f.hdr + f.dlen + 3 + 4);
	}
	return 0;
}
