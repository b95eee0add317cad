/* The cluster's message codec (see cl_msg.h). */
#include "cl_msg.h"

#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "errfmt.h"

static const uint8_t magic[4] = {'P', 'R', 'K', 'C'};

const char *prk_cl_msg_type_name(unsigned type)
{
	static const char *const names[] = {
	    [PRK_CL_HELLO] = "HELLO",
	    [PRK_CL_SNAPSHOT] = "SNAPSHOT",
	    [PRK_CL_SYNC_DONE] = "SYNC_DONE",
	    [PRK_CL_EVENT] = "EVENT",
	    [PRK_CL_ACK] = "ACK",
	    [PRK_CL_HEARTBEAT] = "HEARTBEAT",
	    [PRK_CL_UA_POP] = "UA_POP",
	    [PRK_CL_NEXUS_UP] = "NEXUS_UP",
	    [PRK_CL_SYNC_REQ] = "SYNC_REQ",
	};
	return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "?";
}

bool prk_cl_view_eq(const struct prk_cl_view *a, const struct prk_cl_view *b)
{
	if (a->n != b->n)
		return false;
	for (uint32_t i = 0; i < a->n; i++)
		if (a->m[i].node != b->m[i].node || a->m[i].pid != b->m[i].pid)
			return false;
	return true;
}

int prk_cl_view_find(const struct prk_cl_view *v, uint32_t node)
{
	for (uint32_t i = 0; i < v->n; i++)
		if (v->m[i].node == node)
			return (int)i;
	return -1;
}

