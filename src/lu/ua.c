/* Unit attention conditions, kept per I_T nexus identity (SPC-4 5.14).
 *
 * Records are found by hashing the nexus identity (name hash, ISID, RTPI),
 * so delivery costs O(1); a per-LU count of pending UAs lets the command
 * path skip even that lookup when nothing is pending.
 *
 * Decisions:
 *  - Each nexus keeps at most PRK_LU_UA_QUEUE conditions. A condition equal
 *    to one already pending is not queued twice; when the queue is full the
 *    new condition is dropped (the initiator re-reads state after the ones
 *    it gets). 29h conditions (power on / reset) go to the front: SPC-4
 *    reports them first.
 *  - The first login of an identity gets 29/00. A UA whose set may name
 *    identities never seen (any-ISID / ALL_TG_PT PR registrations) is also
 *    kept in a bounded list and delivered after 29/00 when such an identity
 *    first logs in. UAs for "everyone" are not kept for unseen identities:
 *    their 29/00 already tells them to re-read everything. */
#include <stdlib.h>

#include "lu_internal.h"
#include "prkit/crc32c.h"

#define INITIAL_BUCKETS 64

static size_t slot(const struct prk_lu_ua_table *t, const struct prk_nexus *nx)
{
	uint64_t h = nx->name_hash ^ (nx->isid * 0x9e3779b97f4a7c15ULL) ^
	             ((uint64_t)nx->rtpi * 0xc2b2ae3d27d4eb4fULL);
	h ^= h >> 29;
	return (size_t)h & (t->n_bucket - 1);
}

int prk_lu_ua_init(struct prk_lu_ua_table *t)
{
	memset(t, 0, sizeof(*t));
	t->bucket = calloc(INITIAL_BUCKETS, sizeof(*t->bucket));
	if (!t->bucket)
		return -1;
	t->n_bucket = INITIAL_BUCKETS;
	return 0;
}

void prk_lu_ua_free(struct prk_lu_ua_table *t)
{
	for (size_t i = 0; t->bucket && i < t->n_bucket; i++) {
		struct prk_lu_nexus *r = t->bucket[i];
		while (r) {
			struct prk_lu_nexus *next = r->next;
			free(r);
			r = next;
		}
	}
	free(t->bucket);
	free(t->set_ua);
	memset(t, 0, sizeof(*t));
}

static struct prk_lu_nexus *find(const struct prk_lu_ua_table *t, const struct prk_nexus *nx)
{
	for (struct prk_lu_nexus *r = t->bucket[slot(t, nx)]; r; r = r->next)
		if (prk_nexus_eq(&r->nx, nx))
			return r;
	return NULL;
}

