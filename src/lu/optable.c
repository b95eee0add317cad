/* The commands this device server implements: one row per operation code,
 * or per service action where the opcode has them. Dispatch (lu.c), REPORT
 * SUPPORTED OPERATION CODES (rsoc.c) and the SANITIZE service action check
 * all read this table, so a command is added in one place (docs/hacking.md
 * lists the other places a new command touches: the engine's access class,
 * src/scsi/xfer.c, a unit test).
 *
 * usage[] is the CDB USAGE DATA of RSOC (SPC-4 6.35.3): a bit is set where
 * the device server looks at the CDB; the control byte reports NACA and
 * LINK, which are checked. No row claims a command timeout (RSOC reports
 * 0, "not specified", for all), so the table has no timeout column.
 *
 * The rows are sorted by (op, sa), which test_optable checks: each LU
 * keeps an index from opcode to its first row (prk_lu_op_index), so
 * dispatch costs one load plus a scan of an opcode's few service-action
 * rows; prk_lu_op_find() (RSOC, SANITIZE) bisects. */
#include "lu_internal.h"

#define X 0xff
#define C 0x05 /* control byte: NACA, LINK */
#define OP_THIN PRK_LU_OP_THIN
#define OP_PR PRK_LU_OP_PR
#define OP_ATOMIC PRK_LU_OP_ATOMIC
#define OP_COPY PRK_LU_OP_COPY

/* op, sa, CDB length, flags, usage bits of byte 1 only thin LUs advertise,
 * handler (NULL: REPORT LUNS, which the target answers for the LU), usage. */
