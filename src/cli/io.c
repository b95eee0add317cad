/* `prkit io`: block I/O through the host library's multipath device, with
 * the path events printed as they happen (docs/io.md).
 *
 * One event loop (prk_host_run) drives --qd slots; each slot has one I/O
 * in flight and issues the next from its completion. verify: a slot
 * writes the pattern to a unit no other slot is using, reads the unit back
 * and compares, then moves on. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "io_run.h"
#include "prkit/host_ctl.h"

/* A drain longer than this (after --time) is reported and cut short. */
#define IO_DRAIN_LIMIT_MS 60000

static volatile sig_atomic_t io_interrupted, io_failback;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		io_failback = 1; /* --failback manual: fail back now */
	else
		io_interrupted = 1;
}

static void io_issue(struct io_slot *s, uint64_t now);

/* ---- choosing what a slot does next ---- */

static bool unit_in_use(const struct io_run *r, const struct io_slot *self, uint64_t unit)
{
	for (unsigned i = 0; i < r->o->qd; i++) {
		const struct io_slot *s = &r->slots[i];
		if (s != self && s->busy && s->unit == unit)
			return true;
	}
	return false;
}

/* verify: a random unit that no other slot is writing or reading. */
static uint64_t pick_free_unit(struct io_run *r, struct io_slot *s)
{
	uint64_t u = prk_io_rand_next(&r->rng) % r->reg.units;
	for (uint64_t k = 0; k < r->reg.units; k++, u = (u + 1) % r->reg.units)
		if (!unit_in_use(r, s, u))
			return u;
	return u; /* not reached: qd <= units is checked at the start */
}

static void pick(struct io_run *r, struct io_slot *s)
{
	enum io_rw rw = r->o->rw;
	if (rw == IO_RW_VERIFY) {
		s->unit = pick_free_unit(r, s);
		s->write = true;
		s->verify_read = false;
		return;
	}
	if (r->random) {
		s->unit = prk_io_rand_next(&r->rng) % r->reg.units;
	} else {
		s->unit = r->next_unit;
		r->next_unit = (r->next_unit + 1) % r->reg.units;
	}
	if (rw == IO_RW_RW || rw == IO_RW_RANDRW)
		s->write = prk_io_rand_next(&r->rng) & 1;
	else
		s->write = rw == IO_RW_WRITE || rw == IO_RW_RANDWRITE;
}

static uint64_t slot_lba(const struct io_run *r, const struct io_slot *s)
{
	return r->reg.first_lba + s->unit * r->reg.io_blocks;
}

/* now: the caller's clock reading (a completion has one already). */
static bool limits_reached(const struct io_run *r, uint64_t now)
{
	const struct io_opts *o = r->o;
	if (o->count && r->issued >= o->count)
		return true;
	if (r->io_until_ns && now >= r->io_until_ns)
		return true;
	return false;
}

/* ---- completions ---- */

static void count_status(struct io_run *r, const struct prk_io_result *res)
{
	switch (res->status) {
	case PRK_IO_OK:
		break;
	case PRK_IO_FENCED:
		r->c.fenced++;
		break;
	case PRK_IO_SCSI_ERROR:
		r->c.scsi++;
		break;
	case PRK_IO_NO_PATH:
		r->c.no_path++;
		break;
	case PRK_IO_CLOSED:
		r->c.closed++;
		break;
	}
}

static void count_ok(struct io_run *r, struct io_slot *s, const struct prk_io_result *res,
                     uint64_t now)
{
	r->c.ops++;
	r->c.bytes += r->o->bs;
	if (s->write)
		r->c.writes++;
	else
		r->c.reads++;
	if (res->path >= 0 && res->path < IO_NP)
		r->c.per_path[res->path]++;
	if (res->redrives)
		r->c.ios_redriven++;
	prk_io_hist_add(&r->c.lat, (now - s->t_issue_ns) / 1000);
}

static void verify_check(struct io_run *r, struct io_slot *s)
{
	struct iop_mismatch m;
	if (prk_iop_check(s->rbuf, r->block_size, r->reg.io_blocks, slot_lba(r, s), s->seq,
	                  r->run_id, &m) == IOP_OK)
		return;
	if (!r->c.mismatches)
		r->first_bad = m;
	r->c.mismatches++;
	prk_io_print_mismatch(r, &m);
}

/* verify: after the write, the same slot reads the unit back. */
static bool verify_next_phase(struct io_run *r, struct io_slot *s, bool ok)
{
	if (r->o->rw != IO_RW_VERIFY)
		return false;
	if (s->write && ok) {
		s->write = false;
		s->verify_read = true;
		return true;
	}
	if (s->verify_read && ok)
		verify_check(r, s);
	return false;
}

