/* The status document (mnt_status.c): the event ring keeps the last 32 in
 * order, events read as one line, the JSON carries every field the tests
 * and `prkit mount status` read, and the text printer refuses what is not
 * a status document. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnt_status.h"

static void test_ring_keeps_last_32(void **state)
{
	(void)state;
	static struct prk_mnt_events r;
	memset(&r, 0, sizeof(r));
	assert_int_equal(prk_mnt_events_count(&r), 0);
	assert_null(prk_mnt_events_get(&r, 0));
	for (int i = 0; i < 40; i++) {
		struct prk_event e = {.kind = PRK_EV_UA, .path = i, .asc = 0x2a03};
		prk_mnt_events_add(&r, 1000 + (uint64_t)i, &e);
	}
	assert_int_equal(prk_mnt_events_count(&r), PRK_MNT_EVENTS);
	assert_int_equal(r.total, 40);
	/* Oldest kept first: events 8..39. */
	for (size_t i = 0; i < PRK_MNT_EVENTS; i++) {
		const struct prk_mnt_event *e = prk_mnt_events_get(&r, i);
		assert_non_null(e);
		assert_int_equal(e->path, 8 + (int)i);
		assert_int_equal(e->ms, 1008 + i);
	}
	assert_null(prk_mnt_events_get(&r, PRK_MNT_EVENTS));
}

static void test_event_text(void **state)
{
	(void)state;
	static struct prk_mnt_events r;
	memset(&r, 0, sizeof(r));
	struct prk_event e = {.kind = PRK_EV_PATH_STATE,
	                      .path = 1,
	                      .old_state = PRK_PATH_UP,
	                      .new_state = PRK_PATH_DOWN,
	                      .why = "connection reset"};
	prk_mnt_events_add(&r, 1, &e);
	char text[256];
	prk_mnt_event_text(prk_mnt_events_get(&r, 0), text, sizeof(text));
	char want[256];
	snprintf(want, sizeof(want), "path 1: %s -> %s (connection reset)",
	         prk_path_state_name(PRK_PATH_UP), prk_path_state_name(PRK_PATH_DOWN));
	assert_string_equal(text, want);
	struct prk_event ua = {.kind = PRK_EV_UA, .path = 0, .asc = 0x2a03};
	prk_mnt_events_add(&r, 2, &ua);
	prk_mnt_event_text(prk_mnt_events_get(&r, 1), text, sizeof(text));
	assert_string_equal(text, "path 0: unit attention, ASC 2ah/03h");
	/* A long why is cut, never overflows. */
	char lw[600];
	memset(lw, 'x', sizeof(lw) - 1);
	lw[sizeof(lw) - 1] = 0;
	struct prk_event f = {.kind = PRK_EV_FENCED, .path = -1, .why = lw};
	prk_mnt_events_add(&r, 3, &f);
	char small[40];
	prk_mnt_event_text(prk_mnt_events_get(&r, 2), small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(
	    strncmp(small, prk_event_name(PRK_EV_FENCED), strlen(prk_event_name(PRK_EV_FENCED))),
	    0);
}

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	assert_true(json_object_object_get_ex(o, k, &v));
	return v;
}

