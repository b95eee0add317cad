/* What `prkit mount status` shows: per device a ring of the last events
 * (path changes, unit attentions, fencing, stalls, key changes) and the
 * status document, JSON, that the mount serves as .prkit-status.
 *
 * The document is built from a plain snapshot (struct prk_mnt_status) that
 * mnt_daemon.c fills from the devices, so that building and printing it
 * need no device (tests/unit/mount/test_mnt_status.c). */
#ifndef PRKIT_MOUNT_MNT_STATUS_H
#define PRKIT_MOUNT_MNT_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prkit/host.h"

#define PRK_MNT_EVENTS 32
#define PRK_MNT_WHY_MAX 160

struct prk_mnt_event {
	uint64_t ms; /* wall clock, milliseconds since the epoch */
	enum prk_event_kind kind;
	int path, old_path;
	enum prk_path_state old_state, new_state;
	uint8_t sense_key;
	uint16_t asc;
	char why[PRK_MNT_WHY_MAX];
};

/* The last PRK_MNT_EVENTS events of one device, oldest dropped first. */
struct prk_mnt_events {
	struct prk_mnt_event ring[PRK_MNT_EVENTS];
	uint64_t total; /* events ever added */
};

void prk_mnt_events_add(struct prk_mnt_events *r, uint64_t ms, const struct prk_event *e);
/* How many are kept, and the i-th oldest of them. */
size_t prk_mnt_events_count(const struct prk_mnt_events *r);
const struct prk_mnt_event *prk_mnt_events_get(const struct prk_mnt_events *r, size_t i);
/* The event as one line of text, without the device's name ("path 1:
 * up -> down (connection reset)"). */
void prk_mnt_event_text(const struct prk_mnt_event *e, char *buf, size_t cap);

/* The mount's own I/O counters of one device (FUSE requests answered). */
struct prk_mnt_iostat {
	uint64_t reads, writes, bytes_read, bytes_written, flushes, unmaps;
	uint64_t errors;  /* requests answered with an errno */
	int last_errno;   /* of the last of them, 0 when none */
	uint64_t opens;   /* open(2)s that ran the open mode */
	uint64_t refused; /* open(2)s refused */
};

struct prk_mnt_status_dev {
	const char *name;
	const char *naa; /* "" when unknown */
	uint64_t size;   /* bytes */
	uint32_t block_size;
	uint64_t key;
	enum prk_open_mode mode; /* configured: the plain name's */
	unsigned handles;
	bool open;
	enum prk_open_mode open_mode; /* when open */
	bool fenced, stalled, thin;
	const struct prk_path_info *paths;
	size_t n_paths;
	const struct prk_mnt_events *events;
	const struct prk_mnt_iostat *io;
};

struct prk_mnt_status {
	const char *mountpoint;
	long pid;
	const char *initiator;
	const char *ctl_path; /* "" or NULL: none */
	const struct prk_mnt_status_dev *devs;
	size_t n_devs;
};

/* The JSON document (pretty, ends in a newline), malloc'd; NULL when out
 * of memory. */
char *prk_mnt_status_json(const struct prk_mnt_status *s);
/* prkit mount status without --json: the document as text. 0, or -1
 * when text is not a status document (message in err). */
int prk_mnt_status_print(const char *text, FILE *out, char *err, size_t errlen);

#endif