static void io_done(struct prk_mpdev *d, const struct prk_io_result *res, void *arg)
{
	(void)d;
	struct io_slot *s = arg;
	struct io_run *r = s->run;
	uint64_t now = prk_io_now_ns();
	r->inflight--;
	count_status(r, res);
	if (res->status == PRK_IO_OK)
		count_ok(r, s, res, now);
	if (res->status == PRK_IO_FENCED)
		r->stopping = true; /* every further I/O would meet the same conflict */
	bool again = verify_next_phase(r, s, res->status == PRK_IO_OK);
	s->busy = false;
	if (again) {
		s->busy = true;
		io_issue(s, now);
		return;
	}
	if (!r->stopping && !io_interrupted && !limits_reached(r, now)) {
		s->busy = true;
		pick(r, s);
		io_issue(s, now);
	}
}

/* CLOCK_REALTIME in microseconds (--seq-clock): comparable across the
 * processes and the namespaces of one machine. */
static uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ull + (uint64_t)ts.tv_nsec / 1000;
}

/* now: the clock read by the caller (the completion that frees the slot),
 * so that an I/O costs two clock reads, as in a plain libiscsi loop. */
static void io_issue(struct io_slot *s, uint64_t now)
{
	struct io_run *r = s->run;
	uint64_t lba = slot_lba(r, s);
	int rc;
	/* The sequence number is taken at the issue, so that with --seq-clock
	 * it says when this write left (a checker compares it with the time
	 * the node was fenced). */
	if (s->write && prk_io_versioned(r->o)) {
		s->seq = prk_io_next_seq(&r->seq, r->o->seq_clock, wall_us());
		prk_iop_fill(s->buf, r->block_size, r->reg.io_blocks, lba, s->seq, r->run_id);
		now = prk_io_now_ns(); /* the fill's time is not the I/O's */
	}
	s->t_issue_ns = now;
	if (s->write)
		rc = prk_mpdev_write_async(r->d, lba, r->reg.io_blocks, s->buf, io_done, s);
	else
		rc = prk_mpdev_read_async(r->d, lba, r->reg.io_blocks,
		                          s->verify_read ? s->rbuf : s->buf, io_done, s);
	if (rc) {
		r->c.submit++;
		s->busy = false;
		r->stopping = true; /* the device is not open any more */
		return;
	}
	if (!s->verify_read)
		r->issued++;
	r->inflight++;
}

/* ---- set-up ---- */

static void on_event(struct prk_mpdev *d, const struct prk_event *ev, void *arg)
{
	struct io_run *r = arg;
	switch (ev->kind) {
	case PRK_EV_PATH_STATE:
		if (ev->old_state == PRK_PATH_UP &&
		    (ev->new_state == PRK_PATH_DOWN || ev->new_state == PRK_PATH_FAILED))
			r->c.failovers++;
		break;
	case PRK_EV_IO_REDRIVEN:
		r->c.redriven++;
		break;
	case PRK_EV_UA:
		r->c.uas++;
		break;
	case PRK_EV_REREGISTERED:
		r->c.reregistered++;
		break;
	case PRK_EV_RESV_MOVED:
		r->c.resv_moved++;
		break;
	case PRK_EV_STALLED:
		r->c.stalls++;
		break;
	case PRK_EV_KEY_CHANGED:
		r->c.key_changes++;
		break;
	case PRK_EV_FENCED:
	case PRK_EV_RESUMED:
		break;
	}
	prk_io_print_event(r, d, ev);
}

static int alloc_slots(struct io_run *r)
{
	unsigned qd = r->o->qd;
	r->slots = calloc(qd, sizeof(*r->slots));
	if (!r->slots)
		return -1;
	for (unsigned i = 0; i < qd; i++) {
		struct io_slot *s = &r->slots[i];
		s->run = r;
		if (posix_memalign((void **)&s->buf, 4096, r->o->bs))
			return -1;
		/* Writes other than verify carry incompressible data. */
		uint64_t x = r->run_id ^ (0x9E3779B97F4A7C15ull * (i + 1));
		for (uint32_t k = 0; k + 8 <= r->o->bs; k += 8) {
			uint64_t v = prk_io_rand_next(&x);
			memcpy(s->buf + k, &v, 8);
		}
		if (r->o->rw == IO_RW_VERIFY && posix_memalign((void **)&s->rbuf, 4096, r->o->bs))
			return -1;
	}
	return 0;
}

static void free_slots(struct io_run *r)
{
	if (!r->slots)
		return;
	for (unsigned i = 0; i < r->o->qd; i++) {
		free(r->slots[i].buf);
		free(r->slots[i].rbuf);
	}
	free(r->slots);
	r->slots = NULL;
}

