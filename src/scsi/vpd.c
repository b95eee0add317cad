/* Device Identification VPD page (SPC-4 7.8.6), REPORT TARGET PORT GROUPS
 * data (SPC-4 6.37), ALUA priorities and the CDBs that fetch them. Decoders
 * are used on data returned by a device, which may have been truncated by
 * the allocation length: what is complete is decoded, what is inconsistent
 * is an error naming the field. */
#include "prkit/scsi_vpd.h"

#include <string.h>

#include "prkit/scsi_cdb.h"

#include "be.h"

/* Designation descriptor fields. */
#define DESIG_OFF_TYPE 1
#define DESIG_OFF_LEN 3
#define DESIG_ASSOC_SHIFT 4
#define DESIG_ASSOC_MASK 0x3
#define DESIG_TYPE_MASK 0x0f
#define NAA_LEN_SHORT 8
#define NAA_LEN_LONG 16
#define PORT_DESIG_LEN 4 /* RTPI and TPG: 2 bytes obsolete/reserved, 2 bytes value */
#define PORT_DESIG_OFF_VAL 2

/* REPORT TARGET PORT GROUPS header and descriptor fields. */
#define RTPG_OFF_FMT 4
#define RTPG_OFF_ITT 5
#define RTPG_FMT_SHIFT 4
#define RTPG_FMT_MASK 0x7
#define RTPG_FMT_EXTENDED 0x1
#define TPG_PREF 0x80
#define TPG_STATE_MASK 0x0f
#define TPG_OFF_SUP 1
#define TPG_OFF_TPG 2
#define TPG_OFF_STATUS 5
#define TPG_OFF_COUNT 7
#define PORT_OFF_RTPI 2

/* CDB fields. */
#define RTPG_CDB_LEN 12
#define RTPG_CDB_FMT_SHIFT 5
#define RTPG_CDB_OFF_ALLOC 6
#define INQ_CDB_LEN 6
#define INQ_EVPD 0x01

static const char *const F_PAGE_LEN = "PAGE LENGTH";
static const char *const F_DESIG_LEN = "DESIGNATOR LENGTH";
static const char *const F_RDL = "RETURN DATA LENGTH";

static int data_err(struct prk_field_err *err, size_t byte, int8_t bit, const char *field)
{
	prk_field_err_set(err, false, prk_off16(byte), bit, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST,
	                  field);
	return -1;
}

/* ---- Device Identification VPD page ---- */

static void hex_lower(const uint8_t *src, size_t n, char *dst)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = digits[src[i] >> 4];
		dst[2 * i + 1] = digits[src[i] & 0x0f];
	}
	dst[2 * n] = '\0';
}

/* The designator lengths the types we read must have (SPC-4 7.8.6.6,
 * 7.8.6.7, 7.8.6.8), checked whatever the association. */
static bool desig_len_ok(uint8_t type, uint8_t dlen)
{
	switch (type) {
	case PRK_DESIG_NAA:
		return dlen == NAA_LEN_SHORT || dlen == NAA_LEN_LONG;
	case PRK_DESIG_RTPI:
	case PRK_DESIG_TPG:
		return dlen == PORT_DESIG_LEN;
	default:
		return true;
	}
}

/* Keeps what the host needs from one complete, checked designation
 * descriptor (d; dlen = its DESIGNATOR LENGTH). */
static void vpd83_desig(const uint8_t *d, uint8_t dlen, struct prk_vpd83 *out)
{
	uint8_t type = d[DESIG_OFF_TYPE] & DESIG_TYPE_MASK;
	uint8_t assoc = (d[DESIG_OFF_TYPE] >> DESIG_ASSOC_SHIFT) & DESIG_ASSOC_MASK;
	const uint8_t *id = d + PRK_DESIG_HDR_LEN;

	if (type == PRK_DESIG_NAA && assoc == PRK_ASSOC_LU && !out->has_naa) {
		out->has_naa = true;
		out->naa_len = dlen;
		memcpy(out->naa, id, dlen);
		hex_lower(id, dlen, out->naa_hex);
	} else if (type == PRK_DESIG_RTPI && assoc == PRK_ASSOC_TARGET_PORT && !out->has_rtpi) {
		out->has_rtpi = true;
		out->rtpi = prk_get_be16(id + PORT_DESIG_OFF_VAL);
	} else if (type == PRK_DESIG_TPG && assoc == PRK_ASSOC_TARGET_PORT && !out->has_tpg) {
		out->has_tpg = true;
		out->tpg = prk_get_be16(id + PORT_DESIG_OFF_VAL);
	}
}

int prk_vpd83_decode(const uint8_t *buf, size_t len, struct prk_vpd83 *out,
                     struct prk_field_err *err)
{
	size_t page_end, off;

	memset(out, 0, sizeof(*out));
	if (len < PRK_VPD_HDR_LEN)
		return data_err(err, 2, -1, F_PAGE_LEN);
	if (buf[1] != PRK_VPD_DEVID_PAGE)
		return data_err(err, 1, -1, "PAGE CODE");
	out->page_len = prk_get_be16(buf + 2);
	page_end = PRK_VPD_HDR_LEN + (size_t)out->page_len;
	out->truncated = len < page_end;

