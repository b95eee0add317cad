/* The access check: may this command from this I_T nexus run now?
 * An explicit table of operation codes and service actions (pr-rules.md
 * B3, SPC-4 and SBC-3 "commands allowed in the presence of various
 * reservations"); anything not in it is a medium write, the most
 * restricted class. Nothing is decided by data direction. */
#include "pr_internal.h"

/* Table entries hold class + 1 so that the zero default means "unknown". */
#define A (PRK_CLASS_ALWAYS + 1)
#define R (PRK_CLASS_READ + 1)
#define W (PRK_CLASS_WRITE + 1)
#define AR (PRK_CLASS_ADMIN_READ + 1)
#define AW (PRK_CLASS_ADMIN_WRITE + 1)
#define PR (PRK_CLASS_PR + 1)
#define S2 (PRK_CLASS_SPC2 + 1)
#define SA 0xff /* depends on the service action or a CDB field */

static const uint8_t op_class[256] = {
    [PRK_OP_TEST_UNIT_READY] = A,
    [PRK_OP_REQUEST_SENSE] = A,
    [PRK_OP_FORMAT_UNIT] = W,
    [PRK_OP_REASSIGN_BLOCKS] = W,
    [PRK_OP_READ6] = R,
    [PRK_OP_WRITE6] = W,
    [PRK_OP_INQUIRY] = A,
    [PRK_OP_MODE_SELECT6] = AW,
    [PRK_OP_RESERVE6] = S2,
    [PRK_OP_RELEASE6] = S2,
    [PRK_OP_MODE_SENSE6] = AR,
    [PRK_OP_START_STOP_UNIT] = AW,
    [PRK_OP_RECEIVE_DIAGNOSTIC] = AR,
    [PRK_OP_SEND_DIAGNOSTIC] = AW,
    [PRK_OP_PREVENT_ALLOW] = SA,
    [PRK_OP_READ_CAPACITY10] = A,
    [PRK_OP_READ10] = R,
    [PRK_OP_WRITE10] = W,
    [PRK_OP_WRITE_VERIFY10] = W,
    [PRK_OP_VERIFY10] = R,
    [PRK_OP_PRE_FETCH10] = R,
    [PRK_OP_SYNC_CACHE10] = W,
    [PRK_OP_READ_DEFECT10] = R, /* reads (what the medium says about) the medium */
    [PRK_OP_WRITE_BUFFER] = AW,
    [PRK_OP_READ_BUFFER] = AR,
    [PRK_OP_READ_LONG10] = R,
    [PRK_OP_WRITE_LONG10] = W,
    [PRK_OP_WRITE_SAME10] = W,
    [PRK_OP_UNMAP] = W,
    [PRK_OP_SANITIZE] = W,
    [PRK_OP_LOG_SELECT] = AW,
    [PRK_OP_LOG_SENSE] = A,
    [PRK_OP_MODE_SELECT10] = AW,
    [PRK_OP_RESERVE10] = S2,
    [PRK_OP_RELEASE10] = S2,
    [PRK_OP_MODE_SENSE10] = AR,
    [PRK_OP_PR_IN] = PR,
    [PRK_OP_PR_OUT] = PR,
    [PRK_OP_VARIABLE] = SA,
    [PRK_OP_EXTENDED_COPY] = W,
    [PRK_OP_RECEIVE_COPY_RESULTS] = AW,
    [PRK_OP_ACCESS_CONTROL_IN] = A,
    [PRK_OP_ACCESS_CONTROL_OUT] = A,
    [PRK_OP_READ16] = R,
    [PRK_OP_COMPARE_AND_WRITE] = W,
    [PRK_OP_WRITE16] = W,
    [PRK_OP_ORWRITE16] = W,
    [PRK_OP_READ_ATTRIBUTE] = AR,
    [PRK_OP_WRITE_ATTRIBUTE] = AW,
    [PRK_OP_WRITE_VERIFY16] = W,
    [PRK_OP_VERIFY16] = R,
    [PRK_OP_PRE_FETCH16] = R,
    [PRK_OP_SYNC_CACHE16] = W,
    [PRK_OP_WRITE_SAME16] = W,
    [PRK_OP_WRITE_ATOMIC16] = W,
    [PRK_OP_SERVICE_ACTION_IN16] = SA,
    [PRK_OP_SERVICE_ACTION_OUT16] = W,
    [PRK_OP_REPORT_LUNS] = A,
    [PRK_OP_SECURITY_PROTOCOL_IN] = AR,
    [PRK_OP_MAINTENANCE_IN] = SA,
    [PRK_OP_MAINTENANCE_OUT] = AW,
    [PRK_OP_READ12] = R,
    [PRK_OP_WRITE12] = W,
    [PRK_OP_WRITE_VERIFY12] = W,
    [PRK_OP_VERIFY12] = R,
    [PRK_OP_SECURITY_PROTOCOL_OUT] = AW,
    [PRK_OP_READ_DEFECT12] = R,
};

/* The class of an opcode whose class depends on its service action or a
 * CDB field; -1 for a service action the table does not know. */