static uint64_t make_run_id(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t x = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	x ^= (uint64_t)getpid() << 40;
	prk_io_rand_next(&x);
	return x ? x : 1;
}

static int resolve_initiator(struct io_run *r)
{
	if (r->o->initiator) {
		snprintf(r->initiator, sizeof(r->initiator), "%s", r->o->initiator);
		return 0;
	}
	char host[256] = "", err[256];
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = 0;
	host[sizeof(host) - 1] = 0;
	if (prk_io_default_initiator(getenv(IO_INITIATOR_ENV), host, r->initiator,
	                             sizeof(r->initiator), err, sizeof(err))) {
		fprintf(stderr, "prkit io: --initiator: %s\n", err);
		return -1;
	}
	return 0;
}

/* The library's message on one line (libiscsi's texts may end in '\n'). */
static const char *one_line(struct prk_host_err *err)
{
	for (char *p = err->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	size_t n = strlen(err->msg);
	while (n && err->msg[n - 1] == ' ')
		err->msg[--n] = 0;
	return err->msg;
}

/* Creates the host and the device and opens it: 0, or an exit status. */
static int open_device(struct io_run *r)
{
	const struct io_opts *o = r->o;
	struct prk_host_err err = {0};
	struct prk_host_opts ho = {.state_dir = o->state_dir};
	r->h = prk_host_new(&ho, &err);
	if (!r->h) {
		fprintf(stderr, "prkit io: %s\n", one_line(&err));
		return 2;
	}
	if (o->discover) {
		if (prk_host_discover(r->initiator, o->urls[0], 10, r->found, IO_NP, &r->n_urls,
		                      &err)) {
			fprintf(stderr, "prkit io: %s\n", one_line(&err));
			return 2;
		}
		for (size_t i = 0; i < r->n_urls; i++) {
			r->urls[i] = r->found[i];
			if (!o->quiet)
				fprintf(stderr, "prkit io: path %zu (discovered): %s\n", i,
				        r->found[i]);
		}
	} else {
		for (size_t i = 0; i < o->n_urls; i++)
			r->urls[i] = o->urls[i];
		r->n_urls = o->n_urls;
	}
	struct prk_mpdev_opts mo = {.initiator_name = r->initiator,
	                            .urls = r->urls,
	                            .n_urls = r->n_urls,
	                            .key = o->key,
	                            .checker_interval_ms = o->checker_ms,
	                            .io_timeout_ms = o->io_timeout_ms,
	                            .tmf_timeout_ms = o->tmf_timeout_ms,
	                            .fenced_hold_ms = o->fenced_hold_ms,
	                            .selector = o->selector,
	                            .failback = o->failback,
	                            .failback_delay_ms = o->failback_delay_ms,
	                            .on_event = on_event,
	                            .event_arg = r};
	r->d = prk_mpdev_new(r->h, &mo, &err);
	if (!r->d) {
		fprintf(stderr, "prkit io: %s\n", one_line(&err));
		return err.code == PRK_HE_USAGE ? 1 : 2;
	}
	struct prk_open_opts oo = {.mode = o->mode, .type = o->type};
	if (prk_mpdev_open(r->d, &oo, &err)) {
		fprintf(stderr, "prkit io: %s (--mode %s)\n", one_line(&err),
		        prk_open_mode_name(o->mode));
		if (err.code == PRK_HE_BUSY)
			fprintf(stderr, "prkit io: the reservation is held by key 0x%llx\n",
			        (unsigned long long)err.holder_key);
		return 2;
	}
	return 0;
}

/* The control socket, once the device is open: prkit fence finds us
 * there and stalls our I/O or changes our key while it fences another
 * node. Served from run_loop's prk_host_run. */
static int listen_ctl(struct io_run *r)
{
	if (r->o->no_ctl)
		return 0;
	struct prk_host_err err = {0};
	if (prk_host_ctl_listen(r->h, r->o->ctl_path, &err)) {
		fprintf(stderr, "prkit io: --ctl: %s (--no-ctl runs without it)\n", one_line(&err));
		return 2;
	}
	snprintf(r->ctl_path, sizeof(r->ctl_path), "%s", prk_host_ctl_path(r->h));
	return 0;
}

/* Checks the region against the LU now that it is known. */
static int fit_region(struct io_run *r)
{
	char err[256];
	r->block_size = prk_mpdev_block_size(r->d);
	if (prk_io_opts_fit(r->o, r->block_size, prk_mpdev_blocks(r->d), &r->reg, err,
	                    sizeof(err))) {
		fprintf(stderr, "prkit io: %s\n", err);
		return 1;
	}
	if (r->o->rw == IO_RW_VERIFY && r->reg.units < r->o->qd) {
		fprintf(stderr,
		        "prkit io: --qd: verify needs a unit per slot, the region has %llu units\n",
		        (unsigned long long)r->reg.units);
		return 1;
	}
	return 0;
}

/* ---- the run ---- */

static void start_slots(struct io_run *r)
{
	r->io_start_ns = prk_io_now_ns();
	r->prog_ns = r->io_start_ns;
	r->random = prk_io_rw_random(r->o->rw);
	/* --time as a clock value: one comparison per completion. */
	if (r->o->seconds > 0)
		r->io_until_ns = r->io_start_ns + (uint64_t)(r->o->seconds * 1e9);
	for (unsigned i = 0; i < r->o->qd && !r->stopping; i++) {
		if (r->o->count && r->issued >= r->o->count)
			break;
		struct io_slot *s = &r->slots[i];
		s->busy = true;
		pick(r, s);
		io_issue(s, prk_io_now_ns());
	}
}

static void run_loop(struct io_run *r)
{
	uint64_t drain_start = 0;
	while (r->inflight) {
		prk_host_run(r->h, 100);
		if (io_failback) {
			io_failback = 0;
			prk_mpdev_failback(r->d);
		}
		uint64_t now = prk_io_now_ns();
		if (now - r->prog_ns >= 1000000000ull)
			prk_io_progress(r, now);
		if (!r->stopping && (io_interrupted || limits_reached(r, now)))
			r->stopping = true;
		if (r->stopping && !drain_start)
			drain_start = now;
		if (drain_start && now - drain_start > IO_DRAIN_LIMIT_MS * 1000000ull) {
			fprintf(stderr, "prkit io: %u I/Os still outstanding %d s after the end\n",
			        r->inflight, IO_DRAIN_LIMIT_MS / 1000);
			break;
		}
	}
	r->io_end_ns = prk_io_now_ns();
	prk_io_flush_redrives(r);
}

static int exit_status(const struct io_run *r)
{
	if (r->c.mismatches)
		return 5;
	if (r->c.fenced || prk_mpdev_is_fenced(r->d))
		return 4;
	if (prk_io_errors(&r->c))
		return 3;
	return 0;
}

static void close_device(struct io_run *r)
{
	struct prk_host_err err = {0};
	if (r->d && prk_mpdev_close(r->d, &err) && !prk_mpdev_is_fenced(r->d))
		fprintf(stderr, "prkit io: close: %s\n", one_line(&err));
	prk_mpdev_free(r->d);
	r->d = NULL;
	prk_host_free(r->h);
	r->h = NULL;
}

static int run_io(struct io_run *r)
{
	if (alloc_slots(r)) {
		fprintf(stderr, "prkit io: out of memory for %u x %u-byte buffers\n", r->o->qd,
		        r->o->bs);
		return 2;
	}
	prk_io_print_opened(r);
	start_slots(r);
	run_loop(r);
	int st = exit_status(r);
	if (r->o->json)
		prk_io_report_json(r, st, stdout);
	else
		prk_io_report_text(r, stdout);
	return st;
}

static int io_main(const struct io_opts *o)
{
	static struct io_run r; /* large (histogram); one run at a time */
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.start_ns = prk_io_now_ns();
	r.run_id = o->run_id_set ? o->run_id : make_run_id();
	r.rng = r.run_id ^ 0xD1B54A32D192ED03ull;
	if (resolve_initiator(&r))
		return 1;
	int st = open_device(&r);
	if (st == 0)
		st = fit_region(&r);
	if (st == 0)
		st = listen_ctl(&r);
	if (st == 0)
		st = run_io(&r);
	if (r.d || r.h)
		close_device(&r);
	free_slots(&r);
	return st;
}

int prk_cli_io(int argc, char **argv)
{
	struct io_opts o;
	char err[256];
	if (prk_io_opts_parse(argc, argv, &o, err, sizeof(err))) {
		fprintf(stderr, "prkit io: %s\n(prkit io --help for the options)\n", err);
		return 1;
	}
	if (o.help) {
		prk_io_usage(stdout);
		return 0;
	}
	struct sigaction sa = {.sa_handler = on_signal}, ign = {.sa_handler = SIG_IGN};
	struct sigaction old_int, old_term, old_pipe, old_usr1;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGUSR1, &sa, &old_usr1);
	/* libiscsi writes with writev(): a portal closing its connections
	 * while a WRITE's data goes out must not kill us with SIGPIPE. */
	sigaction(SIGPIPE, &ign, &old_pipe);
	io_interrupted = io_failback = 0;
	int st = io_main(&o);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigaction(SIGUSR1, &old_usr1, NULL);
	return st;
}
