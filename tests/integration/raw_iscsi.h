/* A minimal iSCSI initiator over a plain socket, for tests that must do
 * what libiscsi never does (claim a 4 GiB transfer for one block, send
 * more Data-Out than the command needs, watch MaxCmdSN PDU by PDU). No
 * digests; login goes straight from the operational stage to full feature
 * phase. */
#ifndef PRKIT_RAW_ISCSI_H
#define PRKIT_RAW_ISCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct h_daemon;

#define RAW_OP_NOP_OUT 0x00
#define RAW_OP_SCSI_CMD 0x01
#define RAW_OP_DATA_OUT 0x05
#define RAW_OP_NOP_IN 0x20
#define RAW_OP_SCSI_RSP 0x21
#define RAW_OP_LOGIN_RSP 0x23
#define RAW_OP_DATA_IN 0x25
#define RAW_OP_R2T 0x31
#define RAW_OP_REJECT 0x3f
#define RAW_RSVD_TAG 0xffffffffu

/* What the initiator offers at login (the target may lower it). */
struct raw_opts {
	bool initial_r2t;
	bool immediate_data;
	uint32_t first_burst; /* 0: 65536 */
	uint32_t max_burst;   /* 0: 262144 */
	uint32_t max_recv_dsl;
	bool header_digest, data_digest; /* offer CRC32C (raw_read skips digests) */
};

struct raw {
	int fd;
	uint32_t cmdsn; /* of the next non-immediate command */
	uint32_t expstatsn;
	uint32_t expcmdsn, maxcmdsn; /* from the last PDU that carried them */
	uint32_t max_send_dsl;       /* the target's MaxRecvDataSegmentLength */
	uint32_t first_burst;        /* negotiated */
	bool initial_r2t, immediate_data;
	bool hd, dd; /* digests negotiated: only raw_read knows them */
};

/* One PDU as read: the BHS and (up to cap bytes of) the data segment. */
struct raw_pdu {
	uint8_t bhs[48];
	uint8_t *data; /* malloc'ed, dlen bytes; NULL when dlen is 0 */
	uint32_t dlen;
};

static inline uint32_t raw_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void raw_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Connects to portal 0 of d and logs in to target as initiator. 0, or -1. */
int raw_login(struct raw *r, const struct h_daemon *d, const char *target, const char *initiator,
              uint8_t isid_q, const struct raw_opts *o);
void raw_close(struct raw *r);

int raw_send_all(int fd, const void *buf, size_t len);
/* Reads one PDU within timeout_ms and notes StatSN / ExpCmdSN / MaxCmdSN.
 * 0, or -1 on close or timeout. Free p->data with raw_pdu_free. */
int raw_read(struct raw *r, struct raw_pdu *p, int timeout_ms);
void raw_pdu_free(struct raw_pdu *p);

/* A non-immediate SCSI command (CDB of up to 16 bytes), with optional
 * immediate data. */
int raw_cmd(struct raw *r, uint32_t itt, const uint8_t cdb[16], bool read, bool write,
            uint32_t edtl, const uint8_t *imm, uint32_t imm_len);
/* One Data-Out PDU. */
int raw_data_out(struct raw *r, uint32_t itt, uint32_t ttt, uint32_t datasn, uint32_t offset,
                 const uint8_t *data, uint32_t len, bool final);
/* An immediate NOP-Out asking for a NOP-In. */
int raw_ping(struct raw *r, uint32_t itt);

/* Reads PDUs until the SCSI Response of itt (Data-In with status counts),
 * copying Data-In into in[0..in_cap). Returns the status, or -1. *rsp
 * (when not NULL) gets the BHS of the PDU that carried the status. */
int raw_wait_status(struct raw *r, uint32_t itt, uint8_t *in, size_t in_cap, uint8_t rsp[48],
                    int timeout_ms);

/* WRITE(10) of len bytes at lba, answering the target's R2Ts, then its
 * status; and READ(10) into buf. Return the SCSI status, or -1. */
int raw_write10(struct raw *r, uint32_t itt, uint32_t lba, const uint8_t *buf, uint32_t len,
                uint32_t block);
int raw_read10(struct raw *r, uint32_t itt, uint32_t lba, uint8_t *buf, uint32_t len,
               uint32_t block);

#endif
