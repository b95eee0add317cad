/* prkit fenced: the shared LUs (fd_storage.h), through the fence agent's
 * per-device steps (src/fence/fence_run.h) on devices that stay open for
 * the daemon's life, on nexuses of their own (ISID role "fenced").
 *
 * The steps print their messages to a stream; each call here captures it
 * (open_memstream) so that the caller gets the failing LU and step in err,
 * while warnings still reach the daemon's log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fd_local.h"
#include "fd_storage.h"
#include "fence_key.h"
#include "fence_run.h"
#include "incarnation.h"
#include "prkit/host.h"
#include "prkit/host_ctl.h"

_Static_assert(PRK_FDS_MAX_LUS <= FENCE_RUN_MAX_DEVS, "the steps' run must hold every LU");
_Static_assert(PRK_FENCE_MAX_PATHS == PRK_MPDEV_MAX_PATHS &&
                   PRK_FENCE_URL_MAX + 1 == PRK_HOST_URL_MAX,
               "a discovered LU's paths fit a configured device");

struct prk_fds {
	struct prk_fd_config cfg;
	struct prk_fence_opts *o; /* what the steps read: cluster, state dir */
	struct fence_run r;       /* r.devs: coordinators, then data LUs */
	size_t n_coord;
	uint64_t key;
	struct prk_fds_lu lus[PRK_FDS_MAX_LUS];
	struct fence_local_hooks hooks;
	/* The step messages of the current call (open_memstream). */
	char *msg;
	size_t msg_len;
};

/* ---- the steps' messages ---- */

static void cap_begin(struct prk_fds *s)
{
	s->msg = NULL;
	s->msg_len = 0;
	s->r.err = open_memstream(&s->msg, &s->msg_len);
	if (!s->r.err)
		s->r.err = stderr;
}

/* Ends the capture: everything goes to the log; the last line (the error,
 * when there is one) to err without the agent's prefix. */
static void cap_end(struct prk_fds *s, char *err, size_t errlen)
{
	if (s->r.err == stderr)
		return;
	fclose(s->r.err);
	s->r.err = stderr;
	if (!s->msg)
		return;
	const char *last = NULL;
	for (char *p = s->msg; *p;) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *text = p;
		if (strncmp(text, "fence_prkit: ", 13) == 0)
			text += 13;
		fprintf(stderr, "prkit fenced: %.*s\n", (int)(len - (size_t)(text - p)), text);
		if (len)
			last = p;
		p += len + (nl ? 1 : 0);
	}
	if (last && err && errlen) {
		if (strncmp(last, "fence_prkit: ", 13) == 0)
			last += 13;
		size_t len = strcspn(last, "\n");
		snprintf(err, errlen, "%.*s", (int)len, last);
	}
	free(s->msg);
	s->msg = NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, a, b);
	return -1;
}

/* ---- the local processes, as the steps see them ---- */

static int hook_set_key(void *arg, const char *naa, uint64_t old_key, uint64_t new_key)
{
	int n = prk_fdl_set_key(arg, naa, old_key, new_key);
	return n < 0 ? 0 : n;
}

static void hook_renew(void *arg)
{
	prk_fdl_renew(arg);
}

static void use_local(struct prk_fds *s, struct prk_fdl *local)
{
	s->hooks =
	    (struct fence_local_hooks){.set_key = hook_set_key, .renew = hook_renew, .arg = local};
	/* NULL local: the agent's own list of processes, empty here. */
	s->r.hooks = local ? &s->hooks : NULL;
}

/* ---- opening ---- */

static int cmp_naa(const void *a, const void *b)
{
	struct prk_mpdev *const *x = a, *const *y = b;
	return strcasecmp(prk_mpdev_naa(*x), prk_mpdev_naa(*y));
}

