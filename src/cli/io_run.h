/* `prkit io`: the state of one run, shared by io.c (the run) and
 * io_report.c (progress, event lines, the final report). Private to
 * src/cli. */
#ifndef PRKIT_CLI_IO_RUN_H
#define PRKIT_CLI_IO_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "io_opts.h"
#include "io_pattern.h"
#include "prkit/host.h"

#define IO_NP PRK_MPDEV_MAX_PATHS

struct io_run;

struct io_slot {
	struct io_run *run;
	uint8_t *buf;  /* what is written, or read */
	uint8_t *rbuf; /* verify: what is read back */
	uint64_t unit; /* in I/O-sized units from the region's start */
	uint64_t seq;  /* verify: the sequence number written */
	uint64_t t_issue_ns;
	bool busy;
	bool write;
	bool verify_read; /* verify: the read-back phase */
};

/* What the run counts. */
struct io_counts {
	uint64_t ops, reads, writes, bytes;
	uint64_t no_path, scsi, closed, submit, fenced;
	uint64_t mismatches;
	uint64_t per_path[IO_NP];
	uint64_t failovers;    /* a path left UP for DOWN or FAILED */
	uint64_t redriven;     /* PRK_EV_IO_REDRIVEN events */
	uint64_t ios_redriven; /* completed I/Os that were re-driven at least once */
	uint64_t uas, reregistered, resv_moved;
	uint64_t stalls;      /* PRK_EV_STALLED: I/O stalled (by prkit fence) */
	uint64_t key_changes; /* PRK_EV_KEY_CHANGED */
	struct io_hist lat;
};

struct io_run {
	const struct io_opts *o;
	char initiator[256];
	struct prk_host *h;
	struct prk_mpdev *d;
	char ctl_path[IO_CTL_PATH_MAX]; /* "" without a control socket */
	/* The paths: the URLs given, or those --discover found. */
	const char *urls[IO_NP];
	size_t n_urls;
	char found[IO_NP][PRK_HOST_URL_MAX];
	struct io_region reg;
	uint32_t block_size;
	uint64_t run_id, rng, next_unit, seq;
	struct io_slot *slots;
	unsigned inflight;
	uint64_t issued;
	bool stopping;
	uint64_t start_ns, io_start_ns, io_end_ns;
	uint64_t io_until_ns; /* --time: io_start_ns + the seconds; 0 without */
	bool random;          /* prk_io_rw_random(o->rw), asked once */

	struct io_counts c;
	struct iop_mismatch first_bad; /* the first verify mismatch */
	/* Progress: the counts at the previous line. */
	uint64_t prog_ns, prog_ops, prog_bytes, prog_err, prog_path[IO_NP];
	/* Re-drives since the last progress line, by (from, to): the first is
	 * printed at once (seen), the others counted (pending). */
	uint64_t redrive_pending[IO_NP][IO_NP];
	bool redrive_seen[IO_NP][IO_NP];
};

/* io_report.c */
double prk_io_elapsed(const struct io_run *r, uint64_t now_ns);
/* CLOCK_MONOTONIC in ns. Inline: every completion reads it. */
static inline uint64_t prk_io_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
uint64_t prk_io_errors(const struct io_counts *c);
void prk_io_print_event(struct io_run *r, struct prk_mpdev *d, const struct prk_event *ev);
void prk_io_flush_redrives(struct io_run *r);
void prk_io_progress(struct io_run *r, uint64_t now_ns);
void prk_io_print_opened(const struct io_run *r);
void prk_io_report_text(const struct io_run *r, FILE *f);
int prk_io_report_json(const struct io_run *r, int exit_status, FILE *f);
void prk_io_print_mismatch(const struct io_run *r, const struct iop_mismatch *m);

#endif
