/* The cross-loop post primitive (src/util/loop_post.c): several sender
 * threads, many messages, none lost, each sender's in its order, and
 * wake-ups batched (one per empty -> non-empty transition). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "loop.h"
#include "loop_post.h"

#define SENDERS 4
#define PER_SENDER 50000

struct msg {
	struct prk_loop_msg m;
	unsigned sender, seq;
};

/* Only the loop's thread touches these. */
static unsigned next_seq[SENDERS];
static unsigned received, out_of_order;
static struct prk_loop *the_loop;

static void on_msg(struct prk_loop_msg *m)
{
	struct msg *x = (struct msg *)m;
	if (x->seq != next_seq[x->sender])
		out_of_order++;
	next_seq[x->sender] = x->seq + 1;
	received++;
	if (received == SENDERS * PER_SENDER)
		prk_loop_stop(the_loop);
}

struct sender {
	unsigned id;
	struct msg *msgs;
};

static void *send_all(void *arg)
{
	struct sender *s = arg;
	for (unsigned i = 0; i < PER_SENDER; i++) {
		s->msgs[i].m.fn = on_msg;
		s->msgs[i].sender = s->id;
		s->msgs[i].seq = i;
		prk_loop_post(the_loop, &s->msgs[i].m);
	}
	return NULL;
}

static void test_many_senders(void **state)
{
	(void)state;
	the_loop = prk_loop_new();
	assert_non_null(the_loop);
	received = out_of_order = 0;
	for (unsigned i = 0; i < SENDERS; i++)
		next_seq[i] = 0;
	pthread_t th[SENDERS];
	struct sender s[SENDERS];
	for (unsigned i = 0; i < SENDERS; i++) {
		s[i].id = i;
		s[i].msgs = calloc(PER_SENDER, sizeof(*s[i].msgs));
		assert_non_null(s[i].msgs);
		assert_int_equal(pthread_create(&th[i], NULL, send_all, &s[i]), 0);
	}
	assert_int_equal(prk_loop_run(the_loop), 0);
	for (unsigned i = 0; i < SENDERS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(received, SENDERS * PER_SENDER);
	assert_int_equal(out_of_order, 0);
	for (unsigned i = 0; i < SENDERS; i++) {
		assert_int_equal(next_seq[i], PER_SENDER);
		free(s[i].msgs);
	}
	/* Batched: far fewer wake-ups than messages (each is one transition
	 * from empty; a busy queue takes posts without one). */
	assert_true(prk_loop_post_wakes(the_loop) <= received);
	prk_loop_free(the_loop);
}

static unsigned batch_seen;
static void count_and_stop(struct prk_loop_msg *m)
{
	(void)m;
	if (++batch_seen == 1000)
		prk_loop_stop(the_loop);
}

/* 1000 posts while the loop is not running: one wake-up, and one turn of
 * the loop runs all of them, in order. */
static void test_one_wake_per_batch(void **state)
{
	(void)state;
	the_loop = prk_loop_new();
	assert_non_null(the_loop);
	struct prk_loop_msg *m = calloc(1000, sizeof(*m));
	assert_non_null(m);
	batch_seen = 0;
	for (int i = 0; i < 1000; i++) {
		m[i].fn = count_and_stop;
		prk_loop_post(the_loop, &m[i]);
	}
	assert_int_equal(prk_loop_post_wakes(the_loop), 1);
	assert_int_equal(prk_loop_run(the_loop), 0);
	assert_int_equal(batch_seen, 1000);
	/* The queue is empty again: the next post wakes the loop again (the
	 * loop is stopped, so the message stays queued and is dropped with
	 * it). */
	m[0].fn = count_and_stop;
	prk_loop_post(the_loop, &m[0]);
	prk_loop_post(the_loop, &m[1]);
	assert_int_equal(prk_loop_post_wakes(the_loop), 2);
	free(m);
	prk_loop_free(the_loop);
}

/* A message posted from inside a message's handler, to the same loop,
 * runs on a later wake-up, not lost. */
static unsigned chain_left;
static void chain(struct prk_loop_msg *m)
{
	if (--chain_left == 0) {
		prk_loop_stop(the_loop);
		return;
	}
	prk_loop_post(the_loop, m);
}

static void test_repost_from_handler(void **state)
{
	(void)state;
	the_loop = prk_loop_new();
	assert_non_null(the_loop);
	struct prk_loop_msg m = {.fn = chain};
	chain_left = 100;
	prk_loop_post(the_loop, &m);
	assert_int_equal(prk_loop_run(the_loop), 0);
	assert_int_equal(chain_left, 0);
	assert_int_equal(prk_loop_post_wakes(the_loop), 100);
	prk_loop_free(the_loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_many_senders),
	    cmocka_unit_test(test_one_wake_per_batch),
	    cmocka_unit_test(test_repost_from_handler),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
