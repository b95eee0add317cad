/* See cluster_harness.h. The topology itself (namespaces, veths, Corosync
 * configurations and starts, partitions) is tests/cluster/topo.sh; this
 * file adds prkitd on top and the waiting the tests need. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/scsi-lowlevel.h>

#include "cluster_harness.h"
#include "harness.h"

#ifndef PRKITD_PATH
#error "PRKITD_PATH must name the prkitd binary"
#endif
#ifndef TOPO_SH
#error "TOPO_SH must name tests/cluster/topo.sh"
#endif

bool cl_failed;

static struct {
	char work[256];
	char backing[320];
	int n;
	struct cl_opts o;
	pid_t prkitd[CL_MAX_NODES + 1];
	int runs[CL_MAX_NODES + 1]; /* prkitd runs of node i so far */
	bool topo;                  /* topo.sh up succeeded (or half did) */
	/* What cl_spawn started (children of this process, reaped by name). */
	struct {
		char name[48];
		pid_t pid;
	} spawned[64];
	bool hooked; /* atexit and signal handlers installed */
} C;

static const char *topo_sh(void)
{
	/* An override for running against a topo.sh that is not in this
	 * tree (yet). */
	const char *e = getenv("PRKIT_TOPO_SH");
	return e && *e ? e : TOPO_SH;
}

/* The namespace prefix and the front network, as topo.sh has them
 * (TOPO_NS, TOPO_FRONT); overridable for a topo.sh that runs beside
 * another topology under other names. */
static const char *ns_prefix(void)
{
	const char *e = getenv("PRKIT_CL_NS");
	return e && *e ? e : "prkc";
}

static const char *front_net(void)
{
	const char *e = getenv("PRKIT_CL_FRONT");
	return e && *e ? e : "10.98";
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Runs a shell command (printf-style); its exit status, or -1. */
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs `bash topo.sh ARGS` (stdout to /dev/null: corosync-start prints
 * a PID we read from the record instead). */
static int topo(const char *fmt, ...)
{
	char args[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return sh("bash '%s' %s >/dev/null", topo_sh(), args);
}

int cl_available(char *why, size_t cap)
{
	if (geteuid() != 0) {
		snprintf(why, cap, "not root (network namespaces need CAP_NET_ADMIN)");
		return 0;
	}
	if (access(topo_sh(), R_OK) != 0) {
		snprintf(why, cap, "no %s", topo_sh());
		return 0;
	}
	if (sh("command -v ip >/dev/null 2>&1 && command -v corosync >/dev/null 2>&1 && "
	       "command -v corosync-cmapctl >/dev/null 2>&1") != 0) {
		snprintf(why, cap, "ip or corosync not installed (scripts/install-deps.sh)");
		return 0;
	}
	/* A namespace of our own, removed at once: can this kernel and this
	 * container make them at all? */
	if (sh("ip netns add prkc-probe%d 2>/dev/null && ip netns del prkc-probe%d", (int)getpid(),
	       (int)getpid()) != 0) {
		snprintf(why, cap, "cannot create network namespaces here");
		return 0;
	}
	return 1;
}

int cl_skip_all(void)
{
	char why[256];
	if (cl_available(why, sizeof(why)))
		return 0;
	printf("1..0 # SKIP %s\n", why);
	return 1;
}

/* The 22nd field of /proc/PID/stat (start time), as topo.sh records it. */
static unsigned long long starttime(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	p += 2; /* field 3, the state */
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

/* The PID topo.sh recorded under name, if that process still runs. */
static pid_t recorded_pid(const char *name)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/pids/%s", C.work, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int pid = 0;
	unsigned long long st = 0;
	int ok = fscanf(f, "%d %llu", &pid, &st);
	fclose(f);
	if (ok != 2 || pid <= 0 || starttime(pid) != st)
		return 0;
	return pid;
}

static void record_pid(const char *name, pid_t pid)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/pids/%s", C.work, name);
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "%d %llu\n", (int)pid, starttime(pid));
	fclose(f);
}

static void forget_pid(const char *name)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/pids/%s", C.work, name);
	unlink(path);
}

static void print_tail(const char *path, int lines)
{
	char cmd[600];
	/* A Corosync-only topology has no prkitd logs. */
	if (access(path, R_OK) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "tail -n %d '%s' 2>/dev/null | sed 's/^/# /' >&2", lines, path);
	fprintf(stderr, "# ---- %s ----\n", path);
	if (system(cmd) == -1)
		fprintf(stderr, "# (cannot run tail)\n");
}

