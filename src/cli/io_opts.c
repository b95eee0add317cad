/* `prkit io`: command-line parsing (see io_opts.h and docs/io.md). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_urls.h"
#include "decimal.h"
#include "errfmt.h"
#include "io_opts.h"
#include "prkit/host.h"
#include "hexdigit.h"
#include "prkit/iscsi_url.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_tid.h"

static const char *const rw_names[] = {"read", "write",  "randread", "randwrite",
                                       "rw",   "randrw", "verify"};
#define N_RW (sizeof(rw_names) / sizeof(rw_names[0]))

const char *prk_io_rw_name(enum io_rw rw)
{
	return (unsigned)rw < N_RW ? rw_names[rw] : "?";
}

bool prk_io_rw_random(enum io_rw rw)
{
	return rw == IO_RW_RANDREAD || rw == IO_RW_RANDWRITE || rw == IO_RW_RANDRW ||
	       rw == IO_RW_VERIFY;
}

void prk_io_usage(FILE *f)
{
	fprintf(f,
	        "usage: prkit io [options] --key HEX iscsi://HOST[:PORT]/IQN/LUN [URL...]\n"
	        "  Several URLs are the paths of one multipath device.\n"
	        "  --key HEX           reservation key registered on every path (required)\n"
	        "  --mode M            default, forced, retain, no-reserve, single (default)\n"
	        "  --type N            reservation type 1, 3, 5, 6, 7 or 8 (6)\n"
	        "  --initiator NAME    initiator IQN ($%s, else %s<hostname>)\n"
	        "  --rw MODE           read, write, randread, randwrite, rw, randrw, verify\n"
	        "                      (randread)\n"
	        "  --bs SIZE           I/O size, k/m suffixes, a multiple of the block size (4k)\n"
	        "  --qd N              I/Os in flight, 1..%d (%d)\n"
	        "  --time SECONDS      run time (%.0f when --count is not given)\n"
	        "  --count N           stop after N I/Os\n"
	        "  --offset SIZE       start of the region (0)\n"
	        "  --size SIZE         length of the region (to the end of the LU)\n"
	        "  --selector S        service-time, round-robin, queue-length (service-time)\n"
	        "  --checker-ms N      path check interval (1000)\n"
	        "  --io-timeout-ms N   command timeout before ABORT TASK (10000)\n"
	        "  --abort-timeout-ms N  wait for the ABORT TASK answer, then drop the\n"
	        "                      session (3000)\n"
	        "  --fenced-hold-ms N  hold I/O that meets RESERVATION CONFLICT up to N ms\n"
	        "                      for a new registration (0: fail at once)\n"
	        "  --failback F        immediate, manual (SIGUSR1 fails back), or N seconds of\n"
	        "                      health (immediate)\n"
	        "  --state-dir DIR     host state directory (ISIDs, locks)\n"
	        "  --ctl PATH          control socket path (<state dir>/ctl/<pid>.sock)\n"
	        "  --no-ctl            no control socket (prkit fence cannot stall this run)\n"
	        "  --discover          the paths are every portal the target lists to a\n"
	        "                      SendTargets discovery through the one URL given\n"
	        "  --run-id HEX        run id written in every pattern block (random)\n"
	        "  --seq-clock         a write's sequence number is the wall clock in us\n"
	        "                      when it is issued (write modes only)\n"
	        "  --json              final report as JSON on stdout\n"
	        "  --quiet             no progress lines and no event lines\n"
	        "Exit: 0 ok, 1 usage, 2 open failed, 3 I/O errors, 4 fenced, 5 verify mismatch.\n",
	        IO_INITIATOR_ENV, IO_INITIATOR_PREFIX, IO_MAX_QD, IO_DEFAULT_QD,
	        IO_DEFAULT_SECONDS);
}

int prk_io_parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	unsigned shift = 0;
	const char *sfx = "kmgt";
	const char *hit = *end ? strchr(sfx, *end | 0x20) : NULL;
	if (*end && !hit)
		return -1;
	if (hit) {
		shift = 10 * (unsigned)(hit - sfx + 1);
		end++;
		/* "k", "K", "KB", "kb", "KiB" */
		if (strcmp(end, "") && strcasecmp(end, "b") && strcasecmp(end, "ib"))
			return -1;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v;

	if (!s || !prk_parse_dec(s, hi, &v) || v < lo)
		return -1;
	*out = v;
	return 0;
}

static int parse_key(const char *s, uint64_t *out)
{
	return prk_parse_key_hex(s, out) ? 0 : -1;
}