/* ---- writing: a growing buffer that remembers running out of memory ---- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool bad;
};

static uint8_t *room(struct wbuf *w, size_t n)
{
	if (w->bad)
		return NULL;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *p = realloc(w->p, cap);
		if (!p) {
			w->bad = true;
			return NULL;
		}
		w->p = p;
		w->cap = cap;
	}
	uint8_t *at = w->p + w->len;
	w->len += n;
	return at;
}

static void w8(struct wbuf *w, uint8_t v)
{
	uint8_t *p = room(w, 1);
	if (p)
		*p = v;
}
static void w16(struct wbuf *w, uint16_t v)
{
	uint8_t *p = room(w, 2);
	if (p)
		prk_put_be16(p, v);
}
static void w32(struct wbuf *w, uint32_t v)
{
	uint8_t *p = room(w, 4);
	if (p)
		prk_put_be32(p, v);
}
static void w64(struct wbuf *w, uint64_t v)
{
	uint8_t *p = room(w, 8);
	if (p)
		prk_put_be64(p, v);
}
static void wbytes(struct wbuf *w, const void *b, size_t n)
{
	uint8_t *p = room(w, n);
	if (p && n)
		memcpy(p, b, n);
}

static void header(struct wbuf *w, uint8_t type, uint32_t sender)
{
	wbytes(w, magic, 4);
	w8(w, PRK_CL_MSG_VERSION);
	w8(w, type);
	w16(w, 0);
	w32(w, sender);
}

static size_t finish(struct wbuf *w, uint8_t **out)
{
	if (w->bad) {
		free(w->p);
		*out = NULL;
		return 0;
	}
	*out = w->p;
	return w->len;
}

static void wview(struct wbuf *w, const struct prk_cl_view *v)
{
	w32(w, v->n);
	for (uint32_t i = 0; i < v->n && i < PRK_CL_MAX_NODES; i++) {
		w32(w, v->m[i].node);
		w32(w, v->m[i].pid);
	}
}

static void wport(struct wbuf *w, const struct prk_cl_port *p)
{
	w32(w, p->node);
	w16(w, p->tpg);
	w16(w, p->rtpi);
	w8(w, p->state);
}

static void wnexus(struct wbuf *w, const struct prk_cl_nexus *nx)
{
	size_t n = strnlen(nx->name, PRK_CL_NAME_MAX);
	w16(w, (uint16_t)n);
	wbytes(w, nx->name, n);
	w64(w, nx->isid);
	w16(w, nx->rtpi);
}

static void wid(struct wbuf *w, const struct prk_cl_event_id *id)
{
	w32(w, id->node);
	w64(w, id->n);
}

size_t prk_cl_enc_hello(uint32_t sender, const struct prk_cl_hello *h, uint8_t **out)
{
	struct wbuf w = {0};
	if (h->view.n > PRK_CL_MAX_NODES || h->n_lus > PRK_CL_MAX_LUS ||
	    h->n_ports > PRK_CL_MAX_PORTS)
		return finish(&(struct wbuf){.bad = true}, out);
	header(&w, PRK_CL_HELLO, sender);
	wview(&w, &h->view);
	w32(&w, h->pid);
	w8(&w, (uint8_t)((h->synced ? 1 : 0) | (h->quorate ? 2 : 0)));
	w64(&w, h->epoch);
	w32(&w, h->n_lus);
	for (uint32_t i = 0; i < h->n_lus; i++) {
		const struct prk_cl_lu_def *d = &h->lus[i];
		size_t tl = strnlen(d->target, PRK_CL_NAME_MAX);
		wbytes(&w, d->naa, 16);
		w16(&w, (uint16_t)tl);
		wbytes(&w, d->target, tl);
		w16(&w, d->lun);
		w32(&w, d->block_size);
		w64(&w, d->blocks);
		w32(&w, d->flags);
		w64(&w, d->epoch);
		w64(&w, d->seq);
	}
	w32(&w, h->n_ports);
	for (uint32_t i = 0; i < h->n_ports; i++)
		wport(&w, &h->ports[i]);
	return finish(&w, out);
}

size_t prk_cl_enc_snapshot(uint32_t sender, const struct prk_cl_snapshot *s, uint8_t **out)
{
	struct wbuf w = {0};
	if (s->blob_len > PRK_CL_MAX_BLOB || s->view.n > PRK_CL_MAX_NODES)
		return finish(&(struct wbuf){.bad = true}, out);
	header(&w, PRK_CL_SNAPSHOT, sender);
	wview(&w, &s->view);
	wbytes(&w, s->naa, 16);
	w64(&w, s->epoch);
	w64(&w, s->seq);
	w32(&w, s->blob_len);
	wbytes(&w, s->blob, s->blob_len);
	return finish(&w, out);
}

size_t prk_cl_enc_sync_done(uint32_t sender, const struct prk_cl_sync_done *d, uint8_t **out)
{
	struct wbuf w = {0};
	if (d->view.n > PRK_CL_MAX_NODES || d->n_ports > PRK_CL_MAX_PORTS * 4 ||
	    d->n_pending > PRK_CL_MAX_PENDING)
		return finish(&(struct wbuf){.bad = true}, out);
	header(&w, PRK_CL_SYNC_DONE, sender);
	wview(&w, &d->view);
	w64(&w, d->epoch);
	w32(&w, d->n_ports);
	for (uint32_t i = 0; i < d->n_ports; i++)
		wport(&w, &d->ports[i]);
	w32(&w, d->n_pending);
	for (uint32_t i = 0; i < d->n_pending; i++) {
		const struct prk_cl_pending_wire *p = &d->pending[i];
		if (p->n_waiting > PRK_CL_MAX_NODES)
			w.bad = true;
		wid(&w, &p->id);
		w32(&w, p->n_waiting);
		for (uint32_t k = 0; k < p->n_waiting && k < PRK_CL_MAX_NODES; k++)
			w32(&w, p->waiting[k]);
	}
	return finish(&w, out);
}

size_t prk_cl_enc_event(uint32_t sender, const struct prk_cl_event *e, uint8_t **out)
{
	struct wbuf w = {0};
	if (e->cdb_len > 16 || e->params_len > PRK_CL_MAX_PARAMS)
		return finish(&(struct wbuf){.bad = true}, out);
	header(&w, PRK_CL_EVENT, sender);
	wid(&w, &e->id);
	wbytes(&w, e->naa, 16);
	w8(&w, e->kind);
	wnexus(&w, &e->from);
	w8(&w, e->cdb_len);
	wbytes(&w, e->cdb, e->cdb_len);
	w32(&w, e->params_len);
	wbytes(&w, e->params, e->params_len);
	return finish(&w, out);
}

size_t prk_cl_enc_ack(uint32_t sender, const struct prk_cl_ack *a, uint8_t **out)
{
	struct wbuf w = {0};
	header(&w, PRK_CL_ACK, sender);
	wid(&w, &a->id);
	w8(&w, a->status);
	w8(&w, a->sense_key);
	w16(&w, a->asc);
	w8(&w, a->persist_failed ? 1 : 0);
	return finish(&w, out);
}

size_t prk_cl_enc_heartbeat(uint32_t sender, uint64_t sent_ns, uint8_t **out)
{
	struct wbuf w = {0};
	header(&w, PRK_CL_HEARTBEAT, sender);
	w64(&w, sent_ns);
	return finish(&w, out);
}

size_t prk_cl_enc_ua(uint32_t sender, uint8_t type, const struct prk_cl_ua *u, uint8_t **out)
{
	struct wbuf w = {0};
	if (type != PRK_CL_UA_POP && type != PRK_CL_NEXUS_UP)
		return finish(&(struct wbuf){.bad = true}, out);
	header(&w, type, sender);
	wbytes(&w, u->naa, 16);
	wnexus(&w, &u->nx);
	if (type == PRK_CL_UA_POP)
		w16(&w, u->asc);
	return finish(&w, out);
}

size_t prk_cl_enc_sync_req(uint32_t sender, const struct prk_cl_view *v, uint8_t **out)
{
	struct wbuf w = {0};
	header(&w, PRK_CL_SYNC_REQ, sender);
	wview(&w, v);
	return finish(&w, out);
}

/* ---- reading: a cursor that fails once and names the field ---- */

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	const char *bad; /* the first field that did not fit or was invalid */
	size_t bad_off;
};

