/* prkitd under a hostile initiator: memory bounded by what a command
 * needs (not by the Expected Data Transfer Length it claims), the daemon's
 * budget for write buffers with back-pressure through MaxCmdSN, the cap on
 * connections in login, and running out of file descriptors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"
#include "raw_iscsi.h"

#define INI_RAW "iqn.2026-11.io.prkit.test:dos"
#define INI_A "iqn.2026-11.io.prkit.test:host-a"

static struct h_daemon daemon_;

/* One portal, H_TARGET with one LU, and extra top-level fields. */
static int start_with(const char *lu, const char *extra)
{
	char cfg[2048];
	snprintf(cfg, sizeof(cfg),
	         "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}],"
	         " \"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000%s%s,"
	         " \"targets\": [{\"name\": \"%s\", \"luns\": [%s]}]}",
	         extra[0] ? ", " : "", extra, H_TARGET, lu);
	return h_start(&daemon_, cfg);
}

#define RAM_LU "{\"backstore\": {\"type\": \"ram\", \"size\": \"64M\"}}"

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

static uint8_t pattern(uint32_t seed, uint32_t off)
{
	return (uint8_t)(seed * 131 + off * 7 + (off >> 9));
}

static void fill(uint8_t *buf, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = pattern(seed, i);
}

/* TEST UNIT READY until GOOD (the first reports the power-on UA). */
static void raw_clear_ua(struct raw *r, uint32_t *itt)
{
	static const uint8_t tur[16] = {0};
	int st = -1;
	for (int i = 0; i < 4 && st != SCSI_STATUS_GOOD; i++) {
		uint32_t t = (*itt)++;
		assert_int_equal(raw_cmd(r, t, tur, false, false, 0, NULL, 0), 0);
		st = raw_wait_status(r, t, NULL, 0, NULL, 5000);
	}
	assert_int_equal(st, SCSI_STATUS_GOOD);
}

/* A normal WRITE + READ round trip with a data check. */
static void assert_round_trip(struct raw *r, uint32_t *itt, uint32_t lba, uint32_t len)
{
	uint8_t *out = malloc(len), *in = calloc(1, len);
	assert_non_null(out);
	assert_non_null(in);
	fill(out, len, lba);
	assert_int_equal(raw_write10(r, (*itt)++, lba, out, len, 512), SCSI_STATUS_GOOD);
	assert_int_equal(raw_read10(r, (*itt)++, lba, in, len, 512), SCSI_STATUS_GOOD);
	assert_memory_equal(in, out, len);
	free(out);
	free(in);
}

/* ---- item 1: buffers sized from the CDB ---- */

#define N_HUGE 64
#define HUGE_EDTL 0xffffffffu
#define PUMP_BYTES (512u << 20)

static int setup_default(void **state)
{
	(void)state;
	return start_with(RAM_LU, "");
}

/* The SCSI responses of the N_HUGE commands, as they come. */
struct huge {
	uint32_t base; /* ITT of command 0 */
	int status[N_HUGE];
	uint8_t rsp[N_HUGE][48];
};

static void note_status(struct raw *r, struct huge *h, const struct raw_pdu *p)
{
	uint32_t t = raw_get32(p->bhs + 16);
	if ((p->bhs[0] & 0x3f) != RAW_OP_SCSI_RSP || t - h->base >= N_HUGE)
		return;
	h->status[t - h->base] = p->bhs[3];
	memcpy(h->rsp[t - h->base], p->bhs, 48);
	r->expstatsn = raw_get32(p->bhs + 24) + 1;
}

/* Sends Data-Out for itt as fast as possible, from offset on, until total
 * bytes have gone, reading what the target answers meanwhile so that
 * neither side's socket fills up. */
static void pump_unasked(struct raw *r, struct huge *h, uint32_t itt, uint32_t offset,
                         uint64_t total, const uint8_t *chunk, uint32_t chunk_len)
{
	uint32_t sn = 0;
	for (uint64_t sent = 0; sent < total; sn++) {
		uint32_t n = total - sent < chunk_len ? (uint32_t)(total - sent) : chunk_len;
		assert_int_equal(
		    raw_data_out(r, itt, RAW_RSVD_TAG, sn, offset, chunk, n, sent + n == total), 0);
		sent += n;
		offset += n;
		for (;;) {
			struct pollfd pf = {.fd = r->fd, .events = POLLIN};
			if (poll(&pf, 1, 0) <= 0)
				break;
			struct raw_pdu p;
			assert_int_equal(raw_read(r, &p, 1000), 0);
			note_status(r, h, &p);
			raw_pdu_free(&p);
		}
	}
}

/* 64 WRITE(10)s of one block that each claim 4 GiB, and 512 MiB of
 * Data-Out for one of them: the target stores one block per command,
 * discards the rest, reports the residual, and its RSS stays within 64 MB
 * of the idle figure. */
