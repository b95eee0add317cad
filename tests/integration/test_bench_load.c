/* bench/iscsi_load's --batch against a real prkitd (bench/run_vs_tgt.sh runs
 * every target with it):
 *  - 4 KiB writes at QD32 over one session: libiscsi's plain loop sends a
 *    PDU as two segments (header, data), one command at a time, so the
 *    target can wake per command; --batch sends what a wake-up's answers
 *    freed as one corked burst. Checked through the data segments the
 *    client sent per command (TCP_INFO; measured about 1.2-1.5 plain and
 *    0.09 batched): the batched client must send far fewer;
 *  - at QD1 --batch writes the next command in the wake-up that read the
 *    answer (plain: two wake-ups per command, one to read, one to write);
 *  - 8 sessions and 1 MiB writes (R2T and Data-Out) run without errors.
 * iscsi_load prints these counts with --verbose; RESULT must show no
 * errors and the exit status must be 0. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct h_daemon daemon_;

static int setup(void **state)
{
	(void)state;
	char cfg[4096];
	h_config_basic(cfg, sizeof(cfg), 1, 64);
	return h_start(&daemon_, cfg);
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

struct load_out {
	double iops;
	unsigned long errors;
	double wakeups_per_cmd;
	double segs_per_cmd;
};

/* Runs iscsi_load with ARGS against LUN 0 and parses what it printed. */
static void run_load(const char *args, struct load_out *out)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "%s --url iscsi://127.0.0.1:%u/%s/0 --initiator iqn.2026-12.io.prkit.test:load "
	         "--verbose %s 2>&1",
	         ISCSI_LOAD_PATH, (unsigned)daemon_.ports[0], H_TARGET, args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[512];
	bool have_result = false, have_wakeups = false;
	while (fgets(line, sizeof(line), p)) {
		fputs(line, stderr);
		const char *w = strstr(line, " wake-ups (");
		const char *g = strstr(line, " data segments sent (");
		if (w && g && sscanf(w, " wake-ups (%lf", &out->wakeups_per_cmd) == 1 &&
		    sscanf(g, " data segments sent (%lf", &out->segs_per_cmd) == 1)
			have_wakeups = true;
		if (sscanf(line, "RESULT iops=%lf mbps=%*f errors=%lu", &out->iops, &out->errors) ==
		    2)
			have_result = true;
	}
	int status = pclose(p);
	assert_int_equal(status, 0);
	assert_true(have_result);
	assert_true(have_wakeups);
	assert_int_equal(out->errors, 0);
	assert_true(out->iops > 0);
}

static void test_batch_sends_bursts(void **state)
{
	(void)state;
	struct load_out plain = {0}, batch = {0};
	run_load("--rw write --bs 4K --qd 32 --seconds 1 --warmup 0.3", &plain);
	run_load("--rw write --bs 4K --qd 32 --seconds 1 --warmup 0.3 --batch", &batch);
	/* Relative, so that the kernel's own coalescing (autocorking) on a
	 * busy machine cannot fail it; the margin measured is 13-17x. */
	assert_true(batch.segs_per_cmd * 3 < plain.segs_per_cmd);
	assert_true(batch.segs_per_cmd < 0.5);
}

static void test_batch_qd1_one_wakeup_per_command(void **state)
{
	(void)state;
	struct load_out plain = {0}, batch = {0};
	run_load("--rw randwrite --bs 4K --qd 1 --seconds 0.5 --warmup 0.2", &plain);
	run_load("--rw randwrite --bs 4K --qd 1 --seconds 0.5 --warmup 0.2 --batch", &batch);
	assert_true(plain.wakeups_per_cmd > 1.5);
	assert_true(batch.wakeups_per_cmd <= 1.05);
}

static void test_batch_sessions_and_large_writes(void **state)
{
	(void)state;
	struct load_out o = {0};
	run_load("--rw randread --bs 4K --qd 32 --sessions 8 --seconds 0.5 --warmup 0.2 --batch",
	         &o);
	run_load("--rw write --bs 1M --qd 8 --seconds 0.5 --warmup 0.2 --batch", &o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batch_sends_bursts),
	    cmocka_unit_test(test_batch_qd1_one_wakeup_per_command),
	    cmocka_unit_test(test_batch_sessions_and_large_writes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
