/* The fast-path gate (gate.h). The proof that loop 0 and a fast command
 * cannot both proceed: the command's increment and loop 0's store of the
 * flag are both sequentially consistent, and each is followed by a
 * sequentially consistent load of the other's location; in the single
 * total order one of the two stores comes first, so the later side's load
 * sees it: either the command sees the flag (and backs out) or loop 0's
 * sum sees the command (and waits for its leave). */
#include <stdlib.h>

#include "gate.h"

int prk_gate_init(struct prk_gate *g, unsigned n_slots, void (*drained)(void *ctx), void *ctx)
{
	g->slot = aligned_alloc(64, sizeof(*g->slot) * (n_slots ? n_slots : 1));
	if (!g->slot)
		return -1;
	g->n_slots = n_slots;
	for (unsigned i = 0; i < n_slots; i++) {
		atomic_init(&g->slot[i].n, 0);
		atomic_init(&g->slot[i].fast, 0);
	}
	atomic_init(&g->drain, 0);
	atomic_init(&g->notified, false);
	g->drained = drained;
	g->ctx = ctx;
	return 0;
}

void prk_gate_destroy(struct prk_gate *g)
{
	free(g->slot);
	g->slot = NULL;
	g->n_slots = 0;
}

long prk_gate_busy(const struct prk_gate *g)
{
	long sum = 0;
	for (unsigned i = 0; i < g->n_slots; i++)
		sum += atomic_load(&g->slot[i].n);
	return sum;
}

bool prk_gate_draining(const struct prk_gate *g)
{
	return atomic_load(&g->drain) != 0;
}

/* The flag is up and nothing is in progress: tell loop 0, once until it
 * has looked (the node it posts must not be queued twice). */
static void maybe_notify(struct prk_gate *g)
{
	if (!atomic_load(&g->drain) || prk_gate_busy(g) != 0)
		return;
	if (!atomic_exchange(&g->notified, true))
		g->drained(g->ctx);
}

bool prk_gate_enter(struct prk_gate *g, unsigned slot)
{
	atomic_fetch_add(&g->slot[slot].n, 1); /* seq_cst: ordered before the load */
	if (!atomic_load(&g->drain))
		return true;
	prk_gate_leave(g, slot);
	return false;
}

void prk_gate_leave(struct prk_gate *g, unsigned slot)
{
	atomic_fetch_sub(&g->slot[slot].n, 1);
	maybe_notify(g);
}

bool prk_gate_drain(struct prk_gate *g)
{
	atomic_store(&g->drain, 1);
	if (prk_gate_busy(g) == 0)
		return true;
	/* A leave between the store and the sum may have seen 0 too: it
	 * notifies, and the handler finds the gate drained (harmless). */
	return false;
}

bool prk_gate_drained_seen(struct prk_gate *g)
{
	atomic_store(&g->notified, false);
	/* Cleared first: a leave after this load notifies again. */
	return atomic_load(&g->drain) && prk_gate_busy(g) == 0;
}

void prk_gate_open(struct prk_gate *g)
{
	atomic_store(&g->drain, 0);
}