static void on_signal(int sig)
{
	/* The test runner's timeout: leave no namespace or daemon behind. */
	cl_failed = true;
	cl_down();
	_exit(128 + sig);
}

static void at_exit(void)
{
	cl_down();
}

static void hook(void)
{
	if (C.hooked)
		return;
	C.hooked = true;
	atexit(at_exit);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* A peer that went away must not kill the test on a write. */
	signal(SIGPIPE, SIG_IGN);
}

static int write_config(int i)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/n%d/prkitd.json", C.work, i);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	uint32_t bs = C.o.block_size[i] ? C.o.block_size[i] : 512;
	char lun1[160] = "";
	if (C.o.xcopy)
		snprintf(lun1, sizeof(lun1),
		         ", {\"lun\": 1, %s\"backstore\": {\"type\": \"ram\", \"size\": \"16M\"}}",
		         C.o.default_serial ? "" : "\"serial\": \"prkcl0002\", ");
	/* Every node: the same target and LU (same serial, explicit or
	 * default, so the same NAA),
	 * on the one shared file; its own portal, port group and relative
	 * port id; its own admin socket and APTPL state directory. */
	fprintf(f,
	        "{\"portals\": [{\"address\": \"%s.%d.2\", \"port\": 3260, \"tpgt\": %d, "
	        "\"rtpi\": %d}],\n"
	        " \"admin_socket\": \"%s/n%d/admin.sock\", \"state_dir\": \"%s/n%d/state\",\n"
	        " \"nop_interval_ms\": 60000,\n"
	        " \"cluster\": {\"name\": \"t\", \"heartbeat_ms\": %d, \"lease_ms\": %d, "
	        "\"departure_margin_ms\": %d},\n"
	        " \"targets\": [{\"name\": \"%s\", \"luns\": [{\"lun\": 0, %s"
	        "\"block_size\": %u, %s\"backstore\": {\"type\": \"file\", "
	        "\"path\": \"%s\", \"direct\": true}}%s]}]}\n",
	        front_net(), i, i, i, C.work, i, C.work, i, CL_HEARTBEAT_MS, CL_LEASE_MS,
	        CL_MARGIN_MS, CL_TARGET, C.o.default_serial ? "" : "\"serial\": \"prkcl0001\", ",
	        bs, C.o.xcopy ? "\"third_party_reservations\": true, " : "", C.backing, lun1);
	return fclose(f) == 0 ? 0 : -1;
}

void cl_log_path(int i, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/n%d/prkitd.log", C.work, i);
}

static int start_prkitd(int i)
{
	char log[400], cfg[400], ns[32], name[32];
	cl_log_path(i, log, sizeof(log));
	snprintf(cfg, sizeof(cfg), "%s/n%d/prkitd.json", C.work, i);
	snprintf(ns, sizeof(ns), "%s-n%d", ns_prefix(), i);
	/* Keep the log of an earlier run of this node next to the new one. */
	if (access(log, F_OK) == 0) {
		char old[420];
		snprintf(old, sizeof(old), "%s.%d", log, ++C.runs[i]);
		rename(log, old);
	}
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* Never outlive the test program, even when it is killed
		 * (survives the exec of ip and ip's exec of prkitd). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0); /* the runner's Ctrl-C is ours to handle */
		if (!freopen(log, "w", stderr))
			_exit(126);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		/* PRKIT_PRKITD: run another build of prkitd (a fix under trial). */
		const char *bin = getenv("PRKIT_PRKITD");
		execlp("ip", "ip", "netns", "exec", ns, bin && *bin ? bin : PRKITD_PATH, "-c", cfg,
		       "--log-level", "debug", (char *)NULL);
		_exit(127);
	}
	C.prkitd[i] = pid;
	snprintf(name, sizeof(name), "n%d.prkitd", i);
	record_pid(name, pid);
	return 0;
}

int cl_start(int i)
{
	if (i < 1 || i > C.n)
		return -1;
	if (topo("corosync-start '%s' %d", C.work, i) != 0) {
		fprintf(stderr, "# cluster harness: corosync of node %d did not start\n", i);
		return -1;
	}
	return start_prkitd(i);
}

/* Waits for the prkitd of node i to exit (ms at most); its wait status,
 * or -1 when it did not. */
