/* See harness.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"

#ifndef PRKITD_PATH
#error "PRKITD_PATH must name the prkitd binary"
#endif
#ifndef PRKIT_PATH
#error "PRKIT_PATH must name the prkit binary"
#endif

static void print_log(const struct h_daemon *d)
{
	FILE *f = fopen(d->log, "r");
	char line[512];
	fprintf(stderr, "---- prkitd log ----\n");
	while (f && fgets(line, sizeof(line), f))
		fputs(line, stderr);
	if (f)
		fclose(f);
}

static char *replace_dir(const char *json, const char *dir)
{
	size_t n = strlen(json) + 1, dl = strlen(dir);
	for (const char *p = json; (p = strstr(p, "@DIR@")); p += 5)
		n += dl;
	char *out = malloc(n), *o = out;
	for (const char *p = json; *p;) {
		if (strncmp(p, "@DIR@", 5) == 0) {
			memcpy(o, dir, dl);
			o += dl;
			p += 5;
		} else {
			*o++ = *p++;
		}
	}
	*o = 0;
	return out;
}

/* Counts "listening on A:P" lines in the log; fills the ports. */
static int scan_ports(struct h_daemon *d)
{
	FILE *f = fopen(d->log, "r");
	if (!f)
		return 0;
	char line[512];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "listening on ");
		if (!p)
			continue;
		char *colon = strrchr(p, ':');
		char *paren = strstr(p, " (tpgt");
		if (colon && paren && colon < paren && n < 8)
			d->ports[n++] = (uint16_t)atoi(colon + 1);
	}
	fclose(f);
	return n;
}

static void read_back(int fd, char *buf, size_t cap);

