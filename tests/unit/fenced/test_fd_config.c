/* prkit fenced's configuration file: defaults, every member, and every
 * refusal naming the member (and the value where there is one). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd_config.h"

#define U1 "iscsi://192.0.2.1/iqn.2026-01.io.prkit:t1/0"
#define U2 "iscsi://192.0.2.2:3261/iqn.2026-01.io.prkit:t1/0"
#define U3 "iscsi://192.0.2.1/iqn.2026-01.io.prkit:t2/1"
#define U4 "iscsi://192.0.2.1/iqn.2026-01.io.prkit:t2/2"
#define U5 "iscsi://192.0.2.1/iqn.2026-01.io.prkit:t2/3"

static struct prk_fd_config C;
static char E[1024];

static int parse(const char *text)
{
	memset(E, 0, sizeof(E));
	return prk_fd_config_parse(text, strlen(text), &C, E, sizeof(E));
}

/* Fails with a message holding every string given. */
#define refused(text, ...)                                                                         \
	do {                                                                                       \
		const char *const want_[] = {__VA_ARGS__};                                         \
		if (parse(text) != -1)                                                             \
			fail_msg("accepted: %s", text);                                            \
		for (size_t i_ = 0; i_ < sizeof(want_) / sizeof(want_[0]); i_++)                   \
			if (!strstr(E, want_[i_]))                                                 \
				fail_msg("message \"%s\" lacks \"%s\"", E, want_[i_]);             \
	} while (0)

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"devices\": [\"" U1 "\"]}"), 0);
	assert_string_equal(C.cluster_name, "prkit");
	assert_false(C.cluster_key);
	assert_int_equal(C.n_devices, 1);
	assert_int_equal(C.devices[0].n_paths, 1);
	assert_string_equal(C.devices[0].paths[0], U1);
	assert_int_equal(C.n_coordinators, 0);
	assert_string_equal(C.group, "prkit-fenced");
	assert_string_equal(C.initiator, "");
	assert_string_equal(C.state_dir, "");
	assert_string_equal(C.socket, "");
	assert_string_equal(C.discover, "");
	assert_int_equal(C.self_fence_ms, 2000);
	assert_int_equal(C.check_ms, 1000);
	assert_int_equal(C.stall_ack_ms, 2000);
	assert_int_equal(C.io_timeout_ms, 5000);
	assert_int_equal(C.stall_max_ms, 10000);
	assert_string_equal(C.watchdog, "");
	assert_int_equal(C.watchdog_timeout_s, 10);
	assert_false(C.two_node_ok);
}

static void test_every_member(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"cluster_name\": \"web-1\", \"key_mode\": \"cluster\",\n"
	                       " \"devices\": [\"" U1 "," U2 "\", \"" U3 "\"],\n"
	                       " \"coordinators\": [\"" U4 "\"],\n"
	                       " \"initiator\": \"iqn.2026-01.io.prkit:n1\",\n"
	                       " \"state_dir\": \"/var/lib/prkit\", \"group\": \"g1\",\n"
	                       " \"socket\": \"/run/fenced.sock\", \"self_fence_ms\": 0,\n"
	                       " \"check_ms\": 100, \"stall_ack_ms\": 60000,\n"
	                       " \"io_timeout_ms\": 500, \"stall_max_ms\": 1000,\n"
	                       " \"watchdog\": {\"device\": \"/dev/watchdog\", \"timeout_s\": "
	                       "600},\n"
	                       " \"two_node_ok\": true}\n\n"),
	                 0);
	assert_string_equal(C.cluster_name, "web-1");
	assert_true(C.cluster_key);
	assert_int_equal(C.n_devices, 2);
	assert_int_equal(C.devices[0].n_paths, 2);
	assert_string_equal(C.devices[0].paths[1], U2);
	assert_string_equal(C.devices[1].paths[0], U3);
	assert_int_equal(C.n_coordinators, 1);
	assert_string_equal(C.coordinators[0].paths[0], U4);
	assert_string_equal(C.initiator, "iqn.2026-01.io.prkit:n1");
	assert_string_equal(C.state_dir, "/var/lib/prkit");
	assert_string_equal(C.group, "g1");
	assert_string_equal(C.socket, "/run/fenced.sock");
	assert_int_equal(C.self_fence_ms, 0);
	assert_int_equal(C.check_ms, 100);
	assert_int_equal(C.stall_ack_ms, 60000);
	assert_int_equal(C.io_timeout_ms, 500);
	assert_int_equal(C.stall_max_ms, 1000);
	assert_string_equal(C.watchdog, "/dev/watchdog");
	assert_int_equal(C.watchdog_timeout_s, 600);
	assert_true(C.two_node_ok);

	assert_int_equal(parse("{\"discover\": \"iscsi://10.98.1.1:3260\", \"key_mode\": "
	                       "\"node\"}"),
	                 0);
	assert_string_equal(C.discover, "iscsi://10.98.1.1:3260");
	assert_int_equal(C.n_devices, 0);
	assert_false(C.cluster_key);
	assert_int_equal(parse("{\"discover\": \"iscsi://[fd00::1]/\"}"), 0);
	assert_int_equal(parse("{\"discover\": \"iscsi://storage-a\"}"), 0);
}

