/* What a multipath host reads to group paths and rank them: the Device
 * Identification VPD page (83h), REPORT TARGET PORT GROUPS data, the ALUA
 * priorities multipath-tools derives from it, and the two CDBs that fetch
 * them (INQUIRY, MAINTENANCE IN / REPORT TARGET PORT GROUPS).
 *
 * Pure code: no I/O, no allocation. Every decoder validates lengths and
 * reports the exact field that is wrong (struct prk_field_err: parameter
 * data, INVALID FIELD IN PARAMETER LIST, with a field pointer). */
#ifndef PRKIT_SCSI_VPD_H
#define PRKIT_SCSI_VPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prkit/scsi_sense.h"

/* ---- Device Identification VPD page (83h), SPC-4 7.8.6 ----
 * Page: 0 peripheral qualifier/device type, 1 PAGE CODE (83h), 2..3 PAGE
 * LENGTH, 4.. designation descriptors. Descriptor: 0 PROTOCOL IDENTIFIER
 * (7..4) CODE SET (3..0), 1 PIV (7) ASSOCIATION (5..4) DESIGNATOR TYPE
 * (3..0), 2 reserved, 3 DESIGNATOR LENGTH, 4.. designator. */

#define PRK_VPD_DEVID_PAGE 0x83
#define PRK_VPD_HDR_LEN 4
#define PRK_DESIG_HDR_LEN 4

/* DESIGNATOR TYPE values. */
#define PRK_DESIG_VENDOR 0x0
#define PRK_DESIG_T10 0x1
#define PRK_DESIG_EUI64 0x2
#define PRK_DESIG_NAA 0x3
#define PRK_DESIG_RTPI 0x4
#define PRK_DESIG_TPG 0x5
#define PRK_DESIG_LU_GROUP 0x6
#define PRK_DESIG_MD5 0x7
#define PRK_DESIG_SCSI_NAME 0x8

/* ASSOCIATION values. */
#define PRK_ASSOC_LU 0x0
#define PRK_ASSOC_TARGET_PORT 0x1
#define PRK_ASSOC_TARGET_DEVICE 0x2

/* Device Identification VPD page (83h), SPC-4 7.8.6: the parts a multipath host needs. */
struct prk_vpd83 {
	bool has_naa; /* first designator with DESIGNATOR TYPE 3 (NAA) and ASSOCIATION 00b (the LU)
	               */
	uint8_t naa_len; /* 8 or 16 */
	uint8_t naa[16];
	char naa_hex[33]; /* lower-case hex of naa, NUL-terminated ("" when !has_naa) */
	bool has_rtpi; /* DESIGNATOR TYPE 4, association 01b (target port), 4-byte designator, rtpi
	                  in bytes 2..3 */
	uint16_t rtpi;
	bool has_tpg; /* DESIGNATOR TYPE 5 (target port group), association 01b */
	uint16_t tpg;
	/* Additions. */
	uint16_t page_len;      /* PAGE LENGTH as reported */
	bool truncated;         /* fewer than 4 + PAGE LENGTH bytes were returned */
	unsigned n_designators; /* complete designation descriptors walked */
};

/* buf = the whole page as returned (header: byte 1 page code 83h, bytes 2..3 PAGE LENGTH). A
 returned length shorter than 4 + PAGE LENGTH is fine (truncated): decode what is complete. Errors
 (-1): shorter than 4 bytes, page code not 83h, a designator whose DESIGNATOR LENGTH overruns the
 page length, an NAA designator whose length is not 8 or 16, an RTPI/TPG designator whose length is
 not 4. err names the field. Returns 0.
 * The fields named:
 *   - shorter than 4 bytes: PAGE LENGTH (byte 2);
 *   - PAGE CODE (byte 1);
 *   - DESIGNATOR LENGTH (byte 3 of the descriptor) for an overrun or a
 *     length wrong for its type (NAA, RTPI and TPG lengths are checked
 *     whatever the association);
 *   - PAGE LENGTH (byte 2) when it leaves 1 to 3 bytes after the last
 *     descriptor (a descriptor header cut by the page length itself).
 * Only what was returned is checked: nothing past a truncated descriptor. */
int prk_vpd83_decode(const uint8_t *buf, size_t len, struct prk_vpd83 *out,
                     struct prk_field_err *err);

/* ---- REPORT TARGET PORT GROUPS (SPC-4 6.37) ---- */

/* REPORT TARGET PORT GROUPS data (SPC-4 6.37), both length-only header (format 0: 4-byte RETURN
   DATA LENGTH) and extended header (format 1: byte 4 bits 6..4 = 001b, byte 5 IMPLICIT TRANSITION
   TIME, data starts at 8). */
#define PRK_ALUA_ACTIVE_OPTIMIZED 0x0
#define PRK_ALUA_ACTIVE_NON_OPTIMIZED 0x1
#define PRK_ALUA_STANDBY 0x2
#define PRK_ALUA_UNAVAILABLE 0x3
#define PRK_ALUA_LBA_DEPENDENT 0x4
#define PRK_ALUA_OFFLINE 0xe
#define PRK_ALUA_TRANSITIONING 0xf
#define PRK_RTPG_MAX_GROUPS 32
#define PRK_RTPG_MAX_PORTS 16

