/* The search: Wing & Gong's depth-first search for a linearization, with
 * Lowe's memoization of explored configurations, one LU at a time.
 *
 * The answered commands sit in one list of call and return entries sorted
 * by time. A command may be placed next (linearized) when its call entry
 * comes before the first return entry still in the list: it was sent before
 * every command not yet placed had completed. Placing it runs the engine on
 * the current state; it is kept when the engine gives the recorded answer
 * and the new configuration (set of placed commands, state) was never
 * explored before. When the search reaches a return entry, that command can
 * no longer be placed: undo the last placement and try the next candidate.
 *
 * Commands without an answer have no return entry: they stay candidates
 * forever and need not be placed at all. They live in a list of their own
 * and are tried only after every answered candidate, and only where they
 * change the state: placing one as a no-op is never better than leaving it
 * for later. Trying them last makes the search assume "no effect yet" until
 * an answer proves otherwise, which is what keeps a history with many lost
 * answers fast. PR IN without an answer changes nothing and is dropped.
 *
 * Two prunes keep the search complete: identical unanswered commands of
 * one nexus are placed in invoke order only (they are interchangeable),
 * and a placement is refused when the generation it leaves, plus the
 * generation bumps that must still come first, passes the generation a
 * read still to be placed returned (the generation never goes down). */
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "lincheck.h"
#include "memo.h"
#include "prkit/scsi_cdb.h"

struct ent {
	int64_t t;
	bool is_call;
	struct lop *op;
	struct ent *prev, *next;
};

/* One command of the LU being checked. */
struct lop {
	const struct prk_lin_op *op;
	size_t hidx; /* index in the history */
	bool answered;
	uint32_t bit; /* in the answered or the unanswered bit set */
	long rpos;    /* in search.reads, or -1 */
	/* Unanswered: the previous unanswered command with the same nexus and
	 * bytes. Such twins are interchangeable, so they are placed in invoke
	 * order only (a twin waits for the one before it): the search never
	 * explores the same thing once per twin. */
	struct lop *twin;
	bool placed;
	/* Answered GOOD and certain to have bumped the generation (REGISTER
	 * with a non-zero service action key, CLEAR). */
	bool bumps;
	struct ent call, ret;
};

/* An answered PR IN whose data carries a PRgeneration. */
struct gread {
	uint32_t gen;
	struct lop *l;
};

/* An undo record: the entry placed and the state before it (NULL when the
 * command did not change the state). */
struct frame {
	struct ent *e;
	struct prk_pr_state *prev;
	uint8_t *prev_sb;
	size_t prev_sblen;
};

struct search {
	const struct prk_lin_history *h;
	struct lop *ops;
	size_t n_ops, n_answered, n_unanswered;
	struct ent main_head, u_head; /* sentinels */

	uint8_t *abits, *ubits;
	size_t lo, hi; /* first unplaced answered bit; one past the last placed */
	size_t remaining;

	/* The reads sorted by generation, and the first one not placed. The
	 * generation never decreases, so a state whose generation is above
	 * that of a read still to be placed is a dead end: prune it at once
	 * rather than after every command up to that read. */
	struct gread *reads;
	size_t n_reads, rlo;

	struct prk_pr_state *st;
	uint8_t *sb; /* canonical bytes of st */
	size_t sblen;

	struct frame *stack;
	size_t sp;

	struct prk_lin_memo *memo;
	size_t budget;
	uint8_t *key;
	size_t key_cap;
	uint8_t *inbuf; /* PR IN data from the model */

	/* The deepest dead end: the command whose return was reached. */
	bool have_best;
	size_t best_depth;
	size_t best_hidx;
	char best_model[256];
};

#define PRIN_BUF 65536

/* The state as bytes: the persistent record (registrations, reservation,
 * generation, APTPL) plus what it leaves out (SPC-2 holder, lost flag).
 * Equal bytes imply prk_pr_state_equal. */
static uint8_t *state_bytes(const struct prk_pr_state *st, size_t *len)
{
	uint8_t *rec = NULL;
	size_t n = prk_pr_record_encode(st, &rec);
	struct prk_nexus h;

	if (!n)
		return NULL;
	bool spc2 = prk_pr_spc2_holder(st, &h);
	size_t name_len = spc2 ? strlen(h.name) : 0;
	size_t total = n + 2 + (spc2 ? 10 + 1 + name_len : 0);
	uint8_t *b = realloc(rec, total);
	if (!b) {
		free(rec);
		return NULL;
	}
	uint8_t *p = b + n;
	*p++ = prk_pr_lost(st);
	*p++ = spc2;
	if (spc2) {
		prk_put_be64(p, h.isid);
		prk_put_be16(p + 8, h.rtpi);
		p[10] = (uint8_t)name_len;
		memcpy(p + 11, h.name, name_len);
	}
	*len = total;
	return b;
}

