/* `prkit target cluster`: the daemon's view of its cluster, as text. */
#include <inttypes.h>
#include <stdio.h>

#include "target_cluster.h"

static const char *s_(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static long long n_(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? (long long)json_object_get_int64(v) : 0;
}

static int b_(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

void prk_cli_print_cluster(json_object *rsp)
{
	json_object *c = json_object_object_get(rsp, "cluster");
	if (!c || !b_(c, "enabled")) {
		printf("not in cluster mode\n");
		return;
	}
	printf("node %lld: %s (%s)\n", n_(c, "node"), s_(c, "state"), s_(c, "why"));
	printf("quorum: %s, %s view, %lld configured nodes%s\n",
	       b_(c, "quorate") ? "quorate" : "NOT quorate",
	       b_(c, "primary") ? "primary" : "non-primary", n_(c, "configured_nodes"),
	       b_(c, "quorum_device") ? " + quorum device" : "");
	printf("epoch %lld, lease %lld ms left, %lld events applied, %lld pending, %lld "
	       "divergences\n",
	       n_(c, "epoch"), n_(c, "lease_ms_left"), n_(c, "events_applied"),
	       n_(c, "events_pending"), n_(c, "divergences"));
	json_object *ms = json_object_object_get(c, "members");
	printf("members:\n");
	for (size_t i = 0; i < json_object_array_length(ms); i++) {
		json_object *m = json_object_array_get_idx(ms, i);
		printf("  node %lld (pid %lld)", n_(m, "node"), n_(m, "pid"));
		json_object *ls = json_object_object_get(m, "links");
		for (size_t k = 0; k < json_object_array_length(ls); k++) {
			json_object *l = json_object_array_get_idx(ls, k);
			printf("  link %lld %s", n_(l, "link"), b_(l, "up") ? "up" : "DOWN");
		}
		printf("\n");
	}
	json_object *ps = json_object_object_get(c, "ports");
	printf("target port groups:\n");
	for (size_t i = 0; i < json_object_array_length(ps); i++) {
		json_object *p = json_object_array_get_idx(ps, i);
		printf("  node %lld  tpgt %lld  rtpi %lld  %s\n", n_(p, "node"), n_(p, "tpgt"),
		       n_(p, "rtpi"), s_(p, "alua_state"));
	}
	json_object *lus = json_object_object_get(c, "lus");
	printf("LUs:\n");
	for (size_t i = 0; i < json_object_array_length(lus); i++) {
		json_object *l = json_object_array_get_idx(lus, i);
		printf("  %s LUN %lld  seq %lld  generation %lld\n", s_(l, "target"), n_(l, "lun"),
		       n_(l, "seq"), n_(l, "generation"));
	}
}