#define PRK_RTPG_HDR_LEN 4
#define PRK_RTPG_EXT_HDR_LEN 8
#define PRK_RTPG_DESC_HDR_LEN 8
#define PRK_RTPG_PORT_LEN 4

/* Target port group descriptor byte 1 (struct prk_rtpg_group.supported). */
#define PRK_RTPG_T_SUP 0x80
#define PRK_RTPG_O_SUP 0x40
#define PRK_RTPG_LBD_SUP 0x10
#define PRK_RTPG_U_SUP 0x08
#define PRK_RTPG_S_SUP 0x04
#define PRK_RTPG_AN_SUP 0x02
#define PRK_RTPG_AO_SUP 0x01

/* STATUS CODE values. */
#define PRK_RTPG_STATUS_NONE 0x00
#define PRK_RTPG_STATUS_STPG 0x01     /* altered by SET TARGET PORT GROUPS */
#define PRK_RTPG_STATUS_IMPLICIT 0x02 /* altered by an implicit transition */

struct prk_rtpg_group {
	bool pref;
	uint8_t state;     /* ASYMMETRIC ACCESS STATE */
	uint8_t supported; /* byte 1: T_SUP O_SUP LBD_SUP U_SUP S_SUP AN_SUP AO_SUP bits as on the
	                      wire */
	uint16_t tpg;
	uint8_t status_code;
	uint8_t n_ports; /* ports listed (at most PRK_RTPG_MAX_PORTS stored; extra ones counted in
	                    n_ports_total) */
	uint8_t n_ports_total;
	uint16_t rtpi[PRK_RTPG_MAX_PORTS];
};
struct prk_rtpg {
	bool extended;
	uint8_t implicit_transition_time;
	bool truncated;    /* RETURN DATA LENGTH announced more than was returned */
	unsigned n_groups; /* complete descriptors decoded, at most PRK_RTPG_MAX_GROUPS */
	struct prk_rtpg_group groups[PRK_RTPG_MAX_GROUPS];
};
/* Errors: shorter than 4 bytes (8 for the extended header), a descriptor overrunning RETURN DATA
 LENGTH, more than PRK_RTPG_MAX_GROUPS groups is NOT an error (stop and set truncated). Returns 0 /
 -1.
 * Exactly 4 bytes (the length alone) is never an error: no groups,
 * truncated when RETURN DATA LENGTH > 0, extended unknown (false).
 * The format is told by byte 4 bits 6..4 (FORMAT TYPE) when RETURN DATA
 * LENGTH covers byte 4 and it was returned: 001b is the extended header;
 * anything else is read as the first descriptor of a length-only header
 * (whose bits 6..4 are reserved), as sg_rtpg and the kernel do.
 * The fields named:
 *   - shorter than 4 bytes: RETURN DATA LENGTH (byte 0);
 *   - extended header but shorter than 8 bytes: FORMAT TYPE (byte 4 bit 6);
 *   - extended header but RETURN DATA LENGTH < 4: RETURN DATA LENGTH;
 *   - a descriptor whose TARGET PORT COUNT makes it overrun RETURN DATA
 *     LENGTH: TARGET PORT COUNT (byte 7 of the descriptor);
 *   - RETURN DATA LENGTH leaving 1 to 7 bytes after the last descriptor:
 *     RETURN DATA LENGTH.
 * truncated is also set when a 33rd group follows (not decoded or checked).
 * Only what was returned is checked: nothing past a truncated descriptor. */
int prk_rtpg_decode(const uint8_t *buf, size_t len, struct prk_rtpg *out,
                    struct prk_field_err *err);

/* Encodes r (the header chosen by r->extended, n_groups groups with n_ports
 * ports each, TARGET PORT COUNT = n_ports; counts above the limits are
 * capped). Writes at most cap bytes; returns the full length. */
size_t prk_rtpg_encode(const struct prk_rtpg *r, uint8_t *buf, size_t cap);

/* The group containing rtpi, or NULL. */
const struct prk_rtpg_group *prk_rtpg_find_port(const struct prk_rtpg *r, uint16_t rtpi);

/* multipath-tools' ALUA prioritizer values: 50 active/optimized, 10 active/non-optimized, 5 LBA
 dependent, 1 standby, 0 unavailable/offline/transitioning; +? for pref (document what you choose:
 multipath adds 80 for PREF).
 * Chosen: exactly multipath-tools' default (prio "alua" without the
 * exclusive_pref_bit argument): +80 when PREF is set and the state is not
 * active/optimized (so PREF + active/optimized stays 50, PREF + standby is
 * 81). Only the low 4 bits of state are looked at, as multipath does. */
int prk_alua_priority(uint8_t state, bool pref);
/* "active/optimized", "active/non-optimized", "standby", "unavailable",
 * "lba-dependent", "offline", "transitioning", or "reserved". */
const char *prk_alua_state_name(uint8_t state);

/* CDB builders (12-byte MAINTENANCE IN / REPORT TARGET PORT GROUPS with the given format and
 allocation length; 6-byte INQUIRY with EVPD/page/allocation length). Return the CDB length.
 * INQUIRY without EVPD always carries PAGE CODE 0 (anything else is 24/00). */
size_t prk_rtpg_cdb_encode(bool extended, uint32_t alloc_len, uint8_t cdb[12]);
size_t prk_inquiry_cdb_encode(bool evpd, uint8_t page, uint16_t alloc_len, uint8_t cdb[6]);

#endif
