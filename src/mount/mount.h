/* What `prkit mount` (src/cli/mount.c) gets from the mount part: the
 * configuration (mnt_config.c: JSON file and checks) and the run
 * (mnt_daemon.c: the FUSE session on the host library's loop). docs/mount.md
 * is the user guide. Arrows: cli -> mount -> host. */
#ifndef PRKIT_MOUNT_MOUNT_H
#define PRKIT_MOUNT_MOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prkit/host.h"

#define PRK_MNT_MAX_DEVS 16
/* A device's name in the mount: 1..63 of [A-Za-z0-9_-] (no '.': the mode
 * names are NAME.MODE). */
#define PRK_MNT_NAME_MAX 64
/* The status file in the mount's root (JSON, made when it is opened). */
#define PRK_MNT_STATUS_NAME ".prkit-status"

struct prk_mnt_dev_config {
	char name[PRK_MNT_NAME_MAX];
	char urls[PRK_MPDEV_MAX_PATHS][PRK_HOST_URL_MAX];
	size_t n_urls;
	/* Also the other portals SendTargets lists for urls[0]'s target
	 * (prk_host_discover), at start. */
	bool discover;
	uint64_t key;            /* required, nonzero */
	enum prk_open_mode mode; /* what open(2) of the plain name runs */
	uint8_t type;            /* reservation type; 0: 6 (EA-RO) */
	bool aptpl;
	/* 0: the host library's defaults */
	unsigned io_timeout_ms, no_path_timeout_ms, fenced_hold_ms, checker_interval_ms;
	enum prk_selector selector;
};

struct prk_mnt_config {
	char mountpoint[512];
	char initiator[224]; /* "": prk_host_initiator_name's default */
	char state_dir[512]; /* "": the host library's default */
	/* The control socket (host_ctl.h): "" the default
	 * <state dir>/ctl/<pid>.sock; no_ctl: none. */
	char ctl_path[512];
	bool no_ctl;
	bool allow_other;         /* FUSE allow_other: users other than the mounter */
	int log_level;            /* 0 quiet, 1 info (default), 2 debug */
	unsigned open_timeout_ms; /* open(2): how long to wait for paths; 0: 10000 */
	struct prk_mnt_dev_config devs[PRK_MNT_MAX_DEVS];
	size_t n_devs;
};

/* mnt_config.c. Defaults for every field (mode default, log level 1). */
void prk_mnt_config_init(struct prk_mnt_config *c);
/* Parses a configuration file's text into c (which holds the defaults
 * and possibly command-line values the file does not override: see
 * docs/mount.md). 0, or -1 with err naming the member and the value. */
int prk_mnt_config_parse(const char *text, size_t len, struct prk_mnt_config *c, char *err,
                         size_t errlen);
int prk_mnt_config_load(const char *path, struct prk_mnt_config *c, char *err, size_t errlen);
/* The whole configuration is usable: a mountpoint, 1..16 devices with
 * distinct valid names, each with 1..8 iscsi:// URLs (iscsi_url.c) and a
 * nonzero key, a valid type. 0, or -1 with err. */
int prk_mnt_config_check(const struct prk_mnt_config *c, char *err, size_t errlen);
/* A valid device name (see PRK_MNT_NAME_MAX). */
bool prk_mnt_name_valid(const char *name);

/* mnt_daemon.c: mounts, serves until SIGTERM/SIGINT or an unmount
 * (fusermount3 -u), closes every open device as its last close would
 * (retain keeps the reservation) and unmounts. Exit status: 0 clean, 1 a
 * failure while running, 2 could not start (message on stderr). */
int prk_mnt_run(const struct prk_mnt_config *c);

#endif
