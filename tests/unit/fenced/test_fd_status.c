/* prkit fenced's status: the reply built from a hand-made snapshot (every
 * member the spec lists, with its units and nulls), and the socket server
 * and client talking over a real UNIX socket on a prk_loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fd_daemon.h"
#include "fd_status.h"
#include "loop.h"

static struct prk_fd_config CFG;
static struct prk_fd_core CORE;

static json_object *get(json_object *o, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok(buf, "."); k; k = strtok(NULL, ".")) {
		json_object *v = NULL;
		if (!json_object_object_get_ex(o, k, &v))
			fail_msg("no member %s (of %s)", k, path);
		o = v;
	}
	return o;
}

static const char *gs(json_object *o, const char *p)
{
	return json_object_get_string(get(o, p));
}

static int64_t gi(json_object *o, const char *p)
{
	return json_object_get_int64(get(o, p));
}

static void snapshot(struct prk_fd_status_in *in)
{
	prk_fd_config_init(&CFG);
	CFG.cluster_key = false;
	memset(&CORE, 0, sizeof(CORE));
	CORE.cfg.nodeid = 1;
	CORE.state = PRK_FD_FENCING;
	CORE.quorate = true;
	CORE.in_group = true;
	CORE.joined = true;
	CORE.key = 0x84d4000100000002ull;
	CORE.n_members = 2;
	CORE.members[0] = (struct prk_fd_member){.nodeid = 1, .joined = true, .key = CORE.key};
	CORE.members[1] =
	    (struct prk_fd_member){.nodeid = 2, .joined = false, .key = 0x84d4000200000007ull};
	CORE.n_pending = 1;
	CORE.pending[0] = 3;
	CORE.last = (struct prk_fd_round){.valid = true,
	                                  .victims = {3},
	                                  .n_victims = 1,
	                                  .executor = 1,
	                                  .result = PRK_FD_RESULT_OK,
	                                  .changed_ms = 10000,
	                                  .stalled_ms = 10012,
	                                  .fenced_ms = 10250,
	                                  .resumed_ms = 0};
	static struct prk_fds_lu lus[2];
	memset(lus, 0, sizeof(lus));
	snprintf(lus[0].naa, sizeof(lus[0].naa), "600140500000000000000000000000a1");
	lus[0].coordinator = true;
	lus[0].reachable = true;
	lus[0].has_our_key = true;
	lus[0].reserved = true;
	lus[0].holder = CORE.key;
	lus[0].n_keys = 2;
	lus[0].keys[0] = CORE.key;
	lus[0].keys[1] = 0x84d4000200000007ull;
	snprintf(lus[1].naa, sizeof(lus[1].naa), "600140500000000000000000000000a2");
	static struct prk_fdl_proc procs[1];
	snprintf(procs[0].socket, sizeof(procs[0].socket), "/run/prkit/ctl/io.1");
	procs[0].n_devices = 2;
	procs[0].stalled = 2;
	procs[0].key = CORE.key;
	*in = (struct prk_fd_status_in){
	    .cfg = &CFG,
	    .core = &CORE,
	    .executor = 1,
	    .may_act = true,
	    .now_ms = 20000,
	    .real_minus_mono_ms = 1700000000000ll,
	    .lus = lus,
	    .n_lus = 2,
	    .procs = procs,
	    .n_procs = 1,
	    .check = {.valid = true, .ok = true, .with_key = 2, .counted = 2, .at_ms = 19688},
	    .fencings = 4};
}

static void test_reply_members(void **state)
{
	(void)state;
	struct prk_fd_status_in in;
	snapshot(&in);
	json_object *o = prk_fd_status_json(&in);
	assert_non_null(o);
	assert_int_equal(gi(o, "node"), 1);
	assert_string_equal(gs(o, "cluster_name"), "prkit");
	assert_string_equal(gs(o, "key_mode"), "node");
	assert_string_equal(gs(o, "state"), "fencing");
	assert_true(json_object_get_boolean(get(o, "quorate")));
	assert_true(json_object_get_boolean(get(o, "may_act")));
	assert_int_equal(gi(o, "executor"), 1);
	assert_string_equal(gs(o, "key"), "0x84d4000100000002");
	assert_int_equal(gi(o, "incarnation"), 2);
	json_object *m = get(o, "members");
	assert_int_equal(json_object_array_length(m), 2);
	assert_int_equal(gi(json_object_array_get_idx(m, 1), "node"), 2);
	assert_false(json_object_get_boolean(get(json_object_array_get_idx(m, 1), "joined")));
	assert_string_equal(gs(json_object_array_get_idx(m, 1), "key"), "0x84d4000200000007");
	assert_int_equal(json_object_array_length(get(o, "pending")), 1);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(get(o, "pending"), 0)), 3);
	json_object *lus = get(o, "lus");
	assert_int_equal(json_object_array_length(lus), 2);
	json_object *l0 = json_object_array_get_idx(lus, 0),
	            *l1 = json_object_array_get_idx(lus, 1);
	assert_string_equal(gs(l0, "naa"), "600140500000000000000000000000a1");
	assert_true(json_object_get_boolean(get(l0, "coordinator")));
	assert_true(json_object_get_boolean(get(l0, "reachable")));
	assert_true(json_object_get_boolean(get(l0, "has_our_key")));
	assert_int_equal(json_object_array_length(get(l0, "keys")), 2);
	assert_string_equal(gs(l0, "holder"), "0x84d4000100000002");
	assert_null(get(l1, "holder")); /* not reserved: null, not 0x0 */
	assert_false(json_object_get_boolean(get(l1, "reachable")));
	json_object *p0 = json_object_array_get_idx(get(o, "local"), 0);
	assert_string_equal(gs(p0, "socket"), "/run/prkit/ctl/io.1");
	assert_int_equal(gi(p0, "devices"), 2);
	assert_int_equal(gi(p0, "stalled"), 2);
	assert_int_equal(gi(p0, "fenced"), 0);
	assert_true(json_object_get_boolean(get(o, "check.ok")));
	assert_int_equal(gi(o, "check.with_key"), 2);
	assert_int_equal(gi(o, "check.counted"), 2);
	assert_int_equal(gi(o, "check.age_ms"), 312);
	assert_int_equal(gi(o, "last_fencing.executor"), 1);
	assert_string_equal(gs(o, "last_fencing.result"), "ok");
	assert_int_equal(gi(o, "last_fencing.changed_at_ms"), 1700000010000ll);
	assert_int_equal(gi(o, "last_fencing.stall_ms"), 12);
	assert_int_equal(gi(o, "last_fencing.fence_ms"), 250);
	assert_null(get(o, "last_fencing.resume_ms")); /* not resumed yet */
	assert_int_equal(gi(o, "fencings"), 4);
	assert_null(get(o, "self_fence"));
	json_object_put(o);
}

