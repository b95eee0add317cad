/* `prkit persist`: from a command's outcome to sg3_utils' exit status, and
 * the words for it. */
#include "persist_exit.h"

#include <string.h>

#include "prkit/scsi_cdb.h"
#include "prkit/scsi_sense.h"

/* SAM status codes beyond enum prk_status. */
#define ST_CONDITION_MET 0x04
#define ST_ACA_ACTIVE 0x30

#define SK_BLANK_CHECK 0x8
#define SK_COPY_ABORTED 0xa

/* sg_err_category_sense(), for a decoded sense key and ASC/ASCQ. */
static int sense_category(int sk, int asc_ascq)
{
	int asc = (asc_ascq >> 8) & 0xff, ascq = asc_ascq & 0xff;

	switch (sk) {
	case PRK_SK_NO_SENSE:
	case PRK_SK_RECOVERED_ERROR:
		/* sg_persist's PR IN/OUT helpers (sg_cmds_extra.c) report both
		 * as success. */
		return PRK_PERSIST_EXIT_OK;
	case PRK_SK_NOT_READY:
		if (asc != 0x04)
			return PRK_PERSIST_EXIT_NOT_READY;
		switch (ascq) {
		case 0x04: /* format in progress */
		case 0x05: /* rebuild in progress */
		case 0x06: /* recalculation in progress */
		case 0x14: /* space allocation in progress */
		case 0x1b: /* sanitize in progress */
		case 0x1d: /* configuration in progress */
		case 0x24: /* depopulation in progress */
		case 0x25: /* depopulation restoration in progress */
			return PRK_PERSIST_EXIT_IN_PROGRESS;
		case 0x0b:
			return PRK_PERSIST_EXIT_STANDBY;
		case 0x0c:
			return PRK_PERSIST_EXIT_UNAVAILABLE;
		default:
			return PRK_PERSIST_EXIT_NOT_READY;
		}
	case PRK_SK_MEDIUM_ERROR:
	case PRK_SK_HARDWARE_ERROR:
	case SK_BLANK_CHECK:
		return PRK_PERSIST_EXIT_MEDIUM_HARD;
	case PRK_SK_ILLEGAL_REQUEST:
		if (asc_ascq == PRK_ASC_INVALID_COMMAND_OPCODE)
			return PRK_PERSIST_EXIT_INVALID_OP;
		if (asc_ascq == PRK_ASC_LBA_OUT_OF_RANGE)
			return PRK_PERSIST_EXIT_LBA_OUT_OF_RANGE;
		if (asc_ascq == PRK_ASC_INVALID_FIELD_IN_PARAM_LIST)
			return PRK_PERSIST_EXIT_INVALID_PARAM;
		return PRK_PERSIST_EXIT_ILLEGAL_REQ;
	case PRK_SK_UNIT_ATTENTION:
		return PRK_PERSIST_EXIT_UNIT_ATTENTION;
	case PRK_SK_DATA_PROTECT:
		return PRK_PERSIST_EXIT_DATA_PROTECT;
	case SK_COPY_ABORTED:
		return PRK_PERSIST_EXIT_COPY_ABORTED;
	case PRK_SK_ABORTED_COMMAND:
		return asc == 0x10 ? PRK_PERSIST_EXIT_PROTECTION : PRK_PERSIST_EXIT_ABORTED_COMMAND;
	case PRK_SK_MISCOMPARE:
		return PRK_PERSIST_EXIT_MISCOMPARE;
	default: /* vendor specific, reserved, VOLUME OVERFLOW, COMPLETED, none */
		return PRK_PERSIST_EXIT_SENSE;
	}
}

