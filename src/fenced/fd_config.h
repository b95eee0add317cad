/* prkit fenced: the configuration file (JSON, json-c), docs/fenced.md
 * "Configuration". Every error names the member and the value. */
#ifndef PRKIT_FENCED_FD_CONFIG_H
#define PRKIT_FENCED_FD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fence_opts.h" /* PRK_FENCE_MAX_DEVICES, struct prk_fence_device, sizes */

#define PRK_FD_MAX_COORD 7

struct prk_fd_config {
	char cluster_name[64 + 1]; /* "cluster_name", default "prkit" */
	bool cluster_key;          /* "key_mode": "node" (default) | "cluster" */
	/* "devices": array of strings, each one LU as comma-separated
	 * iscsi:// URLs of its paths (the fence agent's syntax), 1..16; or
	 * "discover": "iscsi://host[:port]" (every LU the portal's
	 * SendTargets lists, grouped by NAA; resolved at start). */
	struct prk_fence_device devices[PRK_FENCE_MAX_DEVICES];
	size_t n_devices;
	char discover[256];
	/* "coordinators": the same syntax, an odd number 1..7, none of them
	 * also in devices. Fenced first (the race), and the self-check's
	 * majority is over them when present (else over devices). */
	struct prk_fence_device coordinators[PRK_FD_MAX_COORD];
	size_t n_coordinators;
	char initiator[PRK_FENCE_INITIATOR_MAX +
	               1];                     /* "initiator"; "" = the host library's default */
	char state_dir[PRK_FENCE_DIR_MAX + 1]; /* "state_dir"; "" = the host library's default */
	char group[64];                        /* "group", the CPG group; default "prkit-fenced" */
	char socket[108];                      /* "socket"; "" = <state_dir>/fenced.sock */
	unsigned self_fence_ms;                /* default 2000, 0..600000 */
	unsigned check_ms;                     /* default 1000, 100..1000 */
	unsigned stall_ack_ms;                 /* default 2000, 100..60000 */
	unsigned io_timeout_ms;                /* one storage command; default 5000, 500..120000 */
	unsigned stall_max_ms;                 /* a local stall's lease, renewed; default 10000 */
	char watchdog[256];          /* "watchdog": {"device": path, "timeout_s": n}; "" none */
	unsigned watchdog_timeout_s; /* default 10, 1..600 */
	/* "two_node_ok": must be true to run a two-node cluster (corosync
	 * two_node) without coordinators or a quorum device: refused by
	 * default, because then both halves of a split stay quorate. */
	bool two_node_ok;
};

void prk_fd_config_init(struct prk_fd_config *c);
/* Parses the JSON text (len bytes, any bytes). Unknown members are errors.
 * 0, or -1 with a message naming the member ("devices[2]: path 'x' does
 * not start with iscsi://"). */
int prk_fd_config_parse(const char *text, size_t len, struct prk_fd_config *c, char *err,
                        size_t errlen);
/* Reads and parses a file (at most 1 MiB). 0, or -1 with err naming the
 * file. */
int prk_fd_config_load(const char *path, struct prk_fd_config *c, char *err, size_t errlen);

#endif
