/* Is a three-node cluster one target, through node kills and partitions?
 *
 * Six initiators (two per node, each with its own name and ISID, so six
 * I_T nexuses) send random PR commands to the shared LU at the same time,
 * one thread each: REGISTER and REGISTER AND IGNORE EXISTING KEY with
 * their own keys, RESERVE and RELEASE (types 1, 3, 5, 6), PREEMPT (and
 * PREEMPT AND ABORT) of another's key, now and then a CLEAR, and often PR IN (READ KEYS, READ
 * RESERVATION, READ FULL STATUS: the reads are what make the check
 * strong). Meanwhile the test kills a node (prkitd and Corosync, SIGKILL)
 * and restarts it, then cuts another node off the cluster network and
 * heals it, round after round. Every command goes into a history
 * (docs/testing-cluster.md) with its invoke and return times, and at the
 * end the checker (tests/lincheck) must find an order of the commands,
 * consistent with real time, in which prkit's engine gives every answer.
 *
 * How answers are recorded is the cluster's contract (docs/cluster.md):
 *   - a PR OUT answered NOT READY 04/0C, or not answered at all (timeout,
 *     connection lost), has an unknown outcome: the node may have sent it
 *     to the cluster before it left the primary view. No return.
 *   - UNIT ATTENTION (and BUSY, TASK SET FULL): the command did not run;
 *     not_applied, and the initiator goes on (it does not need the same
 *     command again: the next one is random anyway).
 *   - a PR IN answered with anything but GOOD, or not at all: not_applied
 *     (a read changes nothing).
 *   - every other answer (GOOD, RESERVATION CONFLICT, CHECK CONDITION
 *     ILLEGAL REQUEST...) is one the engine must give at some point inside
 *     the command's interval.
 * A lost answer costs the checker a lot (it may or may not have taken
 * effect, at any later time), so from the moment a fault is injected on a
 * node (half a second after it, for a partition: a few unknown outcomes
 * are wanted) until that node serves again its initiators send only PR
 * IN.
 *
 * PRKIT_LIN_OPS: how many commands at least (default 1,000; the faults go
 * on in rounds until that many were sent). PRKIT_LIN_SEED: the random
 * seed (default: from the clock; printed). PRKIT_LIN_HISTORY: also write
 * the history to this path. The history is always written to the work
 * directory, which is kept when the check fails. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "cluster_harness.h"
#include "harness.h"
#include "lincheck.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"
#include "prkit/scsi_sense.h"

#define N_INI 6
#define N_NODES 3
#define LU_NAME "prkcl0001"
/* The ISID cl_login's libiscsi call gives qualifier q (random format,
 * random part 0x123456). */
#define ISID(q) (0x801234560000ULL | (uint64_t)(q))
/* A command without an answer after this long is lost (a PR OUT may wait
 * for detection + lease + margin, about 3 s, when a node departs). */
#define CMD_TIMEOUT_MS 8000
/* Each initiator waits 0..2*PACE_MS between two commands, so that a fault
 * round (about 12 s) sees about a thousand of them. */
#define PACE_MS 40
#define PRIN_ALLOC 4096
/* How long an initiator only reads after a PR OUT lost its answer. */
#define LOST_READS_MS 300

enum { ANS_OK, ANS_LOST, ANS_NOT_APPLIED };

struct ini {
	int k;    /* 0..N_INI-1 */
	int node; /* 1..N_NODES */
	char name[64];
	uint32_t q;
	struct prk_nexus nx;
	struct iscsi_context *iscsi;
	uint64_t cur; /* the key it believes it is registered with (0: none) */
	uint64_t rnd; /* xorshift state */
	bool done;    /* the callback of the command in flight ran */
	int status;   /* its status */
	bool failed;  /* something a worker cannot assert on (printed) */
	/* After a PR OUT without an answer: only PR IN until then (a node
	 * whose lease lapsed answers NOT READY at once; reads in between
	 * keep the unknown outcomes few and pin them down). */
	int64_t reads_until;
};

