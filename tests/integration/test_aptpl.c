/* Integration tests of APTPL (persist through power loss) in prkitd:
 *  (a) registrations and the reservation survive a clean restart exactly,
 *      with PRgeneration 0 and the power-on unit attention; APTPL=0 forgets;
 *  (b) crash safety: a stream of PR OUT commands, prkitd killed with
 *      SIGKILL at a random moment, restarted: the restored state is the one
 *      after the last command acknowledged with GOOD, or after the one in
 *      flight - nothing else (PRKIT_APTPL_TRIALS trials, 100 by default;
 *      PRKIT_APTPL_SEED to repeat a run);
 *  (c) a corrupt record: PERSISTENT RESERVATION INFORMATION LOST (HARDWARE
 *      ERROR 44/01) until REPLACE LOST RESERVATION. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"
#include "harness_cmd.h"
#include "prkit/scsi_pr_wire.h"

#define INI_A "iqn.2026-11.io.prkit.test:host-a"
#define INI_B "iqn.2026-11.io.prkit.test:host-b"
#define INI_C "iqn.2026-11.io.prkit.test:host-c"
#define INI_D "iqn.2026-11.io.prkit.test:host-d"
#define INI_E "iqn.2026-11.io.prkit.test:host-e"
#define INI_F "iqn.2026-11.io.prkit.test:host-f"

#define ISID(q) (0x801234560000ULL | (uint64_t)(q))

#define T_WE SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE
#define T_EA SCSI_PERSISTENT_RESERVE_TYPE_EXCLUSIVE_ACCESS
#define T_WE_RO SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY
#define T_EA_RO SCSI_PERSISTENT_RESERVE_TYPE_EXCLUSIVE_ACCESS_REGISTRANTS_ONLY

#define SA_REPLACE_LOST 0x08

#define ASCQ_POWER_ON 0x2900
#define ASCQ_PR_INFO_LOST 0x4401

static struct h_daemon daemon_;

static int setup(void **state)
{
	(void)state;
	return h_start_basic(&daemon_, 2, 16);
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

/* ---- helpers ---- */

/* Logs in without a command, then clears every unit attention pending
 * (after a restart there may be several, which libiscsi's full connect
 * would refuse). */
static struct iscsi_context *login(int portal, const char *ini, uint32_t q)
{
	struct iscsi_context *iscsi = h_login_raw(&daemon_, portal, ini, q);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	return iscsi;
}

static int io(struct iscsi_context *iscsi, bool write, uint64_t lba)
{
	uint8_t buf[512];
	memset(buf, (int)lba, sizeof(buf));
	return h_status(write ? iscsi_write16_sync(iscsi, 0, lba, buf, 512, 512, 0, 0, 0, 0, 0)
	                      : iscsi_read16_sync(iscsi, 0, lba, 512, 512, 0, 0, 0, 0, 0));
}

struct prin {
	uint8_t buf[4096];
	size_t len;
};

static void prin(struct iscsi_context *iscsi, int sa, struct prin *out)
{
	assert_int_equal(h_pr_in(iscsi, 0, (uint8_t)sa, out->buf, sizeof(out->buf), &out->len),
	                 SCSI_STATUS_GOOD);
	assert_true(out->len >= 8);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static json_object *cli_pr(void)
{
	/* --json after the command works too (test_pr.c puts it first). */
	const char *args[] = {"pr", H_TARGET, "0", "--json", NULL};
	json_object *o = h_cli_json(&daemon_, args);
	assert_true(json_object_get_boolean(h_member(o, "ok")));
	return o;
}

/* The one APTPL record in the state directory. */
static void record_path(char *out, size_t cap)
{
	char dir[300];
	h_state_dir(&daemon_, dir, sizeof(dir));
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		if (l > 3 && strcmp(e->d_name + l - 3, ".pr") == 0) {
			snprintf(out, cap, "%s/%s", dir, e->d_name);
			n++;
		}
	}
	closedir(d);
	assert_int_equal(n, 1);
}

