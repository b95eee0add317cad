/* `prkit fenced` (docs/fenced.md). */
#ifndef PRKIT_CLI_FENCED_H
#define PRKIT_CLI_FENCED_H

/* argv[0] is "fenced". Returns the exit status. */
int prk_cli_fenced(int argc, char **argv);

#endif