static struct {
	struct ini ini[N_INI];
	pthread_mutex_t mu; /* hist and the counters */
	struct prk_lin_history hist;
	atomic_bool stop;
	/* Per node: PR OUT allowed (no fault since it last served), and down
	 * (killed, not restarted yet: do not even try to log in). */
	atomic_bool prout_ok[N_NODES + 1];
	atomic_bool down[N_NODES + 1];
	atomic_size_t n_ops;
	size_t n_prout, n_prin, n_lost_prout, n_not_applied, n_ua, n_not_ready, n_conflict,
	    n_relogin;
	/* PR OUTs without an answer per node: answered NOT READY / none. */
	size_t lost_nr[N_NODES + 1], lost_none[N_NODES + 1];
} L;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t rnd(struct ini *in)
{
	uint64_t x = in->rnd;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return in->rnd = x;
}

static unsigned pick(struct ini *in, unsigned n)
{
	return (unsigned)(rnd(in) % n);
}

/* Initiator k's two keys. */
static uint64_t key_of(int k, unsigned v)
{
	return 0x1000ULL * (uint64_t)(k + 1) + 1 + v;
}

/* A login like cl_login's (same ISID for the same qualifier, so a new
 * session of an initiator is the same I_T nexus), quiet on failure: a
 * worker tries again and again while its node is away. */
static struct iscsi_context *login(int node, const char *ini, uint32_t q)
{
	struct iscsi_context *iscsi = iscsi_create_context(ini);
	if (!iscsi)
		return NULL;
	char addr[64];
	cl_portal(node, addr, sizeof(addr));
	iscsi_set_targetname(iscsi, CL_TARGET);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_noautoreconnect(iscsi, 1);
	iscsi_set_isid_random(iscsi, 0x123456, q);
	iscsi_set_timeout(iscsi, 5);
	if (iscsi_connect_sync(iscsi, addr) != 0 || iscsi_login_sync(iscsi) != 0) {
		iscsi_destroy_context(iscsi);
		return NULL;
	}
	return iscsi;
}

static void cmd_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	(void)iscsi;
	(void)command_data;
	struct ini *in = priv;
	in->status = status;
	in->done = true;
}

/* Sends the task and waits (CMD_TIMEOUT_MS at most) for its answer with
 * the asynchronous API, so that the timeout is ours. Returns true when an
 * answer came (in->status, t->sense, t->datain); false when the session
 * broke or the time ran out: the session is then gone (in->iscsi NULL). */
static bool run_task(struct ini *in, struct scsi_task *t, struct iscsi_data *out)
{
	in->done = false;
	if (iscsi_scsi_command_async(in->iscsi, 0, t, cmd_cb, out, in) != 0)
		goto lost;
	int64_t end = now_ns() + (int64_t)CMD_TIMEOUT_MS * 1000000;
	while (!in->done) {
		int64_t left = (end - now_ns()) / 1000000;
		if (left <= 0)
			goto lost;
		struct pollfd p = {.fd = iscsi_get_fd(in->iscsi),
		                   .events = (short)iscsi_which_events(in->iscsi)};
		int r = poll(&p, 1, left > 100 ? 100 : (int)left);
		if (r < 0 && errno != EINTR)
			goto lost;
		if (iscsi_service(in->iscsi, r > 0 ? p.revents : 0) < 0)
			goto lost;
	}
	/* libiscsi's own failures (connection lost, cancelled, its timeout)
	 * are not SCSI statuses. */
	if (in->status != SCSI_STATUS_GOOD && in->status != SCSI_STATUS_CHECK_CONDITION &&
	    in->status != SCSI_STATUS_RESERVATION_CONFLICT && in->status != SCSI_STATUS_BUSY &&
	    in->status != SCSI_STATUS_TASK_SET_FULL)
		goto lost;
	return true;
lost:
	/* Destroying the context cancels what is in flight (the callback may
	 * run now; the task stays ours). */
	iscsi_destroy_context(in->iscsi);
	in->iscsi = NULL;
	return false;
}

