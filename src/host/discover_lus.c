/* LU discovery (prk_host_discover_lus): every LU behind one portal, for a
 * daemon configured with a portal instead of a list of devices.
 *
 * Steps, each named in the error: a SendTargets discovery session to the
 * portal lists the targets and their portals; each target is logged in to
 * through the first of its portals that lets us in; REPORT LUNS lists its
 * LUNs; INQUIRY VPD 83h gives each LUN's NAA, the identity the host library
 * groups paths by (prk_mpdev_naa). Every portal a target is listed with
 * becomes a path URL of each of its LUs, so an LU exported through two
 * portals (or two targets) is one entry with every path. Whether a listed
 * path really leads to that LU is checked where it matters: when a device
 * brings the path up (mpdev_up.c refuses a path to another NAA).
 *
 * A target that cannot be logged in to, or whose LUNs cannot be read, is an
 * error, not a gap: a caller that fences the LUs it found must not believe
 * it has them all when it does not. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "host_base.h"
#include "prkit/host.h"
#include "prkit/iscsi_url.h"
#include "prkit/scsi_vpd.h"

/* Bounds on what a target may make us hold (it answers, we allocate). */
#define SCAN_MAX_LUS 4096               /* distinct NAAs gathered before sorting */
#define REPORT_LUNS_MAX (8 + 8 * 16384) /* every single-level LUN */
#define UA_RETRIES 8

struct scan {
	const char *initiator;
	int timeout_s;
	const char *where; /* the discovery portal, for every message */
	struct iscsi_url *u;
	char cred[600]; /* "user%secret@" or "" */
	struct prk_host_lu *all;
	size_t n, cap;
	struct prk_host_err *err;
};

/* ---- the portal URL ---- */

/* libiscsi's portal parser ignores a path and accepts an empty host or a
 * port out of range; a typo there must not silently discover another
 * portal, so the host[:port] part is checked with the URL parser every
 * prkit program uses (with a placeholder target, which it requires). */
static int check_portal_url(const char *url, struct prk_host_err *err)
{
	if (strncmp(url, "iscsi://", 8) != 0) {
		prk_herr(err, PRK_HE_USAGE, -1,
		         "LU discovery: bad URL '%s': want iscsi://[user%%secret@]host[:port]",
		         url);
		return -1;
	}
	const char *p = url + 8;
	const char *slash = strchr(p, '/');
	const char *at = strchr(p, '@');
	if (at && (!slash || at < slash))
		p = at + 1;
	slash = strchr(p, '/');
	if (slash && slash[1]) {
		prk_herr(err, PRK_HE_USAGE, -1,
		         "LU discovery: URL '%s' names a target or LUN (%s): want the portal "
		         "only, iscsi://[user%%secret@]host[:port]",
		         url, slash);
		return -1;
	}
	size_t len = slash ? (size_t)(slash - p) : strlen(p);
	char probe[PRK_ISCSI_URL_HOST_MAX + 64], msg[200];
	if (len > PRK_ISCSI_URL_HOST_MAX + 6) {
		prk_herr(err, PRK_HE_USAGE, -1, "LU discovery: URL '%.60s...': host too long", url);
		return -1;
	}
	snprintf(probe, sizeof(probe), "iscsi://%.*s/iqn.2026-11.io.prkit:probe/0", (int)len, p);
	struct prk_iscsi_url pu;
	if (prk_iscsi_url_parse(probe, &pu, msg, sizeof(msg)) != PRK_URL_OK) {
		prk_herr(err, PRK_HE_USAGE, -1, "LU discovery: bad URL '%s': %s", url, msg);
		return -1;
	}
	return 0;
}

/* ---- sessions ---- */

struct connect_wait {
	bool done;
	int status;
};

static void connect_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	(void)ctx;
	(void)data;
	struct connect_wait *w = priv;
	w->done = true;
	w->status = status;
}

/* TCP connect within timeout_s. libiscsi bounds the login and commands by
 * iscsi_set_timeout, but not iscsi_connect_sync: to a portal that drops
 * SYNs (a dead host, a full listen queue) it waits for the kernel to give
 * up, 2 minutes and more (measured 134.7 s). w outlives the attempt: the
 * caller destroys the context, which may still call back. */
