/* Integration tests of the admin socket as a hostile or careless local
 * client uses it: it must never hold up the event loop (READ latency on an
 * iSCSI session stays low while one client dribbles a byte every 1.5 s and
 * 200 more sit idle), and its limits answer with errors instead of resets
 * (an over-long request, a client that never completes its request, one
 * client beyond the cap). Also the exact answers: two JSON values on one
 * line, a LUN out of range named as given, an unknown portal, and the CLI's
 * own check of a negative LUN. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"

#define INI_A "iqn.2026-11.io.prkit.test:host-a"

/* The daemon's limits (src/target/admin.h), as documented in
 * docs/prkitd.md. */
#define MAX_CLIENTS 32
#define MAX_REQUEST (64 * 1024)
#define IDLE_MS 10000

/* What the latency test measures against (the bound). */
#define MAX_READ_LATENCY_MS 50
#define LOAD_MS 6000
#define IDLE_CLIENTS 200

/* A daemon of its own for every test: one test's stuck clients (before
 * the fix, the daemon served them one at a time) must not spoil the next. */
static struct h_daemon daemon_;

static int setup(void **state)
{
	(void)state;
	char cfg[2048];
	h_config_basic(cfg, sizeof(cfg), 1, 32);
	return h_start(&daemon_, cfg);
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* A connection to the admin socket; non-blocking ones may still be
 * connecting (-1 with errno EAGAIN when the backlog is full). */
static int admin_connect(bool nonblock)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	h_admin_path(&daemon_, sa.sun_path, sizeof(sa.sun_path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Reads until EOF or timeout_ms. Returns the bytes read (NUL-terminated
 * in buf); *rd_errno is 0 on EOF, ETIMEDOUT on the timeout, or the errno
 * of a failed read (ECONNRESET: the daemon reset the connection). */
static size_t read_answer(int fd, char *buf, size_t cap, int timeout_ms, int *rd_errno)
{
	size_t have = 0;
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	*rd_errno = ETIMEDOUT;
	for (;;) {
		int64_t left = (int64_t)(end - h_now_ms());
		if (left <= 0)
			break;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		ssize_t n = read(fd, buf + have, cap - 1 - have);
		if (n > 0) {
			have += (size_t)n;
			if (have == cap - 1)
				break;
			continue;
		}
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		*rd_errno = n == 0 ? 0 : errno;
		break;
	}
	buf[have] = 0;
	return have;
}

/* One request (text sent as is), its answer parsed; asserts EOF after it. */
static json_object *request(const char *text)
{
	int fd = admin_connect(false);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	static char buf[65536];
	int e;
	read_answer(fd, buf, sizeof(buf), 5000, &e);
	close(fd);
	assert_int_equal(e, 0);
	json_object *o = json_tokener_parse(buf);
	if (!o)
		fail_msg("not a JSON answer: \"%s\"", buf);
	return o;
}

static const char *error_of(json_object *o)
{
	json_object *v;
	if (json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v))
		return NULL;
	assert_true(json_object_object_get_ex(o, "error", &v));
	return json_object_get_string(v);
}

/* Asserts the request is answered with an error containing want. */
static void expect_error(const char *text, const char *want)
{
	json_object *o = request(text);
	const char *e = error_of(o);
	if (!e || !strstr(e, want))
		fail_msg("%s -> %s; wanted an error with \"%s\"", text,
		         json_object_to_json_string(o), want);
	json_object_put(o);
}

/* ---- the event loop is never held up ---- */

struct load {
	atomic_bool stop;
	int dribble_fd;
	int idle[IDLE_CLIENTS];
	int n_idle;
	int dribbled;
};

/* One client sends a request a byte every 1.5 s; then 200 more connect and
 * send nothing (those the backlog refuses for a moment retry). */
static void *load_thread(void *arg)
{
	struct load *l = arg;
	static const char req[] = "{\"cmd\": \"targets\"}\n";
	l->dribble_fd = admin_connect(false);
	uint64_t next = h_now_ms();
	uint64_t give_up = h_now_ms() + 3000;
	while (!atomic_load(&l->stop)) {
		if (l->dribble_fd >= 0 && h_now_ms() >= next &&
		    l->dribbled < (int)sizeof(req) - 2) {
			if (write(l->dribble_fd, req + l->dribbled, 1) == 1)
				l->dribbled++;
			next = h_now_ms() + 1500;
		}
		if (l->n_idle < IDLE_CLIENTS && h_now_ms() < give_up) {
			int fd = admin_connect(true);
			if (fd >= 0)
				l->idle[l->n_idle++] = fd;
			else
				sleep_ms(1);
			continue;
		}
		sleep_ms(10);
	}
	return NULL;
}

static void test_read_latency_while_admin_clients_stall(void **state)
{
	(void)state;
	struct iscsi_context *a = h_login(&daemon_, 0, INI_A, 1);
	assert_non_null(a);
	assert_int_equal(h_clear_ua(a, 0), SCSI_STATUS_GOOD);

	struct load l = {.dribble_fd = -1};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, load_thread, &l), 0);
	sleep_ms(100); /* the dribbler is connected and has sent its first byte */
	uint64_t worst = 0, total = 0, start = h_now_ms();
	unsigned n = 0;
	int status = SCSI_STATUS_GOOD;
	while (h_now_ms() - start < LOAD_MS && status == SCSI_STATUS_GOOD) {
		uint64_t t0 = h_now_ms();
		struct scsi_task *t = iscsi_read10_sync(a, 0, n % 1024, 512, 512, 0, 0, 0, 0, 0);
		uint64_t dt = h_now_ms() - t0;
		/* A READ that fails (libiscsi gives up after its timeout) is
		 * measured too, then fails the test below. */
		status = t ? t->status : -1;
		if (t)
			scsi_free_scsi_task(t);
		if (dt > worst)
			worst = dt;
		total += dt;
		n++;
	}
	atomic_store(&l.stop, true);
	pthread_join(th, NULL);
	printf("# %u READs in %llu ms, max latency %llu ms, mean %.3f ms; %d idle admin clients "
	       "connected, %d bytes dribbled\n",
	       n, (unsigned long long)(h_now_ms() - start), (unsigned long long)worst,
	       (double)total / n, l.n_idle, l.dribbled);
	assert_int_equal(status, SCSI_STATUS_GOOD);
	assert_true(l.dribble_fd >= 0);
	assert_true(l.dribbled >= 3);
	assert_int_equal(l.n_idle, IDLE_CLIENTS);
	assert_true(worst < MAX_READ_LATENCY_MS);

	close(l.dribble_fd);
	for (int i = 0; i < l.n_idle; i++)
		close(l.idle[i]);
	/* The session and the admin socket still work once the clients are
	 * gone (the daemon sees their EOF on its next loop turn). */
	struct scsi_task *t = iscsi_testunitready_sync(a, 0);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	scsi_free_scsi_task(t);
	json_object *o = NULL;
	for (int i = 0; i < 50; i++) {
		o = request("{\"cmd\": \"portals\"}\n");
		if (!error_of(o))
			break;
		json_object_put(o);
		o = NULL;
		sleep_ms(20);
	}
	assert_non_null(o);
	json_object_put(o);
	h_logout(a);
}

