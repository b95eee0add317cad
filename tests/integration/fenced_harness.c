/* See fenced_harness.h. The topology and Corosync are the cluster
 * harness's (cl_up_corosync), the processes in the nodes' namespaces are
 * started with cl_spawn (so `topo.sh down` stops them after a failed
 * assertion), prkitd is the plain harness's (h_start, root namespace). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/scsi-lowlevel.h>

#include "cluster_harness.h"
#include "fenced_harness.h"
#include "harness.h"
#include "io_pattern.h"

#ifndef PRKIT_PATH
#error "PRKIT_PATH must name the prkit binary"
#endif

static struct {
	struct fd_opts o;
	struct h_daemon d; /* prkitd */
	bool up;
	uint64_t key[FD_MAX_NODES + 1];
} F;

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

uint64_t fd_wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ull + (uint64_t)ts.tv_nsec / 1000;
}

const char *fd_work(void)
{
	return cl_work();
}

int fd_lus(void)
{
	return F.o.lus;
}

int fd_coordinators(void)
{
	return F.o.coordinators;
}

static uint64_t lu_bytes(void)
{
	return (uint64_t)(F.o.lu_mb ? F.o.lu_mb : 8) << 20;
}

/* Node i's region of every data LU: a third of it (whatever the number
 * of nodes), 4 KiB aligned. */
static uint64_t region_size(void)
{
	return lu_bytes() / FD_MAX_NODES / 4096 * 4096;
}

static uint64_t region_offset(int i)
{
	return (uint64_t)(i - 1) * region_size();
}

static void lu_path(int lun, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/lu%d.img", F.d.dir, lun);
}

static void url(int i, int lun, char *buf, size_t cap)
{
	snprintf(buf, cap, "iscsi://10.98.%d.1:3260/%s/%d", i, FD_TARGET, lun);
}

static void sock_path(int i, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/n%d/fenced.sock", cl_work(), i);
}

static void state_dir(int i, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/n%d/fd", cl_work(), i);
}

void fd_log_path(int i, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/n%d/fenced.log", cl_work(), i);
}

/* prkitd: a portal per node on the root side of its front veth, every LU
 * file-backed in its directory (O_DIRECT, so what a fenced node wrote is
 * in the file when the command completed). */
static int start_prkitd(void)
{
	size_t cap = 16384, n = 0;
	char *cfg = malloc(cap);
	if (!cfg)
		return -1;
	n += (size_t)snprintf(cfg + n, cap - n, "{\"portals\": [");
	for (int i = 1; i <= F.o.nodes; i++)
		n += (size_t)snprintf(
		    cfg + n, cap - n,
		    "%s{\"address\": \"10.98.%d.1\", \"port\": 3260, \"tpgt\": %d, "
		    "\"rtpi\": %d}",
		    i > 1 ? ", " : "", i, i, i);
	n += (size_t)snprintf(cfg + n, cap - n,
	                      "], \"nop_interval_ms\": 60000, \"targets\": [{\"name\": \"%s\", "
	                      "\"luns\": [",
	                      FD_TARGET);
	int total = F.o.lus + F.o.coordinators;
	for (int l = 0; l < total; l++)
		n += (size_t)snprintf(
		    cfg + n, cap - n,
		    "%s{\"lun\": %d, \"serial\": \"prkfd%04d\", \"block_size\": %d, "
		    "\"backstore\": {\"type\": \"file\", \"path\": "
		    "\"@DIR@/lu%d.img\", \"size\": %" PRIu64
		    ", \"create\": true, \"direct\": true}}",
		    l ? ", " : "", l, l, FD_BLOCK, l, lu_bytes());
	snprintf(cfg + n, cap - n, "]}]}\n");
	int rc = h_start(&F.d, cfg);
	free(cfg);
	return rc;
}