/* Starts prkitd with <dir>/prkitd.json and waits until it serves. */
static int launch(struct h_daemon *d)
{
	char cfg[300];
	snprintf(cfg, sizeof(cfg), "%s/prkitd.json", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/prkitd.log", d->dir);
	int fd = open(cfg, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	off_t size = lseek(fd, 0, SEEK_END);
	char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
	if (!text) {
		close(fd);
		return -1;
	}
	read_back(fd, text, (size_t)size + 1);
	close(fd);
	int want = 0;
	for (const char *p = text; (p = strstr(p, "\"address\"")); p++)
		want++;
	bool admin = strstr(text, "\"admin_socket\"") != NULL;
	free(text);
	d->n_ports = 0;
	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		/* Never outlive the test program, even when it is killed. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		FILE *lf = freopen(d->log, "w", stderr);
		(void)lf;
		/* APTPL records stay inside the test's directory. */
		char state[300];
		snprintf(state, sizeof(state), "%s/state", d->dir);
		setenv("PRKIT_STATE_DIR", state, 1);
		execl(PRKITD_PATH, "prkitd", "-c", cfg, "--log-level", "debug", (char *)NULL);
		_exit(127);
	}
	/* Wait (at most 10 s) until every portal listens, and the admin
	 * socket, which comes after the portals, when one is configured. */
	for (int i = 0; i < 1000; i++) {
		d->n_ports = scan_ports(d);
		if (d->n_ports >= want && (!admin || h_log_contains(d, "admin socket ")))
			return 0;
		int st;
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			print_log(d);
			return -1;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	print_log(d);
	h_stop(d);
	return -1;
}

/* PRKIT_TEST_THREADS=N puts "threads": N into every configuration that
 * does not set it itself, so that the whole suite can run with several
 * event loops. */
static char *with_threads(char *json)
{
	const char *n = getenv("PRKIT_TEST_THREADS");
	char *brace = json ? strchr(json, '{') : NULL;
	if (!n || !*n || !brace || strstr(json, "\"threads\""))
		return json;
	size_t cap = strlen(json) + strlen(n) + 32;
	char *out = malloc(cap);
	if (!out)
		return json;
	snprintf(out, cap, "%.*s{\"threads\": %s, %s", (int)(brace - json), json, n, brace + 1);
	free(json);
	return out;
}

int h_start(struct h_daemon *d, const char *json)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/prkit-itest-XXXXXX");
	if (!mkdtemp(d->dir))
		return -1;
	char cfg[300];
	snprintf(cfg, sizeof(cfg), "%s/prkitd.json", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/prkitd.log", d->dir);
	char *text = with_threads(replace_dir(json, d->dir));
	FILE *f = fopen(cfg, "w");
	if (!f || fputs(text, f) < 0) {
		if (f)
			fclose(f);
		free(text);
		return -1;
	}
	fclose(f);
	free(text);
	return launch(d);
}

int h_stop(struct h_daemon *d)
{
	int status = -1;
	if (d->pid <= 0 && !d->dir[0])
		return 0; /* stopped already */
	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		for (int i = 0; i < 500; i++) {
			if (waitpid(d->pid, &status, WNOHANG) == d->pid)
				break;
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
			if (i == 499) {
				kill(d->pid, SIGKILL);
				waitpid(d->pid, &status, 0);
				print_log(d);
			}
		}
		d->pid = 0;
	}
	/* The log is in the directory: print it before removing it. */
	if (status != 0)
		print_log(d);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	/* PRKIT_TEST_KEEP=1 keeps the directory (log, configuration) to look
	 * at after a failure. */
	if (getenv("PRKIT_TEST_KEEP") && d->dir[0])
		fprintf(stderr, "harness: kept %s\n", d->dir);
	else if (d->dir[0] && system(cmd) != 0)
		fprintf(stderr, "harness: could not remove %s\n", d->dir);
	d->dir[0] = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void h_config_basic(char *buf, size_t cap, int n_portals, unsigned size_mb)
{
	int n = snprintf(buf, cap, "{\"portals\": [");
	for (int i = 0; i < n_portals; i++)
		n += snprintf(buf + n, cap - (size_t)n,
		              "%s{\"address\": \"127.0.0.1\", \"port\": 0}", i ? ", " : "");
	snprintf(buf + n, cap - (size_t)n,
	         "], \"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000, "
	         "\"targets\": [{\"name\": \"%s\", \"luns\": "
	         "[{\"backstore\": {\"type\": \"ram\", \"size\": \"%uM\"}, \"thin\": true}]}]}",
	         H_TARGET, size_mb);
}

struct iscsi_context *h_login(struct h_daemon *d, int portal, const char *initiator,
                              uint32_t isid_qualifier)
{
	return h_login_ex(d, portal, initiator, isid_qualifier, NULL);
}

struct iscsi_context *h_login_ex(struct h_daemon *d, int portal, const char *initiator,
                                 uint32_t isid_qualifier, const struct h_login_opts *o)
{
	static const struct h_login_opts none;
	if (!o)
		o = &none;
	if (o->error && o->error_cap)
		o->error[0] = 0;
	struct iscsi_context *iscsi = iscsi_create_context(initiator);
	if (!iscsi)
		return NULL;
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", d->ports[portal]);
	iscsi_set_targetname(iscsi, o->target ? o->target : H_TARGET);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_noautoreconnect(iscsi, 1);
	iscsi_set_isid_random(iscsi, 0x123456, isid_qualifier);
	iscsi_set_timeout(iscsi, 10);
	if (o->user)
		iscsi_set_initiator_username_pwd(iscsi, o->user, o->secret);
	if (o->mutual_user)
		iscsi_set_target_username_pwd(iscsi, o->mutual_user, o->mutual_secret);
	int r =
	    o->no_tur ? iscsi_connect_sync(iscsi, addr) : iscsi_full_connect_sync(iscsi, addr, 0);
	if (r == 0 && o->no_tur)
		r = iscsi_login_sync(iscsi);
	if (r != 0) {
		fprintf(stderr, "login of %s to %s at %s failed: %s\n", initiator,
		        o->target ? o->target : H_TARGET, addr, iscsi_get_error(iscsi));
		if (o->error && o->error_cap)
			snprintf(o->error, o->error_cap, "%s", iscsi_get_error(iscsi));
		iscsi_destroy_context(iscsi);
		return NULL;
	}
	return iscsi;
}

void h_logout(struct iscsi_context *iscsi)
{
	if (!iscsi)
		return;
	iscsi_logout_sync(iscsi);
	iscsi_destroy_context(iscsi);
}

int h_discover(struct h_daemon *d, int portal, const char *initiator, char *out, size_t cap)
{
	struct iscsi_context *iscsi = iscsi_create_context(initiator);
	if (!iscsi)
		return -1;
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", d->ports[portal]);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_DISCOVERY);
	iscsi_set_timeout(iscsi, 10);
	if (iscsi_connect_sync(iscsi, addr) != 0 || iscsi_login_sync(iscsi) != 0) {
		fprintf(stderr, "discovery login of %s failed: %s\n", initiator,
		        iscsi_get_error(iscsi));
		iscsi_destroy_context(iscsi);
		return -1;
	}
	struct iscsi_discovery_address *da = iscsi_discovery_sync(iscsi);
	int n = 0;
	size_t len = 0;
	if (cap)
		out[0] = 0;
	for (struct iscsi_discovery_address *a = da; a; a = a->next, n++) {
		int k = snprintf(out + len, cap - len, "%s\n", a->target_name);
		if (k > 0 && (size_t)k < cap - len)
			len += (size_t)k;
	}
	if (da)
		iscsi_free_discovery_data(iscsi, da);
	iscsi_logout_sync(iscsi);
	iscsi_destroy_context(iscsi);
	return n;
}

int h_clear_ua(struct iscsi_context *iscsi, int lun)
{
	for (int i = 0; i < 8; i++) {
		struct scsi_task *t = iscsi_testunitready_sync(iscsi, lun);
		if (!t)
			return -1;
		int status = t->status;
		bool ua = status == SCSI_STATUS_CHECK_CONDITION &&
		          t->sense.key == SCSI_SENSE_UNIT_ATTENTION;
		scsi_free_scsi_task(t);
		if (!ua)
			return status;
	}
	return SCSI_STATUS_CHECK_CONDITION;
}

void h_admin_path(const struct h_daemon *d, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/admin.sock", d->dir);
}

/* Reads what fd holds from its start (NUL-terminated, truncated to cap). */
static void read_back(int fd, char *buf, size_t cap)
{
	if (!cap)
		return;
	size_t have = 0;
	lseek(fd, 0, SEEK_SET);
	while (have + 1 < cap) {
		ssize_t n = read(fd, buf + have, cap - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = 0;
}

/* Starts `prkit` (after `target -s SOCK` when admin) with its output in
 * unlinked temporary files. */
static int spawn_prkit(const struct h_daemon *d, bool admin, struct h_proc *p,
                       const char *const *args)
{
	char sock[300], opath[] = "/tmp/prkit-cli-out-XXXXXX",
	                epath[] = "/tmp/prkit-cli-err-XXXXXX";
	char state[400];
	const char *argv[48];
	int n = 0;
	h_admin_path(d, sock, sizeof(sock));
	snprintf(state, sizeof(state), "%s/host", d->dir);
	argv[n++] = "prkit";
	if (admin) {
		argv[n++] = "target";
		argv[n++] = "-s";
		argv[n++] = sock;
	}
	for (; *args && n < 47; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	/* Output goes to files, not pipes: nothing to drain while waiting. */
	int o = mkstemp(opath), e = mkstemp(epath);
	if (o >= 0)
		unlink(opath);
	if (e >= 0)
		unlink(epath);
	pid_t pid = o >= 0 && e >= 0 ? fork() : -1;
	if (pid < 0) {
		if (o >= 0)
			close(o);
		if (e >= 0)
			close(e);
		return -1;
	}
	if (pid == 0) {
		if (dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		if (!admin)
			setenv("PRKIT_STATE_DIR", state, 0);
		execv(PRKIT_PATH, (char *const *)argv);
		_exit(127);
	}
	p->pid = pid;
	p->out_fd = o;
	p->err_fd = e;
	p->started_ms = h_now_ms();
	return 0;
}

int h_prkit_spawn(const struct h_daemon *d, struct h_proc *p, const char *const *args)
{
	return spawn_prkit(d, false, p, args);
}

int h_proc_poll(struct h_proc *p, int *rc, char *out, size_t out_cap, char *err, size_t err_cap)
{
	int status = -1;
	pid_t r = waitpid(p->pid, &status, WNOHANG);
	if ((r == 0 || (r < 0 && errno == EINTR)) && h_now_ms() - p->started_ms < 60000)
		return 0;
	if (r < 0)
		fprintf(stderr, "# waitpid(%d): %s\n", (int)p->pid, strerror(errno));
	if (r != p->pid) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &status, 0);
		status = -1;
	}
	read_back(p->out_fd, out, out_cap);
	read_back(p->err_fd, err, err_cap);
	close(p->out_fd);
	close(p->err_fd);
	*rc = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (*rc == -1)
		fprintf(stderr, "# prkit pid %d: r=%d status=0x%x elapsed=%llu\n", (int)p->pid,
		        (int)r, (unsigned)status, (unsigned long long)(h_now_ms() - p->started_ms));
	if (status != -1 && WIFSIGNALED(status))
		fprintf(stderr, "# prkit (pid %d) killed by signal %d\n", (int)p->pid,
		        WTERMSIG(status));
	return 1;
}

static int run_prkit(const struct h_daemon *d, bool admin, char *out, size_t out_cap, char *err,
                     size_t err_cap, const char *const *args)
{
	struct h_proc p;
	if (spawn_prkit(d, admin, &p, args)) {
		fprintf(stderr, "# cannot start prkit: %s\n", strerror(errno));
		return -1;
	}
	int rc;
	while (!h_proc_poll(&p, &rc, out, out_cap, err, err_cap)) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return rc;
}

int h_cli(const struct h_daemon *d, char *out, size_t out_cap, char *err, size_t err_cap,
          const char *const *args)
{
	return run_prkit(d, true, out, out_cap, err, err_cap, args);
}

int h_prkit(const struct h_daemon *d, char *out, size_t out_cap, char *err, size_t err_cap,
            const char *const *args)
{
	return run_prkit(d, false, out, out_cap, err, err_cap, args);
}

int h_log_contains(const struct h_daemon *d, const char *s)
{
	FILE *f = fopen(d->log, "r");
	if (!f)
		return 0;
	char line[1024];
	int found = 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, s) != NULL;
	fclose(f);
	return found;
}

int h_log_wait(const struct h_daemon *d, const char *s, int timeout_ms)
{
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		if (h_log_contains(d, s))
			return 1;
		if (h_now_ms() >= end)
			return 0;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

long h_rss_kib(const struct h_daemon *d)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)d->pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long kib = -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

int h_tcp_connect(const struct h_daemon *d, int portal)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(d->ports[portal])};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

uint64_t h_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int h_wait_closed(int fd, int timeout_ms)
{
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		uint64_t now = h_now_ms();
		if (now >= end)
			return 0;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)(end - now));
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		char buf[4096];
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			return 1;
		if (n < 0 && (errno == ECONNRESET || errno == EPIPE))
			return 1;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
	}
}

