/* The inbox of an event loop: a lock-free multi-producer, single-consumer
 * queue and the eventfd that wakes the loop.
 *
 * Senders push onto a singly linked stack with compare-and-swap; the loop
 * takes the whole stack at once (atomic exchange with NULL) and reverses
 * it, which gives back the order of the pushes. Taking everything at once
 * means there is no single-node pop, hence no ABA problem. A sender that
 * finds the stack empty writes the eventfd; the loop reads (resets) the
 * eventfd before it takes the stack, so a push that lands after the take
 * finds the stack empty and wakes the loop again: nothing is left behind
 * without a wake-up. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop.h"
#include "loop_inbox.h"
#include "loop_post.h"

struct prk_loop_inbox {
	_Atomic(struct prk_loop_msg *) head;
	atomic_uint_fast64_t wakes;
	int efd;
	struct prk_loop_fd *h;
};

static void drain(void *arg, uint32_t events)
{
	struct prk_loop_inbox *in = arg;
	uint64_t v;
	(void)events;
	if (read(in->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	struct prk_loop_msg *m = atomic_exchange_explicit(&in->head, NULL, memory_order_acquire);
	struct prk_loop_msg *fifo = NULL;
	while (m) { /* newest first: reverse */
		struct prk_loop_msg *next = m->next;
		m->next = fifo;
		fifo = m;
		m = next;
	}
	while (fifo) {
		struct prk_loop_msg *next = fifo->next; /* fn may free or repost it */
		fifo->fn(fifo);
		fifo = next;
	}
}

void prk_loop_inbox_run(struct prk_loop_inbox *in)
{
	drain(in, 0);
}

struct prk_loop_inbox *prk_loop_inbox_new(struct prk_loop *l)
{
	struct prk_loop_inbox *in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	atomic_init(&in->head, NULL);
	atomic_init(&in->wakes, 0);
	in->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (in->efd < 0) {
		free(in);
		return NULL;
	}
	in->h = prk_loop_add_owned(l, in->efd, EPOLLIN, drain, in);
	if (!in->h) {
		close(in->efd);
		free(in);
		return NULL;
	}
	return in;
}

void prk_loop_inbox_free(struct prk_loop *l, struct prk_loop_inbox *in)
{
	if (!in)
		return;
	prk_loop_del(l, in->h); /* closes the eventfd */
	free(in);
}

void prk_loop_inbox_post(struct prk_loop_inbox *in, struct prk_loop_msg *m)
{
	struct prk_loop_msg *old = atomic_load_explicit(&in->head, memory_order_relaxed);
	do {
		m->next = old;
	} while (!atomic_compare_exchange_weak_explicit(&in->head, &old, m, memory_order_release,
	                                                memory_order_relaxed));
	if (old)
		return; /* the loop has a wake-up coming for the queue already */
	atomic_fetch_add_explicit(&in->wakes, 1, memory_order_relaxed);
	uint64_t one = 1;
	/* Cannot fail short of a counter overflow (2^64 - 1 unread posts). */
	while (write(in->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

uint64_t prk_loop_inbox_wakes(const struct prk_loop_inbox *in)
{
	return atomic_load_explicit(&in->wakes, memory_order_relaxed);
}