/* One row per line reads as a table. */
/* clang-format off */
const struct prk_lu_op prk_lu_ops[] = {
    {PRK_OP_TEST_UNIT_READY, -1, 6, 0, 0, prk_lu_test_unit_ready, {PRK_OP_TEST_UNIT_READY, 0, 0, 0, 0, C}},
    {PRK_OP_REQUEST_SENSE, -1, 6, 0, 0, prk_lu_request_sense, {PRK_OP_REQUEST_SENSE, 0x01, 0, 0, X, C}},
    {PRK_OP_READ6, -1, 6, 0, 0, prk_lu_read, {PRK_OP_READ6, 0x1f, X, X, X, C}},
    {PRK_OP_WRITE6, -1, 6, 0, 0, prk_lu_write, {PRK_OP_WRITE6, 0x1f, X, X, X, C}},
    {PRK_OP_INQUIRY, -1, 6, 0, 0, prk_lu_inquiry, {PRK_OP_INQUIRY, 0x03, X, X, X, C}},
    {PRK_OP_MODE_SELECT6, -1, 6, 0, 0, prk_lu_mode_select, {PRK_OP_MODE_SELECT6, 0x11, 0, 0, X, C}},
    {PRK_OP_RESERVE6, -1, 6, 0, 0, prk_lu_spc2_cmd, {PRK_OP_RESERVE6, 0x1f, 0, 0, 0, C}},
    {PRK_OP_RELEASE6, -1, 6, 0, 0, prk_lu_spc2_cmd, {PRK_OP_RELEASE6, 0x1f, 0, 0, 0, C}},
    {PRK_OP_MODE_SENSE6, -1, 6, 0, 0, prk_lu_mode_sense, {PRK_OP_MODE_SENSE6, 0x08, X, X, X, C}},
    {PRK_OP_START_STOP_UNIT, -1, 6, 0, 0, prk_lu_start_stop, {PRK_OP_START_STOP_UNIT, 0x01, 0, 0x0f, 0xf7, C}},
    {PRK_OP_READ_CAPACITY10, -1, 10, 0, 0, prk_lu_read_capacity10, {PRK_OP_READ_CAPACITY10, 0, X, X, X, X, 0, 0, 0x01, C}},
    {PRK_OP_READ10, -1, 10, 0, 0, prk_lu_read, {PRK_OP_READ10, 0xf8, X, X, X, X, 0, X, X, C}},
    {PRK_OP_WRITE10, -1, 10, 0, 0, prk_lu_write, {PRK_OP_WRITE10, 0xf8, X, X, X, X, 0, X, X, C}},
    {PRK_OP_WRITE_VERIFY10, -1, 10, 0, 0, prk_lu_write, {PRK_OP_WRITE_VERIFY10, 0xf6, X, X, X, X, 0, X, X, C}},
    {PRK_OP_VERIFY10, -1, 10, 0, 0, prk_lu_verify, {PRK_OP_VERIFY10, 0xf6, X, X, X, X, 0, X, X, C}},
    {PRK_OP_PRE_FETCH10, -1, 10, 0, 0, prk_lu_prefetch, {PRK_OP_PRE_FETCH10, 0x02, X, X, X, X, 0, X, X, C}},
    {PRK_OP_SYNC_CACHE10, -1, 10, 0, 0, prk_lu_sync_cache, {PRK_OP_SYNC_CACHE10, 0x02, X, X, X, X, 0, X, X, C}},
    {PRK_OP_READ_DEFECT10, -1, 10, 0, 0, prk_lu_read_defect_data, {PRK_OP_READ_DEFECT10, 0, 0x1f, 0, 0, 0, 0, X, X, C}},
    {PRK_OP_WRITE_SAME10, -1, 10, 0, 0x18, prk_lu_write_same, {PRK_OP_WRITE_SAME10, 0xfe, X, X, X, X, 0, X, X, C}},
    {PRK_OP_UNMAP, -1, 10, OP_THIN, 0, prk_lu_unmap, {PRK_OP_UNMAP, 0x01, 0, 0, 0, 0, 0, X, X, C}},
    {PRK_OP_SANITIZE, 0x01, 10, 0, 0, prk_lu_sanitize, {PRK_OP_SANITIZE, 0xa1, 0, 0, 0, 0, 0, X, X, C}},
    {PRK_OP_SANITIZE, 0x02, 10, OP_THIN, 0, prk_lu_sanitize, {PRK_OP_SANITIZE, 0xa2, 0, 0, 0, 0, 0, X, X, C}},
    {PRK_OP_SANITIZE, 0x1f, 10, 0, 0, prk_lu_sanitize, {PRK_OP_SANITIZE, 0xbf, 0, 0, 0, 0, 0, X, X, C}},
    {PRK_OP_MODE_SELECT10, -1, 10, 0, 0, prk_lu_mode_select, {PRK_OP_MODE_SELECT10, 0x11, 0, 0, 0, 0, 0, X, X, C}},
    {PRK_OP_RESERVE10, -1, 10, 0, 0, prk_lu_spc2_cmd, {PRK_OP_RESERVE10, 0x12, 0, 0, 0, 0, 0, 0, 0, C}},
    {PRK_OP_RELEASE10, -1, 10, 0, 0, prk_lu_spc2_cmd, {PRK_OP_RELEASE10, 0x12, 0, 0, 0, 0, 0, 0, 0, C}},
    {PRK_OP_MODE_SENSE10, -1, 10, 0, 0, prk_lu_mode_sense, {PRK_OP_MODE_SENSE10, 0x18, X, X, 0, 0, 0, X, X, C}},
    {PRK_OP_PR_IN, -1, 10, OP_PR, 0, prk_lu_pr_in_cmd, {PRK_OP_PR_IN, 0x1f, 0, 0, 0, 0, 0, X, X, C}},
    {PRK_OP_PR_OUT, -1, 10, OP_PR, 0, prk_lu_pr_out_cmd, {PRK_OP_PR_OUT, 0x1f, X, 0, 0, X, X, X, X, C}},
    {PRK_OP_EXTENDED_COPY, PRK_XCOPY_SA_LID1, 16, OP_COPY, 0, prk_lu_xcopy_cmd, {PRK_OP_EXTENDED_COPY, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, X, X, X, X, 0, C}},
    {PRK_OP_RECEIVE_COPY_RESULTS, PRK_RCR_SA_COPY_STATUS, 16, OP_COPY, 0, prk_lu_rcr_cmd, {PRK_OP_RECEIVE_COPY_RESULTS, 0x00, X, 0, 0, 0, 0, 0, 0, 0, X, X, X, X, 0, C}},
    {PRK_OP_RECEIVE_COPY_RESULTS, PRK_RCR_SA_OP_PARAMS, 16, OP_COPY, 0, prk_lu_rcr_cmd, {PRK_OP_RECEIVE_COPY_RESULTS, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, X, X, X, X, 0, C}},
    {PRK_OP_RECEIVE_COPY_RESULTS, PRK_RCR_SA_FAILED_SEG, 16, OP_COPY, 0, prk_lu_rcr_cmd, {PRK_OP_RECEIVE_COPY_RESULTS, 0x04, X, 0, 0, 0, 0, 0, 0, 0, X, X, X, X, 0, C}},
    {PRK_OP_READ16, -1, 16, 0, 0, prk_lu_read, {PRK_OP_READ16, 0xf8, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {PRK_OP_COMPARE_AND_WRITE, -1, 16, 0, 0, prk_lu_compare_and_write, {PRK_OP_COMPARE_AND_WRITE, 0xf8, X, X, X, X, X, X, X, X, 0, 0, 0, X, 0, C}},
    {PRK_OP_WRITE16, -1, 16, 0, 0, prk_lu_write, {PRK_OP_WRITE16, 0xf8, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {PRK_OP_ORWRITE16, -1, 16, 0, 0, prk_lu_orwrite, {PRK_OP_ORWRITE16, 0xf8, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {PRK_OP_WRITE_VERIFY16, -1, 16, 0, 0, prk_lu_write, {PRK_OP_WRITE_VERIFY16, 0xf6, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {PRK_OP_VERIFY16, -1, 16, 0, 0, prk_lu_verify, {PRK_OP_VERIFY16, 0xf6, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {PRK_OP_PRE_FETCH16, -1, 16, 0, 0, prk_lu_prefetch, {PRK_OP_PRE_FETCH16, 0x02, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {PRK_OP_SYNC_CACHE16, -1, 16, 0, 0, prk_lu_sync_cache, {PRK_OP_SYNC_CACHE16, 0x02, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {PRK_OP_WRITE_SAME16, -1, 16, 0, 0x18, prk_lu_write_same, {PRK_OP_WRITE_SAME16, 0xff, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {PRK_OP_WRITE_ATOMIC16, -1, 16, OP_ATOMIC, 0, prk_lu_write_atomic, {PRK_OP_WRITE_ATOMIC16, 0xf8, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {PRK_OP_SERVICE_ACTION_IN16, PRK_SAI_READ_CAPACITY16, 16, 0, 0, prk_lu_read_capacity16, {PRK_OP_SERVICE_ACTION_IN16, 0x10, X, X, X, X, X, X, X, X, X, X, X, X, 0x01, C}},
    {PRK_OP_SERVICE_ACTION_IN16, PRK_SAI_GET_LBA_STATUS, 16, OP_THIN, 0, prk_lu_get_lba_status, {PRK_OP_SERVICE_ACTION_IN16, 0x12, X, X, X, X, X, X, X, X, X, X, X, X, 0, C}},
    {PRK_OP_REPORT_LUNS, -1, 12, 0, 0, NULL, {PRK_OP_REPORT_LUNS, 0, X, 0, 0, 0, X, X, X, X, 0, C}},
    {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_TARGET_PGS, 12, 0, 0, prk_lu_rtpg, {PRK_OP_MAINTENANCE_IN, 0xea, 0, 0, 0, 0, X, X, X, X, 0, C}},
    {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_OPCODES, 12, 0, 0, prk_lu_rsoc, {PRK_OP_MAINTENANCE_IN, 0x0c, 0x87, X, X, X, X, X, X, X, 0, C}},
    {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_TMFS, 12, 0, 0, prk_lu_rstmf, {PRK_OP_MAINTENANCE_IN, 0x0d, 0x80, 0, 0, 0, X, X, X, X, 0, C}},
    {PRK_OP_READ12, -1, 12, 0, 0, prk_lu_read, {PRK_OP_READ12, 0xf8, X, X, X, X, X, X, X, X, 0, C}},
    {PRK_OP_WRITE12, -1, 12, 0, 0, prk_lu_write, {PRK_OP_WRITE12, 0xf8, X, X, X, X, X, X, X, X, 0, C}},
    {PRK_OP_WRITE_VERIFY12, -1, 12, 0, 0, prk_lu_write, {PRK_OP_WRITE_VERIFY12, 0xf6, X, X, X, X, X, X, X, X, 0, C}},
    {PRK_OP_VERIFY12, -1, 12, 0, 0, prk_lu_verify, {PRK_OP_VERIFY12, 0xf6, X, X, X, X, X, X, X, X, 0, C}},
    {PRK_OP_READ_DEFECT12, -1, 12, 0, 0, prk_lu_read_defect_data, {PRK_OP_READ_DEFECT12, 0x1f, X, X, X, X, X, X, X, X, 0, C}},
};
/* clang-format on */
#define N_ROWS (sizeof(prk_lu_ops) / sizeof(prk_lu_ops[0]))
_Static_assert(N_ROWS <= PRK_LU_MAX_OPS, "PRK_LU_MAX_OPS sizes the RSOC reply buffer");

void prk_lu_op_index(uint8_t first[256])
{
	memset(first, 0, 256);
	for (size_t i = N_ROWS; i-- > 0;)
		first[prk_lu_ops[i].op] = (uint8_t)(i + 1);
}

const struct prk_lu_op *prk_lu_op_row(size_t i)
{
	return i < N_ROWS ? &prk_lu_ops[i] : NULL;
}

/* Sort key: service action -1 sorts before 0. */
static int cmp(const struct prk_lu_op *o, uint8_t op, int sa)
{
	if (o->op != op)
		return o->op < op ? -1 : 1;
	if (o->sa != sa)
		return o->sa < sa ? -1 : 1;
	return 0;
}

/* The first row whose key is not below (op, sa). */
static size_t lower_bound(uint8_t op, int sa)
{
	size_t lo = 0, hi = N_ROWS;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp(&prk_lu_ops[mid], op, sa) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct prk_lu_op *prk_lu_op_find(uint8_t op, int sa)
{
	size_t i = lower_bound(op, sa);
	return i < N_ROWS && cmp(&prk_lu_ops[i], op, sa) == 0 ? &prk_lu_ops[i] : NULL;
}

const struct prk_lu_op *prk_lu_op_next_sa(const struct prk_lu_op *first, int sa)
{
	/* An opcode has a handful of rows, contiguous: a scan beats bisection. */
	for (const struct prk_lu_op *o = first; o < prk_lu_ops + N_ROWS && o->op == first->op; o++)
		if (o->sa == sa)
			return o;
	return NULL;
}

const struct prk_lu_op *prk_lu_op_first(uint8_t op)
{
	size_t i = lower_bound(op, -1);
	return i < N_ROWS && prk_lu_ops[i].op == op ? &prk_lu_ops[i] : NULL;
}

bool prk_lu_op_has_sa(uint8_t op)
{
	/* The rows of an opcode are contiguous and service actions are >= 0,
	 * so its first row tells. */
	const struct prk_lu_op *o = prk_lu_op_first(op);
	return o && o->sa >= 0;
}

bool prk_lu_op_available(const struct prk_lu *lu, const struct prk_lu_op *o)
{
	if ((o->flags & PRK_LU_OP_THIN) && !lu->cfg.thin)
		return false;
	if ((o->flags & PRK_LU_OP_PR) && lu->cfg.no_pr)
		return false;
	if ((o->flags & PRK_LU_OP_ATOMIC) && !prk_lu_atomic_max_blocks(lu))
		return false;
	if ((o->flags & PRK_LU_OP_COPY) && !lu->has_copy)
		return false;
	return true;
}
