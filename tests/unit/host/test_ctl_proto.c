/* The control socket's wire format (src/host/ctl_proto.c): every request
 * and reply survives a round trip; every bad request is refused with a
 * message that names the field (the server sends it back as the error);
 * replies from a newer process with members we do not know still parse;
 * a list longer than the caller's array is cut, not overflowed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"

#define NAA "600140512345678901234567890abcde"

static void parse_ok(const char *line, struct ctl_req *r)
{
	char err[256];
	if (prk_ctl_req_parse(line, strlen(line), r, err, sizeof(err)))
		fail_msg("'%s' refused: %s", line, err);
}

/* Formats r, parses the line back, and compares. */
static void round_trip(const struct ctl_req *r)
{
	char *line = prk_ctl_req_format(r);
	assert_non_null(line);
	size_t n = strlen(line);
	assert_true(n > 1 && line[n - 1] == '\n');
	assert_null(memchr(line, '\n', n - 1)); /* one line */
	struct ctl_req back;
	char err[256];
	if (prk_ctl_req_parse(line, n - 1, &back, err, sizeof(err)))
		fail_msg("'%s' refused: %s", line, err);
	assert_int_equal(back.op, r->op);
	assert_string_equal(back.naa, r->naa);
	assert_int_equal(back.max_ms, r->max_ms);
	assert_int_equal(back.old_key, r->old_key);
	assert_int_equal(back.new_key, r->new_key);
	assert_string_equal(back.reason, r->reason);
	free(line);
}

static void test_request_round_trip(void **state)
{
	(void)state;
	round_trip(&(struct ctl_req){.op = CTL_OP_LIST});
	round_trip(&(struct ctl_req){.op = CTL_OP_STALL, .naa = NAA, .max_ms = 1});
	round_trip(&(struct ctl_req){.op = CTL_OP_STALL, .naa = "6", .max_ms = CTL_MAX_MS_LIMIT});
	round_trip(&(struct ctl_req){.op = CTL_OP_RESUME, .naa = NAA});
	round_trip(&(struct ctl_req){.op = CTL_OP_SET_KEY,
	                             .naa = NAA,
	                             .old_key = 0xa1a1000000000001ull,
	                             .new_key = 0xffffffffffffffffull});
	/* old_key 0: register (REGISTER AND IGNORE EXISTING KEY). */
	round_trip(&(struct ctl_req){.op = CTL_OP_SET_KEY, .naa = NAA, .old_key = 0, .new_key = 1});
	round_trip(
	    &(struct ctl_req){.op = CTL_OP_FAIL, .naa = NAA, .reason = "no quorum for 5000 ms"});
	/* Quotes and backslashes are printable: escaped on the wire, kept. */
	round_trip(&(struct ctl_req){.op = CTL_OP_FAIL, .naa = "6", .reason = "a \"b\" \\ c"});
}

/* fail: a reason of exactly CTL_REASON_MAX characters is the longest. */
static void test_request_fail_reason(void **state)
{
	(void)state;
	struct ctl_req r = {.op = CTL_OP_FAIL, .naa = NAA};
	memset(r.reason, 'x', CTL_REASON_MAX);
	r.reason[CTL_REASON_MAX] = 0;
	round_trip(&r);
	char line[512];
	snprintf(line, sizeof(line), "{\"op\":\"fail\",\"naa\":\"6\",\"reason\":\"%s\"}", r.reason);
	struct ctl_req back;
	parse_ok(line, &back);
	assert_int_equal(back.op, CTL_OP_FAIL);
	assert_int_equal(strlen(back.reason), CTL_REASON_MAX);
	/* One more is refused, naming the field. */
	snprintf(line, sizeof(line), "{\"op\":\"fail\",\"naa\":\"6\",\"reason\":\"%sy\"}",
	         r.reason);
	char err[256] = "";
	assert_int_equal(prk_ctl_req_parse(line, strlen(line), &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "reason"));
}

static void test_request_by_hand(void **state)
{
	(void)state;
	struct ctl_req r;
	parse_ok(" { \"op\" : \"list\" }  \r", &r);
	assert_int_equal(r.op, CTL_OP_LIST);
	parse_ok("{\"max_ms\": 2500, \"naa\": \"60014ABC\", \"op\": \"stall\"}", &r);
	assert_int_equal(r.op, CTL_OP_STALL);
	assert_int_equal(r.max_ms, 2500);
	assert_string_equal(r.naa, "60014ABC");
	parse_ok("{\"op\":\"set_key\",\"naa\":\"6\",\"old_key\":\"0X00000000000000AB\","
	         "\"new_key\":\"0x00000000000000cd\"}",
	         &r);
	assert_int_equal(r.old_key, 0xab);
	assert_int_equal(r.new_key, 0xcd);
}