static int reap(int i, int ms)
{
	int st = 0;
	for (int t = 0; t <= ms; t += 10) {
		pid_t r = waitpid(C.prkitd[i], &st, WNOHANG);
		if (r == C.prkitd[i] || (r < 0 && errno == ECHILD)) {
			char name[32];
			snprintf(name, sizeof(name), "n%d.prkitd", i);
			forget_pid(name);
			C.prkitd[i] = 0;
			return r < 0 ? 0 : st;
		}
		sleep_ms(10);
	}
	return -1;
}

void cl_kill(int i)
{
	char name[32];
	snprintf(name, sizeof(name), "n%d.corosync", i);
	pid_t cs = recorded_pid(name);
	/* Both at once, as a crashing machine would: Corosync first, so that
	 * the peers do not learn of a clean CPG leave before the node is
	 * gone. */
	if (cs > 0)
		kill(cs, SIGKILL);
	if (C.prkitd[i] > 0)
		kill(C.prkitd[i], SIGKILL);
	if (C.prkitd[i] > 0)
		reap(i, 10000);
	topo("corosync-kill '%s' %d", C.work, i);
}

int cl_stop(int i)
{
	int rc = 0;
	if (C.prkitd[i] > 0) {
		kill(C.prkitd[i], SIGTERM);
		int st = reap(i, 10000);
		if (st == -1) {
			fprintf(stderr, "# node %d: prkitd did not stop on SIGTERM\n", i);
			kill(C.prkitd[i], SIGKILL);
			reap(i, 10000);
			rc = -1;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "# node %d: prkitd stopped with status 0x%x\n", i, st);
			rc = -1;
		}
	}
	if (sh("bash -c '. \"%s\" && topo_kill \"%s\" n%d.corosync TERM'", topo_sh(), C.work, i) !=
	    0)
		rc = -1;
	return rc;
}

/* Can a TCP connection to node i's portal be made? */
static int portal_open(int i)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(3260)};
	char a[32];
	snprintf(a, sizeof(a), "%s.%d.2", front_net(), i);
	inet_pton(AF_INET, a, &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

int cl_wait_serving(int i, int ms)
{
	uint64_t end = h_now_ms() + (uint64_t)ms;
	if (!cl_wait_state(i, "serving", ms))
		return 0;
	while (!portal_open(i)) {
		if (h_now_ms() > end) {
			fprintf(stderr, "# node %d serves but its portal does not accept\n", i);
			return 0;
		}
		sleep_ms(20);
	}
	return 1;
}

int cl_restart(int i)
{
	if (cl_start(i))
		return -1;
	return cl_wait_serving(i, 30000) ? 0 : -1;
}

int cl_partition(int i)
{
	return topo("partition %d", i);
}

int cl_heal(int i)
{
	return topo("heal %d", i);
}

/* The namespaces are machine-wide: waits (3 minutes at most) while
 * another topology (a colleague's test, a benchmark, the demo) holds them,
 * then builds ours. Two waiters may both see them free and race: topo.sh
 * up then fails on a namespace the other made, and `topo.sh down` of our
 * work directory would remove the other's namespaces by name. So after a
 * failed up the harness forgets the topology (topo.env) instead, and
 * waits again. 0, or -1. */
static int topo_up(int n, const char *extra)
{
	uint64_t end = h_now_ms() + 180000;
	bool said = false;
	for (;;) {
		while (sh("ip netns list | grep -q '^%s-sw\\b'", ns_prefix()) == 0) {
			if (!said)
				fprintf(stderr, "# another cluster topology runs; waiting (3 min "
				                "at most)\n");
			said = true;
			if (h_now_ms() > end) {
				fprintf(stderr, "# the namespace %s-sw is still in use\n",
				        ns_prefix());
				return -1;
			}
			sleep_ms(100 + (unsigned)(getpid() % 50));
		}
		C.topo = true;
		if (topo("up %d '%s' %s", n, C.work, extra) == 0)
			return 0;
		C.topo = false;
		char env[400];
		snprintf(env, sizeof(env), "%s/topo.env", C.work);
		unlink(env);
		fprintf(stderr, "# topo.sh up failed (another topology came up at the same "
		                "time?); waiting again\n");
		if (h_now_ms() > end)
			return -1;
		sleep_ms(1000);
	}
}

int cl_up(int n, const struct cl_opts *o)
{
	if (n < 1 || n > CL_MAX_NODES)
		return -1;
	hook();
	cl_down(); /* a previous test's leftovers, if its teardown did not run */
	memset(&C.o, 0, sizeof(C.o));
	if (o)
		C.o = *o;
	memset(C.prkitd, 0, sizeof(C.prkitd));
	memset(C.runs, 0, sizeof(C.runs));
	C.n = n;
	snprintf(C.work, sizeof(C.work), "/tmp/prkit-cl-XXXXXX");
	if (!mkdtemp(C.work)) {
		C.work[0] = 0;
		return -1;
	}
	snprintf(C.backing, sizeof(C.backing), "%s/shared.img", C.work);
	char extra[64];
	snprintf(extra, sizeof(extra), "--token %d", CL_TOKEN_MS);
	if (topo_up(n, extra))
		return -1;
	int fd = open(C.backing, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)(C.o.lu_mb ? C.o.lu_mb : 16) << 20) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	for (int i = 1; i <= n; i++) {
		char dir[400];
		snprintf(dir, sizeof(dir), "%s/n%d/state", C.work, i);
		if (mkdir(dir, 0700) < 0 || write_config(i) < 0)
			return -1;
	}
	for (int i = 1; i <= n; i++)
		if (cl_start(i))
			return -1;
	if (C.o.no_wait)
		return 0;
	for (int i = 1; i <= n; i++)
		if (!cl_wait_serving(i, 30000)) {
			cl_failed = true;
			return -1;
		}
	return 0;
}

