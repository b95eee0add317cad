/* prkit fenced: the decisions, pure (no I/O, no clocks, no threads, no
 * allocation). The daemon (fd_daemon.c) feeds it what Corosync delivers
 * (configuration changes, quorum, messages), the outcomes of the storage
 * and local-I/O steps it asked for, and the time; it answers with actions
 * (stall, resume, fail the local I/O, join, fence, adopt a key, check,
 * multicast a message), taken in order with prk_fdc_next_act. Unit tests
 * drive several cores as a simulated cluster (tests/unit/fenced/).
 *
 * The rules (docs/fenced.md):
 * - Membership is the CPG group's (one daemon per Corosync node). A member
 *   that leaves without having sent LEAVE becomes a victim: on a node
 *   down, a crash of the daemon, or a kill.
 * - On a configuration change that adds victims, every member that has
 *   joined stalls its local I/O at once (STALL), and multicasts STALLED
 *   once the stall is in place (prk_fdc_stall_done).
 * - A victim that is back in the view before it was fenced is a member
 *   again (a healed partition; a restart, whose JOIN removes its stale
 *   key itself).
 * - The executor is the lowest node id among the members of the current
 *   view whose HELLO said joined (a node that has not joined, or has
 *   self-fenced, holds no key to PREEMPT with), and it acts only once it
 *   has heard the HELLO of every member below it. It acts only
 *   when this node may act (quorate per votequorum and, unless the
 *   cluster has a quorum device or is a two-node cluster, the view holds
 *   a majority of the configured nodes: a minority must never fence the
 *   majority because its quorum news came late). It waits for STALLED
 *   from every joined member of the view (at most stall_ack_ms; its own
 *   stall must be in place), then asks for FENCE of every pending victim;
 *   on success it multicasts FENCED, and every member drops those victims
 *   from its pending set when FENCED is delivered (only if the sender's
 *   STALLED covered that set since it last grew: FENCED names node ids,
 *   and a stale one must not release a victim's later life), and resumes
 *   once none is left (in cluster-key mode after adopting the new key:
 *   ADOPT, prk_fdc_adopt_done). Joined, stalled members re-send STALLED
 *   after every configuration change, so newcomers learn it.
 * - If the executor leaves midway, the next view has a new executor, which
 *   fences the union of what is pending (fencing is idempotent).
 * - FENCE answered LOST (this node's own key was gone at the first LU of
 *   the race: another side won) or a self-check that finds the key
 *   missing from a majority: self-fence (FAIL, WATCHDOG_OFF), for good.
 * - Quorum lost: STALL at once; if still inquorate self_fence_ms later,
 *   self-fence. Quorum back in time: CHECK; a good check resumes, a bad
 *   one self-fences.
 * - A check at least every check_ms (CHECK, prk_fdc_check_done) while
 *   RUNNING; "no devices" or "no key" is a failure.
 * - Joining: once quorate, a member of the group, every member's HELLO
 *   heard in this view (a member still fencing this node's former life
 *   by node id says HELLO only afterwards) and nothing pending (a
 *   departed node may be fencing this one), JOIN (new
 *   incarnation, stale own keys removed, local processes re-keyed while
 *   their I/O is stalled); then HELLO; then RUNNING. A node that is not
 *   joined neither stalls nor is waited for; one whose JOIN was under way
 *   when victims appeared stalls once joined and acknowledges like the
 *   others. */
#ifndef PRKIT_FENCED_FD_CORE_H
#define PRKIT_FENCED_FD_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fd_msg.h"

#define PRK_FD_MAX_NODES 64
#define PRK_FD_MAX_ACTS 32

enum prk_fd_state {
	PRK_FD_STARTING,    /* not yet in the group or not yet quorate */
	PRK_FD_JOINING,     /* JOIN asked, not answered */
	PRK_FD_RUNNING,     /* joined, nothing pending */
	PRK_FD_FENCING,     /* victims pending: local I/O stalled */
	PRK_FD_INQUORATE,   /* quorum lost: stalled, self-fence deadline armed */
	PRK_FD_SELF_FENCED, /* local I/O failed for good (restart to rejoin) */
	PRK_FD_STOPPING,    /* LEAVE sent */
};
const char *prk_fd_state_name(enum prk_fd_state s);

enum prk_fd_act_kind {
	PRK_FD_ACT_STALL,        /* stall every device of every local process; answer stall_done */
	PRK_FD_ACT_RESUME,       /* release that stall */
	PRK_FD_ACT_FAIL,         /* self-fence: local I/O fails (why says why) */
	PRK_FD_ACT_JOIN,         /* storage join; answer join_done */
	PRK_FD_ACT_FENCE,        /* executor: fence victims[]; answer fence_done */
	PRK_FD_ACT_ADOPT,        /* cluster-key mode: take key; answer adopt_done */
	PRK_FD_ACT_CHECK,        /* self-check now; answer check_done */
	PRK_FD_ACT_SEND,         /* multicast msg */
	PRK_FD_ACT_WATCHDOG_OFF, /* stop feeding the watchdog */
	PRK_FD_ACT_LOG,          /* a line for the log (why) */
};
const char *prk_fd_act_name(enum prk_fd_act_kind k);

