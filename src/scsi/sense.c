/* Sense data in fixed (70h) and descriptor (72h) format, and the field error
 * report shared by all decoders (SPC-4 4.5). */
#include "prkit/scsi_sense.h"

#include <string.h>

#include "be.h"

/* Fixed format offsets (SPC-4 4.5.3). */
#define FIXED_VALID 0x80
#define FIXED_ADDL_LEN 10  /* bytes 8..17 */
#define FIXED_MIN_DECODE 8 /* response code .. ADDITIONAL SENSE LENGTH */

/* Descriptor format (SPC-4 4.5.2). */
#define DESC_HDR_LEN 8
#define DESC_INFO 0x00
#define DESC_INFO_ADDL 0x0a
#define DESC_INFO_LEN 12
#define DESC_SKS 0x02
#define DESC_SKS_ADDL 0x06
#define DESC_SKS_LEN 8

/* Sense-key specific byte 0 (field pointer form, SPC-4 4.5.2.4.2). */
#define SKS_SKSV 0x80
#define SKS_CD 0x40
#define SKS_BPV 0x08
#define SKS_BIT_MASK 0x07

void prk_sense_set(struct prk_sense *s, uint8_t key, uint16_t asc)
{
	memset(s, 0, sizeof(*s));
	s->key = key;
	s->asc = (uint8_t)(asc >> 8);
	s->ascq = (uint8_t)asc;
}

void prk_sense_from_field_err(struct prk_sense *s, const struct prk_field_err *e)
{
	prk_sense_set(s, PRK_SK_ILLEGAL_REQUEST, e->asc);
	if (!e->has_ptr)
		return;
	s->sksv = true;
	s->cd = e->in_cdb;
	s->field = e->byte;
	if (e->bit >= 0) {
		s->bpv = true;
		s->bit = (uint8_t)(e->bit & SKS_BIT_MASK);
	}
}

/* A PARAMETER LIST LENGTH ERROR concerns the list as a whole, so it carries
 * no field pointer; every other error points at its field. */
void prk_field_err_set(struct prk_field_err *e, bool in_cdb, uint16_t byte, int8_t bit,
                       uint16_t asc, const char *field)
{
	e->in_cdb = in_cdb;
	e->has_ptr = asc != PRK_ASC_PARAMETER_LIST_LENGTH_ERROR;
	e->byte = byte;
	e->bit = bit;
	e->asc = asc;
	e->field = field;
}

/* The three sense-key specific bytes; all zero unless SKSV. */
static void sks_encode(const struct prk_sense *s, uint8_t out[3])
{
	memset(out, 0, 3);
	if (!s->sksv)
		return;
	out[0] = SKS_SKSV;
	if (s->cd)
		out[0] |= SKS_CD;
	if (s->bpv)
		out[0] |= SKS_BPV | (s->bit & SKS_BIT_MASK);
	prk_put_be16(out + 1, s->field);
}

static void sks_decode(const uint8_t in[3], struct prk_sense *s)
{
	/* Clear first: a later sense key specific descriptor replaces an
	 * earlier one entirely. */
	s->cd = s->bpv = false;
	s->bit = 0;
	s->field = 0;
	s->sksv = in[0] & SKS_SKSV;
	if (!s->sksv)
		return;
	s->cd = in[0] & SKS_CD;
	s->bpv = in[0] & SKS_BPV;
	s->bit = s->bpv ? (in[0] & SKS_BIT_MASK) : 0;
	s->field = prk_get_be16(in + 1);
}

/* The fixed format INFORMATION field has 32 bits; a larger value cannot be
 * represented there, so it is left out (VALID = 0) rather than truncated. */
size_t prk_sense_encode_fixed(const struct prk_sense *s, uint8_t *buf, size_t cap)
{
	uint8_t b[PRK_SENSE_FIXED_LEN] = {0};

	b[0] = 0x70;
	if (s->has_info && s->info <= UINT32_MAX) {
		b[0] |= FIXED_VALID;
		prk_put_be32(b + 3, (uint32_t)s->info);
	}
	b[2] = s->key & 0x0f;
	b[7] = FIXED_ADDL_LEN;
	b[12] = s->asc;
	b[13] = s->ascq;
	sks_encode(s, b + 15);
	prk_wr_bytes(buf, cap, 0, b, sizeof(b));
	return sizeof(b);
}