void cl_down(void)
{
	if (!C.work[0])
		return;
	for (int i = 1; i <= CL_MAX_NODES; i++)
		if (C.prkitd[i] > 0) {
			kill(C.prkitd[i], SIGTERM);
			if (reap(i, 5000) == -1) {
				kill(C.prkitd[i], SIGKILL);
				reap(i, 5000);
			}
		}
	if (C.topo)
		topo("down '%s'", C.work);
	C.topo = false;
	/* topo.sh down signalled them (recorded in pids); collect the
	 * zombies, and kill what was not recorded any more. */
	for (size_t k = 0; k < sizeof(C.spawned) / sizeof(C.spawned[0]); k++)
		if (C.spawned[k].pid > 0) {
			if (waitpid(C.spawned[k].pid, NULL, WNOHANG) == 0) {
				kill(C.spawned[k].pid, SIGKILL);
				waitpid(C.spawned[k].pid, NULL, 0);
			}
			C.spawned[k].pid = 0;
		}
	if (cl_failed) {
		for (int i = 1; i <= C.n; i++) {
			char p[400];
			cl_log_path(i, p, sizeof(p));
			print_tail(p, 60);
			snprintf(p, sizeof(p), "%s/n%d/corosync.log", C.work, i);
			print_tail(p, 15);
		}
	}
	if (cl_failed || getenv("PRKIT_CL_KEEP"))
		fprintf(stderr, "# cluster work directory kept: %s\n", C.work);
	else if (sh("rm -rf '%s'", C.work) != 0)
		fprintf(stderr, "# could not remove %s\n", C.work);
	C.work[0] = 0;
}

const char *cl_work(void)
{
	return C.work;
}

const char *cl_backing(void)
{
	return C.backing;
}

void cl_url(int i, char *buf, size_t cap)
{
	snprintf(buf, cap, "iscsi://%s.%d.2:3260/%s/0", front_net(), i, CL_TARGET);
}

void cl_portal(int i, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s.%d.2:3260", front_net(), i);
}

/* Sends {"cmd":"cluster"} to node i's admin socket; the whole answer, or
 * NULL. */
static json_object *admin_cluster(int i)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[400];
	snprintf(path, sizeof(path), "%s/n%d/admin.sock", C.work, i);
	if (strlen(path) >= sizeof(sa.sun_path))
		return NULL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	struct timeval tv = {2, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	static const char req[] = "{\"cmd\": \"cluster\"}\n";
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		close(fd);
		return NULL;
	}
	shutdown(fd, SHUT_WR);
	static char buf[65536];
	size_t have = 0;
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (r <= 0 || (have += (size_t)r) == sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[have] = 0;
	return json_tokener_parse(buf);
}

json_object *cl_state(int i)
{
	json_object *rsp = admin_cluster(i), *c = NULL;
	if (!rsp)
		return NULL;
	if (json_object_object_get_ex(rsp, "cluster", &c))
		json_object_get(c);
	else
		c = NULL;
	json_object_put(rsp);
	return c;
}

const char *cl_state_name(int i, char *buf, size_t cap)
{
	json_object *c = cl_state(i), *s;
	snprintf(buf, cap, "%s",
	         c && json_object_object_get_ex(c, "state", &s) ? json_object_get_string(s) : "");
	json_object_put(c);
	return buf;
}

