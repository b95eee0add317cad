/* The daemon's budget for write data buffers.
 *
 * A write task's buffer holds what its CDB calls for, never more; all
 * buffers together stay within opts.max_task_memory. A task whose buffer
 * does not fit waits in a FIFO queue before its first R2T, and while any
 * task waits (or the budget is used up) MaxCmdSN stops advancing on every
 * session, so initiators slow down instead of seeing errors. Nothing is
 * failed for want of budget.
 *
 * Two exceptions keep things moving: data the initiator sends without
 * being asked (immediate and unsolicited, at most FirstBurstLength per
 * command) is stored as it comes, since it is on the wire already; and a
 * task at the head of the queue gets its buffer when nothing but queued
 * tasks holds memory, even if it alone exceeds the budget. */
#include <stdlib.h>

#include "srv_internal.h"

static int grow(struct prk_task *t, uint32_t n)
{
	if (n <= t->buf_cap)
		return 0;
	uint8_t *b = realloc(t->buf, n);
	if (!b)
		return -1;
	t->buf = b;
	t->srv->mem_used += n - t->buf_cap;
	if (t->mem_wait)
		t->srv->mem_held_waiting += n - t->buf_cap;
	t->buf_cap = n;
	return 0;
}

int prk_task_mem_unsolicited(struct prk_task *t, uint32_t n)
{
	return grow(t, n < t->need ? n : t->need);
}

/* What t still needs charged: the rest of its data-in reservation when
 * it waits to run, else the rest of its write buffer. */
static size_t wanted(const struct prk_task *t)
{
	if (t->state == TASK_WAIT_MEM)
		return t->read_want - t->read_charge;
	return t->need - t->buf_cap;
}

static bool fits(const struct prk_iscsi_server *s, const struct prk_task *t)
{
	size_t extra = wanted(t);
	if (s->mem_used + extra <= s->opts.max_task_memory)
		return true;
	/* Only queued tasks hold memory: waiting longer frees nothing. */
	return s->mem_used == s->mem_held_waiting;
}

static void dequeue(struct prk_task *t)
{
	struct prk_iscsi_server *s = t->srv;
	struct prk_task *prev = NULL;
	for (struct prk_task *q = s->mem_wait_head; q; prev = q, q = q->next_wait)
		if (q == t) {
			if (prev)
				prev->next_wait = t->next_wait;
			else
				s->mem_wait_head = t->next_wait;
			if (s->mem_wait_tail == t)
				s->mem_wait_tail = prev;
			break;
		}
	t->next_wait = NULL;
	t->mem_wait = false;
	s->mem_held_waiting -= t->buf_cap;
}

static void enqueue(struct prk_task *t)
{
	struct prk_iscsi_server *s = t->srv;
	t->mem_wait = true;
	t->next_wait = NULL;
	if (s->mem_wait_tail)
		s->mem_wait_tail->next_wait = t;
	else
		s->mem_wait_head = t;
	s->mem_wait_tail = t;
	s->mem_held_waiting += t->buf_cap;
}

static void charge_read(struct prk_task *t)
{
	t->srv->mem_used += t->read_want - t->read_charge;
	t->read_charge = t->read_want;
}

int prk_task_mem_read(struct prk_task *t)
{
	struct prk_iscsi_server *s = t->srv;
	if (!s->mem_wait_head && fits(s, t)) {
		charge_read(t);
		return 0;
	}
	enqueue(t);
	return 1;
}

size_t prk_task_mem_take_read(struct prk_task *t, size_t len)
{
	t->srv->mem_used = t->srv->mem_used - t->read_charge + len;
	t->read_charge = 0;
	t->read_want = 0;
	return len;
}

void prk_srv_mem_uncharge(struct prk_iscsi_server *s, size_t n)
{
	s->mem_used -= n;
}

int prk_task_mem_full(struct prk_task *t)
{
	struct prk_iscsi_server *s = t->srv;
	if (!s->mem_wait_head && fits(s, t))
		return grow(t, t->need);
	/* Behind the others, even if it would fit: first come, first served,
	 * so that a large command is not starved by small ones. */
	enqueue(t);
	return 1;
}

void prk_task_mem_release(struct prk_task *t)
{
	if (t->mem_wait)
		dequeue(t);
	if (t->srv)
		t->srv->mem_used -= t->buf_cap + t->read_charge;
	t->read_charge = 0;
	free(t->buf);
	t->buf = NULL;
	t->buf_cap = 0;
}

void prk_task_mem_grant(struct prk_iscsi_server *s)
{
	while (s->mem_wait_head && fits(s, s->mem_wait_head)) {
		struct prk_task *t = s->mem_wait_head;
		dequeue(t);
		if (t->state == TASK_WAIT_MEM) {
			charge_read(t);
			prk_task_buffer_ready(t, true);
		} else {
			prk_task_buffer_ready(t, grow(t, t->need) == 0);
		}
	}
}

bool prk_task_mem_tight(const struct prk_iscsi_server *s)
{
	return s->mem_wait_head || s->mem_used >= s->opts.max_task_memory;
}
