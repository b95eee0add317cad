/* The event loop's after-batch hooks (loop.c): they run once per batch in
 * ascending order, equal orders in the order added; a hook removed inside
 * a hook (itself or another) does not run again; one added inside a hook
 * starts with the next batch; removal takes every registration of the
 * same function and argument. Batches are made with an eventfd that the
 * loop's own callback re-arms until the wanted number has run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop.h"

static struct prk_loop *loop;
static struct prk_loop_fd *efd_watch;
static int efd;
static int batches, want_batches;
static char trace[64]; /* one letter per hook run, '|' after each batch */
static size_t ntrace;

static void note(char c)
{
	assert_true(ntrace + 1 < sizeof(trace));
	trace[ntrace++] = c;
	trace[ntrace] = '\0';
}

static void on_event(void *arg, uint32_t events)
{
	eventfd_t v;

	(void)arg;
	(void)events;
	assert_int_equal(eventfd_read(efd, &v), 0);
	if (++batches < want_batches)
		eventfd_write(efd, 1);
	else
		prk_loop_stop(loop);
}

/* Marks the end of a batch: added with the highest order. */
static void end_mark(void *arg)
{
	(void)arg;
	note('|');
}

static void letter(void *arg)
{
	note(*(const char *)arg);
}

static int setup(void **state)
{
	(void)state;
	loop = prk_loop_new();
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!loop || efd < 0)
		return -1;
	efd_watch = prk_loop_add(loop, efd, EPOLLIN, on_event, NULL);
	if (!efd_watch)
		return -1;
	batches = 0;
	ntrace = 0;
	trace[0] = '\0';
	return prk_loop_after_batch_add(loop, 1000, end_mark, NULL);
}

static int teardown(void **state)
{
	(void)state;
	prk_loop_del(loop, efd_watch); /* the loop frees deleted handles only */
	prk_loop_free(loop);
	close(efd);
	return 0;
}

static void run_batches(int n)
{
	want_batches = n;
	assert_int_equal(eventfd_write(efd, 1), 0);
	assert_int_equal(prk_loop_run(loop), 0);
	assert_int_equal(batches, n);
}

static void test_order(void **state)
{
	static const char a = 'a', b = 'b', c = 'c', d = 'd';

	(void)state;
	assert_int_equal(prk_loop_after_batch_add(loop, PRK_LOOP_AFTER_LAST, letter, (void *)&c),
	                 0);
	assert_int_equal(prk_loop_after_batch_add(loop, PRK_LOOP_AFTER_IO, letter, (void *)&a), 0);
	assert_int_equal(prk_loop_after_batch_add(loop, PRK_LOOP_AFTER_SEND, letter, (void *)&d),
	                 0);
	assert_int_equal(prk_loop_after_batch_add(loop, PRK_LOOP_AFTER_IO, letter, (void *)&b), 0);
	run_batches(2);
	assert_string_equal(trace, "abdc|abdc|");
}

/* 'x' removes 'y' (after it) and itself; 'y' never runs, 'x' once. */
static const char x = 'x', y = 'y', z = 'z';

static void remover(void *arg)
{
	note(*(const char *)arg);
	prk_loop_after_batch_del(loop, letter, (void *)&y);
	prk_loop_after_batch_del(loop, remover, arg);
}

static void test_remove_inside_hook(void **state)
{
	(void)state;
	assert_int_equal(prk_loop_after_batch_add(loop, 1, remover, (void *)&x), 0);
	assert_int_equal(prk_loop_after_batch_add(loop, 2, letter, (void *)&y), 0);
	assert_int_equal(prk_loop_after_batch_add(loop, 3, letter, (void *)&z), 0);
	run_batches(3);
	assert_string_equal(trace, "xz|z|z|");
}

/* A hook removing one that ran before it in the same batch. */
static void remove_first(void *arg)
{
	(void)arg;
	note('r');
	prk_loop_after_batch_del(loop, letter, (void *)&x);
}

static void test_remove_earlier_hook(void **state)
{
	(void)state;
	assert_int_equal(prk_loop_after_batch_add(loop, 1, letter, (void *)&x), 0);
	assert_int_equal(prk_loop_after_batch_add(loop, 2, remove_first, NULL), 0);
	run_batches(2);
	assert_string_equal(trace, "xr|r|");
}

/* Added inside a hook, even with a later order: from the next batch. */
static void adder(void *arg)
{
	(void)arg;
	note('+');
	prk_loop_after_batch_del(loop, adder, NULL);
	assert_int_equal(prk_loop_after_batch_add(loop, 5, letter, (void *)&z), 0);
}

static void test_add_inside_hook(void **state)
{
	(void)state;
	assert_int_equal(prk_loop_after_batch_add(loop, 1, adder, NULL), 0);
	run_batches(3);
	assert_string_equal(trace, "+|z|z|");
}

/* Several hooks with one function: removal (here outside a run) takes
 * every registration of that argument, the others stay. */
static void test_several_and_removal(void **state)
{
	(void)state;
	assert_int_equal(prk_loop_after_batch_add(loop, PRK_LOOP_AFTER_IO, letter, (void *)&x), 0);
	assert_int_equal(prk_loop_after_batch_add(loop, PRK_LOOP_AFTER_SEND, letter, (void *)&y),
	                 0);
	assert_int_equal(prk_loop_after_batch_add(loop, PRK_LOOP_AFTER_LAST, letter, (void *)&x),
	                 0);
	assert_int_equal(prk_loop_after_batch_add(loop, PRK_LOOP_AFTER_LAST, letter, (void *)&z),
	                 0);
	prk_loop_after_batch_del(loop, letter, (void *)&x);
	prk_loop_after_batch_del(loop, end_mark, (void *)&x); /* not there: nothing */
	run_batches(1);
	assert_string_equal(trace, "yz|");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_inside_hook, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_earlier_hook, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add_inside_hook, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_several_and_removal, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
