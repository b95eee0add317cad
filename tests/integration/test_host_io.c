/* Integration tests of what the host library gained for prkit mount,
 * against a real prkitd: SYNCHRONIZE CACHE and UNMAP through the device's
 * I/O queue (fenced, stalled, split like READ and WRITE), the LU's thin
 * provisioning as READ CAPACITY(16) reports it, and an application's own
 * descriptor on the host's loop (served only from the top-level run).
 *
 * Every test gets a fresh prkitd and a fresh host state directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "harness_cmd.h"
#include "load_util.h"
#include "prkit/host.h"
#include "prkit/host_ctl.h"

#define INI_A "iqn.2026-11.io.prkit.test:hio-a"
#define INI_B "iqn.2026-11.io.prkit.test:hio-b"
#define KEY_A 0xa1a1ULL
#define KEY_B 0xb2b2ULL

static struct h_daemon daemon_;
static struct prk_host *host;
static char urls[2][256];
static const char *url_ptrs[2];

static int start_cfg(const char *cfg)
{
	if (h_start(&daemon_, cfg))
		return -1;
	for (int i = 0; i < 2; i++) {
		snprintf(urls[i], sizeof(urls[i]), "iscsi://127.0.0.1:%u/%s/0", daemon_.ports[i],
		         H_TARGET);
		url_ptrs[i] = urls[i];
	}
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/host", daemon_.dir);
	struct prk_host_err err;
	host = prk_host_new(&(struct prk_host_opts){.state_dir = dir}, &err);
	return host ? 0 : -1;
}

/* Two portals, a thin 16 MiB RAM LU (h_config_basic makes LUs thin). */
static int setup_thin(void **state)
{
	(void)state;
	char cfg[2048];
	h_config_basic(cfg, sizeof(cfg), 2, 16);
	return start_cfg(cfg);
}

/* A thin LU of 1 GiB of 512-byte blocks: 2 Mi blocks, more than prkitd's
 * MAXIMUM UNMAP LBA COUNT (1 Mi), so one UNMAP cannot cover it. RAM LUs
 * allocate on write, so the size costs nothing. */
static int setup_thin_big(void **state)
{
	(void)state;
	char cfg[2048];
	h_config_basic(cfg, sizeof(cfg), 2, 1024);
	return start_cfg(cfg);
}

/* Two portals, a fully provisioned LU. */
static int setup_thick(void **state)
{
	(void)state;
	return start_cfg("{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}, "
	                 "{\"address\": \"127.0.0.1\", \"port\": 0}], "
	                 "\"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000, "
	                 "\"targets\": [{\"name\": \"" H_TARGET
	                 "\", \"luns\": [{\"backstore\": {\"type\": \"ram\", \"size\": "
	                 "\"16M\"}}]}]}");
}

