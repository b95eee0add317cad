/* `prkit persist` (sg_persist's vocabulary over iSCSI; docs/persist.md). */
#ifndef PRKIT_CLI_PERSIST_H
#define PRKIT_CLI_PERSIST_H

/* argv[0] is "persist". Returns the exit status (sg3_utils' values). */
int prk_cli_persist(int argc, char **argv);

#endif