int cl_wait_state(int i, const char *state, int ms)
{
	uint64_t end = h_now_ms() + (uint64_t)ms;
	char now[64];
	for (;;) {
		if (!strcmp(cl_state_name(i, now, sizeof(now)), state))
			return 1;
		if (h_now_ms() >= end)
			break;
		sleep_ms(20);
	}
	/* The whole answer: an error, or the cluster object with its why. */
	json_object *rsp = admin_cluster(i);
	fprintf(stderr, "# node %d not \"%s\" after %d ms: %s\n", i, state, ms,
	        rsp ? json_object_to_json_string(rsp) : "(no answer)");
	json_object_put(rsp);
	return 0;
}

struct iscsi_context *cl_login(int i, const char *ini, uint32_t q)
{
	struct iscsi_context *iscsi = iscsi_create_context(ini);
	if (!iscsi)
		return NULL;
	char addr[64];
	cl_portal(i, addr, sizeof(addr));
	iscsi_set_targetname(iscsi, CL_TARGET);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_noautoreconnect(iscsi, 1);
	iscsi_set_isid_random(iscsi, 0x123456, q);
	iscsi_set_timeout(iscsi, 10);
	if (iscsi_connect_sync(iscsi, addr) != 0 || iscsi_login_sync(iscsi) != 0) {
		fprintf(stderr, "# login of %s to node %d (%s) failed: %s\n", ini, i, addr,
		        iscsi_get_error(iscsi));
		iscsi_destroy_context(iscsi);
		return NULL;
	}
	return iscsi;
}

struct iscsi_context *cl_login_clear(int i, const char *ini, uint32_t q)
{
	struct iscsi_context *iscsi = cl_login(i, ini, q);
	assert_non_null(iscsi);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	return iscsi;
}

/* PERSISTENT RESERVE IN sa, past unit attentions: a node's arrival or
 * departure changes the ALUA state of its port groups, which queues
 * 2A/06 for every nexus (as any ALUA change does); the PR checks here are
 * about the data, and each skipped condition is printed. */
static struct scsi_task *pr_in(struct iscsi_context *iscsi, int sa, uint16_t cap)
{
	for (int i = 0;; i++) {
		struct scsi_task *t = iscsi_persistent_reserve_in_sync(iscsi, 0, sa, cap);
		assert_non_null(t);
		if (i < 8 && t->status == SCSI_STATUS_CHECK_CONDITION &&
		    t->sense.key == SCSI_SENSE_UNIT_ATTENTION) {
			fprintf(stderr, "# PR IN: skipped unit attention %04x\n", t->sense.ascq);
			scsi_free_scsi_task(t);
			continue;
		}
		if (t->status != SCSI_STATUS_GOOD)
			fail_msg("PR IN 0x%x: status 0x%x sense %x/%04x", sa, t->status,
			         t->sense.key, t->sense.ascq);
		return t;
	}
}

size_t cl_read_full_status(struct iscsi_context *iscsi, uint8_t *buf, size_t cap)
{
	struct scsi_task *t = pr_in(iscsi, SCSI_PERSISTENT_RESERVE_READ_FULL_STATUS, (uint16_t)cap);
	size_t n = (size_t)t->datain.size < cap ? (size_t)t->datain.size : cap;
	memcpy(buf, t->datain.data, n);
	scsi_free_scsi_task(t);
	return n;
}

uint32_t cl_generation(struct iscsi_context *iscsi)
{
	struct scsi_task *t = pr_in(iscsi, SCSI_PERSISTENT_RESERVE_READ_KEYS, 8);
	assert_true(t->datain.size >= 4);
	const uint8_t *d = t->datain.data;
	uint32_t g = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
	scsi_free_scsi_task(t);
	return g;
}

/* ---- Corosync only, and processes in a node's namespace ---- */

int cl_corosync_start(int i)
{
	if (i < 1 || i > C.n)
		return -1;
	if (topo("corosync-start '%s' %d", C.work, i) != 0) {
		fprintf(stderr, "# cluster harness: corosync of node %d did not start\n", i);
		return -1;
	}
	return 0;
}

void cl_corosync_kill(int i)
{
	topo("corosync-kill '%s' %d", C.work, i);
}

int cl_wait_quorate(int i, bool want, int ms)
{
	uint64_t end = h_now_ms() + (uint64_t)ms;
	for (;;) {
		int q = sh("ip netns exec %s-n%d corosync-quorumtool -s 2>/dev/null | "
		           "grep -Eq '^Quorate: +Yes'",
		           ns_prefix(), i) == 0;
		if (q == want)
			return 1;
		if (h_now_ms() >= end)
			break;
		sleep_ms(50);
	}
	fprintf(stderr, "# node %d is %squorate after %d ms\n", i, want ? "not " : "still ", ms);
	return 0;
}