static int open_one(struct prk_fds *s, const struct prk_fence_device *fd, const char *what,
                    size_t idx, char *err, size_t errlen)
{
	const char *urls[PRK_FENCE_MAX_PATHS];
	for (size_t k = 0; k < fd->n_paths; k++)
		urls[k] = fd->paths[k];
	struct prk_mpdev_opts mo = {.initiator_name = s->o->initiator,
	                            .urls = urls,
	                            .n_urls = fd->n_paths,
	                            .io_timeout_ms = s->cfg.io_timeout_ms,
	                            .isid_role = "fenced"};
	struct prk_host_err e;
	struct prk_mpdev *d = prk_mpdev_new(s->r.h, &mo, &e);
	if (!d) {
		snprintf(err, errlen, "%s[%zu] (%s): %s", what, idx, fd->paths[0], e.msg);
		return -1;
	}
	s->r.devs[s->r.n++] = d;
	if (prk_mpdev_wait_paths(d, (int)fd->n_paths, (int)s->cfg.io_timeout_ms) == 0) {
		struct prk_path_info pi;
		prk_mpdev_paths(d, &pi, 1);
		snprintf(err, errlen, "%s[%zu] (%s): no path came up: %s", what, idx, fd->paths[0],
		         pi.last_error);
		return -1;
	}
	if (!prk_mpdev_naa(d)[0]) {
		snprintf(err, errlen, "%s[%zu] (%s): the LU has no NAA identifier", what, idx,
		         fd->paths[0]);
		return -1;
	}
	return 0;
}

static int fill_opts(struct prk_fds *s, char *err, size_t errlen)
{
	struct prk_fence_opts *o = s->o;
	snprintf(o->cluster_name, sizeof(o->cluster_name), "%s",
	         s->cfg.cluster_name[0] ? s->cfg.cluster_name : PRK_FENCE_DEFAULT_CLUSTER);
	o->key_mode = s->cfg.cluster_key ? PRK_FENCE_KEY_CLUSTER : PRK_FENCE_KEY_NODE;
	if (s->cfg.state_dir[0])
		snprintf(o->state_dir, sizeof(o->state_dir), "%s", s->cfg.state_dir);
	else
		prk_host_default_state_dir(o->state_dir, sizeof(o->state_dir));
	if (s->cfg.initiator[0]) {
		snprintf(o->initiator, sizeof(o->initiator), "%s", s->cfg.initiator);
	} else {
		char host[256] = "", msg[256];
		gethostname(host, sizeof(host) - 1);
		if (prk_host_initiator_name(getenv(PRK_HOST_INITIATOR_ENV), host, o->initiator,
		                            sizeof(o->initiator), msg, sizeof(msg)))
			return fail(err, errlen, "initiator: %s%s", msg, "");
	}
	o->timeout = (s->cfg.io_timeout_ms + 999) / 1000;
	return 0;
}

/* cfg.discover: the data LUs are every LU the portal leads to (prkit/host.h
 * prk_host_discover_lus) except the coordinators, which stay as configured
 * and are open already (their NAAs known). Done once, here: the daemon
 * fences the set it started with, and an LU added later needs a restart. */
static int discover_devices(struct prk_fds *s, char *err, size_t errlen)
{
	/* Room well past the limit, so that the error can give the count of
	 * data LUs found (the coordinators among them do not count). */
	size_t cap = 256, n = 0;
	struct prk_host_lu *lus = calloc(cap, sizeof(*lus));
	if (!lus)
		return fail(err, errlen, "discover (%s): out of memory%s", s->cfg.discover, "");
	struct prk_host_err e;
	int timeout_s = (int)((s->cfg.io_timeout_ms + 999) / 1000);
	int rc = -1;
	if (prk_host_discover_lus(s->o->initiator, s->cfg.discover, timeout_s, lus, cap, &n, &e)) {
		if (e.code == PRK_HE_USAGE && n > cap)
			snprintf(err, errlen,
			         "discover (%s): %zu LUs found; at most %d devices besides the %zu "
			         "coordinator(s)",
			         s->cfg.discover, n, PRK_FENCE_MAX_DEVICES, s->n_coord);
		else
			snprintf(err, errlen, "discover (%s): %s", s->cfg.discover, e.msg);
		goto out;
	}
	/* The coordinators among them drop out (marked by an empty NAA). */
	size_t data = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t c = 0; c < s->n_coord; c++)
			if (strcasecmp(prk_mpdev_naa(s->r.devs[c]), lus[i].naa) == 0)
				lus[i].naa[0] = '\0';
		data += lus[i].naa[0] != '\0';
	}
	if (data > PRK_FENCE_MAX_DEVICES) {
		snprintf(err, errlen,
		         "discover (%s): %zu LUs found besides the coordinators; at most %d",
		         s->cfg.discover, data, PRK_FENCE_MAX_DEVICES);
		goto out;
	}
	s->cfg.n_devices = 0;
	for (size_t i = 0; i < n; i++) {
		if (!lus[i].naa[0])
			continue;
		struct prk_fence_device *d = &s->cfg.devices[s->cfg.n_devices++];
		d->n_paths = lus[i].n_paths;
		for (size_t k = 0; k < lus[i].n_paths; k++)
			snprintf(d->paths[k], sizeof(d->paths[k]), "%s", lus[i].paths[k]);
	}
	if (!s->cfg.n_devices) {
		snprintf(err, errlen, "discover (%s): the portal leads to no LU%s", s->cfg.discover,
		         s->n_coord ? " besides the coordinators" : "");
		goto out;
	}
	fprintf(stderr, "prkit fenced: discover (%s): %zu data LU(s)\n", s->cfg.discover,
	        s->cfg.n_devices);
	rc = 0;
