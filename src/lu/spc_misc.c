/* Small SPC commands: TEST UNIT READY, REQUEST SENSE, START STOP UNIT and
 * REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS (REPORT TARGET PORT GROUPS is
 * in alua.c). */
#include "lu_internal.h"

void prk_lu_test_unit_ready(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	prk_lu_finish(lu, cmd);
}

/* The medium is always ready: START STOP UNIT (power conditions, LOEJ,
 * IMMED) completes with GOOD and changes nothing. */
void prk_lu_start_stop(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	prk_lu_finish(lu, cmd);
}

/* Adds the progress indication (SPC-4 4.5.2.4.4) to encoded sense data:
 * SKSV and the SENSE KEY SPECIFIC bytes of fixed format, or a sense key
 * specific descriptor appended to descriptor format. Returns the length. */
static size_t progress_indication(uint8_t *b, size_t n, size_t cap, bool desc, uint16_t progress)
{
	if (!desc) {
		if (n < 18)
			return n;
		b[15] = 0x80;
		prk_put_be16(b + 16, progress);
		return n;
	}
	if (n + 8 > cap)
		return n;
	uint8_t *d = b + n;
	memset(d, 0, 8);
	d[0] = 0x02; /* sense key specific */
	d[1] = 0x06;
	d[4] = 0x80; /* SKSV */
	prk_put_be16(d + 5, progress);
	b[7] = (uint8_t)(b[7] + 8);
	return n + 8;
}

/* A pending unit attention is returned as the sense data (and cleared);
 * then the state of a SANITIZE (in progress, with its progress, or
 * failed); otherwise NO SENSE. DESC=1 asks for descriptor format. The command
 * itself completes with GOOD (SPC-4 6.39). */
void prk_lu_request_sense(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb;
	struct prk_sense s;
	uint8_t buf[PRK_SENSE_DESC_MAX_LEN];
	uint16_t asc = prk_lu_ua_deliver(lu, cmd->nx);

	uint16_t progress = 0;
	bool in_progress = false;
	bool desc = c[1] & 0x01;

	if (asc)
		prk_sense_set(&s, PRK_SK_UNIT_ATTENTION, asc);
	else if (!(in_progress = prk_lu_sanitize_sense(lu, &s, &progress)) && !lu->san.failed)
		prk_sense_set(&s, PRK_SK_NO_SENSE, PRK_ASC_NONE);
	size_t n = desc ? prk_sense_encode_desc(&s, buf, sizeof(buf))
	                : prk_sense_encode_fixed(&s, buf, sizeof(buf));
	if (in_progress)
		n = progress_indication(buf, n, sizeof(buf), desc, progress);
	prk_lu_reply(lu, cmd, buf, n, c[4]);
}

/* ABORT TASK, ABORT TASK SET, CLEAR TASK SET, LOGICAL UNIT RESET; no
 * I_T NEXUS RESET, no QUERY TASK. REPT=1 returns the 16-byte extended
 * format (SPC-4 6.36). */
void prk_lu_rstmf(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb;
	uint8_t d[16] = {0};
	bool rept = c[2] & 0x80;

	d[0] = 0x80 | 0x40 | 0x10 | 0x08; /* ATS, ATSS, CTSS, LURS */
	if (rept)
		d[3] = 0x0c; /* ADDITIONAL DATA LENGTH */
	prk_lu_reply(lu, cmd, d, rept ? 16 : 4, prk_get_be32(c + 6));
}