static void test_syntax(void **state)
{
	(void)state;
	refused("", "not JSON");
	refused("{\"devices\": [\"" U1 "\"]", "not JSON");
	refused("{\"devices\": [\"" U1 "\"]} {}", "text after the JSON object");
	refused("[1]", "expected a JSON object");
	refused("\"x\"", "expected a JSON object");
	refused("{}", "devices: missing");
	/* A NUL byte in the text, and an escaped one in a string. */
	memset(E, 0, sizeof(E));
	assert_int_equal(prk_fd_config_parse("{}\0{}", 5, &C, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "NUL byte at offset 2"));
	refused("{\"devices\": [\"" U1 "\"], \"group\": \"a\\u0000b\"}", "group:", "NUL");
}

static void test_members_refused(void **state)
{
	(void)state;
#define D "\"devices\": [\"" U1 "\"], "
	refused("{" D "\"colour\": 1}", "colour: unknown member");
	refused("{" D "\"cluster_name\": 5}", "cluster_name: expected a string", "5");
	refused("{" D "\"cluster_name\": \".x\"}", "cluster_name: '.x'");
	refused("{" D "\"cluster_name\": \"\"}", "cluster_name: ''");
	refused("{" D "\"key_mode\": \"Node\"}", "key_mode: 'Node'");
	refused("{" D "\"key_mode\": true}", "key_mode: expected a string");
	refused("{" D "\"initiator\": \"node1\"}", "initiator: 'node1'");
	refused("{" D "\"state_dir\": \"var/lib\"}", "state_dir: 'var/lib' is not an absolute");
	refused("{" D "\"socket\": \"\"}", "socket: empty string");
	refused(
	    "{" D "\"socket\": \"/"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
	    "socket:", "longer than 107");
	refused("{" D "\"group\": [\"g\"]}", "group: expected a string", "[");
	refused("{" D "\"self_fence_ms\": 600001}",
	        "self_fence_ms: 600001 is out of range 0..600000");
	refused("{" D "\"self_fence_ms\": -1}", "self_fence_ms: -1 is out of range");
	refused("{" D "\"check_ms\": 99}", "check_ms: 99 is out of range 100..1000");
	refused("{" D "\"check_ms\": 1001}", "check_ms: 1001");
	refused("{" D "\"check_ms\": 500.0}", "check_ms: expected an integer", "500");
	refused("{" D "\"check_ms\": \"500\"}", "check_ms: expected an integer", "\"500\"");
	refused("{" D "\"stall_ack_ms\": 60001}", "stall_ack_ms: 60001");
	refused("{" D "\"io_timeout_ms\": 499}", "io_timeout_ms: 499");
	refused("{" D "\"stall_max_ms\": 999}", "stall_max_ms: 999");
	refused("{" D "\"self_fence_ms\": 99999999999999999999999}", "self_fence_ms:");
	refused("{" D "\"two_node_ok\": 1}", "two_node_ok: expected true or false", "1");
	refused("{" D "\"watchdog\": \"/dev/watchdog\"}", "watchdog: expected {");
	refused("{" D "\"watchdog\": {}}", "watchdog: no \"device\"");
	refused("{" D "\"watchdog\": {\"device\": \"/dev/w\", \"timeout_s\": 0}}",
	        "watchdog.timeout_s: 0 is out of range 1..600");
	refused("{" D "\"watchdog\": {\"device\": \"dev/w\"}}", "watchdog.device: 'dev/w'");
	refused("{" D "\"watchdog\": {\"device\": \"/dev/w\", \"tmo\": 1}}",
	        "watchdog.tmo: unknown member");
#undef D
}