out:
	free(lus);
	return rc;
}

struct prk_fds *prk_fds_open(const struct prk_fd_config *cfg, uint16_t nodeid, char *err,
                             size_t errlen)
{
	if (!nodeid)
		return fail(err, errlen, "node id 0: must be 1 to 65535%s%s", "", ""), NULL;
	if (cfg->n_devices && cfg->discover[0])
		return fail(err, errlen, "devices and discover (%s): name the LUs one way%s",
		            cfg->discover, ""),
		       NULL;
	if (cfg->n_devices + cfg->n_coordinators == 0 && !cfg->discover[0])
		return fail(err, errlen, "devices: no LU configured%s%s", "", ""), NULL;
	struct prk_fds *s = calloc(1, sizeof(*s));
	if (!s || !(s->o = calloc(1, sizeof(*s->o)))) {
		free(s);
		return fail(err, errlen, "out of memory%s%s", "", ""), NULL;
	}
	s->cfg = *cfg;
	if (!s->cfg.io_timeout_ms)
		s->cfg.io_timeout_ms = 5000;
	s->r.o = s->o;
	s->r.out = stderr;
	s->r.err = stderr;
	s->r.me = nodeid;
	s->r.tag = prk_fence_cluster_tag(cfg->cluster_name[0] ? cfg->cluster_name
	                                                      : PRK_FENCE_DEFAULT_CLUSTER);
	if (fill_opts(s, err, errlen))
		goto bad;
	struct prk_host_err e;
	s->r.h = prk_host_new(&(struct prk_host_opts){.state_dir = s->o->state_dir}, &e);
	if (!s->r.h) {
		snprintf(err, errlen, "%s", e.msg);
		goto bad;
	}
	for (size_t i = 0; i < cfg->n_coordinators; i++)
		if (open_one(s, &cfg->coordinators[i], "coordinators", i, err, errlen))
			goto bad;
	s->n_coord = s->r.n;
	if (cfg->discover[0] && discover_devices(s, err, errlen))
		goto bad;
	for (size_t i = 0; i < s->cfg.n_devices; i++)
		if (open_one(s, &s->cfg.devices[i], "devices", i, err, errlen))
			goto bad;
	/* Fencing order: coordinators by NAA, then the data LUs by NAA. */
	qsort(s->r.devs, s->n_coord, sizeof(s->r.devs[0]), cmp_naa);
	qsort(s->r.devs + s->n_coord, s->r.n - s->n_coord, sizeof(s->r.devs[0]), cmp_naa);
	for (size_t i = 0; i < s->r.n; i++) {
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(prk_mpdev_naa(s->r.devs[i]), prk_mpdev_naa(s->r.devs[j])) ==
			    0) {
				fail(err, errlen, "LU naa.%s is configured twice%s",
				     prk_mpdev_naa(s->r.devs[i]), "");
				goto bad;
			}
		snprintf(s->lus[i].naa, sizeof(s->lus[i].naa), "%s", prk_mpdev_naa(s->r.devs[i]));
		s->lus[i].coordinator = i < s->n_coord;
	}
	return s;
bad:
	prk_fds_free(s);
	return NULL;
}

void prk_fds_free(struct prk_fds *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->r.n; i++)
		prk_mpdev_free(s->r.devs[i]);
	prk_host_free(s->r.h);
	free(s->o);
	free(s);
}

