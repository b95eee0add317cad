/* What the `prkit mount` test programs (test_mount.c: one host,
 * test_mount_hosts.c: two hosts, fencing, the control socket) share, over
 * mount_harness.h: the fixture (a prkitd with two portals, a thin 16 MiB
 * RAM LU 0 and a thick 4 MiB RAM LU 1, hosts A and B each with its own
 * initiator name, state directory and key), helpers that assert (cmocka),
 * an O_DIRECT writer in a child process whose every write is known, and
 * `prkit fence` run as nodes n1 and n2. Include after <cmocka.h>. */
#ifndef PRKIT_MOUNT_UTIL_H
#define PRKIT_MOUNT_UTIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness.h"
#include "mount_harness.h"

#define INI_A "iqn.2026-11.io.prkit.test:mount-a"
#define INI_B "iqn.2026-11.io.prkit.test:mount-b"
#define KEY_A 0xa1a1a1a1ULL
#define KEY_B 0xb2b2b2b2ULL
#define LU_SIZE (16u << 20) /* LUN 0: thin RAM */
#define LU1_SIZE (4u << 20) /* LUN 1: thick RAM */
#define MIB (1u << 20)
#define WAIT_MS 5000 /* bound on what FUSE does after close(2) returns */
/* `prkit fence` node-mode keys (cluster "prkit"), incarnation 1. */
#define N1_KEY 0x84d4000100000001ULL
#define N2_KEY 0x84d4000200000001ULL

struct prk_ctl_client;

extern struct h_daemon mu_daemon;
extern char mu_urls[2][2][256]; /* [lun][portal] */
extern const char *mu_url_ptrs[2][2];
extern char mu_state_a[400], mu_state_b[400];
extern struct mh_mount mu_ma, mu_mb; /* host A's and host B's mounts */
extern char mu_msg[512];
/* A test's control-socket client: teardown closes it if the test failed
 * before it could. */
extern struct prk_ctl_client *mu_ctl;

/* cmocka setup/teardown: a fresh prkitd; teardown stops every mount
 * (mh_stop_all) and fails when one of them printed a sanitizer report. */
int mu_setup(void **state);
int mu_teardown(void **state);
/* The program can run here (root, /dev/fuse); else why. */
bool mu_can_fuse(char *why, size_t cap);

/* Host 'a' or 'b' mounts both paths of LU lun at <root>/<sub> (mode
 * NULL: the default), asserting that it starts. */
void mu_start_host(struct mh_mount *m, char host, const char *sub, int lun, const char *mode,
                   const char *const *extra);

/* The PR state of LU lun becomes (within WAIT_MS) exactly: keys[0..n)
 * registered, held by holder (0: not reserved). */
void mu_pr_expect(int lun, uint64_t holder, const uint64_t *keys, int n, const char *when);
#define PR_EXPECT(lun, holder, when, ...)                                                          \
	do {                                                                                       \
		const uint64_t ks_[] = {__VA_ARGS__};                                              \
		mu_pr_expect(lun, holder, ks_, (int)(sizeof(ks_) / sizeof(ks_[0])), when);         \
	} while (0)
#define PR_EXPECT_NOKEYS(lun, when) mu_pr_expect(lun, 0, NULL, 0, when)
/* The PR state is that, and still is ms later (retain, refused opens). */
void mu_pr_stays(int lun, uint64_t holder, const uint64_t *keys, int n, int ms, const char *when);

/* A pattern that differs per seed. */
void mu_fill(uint8_t *buf, size_t len, uint32_t seed);
/* mh_open, asserting success. */
int mu_open_ok(const struct mh_mount *m, const char *mode, int flags);
/* close(2), then the mount's RELEASE: the device has `left` handles. */
void mu_close_wait(const struct mh_mount *m, int fd, int left);
/* The status file lists an event of this kind (prk_event_name) for the
 * first device. */
bool mu_has_event(const struct mh_mount *m, const char *kind);
/* mh_stop, which must end with exit status 0 (the log shown if not). */
void mu_stop_clean(struct mh_mount *m);
/* Runs a shell command line; its exit status. */
int mu_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- a writer child: 4 KiB O_DIRECT writes, one at a time, to blocks
 * WR_BASE + i * 4096 (i < WR_BLOCKS) round robin, each stamped with its
 * sequence number ---- */
#define WR_BLOCKS 64
#define WR_BASE (2 * MIB)
/* Shared with the child (MAP_SHARED, mu_wr_map). */
struct mu_wr {
	atomic_int stop;
	atomic_int phase;         /* set by the parent: the event happened */
	atomic_long ok, ok_after; /* writes done; of them, issued after phase */
	atomic_long ebade, ebade_after, other;
	atomic_int other_errno;
	atomic_ullong post_seq;         /* first seq issued after phase was seen */
	atomic_ullong acked[WR_BLOCKS]; /* last seq acknowledged per block */
};
struct mu_wr *mu_wr_map(void);
void mu_wr_unmap(struct mu_wr *s);
pid_t mu_writer_start(struct mu_wr *s, const char *path);
/* Tells it to stop and waits (15 s at most), asserting a clean exit. */
void mu_writer_stop(struct mu_wr *s, pid_t pid);
/* The sequence number a block holds, 0 when never written, UINT64_MAX
 * when it is not one whole stamp of block idx. */
uint64_t mu_stamp_of(const uint8_t *p, uint64_t idx);

/* `prkit fence` as node ("n1", "n2"; state directory <dir>/<node>) over
 * both paths of LU 0, host map n1:1,n2:2; its exit status (output shown
 * as TAP comments when not 0). */
int mu_fence(const char *node, const char *action, const char *victim);

#endif