static int write_fenced_config(int i)
{
	char path[400], sock[300], st[300], u[200];
	snprintf(path, sizeof(path), "%s/n%d/fenced.json", cl_work(), i);
	sock_path(i, sock, sizeof(sock));
	state_dir(i, st, sizeof(st));
	if (mkdir(st, 0700) < 0 && errno != EEXIST)
		return -1;
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "{\"cluster_name\": \"prkit\", \"key_mode\": \"node\",\n \"devices\": [");
	for (int k = 0; k < F.o.lus; k++) {
		url(i, k, u, sizeof(u));
		fprintf(f, "%s\"%s\"", k ? ", " : "", u);
	}
	fprintf(f, "],\n");
	if (F.o.coordinators) {
		fprintf(f, " \"coordinators\": [");
		for (int c = 0; c < F.o.coordinators; c++) {
			url(i, F.o.lus + c, u, sizeof(u));
			fprintf(f, "%s\"%s\"", c ? ", " : "", u);
		}
		fprintf(f, "],\n");
	}
	fprintf(f,
	        " \"initiator\": \"iqn.2026-11.io.prkit.test:n%d-fenced\", \"state_dir\": \"%s\",\n"
	        " \"socket\": \"%s\", \"self_fence_ms\": %u, \"check_ms\": %u,\n"
	        " \"io_timeout_ms\": 3000, \"stall_ack_ms\": 2000}\n",
	        i, st, sock, F.o.self_fence_ms ? F.o.self_fence_ms : 2000,
	        F.o.check_ms ? F.o.check_ms : 500);
	return fclose(f) == 0 ? 0 : -1;
}

/* Runs `prkit ARGS...` (NULL-terminated) with stdout into out; its exit
 * status, or -1. No shell: the arguments are ours. */