static void test_huge_edtl_is_bounded_by_the_cdb(void **state)
{
	(void)state;
	struct raw r;
	struct raw_opts o = {.initial_r2t = true,
	                     .immediate_data = true,
	                     .first_burst = 65536,
	                     .max_burst = 1048576,
	                     .max_recv_dsl = 262144};
	assert_int_equal(raw_login(&r, &daemon_, H_TARGET, INI_RAW, 1, &o), 0);
	uint32_t itt = 1;
	raw_clear_ua(&r, &itt);
	long idle = h_rss_kib(&daemon_);
	assert_true(idle > 0);

	/* Immediate data: the first burst, of which the CDB needs 512 bytes. */
	uint32_t imm = r.immediate_data
	                   ? (r.first_burst < r.max_send_dsl ? r.first_burst : r.max_send_dsl)
	                   : 0;
	uint32_t chunk_len = r.max_send_dsl;
	uint8_t *chunk = malloc(chunk_len);
	assert_non_null(chunk);
	static struct huge h;
	h.base = itt;
	uint32_t base = itt;
	for (uint32_t i = 0; i < N_HUGE; i++) {
		uint8_t cdb[16] = {0x2a};
		raw_put32(cdb + 2, i); /* LBA i, one block */
		cdb[8] = 1;
		fill(chunk, imm, i);
		assert_int_equal(raw_cmd(&r, base + i, cdb, false, true, HUGE_EDTL, chunk, imm), 0);
	}
	itt = base + N_HUGE;

	/* Command 0 gets every byte the target asks for, up to 512 MiB. */
	for (int i = 0; i < N_HUGE; i++)
		h.status[i] = -1;
	uint64_t sent = imm;
	fill(chunk, chunk_len, 0xabc);
	while (sent < PUMP_BYTES && h.status[0] < 0) {
		struct raw_pdu p;
		assert_int_equal(raw_read(&r, &p, 5000), 0);
		uint8_t op = p.bhs[0] & 0x3f;
		uint32_t t = raw_get32(p.bhs + 16);
		note_status(&r, &h, &p);
		if (op == RAW_OP_R2T && t == base) {
			uint32_t ttt = raw_get32(p.bhs + 20), off = raw_get32(p.bhs + 40);
			uint32_t want = raw_get32(p.bhs + 44), sn = 0;
			for (uint32_t done = 0; done < want && sent < PUMP_BYTES; sn++) {
				uint32_t n = want - done < chunk_len ? want - done : chunk_len;
				assert_int_equal(raw_data_out(&r, t, ttt, sn, off + done, chunk, n,
				                              done + n == want),
				                 0);
				done += n;
				sent += n;
			}
		}
		raw_pdu_free(&p);
	}
	/* What the target did not ask for goes anyway, unsolicited: it must be
	 * read and dropped, never stored. */
	if (sent < PUMP_BYTES)
		pump_unasked(&r, &h, base, (uint32_t)sent, PUMP_BYTES - sent, chunk, chunk_len);
	/* Let the daemon catch up with what is in flight before measuring. */
	assert_int_equal(raw_ping(&r, 0x7fff0000), 0);
	for (;;) {
		struct raw_pdu p;
		assert_int_equal(raw_read(&r, &p, 20000), 0);
		uint8_t op = p.bhs[0] & 0x3f;
		uint32_t t = raw_get32(p.bhs + 16);
		note_status(&r, &h, &p);
		raw_pdu_free(&p);
		if (op == RAW_OP_NOP_IN && t == 0x7fff0000)
			break;
	}
	long after = h_rss_kib(&daemon_);
	print_message("# RSS idle %ld KiB, after 64 x 4 GiB EDTL + 512 MiB Data-Out %ld KiB "
	              "(+%ld KiB)\n",
	              idle, after, after - idle);
	assert_true(after - idle < 64 * 1024);

	/* Every command ends GOOD with residual underflow: EDTL exceeded
	 * what the CDB called for (RFC 7143 11.4.5.1). */
	for (int i = 0; i < N_HUGE; i++) {
		if (h.status[i] < 0)
			h.status[i] =
			    raw_wait_status(&r, base + (uint32_t)i, NULL, 0, h.rsp[i], 5000);
		assert_int_equal(h.status[i], SCSI_STATUS_GOOD);
		assert_true(h.rsp[i][1] & 0x02);  /* U */
		assert_false(h.rsp[i][1] & 0x04); /* O */
		assert_int_equal(raw_get32(h.rsp[i] + 44), HUGE_EDTL - 512);
	}
	/* What was stored is the first block of each command's data. */
	uint8_t *in = malloc(N_HUGE * 512), *want = malloc(512);
	assert_non_null(in);
	assert_non_null(want);
	assert_int_equal(raw_read10(&r, itt++, 0, in, N_HUGE * 512, 512), SCSI_STATUS_GOOD);
	for (uint32_t i = 0; i < N_HUGE; i++) {
		fill(want, 512, i);
		assert_memory_equal(in + i * 512, want, 512);
	}
	free(in);
	free(want);
	free(chunk);
	/* The session still works. */
	assert_round_trip(&r, &itt, 1000, 65536);
	raw_close(&r);
}

/* ---- item 1: the budget for write buffers, back-pressure ---- */

#define BP_CMDS 16
#define BP_LEN (1u << 20) /* bytes per command */
#define BP_BUDGET "2M"    /* room for two commands at a time */
#define BP_MAX_GRANTED 2
#define BP_FILE_SIZE (32ull << 20)

