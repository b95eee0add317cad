/* iscsi_load: a block I/O load generator for any iSCSI target, built on
 * libiscsi's asynchronous API.
 *
 * N sessions (one iscsi_context each, with its own ISID) keep --qd commands
 * in flight each; a single poll() loop services all of them. The run has a
 * warmup, a measured window of --seconds, and a drain. Every command that
 * does not end in GOOD status is an error: it is reported on stderr and the
 * program exits 1 (2: it could not start, e.g. a bad option or a failed
 * login). The result is one line on stdout:
 *
 *   RESULT iops=N mbps=N errors=N p50_us=N p99_us=N
 *
 * where mbps is 10^6 bytes per second and the percentiles are the latency of
 * the commands completed in the measured window. With --marks, the lines
 * "MARK measure" and "MARK end" are printed (and flushed) when the
 * measured window starts and ends, so that a script can sample the
 * target's CPU time over exactly that window.
 *
 * Usage: iscsi_load --url iscsi://HOST:PORT/IQN/LUN [--sessions N] [--qd N]
 *        [--bs SIZE] [--rw read|write|randread|randwrite|mixed] [--seconds S]
 *        [--warmup S] [--span BYTES] [--initiator NAME] [--fill] [--verbose]
 *
 * --fill writes the span once, sequentially, and stops (no warmup; --seconds
 * is then a limit, and reaching it is an error): it gives every target the
 * same written data before a read benchmark.
 *
 * --batch changes when and how the client sends, not what (the same idea as
 * fio's iodepth_batch_submit). Without it the loop is libiscsi's plain one:
 * a wake-up reads every answer there is, the commands the completions queue
 * go out on the next wake-up, each PDU as two send()s (header, then data),
 * and each send() is a TCP segment of its own: a target that is faster than
 * the client wakes for the first one and finds one command, or part of
 * one, and so both sides settle into one wake-up per command. With --batch
 * the queued commands are sent in the same wake-up as the answers that
 * freed them, under TCP_CORK when there are two or more, so the target
 * receives them as one burst (at QD1 there is one and nothing waits). Every
 * target benchmarked with the same flag faces the same client.
 *
 * --verbose also prints the wake-ups (poll() returns with events) and the
 * data segments the sessions sent (TCP_INFO) in the measured window, per
 * command. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/tcp.h> /* TCP_CORK, TCP_INFO with tcpi_data_segs_out */
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define MAX_SESSIONS 256
#define MAX_QD 1024
#define MAX_BS (16u << 20)
#define DRAIN_TIMEOUT_NS (10ull * 1000000000ull)
#define MAX_ERROR_REPORTS 10

/* Latency histogram: log-linear in nanoseconds, 32 sub-buckets per power of
 * two (about 3% resolution). */
#define HIST_SUB_BITS 5
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS (64u * HIST_SUB)

enum rw { RW_READ, RW_WRITE, RW_RANDREAD, RW_RANDWRITE, RW_MIXED };
enum phase { PH_WARMUP, PH_MEASURE, PH_DRAIN };

struct opts {
	const char *url;
	const char *initiator;
	unsigned sessions;
	unsigned qd;
	uint32_t bs;
	enum rw rw;
	double seconds;
	double warmup;
	uint64_t span;
	bool fill;
	bool verbose;
	bool marks;
	bool batch;
};

struct session;

struct slot {
	struct session *s;
	struct scsi_task *task;
	unsigned char *buf;
	struct scsi_iovec iov;
	uint64_t t_issue;
	bool busy;
};

struct session {
	unsigned idx;
	struct iscsi_context *ctx;
	int lun;
	bool dead;
	unsigned inflight;
	uint64_t completions; /* every on_done, errors included (--batch) */
	uint32_t segs0;       /* tcpi_data_segs_out when the window opened */
	uint64_t rng;
	uint64_t seq_lo, seq_hi, seq_next; /* in blocks */
	struct slot *slots;
};

static struct opts o = {
    .initiator = "iqn.2026-11.io.prkit:bench-load",
    .sessions = 1,
    .qd = 1,
    .bs = 4096,
    .rw = RW_RANDREAD,
    .seconds = 5,
    .warmup = 1,
};

static enum phase phase = PH_WARMUP;

