/* libFuzzer target: prkit fenced's configuration parser. The file is an
 * operator's, not the network's, but a typo must never crash the daemon:
 * any bytes give either a configuration or a message naming what is
 * wrong, and an accepted configuration keeps the limits the daemon
 * relies on. */
#include <stdint.h>
#include <string.h>

#include "fd_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct prk_fd_config c;
	char err[512];
	err[0] = 0;
	if (prk_fd_config_parse((const char *)data, size, &c, err, sizeof(err))) {
		if (!err[0])
			__builtin_trap();
		return 0;
	}
	if ((c.n_devices == 0) == (c.discover[0] == 0) || c.n_devices > PRK_FENCE_MAX_DEVICES ||
	    c.n_coordinators > PRK_FD_MAX_COORD ||
	    (c.n_coordinators && c.n_coordinators % 2 == 0) || c.check_ms < 100 ||
	    c.check_ms > 1000 || c.io_timeout_ms < 500 || !memchr(c.socket, 0, sizeof(c.socket)) ||
	    !memchr(c.watchdog, 0, sizeof(c.watchdog)) || !c.cluster_name[0] || !c.group[0])
		__builtin_trap();
	for (size_t i = 0; i < c.n_devices; i++)
		if (c.devices[i].n_paths == 0 || c.devices[i].n_paths > PRK_FENCE_MAX_PATHS)
			__builtin_trap();
	return 0;
}
