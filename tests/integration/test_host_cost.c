/* What a data I/O costs the host library in steady state, against a real
 * prkitd: poll() calls, clock reads and the library's own allocations per
 * I/O, counted by wrapping poll, clock_gettime, malloc and calloc at link
 * time (-Wl,--wrap: only the calls made by the objects linked in here,
 * the library's among them; libiscsi's own calls are not counted).
 *
 * These pin the costs that `prkit io` pays over a plain libiscsi loop
 * (bench/host_io_cmp.sh): a regression shows up here as a count, where a
 * benchmark on a shared machine would only show noise. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "load_util.h"
#include "prkit/host.h"

#define INI "iqn.2026-11.io.prkit.test:cost"
#define KEY 0xc057ULL

/* ---- wrapped calls ---- */

static long n_poll, n_clock, n_alloc;

int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	n_poll++;
	return __real_poll(fds, n, timeout);
}

int __real_clock_gettime(clockid_t id, struct timespec *ts);
int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	n_clock++;
	return __real_clock_gettime(id, ts);
}

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n)
{
	n_alloc++;
	return __real_malloc(n);
}

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
	n_alloc++;
	return __real_calloc(n, size);
}

/* ---- a device and a chained load ---- */

static struct h_daemon daemon_;
static struct prk_host *host;
static struct prk_mpdev *dev;

static int setup(void **state)
{
	(void)state;
	char cfg[2048];
	h_config_basic(cfg, sizeof(cfg), 1, 16);
	if (h_start(&daemon_, cfg))
		return -1;
	char url[256], dir[400];
	snprintf(url, sizeof(url), "iscsi://127.0.0.1:%u/%s/0", daemon_.ports[0], H_TARGET);
	snprintf(dir, sizeof(dir), "%s/host", daemon_.dir);
	struct prk_host_err err;
	host = prk_host_new(&(struct prk_host_opts){.state_dir = dir}, &err);
	if (!host)
		return -1;
	const char *urls[1] = {url};
	/* The path checker's TEST UNIT READY every 10 s: none in a run. */
	dev = h_mk(host, urls, NULL,
	           &(struct h_mk_opts){.ini = INI, .key = KEY, .n_paths = 1, .checker_ms = 10000});
	h_open_ok(dev, PRK_OPEN_NO_RESERVE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	prk_mpdev_free(dev);
	dev = NULL;
	prk_host_free(host);
	host = NULL;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

#define MAX_QD 8

/* qd slots, each issuing its next 4 KiB read (or write) from its
 * completion, until `left` I/Os have been issued. */
struct chain {
	long left, done, failed;
	bool write;
	uint8_t buf[MAX_QD][4096];
	struct slot {
		struct chain *c;
		int i;
	} slots[MAX_QD];
};

static void issue(struct slot *s);

static void on_done(struct prk_mpdev *d, const struct prk_io_result *r, void *arg)
{
	(void)d;
	struct slot *s = arg;
	s->c->done++;
	if (r->status != PRK_IO_OK)
		s->c->failed++;
	if (s->c->left > 0)
		issue(s);
}

static void issue(struct slot *s)
{
	struct chain *c = s->c;
	c->left--;
	uint64_t lba = (uint64_t)((c->left * 7 + s->i) % 4096) * 8;
	int rc = c->write ? prk_mpdev_write_async(dev, lba, 8, c->buf[s->i], on_done, s)
	                  : prk_mpdev_read_async(dev, lba, 8, c->buf[s->i], on_done, s);
	assert_int_equal(rc, 0);
}

/* Runs n I/Os at queue depth qd through the host's loop, as prkit io
 * does (prk_host_run until all are done; the test fails after 30 s). */
static void run_chain(struct chain *c, int qd, long n, bool write)
{
	memset(c, 0, sizeof(*c));
	c->left = n;
	c->write = write;
	for (int i = 0; i < qd; i++) {
		c->slots[i] = (struct slot){.c = c, .i = i};
		issue(&c->slots[i]);
	}
	/* The clock is looked at every 256 passes only: the test's own reads
	 * would count as the library's. */
	uint64_t end = h_now_ms() + 30000;
	for (unsigned k = 1; c->done < n; k++) {
		prk_host_run(host, 100);
		if (k % 256 == 0 && h_now_ms() > end)
			break;
	}
	assert_int_equal(c->done, n);
	assert_int_equal(c->failed, 0);
}

/* Counts over n I/Os at qd, after a warm-up that fills the library's
 * caches (the device's pool of I/O records). */
struct costs {
	double polls, clocks, allocs; /* per I/O */
};

static struct costs measure(int qd, long n, bool write)
{
	static struct chain c;
	run_chain(&c, qd, 200, write);
	n_poll = n_clock = n_alloc = 0;
	run_chain(&c, qd, n, write);
	struct costs k = {(double)n_poll / (double)n, (double)n_clock / (double)n,
	                  (double)n_alloc / (double)n};
	print_message("# qd %d %s: %.3f poll, %.3f clock reads, %.3f allocations per I/O\n", qd,
	              write ? "write" : "read", k.polls, k.clocks, k.allocs);
	return k;
}

/* A command issued from a completion goes out at the end of the loop's
 * pass: one poll() per round trip at QD1 (a plain libiscsi loop needs a
 * second one, which returns at once, to write it). The margin is for the
 * device's 20 ms ticks on a slow (sanitized) build. */
static void test_one_poll_per_round_trip(void **state)
{
	(void)state;
	struct costs r = measure(1, 1000, false);
	/* At least one: a round trip waits for its answer (and the wrapper
	 * counts). */
	assert_true(r.polls >= 0.9 && r.polls <= 1.1);
	struct costs w = measure(1, 1000, true);
	assert_true(w.polls >= 0.9 && w.polls <= 1.1);
}

/* The clock: one read before poll() (its timeout) and one after it (the
 * deadlines and ticks of the pass, and the deadline of every command the
 * pass issues); none per command of its own. */
static void test_clock_reads_per_pass_not_per_io(void **state)
{
	(void)state;
	struct costs one = measure(1, 1000, false);
	assert_true(one.clocks >= 1.0 && one.clocks <= 2.2);
	/* At QD8 a pass completes and issues several I/Os: fewer reads per
	 * I/O than passes would make at QD1. */
	struct costs eight = measure(8, 4000, false);
	assert_true(eight.clocks < one.clocks);
}

/* The library's own allocations: none per I/O once its pool is warm
 * (the I/O record comes from the pool, its command record is inside it). */
static void test_no_allocation_per_io(void **state)
{
	(void)state;
	/* A fresh device's pool is empty: its first I/Os allocate their
	 * records, and the wrapper sees them. */
	static struct chain c;
	n_alloc = 0;
	run_chain(&c, 8, 8, true);
	assert_true(n_alloc >= 8);
	struct costs k = measure(8, 4000, true);
	assert_true(k.allocs * 4000 <= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_one_poll_per_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clock_reads_per_pass_not_per_io, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_allocation_per_io, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