/* --marks: tells a watching script where the measured window is. */
static void mark(const char *what)
{
	if (o.marks) {
		printf("MARK %s\n", what);
		fflush(stdout);
	}
}
static uint32_t block_size;
static uint64_t span_blocks; /* LBAs used: [0, span_blocks) */
static uint32_t io_blocks;
static uint64_t n_ops, n_bytes, n_errors, n_inflight;
static uint64_t n_wakeups; /* poll() returns with events, in the window */
static uint64_t n_segs;    /* data segments sent, in the window */
static uint64_t hist[HIST_BUCKETS];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd_next(uint64_t *x)
{
	/* xorshift64* */
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545F4914F6CDD1Dull;
}

static unsigned hist_index(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned)v;
	unsigned k = 63u - (unsigned)__builtin_clzll(v); /* k >= HIST_SUB_BITS */
	unsigned shift = k - HIST_SUB_BITS;
	unsigned idx =
	    (k - HIST_SUB_BITS + 1) * HIST_SUB + (unsigned)((v >> shift) & (HIST_SUB - 1));
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* The middle of the bucket's value range. */
static double hist_value(unsigned idx)
{
	if (idx < HIST_SUB)
		return idx;
	unsigned k = idx / HIST_SUB - 1 + HIST_SUB_BITS;
	unsigned sub = idx % HIST_SUB;
	double lo = (double)(1ull << k) + (double)sub * (double)(1ull << (k - HIST_SUB_BITS));
	return lo + (double)(1ull << (k - HIST_SUB_BITS)) / 2;
}

