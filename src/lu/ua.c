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
	lu->ua.pending--;
	return asc;
}

void prk_lu_nexus_up(struct prk_lu *lu, const struct prk_nexus *nx)
{
	struct prk_lu_ua_table *t = &lu->ua;
	struct prk_lu_nexus *r = find(t, nx);
	if (r) {
		r->logged_in = true;
		return;
	}
	r = add(t, nx);
	if (!r)
		return; /* out of memory: the nexus works, without its UAs */
	r->logged_in = true;
	push(t, r, PRK_ASC_POWER_ON_RESET);
	for (size_t i = 0; i < t->n_set_ua; i++)
		if (prk_nexus_set_contains(&t->set_ua[i].to, nx))
			push(t, r, t->set_ua[i].asc);
}

void prk_lu_nexus_down(struct prk_lu *lu, const struct prk_nexus *nx)
{
	struct prk_lu_nexus *r = find(&lu->ua, nx);
	if (r)
		r->logged_in = false;
	struct prk_pr_result res;
	prk_pr_result_init(&res);
	prk_pr_nexus_loss(lu->pr, nx, &res);
	for (size_t i = 0; i < res.n_ua; i++)
		prk_lu_queue_ua(lu, &res.ua[i].to, res.ua[i].skip_sender ? nx : NULL,
		                res.ua[i].asc);
	prk_pr_result_free(&res);
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
	struct prk_pr_result res;
	prk_pr_result_init(&res);
	prk_pr_lu_reset(lu->pr, &res);
	for (size_t i = 0; i < res.n_ua; i++)
		prk_lu_queue_ua(lu, &res.ua[i].to, NULL, res.ua[i].asc);
	prk_pr_result_free(&res);
	prk_lu_mode_reset(lu);
}
