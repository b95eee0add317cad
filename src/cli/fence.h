/* `prkit fence`, installed for Pacemaker as fence_prkit (docs/fence.md). */
#ifndef PRKIT_CLI_FENCE_H
#define PRKIT_CLI_FENCE_H

/* argv[0] is "fence". Returns the fence-agents exit status. */
int prk_cli_fence(int argc, char **argv);

#endif
