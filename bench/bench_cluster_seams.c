/* Benchmark: what the LU's cluster-mode seams cost, in-process.
 *
 *  1. The serving gate on the command path: READ(16) of one 4 KiB block
 *     from a RAM LU, submitted back to back, with no gate and with a gate
 *     far in the future (the lease of a serving node). Reported as ns per
 *     command (median of 21 runs) and the ratio gated / ungated: the cluster
 *     issue's goal is IOPS within 2% of a LU without cluster mode, and
 *     this is the only per-command addition the LU makes. On a shared
 *     machine the ratio is noisy; the cost of the clock read alone is
 *     printed too.
 *  2. The state transfer codecs: prk_pr_snapshot_encode/decode with 1, 100
 *     and 10,000 registrations, and prk_lu_ua_export/import with 10,000
 *     known nexuses: bytes and microseconds, to size a joining node's wait.
 * Figures, not pass/fail: ratios and medians, never a timed test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backstore.h"
#include "lu.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static unsigned completions;
static void on_done(struct prk_lu_cmd *cmd)
{
	free(cmd->data_in);
	cmd->data_in = NULL;
	completions++;
}

/* ns per READ(16) over n commands. */
static double run_reads(struct prk_lu *lu, const struct prk_nexus *nx, unsigned n, bool check)
{
	struct prk_lu_port port = {.rtpi = 1, .tpg = 1, .target_name = "iqn.2026-01.org.prkit:t"};
	struct prk_lu_cmd cmd;
	memset(&cmd, 0, sizeof(cmd));
	cmd.nx = nx;
	cmd.port = &port;
	cmd.cdb[0] = 0x88; /* READ(16), LBA 0, 8 blocks of 512 */
	cmd.cdb[13] = 8;
	cmd.cdb_len = 16;
	cmd.edtl = 4096;
	cmd.dir_read = true;
	cmd.done = on_done;
	double t0 = now_ns();
	for (unsigned i = 0; i < n; i++) {
		cmd.cdb[9] = (uint8_t)(i & 0xf8); /* vary the LBA a little */
		prk_lu_submit(lu, &cmd);
		if (check && cmd.status != 0) {
			fprintf(stderr, "READ failed: status %u\n", cmd.status);
			exit(1);
		}
	}
	return (now_ns() - t0) / n;
}

static void bench_gate(void)
{
	char err[128];
	struct prk_bs *bs = prk_bs_ram_open(1u << 22, err, sizeof(err));
	struct prk_lu_config cfg = {.block_size = 512, .num_blocks = 8192, .serial = "bench01"};
	struct prk_lu *lu = bs ? prk_lu_new(&cfg, bs, err, sizeof(err)) : NULL;
	if (!lu) {
		fprintf(stderr, "LU: %s\n", err);
		exit(1);
	}
	struct prk_nexus nx;
	prk_nexus_init(&nx, "iqn.2026-01.org.example:bench", 0x23d000000001ULL, 1);
	prk_lu_nexus_up(lu, &nx);
	run_reads(lu, &nx, 1, false); /* takes the power-on UA */
	const unsigned n = 100000, runs = 21;
	uint64_t until = UINT64_MAX; /* a lease that never runs out */
	double off[21], on[21];
	for (unsigned r = 0; r < runs; r++) {
		/* Alternate which goes first, so that warm-up favours neither. */
		for (int k = 0; k < 2; k++) {
			bool gated = (r + k) % 2;
			prk_lu_set_gate(lu, gated ? &until : NULL);
			(gated ? on : off)[r] = run_reads(lu, &nx, n, true);
		}
	}
	prk_lu_set_gate(lu, NULL);
	qsort(off, runs, sizeof(off[0]), cmp_d);
	qsort(on, runs, sizeof(on[0]), cmp_d);
	printf("READ(16) 4 KiB, RAM LU, %u commands x %u runs (median):\n", n, runs);
	printf("  no gate   %8.1f ns/command\n", off[runs / 2]);
	printf("  gate set  %8.1f ns/command   ratio %.3f\n", on[runs / 2],
	       on[runs / 2] / off[runs / 2]);
	/* The gate's own work, measured alone: one coarse clock read. */
	struct timespec ts;
	const unsigned reads = 10000000;
	uint64_t sink = 0;
	double t0 = now_ns();
	for (unsigned i = 0; i < reads; i++) {
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		sink += (uint64_t)ts.tv_nsec;
	}
	printf("  CLOCK_MONOTONIC_COARSE read: %.1f ns%s\n", (now_ns() - t0) / reads,
	       sink ? "" : " ");
	prk_lu_free(lu);
	prk_bs_close(bs);
}