static int connect_bounded(struct iscsi_context *ctx, const char *portal, int timeout_s,
                           struct connect_wait *w, char *why, size_t whylen)
{
	why[0] = '\0';
	if (iscsi_connect_async(ctx, portal, connect_cb, w))
		return -1;
	uint64_t end = prk_host_now_ms() + (uint64_t)timeout_s * 1000;
	while (!w->done) {
		uint64_t now = prk_host_now_ms();
		if (now >= end) {
			snprintf(why, whylen, "TCP connect to %s: no answer in %d s", portal,
			         timeout_s);
			return -1;
		}
		struct pollfd pfd = {.fd = iscsi_get_fd(ctx),
		                     .events = (short)iscsi_which_events(ctx)};
		int left = (int)(end - now);
		int r = poll(&pfd, 1, left < 100 ? left : 100);
		if (r < 0 && errno != EINTR) {
			snprintf(why, whylen, "TCP connect to %s: poll: %s", portal,
			         strerror(errno));
			return -1;
		}
		if (iscsi_service(ctx, r > 0 ? pfd.revents : 0) < 0)
			return -1;
	}
	return w->status ? -1 : 0;
}

static struct iscsi_context *session(struct scan *s, const char *portal, const char *target,
                                     char *why, size_t whylen)
{
	struct iscsi_context *ctx = iscsi_create_context(s->initiator);
	if (!ctx) {
		snprintf(why, whylen, "cannot create a libiscsi context");
		return NULL;
	}
	if (s->u->user[0] && iscsi_set_initiator_username_pwd(ctx, s->u->user, s->u->passwd)) {
		snprintf(why, whylen, "CHAP credentials: %s", iscsi_get_error(ctx));
		iscsi_destroy_context(ctx);
		return NULL;
	}
	if (target) {
		iscsi_set_targetname(ctx, target);
		iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	} else {
		iscsi_set_session_type(ctx, ISCSI_SESSION_DISCOVERY);
	}
	iscsi_set_noautoreconnect(ctx, 1);
	iscsi_set_timeout(ctx, s->timeout_s);
	struct connect_wait w = {0};
	if (connect_bounded(ctx, portal, s->timeout_s, &w, why, whylen) || iscsi_login_sync(ctx)) {
		if (!why[0])
			snprintf(why, whylen, "%s", iscsi_get_error(ctx));
		iscsi_destroy_context(ctx);
		return NULL;
	}
	return ctx;
}

static void session_end(struct iscsi_context *ctx)
{
	if (iscsi_is_logged_in(ctx))
		iscsi_logout_sync(ctx);
	iscsi_destroy_context(ctx);
}

/* A command's failure in words: transport error or status + sense. */
static void task_why(struct iscsi_context *ctx, struct scsi_task *t, char *why, size_t whylen)
{
	if (!t)
		snprintf(why, whylen, "%s", iscsi_get_error(ctx));
	else if (t->status == SCSI_STATUS_CHECK_CONDITION)
		snprintf(why, whylen, "CHECK CONDITION %s %s", scsi_sense_key_str(t->sense.key),
		         scsi_sense_ascq_str(t->sense.ascq));
	else
		snprintf(why, whylen, "status 0x%02x", (unsigned)t->status);
}

static bool is_ua(const struct scsi_task *t)
{
	return t && t->status == SCSI_STATUS_CHECK_CONDITION &&
	       t->sense.key == SCSI_SENSE_UNIT_ATTENTION;
}

/* ---- one target ---- */

/* REPORT LUNS, again with room for the whole list when the first answer
 * says it is longer. The task (GOOD), or NULL with why. */
static struct scsi_task *report_luns(struct iscsi_context *ctx, char *why, size_t whylen)
{
	int alloc = 8 + 8 * 256;
	for (int tries = 0; tries < UA_RETRIES; tries++) {
		struct scsi_task *t = iscsi_reportluns_sync(ctx, 0, alloc);
		if (is_ua(t)) {
			scsi_free_scsi_task(t);
			continue;
		}
		if (!t || t->status != SCSI_STATUS_GOOD) {
			task_why(ctx, t, why, whylen);
			if (t)
				scsi_free_scsi_task(t);
			return NULL;
		}
		if (t->datain.size < 8) {
			snprintf(why, whylen, "%d bytes returned, fewer than the 8 of the header",
			         t->datain.size);
			scsi_free_scsi_task(t);
			return NULL;
		}
		const uint8_t *d = t->datain.data;
		uint64_t want =
		    8 + ((uint64_t)d[0] << 24 | (uint64_t)d[1] << 16 | (uint64_t)d[2] << 8 | d[3]);
		/* Grow only when the list is longer than what we asked for:
		 * a target that returns less than it announces gets read as
		 * it is, not asked forever. */
		if (want <= (uint64_t)alloc || alloc >= REPORT_LUNS_MAX)
			return t;
		scsi_free_scsi_task(t);
		alloc = want > REPORT_LUNS_MAX ? REPORT_LUNS_MAX : (int)want;
		tries--; /* a longer list is not an attention */
	}
	snprintf(why, whylen, "unit attention %d times in a row", UA_RETRIES);
	return NULL;
}

/* The LUN of an 8-byte single-level LUN entry (SAM-5 4.6: peripheral or
 * flat addressing, the forms an iscsi:// URL can name), or -1. */
