/* The host library's event loop (src/host/hloop.c): it serves only the
 * hooks it was given, in order; a top_only source (the control socket)
 * takes part only in a top-level pass, never in a nested one (a
 * synchronous command waiting); a ready descriptor comes back to its
 * source with its tag; a source's deadline cuts the wait short; a
 * removed source is no longer served; the table of sources is bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "hloop.h"
#include "prkit/host.h"

struct src_state {
	struct prk_hloop *l;
	int fd;          /* a descriptor to wait on, or -1 */
	uint64_t due_ms; /* a deadline to ask for, or 0 */
	int filled;      /* fill calls */
	int served;      /* service calls */
	int ready;       /* descriptors seen ready, with the right tag */
	int order;       /* when it was served (shared counter below) */
	bool nest;       /* its service runs a nested pass */
	int depth_seen;  /* the loop's depth during service */
};

static int serve_counter;

static int fill(void *arg, struct pollfd *pfd, void **tag, int cap, uint64_t now, uint64_t *next)
{
	struct src_state *s = arg;
	(void)now;
	s->filled++;
	if (s->due_ms && s->due_ms < *next)
		*next = s->due_ms;
	if (s->fd < 0 || cap < 1)
		return 0;
	pfd[0] = (struct pollfd){.fd = s->fd, .events = POLLIN};
	tag[0] = s;
	return 1;
}

static void service(void *arg, struct pollfd *pfd, void **tag, int n)
{
	struct src_state *s = arg;
	s->served++;
	s->order = ++serve_counter;
	s->depth_seen = s->l->depth;
	for (int i = 0; i < n; i++)
		if ((pfd[i].revents & POLLIN) && tag[i] == s)
			s->ready++;
	if (s->nest) {
		s->nest = false;
		assert_int_equal(prk_hloop_run_nested(s->l, 0), 0);
	}
}

static void add(struct prk_hloop *l, struct src_state *s, bool top_only)
{
	s->l = l;
	struct prk_hloop_source src = {
	    .fill = fill, .service = service, .arg = s, .top_only = top_only};
	assert_int_equal(prk_hloop_add(l, &src), 0);
}

static void test_sources_served_in_order(void **state)
{
	(void)state;
	struct prk_hloop l = {0};
	struct src_state a = {.fd = -1}, b = {.fd = -1};
	add(&l, &a, false);
	add(&l, &b, false);
	serve_counter = 0;
	assert_int_equal(prk_hloop_run(&l, 0, true), 0);
	assert_int_equal(a.filled, 1);
	assert_int_equal(b.filled, 1);
	assert_int_equal(a.order, 1);
	assert_int_equal(b.order, 2);
	assert_int_equal(a.depth_seen, 1); /* inside the pass */
	assert_int_equal(l.depth, 0);
}

static void test_top_only_skipped_when_nested(void **state)
{
	(void)state;
	struct prk_hloop l = {0};
	struct src_state devs = {.fd = -1}, ctl = {.fd = -1};
	add(&l, &devs, false);
	add(&l, &ctl, true);
	assert_int_equal(prk_hloop_run_nested(&l, 0), 0);
	assert_int_equal(devs.served, 1);
	assert_int_equal(ctl.filled, 0);
	assert_int_equal(ctl.served, 0);
	assert_int_equal(prk_hloop_run(&l, 0, true), 0);
	assert_int_equal(ctl.filled, 1);
	assert_int_equal(ctl.served, 1);
}

/* A service that waits (runs a nested pass) does not serve the top_only
 * source from inside it, and the nested pass sees depth 2. */
static void test_nested_pass_inside_service(void **state)
{
	(void)state;
	struct prk_hloop l = {0};
	struct src_state devs = {.fd = -1, .nest = true}, ctl = {.fd = -1};
	add(&l, &devs, false);
	add(&l, &ctl, true);
	assert_int_equal(prk_hloop_run(&l, 0, true), 0);
	assert_int_equal(devs.served, 2);     /* the top pass and the nested one */
	assert_int_equal(devs.depth_seen, 2); /* the last service: the nested pass */
	assert_int_equal(ctl.served, 1);      /* the top pass only */
	assert_int_equal(l.depth, 0);
}

static void test_ready_descriptor_comes_back_with_its_tag(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	struct prk_hloop l = {0};
	struct src_state s = {.fd = fds[0]};
	add(&l, &s, false);
	assert_int_equal(prk_hloop_run(&l, 0, true), 0);
	assert_int_equal(s.ready, 0); /* nothing written yet */
	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(prk_hloop_run(&l, 1000, true), 0);
	assert_int_equal(s.ready, 1);
	close(fds[0]);
	close(fds[1]);
}

/* A source's deadline ends the wait long before the caller's timeout. */
static void test_deadline_cuts_the_wait(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	struct prk_hloop l = {0};
	struct src_state s = {.fd = fds[0], .due_ms = prk_host_now_ms() + 20};
	add(&l, &s, false);
	uint64_t t0 = prk_host_now_ms();
	assert_int_equal(prk_hloop_run(&l, 5000, true), 0);
	uint64_t took = prk_host_now_ms() - t0;
	assert_true(took < 2000);
	assert_int_equal(s.served, 1);
	close(fds[0]);
	close(fds[1]);
}

static void test_removed_source_not_served(void **state)
{
	(void)state;
	struct prk_hloop l = {0};
	struct src_state a = {.fd = -1}, b = {.fd = -1};
	add(&l, &a, false);
	add(&l, &b, true);
	prk_hloop_remove(&l, &a);
	prk_hloop_remove(&l, &a); /* not there any more: nothing happens */
	assert_int_equal(l.n_src, 1);
	assert_int_equal(prk_hloop_run(&l, 0, true), 0);
	assert_int_equal(a.served, 0);
	assert_int_equal(b.served, 1);
}

static void test_source_table_is_bounded(void **state)
{
	(void)state;
	struct prk_hloop l = {0};
	struct src_state s[PRK_HLOOP_MAX_SOURCES + 1];
	memset(s, 0, sizeof(s));
	for (int i = 0; i < PRK_HLOOP_MAX_SOURCES; i++) {
		s[i].fd = -1;
		add(&l, &s[i], false);
	}
	struct prk_hloop_source extra = {
	    .fill = fill, .service = service, .arg = &s[PRK_HLOOP_MAX_SOURCES]};
	assert_int_equal(prk_hloop_add(&l, &extra), -1);
	assert_int_equal(l.n_src, PRK_HLOOP_MAX_SOURCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sources_served_in_order),
	    cmocka_unit_test(test_top_only_skipped_when_nested),
	    cmocka_unit_test(test_nested_pass_inside_service),
	    cmocka_unit_test(test_ready_descriptor_comes_back_with_its_tag),
	    cmocka_unit_test(test_deadline_cuts_the_wait),
	    cmocka_unit_test(test_removed_source_not_served),
	    cmocka_unit_test(test_source_table_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