static void bench_snapshot(size_t regs)
{
	struct prk_pr_config cfg = {.max_registrations = 65536};
	struct prk_pr_state *st = prk_pr_state_new(&cfg);
	for (size_t i = 0; i < regs; i++) {
		char name[64];
		snprintf(name, sizeof(name), "iqn.2026-01.org.example:host%zu", i);
		struct prk_nexus nx;
		prk_nexus_init(&nx, name, 0x23d000000001ULL, 1);
		uint8_t params[24] = {0}, cdb[10];
		uint64_t key = 0x1000 + i;
		for (int b = 0; b < 8; b++)
			params[8 + b] = (uint8_t)(key >> (56 - 8 * b));
		struct prk_prout_cdb pc = {.sa = PRK_PROUT_REGISTER, .param_len = 24};
		prk_prout_cdb_encode(&pc, cdb);
		struct prk_pr_result res;
		prk_pr_result_init(&res);
		prk_pr_out(st, &nx, cdb, 10, params, 24, &res);
		prk_pr_result_free(&res);
	}
	uint8_t *buf = NULL;
	double t0 = now_ns();
	size_t len = prk_pr_snapshot_encode(st, &buf);
	double t1 = now_ns();
	struct prk_pr_state *back = prk_pr_state_new(&cfg);
	struct prk_field_err err;
	int r = prk_pr_snapshot_decode(back, buf, len, &err);
	double t2 = now_ns();
	printf("  snapshot, %5zu registrations: %8zu bytes, encode %8.1f us, decode %8.1f us%s\n",
	       regs, len, (t1 - t0) / 1e3, (t2 - t1) / 1e3,
	       r == 0 && prk_pr_state_equal(st, back) ? "" : "  MISMATCH");
	free(buf);
	prk_pr_state_free(back);
	prk_pr_state_free(st);
}

static void bench_ua_table(size_t n)
{
	char err[128];
	struct prk_bs *bs = prk_bs_ram_open(1u << 20, err, sizeof(err));
	struct prk_lu_config cfg = {.block_size = 512, .num_blocks = 2048, .serial = "bench02"};
	struct prk_lu *lu = prk_lu_new(&cfg, bs, err, sizeof(err));
	struct prk_lu *lu2 = prk_lu_new(&cfg, bs, err, sizeof(err));
	for (size_t i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "iqn.2026-01.org.example:host%zu", i);
		struct prk_nexus nx;
		prk_nexus_init(&nx, name, 0x23d000000001ULL, (uint16_t)(1 + i % 4));
		prk_lu_nexus_known(lu, &nx, true);
	}
	prk_lu_queue_ua_all(lu, 0x2a03);
	uint8_t *buf = NULL;
	double t0 = now_ns();
	size_t len = prk_lu_ua_export(lu, &buf);
	double t1 = now_ns();
	int r = prk_lu_ua_import(lu2, buf, len);
	double t2 = now_ns();
	printf("  UA table, %5zu nexuses x 2 UAs: %8zu bytes, export %8.1f us, import %8.1f us%s\n",
	       n, len, (t1 - t0) / 1e3, (t2 - t1) / 1e3, r == 0 ? "" : "  REFUSED");
	free(buf);
	prk_lu_free(lu);
	prk_lu_free(lu2);
	prk_bs_close(bs);
}

int main(void)
{
	bench_gate();
	printf("State transfer codecs:\n");
	bench_snapshot(1);
	bench_snapshot(100);
	bench_snapshot(10000);
	bench_ua_table(10000);
	return completions ? 0 : 1;
}
