/* How long PR OUT is unavailable after a cluster node dies: one libiscsi
 * session to a surviving node sends REGISTER AND IGNORE EXISTING KEY (a new
 * key each time) in a loop; after --settle-ms of such tries it SIGKILLs the
 * given processes itself (so the kill instant is known to the microsecond)
 * and goes on trying until a try that started after the kill returns GOOD.
 * Every try is timed.
 *
 *   prout_failover --url iscsi://HOST:PORT/IQN/LUN --kill PID[,PID...]
 *                  [--settle-ms 500] [--timeout-s 30] [--verbose]
 *
 * Output, one line (times in ms; kill_unix_ms is CLOCK_REALTIME, for
 * correlating with logs):
 *   RESULT kill_to_good_ms=N tries=N failed_tries=N longest_try_ms=N
 *          before_p50_ms=N kill_unix_ms=N
 * Exit 0 with a result, 1 when no GOOD came within --timeout-s or the
 * session was lost, 2 on bad usage or a failed login. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define MAX_KILL 8
#define MAX_BEFORE 100000

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static struct iscsi_context *login(const char *url_text)
{
	struct iscsi_context *ctx = iscsi_create_context("iqn.2026-12.io.prkit:bench-failover");
	struct iscsi_url *url = ctx ? iscsi_parse_full_url(ctx, url_text) : NULL;
	if (!url) {
		fprintf(stderr, "prout_failover: bad URL %s\n", url_text);
		exit(2);
	}
	iscsi_set_targetname(ctx, url->target);
	iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	/* A lost session is a result to report, not something to hide by
	 * reconnecting. */
	iscsi_set_noautoreconnect(ctx, 1);
	iscsi_set_isid_random(ctx, 0xfa11, 1);
	if (iscsi_full_connect_sync(ctx, url->portal, url->lun) != 0) {
		fprintf(stderr, "prout_failover: login: %s\n", iscsi_get_error(ctx));
		exit(2);
	}
	iscsi_destroy_url(url);
	return ctx;
}

/* One REGISTER AND IGNORE EXISTING KEY. Returns the SCSI status (-1 when
 * the session failed); *sense gets "KEY/ASC/ASCQ" of a CHECK CONDITION. */
static int try_register(struct iscsi_context *ctx, uint64_t key, char *sense, size_t n)
{
	struct scsi_persistent_reserve_out_basic p = {.service_action_reservation_key = key};
	struct scsi_task *t = iscsi_persistent_reserve_out_sync(
	    ctx, 0, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, &p);
	int st = t ? t->status : -1;
	sense[0] = 0;
	if (t && st == SCSI_STATUS_CHECK_CONDITION)
		snprintf(sense, n, "%x/%02x/%02x", (unsigned)t->sense.key,
		         (unsigned)(t->sense.ascq >> 8), (unsigned)(t->sense.ascq & 0xff));
	if (t)
		scsi_free_scsi_task(t);
	return st;
}

static int parse_pids(char *s, pid_t *pids)
{
	int n = 0;
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		char *end;
		long v = strtol(tok, &end, 10);
		if (*end || v <= 1 || n == MAX_KILL)
			return -1;
		pids[n++] = (pid_t)v;
	}
	return n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"url", required_argument, NULL, 'u'},
	                                     {"kill", required_argument, NULL, 'k'},
	                                     {"settle-ms", required_argument, NULL, 's'},
	                                     {"timeout-s", required_argument, NULL, 't'},
	                                     {"verbose", no_argument, NULL, 'v'},
	                                     {NULL, 0, NULL, 0}};
	const char *url = NULL;
	pid_t pids[MAX_KILL];
	int npids = 0, settle = 500, timeout_s = 30, verbose = 0, c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			url = optarg;
			break;
		case 'k':
			npids = parse_pids(optarg, pids);
			break;
		case 's':
			settle = atoi(optarg);
			break;
		case 't':
			timeout_s = atoi(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			return 2;
		}
	}
	if (!url || npids < 1 || settle < 0 || settle > 600000 || timeout_s < 1 ||
	    timeout_s > 3600) {
		fprintf(stderr, "usage: prout_failover --url iscsi://HOST:PORT/IQN/LUN "
		                "--kill PID[,PID...] [--settle-ms 0..600000] "
		                "[--timeout-s 1..3600] [--verbose]\n");
		return 2;
	}
	struct iscsi_context *ctx = login(url);
	char sense[32];
	uint64_t key = 0xfa110000;
	/* The first command of a new nexus reports POWER ON (29/00). */
	for (int i = 0; i < 8; i++) {
		struct scsi_task *t = iscsi_testunitready_sync(ctx, 0);
		int st = t ? t->status : -1;
		if (t)
			scsi_free_scsi_task(t);
		if (st == SCSI_STATUS_GOOD)
			break;
	}

	/* Before the kill: the normal latency of the same command. */
	static double before[MAX_BEFORE];
	int nb = 0;
	double t_end = mono_ms() + settle;
	do {
		double t0 = mono_ms();
		int st = try_register(ctx, ++key, sense, sizeof(sense));
		if (st != SCSI_STATUS_GOOD) {
			fprintf(stderr, "prout_failover: before the kill: status %d %s %s\n", st,
			        sense, iscsi_get_error(ctx));
			return 1;
		}
		if (nb < MAX_BEFORE)
			before[nb++] = mono_ms() - t0;
	} while (mono_ms() < t_end);

	double kill_mono = mono_ms(), kill_real = real_ms();
	for (int i = 0; i < npids; i++)
		if (kill(pids[i], SIGKILL) != 0)
			fprintf(stderr, "prout_failover: kill %d: %s\n", (int)pids[i],
			        strerror(errno));

	int tries = 0, failed = 0;
	double longest = 0;
	for (;;) {
		double t0 = mono_ms();
		int st = try_register(ctx, ++key, sense, sizeof(sense));
		double t1 = mono_ms(), dt = t1 - t0;
		tries++;
		if (dt > longest)
			longest = dt;
		if (verbose || st != SCSI_STATUS_GOOD)
			fprintf(
			    stderr, "try %d: started %.1f ms after the kill, took %.1f ms: %s %s\n",
			    tries, t0 - kill_mono, dt, st == SCSI_STATUS_GOOD ? "GOOD" : "status",
			    st == SCSI_STATUS_GOOD ? "" : sense);
		if (st == SCSI_STATUS_GOOD) {
			qsort(before, (size_t)nb, sizeof(*before), cmp_double);
			printf("RESULT kill_to_good_ms=%.1f tries=%d failed_tries=%d "
			       "longest_try_ms=%.1f before_p50_ms=%.3f kill_unix_ms=%.0f\n",
			       t1 - kill_mono, tries, failed, longest, before[nb / 2], kill_real);
			break;
		}
		failed++;
		if (st < 0) {
			fprintf(stderr, "prout_failover: session lost: %s\n", iscsi_get_error(ctx));
			return 1;
		}
		if (t1 - kill_mono > timeout_s * 1e3) {
			fprintf(stderr, "prout_failover: no GOOD within %d s of the kill\n",
			        timeout_s);
			return 1;
		}
		sleep_ms(10); /* a failed try is fast: do not spin */
	}
	iscsi_logout_sync(ctx);
	iscsi_destroy_context(ctx);
	return 0;
}
