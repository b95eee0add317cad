/* PREEMPT AND ABORT must also wait for the writes of a connection that is
 * already gone.
 *
 * Each round, a victim V (raw socket) registers a key, sends many 64 KiB
 * WRITEs (immediate data) to a file LU opened with O_DIRECT and a queue
 * depth of 2, so that most of them wait in the backstore's FIFO, and
 * closes its TCP connection without logging out. After a random pause of
 * 0-15 ms a preemptor P PREEMPT AND ABORTs V's key. The moment that
 * completes the test reads V's range from the backing file (O_DIRECT), and
 * again 50 ms later: nothing may change in between, as nothing of V may
 * reach the medium after the barrier. Then P writes a marker over the
 * range and reads it back, through the target and from the file, after a
 * pause: no V data may show through. Rounds: PRKIT_ORPHAN_ROUNDS (20 by
 * default); PRKIT_ORPHAN_SEED repeats a run. The number of rounds in which
 * the barrier found tasks of the closed connection still in the LU is
 * printed (read from the daemon's log). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"
#include "raw_iscsi.h"

#define INI_V "iqn.2026-11.io.prkit.test:orphan-victim"
#define INI_P "iqn.2026-11.io.prkit.test:orphan-preemptor"
#define CHUNK 65536u
#define N_WRITES 96
#define RANGE ((size_t)N_WRITES * CHUNK)
#define KEY_P 0x7777ULL
#define T_WE_RO SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY

static struct h_daemon daemon_;

static int setup(void **state)
{
	(void)state;
	const char *cfg =
	    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}], "
	    "\"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000, "
	    "\"max_tasks\": 256, "
	    "\"targets\": [{\"name\": \"" H_TARGET "\", \"luns\": ["
	    "{\"lun\": 0, \"backstore\": {\"type\": \"file\", \"path\": \"@DIR@/lu0.img\", "
	    "\"size\": \"16M\", \"create\": true, \"direct\": true, \"queue_depth\": 2}}]}]}";
	return h_start(&daemon_, cfg);
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* Victim chunks start with "VICT" and their round; markers are bytes of
 * one value that no victim chunk starts with. */
static void fill_victim(uint8_t *b, unsigned round, unsigned i)
{
	memset(b, (int)(0x10 + (round + i) % 64), CHUNK);
	memcpy(b, "VICT", 4);
	raw_put32(b + 4, round);
	raw_put32(b + 8, i);
}

static uint8_t marker_of(unsigned round)
{
	return (uint8_t)(0xa0 + round % 32);
}

/* A non-immediate command without data, then its status. */
static int raw_simple(struct raw *r, uint32_t itt, const uint8_t cdb[16])
{
	if (raw_cmd(r, itt, cdb, false, false, 0, NULL, 0))
		return -1;
	return raw_wait_status(r, itt, NULL, 0, NULL, 5000);
}

/* PR OUT REGISTER of key for V, the parameter list as immediate data. */
static int raw_register(struct raw *r, uint32_t itt, uint64_t key)
{
	uint8_t cdb[16] = {0x5f, 0x00, 0};
	cdb[8] = 24;
	uint8_t p[24] = {0};
	put64(p + 8, key);
	if (raw_cmd(r, itt, cdb, false, true, 24, p, 24))
		return -1;
	return raw_wait_status(r, itt, NULL, 0, NULL, 5000);
}

/* The victim's range as on the medium now. */
static void snapshot(int fd, uint8_t *buf)
{
	assert_int_equal(pread(fd, buf, RANGE, 0), (ssize_t)RANGE);
}

/* Counts the log lines of the barrier finding tasks of closed connections. */
static int orphan_lines(void)
{
	FILE *f = fopen(daemon_.log, "r");
	if (!f)
		return -1;
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "PREEMPT AND ABORT") && strstr(line, "of closed connections"))
			n++;
	fclose(f);
	return n;
}

