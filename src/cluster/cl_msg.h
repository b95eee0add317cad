/* The messages prkitd nodes multicast to each other through CPG, and their
 * byte format (big-endian, bounded, versioned). Pure: no I/O.
 *
 * Every message starts with a 12-byte header: "PRKC", version 1, type,
 * two bytes of flags (0), the sender's node id. Decoders treat the bytes as
 * untrusted (they come from the network): every length and count is
 * checked against the bytes present and the limits below, and an error
 * names the field. */
#ifndef PRKIT_CL_MSG_H
#define PRKIT_CL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRK_CL_MSG_VERSION 1
#define PRK_CL_HDR_LEN 12
#define PRK_CL_MAX_NODES 32
#define PRK_CL_MAX_LUS 1024
#define PRK_CL_MAX_PORTS 64
#define PRK_CL_MAX_PENDING 4096
#define PRK_CL_MAX_PARAMS (1u << 20) /* a PR OUT parameter list */
#define PRK_CL_MAX_BLOB (64u << 20)  /* one LU's snapshot */
#define PRK_CL_NAME_MAX 223          /* an iSCSI name */

enum prk_cl_msg_type {
	PRK_CL_HELLO = 1,
	PRK_CL_SNAPSHOT = 2,
	PRK_CL_SYNC_DONE = 3,
	PRK_CL_EVENT = 4,
	PRK_CL_ACK = 5,
	PRK_CL_HEARTBEAT = 6,
	PRK_CL_UA_POP = 7,
	PRK_CL_NEXUS_UP = 8,
	PRK_CL_SYNC_REQ = 9,
};
const char *prk_cl_msg_type_name(unsigned type);

/* A CPG member: one prkitd process. */
struct prk_cl_member {
	uint32_t node, pid;
};
/* A view: the members of one CPG configuration, sorted by (node, pid). It
 * names a synchronisation round: a HELLO, SNAPSHOT or SYNC_DONE counts
 * only in the view it was sent for. */
struct prk_cl_view {
	struct prk_cl_member m[PRK_CL_MAX_NODES];
	uint32_t n;
};
bool prk_cl_view_eq(const struct prk_cl_view *a, const struct prk_cl_view *b);
/* Index of node in the view, or -1. */
int prk_cl_view_find(const struct prk_cl_view *v, uint32_t node);

/* What a node says about one of its LUs when it joins: the definition the
 * nodes must agree on, and the version of the state it holds. */
struct prk_cl_lu_def {
	uint8_t naa[16]; /* the LU's NAA designator: its identity */
	char target[PRK_CL_NAME_MAX + 1];
	uint16_t lun;
	uint32_t block_size;
	uint64_t blocks;
	uint32_t flags;      /* PRK_CL_LU_* */
	uint64_t epoch, seq; /* the version of the state this node holds */
};
#define PRK_CL_LU_NO_PR 0x1
#define PRK_CL_LU_THIN 0x2
#define PRK_CL_LU_READONLY 0x4

/* A target port of the cluster: its node, group, relative port id and
 * ALUA state (enum prk_lu_alua_state). */
struct prk_cl_port {
	uint32_t node;
	uint16_t tpg, rtpi;
	uint8_t state;
};

struct prk_cl_hello {
	struct prk_cl_view view;
	uint32_t pid;
	bool synced;  /* serving in the previous primary view, every event applied */
	bool quorate; /* votequorum says so, now */
	uint64_t epoch;
	struct prk_cl_lu_def *lus; /* malloc'ed by the decoder */
	uint32_t n_lus;
	struct prk_cl_port ports[PRK_CL_MAX_PORTS];
	uint32_t n_ports;
};

/* An event's identity: the node that sent it and that node's counter. */
struct prk_cl_event_id {
	uint32_t node;
	uint64_t n;
};

/* A pending (not yet stable) event with the nodes whose ACK it waits for. */
struct prk_cl_pending_wire {
	struct prk_cl_event_id id;
	uint32_t waiting[PRK_CL_MAX_NODES];
	uint32_t n_waiting;
};

