/* prkitd's configuration: a JSON file (json-c), validated as a whole before
 * anything starts, with errors that name the field by its JSON path
 * ("targets[0].luns[1].backstore.size: ..."). */
#ifndef PRKIT_CONFIG_H
#define PRKIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "login.h"

struct prk_cfg_portal {
	char address[64];
	uint16_t port;
	uint16_t tpgt;      /* default: position + 1 */
	uint16_t rtpi;      /* default: position + 1 */
	uint8_t alua_state; /* enum prk_lu_alua_state (lu.h); default active/optimized */
};

enum prk_cfg_bs_type { PRK_CFG_BS_RAM, PRK_CFG_BS_FILE };

struct prk_cfg_lun {
	uint16_t lun;
	enum prk_cfg_bs_type type;
	char path[4096]; /* file */
	uint64_t size;   /* bytes; file: 0 = the file's size */
	bool direct;     /* file: O_DIRECT */
	unsigned queue_depth;
	uint32_t block_size; /* 512 or 4096 */
	bool thin;
	bool readonly;
	bool create; /* file: a missing file is created (else an error) */
	bool grow;   /* file: a file shorter than size is extended (else an error) */
	bool no_pr;  /* "persistent_reservations": false: an SPC-2 LU */
	/* "third_party_reservations": true: an EXTENDED COPY's 15h segment
	 * (third party persistent reservations source I_T nexus) may name this
	 * block LU; SPC-4 allows stream devices only (docs/copy.md). */
	bool third_party_pr;
	char serial[33];
};

struct prk_cfg_acl {
	char initiator[PRK_ISCSI_NAME_LEN];
	struct prk_chap_creds chap;
};

struct prk_cfg_target {
	char name[PRK_ISCSI_NAME_LEN];
	char alias[256];
	struct prk_chap_creds chap;
	struct prk_cfg_acl *acls;
	size_t n_acls;
	struct prk_cfg_lun *luns;
	size_t n_luns;
};

/* "cluster": several prkitd nodes on Corosync share the PR state of their
 * LUs (docs/cluster.md). Absent: a standalone target, as always. */
struct prk_cfg_cluster {
	bool enabled;
	char name[64];         /* the CPG group is "prkit-<name>" */
	unsigned heartbeat_ms; /* how often the lease is renewed */
	unsigned lease_ms;     /* how long a node serves without a renewal */
	unsigned margin_ms;    /* what the survivors add to the lease */
};

/* "copy_manager": the daemon's copy manager (EXTENDED COPY, src/copy/cm.h)
 * and its I_T nexus. Absent: on, with the defaults; false: off (the
 * opcodes are unsupported). */
struct prk_cfg_copy_manager {
	bool disabled;
	char initiator[PRK_ISCSI_NAME_LEN]; /* "": the default name */
	uint64_t isid;                      /* 48 bits */
	uint16_t rtpi;                      /* no portal's */
	unsigned max_copies;                /* 0: the copy manager's default */
};

struct prk_cfg {
	char log_level[16];
	char admin_socket[108];
	char state_dir[4096]; /* APTPL records */
	struct prk_cfg_portal *portals;
	size_t n_portals;
	struct prk_cfg_target *targets;
	size_t n_targets;
	struct prk_chap_creds discovery_chap;
	unsigned max_sessions;
	unsigned max_tasks;
	uint32_t max_recv_dsl;
	uint32_t max_burst;
	uint32_t first_burst;
	unsigned nop_interval_ms;
	unsigned nop_timeout_ms;
	uint64_t max_task_memory;  /* bytes of write buffers, all tasks; 0 = default */
	unsigned max_login_conns;  /* connections still in login; 0 = default */
	unsigned login_timeout_ms; /* from accept to full feature phase; 0 = default */
	unsigned threads;          /* event loops; 0 = one per online CPU (prk_cfg_threads) */
	struct prk_cfg_cluster cluster;
	struct prk_cfg_copy_manager copy_manager;
};

/* Parses and validates JSON text. Returns 0, or -1 with a message naming
 * the bad field in err, or the line and column of a JSON syntax error. */
int prk_cfg_parse(const char *json, struct prk_cfg *cfg, char *err, size_t errlen);
/* Reads a file and parses it; the message names the file too. */
int prk_cfg_load(const char *path, struct prk_cfg *cfg, char *err, size_t errlen);
/* The --demo configuration: one 64 MiB RAM LU on 127.0.0.1:port. */
void prk_cfg_demo(struct prk_cfg *cfg, uint16_t port);
void prk_cfg_free(struct prk_cfg *cfg);
/* The copy manager's defaults (src/copy/cm.h). */
void prk_cfg_copy_manager_default(struct prk_cfg_copy_manager *c);

/* Parses one LUN entry (the schema of targets[].luns[]) from JSON text, for
 * LUNs added at run time to the target named target. path names it in
 * errors; index is the LUN number when the entry gives none. */
int prk_cfg_parse_lun_text(const char *json, const char *path, const char *target, size_t index,
                           struct prk_cfg_lun *out, char *err, size_t errlen);

/* The serial of a LU configured without one (config_serial.c): derived
 * from its target's name and its LUN number, never from its position. */
void prk_cfg_default_serial(const char *target, uint16_t lun, char *out, size_t cap);
/* No two LUs of cfg may share a serial (they would share an NAA
 * identifier). 0, or -1 with a message naming both. */
int prk_cfg_check_serials(const struct prk_cfg *cfg, char *err, size_t errlen);

/* "64M", "1G", "4096", "512K" -> bytes. Returns 0 or -1. */
int prk_cfg_parse_size(const char *s, uint64_t *out);

/* The most event loops "threads" may ask for. */
#define PRK_CFG_MAX_THREADS 64
/* The event loops cfg asks for: "threads", or when absent (0) the number
 * of online CPUs, at most PRK_CFG_MAX_THREADS. */
unsigned prk_cfg_threads(const struct prk_cfg *cfg);

#define PRK_DEMO_TARGET "iqn.2026-11.io.prkit:demo"

#endif
