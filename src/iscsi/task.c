/* SCSI commands on an iSCSI connection: CmdSN checks, gathering write data
 * (immediate, unsolicited, R2T-solicited Data-Out with offset and DataSN
 * checks), handing complete commands to the LU, and answering with
 * Data-In (status collapsed into the last one when possible) or a SCSI
 * Response with sense data and residuals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "log.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_xfer.h"
#include "srv_internal.h"

static void task_done(struct prk_lu_cmd *cmd);

void prk_task_unlink(struct prk_conn *c, struct prk_task *t)
{
	if (c->place_task == t)
		c->place_task = NULL; /* rx.c drops the rest of its Data-Out */
	for (struct prk_task **pp = &c->tasks; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			c->n_tasks--;
			return;
		}
}

void prk_task_free(struct prk_task *t)
{
	prk_task_mem_release(t);
	free(t->cmd.data_in);
	prk_srv_rec_put(t->rec);
	free(t);
}

/* A task inside the LU outlives its connection: a write queued in the
 * backstore still reaches the medium later. Were it on no list, a PREEMPT
 * AND ABORT (or CLEAR TASK SET, LU reset) could not wait for it, and a
 * fenced host's write could land after the fence returned. So it keeps
 * the aborts that wait for it, if any, and joins the server's orphans with its own copy of
 * the I_T nexus, port and target (the session is freed right after). */
static void orphan_keep(struct prk_iscsi_server *s, struct prk_session *ss, struct prk_task *t)
{
	t->orphan = true;
	if (ss) {
		t->orphan_nx = ss->nexus;
		t->orphan_port = ss->port;
		t->orphan_tgt = ss->tgt;
	}
	/* With several loops cmd.nx and cmd.port point into t->rec, which
	 * outlives the session, and loop 0 may be reading them right now. */
	if (!t->rec) {
		t->cmd.nx = &t->orphan_nx;
		t->cmd.port = &t->orphan_port;
	}
	t->orphan_prev = NULL;
	t->next = s->orphans;
	if (s->orphans)
		s->orphans->orphan_prev = t;
	s->orphans = t;
}

static void orphan_unlink(struct prk_task *t)
{
	struct prk_iscsi_server *s = t->srv;
	t->orphan = false;
	if (!s)
		return; /* the server went first (prk_tasks_orphans_detach) */
	if (t->orphan_prev)
		t->orphan_prev->next = t->next;
	else
		s->orphans = t->next;
	if (t->next)
		t->next->orphan_prev = t->orphan_prev;
}

void prk_tasks_orphan(struct prk_conn *c)
{
	while (c->tasks) {
		struct prk_task *t = c->tasks;
		c->tasks = t->next;
		t->conn = NULL;
		if (c->place_task == t)
			c->place_task = NULL;
		if (t->state == TASK_IN_LU) {
			orphan_keep(c->srv, c->sess, t); /* freed by task_done */
			/* I_T nexus loss aborts it (SAM-5): nobody waits for its
			 * answer, so a copy need not run to its end. */
			t->cancel_owed = !t->cancelled;
		} else {
			prk_task_free(t);
		}
	}
	c->n_tasks = 0;
	prk_abort_cancel_owed(c->srv);
}

void prk_tasks_orphans_detach(struct prk_iscsi_server *s)
{
	while (s->orphans) {
		struct prk_task *t = s->orphans;
		s->orphans = t->next;
		t->next = NULL;
		/* Its buffer stays: the backstore may still be writing from
		 * it. Only the accounting, which lives in s, is dropped. */
		t->srv = NULL;
		t->home = NULL; /* several loops: answered where it completes */
	}
}

/* ---- responses ---- */

static void send_status(struct prk_conn *c, struct prk_task *t, uint8_t status,
                        const uint8_t *sense, size_t sense_len, uint32_t residual, bool under,
                        bool over)
{
	struct prk_iscsi_scsi_rsp r = {
	    .itt = t->itt,
	    .status = status,
	    .residual = residual,
	    .underflow = under,
	    .overflow = over,
	};
	uint8_t *data = NULL;
	size_t dlen = 0;
	if (sense_len) {
		dlen = 2 + sense_len;
		data = malloc(dlen);
		if (data) {
			prk_put_be16(data, (uint16_t)sense_len);
			memcpy(data + 2, sense, sense_len);
		} else {
			dlen = 0;
		}
	}
	r.dlen = (uint32_t)dlen;
	prk_conn_fill_sn(c, &r.sn, true);
	uint8_t bhs[PRK_ISCSI_BHS_LEN];
	prk_iscsi_scsi_rsp_encode(&r, bhs);
	prk_conn_send(c, bhs, data, dlen, data);
}

