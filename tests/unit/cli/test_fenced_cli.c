/* `prkit fenced`: the command line (every sub-command and every mistake,
 * named), the status text rendered from a reply, and the exit statuses of
 * status and key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fenced_cli.h"

static struct prk_fdcli_args A;
static char E[512];

static int parse_v(char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	memset(E, 0, sizeof(E));
	return prk_fdcli_parse(argc, argv, &A, E, sizeof(E));
}
#define PARSE(...) parse_v((char *[]){"fenced", __VA_ARGS__, NULL})

#define REFUSED(msg, ...)                                                                          \
	do {                                                                                       \
		assert_int_equal(PARSE(__VA_ARGS__), 1);                                           \
		if (!strstr(E, msg))                                                               \
			fail_msg("message \"%s\" lacks \"%s\"", E, msg);                           \
	} while (0)

static void test_parse_ok(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-c", "/etc/prkit/fenced.json"), 0);
	assert_int_equal(A.cmd, PRK_FDCLI_RUN);
	assert_string_equal(A.config, "/etc/prkit/fenced.json");
	assert_int_equal(A.verbose, 0);
	assert_int_equal(PARSE("run", "--config=/f", "-v", "-v"), 0);
	assert_int_equal(A.cmd, PRK_FDCLI_RUN);
	assert_string_equal(A.config, "/f");
	assert_int_equal(A.verbose, 2);
	assert_int_equal(PARSE("status"), 0);
	assert_int_equal(A.cmd, PRK_FDCLI_STATUS);
	assert_null(A.config);
	assert_null(A.socket);
	assert_int_equal(A.json, 0);
	assert_int_equal(PARSE("status", "--json", "-s", "/run/f.sock"), 0);
	assert_int_equal(A.json, 1);
	assert_string_equal(A.socket, "/run/f.sock");
	assert_int_equal(PARSE("--json", "status", "-c", "/f"), 0); /* options before it too */
	assert_int_equal(A.cmd, PRK_FDCLI_STATUS);
	assert_string_equal(A.config, "/f");
	assert_int_equal(PARSE("key", "--socket", "/s"), 0);
	assert_int_equal(A.cmd, PRK_FDCLI_KEY);
	assert_string_equal(A.socket, "/s");
	assert_int_equal(PARSE("status", "--help"), 0);
	assert_int_equal(A.cmd, PRK_FDCLI_HELP);
	assert_int_equal(PARSE("-h"), 0);
	assert_int_equal(A.cmd, PRK_FDCLI_HELP);
}

static void test_parse_refused(void **state)
{
	(void)state;
	REFUSED("run: -c CONFIG is required", "-v");
	assert_int_equal(parse_v((char *[]){"fenced", NULL}), 1);
	assert_non_null(strstr(E, "run: -c CONFIG is required"));
	REFUSED("-c needs a value", "-c");
	REFUSED("--config: empty value", "--config=");
	REFUSED("unknown option '--jsno'", "status", "--jsno");
	REFUSED("unknown command 'stat' (run, status, key)", "stat");
	REFUSED("unexpected argument 'extra'", "status", "extra");
	REFUSED("unexpected argument 'key'", "status", "key");
	REFUSED("status: give -c CONFIG or -s SOCKET, not both", "status", "-c", "/f", "-s", "/s");
	REFUSED("key: give -c CONFIG or -s SOCKET, not both", "key", "-s", "/s", "-c", "/f");
	REFUSED("run: -s is for status and key", "-c", "/f", "-s", "/s");
	REFUSED("run: --json is for status", "run", "-c", "/f", "--json");
	REFUSED("status: -v is for run", "status", "-v");
	REFUSED("key: --json is for status", "key", "--json");
}

static const char *REPLY =
    "{\"node\":1,\"cluster_name\":\"prkit\",\"key_mode\":\"node\",\"state\":\"running\","
    "\"quorate\":true,\"joined\":true,\"may_act\":true,\"executor\":1,"
    "\"key\":\"0x84d4000100000002\",\"incarnation\":2,"
    "\"members\":[{\"node\":1,\"joined\":true,\"key\":\"0x84d4000100000002\"},"
    "{\"node\":2,\"joined\":false,\"key\":\"0x0000000000000000\"}],"
    "\"pending\":[],"
    "\"lus\":[{\"naa\":\"6001405aa\",\"coordinator\":true,\"reachable\":true,"
    "\"has_our_key\":true,\"keys\":[\"0x84d4000100000002\"],\"holder\":\"0x84d4000100000002\"},"
    "{\"naa\":\"6001405bb\",\"coordinator\":false,\"reachable\":false,\"has_our_key\":false,"
    "\"keys\":[],\"holder\":null}],"
    "\"local\":[{\"socket\":\"/run/prkit/ctl/io.7\",\"devices\":2,\"stalled\":0,\"fenced\":0,"
    "\"key\":\"0x84d4000100000002\"}],"
    "\"check\":{\"ok\":true,\"with_key\":1,\"counted\":1,\"age_ms\":312},"
    "\"last_fencing\":{\"victims\":[3],\"executor\":1,\"result\":\"ok\","
    "\"changed_at_ms\":1796637600123,\"stall_ms\":12,\"fence_ms\":250,\"resume_ms\":null},"
    "\"fencings\":1,\"self_fence\":null}";

