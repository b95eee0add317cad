/* CDB lengths, service actions and the PR / SPC-2 reservation CDBs. */
#include "prkit/scsi_cdb.h"

#include <string.h>

#include "be.h"

#define PR_CDB_LEN 10
#define SA_MASK 0x1f

size_t prk_cdb_len_of_opcode(uint8_t opcode)
{
	/* The group code is the top three bits of the operation code (SAM-5
	 * 5.2). Group 3 holds only 7Fh, whose length is in the CDB itself. */
	switch (opcode >> 5) {
	case 0:
		return 6;
	case 1:
	case 2:
		return 10;
	case 4:
		return 16;
	case 5:
		return 12;
	default:
		return 0;
	}
}

size_t prk_cdb_len(const uint8_t *cdb, size_t len)
{
	if (len < 1)
		return 0;
	if (cdb[0] == PRK_OP_VARIABLE) {
		if (len < 8)
			return 0;
		return 8 + (size_t)cdb[7]; /* ADDITIONAL CDB LENGTH */
	}
	return prk_cdb_len_of_opcode(cdb[0]);
}

int prk_cdb_service_action(const uint8_t *cdb, size_t len)
{
	if (len < 1)
		return -1;
	switch (cdb[0]) {
	case PRK_OP_PR_IN:
	case PRK_OP_PR_OUT:
	case PRK_OP_SERVICE_ACTION_IN16:
	case PRK_OP_SERVICE_ACTION_OUT16:
	case PRK_OP_MAINTENANCE_IN:
	case PRK_OP_MAINTENANCE_OUT:
		return len < 2 ? -1 : cdb[1] & SA_MASK;
	case PRK_OP_VARIABLE:
		return len < 10 ? -1 : prk_get_be16(cdb + 8);
	default:
		return -1;
	}
}

bool prk_pr_type_valid(uint8_t type)
{
	switch (type) {
	case PRK_PR_WE:
	case PRK_PR_EA:
	case PRK_PR_WE_RO:
	case PRK_PR_EA_RO:
	case PRK_PR_WE_AR:
	case PRK_PR_EA_AR:
		return true;
	default:
		return false;
	}
}

bool prk_pr_type_all_registrants(uint8_t type)
{
	return type == PRK_PR_WE_AR || type == PRK_PR_EA_AR;
}

bool prk_pr_type_registrants_only(uint8_t type)
{
	return type == PRK_PR_WE_RO || type == PRK_PR_EA_RO;
}

const char *prk_pr_type_name(uint8_t type)
{
	switch (type) {
	case PRK_PR_WE:
		return "WE";
	case PRK_PR_EA:
		return "EA";
	case PRK_PR_WE_RO:
		return "WE-RO";
	case PRK_PR_EA_RO:
		return "EA-RO";
	case PRK_PR_WE_AR:
		return "WE-AR";
	case PRK_PR_EA_AR:
		return "EA-AR";
	default:
		return "?";
	}
}

const char *prk_prout_sa_name(uint8_t sa)
{
	static const char *const names[] = {
	    [PRK_PROUT_REGISTER] = "REGISTER",
	    [PRK_PROUT_RESERVE] = "RESERVE",
	    [PRK_PROUT_RELEASE] = "RELEASE",
	    [PRK_PROUT_CLEAR] = "CLEAR",
	    [PRK_PROUT_PREEMPT] = "PREEMPT",
	    [PRK_PROUT_PREEMPT_AND_ABORT] = "PREEMPT AND ABORT",
	    [PRK_PROUT_REGISTER_AND_IGNORE] = "REGISTER AND IGNORE EXISTING KEY",
	    [PRK_PROUT_REGISTER_AND_MOVE] = "REGISTER AND MOVE",
	    [PRK_PROUT_REPLACE_LOST] = "REPLACE LOST RESERVATION",
	};

	return sa <= PRK_PROUT_SA_MAX ? names[sa] : "?";
}

/* A CDB shorter than its command's fixed length cannot be decoded at all;
 * this is reported against the operation code byte, the only field that
 * identifies what was expected. */
static int cdb_too_short(struct prk_field_err *err)
{
	prk_field_err_set(err, true, 0, -1, PRK_ASC_INVALID_FIELD_IN_CDB, "CDB");
	return -1;
}