struct bad {
	const char *line;
	const char *must_name;
};

static void test_request_refused_naming_the_field(void **state)
{
	(void)state;
	static const struct bad bad[] = {
	    {"", "request"},
	    {"not json", "request"},
	    {"[1,2]", "request"},
	    {"\"list\"", "request"},
	    {"{\"op\":\"list\"", "request"},
	    {"{\"op\":\"list\",}", "request"},
	    {"{'op':'list'}", "request"},
	    {"{\"op\":\"list\"} {\"op\":\"list\"}", "request"},
	    {"{\"op\":\"list\"}x", "request"},
	    {"{}", "op"},
	    {"{\"op\":1}", "op"},
	    {"{\"op\":null}", "op"},
	    {"{\"op\":\"frobnicate\"}", "frobnicate"},
	    {"{\"op\":\"LIST\"}", "op"},
	    {"{\"op\":\"list\",\"naa\":\"00\"}", "naa"},
	    {"{\"op\":\"list\",\"colour\":\"red\"}", "colour"},
	    {"{\"op\":\"stall\",\"naa\":\"600a\"}", "max_ms"},
	    {"{\"op\":\"stall\",\"max_ms\":10}", "naa"},
	    {"{\"op\":\"stall\",\"naa\":\"600a\",\"max_ms\":0}", "max_ms"},
	    {"{\"op\":\"stall\",\"naa\":\"600a\",\"max_ms\":-5}", "max_ms"},
	    {"{\"op\":\"stall\",\"naa\":\"600a\",\"max_ms\":3600001}", "max_ms"},
	    {"{\"op\":\"stall\",\"naa\":\"600a\",\"max_ms\":99999999999999999999}", "max_ms"},
	    {"{\"op\":\"stall\",\"naa\":\"600a\",\"max_ms\":1.5}", "max_ms"},
	    {"{\"op\":\"stall\",\"naa\":\"600a\",\"max_ms\":\"10\"}", "max_ms"},
	    {"{\"op\":\"stall\",\"naa\":\"600a\",\"max_ms\":true}", "max_ms"},
	    {"{\"op\":\"resume\",\"naa\":\"\"}", "naa"},
	    {"{\"op\":\"resume\",\"naa\":\"xyz\"}", "naa"},
	    {"{\"op\":\"resume\",\"naa\":\"0x6001\"}", "naa"},
	    {"{\"op\":\"resume\",\"naa\":5}", "naa"},
	    {"{\"op\":\"resume\",\"naa\":\"" NAA "0\"}", "naa"},
	    {"{\"op\":\"resume\",\"naa\":\"6\",\"max_ms\":5}", "max_ms"},
	    {"{\"op\":\"set_key\",\"naa\":\"6\",\"new_key\":\"0x0000000000000001\"}", "old_key"},
	    {"{\"op\":\"set_key\",\"naa\":\"6\",\"old_key\":\"0x1\","
	     "\"new_key\":\"0x0000000000000001\"}",
	     "old_key"},
	    {"{\"op\":\"set_key\",\"naa\":\"6\",\"old_key\":1,\"new_key\":\"0x0000000000000001\"}",
	     "old_key"},
	    {"{\"op\":\"set_key\",\"naa\":\"6\",\"old_key\":\"0x0000000000000001\","
	     "\"new_key\":\"0x0000000000000000\"}",
	     "new_key"},
	    {"{\"op\":\"set_key\",\"naa\":\"6\",\"old_key\":\"0x0000000000000001\","
	     "\"new_key\":\"0x00000000000000001\"}",
	     "new_key"},
	    {"{\"op\":\"set_key\",\"naa\":\"6\",\"old_key\":\"0x0000000000000001\","
	     "\"new_key\":\"0x000000000000000g\"}",
	     "new_key"},
	    {"{\"op\":\"set_key\",\"naa\":\"6\",\"old_key\":\"0x0000000000000001\"}", "new_key"},
	    {"{\"op\":\"fail\",\"naa\":\"6\"}", "reason"},
	    {"{\"op\":\"fail\",\"reason\":\"x\"}", "naa"},
	    {"{\"op\":\"fail\",\"naa\":\"6\",\"reason\":\"\"}", "reason"},
	    {"{\"op\":\"fail\",\"naa\":\"6\",\"reason\":5}", "reason"},
	    {"{\"op\":\"fail\",\"naa\":\"6\",\"reason\":null}", "reason"},
	    {"{\"op\":\"fail\",\"naa\":\"6\",\"reason\":\"a\\nb\"}", "reason"},
	    {"{\"op\":\"fail\",\"naa\":\"6\",\"reason\":\"a\\u0000b\"}", "reason"},
	    {"{\"op\":\"fail\",\"naa\":\"6\",\"reason\":\"caf\\u00e9\"}", "reason"},
	    {"{\"op\":\"fail\",\"naa\":\"6\",\"reason\":\"x\",\"max_ms\":5}", "max_ms"},
	    {"{\"op\":\"stall\",\"naa\":\"6\",\"max_ms\":5,\"reason\":\"x\"}", "reason"},
	    {"{\"op\":{\"op\":{\"op\":{\"op\":{\"op\":{\"op\":{\"op\":{\"op\":{\"op\":1}}}}}}}}}",
	     "request"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ctl_req r;
		char err[256] = "";
		int rc = prk_ctl_req_parse(bad[i].line, strlen(bad[i].line), &r, err, sizeof(err));
		if (rc != -1 || !strstr(err, bad[i].must_name))
			fail_msg("'%s': rc %d, message '%s' (should name %s)", bad[i].line, rc, err,
			         bad[i].must_name);
	}
}

/* Bytes no text editor makes: a NUL inside, control characters in a
 * member name (quoted safely), and a line over the limit. */
static void test_request_odd_bytes(void **state)
{
	(void)state;
	struct ctl_req r;
	char err[256];
	static const char nul[] = "{\"op\":\"li\0st\"}";
	assert_int_equal(prk_ctl_req_parse(nul, sizeof(nul) - 1, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
	const char *ctrl = "{\"op\":\"list\",\"a\\u0001\\nb\":1}";
	assert_int_equal(prk_ctl_req_parse(ctrl, strlen(ctrl), &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown field"));
	for (const char *p = err; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	size_t big = CTL_LINE_MAX + 1;
	char *line = malloc(big);
	assert_non_null(line);
	memset(line, ' ', big);
	memcpy(line, "{\"op\":\"list\"}", 13);
	assert_int_equal(prk_ctl_req_parse(line, big, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer"));
	assert_int_equal(prk_ctl_req_parse(line, CTL_LINE_MAX, &r, err, sizeof(err)), 0);
	free(line);
	/* No message buffer: still refused, no write. */
	assert_int_equal(prk_ctl_req_parse("x", 1, &r, NULL, 0), -1);
}

static void test_keys_and_naa(void **state)
{
	(void)state;
	uint64_t k;
	char buf[CTL_KEY_LEN + 1];
	prk_ctl_key_format(0xa1, buf);
	assert_string_equal(buf, "0x00000000000000a1");
	assert_int_equal(prk_ctl_key_parse(buf, &k), 0);
	assert_int_equal(k, 0xa1);
	assert_int_equal(prk_ctl_key_parse("0xFFFFFFFFFFFFFFFF", &k), 0);
	assert_int_equal(k, UINT64_MAX);
	assert_int_equal(prk_ctl_key_parse("00000000000000a1", &k), -1);
	assert_int_equal(prk_ctl_key_parse("0x00000000000000a", &k), -1);
	assert_int_equal(prk_ctl_key_parse("0x 0000000000000a1", &k), -1);
	assert_true(prk_ctl_naa_valid("6"));
	assert_true(prk_ctl_naa_valid(NAA));
	assert_false(prk_ctl_naa_valid(""));
	assert_false(prk_ctl_naa_valid(NAA "1"));
	assert_false(prk_ctl_naa_valid("60-1"));
	assert_true(prk_ctl_naa_eq("600aBc", "600AbC"));
	assert_false(prk_ctl_naa_eq("600abc", "600ab"));
	assert_false(prk_ctl_naa_eq("600ab", "600abc"));
	assert_false(prk_ctl_naa_eq("zz", "zz")); /* not an NAA at all */
}

/* ---- replies ---- */

static void reply_back(const struct ctl_reply *r, struct ctl_reply *back, struct prk_ctl_dev *devs,
                       size_t cap)
{
	char *line = prk_ctl_reply_format(r);
	assert_non_null(line);
	size_t n = strlen(line);
	assert_true(n > 1 && line[n - 1] == '\n');
	assert_null(memchr(line, '\n', n - 1));
	char err[256];
	if (prk_ctl_reply_parse(line, n - 1, back, devs, cap, err, sizeof(err)))
		fail_msg("'%s' refused: %s", line, err);
	free(line);
}

static void test_reply_round_trip(void **state)
{
	(void)state;
	struct prk_ctl_dev devs[2] = {
	    {.naa = NAA,
	     .key = 0xa1a1,
	     .open = true,
	     .stalled = true,
	     .inflight = 7,
	     .n_paths = 2,
	     .n_up = 1},
	    {.naa = "", .key = 0, .fenced = true, .n_paths = 8},
	};
	struct ctl_reply list = {.ok = true, .is_list = true, .devs = devs, .n_devs = 2}, back;
	struct prk_ctl_dev got[4];
	reply_back(&list, &back, got, 4);
	assert_true(back.ok && back.is_list);
	assert_int_equal(back.n_devs, 2);
	assert_memory_equal(&got[0], &devs[0], sizeof(devs[0]));
	assert_memory_equal(&got[1], &devs[1], sizeof(devs[1]));
	/* A caller with room for one gets one. */
	reply_back(&list, &back, got, 1);
	assert_int_equal(back.n_devs, 1);
	assert_string_equal(got[0].naa, NAA);
	/* An empty list is a list. */
	struct ctl_reply none = {.ok = true, .is_list = true};
	reply_back(&none, &back, got, 4);
	assert_true(back.is_list);
	assert_int_equal(back.n_devs, 0);

	struct ctl_reply done = {.ok = true, .present = true};
	reply_back(&done, &back, NULL, 0);
	assert_true(back.ok && back.present && !back.fenced && !back.is_list);
	struct ctl_reply absent = {.ok = true, .present = false, .error = "no device naa.6"};
	reply_back(&absent, &back, NULL, 0);
	assert_true(back.ok && !back.present);
	assert_string_equal(back.error, "no device naa.6");
	struct ctl_reply fenced = {.ok = false, .fenced = true, .error = "change key: \"fenced\""};
	reply_back(&fenced, &back, NULL, 0);
	assert_true(!back.ok && back.fenced);
	assert_string_equal(back.error, "change key: \"fenced\"");
}

static void test_reply_tolerant_and_strict(void **state)
{
	(void)state;
	struct ctl_reply r;
	struct prk_ctl_dev d[2];
	char err[256];
	/* Members a newer process may add are ignored. */
	const char *newer = "{\"ok\":true,\"present\":true,\"colour\":\"red\",\"n\":[1,2]}";
	assert_int_equal(prk_ctl_reply_parse(newer, strlen(newer), &r, d, 2, err, sizeof(err)), 0);
	assert_true(r.ok && r.present);
	const char *dev =
	    "{\"ok\":true,\"devices\":[{\"naa\":\"6a\",\"key\":\"0x0000000000000001\","
	    "\"extra\":1}]}";
	assert_int_equal(prk_ctl_reply_parse(dev, strlen(dev), &r, d, 2, err, sizeof(err)), 0);
	assert_int_equal(r.n_devs, 1);
	assert_string_equal(d[0].naa, "6a");
	assert_false(d[0].open);
	/* An error without a message still says something. */
	const char *bare = "{\"ok\":false}";
	assert_int_equal(prk_ctl_reply_parse(bare, strlen(bare), &r, d, 2, err, sizeof(err)), 0);
	assert_false(r.ok);
	assert_true(r.error[0] != 0);
	static const struct bad bad[] = {
	    {"{}", "ok"},
	    {"{\"ok\":1}", "ok"},
	    {"{\"ok\":true,\"present\":\"yes\"}", "present"},
	    {"{\"ok\":false,\"error\":5}", "error"},
	    {"{\"ok\":true,\"devices\":{}}", "devices"},
	    {"{\"ok\":true,\"devices\":[1]}", "devices"},
	    {"{\"ok\":true,\"devices\":[{\"naa\":\"zz\",\"key\":\"0x0000000000000001\"}]}", "naa"},
	    {"{\"ok\":true,\"devices\":[{\"naa\":\"6\"}]}", "key"},
	    {"{\"ok\":true,\"devices\":[{\"naa\":\"6\",\"key\":\"0x0000000000000001\","
	     "\"inflight\":-1}]}",
	     "inflight"},
	    {"{\"ok\":true,\"devices\":[{\"naa\":\"6\",\"key\":\"0x0000000000000001\","
	     "\"open\":1}]}",
	     "open"},
	    {"garbage", "reply"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = prk_ctl_reply_parse(bad[i].line, strlen(bad[i].line), &r, d, 2, err,
		                             sizeof(err));
		if (rc != -1 || !strstr(err, bad[i].must_name))
			fail_msg("'%s': rc %d, message '%s' (should name %s)", bad[i].line, rc, err,
			         bad[i].must_name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_round_trip),
	    cmocka_unit_test(test_request_by_hand),
	    cmocka_unit_test(test_request_fail_reason),
	    cmocka_unit_test(test_request_refused_naming_the_field),
	    cmocka_unit_test(test_request_odd_bytes),
	    cmocka_unit_test(test_keys_and_naa),
	    cmocka_unit_test(test_reply_round_trip),
	    cmocka_unit_test(test_reply_tolerant_and_strict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