/* Which answers prove that a command was carried out nowhere. */
static bool proves_nothing(const struct scsi_task *t, int status)
{
	if (status == SCSI_STATUS_BUSY || status == SCSI_STATUS_TASK_SET_FULL)
		return true;
	return status == SCSI_STATUS_CHECK_CONDITION && t->sense.key == SCSI_SENSE_UNIT_ATTENTION;
}

static bool not_ready(const struct scsi_task *t, int status)
{
	return status == SCSI_STATUS_CHECK_CONDITION && t->sense.key == SCSI_SENSE_NOT_READY;
}

/* Sends one command (cdb, and params for a PR OUT) through in's session
 * and appends it to the history. Returns the SCSI status, or -1 when no
 * answer came. */
static int command(struct ini *in, bool prout, const uint8_t *cdb, size_t cdb_len, uint8_t *params,
                   size_t params_len)
{
	struct prk_lin_op op;
	memset(&op, 0, sizeof(op));
	snprintf(op.lu, sizeof(op.lu), "%s", LU_NAME);
	op.nx = in->nx;
	op.kind = prout ? PRK_LIN_PROUT : PRK_LIN_PRIN;
	memcpy(op.cdb, cdb, cdb_len);
	op.cdb_len = cdb_len;
	op.params = params;
	op.params_len = params_len;

	struct scsi_task *t = scsi_create_task((int)cdb_len, (unsigned char *)cdb,
	                                       prout ? SCSI_XFER_WRITE : SCSI_XFER_READ,
	                                       prout ? (int)params_len : PRIN_ALLOC);
	if (!t) {
		in->failed = true;
		return -1;
	}
	struct iscsi_data out = {.size = params_len, .data = params};
	op.invoke_ns = now_ns();
	bool answered = run_task(in, t, prout ? &out : NULL);
	int64_t ret = now_ns();
	int status = answered ? in->status : -1;

	int outcome = ANS_OK;
	if (!answered)
		outcome = prout ? ANS_LOST : ANS_NOT_APPLIED;
	else if (proves_nothing(t, status))
		outcome = ANS_NOT_APPLIED;
	else if (not_ready(t, status))
		outcome = prout ? ANS_LOST : ANS_NOT_APPLIED;
	else if (!prout && status != SCSI_STATUS_GOOD)
		outcome = ANS_NOT_APPLIED;

	if (outcome == ANS_NOT_APPLIED) {
		/* The times still matter to people reading the history. */
		op.not_applied = true;
		op.answered = answered;
	} else {
		op.answered = outcome == ANS_OK;
	}
	if (op.answered) {
		op.return_ns = ret;
		op.status = (uint8_t)status;
		if (status == SCSI_STATUS_CHECK_CONDITION) {
			op.has_sense = true;
			op.sense_key = (uint8_t)t->sense.key;
			op.asc = (uint8_t)(t->sense.ascq >> 8);
			op.ascq = (uint8_t)(t->sense.ascq & 0xff);
		}
		if (!prout && status == SCSI_STATUS_GOOD) {
			op.has_data = true;
			op.data = t->datain.data;
			op.data_len = t->datain.size > 0 ? (size_t)t->datain.size : 0;
		}
	}

	pthread_mutex_lock(&L.mu);
	op.id = L.hist.n;
	if (prk_lin_history_add(&L.hist, &op) != 0)
		in->failed = true;
	if (prout)
		L.n_prout++;
	else
		L.n_prin++;
	if (outcome == ANS_LOST && prout) {
		in->reads_until = ret + (int64_t)LOST_READS_MS * 1000000;
		L.n_lost_prout++;
		if (answered)
			L.lost_nr[in->node]++;
		else
			L.lost_none[in->node]++;
	}
	if (outcome == ANS_NOT_APPLIED)
		L.n_not_applied++;
	if (answered && status == SCSI_STATUS_CHECK_CONDITION &&
	    t->sense.key == SCSI_SENSE_UNIT_ATTENTION)
		L.n_ua++;
	if (answered && not_ready(t, status))
		L.n_not_ready++;
	if (status == SCSI_STATUS_RESERVATION_CONFLICT)
		L.n_conflict++;
	pthread_mutex_unlock(&L.mu);
	atomic_fetch_add(&L.n_ops, 1);
	scsi_free_scsi_task(t);
	return status;
}

