/* libFuzzer target: the prkitd configuration parser. Any input must give
 * either a valid configuration or an error message naming a field; never a
 * crash, a leak, or an empty message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	struct prk_cfg cfg;
	char err[512] = "";
	if (prk_cfg_parse(text, &cfg, err, sizeof(err)) == 0) {
		if (cfg.n_portals == 0)
			__builtin_trap();
		prk_cfg_free(&cfg);
	} else if (!err[0]) {
		__builtin_trap();
	}
	free(text);
	return 0;
}