static const uint8_t *take(struct rbuf *r, size_t n, const char *field)
{
	if (r->bad)
		return NULL;
	if (n > r->len - r->off) {
		r->bad = field;
		r->bad_off = r->off;
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

static void fail(struct rbuf *r, const char *field)
{
	if (!r->bad) {
		r->bad = field;
		r->bad_off = r->off;
	}
}

static uint8_t r8(struct rbuf *r, const char *f)
{
	const uint8_t *p = take(r, 1, f);
	return p ? *p : 0;
}
static uint16_t r16(struct rbuf *r, const char *f)
{
	const uint8_t *p = take(r, 2, f);
	return p ? prk_get_be16(p) : 0;
}
static uint32_t r32(struct rbuf *r, const char *f)
{
	const uint8_t *p = take(r, 4, f);
	return p ? prk_get_be32(p) : 0;
}
static uint64_t r64(struct rbuf *r, const char *f)
{
	const uint8_t *p = take(r, 8, f);
	return p ? prk_get_be64(p) : 0;
}
static void rbytes(struct rbuf *r, void *dst, size_t n, const char *f)
{
	const uint8_t *p = take(r, n, f);
	if (p && n)
		memcpy(dst, p, n);
}

/* A count that must be <= max and whose items (at least `each` bytes)
 * must fit in what is left: so a forged count cannot make us allocate. */
static uint32_t rcount(struct rbuf *r, uint32_t max, size_t each, const char *f)
{
	uint32_t n = r32(r, f);
	if (r->bad)
		return 0;
	if (n > max || (size_t)n * each > r->len - r->off) {
		fail(r, f);
		return 0;
	}
	return n;
}

static void rview(struct rbuf *r, struct prk_cl_view *v)
{
	v->n = rcount(r, PRK_CL_MAX_NODES, 8, "view.n");
	for (uint32_t i = 0; i < v->n; i++) {
		v->m[i].node = r32(r, "view.node");
		v->m[i].pid = r32(r, "view.pid");
		if (i && !r->bad &&
		    (v->m[i].node < v->m[i - 1].node ||
		     (v->m[i].node == v->m[i - 1].node && v->m[i].pid <= v->m[i - 1].pid)))
			fail(r, "view (not sorted)");
	}
}

static void rport(struct rbuf *r, struct prk_cl_port *p)
{
	p->node = r32(r, "port.node");
	p->tpg = r16(r, "port.tpg");
	p->rtpi = r16(r, "port.rtpi");
	p->state = r8(r, "port.state");
	if (!r->bad && (p->rtpi == 0 || p->state > 3))
		fail(r, "port (rtpi 0 or bad ALUA state)");
}

/* An iSCSI name as text: printable ASCII, no NUL, at most 223 bytes. */
static void rname(struct rbuf *r, char *dst, const char *f)
{
	uint16_t n = r16(r, f);
	if (!r->bad && (n == 0 || n > PRK_CL_NAME_MAX)) {
		fail(r, f);
		return;
	}
	const uint8_t *p = take(r, n, f);
	if (!p)
		return;
	for (uint16_t i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e) {
			fail(r, f);
			return;
		}
	memcpy(dst, p, n);
	dst[n] = 0;
}

static void rnexus(struct rbuf *r, struct prk_cl_nexus *nx)
{
	rname(r, nx->name, "nexus.name");
	nx->isid = r64(r, "nexus.isid");
	nx->rtpi = r16(r, "nexus.rtpi");
	if (!r->bad && nx->isid >> 48)
		fail(r, "nexus.isid");
}

static void rid(struct rbuf *r, struct prk_cl_event_id *id)
{
	id->node = r32(r, "id.node");
	id->n = r64(r, "id.n");
}

static void dec_hello(struct rbuf *r, struct prk_cl_hello *h)
{
	rview(r, &h->view);
	h->pid = r32(r, "hello.pid");
	uint8_t fl = r8(r, "hello.flags");
	if (!r->bad && (fl & ~3u))
		fail(r, "hello.flags");
	h->synced = fl & 1;
	h->quorate = fl & 2;
	h->epoch = r64(r, "hello.epoch");
	/* each LU: 16 + 2 + 1 + 2 + 4 + 8 + 4 + 8 + 8 bytes at least */
	h->n_lus = rcount(r, PRK_CL_MAX_LUS, 53, "hello.n_lus");
	if (h->n_lus) {
		h->lus = calloc(h->n_lus, sizeof(*h->lus));
		if (!h->lus) {
			fail(r, "hello.lus (out of memory)");
			h->n_lus = 0;
		}
	}
	for (uint32_t i = 0; i < h->n_lus && !r->bad; i++) {
		struct prk_cl_lu_def *d = &h->lus[i];
		rbytes(r, d->naa, 16, "lu.naa");
		rname(r, d->target, "lu.target");
		d->lun = r16(r, "lu.lun");
		d->block_size = r32(r, "lu.block_size");
		d->blocks = r64(r, "lu.blocks");
		d->flags = r32(r, "lu.flags");
		d->epoch = r64(r, "lu.epoch");
		d->seq = r64(r, "lu.seq");
	}
	h->n_ports = rcount(r, PRK_CL_MAX_PORTS, 9, "hello.n_ports");
	for (uint32_t i = 0; i < h->n_ports; i++)
		rport(r, &h->ports[i]);
}

static void dec_sync_done(struct rbuf *r, struct prk_cl_sync_done *d)
{
	rview(r, &d->view);
	d->epoch = r64(r, "sync_done.epoch");
	d->n_ports = rcount(r, PRK_CL_MAX_PORTS * 4, 9, "sync_done.n_ports");
	for (uint32_t i = 0; i < d->n_ports; i++)
		rport(r, &d->ports[i]);
	d->n_pending = rcount(r, PRK_CL_MAX_PENDING, 16, "sync_done.n_pending");
	if (d->n_pending) {
		d->pending = calloc(d->n_pending, sizeof(*d->pending));
		if (!d->pending) {
			fail(r, "sync_done.pending (out of memory)");
			d->n_pending = 0;
		}
	}
	for (uint32_t i = 0; i < d->n_pending && !r->bad; i++) {
		struct prk_cl_pending_wire *p = &d->pending[i];
		rid(r, &p->id);
		p->n_waiting = rcount(r, PRK_CL_MAX_NODES, 4, "pending.n_waiting");
		for (uint32_t k = 0; k < p->n_waiting; k++)
			p->waiting[k] = r32(r, "pending.waiting");
	}
}

int prk_cl_msg_decode(const uint8_t *buf, size_t len, struct prk_cl_msg *m, char *err,
                      size_t errlen)
{
	struct rbuf r = {.p = buf, .len = len};
	memset(m, 0, sizeof(*m));
	const uint8_t *mg = take(&r, 4, "magic");
	if (mg && memcmp(mg, magic, 4))
		fail(&r, "magic");
	uint8_t ver = r8(&r, "version");
	if (!r.bad && ver != PRK_CL_MSG_VERSION)
		fail(&r, "version");
	m->type = r8(&r, "type");
	if (!r.bad && r16(&r, "flags") != 0)
		fail(&r, "flags");
	m->sender = r32(&r, "sender");
	if (r.bad)
		goto out;
	switch (m->type) {
	case PRK_CL_HELLO:
		dec_hello(&r, &m->u.hello);
		break;
	case PRK_CL_SNAPSHOT: {
		struct prk_cl_snapshot *s = &m->u.snap;
		rview(&r, &s->view);
		rbytes(&r, s->naa, 16, "snapshot.naa");
		s->epoch = r64(&r, "snapshot.epoch");
		s->seq = r64(&r, "snapshot.seq");
		s->blob_len = r32(&r, "snapshot.len");
		if (!r.bad && s->blob_len > PRK_CL_MAX_BLOB)
			fail(&r, "snapshot.len");
		s->blob = take(&r, s->blob_len, "snapshot.blob");
		break;
	}
	case PRK_CL_SYNC_DONE:
		dec_sync_done(&r, &m->u.done);
		break;
	case PRK_CL_EVENT: {
		struct prk_cl_event *e = &m->u.ev;
		rid(&r, &e->id);
		rbytes(&r, e->naa, 16, "event.naa");
		e->kind = r8(&r, "event.kind");
		if (!r.bad && (e->kind < PRK_CL_EV_PROUT || e->kind > PRK_CL_EV_RESET))
			fail(&r, "event.kind");
		rnexus(&r, &e->from);
		e->cdb_len = r8(&r, "event.cdb_len");
		if (!r.bad && e->cdb_len > 16)
			fail(&r, "event.cdb_len");
		rbytes(&r, e->cdb, e->cdb_len, "event.cdb");
		e->params_len = r32(&r, "event.params_len");
		if (!r.bad && e->params_len > PRK_CL_MAX_PARAMS)
			fail(&r, "event.params_len");
		e->params = take(&r, e->params_len, "event.params");
		break;
	}
	case PRK_CL_ACK: {
		struct prk_cl_ack *a = &m->u.ack;
		rid(&r, &a->id);
		a->status = r8(&r, "ack.status");
		a->sense_key = r8(&r, "ack.sense_key");
		a->asc = r16(&r, "ack.asc");
		uint8_t fl = r8(&r, "ack.flags");
		if (!r.bad && (fl & ~1u))
			fail(&r, "ack.flags");
		a->persist_failed = fl & 1;
		break;
	}
	case PRK_CL_HEARTBEAT:
		m->u.sent_ns = r64(&r, "heartbeat.sent");
		break;
	case PRK_CL_UA_POP:
	case PRK_CL_NEXUS_UP:
		rbytes(&r, m->u.ua.naa, 16, "ua.naa");
		rnexus(&r, &m->u.ua.nx);
		if (m->type == PRK_CL_UA_POP)
			m->u.ua.asc = r16(&r, "ua.asc");
		break;
	case PRK_CL_SYNC_REQ:
		rview(&r, &m->u.req);
		break;
	default:
		fail(&r, "type");
	}
	if (!r.bad && r.off != r.len)
		fail(&r, "trailing bytes");
out:
	if (r.bad) {
		prk_cl_msg_free(m);
		return prk_errf(err, errlen, "cluster message %s: bad %s at byte %zu",
		                prk_cl_msg_type_name(m->type), r.bad, r.bad_off);
	}
	return 0;
}

void prk_cl_msg_free(struct prk_cl_msg *m)
{
	if (m->type == PRK_CL_HELLO) {
		free(m->u.hello.lus);
		m->u.hello.lus = NULL;
		m->u.hello.n_lus = 0;
	} else if (m->type == PRK_CL_SYNC_DONE) {
		free(m->u.done.pending);
		m->u.done.pending = NULL;
		m->u.done.n_pending = 0;
	}
}