	for (off = PRK_VPD_HDR_LEN; off < page_end;) {
		uint8_t dlen;

		if (page_end - off < PRK_DESIG_HDR_LEN)
			return data_err(err, 2, -1, F_PAGE_LEN);
		if (len - off < PRK_DESIG_HDR_LEN)
			break; /* truncated inside the header */
		dlen = buf[off + DESIG_OFF_LEN];
		if (page_end - off - PRK_DESIG_HDR_LEN < dlen ||
		    !desig_len_ok(buf[off + DESIG_OFF_TYPE] & DESIG_TYPE_MASK, dlen))
			return data_err(err, off + DESIG_OFF_LEN, -1, F_DESIG_LEN);
		if (len - off - PRK_DESIG_HDR_LEN < dlen)
			break; /* truncated inside the designator */
		vpd83_desig(buf + off, dlen, out);
		out->n_designators++;
		off += PRK_DESIG_HDR_LEN + dlen;
	}
	return 0;
}

/* ---- REPORT TARGET PORT GROUPS ---- */

static void rtpg_group(const uint8_t *d, struct prk_rtpg_group *g)
{
	uint8_t count = d[TPG_OFF_COUNT];

	memset(g, 0, sizeof(*g));
	g->pref = d[0] & TPG_PREF;
	g->state = d[0] & TPG_STATE_MASK;
	g->supported = d[TPG_OFF_SUP];
	g->tpg = prk_get_be16(d + TPG_OFF_TPG);
	g->status_code = d[TPG_OFF_STATUS];
	g->n_ports_total = count;
	g->n_ports = count < PRK_RTPG_MAX_PORTS ? count : PRK_RTPG_MAX_PORTS;
	for (unsigned i = 0; i < g->n_ports; i++)
		g->rtpi[i] =
		    prk_get_be16(d + PRK_RTPG_DESC_HDR_LEN + i * PRK_RTPG_PORT_LEN + PORT_OFF_RTPI);
}

int prk_rtpg_decode(const uint8_t *buf, size_t len, struct prk_rtpg *out, struct prk_field_err *err)
{
	uint64_t data_end, off;
	uint32_t rdl;

	memset(out, 0, sizeof(*out));
	if (len < PRK_RTPG_HDR_LEN)
		return data_err(err, 0, -1, F_RDL);
	rdl = prk_get_be32(buf);
	data_end = PRK_RTPG_HDR_LEN + (uint64_t)rdl;
	out->truncated = len < data_end;
	/* Only the length came back (a host asking how much to allocate): the
	 * format cannot be told, and nothing else can be decoded. */
	if (len == PRK_RTPG_HDR_LEN)
		return 0;
	off = PRK_RTPG_HDR_LEN;
	if (rdl > 0 &&
	    ((buf[RTPG_OFF_FMT] >> RTPG_FMT_SHIFT) & RTPG_FMT_MASK) == RTPG_FMT_EXTENDED) {
		if (len < PRK_RTPG_EXT_HDR_LEN)
			return data_err(err, RTPG_OFF_FMT, 6, "FORMAT TYPE");
		if (data_end < PRK_RTPG_EXT_HDR_LEN)
			return data_err(err, 0, -1, F_RDL);
		out->extended = true;
		out->implicit_transition_time = buf[RTPG_OFF_ITT];
		off = PRK_RTPG_EXT_HDR_LEN;
	}

	while (off < data_end) {
		uint64_t dlen;

		if (out->n_groups == PRK_RTPG_MAX_GROUPS) {
			out->truncated = true;
			break;
		}
		if (data_end - off < PRK_RTPG_DESC_HDR_LEN)
			return data_err(err, 0, -1, F_RDL);
		if (len - off < PRK_RTPG_DESC_HDR_LEN)
			break; /* truncated inside the descriptor header */
		dlen =
		    PRK_RTPG_DESC_HDR_LEN + (uint64_t)buf[off + TPG_OFF_COUNT] * PRK_RTPG_PORT_LEN;
		if (data_end - off < dlen)
			return data_err(err, off + TPG_OFF_COUNT, -1, "TARGET PORT COUNT");
		if (len - off < dlen)
			break; /* truncated inside the port list */
		rtpg_group(buf + off, &out->groups[out->n_groups++]);
		off += dlen;
	}
	return 0;
}

