/* prkit fenced: the configuration file (fd_config.h). An operator writes
 * it, so every refusal names the member and the value it saw; the daemon
 * must never start on a guess. The LU syntax is the fence agent's (one
 * string per LU, its paths separated by commas), checked by the agent's
 * own reader so both accept the same text. */
#include "fd_config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errfmt.h"
#include "json_member.h"
#include "fence_key.h"
#include "fence_values.h"
#include "prkit/iscsi_url.h"
#include "prkit/scsi_tid.h"

#define CONFIG_FILE_MAX (1u << 20)

void prk_fd_config_init(struct prk_fd_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->cluster_name, sizeof(c->cluster_name), "%s", PRK_FENCE_DEFAULT_CLUSTER);
	snprintf(c->group, sizeof(c->group), "prkit-fenced");
	c->self_fence_ms = 2000;
	c->check_ms = 1000;
	c->stall_ack_ms = 2000;
	c->io_timeout_ms = 5000;
	c->stall_max_ms = 10000;
	c->watchdog_timeout_s = 10;
}

/* One LU: "url,url,...". The fence agent's reader checks the paths; a
 * blank there would start a second LU, which one string may not hold. */
static int parse_lu(const char *s, const char *what, struct prk_fence_device *out,
                    struct prk_fence_opts *scratch, char *err, size_t errlen)
{
	char why[400];
	scratch->n_devices = 0;
	if (prk_fence_add_devices(scratch, s, why, sizeof(why)))
		return prk_errf(err, errlen, "%s: %s", what, why);
	if (scratch->n_devices != 1)
		return prk_errf(err, errlen,
		                "%s: '%.60s' holds %zu LUs (one string is one LU: its paths "
		                "separated by commas, no blanks)",
		                what, s, scratch->n_devices);
	*out = scratch->devices[0];
	return 0;
}

/* "devices" or "coordinators": an array of LU strings, at most max. */
static int set_lus(json_object *v, const char *what, struct prk_fence_device *out, size_t max,
                   size_t *n_out, char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_array))
		return prk_errf(err, errlen, "%s: expected an array of strings, got %.60s", what,
		                prk_json_shown(v));
	size_t n = json_object_array_length(v);
	if (n == 0)
		return prk_errf(err, errlen, "%s: empty array", what);
	if (n > max)
		return prk_errf(err, errlen, "%s: %zu LUs, at most %zu", what, n, max);
	struct prk_fence_opts *scratch = malloc(sizeof(*scratch));
	if (!scratch)
		return prk_errf(err, errlen, "%s: out of memory", what);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		char item[64];
		const char *s;
		snprintf(item, sizeof(item), "%s[%zu]", what, i);
		rc = prk_json_str(json_object_array_get_idx(v, i), item, &s, err, errlen) ||
		     parse_lu(s, item, &out[i], scratch, err, errlen);
	}
	free(scratch);
	if (rc)
		return -1;
	*n_out = n;
	return 0;
}