static void send_check(struct prk_conn *c, struct prk_task *t, uint8_t key, uint16_t asc)
{
	struct prk_sense s;
	uint8_t buf[PRK_SENSE_FIXED_LEN];
	prk_sense_set(&s, key, asc);
	size_t n = prk_sense_encode_fixed(&s, buf, sizeof(buf));
	send_status(c, t, PRK_STATUS_CHECK_CONDITION, buf, n, 0, false, false);
}

/* Data-In PDUs of at most MaxRecvDataSegmentLength (the initiator's), the
 * last one carrying GOOD status when there is no sense data. */
/* Residuals (RFC 7143 11.4.5): the LU says how many bytes the command
 * called for (spdtl); the initiator said how many it expected (EDTL). */
static void residual_of(const struct prk_task *t, uint32_t *res, bool *under, bool *over)
{
	const struct prk_lu_cmd *cmd = &t->cmd;
	*res = 0;
	*under = *over = false;
	if (cmd->status != PRK_STATUS_GOOD && !cmd->spdtl)
		return;
	if (cmd->spdtl > t->edtl) {
		*over = true;
		*res = cmd->spdtl - t->edtl;
	} else if (cmd->spdtl < t->edtl) {
		*under = true;
		*res = t->edtl - cmd->spdtl;
	}
}

/* Data-In PDUs of at most MaxRecvDataSegmentLength (the initiator's), the
 * last one carrying GOOD status when there is no sense data. */
static void send_data_in(struct prk_conn *c, struct prk_task *t)
{
	struct prk_lu_cmd *cmd = &t->cmd;
	uint32_t len = cmd->data_in_len < t->edtl ? cmd->data_in_len : t->edtl;
	uint32_t residual;
	bool under, over;
	residual_of(t, &residual, &under, &over);
	bool collapse = cmd->status == PRK_STATUS_GOOD && !cmd->sense_len;
	uint32_t max = c->params.max_send_dsl ? c->params.max_send_dsl : 8192;
	uint8_t *owner = cmd->data_in;
	cmd->data_in = NULL; /* the last Data-In PDU frees it once sent */
	/* ...and gives its bytes back to the budget then: data-in waiting
	 * for a slow reader is memory too. */
	size_t charge = prk_task_mem_take_read(t, len);
	uint32_t datasn = 0;
	for (uint32_t off = 0; off < len; datasn++) {
		uint32_t n = len - off < max ? len - off : max;
		bool last = off + n == len;
		struct prk_iscsi_data_in d = {
		    .itt = t->itt,
		    .lun = prk_iscsi_lun_encode(t->lun),
		    .final = last,
		    .ttt = PRK_ISCSI_RSVD_TAG,
		    .datasn = datasn,
		    .offset = off,
		    .dlen = n,
		};
		if (last && collapse) {
			/* Phase collapse: the status rides on the last Data-In. */
			d.status = true;
			d.scsi_status = PRK_STATUS_GOOD;
			d.underflow = under;
			d.overflow = over;
			d.residual = residual;
		}
		prk_conn_fill_sn(c, &d.sn, last && collapse);
		uint8_t bhs[PRK_ISCSI_BHS_LEN];
		prk_iscsi_data_in_encode(&d, bhs);
		struct prk_tx *tx = prk_conn_send(c, bhs, owner + off, n, last ? owner : NULL);
		if (last) {
			if (tx)
				tx->charge = charge;
			else
				prk_srv_mem_uncharge(c->srv, charge);
		}
		off += n;
	}
	if (!collapse)
		send_status(c, t, cmd->status, cmd->sense, cmd->sense_len, residual, under, over);
}

static void task_done(struct prk_lu_cmd *cmd)
{
	struct prk_task *t = cmd->priv;
	/* The LU is done with the write data: give the memory back before the
	 * response computes MaxCmdSN. */
	prk_task_mem_release(t);
	prk_abort_task_left(t); /* every abort waiting for it, not just the first */
	prk_task_answer(t);
}

