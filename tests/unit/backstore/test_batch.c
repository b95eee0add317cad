/* File backstore, batched submission (prk_bs_set_batching / prk_bs_kick)
 * and the io_uring setup flags: with batching on, I/O stays in the ring
 * until the kick, which submits all of it in one call; a full ring is
 * submitted at once and nothing is lost; the ring works when the kernel
 * refuses the cooperative task running flags. Files live in a mkdtemp()
 * directory under $TMPDIR (default /tmp), removed afterwards. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bs_internal.h"
#include "bs_util.h"

static char dir[256];

static int group_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/prk-bsb-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct prk_bs *open_file(const char *name, uint64_t size, unsigned qd)
{
	char path[512], err[512] = "";
	struct prk_bs_file_opts o = {.path = path, .size = size, .queue_depth = qd};
	struct prk_bs *bs;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	bs = prk_bs_file_open(&o, err, sizeof(err));
	if (!bs)
		fail_msg("%s", err);
	return bs;
}

static bool event_fd_ready(struct prk_bs *bs, int ms)
{
	struct pollfd p = {.fd = prk_bs_event_fd(bs), .events = POLLIN};

	return poll(&p, 1, ms) == 1;
}

static struct prk_bs_stats stats_of(struct prk_bs *bs)
{
	struct prk_bs_stats st;

	prk_bs_stats(bs, &st);
	return st;
}

/* What prkitd's event loop does: reap when the event fd says so, then
 * kick after the batch. */
static void drive_batched(struct prk_bs *bs)
{
	while (prk_bs_inflight(bs) > 0) {
		prk_bs_kick(bs);
		assert_true(event_fd_ready(bs, 10000));
		prk_bs_complete(bs);
	}
}

#define IOSZ 4096

struct batch {
	uint8_t *buf;
	struct prk_bs_io *ios;
	struct iovec *iovs;
	struct bs_done *recs;
};

static void batch_new(struct batch *b, int n, unsigned seed)
{
	b->buf = malloc((size_t)n * IOSZ);
	b->ios = calloc((size_t)n, sizeof(*b->ios));
	b->iovs = calloc((size_t)n, sizeof(*b->iovs));
	b->recs = calloc((size_t)n, sizeof(*b->recs));
	assert_true(b->buf && b->ios && b->iovs && b->recs);
	bs_fill(b->buf, (size_t)n * IOSZ, seed);
}

static void batch_free(struct batch *b)
{
	free(b->buf);
	free(b->ios);
	free(b->iovs);
	free(b->recs);
}

/* n writes of IOSZ at scattered offsets (block (i * 7) % n). */
static void submit_writes(struct prk_bs *bs, struct batch *b, int n)
{
	for (int i = 0; i < n; i++) {
		b->recs[i] = (struct bs_done){0, 12345};
		b->iovs[i] = (struct iovec){b->buf + (size_t)i * IOSZ, IOSZ};
		b->ios[i] = (struct prk_bs_io){.op = PRK_BS_WRITE,
		                               .offset = (uint64_t)((i * 7) % n) * IOSZ,
		                               .len = IOSZ,
		                               .iov = &b->iovs[i],
		                               .iovcnt = 1,
		                               .done = bs_on_done,
		                               .priv = &b->recs[i]};
		prk_bs_submit(bs, &b->ios[i]);
	}
}

/* Every write done once, with success, and on the file where it belongs. */
static void check_writes(struct prk_bs *bs, struct batch *b, int n)
{
	uint8_t *out = malloc(IOSZ);

	assert_non_null(out);
	for (int i = 0; i < n; i++) {
		assert_int_equal(b->recs[i].calls, 1);
		assert_int_equal(b->recs[i].result, 0);
	}
	prk_bs_set_batching(bs, false); /* bs_rw waits without kicking */
	for (int i = 0; i < n; i++) {
		assert_int_equal(bs_rw(bs, PRK_BS_READ, (uint64_t)((i * 7) % n) * IOSZ, out, IOSZ),
		                 0);
		assert_memory_equal(out, b->buf + (size_t)i * IOSZ, IOSZ);
	}
	free(out);
}

/* N I/Os queued during a "batch" reach the kernel only at the kick, all
 * in one submit call; until then nothing completes. */
static void test_batch_waits_for_kick(void **state)
{
	enum { N = 16 };
	struct prk_bs *bs = open_file("kick.img", N * IOSZ, 64);
	struct batch b;
	uint64_t before;

	(void)state;
	batch_new(&b, N, 1);
	prk_bs_set_batching(bs, true);
	before = stats_of(bs).submits;
	submit_writes(bs, &b, N);
	assert_int_equal(stats_of(bs).submits, before);
	assert_int_equal(stats_of(bs).queued, N);
	assert_false(event_fd_ready(bs, 50));
	assert_int_equal(prk_bs_complete(bs), 0);
	assert_int_equal(stats_of(bs).queued, N); /* a reap does not submit either */
	for (int i = 0; i < N; i++)
		assert_int_equal(b.recs[i].calls, 0);

	prk_bs_kick(bs);
	assert_int_equal(stats_of(bs).submits, before + 1);
	assert_int_equal(stats_of(bs).queued, 0);
	assert_int_equal(bs_drive(bs), N);
	prk_bs_kick(bs); /* nothing queued: no system call */
	assert_int_equal(stats_of(bs).submits, before + 1);
	check_writes(bs, &b, N);
	prk_bs_close(bs);
	batch_free(&b);
}

/* Without batching (the default) every submit goes to the kernel at once,
 * which the tests of the other files and prk_bs users rely on. */
