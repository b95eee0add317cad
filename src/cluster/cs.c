/* The Corosync adapter (cs.h): connection, dispatch, reconnection, the send
 * queue and link polling. Corosync's client libraries are synchronous IPC
 * over unix sockets; the loop watches their fds and dispatches with
 * CS_DISPATCH_ALL, which handles what is already there and never waits. */
#include "cs.h"

#include "log.h"
#include "loop.h"

#include <corosync/cfg.h>
#include <corosync/cmap.h>
#include <corosync/corotypes.h>
#include <corosync/cpg.h>
#include <corosync/votequorum.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#define RETRY_MS 10
#define RECONNECT_MS 1000
#define LINK_POLL_MS 250
#define LINKS CFG_MAX_LINKS

struct qmsg {
	struct qmsg *next;
	size_t len;
	uint8_t data[];
};

struct prk_cs {
	struct prk_loop *loop;
	struct prk_cs_ops ops;
	void *arg;
	char group[CPG_MAX_NAME_LENGTH];

	bool up; /* connected and joined */
	cpg_handle_t cpg;
	votequorum_handle_t vq;
	corosync_cfg_handle_t cfg;
	struct prk_loop_fd *cpg_fd, *vq_fd;
	struct prk_loop_fd *retry, *reconnect, *link_poll;

	struct prk_cs_info info; /* nodelist and qdevice: read at connect */
	bool quorum_known;       /* a quorum state was reported since connect */

	/* The last link state seen per configured node (bit l: link l up),
	 * and whether it was polled once since connect. */
	uint8_t link_up[PRK_CS_MAX_NODES];
	uint8_t link_enabled[PRK_CS_MAX_NODES];
	bool links_known;

	struct qmsg *q_head, **q_tail;
	size_t q_bytes;

	int dispatching; /* inside a corosync dispatch: close is deferred */
	bool closing;
};