void prk_task_answer(struct prk_task *t)
{
	struct prk_conn *c = t->conn;
	struct prk_lu_cmd *cmd = &t->cmd;
	prk_task_mem_release(t); /* with several loops, on t's own loop */
	if (!c) {
		orphan_unlink(t); /* the connection went away meanwhile */
		prk_task_free(t);
		return;
	}
	prk_task_unlink(c, t);
	if (t->aborted && t->report_aborted) {
		prk_task_send_aborted(c, t);
	} else if (t->aborted) {
		prk_abort_silent_left(c); /* abort.c: the initiator's window */
	} else {
		uint32_t len = cmd->data_in_len < t->edtl ? cmd->data_in_len : t->edtl;
		if (cmd->dir_read && len) {
			send_data_in(c, t);
		} else {
			uint32_t residual;
			bool under, over;
			residual_of(t, &residual, &under, &over);
			send_status(c, t, cmd->status, cmd->sense, cmd->sense_len, residual, under,
			            over);
		}
	}
	prk_task_free(t);
}

void prk_task_send_aborted(struct prk_conn *c, struct prk_task *t)
{
	send_status(c, t, PRK_STATUS_TASK_ABORTED, NULL, 0, 0, false, false);
}

/* ---- execution ---- */

/* REPORT LUNS is the target's, not a LU's: it lists the target's LUNs
 * whatever LUN the command was sent to. */
static void report_luns(struct prk_conn *c, struct prk_task *t)
{
	struct prk_iscsi_target *tgt = c->sess->tgt;
	const uint8_t *cdb = t->cmd.cdb;
	uint32_t alloc = prk_get_be32(cdb + 6);
	uint8_t select = cdb[2];
	if (select > 2 && select != 0x10 && select != 0x11 && select != 0x12) {
		struct prk_field_err e;
		struct prk_sense s;
		uint8_t buf[PRK_SENSE_FIXED_LEN];
		prk_field_err_set(&e, true, 2, -1, PRK_ASC_INVALID_FIELD_IN_CDB, "SELECT REPORT");
		prk_sense_from_field_err(&s, &e);
		size_t n = prk_sense_encode_fixed(&s, buf, sizeof(buf));
		send_status(c, t, PRK_STATUS_CHECK_CONDITION, buf, n, 0, false, false);
		prk_task_unlink(c, t);
		prk_task_free(t);
		return;
	}
	/* SELECT REPORT 01h (well known LUNs only) and 11h report none. */
	size_t n = (select == 1 || select == 0x11) ? 0 : tgt->n_luns;
	size_t full = 8 + 8 * n;
	uint8_t *d = calloc(1, full);
	if (!d) {
		send_check(c, t, PRK_SK_HARDWARE_ERROR, PRK_ASC_INSUFFICIENT_RESOURCES);
		prk_task_unlink(c, t);
		prk_task_free(t);
		return;
	}
	uint32_t list = (uint32_t)(8 * n);
	prk_put_be32(d, list);
	for (size_t i = 0; i < n; i++)
		prk_put_be64(d + 8 + 8 * i, prk_iscsi_lun_encode(tgt->luns[i].lun));
	t->cmd.data_in = d;
	t->cmd.data_in_len = (uint32_t)(full < alloc ? full : alloc);
	t->cmd.spdtl = t->cmd.data_in_len;
	if (t->cmd.data_in_len > t->edtl)
		t->cmd.data_in_len = t->edtl;
	t->cmd.status = PRK_STATUS_GOOD;
	t->cmd.dir_read = true;
	t->state = TASK_IN_LU;
	task_done(&t->cmd);
}

/* Commands to a LUN that does not exist (SPC-4 4.6.4, SAM-5 5.8): INQUIRY
 * answers with peripheral qualifier 011b, REQUEST SENSE reports LOGICAL UNIT
 * NOT SUPPORTED as data, everything else fails with it. */
