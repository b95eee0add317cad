/* Fencing time: a victim node writes at QD32 over two paths (its own host
 * library instance, in a thread); a survivor runs the `off` action
 * in-process (prk_fence_run: a fresh host, logins, READ KEYS, PREEMPT AND
 * ABORT, verification, as fence_prkit does minus the exec). Reported per
 * round:
 *   fence  = start of off -> the last failed completion of a victim write
 *            sent before off returned (aborted by PREEMPT AND ABORT, or
 *            its retry fenced) — the issue's "last command aborted";
 *   off    = start of off -> off returned.
 * Rounds repeat with the victim rejoining under a new incarnation (node
 * mode) or joining the new generation (cluster mode: off changes the
 * survivor's key on its nexuses first, then preempts the old one).
 *
 * usage: fence_time URL0 URL1 STATE_DIR [ROUNDS [node|cluster]]
 * (bench/host_bench.sh runs it in both modes) */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fence_ops.h"
#include "fence_opts.h"
#include "incarnation.h"
#include "prkit/host.h"

#define QD 32

static const char *url0, *url1, *state;
static bool cluster_mode;

struct victim {
	struct prk_host *h;
	struct prk_mpdev *d;
	uint8_t buf[QD][4096];
	uint64_t issued_ms[QD];
	int outstanding;
	atomic_bool stop;
	long fenced;
	/* every completion: when its write was issued, when it ended, ok? */
	size_t n_log;
	struct {
		uint64_t issued, done;
		bool ok;
	} log[1 << 16];
};

static void v_issue(struct victim *v, int slot);

struct slot {
	struct victim *v;
	int i;
} slots[QD];

static void v_done(struct prk_mpdev *d, const struct prk_io_result *r, void *arg)
{
	(void)d;
	struct slot *s = arg;
	struct victim *v = s->v;
	v->outstanding--;
	if (v->n_log < sizeof(v->log) / sizeof(v->log[0])) {
		v->log[v->n_log].issued = v->issued_ms[s->i];
		v->log[v->n_log].done = prk_host_now_ms();
		v->log[v->n_log].ok = r->status == PRK_IO_OK;
		v->n_log++;
	}
	if (r->status == PRK_IO_FENCED)
		v->fenced++;
	if (!atomic_load(&v->stop) && r->status == PRK_IO_OK)
		v_issue(v, s->i);
}

static void v_issue(struct victim *v, int i)
{
	slots[i].v = v;
	slots[i].i = i;
	v->issued_ms[i] = prk_host_now_ms();
	if (prk_mpdev_write_async(v->d, (uint64_t)i * 8, 8, v->buf[i], v_done, &slots[i]) == 0)
		v->outstanding++;
}

static void *v_thread(void *arg)
{
	struct victim *v = arg;
	for (int i = 0; i < QD; i++)
		v_issue(v, i);
	while (!atomic_load(&v->stop) || v->outstanding)
		prk_host_run(v->h, 2);
	return NULL;
}