static void test_reply_self_fenced_and_nulls(void **state)
{
	(void)state;
	struct prk_fd_status_in in;
	snapshot(&in);
	CFG.cluster_key = true;
	CORE.state = PRK_FD_SELF_FENCED;
	snprintf(CORE.self_fence_reason, sizeof(CORE.self_fence_reason),
	         "self-fenced: no quorum for 2000 ms");
	CORE.last.valid = false;
	in.check.valid = false;
	in.self_fence_at_ms = 15000;
	json_object *o = prk_fd_status_json(&in);
	assert_string_equal(gs(o, "state"), "self_fenced");
	assert_string_equal(gs(o, "key_mode"), "cluster");
	assert_null(get(o, "last_fencing"));
	assert_null(get(o, "check"));
	assert_string_equal(gs(o, "self_fence.reason"), "self-fenced: no quorum for 2000 ms");
	assert_int_equal(gi(o, "self_fence.at_ms"), 1700000015000ll);
	json_object_put(o);
	/* Every state has a lowercase name. */
	assert_string_equal(prk_fd_state_name(PRK_FD_STARTING), "starting");
	assert_string_equal(prk_fd_state_name(PRK_FD_JOINING), "joining");
	assert_string_equal(prk_fd_state_name(PRK_FD_RUNNING), "running");
	assert_string_equal(prk_fd_state_name(PRK_FD_INQUORATE), "inquorate");
	assert_string_equal(prk_fd_state_name(PRK_FD_STOPPING), "stopping");
}

/* ---- the socket ---- */

/* prk_loop cannot run again once stopped: one client thread makes every
 * request in turn while the loop serves them, then the test checks. */