/* ---- limits answer with errors, not resets ---- */

static void test_over_long_request_gets_an_error(void **state)
{
	(void)state;
	/* 16 times the limit: the daemon answers after 64 KiB and reads
	 * the rest away, so the write completes and no reset follows. */
	size_t len = 16 * MAX_REQUEST;
	char *big = malloc(len);
	assert_non_null(big);
	memset(big, ' ', len);
	big[0] = '{';
	int fd = admin_connect(false);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, big, len), (ssize_t)len);
	free(big);
	char buf[4096];
	int e;
	read_answer(fd, buf, sizeof(buf), 5000, &e);
	close(fd);
	assert_int_equal(e, 0); /* EOF after the answer: no reset */
	json_object *o = json_tokener_parse(buf);
	assert_non_null(o);
	const char *msg = error_of(o);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "longer than 65536 bytes"));
	json_object_put(o);
}

static void test_idle_client_is_closed_after_the_timeout(void **state)
{
	(void)state;
	int fd = admin_connect(false);
	assert_true(fd >= 0);
	/* Half a request, then silence. */
	assert_int_equal(write(fd, "{\"cmd\"", 6), 6);
	uint64_t t0 = h_now_ms();
	char buf[4096];
	int e;
	read_answer(fd, buf, sizeof(buf), IDLE_MS + 3000, &e);
	uint64_t dt = h_now_ms() - t0;
	close(fd);
	printf("# an idle admin client was answered and closed after %llu ms\n",
	       (unsigned long long)dt);
	assert_int_equal(e, 0);
	assert_true(dt >= IDLE_MS - 500 && dt <= IDLE_MS + 1500);
	json_object *o = json_tokener_parse(buf);
	assert_non_null(o);
	assert_non_null(error_of(o));
	assert_non_null(strstr(error_of(o), "not complete within 10000 ms"));
	json_object_put(o);
}

