/* prkit fenced: this node's I/O processes through their control sockets
 * (fd_local.h). One connection per process, kept open: a stall belongs to
 * its connection, so the daemon's stalls end by themselves if it dies.
 * Only the daemon's LUs are touched; a process that does not answer is
 * logged and dropped (it is reconnected at the next scan), never waited
 * for beyond one request's timeout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fd_local.h"
#include "fd_storage.h"
#include "prkit/host_ctl.h"

#define FDL_MAX_PROCS 16
#define FDL_MAX_DEVS 64 /* devices of one process we look at */

struct fdl_proc {
	struct prk_ctl_client *c;
	struct prk_ctl_dev devs[FDL_MAX_DEVS];
	size_t n_devs;
	/* Per device (index in devs): stalled by us, failed by us. Failed
	 * is ours, not the list's "fenced": a device fenced by a conflict
	 * may still send its held I/O once a key is registered, so a
	 * self-fence must fail it too. */
	bool stalled[FDL_MAX_DEVS];
	bool failed[FDL_MAX_DEVS];
};

struct prk_fdl {
	char state_dir[1024];
	char naas[PRK_FDS_MAX_LUS][33];
	size_t n_naas;
	unsigned timeout_ms, stall_max_ms;
	bool stalled;
	bool failed;
	char reason[201];
	struct fdl_proc procs[FDL_MAX_PROCS];
	size_t n_procs;
};

static bool ours(const struct prk_fdl *l, const char *naa)
{
	for (size_t i = 0; i < l->n_naas; i++)
		if (strcasecmp(l->naas[i], naa) == 0)
			return true;
	return false;
}

struct prk_fdl *prk_fdl_new(const char *state_dir, const char *const *naas, size_t n_naas,
                            unsigned timeout_ms, unsigned stall_max_ms)
{
	if (n_naas > PRK_FDS_MAX_LUS || !state_dir)
		return NULL;
	struct prk_fdl *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	snprintf(l->state_dir, sizeof(l->state_dir), "%s", state_dir);
	for (size_t i = 0; i < n_naas; i++)
		snprintf(l->naas[i], sizeof(l->naas[i]), "%s", naas[i]);
	l->n_naas = n_naas;
	l->timeout_ms = timeout_ms ? timeout_ms : 5000;
	l->stall_max_ms = stall_max_ms ? stall_max_ms : 10000;
	return l;
}

static void drop(struct prk_fdl *l, size_t k, const char *why)
{
	fprintf(stderr, "prkit fenced: local I/O process %s: %s; dropped\n",
	        prk_ctl_client_path(l->procs[k].c), why);
	prk_ctl_close(l->procs[k].c);
	l->procs[k] = l->procs[--l->n_procs];
}

void prk_fdl_free(struct prk_fdl *l)
{
	if (!l)
		return;
	for (size_t k = 0; k < l->n_procs; k++)
		prk_ctl_close(l->procs[k].c);
	free(l);
}

/* The process's devices again; false (dropped) when it does not answer. */
static bool refresh(struct prk_fdl *l, size_t k)
{
	struct fdl_proc *p = &l->procs[k];
	char err[256];
	struct prk_ctl_dev devs[FDL_MAX_DEVS];
	int n = prk_ctl_list(p->c, devs, FDL_MAX_DEVS, err, sizeof(err));
	if (n < 0) {
		drop(l, k, err);
		return false;
	}
	/* Keep our marks by NAA: the list's order may change. */
	bool st[FDL_MAX_DEVS] = {false}, fa[FDL_MAX_DEVS] = {false};
	for (int j = 0; j < n; j++) {
		for (size_t i = 0; i < p->n_devs; i++) {
			if (strcasecmp(p->devs[i].naa, devs[j].naa) != 0)
				continue;
			st[j] |= p->stalled[i];
			fa[j] |= p->failed[i];
		}
	}
	memcpy(p->devs, devs, sizeof(devs[0]) * (size_t)n);
	memcpy(p->stalled, st, sizeof(st));
	memcpy(p->failed, fa, sizeof(fa));
	p->n_devs = (size_t)n;
	return true;
}

static bool known(const struct prk_fdl *l, const char *path)
{
	for (size_t k = 0; k < l->n_procs; k++)
		if (strcmp(prk_ctl_client_path(l->procs[k].c), path) == 0)
			return true;
	return false;
}

size_t prk_fdl_scan(struct prk_fdl *l)
{
	for (size_t k = 0; k < l->n_procs;)
		k += refresh(l, k); /* a dropped one's slot is refilled by the last */
	struct prk_ctl_client *cs[FDL_MAX_PROCS * 2];
	char err[256];
	int n = prk_ctl_connect_all(l->state_dir, (int)l->timeout_ms, cs, FDL_MAX_PROCS * 2, err,
	                            sizeof(err));
	if (n < 0) {
		fprintf(stderr, "prkit fenced: local I/O processes: %s\n", err);
		return l->n_procs;
	}
	for (int i = 0; i < n; i++) {
		if (known(l, prk_ctl_client_path(cs[i])) || l->n_procs == FDL_MAX_PROCS) {
			prk_ctl_close(cs[i]);
			continue;
		}
		memset(&l->procs[l->n_procs], 0, sizeof(l->procs[0]));
		l->procs[l->n_procs++].c = cs[i];
		refresh(l, l->n_procs - 1);
	}
	return l->n_procs;
}

/* Stalls (or renews) every device of ours in process k. Returns how many
 * are stalled; drops the process when it does not answer. */