static int lun_of_entry(const uint8_t *e)
{
	for (int i = 2; i < 8; i++)
		if (e[i])
			return -1;
	switch (e[0] >> 6) {
	case 0: /* peripheral: bus 0 only */
		return (e[0] & 0x3f) ? -1 : e[1];
	case 1: /* flat */
		return (e[0] & 0x3f) << 8 | e[1];
	default:
		return -1;
	}
}

static int add_lu(struct scan *s, const char *naa, const char *target, int lun,
                  const struct iscsi_target_portal *portals)
{
	struct prk_host_lu *l = NULL;
	for (size_t i = 0; i < s->n && !l; i++)
		if (strcmp(s->all[i].naa, naa) == 0)
			l = &s->all[i];
	if (!l) {
		if (s->n == SCAN_MAX_LUS) {
			prk_herr(s->err, PRK_HE_USAGE, -1,
			         "LU discovery through %s: more than %d LUs", s->where,
			         SCAN_MAX_LUS);
			return -1;
		}
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 16;
			struct prk_host_lu *a = realloc(s->all, cap * sizeof(*a));
			if (!a) {
				prk_herr(s->err, PRK_HE_STATE, -1, "LU discovery: out of memory");
				return -1;
			}
			s->all = a;
			s->cap = cap;
		}
		l = &s->all[s->n++];
		memset(l, 0, sizeof(*l));
		snprintf(l->naa, sizeof(l->naa), "%s", naa);
	}
	for (const struct iscsi_target_portal *p = portals; p; p = p->next) {
		char addr[256], url[PRK_HOST_URL_MAX];
		prk_host_portal_address(p->portal, addr, sizeof(addr));
		int len =
		    snprintf(url, sizeof(url), "iscsi://%s%s/%s/%d", s->cred, addr, target, lun);
		if (len < 0 || len >= (int)sizeof(url)) {
			prk_herr(s->err, PRK_HE_USAGE, -1,
			         "LU discovery: target %s: the URL for portal %s is too long",
			         target, addr);
			return -1;
		}
		bool seen = false;
		for (size_t k = 0; k < l->n_paths && !seen; k++)
			seen = strcmp(l->paths[k], url) == 0;
		if (seen)
			continue;
		l->n_found++;
		if (l->n_paths < PRK_MPDEV_MAX_PATHS)
			snprintf(l->paths[l->n_paths++], PRK_HOST_URL_MAX, "%s", url);
	}
	return 0;
}

/* INQUIRY VPD 83h of lun: its NAA into naa, 1 (no LU at this LUN: the
 * peripheral qualifier says so), 0, or -1 with why. */
static int lun_naa(struct iscsi_context *ctx, int lun, char naa[33], char *why, size_t whylen)
{
	struct scsi_task *t = NULL;
	for (int tries = 0; tries < UA_RETRIES; tries++) {
		if (t)
			scsi_free_scsi_task(t);
		t = iscsi_inquiry_sync(ctx, lun, 1, PRK_VPD_DEVID_PAGE, 1024);
		if (!is_ua(t))
			break;
	}
	if (!t || t->status != SCSI_STATUS_GOOD) {
		if (is_ua(t))
			snprintf(why, whylen, "unit attention %d times in a row", UA_RETRIES);
		else
			task_why(ctx, t, why, whylen);
		if (t)
			scsi_free_scsi_task(t);
		return -1;
	}
	int rc = 0;
	struct prk_vpd83 v;
	struct prk_field_err fe;
	if (t->datain.size >= 1 && (t->datain.data[0] >> 5) != 0) {
		rc = 1;
	} else if (prk_vpd83_decode(t->datain.data, (size_t)t->datain.size, &v, &fe)) {
		snprintf(why, whylen, "VPD 83h is malformed");
		rc = -1;
	} else if (!v.has_naa) {
		snprintf(why, whylen, "VPD 83h has no NAA designator for the LU");
		rc = -1;
	} else {
		snprintf(naa, 33, "%s", v.naa_hex);
	}
	scsi_free_scsi_task(t);
	return rc;
}