struct prk_fd_act {
	enum prk_fd_act_kind kind;
	uint16_t victims[PRK_FD_MAX_VICTIMS]; /* FENCE */
	size_t n_victims;
	uint64_t key;          /* ADOPT */
	struct prk_fd_msg msg; /* SEND */
	char why[160];         /* FAIL, LOG, STALL: a sentence for the log */
};

struct prk_fd_core_cfg {
	uint16_t nodeid;        /* this node (1..65535) */
	bool cluster_key;       /* key_mode "cluster" */
	size_t n_configured;    /* nodes in corosync's nodelist */
	bool majority_by_votes; /* qdevice or two_node: trust votequorum alone */
	unsigned self_fence_ms; /* inquorate this long: self-fence */
	unsigned check_ms;      /* self-check period (<= 1000) */
	unsigned stall_ack_ms;  /* executor waits this long for STALLED */
	unsigned retry_ms;      /* a failed FENCE/JOIN is asked again after this */
};

/* The last fencing round this node saw complete (for status and the
 * benchmark). Times are the `now` values the core was given. */
struct prk_fd_round {
	bool valid;
	uint16_t victims[PRK_FD_MAX_VICTIMS];
	size_t n_victims;
	uint16_t executor;
	uint8_t result;      /* PRK_FD_RESULT_* */
	uint64_t changed_ms; /* the configuration change that made the first victim */
	uint64_t stalled_ms; /* our local stall in place (0: we had none) */
	uint64_t fenced_ms;  /* FENCED delivered */
	uint64_t resumed_ms; /* our stall released (0: not yet / none) */
};

struct prk_fd_member {
	uint16_t nodeid;
	bool joined;  /* its HELLO said joined */
	bool stalled; /* its STALLED arrived for the current pending set */
	bool heard;   /* a HELLO from it arrived since it entered the view */
	uint64_t key; /* from its HELLO */
};

struct prk_fd_core {
	struct prk_fd_core_cfg cfg;
	enum prk_fd_state state;
	bool in_group, quorate, joined, stalled_local, leave_sent;
	bool stall_in_place; /* stall_done arrived for the STALL asked */
	uint64_t key;        /* ours, 0 before joining */
	struct prk_fd_member members[PRK_FD_MAX_NODES];
	size_t n_members;
	uint16_t left_announced[PRK_FD_MAX_NODES]; /* sent LEAVE, not yet gone */
	size_t n_left_announced;
	uint16_t pending[PRK_FD_MAX_NODES]; /* victims not yet fenced */
	size_t n_pending;
	bool fence_running, join_running, check_running, adopt_running;
	uint64_t pending_since_ms, acks_deadline_ms, inquorate_deadline_ms, next_check_ms,
	    retry_at_ms;
	uint64_t adopt_key;
	struct prk_fd_round cur, last;
	char self_fence_reason[160];
	struct prk_fd_act q[PRK_FD_MAX_ACTS];
	size_t q_head, q_len;
};

void prk_fdc_init(struct prk_fd_core *c, const struct prk_fd_core_cfg *cfg);

/* ---- inputs ---- */
/* A CPG configuration change: the members now (node ids, any order,
 * duplicates ignored) and, for each that left, whether Corosync lost its
 * node (informational: any departure without LEAVE makes a victim). */
void prk_fdc_confchg(struct prk_fd_core *c, const uint16_t *members, size_t n, uint64_t now);
void prk_fdc_quorum(struct prk_fd_core *c, bool quorate, uint64_t now);
/* A message delivered by CPG from node `from` (already decoded). */
void prk_fdc_deliver(struct prk_fd_core *c, uint16_t from, const struct prk_fd_msg *m,
                     uint64_t now);
/* Deadlines: call at least every 100 ms and after every input. */
void prk_fdc_tick(struct prk_fd_core *c, uint64_t now);
/* Outcomes of actions. */
void prk_fdc_stall_done(struct prk_fd_core *c, uint64_t now);
void prk_fdc_join_done(struct prk_fd_core *c, bool ok, uint64_t key, uint64_t now);
/* lost: our own key was gone (another side won the race). new_key: the
 * cluster key in cluster-key mode (0 in node mode). */
void prk_fdc_fence_done(struct prk_fd_core *c, bool ok, bool lost, uint64_t new_key, uint64_t now);
void prk_fdc_adopt_done(struct prk_fd_core *c, bool ok, uint64_t now);
/* ok: our key is on a majority of the LUs that count. */
void prk_fdc_check_done(struct prk_fd_core *c, bool ok, const char *why, uint64_t now);
/* SIGTERM: multicast LEAVE (registration kept), then the daemon exits. */
void prk_fdc_shutdown(struct prk_fd_core *c, uint64_t now);

/* ---- outputs ---- */
/* The next action (true), or false when none is queued. */
bool prk_fdc_next_act(struct prk_fd_core *c, struct prk_fd_act *out);
/* The executor of the current view (0: none, e.g. not in the group). */
uint16_t prk_fdc_executor(const struct prk_fd_core *c);
/* May this node act for the cluster now (quorate and, where it counts, a
 * majority of the configured nodes in the view)? */
bool prk_fdc_may_act(const struct prk_fd_core *c);

#endif
