/* The fence actions that talk to the storage (on, off, status, list,
 * monitor, check), through the host library; docs/fence.md. */
#ifndef PRKIT_FENCE_OPS_H
#define PRKIT_FENCE_OPS_H

#include <stdio.h>

#include "fence_meta.h"
#include "fence_opts.h"

/* Runs o->action with validated options (local_node, initiator and
 * state_dir filled). Returns the fence-agents exit status: 0 success /
 * ON, 1 error (the device and the step that failed are printed to err),
 * 2 status OFF or check failed. */
int prk_fence_run(const struct prk_fence_opts *o, FILE *out, FILE *err);

#endif
