/* The fast-path gate (src/lu/gate.h) as a property: reader threads
 * hammer enter/leave and, while inside, read a pair of plain variables
 * that the writer (this thread, "loop 0") changes only while the gate is
 * drained: first one, then, after a pause, the other. A reader inside the
 * gate must never see them differ. Without the drain wait (the writer
 * mutating as soon as it raised the flag) or with the enter's check
 * before its increment, readers catch the writer between its two stores.
 * Also: a drain with nothing inside is immediate, the drained callback
 * comes once per drain when readers were inside, and entering fails while
 * the flag is up. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "gate.h"

#define READERS 3
#define ROUNDS 5000

static struct prk_gate gate;
static atomic_int notified;
static atomic_bool stop;
static volatile unsigned long va, vb; /* changed by the writer only while drained */
static atomic_ulong torn, inside;
/* Readers admitted and not yet left. Not prk_gate_busy: a refused entry
 * increments and decrements its counter, so the counters may read 1 for a
 * moment after the gate has drained, while nobody is inside. */
static atomic_int admitted;

static void on_drained(void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&notified, 1);
}

static void *reader(void *arg)
{
	unsigned slot = (unsigned)(uintptr_t)arg;
	while (!atomic_load(&stop)) {
		if (!prk_gate_enter(&gate, slot))
			continue;
		atomic_fetch_add(&admitted, 1);
		unsigned long a = va;
		for (volatile int i = 0; i < 50; i++)
			;
		unsigned long b = vb;
		if (a != b)
			atomic_fetch_add(&torn, 1);
		atomic_fetch_add(&inside, 1);
		atomic_fetch_sub(&admitted, 1);
		prk_gate_leave(&gate, slot);
	}
	return NULL;
}

/* Loop 0's handler of the callback (prkitd posts a message per call):
 * every call is handled once, as the gate's notified flag expects. */
static int handled;

static bool handle_callbacks(void)
{
	bool drained = false;
	while (atomic_load(&notified) > handled) {
		handled++;
		drained = prk_gate_drained_seen(&gate);
	}
	return drained;
}

/* Loop 0's side: raise the flag, wait for a callback that finds the gate
 * drained (here by spinning; prkitd gets a message instead). */
static void drain_wait(void)
{
	handle_callbacks(); /* stale ones, from refused entries */
	if (prk_gate_drain(&gate))
		return;
	for (;;) {
		if (atomic_load(&notified) > handled) {
			if (handle_callbacks())
				return;
		} else {
			sched_yield();
		}
	}
}

static void test_no_torn_reads(void **state)
{
	(void)state;
	assert_int_equal(prk_gate_init(&gate, READERS + 1, on_drained, NULL), 0);
	atomic_store(&notified, 0);
	handled = 0;
	atomic_store(&stop, false);
	pthread_t th[READERS];
	for (unsigned i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, (void *)(uintptr_t)(i + 1)),
		                 0);
	for (unsigned long r = 1; r <= ROUNDS; r++) {
		drain_wait();
		assert_int_equal(atomic_load(&admitted), 0);
		va = r;
		for (volatile int i = 0; i < 1000; i++)
			;
		vb = r;
		prk_gate_open(&gate);
		/* Let the readers in between rounds. */
		for (volatile int i = 0; i < 2000; i++)
			;
	}
	atomic_store(&stop, true);
	for (unsigned i = 0; i < READERS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	print_message("# %lu reads inside the gate, %lu torn\n", atomic_load(&inside),
	              atomic_load(&torn));
	assert_true(atomic_load(&inside) > 0);
	assert_int_equal(atomic_load(&torn), 0);
	assert_int_equal(prk_gate_busy(&gate), 0);
	prk_gate_destroy(&gate);
}

static void test_single_thread_rules(void **state)
{
	(void)state;
	atomic_store(&notified, 0);
	assert_int_equal(prk_gate_init(&gate, 2, on_drained, NULL), 0);
	handled = 0;
	/* Nothing inside: drained at once, no callback. */
	assert_true(prk_gate_drain(&gate));
	assert_int_equal(atomic_load(&notified), 0);
	/* The flag is up: slow path. Its backing out may call back (stale,
	 * harmless); loop 0 handles that call as any other. */
	assert_false(prk_gate_enter(&gate, 1));
	assert_int_equal(prk_gate_busy(&gate), 0);
	assert_int_equal(atomic_load(&notified), 1);
	assert_true(prk_gate_drained_seen(&gate));
	prk_gate_open(&gate);
	atomic_store(&notified, 0);
	/* One inside: the drain waits, the leave calls back once. */
	assert_true(prk_gate_enter(&gate, 1));
	assert_false(prk_gate_drain(&gate));
	assert_int_equal(atomic_load(&notified), 0);
	prk_gate_leave(&gate, 1);
	assert_int_equal(atomic_load(&notified), 1);
	/* A refused entry while the callback is unseen does not call again. */
	assert_false(prk_gate_enter(&gate, 1));
	assert_int_equal(atomic_load(&notified), 1);
	assert_true(prk_gate_drained_seen(&gate));
	prk_gate_open(&gate);
	/* After open, the callback is stale. */
	assert_false(prk_gate_drained_seen(&gate));
	prk_gate_destroy(&gate);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_thread_rules),
	    cmocka_unit_test(test_no_torn_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
