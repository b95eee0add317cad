/* fence_prkit's metadata: the XML that `fence_prkit -o metadata` (stdin
 * action=metadata) prints, in the layout of fence-agents: a
 * resource-agent element (name, shortdesc), longdesc, vendor-url, the
 * parameters (getopt spelling, content type and default, shortdesc) and
 * the actions, with on marked on_target="1" automatic="1" so that
 * Pacemaker unfences each node on itself before it runs resources there
 * (with meta provides=unfencing on the device). Every parameter is a
 * name that prk_fence_opts_parse_stdin() accepts; nodeid (this node's id,
 * command-line use) is deliberately not listed, because Pacemaker fills a
 * listed nodeid with the target's corosync node id. */
#ifndef PRKIT_FENCE_META_H
#define PRKIT_FENCE_META_H

#include <stdio.h>

#define PRK_FENCE_AGENT_NAME "fence_prkit"

void prk_fence_metadata(FILE *out);

#endif