size_t prk_sense_encode_desc(const struct prk_sense *s, uint8_t *buf, size_t cap)
{
	uint8_t b[PRK_SENSE_DESC_MAX_LEN] = {0};
	size_t len = DESC_HDR_LEN;

	b[0] = 0x72;
	b[1] = s->key & 0x0f;
	b[2] = s->asc;
	b[3] = s->ascq;
	if (s->has_info) {
		b[len] = DESC_INFO;
		b[len + 1] = DESC_INFO_ADDL;
		b[len + 2] = 0x80; /* VALID */
		prk_put_be64(b + len + 4, s->info);
		len += DESC_INFO_LEN;
	}
	if (s->sksv) {
		b[len] = DESC_SKS;
		b[len + 1] = DESC_SKS_ADDL;
		sks_encode(s, b + len + 4);
		len += DESC_SKS_LEN;
	}
	b[7] = (uint8_t)(len - DESC_HDR_LEN);
	prk_wr_bytes(buf, cap, 0, b, len);
	return len;
}

/* Fixed format: at least the 8 bytes up to ADDITIONAL SENSE LENGTH must be
 * present. Later fields are read only when both the buffer and the
 * additional length cover them (short sense data from old devices is legal);
 * missing ones read as zero. */
static int sense_decode_fixed(const uint8_t *buf, size_t len, struct prk_sense *out)
{
	size_t end = DESC_HDR_LEN + (size_t)buf[7];

	if (end > len)
		end = len;
	out->key = buf[2] & 0x0f;
	out->has_info = buf[0] & FIXED_VALID;
	if (out->has_info)
		out->info = prk_get_be32(buf + 3);
	if (end >= 13)
		out->asc = buf[12];
	if (end >= 14)
		out->ascq = buf[13];
	if (end >= 18)
		sks_decode(buf + 15, out);
	return 0;
}

static int sense_desc_one(const uint8_t *d, struct prk_sense *out)
{
	uint8_t addl = d[1];

	switch (d[0]) {
	case DESC_INFO:
		if (addl < DESC_INFO_ADDL)
			return -1;
		out->has_info = d[2] & 0x80;
		out->info = out->has_info ? prk_get_be64(d + 4) : 0;
		return 0;
	case DESC_SKS:
		if (addl < DESC_SKS_ADDL)
			return -1;
		sks_decode(d + 4, out);
		return 0;
	default:
		return 0; /* not needed here: skipped */
	}
}

/* Descriptor format: the 8-byte header must be present. Descriptors are
 * walked within min(len, 8 + ADDITIONAL SENSE LENGTH); one that overruns that
 * bound, or a known one too short for its fields, makes the data invalid. */
static int sense_decode_desc(const uint8_t *buf, size_t len, struct prk_sense *out)
{
	size_t end = DESC_HDR_LEN + (size_t)buf[7];
	size_t pos = DESC_HDR_LEN;

	if (end > len)
		end = len;
	out->key = buf[1] & 0x0f;
	out->asc = buf[2];
	out->ascq = buf[3];
	while (pos < end) {
		size_t dlen;

		if (end - pos < 2)
			return -1;
		dlen = 2 + (size_t)buf[pos + 1];
		if (dlen > end - pos)
			return -1;
		if (sense_desc_one(buf + pos, out) < 0)
			return -1;
		pos += dlen;
	}
	return 0;
}

int prk_sense_decode(const uint8_t *buf, size_t len, struct prk_sense *out)
{
	memset(out, 0, sizeof(*out));
	if (len < FIXED_MIN_DECODE)
		return -1;
	switch (buf[0] & 0x7f) {
	case 0x70:
	case 0x71:
		return sense_decode_fixed(buf, len, out);
	case 0x72:
	case 0x73:
		return sense_decode_desc(buf, len, out);
	default:
		return -1;
	}
}

struct asc_name {
	uint16_t asc;
	const char *name;
};

