/* iscsi://[user[%secret]@]host[:port]/target-iqn/lun: the URLs through
 * which every prkit program names a path to an LU (libiscsi's syntax).
 *
 * One parser for all of them, so that `prkit persist` and the fence agent
 * accept and refuse the same text. It checks what can be checked without
 * the network (the host's characters, the port's range, the target name,
 * the LUN); the host library then hands the text to libiscsi to connect.
 * Pure code: no I/O, no allocation. */
#ifndef PRKIT_ISCSI_URL_H
#define PRKIT_ISCSI_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prkit/scsi_tid.h"

#define PRK_ISCSI_URL_HOST_MAX 255
#define PRK_ISCSI_URL_DEFAULT_PORT 3260
/* The largest LUN of the single-level (peripheral or flat) addressing
 * libiscsi encodes. */
#define PRK_ISCSI_URL_MAX_LUN 16383

struct prk_iscsi_url {
	char host[PRK_ISCSI_URL_HOST_MAX + 1]; /* IPv6 addresses without brackets */
	uint16_t port;                         /* PRK_ISCSI_URL_DEFAULT_PORT if absent */
	char target[PRK_ISCSI_NAME_MAX + 1];
	uint16_t lun;
	bool has_credentials; /* a user[%secret]@ part is present */
};

/* What was wrong, so that a caller may word it in its own terms; the
 * message in err says the same in full. */
enum prk_iscsi_url_error {
	PRK_URL_OK = 0,
	PRK_URL_SCHEME,       /* does not start with iscsi:// */
	PRK_URL_EMPTY,        /* nothing after iscsi:// */
	PRK_URL_NO_PATH,      /* no /target/lun after the host */
	PRK_URL_USER,         /* empty user name before '@' */
	PRK_URL_HOST_EMPTY,   /* no host between "//" (or '@') and '/' */
	PRK_URL_HOST,         /* brackets, characters or length of the host */
	PRK_URL_PORT,         /* empty, not decimal, or not 1..65535 */
	PRK_URL_TARGET_EMPTY, /* "//" where the target name should be */
	PRK_URL_NO_LUN,       /* no /lun after the target name */
	PRK_URL_TARGET,       /* too long, not a valid iSCSI name, or no iqn./eui./naa. */
	PRK_URL_LUN,          /* empty, not decimal, or above PRK_ISCSI_URL_MAX_LUN */
};

/* Parses s into u. Returns PRK_URL_OK, or the error with a message that
 * does not repeat the URL in err (errlen may be 0). */
enum prk_iscsi_url_error prk_iscsi_url_parse(const char *s, struct prk_iscsi_url *u, char *err,
                                             size_t errlen);

/* Does s start with one of the name types a target can have (iqn., eui.,
 * naa., any case)? */
bool prk_iscsi_name_has_type(const char *s);

#endif
