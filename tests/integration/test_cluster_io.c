/* `prkit io` (the host library's multipath device) with one path to each
 * node of a three-node cluster (cluster_harness.h): verify (write, read
 * back, compare) for 10 s; node 3 crashes (SIGKILL to prkitd and
 * Corosync) about 3 s in. The run must end with exit status 0 and no
 * error of any kind, and the paths to nodes 1 and 2 must go on completing
 * I/O after the kill (counted from prkit io's progress lines printed
 * after it). The report's figures are printed.
 *
 * An observer session to node 1 (another initiator) sends TEST UNIT
 * READY and REPORT TARGET PORT GROUPS in a loop meanwhile and prints every
 * change of their answers, timed from the kill: what a host sees of a
 * survivor while the cluster notices the loss. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <json-c/json.h>
#include <pthread.h>

#include "cluster_extra.h"
#include "cluster_harness.h"
#include "harness.h"

#ifndef PRKIT_PATH
#error "PRKIT_PATH must name the prkit binary"
#endif

#define INI "iqn.2026-11.io.prkit.test:cl-io"
#define INI_OBS "iqn.2026-11.io.prkit.test:cl-observer"
#define RUN_S "10"
#define KILL_AFTER_S 3.0

static pid_t io_pid;

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* The observer's changes of answer, as text lines. */
struct observer {
	struct iscsi_context *iscsi;
	volatile int stop;
	volatile uint64_t t_kill; /* 0 until the kill */
	uint64_t t0;
	char log[8192];
	size_t used;
	unsigned long tur_refused, samples;
};

static void *observe(void *arg)
{
	struct observer *o = arg;
	char last[96] = "";
	while (!o->stop) {
		struct scsi_task *t = iscsi_testunitready_sync(o->iscsi, 0);
		char now[96];
		int n;
		if (!t) {
			snprintf(now, sizeof(now), "TUR transport failure");
		} else {
			if (t->status == SCSI_STATUS_GOOD)
				n = snprintf(now, sizeof(now), "TUR GOOD");
			else
				n = snprintf(now, sizeof(now), "TUR 0x%02x %x/%04x", t->status,
				             t->sense.key, t->sense.ascq);
			if (t->status != SCSI_STATUS_GOOD &&
			    !(t->sense.key == SCSI_SENSE_UNIT_ATTENTION))
				o->tur_refused++;
			scsi_free_scsi_task(t);
			uint8_t buf[512];
			size_t len = 0;
			struct cx_group g[8];
			int st = cx_rtpg(o->iscsi, buf, sizeof(buf), &len);
			int ng = st == SCSI_STATUS_GOOD ? cx_parse_rtpg(buf, len, g, 8) : -1;
			n += snprintf(now + n, sizeof(now) - (size_t)n, ", RTPG");
			if (ng < 0)
				snprintf(now + n, sizeof(now) - (size_t)n, " status 0x%02x", st);
			for (int k = 0; k < ng && n < (int)sizeof(now); k++)
				n += snprintf(now + n, sizeof(now) - (size_t)n, " tpg%u:%u",
				              g[k].tpg, g[k].state);
		}
		o->samples++;
		if (strcmp(now, last) != 0) {
			uint64_t tk = o->t_kill;
			unsigned long long ms = h_now_ms() - (tk ? tk : o->t0);
			int w = snprintf(o->log + o->used, sizeof(o->log) - o->used,
			                 "# %s%llu ms: %s\n", tk ? "kill+" : "start+", ms, now);
			if (w > 0 && o->used + (size_t)w < sizeof(o->log))
				o->used += (size_t)w;
			snprintf(last, sizeof(last), "%s", now);
		}
		if (!t)
			break;
		sleep_ms(10);
	}
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	return cl_up(3, NULL);
}

static int teardown(void **state)
{
	(void)state;
	if (io_pid > 0) {
		kill(io_pid, SIGKILL);
		waitpid(io_pid, NULL, 0);
		io_pid = 0;
	}
	cl_down();
	return 0;
}

/* Reads path (NUL-terminated, truncated to cap). */
static size_t slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	if (f) {
		n = fread(buf, 1, cap - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return n;
}

/* The progress lines of prkit io's stderr ("+3.0s ... | p0 up N p1 ...")
 * in text: how many, and of the k-th (from 0) its seconds. */
static int n_progress(const char *text)
{
	int n = 0;
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (*p == '+' && strstr(p, " IOPS ") && strchr(p, '|'))
			n++;
	return n;
}

/* The completions of path `path` in the progress lines after the first
 * `skip` ones. */
static unsigned long long completions_after(const char *text, int skip, int path)
{
	unsigned long long sum = 0;
	int k = 0;
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!(*p == '+' && strstr(p, " IOPS ")))
			continue;
		const char *bar = strchr(p, '|'), *eol = strchr(p, '\n');
		if (!bar || (eol && bar > eol) || k++ < skip)
			continue;
		char tok[16];
		snprintf(tok, sizeof(tok), " p%d ", path);
		const char *q = strstr(bar, tok);
		if (!q || (eol && q > eol))
			continue;
		char st[16];
		unsigned long long c;
		if (sscanf(q + strlen(tok), "%15s %llu", st, &c) == 2)
			sum += c;
	}
	return sum;
}

