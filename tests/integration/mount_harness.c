/* See mount_harness.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "mount_harness.h"

#ifndef PRKIT_PATH
#error "PRKIT_PATH must name the prkit binary"
#endif

#define MH_READER "iqn.2026-11.io.prkit.test:mh-reader"

/* Every mount started, so that teardown can stop what a failed test left
 * (the tests' own structs may be gone by then). */
static struct mh_reg {
	pid_t pid;
	char dir[256];
	char log[320];
} regs[32];
static char root[64];
static bool atexit_set;

void mh_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

const char *mh_tmp_root(void)
{
	if (!root[0]) {
		snprintf(root, sizeof(root), "%s", MH_ROOT_TEMPLATE);
		if (!mkdtemp(root)) {
			fprintf(stderr, "# mkdtemp %s: %s\n", MH_ROOT_TEMPLATE, strerror(errno));
			root[0] = 0;
			return "/tmp";
		}
	}
	return root;
}

bool mh_is_mounted(const char *dir)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return false;
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		/* id parent major:minor root MOUNTPOINT ... */
		char *save = NULL, *tok = strtok_r(line, " ", &save);
		for (int i = 0; tok && i < 4; i++)
			tok = strtok_r(NULL, " ", &save);
		found = tok && strcmp(tok, dir) == 0;
	}
	fclose(f);
	return found;
}

static struct mh_reg *reg_of(pid_t pid)
{
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		if (regs[i].pid == pid)
			return &regs[i];
	return NULL;
}

void mh_file(const struct mh_mount *m, const char *mode, char *buf, size_t cap)
{
	if (mode)
		snprintf(buf, cap, "%s/%s.%s", m->dir, m->name, mode);
	else
		snprintf(buf, cap, "%s/%s", m->dir, m->name);
}

int mh_open(const struct mh_mount *m, const char *mode, int flags)
{
	char path[400];
	mh_file(m, mode, path, sizeof(path));
	int fd = open(path, flags | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

void mh_show_log(const struct mh_mount *m)
{
	FILE *f = fopen(m->log, "r");
	char line[1024];
	fprintf(stderr, "# ---- prkit mount %s: its output ----\n", m->dir);
	while (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "#   %s%s", line, strchr(line, '\n') ? "" : "\n");
	if (f)
		fclose(f);
}

bool mh_log_contains(const struct mh_mount *m, const char *s)
{
	FILE *f = fopen(m->log, "r");
	if (!f)
		return false;
	char line[1024];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, s) != NULL;
	fclose(f);
	return found;
}

static bool reap(struct mh_mount *m, int timeout_ms)
{
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		int st = 0;
		pid_t r = waitpid(m->pid, &st, WNOHANG);
		if (r == m->pid) {
			m->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
			if (WIFSIGNALED(st))
				fprintf(stderr, "# prkit mount (pid %d) killed by signal %d\n",
				        (int)m->pid, WTERMSIG(st));
			struct mh_reg *g = reg_of(m->pid);
			if (g)
				g->pid = 0;
			m->pid = 0;
			return true;
		}
		if (r < 0 && errno != EINTR) {
			m->status = -1;
			m->pid = 0;
			return true;
		}
		if (h_now_ms() >= end)
			return false;
		mh_sleep_ms(10);
	}
}

bool mh_wait_exit(struct mh_mount *m, int timeout_ms)
{
	if (!m->pid)
		return true;
	return reap(m, timeout_ms);
}

/* Stops pid (SIGTERM, then SIGKILL) and makes sure dir is not left
 * mounted. */
static int stop_pid(struct mh_mount *m)
{
	if (m->pid) {
		kill(m->pid, SIGTERM);
		if (!reap(m, 10000)) {
			fprintf(stderr, "# prkit mount (pid %d) ignored SIGTERM for 10 s: killed\n",
			        (int)m->pid);
			mh_show_log(m);
			kill(m->pid, SIGKILL);
			reap(m, 5000);
			m->status = -1;
		}
	}
	if (m->dir[0] && mh_is_mounted(m->dir)) {
		fprintf(stderr, "# %s still mounted after its process ended: umount -l\n", m->dir);
		if (umount2(m->dir, MNT_DETACH))
			fprintf(stderr, "# umount -l %s: %s\n", m->dir, strerror(errno));
	}
	return m->status;
}