static size_t stall_proc(struct prk_fdl *l, size_t k)
{
	struct fdl_proc *p = &l->procs[k];
	size_t n = 0;
	for (size_t i = 0; i < p->n_devs; i++) {
		if (!ours(l, p->devs[i].naa))
			continue;
		char err[256];
		int rc = prk_ctl_stall(p->c, p->devs[i].naa, l->stall_max_ms, err, sizeof(err));
		if (rc < 0) {
			/* Not drained in time, or no answer: the server
			 * released it; the connection may be gone too. */
			fprintf(stderr, "prkit fenced: stalling naa.%s in %s: %s\n", p->devs[i].naa,
			        prk_ctl_client_path(p->c), err);
			p->stalled[i] = false;
			continue;
		}
		p->stalled[i] = rc == 1;
		n += rc == 1;
	}
	return n;
}

/* Fails every device of ours in process k (self-fence). */
static size_t fail_proc(struct prk_fdl *l, size_t k)
{
	struct fdl_proc *p = &l->procs[k];
	size_t n = 0;
	for (size_t i = 0; i < p->n_devs; i++) {
		if (!ours(l, p->devs[i].naa) || p->failed[i])
			continue;
		char err[256];
		int rc = prk_ctl_fail(p->c, p->devs[i].naa, l->reason, err, sizeof(err));
		if (rc < 0)
			fprintf(stderr, "prkit fenced: failing naa.%s in %s: %s\n", p->devs[i].naa,
			        prk_ctl_client_path(p->c), err);
		if (rc == 1) {
			p->failed[i] = true;
			p->devs[i].fenced = true;
			n++;
		}
	}
	return n;
}

size_t prk_fdl_stall_all(struct prk_fdl *l)
{
	prk_fdl_scan(l);
	l->stalled = true;
	size_t n = 0;
	for (size_t k = 0; k < l->n_procs; k++)
		n += stall_proc(l, k);
	return n;
}

void prk_fdl_renew(struct prk_fdl *l)
{
	if (!l->stalled && !l->failed)
		return;
	prk_fdl_scan(l);
	for (size_t k = 0; k < l->n_procs; k++) {
		if (l->failed)
			fail_proc(l, k); /* newcomers too */
		else
			stall_proc(l, k);
	}
}

void prk_fdl_resume_all(struct prk_fdl *l)
{
	l->stalled = false;
	for (size_t k = 0; k < l->n_procs; k++) {
		struct fdl_proc *p = &l->procs[k];
		for (size_t i = 0; i < p->n_devs; i++) {
			if (!p->stalled[i])
				continue;
			p->stalled[i] = false;
			char err[256];
			/* A failure is logged: the lease ends the stall anyway. */
			if (prk_ctl_resume(p->c, p->devs[i].naa, err, sizeof(err)) < 0)
				fprintf(stderr, "prkit fenced: resuming naa.%s in %s: %s\n",
				        p->devs[i].naa, prk_ctl_client_path(p->c), err);
		}
	}
}

bool prk_fdl_is_stalled(const struct prk_fdl *l)
{
	return l->stalled;
}

size_t prk_fdl_fail_all(struct prk_fdl *l, const char *reason)
{
	snprintf(l->reason, sizeof(l->reason), "%s", reason && *reason ? reason : "self-fenced");
	l->failed = true;
	prk_fdl_scan(l);
	size_t n = 0;
	for (size_t k = 0; k < l->n_procs; k++)
		n += fail_proc(l, k);
	/* What waited in the stall has failed already; release it. */
	prk_fdl_resume_all(l);
	return n;
}

int prk_fdl_set_key(struct prk_fdl *l, const char *naa, uint64_t old_key, uint64_t new_key)
{
	if (!ours(l, naa))
		return 0;
	if (!l->n_procs)
		prk_fdl_scan(l);
	int changed = 0;
	bool failed = false;
	for (size_t k = 0; k < l->n_procs; k++) {
		struct fdl_proc *p = &l->procs[k];
		bool any = false;
		for (size_t i = 0; i < p->n_devs; i++)
			any |= strcasecmp(p->devs[i].naa, naa) == 0 &&
			       (!old_key || p->devs[i].key == old_key);
		if (!any)
			continue;
		/* One request covers every device of that NAA in the process. */
		char err[256];
		bool fenced = false;
		int rc = prk_ctl_set_key(p->c, naa, old_key, new_key, &fenced, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "prkit fenced: changing the key of naa.%s in %s: %s\n", naa,
			        prk_ctl_client_path(p->c), err);
			failed = true;
			continue;
		}
		if (rc != 1)
			continue;
		changed++;
		for (size_t i = 0; i < p->n_devs; i++) {
			if (strcasecmp(p->devs[i].naa, naa) != 0 ||
			    (old_key && p->devs[i].key != old_key))
				continue;
			p->devs[i].key = new_key;
			p->devs[i].fenced = false;
			p->failed[i] = false; /* a registered key ends a self-fence */
		}
	}
	/* l->failed stays: the daemon's self-fence is final for its life,
	 * and renew would fail newcomers as before. */
	return failed ? -1 : changed;
}

size_t prk_fdl_procs(const struct prk_fdl *l, struct prk_fdl_proc *out, size_t cap)
{
	size_t n = 0;
	for (size_t k = 0; k < l->n_procs && n < cap; k++, n++) {
		const struct fdl_proc *p = &l->procs[k];
		struct prk_fdl_proc *o = &out[n];
		memset(o, 0, sizeof(*o));
		snprintf(o->socket, sizeof(o->socket), "%s", prk_ctl_client_path(p->c));
		for (size_t i = 0; i < p->n_devs; i++) {
			if (!ours(l, p->devs[i].naa))
				continue;
			if (!o->n_devices)
				o->key = p->devs[i].key;
			o->n_devices++;
			o->stalled += p->stalled[i];
			o->fenced += p->devs[i].fenced || p->failed[i];
		}
	}
	return n;
}
