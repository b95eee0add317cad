/* A small synchronous cluster for the scenario tests of fd_core: a few
 * cores, one view, messages delivered to the whole view in send order.
 * Stalls, joins and checks are answered at once unless a test holds them;
 * FENCE is recorded and answered by the test. Header-only: one user. */
#ifndef PRKIT_TESTS_FD_SC_H
#define PRKIT_TESTS_FD_SC_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fd_core.h"

#define SC_MAX 6
#define SC_LOG 512

struct sc_entry {
	enum prk_fd_act_kind kind;
	struct prk_fd_act act;
};

struct sc {
	struct prk_fd_core c[SC_MAX + 1]; /* by node id; [0] unused */
	int n;
	bool alive[SC_MAX + 1];
	uint16_t view[SC_MAX];
	size_t n_view;
	uint64_t now;
	bool hold_stall[SC_MAX + 1], hold_join[SC_MAX + 1];
	bool check_bad[SC_MAX + 1];
	struct sc_entry log[SC_MAX + 1][SC_LOG];
	size_t n_log[SC_MAX + 1];
	struct prk_fd_act fence[SC_MAX + 1]; /* the last FENCE asked */
	bool fence_asked[SC_MAX + 1];
	struct prk_fd_msg q[256];
	uint16_t q_from[256];
	size_t nq;
};

static inline struct prk_fd_core_cfg sc_cfg(uint16_t id, int n)
{
	return (struct prk_fd_core_cfg){.nodeid = id,
	                                .n_configured = (size_t)n,
	                                .self_fence_ms = 2000,
	                                .check_ms = 1000,
	                                .stall_ack_ms = 500,
	                                .retry_ms = 1000};
}

static inline bool sc_in_view(const struct sc *s, int id)
{
	for (size_t i = 0; i < s->n_view; i++)
		if (s->view[i] == id)
			return true;
	return false;
}

/* Drains every core's actions (answering what is automatic) and delivers
 * the messages, until nothing moves. */
static inline void sc_pump(struct sc *s)
{
	for (int round = 0; round < 1000; round++) {
		bool moved = false;
		for (int id = 1; id <= s->n; id++) {
			struct prk_fd_act a;
			while (s->alive[id] && prk_fdc_next_act(&s->c[id], &a)) {
				moved = true;
				if (s->n_log[id] < SC_LOG)
					s->log[id][s->n_log[id]++] = (struct sc_entry){a.kind, a};
				switch (a.kind) {
				case PRK_FD_ACT_SEND:
					s->q[s->nq] = a.msg;
					s->q_from[s->nq++] = (uint16_t)id;
					break;
				case PRK_FD_ACT_STALL:
					if (!s->hold_stall[id])
						prk_fdc_stall_done(&s->c[id], s->now);
					break;
				case PRK_FD_ACT_JOIN:
					if (!s->hold_join[id])
						prk_fdc_join_done(&s->c[id], true,
						                  0x1000u * (unsigned)id + 1,
						                  s->now);
					break;
				case PRK_FD_ACT_CHECK:
					prk_fdc_check_done(
					    &s->c[id], !s->check_bad[id],
					    s->check_bad[id] ? "key on 0 of 3 LUs" : "", s->now);
					break;
				case PRK_FD_ACT_ADOPT:
					prk_fdc_adopt_done(&s->c[id], true, s->now);
					break;
				case PRK_FD_ACT_FENCE:
					s->fence[id] = a;
					s->fence_asked[id] = true;
					break;
				default:
					break;
				}
			}
		}
		for (size_t i = 0; i < s->nq; i++) {
			moved = true;
			for (int id = 1; id <= s->n; id++)
				if (s->alive[id] && sc_in_view(s, id) &&
				    sc_in_view(s, s->q_from[i]))
					prk_fdc_deliver(&s->c[id], s->q_from[i], &s->q[i], s->now);
		}
		s->nq = 0;
		if (!moved)
			return;
	}
}

/* A new view for every live member of it. */
static inline void sc_view(struct sc *s, const uint16_t *ids, size_t n)
{
	memcpy(s->view, ids, n * sizeof(*ids));
	s->n_view = n;
	for (size_t i = 0; i < n; i++)
		if (s->alive[ids[i]])
			prk_fdc_confchg(&s->c[ids[i]], ids, n, s->now);
	sc_pump(s);
}

static inline void sc_tick(struct sc *s, uint64_t now)
{
	s->now = now;
	for (int id = 1; id <= s->n; id++)
		if (s->alive[id])
			prk_fdc_tick(&s->c[id], now);
	sc_pump(s);
}

/* n nodes, all in the view, quorate, joined. */
static inline void sc_up(struct sc *s, int n, bool cluster_key)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->now = 1000;
	uint16_t ids[SC_MAX];
	for (int id = 1; id <= n; id++) {
		struct prk_fd_core_cfg cfg = sc_cfg((uint16_t)id, n);
		cfg.cluster_key = cluster_key;
		prk_fdc_init(&s->c[id], &cfg);
		s->alive[id] = true;
		ids[id - 1] = (uint16_t)id;
	}
	sc_view(s, ids, (size_t)n);
	for (int id = 1; id <= n; id++)
		prk_fdc_quorum(&s->c[id], true, s->now);
	sc_pump(s);
}

static inline size_t sc_count(const struct sc *s, int id, enum prk_fd_act_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_log[id]; i++)
		n += s->log[id][i].kind == k;
	return n;
}

/* Position of the nth (0-based) action of kind k, or -1. */
static inline long sc_pos(const struct sc *s, int id, enum prk_fd_act_kind k, size_t nth)
{
	for (size_t i = 0; i < s->n_log[id]; i++)
		if (s->log[id][i].kind == k && nth-- == 0)
			return (long)i;
	return -1;
}

/* Position of the first SEND of message type t at or after from, or -1. */
static inline long sc_sent(const struct sc *s, int id, enum prk_fd_msg_type t, size_t from)
{
	for (size_t i = from; i < s->n_log[id]; i++)
		if (s->log[id][i].kind == PRK_FD_ACT_SEND && s->log[id][i].act.msg.type == t)
			return (long)i;
	return -1;
}

static inline void sc_clear_logs(struct sc *s)
{
	memset(s->n_log, 0, sizeof(s->n_log));
	memset(s->fence_asked, 0, sizeof(s->fence_asked));
}

#endif
