/* READ and WRITE on the connection's own event loop (prkitd with several
 * loops), against the LU's live state, with no lock and no message.
 *
 * A READ or WRITE(6/10/12/16) from loop k > 0 runs here only on the happy
 * path: it enters the LU's gate (gate.h), then finds every one of these
 * true, read without a lock: no serving gate (cluster LUs are never wired),
 * no port in standby or unavailable state, no SANITIZE in progress or
 * failed, no unit attention pending for the command's I_T nexus (its
 * record in the UA table, whose count ua.c publishes atomically), a write to a LU neither read-only
 * nor software write protected, a CDB long enough with a zero control byte, and the PR access check
 * ALLOWED. Then it runs the same handler as on loop 0 (so its own field and range errors are the
 * same), through its loop's backstore lane and without the range lock. Anything else leaves the
 * gate and goes to loop 0 as before, which reports exactly what it always did.
 *
 * What makes reading that state safe: loop 0 changes it either with the
 * other loops paused (admin commands, TMFs and LU resets, nexus loss, the
 * abort walk), where no check is running, or inside a drain of the gate:
 * every command that is not one of the harmless kinds below (PR OUT,
 * RESERVE/RELEASE, MODE SELECT, SANITIZE, COMPARE AND WRITE, ORWRITE,
 * WRITE ATOMIC, WRITE SAME, UNMAP, FORMAT UNIT, unknown opcodes...) runs
 * only once no fast command is in progress and holds the drain until it
 * completes. So COMPARE AND WRITE is atomic against fast writes, and when
 * a PR OUT completes no I/O checked against the state before it is still
 * in flight. Fast commands that meet the drain take the slow path; they
 * never wait. While an exclusive command waits for the drain, loop 0's
 * later commands of the LU queue behind it, in order. */
#include <stdlib.h>

#include "lu_internal.h"

/* Commands that neither change what the fast path reads nor need to be
 * atomic against its writes. */
static bool harmless(const struct prk_lu_cmd *cmd)
{
	switch (cmd->cdb[0]) {
	case PRK_OP_READ6:
	case PRK_OP_READ10:
	case PRK_OP_READ12:
	case PRK_OP_READ16:
	case PRK_OP_WRITE6:
	case PRK_OP_WRITE10:
	case PRK_OP_WRITE12:
	case PRK_OP_WRITE16:
	case PRK_OP_WRITE_VERIFY10:
	case PRK_OP_WRITE_VERIFY12:
	case PRK_OP_WRITE_VERIFY16:
	case PRK_OP_VERIFY10:
	case PRK_OP_VERIFY12:
	case PRK_OP_VERIFY16:
	case PRK_OP_TEST_UNIT_READY:
	case PRK_OP_INQUIRY:
	case PRK_OP_REPORT_LUNS:
	case PRK_OP_REQUEST_SENSE:
	case PRK_OP_READ_CAPACITY10:
	case PRK_OP_SERVICE_ACTION_IN16:
	case PRK_OP_MODE_SENSE6:
	case PRK_OP_MODE_SENSE10:
	case PRK_OP_PR_IN:
	case PRK_OP_MAINTENANCE_IN:
	case PRK_OP_SYNC_CACHE10:
	case PRK_OP_SYNC_CACHE16:
	case PRK_OP_PRE_FETCH10:
	case PRK_OP_PRE_FETCH16:
	case PRK_OP_READ_DEFECT10:
	case PRK_OP_READ_DEFECT12:
	case PRK_OP_EXTENDED_COPY: /* its reads and writes are LU commands of their own */
	case PRK_OP_RECEIVE_COPY_RESULTS:
		return true;
	default:
		return false;
	}
}

