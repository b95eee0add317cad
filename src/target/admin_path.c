/* Where the admin socket lives by default (shared by prkitd and prkit). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "admin.h"

void prk_admin_default_path(char *buf, size_t cap)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (geteuid() == 0)
		snprintf(buf, cap, "/run/prkitd.sock");
	else if (xdg && *xdg)
		snprintf(buf, cap, "%s/prkitd.sock", xdg);
	else
		snprintf(buf, cap, "/tmp/prkitd-%u.sock", (unsigned)geteuid());
}
