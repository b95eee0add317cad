/* PR OUT latency: REGISTER (REGISTER AND IGNORE EXISTING KEY with a new
 * key), RESERVE and PREEMPT, each timed from submission to completion over
 * one libiscsi session, with APTPL off and on (on, every one of them writes
 * the LU's record durably before it completes). Prints median and p99 per
 * command and mode.
 *
 *   prout_latency --url iscsi://127.0.0.1:PORT/IQN/LUN [--rounds N]
 *                 [--aptpl off|on|both]
 *
 * --aptpl picks the modes run (both by default; bench/prout_load.sh runs
 * off only, the latency of the state change itself).
 *
 * A second session (same initiator name, another ISID) is the preempted
 * party, so that PREEMPT has a registration to remove. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static struct iscsi_context *login(const char *url_text, int qualifier)
{
	struct iscsi_context *ctx = iscsi_create_context("iqn.2026-11.io.prkit:bench-prout");
	struct iscsi_url *url = ctx ? iscsi_parse_full_url(ctx, url_text) : NULL;
	if (!url) {
		fprintf(stderr, "prout_latency: bad URL %s\n", url_text);
		exit(2);
	}
	iscsi_set_targetname(ctx, url->target);
	iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_noautoreconnect(ctx, 1);
	iscsi_set_isid_random(ctx, 0x5eed, (uint32_t)qualifier);
	if (iscsi_full_connect_sync(ctx, url->portal, url->lun) != 0) {
		fprintf(stderr, "prout_latency: login: %s\n", iscsi_get_error(ctx));
		exit(2);
	}
	iscsi_destroy_url(url);
	for (int i = 0; i < 8; i++) { /* consume the power-on unit attention */
		struct scsi_task *t = iscsi_testunitready_sync(ctx, 0);
		int st = t ? t->status : -1;
		if (t)
			scsi_free_scsi_task(t);
		if (st == SCSI_STATUS_GOOD)
			break;
	}
	return ctx;
}

/* The preempted session's next command reports 2A/05: clear it first. */
static void clear_ua(struct iscsi_context *ctx)
{
	for (int i = 0; i < 8; i++) {
		struct scsi_task *t = iscsi_testunitready_sync(ctx, 0);
		int st = t ? t->status : -1;
		if (t)
			scsi_free_scsi_task(t);
		if (st == SCSI_STATUS_GOOD)
			return;
	}
}

/* One PR OUT; returns its latency in microseconds, exits on failure. */
static double prout(struct iscsi_context *ctx, int sa, int type, uint64_t key, uint64_t sa_key,
                    int aptpl)
{
	struct scsi_persistent_reserve_out_basic p = {
	    .reservation_key = key, .service_action_reservation_key = sa_key, .aptpl = aptpl};
	double t0 = now_us();
	struct scsi_task *t = iscsi_persistent_reserve_out_sync(ctx, 0, sa, 0, type, &p);
	double dt = now_us() - t0;
	if (!t || t->status != SCSI_STATUS_GOOD) {
		fprintf(stderr, "prout_latency: PR OUT sa %d failed: status %d %s\n", sa,
		        t ? t->status : -1, iscsi_get_error(ctx));
		exit(1);
	}
	scsi_free_scsi_task(t);
	return dt;
}

static void report(const char *what, int aptpl, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	int p99 = (int)(n * 0.99);
	if (p99 >= n)
		p99 = n - 1;
	printf("%-9s APTPL %-3s  median %8.1f us  p99 %8.1f us  (n=%d)\n", what,
	       aptpl ? "on" : "off", v[n / 2], v[p99], n);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"url", required_argument, NULL, 'u'},
	                                     {"rounds", required_argument, NULL, 'r'},
	                                     {"aptpl", required_argument, NULL, 'a'},
	                                     {NULL, 0, NULL, 0}};
	const char *url = NULL;
	int rounds = 200, c, aptpl_first = 0, aptpl_last = 1;
	bool bad = false;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'u') {
			url = optarg;
		} else if (c == 'r') {
			rounds = atoi(optarg);
		} else if (c == 'a') {
			if (!strcmp(optarg, "off") || !strcmp(optarg, "on")) {
				aptpl_first = aptpl_last = !strcmp(optarg, "on");
			} else if (strcmp(optarg, "both")) {
				fprintf(stderr,
				        "prout_latency: --aptpl: off, on or both, not '%s'\n",
				        optarg);
				bad = true;
			}
		} else {
			bad = true;
		}
	}
	if (bad || !url || rounds < 1) {
		fprintf(stderr, "usage: prout_latency --url iscsi://HOST:PORT/IQN/LUN [--rounds N] "
		                "[--aptpl off|on|both]\n");
		return 2;
	}
	struct iscsi_context *a = login(url, 1), *b = login(url, 2);
	double *reg = calloc((size_t)rounds, sizeof(double));
	double *res = calloc((size_t)rounds, sizeof(double));
	double *pre = calloc((size_t)rounds, sizeof(double));
	const int we_ro = SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY;
	const int reg_sa = SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY;
	for (int aptpl = aptpl_first; aptpl <= aptpl_last; aptpl++) {
		uint64_t key = 0;
		for (int i = 0; i < rounds; i++) {
			/* A re-keys itself (REGISTER), B registers, A reserves, A
			 * preempts B, then A unregisters to start clean. */
			uint64_t nk = 0x1000 + (uint64_t)i * 2 + 1;
			reg[i] = prout(a, reg_sa, 0, 0, nk, aptpl);
			key = nk;
			clear_ua(b);
			prout(b, reg_sa, 0, 0, 0xb0b, aptpl);
			res[i] = prout(a, SCSI_PERSISTENT_RESERVE_RESERVE, we_ro, key, 0, 0);
			pre[i] = prout(a, SCSI_PERSISTENT_RESERVE_PREEMPT, we_ro, key, 0xb0b, 0);
			prout(a, SCSI_PERSISTENT_RESERVE_REGISTER, 0, key, 0, aptpl);
		}
		report("REGISTER", aptpl, reg, rounds);
		report("RESERVE", aptpl, res, rounds);
		report("PREEMPT", aptpl, pre, rounds);
	}
	free(reg);
	free(res);
	free(pre);
	iscsi_logout_sync(a);
	iscsi_logout_sync(b);
	iscsi_destroy_context(a);
	iscsi_destroy_context(b);
	return 0;
}