/* An answer larger than the socket can hold, to a client that never reads
 * it: the rest waits in the daemon's buffer, other clients are served, and
 * after 10 s without progress the client is dropped (its buffer freed). */
static void test_client_that_never_reads_is_dropped(void **state)
{
	(void)state;
	/* About 140 bytes per LUN in the targets answer: 4000 LUNs make it
	 * larger than a unix socket's buffers. */
	char req[512];
	for (int lun = 1; lun <= 4000; lun++) {
		snprintf(req, sizeof(req),
		         "{\"cmd\": \"add-lu\", \"target\": \"%s\", \"lun\": {\"lun\": %d, "
		         "\"backstore\": {\"type\": \"ram\", \"size\": \"64K\"}}}\n",
		         H_TARGET, lun);
		json_object *o = request(req);
		if (error_of(o))
			fail_msg("add-lu %d: %s", lun, error_of(o));
		json_object_put(o);
	}
	int fd = admin_connect(false);
	assert_true(fd >= 0);
	static const char targets[] = "{\"cmd\": \"targets\"}\n";
	assert_int_equal(write(fd, targets, sizeof(targets) - 1), (ssize_t)(sizeof(targets) - 1));
	/* Served meanwhile. */
	sleep_ms(200);
	json_object *o = request("{\"cmd\": \"portals\"}\n");
	assert_null(error_of(o));
	json_object_put(o);
	assert_true(h_log_wait(&daemon_, "admin socket: dropped a client that read none of",
	                       IDLE_MS + 2000));
	/* What the socket held arrives, then the end, short of the whole
	 * answer (which ends with a newline). */
	static char buf[4 << 20];
	int e;
	size_t got = read_answer(fd, buf, sizeof(buf), 5000, &e);
	close(fd);
	printf("# a client that did not read got %zu bytes of its answer, then %s\n", got,
	       e ? strerror(e) : "EOF");
	assert_true(e == 0 || e == ECONNRESET);
	assert_true(got > 0);
	assert_true(buf[got - 1] != '\n');
}

static void test_client_cap_holds(void **state)
{
	(void)state;
	int fds[MAX_CLIENTS];
	for (int i = 0; i < MAX_CLIENTS; i++) {
		fds[i] = admin_connect(false);
		assert_true(fds[i] >= 0);
	}
	sleep_ms(100); /* all accepted */
	expect_error("{\"cmd\": \"portals\"}\n", "busy: 32 admin clients");
	/* One slot freed: served again. */
	close(fds[0]);
	json_object *o = NULL;
	for (int i = 0; i < 50; i++) {
		o = request("{\"cmd\": \"portals\"}\n");
		if (!error_of(o))
			break;
		json_object_put(o);
		o = NULL;
		sleep_ms(20);
	}
	assert_non_null(o);
	json_object_put(o);
	for (int i = 1; i < MAX_CLIENTS; i++)
		close(fds[i]);
}

/* ---- exact answers ---- */

