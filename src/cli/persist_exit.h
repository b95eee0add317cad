/* `prkit persist`: exit statuses. The values are sg3_utils' (sg3_utils(8),
 * include/sg_lib.h), so scripts written for sg_persist keep working; the
 * mapping from a command's outcome follows sg_lib's sg_err_category_sense()
 * and the PR IN/OUT helpers of sg_cmds_extra.c. Pure. */
#ifndef PRKIT_CLI_PERSIST_EXIT_H
#define PRKIT_CLI_PERSIST_EXIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "persist_args.h"
#include "prkit/host.h"

enum prk_persist_exit {
	PRK_PERSIST_EXIT_OK = 0,
	/* PRK_PERSIST_EXIT_SYNTAX = 1 (persist_args.h) */
	PRK_PERSIST_EXIT_NOT_READY = 2,
	PRK_PERSIST_EXIT_MEDIUM_HARD = 3,
	PRK_PERSIST_EXIT_ILLEGAL_REQ = 5,
	PRK_PERSIST_EXIT_UNIT_ATTENTION = 6,
	PRK_PERSIST_EXIT_DATA_PROTECT = 7,
	PRK_PERSIST_EXIT_INVALID_OP = 9,
	PRK_PERSIST_EXIT_COPY_ABORTED = 10,
	PRK_PERSIST_EXIT_ABORTED_COMMAND = 11,
	PRK_PERSIST_EXIT_STANDBY = 12,
	PRK_PERSIST_EXIT_UNAVAILABLE = 13,
	PRK_PERSIST_EXIT_MISCOMPARE = 14,
	PRK_PERSIST_EXIT_FILE_ERROR = 15,
	PRK_PERSIST_EXIT_IN_PROGRESS = 16,
	PRK_PERSIST_EXIT_INVALID_PARAM = 19,
	PRK_PERSIST_EXIT_NO_SENSE = 20,
	PRK_PERSIST_EXIT_RECOVERED = 21,
	PRK_PERSIST_EXIT_LBA_OUT_OF_RANGE = 22,
	PRK_PERSIST_EXIT_RES_CONFLICT = 24,
	PRK_PERSIST_EXIT_CONDITION_MET = 25,
	PRK_PERSIST_EXIT_BUSY = 26,
	PRK_PERSIST_EXIT_TASK_SET_FULL = 27,
	PRK_PERSIST_EXIT_ACA_ACTIVE = 28,
	PRK_PERSIST_EXIT_TASK_ABORTED = 29,
	/* PRK_PERSIST_EXIT_CONTRADICT = 31 (persist_args.h) */
	PRK_PERSIST_EXIT_TIMEOUT = 33,
	PRK_PERSIST_EXIT_TRANSPORT = 35,
	PRK_PERSIST_EXIT_PROTECTION = 40,
	PRK_PERSIST_EXIT_MALFORMED = 97,
	PRK_PERSIST_EXIT_SENSE = 98,
	PRK_PERSIST_EXIT_OTHER = 99,
};

/* Outcomes that are not a SCSI status, passed as scsi_status (negative so
 * that they never collide with a status byte). */
enum prk_persist_outcome {
	/* -1 as in struct prk_host_err (include/prkit/host.h): a transport failure */
	PRK_PERSIST_OUTCOME_TRANSPORT = -1, /* the session failed during the command: 35 */
	PRK_PERSIST_OUTCOME_TIMEOUT = -2,   /* no answer within --timeout: 33 */
	PRK_PERSIST_OUTCOME_CONNECT = -3,   /* could not connect or log in (sg_persist's
	                                       "cannot open the device"): 15 */
	PRK_PERSIST_OUTCOME_MALFORMED = -4, /* the response failed sanity checks: 97 */
	PRK_PERSIST_OUTCOME_OTHER = -5,     /* anything else: 99 */
};

/* The exit status for one command's outcome.
 *   scsi_status: the SAM status byte, or an enum prk_persist_outcome;
 *   sense_key:   with CHECK CONDITION, the sense key, or -1 when there was
 *                no (decodable) sense data;
 *   asc_ascq:    (ASC << 8) | ASCQ.
 * GOOD is 0. CHECK CONDITION follows sg_err_category_sense(); RECOVERED
 * ERROR and NO SENSE count as success (0), as sg_persist's PR IN/OUT
 * helpers treat them. */
int prk_persist_exit_status(int scsi_status, int sense_key, int asc_ascq);

/* The same from raw sense data (fixed or descriptor format). */
int prk_persist_exit_from_sense(int scsi_status, const uint8_t *sense, size_t sense_len);

/* A short name for an exit status ("Reservation conflict"), never NULL. */
const char *prk_persist_exit_str(int exit_status);

/* One line (no newline) for stderr that describes an outcome, e.g.
 * "CHECK CONDITION, sense key ILLEGAL REQUEST, INVALID FIELD IN CDB
 * (asc/ascq 24/00): exit status 5". Returns what snprintf returns. */
int prk_persist_describe(char *buf, size_t len, int scsi_status, int sense_key, int asc_ascq);

/* What sg_persist prints on stderr when a command fails: "PR in (Read
 * keys): command not supported" and the like, then (without --verbose)
 * "prkit persist failed: <prk_persist_exit_str>". With exit_status 0 and
 * --verbose after a PR OUT, its success line ("PR out: command (Register)
 * successful"). Prints nothing else. */
void prk_persist_print_outcome(FILE *err, const struct prk_persist_args *a, int exit_status);

/* The exit status for a host library failure (prkit persist, prkit copy):
 * a path that never came up is 15 (cannot open), one lost during the
 * command 35, a timeout 33, state and usage errors 99, GOOD with unusable
 * data 97, else the SCSI outcome as prk_persist_exit_status. */
int prk_persist_exit_of_host_err(const struct prk_host_err *e);

#endif