static int prout(struct ini *in, uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key)
{
	uint8_t cdb[10], params[24];
	struct prk_prout_cdb c = {
	    .sa = sa, .scope = PRK_PR_SCOPE_LU, .type = type, .param_len = 24};
	size_t cl = prk_prout_cdb_encode(&c, cdb);
	size_t pl = prk_prout_params_encode_basic(key, sa_key, false, false, NULL, 0, params,
	                                          sizeof(params));
	return command(in, true, cdb, cl, params, pl);
}

static void prin(struct ini *in, uint8_t sa)
{
	uint8_t cdb[10];
	struct prk_prin_cdb c = {.sa = sa, .alloc_len = PRIN_ALLOC};
	size_t cl = prk_prin_cdb_encode(&c, cdb);
	command(in, false, cdb, cl, NULL, 0);
}

static const uint8_t types[] = {PRK_PR_WE, PRK_PR_EA, PRK_PR_WE_RO, PRK_PR_EA_RO};

/* The key of a command that needs in's registration: usually the one it
 * believes in, sometimes another of its own (a stale belief is tested
 * too). */
static uint64_t my_key(struct ini *in)
{
	if (in->cur && pick(in, 5) != 0)
		return in->cur;
	return key_of(in->k, pick(in, 2));
}

/* One random command. */
static void one(struct ini *in)
{
	unsigned r = pick(in, 100);
	if (r < 45 || !atomic_load(&L.prout_ok[in->node]) || now_ns() < in->reads_until) {
		static const uint8_t sas[] = {PRK_PRIN_READ_KEYS, PRK_PRIN_READ_KEYS,
		                              PRK_PRIN_READ_RESERVATION, PRK_PRIN_READ_FULL_STATUS};
		prin(in, sas[pick(in, 4)]);
		return;
	}
	uint8_t type = types[pick(in, 4)];
	if (r < 59) {
		uint64_t to = pick(in, 7) ? key_of(in->k, pick(in, 2)) : 0;
		if (prout(in, PRK_PROUT_REGISTER, 0, in->cur, to) == SCSI_STATUS_GOOD)
			in->cur = to;
	} else if (r < 71) {
		uint64_t to = pick(in, 10) ? key_of(in->k, pick(in, 2)) : 0;
		if (prout(in, PRK_PROUT_REGISTER_AND_IGNORE, 0, 0, to) == SCSI_STATUS_GOOD)
			in->cur = to;
	} else if (r < 83) {
		prout(in, PRK_PROUT_RESERVE, type, my_key(in), 0);
	} else if (r < 91) {
		prout(in, PRK_PROUT_RELEASE, type, my_key(in), 0);
	} else if (r < 99) {
		/* A third of them PREEMPT AND ABORT: the same for the PR state,
		 * but every other node runs its abort barrier for it. */
		int other = (in->k + 1 + (int)pick(in, N_INI - 1)) % N_INI;
		uint8_t sa = pick(in, 3) ? PRK_PROUT_PREEMPT : PRK_PROUT_PREEMPT_AND_ABORT;
		prout(in, sa, type, my_key(in), key_of(other, pick(in, 2)));
	} else {
		prout(in, PRK_PROUT_CLEAR, 0, my_key(in), 0);
	}
}