static int cdb_bad_sa(struct prk_field_err *err)
{
	prk_field_err_set(err, true, 1, 4, PRK_ASC_INVALID_FIELD_IN_CDB, "SERVICE ACTION");
	return -1;
}

int prk_prout_cdb_decode(const uint8_t *cdb, size_t len, struct prk_prout_cdb *out,
                         struct prk_field_err *err)
{
	uint8_t sa;

	if (len < PR_CDB_LEN)
		return cdb_too_short(err);
	sa = cdb[1] & SA_MASK;
	if (sa > PRK_PROUT_SA_MAX)
		return cdb_bad_sa(err);
	out->sa = sa;
	out->scope = cdb[2] >> 4;
	out->type = cdb[2] & 0x0f;
	out->param_len = prk_get_be32(cdb + 5);
	return 0;
}

size_t prk_prout_cdb_encode(const struct prk_prout_cdb *in, uint8_t cdb[10])
{
	memset(cdb, 0, PR_CDB_LEN);
	cdb[0] = PRK_OP_PR_OUT;
	cdb[1] = in->sa & SA_MASK;
	cdb[2] = (uint8_t)(in->scope << 4 | (in->type & 0x0f));
	prk_put_be32(cdb + 5, in->param_len);
	return PR_CDB_LEN;
}

int prk_prin_cdb_decode(const uint8_t *cdb, size_t len, struct prk_prin_cdb *out,
                        struct prk_field_err *err)
{
	uint8_t sa;

	if (len < PR_CDB_LEN)
		return cdb_too_short(err);
	sa = cdb[1] & SA_MASK;
	if (sa > PRK_PRIN_SA_MAX)
		return cdb_bad_sa(err);
	out->sa = sa;
	out->alloc_len = prk_get_be16(cdb + 7);
	return 0;
}

size_t prk_prin_cdb_encode(const struct prk_prin_cdb *in, uint8_t cdb[10])
{
	memset(cdb, 0, PR_CDB_LEN);
	cdb[0] = PRK_OP_PR_IN;
	cdb[1] = in->sa & SA_MASK;
	prk_put_be16(cdb + 7, in->alloc_len);
	return PR_CDB_LEN;
}

static int spc2_bad_bit(struct prk_field_err *err, int8_t bit, const char *field)
{
	prk_field_err_set(err, true, 1, bit, PRK_ASC_INVALID_FIELD_IN_CDB, field);
	return -1;
}

/* RESERVE(6)/RELEASE(6) byte 1 (SPC-2): bit 4 3RDPTY, bits 3..1 THIRD-PARTY
 * DEVICE ID, bit 0 EXTENT. */
static int spc2_check6(const uint8_t *cdb, size_t len, struct prk_field_err *err)
{
	if (len < 6)
		return cdb_too_short(err);
	if (cdb[1] & 0x01)
		return spc2_bad_bit(err, 0, "EXTENT");
	if (cdb[1] & 0x1e)
		return spc2_bad_bit(err, 4, "3RDPTY");
	return 0;
}

/* RESERVE(10)/RELEASE(10) byte 1 (SPC-2): bit 4 3RDPTY, bit 1 LONGID. */
static int spc2_check10(const uint8_t *cdb, size_t len, struct prk_field_err *err)
{
	if (len < 10)
		return cdb_too_short(err);
	if (cdb[1] & 0x10)
		return spc2_bad_bit(err, 4, "3RDPTY");
	if (cdb[1] & 0x02)
		return spc2_bad_bit(err, 1, "LONGID");
	return 0;
}

int prk_spc2_cdb_decode(const uint8_t *cdb, size_t len, struct prk_spc2_cdb *out,
                        struct prk_field_err *err)
{
	int rc;

	if (len < 1)
		return cdb_too_short(err);
	switch (cdb[0]) {
	case PRK_OP_RESERVE6:
	case PRK_OP_RELEASE6:
		rc = spc2_check6(cdb, len, err);
		break;
	case PRK_OP_RESERVE10:
	case PRK_OP_RELEASE10:
		rc = spc2_check10(cdb, len, err);
		break;
	default:
		prk_field_err_set(err, true, 0, -1, PRK_ASC_INVALID_FIELD_IN_CDB, "OPERATION CODE");
		return -1;
	}
	if (rc < 0)
		return rc;
	out->reserve = cdb[0] == PRK_OP_RESERVE6 || cdb[0] == PRK_OP_RESERVE10;
	return 0;
}
