/* Harness additions that assert (cmocka): SCSI commands that keep their
 * sense data, PR OUT, logins that must succeed, the admin CLI's JSON.
 * The integration tests used to carry their own copies of these. Include
 * after <cmocka.h> and harness.h. */
#ifndef PRKIT_HARNESS_CMD_H
#define PRKIT_HARNESS_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <json-c/json.h>

#include "harness.h"

/* The sense data of the last command sent through h_status (and so
 * through every helper below that returns a status). */
extern struct scsi_sense h_sense;

/* Asserts that t exists, keeps its sense in h_sense, frees it and
 * returns its status. */
int h_status(struct scsi_task *t);
/* status is CHECK CONDITION with this sense key and ASC/ASCQ (ascq holds
 * both, as libiscsi's scsi_sense does) in h_sense. */
void h_assert_sense(int status, int key, int ascq);

/* h_sense carries a field pointer (sense-key specific): in the CDB or in
 * the parameter list, at byte. */
void h_assert_field(bool in_cdb, unsigned byte);

/* TEST UNIT READY to lun. */
int h_tur(struct iscsi_context *iscsi, int lun);

/* READ(16) of len bytes at lba of lun (512-byte blocks): GOOD, len bytes
 * back, equal to want. */
void h_assert_read(struct iscsi_context *iscsi, int lun, uint64_t lba, const uint8_t *want,
                   uint32_t len);
/* WRITE(16) of buf (GOOD), then h_assert_read of the same bytes. */
void h_assert_write_read(struct iscsi_context *iscsi, int lun, uint64_t lba, const uint8_t *buf,
                         uint32_t len);

/* Logs in to portal with no command (h_login_ex's no_tur), so the next
 * command sees what is pending; asserts success. */
struct iscsi_context *h_login_raw(struct h_daemon *d, int portal, const char *ini, uint32_t q);
/* Logs in (libiscsi's full connect consumes the power-on unit attention)
 * and asserts that nothing else is pending on LUN 0. */
struct iscsi_context *h_login_clear(struct h_daemon *d, int portal, const char *ini, uint32_t q);

/* Logs in with no command (as h_login_raw), then clears every unit
 * attention pending on LUNs 0 .. n_luns-1 (asserting each ends GOOD). */
struct iscsi_context *h_login_raw_clear(struct h_daemon *d, int portal, const char *ini, uint32_t q,
                                        int n_luns);

/* PERSISTENT RESERVE OUT to lun with the basic parameter list, through
 * libiscsi's helper; returns the status (sense in h_sense). */
int h_prout_lun(struct iscsi_context *iscsi, int lun, int sa, int type, uint64_t key,
                uint64_t sa_key, int all_tg_pt, int aptpl);
/* h_prout_lun to LUN 0. */
int h_prout(struct iscsi_context *iscsi, int sa, int type, uint64_t key, uint64_t sa_key,
            int all_tg_pt, int aptpl);

/* h_prout_lun (no ALL_TG_PT, no APTPL) sent again while it ends with a
 * UNIT ATTENTION, up to 8 times: the status of the first other answer,
 * or -1 if every try was a unit attention. */
int h_prout_past_ua(struct iscsi_context *iscsi, int lun, int sa, int type, uint64_t key,
                    uint64_t sa_key);

/* The LU's NAA designator from VPD 83h (binary, associated with the LU,
 * type NAA, 16 bytes): INQUIRY must end GOOD and carry one. */
void h_lu_naa(struct iscsi_context *iscsi, int lun, uint8_t naa[16]);

/* Starts a daemon with h_config_basic's configuration. 0, or -1. */
int h_start_basic(struct h_daemon *d, int n_portals, unsigned size_mb);

/* o[key], asserting that it is there. */
json_object *h_member(json_object *o, const char *key);
/* Runs `prkit target -s <admin socket> ARGS...` (NULL-terminated),
 * asserts exit status 0 and returns stdout parsed as JSON (the caller
 * puts it). */
json_object *h_cli_json(struct h_daemon *d, const char *const *args);

/* The event loop serving the (one) session of initiator ini, from the
 * admin socket's session list; -1 when it has none. */
int h_session_loop(struct h_daemon *d, const char *ini);
/* How many sessions initiator ini has. */
int h_session_count(struct h_daemon *d, const char *ini);
/* READ/WRITE commands of the first target's LUN lun run on the fast path
 * (the connection's own loop) and through loop 0, from the admin socket's
 * target list ("rw_fast", "rw_slow"). */
void h_lu_rw_counts(struct h_daemon *d, int lun, uint64_t *fast, uint64_t *slow);

#endif