static void test_json_fields(void **state)
{
	(void)state;
	static struct prk_mnt_events ev;
	memset(&ev, 0, sizeof(ev));
	struct prk_event e = {.kind = PRK_EV_UA, .path = 1, .asc = 0x2a03, .why = "resv preempted"};
	prk_mnt_events_add(&ev, 1700000000123ull, &e);
	struct prk_path_info paths[2];
	memset(paths, 0, sizeof(paths));
	snprintf(paths[0].url, sizeof(paths[0].url), "iscsi://127.0.0.1:3260/iqn.x:t/0");
	paths[0].state = PRK_PATH_UP;
	paths[0].registered = true;
	paths[0].holder = true;
	paths[0].completed = 42;
	snprintf(paths[1].url, sizeof(paths[1].url), "iscsi://127.0.0.2:3260/iqn.x:t/0");
	paths[1].state = PRK_PATH_DOWN;
	paths[1].failures = 3;
	snprintf(paths[1].last_error, sizeof(paths[1].last_error), "connection refused");
	struct prk_mnt_iostat io = {.reads = 5, .writes = 6, .errors = 1, .last_errno = 52};
	struct prk_mnt_status_dev devs[2] = {
	    {.name = "db",
	     .naa = "6001405abcdef",
	     .size = 1 << 20,
	     .block_size = 512,
	     .key = 0xfedcba9876543210ull,
	     .mode = PRK_OPEN_RETAIN,
	     .handles = 2,
	     .open = true,
	     .open_mode = PRK_OPEN_FORCED,
	     .fenced = true,
	     .thin = true,
	     .paths = paths,
	     .n_paths = 2,
	     .events = &ev,
	     .io = &io},
	    {.name = "log", .naa = "", .key = 1, .mode = PRK_OPEN_DEFAULT}};
	struct prk_mnt_status st = {.mountpoint = "/mnt/x",
	                            .pid = 1234,
	                            .initiator = "iqn.2026-11.io.prkit:host-a",
	                            .ctl_path = "",
	                            .devs = devs,
	                            .n_devs = 2};
	char *text = prk_mnt_status_json(&st);
	assert_non_null(text);
	assert_int_equal(text[strlen(text) - 1], '\n');
	json_object *o = json_tokener_parse(text);
	assert_non_null(o);
	assert_string_equal(json_object_get_string(get(o, "mountpoint")), "/mnt/x");
	assert_int_equal(json_object_get_int(get(o, "pid")), 1234);
	assert_null(get(o, "ctl_socket"));
	json_object *d = json_object_array_get_idx(get(o, "devices"), 0);
	assert_string_equal(json_object_get_string(get(d, "name")), "db");
	assert_string_equal(json_object_get_string(get(d, "key")), "0xfedcba9876543210");
	assert_string_equal(json_object_get_string(get(d, "mode")), "retain");
	assert_string_equal(json_object_get_string(get(d, "open_mode")), "forced");
	assert_int_equal(json_object_get_int(get(d, "handles")), 2);
	assert_int_equal(json_object_get_int64(get(d, "size")), 1 << 20);
	assert_true(json_object_get_boolean(get(d, "fenced")));
	assert_false(json_object_get_boolean(get(d, "stalled")));
	assert_true(json_object_get_boolean(get(d, "thin")));
	json_object *p1 = json_object_array_get_idx(get(d, "paths"), 1);
	assert_string_equal(json_object_get_string(get(p1, "state")),
	                    prk_path_state_name(PRK_PATH_DOWN));
	assert_string_equal(json_object_get_string(get(p1, "last_error")), "connection refused");
	json_object *p0 = json_object_array_get_idx(get(d, "paths"), 0);
	assert_true(json_object_get_boolean(get(p0, "holder")));
	assert_null(get(p0, "last_error"));
	assert_int_equal(json_object_get_int(get(p0, "completed")), 42);
	json_object *e0 = json_object_array_get_idx(get(d, "events"), 0);
	assert_int_equal(json_object_get_int64(get(e0, "ms")), 1700000000123ll);
	assert_string_equal(json_object_get_string(get(e0, "kind")), prk_event_name(PRK_EV_UA));
	assert_string_equal(json_object_get_string(get(e0, "asc")), "2a03");
	assert_string_equal(json_object_get_string(get(e0, "why")), "resv preempted");
	json_object *iso = get(d, "io");
	assert_int_equal(json_object_get_int(get(iso, "writes")), 6);
	assert_string_equal(json_object_get_string(get(iso, "last_errno")), "EBADE");
	/* A closed device: open_mode null, naa null. */
	json_object *d1 = json_object_array_get_idx(get(o, "devices"), 1);
	assert_null(get(d1, "open_mode"));
	assert_null(get(d1, "naa"));
	assert_int_equal(json_object_array_length(get(d1, "events")), 0);

	/* The text form names the device, its open mode and each path. */
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	char err[128];
	assert_int_equal(prk_mnt_status_print(text, f, err, sizeof(err)), 0);
	fclose(f);
	assert_non_null(strstr(out, "db  naa.6001405abcdef"));
	assert_non_null(strstr(out, "open: forced, 2 handle(s)  FENCED"));
	assert_non_null(strstr(out, "connection refused"));
	assert_non_null(strstr(out, "unit attention, ASC 2ah/03h"));
	free(out);
	json_object_put(o);
	free(text);
}

static void test_print_refuses_other_text(void **state)
{
	(void)state;
	char err[128];
	FILE *f = fopen("/dev/null", "w");
	assert_non_null(f);
	assert_int_equal(prk_mnt_status_print("", f, err, sizeof(err)), -1);
	assert_int_equal(prk_mnt_status_print("[1,2]", f, err, sizeof(err)), -1);
	assert_int_equal(prk_mnt_status_print("{\"devices\":3}", f, err, sizeof(err)), -1);
	assert_int_equal(prk_mnt_status_print("{\"devices\":[", f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a prkit mount status"));
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ring_keeps_last_32),
	    cmocka_unit_test(test_event_text),
	    cmocka_unit_test(test_json_fields),
	    cmocka_unit_test(test_print_refuses_other_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
