/* libFuzzer target: the fenced CPG message decoder (bytes from other
 * nodes' daemons). What decodes must be canonical: encoding it gives back
 * the same bytes; what is refused must name a field ("bad ..."). */
#include <stdint.h>
#include <string.h>

#include "fd_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prk_fd_msg m;
	char err[200];
	if (prk_fd_msg_decode(data, size, &m, err, sizeof(err))) {
		if (strncmp(err, "bad ", 4) != 0)
			__builtin_trap();
		return 0;
	}
	uint8_t out[PRK_FD_MSG_MAX];
	int n = prk_fd_msg_encode(&m, out, sizeof(out));
	if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
		__builtin_trap();
	return 0;
}