static int by_service_action(const uint8_t *cdb, size_t len)
{
	int sa = prk_cdb_service_action(cdb, len);
	switch (cdb[0]) {
	case PRK_OP_PREVENT_ALLOW:
		/* PREVENT = 0 (allow removal) is harmless; anything else pins
		 * the medium for this nexus. */
		return len >= 5 && (cdb[4] & 0x3) == 0 ? PRK_CLASS_ALWAYS : PRK_CLASS_ADMIN_WRITE;
	case PRK_OP_SERVICE_ACTION_IN16:
		switch (sa) {
		case PRK_SAI_READ_CAPACITY16:
			return PRK_CLASS_ALWAYS;
		case PRK_SAI_READ_LONG16:
		case PRK_SAI_GET_LBA_STATUS:
			return PRK_CLASS_READ;
		case PRK_SAI_REPORT_REFERRALS:
			return PRK_CLASS_ADMIN_READ;
		}
		break;
	case PRK_OP_MAINTENANCE_IN:
		switch (sa) {
		case PRK_MI_REPORT_IDENTIFYING_INFO:
		case PRK_MI_REPORT_TARGET_PGS:
		case PRK_MI_REPORT_ALIASES:
		case PRK_MI_REPORT_PRIORITY:
		case PRK_MI_REPORT_TIMESTAMP:
			return PRK_CLASS_ALWAYS;
		case PRK_MI_REPORT_SUPPORTED_OPCODES:
		case PRK_MI_REPORT_SUPPORTED_TMFS:
		case PRK_MI_MANAGEMENT_PROTOCOL_IN:
			return PRK_CLASS_ADMIN_READ;
		}
		break;
	case PRK_OP_VARIABLE:
		switch (sa) {
		case PRK_VAR_READ32:
		case PRK_VAR_VERIFY32:
			return PRK_CLASS_READ;
		}
		break;
	}
	return -1;
}

/* The table's class, or -1 when neither the opcode nor its service action
 * is in it. */
static int class_of(const uint8_t *cdb, size_t cdb_len)
{
	if (!cdb_len)
		return -1;
	uint8_t v = op_class[cdb[0]];
	if (v == SA)
		return by_service_action(cdb, cdb_len);
	return v ? v - 1 : -1;
}

enum prk_cmd_class prk_pr_classify(const uint8_t *cdb, size_t cdb_len)
{
	int c = class_of(cdb, cdb_len);
	return c < 0 ? PRK_CLASS_WRITE : (enum prk_cmd_class)c; /* unknown: most restricted */
}

bool prk_pr_class_known(const uint8_t *cdb, size_t cdb_len)
{
	return class_of(cdb, cdb_len) >= 0;
}

void prk_pr_lost_sense(struct prk_sense *s)
{
	/* (verify) docs/pr-engine.md: 44h is the internal-target-failure
	 * family, reported with HARDWARE ERROR. */
	prk_sense_set(s, PRK_SK_HARDWARE_ERROR, PRK_ASC_PR_INFORMATION_LOST);
}

/* While another nexus holds an SPC-2 reservation (SPC-2 5.5.1). */
static bool spc2_exempt(const uint8_t *cdb, size_t len)
{
	switch (cdb[0]) {
	case PRK_OP_INQUIRY:
	case PRK_OP_REPORT_LUNS:
	case PRK_OP_REQUEST_SENSE:
	case PRK_OP_LOG_SENSE:
		return true;
	case PRK_OP_MAINTENANCE_IN:
		return prk_cdb_service_action(cdb, len) == PRK_MI_REPORT_TARGET_PGS;
	}
	return false;
}

static enum prk_access verdict(bool ok)
{
	return ok ? PRK_ACCESS_ALLOWED : PRK_ACCESS_CONFLICT;
}

enum prk_access prk_pr_access(const struct prk_pr_state *st, const struct prk_nexus *from,
                              const uint8_t *cdb, size_t cdb_len)
{
	/* The common case: nothing reserved, nothing lost. */
	if (!st->resv && !st->spc2 && !st->lost)
		return PRK_ACCESS_ALLOWED;
	if (!cdb_len)
		return PRK_ACCESS_CONFLICT;
	enum prk_cmd_class cls = prk_pr_classify(cdb, cdb_len);
	if (cls == PRK_CLASS_PR || cls == PRK_CLASS_SPC2)
		return PRK_ACCESS_ALLOWED; /* decided when the command runs */
	if (st->spc2 && !prk_nexus_eq(&st->spc2_holder, from) && !spc2_exempt(cdb, cdb_len))
		return PRK_ACCESS_CONFLICT;
	if (cls == PRK_CLASS_ALWAYS)
		return PRK_ACCESS_ALLOWED;
	if (st->lost)
		return PRK_ACCESS_LOST;
	if (!st->resv)
		return PRK_ACCESS_ALLOWED;

	const bool read = cls == PRK_CLASS_READ || cls == PRK_CLASS_ADMIN_READ;
	switch (st->type) {
	case PRK_PR_WE:
		return read ? PRK_ACCESS_ALLOWED : verdict(prk_reg_find(st, from) == st->holder);
	case PRK_PR_EA:
		return verdict(prk_reg_find(st, from) == st->holder);
	case PRK_PR_WE_RO:
	case PRK_PR_WE_AR:
		/* Every registrant may write (and for AR, holds the reservation). */
		return read ? PRK_ACCESS_ALLOWED : verdict(prk_reg_find(st, from) >= 0);
	case PRK_PR_EA_RO:
	case PRK_PR_EA_AR:
		return verdict(prk_reg_find(st, from) >= 0);
	}
	return PRK_ACCESS_CONFLICT;
}
