/* host_failover: failover time and multipath overhead of the host library
 * (src/host) against a prkitd with two portals. bench/host_bench.sh starts
 * the daemon and runs this.
 *
 * Failover (--case remove, --case silent): a two-path prk_mpdev with the
 * library's default settings (path checker every 1 s, I/O timeout 10 s,
 * ABORT TASK timeout 3 s) keeps 32 random 4 KiB writes in flight. Each
 * round one path is killed while the load runs, then restored (the next
 * round starts once it carries I/O again):
 *   remove: the portal is removed over prkitd's admin socket (its
 *           connections are closed); restored with add-portal.
 *   silent: each path goes through its own TCP relay in this program;
 *           the dying path's relay stops forwarding in both directions (no
 *           FIN, no RST: a network partition, or a hung portal), only that
 *           portal; restored by forwarding again (the relay's old
 *           connections are closed).
 * Rounds alternate between the path that holds the reservation (it then
 * moves to the other path) and the one that does not.
 * Times, per round:
 *   failover  = from the last completion on the dying path to the first
 *               completion on another path of an I/O that was re-driven
 *               from the dying path, or that was submitted after the
 *               library declared the path failed;
 *   detect    = from the last completion on the dying path to that
 *               declaration (its path-state event);
 *   redriven  = from the last completion on the dying path to the first
 *               completion of a re-driven I/O;
 *   max lat   = the longest time any I/O completed in the round (from the
 *               kill to 1 s after the failover) was outstanding: what an
 *               application waiting on a stuck I/O, or on the reservation
 *               being moved, sees.
 *
 * Overhead (--case overhead): 4 KiB random reads at --qd 32 through a plain
 * libiscsi context (one session, portal of --url0), through prk_mpdev with
 * one path (--url0) and with two (--url0, --url1); same daemon, same LU,
 * runs alternating, --rounds-overhead rounds; medians and ratios of IOPS
 * and of this process's CPU time per I/O.
 *
 * Usage: host_failover --url0 URL --url1 URL --admin SOCKET
 *        [--case all|remove|silent|overhead] [--rounds N] [--rounds-overhead N]
 *        [--seconds S] [--warmup S] [--only plain|mp1|mp2] [--state-dir DIR]
 * --only runs one overhead configuration once (for perf record).
 * Exits 1 when an I/O failed or a round did not complete, 2 on set-up
 * errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "prkit/host.h"

#define KEY 0x484f535442454e43ULL /* "HOSTBENC" */
#define INITIATOR "iqn.2026-11.io.prkit:bench-host"
#define PLAIN_INITIATOR "iqn.2026-11.io.prkit:bench-plain"
#define BS 4096
#define QD 32
#define SPAN_BYTES (64ull << 20)
#define MAX_ROUNDS 1000
#define ROUND_LIMIT_NS (40ull * 1000000000ull)
#define DMMP_POLL_MS 5000.0 /* dm-multipath's default polling_interval */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of this process (every thread). */
static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545F4914F6CDD1Dull;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of v[0..n) (sorted in place). */
static double pct(double *v, size_t n, double p)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	size_t rank = (size_t)(p * (double)n / 100.0 + 0.999999);
	if (rank < 1)
		rank = 1;
	return v[(rank > n ? n : rank) - 1];
}

/* ---- options ---- */

static struct {
	const char *url[2];
	const char *admin;
	const char *what;
	const char *only;
	const char *state_dir;
	unsigned rounds, rounds_overhead;
	double seconds, warmup;
} opt = {.what = "all", .rounds = 10, .rounds_overhead = 3, .seconds = 5, .warmup = 1};

static void usage(void)
{
	fprintf(stderr, "usage: host_failover --url0 URL --url1 URL --admin SOCKET\n"
	                "       [--case all|remove|silent|overhead] [--rounds N (10)]\n"
	                "       [--rounds-overhead N (3)] [--seconds S (5)] [--warmup S (1)]\n"
	                "       [--only plain|mp1|mp2] [--state-dir DIR]\n");
}