int prk_persist_exit_status(int scsi_status, int sense_key, int asc_ascq)
{
	switch (scsi_status) {
	case PRK_PERSIST_OUTCOME_TIMEOUT:
		return PRK_PERSIST_EXIT_TIMEOUT;
	case PRK_PERSIST_OUTCOME_TRANSPORT:
		return PRK_PERSIST_EXIT_TRANSPORT;
	case PRK_PERSIST_OUTCOME_CONNECT:
		return PRK_PERSIST_EXIT_FILE_ERROR;
	case PRK_PERSIST_OUTCOME_MALFORMED:
		return PRK_PERSIST_EXIT_MALFORMED;
	case PRK_STATUS_GOOD:
		return PRK_PERSIST_EXIT_OK;
	case PRK_STATUS_CHECK_CONDITION:
		return sense_category(sense_key, asc_ascq);
	case ST_CONDITION_MET:
		return PRK_PERSIST_EXIT_CONDITION_MET;
	case PRK_STATUS_BUSY:
		return PRK_PERSIST_EXIT_BUSY;
	case PRK_STATUS_RESERVATION_CONFLICT:
		return PRK_PERSIST_EXIT_RES_CONFLICT;
	case PRK_STATUS_TASK_SET_FULL:
		return PRK_PERSIST_EXIT_TASK_SET_FULL;
	case ST_ACA_ACTIVE:
		return PRK_PERSIST_EXIT_ACA_ACTIVE;
	case PRK_STATUS_TASK_ABORTED:
		return PRK_PERSIST_EXIT_TASK_ABORTED;
	default:
		return PRK_PERSIST_EXIT_OTHER;
	}
}

int prk_persist_exit_from_sense(int scsi_status, const uint8_t *sense, size_t sense_len)
{
	struct prk_sense s;

	if (scsi_status == PRK_STATUS_CHECK_CONDITION && sense &&
	    prk_sense_decode(sense, sense_len, &s) == 0)
		return prk_persist_exit_status(scsi_status, s.key, s.asc << 8 | s.ascq);
	return prk_persist_exit_status(scsi_status, -1, 0);
}

static const struct {
	int code;
	const char *str;
} exit_strs[] = {
    {PRK_PERSIST_EXIT_OK, "Success"},
    {PRK_PERSIST_EXIT_SYNTAX, "Syntax error"},
    {PRK_PERSIST_EXIT_NOT_READY, "Device not ready"},
    {PRK_PERSIST_EXIT_MEDIUM_HARD, "Medium or hardware error"},
    {PRK_PERSIST_EXIT_ILLEGAL_REQ, "Illegal request"},
    {PRK_PERSIST_EXIT_UNIT_ATTENTION, "Unit attention"},
    {PRK_PERSIST_EXIT_DATA_PROTECT, "Data protect"},
    {PRK_PERSIST_EXIT_INVALID_OP, "Illegal request, invalid opcode"},
    {PRK_PERSIST_EXIT_COPY_ABORTED, "Copy aborted"},
    {PRK_PERSIST_EXIT_ABORTED_COMMAND, "Aborted command"},
    {PRK_PERSIST_EXIT_STANDBY, "Not ready, target port in standby state"},
    {PRK_PERSIST_EXIT_UNAVAILABLE, "Not ready, target port in unavailable state"},
    {PRK_PERSIST_EXIT_MISCOMPARE, "Miscompare"},
    {PRK_PERSIST_EXIT_FILE_ERROR, "Cannot connect to or log in to the target"},
    {PRK_PERSIST_EXIT_IN_PROGRESS, "Not ready, operation in progress"},
    {PRK_PERSIST_EXIT_INVALID_PARAM, "Illegal request, invalid field in parameter list"},
    {PRK_PERSIST_EXIT_NO_SENSE, "No sense"},
    {PRK_PERSIST_EXIT_RECOVERED, "Recovered error"},
    {PRK_PERSIST_EXIT_LBA_OUT_OF_RANGE, "Illegal request, LBA out of range"},
    {PRK_PERSIST_EXIT_RES_CONFLICT, "Reservation conflict"},
    {PRK_PERSIST_EXIT_CONDITION_MET, "Condition met"},
    {PRK_PERSIST_EXIT_BUSY, "Busy"},
    {PRK_PERSIST_EXIT_TASK_SET_FULL, "Task set full"},
    {PRK_PERSIST_EXIT_ACA_ACTIVE, "ACA active"},
    {PRK_PERSIST_EXIT_TASK_ABORTED, "Task aborted"},
    {PRK_PERSIST_EXIT_CONTRADICT, "Contradicting command line options"},
    {PRK_PERSIST_EXIT_TIMEOUT, "Command timed out"},
    {PRK_PERSIST_EXIT_TRANSPORT, "Transport error"},
    {PRK_PERSIST_EXIT_PROTECTION, "Aborted command, protection information"},
    {PRK_PERSIST_EXIT_MALFORMED, "Malformed response"},
    {PRK_PERSIST_EXIT_SENSE, "Unexpected sense data"},
    {PRK_PERSIST_EXIT_OTHER, "Other error"},
};

