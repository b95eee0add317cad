/* Messages between event loops on different threads (one loop per core).
 *
 * A message is a node the sender embeds in its own object (a task, a
 * barrier...), so that posting costs no allocation. prk_loop_post() may be
 * called from any thread; the receiving loop runs m->fn(m) on its own
 * thread, in the order each sender posted (FIFO per sender: all senders'
 * messages are in fact run in the order their posts took effect). The
 * receiving loop is woken (an eventfd write) only when its queue goes from
 * empty to non-empty, and it runs everything queued per wake-up: a burst
 * of posts costs one wake-up. */
#ifndef PRKIT_LOOP_POST_H
#define PRKIT_LOOP_POST_H

#include <stdint.h>

struct prk_loop;

struct prk_loop_msg {
	struct prk_loop_msg *next; /* the queue's; set by prk_loop_post */
	void (*fn)(struct prk_loop_msg *m);
};

/* Queues m for loop `to`; thread-safe. m must stay valid until fn runs;
 * fn may free it, or post it again. */
void prk_loop_post(struct prk_loop *to, struct prk_loop_msg *m);

/* Runs the messages queued for l now, on the caller's thread: for
 * shutting down, once l's own thread has ended. */
void prk_loop_run_posts(struct prk_loop *l);

/* Times `l` was woken for messages (eventfd writes), for tests. */
uint64_t prk_loop_post_wakes(const struct prk_loop *l);

#endif