static void no_such_lun(struct prk_conn *c, struct prk_task *t)
{
	uint8_t op = t->cmd.cdb[0];
	if (op == PRK_OP_INQUIRY && !(t->cmd.cdb[1] & 1)) {
		uint16_t alloc = prk_get_be16(t->cmd.cdb + 3);
		uint8_t *d = calloc(1, 36);
		if (d) {
			d[0] = 0x7f; /* qualifier 011b, device type 1Fh */
			d[2] = 0x06;
			d[3] = 0x02;
			d[4] = 31;
			t->cmd.data_in = d;
			t->cmd.data_in_len = alloc < 36 ? alloc : 36;
			t->cmd.spdtl = t->cmd.data_in_len;
			if (t->cmd.data_in_len > t->edtl)
				t->cmd.data_in_len = t->edtl;
			t->cmd.status = PRK_STATUS_GOOD;
			t->cmd.dir_read = true;
			t->state = TASK_IN_LU;
			task_done(&t->cmd);
			return;
		}
	}
	send_check(c, t, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LU_NOT_SUPPORTED);
	prk_task_unlink(c, t);
	prk_task_free(t);
}

/* The most a command on t's LU may transfer: its MAXIMUM TRANSFER LENGTH
 * (Block Limits VPD) in bytes. */
static uint64_t lu_max_bytes(const struct prk_task *t)
{
	const struct prk_lu_config *cfg = prk_lu_config(t->lu);
	return (uint64_t)cfg->max_xfer_blocks * cfg->block_size;
}

static void execute(struct prk_conn *c, struct prk_task *t)
{
	t->state = TASK_IN_LU;
	if (t->cmd.cdb[0] == PRK_OP_REPORT_LUNS) {
		report_luns(c, t);
		return;
	}
	if (!t->lu) {
		no_such_lun(c, t);
		return;
	}
	if (t->cmd.dir_read && t->edtl && !t->read_charge) {
		/* Room for the data-in first, or wait for it in line with the
		 * writes: the budget covers both directions. */
		uint64_t max = lu_max_bytes(t);
		t->read_want = t->edtl < max ? t->edtl : (uint32_t)max;
		if (prk_task_mem_read(t) > 0) {
			t->state = TASK_WAIT_MEM;
			return; /* prk_task_buffer_ready() runs it */
		}
	}
	t->cmd.data_out = t->buf;
	t->cmd.data_out_len = t->received < t->need ? t->received : t->need;
	prk_srv_submit(t); /* prk_lu_submit, on loop 0 */
}

/* Asks for the next burst of write data (one R2T outstanding at a time:
 * MaxOutstandingR2T is negotiated down to what we offer). Only what will
 * be stored is asked for: RFC 7143 leaves it to the target to solicit,
 * and the response's residual tells the initiator the rest was not
 * transferred. */
static void send_r2t(struct prk_conn *c, struct prk_task *t)
{
	uint32_t len = t->need - t->r2t_offset;
	if (len > c->params.max_burst)
		len = c->params.max_burst;
	struct prk_iscsi_r2t r = {
	    .itt = t->itt,
	    .lun = prk_iscsi_lun_encode(t->lun),
	    .ttt = t->ttt,
	    .r2tsn = t->r2tsn++,
	    .offset = t->r2t_offset,
	    .length = len,
	};
	prk_conn_fill_sn(c, &r.sn, false);
	t->burst_end = t->r2t_offset + len;
	t->r2t_offset += len;
	t->data_ms = prk_now_ms();
	t->next_datasn = 0;
	uint8_t bhs[PRK_ISCSI_BHS_LEN];
	prk_iscsi_r2t_encode(&r, bhs);
	prk_conn_send(c, bhs, NULL, 0, NULL);
}

/* The unsolicited data is in and more is needed: solicit it once the
 * buffer has room for all of it. */
static void request_more(struct prk_task *t)
{
	int r = prk_task_mem_full(t);
	if (r > 0)
		return; /* queued: prk_task_buffer_ready() sends the R2T */
	prk_task_buffer_ready(t, r == 0);
}

void prk_task_buffer_ready(struct prk_task *t, bool ok)
{
	struct prk_conn *c = t->conn;
	if (!c)
		return;
	if (t->state == TASK_WAIT_MEM) {
		execute(c, t);
		return;
	}
	if (!ok) {
		send_check(c, t, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INSUFFICIENT_RESOURCES);
		prk_task_unlink(c, t);
		prk_task_free(t);
		return;
	}
	send_r2t(c, t);
}

