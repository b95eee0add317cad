/* prkit fenced: the messages the daemons of one cluster multicast to each
 * other over CPG (docs/fenced.md, "Protocol"). Pure: no I/O, no
 * allocation. Every message comes from another node's daemon over the
 * network, so the decoder takes arbitrary bytes (tests/fuzz/fuzz_fd_msg.c)
 * and names the field it refuses.
 *
 * Wire layout (all integers big-endian):
 *   0..3  magic "PRFD"
 *   4     version (1)
 *   5     type (enum prk_fd_msg_type)
 *   6..7  body length in bytes (exactly what the type's body takes)
 *   8..   body
 * Bodies:
 *   HELLO   nodeid u16, flags u8 (bit0 joined), pad u8, key u64
 *   LEAVE   nodeid u16
 *   STALLED nodeid u16, n u8, pad u8, victims u16[n]   (n <= PRK_FD_MAX_VICTIMS)
 *   FENCED  executor u16, result u8, n u8, key u64, victims u16[n]
 * A message longer or shorter than its header says, an unknown type or
 * version, a node id 0, n above the limit, a result out of range, or a
 * victim listed twice is refused. */
#ifndef PRKIT_FENCED_FD_MSG_H
#define PRKIT_FENCED_FD_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRK_FD_MSG_MAGIC "PRFD"
#define PRK_FD_MSG_VERSION 1
#define PRK_FD_MSG_HDR 8
/* Victims one fencing round may name (more departed nodes than this at
 * once are fenced in several rounds). */
#define PRK_FD_MAX_VICTIMS 32
#define PRK_FD_MSG_MAX (PRK_FD_MSG_HDR + 12 + 2 * PRK_FD_MAX_VICTIMS)

enum prk_fd_msg_type {
	/* A daemon's announcement after it joined (registered its key) and
	 * after every configuration change it sees: who it is, its key. */
	PRK_FD_MSG_HELLO = 1,
	/* An orderly shutdown: the sender leaves on purpose; the others do
	 * not fence it when it leaves the group. */
	PRK_FD_MSG_LEAVE = 2,
	/* The sender's local I/O is stalled for these departed nodes. */
	PRK_FD_MSG_STALLED = 3,
	/* The executor fenced these victims on every LU (result OK), or gave
	 * up (result LOST: it was fenced itself). key: cluster-key mode, the
	 * new cluster key every member adopts; 0 in node mode. */
	PRK_FD_MSG_FENCED = 4,
};

enum prk_fd_fence_result { PRK_FD_RESULT_OK = 0, PRK_FD_RESULT_LOST = 1 };

struct prk_fd_msg {
	enum prk_fd_msg_type type;
	uint16_t nodeid; /* HELLO, LEAVE, STALLED: the sender; FENCED: the executor */
	bool joined;     /* HELLO */
	uint64_t key;    /* HELLO: the sender's key (0: none yet); FENCED: see above */
	uint8_t result;  /* FENCED */
	uint16_t victims[PRK_FD_MAX_VICTIMS]; /* STALLED, FENCED */
	size_t n_victims;
};

const char *prk_fd_msg_type_name(enum prk_fd_msg_type t);

/* Encodes m into buf (cap bytes). The length, or -1 when m is invalid (the
 * same rules as the decoder) or does not fit. */
int prk_fd_msg_encode(const struct prk_fd_msg *m, uint8_t *buf, size_t cap);
/* Decodes len bytes. 0, or -1 with a one-line message naming the field in
 * err (errlen may be 0). */
int prk_fd_msg_decode(const uint8_t *buf, size_t len, struct prk_fd_msg *m, char *err,
                      size_t errlen);

#endif