/* "iscsi://host[:port]" (a trailing '/' allowed): a portal, no target. */
static int set_discover(json_object *v, struct prk_fd_config *c, char *err, size_t errlen)
{
	if (prk_json_text(v, "discover", c->discover, sizeof(c->discover), err, errlen))
		return -1;
	const char *p = c->discover;
	if (strncmp(p, "iscsi://", 8))
		return prk_errf(err, errlen, "discover: '%s' does not start with iscsi://", p);
	p += 8;
	const char *host = p, *end;
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end || end == p + 1)
			return prk_errf(err, errlen, "discover: '%s': bad [IPv6] host",
			                c->discover);
		p = end + 1;
	} else {
		p += strcspn(p, ":/");
		if (p == host)
			return prk_errf(err, errlen, "discover: '%s' has no host", c->discover);
		for (const char *q = host; q < p; q++)
			if (!(*q == '.' || *q == '-' || (*q >= '0' && *q <= '9') ||
			      (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')))
				return prk_errf(err, errlen,
				                "discover: '%s': character '%c' in the host",
				                c->discover, *q);
	}
	if (*p == ':') {
		uint64_t port;
		size_t n = strcspn(p + 1, "/");
		if (!prk_parse_dec_n(p + 1, n, 65535, &port) || port == 0)
			return prk_errf(err, errlen, "discover: '%s': port is not 1..65535",
			                c->discover);
		p += 1 + n;
	}
	if (*p && strcmp(p, "/"))
		return prk_errf(err, errlen,
		                "discover: '%s': give only iscsi://host[:port] (every LU the "
		                "portal lists is used)",
		                c->discover);
	return 0;
}

static int set_watchdog(json_object *v, struct prk_fd_config *c, char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_object))
		return prk_errf(
		    err, errlen,
		    "watchdog: expected {\"device\": path, \"timeout_s\": n}, got %.60s",
		    prk_json_shown(v));
	bool have_dev = false;
	json_object_object_foreach(v, k, m)
	{
		if (!strcmp(k, "device")) {
			if (prk_json_abs_path(m, "watchdog.device", c->watchdog,
			                      sizeof(c->watchdog), err, errlen))
				return -1;
			have_dev = true;
		} else if (!strcmp(k, "timeout_s")) {
			if (prk_json_uint(m, "watchdog.timeout_s", 1, 600, &c->watchdog_timeout_s,
			                  err, errlen))
				return -1;
		} else {
			return prk_errf(err, errlen,
			                "watchdog.%.60s: unknown member (device, timeout_s)", k);
		}
	}
	if (!have_dev)
		return prk_errf(err, errlen, "watchdog: no \"device\" (e.g. \"/dev/watchdog\")");
	return 0;
}

static int set_member(const char *k, json_object *v, struct prk_fd_config *c, char *err,
                      size_t errlen)
{
	const char *s;
	if (!strcmp(k, "cluster_name")) {
		if (prk_json_str(v, k, &s, err, errlen))
			return -1;
		if (!prk_fence_cluster_name_valid(s))
			return prk_errf(
			    err, errlen,
			    "cluster_name: '%.80s' is not a valid cluster name (1..%d of "
			    "A-Z a-z 0-9 . _ -, not starting with . or -)",
			    s, PRK_FENCE_CLUSTER_NAME_MAX);
		snprintf(c->cluster_name, sizeof(c->cluster_name), "%s", s);
	} else if (!strcmp(k, "key_mode")) {
		if (prk_json_str(v, k, &s, err, errlen))
			return -1;
		if (strcmp(s, "node") && strcmp(s, "cluster"))
			return prk_errf(err, errlen,
			                "key_mode: '%.60s' is not \"node\" or \"cluster\"", s);
		c->cluster_key = !strcmp(s, "cluster");
	} else if (!strcmp(k, "devices")) {
		return set_lus(v, k, c->devices, PRK_FENCE_MAX_DEVICES, &c->n_devices, err, errlen);
	} else if (!strcmp(k, "discover")) {
		return set_discover(v, c, err, errlen);
	} else if (!strcmp(k, "coordinators")) {
		if (set_lus(v, k, c->coordinators, PRK_FD_MAX_COORD, &c->n_coordinators, err,
		            errlen))
			return -1;
		/* An even number could tie: the race needs a strict majority. */
		if (c->n_coordinators % 2 == 0)
			return prk_errf(
			    err, errlen,
			    "coordinators: %zu LUs; give an odd number (1, 3, 5 or 7) so "
			    "that one side wins a majority",
			    c->n_coordinators);
	} else if (!strcmp(k, "initiator")) {
		if (prk_json_text(v, k, c->initiator, sizeof(c->initiator), err, errlen))
			return -1;
		if (!prk_iscsi_name_valid(c->initiator) || !prk_iscsi_name_has_type(c->initiator))
			return prk_errf(err, errlen,
			                "initiator: '%s' is not an iSCSI name (iqn., eui. or naa. "
			                "and valid characters)",
			                c->initiator);
	} else if (!strcmp(k, "state_dir")) {
		return prk_json_abs_path(v, k, c->state_dir, sizeof(c->state_dir), err, errlen);
	} else if (!strcmp(k, "group")) {
		return prk_json_text(v, k, c->group, sizeof(c->group), err, errlen);
	} else if (!strcmp(k, "socket")) {
		return prk_json_abs_path(v, k, c->socket, sizeof(c->socket), err, errlen);
	} else if (!strcmp(k, "self_fence_ms")) {
		return prk_json_uint(v, k, 0, 600000, &c->self_fence_ms, err, errlen);
	} else if (!strcmp(k, "check_ms")) {
		return prk_json_uint(v, k, 100, 1000, &c->check_ms, err, errlen);
	} else if (!strcmp(k, "stall_ack_ms")) {
		return prk_json_uint(v, k, 100, 60000, &c->stall_ack_ms, err, errlen);
	} else if (!strcmp(k, "io_timeout_ms")) {
		return prk_json_uint(v, k, 500, 120000, &c->io_timeout_ms, err, errlen);
	} else if (!strcmp(k, "stall_max_ms")) {
		return prk_json_uint(v, k, 1000, 600000, &c->stall_max_ms, err, errlen);
	} else if (!strcmp(k, "watchdog")) {
		return set_watchdog(v, c, err, errlen);
	} else if (!strcmp(k, "two_node_ok")) {
		return prk_json_bool(v, k, &c->two_node_ok, err, errlen);
	} else {
		return prk_errf(err, errlen,
		                "%.60s: unknown member (cluster_name, key_mode, devices, discover, "
		                "coordinators, initiator, state_dir, group, socket, self_fence_ms, "
		                "check_ms, stall_ack_ms, io_timeout_ms, stall_max_ms, watchdog, "
		                "two_node_ok)",
		                k);
	}
	return 0;
}