const char *prk_persist_exit_str(int exit_status)
{
	for (size_t i = 0; i < sizeof(exit_strs) / sizeof(exit_strs[0]); i++)
		if (exit_strs[i].code == exit_status)
			return exit_strs[i].str;
	return "Unknown exit status";
}

static const char *const sense_key_names[16] = {
    "NO SENSE",       "RECOVERED ERROR", "NOT READY",      "MEDIUM ERROR",
    "HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT",
    "BLANK CHECK",    "VENDOR SPECIFIC", "COPY ABORTED",   "ABORTED COMMAND",
    "RESERVED (0xc)", "VOLUME OVERFLOW", "MISCOMPARE",     "COMPLETED",
};

static const char *status_name(int st)
{
	switch (st) {
	case PRK_STATUS_GOOD:
		return "GOOD";
	case PRK_STATUS_CHECK_CONDITION:
		return "CHECK CONDITION";
	case ST_CONDITION_MET:
		return "CONDITION MET";
	case PRK_STATUS_BUSY:
		return "BUSY";
	case PRK_STATUS_RESERVATION_CONFLICT:
		return "RESERVATION CONFLICT";
	case PRK_STATUS_TASK_SET_FULL:
		return "TASK SET FULL";
	case ST_ACA_ACTIVE:
		return "ACA ACTIVE";
	case PRK_STATUS_TASK_ABORTED:
		return "TASK ABORTED";
	default:
		return NULL;
	}
}

int prk_persist_describe(char *buf, size_t len, int scsi_status, int sense_key, int asc_ascq)
{
	int ex = prk_persist_exit_status(scsi_status, sense_key, asc_ascq);
	const char *st = status_name(scsi_status);

	switch (scsi_status) {
	case PRK_PERSIST_OUTCOME_TIMEOUT:
		return snprintf(buf, len, "no answer within the timeout: exit status %d", ex);
	case PRK_PERSIST_OUTCOME_TRANSPORT:
		return snprintf(buf, len, "the iSCSI session failed: exit status %d", ex);
	case PRK_PERSIST_OUTCOME_CONNECT:
		return snprintf(buf, len,
		                "cannot connect to or log in to the target: exit status %d", ex);
	case PRK_PERSIST_OUTCOME_MALFORMED:
		return snprintf(buf, len, "malformed response: exit status %d", ex);
	default:
		break;
	}
	if (scsi_status == PRK_STATUS_CHECK_CONDITION) {
		const char *asc_name = prk_asc_name((uint16_t)asc_ascq);

		if (sense_key < 0 || sense_key > 15)
			return snprintf(buf, len,
			                "CHECK CONDITION without sense data: exit status %d", ex);
		if (asc_name)
			return snprintf(
			    buf, len,
			    "CHECK CONDITION, sense key %s, %s (asc/ascq %02x/%02x): exit "
			    "status %d",
			    sense_key_names[sense_key], asc_name, (asc_ascq >> 8) & 0xff,
			    asc_ascq & 0xff, ex);
		return snprintf(
		    buf, len, "CHECK CONDITION, sense key %s, asc/ascq %02x/%02x: exit status %d",
		    sense_key_names[sense_key], (asc_ascq >> 8) & 0xff, asc_ascq & 0xff, ex);
	}
	if (st)
		return snprintf(buf, len, "%s: exit status %d", st, ex);
	if (scsi_status < 0)
		return snprintf(buf, len, "error: exit status %d", ex);
	return snprintf(buf, len, "SCSI status 0x%02x: exit status %d", scsi_status & 0xff, ex);
}

