/* Integration tests of the control socket (host_ctl.h) against a real
 * prkitd: a client lists, stalls, resumes and changes the key of the
 * devices of a host that listens, as the fence agent does with a node's
 * I/O process.
 *
 * The host loop must stay on one thread (libiscsi is not thread-safe), and
 * the client blocks until the loop answers: every client request runs on
 * a helper thread while the main thread pumps the loop. A second host
 * (host2, its own state directory, not listening) plays the other node.
 * Every test gets a fresh prkitd and fresh state directories. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "harness_cmd.h"
#include "load_util.h"
#include "prkit/host.h"
#include "prkit/host_ctl.h"

#define INI_A "iqn.2026-11.io.prkit.test:ctl-a"
#define INI_B "iqn.2026-11.io.prkit.test:ctl-b"
#define KEY_A 0xa1a1ULL
#define KEY_B 0xb2b2ULL
#define KEY_C 0xc3c3ULL

static struct h_daemon daemon_;
static struct prk_host *host;  /* the I/O process: listens */
static struct prk_host *host2; /* another node */
static char state_dir[400], state_dir2[400];
static char urls[2][256];
static const char *url_ptrs[2];
static int n_events[16];

static void on_event(struct prk_mpdev *d, const struct prk_event *ev, void *arg)
{
	(void)d;
	(void)arg;
	if ((unsigned)ev->kind < 16)
		n_events[ev->kind]++;
}

