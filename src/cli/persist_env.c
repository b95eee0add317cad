/* `prkit persist`: the one part of the argument handling that looks at the
 * environment, kept apart so that persist_args.c stays pure. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "persist_args.h"
#include "prkit/host.h"

int prk_persist_default_initiator(char *buf, size_t len, char *err, size_t errlen)
{
	char host[256];
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	return prk_host_initiator_name(getenv(PRK_PERSIST_INITIATOR_ENV), host, buf, len, err,
	                               errlen);
}