/* How many bytes of write data t stores: what its CDB calls for, at most
 * EDTL (less is an underflow the LU handles). A CDB asking for more than
 * the LU's MAXIMUM TRANSFER LENGTH (Block Limits VPD) is refused by the LU
 * without looking at data, so nothing is stored for it; an opcode the
 * table does not know gets at most that maximum. */
static uint32_t data_out_need(const struct prk_task *t)
{
	if (!t->lu || t->cmd.cdb[0] == PRK_OP_REPORT_LUNS)
		return 0;
	const struct prk_lu_config *cfg = prk_lu_config(t->lu);
	uint64_t max = lu_max_bytes(t);
	uint64_t n;
	if (prk_cdb_data_out_len(t->cmd.cdb, t->cmd.cdb_len, cfg->block_size, &n) ==
	    PRK_XFER_UNKNOWN)
		n = max;
	else if (n > max)
		n = 0;
	return n < t->edtl ? (uint32_t)n : t->edtl;
}

static struct prk_task *find_by_ttt(struct prk_conn *c, uint32_t ttt, uint32_t itt)
{
	for (struct prk_task *t = c->tasks; t; t = t->next)
		if (t->itt == itt && (ttt == PRK_ISCSI_RSVD_TAG || t->ttt == ttt))
			return t;
	return NULL;
}

void prk_task_scsi_cmd(struct prk_conn *c, const uint8_t *bhs, const uint8_t *data, size_t dlen)
{
	struct prk_iscsi_scsi_cmd sc;
	uint8_t reason;
	if (prk_iscsi_scsi_cmd_decode(bhs, &sc, &reason)) {
		prk_conn_reject(c, bhs, reason);
		return;
	}
	struct prk_session *ss = c->sess;
	if (!sc.h.immediate) {
		/* Outside the window: silently ignored (RFC 7143 3.2.2.1). */
		uint32_t max = ss->maxcmdsn;
		if (prk_sn_lt(sc.cmdsn, ss->expcmdsn) || prk_sn_lt(max, sc.cmdsn)) {
			prk_warn("%s: CmdSN %u outside [%u, %u]: ignored", c->peer, sc.cmdsn,
			         ss->expcmdsn, max);
			return;
		}
		if (!prk_sn_lt(sc.cmdsn, ss->expcmdsn))
			ss->expcmdsn = sc.cmdsn + 1;
		if (prk_tmf_aborted_ahead(ss, sc.cmdsn, sc.h.itt)) {
			/* Counted as received when ABORT TASK named it; it takes
			 * its CmdSN and nothing more. Nothing answers it, so a
			 * NOP-In carries the window it frees. */
			prk_info("%s: CmdSN %u itt 0x%x was aborted before it arrived: discarded",
			         c->peer, sc.cmdsn, sc.h.itt);
			prk_abort_silent_left(c);
			return;
		}
	}
	for (struct prk_task *o = c->tasks; o; o = o->next)
		if (o->itt == sc.h.itt) {
			prk_conn_reject(c, bhs, PRK_REJECT_TASK_IN_PROGRESS);
			return;
		}
	/* The CmdSN window keeps a conforming initiator within max_tasks; the
	 * slack covers immediate commands, which take no CmdSN. */
	if (c->n_tasks >= c->srv->opts.max_tasks + PRK_IMMEDIATE_SLACK) {
		struct prk_task tmp = {.itt = sc.h.itt};
		send_status(c, &tmp, PRK_STATUS_TASK_SET_FULL, NULL, 0, 0, false, false);
		return;
	}
	struct prk_task *t = calloc(1, sizeof(*t));
	if (!t) {
		prk_conn_reject(c, bhs, PRK_REJECT_OUT_OF_RESOURCES);
		return;
	}
	t->conn = c;
	t->srv = c->srv;
	t->itt = sc.h.itt;
	t->cmdsn = sc.cmdsn;
	t->edtl = sc.edtl;
	uint16_t lun = 0xffff;
	if (prk_iscsi_lun_decode(sc.h.lun, &lun) == 0)
		t->lun = lun;
	t->lu = lun != 0xffff ? prk_srv_find_lu(ss->tgt, lun) : NULL;
	t->ttt = 0x40000000u | (c->next_ttt++ & 0x3fffffffu);
	memcpy(t->cmd.cdb, sc.cdb, 16);
	t->cmd.cdb_len = 16;
	t->cmd.nx = &ss->nexus;
	t->cmd.port = &ss->port;
	t->cmd.edtl = sc.edtl;
	t->cmd.dir_read = sc.read;
	t->cmd.dir_write = sc.write;
	t->cmd.done = task_done;
	t->cmd.priv = t;
	t->next = c->tasks;
	c->tasks = t;
	c->n_tasks++;

	if (!sc.write || sc.edtl == 0) {
		if (dlen) {
			/* Immediate data without W: a protocol error (RFC 7143 11.3.4). */
			prk_task_unlink(c, t);
			prk_task_free(t);
			prk_conn_reject(c, bhs, PRK_REJECT_PROTOCOL_ERROR);
			return;
		}
		execute(c, t);
		return;
	}
	/* Immediate data counts against FirstBurstLength, as does unsolicited
	 * Data-Out when InitialR2T=No. */
	uint32_t first = c->params.first_burst < sc.edtl ? c->params.first_burst : sc.edtl;
	if (dlen > first || (dlen && !c->params.immediate_data)) {
		prk_task_unlink(c, t);
		prk_task_free(t);
		prk_conn_reject(c, bhs, PRK_REJECT_PROTOCOL_ERROR);
		return;
	}
	/* The buffer is sized from the CDB, not from EDTL; first only for the
	 * unsolicited part, the rest when it is solicited. */
	t->need = data_out_need(t);
	t->received = (uint32_t)dlen;
	/* F=1 on the command says no unsolicited Data-Out follows (RFC 7143
	 * 11.3.4), even with InitialR2T=No and less immediate data than the
	 * first burst: the rest is solicited with R2T, not waited for. */
	t->unsolicited_end = c->params.initial_r2t || sc.h.final ? t->received : first;
	if (prk_task_mem_unsolicited(t, t->unsolicited_end)) {
		send_check(c, t, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INSUFFICIENT_RESOURCES);
		prk_task_unlink(c, t);
		prk_task_free(t);
		return;
	}
	uint32_t keep = t->received < t->need ? t->received : t->need;
	if (keep) /* no immediate data: data is NULL */
		memcpy(t->buf, data, keep);
	t->r2t_offset = t->unsolicited_end;
	t->burst_end = t->unsolicited_end;
	t->state = TASK_DATA_OUT;
	t->data_ms = prk_now_ms();
	if (t->received < t->unsolicited_end)
		return; /* unsolicited Data-Out PDUs follow */
	if (t->received >= t->need)
		execute(c, t);
	else
		request_more(t);
}

