/* See mount_util.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mount_util.h"
#include "prkit/host_ctl.h"

struct h_daemon mu_daemon;
char mu_urls[2][2][256]; /* [lun][portal] */
const char *mu_url_ptrs[2][2];
char mu_state_a[400], mu_state_b[400];
struct mh_mount mu_ma, mu_mb;
char mu_msg[512];
struct prk_ctl_client *mu_ctl;

int mu_setup(void **state)
{
	(void)state;
	const char *cfg =
	    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}, {\"address\": "
	    "\"127.0.0.1\", \"port\": 0}], \"admin_socket\": \"@DIR@/admin.sock\", "
	    "\"nop_interval_ms\": 60000, \"targets\": [{\"name\": \"" H_TARGET "\", \"luns\": "
	    "[{\"backstore\": {\"type\": \"ram\", \"size\": \"16M\"}, \"thin\": true}, "
	    "{\"backstore\": {\"type\": \"ram\", \"size\": \"4M\"}}]}]}";
	if (h_start(&mu_daemon, cfg))
		return -1;
	for (int l = 0; l < 2; l++)
		for (int p = 0; p < 2; p++) {
			snprintf(mu_urls[l][p], sizeof(mu_urls[l][p]), "iscsi://127.0.0.1:%u/%s/%d",
			         mu_daemon.ports[p], H_TARGET, l);
			mu_url_ptrs[l][p] = mu_urls[l][p];
		}
	snprintf(mu_state_a, sizeof(mu_state_a), "%s/host-a", mu_daemon.dir);
	snprintf(mu_state_b, sizeof(mu_state_b), "%s/host-b", mu_daemon.dir);
	memset(&mu_ma, 0, sizeof(mu_ma));
	memset(&mu_mb, 0, sizeof(mu_mb));
	return 0;
}

int mu_teardown(void **state)
{
	(void)state;
	if (mu_ctl)
		prk_ctl_close(mu_ctl);
	mu_ctl = NULL;
	int bad = mh_stop_all();
	return h_stop(&mu_daemon) == 0 && bad == 0 ? 0 : -1;
}

/* Host A (or B): its own initiator name, state directory and key, both
 * paths of LU lun, mounted at <root>/<sub>. */
void mu_start_host(struct mh_mount *m, char host, const char *sub, int lun, const char *mode,
                   const char *const *extra)
{
	struct mh_spec s = {
	    .initiator = host == 'a' ? INI_A : INI_B,
	    .state_dir = host == 'a' ? mu_state_a : mu_state_b,
	    .key = host == 'a' ? KEY_A : KEY_B,
	    .mode = mode,
	    .urls = mu_url_ptrs[lun],
	    .n_urls = 2,
	    .extra = extra,
	};
	if (mh_start(m, sub, &s))
		fail_msg("prkit mount %s did not start", sub);
}

/* The PR state of LU lun becomes (within WAIT_MS) exactly: keys[0..n)
 * registered, held by holder (0: not reserved). */
void mu_pr_expect(int lun, uint64_t holder, const uint64_t *keys, int n, const char *when)
{
	struct mh_pr pr;
	if (!mh_pr_wait(&mu_daemon, lun, holder, keys, n, WAIT_MS, &pr)) {
		mh_pr_format(&pr, mu_msg, sizeof(mu_msg));
		fail_msg("%s: PR state is %s; want %d key(s), holder 0x%llx", when, mu_msg, n,
		         (unsigned long long)holder);
	}
}

/* The PR state stays as it is for ms (retain, refused opens): read it now
 * and again later. */
void mu_pr_stays(int lun, uint64_t holder, const uint64_t *keys, int n, int ms, const char *when)
{
	mu_pr_expect(lun, holder, keys, n, when);
	mh_sleep_ms(ms);
	struct mh_pr pr;
	assert_int_equal(mh_pr_read(&mu_daemon, lun, &pr), 0);
	if (!mh_pr_is(&pr, holder, keys, n)) {
		mh_pr_format(&pr, mu_msg, sizeof(mu_msg));
		fail_msg("%s: %d ms later the PR state changed to %s", when, ms, mu_msg);
	}
}

void mu_fill(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 131u + seed * 7u + (i >> 9)) ^ (seed >> 3));
}

/* Opens m's name for mode, asserting success. */
int mu_open_ok(const struct mh_mount *m, const char *mode, int flags)
{
	int fd = mh_open(m, mode, flags);
	if (fd < 0)
		fail_msg("open %s/%s.%s: %s", m->dir, m->name, mode ? mode : "", strerror(-fd));
	return fd;
}

/* close(2), then the mount's RELEASE: the device has `left` handles. */
void mu_close_wait(const struct mh_mount *m, int fd, int left)
{
	assert_int_equal(close(fd), 0);
	assert_true(mh_wait_handles(m, left, WAIT_MS));
}

/* The status file lists an event of this kind (prk_event_name) for the
 * first device. */
