/* `prkit mount`: the multipath device as a file any program opens
 * (docs/mount.md). */
#ifndef PRKIT_CLI_MOUNT_CLI_H
#define PRKIT_CLI_MOUNT_CLI_H

/* argv[0] is "mount". Returns the exit status: 0 unmounted cleanly, 1 a
 * failure while mounted (status: the status file cannot be read), 2 bad
 * usage or could not start. */
int prk_cli_mount(int argc, char **argv);

#endif
