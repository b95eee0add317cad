/* `prkit fenced status`: the reply as text, and the exit statuses of
 * status and key (fenced_cli.h). Reads only the members the daemon
 * documents; a missing one shows as "?" rather than failing. */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "fenced_cli.h"

static json_object *mem(json_object *o, const char *k)
{
	json_object *v = NULL;
	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *s_(json_object *o, const char *k)
{
	json_object *v = mem(o, k);
	return v ? json_object_get_string(v) : "?";
}

static int64_t i_(json_object *o, const char *k)
{
	json_object *v = mem(o, k);
	return v ? json_object_get_int64(v) : 0;
}

static bool b_(json_object *o, const char *k)
{
	json_object *v = mem(o, k);
	return v && json_object_get_boolean(v);
}

static void node_list(FILE *f, json_object *a)
{
	size_t n = a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
	if (!n)
		fprintf(f, "none");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%d", i ? "," : "",
		        json_object_get_int(json_object_array_get_idx(a, i)));
}

/* "after N ms", or "-" when it did not happen (null). */
static void after(FILE *f, const char *what, json_object *v)
{
	if (v && !json_object_is_type(v, json_type_null))
		fprintf(f, ", %s after %" PRId64 " ms", what, json_object_get_int64(v));
	else
		fprintf(f, ", not %s", what);
}

static void wall(FILE *f, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "%s.%03dZ", buf, (int)(ms % 1000));
}

static void print_lus(FILE *f, json_object *lus)
{
	size_t n = lus ? json_object_array_length(lus) : 0;
	fprintf(f, "LUs: %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		json_object *l = json_object_array_get_idx(lus, i), *keys = mem(l, "keys"),
		            *holder = mem(l, "holder");
		fprintf(f, "  %s%s  %s  our key %s  keys %zu  holder %s\n", s_(l, "naa"),
		        b_(l, "coordinator") ? " (coordinator)" : "",
		        b_(l, "reachable") ? "reachable" : "UNREACHABLE",
		        b_(l, "has_our_key") ? "yes" : "NO",
		        keys ? json_object_array_length(keys) : 0,
		        holder ? json_object_get_string(holder) : "none");
	}
}

static void print_local(FILE *f, json_object *local)
{
	size_t n = local ? json_object_array_length(local) : 0;
	fprintf(f, "local processes: %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(local, i);
		fprintf(f,
		        "  %s  devices %" PRId64 "  stalled %" PRId64 "  fenced %" PRId64
		        "  key %s\n",
		        s_(p, "socket"), i_(p, "devices"), i_(p, "stalled"), i_(p, "fenced"),
		        s_(p, "key"));
	}
}

void prk_fdcli_print_status(FILE *f, json_object *st)
{
	fprintf(f, "node %" PRId64 " (cluster %s, %s keys): %s, %s", i_(st, "node"),
	        s_(st, "cluster_name"), s_(st, "key_mode"), s_(st, "state"),
	        b_(st, "quorate") ? "quorate" : "NOT quorate");
	if (i_(st, "executor"))
		fprintf(f, ", executor %" PRId64 "%s\n", i_(st, "executor"),
		        b_(st, "may_act") ? "" : " (this node may not act)");
	else
		fprintf(f, ", no executor\n");
	fprintf(f, "key %s (incarnation %" PRId64 ")\n", s_(st, "key"), i_(st, "incarnation"));
	json_object *ms = mem(st, "members");
	size_t n = ms ? json_object_array_length(ms) : 0;
	fprintf(f, "members:");
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(ms, i);
		fprintf(f, " %" PRId64 "%s", i_(m, "node"), b_(m, "joined") ? "" : " (not joined)");
	}
	fprintf(f, "%s\npending: ", n ? "" : " none");
	node_list(f, mem(st, "pending"));
	fprintf(f, "\n");
	print_lus(f, mem(st, "lus"));
	print_local(f, mem(st, "local"));
	json_object *c = mem(st, "check");
	if (c && !json_object_is_type(c, json_type_null))
		fprintf(f,
		        "self-check: %s, key on %" PRId64 " of %" PRId64 " LUs, %" PRId64
		        " ms ago\n",
		        b_(c, "ok") ? "ok" : "FAILED", i_(c, "with_key"), i_(c, "counted"),
		        i_(c, "age_ms"));
	else
		fprintf(f, "self-check: not run yet\n");
	json_object *r = mem(st, "last_fencing");
	if (r && !json_object_is_type(r, json_type_null)) {
		fprintf(f, "last fencing: node(s) ");
		node_list(f, mem(r, "victims"));
		fprintf(f, " by node %" PRId64 ": %s at ", i_(r, "executor"), s_(r, "result"));
		wall(f, i_(r, "changed_at_ms"));
		after(f, "stalled", mem(r, "stall_ms"));
		after(f, "fenced", mem(r, "fence_ms"));
		after(f, "resumed", mem(r, "resume_ms"));
		fprintf(f, "\n");
	} else {
		fprintf(f, "last fencing: none\n");
	}
	fprintf(f, "fencings: %" PRId64 "\n", i_(st, "fencings"));
	json_object *sf = mem(st, "self_fence");
	if (sf && !json_object_is_type(sf, json_type_null)) {
		fprintf(f, "SELF-FENCED at ");
		wall(f, i_(sf, "at_ms"));
		fprintf(f, ": %s (restart the daemon to rejoin)\n", s_(sf, "reason"));
	}
}

int prk_fdcli_status_exit(json_object *st)
{
	const char *s = s_(st, "state");
	return !strcmp(s, "running") || !strcmp(s, "fencing") ? PRK_FDCLI_EXIT_OK
	                                                      : PRK_FDCLI_EXIT_NOT_OK;
}

int prk_fdcli_key(json_object *st, FILE *out, FILE *err)
{
	const char *key = s_(st, "key");
	if (!b_(st, "joined") || !strcmp(key, "0x0000000000000000") || !strcmp(key, "?")) {
		fprintf(err, "prkit fenced: node %" PRId64 " has not joined (state %s): no key\n",
		        i_(st, "node"), s_(st, "state"));
		return PRK_FDCLI_EXIT_NOT_OK;
	}
	fprintf(out, "%s\n", key);
	return PRK_FDCLI_EXIT_OK;
}