static void test_one_request_per_line(void **state)
{
	(void)state;
	/* Two objects on one line: an error, neither is served. */
	expect_error("{\"cmd\": \"portals\"}{\"cmd\": \"remove-portal\", \"address\": "
	             "\"127.0.0.1\", \"port\": 1}\n",
	             "request: line 1, column 19: text after the JSON value");
	expect_error("{\"cmd\": \"portals\"} x\n", "column 20: text after the JSON value");
	expect_error("{\"cmd\" \"portals\"}\n", "request: line 1, column 8:");
	expect_error("\n", "request: only white space");
	/* A request ended by EOF instead of a newline is still served. */
	int fd = admin_connect(false);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"cmd\": \"portals\"}", 18), 18);
	shutdown(fd, SHUT_WR);
	char buf[4096];
	int e;
	read_answer(fd, buf, sizeof(buf), 5000, &e);
	close(fd);
	assert_int_equal(e, 0);
	assert_non_null(strstr(buf, "\"ok\":true"));
}

static void test_lun_out_of_range_named_as_given(void **state)
{
	(void)state;
	char req[512];
	snprintf(req, sizeof(req), "{\"cmd\": \"pr\", \"target\": \"%s\", \"lun\": 70000}\n",
	         H_TARGET);
	expect_error(req, "lun: 70000 is out of range 0..16383");
	snprintf(req, sizeof(req), "{\"cmd\": \"pr\", \"target\": \"%s\", \"lun\": -1}\n",
	         H_TARGET);
	expect_error(req, "lun: -1 is out of range 0..16383");
	snprintf(req, sizeof(req),
	         "{\"cmd\": \"remove-lu\", \"target\": \"%s\", \"lun\": 4294967296}\n", H_TARGET);
	expect_error(req, "lun: 4294967296 is out of range 0..16383");
	snprintf(req, sizeof(req),
	         "{\"cmd\": \"add-lu\", \"target\": \"%s\", \"lun\": {\"lun\": 70000, "
	         "\"backstore\": {\"type\": \"ram\", \"size\": \"1M\"}}}\n",
	         H_TARGET);
	expect_error(req, "lun: 70000 is out of range 0..16383");
	snprintf(req, sizeof(req), "{\"cmd\": \"pr\", \"target\": \"%s\", \"lun\": 9}\n", H_TARGET);
	expect_error(req, "lun: target " H_TARGET " has no LUN 9");
}

static void test_unknown_portal_as_documented(void **state)
{
	(void)state;
	expect_error("{\"cmd\": \"remove-portal\", \"address\": \"127.0.0.9\", \"port\": 1}\n",
	             "no portal 127.0.0.9:1");
	expect_error("{\"cmd\": \"set-alua\", \"address\": \"127.0.0.9\", \"port\": 1, \"state\": "
	             "\"standby\"}\n",
	             "no portal 127.0.0.9:1");
}

/* Asserts the request is answered with exactly the error want. */
static void expect_exact_error(const char *text, const char *want)
{
	json_object *o = request(text);
	const char *e = error_of(o);
	if (!e || strcmp(e, want) != 0)
		fail_msg("%s -> %s; wanted the error \"%s\"", text, json_object_to_json_string(o),
		         want);
	json_object_put(o);
}

/* Every error a command's fields can draw, to the byte: pinned before the
 * admin commands became a table (issue 12), so that no answer changed. */