static void grow(struct prk_lu_ua_table *t)
{
	size_t n = t->n_bucket * 2;
	struct prk_lu_nexus **b = calloc(n, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	struct prk_lu_ua_table nt = *t;
	nt.bucket = b;
	nt.n_bucket = n;
	for (size_t i = 0; i < t->n_bucket; i++) {
		struct prk_lu_nexus *r = t->bucket[i];
		while (r) {
			struct prk_lu_nexus *next = r->next;
			size_t s = slot(&nt, &r->nx);
			r->next = b[s];
			b[s] = r;
			r = next;
		}
	}
	free(t->bucket);
	t->bucket = b;
	t->n_bucket = n;
}

static struct prk_lu_nexus *add(struct prk_lu_ua_table *t, const struct prk_nexus *nx)
{
	struct prk_lu_nexus *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->nx = *nx;
	if (t->n + 1 > t->n_bucket)
		grow(t);
	size_t s = slot(t, nx);
	r->next = t->bucket[s];
	t->bucket[s] = r;
	t->n++;
	return r;
}

/* The count other loops' fast paths read (prk_lu_ua_pending_for). */
static void publish(struct prk_lu_nexus *r)
{
	__atomic_store_n(&r->n_ua_pub, r->n_ua, __ATOMIC_RELEASE);
}

uint8_t prk_lu_ua_pending_for(const struct prk_lu *lu, const struct prk_nexus *nx)
{
	const struct prk_lu_nexus *r = find(&lu->ua, nx);
	return r ? __atomic_load_n(&r->n_ua_pub, __ATOMIC_ACQUIRE) : 1;
}

static void push(struct prk_lu_ua_table *t, struct prk_lu_nexus *r, uint16_t asc)
{
	for (unsigned i = 0; i < r->n_ua; i++)
		if (r->ua[i] == asc)
			return;
	if (r->n_ua == PRK_LU_UA_QUEUE)
		return;
	if ((asc >> 8) == 0x29) {
		memmove(r->ua + 1, r->ua, r->n_ua * sizeof(r->ua[0]));
		r->ua[0] = asc;
	} else {
		r->ua[r->n_ua] = asc;
	}
	r->n_ua++;
	publish(r);
	t->pending++;
}

uint16_t prk_lu_ua_peek(struct prk_lu *lu, const struct prk_nexus *nx)
{
	if (!lu->ua.pending)
		return 0;
	struct prk_lu_nexus *r = find(&lu->ua, nx);
	return r && r->n_ua ? r->ua[0] : 0;
}

uint16_t prk_lu_ua_pop(struct prk_lu *lu, const struct prk_nexus *nx)
{
	if (!lu->ua.pending)
		return 0;
	struct prk_lu_nexus *r = find(&lu->ua, nx);
	if (!r || !r->n_ua)
		return 0;
	uint16_t asc = r->ua[0];
	r->n_ua--;
	memmove(r->ua, r->ua + 1, r->n_ua * sizeof(r->ua[0]));
	publish(r);
	lu->ua.pending--;
	return asc;
}

/* The set-UAs a newly recorded identity falls under. */
static void push_set_uas(struct prk_lu_ua_table *t, struct prk_lu_nexus *r)
{
	for (size_t i = 0; i < t->n_set_ua; i++)
		if (prk_nexus_set_contains(&t->set_ua[i].to, &r->nx))
			push(t, r, t->set_ua[i].asc);
}

/* The first local login of an identity gets 29/00 (even when a peer told
 * us of the identity before: this node's device server is new to it). */
void prk_lu_nexus_up(struct prk_lu *lu, const struct prk_nexus *nx)
{
	struct prk_lu_ua_table *t = &lu->ua;
	struct prk_lu_nexus *r = find(t, nx);
	bool created = false;
	if (!r) {
		r = add(t, nx);
		if (!r)
			return; /* out of memory: the nexus works, without its UAs */
		created = true;
	}
	r->logged_in = true;
	if (r->seen_here)
		return;
	r->seen_here = true;
	push(t, r, PRK_ASC_POWER_ON_RESET);
	if (created)
		push_set_uas(t, r);
	if (lu->pr_hooks.nexus_first)
		lu->pr_hooks.nexus_first(lu->pr_hooks.ctx, lu, nx);
}

void prk_lu_nexus_known(struct prk_lu *lu, const struct prk_nexus *nx, bool power_on)
{
	struct prk_lu_ua_table *t = &lu->ua;
	struct prk_lu_nexus *r = find(t, nx);
	if (!r) {
		r = add(t, nx);
		if (!r)
			return;
		if (power_on)
			push(t, r, PRK_ASC_POWER_ON_RESET);
		push_set_uas(t, r);
		return;
	}
	if (power_on)
		push(t, r, PRK_ASC_POWER_ON_RESET);
}

/* With an event hook the nexus loss is the cluster's to order and apply
 * (prk_lu_event_apply) on every replica; only the login state is local. */
void prk_lu_nexus_down(struct prk_lu *lu, const struct prk_nexus *nx)
{
	struct prk_lu_nexus *r = find(&lu->ua, nx);
	if (r)
		r->logged_in = false;
	if (lu->pr_hooks.event) {
		lu->pr_hooks.event(lu->pr_hooks.ctx, lu, PRK_LU_EV_NEXUS_LOSS, nx);
		return;
	}
	struct prk_pr_result res;
	prk_pr_result_init(&res);
	prk_pr_nexus_loss(lu->pr, nx, &res);
	for (size_t i = 0; i < res.n_ua; i++)
		prk_lu_queue_ua(lu, &res.ua[i].to, res.ua[i].skip_sender ? nx : NULL,
		                res.ua[i].asc);
	prk_pr_result_free(&res);
}

uint16_t prk_lu_ua_deliver(struct prk_lu *lu, const struct prk_nexus *nx)
{
	uint16_t asc = prk_lu_ua_pop(lu, nx);
	if (asc && lu->pr_hooks.ua_consumed)
		lu->pr_hooks.ua_consumed(lu->pr_hooks.ctx, lu, nx, asc);
	return asc;
}

void prk_lu_ua_consumed(struct prk_lu *lu, const struct prk_nexus *nx, uint16_t asc)
{
	struct prk_lu_nexus *r = find(&lu->ua, nx);
	if (!r)
		return;
	/* Conditions are never queued twice, so there is at most one. */
	for (unsigned i = 0; i < r->n_ua; i++)
		if (r->ua[i] == asc) {
			r->n_ua--;
			memmove(r->ua + i, r->ua + i + 1, (r->n_ua - i) * sizeof(r->ua[0]));
			publish(r);
			lu->ua.pending--;
			return;
		}
}

/* Keeps a set UA for identities not seen yet; the oldest goes when full. */
static void keep_for_unseen(struct prk_lu_ua_table *t, const struct prk_nexus_set *to, uint16_t asc)
{
	if (!t->set_ua) {
		t->set_ua = calloc(PRK_LU_MAX_SET_UAS, sizeof(*t->set_ua));
		if (!t->set_ua)
			return;
	}
	if (t->n_set_ua == PRK_LU_MAX_SET_UAS) {
		memmove(t->set_ua, t->set_ua + 1, (t->n_set_ua - 1) * sizeof(*t->set_ua));
		t->n_set_ua--;
	}
	t->set_ua[t->n_set_ua++] = (struct prk_lu_set_ua){.to = *to, .asc = asc};
}

void prk_lu_queue_ua(struct prk_lu *lu, const struct prk_nexus_set *to,
                     const struct prk_nexus *except, uint16_t asc)
{
	struct prk_lu_ua_table *t = &lu->ua;
	for (size_t i = 0; i < t->n_bucket; i++)
		for (struct prk_lu_nexus *r = t->bucket[i]; r; r = r->next)
			if (prk_nexus_set_contains(to, &r->nx) &&
			    !(except && prk_nexus_eq(except, &r->nx)))
				push(t, r, asc);
	/* An exact nexus that has a record already got it above. */
	bool exact_seen = !to->any_isid && !to->any_port && find(t, &to->nx);
	if (!to->everyone && !exact_seen)
		keep_for_unseen(t, to, asc);
}

void prk_lu_queue_ua_all(struct prk_lu *lu, uint16_t asc)
{
	struct prk_nexus_set all = {.everyone = true};
	prk_lu_queue_ua(lu, &all, NULL, asc);
}

/* LOGICAL UNIT RESET: the engine drops the SPC-2 reservation and names the
 * 29/03 UA; mode parameters return to their defaults (no saved values). */
void prk_lu_reset(struct prk_lu *lu)
{
	/* Mode parameters are not replicated (MODE SELECT is per node), so
	 * their reset stays local; the PR part goes through the cluster. */
	if (lu->pr_hooks.event) {
		prk_lu_mode_reset(lu);
		lu->pr_hooks.event(lu->pr_hooks.ctx, lu, PRK_LU_EV_RESET, NULL);
		return;
	}
	struct prk_pr_result res;
	prk_pr_result_init(&res);
	prk_pr_lu_reset(lu->pr, &res);
	for (size_t i = 0; i < res.n_ua; i++)
		prk_lu_queue_ua(lu, &res.ua[i].to, NULL, res.ua[i].asc);
	prk_pr_result_free(&res);
	prk_lu_mode_reset(lu);
}

/* ---- The table as bytes (cluster state transfer) ----
 *
 * Big-endian, CRC32C-checked; the bytes come from the network, so import
 * checks every length against what is left, bounds every count, accepts
 * only what export can produce (valid lower-case names, 48-bit ISIDs, no
 * zero or repeated condition, no repeated identity) and builds the new
 * table aside, so that a refusal changes nothing.
 *
 *   0  "PRKU" (4), version 1 (1), zero (3)
 *   8  total length (4)
 *  12  CRC32C of every byte but this field (4)
 *  16  records (4), set-UAs (4)
 *  24  records: name length (1), pending count (1), RTPI (2), ISID (8),
 *      name, pending conditions in delivery order (2 each)
 *  ..  set-UAs: flags (1: 1 any ISID, 2 any port), name length (1),
 *      RTPI (2), ISID (8), ASC/ASCQ (2), name */

#define W_VERSION 1
#define W_HDR 24
#define W_OFF_CRC 12
#define W_REC 12
#define W_SET 14
#define W_ANY_ISID 0x1
#define W_ANY_PORT 0x2

static uint32_t wire_crc(const uint8_t *b, size_t len)
{
	uint32_t crc = prk_crc32c(0, b, W_OFF_CRC);
	return prk_crc32c(crc, b + W_OFF_CRC + 4, len - W_OFF_CRC - 4);
}

size_t prk_lu_ua_export(const struct prk_lu *lu, uint8_t **out)
{
	const struct prk_lu_ua_table *t = &lu->ua;
	size_t len = W_HDR;
	for (size_t i = 0; i < t->n_bucket; i++)
		for (const struct prk_lu_nexus *r = t->bucket[i]; r; r = r->next)
			len += W_REC + strlen(r->nx.name) + 2u * r->n_ua;
	for (size_t i = 0; i < t->n_set_ua; i++)
		len += W_SET + strlen(t->set_ua[i].to.nx.name);
	uint8_t *b = calloc(1, len);
	if (!b)
		return 0;
	memcpy(b, "PRKU", 4);
	b[4] = W_VERSION;
	prk_put_be32(b + 8, (uint32_t)len);
	prk_put_be32(b + 16, (uint32_t)t->n);
	prk_put_be32(b + 20, (uint32_t)t->n_set_ua);
	uint8_t *p = b + W_HDR;
	for (size_t i = 0; i < t->n_bucket; i++)
		for (const struct prk_lu_nexus *r = t->bucket[i]; r; r = r->next) {
			size_t n = strlen(r->nx.name);
			p[0] = (uint8_t)n;
			p[1] = r->n_ua;
			prk_put_be16(p + 2, r->nx.rtpi);
			prk_put_be64(p + 4, r->nx.isid);
			memcpy(p + W_REC, r->nx.name, n);
			p += W_REC + n;
			for (unsigned k = 0; k < r->n_ua; k++, p += 2)
				prk_put_be16(p, r->ua[k]);
		}
	for (size_t i = 0; i < t->n_set_ua; i++) {
		const struct prk_nexus_set *s = &t->set_ua[i].to;
		size_t n = strlen(s->nx.name);
		p[0] = (uint8_t)((s->any_isid ? W_ANY_ISID : 0) | (s->any_port ? W_ANY_PORT : 0));
		p[1] = (uint8_t)n;
		prk_put_be16(p + 2, s->nx.rtpi);
		prk_put_be64(p + 4, s->nx.isid);
		prk_put_be16(p + 12, t->set_ua[i].asc);
		memcpy(p + W_SET, s->nx.name, n);
		p += W_SET + n;
	}
	prk_put_be32(b + W_OFF_CRC, wire_crc(b, len));
	*out = b;
	return len;
}

/* A name of n bytes at p, with isid and rtpi, as export writes it. */
static int wire_nexus(const uint8_t *p, size_t n, uint64_t isid, uint16_t rtpi,
                      struct prk_nexus *nx)
{
	char name[PRK_ISCSI_NAME_MAX + 1];
	if (n == 0 || n > PRK_ISCSI_NAME_MAX || memchr(p, 0, n))
		return -1; /* a NUL inside would shorten the name */
	memcpy(name, p, n);
	name[n] = 0;
	if (prk_nexus_init(nx, name, isid, rtpi) || strcmp(nx->name, name) != 0)
		return -1;
	return 0;
}

/* Decodes buf into the empty table nt; -1 when anything is off. */
static int wire_decode(struct prk_lu_ua_table *nt, const uint8_t *buf, size_t len)
{
	if (len < W_HDR || memcmp(buf, "PRKU", 4) != 0 || buf[4] != W_VERSION || buf[5] || buf[6] ||
	    buf[7] || prk_get_be32(buf + 8) != len ||
	    prk_get_be32(buf + W_OFF_CRC) != wire_crc(buf, len))
		return -1;
	uint32_t n_rec = prk_get_be32(buf + 16), n_set = prk_get_be32(buf + 20);
	/* Counts bounded by the bytes present (each entry takes at least its
	 * fixed part and a 1-byte name) before anything is allocated. */
	if (n_rec > (len - W_HDR) / (W_REC + 1) || n_set > PRK_LU_MAX_SET_UAS)
		return -1;
	size_t off = W_HDR;
	for (uint32_t i = 0; i < n_rec; i++) {
		if (len - off < W_REC)
			return -1;
		const uint8_t *p = buf + off;
		size_t n = p[0];
		unsigned n_ua = p[1];
		if (n_ua > PRK_LU_UA_QUEUE || len - off - W_REC < n + 2u * n_ua)
			return -1;
		struct prk_nexus nx;
		if (wire_nexus(p + W_REC, n, prk_get_be64(p + 4), prk_get_be16(p + 2), &nx) ||
		    find(nt, &nx))
			return -1;
		struct prk_lu_nexus *r = add(nt, &nx);
		if (!r)
			return -1;
		for (unsigned k = 0; k < n_ua; k++) {
			uint16_t asc = prk_get_be16(p + W_REC + n + 2 * k);
			for (unsigned j = 0; j < k; j++)
				if (r->ua[j] == asc)
					return -1;
			if (!asc)
				return -1;
			r->ua[k] = asc; /* delivery order exactly as exported */
		}
		r->n_ua = (uint8_t)n_ua;
		publish(r);
		nt->pending += n_ua;
		off += W_REC + n + 2u * n_ua;
	}
	if (n_set) {
		nt->set_ua = calloc(PRK_LU_MAX_SET_UAS, sizeof(*nt->set_ua));
		if (!nt->set_ua)
			return -1;
	}
	for (uint32_t i = 0; i < n_set; i++) {
		if (len - off < W_SET)
			return -1;
		const uint8_t *p = buf + off;
		uint8_t flags = p[0];
		size_t n = p[1];
		uint16_t asc = prk_get_be16(p + 12);
		if ((flags & ~(W_ANY_ISID | W_ANY_PORT)) || !asc || len - off - W_SET < n)
			return -1;
		struct prk_lu_set_ua *s = &nt->set_ua[i];
		if (wire_nexus(p + W_SET, n, prk_get_be64(p + 4), prk_get_be16(p + 2), &s->to.nx))
			return -1;
		s->to.any_isid = flags & W_ANY_ISID;
		s->to.any_port = flags & W_ANY_PORT;
		s->asc = asc;
		nt->n_set_ua++;
		off += W_SET + n;
	}
	return off == len ? 0 : -1;
}

int prk_lu_ua_import(struct prk_lu *lu, const uint8_t *buf, size_t len)
{
	struct prk_lu_ua_table nt;
	if (prk_lu_ua_init(&nt))
		return -1;
	if (wire_decode(&nt, buf, len))
		goto fail;
	/* Which identities are logged in here is this node's own business. */
	struct prk_lu_ua_table *t = &lu->ua;
	for (size_t i = 0; i < t->n_bucket; i++)
		for (const struct prk_lu_nexus *r = t->bucket[i]; r; r = r->next) {
			if (!r->logged_in && !r->seen_here)
				continue;
			struct prk_lu_nexus *n = find(&nt, &r->nx);
			if (!n && !(n = add(&nt, &r->nx)))
				goto fail;
			n->logged_in = r->logged_in;
			n->seen_here = r->seen_here;
		}
	prk_lu_ua_free(t);
	*t = nt;
	return 0;
fail:
	prk_lu_ua_free(&nt);
	return -1;
}
