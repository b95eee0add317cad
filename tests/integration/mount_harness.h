/* What the `prkit mount` integration tests (test_mount.c) share: a
 * `prkit mount` started as its own process (a FUSE file system the test
 * program then uses with plain system calls, as any program would), its
 * status file, its teardown, and the target's persistent-reservation state
 * as a third party reads it through libiscsi.
 *
 * A stale FUSE mount hangs every later look at its parent directory, so
 * every mount started here is remembered: mh_stop_all (the tests'
 * teardown, and an atexit handler) stops each one by its PID and falls
 * back to a lazy unmount. The child also gets SIGTERM when the test
 * program dies (PR_SET_PDEATHSIG), which makes it unmount by itself. */
#ifndef PRKIT_MOUNT_HARNESS_H
#define PRKIT_MOUNT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "harness.h"

/* Mountpoints live under /tmp/m-tests-XXXXXX (mh_tmp_root). */
#define MH_ROOT_TEMPLATE "/tmp/m-tests-XXXXXX"

/* How one `prkit mount` is started. */
struct mh_spec {
	const char *config;      /* -c FILE; NULL: none */
	const char *name;        /* -n; NULL: none (the default name "lu") */
	const char *initiator;   /* --initiator; NULL: none given */
	const char *state_dir;   /* --state-dir; NULL: none given */
	uint64_t key;            /* -k; 0: none given */
	const char *mode;        /* -m; NULL: none (the default mode) */
	const char *ctl;         /* --ctl PATH; NULL: none given */
	bool no_ctl;             /* --no-ctl */
	const char *const *urls; /* the device's paths */
	size_t n_urls;
	const char *const *extra; /* more options, NULL-terminated; may be NULL */
	/* The file whose appearance says the mount is up; NULL: the name's
	 * (with a configuration file: name the first device). */
	const char *wait_for;
};

struct mh_mount {
	pid_t pid; /* 0: not running (stopped, or never started) */
	char dir[256];
	char name[64];
	char log[320]; /* the process's stdout and stderr */
	int status;    /* exit status once it has ended; -1 killed */
};

/* The directory mountpoints go under (made once, removed by mh_stop_all
 * when it is empty). */
const char *mh_tmp_root(void);

/* Makes the mountpoint <root>/<sub> and starts `prkit mount` there; waits
 * (at most 15 s) until the file system is mounted and the device's file
 * is there. 0, or -1 with the process's output shown as TAP comments (the
 * process is then stopped). */
int mh_start(struct mh_mount *m, const char *sub, const struct mh_spec *s);
/* <dir>/<name> (mode NULL) or <dir>/<name>.<mode>. */
void mh_file(const struct mh_mount *m, const char *mode, char *buf, size_t cap);
/* open(2) of that name (O_CLOEXEC added): the descriptor, or -errno. */
int mh_open(const struct mh_mount *m, const char *mode, int flags);

/* Is dir a mount point now (/proc/self/mountinfo)? */
bool mh_is_mounted(const char *dir);
/* Waits at most timeout_ms for the process to end by itself (no signal
 * sent). true, with m->status set, when it ended. */
bool mh_wait_exit(struct mh_mount *m, int timeout_ms);
/* SIGTERM, then waits (10 s); if it is still there, SIGKILL. Then, if the
 * directory is still a mount point, a lazy unmount (umount2 MNT_DETACH).
 * Returns the exit status (-1: killed by a signal or never started). */
int mh_stop(struct mh_mount *m);
/* mh_stop of every mount started since the last call (teardown), and
 * their logs removed. Returns how many of them reported a sanitizer
 * finding (their logs are shown): the ASan build of prkit fails the test
 * that way. */
int mh_stop_all(void);
/* The process's output as TAP comments. */
void mh_show_log(const struct mh_mount *m);
/* Does its output contain s? */
bool mh_log_contains(const struct mh_mount *m, const char *s);

/* The mount's status file (.prkit-status) parsed, or NULL. */
json_object *mh_status(const struct mh_mount *m);
/* The first device's member key from the status file as an integer (or
 * as a boolean: 0/1); -1 when it cannot be read or is null. */
long long mh_status_int(const struct mh_mount *m, const char *key);
/* Waits (at most timeout_ms) until the first device has `want` open
 * handles: FUSE sends RELEASE after close(2) has returned. */
bool mh_wait_handles(const struct mh_mount *m, int want, int timeout_ms);

/* ---- the target's persistent-reservation state, as a third party sees
 * it (a throw-away nexus reads READ KEYS and READ RESERVATION) ---- */
struct mh_pr {
	uint32_t generation;
	int n_keys; /* distinct keys */
	uint64_t keys[32];
	int n_regs; /* registrations (one per registered nexus) */
	bool reserved;
	uint64_t holder;
	uint8_t type;
};
/* 0, or -1 when the state could not be read. */
int mh_pr_read(struct h_daemon *d, int lun, struct mh_pr *pr);
/* The distinct registered keys are exactly keys[0..n), and the
 * reservation is held by holder (0: no reservation). */
bool mh_pr_is(const struct mh_pr *pr, uint64_t holder, const uint64_t *keys, int n);
/* Polls mh_pr_is for at most timeout_ms; the last state read in *last. */
bool mh_pr_wait(struct h_daemon *d, int lun, uint64_t holder, const uint64_t *keys, int n,
                int timeout_ms, struct mh_pr *last);
/* "keys {0x..,0x..} holder 0x.. type 6" for messages. */
void mh_pr_format(const struct mh_pr *pr, char *buf, size_t cap);

/* READ(16) of n 512-byte blocks at lba of lun through a throw-away nexus
 * of a third party: 0 (data in buf), or -1. */
int mh_read_blocks(struct h_daemon *d, int lun, uint64_t lba, uint32_t n, uint8_t *buf);

/* Sleeps ms milliseconds. */
void mh_sleep_ms(int ms);

#endif
