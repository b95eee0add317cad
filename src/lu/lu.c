/* The logical unit: life cycle, the order of checks every command goes
 * through, dispatch, and the completion helpers shared by the handlers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lu_internal.h"

/* FNV-1a: the NAA identifier is derived from the serial number when no NAA
 * is configured, so that it is stable across restarts and unique per LU. */
static uint64_t fnv1a(const char *s, uint64_t h)
{
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* NAA 6 (IEEE Registered Extended), 16 bytes: NAA(4) | COMPANY ID(24) |
 * VENDOR SPECIFIC IDENTIFIER(36) | VENDOR SPECIFIC IDENTIFIER EXTENSION(64).
 * A configured naa supplies the first 64 bits (its NAA nibble forced to 6,
 * so an NAA 5 value keeps its company id); otherwise the default company id
 * and a hash of the serial do. The extension is always a hash of the
 * serial, so two LUs configured with the same naa still differ. */
static void make_naa(struct prk_lu *lu)
{
	uint64_t h1 = fnv1a(lu->cfg.serial, 0xcbf29ce484222325ULL);
	uint64_t h2 = fnv1a(lu->cfg.serial, h1 ^ 0x9e3779b97f4a7c15ULL);
	uint64_t hi;

	if (lu->cfg.naa)
		hi = (lu->cfg.naa & 0x0fffffffffffffffULL) | 0x6000000000000000ULL;
	else
		hi = 0x6000000000000000ULL | (uint64_t)PRK_LU_DEFAULT_OUI << 36 |
		     (h1 & 0xfffffffffULL);
	prk_put_be64(lu->naa, hi);
	prk_put_be64(lu->naa + 8, h2);
}

static bool printable(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	if (n == max)
		return false; /* not terminated */
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static void set_default(char *dst, size_t cap, const char *def)
{
	if (!dst[0])
		snprintf(dst, cap, "%s", def);
}

static struct prk_lu *bad(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return NULL;
}

struct prk_lu *prk_lu_new(const struct prk_lu_config *cfg, struct prk_bs *bs, char *err,
                          size_t errlen)
{
	if (!cfg || !bs)
		return bad(err, errlen, "config and backstore are required");
	if (cfg->block_size != 512 && cfg->block_size != 4096)
		return bad(err, errlen, "block_size: must be 512 or 4096");
	if (cfg->num_blocks == 0)
		return bad(err, errlen, "num_blocks: must not be 0");
	if (cfg->num_blocks > UINT64_MAX / cfg->block_size ||
	    cfg->num_blocks * cfg->block_size > prk_bs_size(bs))
		return bad(err, errlen, "num_blocks: larger than the backstore");
	if (!printable(cfg->serial, sizeof(cfg->serial)) || !cfg->serial[0])
		return bad(err, errlen, "serial: 1..32 printable ASCII characters required");
	if (!printable(cfg->vendor, sizeof(cfg->vendor)))
		return bad(err, errlen, "vendor: at most 8 printable ASCII characters");
	if (!printable(cfg->product, sizeof(cfg->product)))
		return bad(err, errlen, "product: at most 16 printable ASCII characters");
	if (!printable(cfg->revision, sizeof(cfg->revision)))
		return bad(err, errlen, "revision: at most 4 printable ASCII characters");
	if (cfg->max_xfer_blocks > 0xffffffffu / cfg->block_size)
		return bad(err, errlen, "max_xfer_blocks: too large for a 32-bit byte count");

	struct prk_lu *lu = calloc(1, sizeof(*lu));
	if (!lu)
		return bad(err, errlen, "out of memory");
	lu->cfg = *cfg;
	set_default(lu->cfg.vendor, sizeof(lu->cfg.vendor), "PRKIT");
	set_default(lu->cfg.product, sizeof(lu->cfg.product), "prkit LU");
	set_default(lu->cfg.revision, sizeof(lu->cfg.revision), "0001");
	if (!lu->cfg.max_xfer_blocks)
		lu->cfg.max_xfer_blocks = PRK_LU_DEFAULT_MAX_XFER;
	if (lu->cfg.max_xfer_blocks > 0xffffffffu / cfg->block_size)
		lu->cfg.max_xfer_blocks = 0xffffffffu / cfg->block_size;
	/* The port list is the caller's; the engine copies what it keeps. */
	lu->pr = prk_pr_state_new(&cfg->pr);
	if (!lu->pr || prk_lu_ua_init(&lu->ua)) {
		prk_lu_free(lu);
		return bad(err, errlen, "out of memory");
	}
	lu->bs = bs;
	lu->align = prk_bs_alignment(bs);
	if (lu->align < 1)
		lu->align = 1;
	make_naa(lu);
	prk_lu_op_index(lu->op_first);
	prk_lu_mode_reset(lu);
	return lu;
}

void prk_lu_free(struct prk_lu *lu)
{
	if (!lu)
		return;
	prk_lu_fast_stop(lu);
	prk_pr_state_free(lu->pr);
	prk_lu_ua_free(&lu->ua);
	free(lu);
}

unsigned prk_lu_inflight(const struct prk_lu *lu)
{
	return lu->inflight + (lu->fast ? (unsigned)prk_gate_busy(&lu->fast->gate) : 0);
}

const struct prk_lu_config *prk_lu_config(const struct prk_lu *lu)
{
	return &lu->cfg;
}

const uint8_t *prk_lu_naa(const struct prk_lu *lu)
{
	return lu->naa;
}

struct prk_pr_state *prk_lu_pr(struct prk_lu *lu)
{
	return lu->pr;
}

bool prk_lu_tas(const struct prk_lu *lu)
{
	return lu->mode.tas;
}

/* ---- Completion helpers ---- */

void *prk_lu_alloc(const struct prk_lu *lu, size_t len)
{
	void *p = NULL;
	size_t a = lu->align < sizeof(void *) ? sizeof(void *) : lu->align;
	if (posix_memalign(&p, a, len ? len : 1))
		return NULL;
	return p;
}

uint8_t *prk_lu_data_in_raw(struct prk_lu *lu, struct prk_lu_cmd *cmd, size_t len)
{
	uint8_t *p = prk_lu_alloc(lu, len);
	free(cmd->data_in);
	cmd->data_in = p;
	return p;
}

uint8_t *prk_lu_data_in(struct prk_lu *lu, struct prk_lu_cmd *cmd, size_t len)
{
	uint8_t *p = prk_lu_data_in_raw(lu, cmd, len);
	if (p)
		memset(p, 0, len ? len : 1);
	return p;
}

/* Residual accounting is the transport's (lu.h, spdtl): the LU reports
 * what the command called for and never hands over more than EDTL. */
void prk_lu_finish(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	if (cmd->status != PRK_STATUS_GOOD) {
		cmd->spdtl = 0;
		cmd->data_in_len = 0;
	} else if (cmd->data_in) {
		cmd->data_in_len = cmd->spdtl < cmd->edtl ? cmd->spdtl : cmd->edtl;
	}
	if (!cmd->data_in_len) {
		free(cmd->data_in);
		cmd->data_in = NULL;
	}
	cmd->lu_priv[PRK_LU_PRIV_COPY] = NULL; /* no longer the copy hook's */
	uintptr_t fast = (uintptr_t)cmd->lu_priv[PRK_LU_PRIV_FAST];
	if (fast) {
		/* A fast command (lu_fast.c): its I/O is over, so it leaves
		 * the gate; it never counted in lu->inflight. */
		cmd->lu_priv[PRK_LU_PRIV_FAST] = NULL;
		prk_gate_leave(&lu->fast->gate, (unsigned)(fast - 1));
		cmd->done(cmd);
		return;
	}
	bool excl = cmd->lu_priv[PRK_LU_PRIV_EXCL] != NULL;
	cmd->lu_priv[PRK_LU_PRIV_EXCL] = NULL;
	lu->inflight--;
	cmd->done(cmd); /* may free cmd: nothing touches it after this */
	if (excl)
		prk_lu_fast_release(lu);
}

void prk_lu_encode_sense(const struct prk_lu *lu, struct prk_lu_cmd *cmd, const struct prk_sense *s)
{
	size_t n = lu->mode.d_sense ? prk_sense_encode_desc(s, cmd->sense, sizeof(cmd->sense))
	                            : prk_sense_encode_fixed(s, cmd->sense, sizeof(cmd->sense));
	cmd->sense_len = (uint8_t)(n < sizeof(cmd->sense) ? n : sizeof(cmd->sense));
}

void prk_lu_fail(struct prk_lu *lu, struct prk_lu_cmd *cmd, const struct prk_sense *s)
{
	cmd->status = PRK_STATUS_CHECK_CONDITION;
	prk_lu_encode_sense(lu, cmd, s);
	prk_lu_finish(lu, cmd);
}

void prk_lu_fail_asc(struct prk_lu *lu, struct prk_lu_cmd *cmd, uint8_t key, uint16_t asc)
{
	struct prk_sense s;
	prk_sense_set(&s, key, asc);
	prk_lu_fail(lu, cmd, &s);
}

void prk_lu_fail_field(struct prk_lu *lu, struct prk_lu_cmd *cmd, bool in_cdb, size_t byte, int bit,
                       uint16_t asc)
{
	struct prk_field_err e;
	struct prk_sense s;
	prk_field_err_set(&e, in_cdb, byte > 0xffff ? 0xffff : (uint16_t)byte, (int8_t)bit, asc,
	                  NULL);
	prk_sense_from_field_err(&s, &e);
	prk_lu_fail(lu, cmd, &s);
}

void prk_lu_fail_nomem(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	prk_lu_fail_asc(lu, cmd, PRK_SK_ABORTED_COMMAND, PRK_ASC_INSUFFICIENT_RESOURCES);
}

void prk_lu_reply(struct prk_lu *lu, struct prk_lu_cmd *cmd, const void *buf, size_t len,
                  size_t alloc)
{
	size_t n = len < alloc ? len : alloc;
	size_t copy = n < cmd->edtl ? n : cmd->edtl;
	uint8_t *p = prk_lu_data_in(lu, cmd, copy);
	if (!p) {
		prk_lu_fail_nomem(lu, cmd);
		return;
	}
	memcpy(p, buf, copy);
	cmd->spdtl = (uint32_t)n;
	cmd->status = PRK_STATUS_GOOD;
	prk_lu_finish(lu, cmd);
}

size_t prk_lu_params(const struct prk_lu_cmd *cmd, size_t param_len, const uint8_t **out)
{
	size_t have = cmd->data_out ? cmd->data_out_len : 0;
	*out = cmd->data_out;
	return param_len < have ? param_len : have;
}

/* ---- Dispatch ---- */

typedef prk_lu_handler handler_fn;

static void unsupported(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	prk_lu_fail_asc(lu, cmd, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_COMMAND_OPCODE);
}

/* An opcode we implement with a service action we do not: SPC-4 wants
 * INVALID FIELD IN CDB pointing at SERVICE ACTION (byte 1 bits 4..0). */
static void bad_service_action(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	prk_lu_fail_cdb(lu, cmd, 1, 4);
}

/* The handler of (op, sa), from the command table (optable.c). Returns
 * unsupported() or bad_service_action() for what this LU does not
 * implement: a row the LU's configuration leaves out counts as absent, so
 * UNMAP on a fully provisioned LU or PERSISTENT RESERVE IN on an SPC-2 LU
 * is an unknown opcode. REPORT LUNS is the target's (no handler): it never
 * reaches the LU in normal operation. */
static handler_fn handler_of(const struct prk_lu *lu, uint8_t op, int sa)
{
	unsigned first = lu->op_first[op];
	if (!first)
		return unsupported;
	const struct prk_lu_op *o = &prk_lu_ops[first - 1];
	/* Third-party copy without hooks: the opcodes are unknown, not a bad
	 * service action (as before the LU knew them). */
	if ((o->flags & PRK_LU_OP_COPY) && !lu->has_copy)
		return unsupported;
	bool has_sa = o->sa >= 0;
	if (has_sa)
		o = prk_lu_op_next_sa(o, sa);
	if (o && o->handler && prk_lu_op_available(lu, o))
		return o->handler;
	return has_sa ? bad_service_action : unsupported;
}

bool prk_lu_cmd_supported(const struct prk_lu *lu, uint8_t op, int sa)
{
	handler_fn h = handler_of(lu, op, sa);
	return h != unsupported && h != bad_service_action;
}

/* Control byte (SAM-5): NACA=1 asks for ACA, which we do not support
 * (NORMACA=0 in INQUIRY); LINK (bit 0) is obsolete and unsupported. */
static bool control_byte_ok(struct prk_lu *lu, struct prk_lu_cmd *cmd, size_t len)
{
	uint8_t c = cmd->cdb[len - 1];
	if (c & 0x04) {
		prk_lu_fail_cdb(lu, cmd, len - 1, 2);
		return false;
	}
	if (c & 0x01) {
		prk_lu_fail_cdb(lu, cmd, len - 1, 0);
		return false;
	}
	return true;
}

/* The order of checks for every command:
 *  1. A unit attention pending for this I_T nexus ends the command with
 *     CHECK CONDITION / UNIT ATTENTION and is cleared - except for INQUIRY
 *     and REPORT LUNS, which run and leave it pending, and REQUEST SENSE,
 *     which reports it as its data and clears it (SPC-4 5.14). Checked
 *     before anything else, so even an unknown opcode reports the UA.
 *  1a. While a SANITIZE runs, or after one failed, only the commands
 *      sbc_sanitize.c allows then run (NOT READY 04/1B, MEDIUM ERROR 31/03).
 *  0. The serving gate (cluster mode, lu_cluster.c): once this node's
 *     lease has run out, the LU answers as through an unavailable port,
 *     before the unit attentions, which belong to the whole cluster: a
 *     node that does not serve must not report (and so consume) them.
 *  1b. The ALUA access check (alua.c): through a port in standby or
 *     unavailable state only the commands SPC-4 5.16.2.4 allows there run;
 *     others end with NOT READY 04/0B or 04/0C.
 *  2. The PR access check (prk_pr_access): RESERVATION CONFLICT (no sense),
 *     or CHECK CONDITION 44/01 while PR information is lost. PR IN/OUT and
 *     RESERVE/RELEASE pass here; their execution decides.
 *  3. The operation code (20/00), the CDB length, the control byte, then
 *     the command's own field checks (24/00 with a field pointer), range
 *     checks (21/00) and execution.
 * Cost when no UA is pending, no port is in standby or unavailable state
 * and nothing is reserved: a counter load, a pointer-and-counter load for
 * ALUA and the engine's one-load access check. */
void prk_lu_submit(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	cmd->lu_priv[PRK_LU_PRIV_FAST] = NULL;
	cmd->lu_priv[PRK_LU_PRIV_EXCL] = NULL;
	cmd->lu_priv[PRK_LU_PRIV_QUEUED] = NULL;
	/* With a fast path, a command that changes what it reads waits for
	 * its drain (lu_fast.c). */
	if (lu->fast && prk_lu_fast_admit(lu, cmd))
		return;
	prk_lu_submit_now(lu, cmd);
}

void prk_lu_submit_now(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	uint8_t op = cmd->cdb[0];

	prk_lu_cmd_start(lu, cmd, PRK_STATUS_GOOD);
	lu->inflight++;

	if (cmd->cdb_len < 1 || cmd->cdb_len > sizeof(cmd->cdb)) {
		unsupported(lu, cmd);
		return;
	}
	/* 0: a cluster node that does not serve must not consume the unit
	 * attentions its peers keep for the same nexus (1b below, moved up) */
	if (lu->gate && !prk_lu_gate_check(lu, cmd))
		return;
	/* 1 */
	if (lu->ua.pending && op != PRK_OP_INQUIRY && op != PRK_OP_REPORT_LUNS &&
	    op != PRK_OP_REQUEST_SENSE) {
		uint16_t asc = prk_lu_ua_deliver(lu, cmd->nx);
		if (asc) {
			prk_lu_fail_asc(lu, cmd, PRK_SK_UNIT_ATTENTION, asc);
			return;
		}
	}
	/* 1a */
	if ((lu->san.task || lu->san.failed) && !prk_lu_sanitize_check(lu, cmd))
		return;
	/* 1b: the ALUA check */
	if (lu->tpgs && lu->tpgs->n_restricted && !prk_lu_alua_check(lu, cmd))
		return;
	/* 2 */
	switch (prk_pr_access(lu->pr, cmd->nx, cmd->cdb, cmd->cdb_len)) {
	case PRK_ACCESS_ALLOWED:
		break;
	case PRK_ACCESS_CONFLICT:
		cmd->status = PRK_STATUS_RESERVATION_CONFLICT;
		prk_lu_finish(lu, cmd);
		return;
	case PRK_ACCESS_LOST: {
		struct prk_sense s;
		prk_pr_lost_sense(&s);
		prk_lu_fail(lu, cmd, &s);
		return;
	}
	}
	/* 3 */
	size_t len = prk_cdb_len_of_opcode(op);
	if (len == 0) {
		unsupported(lu, cmd);
		return;
	}
	/* Read only for opcodes with service actions in the table, which all
	 * carry it in byte 1 bits 4..0 (SERVICE ACTION IN(16), MAINTENANCE IN,
	 * SANITIZE). */
	int sa = cmd->cdb_len >= 2 ? cmd->cdb[1] & 0x1f : -1;
	handler_fn h = handler_of(lu, op, sa);
	if (h == unsupported) {
		unsupported(lu, cmd);
		return;
	}
	if (cmd->cdb_len < len) {
		/* A CDB shorter than its group's length cannot be decoded. */
		prk_lu_fail_cdb(lu, cmd, 0, -1);
		return;
	}
	if (!control_byte_ok(lu, cmd, len))
		return;
	if (h == prk_lu_read || h == prk_lu_write)
		lu->slow_rw++;
	h(lu, cmd);
}