static long long jint(json_object *o, const char *path1, const char *path2)
{
	json_object *v;
	if (!json_object_object_get_ex(o, path1, &v))
		fail_msg("prkit io's report has no \"%s\"", path1);
	if (path2 && !json_object_object_get_ex(v, path2, &v))
		fail_msg("prkit io's report has no \"%s.%s\"", path1, path2);
	return (long long)json_object_get_int64(v);
}

static void test_io_through_a_node_loss(void **state)
{
	(void)state;
	cl_failed = true;
	char out[400], err[400], dir[400], url[3][256];
	snprintf(out, sizeof(out), "%s/io.out", cl_work());
	snprintf(err, sizeof(err), "%s/io.err", cl_work());
	snprintf(dir, sizeof(dir), "%s/host", cl_work());
	assert_int_equal(mkdir(dir, 0700), 0);
	for (int i = 0; i < 3; i++)
		cl_url(i + 1, url[i], sizeof(url[i]));

	static struct observer obs;
	memset(&obs, 0, sizeof(obs));
	obs.iscsi = cl_login_clear(1, INI_OBS, 9);
	obs.t0 = h_now_ms();
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, observe, &obs), 0);

	io_pid = fork();
	assert_true(io_pid >= 0);
	if (io_pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (o < 0 || e < 0)
			_exit(126);
		dup2(o, 1);
		dup2(e, 2);
		execl(PRKIT_PATH, "prkit", "io", "--key", "c1c1", "--initiator", INI, "--rw",
		      "verify", "--bs", "4k", "--qd", "8", "--time", RUN_S, "--state-dir", dir,
		      "--no-ctl", "--json", url[0], url[1], url[2], (char *)NULL);
		_exit(127);
	}
	/* The kill, once prkit io's clock passed KILL_AFTER_S (its progress
	 * lines say so). */
	static char text[1 << 20];
	uint64_t end = h_now_ms() + 20000;
	for (;;) {
		slurp(err, text, sizeof(text));
		int n = n_progress(text);
		if (n >= (int)KILL_AFTER_S)
			break;
		int st;
		if (waitpid(io_pid, &st, WNOHANG) == io_pid) {
			io_pid = 0;
			fail_msg("prkit io ended early (status 0x%x): %s", st, text);
		}
		if (h_now_ms() > end)
			fail_msg("prkit io printed no progress for 20 s: %s", text);
		sleep_ms(20);
	}
	uint64_t t_kill = h_now_ms();
	obs.t_kill = t_kill;
	cl_kill(3);
	slurp(err, text, sizeof(text));
	int before = n_progress(text);
	print_message("# node 3 killed after %d progress lines of prkit io (%llu ms to kill)\n",
	              before, (unsigned long long)(h_now_ms() - t_kill));

	int st = 0;
	end = h_now_ms() + 40000;
	while (waitpid(io_pid, &st, WNOHANG) != io_pid) {
		if (h_now_ms() > end)
			fail_msg("prkit io still runs 40 s after the kill");
		sleep_ms(50);
	}
	io_pid = 0;
	obs.stop = 1;
	pthread_join(th, NULL);
	print_message("# observer on node 1 (%lu samples, %lu refused TURs; tpgN:state, 0 "
	              "active/optimized, 3 unavailable):\n%s",
	              obs.samples, obs.tur_refused, obs.log);
	h_logout(obs.iscsi);
	slurp(err, text, sizeof(text));
	/* Its events and progress, for the record (and for a failure). */
	fprintf(stderr, "%s", "# ---- prkit io stderr ----\n");
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *eol = strchr(p, '\n');
		fprintf(stderr, "# %.*s\n", (int)(eol ? eol - p : (long)strlen(p)), p);
	}
	static char report[1 << 16];
	slurp(out, report, sizeof(report));
	print_message("# prkit io report: %s\n", report);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("prkit io ended with status 0x%x", st);
	json_object *r = json_tokener_parse(report);
	assert_non_null(r);
	static const char *const kinds[] = {"no_path", "scsi",   "closed",
	                                    "submit",  "fenced", "verify_mismatch"};
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (jint(r, "errors", kinds[k]) != 0)
			fail_msg("prkit io counted %lld %s error(s)", jint(r, "errors", kinds[k]),
			         kinds[k]);
	assert_int_equal(jint(r, "exit_status", NULL), 0);
	/* Progress after the kill: the lines printed after it, but the first
	 * (whose second began before the kill), on the paths to the
	 * survivors. */
	unsigned long long after =
	    completions_after(text, before + 1, 0) + completions_after(text, before + 1, 1);
	unsigned long long on3 = completions_after(text, before + 1, 2);
	print_message("# after the kill: %llu I/Os completed through nodes 1 and 2, %llu through "
	              "node 3; %lld ops in all, %lld failovers, %lld re-drives\n",
	              after, on3, jint(r, "ops", NULL), jint(r, "failovers", NULL),
	              jint(r, "io_redrives", NULL));
	assert_true(after > 0);
	assert_int_equal(on3, 0);
	json_object_put(r);
	cl_failed = false;
}

int main(void)
{
	if (cl_skip_all())
		return 0;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_io_through_a_node_loss, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