void prk_task_data_out(struct prk_conn *c, const uint8_t *bhs, const uint8_t *data, size_t dlen)
{
	struct prk_iscsi_data_out d;
	uint8_t reason;
	if (prk_iscsi_data_out_decode(bhs, &d, &reason)) {
		prk_conn_reject(c, bhs, reason);
		return;
	}
	struct prk_task *t = find_by_ttt(c, d.ttt, d.h.itt);
	if (!t || t->state != TASK_DATA_OUT) {
		/* Data for a task that was aborted meanwhile is dropped quietly;
		 * data for a task that never existed is a protocol error. */
		if (!t &&
		    !(d.ttt == PRK_ISCSI_RSVD_TAG && prk_tmf_aborted_ahead_data(c->sess, d.h.itt)))
			prk_conn_reject(c, bhs, PRK_REJECT_INVALID_PDU_FIELD);
		return;
	}
	bool solicited = d.ttt != PRK_ISCSI_RSVD_TAG;
	uint32_t end = solicited ? t->burst_end : t->unsolicited_end;
	/* DataPDUInOrder=Yes: every PDU continues exactly where the last one
	 * ended, inside the burst it belongs to, with the next DataSN. A PDU
	 * that does not fails the task (its data cannot be placed), but the
	 * session goes on: the rest of the sequence is read and dropped, and
	 * the task ends with ABORTED COMMAND when the sequence does. */
	if (!t->data_error) {
		if (d.datasn != t->next_datasn)
			t->data_error = PRK_ASC_DATA_PHASE_ERROR;
		else if (d.offset != t->received || d.offset + dlen > end)
			t->data_error = PRK_ASC_DATA_OFFSET_ERROR;
		if (t->data_error)
			prk_warn(
			    "%s: Data-Out itt 0x%x offset %u len %zu datasn %u, expected offset "
			    "%u datasn %u (burst end %u): the task fails",
			    c->peer, d.h.itt, d.offset, dlen, d.datasn, t->received, t->next_datasn,
			    end);
	}
	t->next_datasn++;
	t->data_ms = prk_now_ms();
	if (!t->data_error) {
		/* Bytes beyond what the CDB needs are read and dropped. */
		uint32_t keep = d.offset >= t->need         ? 0
		                : dlen < t->need - d.offset ? (uint32_t)dlen
		                                            : t->need - d.offset;
		if (keep) {
			if (d.offset + keep > t->buf_cap) {
				/* Solicited data before its R2T (a guessed TTT). */
				t->data_error = PRK_ASC_DATA_OFFSET_ERROR;
			} else if (!data) {
				/* Dropped on arrival: its task was gone then
				 * (another task may carry the ITT by now). */
				t->data_error = PRK_ASC_DATA_OFFSET_ERROR;
			} else if (data != t->buf + d.offset) {
				/* Not received in place already (rx.c). */
				memcpy(t->buf + d.offset, data, keep);
			}
		}
		t->received += (uint32_t)dlen;
	}
	if (!d.h.final)
		return;
	if (!t->data_error && t->received != end)
		t->data_error = PRK_ASC_DATA_PHASE_ERROR; /* the sequence ended early */
	if (t->data_error) {
		send_check(c, t, PRK_SK_ABORTED_COMMAND, t->data_error);
		prk_task_unlink(c, t);
		prk_task_free(t);
		return;
	}
	if (t->received >= t->need) {
		execute(c, t);
		return;
	}
	if (!solicited) {
		t->next_datasn = 0;
		request_more(t);
		return;
	}
	send_r2t(c, t);
}