int cl_up_corosync(int n, const struct cl_cs_opts *o)
{
	if (n < 1 || n > CL_MAX_NODES || (o && o->two_node && n != 2))
		return -1;
	hook();
	cl_down();
	memset(&C.o, 0, sizeof(C.o));
	memset(C.prkitd, 0, sizeof(C.prkitd));
	memset(C.runs, 0, sizeof(C.runs));
	memset(C.spawned, 0, sizeof(C.spawned));
	C.n = n;
	snprintf(C.work, sizeof(C.work), "/tmp/prkit-cl-XXXXXX");
	if (!mkdtemp(C.work)) {
		C.work[0] = 0;
		return -1;
	}
	/* No shared LU of the harness's own here: the caller's target has
	 * its LUs. */
	C.backing[0] = 0;
	char extra[64];
	snprintf(extra, sizeof(extra), "--token %u%s", o && o->token_ms ? o->token_ms : CL_TOKEN_MS,
	         o && o->two_node ? " --two-node" : "");
	if (topo_up(n, extra))
		return -1;
	for (int i = 1; i <= n; i++)
		if (cl_corosync_start(i))
			return -1;
	for (int i = 1; i <= n; i++)
		if (!cl_wait_quorate(i, true, 30000)) {
			cl_failed = true;
			return -1;
		}
	return 0;
}

static int spawned_slot(const char *name, bool make)
{
	size_t cap = sizeof(C.spawned) / sizeof(C.spawned[0]);
	for (size_t k = 0; k < cap; k++)
		if (C.spawned[k].pid > 0 && !strcmp(C.spawned[k].name, name))
			return (int)k;
	if (make)
		for (size_t k = 0; k < cap; k++)
			if (C.spawned[k].pid <= 0)
				return (int)k;
	return -1;
}

pid_t cl_spawn(int i, const char *name, const char *const *argv, const char *out_path,
               const char *err_path)
{
	if (i < 1 || i > C.n || strlen(name) >= sizeof(C.spawned[0].name) ||
	    spawned_slot(name, false) >= 0)
		return -1;
	int k = spawned_slot(name, true);
	if (k < 0)
		return -1;
	size_t argc = 0;
	while (argv[argc])
		argc++;
	char ns[32];
	snprintf(ns, sizeof(ns), "%s-n%d", ns_prefix(), i);
	const char **full = calloc(argc + 5, sizeof(*full));
	if (!full)
		return -1;
	full[0] = "ip";
	full[1] = "netns";
	full[2] = "exec";
	full[3] = ns;
	for (size_t a = 0; a < argc; a++)
		full[4 + a] = argv[a];
	pid_t pid = fork();
	if (pid < 0) {
		free(full);
		return -1;
	}
	if (pid == 0) {
		/* Never outlive the test program (ip execs the command in
		 * place, so the death signal stays with it). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		int null = open("/dev/null", O_RDWR);
		int out = out_path ? open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : null;
		int err = !err_path ? null
		          : out_path && !strcmp(out_path, err_path)
		              ? out
		              : open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (null < 0 || out < 0 || err < 0)
			_exit(126);
		dup2(null, 0);
		dup2(out, 1);
		dup2(err, 2);
		execvp("ip", (char *const *)full);
		_exit(127);
	}
	free(full);
	snprintf(C.spawned[k].name, sizeof(C.spawned[k].name), "%s", name);
	C.spawned[k].pid = pid;
	record_pid(name, pid);
	return pid;
}

void cl_signal(const char *name, int sig)
{
	int k = spawned_slot(name, false);
	if (k >= 0)
		kill(C.spawned[k].pid, sig);
}

int cl_reap(const char *name, int ms, int *status)
{
	int k = spawned_slot(name, false);
	if (k < 0)
		return -1;
	for (int t = 0;; t += 10) {
		int st = 0;
		pid_t r = waitpid(C.spawned[k].pid, &st, WNOHANG);
		if (r == C.spawned[k].pid || (r < 0 && errno == ECHILD)) {
			if (status)
				*status = r < 0 ? 0 : st;
			forget_pid(name);
			C.spawned[k].pid = 0;
			return 1;
		}
		if (t >= ms)
			return 0;
		sleep_ms(10);
	}
}