int prk_lu_fast_start(struct prk_lu *lu, unsigned n_loops, struct prk_bs *const *lanes,
                      void (*drained)(void *ctx), void *ctx)
{
	if (lu->fast || n_loops < 2)
		return -1;
	struct prk_lu_fast *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->lanes = calloc(n_loops, sizeof(*f->lanes));
	if (!f->lanes || prk_gate_init(&f->gate, n_loops, drained, ctx)) {
		free(f->lanes);
		free(f);
		return -1;
	}
	for (unsigned i = 1; i < n_loops; i++)
		f->lanes[i] = lanes[i];
	f->n = n_loops;
	lu->fast = f;
	return 0;
}

void prk_lu_fast_stop(struct prk_lu *lu)
{
	struct prk_lu_fast *f = lu->fast;
	if (!f)
		return;
	lu->fast = NULL;
	prk_gate_destroy(&f->gate);
	free(f->lanes);
	free(f);
}

static void queue_push(struct prk_lu_fast *f, struct prk_lu_cmd *cmd)
{
	cmd->lu_priv[PRK_LU_PRIV_NEXT] = NULL;
	cmd->lu_priv[PRK_LU_PRIV_QUEUED] = f;
	if (f->qtail)
		f->qtail->lu_priv[PRK_LU_PRIV_NEXT] = cmd;
	else
		f->qhead = cmd;
	f->qtail = cmd;
}

static struct prk_lu_cmd *queue_pop(struct prk_lu_fast *f)
{
	struct prk_lu_cmd *cmd = f->qhead;
	f->qhead = cmd->lu_priv[PRK_LU_PRIV_NEXT];
	if (!f->qhead)
		f->qtail = NULL;
	cmd->lu_priv[PRK_LU_PRIV_NEXT] = NULL;
	cmd->lu_priv[PRK_LU_PRIV_QUEUED] = NULL;
	return cmd;
}

/* Drained now, or the drain is asked for and `drained` will come. */
static bool drain_ready(struct prk_lu_fast *f)
{
	if (!f->drained && prk_gate_drain(&f->gate))
		f->drained = true;
	return f->drained;
}

static void maybe_open(struct prk_lu_fast *f)
{
	if (!f->holders && !f->qhead && f->drained) {
		f->drained = false;
		prk_gate_open(&f->gate);
	}
}

bool prk_lu_fast_admit(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct prk_lu_fast *f = lu->fast;
	bool excl = !harmless(cmd);
	if (!f->qhead && (!excl || drain_ready(f))) {
		if (excl) {
			f->holders++;
			cmd->lu_priv[PRK_LU_PRIV_EXCL] = lu;
		}
		return false;
	}
	queue_push(f, cmd);
	lu->inflight++; /* the LU holds it: an LU removal must wait */
	return true;
}

/* Runs what waited, in order, as long as the drain allows. */
static void run_queue(struct prk_lu *lu)
{
	struct prk_lu_fast *f = lu->fast;
	if (f->in_run) {
		f->again = true;
		return;
	}
	f->in_run = true;
	do {
		f->again = false;
		while (f->qhead) {
			struct prk_lu_cmd *cmd = f->qhead;
			bool excl = !harmless(cmd);
			if (excl && !drain_ready(f))
				break;
			queue_pop(f);
			if (excl) {
				f->holders++;
				cmd->lu_priv[PRK_LU_PRIV_EXCL] = lu;
			}
			lu->inflight--;
			prk_lu_submit_now(lu, cmd);
			if (!lu->fast)
				return; /* cannot happen while commands run; defensive */
		}
	} while (f->again);
	f->in_run = false;
	maybe_open(f);
}

