/* The fast-path gate of one LU: a reader-biased lock without locks.
 *
 * Every event loop has its own counter of fast commands in progress (one
 * cache line each, written only by that loop), and the LU has one drain
 * flag written only by loop 0. A fast command enters by incrementing its
 * loop's counter and then reading the flag (both sequentially consistent,
 * so loop 0 and the loop cannot both miss the other); it leaves, when its
 * I/O has completed, by decrementing the counter. Loop 0, before it
 * changes anything a fast command reads or needs to be atomic against,
 * sets the flag and waits until the sum of the counters is 0: from then on
 * no fast command is in progress and none can start until the flag is
 * cleared. Loop 0 never sleeps for it: the loop whose counter brings the
 * sum to 0 while the flag is set calls `drained` (once until loop 0 has
 * looked, prk_gate_drained_seen), which posts to loop 0.
 *
 * With the flag clear the data path writes only its own line and reads
 * one line nobody writes, so READ and WRITE on several loops share nothing
 * (the same shape as Linux's percpu rw-semaphore). */
#ifndef PRKIT_LU_GATE_H
#define PRKIT_LU_GATE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>

struct prk_gate_slot {
	alignas(64) atomic_long n;
	/* Not the gate's: a statistic its loop keeps on the same line (the
	 * LU's count of fast commands run by that loop), relaxed. */
	atomic_ulong fast;
};

struct prk_gate {
	unsigned n_slots;
	struct prk_gate_slot *slot; /* one per loop */
	alignas(64) atomic_int drain;
	atomic_bool notified; /* `drained` called, loop 0 has not looked yet */
	void (*drained)(void *ctx);
	void *ctx;
};

/* n_slots loops; drained(ctx) as described above (may be called from any
 * loop's thread). 0, or -1 out of memory. */
int prk_gate_init(struct prk_gate *g, unsigned n_slots, void (*drained)(void *ctx), void *ctx);
void prk_gate_destroy(struct prk_gate *g);

/* A fast command of loop `slot` starts: true when it may run (it must
 * call prk_gate_leave when it is over), false when loop 0 drains (it has
 * not entered: take the slow path). */
bool prk_gate_enter(struct prk_gate *g, unsigned slot);
void prk_gate_leave(struct prk_gate *g, unsigned slot);

/* Loop 0: raise the flag; true when nothing is in progress (drained at
 * once), false when `drained` will be called. */
bool prk_gate_drain(struct prk_gate *g);
/* Loop 0, in its handler of `drained`: allows the next call, and says
 * whether the gate is drained now (the call may be stale). */
bool prk_gate_drained_seen(struct prk_gate *g);
/* Loop 0: the exclusive work is over; fast commands may start again. */
void prk_gate_open(struct prk_gate *g);
/* Fast commands in progress (for statistics and the LU's in-flight count).
 * It also counts, for a moment, an entry being refused (its increment and
 * decrement), so it is not the test of "drained": that is the drain's and
 * prk_gate_drained_seen's answer, which a refused entry cannot falsify
 * (it notifies again when it backs out). */
long prk_gate_busy(const struct prk_gate *g);
bool prk_gate_draining(const struct prk_gate *g);

#endif
