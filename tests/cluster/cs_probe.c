/* A test client of the Corosync adapter (src/cluster/cs.c): joins a CPG
 * group on prkitd's event loop and writes every event as one line on
 * stdout, stamped with the wall clock in milliseconds (the shell that
 * injects faults stamps them with the same clock):
 *   ready <ms> node=<id> nodes=<n> qdevice=<0|1> expected=<votes>
 *   confchg <ms> n=<k> members=<node>:<pid>,...
 *   quorum <ms> q=<0|1>
 *   link <ms> node=<id> link=<l> up=<0|1>
 *   down <ms>
 *   sent <ms> n=<count> queued_max=<bytes>
 *   m <node> <seq>                 (one delivered message)
 *   bad <ms> ...                   (a message that was not what was sent)
 *   lat own|peer n=<count> p50=<us> p99=<us> max=<us>   (at exit, pings)
 * Usage: cs_probe GROUP [--send N] [--ping N] [--wait-members K] [--size BYTES]
 * With --send, once a confchg shows at least K members (default 1), it
 * multicasts N numbered messages through prk_cs_send, all from one loop
 * turn, so that corosync's back-pressure reaches the adapter's queue.
 * With --ping, it sends N pings one at a time (the next on its own delivery
 * of the last), each carrying its CLOCK_MONOTONIC send time, which every
 * network namespace shares: every probe measures the delivery latency of
 * the pings it sees, its own ("own") and other nodes' ("peer"). It runs
 * until SIGTERM or SIGINT. */
#include "cs.h"
#include "loop.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define PING_LEN 20
#define LAT_MAX 100000