static int setup(void **state)
{
	(void)state;
	if (h_start_basic(&daemon_, 2, 16))
		return -1;
	for (int i = 0; i < 2; i++) {
		snprintf(urls[i], sizeof(urls[i]), "iscsi://127.0.0.1:%u/%s/0", daemon_.ports[i],
		         H_TARGET);
		url_ptrs[i] = urls[i];
	}
	/* host: the directory prkit (h_prkit_spawn) uses too. */
	snprintf(state_dir, sizeof(state_dir), "%s/host", daemon_.dir);
	snprintf(state_dir2, sizeof(state_dir2), "%s/host2", daemon_.dir);
	struct prk_host_err err;
	host = prk_host_new(&(struct prk_host_opts){.state_dir = state_dir}, &err);
	host2 = prk_host_new(&(struct prk_host_opts){.state_dir = state_dir2}, &err);
	if (!host || !host2)
		return -1;
	if (prk_host_ctl_listen(host, NULL, &err)) {
		fprintf(stderr, "# listen: %s\n", err.msg);
		return -1;
	}
	memset(n_events, 0, sizeof(n_events));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	prk_host_free(host);
	prk_host_free(host2);
	host = host2 = NULL;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

/* Every device here: two paths, a 200 ms path checker. */
#define MK(...)                                                                                    \
	h_mk(host, url_ptrs, on_event,                                                             \
	     &(struct h_mk_opts){.n_paths = 2, .checker_ms = 200, __VA_ARGS__})

/* ---- the target's view (admin socket) ---- */

static char cli_out[65536], cli_err[4096];

/* Registrations of (initiator, key); *holders counts those holding the
 * reservation. */
static int regs_of(const char *ini, uint64_t key, int *holders)
{
	const char *args[] = {"--json", "pr", H_TARGET, "0", NULL};
	json_object *o = h_cli_json(&daemon_, args);
	json_object *regs = h_member(o, "registrations");
	char k[24];
	snprintf(k, sizeof(k), "0x%016llx", (unsigned long long)key);
	int n = 0, h = 0;
	for (size_t i = 0; i < json_object_array_length(regs); i++) {
		json_object *r = json_object_array_get_idx(regs, i);
		if (strcasecmp(json_object_get_string(h_member(r, "initiator")), ini) != 0 ||
		    strcmp(json_object_get_string(h_member(r, "key")), k) != 0)
			continue;
		n++;
		h += json_object_get_boolean(h_member(r, "holder"));
	}
	json_object_put(o);
	if (holders)
		*holders = h;
	return n;
}

/* ---- client requests on a helper thread ---- */

enum op_kind { OP_LIST, OP_STALL, OP_RESUME, OP_SET_KEY, OP_FAIL, OP_RAW };

struct op {
	enum op_kind kind;
	struct prk_ctl_client *c;
	const char *naa;
	unsigned max_ms;
	uint64_t old_key, new_key;
	const char *reason;
	struct prk_ctl_dev devs[8];
	int rc;
	bool fenced;
	char err[256];
	/* OP_RAW: bytes sent on a socket of its own (raw_fd), and what came
	 * back until a newline, EOF (closed) or 3 s. */
	int raw_fd;
	const char *raw;
	size_t raw_len;
	char reply[4096];
	bool closed;
	atomic_int done;
};

static void raw_exchange(struct op *o)
{
	o->reply[0] = 0;
	o->closed = false;
	if (o->raw_len && send(o->raw_fd, o->raw, o->raw_len, MSG_NOSIGNAL) < 0) {
		o->closed = true;
		return;
	}
	size_t have = 0;
	uint64_t end = h_now_ms() + 3000;
	while (h_now_ms() < end && have + 1 < sizeof(o->reply)) {
		struct pollfd p = {.fd = o->raw_fd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		ssize_t n = read(o->raw_fd, o->reply + have, sizeof(o->reply) - 1 - have);
		if (n <= 0) {
			o->closed = true;
			break;
		}
		have += (size_t)n;
		o->reply[have] = 0;
		if (memchr(o->reply, '\n', have))
			break;
	}
}

static void *op_thread(void *arg)
{
	struct op *o = arg;
	switch (o->kind) {
	case OP_LIST:
		o->rc = prk_ctl_list(o->c, o->devs, 8, o->err, sizeof(o->err));
		break;
	case OP_STALL:
		o->rc = prk_ctl_stall(o->c, o->naa, o->max_ms, o->err, sizeof(o->err));
		break;
	case OP_RESUME:
		o->rc = prk_ctl_resume(o->c, o->naa, o->err, sizeof(o->err));
		break;
	case OP_SET_KEY:
		o->rc = prk_ctl_set_key(o->c, o->naa, o->old_key, o->new_key, &o->fenced, o->err,
		                        sizeof(o->err));
		break;
	case OP_FAIL:
		o->rc = prk_ctl_fail(o->c, o->naa, o->reason, o->err, sizeof(o->err));
		break;
	case OP_RAW:
		raw_exchange(o);
		break;
	}
	atomic_store(&o->done, 1);
	return NULL;
}

/* Runs o on a thread while this thread drives the host loop. */
static int run_op(struct op *o)
{
	pthread_t t;
	atomic_store(&o->done, 0);
	assert_int_equal(pthread_create(&t, NULL, op_thread, o), 0);
	while (!atomic_load(&o->done))
		prk_host_run(host, 10);
	pthread_join(t, NULL);
	return o->rc;
}

static struct prk_ctl_client *connect_ok(void)
{
	char err[256];
	struct prk_ctl_client *c =
	    prk_ctl_connect(prk_host_ctl_path(host), 20000, err, sizeof(err));
	if (!c)
		fail_msg("connect: %s", err);
	return c;
}

static int c_list(struct prk_ctl_client *c, struct op *o)
{
	memset(o, 0, sizeof(*o));
	o->kind = OP_LIST;
	o->c = c;
	return run_op(o);
}

static int c_naa(enum op_kind k, struct prk_ctl_client *c, const char *naa, unsigned max_ms,
                 char *err, size_t errlen)
{
	static struct op o;
	memset(&o, 0, sizeof(o));
	o.kind = k;
	o.c = c;
	o.naa = naa;
	o.max_ms = max_ms;
	int rc = run_op(&o);
	if (err)
		snprintf(err, errlen, "%s", o.err);
	return rc;
}

static int c_stall(struct prk_ctl_client *c, const char *naa, unsigned max_ms)
{
	return c_naa(OP_STALL, c, naa, max_ms, NULL, 0);
}

static int c_resume(struct prk_ctl_client *c, const char *naa)
{
	return c_naa(OP_RESUME, c, naa, 0, NULL, 0);
}

static int c_set_key(struct prk_ctl_client *c, const char *naa, uint64_t old_key, uint64_t new_key,
                     bool *fenced, char *err, size_t errlen)
{
	static struct op o;
	memset(&o, 0, sizeof(o));
	o.kind = OP_SET_KEY;
	o.c = c;
	o.naa = naa;
	o.old_key = old_key;
	o.new_key = new_key;
	int rc = run_op(&o);
	*fenced = o.fenced;
	snprintf(err, errlen, "%s", o.err);
	return rc;
}

static int c_fail(struct prk_ctl_client *c, const char *naa, const char *reason, char *err,
                  size_t errlen)
{
	static struct op o;
	memset(&o, 0, sizeof(o));
	o.kind = OP_FAIL;
	o.c = c;
	o.naa = naa;
	o.reason = reason;
	int rc = run_op(&o);
	snprintf(err, errlen, "%s", o.err);
	return rc;
}

static bool wait_stalled(struct prk_mpdev *d, bool want, int ms)
{
	uint64_t end = prk_host_now_ms() + (uint64_t)ms;
	while (prk_mpdev_is_stalled(d) != want && prk_host_now_ms() < end)
		prk_host_run(host, 10);
	return prk_mpdev_is_stalled(d) == want;
}

/* ---- synchronous I/O for checks ---- */

struct sync_io {
	bool done;
	enum prk_io_status st;
};

static void sync_cb(struct prk_mpdev *d, const struct prk_io_result *r, void *arg)
{
	(void)d;
	struct sync_io *s = arg;
	s->done = true;
	s->st = r->status;
}

/* A read through host2's device (the other node's view of the LU). */
static void read_other(struct prk_mpdev *b, uint64_t lba, uint8_t *buf)
{
	struct sync_io s = {0};
	assert_int_equal(prk_mpdev_read_async(b, lba, 8, buf, sync_cb, &s), 0);
	uint64_t end = prk_host_now_ms() + 10000;
	while (!s.done && prk_host_now_ms() < end)
		prk_host_run(host2, 10);
	assert_true(s.done);
	assert_int_equal(s.st, PRK_IO_OK);
}

/* ---- tests ---- */

/* The default socket is <state dir>/ctl/<pid>.sock in a 0700 directory;
 * list shows the open device with its NAA, key, paths. */
static void test_list_shows_open_device(void **state)
{
	(void)state;
	struct prk_mpdev *d = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(d, PRK_OPEN_DEFAULT);
	char want[600];
	snprintf(want, sizeof(want), "%s/ctl/%d.sock", state_dir, (int)getpid());
	assert_string_equal(prk_host_ctl_path(host), want);
	struct stat st;
	assert_int_equal(stat(want, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	snprintf(want, sizeof(want), "%s/ctl", state_dir);
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_string_equal(prk_host_ctl_path(host2), "");

	struct prk_ctl_client *c = connect_ok();
	assert_string_equal(prk_ctl_client_path(c), prk_host_ctl_path(host));
	static struct op o;
	assert_int_equal(c_list(c, &o), 1);
	assert_string_equal(o.devs[0].naa, prk_mpdev_naa(d));
	assert_int_equal(o.devs[0].key, KEY_A);
	assert_true(o.devs[0].open);
	assert_false(o.devs[0].fenced);
	assert_false(o.devs[0].stalled);
	assert_int_equal(o.devs[0].n_paths, 2);
	assert_int_equal(o.devs[0].n_up, 2);
	/* A second request on the same connection. */
	assert_int_equal(c_list(c, &o), 1);
	prk_ctl_close(c);
	prk_mpdev_free(d);
}

/* Stalled: the in-flight I/O completes before the answer, nothing is sent
 * meanwhile (completions stop, the other node still reads the old data
 * where a write waits), and after resume everything completes OK. */
static void test_stall_holds_io_until_resume(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(a, PRK_OPEN_NO_RESERVE);
	struct prk_mpdev *b = MK(.on = host2, .ini = INI_B, .key = KEY_B);
	h_open_ok(b, PRK_OPEN_NO_RESERVE);
	const char *naa = prk_mpdev_naa(a);
	const uint64_t lba = 20000;
	static uint8_t old_data[4096], new_data[4096], seen[4096];
	memset(old_data, 0x11, sizeof(old_data));
	memset(new_data, 0x22, sizeof(new_data));
	struct sync_io w = {0};
	assert_int_equal(prk_mpdev_write_async(a, lba, 8, old_data, sync_cb, &w), 0);
	while (!w.done)
		prk_host_run(host, 10);
	assert_int_equal(w.st, PRK_IO_OK);

	static struct h_load l;
	h_load_start(&l, host, a, 4);
	h_pump(host, 200);
	assert_true(l.ok > 0);
	struct prk_ctl_client *c = connect_ok();
	assert_int_equal(c_stall(c, naa, 20000), 1);
	assert_true(prk_mpdev_is_stalled(a));
	assert_int_equal(prk_mpdev_inflight(a), 0); /* drained before the answer */
	assert_int_equal(n_events[PRK_EV_STALLED], 1);
	memset(&w, 0, sizeof(w));
	assert_int_equal(prk_mpdev_write_async(a, lba, 8, new_data, sync_cb, &w), 0);
	long ok0 = l.ok;
	h_pump(host, 500);
	assert_int_equal(l.ok, ok0);
	assert_int_equal(l.outstanding, 4); /* submitted, waiting */
	assert_false(w.done);
	assert_int_equal(prk_mpdev_inflight(a), 0);
	read_other(b, lba, seen);
	assert_memory_equal(seen, old_data, sizeof(seen)); /* the write was not sent */
	static struct op o;
	assert_int_equal(c_list(c, &o), 1);
	assert_true(o.devs[0].stalled);
	assert_int_equal(o.devs[0].inflight, 0);

	assert_int_equal(c_resume(c, naa), 1);
	assert_false(prk_mpdev_is_stalled(a));
	assert_int_equal(n_events[PRK_EV_RESUMED], 1);
	uint64_t end = prk_host_now_ms() + 5000;
	while (!w.done && prk_host_now_ms() < end)
		prk_host_run(host, 10);
	assert_true(w.done);
	assert_int_equal(w.st, PRK_IO_OK);
	read_other(b, lba, seen);
	assert_memory_equal(seen, new_data, sizeof(seen));
	h_pump(host, 200);
	assert_true(l.ok > ok0);
	h_load_stop(&l);
	assert_int_equal(l.errors, 0);
	assert_int_equal(l.fenced, 0);
	assert_int_equal(c_resume(c, naa), 0); /* not stalled any more */
	prk_ctl_close(c);
	prk_mpdev_free(a);
	prk_mpdev_free(b);
}

/* A client that goes away (crash, close) releases its stall. */
static void test_stall_released_when_client_closes(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(a, PRK_OPEN_DEFAULT);
	static struct h_load l;
	h_load_start(&l, host, a, 4);
	struct prk_ctl_client *c = connect_ok();
	assert_int_equal(c_stall(c, prk_mpdev_naa(a), 60000), 1);
	h_pump(host, 200);
	assert_true(prk_mpdev_is_stalled(a));
	long ok0 = l.ok;
	prk_ctl_close(c);
	assert_true(wait_stalled(a, false, 2000));
	h_pump(host, 200);
	assert_true(l.ok > ok0);
	h_load_stop(&l);
	assert_int_equal(l.errors, 0);
	assert_int_equal(n_events[PRK_EV_RESUMED], 1);
	prk_mpdev_free(a);
}

/* max_ms passes without a resume: the process resumes by itself. */
static void test_stall_ends_after_max_ms(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(a, PRK_OPEN_DEFAULT);
	static struct h_load l;
	h_load_start(&l, host, a, 4);
	struct prk_ctl_client *c = connect_ok();
	uint64_t t0 = prk_host_now_ms();
	assert_int_equal(c_stall(c, prk_mpdev_naa(a), 400), 1);
	assert_true(prk_mpdev_is_stalled(a));
	long ok0 = l.ok;
	assert_true(wait_stalled(a, false, 3000));
	uint64_t took = prk_host_now_ms() - t0;
	/* not before the lease ends; how soon after is up to the machine's
	 * load (wait_stalled bounds it) */
	assert_true(took >= 400);
	assert_int_equal(l.ok, ok0); /* nothing completed while stalled */
	h_pump(host, 200);
	assert_true(l.ok > ok0);
	assert_int_equal(c_resume(c, prk_mpdev_naa(a)), 0); /* already released */
	h_load_stop(&l);
	assert_int_equal(l.errors, 0);
	prk_ctl_close(c);
	prk_mpdev_free(a);
}

/* Two agents stall the same device: it resumes when both have let go. */
static void test_two_clients_stall_counted(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(a, PRK_OPEN_DEFAULT);
	const char *naa = prk_mpdev_naa(a);
	struct prk_ctl_client *c1 = connect_ok(), *c2 = connect_ok();
	assert_int_equal(c_stall(c1, naa, 60000), 1);
	assert_int_equal(c_stall(c2, naa, 60000), 1);
	assert_int_equal(c_stall(c2, naa, 60000), 1); /* renews, not counted twice */
	assert_int_equal(n_events[PRK_EV_STALLED], 1);
	assert_int_equal(c_resume(c1, naa), 1);
	assert_true(prk_mpdev_is_stalled(a));
	prk_ctl_close(c2);
	assert_true(wait_stalled(a, false, 2000));
	assert_int_equal(n_events[PRK_EV_RESUMED], 1);
	/* In-process stalls count with the others. */
	prk_mpdev_stall(a);
	assert_int_equal(c_stall(c1, naa, 60000), 1);
	assert_int_equal(c_resume(c1, naa), 1);
	assert_true(prk_mpdev_is_stalled(a));
	prk_mpdev_resume(a);
	assert_false(prk_mpdev_is_stalled(a));
	prk_mpdev_resume(a); /* one too many: ignored */
	assert_false(prk_mpdev_is_stalled(a));
	assert_int_equal(prk_mpdev_drain(a, 1000), 0);
	prk_ctl_close(c1);
	prk_mpdev_free(a);
}

/* The agent's sequence: stall, change the key from KEY_A to KEY_C, resume.
 * Every nexus of ours holds KEY_C afterwards (the holder too), and I/O
 * goes on without an error. */
static void test_set_key_moves_nexuses_to_new_key(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(a, PRK_OPEN_DEFAULT);
	const char *naa = prk_mpdev_naa(a);
	static struct h_load l;
	h_load_start(&l, host, a, 4);
	h_pump(host, 200);
	struct prk_ctl_client *c = connect_ok();
	bool fenced = true;
	char err[256];
	assert_int_equal(c_stall(c, naa, 20000), 1);
	if (c_set_key(c, naa, KEY_A, KEY_C, &fenced, err, sizeof(err)) != 1)
		fail_msg("set_key: %s", err);
	assert_false(fenced);
	assert_int_equal(c_resume(c, naa), 1);
	long ok0 = l.ok;
	h_pump(host, 300);
	assert_true(l.ok > ok0);
	h_load_stop(&l);
	assert_int_equal(l.errors, 0);
	assert_int_equal(l.fenced, 0);
	assert_int_equal(prk_mpdev_key(a), KEY_C);
	assert_false(prk_mpdev_is_fenced(a));
	assert_int_equal(n_events[PRK_EV_KEY_CHANGED], 1);
	int holders;
	assert_int_equal(regs_of(INI_A, KEY_C, &holders), 2);
	assert_int_equal(holders, 1);
	assert_int_equal(regs_of(INI_A, KEY_A, NULL), 0);
	/* The other node's READ KEYS agrees. */
	struct prk_mpdev *b = MK(.on = host2, .ini = INI_B, .key = KEY_B);
	prk_mpdev_wait_paths(b, 2, 5000);
	struct prk_resv_view v;
	struct prk_host_err e;
	assert_int_equal(prk_mpdev_read_state(b, &v, &e), 0);
	int n_c = 0;
	for (size_t i = 0; i < v.n_keys; i++) {
		assert_true(v.keys[i] != KEY_A);
		n_c += v.keys[i] == KEY_C;
	}
	assert_int_equal(n_c, 2);
	assert_true(v.present);
	assert_int_equal(v.key, KEY_C);
	static struct op o;
	assert_int_equal(c_list(c, &o), 1);
	assert_int_equal(o.devs[0].key, KEY_C);
	/* Doing it again with the old key: not using that key any more. */
	assert_int_equal(c_set_key(c, naa, KEY_A, KEY_C, &fenced, err, sizeof(err)), 0);
	prk_ctl_close(c);
	prk_mpdev_free(b);
	prk_mpdev_free(a);
}

/* A wrong old key, or an unknown LU, changes nothing; old_key 0
 * registers the new key everywhere. */
static void test_set_key_wrong_old_key_and_register(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(a, PRK_OPEN_DEFAULT);
	const char *naa = prk_mpdev_naa(a);
	struct prk_ctl_client *c = connect_ok();
	bool fenced;
	char err[256];
	assert_int_equal(c_set_key(c, naa, 0xdeadULL, KEY_C, &fenced, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "not using"));
	assert_false(fenced);
	assert_int_equal(c_set_key(c, "6001405ffffffff", KEY_A, KEY_C, &fenced, err, sizeof(err)),
	                 0);
	assert_non_null(strstr(err, "no device"));
	assert_int_equal(c_stall(c, "6001405ffffffff", 1000), 0);
	assert_int_equal(prk_mpdev_key(a), KEY_A);
	assert_int_equal(regs_of(INI_A, KEY_A, NULL), 2);
	assert_int_equal(regs_of(INI_A, KEY_C, NULL), 0);
	assert_int_equal(n_events[PRK_EV_KEY_CHANGED], 0);
	/* Case does not matter in the NAA. */
	char upper[33];
	snprintf(upper, sizeof(upper), "%s", naa);
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	if (c_set_key(c, upper, 0, KEY_C, &fenced, err, sizeof(err)) != 1)
		fail_msg("set_key (register): %s", err);
	assert_int_equal(prk_mpdev_key(a), KEY_C);
	assert_int_equal(regs_of(INI_A, KEY_C, NULL), 2);
	assert_int_equal(n_events[PRK_EV_KEY_CHANGED], 1);
	prk_ctl_close(c);
	prk_mpdev_free(a);
}

/* A device made but not open (prkit mount keeps its devices so between
 * opens): list shows it closed; stall and resume answer at once (nothing
 * in flight); set_key only changes the key the next open registers,
 * sending nothing (no registration appears on the target), still only
 * when old_key matches; the next open registers that key. Once the device
 * has been open and closed its nexuses stay registered, and set_key then
 * changes them on the target. */
static void test_ctl_on_closed_device(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	assert_int_equal(prk_mpdev_wait_paths(a, 2, 10000), 2);
	const char *naa = prk_mpdev_naa(a);
	assert_true(naa[0]);
	struct prk_ctl_client *c = connect_ok();
	static struct op o;
	assert_int_equal(c_list(c, &o), 1);
	assert_string_equal(o.devs[0].naa, naa);
	assert_false(o.devs[0].open);
	assert_int_equal(o.devs[0].key, KEY_A);
	assert_int_equal(o.devs[0].n_up, 2);

	assert_int_equal(c_stall(c, naa, 20000), 1);
	assert_true(prk_mpdev_is_stalled(a));
	assert_int_equal(c_list(c, &o), 1);
	assert_true(o.devs[0].stalled);
	assert_int_equal(c_resume(c, naa), 1);
	assert_false(prk_mpdev_is_stalled(a));

	bool fenced = true;
	char err[256];
	if (c_set_key(c, naa, KEY_A, KEY_C, &fenced, err, sizeof(err)) != 1)
		fail_msg("set_key on a closed device: %s", err);
	assert_false(fenced);
	assert_int_equal(prk_mpdev_key(a), KEY_C);
	assert_false(prk_mpdev_is_fenced(a));
	assert_int_equal(n_events[PRK_EV_KEY_CHANGED], 1);
	assert_int_equal(regs_of(INI_A, KEY_A, NULL), 0);
	assert_int_equal(regs_of(INI_A, KEY_C, NULL), 0);
	/* The old key must still match. */
	assert_int_equal(c_set_key(c, naa, KEY_A, KEY_B, &fenced, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "not using"));
	assert_int_equal(prk_mpdev_key(a), KEY_C);
	/* old_key 0: the key to register, still nothing sent. */
	if (c_set_key(c, naa, 0, KEY_B, &fenced, err, sizeof(err)) != 1)
		fail_msg("set_key (register) on a closed device: %s", err);
	assert_int_equal(prk_mpdev_key(a), KEY_B);
	assert_int_equal(regs_of(INI_A, KEY_B, NULL), 0);
	assert_int_equal(regs_of(INI_A, KEY_C, NULL), 0);
	assert_int_equal(c_list(c, &o), 1);
	assert_int_equal(o.devs[0].key, KEY_B);

	/* The next open registers the key set. */
	h_open_ok(a, PRK_OPEN_DEFAULT);
	int holders;
	assert_int_equal(regs_of(INI_A, KEY_B, &holders), 2);
	assert_int_equal(holders, 1);
	struct prk_host_err e;
	assert_int_equal(prk_mpdev_close(a, &e), 0);
	assert_int_equal(c_list(c, &o), 1);
	assert_false(o.devs[0].open);
	/* Closed but registered: the change goes to the target. */
	if (c_set_key(c, naa, KEY_B, KEY_C, &fenced, err, sizeof(err)) != 1)
		fail_msg("set_key on a closed, registered device: %s", err);
	assert_int_equal(regs_of(INI_A, KEY_C, NULL), 2);
	assert_int_equal(regs_of(INI_A, KEY_B, NULL), 0);
	assert_int_equal(prk_mpdev_key(a), KEY_C);
	prk_ctl_close(c);
	prk_mpdev_free(a);
}

/* Another node preempted our key: the atomic change finds no nexus with
 * the old key and reports fenced; it registers nothing. */
static void test_change_key_after_preempt_is_fenced(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(a, PRK_OPEN_DEFAULT);
	struct prk_mpdev *b = MK(.on = host2, .ini = INI_B, .key = KEY_B);
	h_open_ok(b, PRK_OPEN_CLUSTER); /* A's registrants-only reservation lets B in */
	struct prk_host_err e;
	assert_int_equal(prk_mpdev_preempt(b, KEY_A, 6, false, &e), 0);
	assert_int_equal(regs_of(INI_A, KEY_A, NULL), 0);
	struct prk_ctl_client *c = connect_ok();
	bool fenced = false;
	char err[256];
	assert_int_equal(c_set_key(c, prk_mpdev_naa(a), KEY_A, KEY_C, &fenced, err, sizeof(err)),
	                 -1);
	assert_true(fenced);
	assert_non_null(strstr(err, "preempted"));
	assert_true(prk_mpdev_is_fenced(a));
	assert_true(n_events[PRK_EV_FENCED] >= 1);
	assert_int_equal(n_events[PRK_EV_KEY_CHANGED], 0);
	assert_int_equal(prk_mpdev_key(a), KEY_A);
	assert_int_equal(regs_of(INI_A, KEY_C, NULL), 0);
	assert_int_equal(regs_of(INI_A, KEY_A, NULL), 0);
	/* The library call itself says the same. */
	memset(&e, 0, sizeof(e));
	assert_int_equal(prk_mpdev_change_key(a, KEY_A, KEY_C, &e), -1);
	assert_int_equal(e.code, PRK_HE_FENCED);
	assert_int_equal(prk_mpdev_change_key(a, 0, KEY_C, &e), -1);
	assert_int_equal(e.code, PRK_HE_USAGE);
	prk_ctl_close(c);
	prk_mpdev_free(b);
	prk_mpdev_free(a);
}

/* A write through a that the test waits for (at most 5 s). */
static enum prk_io_status write_wait(struct prk_mpdev *a, uint64_t lba, const uint8_t *buf)
{
	struct sync_io w = {0};
	assert_int_equal(prk_mpdev_write_async(a, lba, 8, buf, sync_cb, &w), 0);
	uint64_t end = prk_host_now_ms() + 5000;
	while (!w.done && prk_host_now_ms() < end)
		prk_host_run(host, 10);
	assert_true(w.done);
	return w.st;
}

/* prkit fenced's self-fence: "fail" makes the stalled write, the load's
 * queued I/O and every later I/O complete as fenced, without a command to
 * the target (our registration stays there), and it stays so after the
 * stall ends; a register through set_key (old_key 0) lets I/O through
 * again. The other node's reads show which writes landed. */
static void test_fail_is_sticky_until_register(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(a, PRK_OPEN_NO_RESERVE);
	struct prk_mpdev *b = MK(.on = host2, .ini = INI_B, .key = KEY_B);
	h_open_ok(b, PRK_OPEN_NO_RESERVE);
	const char *naa = prk_mpdev_naa(a);
	const uint64_t lba = 20000;
	static uint8_t old_data[4096], new_data[4096], seen[4096];
	memset(old_data, 0x33, sizeof(old_data));
	memset(new_data, 0x44, sizeof(new_data));
	assert_int_equal(write_wait(a, lba, old_data), PRK_IO_OK);

	static struct h_load l;
	h_load_start(&l, host, a, 4);
	h_pump(host, 200);
	assert_true(l.ok > 0);
	struct prk_ctl_client *c = connect_ok();
	char err[256];
	assert_int_equal(c_stall(c, naa, 20000), 1);
	struct sync_io w = {0};
	assert_int_equal(prk_mpdev_write_async(a, lba, 8, new_data, sync_cb, &w), 0);
	h_pump(host, 100);
	assert_false(w.done); /* stalled */
	long ok0 = l.ok;
	if (c_fail(c, naa, "self-fenced: no quorum for 5000 ms", err, sizeof(err)) != 1)
		fail_msg("fail: %s", err);
	/* The stalled write failed, the stall is still held. */
	h_pump(host, 100);
	assert_true(w.done);
	assert_int_equal(w.st, PRK_IO_FENCED);
	assert_true(prk_mpdev_is_stalled(a));
	assert_true(prk_mpdev_is_fenced(a));
	assert_int_equal(n_events[PRK_EV_FENCED], 1);
	assert_true(l.fenced >= 4);
	static struct op o;
	assert_int_equal(c_list(c, &o), 1);
	assert_true(o.devs[0].fenced);
	/* Released: still fenced, new I/O too, and nothing was sent. */
	assert_int_equal(c_resume(c, naa), 1);
	assert_false(prk_mpdev_is_stalled(a));
	h_pump(host, 300);
	assert_int_equal(write_wait(a, lba, new_data), PRK_IO_FENCED);
	assert_int_equal(l.ok, ok0);
	assert_int_equal(l.errors, 0);
	assert_int_equal(prk_mpdev_inflight(a), 0);
	read_other(b, lba, seen);
	assert_memory_equal(seen, old_data, sizeof(seen));
	/* Our registration is untouched on the target: a local decision. */
	assert_int_equal(regs_of(INI_A, KEY_A, NULL), 2);
	/* A repeated fail is harmless (one event); an unknown LU is 0. */
	assert_int_equal(c_fail(c, naa, "again", err, sizeof(err)), 1);
	assert_int_equal(n_events[PRK_EV_FENCED], 1);
	assert_int_equal(c_fail(c, "600a", "x", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "no device"));
	/* The client refuses what the server would. */
	assert_int_equal(c_fail(c, naa, "", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "reason"));

	/* Register again: I/O works, the load goes on, the write lands. */
	bool fenced = true;
	if (c_set_key(c, naa, 0, KEY_A, &fenced, err, sizeof(err)) != 1)
		fail_msg("set_key: %s", err);
	assert_false(prk_mpdev_is_fenced(a));
	assert_int_equal(write_wait(a, lba, new_data), PRK_IO_OK);
	read_other(b, lba, seen);
	assert_memory_equal(seen, new_data, sizeof(seen));
	h_load_stop(&l);
	assert_int_equal(l.errors, 0);
	prk_ctl_close(c);
	prk_mpdev_free(b);
	prk_mpdev_free(a);
}

static int raw_connect(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", prk_host_ctl_path(host));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void raw(struct op *o, int fd, const char *bytes, size_t len)
{
	memset(o, 0, sizeof(*o));
	o->kind = OP_RAW;
	o->raw_fd = fd;
	o->raw = bytes;
	o->raw_len = len;
	run_op(o);
}

/* Garbage gets an error reply naming what is wrong, and the connection
 * stays usable; an endless line closes it; the process keeps working. */
static void test_garbage_requests(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(a, PRK_OPEN_DEFAULT);
	static struct h_load l;
	h_load_start(&l, host, a, 4);
	static struct op o;
	int fd = raw_connect();
	static const char junk[] = "\x01\xff{garbage\x00\x7f]]\n";
	raw(&o, fd, junk, sizeof(junk) - 1);
	assert_false(o.closed);
	assert_non_null(strstr(o.reply, "\"ok\":false"));
	assert_non_null(strstr(o.reply, "request"));
	static const char bad_naa[] = "{\"op\":\"stall\",\"naa\":\"zz\",\"max_ms\":1}\n";
	raw(&o, fd, bad_naa, sizeof(bad_naa) - 1);
	assert_non_null(strstr(o.reply, "\"ok\":false"));
	assert_non_null(strstr(o.reply, "naa"));
	static const char list[] = "{\"op\":\"list\"}\n";
	raw(&o, fd, list, sizeof(list) - 1);
	assert_non_null(strstr(o.reply, "\"ok\":true"));
	assert_non_null(strstr(o.reply, prk_mpdev_naa(a)));
	/* Over the line limit without a newline: the process hangs up. */
	static char endless[6000];
	memset(endless, 'x', sizeof(endless));
	raw(&o, fd, endless, sizeof(endless));
	assert_true(o.closed);
	assert_string_equal(o.reply, "");
	close(fd);
	/* Two requests in one write, answered in order. */
	fd = raw_connect();
	static const char two[] = "{\"op\":\"list\"}\n{\"op\":\"resume\",\"naa\":\"6\"}\n";
	raw(&o, fd, two, sizeof(two) - 1);
	if (!strstr(o.reply, "\"present\""))
		raw(&o, fd, "", 0);
	assert_non_null(strstr(o.reply, "\"present\":false"));
	close(fd);
	struct prk_ctl_client *c = connect_ok();
	assert_int_equal(c_list(c, &o), 1);
	prk_ctl_close(c);
	long ok0 = l.ok;
	h_pump(host, 200);
	assert_true(l.ok > ok0);
	h_load_stop(&l);
	assert_int_equal(l.errors, 0);
	prk_mpdev_free(a);
}

/* ---- the connection cap and the idle timeout ---- */

/* What the process sent on fd so far (NUL-terminated in buf); true when
 * it has also closed the connection. Does not wait. */
static bool drained_closed(int fd, char *buf, size_t cap)
{
	size_t have = strlen(buf);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 0) <= 0)
			return false;
		ssize_t n = read(fd, buf + have, cap - 1 - have);
		if (n <= 0)
			return true;
		have += (size_t)n;
		buf[have] = 0;
	}
}

/* 40 clients connect and say nothing (the cap is 16), one has half a
 * request on the way: the fence agent's client still connects and is
 * served, the half request is still answered, and the clients that made
 * room were told why. */
static void test_idle_clients_do_not_lock_out_fence(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(a, PRK_OPEN_DEFAULT);
	int half = raw_connect();
	static const char part1[] = "{\"op\":";
	assert_int_equal(send(half, part1, sizeof(part1) - 1, MSG_NOSIGNAL), sizeof(part1) - 1);
	h_pump(host, 20);
	int idle[40];
	for (int i = 0; i < 40; i++) {
		idle[i] = raw_connect();
		h_pump(host, 5); /* accepted one by one, as clients come and go */
	}
	struct prk_ctl_client *c = connect_ok();
	static struct op o;
	if (c_list(c, &o) != 1)
		fail_msg("the fence agent's list: %d (%s)", o.rc, o.err);
	assert_string_equal(o.devs[0].naa, prk_mpdev_naa(a));
	prk_ctl_close(c);
	/* The busy client kept its slot. */
	static const char part2[] = "\"list\"}\n";
	raw(&o, half, part2, sizeof(part2) - 1);
	assert_false(o.closed);
	assert_non_null(strstr(o.reply, "\"ok\":true"));
	close(half);
	/* The oldest idle ones made room, and read why; the newest is open. */
	char buf[512] = "";
	assert_true(drained_closed(idle[0], buf, sizeof(buf)));
	assert_non_null(strstr(buf, "idle, and its slot was needed"));
	buf[0] = 0;
	assert_false(drained_closed(idle[39], buf, sizeof(buf)));
	assert_string_equal(buf, "");
	for (int i = 0; i < 40; i++)
		close(idle[i]);
	prk_mpdev_free(a);
}

/* With a 300 ms idle timeout: a silent client and one that dribbles a
 * request a byte at a time are closed after it, with a line that says why;
 * one that asks something every 100 ms stays. */
static void test_idle_clients_time_out(void **state)
{
	(void)state;
	assert_int_equal(prk_host_ctl_set_idle_ms(host, 300), 0);
	int silent = raw_connect(), dribbler = raw_connect();
	struct prk_ctl_client *c = connect_ok();
	static struct op o;
	char sbuf[512] = "", dbuf[512] = "";
	uint64_t t0 = prk_host_now_ms();
	uint64_t silent_at = 0, dribbler_at = 0;
	while (prk_host_now_ms() - t0 < 1000) {
		assert_int_equal(c_list(c, &o), 0); /* busy: served every time */
		if (!dribbler_at)
			assert_int_equal(send(dribbler, " ", 1, MSG_NOSIGNAL), 1);
		h_pump(host, 100);
		uint64_t t = prk_host_now_ms() - t0;
		if (!silent_at && drained_closed(silent, sbuf, sizeof(sbuf)))
			silent_at = t;
		if (!dribbler_at && drained_closed(dribbler, dbuf, sizeof(dbuf)))
			dribbler_at = t;
	}
	print_message("# closed after %llu ms (silent) and %llu ms (dribbling)\n",
	              (unsigned long long)silent_at, (unsigned long long)dribbler_at);
	assert_true(silent_at >= 300 && silent_at < 800);
	assert_true(dribbler_at >= 300 && dribbler_at < 800);
	assert_non_null(strstr(sbuf, "idle for 300 ms"));
	assert_non_null(strstr(dbuf, "an unfinished request for 300 ms"));
	assert_int_equal(c_list(c, &o), 0);
	prk_ctl_close(c);
	close(silent);
	close(dribbler);
	assert_int_equal(prk_host_ctl_set_idle_ms(host2, 300), -1); /* not listening */
}

/* A client whose connection the process closed for idleness connects
 * again for its next request (nothing of it had been sent), as the fence
 * agent needs when it has been busy with another device meanwhile. */
static void test_client_reconnects_after_idle_close(void **state)
{
	(void)state;
	assert_int_equal(prk_host_ctl_set_idle_ms(host, 200), 0);
	struct prk_ctl_client *c = connect_ok();
	static struct op o;
	assert_int_equal(c_list(c, &o), 0);
	h_pump(host, 500); /* closed meanwhile */
	if (c_list(c, &o) != 0)
		fail_msg("list after the idle close: %s", o.err);
	prk_ctl_close(c);
}

/* Out of descriptors, accept() fails with EMFILE while the client stays
 * queued: the loop must not spin on the readable listening socket. Half a
 * second of pumping costs little CPU, and the client is served once
 * descriptors are free again. */
static void test_out_of_fds_does_not_spin(void **state)
{
	(void)state;
	struct rlimit old, low;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 256;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	static int filler[256];
	int n = 0;
	while (n < 256 && (filler[n] = dup(fd)) >= 0)
		n++;
	assert_int_equal(errno, EMFILE);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", prk_host_ctl_path(host));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	struct timespec c0, c1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	h_pump(host, 500);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	double cpu_ms =
	    (double)(c1.tv_sec - c0.tv_sec) * 1e3 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e6;
	for (int i = 0; i < n; i++)
		close(filler[i]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	print_message("# 500 ms out of descriptors: %.1f ms of CPU\n", cpu_ms);
	assert_true(cpu_ms < 100);
	static struct op o;
	static const char list[] = "{\"op\":\"list\"}\n";
	raw(&o, fd, list, sizeof(list) - 1);
	assert_false(o.closed);
	assert_non_null(strstr(o.reply, "\"ok\":true"));
	close(fd);
}

/* A socket file nobody listens on, as a crashed process leaves behind. */
static void stale_socket(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	assert_true(strlen(path) < sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
}

/* connect_all reaches every listening process of the state directory and
 * removes the socket files of processes that are gone. */
static void test_connect_all_unlinks_stale_sockets(void **state)
{
	(void)state;
	char stale[600], other[600], err[256];
	snprintf(stale, sizeof(stale), "%s/ctl/999999999.sock", state_dir);
	snprintf(other, sizeof(other), "%s/ctl/notes.txt", state_dir);
	stale_socket(stale);
	FILE *f = fopen(other, "w");
	assert_non_null(f);
	fclose(f);
	struct prk_ctl_client *cs[4];
	int n = prk_ctl_connect_all(state_dir, 2000, cs, 4, err, sizeof(err));
	assert_int_equal(n, 1);
	assert_string_equal(prk_ctl_client_path(cs[0]), prk_host_ctl_path(host));
	struct stat st;
	assert_int_equal(stat(stale, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(stat(other, &st), 0); /* not a socket name: left alone */
	static struct op o;
	assert_int_equal(c_list(cs[0], &o), 0); /* no device yet */
	prk_ctl_close(cs[0]);
	/* No ctl directory at all: nobody listens, not an error. */
	assert_int_equal(prk_ctl_connect_all(state_dir2, 2000, cs, 4, err, sizeof(err)), 0);
	assert_null(prk_ctl_connect(stale, 1000, err, sizeof(err)));
	assert_non_null(strstr(err, stale));
}

/* listen: a path somebody listens on is refused, a stale socket file is
 * replaced, a file that is not a socket is refused; free unlinks. */
static void test_listen_busy_stale_and_unlink(void **state)
{
	(void)state;
	struct prk_host_err err;
	assert_int_equal(prk_host_ctl_listen(host2, prk_host_ctl_path(host), &err), -1);
	assert_int_equal(err.code, PRK_HE_IN_USE);
	assert_int_equal(prk_host_ctl_listen(host, NULL, &err), -1); /* already listening */
	char p[600];
	snprintf(p, sizeof(p), "%s/agent.sock", daemon_.dir);
	stale_socket(p);
	if (prk_host_ctl_listen(host2, p, &err))
		fail_msg("listen on a stale file: %s", err.msg);
	assert_string_equal(prk_host_ctl_path(host2), p);
	prk_host_free(host2);
	host2 = NULL;
	struct stat st;
	assert_int_equal(stat(p, &st), -1);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	host2 = prk_host_new(&(struct prk_host_opts){.state_dir = state_dir2}, &err);
	assert_non_null(host2);
	assert_int_equal(prk_host_ctl_listen(host2, p, &err), -1);
	assert_non_null(strstr(err.msg, "not a socket"));
	assert_int_equal(stat(p, &st), 0); /* left alone */
}

/* Another uid is not served, even when it can reach the socket: the
 * process closes the connection without an answer. Needs root (to become
 * another uid). */
static void test_other_uid_refused(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	char p[108];
	snprintf(p, sizeof(p), "/tmp/prkit-ctl-test-%d.sock", (int)getpid());
	struct prk_host_err err;
	if (prk_host_ctl_listen(host2, p, &err))
		fail_msg("listen: %s", err.msg);
	assert_int_equal(chmod(p, 0666), 0); /* reachable by anyone: only the uid check is left */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(3);
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		memcpy(a.sun_path, p, strlen(p) + 1);
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
			_exit(2);
		static const char list[] = "{\"op\":\"list\"}\n";
		if (send(fd, list, sizeof(list) - 1, MSG_NOSIGNAL) < 0)
			_exit(0); /* already closed */
		char buf[256];
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, 5000) != 1)
			_exit(4);
		_exit(read(fd, buf, sizeof(buf)) > 0 ? 1 : 0);
	}
	int status = -1;
	uint64_t end = prk_host_now_ms() + 10000;
	while (waitpid(pid, &status, WNOHANG) == 0 && prk_host_now_ms() < end)
		prk_host_run(host2, 10);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	prk_host_free(host2); /* unlinks p */
	host2 = NULL;
	struct stat st;
	assert_int_equal(stat(p, &st), -1);
}

/* The device is freed while a client holds its stall: nothing dangles. */
static void test_device_freed_while_stalled(void **state)
{
	(void)state;
	struct prk_mpdev *a = MK(.ini = INI_A, .key = KEY_A);
	h_open_ok(a, PRK_OPEN_DEFAULT);
	char naa[33];
	snprintf(naa, sizeof(naa), "%s", prk_mpdev_naa(a));
	struct prk_ctl_client *c = connect_ok();
	assert_int_equal(c_stall(c, naa, 60000), 1);
	prk_mpdev_free(a);
	h_pump(host, 100);
	assert_int_equal(c_resume(c, naa), 0);
	static struct op o;
	assert_int_equal(c_list(c, &o), 0);
	prk_ctl_close(c);
	h_pump(host, 100);
}

/* Starts `prkit io` as host B (randwrite, QD 4, for `seconds`, both paths)
 * and waits until its control socket (the default path in the state
 * directory) exists; the socket's path into sock. */
static void spawn_io_writer(const char *seconds, struct h_proc *p, char *sock, size_t cap)
{
	const char *args[] = {"io",        "--key",     "b2b2",      "--initiator", INI_B, "--rw",
	                      "randwrite", "--time",    seconds,     "--qd",        "4",   "--json",
	                      "--quiet",   url_ptrs[0], url_ptrs[1], NULL};
	assert_int_equal(h_prkit_spawn(&daemon_, p, args), 0);
	snprintf(sock, cap, "%s/ctl/%d.sock", state_dir, (int)p->pid);
	struct stat st;
	uint64_t end = h_now_ms() + 10000;
	while (stat(sock, &st) && h_now_ms() < end)
		usleep(20000);
	assert_int_equal(stat(sock, &st), 0);
}

/* `prkit io` listens by default: the agent finds it in the state
 * directory, stalls it, changes its key, and the run counts both. */
static void test_prkit_io_serves_the_socket(void **state)
{
	(void)state;
	struct h_proc p;
	char sock[600];
	spawn_io_writer("5", &p, sock, sizeof(sock));
	/* Ours and prkit io's. */
	struct prk_ctl_client *cs[4];
	char err[256];
	assert_int_equal(prk_ctl_connect_all(state_dir, 20000, cs, 4, err, sizeof(err)), 2);
	struct prk_ctl_client *c = NULL;
	for (int i = 0; i < 2; i++) {
		if (strcmp(prk_ctl_client_path(cs[i]), sock) == 0)
			c = cs[i];
		else
			prk_ctl_close(cs[i]);
	}
	assert_non_null(c);
	/* No loop of ours is involved: call directly. */
	struct prk_ctl_dev devs[4];
	assert_int_equal(prk_ctl_list(c, devs, 4, err, sizeof(err)), 1);
	assert_int_equal(devs[0].key, KEY_B);
	assert_int_equal(prk_ctl_stall(c, devs[0].naa, 10000, err, sizeof(err)), 1);
	usleep(200000);
	bool fenced;
	if (prk_ctl_set_key(c, devs[0].naa, KEY_B, KEY_C, &fenced, err, sizeof(err)) != 1)
		fail_msg("set_key: %s", err);
	assert_int_equal(prk_ctl_resume(c, devs[0].naa, err, sizeof(err)), 1);
	prk_ctl_close(c);
	int rc;
	while (!h_proc_poll(&p, &rc, cli_out, sizeof(cli_out), cli_err, sizeof(cli_err)))
		usleep(20000);
	if (rc != 0)
		fail_msg("prkit io exited with %d: %s", rc, cli_err);
	json_object *o = json_tokener_parse(cli_out);
	assert_non_null(o);
	assert_string_equal(json_object_get_string(h_member(o, "ctl_socket")), sock);
	assert_int_equal(json_object_get_int(h_member(o, "stalls")), 1);
	assert_int_equal(json_object_get_int(h_member(o, "key_changes")), 1);
	assert_string_equal(json_object_get_string(h_member(o, "key")), "0xc3c3");
	json_object_put(o);
	struct stat st;
	assert_int_equal(stat(sock, &st), -1); /* removed at exit */
	assert_int_equal(regs_of(INI_B, KEY_C, NULL), 2);
}

/* prkit io under a self-fence: "fail" ends its run with the completions
 * counted as fenced (exit 4, like RESERVATION CONFLICT), no other error,
 * and its registration is still on the target (a local decision). */
static void test_prkit_io_counts_fail_as_fenced(void **state)
{
	(void)state;
	struct h_proc p;
	char sock[600];
	spawn_io_writer("20", &p, sock, sizeof(sock));
	char err[256];
	struct prk_ctl_client *c = prk_ctl_connect(sock, 20000, err, sizeof(err));
	if (!c)
		fail_msg("connect: %s", err);
	struct prk_ctl_dev devs[4];
	assert_int_equal(prk_ctl_list(c, devs, 4, err, sizeof(err)), 1);
	usleep(300000); /* some writes complete first */
	uint64_t t0 = h_now_ms();
	assert_int_equal(prk_ctl_fail(c, devs[0].naa, "self-fenced: test", err, sizeof(err)), 1);
	int rc;
	while (!h_proc_poll(&p, &rc, cli_out, sizeof(cli_out), cli_err, sizeof(cli_err)))
		usleep(20000);
	prk_ctl_close(c);
	assert_true(h_now_ms() - t0 < 15000); /* it stopped, not ran its 20 s */
	if (rc != 4)
		fail_msg("prkit io exited with %d (want 4): %s", rc, cli_err);
	json_object *o = json_tokener_parse(cli_out);
	assert_non_null(o);
	json_object *e = h_member(o, "errors");
	assert_true(json_object_get_int64(h_member(e, "fenced")) >= 1);
	assert_int_equal(json_object_get_int64(h_member(e, "scsi")), 0);
	assert_int_equal(json_object_get_int64(h_member(e, "no_path")), 0);
	assert_true(json_object_get_int64(h_member(o, "writes")) > 0);
	json_object_put(o);
	assert_int_equal(regs_of(INI_B, KEY_B, NULL), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_list_shows_open_device, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stall_holds_io_until_resume, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stall_released_when_client_closes, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_stall_ends_after_max_ms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_clients_stall_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_key_moves_nexuses_to_new_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_key_wrong_old_key_and_register, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_change_key_after_preempt_is_fenced, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_fail_is_sticky_until_register, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_on_closed_device, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connect_all_unlinks_stale_sockets, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_listen_busy_stale_and_unlink, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_uid_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_device_freed_while_stalled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prkit_io_serves_the_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prkit_io_counts_fail_as_fenced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idle_clients_do_not_lock_out_fence, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_idle_clients_time_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_reconnects_after_idle_close, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_out_of_fds_does_not_spin, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