static int run_prkit(char *out, size_t cap, ...)
{
	const char *argv[16];
	int argc = 0;
	argv[argc++] = PRKIT_PATH;
	va_list ap;
	va_start(ap, cap);
	for (const char *a; argc < 15 && (a = va_arg(ap, const char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(p[1], 1);
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 2);
		close(p[0]);
		execv(PRKIT_PATH, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	size_t have = 0;
	for (;;) {
		ssize_t r = read(p[0], out + have, cap - 1 - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
		if (have == cap - 1)
			break;
	}
	out[have] = 0;
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

json_object *fd_status(int i, int *rc)
{
	static char out[1 << 17];
	char sock[300];
	sock_path(i, sock, sizeof(sock));
	int st = run_prkit(out, sizeof(out), "fenced", "status", "--json", "-s", sock, NULL);
	if (rc)
		*rc = st;
	return st < 0 ? NULL : json_tokener_parse(out);
}

/* path: "a" or "a.b" (one level of nesting is all the tests need). */
static json_object *member(json_object *o, const char *path)
{
	char head[64];
	const char *dot = strchr(path, '.');
	json_object *v = NULL;
	if (!o)
		return NULL;
	if (!dot)
		return json_object_object_get_ex(o, path, &v) ? v : NULL;
	snprintf(head, sizeof(head), "%.*s", (int)(dot - path), path);
	if (!json_object_object_get_ex(o, head, &v))
		return NULL;
	return member(v, dot + 1);
}

int64_t fd_json_int(json_object *o, const char *path)
{
	json_object *v = member(o, path);
	return v ? json_object_get_int64(v) : 0;
}

const char *fd_json_str(json_object *o, const char *path)
{
	json_object *v = member(o, path);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

int fd_wait_state(int i, const char *state, int ms)
{
	uint64_t end = h_now_ms() + (uint64_t)ms;
	for (;;) {
		json_object *s = fd_status(i, NULL);
		bool ok = s && !strcmp(fd_json_str(s, "state"), state);
		if (ok || h_now_ms() >= end) {
			if (!ok)
				fprintf(stderr, "# node %d not \"%s\" after %d ms: %s\n", i, state,
				        ms, s ? json_object_to_json_string(s) : "(no answer)");
			json_object_put(s);
			return ok;
		}
		json_object_put(s);
		sleep_ms(50);
	}
}

json_object *fd_wait_fencings(int i, int n, int ms)
{
	uint64_t end = h_now_ms() + (uint64_t)ms;
	for (;;) {
		json_object *s = fd_status(i, NULL);
		if (s && fd_json_int(s, "fencings") >= n)
			return s;
		if (h_now_ms() >= end) {
			fprintf(stderr, "# node %d: fewer than %d fencing(s) after %d ms: %s\n", i,
			        n, ms, s ? json_object_to_json_string(s) : "(no answer)");
			json_object_put(s);
			return NULL;
		}
		json_object_put(s);
		sleep_ms(50);
	}
}

uint64_t fd_key(int i)
{
	char out[256], sock[300];
	sock_path(i, sock, sizeof(sock));
	if (run_prkit(out, sizeof(out), "fenced", "key", "-s", sock, NULL) != 0)
		return 0;
	return strtoull(out, NULL, 16);
}

uint64_t fd_known_key(int i)
{
	return i >= 1 && i <= FD_MAX_NODES ? F.key[i] : 0;
}

bool fd_log_has(int i, const char *s)
{
	char path[400], line[1024];
	fd_log_path(i, path, sizeof(path));
	FILE *f = fopen(path, "r");
	bool hit = false;
	while (f && !hit && fgets(line, sizeof(line), f))
		hit = strstr(line, s) != NULL;
	if (f)
		fclose(f);
	return hit;
}

/* Starts node i's fenced without waiting. */
static int fenced_spawn(int i)
{
	char cfg[400], log[400], name[32];
	snprintf(cfg, sizeof(cfg), "%s/n%d/fenced.json", cl_work(), i);
	fd_log_path(i, log, sizeof(log));
	/* Keep an earlier run's log beside the new one. */
	if (access(log, F_OK) == 0) {
		char old[420];
		snprintf(old, sizeof(old), "%s.%ld", log, (long)time(NULL));
		rename(log, old);
	}
	snprintf(name, sizeof(name), "n%d.fenced", i);
	const char *argv[] = {PRKIT_PATH, "fenced", "-c", cfg, "-v", NULL};
	return cl_spawn(i, name, argv, log, log) < 0 ? -1 : 0;
}

/* Waits (30 s) until node i's fenced has joined: its key is known
 * (registered on every LU). */
static int fenced_joined(int i)
{
	char name[32];
	snprintf(name, sizeof(name), "n%d.fenced", i);
	for (int t = 0; t < 300; t++) {
		F.key[i] = fd_key(i);
		if (F.key[i])
			return 0;
		int st;
		if (cl_reap(name, 0, &st) == 1) {
			fprintf(stderr, "# node %d: prkit fenced exited (status 0x%x)\n", i, st);
			return -1;
		}
		sleep_ms(100);
	}
	fprintf(stderr, "# node %d: prkit fenced did not join within 30 s\n", i);
	return -1;
}

int fd_fenced_start(int i)
{
	if (fenced_spawn(i))
		return -1;
	return fenced_joined(i);
}

static void writer_name(int i, int k, char *buf, size_t cap)
{
	snprintf(buf, cap, "n%d.io%d", i, k);
}

static int n_writers(void)
{
	if (F.o.writers < 0)
		return 0;
	return F.o.writers == 0 || F.o.writers > F.o.lus ? F.o.lus : F.o.writers;
}

int fd_writers_start(int i)
{
	for (int k = 0; k < n_writers(); k++) {
		char name[32], out[400], err[400], key[24], off[24], size[24], run[8], ini[96],
		    st[300], u[200];
		writer_name(i, k, name, sizeof(name));
		snprintf(out, sizeof(out), "%s/n%d/io%d.json", cl_work(), i, k);
		snprintf(err, sizeof(err), "%s/n%d/io%d.log", cl_work(), i, k);
		snprintf(key, sizeof(key), "0x%" PRIx64, F.key[i]);
		snprintf(off, sizeof(off), "%" PRIu64, region_offset(i));
		snprintf(size, sizeof(size), "%" PRIu64, region_size());
		snprintf(run, sizeof(run), "%d", i);
		/* One initiator name per writer: the host library lets one
		 * process at a time use a name's nexuses. */
		snprintf(ini, sizeof(ini), "iqn.2026-11.io.prkit.test:n%d-io%d", i, k);
		state_dir(i, st, sizeof(st));
		url(i, k, u, sizeof(u));
		const char *argv[] = {PRKIT_PATH,
		                      "io",
		                      "--key",
		                      key,
		                      "--mode",
		                      "cluster",
		                      "--rw",
		                      "randwrite",
		                      "--bs",
		                      "4k",
		                      "--qd",
		                      "2",
		                      "--offset",
		                      off,
		                      "--size",
		                      size,
		                      "--time",
		                      "3600",
		                      "--run-id",
		                      run,
		                      "--seq-clock",
		                      "--initiator",
		                      ini,
		                      "--state-dir",
		                      st,
		                      "--io-timeout-ms",
		                      "3000",
		                      "--checker-ms",
		                      "500",
		                      "--json",
		                      u,
		                      NULL};
		if (cl_spawn(i, name, argv, out, err) < 0)
			return -1;
	}
	/* Each has written (the checker sees its blocks): 15 s at most. */
	for (int k = 0; k < n_writers(); k++) {
		uint64_t end = h_now_ms() + 15000;
		struct fd_blocks b;
		for (fd_check(k, i, 0, &b); !b.written; fd_check(k, i, 0, &b)) {
			if (h_now_ms() > end) {
				fprintf(stderr, "# node %d: no block written to LU %d in 15 s\n", i,
				        k);
				return -1;
			}
			sleep_ms(100);
		}
	}
	return 0;
}

int fd_node_start(int i)
{
	char name[32];
	snprintf(name, sizeof(name), "n%d.corosync", i);
	char path[400];
	snprintf(path, sizeof(path), "%s/pids/%s", cl_work(), name);
	if (access(path, F_OK) != 0 && cl_corosync_start(i))
		return -1;
	if (fd_fenced_start(i))
		return -1;
	return fd_writers_start(i);
}

void fd_node_kill(int i, bool keep_writers)
{
	char name[32];
	/* Corosync first (the peers must see a failure, not a clean leave),
	 * then the daemon, as one crash. */
	cl_corosync_kill(i);
	snprintf(name, sizeof(name), "n%d.fenced", i);
	cl_signal(name, SIGKILL);
	cl_reap(name, 5000, NULL);
	if (keep_writers)
		return;
	for (int k = 0; k < n_writers(); k++) {
		writer_name(i, k, name, sizeof(name));
		cl_signal(name, SIGKILL);
		cl_reap(name, 5000, NULL);
	}
}

static json_object *writer_report(int i, int k)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/n%d/io%d.json", cl_work(), i, k);
	return json_object_from_file(path);
}

int fd_writer_wait(int i, int k, int ms, int *exit_status, json_object **report)
{
	char name[32];
	int st = 0;
	writer_name(i, k, name, sizeof(name));
	int r = cl_reap(name, ms, &st);
	if (r != 1)
		return r == 0 ? 0 : -1;
	if (exit_status)
		*exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (report)
		*report = writer_report(i, k);
	return 1;
}

int fd_writer_stop(int i, int k, int ms, int *exit_status, json_object **report)
{
	char name[32];
	writer_name(i, k, name, sizeof(name));
	cl_signal(name, SIGTERM);
	return fd_writer_wait(i, k, ms, exit_status, report);
}

void fd_scan(const uint8_t *buf, size_t len, uint64_t first_lba, uint64_t run_id, uint64_t after_us,
             struct fd_blocks *out)
{
	for (size_t off = 0; off + FD_BLOCK <= len; off += FD_BLOCK) {
		const uint8_t *b = buf + off;
		if (memcmp(b, IOP_MAGIC, 8) != 0)
			continue;
		uint64_t run, seq;
		memcpy(&seq, b + 16, 8);
		memcpy(&run, b + 24, 8);
		/* The pattern is little endian; so is every machine this
		 * runs on (x86-64, arm64), which the memcpy relies on. */
		if (run != run_id)
			continue;
		out->written++;
		if (seq > after_us)
			out->after++;
		if (seq > out->latest_us)
			out->latest_us = seq;
		/* The whole block as the writer made it, at its own LBA. */
		if (prk_iop_check(b, FD_BLOCK, 1, first_lba + off / FD_BLOCK, seq, run_id, NULL) !=
		    IOP_OK)
			out->bad++;
	}
}

static void check_one(int k, int node, uint64_t after_us, struct fd_blocks *out)
{
	char path[400];
	lu_path(k, path, sizeof(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size_t len = (size_t)region_size();
	uint8_t *buf = malloc(len);
	off_t at = (off_t)region_offset(node);
	ssize_t got = buf ? pread(fd, buf, len, at) : -1;
	close(fd);
	if (got > 0)
		fd_scan(buf, (size_t)got, (uint64_t)at / FD_BLOCK, (uint64_t)node, after_us, out);
	free(buf);
}

void fd_check(int k, int node, uint64_t after_us, struct fd_blocks *out)
{
	memset(out, 0, sizeof(*out));
	if (k >= 0) {
		check_one(k, node, after_us, out);
		return;
	}
	for (int l = 0; l < F.o.lus; l++)
		check_one(l, node, after_us, out);
}

struct iscsi_context *fd_login(int lun, const char *initiator)
{
	(void)lun;
	struct iscsi_context *iscsi = iscsi_create_context(initiator);
	if (!iscsi)
		return NULL;
	iscsi_set_targetname(iscsi, FD_TARGET);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_noautoreconnect(iscsi, 1);
	iscsi_set_isid_random(iscsi, 0x4f3e2d, 1);
	iscsi_set_timeout(iscsi, 10);
	if (iscsi_connect_sync(iscsi, "10.98.1.1:3260") != 0 || iscsi_login_sync(iscsi) != 0) {
		fprintf(stderr, "# login of %s failed: %s\n", initiator, iscsi_get_error(iscsi));
		iscsi_destroy_context(iscsi);
		return NULL;
	}
	h_clear_ua(iscsi, lun);
	return iscsi;
}

size_t fd_read_keys(int lun, uint64_t *keys, size_t cap)
{
	struct iscsi_context *iscsi = fd_login(lun, "iqn.2026-11.io.prkit.test:checker");
	assert_non_null(iscsi);
	uint8_t buf[8 + 8 * 64];
	size_t got = 0;
	int st = -1;
	/* Past unit attentions (registrations preempted, reservations
	 * changed: what the test is about). */
	for (int t = 0; t < 8; t++) {
		st = h_pr_in(iscsi, lun, SCSI_PERSISTENT_RESERVE_READ_KEYS, buf, sizeof(buf), &got);
		if (st != SCSI_STATUS_CHECK_CONDITION)
			break;
	}
	iscsi_logout_sync(iscsi);
	iscsi_destroy_context(iscsi);
	assert_int_equal(st, SCSI_STATUS_GOOD);
	assert_true(got >= 8);
	uint32_t len =
	    (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
	size_t n = 0;
	for (size_t off = 8; off + 8 <= 8 + len && off + 8 <= got; off += 8) {
		uint64_t k = 0;
		for (int b = 0; b < 8; b++)
			k = k << 8 | buf[off + (size_t)b];
		bool seen = false;
		for (size_t j = 0; j < n; j++)
			seen |= keys[j] == k;
		if (!seen && n < cap)
			keys[n++] = k;
	}
	return n;
}

int fd_up(const struct fd_opts *o)
{
	fd_down();
	F.o = *o;
	memset(F.key, 0, sizeof(F.key));
	struct cl_cs_opts co = {.token_ms = o->token_ms, .two_node = o->two_node};
	if (cl_up_corosync(o->nodes, &co))
		return -1;
	F.up = true;
	if (start_prkitd()) {
		fprintf(stderr, "# prkitd did not start\n");
		return -1;
	}
	for (int i = 1; i <= o->nodes; i++)
		if (write_fenced_config(i))
			return -1;
	/* Every daemon at once (a daemon joins once it has a quorate view
	 * with its peers), then the writers with the keys. */
	for (int i = 1; i <= o->nodes; i++)
		if (fenced_spawn(i))
			return -1;
	for (int i = 1; i <= o->nodes; i++)
		if (fenced_joined(i))
			return -1;
	for (int i = 1; i <= o->nodes; i++)
		if (!fd_wait_state(i, "running", 20000))
			return -1;
	for (int i = 1; i <= o->nodes; i++)
		if (fd_writers_start(i))
			return -1;
	return 0;
}

void fd_down(void)
{
	if (!F.up)
		return;
	F.up = false;
	/* Print the daemons' logs of a failed test before the work directory
	 * goes (cl_down keeps it then, and says where). */
	if (cl_failed)
		for (int i = 1; i <= F.o.nodes; i++) {
			char p[400], cmd[600];
			fd_log_path(i, p, sizeof(p));
			snprintf(cmd, sizeof(cmd),
			         "tail -n 40 '%s' 2>/dev/null | sed 's/^/# n%d: /' >&2", p, i);
			if (system(cmd) == -1)
				fprintf(stderr, "# (cannot run tail)\n");
		}
	cl_down();
	h_stop(&F.d);
}