/* ---- (a) a clean restart ---- */

static void test_aptpl_state_survives_restart(void **state)
{
	(void)state;
	struct iscsi_context *a = login(0, INI_A, 0x11);
	struct iscsi_context *b = login(1, INI_B, 0x22);
	struct iscsi_context *c = login(1, INI_C, 0x33);
	int ign = SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY;
	assert_int_equal(h_prout(a, ign, 0, 0, 0xa1, 0, 1), SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(b, ign, 0, 0, 0xb1, 0, 1), SCSI_STATUS_GOOD);
	/* C on every target port. */
	assert_int_equal(h_prout(c, ign, 0, 0, 0xc1, 1, 1), SCSI_STATUS_GOOD);
	/* E registers itself and, by a format-00b TransportID, every ISID of
	 * F on portal 0 (SPEC_I_PT). */
	struct iscsi_context *e = login(0, INI_E, 0x55);
	struct prk_tid f_tid = {.format = PRK_TID_FMT_DEVICE};
	snprintf(f_tid.name, sizeof(f_tid.name), "%s", INI_F);
	uint8_t p[256];
	size_t n = prk_prout_params_encode_basic(0, 0xe1, false, true, &f_tid, 1, p, sizeof(p));
	assert_true(n > 0 && n <= sizeof(p));
	assert_int_equal(
	    h_pr_out(e, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, p, (uint32_t)n, &h_sense),
	    SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_RESERVE, T_WE_RO, 0xa1, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	struct prin keys0, resv0, full0, caps;
	prin(a, SCSI_PERSISTENT_RESERVE_READ_KEYS, &keys0);
	prin(a, SCSI_PERSISTENT_RESERVE_READ_RESERVATION, &resv0);
	prin(a, SCSI_PERSISTENT_RESERVE_READ_FULL_STATUS, &full0);
	assert_int_equal(be32(keys0.buf), 4);
	assert_int_equal(be32(keys0.buf + 4), 5 * 8);
	assert_int_equal(be32(full0.buf), 4);
	prin(a, SCSI_PERSISTENT_RESERVE_REPORT_CAPABILITIES, &caps);
	assert_int_equal(caps.buf[3] & 1, 1); /* PTPL_A */
	h_logout(a);
	h_logout(b);
	h_logout(c);
	h_logout(e);

	assert_int_equal(h_restart(&daemon_), 0);
	assert_true(h_log_contains(&daemon_, "5 registrations restored"));

	/* Every nexus's first command reports the power on; then the
	 * restored registrations work: the holder and the registrants (C
	 * through portal 0 now, F with an ISID never seen) write, an
	 * unregistered host may not. */
	a = h_login_raw(&daemon_, 0, INI_A, 0x11);
	b = h_login_raw(&daemon_, 1, INI_B, 0x22);
	c = h_login_raw(&daemon_, 0, INI_C, 0x33);
	struct iscsi_context *f = h_login_raw(&daemon_, 0, INI_F, 0x66);
	struct iscsi_context *d = h_login_raw(&daemon_, 0, INI_D, 0x44);
	struct iscsi_context *all[] = {a, b, c, f, d};
	for (int i = 0; i < 5; i++) {
		h_assert_sense(io(all[i], true, 10 + (uint64_t)i), SCSI_SENSE_UNIT_ATTENTION,
		               ASCQ_POWER_ON);
		assert_int_equal(io(all[i], true, 10 + (uint64_t)i),
		                 i < 4 ? SCSI_STATUS_GOOD : SCSI_STATUS_RESERVATION_CONFLICT);
	}

	/* The PR IN data is what it was but for PRgeneration, now 0. */
	struct prin keys1, resv1, full1;
	prin(b, SCSI_PERSISTENT_RESERVE_READ_KEYS, &keys1);
	prin(b, SCSI_PERSISTENT_RESERVE_READ_RESERVATION, &resv1);
	prin(b, SCSI_PERSISTENT_RESERVE_READ_FULL_STATUS, &full1);
	struct prin *before[] = {&keys0, &resv0, &full0}, *after[] = {&keys1, &resv1, &full1};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(be32(after[i]->buf), 0);
		assert_int_equal(after[i]->len, before[i]->len);
		assert_memory_equal(after[i]->buf + 4, before[i]->buf + 4, before[i]->len - 4);
	}
	/* And concretely: A holds WE-RO; C's registration has ALL_TG_PT, F's
	 * is for every ISID (format 00b). */
	struct prk_prin_resv r;
	struct prk_field_err err;
	assert_int_equal(prk_prin_resv_decode(resv1.buf, resv1.len, &r, &err), 0);
	assert_true(r.present);
	assert_int_equal(r.key, 0xa1);
	assert_int_equal(r.type, T_WE_RO);
	struct prk_full_dec dec;
	struct prk_full_desc desc[6];
	assert_int_equal(prk_full_dec_start(&dec, full1.buf, full1.len, &err), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(prk_full_dec_next(&dec, &desc[i], &err), 1);
	assert_int_equal(prk_full_dec_next(&dec, &desc[5], &err), 0);
	assert_int_equal(desc[0].key, 0xa1);
	assert_true(desc[0].r_holder);
	assert_int_equal(desc[0].rtpi, 1);
	assert_int_equal(desc[0].tid.isid, ISID(0x11));
	assert_int_equal(desc[1].key, 0xb1);
	assert_int_equal(desc[1].rtpi, 2);
	assert_string_equal(desc[1].tid.name, INI_B);
	assert_int_equal(desc[2].key, 0xc1);
	assert_true(desc[2].all_tg_pt);
	assert_string_equal(desc[2].tid.name, INI_C);
	assert_int_equal(desc[3].key, 0xe1);
	assert_string_equal(desc[3].tid.name, INI_E);
	assert_int_equal(desc[4].key, 0xe1);
	assert_int_equal(desc[4].tid.format, PRK_TID_FMT_DEVICE);
	assert_string_equal(desc[4].tid.name, INI_F);
	assert_int_equal(desc[4].rtpi, 1);

	json_object *o = cli_pr();
	assert_int_equal(json_object_get_int64(h_member(o, "generation")), 0);
	assert_true(json_object_get_boolean(h_member(o, "aptpl")));
	assert_false(json_object_get_boolean(h_member(o, "lost")));
	json_object_put(o);
	/* The first change after the restart counts from 0. */
	assert_int_equal(h_prout(d, ign, 0, 0, 0xd1, 0, 1), SCSI_STATUS_GOOD);
	prin(d, SCSI_PERSISTENT_RESERVE_READ_KEYS, &keys1);
	assert_int_equal(be32(keys1.buf), 1);
	for (int i = 0; i < 5; i++)
		h_logout(all[i]);
}

/* REGISTER AND MOVE with APTPL: the moved reservation is what restarts. */
static void test_aptpl_register_and_move_survives_restart(void **state)
{
	(void)state;
	struct iscsi_context *a = login(0, INI_A, 0x11);
	int ign = SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY;
	assert_int_equal(h_prout(a, ign, 0, 0, 0xa1, 0, 1), SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_RESERVE, T_EA, 0xa1, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	struct prk_tid tid = {.format = PRK_TID_FMT_PORT, .isid = ISID(0x22)};
	snprintf(tid.name, sizeof(tid.name), "%s", INI_B);
	uint8_t p[256];
	size_t n = prk_prout_params_encode_move(0xa1, 0xb2, true, true, 2, &tid, p, sizeof(p));
	assert_true(n > 0 && n <= sizeof(p));
	assert_int_equal(h_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_REGISTER_AND_MOVE, T_EA, p,
	                          (uint32_t)n, &h_sense),
	                 SCSI_STATUS_GOOD);
	h_logout(a);
	assert_int_equal(h_restart(&daemon_), 0);
	/* B (never logged in before) holds Exclusive Access through portal 1;
	 * A may not even read. */
	struct iscsi_context *b = login(1, INI_B, 0x22);
	a = login(0, INI_A, 0x11);
	assert_int_equal(io(b, true, 2), SCSI_STATUS_GOOD);
	assert_int_equal(io(a, false, 2), SCSI_STATUS_RESERVATION_CONFLICT);
	struct prin k;
	prin(a, SCSI_PERSISTENT_RESERVE_READ_RESERVATION, &k);
	struct prk_prin_resv r;
	struct prk_field_err err;
	assert_int_equal(prk_prin_resv_decode(k.buf, k.len, &r, &err), 0);
	assert_true(r.present);
	assert_int_equal(r.key, 0xb2);
	assert_int_equal(r.type, T_EA);
	prin(a, SCSI_PERSISTENT_RESERVE_READ_KEYS, &k);
	assert_int_equal(be32(k.buf + 4), 8);
	h_logout(a);
	h_logout(b);
}

/* The last REGISTER sets APTPL=0: the record says so, and the state is
 * gone after the restart. */
static void test_aptpl_off_forgets_on_restart(void **state)
{
	(void)state;
	struct iscsi_context *a = login(0, INI_A, 0x11);
	struct iscsi_context *b = login(1, INI_B, 0x22);
	int ign = SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY;
	assert_int_equal(h_prout(a, ign, 0, 0, 0xa1, 0, 1), SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_RESERVE, T_EA, 0xa1, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(b, ign, 0, 0, 0xb1, 0, 0), SCSI_STATUS_GOOD);
	h_logout(a);
	h_logout(b);
	assert_int_equal(h_restart(&daemon_), 0);
	a = login(0, INI_A, 0x11);
	struct prin k;
	prin(a, SCSI_PERSISTENT_RESERVE_READ_KEYS, &k);
	assert_int_equal(be32(k.buf), 0);
	assert_int_equal(be32(k.buf + 4), 0);
	prin(a, SCSI_PERSISTENT_RESERVE_READ_RESERVATION, &k);
	assert_int_equal(be32(k.buf + 4), 0);
	assert_int_equal(io(a, true, 1), SCSI_STATUS_GOOD);
	h_logout(a);
}

/* The record cannot be written (a directory sits where its temporary
 * file goes): the PR OUT fails with HARDWARE ERROR 44/00 and leaves no
 * trace - state, generation, unit attentions. */
static void test_aptpl_write_failure_rolls_back(void **state)
{
	(void)state;
	struct iscsi_context *a = login(0, INI_A, 0x11);
	struct iscsi_context *b = login(1, INI_B, 0x22);
	int ign = SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY;
	assert_int_equal(h_prout(a, ign, 0, 0, 0xa1, 0, 1), SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(b, ign, 0, 0, 0xb1, 0, 1), SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_RESERVE, T_WE_RO, 0xa1, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	char path[600], tmp[700];
	record_path(path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(mkdir(tmp, 0700), 0);

	struct prin k0, k1;
	prin(a, SCSI_PERSISTENT_RESERVE_READ_KEYS, &k0);
	h_assert_sense(h_prout(a, ign, 0, 0, 0xa2, 0, 1), SCSI_SENSE_HARDWARE_ERROR, 0x4400);
	h_assert_sense(h_prout(a, SCSI_PERSISTENT_RESERVE_CLEAR, 0, 0xa1, 0, 0, 0),
	               SCSI_SENSE_HARDWARE_ERROR, 0x4400);
	h_assert_sense(
	    h_prout(b, SCSI_PERSISTENT_RESERVE_PREEMPT_AND_ABORT, T_EA, 0xb1, 0xa1, 0, 0),
	    SCSI_SENSE_HARDWARE_ERROR, 0x4400);
	prin(b, SCSI_PERSISTENT_RESERVE_READ_KEYS, &k1);
	assert_int_equal(k1.len, k0.len);
	assert_memory_equal(k1.buf, k0.buf, k0.len); /* same keys, same generation */
	struct prk_prin_resv r;
	struct prk_field_err err;
	prin(b, SCSI_PERSISTENT_RESERVE_READ_RESERVATION, &k1);
	assert_int_equal(prk_prin_resv_decode(k1.buf, k1.len, &r, &err), 0);
	assert_true(r.present);
	assert_int_equal(r.key, 0xa1);
	assert_int_equal(r.type, T_WE_RO);
	/* No unit attention of the failed CLEAR / PREEMPT reached anyone. */
	assert_int_equal(h_tur(a, 0), SCSI_STATUS_GOOD);
	assert_int_equal(h_tur(b, 0), SCSI_STATUS_GOOD);
	assert_int_equal(io(a, true, 5), SCSI_STATUS_GOOD);
	assert_int_equal(io(b, true, 5), SCSI_STATUS_GOOD);

	/* Writable again: the next change works and is what restarts. */
	assert_int_equal(rmdir(tmp), 0);
	assert_int_equal(h_prout(a, ign, 0, 0, 0xa3, 0, 1), SCSI_STATUS_GOOD);
	h_logout(a);
	h_logout(b);
	assert_int_equal(h_restart(&daemon_), 0);
	a = login(0, INI_A, 0x11);
	prin(a, SCSI_PERSISTENT_RESERVE_READ_RESERVATION, &k1);
	assert_int_equal(prk_prin_resv_decode(k1.buf, k1.len, &r, &err), 0);
	assert_true(r.present);
	assert_int_equal(r.key, 0xa3);
	h_logout(a);
}

/* ---- (b) crash safety ---- */

/* The PR state of the two initiators the crash test uses: A through
 * portal 0 and B through portal 1. */
struct model {
	uint64_t key[2]; /* 0: not registered */
	int holder;      /* -1: no reservation, else 0 (A) or 1 (B) */
	int type;
};

static bool model_eq(const struct model *x, const struct model *y)
{
	return x->key[0] == y->key[0] && x->key[1] == y->key[1] && x->holder == y->holder &&
	       (x->holder < 0 || x->type == y->type);
}

static void model_str(const struct model *m, char *buf, size_t cap)
{
	snprintf(buf, cap, "A 0x%llx B 0x%llx holder %d type %d", (unsigned long long)m->key[0],
	         (unsigned long long)m->key[1], m->holder, m->holder < 0 ? 0 : m->type);
}

/* The state as READ FULL STATUS reports it. */
static struct model read_model(struct iscsi_context *iscsi)
{
	struct prin f;
	prin(iscsi, SCSI_PERSISTENT_RESERVE_READ_FULL_STATUS, &f);
	struct prk_full_dec dec;
	struct prk_field_err err;
	struct prk_full_desc d;
	struct model m = {.holder = -1};
	assert_int_equal(prk_full_dec_start(&dec, f.buf, f.len, &err), 0);
	int r;
	while ((r = prk_full_dec_next(&dec, &d, &err)) == 1) {
		int who = strcmp(d.tid.name, INI_A) == 0 ? 0 : 1;
		assert_int_equal(d.tid.format, PRK_TID_FMT_PORT);
		assert_string_equal(d.tid.name, who ? INI_B : INI_A);
		assert_int_equal(d.tid.isid, ISID(who ? 0x22 : 0x11));
		assert_int_equal(d.rtpi, who ? 2 : 1);
		assert_int_equal(m.key[who], 0); /* once each */
		m.key[who] = d.key;
		if (d.r_holder) {
			assert_int_equal(m.holder, -1);
			m.holder = who;
			m.type = d.type;
		}
	}
	assert_int_equal(r, 0);
	return m;
}

struct op {
	int who; /* 0 A, 1 B */
	int sa, type;
	uint64_t key, sa_key;
};

static uint64_t next_key[2] = {0xa000000000000000ULL, 0xb000000000000000ULL};

/* A random PR OUT that must succeed in state m; *after is the state it
 * leads to. */
static struct op random_op(const struct model *m, struct model *after)
{
	static const int types[] = {T_WE, T_EA, T_WE_RO, T_EA_RO};
	*after = *m;
	for (;;) {
		int who = rand() % 2, other = 1 - who;
		int type = types[rand() % 4];
		struct op o = {.who = who, .type = type, .key = m->key[who]};
		switch (rand() % 6) {
		case 0: /* REGISTER AND IGNORE EXISTING KEY: a new key */
		case 1:
			o.sa = SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY;
			o.key = 0;
			o.sa_key = ++next_key[who];
			o.type = 0;
			after->key[who] = o.sa_key;
			return o;
		case 2: /* unregister (a holder releases implicitly) */
			if (!m->key[who])
				continue;
			o.sa = SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY;
			o.key = 0;
			o.sa_key = 0;
			o.type = 0;
			after->key[who] = 0;
			if (m->holder == who)
				after->holder = -1;
			return o;
		case 3:
			if (!m->key[who] || m->holder >= 0)
				continue;
			o.sa = SCSI_PERSISTENT_RESERVE_RESERVE;
			after->holder = who;
			after->type = type;
			return o;
		case 4:
			if (m->holder != who)
				continue;
			o.sa = SCSI_PERSISTENT_RESERVE_RELEASE;
			o.type = m->type;
			after->holder = -1;
			return o;
		case 5: /* PREEMPT the other's key */
			if (!m->key[who] || !m->key[other])
				continue;
			o.sa = SCSI_PERSISTENT_RESERVE_PREEMPT;
			o.sa_key = m->key[other];
			after->key[other] = 0;
			if (m->holder == other) {
				after->holder = who;
				after->type = type;
			}
			return o;
		}
	}
}

struct pending {
	bool done;
	int status;
	struct scsi_sense sense;
	struct scsi_task *task;
};

static void op_cb(struct iscsi_context *iscsi, int status, void *command_data, void *private_data)
{
	(void)iscsi;
	(void)command_data;
	struct pending *p = private_data;
	p->done = true;
	p->status = status;
	if (p->task) {
		p->sense = p->task->sense;
		scsi_free_scsi_task(p->task);
		p->task = NULL;
	}
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Sends o and waits for its answer, or until the deadline: then prkitd is
 * killed with the command in flight. Returns 1 when killed. */
static int run_op(struct iscsi_context *iscsi, const struct op *o, struct pending *p,
                  uint64_t deadline)
{
	struct scsi_persistent_reserve_out_basic b = {
	    .reservation_key = o->key, .service_action_reservation_key = o->sa_key, .aptpl = 1};
	*p = (struct pending){0};
	p->task = iscsi_persistent_reserve_out_task(iscsi, 0, o->sa, 0, o->type, &b, op_cb, p);
	assert_non_null(p->task);
	while (!p->done) {
		uint64_t now = now_us();
		if (now >= deadline) {
			assert_int_equal(h_kill_keep(&daemon_, SIGKILL), 128 + SIGKILL);
			return 1;
		}
		struct pollfd pfd = {.fd = iscsi_get_fd(iscsi),
		                     .events = iscsi_which_events(iscsi)};
		uint64_t left = (deadline - now + 999) / 1000;
		int r = poll(&pfd, 1, left < 100 ? (int)left : 100);
		assert_true(r >= 0);
		if (r > 0)
			assert_int_equal(iscsi_service(iscsi, pfd.revents), 0);
	}
	return 0;
}

static void test_aptpl_crash_safety(void **state)
{
	(void)state;
	int trials = 100;
	const char *e = getenv("PRKIT_APTPL_TRIALS");
	if (e && atoi(e) > 0)
		trials = atoi(e);
	unsigned seed = (unsigned)time(NULL);
	e = getenv("PRKIT_APTPL_SEED");
	if (e)
		seed = (unsigned)strtoul(e, NULL, 0);
	srand(seed);
	print_message("# APTPL crash test: %d trials, seed %u\n", trials, seed);

	struct model m = {.holder = -1};
	int applied = 0, not_applied = 0, same = 0, ops = 0;
	uint64_t t0 = now_us();
	for (int trial = 0; trial < trials; trial++) {
		struct iscsi_context *cx[2] = {login(0, INI_A, 0x11), login(1, INI_B, 0x22)};
		if (trial == 0) {
			struct model got = read_model(cx[0]);
			assert_true(model_eq(&got, &m));
		}
		/* Kill within 0..25 ms of the first command. */
		uint64_t deadline = now_us() + (uint64_t)(rand() % 25000);
		struct model after;
		static struct pending p;
		struct op o;
		for (;;) {
			o = random_op(&m, &after);
			int killed;
			/* A unit attention (2A/04, 2A/05 from the other's
			 * command) means the command did not run: again. */
			while (!(killed = run_op(cx[o.who], &o, &p, deadline)) &&
			       p.status == SCSI_STATUS_CHECK_CONDITION &&
			       p.sense.key == SCSI_SENSE_UNIT_ATTENTION)
				;
			if (killed)
				break;
			if (p.status != SCSI_STATUS_GOOD) {
				char s[128];
				model_str(&m, s, sizeof(s));
				fail_msg("trial %d: PR OUT sa %d type %d key 0x%llx sa key 0x%llx "
				         "from %c in state %s: status 0x%02x sense %x/%04x",
				         trial, o.sa, o.type, (unsigned long long)o.key,
				         (unsigned long long)o.sa_key, 'A' + o.who, s, p.status,
				         p.sense.key, p.sense.ascq);
			}
			m = after;
			ops++;
		}
		iscsi_destroy_context(cx[0]);
		iscsi_destroy_context(cx[1]);
		assert_int_equal(h_relaunch(&daemon_), 0);

		cx[0] = login(0, INI_A, 0x11);
		struct model got = read_model(cx[0]);
		h_logout(cx[0]);
		if (model_eq(&got, &m) && model_eq(&got, &after)) {
			same++;
		} else if (model_eq(&got, &m)) {
			not_applied++;
		} else if (model_eq(&got, &after)) {
			applied++;
			m = after;
		} else {
			char g[128], s0[128], s1[128];
			model_str(&got, g, sizeof(g));
			model_str(&m, s0, sizeof(s0));
			model_str(&after, s1, sizeof(s1));
			fail_msg("trial %d (seed %u): restored state %s; expected %s (last GOOD) "
			         "or %s (in flight: sa %d from %c)",
			         trial, seed, g, s0, s1, o.sa, 'A' + o.who);
		}
	}
	print_message("# APTPL crash test: %d trials, %d commands acknowledged, in-flight command "
	              "restored %d, not restored %d, no change %d; %.1f s\n",
	              trials, ops, applied, not_applied, same, (double)(now_us() - t0) / 1e6);
	assert_int_equal(applied + not_applied + same, trials);
}

/* ---- (c) a corrupt record ---- */

static void test_aptpl_corrupt_record_is_lost_until_replaced(void **state)
{
	(void)state;
	struct iscsi_context *a = login(0, INI_A, 0x11);
	struct iscsi_context *b = login(1, INI_B, 0x22);
	int ign = SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY;
	assert_int_equal(h_prout(a, ign, 0, 0, 0xa1, 0, 1), SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(b, ign, 0, 0, 0xb1, 0, 1), SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_RESERVE, T_WE_RO, 0xa1, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	h_logout(a);
	h_logout(b);
	assert_int_equal(h_kill_keep(&daemon_, SIGTERM), 0);

	/* Flip one byte in the middle of the record (a registration). */
	char path[600];
	record_path(path, sizeof(path));
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	off_t size = lseek(fd, 0, SEEK_END);
	assert_true(size > 40);
	uint8_t byte;
	assert_int_equal(pread(fd, &byte, 1, size / 2), 1);
	byte ^= 0x5a;
	assert_int_equal(pwrite(fd, &byte, 1, size / 2), 1);
	close(fd);

	assert_int_equal(h_relaunch(&daemon_), 0);
	assert_true(h_log_contains(&daemon_, "persistent reservations are marked lost"));
	a = login(0, INI_A, 0x11);
	b = login(1, INI_B, 0x22);
	/* Media access fails with 44/01, for everyone; so do PR OUT service
	 * actions other than REPLACE LOST RESERVATION. */
	for (int w = 0; w < 2; w++) {
		h_assert_sense(io(a, w, 3), SCSI_SENSE_HARDWARE_ERROR, ASCQ_PR_INFO_LOST);
		h_assert_sense(io(b, w, 3), SCSI_SENSE_HARDWARE_ERROR, ASCQ_PR_INFO_LOST);
	}
	h_assert_sense(h_prout(a, ign, 0, 0, 0xa2, 0, 1), SCSI_SENSE_HARDWARE_ERROR,
	               ASCQ_PR_INFO_LOST);
	/* PR IN still answers: nothing is known. */
	struct prin k;
	prin(a, SCSI_PERSISTENT_RESERVE_READ_KEYS, &k);
	assert_int_equal(be32(k.buf + 4), 0);
	json_object *o = cli_pr();
	assert_true(json_object_get_boolean(h_member(o, "lost")));
	assert_int_equal(json_object_array_length(h_member(o, "registrations")), 0);
	json_object_put(o);

	/* REPLACE LOST RESERVATION: RESERVATION KEY 0, the new key, WE-RO,
	 * APTPL again. */
	uint8_t p[PRK_PROUT_BASIC_LEN];
	assert_int_equal(prk_prout_params_encode_basic(0, 0xa9, false, true, NULL, 0, p, sizeof(p)),
	                 sizeof(p));
	assert_int_equal(h_pr_out(a, 0, SA_REPLACE_LOST, T_WE_RO, p, sizeof(p), &h_sense),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(io(a, false, 3), SCSI_STATUS_GOOD);
	assert_int_equal(io(a, true, 3), SCSI_STATUS_GOOD);
	/* B, not registered any more: it may read under WE-RO, not write. */
	assert_int_equal(h_tur(b, 0), SCSI_STATUS_GOOD);
	assert_int_equal(io(b, false, 3), SCSI_STATUS_GOOD);
	assert_int_equal(io(b, true, 3), SCSI_STATUS_RESERVATION_CONFLICT);
	prin(a, SCSI_PERSISTENT_RESERVE_READ_KEYS, &k);
	assert_int_equal(be32(k.buf), 1); /* PRgeneration 0 at the restart, + 1 */
	assert_int_equal(be32(k.buf + 4), 8);
	struct prk_prin_resv r;
	struct prk_field_err err;
	prin(a, SCSI_PERSISTENT_RESERVE_READ_RESERVATION, &k);
	assert_int_equal(prk_prin_resv_decode(k.buf, k.len, &r, &err), 0);
	assert_true(r.present);
	assert_int_equal(r.key, 0xa9);
	assert_int_equal(r.type, T_WE_RO);
	o = cli_pr();
	assert_false(json_object_get_boolean(h_member(o, "lost")));
	assert_true(json_object_get_boolean(h_member(o, "aptpl")));
	json_object_put(o);
	h_logout(a);
	h_logout(b);

	/* The replacement was persisted: it survives the next restart. */
	assert_int_equal(h_restart(&daemon_), 0);
	a = login(0, INI_A, 0x11);
	assert_int_equal(io(a, true, 4), SCSI_STATUS_GOOD);
	prin(a, SCSI_PERSISTENT_RESERVE_READ_RESERVATION, &k);
	assert_int_equal(prk_prin_resv_decode(k.buf, k.len, &r, &err), 0);
	assert_true(r.present);
	assert_int_equal(r.key, 0xa9);
	assert_int_equal(r.type, T_WE_RO);
	h_logout(a);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_aptpl_state_survives_restart),
	    T(test_aptpl_off_forgets_on_restart),
	    T(test_aptpl_register_and_move_survives_restart),
	    T(test_aptpl_write_failure_rolls_back),
	    T(test_aptpl_crash_safety),
	    T(test_aptpl_corrupt_record_is_lost_until_replaced),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
