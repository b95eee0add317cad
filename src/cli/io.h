/* `prkit io`: block I/O through the host library's multipath device, with
 * path events and a final report (docs/io.md). */
#ifndef PRKIT_CLI_IO_H
#define PRKIT_CLI_IO_H

/* argv[0] is "io". Returns the process exit status: 0 ok, 1 usage error,
 * 2 open failed, 3 I/O errors, 4 fenced (RESERVATION CONFLICT), 5 verify
 * mismatch. */
int prk_cli_io(int argc, char **argv);

#endif