static void *worker(void *arg)
{
	struct ini *in = arg;
	while (!atomic_load(&L.stop)) {
		if (!in->iscsi) {
			if (atomic_load(&L.down[in->node])) {
				sleep_ms(50);
				continue;
			}
			in->iscsi = login(in->node, in->name, in->q);
			if (!in->iscsi) {
				sleep_ms(200);
				continue;
			}
			pthread_mutex_lock(&L.mu);
			L.n_relogin++;
			pthread_mutex_unlock(&L.mu);
		}
		one(in);
		sleep_ms((unsigned)pick(in, 2 * PACE_MS + 1));
	}
	if (in->iscsi) {
		iscsi_logout_sync(in->iscsi);
		iscsi_destroy_context(in->iscsi);
		in->iscsi = NULL;
	}
	return NULL;
}

static int teardown(void **state)
{
	(void)state;
	cl_down();
	return 0;
}

static int setup3(void **state)
{
	(void)state;
	return cl_up(N_NODES, NULL);
}

static int64_t t0_ns;

static double secs(void)
{
	return (double)(now_ns() - t0_ns) / 1e9;
}

/* Node i crashes (prkitd and Corosync), stays down a while and restarts;
 * returns when it serves again. */
static void fault_kill(int i)
{
	atomic_store(&L.prout_ok[i], false);
	atomic_store(&L.down[i], true);
	print_message("# %6.2f s: kill node %d\n", secs(), i);
	cl_kill(i);
	sleep_ms(2000);
	assert_int_equal(cl_start(i), 0);
	atomic_store(&L.down[i], false);
	assert_true(cl_wait_serving(i, 30000));
	print_message("# %6.2f s: node %d serves again\n", secs(), i);
	atomic_store(&L.prout_ok[i], true);
}

/* Node i loses every cluster link for long enough that its lease runs
 * out (it keeps its front network: its initiators still reach it), then
 * the links come back; returns when it serves again. */
static void fault_partition(int i)
{
	print_message("# %6.2f s: partition node %d\n", secs(), i);
	assert_int_equal(cl_partition(i), 0);
	/* For half a second more (well inside the lease and the detection
	 * time) its initiators may still send PR OUT: those the node sends
	 * to a ring that is gone are the unknown outcomes the checker must
	 * place or drop. */
	sleep_ms(500);
	atomic_store(&L.prout_ok[i], false);
	sleep_ms(3500);
	assert_int_equal(cl_heal(i), 0);
	print_message("# %6.2f s: heal node %d\n", secs(), i);
	assert_true(cl_wait_serving(i, 30000));
	print_message("# %6.2f s: node %d serves again\n", secs(), i);
	atomic_store(&L.prout_ok[i], true);
}

static size_t env_size(const char *name, size_t dflt)
{
	const char *e = getenv(name);
	return e && *e ? (size_t)strtoull(e, NULL, 10) : dflt;
}

static void write_history(const char *path)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < L.hist.n; i++)
		assert_int_equal(prk_lin_op_write(f, &L.hist.ops[i]), 0);
	assert_int_equal(fclose(f), 0);
}