static char bp_file[64];

/* A file backstore (page cache, not the daemon's RSS), so that the RSS
 * shows the write buffers and not the data. The file exists beforehand. */
static int setup_budget(void **state)
{
	(void)state;
	snprintf(bp_file, sizeof(bp_file), "/tmp/prkit-dos-XXXXXX");
	int fd = mkstemp(bp_file);
	if (fd < 0)
		return -1;
	int rc = ftruncate(fd, (off_t)BP_FILE_SIZE);
	close(fd);
	if (rc)
		return -1;
	char lu[256];
	snprintf(lu, sizeof(lu), "{\"backstore\": {\"type\": \"file\", \"path\": \"%s\"}}",
	         bp_file);
	/* One event loop: the budget under test is one loop's (with several,
	 * each loop owns max_task_memory / threads and these counts differ). */
	return start_with(lu, "\"max_task_memory\": \"" BP_BUDGET "\", \"max_tasks\": 32, "
	                      "\"threads\": 1");
}

static int teardown_budget(void **state)
{
	int rc = teardown(state);
	unlink(bp_file);
	return rc;
}

/* READs that wait for memory get it when data-in is sent (the response
 * flush after a batch of events) and go to the file backstore then. That
 * I/O must be submitted in the same round of after-batch hooks: left for
 * the next batch, it would wait for some unrelated event (the 1 s
 * housekeeping timer) whenever the flush emptied the socket. 256 KiB
 * reads through a 1 MiB budget, 32 at once: 4 run at a time. */
#define RW_CMDS 32
#define RW_LEN (256u << 10)

static int setup_small_budget(void **state)
{
	(void)state;
	snprintf(bp_file, sizeof(bp_file), "/tmp/prkit-dos-XXXXXX");
	int fd = mkstemp(bp_file);
	if (fd < 0)
		return -1;
	int rc = ftruncate(fd, (off_t)RW_CMDS * RW_LEN);
	close(fd);
	if (rc)
		return -1;
	char lu[256];
	snprintf(lu, sizeof(lu), "{\"backstore\": {\"type\": \"file\", \"path\": \"%s\"}}",
	         bp_file);
	return start_with(lu, "\"max_task_memory\": \"1M\"");
}

/* One burst of RW_CMDS reads, all answered GOOD. */
static void read_burst(struct raw *r, uint32_t *itt)
{
	uint32_t base = *itt;
	for (uint32_t i = 0; i < RW_CMDS; i++) {
		uint8_t cdb[16] = {0x28};
		raw_put32(cdb + 2, i * (RW_LEN / 512));
		cdb[7] = (uint8_t)((RW_LEN / 512) >> 8);
		cdb[8] = (uint8_t)(RW_LEN / 512);
		assert_int_equal(raw_cmd(r, base + i, cdb, true, false, RW_LEN, NULL, 0), 0);
	}
	*itt = base + RW_CMDS;
	bool done[RW_CMDS] = {false};
	for (int left = RW_CMDS; left;) {
		struct raw_pdu p;
		assert_int_equal(raw_read(r, &p, 5000), 0);
		uint8_t op = p.bhs[0] & 0x3f;
		uint32_t t = raw_get32(p.bhs + 16) - base;
		/* the status rides on the last Data-In (S bit) or comes alone */
		if (t < RW_CMDS &&
		    (op == RAW_OP_SCSI_RSP || (op == RAW_OP_DATA_IN && (p.bhs[1] & 1)))) {
			r->expstatsn = raw_get32(p.bhs + 24) + 1;
			assert_int_equal(p.bhs[3], SCSI_STATUS_GOOD);
			assert_false(done[t]);
			done[t] = true;
			left--;
		}
		raw_pdu_free(&p);
	}
}

/* Four bursts: a read stranded until the timer costs up to a second each
 * time (6.2-6.5 s for the four when the backstores were kicked only before
 * the flush); in time they took 0.2-0.5 s on a busy 2-core machine. */
static void test_budget_reads_resume_at_once(void **state)
{
	(void)state;
	struct raw r;
	struct raw_opts o = {.max_recv_dsl = 262144};
	assert_int_equal(raw_login(&r, &daemon_, H_TARGET, INI_RAW, 2, &o), 0);
	uint32_t itt = 1;
	raw_clear_ua(&r, &itt);
	uint64_t t0 = h_now_ms();
	for (int i = 0; i < 4; i++)
		read_burst(&r, &itt);
	uint64_t ms = h_now_ms() - t0;
	print_message("# 4 x 8 MiB read through a 1 MiB budget in %llu ms\n",
	              (unsigned long long)ms);
	assert_true(ms < 2000);
	raw_close(&r);
}

static long hwm_kib(const struct h_daemon *d)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)d->pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long kib = -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

/* Sixteen 1 MiB WRITEs at once with a 2 MiB budget: at most two get R2Ts
 * at any time, the others wait without error; MaxCmdSN stops advancing
 * while they wait and opens again after; every byte arrives. */
