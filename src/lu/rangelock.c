/* An exclusive lock on block ranges, per LU.
 *
 * Held ranges and waiters are short lists: their length is bounded by the
 * number of write commands in flight, and a command that finds both empty
 * pays nothing more than two pointer loads. A request is granted when it
 * overlaps no held range and no earlier waiter, so overlapping writes run
 * in arrival order and a COMPARE AND WRITE cannot be starved. */
#include "lu_internal.h"

static bool overlap(const struct prk_lu_range *a, const struct prk_lu_range *b)
{
	return a->lba < b->lba + b->n && b->lba < a->lba + a->n;
}

static bool conflicts(const struct prk_lu_range *list, const struct prk_lu_range *stop,
                      const struct prk_lu_range *r)
{
	for (const struct prk_lu_range *x = list; x && x != stop; x = x->next)
		if (overlap(x, r))
			return true;
	return false;
}

static void push_held(struct prk_lu_rlock *l, struct prk_lu_range *r)
{
	r->prev = NULL;
	r->next = l->held;
	if (l->held)
		l->held->prev = r;
	l->held = r;
}

static void unlink_wait(struct prk_lu_rlock *l, struct prk_lu_range *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		l->wait_head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		l->wait_tail = r->prev;
	r->prev = r->next = NULL;
}

bool prk_lu_rlock_acquire(struct prk_lu_rlock *l, struct prk_lu_range *r)
{
	if (!conflicts(l->held, NULL, r) && !conflicts(l->wait_head, NULL, r)) {
		push_held(l, r);
		return true;
	}
	r->next = NULL;
	r->prev = l->wait_tail;
	if (l->wait_tail)
		l->wait_tail->next = r;
	else
		l->wait_head = r;
	l->wait_tail = r;
	return false;
}

void prk_lu_rlock_cancel(struct prk_lu_rlock *l, struct prk_lu_range *r)
{
	unlink_wait(l, r);
}

void prk_lu_rlock_release(struct prk_lu_rlock *l, struct prk_lu_range *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		l->held = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;

	/* Grant every waiter that is now free, in order. The callbacks may
	 * complete synchronously and release (re-entering this function), so
	 * the scan restarts from the head after each grant. */
	for (;;) {
		struct prk_lu_range *w = l->wait_head;
		while (w && (conflicts(l->held, NULL, w) || conflicts(l->wait_head, w, w)))
			w = w->next;
		if (!w)
			return;
		unlink_wait(l, w);
		push_held(l, w);
		w->granted(w);
	}
}

bool prk_lu_rlock_idle(const struct prk_lu_rlock *l)
{
	return !l->held && !l->wait_head;
}