static atomic_int done;
static char *reply, *raw[3];
static char qerr[256];
static char sock_path[108];

static json_object *build(void *arg)
{
	struct prk_fd_status_in *in = arg;
	return prk_fd_status_json(in);
}

/* Sends raw bytes; returns all that comes back (malloc'd). */
static char *raw_request(const char *req, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	char *out = calloc(1, 65536);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		if (write(fd, req, len) < 0) {
		}
		size_t have = 0;
		ssize_t n;
		while ((n = read(fd, out + have, 65535 - have)) > 0)
			have += (size_t)n;
	}
	close(fd);
	return out;
}

static void *clients(void *arg)
{
	(void)arg;
	static char big[5000];
	memset(big, 'x', sizeof(big));
	reply = prk_fd_status_query(sock_path, 2000, qerr, sizeof(qerr));
	raw[0] = raw_request("{\"cmd\":\"reboot\"}\n", 17);
	raw[1] = raw_request("not json\n", 9);
	raw[2] = raw_request(big, sizeof(big));
	atomic_store(&done, 1);
	return NULL;
}

static void poll_done(void *arg)
{
	if (atomic_load(&done))
		prk_loop_stop(arg);
}

static void test_socket_round_trip(void **state)
{
	(void)state;
	struct prk_fd_status_in in;
	snapshot(&in);
	snprintf(sock_path, sizeof(sock_path), "/tmp/test_fd_status.%d.sock", (int)getpid());
	struct prk_loop *l = prk_loop_new();
	char err[256];
	struct prk_fd_status_srv *s =
	    prk_fd_status_listen(l, sock_path, build, &in, err, sizeof(err));
	assert_non_null(s);
	/* A second daemon on the same socket is refused while the first answers. */
	assert_null(prk_fd_status_listen(l, sock_path, build, &in, err, sizeof(err)));
	assert_non_null(strstr(err, "another prkit fenced answers there"));

	pthread_t t;
	struct prk_loop_fd *tm = prk_loop_timer(l, 10, poll_done, l);
	assert_non_null(tm);
	assert_int_equal(pthread_create(&t, NULL, clients, NULL), 0);
	assert_int_equal(prk_loop_run(l), 0);
	pthread_join(t, NULL);
	prk_loop_del(l, tm);

	assert_non_null(reply);
	json_object *o = json_tokener_parse(reply);
	assert_non_null(o);
	assert_string_equal(gs(o, "state"), "fencing");
	assert_string_equal(gs(o, "key"), "0x84d4000100000002");
	json_object_put(o);
	free(reply);
	assert_non_null(strstr(raw[0], "\"error\":\"unknown cmd"));
	assert_non_null(strstr(raw[1], "not a JSON object"));
	assert_non_null(strstr(raw[2], "request longer than 4096 bytes"));
	for (int i = 0; i < 3; i++)
		free(raw[i]);

	prk_fd_status_close(s);
	assert_int_equal(access(sock_path, F_OK), -1); /* the file is removed */
	/* Nobody there: the client says so, naming the path. */
	assert_null(prk_fd_status_query(sock_path, 500, qerr, sizeof(qerr)));
	assert_non_null(strstr(qerr, "cannot reach prkit fenced at /tmp/test_fd_status."));
	prk_loop_free(l);
}

static void test_socket_path(void **state)
{
	(void)state;
	char buf[108];
	prk_fd_config_init(&CFG);
	snprintf(CFG.state_dir, sizeof(CFG.state_dir), "/var/lib/x");
	prk_fd_socket_path(&CFG, buf, sizeof(buf));
	assert_string_equal(buf, "/var/lib/x/fenced.sock");
	snprintf(CFG.socket, sizeof(CFG.socket), "/run/f.sock");
	prk_fd_socket_path(&CFG, buf, sizeof(buf));
	assert_string_equal(buf, "/run/f.sock");
	prk_fd_socket_path(NULL, buf, sizeof(buf));
	assert_non_null(strstr(buf, "/fenced.sock"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reply_members),
	    cmocka_unit_test(test_reply_self_fenced_and_nulls),
	    cmocka_unit_test(test_socket_round_trip),
	    cmocka_unit_test(test_socket_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