static void test_budget_back_pressure(void **state)
{
	(void)state;
	struct raw r;
	struct raw_opts o = {.initial_r2t = true, .max_burst = 262144, .max_recv_dsl = 262144};
	assert_int_equal(raw_login(&r, &daemon_, H_TARGET, INI_RAW, 2, &o), 0);
	uint32_t itt = 1;
	raw_clear_ua(&r, &itt);
	long hwm_idle = hwm_kib(&daemon_);

	uint8_t *data = malloc((size_t)BP_CMDS * BP_LEN);
	assert_non_null(data);
	uint32_t base = itt;
	for (uint32_t i = 0; i < BP_CMDS; i++) {
		fill(data + (size_t)i * BP_LEN, BP_LEN, 100 + i);
		uint8_t cdb[16] = {0x2a};
		raw_put32(cdb + 2, i * (BP_LEN / 512));
		cdb[7] = (uint8_t)((BP_LEN / 512) >> 8);
		cdb[8] = (uint8_t)(BP_LEN / 512);
		assert_int_equal(raw_cmd(&r, base + i, cdb, false, true, BP_LEN, NULL, 0), 0);
	}
	itt = base + BP_CMDS;

	/* Everything the target has to say about them, up to a ping. */
	struct {
		uint32_t ttt, off, len;
	} r2t[BP_CMDS] = {{0}};
	bool asked[BP_CMDS] = {false}, done[BP_CMDS] = {false};
	int granted = 0;
	assert_int_equal(raw_ping(&r, 0x7fff0001), 0);
	for (;;) {
		struct raw_pdu p;
		assert_int_equal(raw_read(&r, &p, 5000), 0);
		uint8_t op = p.bhs[0] & 0x3f;
		uint32_t t = raw_get32(p.bhs + 16) - base;
		if (op == RAW_OP_R2T && t < BP_CMDS) {
			assert_false(asked[t]);
			asked[t] = true;
			granted++;
			r2t[t].ttt = raw_get32(p.bhs + 20);
			r2t[t].off = raw_get32(p.bhs + 40);
			r2t[t].len = raw_get32(p.bhs + 44);
		}
		raw_pdu_free(&p);
		if (op == RAW_OP_NOP_IN)
			break;
	}
	print_message("# %d of %d commands were asked for data at once\n", granted, BP_CMDS);
	assert_int_equal(granted, BP_MAX_GRANTED);

	/* A command completes while others wait for memory: the window does
	 * not move (it would by one without back-pressure). */
	uint32_t max_before = r.maxcmdsn;
	static const uint8_t tur[16] = {0};
	assert_int_equal(raw_cmd(&r, itt, tur, false, false, 0, NULL, 0), 0);
	assert_int_equal(raw_wait_status(&r, itt++, NULL, 0, NULL, 5000), SCSI_STATUS_GOOD);
	print_message("# MaxCmdSN %u before, %u after a TEST UNIT READY completed\n", max_before,
	              r.maxcmdsn);
	assert_int_equal(r.maxcmdsn, max_before);

	/* Serve the R2Ts as they come; never more than two commands hold
	 * buffers. */
	int left = BP_CMDS;
	while (left) {
		for (uint32_t i = 0; i < BP_CMDS; i++) {
			if (!r2t[i].len)
				continue;
			const uint8_t *src = data + (size_t)i * BP_LEN;
			uint32_t sn = 0;
			for (uint32_t d = 0; d < r2t[i].len; sn++) {
				uint32_t n = r2t[i].len - d < r.max_send_dsl ? r2t[i].len - d
				                                             : r.max_send_dsl;
				assert_int_equal(raw_data_out(&r, base + i, r2t[i].ttt, sn,
				                              r2t[i].off + d, src + r2t[i].off + d,
				                              n, d + n == r2t[i].len),
				                 0);
				d += n;
			}
			r2t[i].len = 0;
		}
		struct raw_pdu p;
		assert_int_equal(raw_read(&r, &p, 5000), 0);
		uint8_t op = p.bhs[0] & 0x3f;
		uint32_t t = raw_get32(p.bhs + 16) - base;
		if (op == RAW_OP_R2T && t < BP_CMDS) {
			if (!asked[t]) {
				asked[t] = true;
				granted++;
				assert_true(granted <= BP_MAX_GRANTED);
			}
			r2t[t].ttt = raw_get32(p.bhs + 20);
			r2t[t].off = raw_get32(p.bhs + 40);
			r2t[t].len = raw_get32(p.bhs + 44);
		} else if (op == RAW_OP_SCSI_RSP && t < BP_CMDS) {
			r.expstatsn = raw_get32(p.bhs + 24) + 1;
			assert_int_equal(p.bhs[3], SCSI_STATUS_GOOD);
			assert_false(done[t]);
			done[t] = true;
			granted--;
			left--;
		}
		raw_pdu_free(&p);
	}
	/* Memory is free again: the whole window is open. */
	assert_int_equal(raw_ping(&r, 0x7fff0002), 0);
	struct raw_pdu p;
	do {
		assert_int_equal(raw_read(&r, &p, 5000), 0);
		raw_pdu_free(&p);
	} while ((p.bhs[0] & 0x3f) != RAW_OP_NOP_IN);
	assert_int_equal(r.maxcmdsn - r.expcmdsn + 1, 32);
	long hwm = hwm_kib(&daemon_);
	print_message("# peak RSS %ld KiB idle, %ld KiB after 16 MiB of writes (+%ld KiB)\n",
	              hwm_idle, hwm, hwm - hwm_idle);
	/* Two 1 MiB buffers at a time, plus ASan's shadow when built with it;
	 * buffers kept after use would add the 16 MiB written. */
	assert_true(hwm - hwm_idle < 12 * 1024);

	uint8_t *in = malloc(BP_LEN);
	assert_non_null(in);
	for (uint32_t i = 0; i < BP_CMDS; i++) {
		memset(in, 0, BP_LEN);
		/* READ(10) of 2048 blocks. */
		assert_int_equal(raw_read10(&r, itt++, i * (BP_LEN / 512), in, BP_LEN, 512),
		                 SCSI_STATUS_GOOD);
		assert_memory_equal(in, data + (size_t)i * BP_LEN, BP_LEN);
	}
	free(in);
	free(data);
	raw_close(&r);
}