/* The i-th LU of devices then coordinators, and its name for messages. */
static const struct prk_fence_device *lu_at(const struct prk_fd_config *c, size_t i, char *name,
                                            size_t cap)
{
	if (i < c->n_devices) {
		snprintf(name, cap, "devices[%zu]", i);
		return &c->devices[i];
	}
	snprintf(name, cap, "coordinators[%zu]", i - c->n_devices);
	return &c->coordinators[i - c->n_devices];
}

/* A path in two LU strings would be fenced twice and counted twice by the
 * self-check; a coordinator that is also a data LU breaks the race's
 * majority. */
static int check_disjoint(const struct prk_fd_config *c, char *err, size_t errlen)
{
	size_t n = c->n_devices + c->n_coordinators;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++) {
			char ni[32], nj[32];
			const struct prk_fence_device *a = lu_at(c, i, ni, sizeof(ni));
			const struct prk_fence_device *b = lu_at(c, j, nj, sizeof(nj));
			for (size_t p = 0; p < a->n_paths; p++)
				for (size_t q = 0; q < b->n_paths; q++)
					if (!strcmp(a->paths[p], b->paths[q]))
						return prk_errf(err, errlen,
						                "%s: path '%s' is also in %s", ni,
						                a->paths[p], nj);
		}
	return 0;
}

int prk_fd_config_parse(const char *text, size_t len, struct prk_fd_config *c, char *err,
                        size_t errlen)
{
	prk_fd_config_init(c);
	json_object *root = prk_json_parse_object(text, len, CONFIG_FILE_MAX, err, errlen);
	if (!root)
		return -1;
	int rc = 0;
	bool devs = false, disc = false;
	json_object_object_foreach(root, k, v)
	{
		if (set_member(k, v, c, err, errlen)) {
			rc = -1;
			break;
		}
		devs |= !strcmp(k, "devices");
		disc |= !strcmp(k, "discover");
	}
	if (!rc && devs && disc)
		rc = prk_errf(err, errlen, "devices and discover: give one of them, not both");
	else if (!rc && !devs && !disc)
		rc = prk_errf(err, errlen,
		              "devices: missing (give \"devices\": [\"iscsi://...\"] or "
		              "\"discover\": \"iscsi://host\")");
	if (!rc)
		rc = check_disjoint(c, err, errlen);
	json_object_put(root);
	return rc;
}

static int parse_any(const char *text, size_t len, void *out, char *err, size_t errlen)
{
	return prk_fd_config_parse(text, len, out, err, errlen);
}

int prk_fd_config_load(const char *path, struct prk_fd_config *c, char *err, size_t errlen)
{
	return prk_json_load_file(path, CONFIG_FILE_MAX, parse_any, c, err, errlen);
}