int mh_stop(struct mh_mount *m)
{
	if (!m->pid && !m->dir[0])
		return -1;
	return stop_pid(m);
}

/* A sanitizer report in a mount's output (the ASan build of prkit). */
static bool sanitizer_said(const struct mh_mount *m)
{
	return mh_log_contains(m, "Sanitizer") || mh_log_contains(m, "runtime error:");
}

int mh_stop_all(void)
{
	int bad = 0;
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		if (!regs[i].dir[0])
			continue;
		struct mh_mount m = {.pid = regs[i].pid};
		snprintf(m.dir, sizeof(m.dir), "%s", regs[i].dir);
		snprintf(m.log, sizeof(m.log), "%s", regs[i].log);
		stop_pid(&m);
		if (sanitizer_said(&m)) {
			mh_show_log(&m);
			bad++;
		}
		rmdir(regs[i].dir);
		unlink(regs[i].log);
		regs[i].pid = 0;
		regs[i].dir[0] = 0;
	}
	return bad;
}

static void at_exit(void)
{
	(void)mh_stop_all();
	if (root[0]) {
		/* the logs; the mountpoints are gone */
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			fprintf(stderr, "# could not remove %s\n", root);
	}
}

static struct mh_reg *reg_new(void)
{
	if (!atexit_set) {
		atexit(at_exit);
		atexit_set = true;
	}
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		if (!regs[i].pid && !regs[i].dir[0])
			return &regs[i];
	return NULL;
}

