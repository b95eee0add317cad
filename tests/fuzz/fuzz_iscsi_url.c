/* libFuzzer target: the iscsi:// URL parser that the prkit commands share.
 * Any text gets either a parse whose fields keep their limits, or an error
 * code with a message; a URL rebuilt from a good parse parses the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prkit/iscsi_url.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct prk_iscsi_url u, again;
	char err[200], url[600];
	enum prk_iscsi_url_error e;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0'; /* the parser reads C strings: stop at the first NUL */
	err[0] = '\0';
	e = prk_iscsi_url_parse(s, &u, err, sizeof(err));
	if (e != PRK_URL_OK) {
		CHECK(e <= PRK_URL_LUN);
		CHECK(err[0] != '\0');
		free(s);
		return 0;
	}
	CHECK(u.host[0] && strlen(u.host) <= PRK_ISCSI_URL_HOST_MAX);
	CHECK(u.port >= 1);
	CHECK(prk_iscsi_name_valid(u.target) && prk_iscsi_name_has_type(u.target));
	CHECK(u.lun <= PRK_ISCSI_URL_MAX_LUN);
	snprintf(url, sizeof(url),
	         strpbrk(u.host, ":%") ? "iscsi://[%s]:%u/%s/%u" : "iscsi://%s:%u/%s/%u", u.host,
	         u.port, u.target, u.lun);
	CHECK(prk_iscsi_url_parse(url, &again, NULL, 0) == PRK_URL_OK);
	CHECK(strcmp(again.host, u.host) == 0 && again.port == u.port);
	CHECK(strcmp(again.target, u.target) == 0 && again.lun == u.lun);
	free(s);
	return 0;
}