static const struct asc_name asc_names[] = {
    {PRK_ASC_NONE, "NO ADDITIONAL SENSE INFORMATION"},
    {PRK_ASC_OPERATION_IN_PROGRESS, "OPERATION IN PROGRESS"},
    {PRK_ASC_THIRD_PARTY_INITIATOR_ERROR, "ERROR DETECTED BY THIRD PARTY TEMPORARY INITIATOR"},
    {PRK_ASC_THIRD_PARTY_DEVICE_FAILURE, "THIRD PARTY DEVICE FAILURE"},
    {PRK_ASC_COPY_TARGET_NOT_REACHABLE, "COPY TARGET DEVICE NOT REACHABLE"},
    {PRK_ASC_INCORRECT_COPY_TARGET_TYPE, "INCORRECT COPY TARGET DEVICE TYPE"},
    {PRK_ASC_COPY_TARGET_DATA_UNDERRUN, "COPY TARGET DEVICE DATA UNDERRUN"},
    {PRK_ASC_COPY_TARGET_DATA_OVERRUN, "COPY TARGET DEVICE DATA OVERRUN"},
    {PRK_ASC_LU_NOT_ACCESSIBLE_STANDBY,
     "LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN STANDBY STATE"},
    {PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE,
     "LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN UNAVAILABLE STATE"},
    {PRK_ASC_PARAMETER_LIST_LENGTH_ERROR, "PARAMETER LIST LENGTH ERROR"},
    {PRK_ASC_INVALID_COMMAND_OPCODE, "INVALID COMMAND OPERATION CODE"},
    {PRK_ASC_LBA_OUT_OF_RANGE, "LOGICAL BLOCK ADDRESS OUT OF RANGE"},
    {PRK_ASC_INVALID_FIELD_IN_CDB, "INVALID FIELD IN CDB"},
    {PRK_ASC_LU_NOT_SUPPORTED, "LOGICAL UNIT NOT SUPPORTED"},
    {PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, "INVALID FIELD IN PARAMETER LIST"},
    {PRK_ASC_INVALID_RELEASE_OF_PR, "INVALID RELEASE OF PERSISTENT RESERVATION"},
    {PRK_ASC_TOO_MANY_TARGET_DESCRIPTORS, "TOO MANY TARGET DESCRIPTORS"},
    {PRK_ASC_UNSUPPORTED_TARGET_DESCRIPTOR_TYPE, "UNSUPPORTED TARGET DESCRIPTOR TYPE CODE"},
    {PRK_ASC_TOO_MANY_SEGMENT_DESCRIPTORS, "TOO MANY SEGMENT DESCRIPTORS"},
    {PRK_ASC_UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE, "UNSUPPORTED SEGMENT DESCRIPTOR TYPE CODE"},
    {PRK_ASC_UNEXPECTED_INEXACT_SEGMENT, "UNEXPECTED INEXACT SEGMENT"},
    {PRK_ASC_INLINE_DATA_LENGTH_EXCEEDED, "INLINE DATA LENGTH EXCEEDED"},
    {PRK_ASC_INVALID_OPERATION_FOR_COPY, "INVALID OPERATION FOR COPY SOURCE OR DESTINATION"},
    {PRK_ASC_COPY_SEGMENT_GRANULARITY_VIOLATION, "COPY SEGMENT GRANULARITY VIOLATION"},
    {PRK_ASC_POWER_ON_RESET, "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED"},
    {PRK_ASC_POWER_ON_OCCURRED, "POWER ON OCCURRED"},
    {PRK_ASC_BUS_DEVICE_RESET, "BUS DEVICE RESET FUNCTION OCCURRED"},
    {PRK_ASC_MODE_PARAMETERS_CHANGED, "MODE PARAMETERS CHANGED"},
    {PRK_ASC_RESERVATIONS_PREEMPTED, "RESERVATIONS PREEMPTED"},
    {PRK_ASC_RESERVATIONS_RELEASED, "RESERVATIONS RELEASED"},
    {PRK_ASC_REGISTRATIONS_PREEMPTED, "REGISTRATIONS PREEMPTED"},
    {PRK_ASC_ASYMMETRIC_ACCESS_STATE_CHANGED, "ASYMMETRIC ACCESS STATE CHANGED"},
    {PRK_ASC_CAPACITY_DATA_CHANGED, "CAPACITY DATA HAS CHANGED"},
    {PRK_ASC_COMMANDS_CLEARED_BY_ANOTHER_INITIATOR, "COMMANDS CLEARED BY ANOTHER INITIATOR"},
    {PRK_ASC_REPORTED_LUNS_DATA_CHANGED, "REPORTED LUNS DATA HAS CHANGED"},
    {PRK_ASC_INTERNAL_TARGET_FAILURE, "INTERNAL TARGET FAILURE"},
    {PRK_ASC_PR_INFORMATION_LOST, "PERSISTENT RESERVATION INFORMATION LOST"},
    {PRK_ASC_PROTOCOL_SERVICE_CRC_ERROR, "PROTOCOL SERVICE CRC ERROR"},
    {PRK_ASC_DATA_PHASE_ERROR, "DATA PHASE ERROR"},
    {PRK_ASC_DATA_OFFSET_ERROR, "DATA OFFSET ERROR"},
    {PRK_ASC_INSUFFICIENT_RESOURCES, "INSUFFICIENT RESOURCES"},
    {PRK_ASC_INSUFFICIENT_REGISTRATION_RESOURCES, "INSUFFICIENT REGISTRATION RESOURCES"},
};

const char *prk_asc_name(uint16_t asc)
{
	for (size_t i = 0; i < sizeof(asc_names) / sizeof(asc_names[0]); i++)
		if (asc_names[i].asc == asc)
			return asc_names[i].name;
	return NULL;
}