static double hist_percentile(double p)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		total += hist[i];
	if (total == 0)
		return 0;
	uint64_t want = (uint64_t)(p * (double)total + 0.5);
	if (want == 0)
		want = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += hist[i];
		if (seen >= want)
			return hist_value(i);
	}
	return hist_value(HIST_BUCKETS - 1);
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: iscsi_load --url iscsi://HOST[:PORT]/IQN/LUN [options]\n"
	        "  --sessions N      sessions, each its own connection and ISID (1)\n"
	        "  --qd N            outstanding commands per session (1)\n"
	        "  --bs SIZE         I/O size, a multiple of the block size; K/M suffixes (4K)\n"
	        "  --rw MODE         read, write (sequential), randread, randwrite, mixed\n"
	        "                    (random, 70%% reads / 30%% writes) (randread)\n"
	        "  --seconds S       measured time (5)\n"
	        "  --warmup S        time before the measurement, not counted (1)\n"
	        "  --span BYTES      LBA range used, from LBA 0; K/M/G suffixes (whole LU)\n"
	        "  --initiator NAME  initiator IQN (%s)\n"
	        "  --fill            write the span once sequentially and stop (--seconds: limit)\n"
	        "  --verbose         details on stderr (sessions, wake-ups per command)\n"
	        "  --marks           MARK measure / MARK end lines on stdout\n"
	        "  --batch           read every answer a wake-up finds, send what they\n"
	        "                    queued as one corked burst (see the source's header)\n"
	        "Prints: RESULT iops=N mbps=N errors=N p50_us=N p99_us=N (mbps: 10^6 B/s).\n"
	        "Exits 1 when any command failed.\n",
	        o.initiator);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		return -1;
	}
	if (*end && end[1] && !((end[1] == 'i' || end[1] == 'I') && end[2] == 'B' && !end[3]) &&
	    !((end[1] == 'b' || end[1] == 'B') && !end[2]))
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_seconds(const char *s, double lo, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo) || v > 86400)
		return -1;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"sessions", required_argument, NULL, 'n'},
	    {"qd", required_argument, NULL, 'q'},
	    {"bs", required_argument, NULL, 'b'},
	    {"rw", required_argument, NULL, 'r'},
	    {"seconds", required_argument, NULL, 's'},
	    {"warmup", required_argument, NULL, 'w'},
	    {"span", required_argument, NULL, 'S'},
	    {"initiator", required_argument, NULL, 'i'},
	    {"fill", no_argument, NULL, 'f'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"marks", no_argument, NULL, 'm'},
	    {"batch", no_argument, NULL, 'B'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	uint64_t v;
	while ((c = getopt_long(argc, argv, "u:n:q:b:r:s:w:S:i:fmvBh", lopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			o.url = optarg;
			break;
		case 'n':
			if (parse_uint(optarg, 1, MAX_SESSIONS, &o.sessions)) {
				fprintf(stderr, "iscsi_load: --sessions: 1..%d\n", MAX_SESSIONS);
				return -1;
			}
			break;
		case 'q':
			if (parse_uint(optarg, 1, MAX_QD, &o.qd)) {
				fprintf(stderr, "iscsi_load: --qd: 1..%d\n", MAX_QD);
				return -1;
			}
			break;
		case 'b':
			if (parse_size(optarg, &v) || v == 0 || v > MAX_BS) {
				fprintf(stderr, "iscsi_load: --bs: a size from 1 to 16M\n");
				return -1;
			}
			o.bs = (uint32_t)v;
			break;
		case 'r':
			if (strcmp(optarg, "read") == 0)
				o.rw = RW_READ;
			else if (strcmp(optarg, "write") == 0)
				o.rw = RW_WRITE;
			else if (strcmp(optarg, "randread") == 0)
				o.rw = RW_RANDREAD;
			else if (strcmp(optarg, "randwrite") == 0)
				o.rw = RW_RANDWRITE;
			else if (strcmp(optarg, "mixed") == 0)
				o.rw = RW_MIXED;
			else {
				fprintf(stderr,
				        "iscsi_load: --rw: read, write, randread, randwrite "
				        "or mixed\n");
				return -1;
			}
			break;
		case 's':
			if (parse_seconds(optarg, 0.1, &o.seconds)) {
				fprintf(stderr, "iscsi_load: --seconds: 0.1..86400\n");
				return -1;
			}
			break;
		case 'w':
			if (parse_seconds(optarg, 0, &o.warmup)) {
				fprintf(stderr, "iscsi_load: --warmup: 0..86400\n");
				return -1;
			}
			break;
		case 'S':
			if (parse_size(optarg, &o.span) || o.span == 0) {
				fprintf(stderr, "iscsi_load: --span: a non-zero size\n");
				return -1;
			}
			break;
		case 'i':
			o.initiator = optarg;
			break;
		case 'f':
			o.fill = true;
			break;
		case 'm':
			o.marks = true;
			break;
		case 'B':
			o.batch = true;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || !o.url) {
		usage(stderr);
		return -1;
	}
	if (o.fill) {
		o.rw = RW_WRITE;
		o.warmup = 0;
	}
	return 0;
}

static const char *status_str(int status)
{
	static char buf[32];
	switch (status) {
	case SCSI_STATUS_CANCELLED:
		return "cancelled";
	case SCSI_STATUS_ERROR:
		return "transport error";
	case SCSI_STATUS_TIMEOUT:
		return "timed out";
	case SCSI_STATUS_BUSY:
		return "BUSY";
	case SCSI_STATUS_RESERVATION_CONFLICT:
		return "RESERVATION CONFLICT";
	case SCSI_STATUS_TASK_SET_FULL:
		return "TASK SET FULL";
	case SCSI_STATUS_TASK_ABORTED:
		return "TASK ABORTED";
	default:
		snprintf(buf, sizeof(buf), "status %#x", (unsigned)status);
		return buf;
	}
}

static void report_error(const struct session *s, const char *what, int status,
                         const struct scsi_task *task)
{
	n_errors++;
	if (n_errors > MAX_ERROR_REPORTS) {
		if (n_errors == MAX_ERROR_REPORTS + 1)
			fprintf(stderr, "iscsi_load: further errors are counted, not shown\n");
		return;
	}
	if (status == SCSI_STATUS_CHECK_CONDITION && task)
		fprintf(stderr, "iscsi_load: session %u: %s: CHECK CONDITION %s (%#x) %s (%#06x)\n",
		        s->idx, what, scsi_sense_key_str(task->sense.key), task->sense.key,
		        scsi_sense_ascq_str(task->sense.ascq), task->sense.ascq);
	else
		fprintf(stderr, "iscsi_load: session %u: %s: %s: %s\n", s->idx, what,
		        status_str(status), iscsi_get_error(s->ctx));
}

static void kill_session(struct session *s, const char *why, int status)
{
	if (s->dead)
		return;
	s->dead = true;
	report_error(s, why, status, NULL);
	/* Its commands will never complete now; their callbacks, if any,
	 * come from iscsi_destroy_context() and are ignored. */
	n_inflight -= s->inflight;
	s->inflight = 0;
}

static void submit(struct slot *sl);

static void set_cork(struct session *s, int on)
{
	/* A failure only loses the coalescing, never a command. */
	(void)setsockopt(iscsi_get_fd(s->ctx), IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}

/* --batch: one wake-up of session s (see the header). libiscsi reads every
 * complete answer in one call; what the completions queued is written at
 * once. Returns iscsi_service's result. */
static int service_batch(struct session *s, int revents)
{
	uint64_t c0 = s->completions;
	int r = iscsi_service(s->ctx, revents);
	uint64_t queued = s->completions - c0;
	if (r != 0 || s->dead || queued == 0)
		return r;
	if (queued >= 2)
		set_cork(s, 1);
	r = iscsi_service(s->ctx, POLLOUT);
	if (queued >= 2 && !s->dead)
		set_cork(s, 0);
	return r;
}

/* Data segments session s has sent so far (0 where TCP_INFO lacks them). */
static uint32_t data_segs_out(struct session *s)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(iscsi_get_fd(s->ctx), IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return 0;
	return ti.tcpi_data_segs_out;
}

static void on_done(struct iscsi_context *ctx, int status, void *command_data, void *private_data)
{
	(void)ctx;
	(void)command_data; /* NULL when cancelled: the task is sl->task */
	struct slot *sl = private_data;
	struct session *s = sl->s;
	struct scsi_task *task = sl->task;
	bool write = task && task->cdb[0] == SCSI_OPCODE_WRITE16;

	sl->task = NULL;
	sl->busy = false;
	s->completions++;
	if (s->dead) {
		if (task)
			scsi_free_scsi_task(task);
		return;
	}
	s->inflight--;
	n_inflight--;
	if (status == SCSI_STATUS_CANCELLED || status == SCSI_STATUS_ERROR ||
	    status == SCSI_STATUS_TIMEOUT) {
		/* The transport failed (the connection dropped, and libiscsi
		 * does not reconnect): the session is over. */
		if (task)
			scsi_free_scsi_task(task);
		kill_session(s, write ? "WRITE(16)" : "READ(16)", status);
		return;
	}
	if (status != SCSI_STATUS_GOOD) {
		report_error(s, write ? "WRITE(16)" : "READ(16)", status, task);
	} else if (phase == PH_MEASURE) {
		uint64_t lat = now_ns() - sl->t_issue;
		n_ops++;
		n_bytes += o.bs;
		hist[hist_index(lat)]++;
	}
	if (task)
		scsi_free_scsi_task(task);
	if (phase != PH_DRAIN && !s->dead)
		submit(sl);
}

static void submit(struct slot *sl)
{
	struct session *s = sl->s;
	uint64_t lba;
	bool write;

	switch (o.rw) {
	case RW_READ:
	case RW_WRITE:
		if (s->seq_next + io_blocks > s->seq_hi) {
			if (o.fill)
				return; /* this session's slice is written */
			s->seq_next = s->seq_lo;
		}
		lba = s->seq_next;
		s->seq_next += io_blocks;
		write = o.rw == RW_WRITE;
		break;
	default:
		lba = (rnd_next(&s->rng) % (span_blocks / io_blocks)) * io_blocks;
		write = o.rw == RW_RANDWRITE || (o.rw == RW_MIXED && rnd_next(&s->rng) % 100 < 30);
		break;
	}
	sl->t_issue = now_ns();
	if (write)
		sl->task = iscsi_write16_task(s->ctx, s->lun, lba, sl->buf, o.bs, (int)block_size,
		                              0, 0, 0, 0, 0, on_done, sl);
	else
		sl->task = iscsi_read16_iov_task(s->ctx, s->lun, lba, o.bs, (int)block_size, 0, 0,
		                                 0, 0, 0, on_done, sl, &sl->iov, 1);
	if (!sl->task) {
		kill_session(s, write ? "cannot queue WRITE(16)" : "cannot queue READ(16)",
		             SCSI_STATUS_ERROR);
		return;
	}
	sl->busy = true;
	s->inflight++;
	n_inflight++;
}

/* Consume the power-on (and any other) unit attention before the run. */
/* --verbose: the data segments the live sessions sent between the opening
 * (start) and the end of the window, into n_segs. */
static void count_segs(struct session *ss, bool start)
{
	if (!o.verbose)
		return;
	for (unsigned i = 0; i < o.sessions; i++) {
		if (ss[i].dead || !ss[i].ctx)
			continue;
		uint32_t now = data_segs_out(&ss[i]);
		if (start)
			ss[i].segs0 = now;
		else
			n_segs += (uint32_t)(now - ss[i].segs0);
	}
}

static int wait_ready(struct session *s)
{
	for (int i = 0; i < 20; i++) {
		struct scsi_task *t = iscsi_testunitready_sync(s->ctx, s->lun);
		if (!t) {
			fprintf(stderr, "iscsi_load: session %u: TEST UNIT READY: %s\n", s->idx,
			        iscsi_get_error(s->ctx));
			return -1;
		}
		int st = t->status;
		enum scsi_sense_key key = t->sense.key;
		int ascq = t->sense.ascq;
		scsi_free_scsi_task(t);
		if (st == SCSI_STATUS_GOOD)
			return 0;
		if (st == SCSI_STATUS_CHECK_CONDITION && key == SCSI_SENSE_UNIT_ATTENTION)
			continue;
		if (st == SCSI_STATUS_CHECK_CONDITION)
			fprintf(stderr, "iscsi_load: session %u: TEST UNIT READY: %s %s\n", s->idx,
			        scsi_sense_key_str(key), scsi_sense_ascq_str(ascq));
		else
			fprintf(stderr, "iscsi_load: session %u: TEST UNIT READY: status %#x\n",
			        s->idx, (unsigned)st);
		return -1;
	}
	fprintf(stderr, "iscsi_load: session %u: unit attentions do not stop\n", s->idx);
	return -1;
}

static int read_capacity(struct session *s, uint32_t *bsz, uint64_t *nblocks)
{
	struct scsi_task *t = iscsi_readcapacity16_sync(s->ctx, s->lun);
	if (!t || t->status != SCSI_STATUS_GOOD) {
		fprintf(stderr, "iscsi_load: READ CAPACITY(16): %s\n",
		        t ? scsi_sense_ascq_str(t->sense.ascq) : iscsi_get_error(s->ctx));
		if (t)
			scsi_free_scsi_task(t);
		return -1;
	}
	struct scsi_readcapacity16 *rc = scsi_datain_unmarshall(t);
	if (!rc || rc->block_length == 0) {
		fprintf(stderr, "iscsi_load: READ CAPACITY(16): cannot decode the data\n");
		scsi_free_scsi_task(t);
		return -1;
	}
	*bsz = rc->block_length;
	*nblocks = rc->returned_lba + 1;
	scsi_free_scsi_task(t);
	return 0;
}

static int open_session(struct session *s, const struct iscsi_url *url, uint32_t isid_rnd)
{
	s->ctx = iscsi_create_context(o.initiator);
	if (!s->ctx) {
		fprintf(stderr, "iscsi_load: cannot create an iSCSI context\n");
		return -1;
	}
	s->lun = url->lun;
	if (iscsi_set_targetname(s->ctx, url->target) ||
	    iscsi_set_session_type(s->ctx, ISCSI_SESSION_NORMAL) ||
	    iscsi_set_header_digest(s->ctx, ISCSI_HEADER_DIGEST_NONE) ||
	    iscsi_set_isid_random(s->ctx, isid_rnd, s->idx)) {
		fprintf(stderr, "iscsi_load: session %u: %s\n", s->idx, iscsi_get_error(s->ctx));
		return -1;
	}
	iscsi_set_noautoreconnect(s->ctx, 1);
	if (url->user[0] && iscsi_set_initiator_username_pwd(s->ctx, url->user, url->passwd)) {
		fprintf(stderr, "iscsi_load: session %u: %s\n", s->idx, iscsi_get_error(s->ctx));
		return -1;
	}
	if (iscsi_full_connect_sync(s->ctx, url->portal, url->lun)) {
		fprintf(stderr, "iscsi_load: session %u: login to %s %s failed: %s\n", s->idx,
		        url->portal, url->target, iscsi_get_error(s->ctx));
		return -1;
	}
	return wait_ready(s);
}

static int alloc_slots(struct session *s, uint64_t seed)
{
	s->slots = calloc(o.qd, sizeof(*s->slots));
	if (!s->slots)
		return -1;
	for (unsigned j = 0; j < o.qd; j++) {
		struct slot *sl = &s->slots[j];
		sl->s = s;
		if (posix_memalign((void **)&sl->buf, 4096, o.bs))
			return -1;
		/* Incompressible, non-zero data for writes. */
		uint64_t x = seed ^ (0x9E3779B97F4A7C15ull * (j + 1));
		for (uint32_t k = 0; k + 8 <= o.bs; k += 8) {
			uint64_t r = rnd_next(&x);
			memcpy(sl->buf + k, &r, 8);
		}
		sl->iov.iov_base = sl->buf;
		sl->iov.iov_len = o.bs;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (parse_args(argc, argv))
		return 2;

	struct iscsi_context *pctx = iscsi_create_context(o.initiator);
	if (!pctx) {
		fprintf(stderr, "iscsi_load: cannot create an iSCSI context\n");
		return 2;
	}
	struct iscsi_url *url = iscsi_parse_full_url(pctx, o.url);
	if (!url) {
		fprintf(stderr, "iscsi_load: --url: %s\n", iscsi_get_error(pctx));
		return 2;
	}

	struct session *ss = calloc(o.sessions, sizeof(*ss));
	struct pollfd *pfd = calloc(o.sessions, sizeof(*pfd));
	struct session **pss = calloc(o.sessions, sizeof(*pss));
	if (!ss || !pfd || !pss) {
		fprintf(stderr, "iscsi_load: out of memory\n");
		return 2;
	}
	uint64_t seed = now_ns() ^ ((uint64_t)getpid() << 32);
	uint32_t isid_rnd = (uint32_t)(rnd_next(&seed) & 0xffffff);
	int rc = 0;
	unsigned opened = 0;
	for (unsigned i = 0; i < o.sessions; i++) {
		ss[i].idx = i;
		if (open_session(&ss[i], url, isid_rnd)) {
			rc = 2;
			break;
		}
		opened++;
	}

	uint64_t nblocks = 0;
	if (rc == 0 && read_capacity(&ss[0], &block_size, &nblocks))
		rc = 2;
	if (rc == 0) {
		if (o.bs % block_size) {
			fprintf(stderr,
			        "iscsi_load: --bs %u is not a multiple of the block size %u\n",
			        o.bs, block_size);
			rc = 2;
		}
		io_blocks = o.bs / block_size;
		span_blocks = o.span ? o.span / block_size : nblocks;
		if (span_blocks > nblocks)
			span_blocks = nblocks;
		if (rc == 0 && span_blocks < io_blocks) {
			fprintf(stderr, "iscsi_load: the span is smaller than one I/O\n");
			rc = 2;
		}
	}
	for (unsigned i = 0; rc == 0 && i < o.sessions; i++) {
		struct session *s = &ss[i];
		s->rng = seed ^ (0xD1B54A32D192ED03ull * (i + 1));
		if (s->rng == 0)
			s->rng = 1;
		/* Sequential streams: each session its own slice of the span. */
		uint64_t units = span_blocks / io_blocks;
		uint64_t per = units / o.sessions;
		if (per == 0) {
			s->seq_lo = 0;
			s->seq_hi = units * io_blocks;
		} else {
			s->seq_lo = i * per * io_blocks;
			s->seq_hi = (i + 1 == o.sessions ? units : (i + 1) * per) * io_blocks;
		}
		s->seq_next = s->seq_lo;
		if (alloc_slots(s, seed + i)) {
			fprintf(stderr, "iscsi_load: out of memory\n");
			rc = 2;
		}
	}
	if (rc == 0 && o.verbose)
		fprintf(stderr,
		        "iscsi_load: %s: %u session(s) x QD %u, bs %u, block %u, span %" PRIu64
		        " blocks\n",
		        o.url, o.sessions, o.qd, o.bs, block_size, span_blocks);

	uint64_t t_start = now_ns(), t_meas = 0, t_end = 0;
	uint64_t warm_ns = (uint64_t)(o.warmup * 1e9), meas_ns = (uint64_t)(o.seconds * 1e9);
	if (rc == 0) {
		for (unsigned i = 0; i < o.sessions; i++)
			for (unsigned j = 0; j < o.qd && !ss[i].dead; j++)
				submit(&ss[i].slots[j]);
		if (warm_ns == 0) {
			phase = PH_MEASURE;
			t_meas = t_start;
			mark("measure");
			count_segs(ss, true);
		}
	}
	while (rc == 0) {
		uint64_t t = now_ns();
		if (phase == PH_WARMUP && t - t_start >= warm_ns) {
			phase = PH_MEASURE;
			t_meas = t;
			mark("measure");
			count_segs(ss, true);
		}
		if (phase == PH_MEASURE && o.fill && n_inflight == 0) {
			t_end = t; /* everything is written */
			break;
		}
		if (phase == PH_MEASURE && t - t_meas >= meas_ns) {
			if (o.fill) {
				fprintf(stderr, "iscsi_load: --fill not done after %.1f s\n",
				        o.seconds);
				n_errors++;
			}
			phase = PH_DRAIN;
			t_end = t;
			mark("end");
			count_segs(ss, false);
		}
		if (phase == PH_DRAIN) {
			if (n_inflight == 0)
				break;
			if (t - t_end > DRAIN_TIMEOUT_NS) {
				fprintf(stderr,
				        "iscsi_load: %" PRIu64
				        " command(s) still outstanding %llu s "
				        "after the end\n",
				        n_inflight, DRAIN_TIMEOUT_NS / 1000000000ull);
				n_errors += n_inflight;
				break;
			}
		}
		unsigned n = 0;
		for (unsigned i = 0; i < o.sessions; i++) {
			if (ss[i].dead)
				continue;
			pfd[n].fd = iscsi_get_fd(ss[i].ctx);
			pfd[n].events = (short)iscsi_which_events(ss[i].ctx);
			pfd[n].revents = 0;
			pss[n++] = &ss[i];
		}
		if (n == 0)
			break;
		int r = poll(pfd, n, 100);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("iscsi_load: poll");
			rc = 2;
			break;
		}
		if (r > 0 && phase == PH_MEASURE)
			n_wakeups++;
		for (unsigned k = 0; r > 0 && k < n; k++) {
			if (!pfd[k].revents)
				continue;
			int r = o.batch ? service_batch(pss[k], pfd[k].revents)
			                : iscsi_service(pss[k]->ctx, pfd[k].revents);
			if (r < 0)
				kill_session(pss[k], "connection lost", SCSI_STATUS_ERROR);
		}
	}
	if (rc == 0 && t_end == 0) /* every session died before the end */
		t_end = now_ns();

	for (unsigned i = 0; i < opened; i++) {
		if (!ss[i].dead && n_inflight == 0)
			iscsi_logout_sync(ss[i].ctx);
	}
	for (unsigned i = 0; i < o.sessions; i++) {
		if (ss[i].ctx) {
			ss[i].dead = true;
			iscsi_destroy_context(ss[i].ctx);
		}
		if (ss[i].slots) {
			for (unsigned j = 0; j < o.qd; j++)
				free(ss[i].slots[j].buf);
			free(ss[i].slots);
		}
	}
	iscsi_destroy_url(url);
	iscsi_destroy_context(pctx);
	free(ss);
	free(pfd);
	free(pss);
	if (rc)
		return rc;

	double secs = t_meas && t_end > t_meas ? (double)(t_end - t_meas) / 1e9 : 0;
	double iops = secs > 0 ? (double)n_ops / secs : 0;
	double mbps = secs > 0 ? (double)n_bytes / secs / 1e6 : 0;
	printf("RESULT iops=%.0f mbps=%.1f errors=%" PRIu64 " p50_us=%.1f p99_us=%.1f\n", iops,
	       mbps, n_errors, hist_percentile(0.50) / 1000.0, hist_percentile(0.99) / 1000.0);
	if (o.verbose)
		fprintf(stderr,
		        "iscsi_load: %" PRIu64 " commands in %.3f s, %" PRIu64
		        " wake-ups (%.3f per command), %" PRIu64
		        " data segments sent (%.3f per command)\n",
		        n_ops, secs, n_wakeups, n_ops ? (double)n_wakeups / (double)n_ops : 0.0,
		        n_segs, n_ops ? (double)n_segs / (double)n_ops : 0.0);
	return n_errors ? 1 : 0;
}
