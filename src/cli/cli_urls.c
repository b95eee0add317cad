/* The path URLs of a prkit command line (cli_urls.h). */
#include "cli_urls.h"

#include "errfmt.h"
#include "prkit/iscsi_url.h"

int prk_cli_take_urls(int argc, char **argv, int first, bool discover, const char **urls,
                      size_t cap, size_t *n, char *err, size_t errcap)
{
	*n = 0;
	for (int i = first; i < argc; i++) {
		struct prk_iscsi_url u;
		char why[200];
		enum prk_iscsi_url_error e = prk_iscsi_url_parse(argv[i], &u, why, sizeof(why));
		if (e == PRK_URL_SCHEME)
			return prk_errf(err, errcap, "'%s': not an option and not an iscsi:// URL",
			                argv[i]);
		if (e != PRK_URL_OK)
			return prk_errf(err, errcap, "URL '%s': %s", argv[i], why);
		if (*n == cap)
			return prk_errf(err, errcap, "URL: at most %zu paths", cap);
		urls[(*n)++] = argv[i];
	}
	if (!*n)
		return prk_errf(err, errcap, "URL: give at least one iscsi://HOST[:PORT]/IQN/LUN");
	if (discover && *n != 1)
		return prk_errf(err, errcap,
		                "--discover: give one URL; the other paths are the portals the "
		                "target lists");
	return 0;
}
