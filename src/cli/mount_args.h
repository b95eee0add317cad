/* `prkit mount`: the command line (pure apart from getopt_long's global
 * state, which the parser resets itself; it never prints). The options
 * are kept apart from the configuration so that, with -c FILE, they are
 * applied over what the file says (prk_mount_args_apply). */
#ifndef PRKIT_CLI_MOUNT_ARGS_H
#define PRKIT_CLI_MOUNT_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mount.h"

enum prk_mount_cmd { PRK_MOUNT_RUN = 0, PRK_MOUNT_STATUS };

struct prk_mount_args {
	enum prk_mount_cmd cmd;
	bool help;
	const char *config; /* -c FILE */
	const char *mountpoint;
	const char *urls[PRK_MPDEV_MAX_PATHS];
	size_t n_urls;
	/* Each option given, and its value. */
	bool key_set, mode_set, name_set, type_set, aptpl, discover, initiator_set, state_dir_set,
	    ctl_set, no_ctl, allow_other, open_timeout_set, io_timeout_set, no_path_timeout_set,
	    fenced_hold_set, log_set;
	uint64_t key;
	enum prk_open_mode mode;
	const char *name;
	uint8_t type;
	const char *initiator, *state_dir, *ctl;
	unsigned open_timeout_ms, io_timeout_ms, no_path_timeout_ms, fenced_hold_ms;
	int log_level;
	bool json; /* status --json */
};

/* Parses argv (argv[0] is "mount"). 0, or -1 with a one-line message
 * naming the option and the value in err. */
int prk_mount_args_parse(int argc, char **argv, struct prk_mount_args *a, char *err, size_t errlen);
/* Puts the options into c: without -c, the one device (name "lu" unless
 * --name) from the URLs; with -c (c holds the file), the options replace
 * the file's values (top-level ones, and the per-device ones in every
 * device). 0, or -1 with err. prk_mnt_config_check comes after. */
int prk_mount_args_apply(const struct prk_mount_args *a, struct prk_mnt_config *c, char *err,
                         size_t errlen);
void prk_mount_usage(FILE *f);

#endif