/* ---- item 3: connections in login, file descriptors ---- */

#define ATTACKERS 24

/* Lines of the daemon's log containing s. */
static int log_count(const struct h_daemon *d, const char *s)
{
	FILE *f = fopen(d->log, "r");
	if (!f)
		return -1;
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, s) != NULL;
	fclose(f);
	return n;
}

/* The daemon's CPU time (user + system) in clock ticks. */
static long cpu_ticks(const struct h_daemon *d)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)d->pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* Fields after the command name (which may hold spaces): state is
	 * field 3, utime 14, stime 15. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	long utime = 0, stime = 0;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime) !=
	    2)
		return -1;
	return utime + stime;
}

static int count_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "ls %s | wc -l", path);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	int n = -1;
	if (fscanf(f, "%d", &n) != 1)
		n = -1;
	pclose(f);
	return n;
}

/* READs on a logged-in session for ms milliseconds; returns the worst
 * latency in ms (every READ must succeed). */
static uint64_t reads_for(struct iscsi_context *iscsi, int ms)
{
	uint64_t end = h_now_ms() + (uint64_t)ms, worst = 0;
	int n = 0;
	while (h_now_ms() < end) {
		uint64_t t0 = h_now_ms();
		struct scsi_task *t =
		    iscsi_read10_sync(iscsi, 0, (uint32_t)n % 64, 4096, 512, 0, 0, 0, 0, 0);
		assert_non_null(t);
		assert_int_equal(t->status, SCSI_STATUS_GOOD);
		scsi_free_scsi_task(t);
		uint64_t dt = h_now_ms() - t0;
		worst = dt > worst ? dt : worst;
		n++;
		usleep(20 * 1000);
	}
	assert_true(n > 10);
	return worst;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* With the daemon's file descriptor limit a few above what it uses, idle
 * TCP connections exhaust it: accept fails with EMFILE. The daemon must
 * not spin on it, must log it once, must keep serving the logged-in
 * session, and must accept again once the attacker leaves. */
static void test_emfile_does_not_spin(void **state)
{
	(void)state;
	struct iscsi_context *iscsi = h_login(&daemon_, 0, INI_A, 1);
	assert_non_null(iscsi);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	int used = count_fds(daemon_.pid);
	assert_true(used > 0);
	struct rlimit lim = {.rlim_cur = (rlim_t)used + 4, .rlim_max = (rlim_t)used + 4};
	assert_int_equal(prlimit(daemon_.pid, RLIMIT_NOFILE, &lim, NULL), 0);

	int fds[ATTACKERS];
	for (int i = 0; i < ATTACKERS; i++)
		fds[i] = h_tcp_connect(&daemon_, 0); /* the backlog takes them */
	usleep(200 * 1000);
	long t0 = cpu_ticks(&daemon_);
	uint64_t worst = reads_for(iscsi, 1500);
	long t1 = cpu_ticks(&daemon_);
	long hz = sysconf(_SC_CLK_TCK);
	int logged = log_count(&daemon_, "Too many open files");
	print_message("# fd limit %d: CPU %ld ms over 1.5 s with the attacker, worst READ %llu ms, "
	              "EMFILE logged %d times\n",
	              used + 4, (t1 - t0) * 1000 / hz, (unsigned long long)worst, logged);
	assert_true((t1 - t0) * 1000 / hz < 200);
	assert_int_equal(logged, 1);
	assert_true(worst < 200);

	/* The attacker leaves: new logins work again (within the back-off). */
	close_all(fds, ATTACKERS);
	struct iscsi_context *b = NULL;
	for (int i = 0; i < 30 && !b; i++) {
		b = h_login(&daemon_, 0, INI_A, 2);
		if (!b)
			usleep(100 * 1000);
	}
	assert_non_null(b);
	assert_int_equal(h_clear_ua(b, 0), SCSI_STATUS_GOOD);
	assert_true(h_log_wait(&daemon_, "accepting connections again", 2000));
	h_logout(b);
	h_logout(iscsi);
}

#define LOGIN_CAP 4

static int setup_login_cap(void **state)
{
	(void)state;
	return start_with(RAM_LU, "\"max_login_connections\": 4, \"login_timeout_ms\": 1500");
}

/* Idle connections that never log in: only max_login_connections are
 * accepted at a time, the loop does not spin, the cap is logged once, a
 * logged-in session keeps working, and each idle connection is dropped
 * login_timeout_ms after it was accepted. */
static void test_login_cap_and_timeout(void **state)
{
	(void)state;
	struct iscsi_context *iscsi = h_login(&daemon_, 0, INI_A, 1);
	assert_non_null(iscsi);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	int before = log_count(&daemon_, "connection from");

	int fds[ATTACKERS];
	for (int i = 0; i < ATTACKERS; i++)
		fds[i] = h_tcp_connect(&daemon_, 0);
	usleep(300 * 1000);
	long t0 = cpu_ticks(&daemon_);
	uint64_t worst = reads_for(iscsi, 1000);
	long t1 = cpu_ticks(&daemon_);
	long hz = sysconf(_SC_CLK_TCK);
	int accepted = log_count(&daemon_, "connection from") - before;
	int logged = log_count(&daemon_, "max_login_connections");
	print_message("# %d idle connections: %d accepted, cap logged %d times, CPU %ld ms over "
	              "1 s, worst READ %llu ms\n",
	              ATTACKERS, accepted, logged, (t1 - t0) * 1000 / hz,
	              (unsigned long long)worst);
	assert_int_equal(accepted, LOGIN_CAP);
	assert_int_equal(logged, 1);
	assert_true((t1 - t0) * 1000 / hz < 200);
	assert_true(worst < 200);

	/* The first ones were accepted first: dropped after the timeout. */
	uint64_t w0 = h_now_ms();
	assert_int_equal(h_wait_closed(fds[0], 4000), 1);
	uint64_t waited = h_now_ms() - w0;
	print_message("# an idle connection was dropped %llu ms after the check began\n",
	              (unsigned long long)waited);
	assert_true(h_log_contains(&daemon_, "login timed out"));
	/* The next ones in the backlog reach the cap again: not logged again
	 * within the rate limit. */
	usleep(300 * 1000);
	int again = log_count(&daemon_, "connection from") - before;
	print_message("# %d accepted in all, cap logged %d times\n", again,
	              log_count(&daemon_, "max_login_connections"));
	assert_true(again > LOGIN_CAP);
	assert_int_equal(log_count(&daemon_, "max_login_connections"), 1);

	close_all(fds, ATTACKERS);
	struct iscsi_context *b = NULL;
	for (int i = 0; i < 30 && !b; i++) {
		b = h_login(&daemon_, 0, INI_A, 2);
		if (!b)
			usleep(100 * 1000);
	}
	assert_non_null(b);
	h_logout(b);
	h_logout(iscsi);
}

static int setup_stall(void **state)
{
	(void)state;
	/* One loop: the stalled writer must hold the budget the other waits
	 * for, which with several loops depends on where each connection went. */
	return start_with(RAM_LU, "\"max_task_memory\": \"1M\", \"nop_timeout_ms\": 1000, "
	                          "\"threads\": 1");
}

/* A session is asked for the data of a write that holds the whole budget
 * and never sends it: once another session waits for memory, the stalled
 * connection is dropped after nop_timeout_ms and the other write runs. */
static void test_stalled_writer_gives_the_budget_back(void **state)
{
	(void)state;
	struct raw a, b;
	struct raw_opts o = {.initial_r2t = true, .max_burst = 262144, .max_recv_dsl = 262144};
	assert_int_equal(raw_login(&a, &daemon_, H_TARGET, INI_RAW, 3, &o), 0);
	assert_int_equal(raw_login(&b, &daemon_, H_TARGET, INI_A, 4, &o), 0);
	uint32_t ia = 1, ib = 1;
	raw_clear_ua(&a, &ia);
	raw_clear_ua(&b, &ib);

	/* A: a 1 MiB WRITE(10); the R2T comes, no data follows. */
	uint8_t cdb[16] = {0x2a};
	cdb[7] = (uint8_t)(2048 >> 8);
	cdb[8] = (uint8_t)2048;
	assert_int_equal(raw_cmd(&a, ia, cdb, false, true, 1u << 20, NULL, 0), 0);
	struct raw_pdu p;
	assert_int_equal(raw_read(&a, &p, 5000), 0);
	assert_int_equal(p.bhs[0] & 0x3f, RAW_OP_R2T);
	raw_pdu_free(&p);

	/* B's write waits for memory, then runs once A is dropped. */
	uint64_t t0 = h_now_ms();
	uint8_t *buf = malloc(65536), *in = malloc(65536);
	assert_non_null(buf);
	assert_non_null(in);
	fill(buf, 65536, 77);
	assert_int_equal(raw_write10(&b, ib++, 4096, buf, 65536, 512), SCSI_STATUS_GOOD);
	uint64_t waited = h_now_ms() - t0;
	print_message("# the waiting write completed after %llu ms\n", (unsigned long long)waited);
	assert_true(waited >= 900);
	assert_int_equal(h_wait_closed(a.fd, 2000), 1);
	assert_true(h_log_contains(&daemon_, "no write data for an R2T"));
	assert_int_equal(raw_read10(&b, ib++, 4096, in, 65536, 512), SCSI_STATUS_GOOD);
	assert_memory_equal(in, buf, 65536);
	free(buf);
	free(in);
	raw_close(&a);
	raw_close(&b);
}

#define RD_CMDS 48
#define RD_LEN (1u << 20)

static int setup_read_budget(void **state)
{
	(void)state;
	return start_with(RAM_LU, "\"max_task_memory\": \"4M\"");
}

/* 48 READs of 1 MiB at once from an initiator that does not read its
 * socket for a while: the data-in buffers waiting to be sent count
 * against the budget too, so the daemon holds about 4 MiB of them, not
 * 48; every READ completes with the right data once the initiator reads. */
static void test_read_buffers_within_budget(void **state)
{
	(void)state;
	struct raw r;
	struct raw_opts o = {.initial_r2t = true, .max_burst = 262144, .max_recv_dsl = 262144};
	assert_int_equal(raw_login(&r, &daemon_, H_TARGET, INI_RAW, 5, &o), 0);
	uint32_t itt = 1;
	raw_clear_ua(&r, &itt);
	uint8_t *data = malloc((size_t)RD_CMDS * RD_LEN);
	assert_non_null(data);
	for (uint32_t i = 0; i < RD_CMDS; i++) {
		uint8_t *b = data + (size_t)i * RD_LEN;
		fill(b, RD_LEN, 300 + i);
		for (uint32_t off = 0; off < RD_LEN; off += 65536)
			assert_int_equal(
			    raw_write10(&r, itt++, (i * RD_LEN + off) / 512, b + off, 65536, 512),
			    SCSI_STATUS_GOOD);
	}
	long idle = h_rss_kib(&daemon_);
	uint32_t base = itt;
	for (uint32_t i = 0; i < RD_CMDS; i++) {
		uint8_t cdb[16] = {0x28};
		raw_put32(cdb + 2, i * (RD_LEN / 512));
		cdb[7] = (uint8_t)((RD_LEN / 512) >> 8);
		cdb[8] = (uint8_t)(RD_LEN / 512);
		assert_int_equal(raw_cmd(&r, base + i, cdb, true, false, RD_LEN, NULL, 0), 0);
	}
	itt = base + RD_CMDS;
	usleep(700 * 1000); /* the daemon works; the initiator reads nothing */
	long busy = h_rss_kib(&daemon_);
	print_message("# RSS %ld KiB before, %ld KiB with %d x 1 MiB READs unread (+%ld KiB)\n",
	              idle, busy, RD_CMDS, busy - idle);
	assert_true(busy - idle < 16 * 1024);

	uint8_t *in = calloc(RD_CMDS, RD_LEN);
	assert_non_null(in);
	int left = RD_CMDS;
	while (left) {
		struct raw_pdu p;
		assert_int_equal(raw_read(&r, &p, 5000), 0);
		uint8_t op = p.bhs[0] & 0x3f;
		uint32_t t = raw_get32(p.bhs + 16) - base;
		if (op == RAW_OP_DATA_IN && t < RD_CMDS) {
			uint32_t off = raw_get32(p.bhs + 40);
			assert_true(off + p.dlen <= RD_LEN);
			memcpy(in + (size_t)t * RD_LEN + off, p.data, p.dlen);
			if (p.bhs[1] & 0x01) {
				assert_int_equal(p.bhs[3], SCSI_STATUS_GOOD);
				left--;
			}
		} else if (op == RAW_OP_SCSI_RSP && t < RD_CMDS) {
			assert_int_equal(p.bhs[3], SCSI_STATUS_GOOD);
			left--;
		}
		if (op == RAW_OP_DATA_IN || op == RAW_OP_SCSI_RSP)
			r.expstatsn = raw_get32(p.bhs + 24) + 1;
		raw_pdu_free(&p);
	}
	assert_memory_equal(in, data, (size_t)RD_CMDS * RD_LEN);
	free(in);
	free(data);
	assert_round_trip(&r, &itt, 120000, 65536);
	raw_close(&r);
}

static int setup_tiny_budget(void **state)
{
	(void)state;
	return start_with(RAM_LU, "\"max_task_memory\": \"1M\"");
}

/* A WRITE and a READ of 4 MiB each with a 1 MiB budget: alone, a command
 * larger than the whole budget still runs. */
static void test_larger_than_budget_runs_alone(void **state)
{
	(void)state;
	struct raw r;
	struct raw_opts o = {.initial_r2t = true, .max_burst = 262144, .max_recv_dsl = 262144};
	assert_int_equal(raw_login(&r, &daemon_, H_TARGET, INI_RAW, 6, &o), 0);
	uint32_t itt = 1;
	raw_clear_ua(&r, &itt);
	assert_round_trip(&r, &itt, 2048, 4u << 20);
	raw_close(&r);
}

#define ECHO_LEN (256u << 10)
#define ECHO_TOTAL (512u << 20)

/* Sends pdu[*off..len) until the deadline, without blocking for long: 0
 * when all went, 1 when the deadline came first (*off says how far it
 * got), -1 on error. */
static int send_until(int fd, const uint8_t *pdu, size_t len, size_t *off, uint64_t deadline)
{
	while (*off < len) {
		if (h_now_ms() >= deadline)
			return 1;
		struct pollfd pf = {.fd = fd, .events = POLLOUT};
		if (poll(&pf, 1, 50) <= 0)
			continue;
		ssize_t n = send(fd, pdu + *off, len - *off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		*off += (size_t)n;
	}
	return 0;
}

/* An initiator sends NOP-Outs with 256 KiB of ping data as fast as it can
 * and reads none of the NOP-Ins that echo it: the daemon stops reading
 * the connection while its transmit queue is full, instead of queueing
 * echoes without end. Once the initiator reads, everything arrives. */
static void test_unread_responses_stop_reading(void **state)
{
	(void)state;
	struct raw r;
	struct raw_opts o = {.initial_r2t = true, .max_recv_dsl = 262144};
	assert_int_equal(raw_login(&r, &daemon_, H_TARGET, INI_RAW, 7, &o), 0);
	assert_true(r.max_send_dsl >= ECHO_LEN);
	uint32_t itt = 1;
	raw_clear_ua(&r, &itt);
	long idle = h_rss_kib(&daemon_);

	uint8_t *pdu = calloc(1, 48 + ECHO_LEN);
	assert_non_null(pdu);
	pdu[0] = 0x40 | RAW_OP_NOP_OUT;
	pdu[1] = 0x80;
	pdu[5] = (uint8_t)(ECHO_LEN >> 16);
	pdu[6] = (uint8_t)(ECHO_LEN >> 8);
	pdu[7] = (uint8_t)ECHO_LEN;
	raw_put32(pdu + 20, RAW_RSVD_TAG);
	uint64_t deadline = h_now_ms() + 3000;
	uint32_t sent = 0;
	size_t off = 0;
	int rc = 0;
	while (sent < ECHO_TOTAL / ECHO_LEN && rc == 0) {
		raw_put32(pdu + 16, 0x10000 + sent); /* ITT */
		raw_put32(pdu + 24, r.cmdsn);
		raw_put32(pdu + 28, r.expstatsn);
		off = 0;
		rc = send_until(r.fd, pdu, 48 + ECHO_LEN, &off, deadline);
		sent += rc == 0;
	}
	assert_true(rc >= 0);
	usleep(300 * 1000);
	long busy = h_rss_kib(&daemon_);
	print_message("# %u NOP-Outs of 256 KiB sent in 3 s (%s), RSS +%ld KiB\n", sent,
	              rc ? "then the socket stayed full" : "all of them", busy - idle);
	assert_true(busy - idle < 32 * 1024);

	/* The initiator reads: every echo arrives, then the session works. */
	for (uint32_t i = 0; i < sent; i++) {
		struct raw_pdu p;
		assert_int_equal(raw_read(&r, &p, 5000), 0);
		assert_int_equal(p.bhs[0] & 0x3f, RAW_OP_NOP_IN);
		assert_int_equal(raw_get32(p.bhs + 16), 0x10000 + i);
		assert_int_equal(p.dlen, ECHO_LEN);
		r.expstatsn = raw_get32(p.bhs + 24) + 1;
		raw_pdu_free(&p);
	}
	if (rc) {
		/* The PDU cut short goes out whole now, and is answered. */
		assert_int_equal(send_until(r.fd, pdu, 48 + ECHO_LEN, &off, h_now_ms() + 5000), 0);
		struct raw_pdu p;
		assert_int_equal(raw_read(&r, &p, 5000), 0);
		assert_int_equal(raw_get32(p.bhs + 16), 0x10000 + sent);
		raw_pdu_free(&p);
	}
	assert_round_trip(&r, &itt, 2000, 65536);
	raw_close(&r);
	free(pdu);
	struct iscsi_context *iscsi = h_login(&daemon_, 0, INI_A, 9);
	assert_non_null(iscsi);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	h_logout(iscsi);
}

int main(void)
{
	/* Under AddressSanitizer freed blocks sit in a quarantine (256 MB by
	 * default) that shows up as RSS: it would measure ASan, not prkitd.
	 * Keep it small for the daemons these tests start; other options the
	 * caller set stay. Builds without ASan ignore the variable. */
	const char *asan = getenv("ASAN_OPTIONS");
	char opts[512];
	snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=4:thread_local_quarantine_size_kb=64",
	         asan ? asan : "", asan && asan[0] ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_huge_edtl_is_bounded_by_the_cdb, setup_default,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_budget_reads_resume_at_once, setup_small_budget,
	                                    teardown_budget),
	    cmocka_unit_test_setup_teardown(test_budget_back_pressure, setup_budget,
	                                    teardown_budget),
	    cmocka_unit_test_setup_teardown(test_stalled_writer_gives_the_budget_back, setup_stall,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_read_buffers_within_budget, setup_read_budget,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_larger_than_budget_runs_alone, setup_tiny_budget,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_unread_responses_stop_reading, setup_default,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_emfile_does_not_spin, setup_default, teardown),
	    cmocka_unit_test_setup_teardown(test_login_cap_and_timeout, setup_login_cap, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