static void one_round(struct iscsi_context *p, int fd, unsigned round, uint8_t *chunk,
                      uint8_t *snap_a, uint8_t *snap_b, long *violations)
{
	uint64_t key_v = 0x1000 + round;
	struct raw v;
	struct raw_opts o = {.initial_r2t = true, .immediate_data = true, .first_burst = CHUNK};
	assert_int_equal(raw_login(&v, &daemon_, H_TARGET, INI_V, (uint8_t)(round % 250 + 1), &o),
	                 0);
	assert_true(v.immediate_data);
	assert_true(v.first_burst >= CHUNK && v.max_send_dsl >= CHUNK);
	uint8_t tur[16] = {0};
	raw_simple(&v, 1, tur); /* takes the power-on unit attention */
	assert_int_equal(raw_register(&v, 2, key_v), SCSI_STATUS_GOOD);

	/* The writes, without reading a single answer, then the connection
	 * goes away. */
	for (unsigned i = 0; i < N_WRITES; i++) {
		uint8_t cdb[16] = {0x2a};
		raw_put32(cdb + 2, i * (CHUNK / 512));
		cdb[7] = (uint8_t)((CHUNK / 512) >> 8);
		cdb[8] = (uint8_t)(CHUNK / 512);
		fill_victim(chunk, round, i);
		assert_int_equal(raw_cmd(&v, 100 + i, cdb, false, true, CHUNK, chunk, CHUNK), 0);
	}
	raw_close(&v);
	usleep((useconds_t)(rand() % 16) * 1000);

	uint8_t params[24] = {0};
	put64(params, KEY_P);
	put64(params + 8, key_v);
	assert_int_equal(
	    h_pr_out(p, 0, SCSI_PERSISTENT_RESERVE_PREEMPT_AND_ABORT, T_WE_RO, params, 24, NULL),
	    SCSI_STATUS_GOOD);
	/* What was on the medium when the barrier completed must stay so:
	 * nobody else writes now. */
	snapshot(fd, snap_a);
	usleep(50 * 1000);
	snapshot(fd, snap_b);
	if (memcmp(snap_a, snap_b, RANGE)) {
		size_t at = 0;
		while (snap_a[at] == snap_b[at])
			at++;
		fprintf(stderr,
		        "# round %u: victim data landed after PREEMPT AND ABORT (byte %zu)\n",
		        round, at);
		(*violations)++;
	}

	/* The marker over the range, then read back after a pause. */
	memset(chunk, marker_of(round), CHUNK);
	for (unsigned i = 0; i < N_WRITES; i++) {
		struct scsi_task *t = iscsi_write16_sync(p, 0, (uint64_t)i * (CHUNK / 512), chunk,
		                                         CHUNK, 512, 0, 0, 0, 0, 0);
		assert_non_null(t);
		assert_int_equal(t->status, SCSI_STATUS_GOOD);
		scsi_free_scsi_task(t);
	}
	usleep(20 * 1000);
	snapshot(fd, snap_a);
	for (unsigned i = 0; i < N_WRITES; i++) {
		struct scsi_task *t =
		    iscsi_read16_sync(p, 0, (uint64_t)i * (CHUNK / 512), CHUNK, 512, 0, 0, 0, 0, 0);
		assert_non_null(t);
		assert_int_equal(t->status, SCSI_STATUS_GOOD);
		assert_int_equal(t->datain.size, CHUNK);
		memcpy(snap_b + (size_t)i * CHUNK, t->datain.data, CHUNK);
		scsi_free_scsi_task(t);
	}
	for (size_t k = 0; k < RANGE; k++) {
		if (snap_a[k] != marker_of(round) || snap_b[k] != marker_of(round)) {
			fprintf(stderr,
			        "# round %u: byte %zu is 0x%02x on the medium, 0x%02x "
			        "read, not the marker\n",
			        round, k, snap_a[k], snap_b[k]);
			(*violations)++;
			break;
		}
	}
}

