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

/* What h_mk makes: a device of initiator ini with key, over the first
 * n_paths of urls; the fields left out take the library's defaults. The
 * tests wrap it in an MK(...) macro that passes their host, URLs and event
 * callback, so each call names only what it changes. */
struct h_mk_opts {
	struct prk_host *on; /* the host (NULL: the caller's default) */
	const char *ini;
	uint64_t key;
	int n_paths;
	unsigned checker_ms; /* checker_interval_ms */
	unsigned hold_ms;    /* fenced_hold_ms */
	unsigned no_path_ms; /* no_path_timeout_ms */
};

/* prk_mpdev_new on m->on (or def) with those options and on_event; the
 * test fails with the library's message if it returns NULL. */
struct prk_mpdev *h_mk(struct prk_host *def, const char *const *urls, prk_event_fn on_event,
                       const struct h_mk_opts *m);

/* prk_mpdev_open in mode m; the test fails with the library's message
 * otherwise. */
void h_open_ok(struct prk_mpdev *d, enum prk_open_mode m);

/* Runs h's loop for ms milliseconds (10 ms at a time). */
void h_pump(struct prk_host *h, int ms);

#endif