/* sg_persist's names of the service actions in its messages. */
static const char *const prin_strs[] = {"Read keys", "Read reservation", "Report capabilities",
                                        "Read full status"};
static const char *const prout_strs[] = {"Register",
                                         "Reserve",
                                         "Release",
                                         "Clear",
                                         "Preempt",
                                         "Preempt and abort",
                                         "Register and ignore existing key",
                                         "Register and move",
                                         "Replace lost reservation"};

void prk_persist_print_outcome(FILE *err, const struct prk_persist_args *a, int exit_status)
{
	bool out = a->dir == PRK_PERSIST_OUT;
	bool move = out && a->prout_sa == PRK_PROUT_REGISTER_AND_MOVE;
	const char *sa = out ? (a->prout_sa <= PRK_PROUT_SA_MAX ? prout_strs[a->prout_sa] : "?")
	                     : (a->prin_sa <= PRK_PRIN_SA_MAX ? prin_strs[a->prin_sa] : "?");

	if (exit_status == PRK_PERSIST_EXIT_OK) {
		if (!out || !a->verbose)
			return;
		if (move)
			fputs("PR out (register and move): command successful\n", err);
		else
			fprintf(err, "PR out: command (%s) successful\n", sa);
		return;
	}
	if (exit_status != PRK_PERSIST_EXIT_MALFORMED) {
		if (move) {
			if (exit_status == PRK_PERSIST_EXIT_INVALID_OP)
				fputs("PR out (register and move): command not supported\n", err);
			else if (exit_status == PRK_PERSIST_EXIT_ILLEGAL_REQ)
				fputs("PR out (register and move): bad field in cdb (perhaps "
				      "unsupported service action)\n",
				      err);
			else if (exit_status == PRK_PERSIST_EXIT_INVALID_PARAM)
				fputs("PR out (register and move): bad field in parameter list\n",
				      err);
			else
				fprintf(err, "PR out (register and move): %s\n",
				        prk_persist_exit_str(exit_status));
		} else if (out) {
			if (exit_status == PRK_PERSIST_EXIT_INVALID_OP)
				fprintf(err, "PR out (%s): command not supported\n", sa);
			else if (exit_status == PRK_PERSIST_EXIT_ILLEGAL_REQ)
				fprintf(
				    err,
				    "PR out (%s): bad field in cdb (perhaps unsupported service "
				    "action)\n",
				    sa);
			else if (exit_status == PRK_PERSIST_EXIT_INVALID_PARAM)
				fprintf(err, "PR out (%s): bad field parameter list\n", sa);
			else
				fprintf(err, "PR out (%s): %s\n", sa,
				        prk_persist_exit_str(exit_status));
		} else {
			if (exit_status == PRK_PERSIST_EXIT_INVALID_OP)
				fprintf(err, "PR in (%s): command not supported\n", sa);
			else if (exit_status == PRK_PERSIST_EXIT_ILLEGAL_REQ)
				fprintf(err,
				        "PR in (%s): bad field in cdb or parameter list (perhaps "
				        "unsupported service action)\n",
				        sa);
			else
				fprintf(err, "PR in (%s): %s\n", sa,
				        prk_persist_exit_str(exit_status));
		}
	}
	if (!a->verbose)
		fprintf(err, "prkit persist failed: %s\n", prk_persist_exit_str(exit_status));
}

int prk_persist_exit_of_host_err(const struct prk_host_err *e)
{
	if (e->code == PRK_HE_NO_PATH && e->status < 0)
		return e->path < 0 ? PRK_PERSIST_EXIT_FILE_ERROR : PRK_PERSIST_EXIT_TRANSPORT;
	if (e->code == PRK_HE_TIMEOUT)
		return PRK_PERSIST_EXIT_TIMEOUT;
	if (e->code == PRK_HE_STATE || e->code == PRK_HE_USAGE)
		return PRK_PERSIST_EXIT_OTHER;
	if (e->code == PRK_HE_SCSI && e->status == 0)
		return PRK_PERSIST_EXIT_MALFORMED;
	return prk_persist_exit_status(e->status, e->sense_key, e->asc);
}