size_t prk_rtpg_encode(const struct prk_rtpg *r, uint8_t *buf, size_t cap)
{
	unsigned n_groups = r->n_groups < PRK_RTPG_MAX_GROUPS ? r->n_groups : PRK_RTPG_MAX_GROUPS;
	size_t off = r->extended ? PRK_RTPG_EXT_HDR_LEN : PRK_RTPG_HDR_LEN;
	uint8_t hdr[PRK_RTPG_EXT_HDR_LEN] = {0};

	for (unsigned i = 0; i < n_groups; i++) {
		const struct prk_rtpg_group *g = &r->groups[i];
		uint8_t n_ports = g->n_ports < PRK_RTPG_MAX_PORTS ? g->n_ports : PRK_RTPG_MAX_PORTS;
		uint8_t d[PRK_RTPG_DESC_HDR_LEN] = {0};

		d[0] = (uint8_t)((g->pref ? TPG_PREF : 0) | (g->state & TPG_STATE_MASK));
		d[TPG_OFF_SUP] = g->supported;
		prk_put_be16(d + TPG_OFF_TPG, g->tpg);
		d[TPG_OFF_STATUS] = g->status_code;
		d[TPG_OFF_COUNT] = n_ports;
		prk_wr_bytes(buf, cap, off, d, sizeof(d));
		off += sizeof(d);
		for (unsigned p = 0; p < n_ports; p++) {
			uint8_t port[PRK_RTPG_PORT_LEN] = {0};

			prk_put_be16(port + PORT_OFF_RTPI, g->rtpi[p]);
			prk_wr_bytes(buf, cap, off, port, sizeof(port));
			off += sizeof(port);
		}
	}
	prk_put_be32(hdr, (uint32_t)(off - PRK_RTPG_HDR_LEN));
	if (r->extended) {
		hdr[RTPG_OFF_FMT] = RTPG_FMT_EXTENDED << RTPG_FMT_SHIFT;
		hdr[RTPG_OFF_ITT] = r->implicit_transition_time;
	}
	prk_wr_bytes(buf, cap, 0, hdr, r->extended ? PRK_RTPG_EXT_HDR_LEN : PRK_RTPG_HDR_LEN);
	return off;
}

const struct prk_rtpg_group *prk_rtpg_find_port(const struct prk_rtpg *r, uint16_t rtpi)
{
	unsigned n_groups = r->n_groups < PRK_RTPG_MAX_GROUPS ? r->n_groups : PRK_RTPG_MAX_GROUPS;

	for (unsigned i = 0; i < n_groups; i++) {
		const struct prk_rtpg_group *g = &r->groups[i];
		unsigned n = g->n_ports < PRK_RTPG_MAX_PORTS ? g->n_ports : PRK_RTPG_MAX_PORTS;

		for (unsigned p = 0; p < n; p++)
			if (g->rtpi[p] == rtpi)
				return g;
	}
	return NULL;
}

/* ---- ALUA states ---- */

#define ALUA_PRIO_PREF_BONUS 80

int prk_alua_priority(uint8_t state, bool pref)
{
	int prio;

	state &= TPG_STATE_MASK;
	switch (state) {
	case PRK_ALUA_ACTIVE_OPTIMIZED:
		prio = 50;
		break;
	case PRK_ALUA_ACTIVE_NON_OPTIMIZED:
		prio = 10;
		break;
	case PRK_ALUA_LBA_DEPENDENT:
		prio = 5;
		break;
	case PRK_ALUA_STANDBY:
		prio = 1;
		break;
	default:
		prio = 0;
		break;
	}
	if (pref && state != PRK_ALUA_ACTIVE_OPTIMIZED)
		prio += ALUA_PRIO_PREF_BONUS;
	return prio;
}

const char *prk_alua_state_name(uint8_t state)
{
	switch (state) {
	case PRK_ALUA_ACTIVE_OPTIMIZED:
		return "active/optimized";
	case PRK_ALUA_ACTIVE_NON_OPTIMIZED:
		return "active/non-optimized";
	case PRK_ALUA_STANDBY:
		return "standby";
	case PRK_ALUA_UNAVAILABLE:
		return "unavailable";
	case PRK_ALUA_LBA_DEPENDENT:
		return "lba-dependent";
	case PRK_ALUA_OFFLINE:
		return "offline";
	case PRK_ALUA_TRANSITIONING:
		return "transitioning";
	default:
		return "reserved";
	}
}

/* ---- CDBs ---- */

size_t prk_rtpg_cdb_encode(bool extended, uint32_t alloc_len, uint8_t cdb[12])
{
	memset(cdb, 0, RTPG_CDB_LEN);
	cdb[0] = PRK_OP_MAINTENANCE_IN;
	cdb[1] = (uint8_t)((extended ? RTPG_FMT_EXTENDED << RTPG_CDB_FMT_SHIFT : 0) |
	                   PRK_MI_REPORT_TARGET_PGS);
	prk_put_be32(cdb + RTPG_CDB_OFF_ALLOC, alloc_len);
	return RTPG_CDB_LEN;
}

size_t prk_inquiry_cdb_encode(bool evpd, uint8_t page, uint16_t alloc_len, uint8_t cdb[6])
{
	memset(cdb, 0, INQ_CDB_LEN);
	cdb[0] = PRK_OP_INQUIRY;
	if (evpd) {
		cdb[1] = INQ_EVPD;
		cdb[2] = page;
	}
	prk_put_be16(cdb + 3, alloc_len);
	return INQ_CDB_LEN;
}