static void test_linearizable(void **state)
{
	(void)state;
	size_t target = env_size("PRKIT_LIN_OPS", 1000);
	uint64_t seed = env_size("PRKIT_LIN_SEED", 0);
	if (!seed)
		seed = (uint64_t)now_ns() | 1;
	print_message("# seed %llu (PRKIT_LIN_SEED), at least %zu commands (PRKIT_LIN_OPS)\n",
	              (unsigned long long)seed, target);
	cl_failed = true; /* until the check passed: keep the logs */

	memset(&L, 0, sizeof(L));
	pthread_mutex_init(&L.mu, NULL);
	for (int i = 1; i <= N_NODES; i++)
		atomic_store(&L.prout_ok[i], true);
	pthread_t th[N_INI];
	t0_ns = now_ns();
	for (int k = 0; k < N_INI; k++) {
		struct ini *in = &L.ini[k];
		in->k = k;
		in->node = k / 2 + 1;
		in->q = 0x40 + (uint32_t)k;
		snprintf(in->name, sizeof(in->name), "iqn.2026-11.io.prkit.test:lin-%d", k);
		assert_int_equal(prk_nexus_init(&in->nx, in->name, ISID(in->q), (uint16_t)in->node),
		                 0);
		in->rnd = seed * 0x9e3779b97f4a7c15ULL + (uint64_t)k * 0x632be59bd9b4e019ULL + 1;
		assert_int_equal(pthread_create(&th[k], NULL, worker, in), 0);
	}

	/* Rounds of faults, each on other nodes, until enough commands were
	 * sent: node v is killed and restarted, then node v+1 cut off and
	 * healed. */
	int kills = 0, partitions = 0;
	for (int round = 0; round == 0 || atomic_load(&L.n_ops) < target; round++) {
		int v = 3 - round % 3;
		sleep_ms(1500);
		fault_kill(v);
		kills++;
		sleep_ms(1500);
		fault_partition(v % 3 + 1);
		partitions++;
		sleep_ms(1000);
	}
	while (atomic_load(&L.n_ops) < target)
		sleep_ms(50);
	atomic_store(&L.stop, true);
	for (int k = 0; k < N_INI; k++)
		pthread_join(th[k], NULL);
	double run_s = secs();
	for (int k = 0; k < N_INI; k++)
		assert_false(L.ini[k].failed);

	char path[512];
	snprintf(path, sizeof(path), "%s/lin-history.jsonl", cl_work());
	write_history(path);
	const char *keep = getenv("PRKIT_LIN_HISTORY");
	if (keep && *keep)
		write_history(keep);
	print_message("# %zu commands in %.1f s (%d kills, %d partitions): %zu PR OUT (%zu without "
	              "an answer, %.1f%%), %zu PR IN; %zu not applied (%zu unit attentions, %zu "
	              "NOT READY), %zu reservation conflicts, %zu logins\n",
	              L.hist.n, run_s, kills, partitions, L.n_prout, L.n_lost_prout,
	              L.n_prout ? 100.0 * (double)L.n_lost_prout / (double)L.n_prout : 0.0,
	              L.n_prin, L.n_not_applied, L.n_ua, L.n_not_ready, L.n_conflict, L.n_relogin);
	for (int i = 1; i <= N_NODES; i++)
		print_message("# node %d: %zu PR OUT answered NOT READY, %zu not answered\n", i,
		              L.lost_nr[i], L.lost_none[i]);
	print_message("# history: %s\n", path);
	assert_true(L.hist.n >= target);
	assert_true(kills >= 1 && partitions >= 1);
	/* The cut-off nodes refused while their lease was over: the faults
	 * reached the commands. */
	assert_true(L.n_not_ready > 0);

	struct prk_lin_verdict v;
	int64_t c0 = now_ns();
	enum prk_lin_result res = prk_lin_check(&L.hist, NULL, &v);
	double check_s = (double)(now_ns() - c0) / 1e9;
	static const char *const names[] = {"linearizable", "not linearizable", "undecided",
	                                    "failed"};
	print_message("# checker: %s: %zu ops checked, %zu not applied, %zu configurations, "
	              "%.3f s\n",
	              names[res], v.n_ops, v.n_skipped, v.configs, check_s);
	/* Only the faults the test made: every node is alive and serves at
	 * the end (a prkitd that crashed on its own is a failure too). */
	for (int i = 1; i <= N_NODES; i++)
		if (!cl_wait_serving(i, 10000))
			fail_msg("node %d does not serve at the end (see its log)", i);
	if (res != PRK_LIN_LINEARIZABLE)
		fail_msg("%s: %s (history kept: %s)", names[res], v.explain, path);
	prk_lin_history_free(&L.hist);
	pthread_mutex_destroy(&L.mu);
	cl_failed = false;
}

int main(void)
{
	if (cl_skip_all())
		return 0;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_linearizable, setup3, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