static int parse_rw(const char *s, enum io_rw *out)
{
	for (unsigned i = 0; i < N_RW; i++) {
		if (strcmp(s, rw_names[i]) == 0) {
			*out = (enum io_rw)i;
			return 0;
		}
	}
	return -1;
}

static int parse_failback(const char *s, struct io_opts *o)
{
	uint64_t v;
	if (strcmp(s, "immediate") == 0) {
		o->failback = PRK_FAILBACK_IMMEDIATE;
	} else if (strcmp(s, "manual") == 0) {
		o->failback = PRK_FAILBACK_MANUAL;
	} else if (parse_uint(s, 0, 86400, &v) == 0) {
		o->failback = v ? PRK_FAILBACK_DELAYED : PRK_FAILBACK_IMMEDIATE;
		o->failback_delay_ms = (unsigned)v * 1000;
	} else {
		return -1;
	}
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	if (!s || ((*s < '0' || *s > '9') && *s != '.'))
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0.1 || v > 604800)
		return -1;
	*out = v;
	return 0;
}

enum {
	OPT_KEY = 256,
	OPT_MODE,
	OPT_TYPE,
	OPT_INITIATOR,
	OPT_RW,
	OPT_BS,
	OPT_QD,
	OPT_TIME,
	OPT_COUNT,
	OPT_OFFSET,
	OPT_SIZE,
	OPT_SELECTOR,
	OPT_CHECKER,
	OPT_IO_TIMEOUT,
	OPT_ABORT_TIMEOUT,
	OPT_FENCED_HOLD,
	OPT_FAILBACK,
	OPT_STATE_DIR,
	OPT_CTL,
	OPT_NO_CTL,
	OPT_DISCOVER,
	OPT_RUN_ID,
	OPT_SEQ_CLOCK,
	OPT_JSON,
	OPT_QUIET,
	OPT_HELP
};

static const struct option lopts[] = {
    {"key", required_argument, NULL, OPT_KEY},
    {"mode", required_argument, NULL, OPT_MODE},
    {"type", required_argument, NULL, OPT_TYPE},
    {"initiator", required_argument, NULL, OPT_INITIATOR},
    {"rw", required_argument, NULL, OPT_RW},
    {"bs", required_argument, NULL, OPT_BS},
    {"qd", required_argument, NULL, OPT_QD},
    {"time", required_argument, NULL, OPT_TIME},
    {"count", required_argument, NULL, OPT_COUNT},
    {"offset", required_argument, NULL, OPT_OFFSET},
    {"size", required_argument, NULL, OPT_SIZE},
    {"selector", required_argument, NULL, OPT_SELECTOR},
    {"checker-ms", required_argument, NULL, OPT_CHECKER},
    {"io-timeout-ms", required_argument, NULL, OPT_IO_TIMEOUT},
    {"abort-timeout-ms", required_argument, NULL, OPT_ABORT_TIMEOUT},
    {"fenced-hold-ms", required_argument, NULL, OPT_FENCED_HOLD},
    {"failback", required_argument, NULL, OPT_FAILBACK},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"ctl", required_argument, NULL, OPT_CTL},
    {"no-ctl", no_argument, NULL, OPT_NO_CTL},
    {"discover", no_argument, NULL, OPT_DISCOVER},
    {"run-id", required_argument, NULL, OPT_RUN_ID},
    {"seq-clock", no_argument, NULL, OPT_SEQ_CLOCK},
    {"json", no_argument, NULL, OPT_JSON},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* The option's long name, for messages. */
static const char *opt_name(int c)
{
	for (const struct option *l = lopts; l->name; l++)
		if (l->val == c)
			return l->name;
	return "?";
}

/* Options that take a number or a size. */
static int one_number(int c, const char *a, struct io_opts *o)
{
	uint64_t v;
	switch (c) {
	case OPT_TYPE:
		if (parse_uint(a, 1, 8, &v) || !prk_pr_type_valid((uint8_t)v))
			return -1;
		o->type = (uint8_t)v;
		return 0;
	case OPT_BS:
		if (prk_io_parse_size(a, &v) || v < 512 || v > IO_MAX_BS || v % 512)
			return -1;
		o->bs = (uint32_t)v;
		return 0;
	case OPT_QD:
		if (parse_uint(a, 1, IO_MAX_QD, &v))
			return -1;
		o->qd = (unsigned)v;
		return 0;
	case OPT_COUNT:
		return parse_uint(a, 1, UINT64_MAX, &o->count);
	case OPT_OFFSET:
		return prk_io_parse_size(a, &o->offset);
	case OPT_SIZE:
		return prk_io_parse_size(a, &o->size) || o->size == 0 ? -1 : 0;
	case OPT_CHECKER:
		if (parse_uint(a, 10, 3600000, &v))
			return -1;
		o->checker_ms = (unsigned)v;
		return 0;
	case OPT_IO_TIMEOUT:
		if (parse_uint(a, 10, 3600000, &v))
			return -1;
		o->io_timeout_ms = (unsigned)v;
		return 0;
	case OPT_ABORT_TIMEOUT:
		if (parse_uint(a, 10, 3600000, &v))
			return -1;
		o->tmf_timeout_ms = (unsigned)v;
		return 0;
	case OPT_FENCED_HOLD:
		if (parse_uint(a, 0, 3600000, &v))
			return -1;
		o->fenced_hold_ms = (unsigned)v;
		return 0;
	}
	return -1;
}

