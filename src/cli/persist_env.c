/* `prkit persist`: the one part of the argument handling that looks at the
 * environment, kept apart so that persist_args.c stays pure. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "persist_args.h"

int prk_persist_default_initiator(char *buf, size_t len, char *err, size_t errlen)
{
	const char *env = getenv(PRK_PERSIST_INITIATOR_ENV);
	char host[256];
	size_t n;

	if (env && *env) {
		if (strlen(env) > PRK_ISCSI_NAME_MAX || !prk_iscsi_name_valid(env)) {
			snprintf(err, errlen, "%s='%s' is not a valid iSCSI name",
			         PRK_PERSIST_INITIATOR_ENV, env);
			return -1;
		}
		snprintf(buf, len, "%s", env);
		return 0;
	}
	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	/* iSCSI names are lower case (RFC 3722 stringprep); keep what a name
	 * may hold and turn anything else into '-'. */
	for (char *p = host; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		           *p == '-'))
			*p = '-';
	}
	n = strlen(PRK_PERSIST_INITIATOR_PREFIX);
	if (n + strlen(host) > PRK_ISCSI_NAME_MAX)
		host[PRK_ISCSI_NAME_MAX - n] = '\0';
	snprintf(buf, len, "%s%s", PRK_PERSIST_INITIATOR_PREFIX, host);
	return 0;
}
