/* libFuzzer target: prkit mount's configuration parser and the check of
 * the whole configuration. Any bytes give either a configuration or a
 * message naming what is wrong; an accepted file keeps the limits the
 * mount relies on (names valid, 1..8 paths, keys non-zero), and the check
 * never crashes on what the parser left. */
#include <stdint.h>
#include <string.h>

#include "mount.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct prk_mnt_config c;
	char err[512];
	err[0] = 0;
	prk_mnt_config_init(&c);
	if (prk_mnt_config_parse((const char *)data, size, &c, err, sizeof(err))) {
		if (!err[0])
			__builtin_trap();
		return 0;
	}
	if (c.n_devs > PRK_MNT_MAX_DEVS || c.log_level < 0 || c.log_level > 2 ||
	    !memchr(c.mountpoint, 0, sizeof(c.mountpoint)) ||
	    !memchr(c.ctl_path, 0, sizeof(c.ctl_path)) ||
	    !memchr(c.initiator, 0, sizeof(c.initiator)))
		__builtin_trap();
	for (size_t i = 0; i < c.n_devs; i++) {
		const struct prk_mnt_dev_config *d = &c.devs[i];
		if (!prk_mnt_name_valid(d->name) || d->n_urls == 0 ||
		    d->n_urls > PRK_MPDEV_MAX_PATHS || !d->key)
			__builtin_trap();
	}
	err[0] = 0;
	if (prk_mnt_config_check(&c, err, sizeof(err)) && !err[0])
		__builtin_trap();
	return 0;
}
