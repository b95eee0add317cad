/* prkit fenced: the daemon (fd_daemon.h). One thread, one prk_loop: the
 * Corosync adapter (membership, quorum, messages), a 100 ms tick, SIGTERM
 * and SIGINT through a signalfd, and the status socket. Every decision is
 * the core's (fd_core.h); this file only feeds it inputs with the time,
 * and carries out the actions it queues, in order, with the storage steps
 * (fd_storage.h) and the local-I/O steps (fd_local.h). Those are
 * synchronous and bounded by io_timeout_ms per command; Corosync's
 * messages wait in its socket meanwhile. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cs.h"
#include "errfmt.h"
#include "fd_core.h"
#include "fd_daemon.h"
#include "fd_local.h"
#include "fd_msg.h"
#include "fd_status.h"
#include "fd_storage.h"
#include "fd_watchdog.h"
#include "loop.h"
#include "prkit/host.h"

#define TICK_MS 100
/* After LEAVE is sent, wait this long at most for it to come back
 * (delivered to every member in order) before leaving the group. */
#define LEAVE_WAIT_MS 2000

struct fd {
	const struct prk_fd_config *cfg;
	FILE *log;
	struct prk_loop *loop;
	struct prk_cs *cs;
	struct prk_cs_info info;
	struct prk_fd_core core;
	struct prk_fds *fds;
	struct prk_fdl *fdl;
	struct prk_fdw *wd;
	struct prk_fd_status_srv *status;
	struct prk_fd_check_info check;
	uint64_t fencings, seen_fenced_ms, self_fence_at_ms;
	bool stopping, leave_back, self_fenced, cs_down;
	uint64_t stop_deadline_ms;
	int sfd;
	struct prk_loop_fd *sig_h, *tick_h;
};

static int verbose;

