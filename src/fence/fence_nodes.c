/* Which node the fence agent acts on and for: node ids from names (the
 * host map, or the name itself as a number), the victim, this node, the
 * members; and the checks across options that need them
 * (prk_fence_opts_validate). */
#include <string.h>
#include <strings.h>

#include "fence_opts.h"
#include "fence_values.h"

/* ---- node ids ---- */

int prk_fence_node_id(const struct prk_fence_opts *o, const char *name, uint16_t *id)
{
	if (!name || !*name)
		return -1;
	for (size_t i = 0; i < o->n_hosts; i++) {
		if (strcasecmp(o->hosts[i].name, name) == 0) {
			*id = o->hosts[i].id;
			return 0;
		}
	}
	return prk_fence_node_number(name, id) ? 0 : -1;
}

#define VICTIM_HOW "nodename= or plug= (--nodename/-n or --plug)"

int prk_fence_target_id(const struct prk_fence_opts *o, uint16_t *id, char *err, size_t errlen)
{
	uint16_t a = 0, b = 0;
	bool has_a, has_b;

	if (!o->plug[0] && !o->nodename[0])
		return prk_errf(err, errlen, "action '%s' needs the node: %s",
		                o->reboot_requested ? "reboot" : prk_fence_action_name(o->action),
		                VICTIM_HOW);
	has_a = o->plug[0] && prk_fence_node_id(o, o->plug, &a) == 0;
	has_b = o->nodename[0] && prk_fence_node_id(o, o->nodename, &b) == 0;
	if (!has_a && !has_b) {
		if (o->plug[0] && o->nodename[0])
			return prk_errf(
			    err, errlen,
			    "neither plug '%s' nor nodename '%s' is a node id 1..65535 or a "
			    "name in host_map",
			    o->plug, o->nodename);
		return prk_errf(
		    err, errlen, "%s '%s' is not a node id 1..65535 nor a name in host_map",
		    o->plug[0] ? "plug" : "nodename", o->plug[0] ? o->plug : o->nodename);
	}
	if (has_a && has_b && a != b)
		return prk_errf(
		    err, errlen,
		    "plug '%s' (node id %u) and nodename '%s' (node id %u) name different "
		    "nodes",
		    o->plug, (unsigned)a, o->nodename, (unsigned)b);
	*id = has_a ? a : b;
	return 0;
}

int prk_fence_local_id(const struct prk_fence_opts *o, uint16_t *id, char *err, size_t errlen)
{
	if (o->nodeid) {
		*id = o->nodeid;
		return 0;
	}
	if (o->action == PRK_FENCE_ON && (o->plug[0] || o->nodename[0]))
		return prk_fence_target_id(o, id, err, errlen);
	if (!o->local_node[0])
		return prk_errf(err, errlen,
		                "this node's id is unknown: give --nodeid, or --local-node with a "
		                "name in host_map");
	if (prk_fence_node_id(o, o->local_node, id))
		return prk_errf(err, errlen,
		                "local_node '%s' is not a node id 1..65535 nor a name in host_map "
		                "(give --nodeid, or map it)",
		                o->local_node);
	return 0;
}

size_t prk_fence_member_ids(const struct prk_fence_opts *o, uint16_t *ids, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < o->n_members; i++) {
		uint16_t id;
		bool dup = false;

		if (prk_fence_node_id(o, o->members[i], &id))
			continue;
		for (size_t j = 0; j < n; j++)
			dup = dup || ids[j] == id;
		if (dup)
			continue;
		if (n == cap)
			break;
		ids[n++] = id;
	}
	return n;
}

/* ---- validation ---- */

/* first and members matter to on alone: an error in them must not stop
 * off (Pacemaker passes one parameter set to every action). */
