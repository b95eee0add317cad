/* Stable ISIDs. A path's I_T nexus is (initiator name, ISID, target
 * port); registrations belong to it. So the ISID of a path is chosen once
 * per (initiator, target, portal, LUN[, role]), written to
 * <state_dir>/host-isids, and
 * reused by every later run: a restarted host logs in as the same nexus
 * and finds its registration, instead of leaving it stale on an old ISID
 * (fence-agents #517, libiscsi #329).
 *
 * While a process uses an ISID it holds an flock on
 * <state_dir>/isid-<ISID>.lock: two processes logging in with one ISID
 * would reinstate (kill) each other's session. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include "isid_store.h"
#include "path.h"
#include "replace_file.h"

uint64_t prk_isid_of_random(uint32_t rnd, uint32_t qual)
{
	/* ISID type 10b (random): byte 0 = 80h, bytes 1..3 the random
	 * number, bytes 4..5 the qualifier. */
	return (0x80ULL << 40) | ((uint64_t)(rnd & 0xffffff) << 16) | (qual & 0xffff);
}

static uint32_t random24(void)
{
	uint32_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint32_t)rand() ^ (uint32_t)getpid();
	v &= 0xffffff;
	return v ? v : 1;
}

/* The ISID table is a few dozen short lines; anything this big is not
 * ours, and reading it whole must stay bounded. */
#define ISID_DB_MAX (1u << 20)

/* Reads the whole ISID table into *text (NULL, 0 when it does not exist
 * yet); 0, or -1 with err set. */
static int read_db(const char *db, char **text, size_t *len, struct prk_host_err *err, int idx)
{
	*text = NULL;
	*len = 0;
	int fd = open(db, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		prk_herr(err, PRK_HE_STATE, idx, "%s: %s", db, strerror(errno));
		return -1;
	}
	char *buf = malloc(ISID_DB_MAX + 1);
	size_t have = 0;
	if (!buf) {
		close(fd);
		prk_herr(err, PRK_HE_STATE, idx, "%s: out of memory", db);
		return -1;
	}
	for (;;) {
		ssize_t r = read(fd, buf + have, ISID_DB_MAX + 1 - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			prk_herr(err, PRK_HE_STATE, idx, "%s: read: %s", db, strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		have += (size_t)r;
		if (have > ISID_DB_MAX) {
			prk_herr(err, PRK_HE_STATE, idx, "%s: larger than %u bytes", db,
			         ISID_DB_MAX);
			free(buf);
			close(fd);
			return -1;
		}
	}
	close(fd);
	*text = buf;
	*len = have;
	return 0;
}

/* Takes the per-ISID lock; 1 taken, 0 busy, -1 error. */
static int lock_isid(struct prk_host *h, uint64_t isid, int *fd_out)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/isid-%012llx.lock", h->state_dir,
	         (unsigned long long)isid);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return errno == EWOULDBLOCK ? 0 : -1;
	}
	*fd_out = fd;
	return 1;
}