static void opts(struct prk_fence_opts *o, const char *me, int action, const char *victim)
{
	prk_fence_opts_init(o);
	o->action = action;
	o->n_devices = 1;
	o->devices[0].n_paths = 2;
	snprintf(o->devices[0].paths[0], sizeof(o->devices[0].paths[0]), "%s", url0);
	snprintf(o->devices[0].paths[1], sizeof(o->devices[0].paths[1]), "%s", url1);
	snprintf(o->local_node, sizeof(o->local_node), "%s", me);
	snprintf(o->initiator, sizeof(o->initiator), "iqn.2026-11.io.prkit.bench:%s", me);
	snprintf(o->state_dir, sizeof(o->state_dir), "%s/%s", state, me);
	o->n_hosts = 2;
	snprintf(o->hosts[0].name, sizeof(o->hosts[0].name), "n1");
	o->hosts[0].id = 1;
	snprintf(o->hosts[1].name, sizeof(o->hosts[1].name), "n2");
	o->hosts[1].id = 2;
	if (victim)
		snprintf(o->nodename, sizeof(o->nodename), "%s", victim);
	if (cluster_mode) {
		/* its own cluster name: the node-mode run's keys on the same LU
		 * belong to another cluster and are left alone */
		o->key_mode = PRK_FENCE_KEY_CLUSTER;
		snprintf(o->cluster_name, sizeof(o->cluster_name), "bench-cluster");
	}
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 4 || (argc > 5 && strcmp(argv[5], "node") && strcmp(argv[5], "cluster"))) {
		fprintf(stderr, "usage: fence_time URL0 URL1 STATE_DIR [ROUNDS [node|cluster]]\n");
		return 2;
	}
	cluster_mode = argc > 5 && strcmp(argv[5], "cluster") == 0;
	url0 = argv[1];
	url1 = argv[2];
	state = argv[3];
	int rounds = argc > 4 ? atoi(argv[4]) : 20;
	signal(SIGPIPE, SIG_IGN);
	static struct prk_fence_opts o;
	FILE *null = fopen("/dev/null", "w");
	opts(&o, "n1", PRK_FENCE_ON, NULL);
	if (prk_fence_run(&o, null, stderr))
		return 1;
	uint64_t fence_ms[256], off_ms[256];
	int n = 0;
	for (int r = 0; r < rounds && r < 256; r++) {
		opts(&o, "n2", PRK_FENCE_ON, NULL);
		if (prk_fence_run(&o, null, stderr))
			return 1;
		/* The victim's key: the incarnation `on` just took, or the
		 * cluster key it joined. */
		static struct victim v;
		memset(&v, 0, sizeof(v));
		uint64_t key = 0x84d4000200000000ULL | (uint64_t)(r + 1);
		if (cluster_mode &&
		    prk_fence_cluster_key_load(o.state_dir, o.cluster_name, &key, NULL, 0)) {
			fprintf(stderr, "fence_time: the victim's cluster key cannot be read\n");
			return 1;
		}
		char dir[600];
		snprintf(dir, sizeof(dir), "%s/n2-io", state);
		struct prk_host_opts ho = {.state_dir = dir};
		v.h = prk_host_new(&ho, NULL);
		const char *urls[] = {url0, url1};
		struct prk_mpdev_opts mo = {.initiator_name = "iqn.2026-11.io.prkit.bench:n2",
		                            .urls = urls,
		                            .n_urls = 2,
		                            .key = key};
		struct prk_host_err e;
		v.d = prk_mpdev_new(v.h, &mo, &e);
		struct prk_open_opts oo = {.mode = PRK_OPEN_CLUSTER};
		if (!v.d || prk_mpdev_open(v.d, &oo, &e)) {
			fprintf(stderr, "fence_time: victim open: %s\n", e.msg);
			return 1;
		}
		pthread_t th;
		pthread_create(&th, NULL, v_thread, &v);
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
		opts(&o, "n1", PRK_FENCE_OFF, "n2");
		uint64_t t0 = prk_host_now_ms();
		int rc = prk_fence_run(&o, null, stderr);
		uint64_t t1 = prk_host_now_ms();
		nanosleep(&ts, NULL);
		atomic_store(&v.stop, true);
		pthread_join(th, NULL);
		if (rc) {
			fprintf(stderr, "fence_time: off failed in round %d\n", r);
			return 1;
		}
		/* The last victim write sent before off returned that did not
		 * succeed: it was aborted by the PREEMPT AND ABORT (or met the
		 * conflict right after). */
		uint64_t last = t0;
		for (size_t k = 0; k < v.n_log; k++)
			if (!v.log[k].ok && v.log[k].issued <= t1 && v.log[k].done > last)
				last = v.log[k].done;
		fence_ms[n] = last - t0;
		off_ms[n] = t1 - t0;
		n++;
		prk_mpdev_free(v.d);
		prk_host_free(v.h);
	}
	qsort(fence_ms, (size_t)n, sizeof(uint64_t), cmp);
	qsort(off_ms, (size_t)n, sizeof(uint64_t), cmp);
	int p99 = (n * 99 + 99) / 100 - 1;
	printf("fencing time, %s mode, over %d rounds (victim at QD%d over 2 paths, loopback):\n",
	       cluster_mode ? "cluster-key" : "node-key", n, QD);
	printf("  start of off -> victim's last write aborted: median %llu ms, p99 %llu "
	       "ms, max %llu ms (goal < 50 ms)\n",
	       (unsigned long long)fence_ms[n / 2], (unsigned long long)fence_ms[p99],
	       (unsigned long long)fence_ms[n - 1]);
	printf("  start of off -> off returned:             median %llu ms, p99 %llu ms\n",
	       (unsigned long long)off_ms[n / 2], (unsigned long long)off_ms[p99]);
	fclose(null);
	return 0;
}