static int scan_target(struct scan *s, const struct iscsi_discovery_address *t)
{
	char why[300] = "no portal listed";
	struct iscsi_context *ctx = NULL;
	size_t tried = 0;
	for (const struct iscsi_target_portal *p = t->portals; p && !ctx; p = p->next, tried++) {
		char addr[256];
		prk_host_portal_address(p->portal, addr, sizeof(addr));
		ctx = session(s, addr, t->target_name, why, sizeof(why));
	}
	if (!ctx) {
		prk_herr(s->err, PRK_HE_NO_PATH, -1,
		         "LU discovery through %s: target %s: login through %zu portal(s) "
		         "failed: %s",
		         s->where, t->target_name, tried, why);
		return -1;
	}
	int rc = -1;
	struct scsi_task *rl = report_luns(ctx, why, sizeof(why));
	if (!rl) {
		prk_herr(s->err, PRK_HE_SCSI, -1,
		         "LU discovery through %s: target %s: REPORT LUNS: %s", s->where,
		         t->target_name, why);
		goto out;
	}
	const uint8_t *d = rl->datain.data;
	size_t listed = ((size_t)d[0] << 24 | (size_t)d[1] << 16 | (size_t)d[2] << 8 | d[3]) / 8;
	size_t have = ((size_t)rl->datain.size - 8) / 8;
	for (size_t i = 0; i < listed && i < have; i++) {
		const uint8_t *e = d + 8 + 8 * i;
		int lun = lun_of_entry(e);
		if (lun < 0) {
			prk_herr(s->err, PRK_HE_UNSUPPORTED, -1,
			         "LU discovery through %s: target %s: REPORT LUNS entry %zu "
			         "(%02x%02x...) is not a single-level LUN an iscsi:// URL can name",
			         s->where, t->target_name, i, e[0], e[1]);
			goto out;
		}
		char naa[33];
		int r = lun_naa(ctx, lun, naa, why, sizeof(why));
		if (r < 0) {
			prk_herr(s->err, PRK_HE_SCSI, -1,
			         "LU discovery through %s: target %s LUN %d: INQUIRY VPD 83h: %s",
			         s->where, t->target_name, lun, why);
			goto out;
		}
		if (r == 0 && add_lu(s, naa, t->target_name, lun, t->portals))
			goto out;
	}
	rc = 0;
out:
	if (rl)
		scsi_free_scsi_task(rl);
	session_end(ctx);
	return rc;
}

/* ---- the whole portal ---- */

static int cmp_lu(const void *a, const void *b)
{
	const struct prk_host_lu *x = a, *y = b;
	return strcmp(x->naa, y->naa);
}

int prk_host_discover_lus(const char *initiator, const char *portal_url, int timeout_s,
                          struct prk_host_lu *lus, size_t cap, size_t *n, struct prk_host_err *err)
{
	*n = 0;
	if (!initiator || !*initiator || !portal_url || !lus || !cap) {
		prk_herr(err, PRK_HE_USAGE, -1,
		         "LU discovery: initiator, portal URL and room for LUs needed");
		return -1;
	}
	if (check_portal_url(portal_url, err))
		return -1;
	struct scan s = {
	    .initiator = initiator, .timeout_s = timeout_s > 0 ? timeout_s : 10, .err = err};
	struct iscsi_context *dc = NULL;
	struct iscsi_discovery_address *list = NULL;
	int rc = -1;
	struct iscsi_context *tmp = iscsi_create_context(initiator);
	if (!tmp) {
		prk_herr(err, PRK_HE_STATE, -1, "LU discovery: cannot create a libiscsi context");
		return -1;
	}
	s.u = iscsi_parse_portal_url(tmp, portal_url);
	if (!s.u) {
		prk_herr(err, PRK_HE_USAGE, -1, "LU discovery: bad URL '%s': %s", portal_url,
		         iscsi_get_error(tmp));
		goto out;
	}
	s.where = s.u->portal;
	if (s.u->user[0])
		snprintf(s.cred, sizeof(s.cred), "%s%%%s@", s.u->user, s.u->passwd);
	char why[300];
	dc = session(&s, s.u->portal, NULL, why, sizeof(why));
	if (!dc) {
		prk_herr(err, PRK_HE_NO_PATH, -1,
		         "LU discovery through %s: discovery login failed: %s", s.where, why);
		goto out;
	}
	list = iscsi_discovery_sync(dc);
	if (!list && iscsi_get_error(dc)[0]) {
		/* libiscsi answers NULL for an empty list too; only an error
		 * text tells a failure apart. */
		prk_herr(err, PRK_HE_SCSI, -1, "LU discovery through %s: SendTargets failed: %s",
		         s.where, iscsi_get_error(dc));
		goto out;
	}
	for (const struct iscsi_discovery_address *t = list; t; t = t->next)
		if (scan_target(&s, t))
			goto out;
	qsort(s.all, s.n, sizeof(s.all[0]), cmp_lu);
	if (s.n > cap) {
		*n = s.n;
		prk_herr(err, PRK_HE_USAGE, -1,
		         "LU discovery through %s: %zu LUs found, room for at most %zu", s.where,
		         s.n, cap);
		goto out;
	}
	if (s.n)
		memcpy(lus, s.all, s.n * sizeof(lus[0]));
	*n = s.n;
	rc = 0;
out:
	if (list)
		iscsi_free_discovery_data(dc, list);
	if (dc)
		session_end(dc);
	if (s.u)
		iscsi_destroy_url(s.u);
	iscsi_destroy_context(tmp);
	free(s.all);
	return rc;
}
