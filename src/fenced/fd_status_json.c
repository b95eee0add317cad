/* prkit fenced: the status reply (fd_status.h). The members listed in the
 * spec are what the tests and the benchmark read; names and units are
 * part of the interface (docs/fenced.md "Status"). */
#include <stdio.h>
#include <string.h>

#include "fd_status.h"

static json_object *key_str(uint64_t key)
{
	char b[24];
	snprintf(b, sizeof(b), "0x%016llx", (unsigned long long)key);
	return json_object_new_string(b);
}

static json_object *node_list(const uint16_t *ids, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int(ids[i]));
	return a;
}

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

/* ms from the change to t; null when t never happened. */
static json_object *since(uint64_t changed, uint64_t t)
{
	return t && t >= changed ? json_object_new_int64((int64_t)(t - changed)) : NULL;
}

static json_object *round_json(const struct prk_fd_round *r, int64_t real_minus_mono)
{
	if (!r->valid)
		return NULL;
	json_object *o = json_object_new_object();
	add(o, "victims", node_list(r->victims, r->n_victims));
	add(o, "executor", json_object_new_int(r->executor));
	add(o, "result", json_object_new_string(r->result == PRK_FD_RESULT_OK ? "ok" : "lost"));
	add(o, "changed_at_ms", json_object_new_int64((int64_t)r->changed_ms + real_minus_mono));
	add(o, "stall_ms", since(r->changed_ms, r->stalled_ms));
	add(o, "fence_ms", since(r->changed_ms, r->fenced_ms));
	add(o, "resume_ms", since(r->changed_ms, r->resumed_ms));
	return o;
}

static json_object *lu_json(const struct prk_fds_lu *l)
{
	json_object *o = json_object_new_object(), *keys = json_object_new_array();
	add(o, "naa", json_object_new_string(l->naa));
	add(o, "coordinator", json_object_new_boolean(l->coordinator));
	add(o, "reachable", json_object_new_boolean(l->reachable));
	add(o, "has_our_key", json_object_new_boolean(l->has_our_key));
	for (size_t k = 0; k < l->n_keys && k < PRK_FDS_MAX_KEYS; k++)
		json_object_array_add(keys, key_str(l->keys[k]));
	add(o, "keys", keys);
	add(o, "holder", l->reserved ? key_str(l->holder) : NULL);
	return o;
}

static json_object *proc_json(const struct prk_fdl_proc *p)
{
	json_object *o = json_object_new_object();
	add(o, "socket", json_object_new_string(p->socket));
	add(o, "devices", json_object_new_int64(p->n_devices));
	add(o, "stalled", json_object_new_int64(p->stalled));
	add(o, "fenced", json_object_new_int64(p->fenced));
	add(o, "key", key_str(p->key));
	return o;
}

json_object *prk_fd_status_json(const struct prk_fd_status_in *in)
{
	const struct prk_fd_core *c = in->core;
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	add(o, "node", json_object_new_int(c->cfg.nodeid));
	add(o, "cluster_name", json_object_new_string(in->cfg->cluster_name));
	add(o, "key_mode", json_object_new_string(in->cfg->cluster_key ? "cluster" : "node"));
	add(o, "state", json_object_new_string(prk_fd_state_name(c->state)));
	add(o, "quorate", json_object_new_boolean(c->quorate));
	add(o, "in_group", json_object_new_boolean(c->in_group));
	add(o, "joined", json_object_new_boolean(c->joined));
	add(o, "may_act", json_object_new_boolean(in->may_act));
	add(o, "executor", json_object_new_int(in->executor));
	add(o, "key", key_str(c->key));
	/* The low 32 bits: the incarnation (node mode) or the generation
	 * (cluster-key mode), fence_key.h. */
	add(o, "incarnation", json_object_new_int64((int64_t)(c->key & 0xffffffffu)));
	json_object *members = json_object_new_array();
	for (size_t i = 0; i < c->n_members && i < PRK_FD_MAX_NODES; i++) {
		json_object *m = json_object_new_object();
		add(m, "node", json_object_new_int(c->members[i].nodeid));
		add(m, "joined", json_object_new_boolean(c->members[i].joined));
		add(m, "key", key_str(c->members[i].key));
		json_object_array_add(members, m);
	}
	add(o, "members", members);
	add(o, "pending",
	    node_list(c->pending,
	              c->n_pending < PRK_FD_MAX_NODES ? c->n_pending : PRK_FD_MAX_NODES));
	json_object *lus = json_object_new_array();
	for (size_t i = 0; i < in->n_lus; i++)
		json_object_array_add(lus, lu_json(&in->lus[i]));
	add(o, "lus", lus);
	json_object *local = json_object_new_array();
	for (size_t i = 0; i < in->n_procs; i++)
		json_object_array_add(local, proc_json(&in->procs[i]));
	add(o, "local", local);
	json_object *check = NULL;
	if (in->check.valid) {
		check = json_object_new_object();
		add(check, "ok", json_object_new_boolean(in->check.ok));
		add(check, "with_key", json_object_new_int64((int64_t)in->check.with_key));
		add(check, "counted", json_object_new_int64((int64_t)in->check.counted));
		add(check, "age_ms",
		    json_object_new_int64(in->now_ms >= in->check.at_ms
		                              ? (int64_t)(in->now_ms - in->check.at_ms)
		                              : 0));
	}
	add(o, "check", check);
	add(o, "last_fencing", round_json(&c->last, in->real_minus_mono_ms));
	add(o, "fencings", json_object_new_int64((int64_t)in->fencings));
	json_object *sf = NULL;
	if (c->state == PRK_FD_SELF_FENCED) {
		sf = json_object_new_object();
		add(sf, "reason",
		    json_object_new_string_len(
		        c->self_fence_reason,
		        (int)strnlen(c->self_fence_reason, sizeof(c->self_fence_reason))));
		add(sf, "at_ms",
		    json_object_new_int64((int64_t)in->self_fence_at_ms + in->real_minus_mono_ms));
	}
	add(o, "self_fence", sf);
	return o;
}