void prk_fds_pump(struct prk_fds *s, int ms)
{
	prk_host_run(s->r.h, ms);
}

size_t prk_fds_count(const struct prk_fds *s)
{
	return s->r.n;
}

const char *prk_fds_naa(const struct prk_fds *s, size_t i)
{
	return i < s->r.n ? s->lus[i].naa : "";
}

bool prk_fds_is_coordinator(const struct prk_fds *s, size_t i)
{
	return i < s->n_coord;
}

uint64_t prk_fds_key(const struct prk_fds *s)
{
	return s->key;
}

/* ---- what the LUs hold ---- */

/* READ KEYS / READ RESERVATION of LU i into the status copy. */
static int read_lu(struct prk_fds *s, size_t i, struct prk_resv_view *out)
{
	struct prk_resv_view v;
	struct prk_host_err e;
	struct prk_fds_lu *l = &s->lus[i];
	if (prk_mpdev_read_state(s->r.devs[i], &v, &e)) {
		l->reachable = false;
		l->has_our_key = false;
		return -1;
	}
	l->reachable = true;
	l->reserved = v.present;
	l->holder = v.present ? v.key : 0;
	l->has_our_key = s->key && prk_fence_has_key(&v, s->key);
	l->n_keys = 0;
	for (size_t k = 0; k < v.n_keys && l->n_keys < PRK_FDS_MAX_KEYS; k++) {
		bool seen = false;
		for (size_t j = 0; j < l->n_keys; j++)
			seen |= l->keys[j] == v.keys[k];
		if (!seen)
			l->keys[l->n_keys++] = v.keys[k];
	}
	if (out)
		*out = v;
	return 0;
}

void prk_fds_read_all(struct prk_fds *s)
{
	for (size_t i = 0; i < s->r.n; i++)
		read_lu(s, i, NULL);
}

size_t prk_fds_lus(const struct prk_fds *s, struct prk_fds_lu *out, size_t cap)
{
	size_t n = s->r.n < cap ? s->r.n : cap;
	memcpy(out, s->lus, n * sizeof(out[0]));
	return n;
}

void prk_fds_check(struct prk_fds *s, bool *ok, size_t *with_key, size_t *counted, char *why,
                   size_t whylen)
{
	/* The coordinators decide when there are any: the majority a
	 * partition must win is theirs. */
	size_t first = 0, end = s->n_coord ? s->n_coord : s->r.n;
	size_t have = 0;
	for (size_t i = first; i < end; i++)
		if (read_lu(s, i, NULL) == 0 && s->lus[i].has_our_key)
			have++;
	*with_key = have;
	*counted = end - first;
	*ok = s->key && *counted && have * 2 > *counted;
	char ks[PRK_FENCE_KEY_STR_LEN];
	prk_fence_key_str(s->key, ks);
	if (!s->key)
		snprintf(why, whylen, "no key: this node has not joined");
	else if (!*counted)
		snprintf(why, whylen, "no LU to check");
	else
		snprintf(why, whylen, "key %s on %zu of %zu %s", ks, have, *counted,
		         s->n_coord ? "coordinator LUs" : "LUs");
}

/* ---- join, fence, adopt ---- */

static int join_node(struct prk_fds *s, struct prk_fdl *local, char *err, size_t errlen)
{
	char msg[256];
	uint32_t inc;
	/* On disk before the key is used: a later life never reuses it. */
	if (prk_fence_incarnation_next(s->o->state_dir, s->o->cluster_name, s->r.me, &inc, msg,
	                               sizeof(msg)))
		return fail(err, errlen, "%s%s", msg, "");
	uint64_t key = prk_fence_key_make(s->r.tag, s->r.me, inc);
	s->r.my_key = key;
	for (size_t i = 0; i < s->r.n; i++) {
		if (prk_fence_join_device(&s->r, i, NULL))
			return -1;
		/* The local processes register the new key before the old
		 * one goes, so their I/O never meets a gap. */
		if (local && prk_fdl_set_key(local, s->lus[i].naa, 0, key) < 0)
			fprintf(stderr,
			        "prkit fenced: LU naa.%s: a local process did not take key "
			        "0x%016llx\n",
			        s->lus[i].naa, (unsigned long long)key);
		int rc = prk_fence_drop_stale(&s->r, i);
		if (rc)
			return rc > 0
			           ? fail(err, errlen,
			                  "LU naa.%s: remove our stale keys: this node was fenced "
			                  "meanwhile%s",
			                  s->lus[i].naa, "")
			           : -1;
	}
	s->key = key;
	return 0;
}