const char *prk_cs_strerror(int e)
{
	switch (e) {
	case CS_OK:
		return "CS_OK";
	case CS_ERR_LIBRARY:
		return "CS_ERR_LIBRARY";
	case CS_ERR_VERSION:
		return "CS_ERR_VERSION";
	case CS_ERR_INIT:
		return "CS_ERR_INIT";
	case CS_ERR_TIMEOUT:
		return "CS_ERR_TIMEOUT";
	case CS_ERR_TRY_AGAIN:
		return "CS_ERR_TRY_AGAIN";
	case CS_ERR_INVALID_PARAM:
		return "CS_ERR_INVALID_PARAM";
	case CS_ERR_NO_MEMORY:
		return "CS_ERR_NO_MEMORY";
	case CS_ERR_BAD_HANDLE:
		return "CS_ERR_BAD_HANDLE";
	case CS_ERR_ACCESS:
		return "CS_ERR_ACCESS";
	case CS_ERR_NOT_EXIST:
		return "CS_ERR_NOT_EXIST";
	case CS_ERR_NAME_TOO_LONG:
		return "CS_ERR_NAME_TOO_LONG";
	case CS_ERR_EXIST:
		return "CS_ERR_EXIST";
	case CS_ERR_NO_SPACE:
		return "CS_ERR_NO_SPACE";
	case CS_ERR_NOT_SUPPORTED:
		return "CS_ERR_NOT_SUPPORTED";
	case CS_ERR_MESSAGE_ERROR:
		return "CS_ERR_MESSAGE_ERROR";
	case CS_ERR_NO_RESOURCES:
		return "CS_ERR_NO_RESOURCES";
	default:
		return "CS_ERR_OTHER";
	}
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int cmp_member(const void *a, const void *b)
{
	const struct prk_cs_member *x = a, *y = b;
	if (x->nodeid != y->nodeid)
		return x->nodeid < y->nodeid ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static struct prk_cs *from_cpg(cpg_handle_t h)
{
	void *ctx = NULL;
	if (cpg_context_get(h, &ctx) != CS_OK)
		return NULL;
	return ctx;
}

static void on_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid, uint32_t pid,
                       void *msg, size_t len)
{
	struct prk_cs *c = from_cpg(h);
	(void)group;
	if (c && !c->closing && c->ops.deliver)
		c->ops.deliver(c->arg, nodeid, pid, msg, len);
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *group,
                       const struct cpg_address *members, size_t n, const struct cpg_address *left,
                       size_t n_left, const struct cpg_address *joined, size_t n_joined)
{
	struct prk_cs *c = from_cpg(h);
	struct prk_cs_member m[CPG_MEMBERS_MAX];
	(void)group;
	(void)joined;
	if (!c || c->closing)
		return;
	for (size_t i = 0; i < n_left && c->ops.left; i++)
		c->ops.left(c->arg, left[i].nodeid, left[i].pid,
		            left[i].reason == CPG_REASON_NODEDOWN);
	if (n > CPG_MEMBERS_MAX)
		n = CPG_MEMBERS_MAX;
	for (size_t i = 0; i < n; i++) {
		m[i].nodeid = members[i].nodeid;
		m[i].pid = members[i].pid;
	}
	/* One order for every node, whatever order corosync listed them in. */
	qsort(m, n, sizeof(m[0]), cmp_member);
	prk_debug("cluster: group %s: %zu members (%zu left, %zu joined)", c->group, n, n_left,
	          n_joined);
	if (c->ops.confchg)
		c->ops.confchg(c->arg, m, n);
}

static void on_totem(cpg_handle_t h, struct cpg_ring_id ring, uint32_t n, const uint32_t *nodes)
{
	struct prk_cs *c = from_cpg(h);
	(void)ring;
	if (c && !c->closing && c->ops.ring)
		c->ops.ring(c->arg, nodes, n);
}

static void report_quorum(struct prk_cs *c, bool q)
{
	if (c->quorum_known && c->info.quorate == q)
		return;
	c->quorum_known = true;
	c->info.quorate = q;
	if (c->ops.quorum && !c->closing)
		c->ops.quorum(c->arg, q);
}

static void on_quorum(votequorum_handle_t h, uint64_t context, uint32_t quorate, uint32_t n,
                      votequorum_node_t nodes[])
{
	void *ctx = NULL;
	(void)context;
	(void)n;
	(void)nodes;
	if (votequorum_context_get(h, &ctx) != CS_OK || !ctx)
		return;
	report_quorum(ctx, quorate != 0);
}

static void disconnect(struct prk_cs *c);
static void lost(struct prk_cs *c, const char *what, cs_error_t e);

static void finish_close(struct prk_cs *c)
{
	disconnect(c);
	prk_loop_del(c->loop, c->retry);
	prk_loop_del(c->loop, c->reconnect);
	prk_loop_del(c->loop, c->link_poll);
	while (c->q_head) {
		struct qmsg *m = c->q_head;
		c->q_head = m->next;
		free(m);
	}
	free(c);
}

/* Every entry from the loop that may call back into the layer above is
 * bracketed by enter/leave: a prk_cs_close from inside a callback only marks
 * the adapter, and leave frees it once nothing of it is on the stack.
 * leave returns true when c is gone. */
static void enter(struct prk_cs *c)
{
	c->dispatching++;
}

static bool leave(struct prk_cs *c)
{
	if (--c->dispatching == 0 && c->closing) {
		finish_close(c);
		return true;
	}
	return c->closing;
}

/* Both dispatch callbacks: handle what corosync has queued, never wait. A
 * closed socket means corosync is gone. */
static void on_cpg_fd(void *arg, uint32_t events)
{
	struct prk_cs *c = arg;
	cs_error_t e;
	(void)events;
	if (!c->up)
		return;
	enter(c);
	e = cpg_dispatch(c->cpg, CS_DISPATCH_ALL);
	if (e != CS_OK && e != CS_ERR_TRY_AGAIN && !c->closing)
		lost(c, "cpg_dispatch", e);
	leave(c);
}

static void on_vq_fd(void *arg, uint32_t events)
{
	struct prk_cs *c = arg;
	cs_error_t e;
	(void)events;
	if (!c->up)
		return;
	enter(c);
	e = votequorum_dispatch(c->vq, CS_DISPATCH_ALL);
	if (e != CS_OK && e != CS_ERR_TRY_AGAIN && !c->closing)
		lost(c, "votequorum_dispatch", e);
	leave(c);
}

/* The configured nodelist and whether a quorum device is configured, from
 * cmap (read once per connection: a change needs a corosync restart). */
static int read_cmap(struct prk_cs *c, char *err, size_t errlen)
{
	cmap_handle_t h;
	cs_error_t e = cmap_initialize(&h);
	char key[64], *model = NULL;
	if (e != CS_OK) {
		set_err(err, errlen, "cannot connect to corosync's cmap: %s", prk_cs_strerror(e));
		return -1;
	}
	c->info.n_nodes = 0;
	for (unsigned i = 0; i < 1024 && c->info.n_nodes < PRK_CS_MAX_NODES; i++) {
		uint32_t id;
		snprintf(key, sizeof(key), "nodelist.node.%u.nodeid", i);
		if (cmap_get_uint32(h, key, &id) != CS_OK)
			break;
		c->info.nodes[c->info.n_nodes++] = id;
	}
	qsort(c->info.nodes, c->info.n_nodes, sizeof(c->info.nodes[0]), cmp_u32);
	c->info.qdevice = cmap_get_string(h, "quorum.device.model", &model) == CS_OK;
	free(model);
	/* How long a cut-off node may still count the device's vote, and how
	 * long failure detection takes: the cluster layer's departure hold is
	 * built from them. */
	if (cmap_get_uint32(h, "quorum.device.timeout", &c->info.qdevice_timeout_ms) != CS_OK)
		c->info.qdevice_timeout_ms = 10000;
	if (cmap_get_uint32(h, "runtime.config.totem.token", &c->info.token_ms) != CS_OK &&
	    cmap_get_uint32(h, "totem.token", &c->info.token_ms) != CS_OK)
		c->info.token_ms = 3000;
	if (cmap_get_uint32(h, "runtime.config.totem.consensus", &c->info.consensus_ms) != CS_OK &&
	    cmap_get_uint32(h, "totem.consensus", &c->info.consensus_ms) != CS_OK)
		c->info.consensus_ms = c->info.token_ms * 12 / 10;
	cmap_finalize(h);
	if (c->info.n_nodes == 0) {
		set_err(err, errlen, "corosync has no nodelist (nodelist.node.N.nodeid)");
		return -1;
	}
	return 0;
}

static void disconnect(struct prk_cs *c)
{
	if (!c->up)
		return;
	c->up = false;
	prk_loop_del(c->loop, c->cpg_fd);
	prk_loop_del(c->loop, c->vq_fd);
	c->cpg_fd = c->vq_fd = NULL;
	struct cpg_name n;
	n.length = (uint32_t)strlen(c->group);
	memcpy(n.value, c->group, n.length);
	cpg_leave(c->cpg, &n); /* fails harmlessly when corosync is gone */
	cpg_finalize(c->cpg);
	votequorum_finalize(c->vq);
	corosync_cfg_finalize(c->cfg);
}

/* cpg_join answers CS_ERR_TRY_AGAIN while corosync synchronises a new
 * membership (a few ms to a few hundred). Up to JOIN_TRIES x 10 ms are
 * waited here, a bounded stall of the loop; beyond that the attempt fails
 * and the reconnect timer (or the caller of prk_cs_open) tries later. */
#define JOIN_TRIES 20
static cs_error_t join(struct prk_cs *c, const struct cpg_name *name)
{
	cs_error_t e = CS_ERR_TRY_AGAIN;
	for (int i = 0; i < JOIN_TRIES && e == CS_ERR_TRY_AGAIN; i++) {
		if (i)
			nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
		e = cpg_join(c->cpg, name);
	}
	return e;
}

/* One connection attempt: cpg (model v1), votequorum tracking changes, cfg
 * for the local node id and link status, cmap for the nodelist. */
static int connect_all(struct prk_cs *c, char *err, size_t errlen)
{
	cpg_model_v1_data_t model = {
	    .model = CPG_MODEL_V1,
	    .cpg_deliver_fn = on_deliver,
	    .cpg_confchg_fn = on_confchg,
	    .cpg_totem_confchg_fn = on_totem,
	    .flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF,
	};
	votequorum_callbacks_t vcb = {.votequorum_quorum_notify_fn = on_quorum};
	struct cpg_name name;
	unsigned int local = 0;
	int fd_cpg = -1, fd_vq = -1;
	cs_error_t e;

	e = cpg_model_initialize(&c->cpg, CPG_MODEL_V1, (cpg_model_data_t *)&model, c);
	if (e != CS_OK) {
		set_err(err, errlen, "cannot connect to corosync (is it running?): %s",
		        prk_cs_strerror(e));
		return -1;
	}
	e = votequorum_initialize(&c->vq, &vcb);
	if (e != CS_OK) {
		set_err(err, errlen, "cannot connect to corosync's votequorum: %s",
		        prk_cs_strerror(e));
		cpg_finalize(c->cpg);
		return -1;
	}
	e = corosync_cfg_initialize(&c->cfg, NULL);
	if (e != CS_OK) {
		set_err(err, errlen, "cannot connect to corosync's cfg: %s", prk_cs_strerror(e));
		goto fail;
	}
	votequorum_context_set(c->vq, c);
	e = corosync_cfg_local_get(c->cfg, &local);
	if (e != CS_OK) {
		set_err(err, errlen, "corosync_cfg_local_get: %s", prk_cs_strerror(e));
		goto fail_cfg;
	}
	c->info.local_nodeid = local;
	if (read_cmap(c, err, errlen) < 0)
		goto fail_cfg;
	if (cpg_fd_get(c->cpg, &fd_cpg) != CS_OK || votequorum_fd_get(c->vq, &fd_vq) != CS_OK) {
		set_err(err, errlen, "corosync gave no file descriptor");
		goto fail_cfg;
	}
	name.length = (uint32_t)strlen(c->group);
	memcpy(name.value, c->group, name.length);
	e = join(c, &name);
	if (e != CS_OK) {
		set_err(err, errlen, "cannot join CPG group %s: %s", c->group, prk_cs_strerror(e));
		goto fail_cfg;
	}
	/* Current state first (reported once), then every change. */
	e = votequorum_trackstart(c->vq, 0, CS_TRACK_CURRENT | CS_TRACK_CHANGES);
	if (e != CS_OK) {
		set_err(err, errlen, "votequorum_trackstart: %s", prk_cs_strerror(e));
		cpg_leave(c->cpg, &name);
		goto fail_cfg;
	}
	c->cpg_fd = prk_loop_add(c->loop, fd_cpg, EPOLLIN, on_cpg_fd, c);
	c->vq_fd = prk_loop_add(c->loop, fd_vq, EPOLLIN, on_vq_fd, c);
	if (!c->cpg_fd || !c->vq_fd) {
		prk_loop_del(c->loop, c->cpg_fd);
		prk_loop_del(c->loop, c->vq_fd);
		c->cpg_fd = c->vq_fd = NULL;
		set_err(err, errlen, "cannot watch corosync's file descriptors");
		cpg_leave(c->cpg, &name);
		goto fail_cfg;
	}
	c->quorum_known = false;
	c->links_known = false;
	c->up = true;
	return 0;
fail_cfg:
	corosync_cfg_finalize(c->cfg);
fail:
	votequorum_finalize(c->vq);
	cpg_finalize(c->cpg);
	return -1;
}

static void on_reconnect(void *arg)
{
	struct prk_cs *c = arg;
	char err[256];
	if (c->up)
		return;
	if (connect_all(c, err, sizeof(err)) < 0) {
		prk_debug("cluster: reconnect: %s", err);
		return;
	}
	prk_loop_timer_arm(c->reconnect, 0, 0);
	prk_info("cluster: connected to corosync again (node %u, group %s)", c->info.local_nodeid,
	         c->group);
}

/* The connection broke: drop it and what was queued for it (those messages
 * belong to a view that is gone), tell the layer above, retry every
 * second. */
static void lost(struct prk_cs *c, const char *what, cs_error_t e)
{
	size_t dropped = 0;
	if (!c->up)
		return;
	prk_warn("cluster: lost the connection to corosync (%s: %s); reconnecting every %d ms",
	         what, prk_cs_strerror(e), RECONNECT_MS);
	disconnect(c);
	while (c->q_head) {
		struct qmsg *m = c->q_head;
		c->q_head = m->next;
		free(m);
		dropped++;
	}
	c->q_tail = &c->q_head;
	c->q_bytes = 0;
	prk_loop_timer_arm(c->retry, 0, 0);
	if (dropped)
		prk_warn("cluster: %zu queued messages dropped", dropped);
	prk_loop_timer_arm(c->reconnect, RECONNECT_MS, RECONNECT_MS);
	if (c->ops.down)
		c->ops.down(c->arg);
}

static cs_error_t mcast(struct prk_cs *c, const void *msg, size_t len)
{
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	return cpg_mcast_joined(c->cpg, CPG_TYPE_AGREED, &iov, 1);
}

/* Sends from the head of the queue until corosync pushes back again. */
static void on_retry(void *arg)
{
	struct prk_cs *c = arg;
	while (c->up && c->q_head) {
		struct qmsg *m = c->q_head;
		cs_error_t e = mcast(c, m->data, m->len);
		if (e == CS_ERR_TRY_AGAIN)
			return;
		if (e != CS_OK) {
			enter(c);
			lost(c, "cpg_mcast_joined", e);
			leave(c);
			return;
		}
		c->q_head = m->next;
		if (!c->q_head)
			c->q_tail = &c->q_head;
		c->q_bytes -= m->len;
		free(m);
	}
	prk_loop_timer_arm(c->retry, 0, 0);
}

int prk_cs_send(struct prk_cs *c, const void *msg, size_t len)
{
	struct qmsg *m;
	if (!c->up || c->closing)
		return -1;
	if (!c->q_head) {
		cs_error_t e = mcast(c, msg, len);
		if (e == CS_OK)
			return 0;
		if (e != CS_ERR_TRY_AGAIN) {
			prk_warn("cluster: cpg_mcast_joined (%zu bytes): %s", len,
			         prk_cs_strerror(e));
			return -1;
		}
	}
	/* Queued behind the others, so the order of sends is the order of
	 * delivery. */
	if (len > PRK_CS_QUEUE_MAX - c->q_bytes) {
		prk_warn("cluster: send queue full (%zu bytes waiting)", c->q_bytes);
		return -1;
	}
	m = malloc(sizeof(*m) + len);
	if (!m)
		return -1;
	m->next = NULL;
	m->len = len;
	memcpy(m->data, msg, len);
	*c->q_tail = m;
	c->q_tail = &m->next;
	c->q_bytes += len;
	prk_loop_timer_arm(c->retry, RETRY_MS, RETRY_MS);
	return 0;
}

size_t prk_cs_queued(const struct prk_cs *c)
{
	return c->q_bytes;
}

/* knet link status per peer: corosync has no callback for it, so it is
 * polled; only changes are reported. A peer whose status cannot be read
 * (not configured in knet yet) is skipped, not reported down. */
static void on_link_poll(void *arg)
{
	struct prk_cs *c = arg;
	if (!c->up)
		return;
	enter(c);
	for (size_t i = 0; i < c->info.n_nodes && !c->closing; i++) {
		struct corosync_cfg_node_status_v1 st;
		uint8_t up = 0, en = 0;
		uint32_t id = c->info.nodes[i];
		if (id == c->info.local_nodeid)
			continue;
		memset(&st, 0, sizeof(st));
		if (corosync_cfg_node_status_get(c->cfg, id, CFG_NODE_STATUS_V1, &st) != CS_OK)
			continue;
		for (unsigned l = 0; l < LINKS; l++) {
			if (!st.link_status[l].enabled)
				continue;
			en |= (uint8_t)(1u << l);
			if (st.link_status[l].connected)
				up |= (uint8_t)(1u << l);
		}
		/* The first poll reports the state of every enabled link, so that
		 * the layer above knows the links that were up before it started;
		 * later polls report changes. */
		if (!c->links_known) {
			for (unsigned l = 0; l < LINKS && !c->closing; l++)
				if (((en >> l) & 1) && c->ops.link)
					c->ops.link(c->arg, id, l, (up >> l) & 1);
		} else {
			uint8_t changed =
			    (uint8_t)((up ^ c->link_up[i]) & (en | c->link_enabled[i]));
			for (unsigned l = 0; l < LINKS && !c->closing; l++) {
				if (!(changed & (1u << l)))
					continue;
				prk_info("cluster: link %u to node %u %s", l, id,
				         (up >> l) & 1 ? "up" : "down");
				if (c->ops.link)
					c->ops.link(c->arg, id, l, (up >> l) & 1);
			}
		}
		c->link_up[i] = up;
		c->link_enabled[i] = en;
	}
	c->links_known = true;
	leave(c);
}

struct prk_cs *prk_cs_open(struct prk_loop *l, const char *group, const struct prk_cs_ops *ops,
                           void *arg, char *err, size_t errlen)
{
	struct prk_cs *c;
	if (!group || !*group || strlen(group) >= CPG_MAX_NAME_LENGTH) {
		set_err(err, errlen, "CPG group name must be 1..%d bytes", CPG_MAX_NAME_LENGTH - 1);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	c->loop = l;
	if (ops)
		c->ops = *ops;
	c->arg = arg;
	snprintf(c->group, sizeof(c->group), "%s", group);
	c->q_tail = &c->q_head;
	c->retry = prk_loop_timer(l, 0, on_retry, c);
	c->reconnect = prk_loop_timer(l, 0, on_reconnect, c);
	c->link_poll = prk_loop_timer(l, LINK_POLL_MS, on_link_poll, c);
	if (!c->retry || !c->reconnect || !c->link_poll) {
		set_err(err, errlen, "cannot create timers");
		finish_close(c);
		return NULL;
	}
	if (connect_all(c, err, errlen) < 0) {
		finish_close(c);
		return NULL;
	}
	return c;
}

int prk_cs_info(struct prk_cs *c, struct prk_cs_info *out)
{
	struct votequorum_info vi;
	if (!c->up)
		return -1;
	if (votequorum_getinfo(c->vq, c->info.local_nodeid, &vi) == CS_OK)
		c->info.expected_votes = vi.node_expected_votes;
	*out = c->info;
	return 0;
}

void prk_cs_close(struct prk_cs *c)
{
	if (!c || c->closing)
		return;
	c->closing = true;
	if (c->dispatching) {
		/* Finalizing a handle inside its own dispatch is not allowed:
		 * the dispatch callback frees everything when it returns. */
		return;
	}
	finish_close(c);
}