int prk_isid_acquire(struct prk_host *h, struct hpath *p, bool ephemeral_ok,
                     struct prk_host_err *err)
{
	char db[600], lk[600];
	snprintf(db, sizeof(db), "%s/host-isids", h->state_dir);
	snprintf(lk, sizeof(lk), "%s/host-isids.lock", h->state_dir);
	int lfd = open(lk, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0 || flock(lfd, LOCK_EX)) {
		prk_herr(err, PRK_HE_STATE, p->idx, "%s: %s", lk, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	const char *ini = p->initiator;
	/* A role names another set of nexuses. */
	char portal[300];
	const char *role = p->o->isid_role;
	/* One session per LU: two contexts of one process with the same ISID
	 * to the same portal group would reinstate each other, so the LUN is
	 * part of the name: "[<role>/]<portal>/<lun>". */
	if (role && *role)
		snprintf(portal, sizeof(portal), "%s/%s/%d", role, p->portal, p->lun);
	else
		snprintf(portal, sizeof(portal), "%s/%d", p->portal, p->lun);
	uint32_t rnd = 0, qual = 0;
	bool found = false;
	char *text = NULL;
	size_t len = 0;
	if (read_db(db, &text, &len, err, p->idx)) {
		close(lfd);
		return -1;
	}
	/* fmemopen refuses an empty buffer on older C libraries; an empty file
	 * has no lines anyway. */
	FILE *f = len ? fmemopen(text, len, "r") : NULL;
	if (f) {
		char line[1024];
		while (fgets(line, sizeof(line), f)) {
			char a[256], b[256], c[256];
			unsigned r, q;
			if (sscanf(line, "%255s %255s %255s %x %x", a, b, c, &r, &q) != 5)
				continue;
			if (strcasecmp(a, ini) == 0 && strcasecmp(b, p->target) == 0 &&
			    strcmp(c, portal) == 0) {
				rnd = r;
				qual = q;
				found = true;
			}
		}
		fclose(f);
	} else if (len) {
		prk_herr(err, PRK_HE_STATE, p->idx, "%s: %s", db, strerror(errno));
		free(text);
		close(lfd);
		return -1;
	}
	if (!found) {
		rnd = random24();
		qual = (uint32_t)p->idx;
		/* The whole file is rewritten with the new line at its end, so that
		 * a crash leaves the old file or the new one, never a torn line.
		 * The flock on host-isids.lock keeps other processes out. */
		int n =
		    snprintf(NULL, 0, "%s %s %s %06x %04x\n", ini, p->target, portal, rnd, qual);
		char *all = n < 0 ? NULL : malloc(len + (size_t)n + 1);
		char msg[700];
		if (!all) {
			prk_herr(err, PRK_HE_STATE, p->idx, "%s: out of memory", db);
			free(text);
			close(lfd);
			return -1;
		}
		if (len)
			memcpy(all, text, len);
		snprintf(all + len, (size_t)n + 1, "%s %s %s %06x %04x\n", ini, p->target, portal,
		         rnd, qual);
		int rc = prk_replace_file(db, all, len + (size_t)n, PRK_REPLACE_TMP_PID, msg,
		                          sizeof(msg));
		free(all);
		if (rc) {
			prk_herr(err, PRK_HE_STATE, p->idx, "%s", msg);
			free(text);
			close(lfd);
			return -1;
		}
	}
	free(text);
	close(lfd);

	uint64_t isid = prk_isid_of_random(rnd, qual);
	int fd = -1;
	int r = lock_isid(h, isid, &fd);
	if (r < 0) {
		prk_herr(err, PRK_HE_STATE, p->idx, "%s: ISID lock: %s", h->state_dir,
		         strerror(errno));
		return -1;
	}
	if (r == 0) {
		if (!ephemeral_ok) {
			prk_herr(err, PRK_HE_STATE, p->idx,
			         "path %s: its I_T nexus (ISID 0x%012llx) is in use by another "
			         "process on this host",
			         p->portal, (unsigned long long)isid);
			return -1;
		}
		/* A read-only tool: a fresh ISID that is never registered. */
		for (int i = 0; i < 16 && r != 1; i++) {
			rnd = random24();
			isid = prk_isid_of_random(rnd, 0xfff0 + (uint32_t)i);
			r = lock_isid(h, isid, &fd);
		}
		if (r != 1) {
			prk_herr(err, PRK_HE_STATE, p->idx, "no free ISID");
			return -1;
		}
		qual = (uint32_t)(isid & 0xffff);
		p->isid_ephemeral = true;
	}
	p->isid_rnd = rnd;
	p->isid_qual = qual;
	p->isid = isid;
	p->isid_lock_fd = fd;
	return 0;
}

void prk_isid_release(struct hpath *p)
{
	if (p->isid_lock_fd >= 0) {
		close(p->isid_lock_fd);
		p->isid_lock_fd = -1;
	}
	if (p->isid_ephemeral) {
		char path[600];
		snprintf(path, sizeof(path), "%s/isid-%012llx.lock", p->h->state_dir,
		         (unsigned long long)p->isid);
		unlink(path);
	}
}