static int teardown(void **state)
{
	(void)state;
	prk_host_free(host);
	host = NULL;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

#define MK(...)                                                                                    \
	h_mk(host, url_ptrs, NULL,                                                                 \
	     &(struct h_mk_opts){.n_paths = 2, .checker_ms = 200, __VA_ARGS__})

/* ---- one asynchronous call, waited for ---- */

struct done {
	bool done;
	int calls;
	struct prk_io_result r;
};

static void on_done(struct prk_mpdev *d, const struct prk_io_result *r, void *arg)
{
	(void)d;
	struct done *x = arg;
	x->done = true;
	x->calls++;
	x->r = *r;
}

/* Runs the loop until x is done (the test fails after 15 s). */
static void wait_done(struct done *x)
{
	uint64_t end = h_now_ms() + 15000;
	while (!x->done && h_now_ms() < end)
		prk_host_run(host, 10);
	assert_true(x->done);
}

static enum prk_io_status io_sync(struct prk_mpdev *d, bool write, uint64_t lba, uint32_t n,
                                  void *buf)
{
	struct done x = {0};
	int rc = write ? prk_mpdev_write_async(d, lba, n, buf, on_done, &x)
	               : prk_mpdev_read_async(d, lba, n, buf, on_done, &x);
	assert_int_equal(rc, 0);
	wait_done(&x);
	return x.r.status;
}

static enum prk_io_status flush_sync(struct prk_mpdev *d)
{
	struct done x = {0};
	assert_int_equal(prk_mpdev_flush_async(d, on_done, &x), 0);
	wait_done(&x);
	assert_int_equal(x.calls, 1);
	return x.r.status;
}

static enum prk_io_status unmap_sync(struct prk_mpdev *d, uint64_t lba, uint64_t n)
{
	struct done x = {0};
	assert_int_equal(prk_mpdev_unmap_async(d, lba, n, on_done, &x), 0);
	wait_done(&x);
	/* Several commands for a long range, but one callback. */
	h_pump(host, 50);
	assert_int_equal(x.calls, 1);
	return x.r.status;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* ---- SYNCHRONIZE CACHE ---- */

/* A flush after writes completes GOOD; a device that is not open refuses
 * it at once (no callback). */
static void test_flush_ok(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	struct done x = {0};
	assert_int_equal(prk_mpdev_flush_async(a, on_done, &x), -1); /* not open */
	h_open_ok(a, PRK_OPEN_DEFAULT);
	static uint8_t buf[8192];
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(io_sync(a, true, 8, 16, buf), PRK_IO_OK);
	assert_int_equal(flush_sync(a), PRK_IO_OK);
	assert_int_equal(x.calls, 0);
	prk_mpdev_free(a);
}

/* A stalled device holds a flush (not sent, not failed) until resume. */
static void test_stalled_flush_waits_for_resume(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(a, PRK_OPEN_DEFAULT);
	prk_mpdev_stall(a);
	struct done x = {0};
	assert_int_equal(prk_mpdev_flush_async(a, on_done, &x), 0);
	h_pump(host, 500);
	assert_false(x.done);
	assert_int_equal(prk_mpdev_inflight(a), 0); /* held in the queue, not sent */
	prk_mpdev_resume(a);
	wait_done(&x);
	assert_int_equal(x.r.status, PRK_IO_OK);
	prk_mpdev_free(a);
}

/* Another host preempts our key: a flush and an UNMAP then meet
 * RESERVATION CONFLICT and complete as fenced, on no other path, and the
 * UNMAP changed nothing. */
static void test_flush_unmap_after_preempt_are_fenced(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	struct prk_mpdev *b = MK(.ini = INI_B, .key = KEY_B);
	h_open_ok(a, PRK_OPEN_DEFAULT);
	static uint8_t buf[4096], back[4096];
	memset(buf, 0xc3, sizeof(buf));
	assert_int_equal(io_sync(a, true, 64, 8, buf), PRK_IO_OK);
	h_open_ok(b, PRK_OPEN_FORCED); /* PREEMPT AND ABORT of KEY_A */
	assert_int_equal(flush_sync(a), PRK_IO_FENCED);
	assert_true(prk_mpdev_is_fenced(a));
	assert_int_equal(unmap_sync(a, 64, 8), PRK_IO_FENCED);
	assert_int_equal(io_sync(b, false, 64, 8, back), PRK_IO_OK);
	assert_memory_equal(back, buf, sizeof(buf)); /* the UNMAP did not land */
	struct prk_path_info pi[2];
	prk_mpdev_paths(a, pi, 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pi[i].state, PRK_PATH_UP); /* not taken for a path failure */
	prk_mpdev_free(a);
	prk_mpdev_free(b);
}

/* ---- UNMAP ---- */

/* A thin LU: LBPME and LBPRZ known once a path is up; a written range
 * unmapped reads back as zeros, and the blocks around it keep their data. */
static void test_unmap_thin_reads_zeros(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	assert_int_equal(prk_mpdev_wait_paths(a, 2, 10000), 2);
	assert_true(prk_mpdev_thin(a));
	assert_true(prk_mpdev_unmap_zeroes(a));
	struct done x = {0};
	assert_int_equal(prk_mpdev_unmap_async(a, 0, 8, on_done, &x), -1); /* not open */
	h_open_ok(a, PRK_OPEN_DEFAULT);
	uint32_t bs = prk_mpdev_block_size(a);
	uint64_t blocks = prk_mpdev_blocks(a);
	assert_int_equal(prk_mpdev_unmap_async(a, blocks - 4, 8, on_done, &x), -1); /* past end */
	assert_int_equal(prk_mpdev_unmap_async(a, 0, 0, on_done, &x), -1);
	size_t len = 66 * (size_t)bs;
	uint8_t *buf = malloc(len), *back = malloc(len);
	assert_non_null(buf);
	assert_non_null(back);
	memset(buf, 0x77, len);
	assert_int_equal(io_sync(a, true, 99, 66, buf), PRK_IO_OK); /* 99..164 */
	assert_int_equal(unmap_sync(a, 100, 64), PRK_IO_OK);        /* 100..163 */
	assert_int_equal(io_sync(a, false, 99, 66, back), PRK_IO_OK);
	assert_true(all_bytes(back, bs, 0x77));
	assert_true(all_bytes(back + bs, 64 * (size_t)bs, 0));
	assert_true(all_bytes(back + 65 * (size_t)bs, bs, 0x77));
	assert_int_equal(x.calls, 0);
	free(buf);
	free(back);
	prk_mpdev_free(a);
}

/* A range longer than one UNMAP may carry (prkitd: 1 Mi blocks) goes out
 * as several commands; prkitd refuses a longer descriptor, so without the
 * split this fails. Both ends are unmapped, the neighbours are not. */
static void test_unmap_long_range_is_split(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(a, PRK_OPEN_DEFAULT);
	assert_true(prk_mpdev_thin(a));
	uint32_t bs = prk_mpdev_block_size(a);
	uint64_t first = 1000, n = (1u << 20) + (1u << 19) + 17; /* two and a half Mi-parts */
	assert_true(first + n + 1 <= prk_mpdev_blocks(a));
	uint8_t *buf = malloc(2 * (size_t)bs), *back = malloc(2 * (size_t)bs);
	assert_non_null(buf);
	assert_non_null(back);
	memset(buf, 0x42, 2 * (size_t)bs);
	assert_int_equal(io_sync(a, true, first - 1, 2, buf), PRK_IO_OK);
	assert_int_equal(io_sync(a, true, first + n - 1, 2, buf), PRK_IO_OK);
	assert_int_equal(unmap_sync(a, first, n), PRK_IO_OK);
	assert_int_equal(io_sync(a, false, first - 1, 2, back), PRK_IO_OK);
	assert_true(all_bytes(back, bs, 0x42));
	assert_true(all_bytes(back + bs, bs, 0));
	assert_int_equal(io_sync(a, false, first + n - 1, 2, back), PRK_IO_OK);
	assert_true(all_bytes(back, bs, 0));
	assert_true(all_bytes(back + bs, bs, 0x42));
	free(buf);
	free(back);
	prk_mpdev_free(a);
}

/* A fully provisioned LU: not thin, and UNMAP is refused at once. */
static void test_unmap_thick_refused(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(a, PRK_OPEN_DEFAULT);
	assert_false(prk_mpdev_thin(a));
	assert_false(prk_mpdev_unmap_zeroes(a));
	struct done x = {0};
	assert_int_equal(prk_mpdev_unmap_async(a, 0, 8, on_done, &x), -1);
	h_pump(host, 100);
	assert_int_equal(x.calls, 0);
	assert_int_equal(flush_sync(a), PRK_IO_OK);
	prk_mpdev_free(a);
}

/* ---- the application's descriptor on the loop ---- */

struct watched {
	int fd;
	int calls;
	int unwatch_fd; /* unwatched from the callback when >= 0 */
	short revents;
};

static void on_readable(int fd, short revents, void *arg)
{
	struct watched *w = arg;
	w->calls++;
	w->revents = revents;
	char c;
	assert_int_equal(read(fd, &c, 1), 1);
	if (w->unwatch_fd >= 0) {
		prk_host_unwatch_fd(host, w->unwatch_fd);
		prk_host_unwatch_fd(host, fd);
	}
}

struct nested {
	struct watched *w;
	int seen; /* the watch's calls after the nested runs; -1 before */
	int wfd;  /* written to before the nested runs */
	enum prk_io_status status;
};

static void on_done_nested(struct prk_mpdev *d, const struct prk_io_result *r, void *arg)
{
	(void)d;
	struct nested *n = arg;
	assert_int_equal(write(n->wfd, "n", 1), 1);
	for (int i = 0; i < 3; i++)
		prk_host_run(host, 20);
	n->status = r->status;
	n->seen = n->w->calls;
}

/* A readable pipe's callback does not run while the library runs the loop
 * for a synchronous operation (READ KEYS / READ RESERVATION), but does in
 * the application's own prk_host_run. A callback that unwatches another
 * descriptor ready in the same pass keeps that one's callback from
 * running. Watching a descriptor twice, or more than PRK_HOST_MAX_WATCH,
 * is refused. */
static void test_watch_fd_only_at_top_level(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(a, PRK_OPEN_DEFAULT);
	int p1[2], p2[2];
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	struct watched w1 = {.fd = p1[0], .unwatch_fd = -1}, w2 = {.fd = p2[0], .unwatch_fd = -1};
	struct prk_host_err err;
	assert_int_equal(prk_host_watch_fd(host, p1[0], POLLIN, on_readable, &w1, &err), 0);
	assert_int_equal(prk_host_watch_fd(host, p1[0], POLLIN, on_readable, &w1, &err), -1);
	assert_int_equal(err.code, PRK_HE_USAGE);
	assert_int_equal(write(p1[1], "x", 1), 1);

	struct prk_resv_view v;
	assert_int_equal(prk_mpdev_read_state(a, &v, &err), 0); /* runs the loop nested */
	assert_int_equal(v.key, KEY_A);
	assert_int_equal(w1.calls, 0);
	prk_host_run(host, 100);
	assert_int_equal(w1.calls, 1);
	assert_true(w1.revents & POLLIN);
	prk_host_run(host, 20); /* nothing more to read: not called again */
	assert_int_equal(w1.calls, 1);

	/* An I/O callback (run by the application's pass) makes the pipe
	 * readable and runs the loop itself: not served in that nested run,
	 * but by the application's next one. */
	struct nested n = {.w = &w1, .seen = -1, .wfd = p1[1]};
	assert_int_equal(prk_mpdev_flush_async(a, on_done_nested, &n), 0);
	uint64_t end = h_now_ms() + 15000;
	while (n.seen < 0 && h_now_ms() < end)
		prk_host_run(host, 10);
	assert_int_equal(n.status, PRK_IO_OK);
	assert_int_equal(n.seen, 1);
	for (int i = 0; i < 10 && w1.calls < 2; i++)
		prk_host_run(host, 20);
	assert_int_equal(w1.calls, 2);

	/* Both ready in one pass; the first callback unwatches both. */
	assert_int_equal(prk_host_watch_fd(host, p2[0], POLLIN, on_readable, &w2, &err), 0);
	w1.unwatch_fd = p2[0];
	assert_int_equal(write(p1[1], "y", 1), 1);
	assert_int_equal(write(p2[1], "z", 1), 1);
	prk_host_run(host, 100);
	assert_int_equal(w1.calls, 3);
	assert_int_equal(w2.calls, 0);
	h_pump(host, 50); /* unwatched: still readable, never called */
	assert_int_equal(w1.calls, 3);
	assert_int_equal(w2.calls, 0);

	/* Room for PRK_HOST_MAX_WATCH descriptors, no more. */
	int fds[PRK_HOST_MAX_WATCH + 1][2];
	for (int i = 0; i <= PRK_HOST_MAX_WATCH; i++) {
		assert_int_equal(pipe(fds[i]), 0);
		int rc = prk_host_watch_fd(host, fds[i][0], POLLIN, on_readable, &w1, &err);
		assert_int_equal(rc, i < PRK_HOST_MAX_WATCH ? 0 : -1);
	}
	assert_int_equal(err.code, PRK_HE_USAGE);
	for (int i = 0; i <= PRK_HOST_MAX_WATCH; i++) {
		prk_host_unwatch_fd(host, fds[i][0]);
		close(fds[i][0]);
		close(fds[i][1]);
	}
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	prk_mpdev_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_flush_ok, setup_thin, teardown),
	    cmocka_unit_test_setup_teardown(test_stalled_flush_waits_for_resume, setup_thin,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_flush_unmap_after_preempt_are_fenced, setup_thin,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_unmap_thin_reads_zeros, setup_thin, teardown),
	    cmocka_unit_test_setup_teardown(test_unmap_long_range_is_split, setup_thin_big,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_unmap_thick_refused, setup_thick, teardown),
	    cmocka_unit_test_setup_teardown(test_watch_fd_only_at_top_level, setup_thin, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