int mh_start(struct mh_mount *m, const char *sub, const struct mh_spec *s)
{
	memset(m, 0, sizeof(*m));
	m->status = -1;
	struct mh_reg *g = reg_new();
	if (!g) {
		fprintf(stderr, "# too many mounts\n");
		return -1;
	}
	snprintf(m->dir, sizeof(m->dir), "%s/%s", mh_tmp_root(), sub);
	snprintf(m->log, sizeof(m->log), "%s/%s.log", mh_tmp_root(), sub);
	snprintf(m->name, sizeof(m->name), "%s", s->name ? s->name : "lu");
	if (mkdir(m->dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "# mkdir %s: %s\n", m->dir, strerror(errno));
		return -1;
	}
	char key[32];
	snprintf(key, sizeof(key), "0x%llx", (unsigned long long)s->key);
	const char *argv[64];
	int n = 0;
	argv[n++] = "prkit";
	argv[n++] = "mount";
	if (s->config) {
		argv[n++] = "-c";
		argv[n++] = s->config;
	}
	if (s->initiator) {
		argv[n++] = "--initiator";
		argv[n++] = s->initiator;
	}
	if (s->state_dir) {
		argv[n++] = "--state-dir";
		argv[n++] = s->state_dir;
	}
	if (s->key) {
		argv[n++] = "-k";
		argv[n++] = key;
	}
	if (s->name) {
		argv[n++] = "-n";
		argv[n++] = s->name;
	}
	if (s->mode) {
		argv[n++] = "-m";
		argv[n++] = s->mode;
	}
	if (s->ctl) {
		argv[n++] = "--ctl";
		argv[n++] = s->ctl;
	}
	if (s->no_ctl)
		argv[n++] = "--no-ctl";
	for (int i = 0; s->extra && s->extra[i] && n < 40; i++)
		argv[n++] = s->extra[i];
	argv[n++] = m->dir;
	for (size_t i = 0; i < s->n_urls && n < 62; i++)
		argv[n++] = s->urls[i];
	argv[n] = NULL;

	int lf = open(m->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (lf < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(lf);
		return -1;
	}
	if (pid == 0) {
		/* If the test program dies, the mount unmounts itself. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		int nul = open("/dev/null", O_RDONLY);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(lf, 1) < 0 || dup2(lf, 2) < 0)
			_exit(126);
		execv(PRKIT_PATH, (char *const *)argv);
		_exit(127);
	}
	close(lf);
	m->pid = pid;
	g->pid = pid;
	snprintf(g->dir, sizeof(g->dir), "%s", m->dir);
	snprintf(g->log, sizeof(g->log), "%s", m->log);

	char file[400];
	if (s->wait_for)
		snprintf(file, sizeof(file), "%s/%s", m->dir, s->wait_for);
	else
		mh_file(m, NULL, file, sizeof(file));
	uint64_t end = h_now_ms() + 15000;
	for (;;) {
		struct stat st;
		if (mh_is_mounted(m->dir) && stat(file, &st) == 0)
			return 0;
		pid_t pid_was = m->pid;
		if (reap(m, 0)) {
			fprintf(stderr,
			        "# prkit mount (pid %d) ended (status %d) before it mounted\n",
			        (int)pid_was, m->status);
			mh_show_log(m);
			return -1;
		}
		if (h_now_ms() >= end) {
			fprintf(stderr, "# %s did not appear within 15 s\n", file);
			mh_show_log(m);
			stop_pid(m);
			return -1;
		}
		mh_sleep_ms(10);
	}
}

/* ---- the status file ---- */

json_object *mh_status(const struct mh_mount *m)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/.prkit-status", m->dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "# open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 20, have = 0;
	char *buf = malloc(cap);
	while (buf && have + 1 < cap) {
		ssize_t r = read(fd, buf + have, cap - 1 - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	close(fd);
	if (!buf)
		return NULL;
	buf[have] = 0;
	json_object *o = json_tokener_parse(buf);
	if (!o)
		fprintf(stderr, "# %s is not JSON: %.200s\n", path, buf);
	free(buf);
	return o;
}

long long mh_status_int(const struct mh_mount *m, const char *key)
{
	json_object *o = mh_status(m), *devs = NULL, *v = NULL;
	long long r = -1;
	if (o && json_object_object_get_ex(o, "devices", &devs) &&
	    json_object_get_type(devs) == json_type_array && json_object_array_length(devs) > 0 &&
	    json_object_object_get_ex(json_object_array_get_idx(devs, 0), key, &v) && v) {
		if (json_object_get_type(v) == json_type_boolean)
			r = json_object_get_boolean(v) ? 1 : 0;
		else if (json_object_get_type(v) == json_type_int)
			r = json_object_get_int64(v);
	}
	json_object_put(o);
	return r;
}

bool mh_wait_handles(const struct mh_mount *m, int want, int timeout_ms)
{
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		long long h = mh_status_int(m, "handles");
		if (h == want)
			return true;
		if (h_now_ms() >= end) {
			fprintf(stderr, "# %s: %lld handles, not %d, after %d ms\n", m->dir, h,
			        want, timeout_ms);
			return false;
		}
		mh_sleep_ms(10);
	}
}

/* ---- PR state through a third party ---- */

static struct iscsi_context *reader(struct h_daemon *d)
{
	static uint32_t q = 0x3a0000;
	/* Start at the portal that answered last: a test may have removed
	 * another (each failed login prints a line). */
	static int last;
	for (int k = 0; k < d->n_ports; k++) {
		int p = (last + k) % d->n_ports;
		struct iscsi_context *i = h_login(d, p, MH_READER, ++q);
		if (i) {
			last = p;
			return i;
		}
	}
	return NULL;
}

/* PR IN, sent again while it meets a unit attention. */
static int pr_in(struct iscsi_context *i, int lun, uint8_t sa, uint8_t *buf, uint16_t cap,
                 size_t *got)
{
	int st = -1;
	for (int k = 0; k < 4; k++) {
		st = h_pr_in(i, lun, sa, buf, cap, got);
		if (st != SCSI_STATUS_CHECK_CONDITION)
			break;
	}
	return st;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int mh_pr_read(struct h_daemon *d, int lun, struct mh_pr *pr)
{
	memset(pr, 0, sizeof(*pr));
	struct iscsi_context *i = reader(d);
	if (!i)
		return -1;
	uint8_t buf[8 + 8 * 64];
	size_t got = 0;
	int rc = -1;
	if (pr_in(i, lun, SCSI_PERSISTENT_RESERVE_READ_KEYS, buf, sizeof(buf), &got) !=
	        SCSI_STATUS_GOOD ||
	    got < 8)
		goto out;
	pr->generation =
	    (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	uint32_t len =
	    (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
	for (size_t off = 8; off + 8 <= got && off < 8 + (size_t)len; off += 8) {
		uint64_t k = be64(buf + off);
		pr->n_regs++;
		bool seen = false;
		for (int j = 0; j < pr->n_keys; j++)
			seen |= pr->keys[j] == k;
		if (!seen && pr->n_keys < 32)
			pr->keys[pr->n_keys++] = k;
	}
	if (pr_in(i, lun, SCSI_PERSISTENT_RESERVE_READ_RESERVATION, buf, sizeof(buf), &got) !=
	        SCSI_STATUS_GOOD ||
	    got < 8)
		goto out;
	len = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
	if (len >= 16 && got >= 24) {
		pr->reserved = true;
		pr->holder = be64(buf + 8);
		pr->type = buf[21] & 0x0f;
	}
	rc = 0;
out:
	h_logout(i);
	return rc;
}

bool mh_pr_is(const struct mh_pr *pr, uint64_t holder, const uint64_t *keys, int n)
{
	if (pr->n_keys != n || pr->reserved != (holder != 0) || (holder && pr->holder != holder))
		return false;
	for (int i = 0; i < n; i++) {
		bool found = false;
		for (int j = 0; j < pr->n_keys; j++)
			found |= pr->keys[j] == keys[i];
		if (!found)
			return false;
	}
	return true;
}

bool mh_pr_wait(struct h_daemon *d, int lun, uint64_t holder, const uint64_t *keys, int n,
                int timeout_ms, struct mh_pr *last)
{
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		if (mh_pr_read(d, lun, last) == 0 && mh_pr_is(last, holder, keys, n))
			return true;
		if (h_now_ms() >= end)
			return false;
		mh_sleep_ms(20);
	}
}

void mh_pr_format(const struct mh_pr *pr, char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap, "generation %u, %d registrations, keys {",
	                            pr->generation, pr->n_regs);
	for (int i = 0; i < pr->n_keys && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s0x%llx", i ? "," : "",
		                      (unsigned long long)pr->keys[i]);
	if (n < cap) {
		if (pr->reserved)
			snprintf(buf + n, cap - n, "}, holder 0x%llx type %u",
			         (unsigned long long)pr->holder, pr->type);
		else
			snprintf(buf + n, cap - n, "}, no reservation");
	}
}

int mh_read_blocks(struct h_daemon *d, int lun, uint64_t lba, uint32_t n, uint8_t *buf)
{
	struct iscsi_context *i = reader(d);
	if (!i)
		return -1;
	int rc = -1;
	for (int k = 0; k < 4 && rc; k++) {
		struct scsi_task *t = iscsi_read16_sync(i, lun, lba, n * 512, 512, 0, 0, 0, 0, 0);
		if (!t)
			break;
		if (t->status == SCSI_STATUS_GOOD && t->datain.size == (int)(n * 512)) {
			memcpy(buf, t->datain.data, n * 512);
			rc = 0;
		} else if (t->status != SCSI_STATUS_CHECK_CONDITION) {
			fprintf(stderr, "# READ(16) lba %llu: status %d\n", (unsigned long long)lba,
			        t->status);
			scsi_free_scsi_task(t);
			break;
		}
		scsi_free_scsi_task(t);
	}
	h_logout(i);
	return rc;
}
