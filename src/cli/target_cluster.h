/* `prkit target cluster` output (target_cluster.c). */
#ifndef PRKIT_CLI_TARGET_CLUSTER_H
#define PRKIT_CLI_TARGET_CLUSTER_H

#include <json-c/json.h>

/* Prints the "cluster" answer of the admin socket as text. */
void prk_cli_print_cluster(json_object *rsp);

#endif