struct prk_cl_sync_done {
	struct prk_cl_view view;
	uint64_t epoch;
	struct prk_cl_port ports[PRK_CL_MAX_PORTS * 4]; /* every node's, departed ones too */
	uint32_t n_ports;
	struct prk_cl_pending_wire *pending; /* malloc'ed by the decoder */
	uint32_t n_pending;
};

struct prk_cl_snapshot {
	struct prk_cl_view view;
	uint8_t naa[16];
	uint64_t epoch, seq;
	const uint8_t *blob; /* points into the message */
	uint32_t blob_len;
};

/* The kinds of event (the same values as the LU's enum prk_lu_event_kind). */
enum prk_cl_event_kind {
	PRK_CL_EV_PROUT = 1,
	PRK_CL_EV_SPC2 = 2,
	PRK_CL_EV_NEXUS_LOSS = 3,
	PRK_CL_EV_RESET = 4,
};

/* An I_T nexus on the wire: name, ISID, relative target port id. */
struct prk_cl_nexus {
	char name[PRK_CL_NAME_MAX + 1];
	uint64_t isid;
	uint16_t rtpi;
};

struct prk_cl_event {
	struct prk_cl_event_id id;
	uint8_t naa[16];
	uint8_t kind;
	struct prk_cl_nexus from;
	uint8_t cdb[16];
	uint8_t cdb_len;
	const uint8_t *params; /* points into the message */
	uint32_t params_len;
};

struct prk_cl_ack {
	struct prk_cl_event_id id;
	/* The outcome the acknowledging node computed; replicas must agree. */
	uint8_t status, sense_key;
	uint16_t asc;
	bool persist_failed;
};

struct prk_cl_ua {
	uint8_t naa[16];
	struct prk_cl_nexus nx;
	uint16_t asc; /* UA_POP only */
};

/* A decoded message. Pointers point into the bytes decoded or into
 * malloc'ed arrays; prk_cl_msg_free releases the latter. */
struct prk_cl_msg {
	uint8_t type;
	uint32_t sender;
	union {
		struct prk_cl_hello hello;
		struct prk_cl_snapshot snap;
		struct prk_cl_sync_done done;
		struct prk_cl_event ev;
		struct prk_cl_ack ack;
		struct prk_cl_ua ua;
		struct prk_cl_view req; /* SYNC_REQ */
		uint64_t sent_ns;       /* HEARTBEAT: the sender's clock when it sent it */
	} u;
};

/* Decodes len bytes. Returns 0, or -1 with err naming the field. */
int prk_cl_msg_decode(const uint8_t *buf, size_t len, struct prk_cl_msg *m, char *err,
                      size_t errlen);
void prk_cl_msg_free(struct prk_cl_msg *m);

/* Encoders: a malloc'ed message in *out, its length returned; 0 when out
 * of memory or a field is out of range (a bug of the caller). */
size_t prk_cl_enc_hello(uint32_t sender, const struct prk_cl_hello *h, uint8_t **out);
size_t prk_cl_enc_snapshot(uint32_t sender, const struct prk_cl_snapshot *s, uint8_t **out);
size_t prk_cl_enc_sync_done(uint32_t sender, const struct prk_cl_sync_done *d, uint8_t **out);
size_t prk_cl_enc_event(uint32_t sender, const struct prk_cl_event *e, uint8_t **out);
size_t prk_cl_enc_ack(uint32_t sender, const struct prk_cl_ack *a, uint8_t **out);
size_t prk_cl_enc_heartbeat(uint32_t sender, uint64_t sent_ns, uint8_t **out);
size_t prk_cl_enc_ua(uint32_t sender, uint8_t type, const struct prk_cl_ua *u, uint8_t **out);
size_t prk_cl_enc_sync_req(uint32_t sender, const struct prk_cl_view *v, uint8_t **out);

#endif