bool prk_lu_fast_cancel(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct prk_lu_fast *f = lu->fast;
	if (!f || cmd->lu_priv[PRK_LU_PRIV_QUEUED] != f)
		return false;
	struct prk_lu_cmd *prev = NULL, *c = f->qhead;
	for (; c && c != cmd; c = c->lu_priv[PRK_LU_PRIV_NEXT])
		prev = c;
	if (!c)
		return false; /* not in line after all */
	struct prk_lu_cmd *next = cmd->lu_priv[PRK_LU_PRIV_NEXT];
	if (prev)
		prev->lu_priv[PRK_LU_PRIV_NEXT] = next;
	else
		f->qhead = next;
	if (f->qtail == cmd)
		f->qtail = prev;
	cmd->lu_priv[PRK_LU_PRIV_NEXT] = NULL;
	cmd->lu_priv[PRK_LU_PRIV_QUEUED] = NULL;
	prk_lu_cmd_start(lu, cmd, PRK_STATUS_TASK_ABORTED);
	prk_lu_finish(lu, cmd); /* its count from prk_lu_fast_admit */
	/* What waited behind it may run now; an empty queue may open. */
	if (!f->in_run)
		run_queue(lu);
	return true;
}

void prk_lu_fast_release(struct prk_lu *lu)
{
	struct prk_lu_fast *f = lu->fast;
	if (!f)
		return;
	f->holders--;
	if (f->holders)
		return;
	if (f->qhead)
		run_queue(lu);
	else
		maybe_open(f);
}

void prk_lu_fast_drained(struct prk_lu *lu)
{
	struct prk_lu_fast *f = lu->fast;
	if (!f || !prk_gate_drained_seen(&f->gate) || f->drained)
		return;
	f->drained = true;
	run_queue(lu);
}

static bool state_allows(const struct prk_lu *lu, const struct prk_lu_cmd *cmd, bool write)
{
	if (lu->gate || (lu->tpgs && lu->tpgs->n_restricted))
		return false;
	if (atomic_load_explicit(&lu->san.stops_rw, memory_order_acquire))
		return false;
	if (prk_lu_ua_pending_for(lu, cmd->nx))
		return false;
	return !write || (!lu->cfg.readonly && !lu->mode.swp);
}

bool prk_lu_submit_fast(struct prk_lu *lu, struct prk_lu_cmd *cmd, unsigned loop)
{
	struct prk_lu_fast *f = lu->fast;
	if (!f || loop == 0 || loop >= f->n || !f->lanes[loop])
		return false;
	bool write;
	switch (cmd->cdb[0]) {
	case PRK_OP_READ6:
	case PRK_OP_READ10:
	case PRK_OP_READ12:
	case PRK_OP_READ16:
		write = false;
		break;
	case PRK_OP_WRITE6:
	case PRK_OP_WRITE10:
	case PRK_OP_WRITE12:
	case PRK_OP_WRITE16:
		write = true;
		break;
	default:
		return false;
	}
	size_t len = prk_cdb_len_of_opcode(cmd->cdb[0]);
	if (cmd->cdb_len < len || cmd->cdb[len - 1] != 0)
		return false;
	if (!prk_gate_enter(&f->gate, loop))
		return false;
	if (!state_allows(lu, cmd, write) ||
	    prk_pr_access(lu->pr, cmd->nx, cmd->cdb, cmd->cdb_len) != PRK_ACCESS_ALLOWED) {
		prk_gate_leave(&f->gate, loop);
		return false;
	}
	prk_lu_cmd_start(lu, cmd, PRK_STATUS_GOOD);
	cmd->lu_priv[PRK_LU_PRIV_EXCL] = NULL;
	cmd->lu_priv[PRK_LU_PRIV_FAST] = (void *)(uintptr_t)(loop + 1);
	atomic_fetch_add_explicit(&f->gate.slot[loop].fast, 1, memory_order_relaxed);
	if (write)
		prk_lu_write(lu, cmd);
	else
		prk_lu_read(lu, cmd);
	return true;
}

void prk_lu_rw_counts(const struct prk_lu *lu, uint64_t *fast, uint64_t *slow)
{
	*fast = 0;
	*slow = lu->slow_rw;
	if (!lu->fast)
		return;
	for (unsigned i = 0; i < lu->fast->n; i++)
		*fast += atomic_load_explicit(&lu->fast->gate.slot[i].fast, memory_order_relaxed);
}
