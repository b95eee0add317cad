/* `prkit mount`: parses the command line and the configuration file, then
 * runs the mount (src/mount); `prkit mount status` reads the mount's
 * status file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_member.h"
#include "mnt_status.h"
#include "mount.h"
#include "mount_cli.h"
#include "mount_args.h"

/* The status file is made when it is opened; a few hundred KiB at most
 * (16 devices, 8 paths, 32 events each). */
#define STATUS_MAX (4u << 20)

static int status_main(const struct prk_mount_args *a)
{
	char path[1024], err[1200];
	snprintf(path, sizeof(path), "%s/%s", a->mountpoint, PRK_MNT_STATUS_NAME);
	size_t len;
	char *buf = prk_json_read_file(path, STATUS_MAX, &len, err, sizeof(err));
	if (!buf) {
		fprintf(stderr, "prkit mount: status: %s\n", err);
		return 1;
	}
	int st = 0;
	if (a->json)
		fputs(buf, stdout);
	else if (prk_mnt_status_print(buf, stdout, err, sizeof(err))) {
		fprintf(stderr, "prkit mount: status: %s: %s\n", path, err);
		st = 1;
	}
	free(buf);
	return st;
}

int prk_cli_mount(int argc, char **argv)
{
	struct prk_mount_args a;
	char err[512];
	if (prk_mount_args_parse(argc, argv, &a, err, sizeof(err))) {
		fprintf(stderr, "prkit mount: %s\n(prkit mount --help for the options)\n", err);
		return 2;
	}
	if (a.help) {
		prk_mount_usage(stdout);
		return 0;
	}
	if (a.cmd == PRK_MOUNT_STATUS)
		return status_main(&a);
	struct prk_mnt_config *c = malloc(sizeof(*c));
	if (!c) {
		fprintf(stderr, "prkit mount: out of memory\n");
		return 2;
	}
	prk_mnt_config_init(c);
	int st = 2;
	if (a.config && prk_mnt_config_load(a.config, c, err, sizeof(err))) {
		fprintf(stderr, "prkit mount: %s\n", err); /* err names the file */
		goto out;
	}
	if (prk_mount_args_apply(&a, c, err, sizeof(err)) ||
	    prk_mnt_config_check(c, err, sizeof(err))) {
		fprintf(stderr, "prkit mount: %s\n", err);
		goto out;
	}
	/* The status file and the log name the mountpoint as given; FUSE
	 * and fusermount3 want it absolute. */
	char abs[PATH_MAX];
	errno = 0;
	if (c->mountpoint[0] != '/') {
		if (!realpath(c->mountpoint, abs) || strlen(abs) >= sizeof(c->mountpoint)) {
			fprintf(stderr, "prkit mount: MOUNTPOINT %s: %s\n", c->mountpoint,
			        errno ? strerror(errno) : "path too long");
			goto out;
		}
		memcpy(c->mountpoint, abs, strlen(abs) + 1);
	}
	/* Before any path is tried: a typo fails at once. */
	struct stat sb;
	if (stat(c->mountpoint, &sb) || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "prkit mount: MOUNTPOINT %s: %s\n", c->mountpoint,
		        errno ? strerror(errno) : "not a directory");
		goto out;
	}
	st = prk_mnt_run(c);
out:
	free(c);
	return st;
}
