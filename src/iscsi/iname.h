/* What an InitiatorName received at login may hold, and how to show one
 * in a log line. RFC 7143 4.2.7 and RFC 3722: an iSCSI name is UTF-8 text
 * of displayable characters, no white space, at most 223 bytes. prkit's
 * persistent reservations carry the name in TransportIDs it keeps to
 * printable ASCII (src/scsi/tid.c), so a name outside ASCII is refused
 * here too, at the first PDU, rather than failing later as "out of
 * resources". Pure: no I/O. */
#ifndef PRKIT_ISCSI_INAME_H
#define PRKIT_ISCSI_INAME_H

#include <stddef.h>

/* 0 when name may be an InitiatorName; else -1 with a message in why that
 * says what is wrong and where, quoting the name escaped. */
int prk_iscsi_initiator_name_check(const char *name, char *why, size_t cap);

/* s for a log line: printable ASCII as is, '"' and '\' escaped, any other
 * byte as \xNN; cut with "..." to fit cap. */
void prk_iscsi_escape(const char *s, char *out, size_t cap);

#endif