static int parse_args(int argc, char **argv)
{
	static const struct option lo[] = {{"url0", required_argument, NULL, '0'},
	                                   {"url1", required_argument, NULL, '1'},
	                                   {"admin", required_argument, NULL, 'a'},
	                                   {"case", required_argument, NULL, 'c'},
	                                   {"rounds", required_argument, NULL, 'r'},
	                                   {"rounds-overhead", required_argument, NULL, 'R'},
	                                   {"seconds", required_argument, NULL, 's'},
	                                   {"warmup", required_argument, NULL, 'w'},
	                                   {"only", required_argument, NULL, 'o'},
	                                   {"state-dir", required_argument, NULL, 'd'},
	                                   {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case '0':
		case '1':
			opt.url[c - '0'] = optarg;
			break;
		case 'a':
			opt.admin = optarg;
			break;
		case 'c':
			opt.what = optarg;
			break;
		case 'r':
			opt.rounds = (unsigned)atoi(optarg);
			break;
		case 'R':
			opt.rounds_overhead = (unsigned)atoi(optarg);
			break;
		case 's':
			opt.seconds = atof(optarg);
			break;
		case 'w':
			opt.warmup = atof(optarg);
			break;
		case 'o':
			opt.only = optarg;
			break;
		case 'd':
			opt.state_dir = optarg;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc || !opt.url[0] || !opt.url[1] || !opt.admin || !opt.rounds ||
	    opt.rounds > MAX_ROUNDS || !opt.rounds_overhead || opt.rounds_overhead > MAX_ROUNDS ||
	    opt.seconds <= 0 || opt.warmup < 0)
		return -1;
	return 0;
}

/* host:port of an iscsi:// URL. */
static int url_portal(const char *url, char *host, size_t cap, unsigned *port)
{
	const char *p = strstr(url, "://");
	if (!p)
		return -1;
	p += 3;
	const char *at = strchr(p, '@'), *slash = strchr(p, '/');
	if (at && (!slash || at < slash))
		p = at + 1;
	const char *colon = strchr(p, ':');
	if (!slash || !colon || colon > slash || (size_t)(colon - p) >= cap)
		return -1;
	memcpy(host, p, (size_t)(colon - p));
	host[colon - p] = 0;
	*port = (unsigned)atoi(colon + 1);
	return 0;
}

/* ---- prkitd's admin socket: one JSON line each way ---- */

static json_object *admin_call(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_object *admin_call(const char *fmt, ...)
{
	char req[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(req, sizeof(req), fmt, ap);
	va_end(ap);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", opt.admin);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "host_failover: admin socket %s: %s\n", opt.admin, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	static char rsp[65536];
	size_t len = strlen(req), got = 0;
	if (write(fd, req, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		got = 0;
	else
		while (got + 1 < sizeof(rsp)) {
			ssize_t n = read(fd, rsp + got, sizeof(rsp) - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
			if (rsp[got - 1] == '\n')
				break;
		}
	close(fd);
	rsp[got] = 0;
	json_object *o = json_tokener_parse(rsp);
	json_object *ok = NULL;
	if (!o || !json_object_object_get_ex(o, "ok", &ok) || !json_object_get_boolean(ok)) {
		fprintf(stderr, "host_failover: admin %s: %s\n", req, got ? rsp : "no answer");
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int admin_simple(const char *fmt, const char *addr, unsigned port)
{
	json_object *o = admin_call(fmt, addr, port);
	json_object_put(o);
	return o ? 0 : -1;
}

/* tpgt and rtpi of each portal, to add it back as it was. */
static struct {
	char addr[64];
	unsigned port, tpgt, rtpi;
} portal[2];

static int learn_portals(void)
{
	json_object *o = admin_call("{\"cmd\": \"portals\"}");
	json_object *arr = NULL;
	if (!o || !json_object_object_get_ex(o, "portals", &arr)) {
		json_object_put(o);
		return -1;
	}
	int found = 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *p = json_object_array_get_idx(arr, i), *v;
		unsigned port =
		    json_object_object_get_ex(p, "port", &v) ? (unsigned)json_object_get_int(v) : 0;
		for (int k = 0; k < 2; k++) {
			if (portal[k].port != port)
				continue;
			json_object_object_get_ex(p, "tpgt", &v);
			portal[k].tpgt = (unsigned)json_object_get_int(v);
			json_object_object_get_ex(p, "rtpi", &v);
			portal[k].rtpi = (unsigned)json_object_get_int(v);
			found++;
		}
	}
	json_object_put(o);
	return found == 2 ? 0 : -1;
}

static int remove_portal(int k)
{
	return admin_simple("{\"cmd\": \"remove-portal\", \"address\": \"%s\", \"port\": %u}",
	                    portal[k].addr, portal[k].port);
}

static int add_portal(int k)
{
	json_object *o = admin_call("{\"cmd\": \"add-portal\", \"address\": \"%s\", \"port\": %u, "
	                            "\"tpgt\": %u, \"rtpi\": %u}",
	                            portal[k].addr, portal[k].port, portal[k].tpgt, portal[k].rtpi);
	json_object_put(o);
	return o ? 0 : -1;
}

/* ---- a relay that can go silent ---- */

#define RELAY_MAX 32

static struct relay {
	int lfd;
	unsigned port;
	struct sockaddr_in up;
	int wake[2];
	atomic_bool silent, stop;
	int a[RELAY_MAX], b[RELAY_MAX];
	int n;
	pthread_t th;
	char buf[1 << 18];
} relay[2]; /* one per path, each its own thread */

static void relay_close_all(struct relay *r)
{
	for (int i = 0; i < r->n; i++) {
		close(r->a[i]);
		close(r->b[i]);
	}
	r->n = 0;
}

static void relay_accept(struct relay *r)
{
	int a = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (a < 0)
		return;
	int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (b < 0 || r->n == RELAY_MAX || connect(b, (struct sockaddr *)&r->up, sizeof(r->up))) {
		close(a);
		if (b >= 0)
			close(b);
		return;
	}
	setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	r->a[r->n] = a;
	r->b[r->n++] = b;
}

/* Copies what is readable on from to to; false when the pair is over. */
static bool relay_copy(struct relay *r, int from, int to)
{
	char *buf = r->buf;
	ssize_t n = recv(from, buf, sizeof(r->buf), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return false;
	for (ssize_t off = 0; n > 0 && off < n;) {
		ssize_t w = send(to, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		off += w;
	}
	return true;
}

static void relay_drop(struct relay *r, int i)
{
	close(r->a[i]);
	close(r->b[i]);
	r->a[i] = r->a[r->n - 1];
	r->b[i] = r->b[r->n - 1];
	r->n--;
}

static void relay_service(struct relay *r, const struct pollfd *pfd, int n_pairs)
{
	for (int i = n_pairs - 1; i >= 0; i--) {
		bool ok = true;
		if (pfd[2 + 2 * i].revents)
			ok = relay_copy(r, r->a[i], r->b[i]);
		if (ok && pfd[3 + 2 * i].revents)
			ok = relay_copy(r, r->b[i], r->a[i]);
		if (!ok)
			relay_drop(r, i);
	}
	if (pfd[1].revents)
		relay_accept(r);
}

static void *relay_main(void *arg)
{
	struct relay *r = arg;
	bool was_silent = false;
	while (!atomic_load(&r->stop)) {
		bool silent = atomic_load(&r->silent);
		if (was_silent && !silent)
			relay_close_all(r); /* the partition heals: old connections are gone */
		was_silent = silent;
		struct pollfd pfd[2 + 2 * RELAY_MAX];
		int n = 1, pairs = silent ? 0 : r->n;
		pfd[0] = (struct pollfd){.fd = r->wake[0], .events = POLLIN};
		if (!silent) {
			pfd[n++] = (struct pollfd){.fd = r->lfd, .events = POLLIN};
			for (int i = 0; i < pairs; i++) {
				pfd[n++] = (struct pollfd){.fd = r->a[i], .events = POLLIN};
				pfd[n++] = (struct pollfd){.fd = r->b[i], .events = POLLIN};
			}
		}
		if (poll(pfd, (nfds_t)n, 200) <= 0)
			continue;
		if (pfd[0].revents) {
			char c[64];
			if (read(r->wake[0], c, sizeof(c)) < 0)
				continue;
		}
		if (!silent)
			relay_service(r, pfd, pairs);
	}
	relay_close_all(r);
	return NULL;
}

static void relay_set_silent(int k, bool on)
{
	atomic_store(&relay[k].silent, on);
	if (write(relay[k].wake[1], "x", 1) < 0)
		perror("host_failover: relay wake");
}

static int relay_start(int k, const char *up_addr, unsigned up_port)
{
	struct relay *r = &relay[k];
	r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	if (r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(r->lfd, 16) ||
	    getsockname(r->lfd, (struct sockaddr *)&sa, &sl) || pipe(r->wake))
		return -1;
	r->port = ntohs(sa.sin_port);
	r->up = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)up_port)};
	if (inet_pton(AF_INET, up_addr, &r->up.sin_addr) != 1)
		return -1;
	return pthread_create(&r->th, NULL, relay_main, r) ? -1 : 0;
}

static void relay_stop(int k)
{
	struct relay *r = &relay[k];
	atomic_store(&r->stop, true);
	if (write(r->wake[1], "x", 1) < 0)
		perror("host_failover: relay wake");
	pthread_join(r->th, NULL);
	close(r->lfd);
	close(r->wake[0]);
	close(r->wake[1]);
}

/* ---- the load through prk_mpdev ---- */

struct mslot {
	struct load *l;
	uint8_t *buf;
	uint64_t t_submit;
};

struct load {
	struct prk_host *h;
	struct prk_mpdev *d;
	bool write, stop;
	bool timing; /* failover rounds: timestamps per I/O (not for the overhead runs) */
	struct mslot slot[QD];
	unsigned outstanding;
	uint64_t units, rng;
	uint32_t io_blocks;
	uint64_t ok, errors, fenced;
	uint64_t per_path[PRK_MPDEV_MAX_PATHS];
	uint64_t last_ok[PRK_MPDEV_MAX_PATHS]; /* time of the last completion per path */
	/* One failover round. */
	bool armed;
	int victim;
	uint64_t t_detect, t_redriven, t_new, max_lat, n_redriven;
};

static void load_issue(struct mslot *s);

static void round_note(struct load *l, const struct prk_io_result *r, const struct mslot *s,
                       uint64_t now)
{
	if (now - s->t_submit > l->max_lat)
		l->max_lat = now - s->t_submit;
	if (r->path == l->victim)
		return;
	if (r->redrives) {
		l->n_redriven++;
		if (!l->t_redriven)
			l->t_redriven = now;
	}
	if (l->t_detect && s->t_submit > l->t_detect && !l->t_new)
		l->t_new = now;
}

static void load_done(struct prk_mpdev *d, const struct prk_io_result *r, void *arg)
{
	(void)d;
	struct mslot *s = arg;
	struct load *l = s->l;
	uint64_t now = l->timing ? now_ns() : 0;
	l->outstanding--;
	if (r->status == PRK_IO_OK) {
		l->ok++;
		if (r->path >= 0 && r->path < PRK_MPDEV_MAX_PATHS) {
			l->per_path[r->path]++;
			l->last_ok[r->path] = now;
		}
		if (l->armed)
			round_note(l, r, s, now);
	} else if (r->status == PRK_IO_FENCED) {
		l->fenced++;
	} else {
		if (!l->errors)
			fprintf(stderr, "host_failover: I/O error: %s (status %d, sense %x/%04x)\n",
			        prk_io_status_name(r->status), r->scsi_status, r->sense_key,
			        r->asc);
		l->errors++;
	}
	if (!l->stop)
		load_issue(s);
}

static void load_issue(struct mslot *s)
{
	struct load *l = s->l;
	uint64_t lba = (rnd(&l->rng) % l->units) * l->io_blocks;
	if (l->timing)
		s->t_submit = now_ns();
	int rc = l->write ? prk_mpdev_write_async(l->d, lba, l->io_blocks, s->buf, load_done, s)
	                  : prk_mpdev_read_async(l->d, lba, l->io_blocks, s->buf, load_done, s);
	if (rc) {
		l->errors++;
		return;
	}
	l->outstanding++;
}

static void on_event(struct prk_mpdev *d, const struct prk_event *ev, void *arg)
{
	(void)d;
	struct load *l = arg;
	if (!l || !l->armed || ev->kind != PRK_EV_PATH_STATE || ev->path != l->victim)
		return;
	if (ev->old_state == PRK_PATH_UP && !l->t_detect)
		l->t_detect = now_ns();
}

static struct prk_mpdev *mpdev_open(struct load *l, const char *const *urls, size_t n,
                                    enum prk_open_mode mode)
{
	struct prk_host_err err = {0};
	struct prk_host_opts ho = {.state_dir = opt.state_dir};
	l->h = prk_host_new(&ho, &err);
	if (!l->h) {
		fprintf(stderr, "host_failover: %s\n", err.msg);
		return NULL;
	}
	struct prk_mpdev_opts mo = {.initiator_name = INITIATOR,
	                            .urls = urls,
	                            .n_urls = n,
	                            .key = KEY,
	                            .on_event = on_event,
	                            .event_arg = l};
	l->d = prk_mpdev_new(l->h, &mo, &err);
	struct prk_open_opts oo = {.mode = mode};
	if (!l->d || prk_mpdev_open(l->d, &oo, &err)) {
		fprintf(stderr, "host_failover: open: %s\n", err.msg);
		return NULL;
	}
	return l->d;
}

static int load_start(struct load *l, bool write)
{
	l->write = write;
	l->stop = false;
	l->rng = now_ns() | 1;
	l->io_blocks = BS / prk_mpdev_block_size(l->d);
	l->units = SPAN_BYTES / BS;
	if (l->units * l->io_blocks > prk_mpdev_blocks(l->d))
		l->units = prk_mpdev_blocks(l->d) / l->io_blocks;
	for (int i = 0; i < QD; i++) {
		l->slot[i].l = l;
		if (!l->slot[i].buf && posix_memalign((void **)&l->slot[i].buf, 4096, BS))
			return -1;
		memset(l->slot[i].buf, 0x5a ^ i, BS);
	}
	for (int i = 0; i < QD; i++)
		load_issue(&l->slot[i]);
	return 0;
}

static void pump(struct load *l, double seconds)
{
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
	while (now_ns() < end)
		prk_host_run(l->h, 10);
}

static void load_finish(struct load *l)
{
	l->stop = true;
	uint64_t end = now_ns() + 30000000000ull;
	while (l->outstanding && now_ns() < end)
		prk_host_run(l->h, 10);
	struct prk_host_err err;
	prk_mpdev_close(l->d, &err);
	prk_mpdev_free(l->d);
	prk_host_free(l->h);
	for (int i = 0; i < QD; i++)
		free(l->slot[i].buf);
	memset(l, 0, sizeof(*l));
}

static enum prk_path_state path_state(struct load *l, int i, bool *holder)
{
	struct prk_path_info pi[PRK_MPDEV_MAX_PATHS];
	prk_mpdev_paths(l->d, pi, PRK_MPDEV_MAX_PATHS);
	if (holder)
		*holder = pi[i].holder;
	return pi[i].state;
}

static unsigned path_inflight(struct load *l, int i)
{
	struct prk_path_info pi[PRK_MPDEV_MAX_PATHS];
	prk_mpdev_paths(l->d, pi, PRK_MPDEV_MAX_PATHS);
	return pi[i].inflight;
}

/* ---- failover rounds ---- */

struct round {
	double failover, detect, redriven, max_lat; /* ms; redriven < 0: none */
	bool holder;
	int victim;
	uint64_t n_redriven;
};

/* The kill runs in its own thread, so that the host's loop keeps running
 * (and timing completions) while prkitd processes the admin request. */
struct killer {
	int victim;
	bool silent;
	int rc;
};

static void *kill_main(void *arg)
{
	struct killer *k = arg;
	if (k->silent)
		relay_set_silent(k->victim, true);
	else
		k->rc = remove_portal(k->victim);
	return NULL;
}

static bool round_over(struct load *l)
{
	return l->t_detect && (l->t_redriven || l->t_new) && path_inflight(l, l->victim) == 0;
}

static int wait_carrying(struct load *l, int i, double limit_s)
{
	uint64_t end = now_ns() + (uint64_t)(limit_s * 1e9);
	while (now_ns() < end) {
		uint64_t before = l->per_path[i];
		pump(l, 0.1);
		if (path_state(l, i, NULL) == PRK_PATH_UP && l->per_path[i] > before)
			return 0;
	}
	return -1;
}

static double ms_since(uint64_t t, uint64_t since)
{
	return t ? (double)(t - since) / 1e6 : -1;
}

static int one_round(struct load *l, int victim, bool silent, struct round *out)
{
	/* A random phase against the path checker's 1 s period. */
	pump(l, 0.5 + (double)(rnd(&l->rng) % 1000) / 1000.0);
	l->victim = victim;
	l->t_detect = l->t_redriven = l->t_new = l->max_lat = l->n_redriven = 0;
	out->victim = victim;
	path_state(l, victim, &out->holder);
	l->armed = true;
	struct killer k = {.victim = victim, .silent = silent};
	pthread_t th;
	pthread_create(&th, NULL, kill_main, &k);
	uint64_t start = now_ns();
	while (!round_over(l) && now_ns() - start < ROUND_LIMIT_NS)
		prk_host_run(l->h, 10);
	pthread_join(th, NULL);
	bool over = round_over(l);
	pump(l, 1.0); /* stalls that follow (moving the reservation) count in max lat */
	l->armed = false;
	uint64_t last = l->last_ok[victim];
	uint64_t first =
	    l->t_new && (!l->t_redriven || l->t_new < l->t_redriven) ? l->t_new : l->t_redriven;
	out->failover = ms_since(first, last);
	out->detect = ms_since(l->t_detect, last);
	out->redriven = ms_since(l->t_redriven, last);
	out->max_lat = (double)l->max_lat / 1e6;
	out->n_redriven = l->n_redriven;
	if (k.rc || !over) {
		fprintf(stderr, "host_failover: round did not complete (kill %d, detect %d)\n",
		        k.rc, l->t_detect != 0);
		return -1;
	}
	return 0;
}

static int restore(struct load *l, int victim, bool silent)
{
	if (silent)
		relay_set_silent(victim, false);
	else if (add_portal(victim))
		return -1;
	if (wait_carrying(l, victim, 30)) {
		fprintf(stderr, "host_failover: path %d did not come back\n", victim);
		return -1;
	}
	return 0;
}

static void print_round(int i, const struct round *r)
{
	printf("  round %2d: path %d%s  failover %8.2f ms  detect %8.2f ms  redriven %8.2f ms"
	       "  max lat %8.2f ms  (%llu re-driven)\n",
	       i + 1, r->victim, r->holder ? " (holder)" : "         ", r->failover, r->detect,
	       r->redriven, r->max_lat, (unsigned long long)r->n_redriven);
}

static void summary(const char *name, struct round *r, unsigned n, bool compare)
{
	double f[MAX_ROUNDS], m[MAX_ROUNDS];
	for (unsigned i = 0; i < n; i++) {
		f[i] = r[i].failover;
		m[i] = r[i].max_lat;
	}
	double med = pct(f, n, 50), p99 = pct(f, n, 99);
	printf("%s: failover median %.2f ms, p99 %.2f ms over %u rounds; "
	       "longest I/O of the round median %.2f ms, p99 %.2f ms\n",
	       name, med, p99, n, pct(m, n, 50), pct(m, n, 99));
	if (!compare)
		return;
	printf("%s: comparison with dm-multipath's default polling_interval (5000 ms, a configured "
	       "checker interval, not a measurement of dm-multipath): median / 5000 ms = %.5f, "
	       "p99 / 5000 ms = %.5f (the interval is %.1fx the median, %.1fx the p99)\n",
	       name, med / DMMP_POLL_MS, p99 / DMMP_POLL_MS, DMMP_POLL_MS / med,
	       DMMP_POLL_MS / p99);
}

/* Even rounds kill a path that does not hold the reservation, odd rounds
 * the one that does (its reservation then moves). */
static int pick_victim(struct load *l, unsigned round)
{
	bool h0;
	path_state(l, 0, &h0);
	return (round % 2 == 1) == h0 ? 0 : 1;
}

static void summaries(const char *name, const struct round *r, unsigned n)
{
	static struct round part[2][MAX_ROUNDS];
	static struct round all[MAX_ROUNDS];
	unsigned k[2] = {0, 0};
	for (unsigned i = 0; i < n; i++) {
		all[i] = r[i];
		part[r[i].holder][k[r[i].holder]++] = r[i];
	}
	summary(name, all, n, true);
	if (!k[0] || !k[1])
		return;
	char sub[64];
	snprintf(sub, sizeof(sub), "%s, path without the reservation", name);
	summary(sub, part[0], k[0], false);
	snprintf(sub, sizeof(sub), "%s, path holding the reservation", name);
	summary(sub, part[1], k[1], false);
}

static int failover_case(bool silent)
{
	static struct load l;
	static char relay_url[2][512];
	const char *urls[2] = {opt.url[0], opt.url[1]};
	for (int k = 0; silent && k < 2; k++) {
		if (relay_start(k, portal[k].addr, portal[k].port)) {
			fprintf(stderr, "host_failover: relay: %s\n", strerror(errno));
			return 2;
		}
		const char *tail = strchr(strstr(opt.url[k], "://") + 3, '/');
		snprintf(relay_url[k], sizeof(relay_url[k]), "iscsi://127.0.0.1:%u%s",
		         relay[k].port, tail);
		urls[k] = relay_url[k];
	}
	l.timing = true;
	if (!mpdev_open(&l, urls, 2, PRK_OPEN_DEFAULT) || load_start(&l, true))
		return 2;
	const char *name = silent ? "silent portal (relay stops forwarding)"
	                          : "remove-portal (connections closed)";
	printf("%s: 2 paths, QD%d random 4 KiB writes, library defaults (checker 1 s, "
	       "I/O timeout 10 s, ABORT TASK timeout 3 s)\n",
	       name, QD);
	pump(&l, opt.warmup);
	static struct round r[MAX_ROUNDS];
	int rc = 0;
	unsigned done = 0;
	for (unsigned i = 0; i < opt.rounds && rc == 0; i++) {
		int victim = pick_victim(&l, i);
		if (one_round(&l, victim, silent, &r[done]) || restore(&l, victim, silent))
			rc = 1;
		else
			print_round((int)done, &r[done]), done++;
	}
	if (l.errors || l.fenced) {
		fprintf(stderr, "host_failover: %llu I/O errors, %llu fenced\n",
		        (unsigned long long)l.errors, (unsigned long long)l.fenced);
		rc = 1;
	}
	if (done)
		summaries(silent ? "silent" : "remove", r, done);
	load_finish(&l);
	for (int k = 0; silent && k < 2; k++)
		relay_stop(k);
	return rc;
}

/* ---- overhead: plain libiscsi ---- */

struct pslot {
	struct plain *p;
	struct scsi_task *task;
	uint8_t *buf;
	struct scsi_iovec iov;
};

struct plain {
	struct iscsi_context *ctx;
	int lun;
	uint32_t block_size;
	uint64_t units, rng, ok, errors;
	unsigned outstanding;
	bool stop;
	struct pslot slot[QD];
};

static void plain_issue(struct pslot *s);

static void plain_done(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	(void)ctx;
	(void)data;
	struct pslot *s = priv;
	struct plain *p = s->p;
	p->outstanding--;
	if (status == SCSI_STATUS_GOOD)
		p->ok++;
	else
		p->errors++;
	scsi_free_scsi_task(s->task);
	s->task = NULL;
	if (!p->stop && status == SCSI_STATUS_GOOD)
		plain_issue(s);
}

static void plain_issue(struct pslot *s)
{
	struct plain *p = s->p;
	uint32_t nb = BS / p->block_size;
	uint64_t lba = (rnd(&p->rng) % p->units) * nb;
	s->task = iscsi_read16_iov_task(p->ctx, p->lun, lba, BS, (int)p->block_size, 0, 0, 0, 0, 0,
	                                plain_done, s, &s->iov, 1);
	if (!s->task) {
		p->errors++;
		return;
	}
	p->outstanding++;
}

static int plain_ready(struct plain *p)
{
	for (int i = 0; i < 10; i++) {
		struct scsi_task *t = iscsi_testunitready_sync(p->ctx, p->lun);
		int st = t ? t->status : -1;
		if (t)
			scsi_free_scsi_task(t);
		if (st == SCSI_STATUS_GOOD)
			break;
	}
	struct scsi_task *t = iscsi_readcapacity16_sync(p->ctx, p->lun);
	struct scsi_readcapacity16 *rc =
	    t && t->status == SCSI_STATUS_GOOD ? scsi_datain_unmarshall(t) : NULL;
	if (!rc) {
		if (t)
			scsi_free_scsi_task(t);
		return -1;
	}
	p->block_size = rc->block_length;
	p->units = SPAN_BYTES / BS;
	if (p->units * BS / p->block_size > rc->returned_lba + 1)
		p->units = (rc->returned_lba + 1) * p->block_size / BS;
	scsi_free_scsi_task(t);
	return 0;
}

static int plain_open(struct plain *p)
{
	struct iscsi_context *tmp = iscsi_create_context(PLAIN_INITIATOR);
	struct iscsi_url *u = tmp ? iscsi_parse_full_url(tmp, opt.url[0]) : NULL;
	p->ctx = iscsi_create_context(PLAIN_INITIATOR);
	if (!u || !p->ctx)
		return -1;
	p->lun = u->lun;
	iscsi_set_targetname(p->ctx, u->target);
	iscsi_set_session_type(p->ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(p->ctx, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_isid_random(p->ctx, (uint32_t)(now_ns() & 0xffffff), 0);
	iscsi_set_noautoreconnect(p->ctx, 1);
	int rc = iscsi_full_connect_sync(p->ctx, u->portal, u->lun);
	if (rc)
		fprintf(stderr, "host_failover: plain login: %s\n", iscsi_get_error(p->ctx));
	iscsi_destroy_url(u);
	iscsi_destroy_context(tmp);
	return rc ? -1 : plain_ready(p);
}

static void plain_poll(struct plain *p, int ms)
{
	struct pollfd pfd = {.fd = iscsi_get_fd(p->ctx),
	                     .events = (short)iscsi_which_events(p->ctx)};
	if (poll(&pfd, 1, ms) > 0 && iscsi_service(p->ctx, pfd.revents) < 0) {
		fprintf(stderr, "host_failover: plain: %s\n", iscsi_get_error(p->ctx));
		p->errors++;
		p->stop = true;
	}
}

/* One overhead run: IOPS, and this process's CPU time per I/O. */
struct result {
	double iops, cpu_us;
};

static struct result measured(uint64_t ops, uint64_t t0, uint64_t c0)
{
	struct result r = {-1, -1};
	if (!ops)
		return r;
	r.iops = (double)ops / ((double)(now_ns() - t0) / 1e9);
	r.cpu_us = (double)(cpu_ns() - c0) / 1e3 / (double)ops;
	return r;
}

/* QD random 4 KiB reads through one plain libiscsi session. */
static struct result run_plain(void)
{
	static struct plain p;
	static const struct result bad = {-1, -1};
	memset(&p, 0, sizeof(p));
	if (plain_open(&p))
		return bad;
	p.rng = now_ns() | 1;
	for (int i = 0; i < QD; i++) {
		p.slot[i].p = &p;
		if (posix_memalign((void **)&p.slot[i].buf, 4096, BS))
			return bad;
		p.slot[i].iov = (struct scsi_iovec){.iov_base = p.slot[i].buf, .iov_len = BS};
		plain_issue(&p.slot[i]);
	}
	uint64_t t0 = now_ns(), warm = t0 + (uint64_t)(opt.warmup * 1e9), ok0 = 0, c0 = 0;
	uint64_t end = warm + (uint64_t)(opt.seconds * 1e9), t;
	bool measuring = false;
	while ((t = now_ns()) < end && !p.stop) {
		if (!measuring && t >= warm) {
			measuring = true;
			ok0 = p.ok;
			warm = t;
			c0 = cpu_ns();
		}
		plain_poll(&p, 10);
	}
	struct result res = measured(p.ok - ok0, warm, c0);
	p.stop = true;
	while (p.outstanding && !p.errors)
		plain_poll(&p, 100);
	iscsi_logout_sync(p.ctx);
	iscsi_destroy_context(p.ctx);
	for (int i = 0; i < QD; i++)
		free(p.slot[i].buf);
	return p.errors ? bad : res;
}

/* The same reads through prk_mpdev with n paths. */
static struct result run_mpdev(size_t n)
{
	static struct load l;
	static const struct result bad = {-1, -1};
	memset(&l, 0, sizeof(l));
	if (!mpdev_open(&l, opt.url, n, PRK_OPEN_NO_RESERVE) || load_start(&l, false))
		return bad;
	pump(&l, opt.warmup);
	uint64_t ok0 = l.ok, t0 = now_ns(), c0 = cpu_ns();
	pump(&l, opt.seconds);
	struct result res = measured(l.ok - ok0, t0, c0);
	bool failed = l.errors || l.fenced;
	load_finish(&l);
	return failed ? bad : res;
}

static struct result run_config(int c)
{
	return c == 0 ? run_plain() : run_mpdev((size_t)c);
}

static const char *const config_name[] = {"plain libiscsi", "prk_mpdev 1 path",
                                          "prk_mpdev 2 paths"};

static int overhead_case(void)
{
	static double iops[3][MAX_ROUNDS], cpu[3][MAX_ROUNDS];
	printf("overhead: 4 KiB random reads, QD%d, %.0f s (+%.0f s warm-up) per run, %u rounds, "
	       "order rotating; cpu = this process's CPU time per I/O\n",
	       QD, opt.seconds, opt.warmup, opt.rounds_overhead);
	for (unsigned r = 0; r < opt.rounds_overhead; r++) {
		for (int k = 0; k < 3; k++) {
			int c = (int)((r + (unsigned)k) % 3);
			struct result res = run_config(c);
			iops[c][r] = res.iops;
			cpu[c][r] = res.cpu_us;
			printf("  round %u: %-18s %9.0f IOPS  cpu %6.2f us/IO\n", r + 1,
			       config_name[c], res.iops, res.cpu_us);
			if (res.iops < 0)
				return 1;
		}
	}
	double med[3], mcpu[3];
	for (int c = 0; c < 3; c++) {
		med[c] = pct(iops[c], opt.rounds_overhead, 50);
		mcpu[c] = pct(cpu[c], opt.rounds_overhead, 50);
	}
	printf("overhead: median IOPS plain %.0f, 1 path %.0f, 2 paths %.0f; median cpu/IO plain "
	       "%.2f us, 1 path %.2f us, 2 paths %.2f us\n",
	       med[0], med[1], med[2], mcpu[0], mcpu[1], mcpu[2]);
	printf("overhead: IOPS ratio 1 path / plain = %.3f (goal >= 0.95: %s), 2 paths / plain = "
	       "%.3f; cpu/IO ratio 1 path / plain = %.2f, 2 paths / plain = %.2f\n",
	       med[1] / med[0], med[1] / med[0] >= 0.95 ? "met" : "NOT met", med[2] / med[0],
	       mcpu[1] / mcpu[0], mcpu[2] / mcpu[0]);
	return 0;
}

static int only_case(void)
{
	int c = !strcmp(opt.only, "plain") ? 0
	        : !strcmp(opt.only, "mp1") ? 1
	        : !strcmp(opt.only, "mp2") ? 2
	                                   : -1;
	if (c < 0) {
		usage();
		return 2;
	}
	struct result res = run_config(c);
	printf("%s: %.0f IOPS, cpu %.2f us/IO\n", config_name[c], res.iops, res.cpu_us);
	return res.iops < 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* libiscsi writes with writev(): a portal that closes its
	 * connections while a WRITE's data goes out would kill us with
	 * SIGPIPE (the host library does not ignore it). */
	signal(SIGPIPE, SIG_IGN);
	if (parse_args(argc, argv)) {
		usage();
		return 2;
	}
	for (int k = 0; k < 2; k++)
		if (url_portal(opt.url[k], portal[k].addr, sizeof(portal[k].addr),
		               &portal[k].port)) {
			fprintf(stderr, "host_failover: --url%d: want iscsi://HOST:PORT/IQN/LUN\n",
			        k);
			return 2;
		}
	if (opt.only)
		return only_case();
	if (learn_portals()) {
		fprintf(stderr, "host_failover: the admin socket does not list both portals\n");
		return 2;
	}
	bool all = !strcmp(opt.what, "all");
	int rc = 0;
	if (all || !strcmp(opt.what, "remove"))
		rc |= failover_case(false);
	if (all || !strcmp(opt.what, "silent"))
		rc |= failover_case(true);
	if (all || !strcmp(opt.what, "overhead"))
		rc |= overhead_case();
	return rc ? (rc & 2 ? 2 : 1) : 0;
}