static void test_lus_refused(void **state)
{
	(void)state;
	refused("{\"devices\": \"" U1 "\"}", "devices: expected an array");
	refused("{\"devices\": []}", "devices: empty array");
	refused("{\"devices\": [7]}", "devices[0]: expected a string", "7");
	refused("{\"devices\": [\"" U1 "\", \"http://x/iqn.2026-01.a:b/0\"]}",
	        "devices[1]: path 'http://x/iqn.2026-01.a:b/0' does not start with iscsi://");
	refused("{\"devices\": [\"iscsi://h/iqn.2026-01.a:b/x\"]}", "devices[0]:", "LUN 'x'");
	refused("{\"devices\": [\"" U1 " " U3 "\"]}", "devices[0]:", "holds 2 LUs");
	refused("{\"devices\": [\"" U1 "," U1 "\"]}", "devices[0]:", "given twice");
	refused("{\"devices\": [\"" U1 "\", \"" U2 "," U1 "\"]}",
	        "devices[1]: path '" U1 "' is also in devices[0]");
	refused("{\"devices\": [\"" U1 "\"], \"discover\": \"iscsi://h\"}", "devices and discover");
	/* 17 LUs: one more than the agent takes. */
	char big[4096] = "{\"devices\": [";
	for (int i = 0; i < 17; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big),
		         "%s\"iscsi://192.0.2.1/iqn.2026-01.io.prkit:t/%d\"", i ? "," : "", i);
	strcat(big, "]}");
	refused(big, "devices: 17 LUs, at most 16");

	refused("{\"devices\": [\"" U1 "\"], \"coordinators\": []}", "coordinators: empty");
	refused("{\"devices\": [\"" U1 "\"], \"coordinators\": [\"" U3 "\", \"" U4 "\"]}",
	        "coordinators: 2 LUs; give an odd number");
	refused("{\"devices\": [\"" U1 "\"], \"coordinators\": [\"" U3 "\", \"" U4 "\", \"" U5
	        "\", \"" U2 "\", \"iscsi://h/iqn.2026-01.a:b/5\", \"iscsi://h/iqn.2026-01.a:b/6\", "
	        "\"iscsi://h/iqn.2026-01.a:b/7\", \"iscsi://h/iqn.2026-01.a:b/8\"]}",
	        "coordinators: 8 LUs, at most 7");
	refused("{\"devices\": [\"" U1 "\", \"" U3 "\"], \"coordinators\": [\"" U3 "\"]}",
	        "coordinators[0]: path '" U3 "' is also in devices[1]");
	refused("{\"devices\": [\"" U1 "\"], \"coordinators\": [\"" U3 "\", \"" U4 "," U3
	        "\", \"" U5 "\"]}",
	        "coordinators[1]: path '" U3 "' is also in coordinators[0]");

	refused("{\"discover\": \"http://h\"}", "discover: 'http://h' does not start");
	refused("{\"discover\": \"iscsi://\"}", "discover: 'iscsi://' has no host");
	refused("{\"discover\": \"iscsi://h:0\"}", "discover: 'iscsi://h:0': port");
	refused("{\"discover\": \"iscsi://h:70000\"}", "discover:", "port");
	refused("{\"discover\": \"iscsi://h/iqn.2026-01.a:b/0\"}",
	        "discover:", "only iscsi://host[:port]");
	refused("{\"discover\": \"iscsi://h_x\"}", "discover:", "character '_'");
	refused("{\"discover\": \"iscsi://[\"}", "discover:", "IPv6");
}

static char *tmpfile_with(const char *text, size_t len)
{
	static char path[] = "/tmp/test_fd_config.XXXXXX";
	strcpy(path, "/tmp/test_fd_config.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_load(void **state)
{
	(void)state;
	const char *ok = "{\"devices\": [\"" U1 "\"], \"group\": \"from-file\"}\n";
	char *p = tmpfile_with(ok, strlen(ok));
	assert_int_equal(prk_fd_config_load(p, &C, E, sizeof(E)), 0);
	assert_string_equal(C.group, "from-file");
	unlink(p);

	const char *bad = "{\"devices\": [\"" U1 "\"], \"check_ms\": 5}\n";
	p = tmpfile_with(bad, strlen(bad));
	assert_int_equal(prk_fd_config_load(p, &C, E, sizeof(E)), -1);
	assert_non_null(strstr(E, p));
	assert_non_null(strstr(E, "check_ms: 5 is out of range"));
	unlink(p);

	assert_int_equal(prk_fd_config_load("/nonexistent/fenced.json", &C, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "/nonexistent/fenced.json: No such file"));
	assert_int_equal(prk_fd_config_load("/tmp", &C, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "/tmp: not a regular file"));

	/* Over 1 MiB: refused before parsing. */
	size_t n = (1u << 20) + 1;
	char *huge = malloc(n);
	assert_non_null(huge);
	memset(huge, ' ', n);
	p = tmpfile_with(huge, n);
	free(huge);
	assert_int_equal(prk_fd_config_load(p, &C, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "larger than 1048576 bytes"));
	unlink(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),    cmocka_unit_test(test_every_member),
	    cmocka_unit_test(test_syntax),      cmocka_unit_test(test_members_refused),
	    cmocka_unit_test(test_lus_refused), cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
