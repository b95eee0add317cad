/* `prkit fence` / fence_prkit: options from the command line or, when no
 * action is given there, key=value lines on standard input (the way
 * Pacemaker calls fence agents); the defaults that need the system are
 * filled here; the actions are in src/fence. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fence.h"
#include "fence_ops.h"
#include "persist_args.h"
#include "prkit/host.h"

int prk_cli_fence(int argc, char **argv)
{
	static struct prk_fence_opts o;
	char err[512];
	prk_fence_opts_init(&o);
	int rc = prk_fence_opts_parse_argv(argc, argv, &o, err, sizeof(err));
	if (rc == 0 && o.help) {
		prk_fence_usage(stdout);
		return 0;
	}
	if (rc == 0 && o.version) {
		printf("fence_prkit 0.1.0\n");
		return 0;
	}
	if (rc == 0 && o.read_stdin)
		rc = prk_fence_opts_parse_stdin(stdin, &o, err, sizeof(err));
	if (rc == 0 && !o.local_node[0] && gethostname(o.local_node, sizeof(o.local_node) - 1))
		snprintf(o.local_node, sizeof(o.local_node), "localhost");
	if (rc == 0 && !o.initiator[0] &&
	    prk_persist_default_initiator(o.initiator, sizeof(o.initiator), err, sizeof(err)))
		rc = 1;
	if (rc == 0 && !o.state_dir[0])
		prk_host_default_state_dir(o.state_dir, sizeof(o.state_dir));
	if (rc == 0)
		rc = prk_fence_opts_validate(&o, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "fence_prkit: %s\n", err);
		return PRK_FENCE_EXIT_ERROR;
	}
	return prk_fence_run(&o, stdout, stderr);
}