static void test_preempt_waits_for_orphans(void **state)
{
	(void)state;
	const char *e = getenv("PRKIT_ORPHAN_ROUNDS");
	unsigned rounds = e ? (unsigned)atoi(e) : 20;
	e = getenv("PRKIT_ORPHAN_SEED");
	unsigned seed = e ? (unsigned)atoi(e) : (unsigned)time(NULL);
	srand(seed);
	fprintf(stderr, "# seed %u, %u rounds\n", seed, rounds);

	struct iscsi_context *p = h_login(&daemon_, 0, INI_P, 1);
	assert_non_null(p);
	assert_int_equal(h_clear_ua(p, 0), SCSI_STATUS_GOOD);
	uint8_t params[24] = {0};
	put64(params + 8, KEY_P);
	assert_int_equal(h_pr_out(p, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, params, 24, NULL),
	                 SCSI_STATUS_GOOD);
	memset(params, 0, sizeof(params));
	put64(params, KEY_P);
	assert_int_equal(h_pr_out(p, 0, SCSI_PERSISTENT_RESERVE_RESERVE, T_WE_RO, params, 24, NULL),
	                 SCSI_STATUS_GOOD);

	char path[400];
	snprintf(path, sizeof(path), "%s/lu0.img", daemon_.dir);
	int fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	assert_true(fd >= 0);
	uint8_t *chunk = NULL, *a = NULL, *b = NULL;
	assert_int_equal(posix_memalign((void **)&chunk, 4096, CHUNK), 0);
	assert_int_equal(posix_memalign((void **)&a, 4096, RANGE), 0);
	assert_int_equal(posix_memalign((void **)&b, 4096, RANGE), 0);

	long violations = 0;
	for (unsigned r = 0; r < rounds; r++) {
		one_round(p, fd, r, chunk, a, b, &violations);
		/* P may have got a unit attention from V's registration. */
		h_clear_ua(p, 0);
	}
	int orphaned = orphan_lines();
	fprintf(stderr,
	        "# %ld violation(s) in %u rounds; the barrier waited for tasks of a "
	        "closed connection in %d\n",
	        violations, rounds, orphaned);
	free(chunk);
	free(a);
	free(b);
	close(fd);
	h_logout(p);
	assert_int_equal(violations, 0);
}

/* The daemon stops (SIGTERM) while a closed connection's writes are still
 * queued in the backstore: the server goes before the LUs, which complete
 * those tasks as they drain, and must not reach back into it (under ASan a
 * use after free ends the daemon with an error, not exit 0). */
static void test_stop_with_orphans(void **state)
{
	(void)state;
	struct raw v;
	struct raw_opts o = {.initial_r2t = true, .immediate_data = true, .first_burst = CHUNK};
	assert_int_equal(raw_login(&v, &daemon_, H_TARGET, INI_V, 251, &o), 0);
	uint8_t tur[16] = {0};
	raw_simple(&v, 1, tur);
	/* Registered, so that its writes pass P's reservation and queue. */
	assert_int_equal(raw_register(&v, 2, 0x9999), SCSI_STATUS_GOOD);
	uint8_t *chunk = NULL;
	assert_int_equal(posix_memalign((void **)&chunk, 4096, CHUNK), 0);
	for (unsigned i = 0; i < N_WRITES; i++) {
		uint8_t cdb[16] = {0x2a};
		raw_put32(cdb + 2, i * (CHUNK / 512));
		cdb[7] = (uint8_t)((CHUNK / 512) >> 8);
		cdb[8] = (uint8_t)(CHUNK / 512);
		fill_victim(chunk, 9999, i);
		assert_int_equal(raw_cmd(&v, 100 + i, cdb, false, true, CHUNK, chunk, CHUNK), 0);
	}
	free(chunk);
	raw_close(&v);
	usleep(2000);
	assert_int_equal(h_stop(&daemon_), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_preempt_waits_for_orphans),
	    cmocka_unit_test(test_stop_with_orphans),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
