/* Helpers of the EXTENDED COPY integration tests (test_xcopy*.c and the
 * cluster test): a LU's NAA, parameter lists built with the codec, the
 * commands with raw CDBs through libiscsi, and who holds a reservation.
 * They assert (cmocka): include after <cmocka.h>. */
#ifndef PRKIT_XCOPY_UTIL_H
#define PRKIT_XCOPY_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "prkit/scsi_tid.h"
#include "prkit/scsi_xcopy.h"

/* The copy manager's default I_T nexus (src/copy/cm.h). */
#define X_CM_NAME "iqn.2026-12.io.prkit:copy-manager"
#define X_CM_ISID 0x000000000001ULL
#define X_CM_RTPI 65535

/* The NAA designator VPD 83h reports for lun. */
void x_naa(struct iscsi_context *c, int lun, uint8_t naa[16]);

/* A parameter list: list id and LIST ID USAGE. */
void x_list(struct prk_xcopy_list *l, uint8_t id, uint8_t usage);
/* Adds an E4h CSCD (PDT 00h, 512-byte blocks) naming naa; its index. */
uint16_t x_cscd(struct prk_xcopy_list *l, const uint8_t naa[16]);
/* Adds a 02h segment. */
void x_b2b(struct prk_xcopy_list *l, uint16_t src, uint16_t dst, uint16_t blocks, uint64_t slba,
           uint64_t dlba);
/* Adds a 14h segment. */
void x_regkey(struct prk_xcopy_list *l, uint16_t dst, uint64_t key, uint64_t sa_key);
/* Adds a 15h segment moving dst's reservation (held by the copy manager
 * with cm_key) back to the nexus (tid, rtpi) under key, the copy manager
 * unregistering itself (UNREG) when unreg. The list bytes go to mv (at
 * least 280 bytes, alive until the list is encoded). */
void x_3pr(struct prk_xcopy_list *l, uint16_t dst, uint64_t cm_key, uint64_t key,
           const struct prk_tid *tid, uint16_t rtpi, bool unreg, uint8_t *mv);

/* The sense of the last x_* command: libiscsi's parse, and the raw bytes
 * (for the COPY ABORTED segment number). */
extern struct scsi_sense x_sense;
extern uint8_t x_raw_sense[260];
extern size_t x_raw_sense_len;
/* The SEGMENT NUMBER a COPY ABORTED sense names (the last two bytes of
 * COMMAND-SPECIFIC INFORMATION, in either sense format), or -1. */
long x_abort_segment(void);

/* EXTENDED COPY of l to lun; returns the status (-1: transport). */
int x_xcopy(struct iscsi_context *c, int lun, const struct prk_xcopy_list *l);
/* The same, asynchronously: the task (for ABORT TASK), *status set to the
 * status (or SCSI_STATUS_CANCELLED) and *done to true when it ends. */
struct scsi_task *x_xcopy_async(struct iscsi_context *c, int lun, const struct prk_xcopy_list *l,
                                int *status, bool *done);
/* Services c until *done, at most timeout_ms; 0 or -1 (timeout). */
int x_wait(struct iscsi_context *c, const bool *done, int timeout_ms);
/* RECEIVE COPY RESULTS; the data (at most cap bytes) in buf, its length
 * in *got; returns the status. */
int x_rcr(struct iscsi_context *c, int lun, uint8_t sa, uint8_t list_id, uint8_t *buf, size_t cap,
          size_t *got);

/* PR OUT REGISTER AND MOVE of lun's reservation (held by c with key) to
 * (tid, rtpi) with sa_key; returns the status. */
int x_register_and_move(struct iscsi_context *c, int lun, uint64_t key, uint64_t sa_key,
                        const struct prk_tid *tid, uint16_t rtpi, bool unreg);

/* A registration as READ FULL STATUS shows it. */
struct x_reg {
	uint64_t key;
	bool holder;
	uint8_t type;
	uint16_t rtpi;
	struct prk_tid tid;
};
/* READ FULL STATUS of lun: at most cap registrations into r; their count. */
size_t x_full_status(struct iscsi_context *c, int lun, struct x_reg *r, size_t cap);
/* Asserts that exactly one registration holds lun's reservation, and that
 * it is (name, isid) with key; READ RESERVATION must agree on the key. */
void x_assert_holder(struct iscsi_context *c, int lun, const char *name, uint64_t isid,
                     uint64_t key);
/* The registration of initiator name on lun (asserting there is one). */
struct x_reg x_reg_of(struct iscsi_context *c, int lun, const char *name);
/* The copy manager's TransportID (format 01b, the defaults). */
void x_cm_tid(struct prk_tid *t);

/* Fills len bytes with a pattern derived from seed. */
void x_pattern(uint8_t *buf, size_t len, uint32_t seed);

#endif