struct probe {
	struct prk_loop *loop;
	struct prk_cs *cs;
	unsigned long to_send;
	unsigned long wait_members;
	size_t size;
	bool sent;
	size_t queued_max;
	unsigned long to_ping, pinged;
	bool ping_started;
	uint32_t local;
	uint32_t *lat[2]; /* microseconds: [0] own pings, [1] peers' */
	size_t n_lat[2];
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A message: sender node (4), sequence number (4), then filler bytes that
 * are a function of both, so a corrupted or truncated delivery shows. */
static void fill(uint8_t *b, size_t size, uint32_t node, uint32_t seq)
{
	memcpy(b, &node, 4);
	memcpy(b + 4, &seq, 4);
	for (size_t i = 8; i < size; i++)
		b[i] = (uint8_t)(node * 31u + seq + i);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A ping: "PING", sender node (4), sequence (4), send time in ns (8). */
static void send_ping(struct probe *p)
{
	uint8_t b[PING_LEN];
	uint32_t seq = (uint32_t)p->pinged;
	uint64_t t = mono_ns();
	memcpy(b, "PING", 4);
	memcpy(b + 4, &p->local, 4);
	memcpy(b + 8, &seq, 4);
	memcpy(b + 12, &t, 8);
	if (prk_cs_send(p->cs, b, sizeof(b)) < 0)
		printf("bad %.3f ping %u not sent\n", now_ms(), seq);
}

static void on_ping(struct probe *p, uint32_t nodeid, const uint8_t *msg)
{
	uint64_t t;
	uint32_t node;
	int own;
	memcpy(&node, msg + 4, 4);
	memcpy(&t, msg + 12, 8);
	own = node == p->local && nodeid == p->local;
	if (p->n_lat[!own] < LAT_MAX)
		p->lat[!own][p->n_lat[!own]++] = (uint32_t)((mono_ns() - t) / 1000);
	if (own && ++p->pinged < p->to_ping)
		send_ping(p);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static void print_lat(struct probe *p)
{
	static const char *const name[2] = {"own", "peer"};
	for (int k = 0; k < 2; k++) {
		size_t n = p->n_lat[k];
		if (!n)
			continue;
		qsort(p->lat[k], n, sizeof(uint32_t), cmp_u32);
		printf("lat %s n=%zu p50=%u p99=%u max=%u\n", name[k], n, p->lat[k][n / 2],
		       p->lat[k][(n * 99) / 100], p->lat[k][n - 1]);
	}
}

static void on_deliver(void *arg, uint32_t nodeid, uint32_t pid, const uint8_t *msg, size_t len)
{
	struct probe *p = arg;
	uint32_t node, seq;
	uint8_t want[4096];
	(void)pid;
	if (len == PING_LEN && !memcmp(msg, "PING", 4)) {
		on_ping(p, nodeid, msg);
		return;
	}
	if (len != p->size) {
		printf("bad %.3f from=%u len=%zu\n", now_ms(), nodeid, len);
		return;
	}
	memcpy(&node, msg, 4);
	memcpy(&seq, msg + 4, 4);
	fill(want, p->size, node, seq);
	if (node != nodeid || memcmp(want, msg, len) != 0) {
		printf("bad %.3f from=%u node=%u seq=%u\n", now_ms(), nodeid, node, seq);
		return;
	}
	printf("m %u %u\n", node, seq);
}

static void send_all(struct probe *p)
{
	struct prk_cs_info info;
	uint8_t b[4096];
	if (prk_cs_info(p->cs, &info) < 0)
		return;
	p->sent = true;
	for (unsigned long i = 0; i < p->to_send; i++) {
		fill(b, p->size, info.local_nodeid, (uint32_t)i);
		if (prk_cs_send(p->cs, b, p->size) < 0) {
			printf("bad %.3f send %lu failed\n", now_ms(), i);
			break;
		}
		if (prk_cs_queued(p->cs) > p->queued_max)
			p->queued_max = prk_cs_queued(p->cs);
	}
	printf("sent %.3f n=%lu queued_max=%zu\n", now_ms(), p->to_send, p->queued_max);
}

static void on_confchg(void *arg, const struct prk_cs_member *m, size_t n)
{
	struct probe *p = arg;
	printf("confchg %.3f n=%zu members=", now_ms(), n);
	for (size_t i = 0; i < n; i++)
		printf("%s%u:%u", i ? "," : "", m[i].nodeid, m[i].pid);
	printf("\n");
	if (p->to_send && !p->sent && n >= p->wait_members)
		send_all(p);
	if (p->to_ping && !p->ping_started && n >= p->wait_members) {
		p->ping_started = true;
		send_ping(p);
	}
}

static void on_quorum(void *arg, bool q)
{
	(void)arg;
	printf("quorum %.3f q=%d\n", now_ms(), q);
}

static void on_link(void *arg, uint32_t nodeid, unsigned link_no, bool up)
{
	(void)arg;
	printf("link %.3f node=%u link=%u up=%d\n", now_ms(), nodeid, link_no, up);
}

static void on_down(void *arg)
{
	(void)arg;
	printf("down %.3f\n", now_ms());
}

static void on_signal(void *arg, uint32_t events)
{
	struct probe *p = arg;
	(void)events;
	prk_loop_stop(p->loop);
}

int main(int argc, char **argv)
{
	struct probe p = {.wait_members = 1, .size = 64};
	struct prk_cs_ops ops = {on_deliver, on_confchg, on_quorum, on_link, on_down, NULL, NULL};
	struct prk_cs_info info;
	char err[256];
	sigset_t ss;
	int sfd;
	struct prk_loop_fd *sig;

	if (argc < 2) {
		fprintf(stderr, "usage: cs_probe GROUP [--send N] [--ping N] [--wait-members K] "
		                "[--size BYTES]\n");
		return 2;
	}
	for (int i = 2; i < argc; i += 2) { /* option, value */
		if (i + 1 >= argc) {
			fprintf(stderr, "cs_probe: %s needs a value\n", argv[i]);
			return 2;
		}
		unsigned long v = strtoul(argv[i + 1], NULL, 10);
		if (!strcmp(argv[i], "--send"))
			p.to_send = v;
		else if (!strcmp(argv[i], "--ping"))
			p.to_ping = v;
		else if (!strcmp(argv[i], "--wait-members"))
			p.wait_members = v;
		else if (!strcmp(argv[i], "--size") && v >= 8 && v <= 4096)
			p.size = v;
		else {
			fprintf(stderr, "cs_probe: bad option %s %s\n", argv[i], argv[i + 1]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	p.lat[0] = calloc(LAT_MAX, sizeof(uint32_t));
	p.lat[1] = calloc(LAT_MAX, sizeof(uint32_t));
	if (!p.lat[0] || !p.lat[1])
		return 1;
	p.loop = prk_loop_new();
	if (!p.loop)
		return 1;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return 1;
	sig = prk_loop_add_owned(p.loop, sfd, EPOLLIN, on_signal, &p);
	if (!sig)
		return 1;
	p.cs = prk_cs_open(p.loop, argv[1], &ops, &p, err, sizeof(err));
	if (!p.cs) {
		fprintf(stderr, "cs_probe: %s\n", err);
		printf("error %.3f %s\n", now_ms(), err);
		return 1;
	}
	if (prk_cs_info(p.cs, &info) == 0) {
		p.local = info.local_nodeid;
		printf("ready %.3f node=%u nodes=%zu qdevice=%d expected=%u\n", now_ms(),
		       info.local_nodeid, info.n_nodes, info.qdevice, info.expected_votes);
	}
	prk_loop_run(p.loop);
	print_lat(&p);
	prk_cs_close(p.cs);
	prk_loop_del(p.loop, sig); /* the loop frees only deleted handles */
	free(p.lat[0]);
	free(p.lat[1]);
	prk_loop_free(p.loop);
	return 0;
}
