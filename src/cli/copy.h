/* `prkit copy`: EXTENDED COPY between two LUs of a target, the Annex B.3
 * third-party reservation sequence, and the host-copy fallback
 * (docs/copy.md). */
#ifndef PRKIT_CLI_COPY_H
#define PRKIT_CLI_COPY_H

/* argv[0] is "copy". Returns the exit status (sg3_utils' values). */
int prk_cli_copy(int argc, char **argv);

#endif