struct prk_task *prk_task_place(struct prk_conn *c, const uint8_t *bhs, uint32_t dlen,
                                uint32_t *offset)
{
	struct prk_iscsi_data_out d;
	uint8_t reason;
	if (!dlen || prk_iscsi_data_out_decode(bhs, &d, &reason))
		return NULL;
	struct prk_task *t = find_by_ttt(c, d.ttt, d.h.itt);
	if (!t || t->state != TASK_DATA_OUT || t->data_error)
		return NULL;
	uint32_t end = d.ttt != PRK_ISCSI_RSVD_TAG ? t->burst_end : t->unsolicited_end;
	/* The same checks as prk_task_data_out, and all of the data stored:
	 * anything else goes the checked way, through the connection buffer. */
	if (d.datasn != t->next_datasn || d.offset != t->received || d.offset > end ||
	    dlen > end - d.offset || d.offset > t->need || dlen > t->need - d.offset ||
	    d.offset + dlen > t->buf_cap)
		return NULL;
	*offset = d.offset;
	return t;
}

bool prk_tasks_stalled(const struct prk_conn *c, uint64_t now, unsigned timeout_ms)
{
	if (!c->srv->mem_wait_head)
		return false; /* nobody waits: a slow initiator only slows itself */
	for (const struct prk_task *t = c->tasks; t; t = t->next)
		if (t->state == TASK_DATA_OUT && !t->mem_wait && t->buf_cap &&
		    now - t->data_ms > timeout_ms)
			return true;
	return false;
}

void prk_task_data_error(struct prk_conn *c, const uint8_t *bhs, uint16_t asc)
{
	struct prk_iscsi_data_out d;
	uint8_t reason;
	if (prk_iscsi_data_out_decode(bhs, &d, &reason))
		return;
	struct prk_task *t = find_by_ttt(c, d.ttt, d.h.itt);
	if (!t || t->state != TASK_DATA_OUT)
		return;
	if (!t->data_error)
		t->data_error = asc;
	t->next_datasn++;
	if (d.h.final) {
		send_check(c, t, PRK_SK_ABORTED_COMMAND, t->data_error);
		prk_task_unlink(c, t);
		prk_task_free(t);
	}
}
