/* A small I/O load through a host-library device, for the integration
 * tests of the host library: qd slots, odd ones reading and even ones
 * writing 4 KiB at rotating LBAs, each re-issued when it completes, with
 * completions counted by status and by path. The host's loop is run by the
 * test (and by h_load_stop). */
#ifndef PRKIT_LOAD_UTIL_H
#define PRKIT_LOAD_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "prkit/host.h"

#define H_LOAD_MAX_QD 16

struct h_load {
	struct prk_host *h;
	struct prk_mpdev *d;
	int outstanding;
	long ok, fenced, errors;
	long per_path[8];
	uint64_t next_lba;
	bool stop;
	uint8_t bufs[H_LOAD_MAX_QD][4096];
	struct h_load_slot {
		struct h_load *l;
		int i;
	} slots[H_LOAD_MAX_QD];
};

/* Starts qd (<= H_LOAD_MAX_QD) I/Os on d; l is cleared first. */
void h_load_start(struct h_load *l, struct prk_host *h, struct prk_mpdev *d, int qd);
/* Stops re-issuing and runs the loop until nothing is outstanding (at
 * most 20 s; the test fails otherwise). */
void h_load_stop(struct h_load *l);

#endif