static int check_members(const struct prk_fence_opts *o, char *err, size_t errlen)
{
	uint16_t id;

	for (size_t i = 0; i < o->n_members; i++)
		if (prk_fence_node_id(o, o->members[i], &id))
			return prk_errf(
			    err, errlen,
			    "members: '%s' is not a node id 1..65535 nor a name in host_map",
			    o->members[i]);
	/* Cluster mode: keys do not name nodes, first needs no list. */
	if (o->first && o->n_members == 0 && o->key_mode == PRK_FENCE_KEY_NODE)
		return prk_errf(err, errlen,
		                "first (--first) needs members= (--members): the current members");
	return 0;
}

/* This node, as far as it is known yet: *has is false when neither
 * --nodeid nor a resolvable --local-node was given. */
static int this_node(const struct prk_fence_opts *o, uint16_t *local, bool *has, char *err,
                     size_t errlen)
{
	*has = false;
	if (o->nodeid) {
		*local = o->nodeid;
		*has = true;
	} else if (o->local_node[0] && prk_fence_node_id(o, o->local_node, local) == 0) {
		*has = true;
	} else if (o->local_node_given) {
		return prk_errf(err, errlen,
		                "local_node '%s' is not a node id 1..65535 nor a name in host_map",
		                o->local_node);
	}
	return 0;
}

/* off and status: a victim that resolves, and off never of this node. */
static int check_victim(const struct prk_fence_opts *o, bool has_local, uint16_t local, char *err,
                        size_t errlen)
{
	uint16_t target = 0;

	if (prk_fence_target_id(o, &target, err, errlen))
		return -1;
	if (o->action == PRK_FENCE_OFF && has_local && local == target)
		return prk_errf(err, errlen,
		                "refusing to fence this node (node id %u) from itself: check "
		                "nodename/plug, --nodeid and --local-node",
		                (unsigned)target);
	return 0;
}

/* on: the node given (if any) is this node, and a first member is among
 * the members (else it would remove its own key). */
static int check_on(const struct prk_fence_opts *o, bool has_local, uint16_t local, char *err,
                    size_t errlen)
{
	uint16_t target = 0, ids[PRK_FENCE_MAX_MEMBERS];
	size_t n;
	bool in = false;

	if (o->plug[0] || o->nodename[0]) {
		if (prk_fence_target_id(o, &target, err, errlen))
			return -1;
		if (has_local && local != target)
			return prk_errf(err, errlen,
			                "on unfences this node, but the node given (id %u) "
			                "is not this node (id "
			                "%u from %s)",
			                (unsigned)target, (unsigned)local,
			                o->nodeid ? "--nodeid" : "local_node");
		local = target;
		has_local = true;
	}
	if (!o->first || !has_local || !o->n_members)
		return 0;
	n = prk_fence_member_ids(o, ids, PRK_FENCE_MAX_MEMBERS);
	for (size_t i = 0; i < n; i++)
		in = in || ids[i] == local;
	if (!in)
		return prk_errf(
		    err, errlen,
		    "first: this node (id %u) is not in members (it would remove its own key)",
		    (unsigned)local);
	return 0;
}

int prk_fence_opts_validate(const struct prk_fence_opts *o, char *err, size_t errlen)
{
	const char *act = o->reboot_requested ? "reboot" : prk_fence_action_name(o->action);
	uint16_t local = 0;
	bool has_local = false;

	if (o->action == PRK_FENCE_METADATA)
		return 0;
	if (o->n_devices == 0) {
		prk_errf(err, errlen, "action '%s' needs devices= (--devices/-d): iscsi:// URLs",
		         act);
		return PRK_FENCE_EXIT_ERROR;
	}
	if ((o->action == PRK_FENCE_ON || o->action == PRK_FENCE_VALIDATE) &&
	    check_members(o, err, errlen))
		return PRK_FENCE_EXIT_ERROR;
	if (this_node(o, &local, &has_local, err, errlen))
		return PRK_FENCE_EXIT_ERROR;
	if ((o->action == PRK_FENCE_OFF || o->action == PRK_FENCE_STATUS) &&
	    check_victim(o, has_local, local, err, errlen))
		return PRK_FENCE_EXIT_ERROR;
	if (o->action == PRK_FENCE_ON && check_on(o, has_local, local, err, errlen))
		return PRK_FENCE_EXIT_ERROR;
	return 0;
}