static void test_every_field_error_exact(void **state)
{
	(void)state;
	static const char states[] =
	    "one of active_optimized, active_non_optimized, standby, unavailable is required";
	char req[512], want[512];
	expect_exact_error("[]\n", "cmd: a command name is required");
	expect_exact_error("{}\n", "cmd: a command name is required");
	expect_exact_error("{\"cmd\": 5}\n", "cmd: a command name is required");
	expect_exact_error("{\"cmd\": \"nope\"}\n", "cmd: unknown command \"nope\"");
	expect_exact_error("{\"cmd\": \"pr\"}\n", "target: a target name is required");
	expect_exact_error("{\"cmd\": \"remove-lu\", \"target\": 1}\n",
	                   "target: a target name is required");
	expect_exact_error("{\"cmd\": \"add-lu\", \"target\": \"iqn.2000-01.x:none\"}\n",
	                   "target: no target named \"iqn.2000-01.x:none\"");
	snprintf(req, sizeof(req), "{\"cmd\": \"pr\", \"target\": \"%s\"}\n", H_TARGET);
	expect_exact_error(req, "lun: a LUN number is required");
	snprintf(req, sizeof(req), "{\"cmd\": \"remove-lu\", \"target\": \"%s\", \"lun\": \"1\"}\n",
	         H_TARGET);
	expect_exact_error(req, "lun: a LUN number is required");
	snprintf(req, sizeof(req), "{\"cmd\": \"remove-lu\", \"target\": \"%s\", \"lun\": 7}\n",
	         H_TARGET);
	expect_exact_error(req, "target " H_TARGET " has no LUN 7");
	snprintf(req, sizeof(req), "{\"cmd\": \"add-lu\", \"target\": \"%s\"}\n", H_TARGET);
	expect_exact_error(req, "lun: the LUN description is required");
	snprintf(req, sizeof(req),
	         "{\"cmd\": \"add-lu\", \"target\": \"%s\", \"lun\": {\"lun\": 0, "
	         "\"backstore\": {\"type\": \"ram\", \"size\": \"1M\"}}}\n",
	         H_TARGET);
	expect_exact_error(req, "target " H_TARGET ": LUN 0 already exists");
	expect_exact_error("{\"cmd\": \"add-portal\"}\n", "address: an IP address is required");
	expect_exact_error("{\"cmd\": \"set-alua\", \"address\": 1}\n",
	                   "address: an IP address is required");
	expect_exact_error("{\"cmd\": \"remove-portal\", \"address\": \"127.0.0.1\"}\n",
	                   "port: a port number 0..65535 is required");
	expect_exact_error(
	    "{\"cmd\": \"add-portal\", \"address\": \"127.0.0.1\", \"port\": 65536}\n",
	    "port: a port number 0..65535 is required");
	snprintf(want, sizeof(want), "alua_state: %s", states);
	expect_exact_error("{\"cmd\": \"add-portal\", \"address\": \"127.0.0.1\", \"port\": 0, "
	                   "\"alua_state\": \"on\"}\n",
	                   want);
	expect_exact_error("{\"cmd\": \"remove-portal\", \"address\": \"127.0.0.1\", \"port\": 0, "
	                   "\"alua_state\": 1}\n",
	                   want);
	snprintf(want, sizeof(want), "state: %s", states);
	expect_exact_error("{\"cmd\": \"set-alua\", \"address\": \"127.0.0.1\", \"port\": 1}\n",
	                   want);
	expect_exact_error("{\"cmd\": \"add-portal\", \"address\": \"127.0.0.1\", \"port\": 0, "
	                   "\"tpgt\": 0}\n",
	                   "tpgt/rtpi: must be 1..65535");
	expect_exact_error("{\"cmd\": \"add-portal\", \"address\": \"127.0.0.1\", \"port\": 0, "
	                   "\"rtpi\": 65536}\n",
	                   "tpgt/rtpi: must be 1..65535");
	expect_exact_error("{\"cmd\": \"add-portal\", \"address\": \"127.0.0.300\", \"port\": 0}\n",
	                   "portal 127.0.0.300: not an IPv4 or IPv6 address");
	expect_exact_error("{\"cmd\": \"remove-portal\", \"address\": \"::1\", \"port\": 9}\n",
	                   "no portal [::1]:9");
	expect_exact_error("{\"cmd\": \"set-alua\", \"address\": \"::1\", \"port\": 9, "
	                   "\"state\": \"standby\"}\n",
	                   "no portal ::1:9");
}

/* The portal table holds 64 portals; the 65th is refused before it
 * listens. */
static void test_portal_cap_exact(void **state)
{
	(void)state;
	static const char add[] =
	    "{\"cmd\": \"add-portal\", \"address\": \"127.0.0.1\", \"port\": 0}\n";
	for (int i = 1; i < 64; i++) {
		json_object *o = request(add);
		assert_null(error_of(o));
		json_object_put(o);
	}
	expect_exact_error(add, "at most 64 portals");
	json_object *o = request("{\"cmd\": \"portals\"}\n");
	json_object *v;
	assert_true(json_object_object_get_ex(o, "portals", &v));
	assert_int_equal(json_object_array_length(v), 64);
	json_object_put(o);
}

