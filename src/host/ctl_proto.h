/* The control socket's wire format (docs/host.md, "Control socket"): one
 * JSON object per line, a request from the client, one reply from the
 * process. Pure: no I/O (json-c allocates). The server parses requests
 * from any local process of our uid, the client parses replies, so both
 * parsers take arbitrary bytes (tests/fuzz/fuzz_ctl.c). */
#ifndef PRKIT_HOST_CTL_PROTO_H
#define PRKIT_HOST_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prkit/host_ctl.h"

/* A request line longer than this (without its newline) closes the
 * connection. */
#define CTL_LINE_MAX 4096
/* A reply line (a list of many devices) may be this long. */
#define CTL_REPLY_MAX (1u << 20)
/* The longest stall a request may ask for (max_ms). */
#define CTL_MAX_MS_LIMIT 3600000u
/* The longest reason of a fail request (it goes to the process's log). */
#define CTL_REASON_MAX 200

enum ctl_op { CTL_OP_LIST, CTL_OP_STALL, CTL_OP_RESUME, CTL_OP_SET_KEY, CTL_OP_FAIL };
const char *prk_ctl_op_name(enum ctl_op op);

struct ctl_req {
	enum ctl_op op;
	char naa[33];                    /* stall, resume, set_key: 1 to 32 hex digits */
	unsigned max_ms;                 /* stall: 1 to CTL_MAX_MS_LIMIT */
	uint64_t old_key, new_key;       /* set_key: old 0 = register; new != 0 */
	char reason[CTL_REASON_MAX + 1]; /* fail: printable ASCII, 1 to CTL_REASON_MAX */
};

/* Parses one request (len bytes, without the newline; any bytes). 0, or
 * -1 with a one-line message in err that names the field. Every op takes
 * exactly its fields: list {op}; stall {op, naa, max_ms}; resume {op,
 * naa}; set_key {op, naa, old_key, new_key}; fail {op, naa, reason}. */
int prk_ctl_req_parse(const char *line, size_t len, struct ctl_req *r, char *err, size_t errlen);
/* The request as one line ending in '\n' (malloc'd; NULL: out of memory). */
char *prk_ctl_req_format(const struct ctl_req *r);

struct ctl_reply {
	bool ok;
	/* !ok: what failed (the process's message); ok && !present: why
	 * nothing was done (no such device, not using that key). */
	char error[256];
	bool present; /* stall, resume, set_key: something was done */
	bool fenced;  /* set_key failed because our registration is gone */
	bool is_list; /* the reply carries "devices" */
	struct prk_ctl_dev *devs;
	size_t n_devs;
};

/* The reply as one line ending in '\n' (malloc'd; NULL: out of memory). */
char *prk_ctl_reply_format(const struct ctl_reply *r);
/* Parses a reply (len bytes, without the newline). The devices of a list
 * go to devs (at most cap of them; r->n_devs says how many were stored).
 * Unknown members are ignored (a newer process may add some). 0, or -1
 * with err. */
int prk_ctl_reply_parse(const char *line, size_t len, struct ctl_reply *r, struct prk_ctl_dev *devs,
                        size_t cap, char *err, size_t errlen);

/* Keys on the wire: "0x" and exactly 16 hex digits. */
#define CTL_KEY_LEN 18
int prk_ctl_key_parse(const char *s, uint64_t *out);
void prk_ctl_key_format(uint64_t key, char buf[CTL_KEY_LEN + 1]);
/* 1 to 32 hex digits (an NAA identifier as prk_mpdev_naa gives it). */
bool prk_ctl_naa_valid(const char *s);
/* NAA identifiers compare without regard to case. */
bool prk_ctl_naa_eq(const char *a, const char *b);

#endif