static int join_cluster(struct prk_fds *s, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	uint64_t cur, key;
	if (prk_fence_cluster_find_current(&s->r, &cur))
		return -1;
	bool fresh = !cur;
	if (fresh ? prk_fence_cluster_new_key(&s->r, 0, &key) : (key = cur, 0))
		return -1;
	if (prk_fence_cluster_save_key(&s->r, key))
		return -1;
	for (size_t i = 0; i < s->r.n; i++)
		if (prk_fence_cluster_on_device(&s->r, i, cur, key, fresh))
			return -1;
	s->key = key;
	return 0;
}

int prk_fds_join(struct prk_fds *s, struct prk_fdl *local, uint64_t *key, char *err, size_t errlen)
{
	use_local(s, local);
	/* The local I/O waits while its key changes under it. */
	bool stalled_here = local && !prk_fdl_is_stalled(local);
	if (stalled_here)
		prk_fdl_stall_all(local);
	cap_begin(s);
	int rc =
	    s->cfg.cluster_key ? join_cluster(s, err, errlen) : join_node(s, local, err, errlen);
	char m[512] = "";
	cap_end(s, m, sizeof(m));
	if (rc && m[0] && err && errlen)
		snprintf(err, errlen, "%s", m);
	if (stalled_here)
		prk_fdl_resume_all(local);
	prk_fds_read_all(s);
	if (rc == 0 && key)
		*key = s->key;
	return rc ? -1 : 0;
}

int prk_fds_fence(struct prk_fds *s, struct prk_fdl *local, const uint16_t *victims, size_t n,
                  uint64_t *new_key, char *err, size_t errlen)
{
	if (!s->key)
		return fail(err, errlen, "fence: this node has not joined%s%s", "", "");
	use_local(s, local);
	s->r.my_key = s->key;
	cap_begin(s);
	int rc = 0;
	uint64_t key = s->key;
	bool saved = false;
	if (s->cfg.cluster_key && prk_fence_cluster_new_key(&s->r, (uint32_t)s->key, &key) != 0)
		rc = -1;
	for (size_t i = 0; i < s->r.n && rc == 0; i++) {
		if (s->cfg.cluster_key) {
			rc = prk_fence_cluster_off_device(&s->r, i, key, &saved);
		} else {
			for (size_t v = 0; v < n && rc == 0; v++)
				rc = prk_fence_node_off_device(&s->r, i, victims[v]);
		}
		if (rc == 1)
			snprintf(err, errlen,
			         "LU naa.%s: our key is gone: another side fenced this node first",
			         s->lus[i].naa);
	}
	char m[512] = "";
	cap_end(s, m, sizeof(m));
	if (rc < 0 && m[0] && err && errlen)
		snprintf(err, errlen, "%s", m);
	if (saved)
		s->key = key;
	if (rc == 0 && new_key)
		*new_key = s->key;
	return rc;
}

int prk_fds_adopt(struct prk_fds *s, struct prk_fdl *local, uint64_t key, char *err, size_t errlen)
{
	if (!s->cfg.cluster_key)
		return fail(err, errlen, "adopt: only in cluster-key mode%s%s", "", "");
	uint16_t tag;
	uint32_t gen;
	if (!prk_fence_key_parse(key, &tag, NULL, &gen) || tag != s->r.tag) {
		snprintf(err, errlen, "adopt: 0x%016llx is not a key of this cluster",
		         (unsigned long long)key);
		return -1;
	}
	use_local(s, local);
	cap_begin(s);
	int rc = prk_fence_cluster_save_key(&s->r, key);
	/* The executor removed our old registration with its generation:
	 * registering the new key is what it expects of every member. */
	for (size_t i = 0; i < s->r.n && rc == 0; i++)
		rc = prk_fence_cluster_on_device(&s->r, i, 0, key, false);
	char m[512] = "";
	cap_end(s, m, sizeof(m));
	if (rc && m[0] && err && errlen)
		snprintf(err, errlen, "%s", m);
	if (rc == 0)
		s->key = key;
	return rc ? -1 : 0;
}