static void test_cli_negative_lun(void **state)
{
	(void)state;
	char out[4096], err[4096];
	const char *add[] = {"add-lu", H_TARGET, "-1", "--ram", "1M", NULL};
	assert_int_equal(h_cli(&daemon_, out, sizeof(out), err, sizeof(err), add), 2);
	if (!strstr(err, "LUN -1 is out of range 0..16383"))
		fail_msg("prkit target add-lu T -1 said: %s", err);
	const char *big[] = {"pr", H_TARGET, "70000", NULL};
	assert_int_equal(h_cli(&daemon_, out, sizeof(out), err, sizeof(err), big), 2);
	if (!strstr(err, "LUN 70000 is out of range 0..16383"))
		fail_msg("prkit target pr T 70000 said: %s", err);
	const char *word[] = {"remove-lu", H_TARGET, "x1", NULL};
	assert_int_equal(h_cli(&daemon_, out, sizeof(out), err, sizeof(err), word), 2);
	if (!strstr(err, "\"x1\" is not a LUN number"))
		fail_msg("prkit target remove-lu T x1 said: %s", err);
}

/* Two event loops whatever the machine or PRKIT_TEST_THREADS says: the
 * pause counter only moves with several loops. */
static int setup_two_loops(void **state)
{
	(void)state;
	char cfg[2048], two[2100];
	h_config_basic(cfg, sizeof(cfg), 1, 32);
	char *brace = strchr(cfg, '{');
	assert_non_null(brace);
	snprintf(two, sizeof(two), "%.*s{\"threads\": 2, %s", (int)(brace - cfg), cfg, brace + 1);
	return h_start(&daemon_, two);
}

static long long loops_pauses(void)
{
	json_object *o = request("{\"cmd\": \"loops\"}\n"), *v;
	assert_null(error_of(o));
	assert_true(json_object_object_get_ex(o, "threads", &v));
	assert_int_equal(json_object_get_int(v), 2);
	assert_true(json_object_object_get_ex(o, "pauses", &v));
	long long n = json_object_get_int64(v);
	json_object_put(o);
	return n;
}

/* Commands that only look (targets, pr, cluster, loops) run without
 * pausing the other event loops: before, every admin command paused
 * them, so a monitoring script polling the socket stalled I/O on every
 * loop. Commands that walk the other loops' sessions pause for the walk
 * (exactly once each), and those that change what they read still do. */
static void test_reading_commands_do_not_pause_the_loops(void **state)
{
	(void)state;
	long long p0 = loops_pauses();
	char pr[160];
	snprintf(pr, sizeof(pr), "{\"cmd\": \"pr\", \"target\": \"%s\", \"lun\": 0}\n", H_TARGET);
	const char *looks[] = {"{\"cmd\": \"targets\"}\n", "{\"cmd\": \"cluster\"}\n", pr};
	for (int round = 0; round < 5; round++)
		for (size_t i = 0; i < sizeof(looks) / sizeof(looks[0]); i++)
			json_object_put(request(looks[i]));
	assert_int_equal(loops_pauses(), p0);

	json_object_put(request("{\"cmd\": \"sessions\"}\n"));
	assert_int_equal(loops_pauses(), p0 + 1);

	char add[256];
	snprintf(add, sizeof(add),
	         "{\"cmd\": \"add-lu\", \"target\": \"%s\", \"lun\": {\"lun\": 7, "
	         "\"backstore\": {\"type\": \"ram\", \"size\": \"1M\"}}}\n",
	         H_TARGET);
	json_object *o = request(add);
	if (error_of(o))
		fail_msg("add-lu: %s", error_of(o));
	json_object_put(o);
	if (loops_pauses() < p0 + 2)
		fail_msg("add-lu changed a LUN map without pausing the loops");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_read_latency_while_admin_clients_stall, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_over_long_request_gets_an_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idle_client_is_closed_after_the_timeout, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_client_that_never_reads_is_dropped, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_client_cap_holds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_request_per_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lun_out_of_range_named_as_given, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_portal_as_documented, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cli_negative_lun, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_field_error_exact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_portal_cap_exact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reading_commands_do_not_pause_the_loops,
	                                    setup_two_loops, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
