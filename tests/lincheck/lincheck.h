/* A linearizability checker for histories of persistent-reservation
 * commands, for the cluster tests (docs/testing-cluster.md).
 *
 * A history is what several initiators saw while they sent PR OUT, PR IN and
 * SPC-2 RESERVE/RELEASE to a cluster: for each command its I_T nexus, bytes,
 * when it was sent and (if an answer came) when it completed and with what.
 * It is linearizable when some total order of the commands, consistent with
 * real time (a command that completed before another was sent comes first),
 * makes prkit's own PR engine (include/prkit/pr.h), run sequentially,
 * give every recorded answer. Commands without an answer may take effect at
 * any time after they were sent, or never.
 *
 * The search is Wing & Gong's with Lowe's memoization: a configuration (the
 * set of commands already placed, the engine state) is explored once. Each
 * LU is checked on its own (their states are independent).
 *
 * Test code: not installed, not part of the public API. */
#ifndef PRKIT_TESTS_LINCHECK_H
#define PRKIT_TESTS_LINCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prkit/pr.h"

enum prk_lin_kind {
	PRK_LIN_PROUT, /* PERSISTENT RESERVE OUT */
	PRK_LIN_PRIN,  /* PERSISTENT RESERVE IN */
	PRK_LIN_SPC2,  /* RESERVE(6/10) / RELEASE(6/10) */
};

#define PRK_LIN_LU_MAX 255
#define PRK_LIN_CDB_MAX 16

/* One command of the history (one line of the file). */
struct prk_lin_op {
	uint64_t id; /* the recorder's number, used in explanations */
	size_t line; /* 1-based line in the file; 0 when built in memory */
	char lu[PRK_LIN_LU_MAX + 1];
	struct prk_nexus nx;
	enum prk_lin_kind kind;
	uint8_t cdb[PRK_LIN_CDB_MAX];
	size_t cdb_len;
	uint8_t *params; /* malloc'ed (NULL when empty) */
	size_t params_len;
	int64_t invoke_ns;
	bool answered; /* return_ns, status (and sense, data) are valid */
	int64_t return_ns;
	uint8_t status;
	bool has_sense; /* sense key / ASC / ASCQ of a CHECK CONDITION */
	uint8_t sense_key, asc, ascq;
	uint8_t *data; /* PR IN data returned (malloc'ed, NULL when none) */
	size_t data_len;
	bool has_data;
	/* The recorder knows the command was carried out nowhere (e.g. NOT
	 * READY 04/0C from a node that is not serving): the checker skips it. */
	bool not_applied;
};

struct prk_lin_history {
	struct prk_lin_op *ops;
	size_t n, cap;
};

/* Limits that keep the checker's memory bounded. */
#define PRK_LIN_LINE_MAX (1u << 20)
#define PRK_LIN_OPS_MAX 4000000u

/* ---- The file format (history.c) ---- */

/* Parses one line (a JSON object) into *op. Returns 0, or -1 with a message
 * naming the field in err. op->params / op->data are malloc'ed on success. */
int prk_lin_op_parse(const char *line, size_t lineno, struct prk_lin_op *op, char *err,
                     size_t errcap);
/* Reads a whole history (empty lines are ignored). Returns 0, or -1 with
 * "line N: ..." in err (the history is then empty). */
int prk_lin_history_read(FILE *f, struct prk_lin_history *h, char *err, size_t errcap);
/* Appends a copy of *op (params/data are copied). Returns 0 or -1. */
int prk_lin_history_add(struct prk_lin_history *h, const struct prk_lin_op *op);
void prk_lin_history_free(struct prk_lin_history *h);
void prk_lin_op_free(struct prk_lin_op *op);
/* Writes *op as one line in the file format; for recorders. Returns 0 or -1. */
int prk_lin_op_write(FILE *f, const struct prk_lin_op *op);

/* ---- Descriptions for people (describe.c) ---- */

/* "PR IN READ KEYS from iqn...,isid 0x...,rtpi 2" */
void prk_lin_op_describe(const struct prk_lin_op *op, char *buf, size_t cap);
/* The answer as recorded or as computed: "GOOD", "CHECK CONDITION 5/24/00",
 * "RESERVATION CONFLICT", and for PR IN data "generation 5, keys [0x1]"... */
void prk_lin_answer_describe(const struct prk_lin_op *op, uint8_t status, bool has_sense,
                             uint8_t key, uint8_t asc, uint8_t ascq, const uint8_t *data,
                             size_t data_len, char *buf, size_t cap);

/* ---- The check (lincheck.c) ---- */

enum prk_lin_result {
	PRK_LIN_LINEARIZABLE,
	PRK_LIN_NOT_LINEARIZABLE,
	PRK_LIN_UNDECIDED, /* the configuration budget ran out */
	PRK_LIN_FAILED,    /* out of memory */
};

struct prk_lin_options {
	/* Stop with PRK_LIN_UNDECIDED after this many distinct configurations
	 * (summed over the LUs); 0 = PRK_LIN_DEFAULT_MAX_CONFIGS. */
	size_t max_configs;
};
#define PRK_LIN_DEFAULT_MAX_CONFIGS 1000000u

struct prk_lin_verdict {
	enum prk_lin_result result;
	size_t n_ops;     /* commands checked */
	size_t n_skipped; /* not_applied commands left out */
	size_t n_lus;
	size_t configs; /* configurations explored */
	/* Not linearizable: index in the history of the command no order could
	 * satisfy, at the deepest point the search reached. */
	size_t bad_op;
	char explain[2048];
};

/* Checks h. opt may be NULL. Fills *v and returns v->result. */
enum prk_lin_result prk_lin_check(const struct prk_lin_history *h,
                                  const struct prk_lin_options *opt, struct prk_lin_verdict *v);

/* ---- Generated histories, for tests and measurements (gen.c) ----
 * A random sequential run of PR commands from several initiators through
 * the engine, each command at its own instant; then every command's
 * interval is widened around that instant by a random jitter, so that
 * commands overlap, and a share of them lose their answer (half of those
 * took effect in the run, half did not). Linearizable by construction. */
struct prk_lin_gen {
	size_t n_ops;
	uint64_t seed;
	unsigned unanswered_pct; /* 0..100 */
	unsigned initiators;     /* 1..26 */
	int64_t spacing_ns;      /* between two commands' instants */
	int64_t jitter_ns;       /* each end moves by up to this much */
	const char *lu;
};
/* Appends the commands to h (ids from 0). Returns 0 or -1. */
int prk_lin_gen_history(struct prk_lin_history *h, const struct prk_lin_gen *g);
/* Breaks one answered READ KEYS (the first at or after 2/3 of the history):
 * its generation becomes 0xfffffff0, which no order of the commands can
 * give. Returns its index, or -1 if there is none. */
long prk_lin_gen_corrupt(struct prk_lin_history *h);

#endif