static void test_unbatched_submits_each(void **state)
{
	enum { N = 8 };
	struct prk_bs *bs = open_file("each.img", N * IOSZ, 64);
	struct batch b;
	uint64_t before = stats_of(bs).submits;

	(void)state;
	batch_new(&b, N, 2);
	submit_writes(bs, &b, N);
	assert_int_equal(stats_of(bs).submits, before + N);
	assert_int_equal(stats_of(bs).queued, 0);
	assert_int_equal(bs_drive(bs), N);
	check_writes(bs, &b, N);
	prk_bs_close(bs);
	batch_free(&b);
}

/* Queue depth 4, 50 writes in one batch: the ring fills with the first
 * four, which go to the kernel at once, without a kick; later refills
 * that fill it do too. Nothing is lost. */
static void test_full_ring_submits_at_once(void **state)
{
	enum { N = 50 };
	struct prk_bs *bs = open_file("full.img", N * IOSZ, 4);
	struct batch b;
	uint64_t before;

	(void)state;
	batch_new(&b, N, 3);
	prk_bs_set_batching(bs, true);
	before = stats_of(bs).submits;
	submit_writes(bs, &b, N);
	assert_int_equal(stats_of(bs).submits, before + 1);
	assert_int_equal(stats_of(bs).queued, 0);
	assert_int_equal(prk_bs_inflight(bs), N);
	drive_batched(bs);
	check_writes(bs, &b, N);
	prk_bs_close(bs);
	batch_free(&b);
}

/* Turning batching off submits what was queued. */
static void test_batching_off_submits(void **state)
{
	enum { N = 5 };
	struct prk_bs *bs = open_file("off.img", N * IOSZ, 16);
	struct batch b;

	(void)state;
	batch_new(&b, N, 4);
	prk_bs_set_batching(bs, true);
	submit_writes(bs, &b, N);
	assert_int_equal(stats_of(bs).queued, N);
	prk_bs_set_batching(bs, false);
	assert_int_equal(stats_of(bs).queued, 0);
	assert_int_equal(bs_drive(bs), N);
	check_writes(bs, &b, N);
	prk_bs_close(bs);
	batch_free(&b);
}

/* Close with a batch never kicked: close submits it and every done()
 * runs. */
static void test_close_submits_batch(void **state)
{
	enum { N = 12 };
	struct prk_bs *bs = open_file("close.img", N * IOSZ, 16);
	struct batch b;

	(void)state;
	batch_new(&b, N, 5);
	prk_bs_set_batching(bs, true);
	submit_writes(bs, &b, N);
	prk_bs_close(bs);
	for (int i = 0; i < N; i++) {
		assert_int_equal(b.recs[i].calls, 1);
		assert_int_equal(b.recs[i].result, 0);
	}
	bs = open_file("close.img", 0, 0);
	check_writes(bs, &b, N);
	prk_bs_close(bs);
	batch_free(&b);
}

/* The flags the kernel of this machine takes, asked directly. */
static unsigned kernel_takes(unsigned flags)
{
	struct io_uring ring;

	if (io_uring_queue_init(8, &ring, flags) < 0)
		return 0;
	io_uring_queue_exit(&ring);
	return flags;
}

static void round_trip(struct prk_bs *bs)
{
	uint8_t in[IOSZ], out[IOSZ];

	bs_fill(in, sizeof(in), 6);
	assert_int_equal(bs_rw(bs, PRK_BS_WRITE, IOSZ, in, sizeof(in)), 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, IOSZ, out, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
}

/* Cooperative task running where the kernel has it; a kernel that refuses
 * the flags (forced here) gets a ring without them, which works. */
static void test_setup_flags_and_fallback(void **state)
{
#if defined(IORING_SETUP_COOP_TASKRUN) && defined(IORING_SETUP_TASKRUN_FLAG)
	unsigned coop = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
#else
	unsigned coop = 0; /* liburing older than 2.2: file.c asks for none */
#endif
	struct prk_bs *bs = open_file("flags.img", 4 * IOSZ, 8);

	(void)state;
	assert_int_equal(stats_of(bs).setup_flags, kernel_takes(coop));
	round_trip(bs);
	prk_bs_close(bs);

	prk_bs_file_refuse_setup_flags = true;
	bs = open_file("flags.img", 0, 8);
	prk_bs_file_refuse_setup_flags = false;
	assert_int_equal(stats_of(bs).setup_flags, 0);
	round_trip(bs);
	prk_bs_set_batching(bs, true);
	{
		struct batch b;

		batch_new(&b, 4, 7);
		submit_writes(bs, &b, 4);
		drive_batched(bs);
		check_writes(bs, &b, 4);
		batch_free(&b);
	}
	prk_bs_close(bs);
}

/* RAM completes inline: batching and kicks change nothing. */
static void test_ram_ignores_batching(void **state)
{
	char err[256];
	struct prk_bs *bs = prk_bs_ram_open(MiB, err, sizeof(err));
	uint8_t in[512], out[512];

	(void)state;
	assert_non_null(bs);
	prk_bs_set_batching(bs, true);
	bs_fill(in, sizeof(in), 8);
	assert_int_equal(bs_rw(bs, PRK_BS_WRITE, 0, in, sizeof(in)), 0);
	prk_bs_kick(bs);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, 0, out, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(stats_of(bs).submits, 0);
	prk_bs_close(bs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batch_waits_for_kick),
	    cmocka_unit_test(test_unbatched_submits_each),
	    cmocka_unit_test(test_full_ring_submits_at_once),
	    cmocka_unit_test(test_batching_off_submits),
	    cmocka_unit_test(test_close_submits_batch),
	    cmocka_unit_test(test_setup_flags_and_fallback),
	    cmocka_unit_test(test_ram_ignores_batching),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