bool mu_has_event(const struct mh_mount *m, const char *kind)
{
	json_object *o = mh_status(m), *devs = NULL, *evs = NULL, *k = NULL;
	bool found = false;
	if (o && json_object_object_get_ex(o, "devices", &devs) &&
	    json_object_object_get_ex(json_object_array_get_idx(devs, 0), "events", &evs)) {
		for (size_t i = 0; !found && i < json_object_array_length(evs); i++)
			found = json_object_object_get_ex(json_object_array_get_idx(evs, i), "kind",
			                                  &k) &&
			        !strcmp(json_object_get_string(k), kind);
	}
	json_object_put(o);
	return found;
}

/* mh_stop, which must end with exit status 0 (the log shown if not). */
void mu_stop_clean(struct mh_mount *m)
{
	int st = mh_stop(m);
	if (st != 0) {
		mh_show_log(m);
		fail_msg("prkit mount %s ended with status %d", m->dir, st);
	}
}

/* Runs a shell command line, returning its exit status. */
int mu_sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A block of the writer: every 8-byte word is the sequence number, but
 * the second, which is the block's index. */
static void stamp(uint64_t *b, uint64_t seq, uint64_t idx)
{
	for (int i = 0; i < 512; i++)
		b[i] = seq;
	b[1] = idx;
}

/* The sequence number a block holds, or UINT64_MAX when it is torn. */
uint64_t mu_stamp_of(const uint8_t *p, uint64_t idx)
{
	uint64_t b[512];
	memcpy(b, p, sizeof(b));
	if (b[0] == 0 && b[1] == 0)
		return 0; /* never written */
	if (b[1] != idx)
		return UINT64_MAX;
	for (int i = 2; i < 512; i++)
		if (b[i] != b[0])
			return UINT64_MAX;
	return b[0];
}

/* A child that writes 4 KiB blocks with O_DIRECT, one at a time (so the
 * state of every block is known), until told to stop. */
pid_t mu_writer_start(struct mu_wr *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int fd = open(path, O_RDWR | O_DIRECT);
	if (fd < 0)
		_exit(100);
	uint64_t *buf = NULL;
	if (posix_memalign((void **)&buf, 4096, 4096))
		_exit(101);
	for (uint64_t seq = 1; !atomic_load(&s->stop); seq++) {
		uint64_t idx = seq % WR_BLOCKS;
		bool after = atomic_load(&s->phase);
		if (after && !atomic_load(&s->post_seq))
			atomic_store(&s->post_seq, seq);
		stamp(buf, seq, idx);
		ssize_t n = pwrite(fd, buf, 4096, WR_BASE + (off_t)idx * 4096);
		if (n == 4096) {
			atomic_store(&s->acked[idx], seq);
			atomic_fetch_add(&s->ok, 1);
			if (after)
				atomic_fetch_add(&s->ok_after, 1);
		} else if (n < 0 && errno == EBADE) {
			atomic_fetch_add(&s->ebade, 1);
			if (after)
				atomic_fetch_add(&s->ebade_after, 1);
			usleep(2000);
		} else {
			atomic_fetch_add(&s->other, 1);
			atomic_store(&s->other_errno, n < 0 ? errno : 0);
			usleep(2000);
		}
	}
	close(fd);
	_exit(0);
}

void mu_writer_stop(struct mu_wr *s, pid_t pid)
{
	atomic_store(&s->stop, 1);
	int st = 0;
	uint64_t end = h_now_ms() + 15000;
	pid_t r;
	while ((r = waitpid(pid, &st, WNOHANG)) == 0 && h_now_ms() < end)
		mh_sleep_ms(10);
	if (r != pid) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		fail_msg("the writer did not stop within 15 s (a write hung)");
	}
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

struct mu_wr *mu_wr_map(void)
{
	struct mu_wr *s =
	    mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(s != MAP_FAILED);
	return s;
}

void mu_wr_unmap(struct mu_wr *s)
{
	munmap(s, sizeof(*s));
}

int mu_fence(const char *node, const char *action, const char *victim)
{
	static char out[65536], err[16384];
	char ini[128], st[400], devs[600];
	snprintf(ini, sizeof(ini), "iqn.2026-11.io.prkit.test:%s", node);
	snprintf(st, sizeof(st), "%s/%s", mu_daemon.dir, node);
	snprintf(devs, sizeof(devs), "%s,%s", mu_urls[0][0], mu_urls[0][1]);
	const char *a[] = {"fence",     "--local-node",       node,   "--initiator",
	                   ini,         "--state-dir",        st,     "--host-map",
	                   "n1:1,n2:2", "--devices",          devs,   "-o",
	                   action,      victim ? "-n" : NULL, victim, NULL};
	int rc = h_prkit(&mu_daemon, out, sizeof(out), err, sizeof(err), a);
	if (rc)
		print_message("# fence %s -o %s: rc %d\n# %s\n# %s\n", node, action, rc, out, err);
	return rc;
}

bool mu_can_fuse(char *why, size_t cap)
{
	if (geteuid() != 0) {
		snprintf(why, cap, "not root (FUSE mounts and prkitd's portals need it)");
		return false;
	}
	if (access("/dev/fuse", R_OK | W_OK)) {
		snprintf(why, cap, "/dev/fuse: %s", strerror(errno));
		return false;
	}
	return true;
}