void prk_fd_daemon_verbose(int level)
{
	verbose = level;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t real_minus_mono_ms(void)
{
	struct timespec r;
	clock_gettime(CLOCK_REALTIME, &r);
	int64_t real = (int64_t)r.tv_sec * 1000 + r.tv_nsec / 1000000;
	return real - (int64_t)mono_ms();
}

__attribute__((format(printf, 2, 3))) static void logf_(struct fd *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("prkit fenced: ", d->log);
	vfprintf(d->log, fmt, ap);
	fputc('\n', d->log);
	fflush(d->log);
	va_end(ap);
}

static void nodes_text(const uint16_t *ids, size_t n, char *buf, size_t cap)
{
	size_t off = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n && off < cap; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s%u", i ? "," : "", ids[i]);
}

/* ---- the actions ---- */

static void do_send(struct fd *d, const struct prk_fd_msg *m)
{
	uint8_t buf[PRK_FD_MSG_MAX];
	int n = prk_fd_msg_encode(m, buf, sizeof(buf));
	if (n < 0) {
		logf_(d, "cannot encode a %s message (a bug): not sent",
		      prk_fd_msg_type_name(m->type));
		return;
	}
	if (!d->cs || prk_cs_send(d->cs, buf, (size_t)n))
		logf_(d, "cannot multicast %s: corosync connection down",
		      prk_fd_msg_type_name(m->type));
	else if (verbose)
		logf_(d, "sent %s", prk_fd_msg_type_name(m->type));
}

/* The core logs the round ("fencing node(s) ...", "fenced node(s) ... in
 * X ms") and the join; only what it cannot know, the storage's words on
 * a failure, is logged here. */
static void do_fence(struct fd *d, const struct prk_fd_act *a)
{
	char list[256], err[512];
	nodes_text(a->victims, a->n_victims, list, sizeof(list));
	uint64_t t0 = mono_ms(), new_key = 0;
	int rc =
	    prk_fds_fence(d->fds, d->fdl, a->victims, a->n_victims, &new_key, err, sizeof(err));
	uint64_t now = mono_ms();
	if (rc == 1)
		logf_(d, "fencing node(s) %s: lost the race (our key is gone): %s", list, err);
	else if (rc)
		logf_(d, "fencing node(s) %s failed after %llu ms: %s", list,
		      (unsigned long long)(now - t0), err);
	prk_fdc_fence_done(&d->core, rc == 0, rc == 1, new_key, now);
}

static void do_join(struct fd *d)
{
	char err[512];
	uint64_t key = 0;
	int rc = prk_fds_join(d->fds, d->fdl, &key, err, sizeof(err));
	if (rc)
		logf_(d, "joining: %s", err);
	prk_fdc_join_done(&d->core, rc == 0, key, mono_ms());
}

static void do_adopt(struct fd *d, uint64_t key)
{
	char err[512];
	int rc = prk_fds_adopt(d->fds, d->fdl, key, err, sizeof(err));
	if (rc == 0)
		logf_(d, "adopted the cluster key 0x%016llx", (unsigned long long)key);
	else
		logf_(d, "adopting the cluster key 0x%016llx failed: %s", (unsigned long long)key,
		      err);
	prk_fdc_adopt_done(&d->core, rc == 0, mono_ms());
}

static void do_check(struct fd *d)
{
	bool ok = false;
	size_t with = 0, counted = 0;
	char why[256] = "";
	prk_fds_check(d->fds, &ok, &with, &counted, why, sizeof(why));
	uint64_t now = mono_ms();
	/* A failing check is logged each time; a passing one only when it
	 * follows a failure (once a second would drown the log). */
	if (!ok || verbose || (d->check.valid && !d->check.ok))
		logf_(d, "self-check %s: key on %zu of %zu LUs%s%s", ok ? "passes" : "FAILS", with,
		      counted, why[0] ? ": " : "", why);
	d->check = (struct prk_fd_check_info){
	    .valid = true, .ok = ok, .with_key = with, .counted = counted, .at_ms = now};
	prk_fdc_check_done(&d->core, ok, why, now);
}

static void do_act(struct fd *d, const struct prk_fd_act *a)
{
	switch (a->kind) {
	case PRK_FD_ACT_STALL: {
		size_t n = prk_fdl_stall_all(d->fdl);
		logf_(d, "stalled local I/O (%zu device(s))%s%s", n, a->why[0] ? ": " : "", a->why);
		prk_fdc_stall_done(&d->core, mono_ms());
		break;
	}
	case PRK_FD_ACT_RESUME:
		prk_fdl_resume_all(d->fdl);
		break;
	case PRK_FD_ACT_FAIL: {
		size_t n = prk_fdl_fail_all(d->fdl, a->why);
		d->self_fenced = true;
		d->self_fence_at_ms = mono_ms();
		logf_(d, "failed the local I/O of %zu device(s) as fenced", n);
		break;
	}
	case PRK_FD_ACT_JOIN:
		do_join(d);
		break;
	case PRK_FD_ACT_FENCE:
		do_fence(d, a);
		break;
	case PRK_FD_ACT_ADOPT:
		do_adopt(d, a->key);
		break;
	case PRK_FD_ACT_CHECK:
		do_check(d);
		break;
	case PRK_FD_ACT_SEND:
		do_send(d, &a->msg);
		break;
	case PRK_FD_ACT_WATCHDOG_OFF:
		if (d->wd && !prk_fdw_stopped(d->wd)) {
			prk_fdw_stop(d->wd);
			logf_(d, "watchdog %s no longer fed: the machine reboots in about %u s",
			      d->cfg->watchdog, d->cfg->watchdog_timeout_s);
		}
		break;
	case PRK_FD_ACT_LOG:
		logf_(d, "%s", a->why);
		break;
	}
}

/* Carries out what the core queued (outcomes may queue more), then notes
 * a completed fencing round for the status. */
static void drain(struct fd *d)
{
	struct prk_fd_act a;
	prk_fdc_tick(&d->core, mono_ms());
	while (prk_fdc_next_act(&d->core, &a))
		do_act(d, &a);
	if (d->core.last.valid && d->core.last.fenced_ms != d->seen_fenced_ms) {
		d->seen_fenced_ms = d->core.last.fenced_ms;
		d->fencings++;
	}
}

/* ---- Corosync ---- */

static void cs_deliver(void *arg, uint32_t nodeid, uint32_t pid, const uint8_t *msg, size_t len)
{
	struct fd *d = arg;
	(void)pid;
	struct prk_fd_msg m;
	char err[160];
	if (nodeid == 0 || nodeid > 65535) {
		logf_(d, "message from node id %u (outside 1..65535) ignored", nodeid);
		return;
	}
	if (prk_fd_msg_decode(msg, len, &m, err, sizeof(err))) {
		logf_(d, "bad message from node %u ignored: %s", nodeid, err);
		return;
	}
	if (verbose) {
		char list[256];
		nodes_text(m.victims, m.n_victims, list, sizeof(list));
		logf_(d, "from node %u: %s node %u key 0x%016llx%s%s", nodeid,
		      prk_fd_msg_type_name(m.type), m.nodeid, (unsigned long long)m.key,
		      m.n_victims ? " victims " : "", list);
	}
	if (d->stopping && nodeid == d->core.cfg.nodeid && m.type == PRK_FD_MSG_LEAVE)
		d->leave_back = true;
	prk_fdc_deliver(&d->core, (uint16_t)nodeid, &m, mono_ms());
	drain(d);
	if (d->leave_back)
		prk_loop_stop(d->loop);
}

static void cs_confchg(void *arg, const struct prk_cs_member *mem, size_t n)
{
	struct fd *d = arg;
	uint16_t ids[PRK_FD_MAX_NODES] = {0};
	size_t k = 0;
	for (size_t i = 0; i < n && k < PRK_FD_MAX_NODES; i++)
		if (mem[i].nodeid >= 1 && mem[i].nodeid <= 65535)
			ids[k++] = (uint16_t)mem[i].nodeid;
	char list[512];
	nodes_text(ids, k, list, sizeof(list));
	logf_(d, "membership: %s", k ? list : "(none)");
	d->cs_down = false;
	prk_fdc_confchg(&d->core, ids, k, mono_ms());
	drain(d);
}

static void cs_quorum(void *arg, bool quorate)
{
	struct fd *d = arg;
	logf_(d, "votequorum: %s", quorate ? "quorate" : "NOT quorate");
	prk_fdc_quorum(&d->core, quorate, mono_ms());
	drain(d);
}

static void cs_left(void *arg, uint32_t nodeid, uint32_t pid, bool node_down)
{
	struct fd *d = arg;
	(void)pid;
	logf_(d, "node %u left the group (%s)", nodeid,
	      node_down ? "corosync lost the node" : "its daemon ended or left");
}

/* Corosync gone: no membership news can come, so this node cannot know
 * whether it is still in a quorate partition. It fails closed: treated as
 * a loss of quorum (stall now, self-fence after self_fence_ms). The
 * adapter reconnects by itself and reports fresh quorum and membership. */
static void cs_down(void *arg)
{
	struct fd *d = arg;
	logf_(d, "lost the connection to corosync: treated as a loss of quorum");
	d->cs_down = true;
	prk_fdc_quorum(&d->core, false, mono_ms());
	drain(d);
}

/* ---- the loop ---- */

static void on_tick(void *arg)
{
	struct fd *d = arg;
	prk_fds_pump(d->fds, 0);
	if (prk_fdl_is_stalled(d->fdl) || d->self_fenced)
		prk_fdl_renew(d->fdl);
	if (d->wd && prk_fdw_feed(d->wd))
		logf_(d, "watchdog %s: feeding failed: %s", d->cfg->watchdog, strerror(errno));
	prk_fd_status_tick(d->status);
	drain(d);
	if (d->stopping && mono_ms() >= d->stop_deadline_ms) {
		logf_(d, "our LEAVE did not come back within %d ms: leaving anyway", LEAVE_WAIT_MS);
		prk_loop_stop(d->loop);
	}
}

static void on_signal(void *arg, uint32_t events)
{
	struct fd *d = arg;
	(void)events;
	struct signalfd_siginfo si;
	while (read(d->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
	}
	if (d->stopping)
		return;
	d->stopping = true;
	d->stop_deadline_ms = mono_ms() + LEAVE_WAIT_MS;
	logf_(d, "stopping (signal): leaving the group, the registration is kept");
	prk_fdc_shutdown(&d->core, mono_ms());
	drain(d);
	if (!d->cs || d->cs_down || !d->core.in_group)
		prk_loop_stop(d->loop);
}

static json_object *build_status(void *arg)
{
	struct fd *d = arg;
	static struct prk_fds_lu lus[PRK_FDS_MAX_LUS];
	static struct prk_fdl_proc procs[64];
	struct prk_fd_status_in in = {
	    .cfg = d->cfg,
	    .core = &d->core,
	    .executor = prk_fdc_executor(&d->core),
	    .may_act = prk_fdc_may_act(&d->core),
	    .now_ms = mono_ms(),
	    .real_minus_mono_ms = real_minus_mono_ms(),
	    .lus = lus,
	    .n_lus = prk_fds_lus(d->fds, lus, PRK_FDS_MAX_LUS),
	    .procs = procs,
	    .n_procs = prk_fdl_procs(d->fdl, procs, sizeof(procs) / sizeof(procs[0])),
	    .check = d->check,
	    .fencings = d->fencings,
	    .self_fence_at_ms = d->self_fence_at_ms,
	};
	return prk_fd_status_json(&in);
}

/* ---- start and stop ---- */

/* The core's view of the cluster from corosync's configuration. A
 * two-node cluster (two nodes in the nodelist, whether or not
 * quorum.two_node is set) or one with a quorum device trusts votequorum
 * alone: a strict majority of two cannot survive either node's loss. */
static int core_config(struct fd *d, char *err, size_t errlen)
{
	const struct prk_cs_info *i = &d->info;
	if (i->local_nodeid < 1 || i->local_nodeid > 65535)
		return prk_errf(err, errlen,
		                "corosync's node id of this node is %u; prkit fenced needs "
		                "1..65535 (it is part of the key): set nodeid in corosync.conf",
		                i->local_nodeid);
	bool two_node = i->n_nodes == 2;
	if (two_node && !i->qdevice && d->cfg->n_coordinators == 0 && !d->cfg->two_node_ok)
		return prk_errf(err, errlen,
		                "a two-node cluster without coordinators or a quorum device: on "
		                "a split both nodes stay quorate (two_node) and nothing decides "
		                "which one goes. Configure \"coordinators\" (an odd number of "
		                "small LUs both nodes race for), corosync-qdevice, or set "
		                "\"two_node_ok\": true to accept a race on the data LUs");
	struct prk_fd_core_cfg cc = {
	    .nodeid = (uint16_t)i->local_nodeid,
	    .cluster_key = d->cfg->cluster_key,
	    .n_configured = i->n_nodes,
	    .majority_by_votes = i->qdevice || two_node,
	    .self_fence_ms = d->cfg->self_fence_ms,
	    .check_ms = d->cfg->check_ms,
	    .stall_ack_ms = d->cfg->stall_ack_ms,
	    .retry_ms = 1000,
	};
	prk_fdc_init(&d->core, &cc);
	return 0;
}

static int open_local(struct fd *d, char *err, size_t errlen)
{
	const char *naas[PRK_FDS_MAX_LUS];
	size_t n = prk_fds_count(d->fds);
	for (size_t i = 0; i < n && i < PRK_FDS_MAX_LUS; i++)
		naas[i] = prk_fds_naa(d->fds, i);
	char dir[PRK_FENCE_DIR_MAX + 1];
	if (d->cfg->state_dir[0])
		snprintf(dir, sizeof(dir), "%s", d->cfg->state_dir);
	else
		prk_host_default_state_dir(dir, sizeof(dir));
	d->fdl = prk_fdl_new(dir, naas, n < PRK_FDS_MAX_LUS ? n : PRK_FDS_MAX_LUS,
	                     d->cfg->io_timeout_ms, d->cfg->stall_max_ms);
	if (!d->fdl)
		return prk_errf(err, errlen, "cannot set up the local I/O control (state dir %s)",
		                dir);
	return 0;
}

static int setup(struct fd *d, char *err, size_t errlen)
{
	char e[512];
	d->loop = prk_loop_new();
	if (!d->loop)
		return prk_errf(err, errlen, "cannot create the event loop");
	static const struct prk_cs_ops ops = {.deliver = cs_deliver,
	                                      .confchg = cs_confchg,
	                                      .quorum = cs_quorum,
	                                      .down = cs_down,
	                                      .left = cs_left};
	d->cs = prk_cs_open(d->loop, d->cfg->group, &ops, d, e, sizeof(e));
	if (!d->cs)
		return prk_errf(err, errlen, "corosync: %s", e);
	if (prk_cs_info(d->cs, &d->info))
		return prk_errf(err, errlen, "corosync: cannot read the node list");
	if (core_config(d, err, errlen))
		return -1;
	d->fds = prk_fds_open(d->cfg, d->core.cfg.nodeid, e, sizeof(e));
	if (!d->fds)
		return prk_errf(err, errlen, "storage: %s", e);
	if (open_local(d, err, errlen))
		return -1;
	if (d->cfg->watchdog[0]) {
		char warn[256];
		d->wd = prk_fdw_open(d->cfg->watchdog, d->cfg->watchdog_timeout_s, warn,
		                     sizeof(warn), e, sizeof(e));
		if (!d->wd)
			return prk_errf(err, errlen, "%s", e);
		if (warn[0])
			logf_(d, "%s", warn);
	}
	char path[108];
	prk_fd_socket_path(d->cfg, path, sizeof(path));
	d->status = prk_fd_status_listen(d->loop, path, build_status, d, e, sizeof(e));
	if (!d->status)
		return prk_errf(err, errlen, "%s", e);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sfd >= 0)
		d->sig_h = prk_loop_add_owned(d->loop, d->sfd, EPOLLIN, on_signal, d);
	if (!d->sig_h && d->sfd >= 0)
		close(d->sfd);
	if (!d->sig_h)
		return prk_errf(err, errlen, "signalfd: %s", strerror(errno));
	d->tick_h = prk_loop_timer(d->loop, TICK_MS, on_tick, d);
	if (!d->tick_h)
		return prk_errf(err, errlen, "cannot create the tick timer");
	logf_(d, "node %u of %zu (cluster %s, %s keys, group %s, %zu LU(s)%s%s%s), status on %s",
	      d->core.cfg.nodeid, d->info.n_nodes, d->cfg->cluster_name,
	      d->cfg->cluster_key ? "cluster" : "node", d->cfg->group, prk_fds_count(d->fds),
	      d->info.qdevice ? ", quorum device" : "", d->info.n_nodes == 2 ? ", two-node" : "",
	      d->wd ? ", watchdog" : "", path);
	return 0;
}

static void teardown(struct fd *d)
{
	prk_fd_status_close(d->status);
	if (d->loop) {
		prk_loop_del(d->loop, d->tick_h);
		prk_loop_del(d->loop, d->sig_h);
	}
	if (d->cs)
		prk_cs_close(d->cs);
	/* An orderly exit disarms the watchdog, unless we self-fenced. */
	prk_fdw_close(d->wd, true);
	if (d->fdl)
		prk_fdl_free(d->fdl);
	if (d->fds)
		prk_fds_free(d->fds);
	if (d->loop)
		prk_loop_free(d->loop);
}

int prk_fd_daemon_run(const struct prk_fd_config *cfg, FILE *log)
{
	static struct fd d;
	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	d.log = log ? log : stderr;
	char err[1024];
	d.sfd = -1;
	if (setup(&d, err, sizeof(err))) {
		logf_(&d, "cannot start: %s", err);
		teardown(&d);
		return PRK_FD_EXIT_ERROR;
	}
	int rc = prk_loop_run(d.loop);
	int code = d.core.state == PRK_FD_SELF_FENCED || d.self_fenced ? PRK_FD_EXIT_SELF_FENCED
	                                                               : PRK_FD_EXIT_OK;
	if (rc) {
		logf_(&d, "event loop failed: %s", strerror(errno));
		code = PRK_FD_EXIT_ERROR;
	}
	logf_(&d, "stopped (%s)", code == PRK_FD_EXIT_SELF_FENCED ? "self-fenced" : "orderly");
	teardown(&d);
	return code;
}