static const char *what_is_wanted(int c)
{
	switch (c) {
	case OPT_KEY:
		return "a non-zero hexadecimal key of at most 16 digits";
	case OPT_RUN_ID:
		return "a non-zero hexadecimal run id of at most 16 digits";
	case OPT_MODE:
		return "one of default, forced, retain, no-reserve, single";
	case OPT_TYPE:
		return "one of 1, 3, 5, 6, 7, 8";
	case OPT_RW:
		return "one of read, write, randread, randwrite, rw, randrw, verify";
	case OPT_BS:
		return "a size from 512 to 16m, a multiple of 512";
	case OPT_QD:
		return "an integer from 1 to 1024";
	case OPT_TIME:
		return "seconds from 0.1 to 604800";
	case OPT_COUNT:
		return "a positive integer";
	case OPT_OFFSET:
	case OPT_SIZE:
		return "a size such as 4096, 64k, 1g";
	case OPT_SELECTOR:
		return "one of service-time, round-robin, queue-length";
	case OPT_CHECKER:
	case OPT_IO_TIMEOUT:
	case OPT_ABORT_TIMEOUT:
		return "milliseconds from 10 to 3600000";
	case OPT_FENCED_HOLD:
		return "milliseconds from 0 to 3600000";
	case OPT_FAILBACK:
		return "immediate, manual, or seconds from 0 to 86400";
	case OPT_CTL:
		return "a path of at most 107 bytes";
	}
	return "a valid value";
}

static int one_option(int c, const char *a, struct io_opts *o, bool *time_given)
{
	switch (c) {
	case OPT_KEY:
		return parse_key(a, &o->key);
	case OPT_MODE:
		return prk_open_mode_parse(a, &o->mode);
	case OPT_INITIATOR:
		if (!prk_iscsi_name_valid(a) || strlen(a) > PRK_ISCSI_NAME_MAX)
			return -1;
		o->initiator = a;
		return 0;
	case OPT_RW:
		return parse_rw(a, &o->rw);
	case OPT_TIME:
		*time_given = true;
		return parse_seconds(a, &o->seconds);
	case OPT_SELECTOR:
		return prk_selector_parse(a, &o->selector);
	case OPT_FAILBACK:
		return parse_failback(a, o);
	case OPT_STATE_DIR:
		o->state_dir = a;
		return *a ? 0 : -1;
	case OPT_CTL:
		/* sun_path holds 108 bytes with the NUL. */
		o->ctl_path = a;
		return *a && strlen(a) < IO_CTL_PATH_MAX ? 0 : -1;
	case OPT_NO_CTL:
		o->no_ctl = true;
		return 0;
	case OPT_DISCOVER:
		o->discover = true;
		return 0;
	case OPT_RUN_ID:
		/* The same syntax as a key: 0 would read as "not written". */
		o->run_id_set = true;
		return parse_key(a, &o->run_id);
	case OPT_SEQ_CLOCK:
		o->seq_clock = true;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_QUIET:
		o->quiet = true;
		return 0;
	}
	return one_number(c, a, o);
}

static void defaults(struct io_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = PRK_OPEN_DEFAULT;
	o->rw = IO_RW_RANDREAD;
	o->bs = IO_DEFAULT_BS;
	o->qd = IO_DEFAULT_QD;
	o->selector = PRK_SEL_SERVICE_TIME;
	o->failback = PRK_FAILBACK_IMMEDIATE;
}

static int check_positional(int argc, char **argv, struct io_opts *o, char *err, size_t cap)
{
	return prk_cli_take_urls(argc, argv, optind, o->discover, o->urls, PRK_MPDEV_MAX_PATHS,
	                         &o->n_urls, err, cap);
}

