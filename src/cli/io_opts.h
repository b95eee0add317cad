/* `prkit io`: the command line, parsed into a struct (pure apart from
 * getopt_long's global state, which the parser resets itself; it never
 * prints). Checks that need the device (--bs against the block size,
 * --offset/--size against the capacity) are in prk_io_opts_fit(). */
#ifndef PRKIT_CLI_IO_OPTS_H
#define PRKIT_CLI_IO_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prkit/host.h"

#define IO_MAX_QD 1024
#define IO_MAX_BS (16u << 20)
/* Buffers of all slots together (verify needs two per slot). */
#define IO_MAX_MEM (1ull << 30)
#define IO_DEFAULT_BS 4096
#define IO_DEFAULT_QD 32
#define IO_DEFAULT_SECONDS 10.0
#define IO_INITIATOR_ENV "PRKIT_INITIATOR_NAME"
#define IO_INITIATOR_PREFIX "iqn.2026-11.io.prkit:host-"
/* A control socket path: at most this many bytes (sun_path less the NUL). */
#define IO_CTL_PATH_MAX 108

enum io_rw {
	IO_RW_READ = 0, /* sequential */
	IO_RW_WRITE,
	IO_RW_RANDREAD,
	IO_RW_RANDWRITE,
	IO_RW_RW,     /* sequential, half reads and half writes */
	IO_RW_RANDRW, /* random, half reads and half writes */
	IO_RW_VERIFY  /* random: write a pattern, read it back, compare */
};
const char *prk_io_rw_name(enum io_rw rw);
bool prk_io_rw_random(enum io_rw rw);

struct io_opts {
	const char *urls[PRK_MPDEV_MAX_PATHS]; /* point into argv */
	size_t n_urls;
	bool discover;         /* --discover: the paths are the portals SendTargets lists */
	const char *initiator; /* NULL: prk_io_default_initiator() */
	const char *state_dir; /* NULL: the host library's default */
	uint64_t key;          /* required, non-zero */
	enum prk_open_mode mode;
	uint8_t type; /* 0: the library's default (6) */
	enum io_rw rw;
	uint32_t bs;
	unsigned qd;
	double seconds;        /* 0: no time limit (then count is set) */
	uint64_t count;        /* 0: no count limit */
	uint64_t offset, size; /* bytes; size 0: to the end of the LU */
	enum prk_selector selector;
	unsigned checker_ms;     /* 0: the library's default (1000) */
	unsigned io_timeout_ms;  /* 0: the library's default (10000) */
	unsigned tmf_timeout_ms; /* --abort-timeout-ms; 0: the library's default (3000) */
	unsigned fenced_hold_ms; /* 0: RESERVATION CONFLICT fails the I/O at once */
	enum prk_failback failback;
	unsigned failback_delay_ms;
	/* The control socket (host_ctl.h) through which prkit fence stalls
	 * our I/O and changes our key: on by default, at ctl_path (NULL: the
	 * library's <state dir>/ctl/<pid>.sock); no_ctl turns it off. */
	const char *ctl_path;
	bool no_ctl;
	/* --run-id: the run id every pattern block carries (run_id_set); else
	 * a random one per run. --seq-clock: a write's sequence number is the
	 * wall clock in microseconds when it is issued. Either one makes the
	 * plain write modes write the verify pattern too ("versioned" writes),
	 * so that a reader of the backing store can tell who wrote a block and
	 * when (the prkit fenced tests' checker). */
	uint64_t run_id;
	bool run_id_set;
	bool seq_clock;
	bool json, quiet, help;
};

/* Does a write of this run carry the verify pattern? verify always; the
 * other modes that write with --run-id or --seq-clock. */
bool prk_io_versioned(const struct io_opts *o);
/* The sequence number of the next write: with seq_clock now_us, but never
 * at or below *last (two writes in the same microsecond, or the clock set
 * back, get last + 1: a checker may rely on it growing); else *last + 1.
 * Updates *last. */
uint64_t prk_io_next_seq(uint64_t *last, bool seq_clock, uint64_t now_us);

/* Parses argv (argv[0] is "io"). 0, or -1 with a one-line message naming
 * the option in err. o->help set: print the usage and stop. */
int prk_io_opts_parse(int argc, char **argv, struct io_opts *o, char *err, size_t errcap);

/* The region in blocks once the LU is known: checks --bs, --offset and
 * --size against the block size and the capacity. 0, or -1 with err. */
struct io_region {
	uint64_t first_lba; /* of the region */
	uint64_t units;     /* I/O-sized units in the region */
	uint32_t io_blocks; /* blocks per I/O */
};
int prk_io_opts_fit(const struct io_opts *o, uint32_t block_size, uint64_t blocks,
                    struct io_region *r, char *err, size_t errcap);

/* A size with an optional k/m/g/t suffix (powers of 1024; "KiB" and "kb"
 * forms too). 0, or -1. */
int prk_io_parse_size(const char *s, uint64_t *out);

/* The initiator name when --initiator is absent: env (PRKIT_INITIATOR_NAME)
 * when set, else IO_INITIATOR_PREFIX + the host name made into a valid
 * iSCSI name. 0, or -1 with err when env is set but not a valid name. */
int prk_io_default_initiator(const char *env, const char *hostname, char *buf, size_t cap,
                             char *err, size_t errcap);

/* Prints the usage text. */
void prk_io_usage(FILE *f);

#endif