int h_kill_keep(struct h_daemon *d, int sig)
{
	if (d->pid <= 0)
		return -1;
	int status = 0;
	kill(d->pid, sig);
	for (int i = 0;; i++) {
		pid_t r = waitpid(d->pid, &status, WNOHANG);
		if (r == d->pid)
			break;
		if (r < 0)
			return -1;
		if (i == 1000) { /* 10 s: it does not stop */
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			print_log(d);
			break;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	d->pid = 0;
	/* Keep the log of this run next to the next one's. */
	char old[320];
	snprintf(old, sizeof(old), "%s.%d", d->log, ++d->runs);
	if (rename(d->log, old) < 0)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

int h_relaunch(struct h_daemon *d)
{
	if (d->pid > 0 || !d->dir[0])
		return -1;
	return launch(d);
}

int h_restart(struct h_daemon *d)
{
	int st = h_kill_keep(d, SIGTERM);
	if (st != 0) {
		fprintf(stderr, "harness: prkitd stopped with status %d\n", st);
		return -1;
	}
	return h_relaunch(d);
}

void h_state_dir(const struct h_daemon *d, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/state", d->dir);
}

int h_pr_out(struct iscsi_context *iscsi, int lun, uint8_t sa, uint8_t type, const uint8_t *params,
             uint32_t len, struct scsi_sense *sense)
{
	uint8_t cdb[10] = {0x5f, sa & 0x1f, type & 0x0f};
	cdb[5] = (uint8_t)(len >> 24);
	cdb[6] = (uint8_t)(len >> 16);
	cdb[7] = (uint8_t)(len >> 8);
	cdb[8] = (uint8_t)len;
	struct scsi_task *t = scsi_create_task(10, cdb, SCSI_XFER_WRITE, (int)len);
	if (!t)
		return -1;
	struct iscsi_data d = {.size = len, .data = (unsigned char *)params};
	if (!iscsi_scsi_command_sync(iscsi, lun, t, &d))
		return -1; /* libiscsi may still refer to the task: leave it */
	int status = t->status;
	if (sense)
		*sense = t->sense;
	scsi_free_scsi_task(t);
	return status;
}

int h_pr_in(struct iscsi_context *iscsi, int lun, uint8_t sa, uint8_t *buf, uint16_t cap,
            size_t *got)
{
	*got = 0;
	struct scsi_task *t = iscsi_persistent_reserve_in_sync(iscsi, lun, sa, cap);
	if (!t)
		return -1;
	int status = t->status;
	if (status == SCSI_STATUS_GOOD && t->datain.size > 0) {
		size_t n = (size_t)t->datain.size < cap ? (size_t)t->datain.size : cap;
		memcpy(buf, t->datain.data, n);
		*got = n;
	}
	scsi_free_scsi_task(t);
	return status;
}
