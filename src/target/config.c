/* Parsing and validating prkitd's JSON configuration. Every error names the
 * JSON path of the field and says what is wrong with it; unknown fields are
 * errors too, so that a typo never silently falls back to a default. */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cm.h"
#include "config.h"
#include "json_where.h"
#include "lu.h"
#include "prkit/scsi_tid.h"

struct ctx {
	char *err;
	size_t errlen;
};

static int fail(struct ctx *x, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct ctx *x, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(x->err, x->errlen, "%s: %s", path, msg);
	return -1;
}

int prk_cfg_parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return -1;
	uint64_t mult = 1;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K':
			mult = 1ULL << 10;
			break;
		case 'M':
			mult = 1ULL << 20;
			break;
		case 'G':
			mult = 1ULL << 30;
			break;
		case 'T':
			mult = 1ULL << 40;
			break;
		default:
			return -1;
		}
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
		if (*end)
			return -1;
	}
	if (v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

/* Checks that obj has only the listed keys. */
static int only_keys(struct ctx *x, const char *path, json_object *obj, const char *const *keys)
{
	json_object_object_foreach(obj, k, v)
	{
		(void)v;
		bool known = false;
		for (const char *const *p = keys; *p; p++)
			known |= strcmp(*p, k) == 0;
		if (!known)
			return fail(x, path, "unknown field \"%s\"", k);
	}
	return 0;
}

static int get_obj(struct ctx *x, const char *path, json_object *v)
{
	if (!json_object_is_type(v, json_type_object))
		return fail(x, path, "must be an object");
	return 0;
}

static int get_str(struct ctx *x, const char *path, json_object *v, char *out, size_t cap,
                   bool nonempty)
{
	if (!json_object_is_type(v, json_type_string))
		return fail(x, path, "must be a string");
	const char *s = json_object_get_string(v);
	size_t n = strlen(s);
	if (n >= cap)
		return fail(x, path, "longer than %zu characters", cap - 1);
	if (nonempty && !n)
		return fail(x, path, "must not be empty");
	memcpy(out, s, n + 1);
	return 0;
}

static int get_uint(struct ctx *x, const char *path, json_object *v, uint64_t min, uint64_t max,
                    uint64_t *out)
{
	if (!json_object_is_type(v, json_type_int))
		return fail(x, path, "must be an integer");
	int64_t i = json_object_get_int64(v);
	/* Named as given: json-c clamps what int64 cannot hold, its text
	 * does not. */
	if (i < 0 || (uint64_t)i < min || (uint64_t)i > max)
		return fail(x, path, "%s is out of range %llu..%llu",
		            json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
		            (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)i;
	return 0;
}

static int get_bool(struct ctx *x, const char *path, json_object *v, bool *out)
{
	if (!json_object_is_type(v, json_type_boolean))
		return fail(x, path, "must be true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

static int get_size(struct ctx *x, const char *path, json_object *v, uint64_t *out)
{
	if (json_object_is_type(v, json_type_int))
		return get_uint(x, path, v, 0, INT64_MAX, out);
	if (!json_object_is_type(v, json_type_string) ||
	    prk_cfg_parse_size(json_object_get_string(v), out))
		return fail(x, path, "must be a size in bytes, or a string like \"64M\" or \"1G\"");
	return 0;
}

static int parse_chap(struct ctx *x, const char *path, json_object *o, struct prk_chap_creds *c)
{
	static const char *const keys[] = {"user", "secret", "mutual_user", "mutual_secret", NULL};
	char p[256];
	if (get_obj(x, path, o) || only_keys(x, path, o, keys))
		return -1;
	memset(c, 0, sizeof(*c));
	json_object *v;
	if (!json_object_object_get_ex(o, "user", &v) ||
	    get_str(x, (snprintf(p, sizeof(p), "%s.user", path), p), v, c->user, sizeof(c->user),
	            true))
		return json_object_object_get_ex(o, "user", &v)
		           ? -1
		           : fail(x, path, "\"user\" is required");
	if (!json_object_object_get_ex(o, "secret", &v))
		return fail(x, path, "\"secret\" is required");
	snprintf(p, sizeof(p), "%s.secret", path);
	if (get_str(x, p, v, c->secret, sizeof(c->secret), true))
		return -1;
	if (strlen(c->secret) < 12)
		return fail(x, p, "CHAP secrets must be at least 12 characters (RFC 7143 9.2.1)");
	bool mu = json_object_object_get_ex(o, "mutual_user", &v);
	json_object *ms;
	bool msec = json_object_object_get_ex(o, "mutual_secret", &ms);
	if (mu != msec)
		return fail(x, path, "mutual_user and mutual_secret go together");
	if (mu) {
		snprintf(p, sizeof(p), "%s.mutual_user", path);
		if (get_str(x, p, v, c->mutual_user, sizeof(c->mutual_user), true))
			return -1;
		snprintf(p, sizeof(p), "%s.mutual_secret", path);
		if (get_str(x, p, ms, c->mutual_secret, sizeof(c->mutual_secret), true))
			return -1;
		if (strcmp(c->mutual_secret, c->secret) == 0)
			return fail(x, p,
			            "must differ from the initiator's secret (RFC 7143 9.2.1)");
		c->mutual = true;
	}
	c->required = true;
	return 0;
}

static int parse_lun(struct ctx *x, const char *path, json_object *o, struct prk_cfg_lun *l,
                     const char *target, size_t index)
{
	static const char *const keys[] = {"lun",
	                                   "backstore",
	                                   "block_size",
	                                   "thin",
	                                   "readonly",
	                                   "serial",
	                                   "persistent_reservations",
	                                   "third_party_reservations",
	                                   NULL};
	static const char *const bs_keys[] = {"type",        "path",   "size", "direct",
	                                      "queue_depth", "create", "grow", NULL};
	char p[512];
	json_object *v, *bs;
	uint64_t u;
	if (get_obj(x, path, o) || only_keys(x, path, o, keys))
		return -1;
	l->lun = (uint16_t)index;
	l->block_size = 512;
	l->queue_depth = 128;
	if (json_object_object_get_ex(o, "lun", &v)) {
		snprintf(p, sizeof(p), "%s.lun", path);
		if (get_uint(x, p, v, 0, 16383, &u))
			return -1;
		l->lun = (uint16_t)u;
	}
	if (!json_object_object_get_ex(o, "backstore", &bs))
		return fail(x, path, "\"backstore\" is required");
	snprintf(p, sizeof(p), "%s.backstore", path);
	if (get_obj(x, p, bs) || only_keys(x, p, bs, bs_keys))
		return -1;
	char type[16];
	if (!json_object_object_get_ex(bs, "type", &v))
		return fail(x, p, "\"type\" is required (\"ram\" or \"file\")");
	snprintf(p, sizeof(p), "%s.backstore.type", path);
	if (get_str(x, p, v, type, sizeof(type), true))
		return -1;
	if (strcmp(type, "ram") == 0)
		l->type = PRK_CFG_BS_RAM;
	else if (strcmp(type, "file") == 0)
		l->type = PRK_CFG_BS_FILE;
	else
		return fail(x, p, "\"%s\" is not a backstore type (\"ram\" or \"file\")", type);
	if (json_object_object_get_ex(bs, "path", &v)) {
		snprintf(p, sizeof(p), "%s.backstore.path", path);
		if (l->type != PRK_CFG_BS_FILE)
			return fail(x, p, "only file backstores have a path");
		if (get_str(x, p, v, l->path, sizeof(l->path), true))
			return -1;
	} else if (l->type == PRK_CFG_BS_FILE) {
		snprintf(p, sizeof(p), "%s.backstore", path);
		return fail(x, p, "\"path\" is required for a file backstore");
	}
	if (json_object_object_get_ex(bs, "size", &v)) {
		snprintf(p, sizeof(p), "%s.backstore.size", path);
		if (get_size(x, p, v, &l->size))
			return -1;
	}
	if (l->type == PRK_CFG_BS_RAM && !l->size) {
		snprintf(p, sizeof(p), "%s.backstore", path);
		return fail(x, p, "a RAM backstore needs a non-zero \"size\"");
	}
	if (json_object_object_get_ex(bs, "direct", &v)) {
		snprintf(p, sizeof(p), "%s.backstore.direct", path);
		if (get_bool(x, p, v, &l->direct))
			return -1;
	}
	/* A typo in a path must not serve a new empty disk, nor a short file
	 * silently grow: both are asked for by name. */
	static const char *const file_flags[] = {"create", "grow"};
	for (size_t i = 0; i < 2; i++) {
		if (!json_object_object_get_ex(bs, file_flags[i], &v))
			continue;
		snprintf(p, sizeof(p), "%s.backstore.%s", path, file_flags[i]);
		if (l->type != PRK_CFG_BS_FILE)
			return fail(x, p, "only file backstores have it");
		if (get_bool(x, p, v, i ? &l->grow : &l->create))
			return -1;
	}
	if (l->create && !l->size) {
		snprintf(p, sizeof(p), "%s.backstore", path);
		return fail(x, p, "\"create\": true needs a \"size\" for the new file");
	}
	if (json_object_object_get_ex(bs, "queue_depth", &v)) {
		snprintf(p, sizeof(p), "%s.backstore.queue_depth", path);
		if (get_uint(x, p, v, 1, 4096, &u))
			return -1;
		l->queue_depth = (unsigned)u;
	}
	if (json_object_object_get_ex(o, "block_size", &v)) {
		snprintf(p, sizeof(p), "%s.block_size", path);
		if (get_uint(x, p, v, 512, 4096, &u))
			return -1;
		if (u != 512 && u != 4096)
			return fail(x, p, "must be 512 or 4096");
		l->block_size = (uint32_t)u;
	}
	if (l->size % l->block_size) {
		snprintf(p, sizeof(p), "%s.backstore.size", path);
		return fail(x, p, "%llu is not a multiple of the block size %u",
		            (unsigned long long)l->size, l->block_size);
	}
	if (json_object_object_get_ex(o, "thin", &v)) {
		snprintf(p, sizeof(p), "%s.thin", path);
		if (get_bool(x, p, v, &l->thin))
			return -1;
	}
	if (json_object_object_get_ex(o, "readonly", &v)) {
		snprintf(p, sizeof(p), "%s.readonly", path);
		if (get_bool(x, p, v, &l->readonly))
			return -1;
	}
	if (json_object_object_get_ex(o, "persistent_reservations", &v)) {
		bool pr = true;
		snprintf(p, sizeof(p), "%s.persistent_reservations", path);
		if (get_bool(x, p, v, &pr))
			return -1;
		l->no_pr = !pr;
	}
	if (json_object_object_get_ex(o, "third_party_reservations", &v)) {
		snprintf(p, sizeof(p), "%s.third_party_reservations", path);
		if (get_bool(x, p, v, &l->third_party_pr))
			return -1;
	}
	if (json_object_object_get_ex(o, "serial", &v)) {
		snprintf(p, sizeof(p), "%s.serial", path);
		if (get_str(x, p, v, l->serial, sizeof(l->serial), true))
			return -1;
		for (const char *c = l->serial; *c; c++)
			if (*c < 0x21 || *c > 0x7e)
				return fail(x, p, "must be printable ASCII without spaces");
	} else {
		/* once "lun" is known: the default comes from the target and LUN */
		prk_cfg_default_serial(target, l->lun, l->serial, sizeof(l->serial));
	}
	return 0;
}

static int parse_target(struct ctx *x, const char *path, json_object *o, struct prk_cfg_target *t)
{
	static const char *const keys[] = {"name", "alias", "chap", "acls", "luns", NULL};
	char p[512];
	json_object *v;
	if (get_obj(x, path, o) || only_keys(x, path, o, keys))
		return -1;
	if (!json_object_object_get_ex(o, "name", &v))
		return fail(x, path, "\"name\" is required");
	snprintf(p, sizeof(p), "%s.name", path);
	if (get_str(x, p, v, t->name, sizeof(t->name), true))
		return -1;
	if (!prk_iscsi_name_valid(t->name) ||
	    (strncasecmp(t->name, "iqn.", 4) && strncasecmp(t->name, "eui.", 4) &&
	     strncasecmp(t->name, "naa.", 4)))
		return fail(x, p, "\"%s\" is not an iSCSI name (iqn., eui. or naa.)", t->name);
	if (json_object_object_get_ex(o, "alias", &v)) {
		snprintf(p, sizeof(p), "%s.alias", path);
		if (get_str(x, p, v, t->alias, sizeof(t->alias), false))
			return -1;
	}
	if (json_object_object_get_ex(o, "chap", &v)) {
		snprintf(p, sizeof(p), "%s.chap", path);
		if (parse_chap(x, p, v, &t->chap))
			return -1;
	}
	if (json_object_object_get_ex(o, "acls", &v)) {
		snprintf(p, sizeof(p), "%s.acls", path);
		if (!json_object_is_type(v, json_type_array))
			return fail(x, p, "must be an array");
		size_t n = json_object_array_length(v);
		t->acls = calloc(n ? n : 1, sizeof(*t->acls));
		if (!t->acls)
			return fail(x, p, "out of memory");
		t->n_acls = n;
		for (size_t i = 0; i < n; i++) {
			static const char *const akeys[] = {"initiator", "chap", NULL};
			json_object *a = json_object_array_get_idx(v, i), *f;
			snprintf(p, sizeof(p), "%s.acls[%zu]", path, i);
			if (get_obj(x, p, a) || only_keys(x, p, a, akeys))
				return -1;
			if (!json_object_object_get_ex(a, "initiator", &f))
				return fail(x, p, "\"initiator\" is required");
			char q[640];
			snprintf(q, sizeof(q), "%s.initiator", p);
			if (get_str(x, q, f, t->acls[i].initiator, sizeof(t->acls[i].initiator),
			            true))
				return -1;
			if (!prk_iscsi_name_valid(t->acls[i].initiator))
				return fail(x, q, "not a valid iSCSI name");
			if (json_object_object_get_ex(a, "chap", &f)) {
				snprintf(q, sizeof(q), "%s.chap", p);
				if (parse_chap(x, q, f, &t->acls[i].chap))
					return -1;
			}
		}
	}
	if (!json_object_object_get_ex(o, "luns", &v))
		return fail(x, path, "\"luns\" is required");
	snprintf(p, sizeof(p), "%s.luns", path);
	if (!json_object_is_type(v, json_type_array))
		return fail(x, p, "must be an array");
	size_t n = json_object_array_length(v);
	t->luns = calloc(n ? n : 1, sizeof(*t->luns));
	if (!t->luns)
		return fail(x, p, "out of memory");
	t->n_luns = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s.luns[%zu]", path, i);
		if (parse_lun(x, p, json_object_array_get_idx(v, i), &t->luns[i], t->name, i))
			return -1;
		for (size_t j = 0; j < i; j++)
			if (t->luns[j].lun == t->luns[i].lun)
				return fail(x, p, "LUN %u is already used by luns[%zu]",
				            t->luns[i].lun, j);
	}
	return 0;
}

static int parse_portals(struct ctx *x, json_object *v, struct prk_cfg *cfg)
{
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
		return fail(x, "portals", "must be a non-empty array");
	size_t n = json_object_array_length(v);
	cfg->portals = calloc(n, sizeof(*cfg->portals));
	if (!cfg->portals)
		return fail(x, "portals", "out of memory");
	cfg->n_portals = n;
	for (size_t i = 0; i < n; i++) {
		static const char *const keys[] = {"address", "port",       "tpgt",
		                                   "rtpi",    "alua_state", NULL};
		struct prk_cfg_portal *pt = &cfg->portals[i];
		json_object *o = json_object_array_get_idx(v, i), *f;
		char p[128], q[160];
		uint64_t u;
		snprintf(p, sizeof(p), "portals[%zu]", i);
		if (get_obj(x, p, o) || only_keys(x, p, o, keys))
			return -1;
		pt->port = 3260;
		pt->tpgt = pt->rtpi = (uint16_t)(i + 1);
		if (!json_object_object_get_ex(o, "address", &f))
			return fail(x, p, "\"address\" is required");
		snprintf(q, sizeof(q), "%s.address", p);
		if (get_str(x, q, f, pt->address, sizeof(pt->address), true))
			return -1;
		if (json_object_object_get_ex(o, "port", &f)) {
			snprintf(q, sizeof(q), "%s.port", p);
			if (get_uint(x, q, f, 0, 65535, &u))
				return -1;
			pt->port = (uint16_t)u;
		}
		if (json_object_object_get_ex(o, "tpgt", &f)) {
			snprintf(q, sizeof(q), "%s.tpgt", p);
			if (get_uint(x, q, f, 1, 65535, &u))
				return -1;
			pt->tpgt = (uint16_t)u;
		}
		if (json_object_object_get_ex(o, "rtpi", &f)) {
			snprintf(q, sizeof(q), "%s.rtpi", p);
			if (get_uint(x, q, f, 1, 65535, &u))
				return -1;
			pt->rtpi = (uint16_t)u;
		}
		if (json_object_object_get_ex(o, "alua_state", &f)) {
			char st[32];
			enum prk_lu_alua_state as;
			snprintf(q, sizeof(q), "%s.alua_state", p);
			if (!json_object_is_type(f, json_type_string) ||
			    get_str(x, q, f, st, sizeof(st), true) ||
			    prk_lu_alua_state_parse(st, &as))
				return fail(
				    x, q,
				    "must be \"active_optimized\", \"active_non_optimized\", "
				    "\"standby\" or \"unavailable\"");
			pt->alua_state = (uint8_t)as;
		}
		for (size_t j = 0; j < i; j++) {
			struct prk_cfg_portal *o2 = &cfg->portals[j];
			if (o2->tpgt == pt->tpgt || o2->rtpi == pt->rtpi)
				return fail(x, p, "tpgt %u / rtpi %u already used by portals[%zu]",
				            pt->tpgt, pt->rtpi, j);
			if (o2->port == pt->port && strcmp(o2->address, pt->address) == 0 &&
			    pt->port)
				return fail(x, p, "%s:%u is listed twice", pt->address, pt->port);
		}
	}
	return 0;
}

/* "cluster": {"name", "heartbeat_ms", "lease_ms", "departure_margin_ms"}.
 * The lease must outlast a few heartbeats, or a node would stop serving
 * between two renewals. lease_ms 0 (absent): derived at start from
 * Corosync's failure detection (daemon_cluster.c). */
static int parse_cluster(struct ctx *x, json_object *o, struct prk_cfg_cluster *c)
{
	static const char *const keys[] = {"name", "heartbeat_ms", "lease_ms",
	                                   "departure_margin_ms", NULL};
	json_object *v;
	uint64_t u;
	if (get_obj(x, "cluster", o) || only_keys(x, "cluster", o, keys))
		return -1;
	*c = (struct prk_cfg_cluster){
	    .enabled = true, .heartbeat_ms = 200, .lease_ms = 0, .margin_ms = 200};
	snprintf(c->name, sizeof(c->name), "prkit");
	if (json_object_object_get_ex(o, "name", &v)) {
		if (get_str(x, "cluster.name", v, c->name, sizeof(c->name) - 6, true))
			return -1;
		for (const char *s = c->name; *s; s++)
			if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
				return fail(x, "cluster.name",
				            "\"%s\": letters, digits, '-', '_' and '.' only",
				            c->name);
	}
	if (json_object_object_get_ex(o, "heartbeat_ms", &v)) {
		if (get_uint(x, "cluster.heartbeat_ms", v, 20, 5000, &u))
			return -1;
		c->heartbeat_ms = (unsigned)u;
	}
	if (json_object_object_get_ex(o, "lease_ms", &v)) {
		if (get_uint(x, "cluster.lease_ms", v, 100, 60000, &u))
			return -1;
		c->lease_ms = (unsigned)u;
	}
	if (json_object_object_get_ex(o, "departure_margin_ms", &v)) {
		if (get_uint(x, "cluster.departure_margin_ms", v, 0, 60000, &u))
			return -1;
		c->margin_ms = (unsigned)u;
	}
	if (c->lease_ms && c->lease_ms < 2 * c->heartbeat_ms)
		return fail(x, "cluster.lease_ms",
		            "%u ms: must be at least twice heartbeat_ms (%u ms), or the lease runs "
		            "out between renewals",
		            c->lease_ms, c->heartbeat_ms);
	return 0;
}

/* "copy_manager": false, or {"initiator", "isid", "rtpi", "max_copies"},
 * each optional. The copy manager's I_T nexus must be nobody else's: its
 * relative target port is no portal's (checked in check_cm_ids, once the
 * portals are known) and its name no ACL's. */
static int parse_copy_manager(struct ctx *x, json_object *o, struct prk_cfg_copy_manager *c)
{
	static const char *const keys[] = {"initiator", "isid", "rtpi", "max_copies", NULL};
	json_object *v;
	uint64_t u;
	if (json_object_is_type(o, json_type_boolean)) {
		if (json_object_get_boolean(o))
			return fail(x, "copy_manager",
			            "true is not a setting: give an object (or false to turn "
			            "third-party copy off)");
		c->disabled = true;
		return 0;
	}
	if (!json_object_is_type(o, json_type_object))
		return fail(x, "copy_manager", "must be an object, or false");
	if (only_keys(x, "copy_manager", o, keys))
		return -1;
	if (json_object_object_get_ex(o, "initiator", &v)) {
		if (get_str(x, "copy_manager.initiator", v, c->initiator, sizeof(c->initiator),
		            true))
			return -1;
		if (!prk_iscsi_name_valid(c->initiator) ||
		    (strncasecmp(c->initiator, "iqn.", 4) && strncasecmp(c->initiator, "eui.", 4) &&
		     strncasecmp(c->initiator, "naa.", 4)))
			return fail(x, "copy_manager.initiator",
			            "\"%s\" is not an iSCSI name (iqn., eui. or naa.)",
			            c->initiator);
	}
	if (json_object_object_get_ex(o, "isid", &v)) {
		const char *s =
		    json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		char *end = NULL;
		unsigned long long id = 0;
		size_t n = s ? strlen(s) : 0;
		bool ok = s && n > 2 && n <= 14 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
		          isxdigit((unsigned char)s[2]);
		if (ok) {
			errno = 0;
			id = strtoull(s + 2, &end, 16);
			ok = !errno && !*end;
		}
		if (!ok)
			return fail(
			    x, "copy_manager.isid",
			    "must be a string of 1 to 12 hex digits after \"0x\" (48 bits)");
		c->isid = id;
	}
	if (json_object_object_get_ex(o, "rtpi", &v)) {
		if (get_uint(x, "copy_manager.rtpi", v, 1, 65535, &u))
			return -1;
		c->rtpi = (uint16_t)u;
	}
	if (json_object_object_get_ex(o, "max_copies", &v)) {
		/* At least 16 copies at once (the issue); OPERATING PARAMETERS
		 * reports MAXIMUM CONCURRENT COPIES in one byte. Each copy may
		 * hold depth x chunk bytes of buffers (4 MiB by default). */
		if (get_uint(x, "copy_manager.max_copies", v, 16, 255, &u))
			return -1;
		c->max_copies = (unsigned)u;
	}
	return 0;
}

/* No portal on the copy manager's relative target port, no ACL naming its
 * initiator: either would let a host be the copy manager's I_T nexus. */
static int check_cm_ids(struct ctx *x, const struct prk_cfg *cfg)
{
	const struct prk_cfg_copy_manager *c = &cfg->copy_manager;
	if (c->disabled)
		return 0;
	for (size_t i = 0; i < cfg->n_portals; i++)
		if (cfg->portals[i].rtpi == c->rtpi) {
			char p[64];
			snprintf(p, sizeof(p), "portals[%zu].rtpi", i);
			return fail(x, p,
			            "%u is the copy manager's relative target port "
			            "(copy_manager.rtpi): choose another for one of them",
			            c->rtpi);
		}
	for (size_t t = 0; t < cfg->n_targets; t++)
		for (size_t a = 0; a < cfg->targets[t].n_acls; a++)
			if (strcasecmp(cfg->targets[t].acls[a].initiator, c->initiator) == 0) {
				char p[96];
				snprintf(p, sizeof(p), "targets[%zu].acls[%zu].initiator", t, a);
				return fail(x, p,
				            "%s is the copy manager's initiator name, which no "
				            "session may use (copy_manager.initiator)",
				            cfg->targets[t].acls[a].initiator);
			}
	return 0;
}

static int parse_root(struct ctx *x, json_object *root, struct prk_cfg *cfg)
{
	static const char *const keys[] = {"log_level",
	                                   "admin_socket",
	                                   "state_dir",
	                                   "portals",
	                                   "targets",
	                                   "discovery_chap",
	                                   "max_sessions",
	                                   "max_tasks",
	                                   "max_recv_data_segment_length",
	                                   "max_burst_length",
	                                   "first_burst_length",
	                                   "nop_interval_ms",
	                                   "nop_timeout_ms",
	                                   "max_task_memory",
	                                   "max_login_connections",
	                                   "login_timeout_ms",
	                                   "threads",
	                                   "cluster",
	                                   "copy_manager",
	                                   NULL};
	json_object *v;
	uint64_t u;
	if (get_obj(x, "(top level)", root) || only_keys(x, "(top level)", root, keys))
		return -1;
	snprintf(cfg->log_level, sizeof(cfg->log_level), "info");
	if (json_object_object_get_ex(root, "log_level", &v)) {
		if (get_str(x, "log_level", v, cfg->log_level, sizeof(cfg->log_level), true))
			return -1;
		if (strcmp(cfg->log_level, "error") && strcmp(cfg->log_level, "warn") &&
		    strcmp(cfg->log_level, "info") && strcmp(cfg->log_level, "debug"))
			return fail(x, "log_level", "\"%s\" is not error, warn, info or debug",
			            cfg->log_level);
	}
	if (json_object_object_get_ex(root, "admin_socket", &v) &&
	    get_str(x, "admin_socket", v, cfg->admin_socket, sizeof(cfg->admin_socket), true))
		return -1;
	if (json_object_object_get_ex(root, "state_dir", &v) &&
	    get_str(x, "state_dir", v, cfg->state_dir, sizeof(cfg->state_dir), true))
		return -1;
	if (!json_object_object_get_ex(root, "portals", &v))
		return fail(x, "(top level)", "\"portals\" is required");
	if (parse_portals(x, v, cfg))
		return -1;
	if (!json_object_object_get_ex(root, "targets", &v))
		return fail(x, "(top level)", "\"targets\" is required");
	if (!json_object_is_type(v, json_type_array))
		return fail(x, "targets", "must be an array");
	size_t n = json_object_array_length(v);
	cfg->targets = calloc(n ? n : 1, sizeof(*cfg->targets));
	if (!cfg->targets)
		return fail(x, "targets", "out of memory");
	cfg->n_targets = n;
	for (size_t i = 0; i < n; i++) {
		char p[64];
		snprintf(p, sizeof(p), "targets[%zu]", i);
		if (parse_target(x, p, json_object_array_get_idx(v, i), &cfg->targets[i]))
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(cfg->targets[j].name, cfg->targets[i].name) == 0)
				return fail(x, p, "target %s is already defined as targets[%zu]",
				            cfg->targets[i].name, j);
	}
	/* Across targets too: a host sees every LU of the daemon. */
	if (prk_cfg_check_serials(cfg, x->err, x->errlen))
		return -1;
	if (json_object_object_get_ex(root, "discovery_chap", &v) &&
	    parse_chap(x, "discovery_chap", v, &cfg->discovery_chap))
		return -1;
	struct {
		const char *key;
		uint64_t min, max;
		void *dst;
		int width;
	} nums[] = {
	    {"max_sessions", 1, 65535, &cfg->max_sessions, 0},
	    {"max_tasks", 1, 4096, &cfg->max_tasks, 0},
	    {"max_recv_data_segment_length", 512, 16777215, &cfg->max_recv_dsl, 1},
	    {"max_burst_length", 512, 16777215, &cfg->max_burst, 1},
	    {"first_burst_length", 512, 16777215, &cfg->first_burst, 1},
	    {"nop_interval_ms", 100, 3600000, &cfg->nop_interval_ms, 0},
	    {"nop_timeout_ms", 100, 3600000, &cfg->nop_timeout_ms, 0},
	    {"max_login_connections", 1, 65535, &cfg->max_login_conns, 0},
	    {"login_timeout_ms", 100, 3600000, &cfg->login_timeout_ms, 0},
	    /* 0: one per online CPU (prk_cfg_threads). */
	    {"threads", 0, PRK_CFG_MAX_THREADS, &cfg->threads, 0},
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (!json_object_object_get_ex(root, nums[i].key, &v))
			continue;
		if (get_uint(x, nums[i].key, v, nums[i].min, nums[i].max, &u))
			return -1;
		if (nums[i].width)
			*(uint32_t *)nums[i].dst = (uint32_t)u;
		else
			*(unsigned *)nums[i].dst = (unsigned)u;
	}
	/* Bytes ("256M" or a number); below 1 MiB the budget would serialize
	 * even small writes. */
	if (json_object_object_get_ex(root, "max_task_memory", &v)) {
		if (get_size(x, "max_task_memory", v, &cfg->max_task_memory))
			return -1;
		if (cfg->max_task_memory < (1u << 20) || cfg->max_task_memory > SIZE_MAX / 2)
			return fail(x, "max_task_memory", "%llu bytes: must be at least 1M",
			            (unsigned long long)cfg->max_task_memory);
	}
	if (cfg->first_burst && cfg->max_burst && cfg->first_burst > cfg->max_burst)
		return fail(x, "first_burst_length", "must not exceed max_burst_length");
	if (json_object_object_get_ex(root, "cluster", &v) && parse_cluster(x, v, &cfg->cluster))
		return -1;
	prk_cfg_copy_manager_default(&cfg->copy_manager);
	if (json_object_object_get_ex(root, "copy_manager", &v) &&
	    parse_copy_manager(x, v, &cfg->copy_manager))
		return -1;
	return check_cm_ids(x, cfg);
}

int prk_cfg_parse(const char *json, struct prk_cfg *cfg, char *err, size_t errlen)
{
	struct ctx x = {.err = err, .errlen = errlen};
	memset(cfg, 0, sizeof(*cfg));
	/* "line 3, column 7: ...", "the text ends inside a JSON value", or
	 * text after the object: never a byte offset, never half a file. */
	json_object *root = prk_json_parse_one(json, strlen(json), err, errlen);
	if (!root)
		return -1;
	int r = parse_root(&x, root, cfg);
	json_object_put(root);
	if (r)
		prk_cfg_free(cfg);
	return r;
}

int prk_cfg_parse_lun_text(const char *json, const char *path, const char *target, size_t index,
                           struct prk_cfg_lun *out, char *err, size_t errlen)
{
	struct ctx x = {.err = err, .errlen = errlen};
	memset(out, 0, sizeof(*out));
	json_object *o = json_tokener_parse(json);
	if (!o)
		return fail(&x, path, "not valid JSON");
	int r = parse_lun(&x, path, o, out, target, index);
	json_object_put(o);
	return r;
}

int prk_cfg_load(const char *path, struct prk_cfg *cfg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (16u << 20)) {
				fclose(f);
				free(buf);
				snprintf(err, errlen, "%s: larger than 16 MiB", path);
				return -1;
			}
			char *nb = realloc(buf, cap);
			if (!nb) {
				fclose(f);
				free(buf);
				snprintf(err, errlen, "%s: out of memory", path);
				return -1;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	int rd_err = ferror(f) ? errno : 0;
	fclose(f);
	buf[len] = 0;
	if (rd_err) {
		free(buf);
		snprintf(err, errlen, "%s: %s", path, strerror(rd_err));
		return -1;
	}
	if (len == 0) {
		free(buf);
		snprintf(err, errlen, "%s: the file is empty", path);
		return -1;
	}
	char inner[512];
	int r = prk_cfg_parse(buf, cfg, inner, sizeof(inner));
	free(buf);
	if (r)
		snprintf(err, errlen, "%s: %s", path, inner);
	return r;
}

void prk_cfg_copy_manager_default(struct prk_cfg_copy_manager *c)
{
	*c =
	    (struct prk_cfg_copy_manager){.isid = PRK_CM_DEFAULT_ISID, .rtpi = PRK_CM_DEFAULT_RTPI};
	snprintf(c->initiator, sizeof(c->initiator), "%s", PRK_CM_DEFAULT_INITIATOR);
}

void prk_cfg_demo(struct prk_cfg *cfg, uint16_t port)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->log_level, sizeof(cfg->log_level), "info");
	/* The demo's LU lives in RAM: keep its PR state out of the real state
	 * directory. */
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/tmp/prkit-demo-%u", (unsigned)getuid());
	cfg->portals = calloc(1, sizeof(*cfg->portals));
	cfg->targets = calloc(1, sizeof(*cfg->targets));
	if (!cfg->portals || !cfg->targets)
		return;
	cfg->n_portals = 1;
	snprintf(cfg->portals[0].address, sizeof(cfg->portals[0].address), "127.0.0.1");
	cfg->portals[0].port = port;
	cfg->portals[0].tpgt = cfg->portals[0].rtpi = 1;
	prk_cfg_copy_manager_default(&cfg->copy_manager);
	cfg->n_targets = 1;
	struct prk_cfg_target *t = &cfg->targets[0];
	snprintf(t->name, sizeof(t->name), "%s", PRK_DEMO_TARGET);
	snprintf(t->alias, sizeof(t->alias), "prkit demo");
	t->luns = calloc(1, sizeof(*t->luns));
	if (!t->luns)
		return;
	t->n_luns = 1;
	t->luns[0].type = PRK_CFG_BS_RAM;
	t->luns[0].size = 64ULL << 20;
	t->luns[0].block_size = 512;
	t->luns[0].thin = true;
	snprintf(t->luns[0].serial, sizeof(t->luns[0].serial), "prkitdemo0");
}

void prk_cfg_free(struct prk_cfg *cfg)
{
	for (size_t i = 0; i < cfg->n_targets; i++) {
		free(cfg->targets[i].acls);
		free(cfg->targets[i].luns);
	}
	free(cfg->targets);
	free(cfg->portals);
	memset(cfg, 0, sizeof(*cfg));
}

unsigned prk_cfg_threads(const struct prk_cfg *cfg)
{
	if (cfg->threads)
		return cfg->threads;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > PRK_CFG_MAX_THREADS ? PRK_CFG_MAX_THREADS : (unsigned)n;
}