static int check_combination(struct io_opts *o, bool time_given, char *err, size_t cap)
{
	if (!o->key)
		return prk_errf(err, cap,
		                "--key: a reservation key is required (it is registered on every "
		                "path)");
	if (o->no_ctl && o->ctl_path)
		return prk_errf(err, cap, "--ctl: cannot be given with --no-ctl");
	if (o->seq_clock && (o->rw == IO_RW_READ || o->rw == IO_RW_RANDREAD))
		return prk_errf(err, cap, "--seq-clock: --rw %s does not write",
		                prk_io_rw_name(o->rw));
	if (!time_given && !o->count)
		o->seconds = IO_DEFAULT_SECONDS;
	if (o->size && o->size < o->bs)
		return prk_errf(err, cap, "--size: %llu bytes is smaller than one I/O (--bs %u)",
		                (unsigned long long)o->size, o->bs);
	uint64_t mem = (uint64_t)o->qd * o->bs * (o->rw == IO_RW_VERIFY ? 2 : 1);
	if (mem > IO_MAX_MEM)
		return prk_errf(
		    err, cap, "--qd: %u x --bs %u needs %llu MiB of buffers (at most %llu)", o->qd,
		    o->bs, (unsigned long long)(mem >> 20), (unsigned long long)(IO_MAX_MEM >> 20));
	return 0;
}

int prk_io_opts_parse(int argc, char **argv, struct io_opts *o, char *err, size_t errcap)
{
	defaults(o);
	err[0] = 0;
	optind = 0; /* glibc: a full re-initialisation */
	opterr = 0;
	bool time_given = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		if (c == 'h' || c == OPT_HELP) {
			o->help = true;
			return 0;
		}
		if (c == '?' || c == ':') {
			const char *arg = argv[optind - 1];
			if (optopt && optopt >= OPT_KEY)
				return prk_errf(err, errcap, "--%s: needs a value",
				                opt_name(optopt));
			return prk_errf(err, errcap, "%s: unknown option", arg);
		}
		if (one_option(c, optarg, o, &time_given))
			return prk_errf(err, errcap, "--%s: '%s' is not %s", opt_name(c),
			                optarg ? optarg : "", what_is_wanted(c));
	}
	if (check_positional(argc, argv, o, err, errcap))
		return -1;
	return check_combination(o, time_given, err, errcap);
}

int prk_io_opts_fit(const struct io_opts *o, uint32_t block_size, uint64_t blocks,
                    struct io_region *r, char *err, size_t errcap)
{
	if (!block_size || o->bs % block_size)
		return prk_errf(err, errcap, "--bs: %u is not a multiple of the block size %u",
		                o->bs, block_size);
	if (o->offset % block_size)
		return prk_errf(err, errcap,
		                "--offset: %llu is not a multiple of the block size %u",
		                (unsigned long long)o->offset, block_size);
	uint64_t cap = blocks * block_size;
	if (o->offset >= cap)
		return prk_errf(err, errcap, "--offset: %llu is beyond the LU's %llu bytes",
		                (unsigned long long)o->offset, (unsigned long long)cap);
	uint64_t len = o->size ? o->size : cap - o->offset;
	if (len > cap - o->offset)
		return prk_errf(err, errcap,
		                "--size: %llu bytes from --offset %llu exceed the LU's %llu",
		                (unsigned long long)len, (unsigned long long)o->offset,
		                (unsigned long long)cap);
	if (o->size && o->size % o->bs)
		return prk_errf(err, errcap, "--size: %llu is not a multiple of --bs %u",
		                (unsigned long long)o->size, o->bs);
	if (len < o->bs)
		return prk_errf(err, errcap, "--size: the region is smaller than one I/O (--bs %u)",
		                o->bs);
	r->first_lba = o->offset / block_size;
	r->io_blocks = o->bs / block_size;
	r->units = len / o->bs;
	return 0;
}

int prk_io_default_initiator(const char *env, const char *hostname, char *buf, size_t cap,
                             char *err, size_t errcap)
{
	return prk_host_initiator_name(env, hostname, buf, cap, err, errcap);
}

bool prk_io_versioned(const struct io_opts *o)
{
	if (o->rw == IO_RW_VERIFY)
		return true;
	if (o->rw == IO_RW_READ || o->rw == IO_RW_RANDREAD)
		return false;
	return o->run_id_set || o->seq_clock;
}

uint64_t prk_io_next_seq(uint64_t *last, bool seq_clock, uint64_t now_us)
{
	uint64_t s = *last + 1;
	if (seq_clock && now_us > *last)
		s = now_us;
	*last = s;
	return s;
}