static char *render(json_object *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	prk_fdcli_print_status(f, st);
	fclose(f);
	return buf;
}

#define HAS(text, want)                                                                            \
	do {                                                                                       \
		if (!strstr(text, want))                                                           \
			fail_msg("status text lacks \"%s\":\n%s", want, text);                     \
	} while (0)

static void test_status_text(void **state)
{
	(void)state;
	json_object *st = json_tokener_parse(REPLY);
	assert_non_null(st);
	char *t = render(st);
	HAS(t, "node 1 (cluster prkit, node keys): running, quorate, executor 1\n");
	HAS(t, "key 0x84d4000100000002 (incarnation 2)\n");
	HAS(t, "members: 1 2 (not joined)\n");
	HAS(t, "pending: none\n");
	HAS(t, "LUs: 2\n");
	HAS(t, "  6001405aa (coordinator)  reachable  our key yes  keys 1  holder "
	       "0x84d4000100000002\n");
	HAS(t, "  6001405bb  UNREACHABLE  our key NO  keys 0  holder none\n");
	HAS(t, "local processes: 1\n  /run/prkit/ctl/io.7  devices 2  stalled 0  fenced 0");
	HAS(t, "self-check: ok, key on 1 of 1 LUs, 312 ms ago\n");
	HAS(t, "last fencing: node(s) 3 by node 1: ok at 2026-12-07T10:00:00.123Z, stalled after "
	       "12 ms, fenced after 250 ms, not resumed\n");
	HAS(t, "fencings: 1\n");
	assert_null(strstr(t, "SELF-FENCED"));
	free(t);
	assert_int_equal(prk_fdcli_status_exit(st), 0);

	FILE *out = tmpfile(), *err = tmpfile();
	assert_int_equal(prk_fdcli_key(st, out, err), 0);
	char buf[128] = "";
	rewind(out);
	assert_non_null(fgets(buf, sizeof(buf), out));
	assert_string_equal(buf, "0x84d4000100000002\n");
	fclose(out);
	fclose(err);
	json_object_put(st);
}

static void test_status_self_fenced(void **state)
{
	(void)state;
	json_object *st = json_tokener_parse(
	    "{\"node\":3,\"cluster_name\":\"c\",\"key_mode\":\"cluster\",\"state\":\"self_fenced\","
	    "\"quorate\":false,\"joined\":true,\"may_act\":false,\"executor\":0,"
	    "\"key\":\"0x1111000300000001\",\"incarnation\":1,\"members\":[],\"pending\":[1,2],"
	    "\"lus\":[],\"local\":[],\"check\":null,\"last_fencing\":null,\"fencings\":0,"
	    "\"self_fence\":{\"reason\":\"no quorum for 2000 ms\",\"at_ms\":1796637600000}}");
	assert_non_null(st);
	char *t = render(st);
	HAS(t, "node 3 (cluster c, cluster keys): self_fenced, NOT quorate, no executor\n");
	HAS(t, "members: none\n");
	HAS(t, "pending: 1,2\n");
	HAS(t, "self-check: not run yet\n");
	HAS(t, "last fencing: none\n");
	HAS(t, "SELF-FENCED at 2026-12-07T10:00:00.000Z: no quorum for 2000 ms");
	free(t);
	assert_int_equal(prk_fdcli_status_exit(st), 2);
	json_object_put(st);

	/* Not joined: key exits 2 and says why. */
	st = json_tokener_parse("{\"node\":2,\"state\":\"joining\",\"joined\":false,"
	                        "\"key\":\"0x0000000000000000\"}");
	FILE *out = tmpfile(), *err = tmpfile();
	assert_int_equal(prk_fdcli_key(st, out, err), 2);
	assert_int_equal(prk_fdcli_status_exit(st), 2);
	char buf[256] = "";
	rewind(err);
	assert_non_null(fgets(buf, sizeof(buf), err));
	assert_non_null(strstr(buf, "node 2 has not joined (state joining)"));
	assert_int_equal(ftell(out), 0);
	fclose(out);
	fclose(err);
	json_object_put(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ok),
	    cmocka_unit_test(test_parse_refused),
	    cmocka_unit_test(test_status_text),
	    cmocka_unit_test(test_status_self_fenced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