static bool bit_get(const uint8_t *b, size_t i)
{
	return b[i / 8] >> (i % 8) & 1;
}

static void bit_put(uint8_t *b, size_t i, bool v)
{
	if (v)
		b[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		b[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

static void mark(struct search *s, struct lop *l, bool placed)
{
	l->placed = placed;
	if (!l->answered) {
		bit_put(s->ubits, l->bit, placed);
		return;
	}
	bit_put(s->abits, l->bit, placed);
	if (l->rpos >= 0) {
		if (placed)
			while (s->rlo < s->n_reads && bit_get(s->abits, s->reads[s->rlo].l->bit))
				s->rlo++;
		else if ((size_t)l->rpos < s->rlo)
			s->rlo = (size_t)l->rpos;
	}
	if (placed) {
		s->remaining--;
		if (l->bit + 1 > s->hi)
			s->hi = l->bit + 1;
		while (s->lo < s->n_answered && bit_get(s->abits, s->lo))
			s->lo++;
	} else {
		s->remaining++;
		if (l->bit < s->lo)
			s->lo = l->bit;
		while (s->hi > 0 && !bit_get(s->abits, s->hi - 1))
			s->hi--;
	}
}

/* The configuration's key: the answered set as a window from the first
 * unplaced command (every one before it is placed, so the window says it
 * all), the unanswered set whole, then the state. */
static int make_key(struct search *s, const uint8_t *sb, size_t sblen, size_t *len)
{
	size_t w0 = s->lo / 8, w1 = s->hi > s->lo ? (s->hi + 7) / 8 : w0;
	size_t ulen = (s->n_unanswered + 7) / 8;
	size_t need = 8 + (w1 - w0) + ulen + sblen;

	if (need > s->key_cap) {
		uint8_t *k = realloc(s->key, need);
		if (!k)
			return -1;
		s->key = k;
		s->key_cap = need;
	}
	uint8_t *p = s->key;
	prk_put_be32(p, (uint32_t)s->lo);
	prk_put_be32(p + 4, (uint32_t)(w1 - w0));
	p += 8;
	memcpy(p, s->abits + w0, w1 - w0);
	p += w1 - w0;
	memcpy(p, s->ubits, ulen);
	p += ulen;
	memcpy(p, sb, sblen);
	*len = need;
	return 0;
}

static bool answer_matches(const struct prk_lin_op *op, const struct prk_pr_result *r)
{
	if (r->status != op->status)
		return false;
	if (r->status != PRK_STATUS_CHECK_CONDITION)
		return true;
	return r->sense.key == op->sense_key && r->sense.asc == op->asc &&
	       r->sense.ascq == op->ascq;
}

/* Runs a state-changing command on a copy of st. NULL on no memory. */
static struct prk_pr_state *run_out(const struct prk_pr_state *st, const struct prk_lin_op *op,
                                    struct prk_pr_result *res)
{
	struct prk_pr_state *ns = prk_pr_state_clone(st);

	prk_pr_result_init(res);
	if (!ns)
		return NULL;
	if (op->kind == PRK_LIN_PROUT)
		prk_pr_out(ns, &op->nx, op->cdb, op->cdb_len, op->params, op->params_len, res);
	else
		prk_pr_spc2(ns, &op->nx, op->cdb, op->cdb_len, res);
	return ns;
}

static size_t run_in(struct search *s, const struct prk_lin_op *op, struct prk_pr_result *res)
{
	prk_pr_result_init(res);
	return prk_pr_in(s->st, &op->nx, op->cdb, op->cdb_len, s->inbuf, PRIN_BUF, res);
}

/* How many commands still to be placed, other than skip, surely bump the
 * generation and completed before the lowest-generation read still to be
 * placed was sent: they must come before it, so the generation it shows
 * is at least the current one plus that many. Only the unplaced entries
 * before that read's invoke time are looked at: a few. */
static uint32_t must_bump_before(struct search *s, const struct lop *skip)
{
	const struct lop *rd = s->reads[s->rlo].l;
	uint32_t n = 0;

	for (struct ent *e = s->main_head.next; e && e->t < rd->call.t; e = e->next)
		if (!e->is_call && e->op != skip && e->op->bumps)
			n++;
	return n;
}

enum try_result { TRY_NO, TRY_PLACED, TRY_NOMEM, TRY_BUDGET };

/* Tries to place the command of call entry e next. */
static enum try_result try_place(struct search *s, struct ent *e)
{
	struct lop *l = e->op;
	const struct prk_lin_op *op = l->op;
	struct prk_pr_result res;
	struct prk_pr_state *ns = NULL;
	uint8_t *nb = NULL;
	size_t nblen = 0, klen;
	bool match;

	if (l->twin && !l->twin->placed)
		return TRY_NO;
	if (op->kind == PRK_LIN_PRIN) {
		size_t n = run_in(s, op, &res);
		match = answer_matches(op, &res) &&
		        (res.status != PRK_STATUS_GOOD ||
		         (n == op->data_len && (n == 0 || memcmp(s->inbuf, op->data, n) == 0)));
		prk_pr_result_free(&res);
	} else {
		ns = run_out(s->st, op, &res);
		if (!ns)
			return TRY_NOMEM;
		match = !l->answered || answer_matches(op, &res);
		prk_pr_result_free(&res);
		if (match && s->rlo < s->n_reads &&
		    (uint64_t)prk_pr_generation(ns) + must_bump_before(s, l) > s->reads[s->rlo].gen)
			match = false;
		if (match) {
			nb = state_bytes(ns, &nblen);
			if (!nb) {
				prk_pr_state_free(ns);
				return TRY_NOMEM;
			}
			if (nblen == s->sblen && memcmp(nb, s->sb, nblen) == 0) {
				prk_pr_state_free(ns);
				free(nb);
				ns = NULL;
				nb = NULL;
				match = l->answered; /* an unanswered no-op: leave it */
			}
		}
		if (!match) {
			prk_pr_state_free(ns);
			free(nb);
			return TRY_NO;
		}
	}
	if (!match)
		return TRY_NO;

	mark(s, l, true);
	int r = make_key(s, ns ? nb : s->sb, ns ? nblen : s->sblen, &klen);
	if (r == 0)
		r = s->memo->n >= s->budget ? -2 : prk_lin_memo_insert(s->memo, s->key, klen);
	if (r != 1) {
		mark(s, l, false);
		prk_pr_state_free(ns);
		free(nb);
		return r == 0 ? TRY_NO : r == -2 ? TRY_BUDGET : TRY_NOMEM;
	}
	struct frame *f = &s->stack[s->sp++];
	f->e = e;
	f->prev = NULL;
	f->prev_sb = NULL;
	if (ns) {
		f->prev = s->st;
		f->prev_sb = s->sb;
		f->prev_sblen = s->sblen;
		s->st = ns;
		s->sb = nb;
		s->sblen = nblen;
	}
	/* Lift the command out of the lists. */
	e->prev->next = e->next;
	if (e->next)
		e->next->prev = e->prev;
	if (l->answered) {
		l->ret.prev->next = l->ret.next;
		if (l->ret.next)
			l->ret.next->prev = l->ret.prev;
	}
	return TRY_PLACED;
}

/* Undoes the last placement; returns its entry. */
static struct ent *undo(struct search *s)
{
	struct frame *f = &s->stack[--s->sp];
	struct ent *e = f->e;
	struct lop *l = e->op;

	if (l->answered) {
		l->ret.prev->next = &l->ret;
		if (l->ret.next)
			l->ret.next->prev = &l->ret;
	}
	e->prev->next = e;
	if (e->next)
		e->next->prev = e;
	mark(s, l, false);
	if (f->prev) {
		prk_pr_state_free(s->st);
		free(s->sb);
		s->st = f->prev;
		s->sb = f->prev_sb;
		s->sblen = f->prev_sblen;
	}
	return e;
}

static struct ent *first_return(struct search *s)
{
	struct ent *e = s->main_head.next;

	while (e && e->is_call)
		e = e->next;
	return e; /* never NULL while answered commands remain */
}

/* A dead end at the return of barrier's command: keep the deepest one, with
 * what the engine answers there, for the explanation. */
static void note_dead_end(struct search *s, struct ent *barrier)
{
	const struct prk_lin_op *op = barrier->op->op;
	struct prk_pr_result res;
	size_t n = 0;

	/* Depth counts answered commands only: of two dead ends as deep, the
	 * first found assumed the fewest lost answers took effect. */
	size_t depth = s->n_answered - s->remaining;

	if (s->have_best && depth <= s->best_depth)
		return;
	s->have_best = true;
	s->best_depth = depth;
	s->best_hidx = barrier->op->hidx;
	if (op->kind == PRK_LIN_PRIN) {
		n = run_in(s, op, &res);
		prk_lin_answer_describe(op, res.status, true, res.sense.key, res.sense.asc,
		                        res.sense.ascq, s->inbuf, n, s->best_model,
		                        sizeof(s->best_model));
	} else {
		struct prk_pr_state *ns = run_out(s->st, op, &res);
		if (ns && answer_matches(op, &res) && s->rlo < s->n_reads) {
			/* The engine agrees with this command's answer: it was
			 * refused because its generation is past that of a
			 * read still to come. The read is what no order can
			 * give; show what it would see after this command. */
			const struct prk_lin_op *rd = s->reads[s->rlo].l->op;
			struct prk_pr_result rr;
			prk_pr_result_init(&rr);
			n = prk_pr_in(ns, &rd->nx, rd->cdb, rd->cdb_len, s->inbuf, PRIN_BUF, &rr);
			s->best_hidx = s->reads[s->rlo].l->hidx;
			prk_lin_answer_describe(rd, rr.status, true, rr.sense.key, rr.sense.asc,
			                        rr.sense.ascq, s->inbuf, n, s->best_model,
			                        sizeof(s->best_model));
			prk_pr_result_free(&rr);
		} else if (ns) {
			prk_lin_answer_describe(op, res.status, true, res.sense.key, res.sense.asc,
			                        res.sense.ascq, NULL, 0, s->best_model,
			                        sizeof(s->best_model));
		} else {
			strcpy(s->best_model, "(out of memory)");
		}
		prk_pr_state_free(ns);
	}
	prk_pr_result_free(&res);
}

static enum prk_lin_result search_run(struct search *s)
{
	struct ent *cur = s->main_head.next, *barrier = NULL;
	bool in_u = false;

	for (;;) {
		if (s->remaining == 0)
			return PRK_LIN_LINEARIZABLE;
		struct ent *e = NULL;
		if (!in_u) {
			if (cur->is_call) {
				e = cur;
			} else {
				barrier = cur;
				in_u = true;
				cur = s->u_head.next;
				continue;
			}
		} else if (cur && cur->t <= barrier->t) {
			e = cur;
		}
		if (e) {
			enum try_result r = try_place(s, e);
			if (r == TRY_NOMEM)
				return PRK_LIN_FAILED;
			if (r == TRY_BUDGET)
				return PRK_LIN_UNDECIDED;
			if (r == TRY_PLACED) {
				cur = s->main_head.next;
				in_u = false;
			} else {
				cur = cur->next;
			}
			continue;
		}
		/* Every candidate before barrier failed. */
		note_dead_end(s, barrier);
		if (s->sp == 0)
			return PRK_LIN_NOT_LINEARIZABLE;
		struct ent *u = undo(s);
		cur = u->next;
		in_u = !u->op->answered;
		if (in_u)
			barrier = first_return(s);
	}
}

static int cmp_ent(const void *a, const void *b)
{
	const struct ent *x = *(struct ent *const *)a, *y = *(struct ent *const *)b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	/* Same instant: calls first, so that the two commands count as
	 * concurrent (the lenient reading of a tie). */
	if (x->is_call != y->is_call)
		return x->is_call ? -1 : 1;
	return x->op->hidx < y->op->hidx ? -1 : x->op->hidx > y->op->hidx;
}

/* Links the entries, sorted, after head. */
static int link_sorted(struct ent *head, struct ent **v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_ent);
	struct ent *prev = head;
	for (size_t i = 0; i < n; i++) {
		prev->next = v[i];
		v[i]->prev = prev;
		prev = v[i];
	}
	prev->next = NULL;
	return 0;
}

static int cmp_lop_invoke(const void *a, const void *b)
{
	const struct lop *x = a, *y = b;

	if (x->op->invoke_ns != y->op->invoke_ns)
		return x->op->invoke_ns < y->op->invoke_ns ? -1 : 1;
	return x->hidx < y->hidx ? -1 : x->hidx > y->hidx;
}

static bool same_command(const struct prk_lin_op *a, const struct prk_lin_op *b)
{
	return a->kind == b->kind && prk_nexus_eq(&a->nx, &b->nx) && a->cdb_len == b->cdb_len &&
	       memcmp(a->cdb, b->cdb, a->cdb_len) == 0 && a->params_len == b->params_len &&
	       (a->params_len == 0 || memcmp(a->params, b->params, a->params_len) == 0);
}

/* u: the unanswered call entries in invoke order. Quadratic in the number
 * of unanswered commands of one nexus at worst; they are few. */
static void find_twins(struct ent **u, size_t nu)
{
	for (size_t i = 0; i < nu; i++)
		for (size_t j = i; j-- > 0;)
			if (same_command(u[i]->op->op, u[j]->op->op)) {
				u[i]->op->twin = u[j]->op;
				break;
			}
}

static bool surely_bumps(const struct lop *l)
{
	const struct prk_lin_op *op = l->op;
	uint8_t sa = op->cdb[1] & 0x1f;

	if (!l->answered || op->kind != PRK_LIN_PROUT || op->status != PRK_STATUS_GOOD)
		return false;
	if (sa == PRK_PROUT_CLEAR)
		return true;
	return (sa == PRK_PROUT_REGISTER || sa == PRK_PROUT_REGISTER_AND_IGNORE) &&
	       op->params_len >= 16 && prk_get_be64(op->params + 8) != 0;
}

static int cmp_gread(const void *a, const void *b)
{
	const struct gread *x = a, *y = b;

	if (x->gen != y->gen)
		return x->gen < y->gen ? -1 : 1;
	return x->l->hidx < y->l->hidx ? -1 : x->l->hidx > y->l->hidx;
}

/* The answered PR IN commands that returned a generation (READ KEYS, READ
 * RESERVATION, READ FULL STATUS with GOOD and at least its 4 bytes). */
static int collect_reads(struct search *s)
{
	s->reads = malloc((s->n_ops + 1) * sizeof(*s->reads));
	if (!s->reads)
		return -1;
	for (size_t i = 0; i < s->n_ops; i++) {
		struct lop *l = &s->ops[i];
		const struct prk_lin_op *op = l->op;
		uint8_t sa = op->cdb[1] & 0x1f;
		l->rpos = -1;
		l->bumps = surely_bumps(l);
		if (op->kind != PRK_LIN_PRIN || !l->answered || op->status != PRK_STATUS_GOOD ||
		    op->data_len < 4 || sa == PRK_PRIN_REPORT_CAPABILITIES || sa > PRK_PRIN_SA_MAX)
			continue;
		s->reads[s->n_reads++] = (struct gread){prk_get_be32(op->data), l};
	}
	qsort(s->reads, s->n_reads, sizeof(*s->reads), cmp_gread);
	for (size_t i = 0; i < s->n_reads; i++)
		s->reads[i].l->rpos = (long)i;
	return 0;
}

/* Builds the lists for the commands of one LU (ops filled, n_ops set). */
static int search_build(struct search *s)
{
	qsort(s->ops, s->n_ops, sizeof(*s->ops), cmp_lop_invoke);
	struct ent **v = malloc((2 * s->n_ops + 1) * sizeof(*v));
	struct ent **u = malloc((s->n_ops + 1) * sizeof(*u));
	size_t nv = 0, nu = 0;

	if (!v || !u) {
		free(v);
		free(u);
		return -1;
	}
	for (size_t i = 0; i < s->n_ops; i++) {
		struct lop *l = &s->ops[i];
		l->call = (struct ent){.t = l->op->invoke_ns, .is_call = true, .op = l};
		if (l->answered) {
			l->bit = (uint32_t)s->n_answered++;
			l->ret = (struct ent){.t = l->op->return_ns, .is_call = false, .op = l};
			v[nv++] = &l->call;
			v[nv++] = &l->ret;
		} else {
			l->bit = (uint32_t)s->n_unanswered++;
			u[nu++] = &l->call;
		}
	}
	find_twins(u, nu);
	if (collect_reads(s) < 0) {
		free(v);
		free(u);
		return -1;
	}
	link_sorted(&s->main_head, v, nv);
	link_sorted(&s->u_head, u, nu);
	free(v);
	free(u);
	s->remaining = s->n_answered;
	s->abits = calloc(s->n_answered / 8 + 1, 1);
	s->ubits = calloc(s->n_unanswered / 8 + 1, 1);
	s->stack = calloc(s->n_ops + 1, sizeof(*s->stack));
	s->st = prk_pr_state_new(NULL);
	if (!s->abits || !s->ubits || !s->stack || !s->st)
		return -1;
	s->sb = state_bytes(s->st, &s->sblen);
	return s->sb ? 0 : -1;
}

static void search_free(struct search *s)
{
	while (s->sp > 0)
		undo(s);
	prk_pr_state_free(s->st);
	free(s->sb);
	free(s->abits);
	free(s->ubits);
	free(s->stack);
	free(s->reads);
	free(s->ops);
	free(s->key);
}

static void explain(const struct prk_lin_history *h, struct search *s, struct prk_lin_verdict *v)
{
	const struct prk_lin_op *op = &h->ops[s->best_hidx];
	char what[300], got[256];

	prk_lin_op_describe(op, what, sizeof(what));
	prk_lin_answer_describe(op, op->status, op->has_sense, op->sense_key, op->asc, op->ascq,
	                        op->data, op->data_len, got, sizeof(got));
	v->bad_op = s->best_hidx;
	snprintf(v->explain, sizeof(v->explain),
	         "not linearizable: op %llu (line %zu, LU %s: %s) returned %s; no order of the "
	         "ops before it gives that (the closest order gives %s)",
	         (unsigned long long)op->id, op->line, op->lu, what, got, s->best_model);
}

/* Checks the commands of LU h->ops[first].lu that come at or after first. */
static enum prk_lin_result check_lu(const struct prk_lin_history *h, size_t first, bool *done,
                                    struct prk_lin_memo *memo, size_t budget,
                                    struct prk_lin_verdict *v)
{
	struct search s;
	const char *lu = h->ops[first].lu;
	enum prk_lin_result r = PRK_LIN_FAILED;

	memset(&s, 0, sizeof(s));
	s.h = h;
	s.memo = memo;
	s.budget = budget;
	s.ops = calloc(h->n - first, sizeof(*s.ops));
	s.inbuf = malloc(PRIN_BUF);
	if (!s.ops || !s.inbuf)
		goto out;
	for (size_t i = first; i < h->n; i++) {
		const struct prk_lin_op *op = &h->ops[i];
		if (done[i] || strcmp(op->lu, lu) != 0)
			continue;
		done[i] = true;
		if (op->not_applied) {
			v->n_skipped++;
			continue;
		}
		v->n_ops++;
		if (!op->answered && op->kind == PRK_LIN_PRIN)
			continue; /* changes nothing, shows nothing */
		s.ops[s.n_ops++] = (struct lop){.op = op, .hidx = i, .answered = op->answered};
	}
	if (search_build(&s) < 0)
		goto out;
	r = search_run(&s);
	if (r == PRK_LIN_NOT_LINEARIZABLE)
		explain(h, &s, v);
out:
	search_free(&s);
	free(s.inbuf);
	return r;
}

enum prk_lin_result prk_lin_check(const struct prk_lin_history *h,
                                  const struct prk_lin_options *opt, struct prk_lin_verdict *v)
{
	size_t budget = opt && opt->max_configs ? opt->max_configs : PRK_LIN_DEFAULT_MAX_CONFIGS;
	bool *done = calloc(h->n + 1, sizeof(*done));
	struct prk_lin_memo memo;

	memset(v, 0, sizeof(*v));
	v->result = PRK_LIN_LINEARIZABLE;
	if (!done) {
		v->result = PRK_LIN_FAILED;
		snprintf(v->explain, sizeof(v->explain), "out of memory");
		return v->result;
	}
	for (size_t i = 0; i < h->n && v->result == PRK_LIN_LINEARIZABLE; i++) {
		if (done[i])
			continue;
		/* A fresh memo per LU: configurations of different LUs never
		 * meet. The budget counts them all. */
		prk_lin_memo_init(&memo);
		size_t left = budget > v->configs ? budget - v->configs : 0;
		v->result = check_lu(h, i, done, &memo, left, v);
		v->configs += memo.n;
		v->n_lus++;
		prk_lin_memo_free(&memo);
	}
	free(done);
	if (v->result == PRK_LIN_UNDECIDED)
		snprintf(v->explain, sizeof(v->explain),
		         "undecided: explored %zu configurations (the limit) without an answer",
		         v->configs);
	else if (v->result == PRK_LIN_FAILED)
		snprintf(v->explain, sizeof(v->explain), "out of memory");
	return v->result;
}
