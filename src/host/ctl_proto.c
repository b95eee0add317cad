/* The control socket's wire format: requests and replies as one JSON
 * object per line (ctl_proto.h). Pure: no I/O. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"
#include "errfmt.h"
#include "hexdigit.h"

static const char *const op_names[] = {"list", "stall", "resume", "set_key", "fail"};
#define N_OPS (sizeof(op_names) / sizeof(op_names[0]))

const char *prk_ctl_op_name(enum ctl_op op)
{
	return (unsigned)op < N_OPS ? op_names[op] : "?";
}

int prk_ctl_key_parse(const char *s, uint64_t *out)
{
	if (strlen(s) != CTL_KEY_LEN || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	/* Exactly 16 digits after 0x, so any value fits: max is all ones. */
	if (!prk_parse_hex_n(s + 2, CTL_KEY_LEN - 2, UINT64_MAX, out))
		return -1;
	return 0;
}

void prk_ctl_key_format(uint64_t key, char buf[CTL_KEY_LEN + 1])
{
	snprintf(buf, CTL_KEY_LEN + 1, "0x%016llx", (unsigned long long)key);
}

bool prk_ctl_naa_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (prk_hex_digit((unsigned char)s[i]) < 0)
			return false;
	return true;
}

bool prk_ctl_naa_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		int x = prk_hex_digit((unsigned char)*a), y = prk_hex_digit((unsigned char)*b);
		if (x < 0 || x != y)
			return false;
	}
	return !*a && !*b;
}

/* A member name from the peer, safe to quote in a message: printable
 * ASCII only, at most 40 characters. */
static void quote_name(const char *s, char *buf, size_t cap)
{
	size_t n = 0;
	for (; *s && n + 1 < cap && n < 40; s++)
		buf[n++] = (*s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\') ? *s : '?';
	buf[n] = 0;
}

/* One JSON object from len bytes: no NUL byte, nothing but white space
 * after it. NULL with err otherwise. */
static json_object *parse_object(const char *line, size_t len, const char *what, char *err,
                                 size_t cap)
{
	if (memchr(line, 0, len)) {
		prk_errf(err, cap, "%s: contains a NUL byte", what);
		return NULL;
	}
	if (len > CTL_REPLY_MAX) {
		prk_errf(err, cap, "%s: longer than %u bytes", what, CTL_REPLY_MAX);
		return NULL;
	}
	json_tokener *tok = json_tokener_new_ex(8);
	if (!tok) {
		prk_errf(err, cap, "%s: out of memory", what);
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *o = json_tokener_parse_ex(tok, line, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o || je != json_tokener_success) {
		json_object_put(o);
		prk_errf(err, cap, "%s: not a JSON object (%s)", what,
		         je == json_tokener_continue ? "incomplete" : json_tokener_error_desc(je));
		return NULL;
	}
	for (size_t i = end; i < len; i++) {
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
			json_object_put(o);
			prk_errf(err, cap, "%s: more after the JSON object", what);
			return NULL;
		}
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		prk_errf(err, cap, "%s: not a JSON object", what);
		return NULL;
	}
	return o;
}

/* ---- requests ---- */

/* Which members each op takes, as bits. */
enum { F_OP = 1, F_NAA = 2, F_MAX_MS = 4, F_OLD = 8, F_NEW = 16, F_REASON = 32 };
static const char *const field_names[] = {"op", "naa", "max_ms", "old_key", "new_key", "reason"};
#define N_FIELDS (sizeof(field_names) / sizeof(field_names[0]))
static const unsigned op_fields[] = {
    [CTL_OP_LIST] = F_OP,
    [CTL_OP_STALL] = F_OP | F_NAA | F_MAX_MS,
    [CTL_OP_RESUME] = F_OP | F_NAA,
    [CTL_OP_SET_KEY] = F_OP | F_NAA | F_OLD | F_NEW,
    [CTL_OP_FAIL] = F_OP | F_NAA | F_REASON,
};

static int field_bit(const char *name)
{
	for (unsigned i = 0; i < N_FIELDS; i++)
		if (strcmp(name, field_names[i]) == 0)
			return 1 << i;
	return 0;
}

static int req_op(json_object *o, struct ctl_req *r, char *err, size_t cap)
{
	json_object *v;
	if (!json_object_object_get_ex(o, "op", &v))
		return prk_errf(err, cap, "op: missing (list, stall, resume, set_key or fail)");
	if (!json_object_is_type(v, json_type_string))
		return prk_errf(err, cap,
		                "op: must be a string (list, stall, resume, set_key or fail)");
	const char *s = json_object_get_string(v);
	for (unsigned i = 0; i < N_OPS; i++) {
		if (strcmp(s, op_names[i]) == 0) {
			r->op = (enum ctl_op)i;
			return 0;
		}
	}
	char q[48];
	quote_name(s, q, sizeof(q));
	return prk_errf(err, cap, "op: '%s' is not one of list, stall, resume, set_key, fail", q);
}

static int req_members(json_object *o, const struct ctl_req *r, char *err, size_t cap)
{
	unsigned want = op_fields[r->op], seen = 0;
	json_object_object_foreach(o, name, val)
	{
		(void)val;
		int bit = field_bit(name);
		char q[48];
		quote_name(name, q, sizeof(q));
		if (!bit)
			return prk_errf(err, cap, "%s: unknown field", q);
		if (!(want & (unsigned)bit))
			return prk_errf(err, cap, "%s: not a field of op %s", q,
			                prk_ctl_op_name(r->op));
		seen |= (unsigned)bit;
	}
	for (unsigned i = 0; i < N_FIELDS; i++)
		if ((want & (1u << i)) && !(seen & (1u << i)))
			return prk_errf(err, cap, "%s: missing (op %s needs it)", field_names[i],
			                prk_ctl_op_name(r->op));
	return 0;
}

static int req_key(json_object *o, const char *name, uint64_t *out, char *err, size_t cap)
{
	json_object *v;
	json_object_object_get_ex(o, name, &v);
	if (!json_object_is_type(v, json_type_string) ||
	    prk_ctl_key_parse(json_object_get_string(v), out))
		return prk_errf(err, cap, "%s: must be a string \"0x\" and 16 hex digits", name);
	return 0;
}

/* The reason goes verbatim into the process's log: one line of printable
 * ASCII, so a peer cannot forge log lines or hide text in it. */
static int req_reason(json_object *o, struct ctl_req *r, char *err, size_t cap)
{
	json_object *v;
	json_object_object_get_ex(o, "reason", &v);
	if (!json_object_is_type(v, json_type_string))
		return prk_errf(err, cap, "reason: must be a string");
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (n < 1 || n > CTL_REASON_MAX)
		return prk_errf(err, cap, "reason: must be 1 to %d characters", CTL_REASON_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return prk_errf(err, cap, "reason: only printable ASCII characters");
	memcpy(r->reason, s, n);
	r->reason[n] = 0;
	return 0;
}

static int req_values(json_object *o, struct ctl_req *r, char *err, size_t cap)
{
	unsigned want = op_fields[r->op];
	json_object *v;
	if (want & F_NAA) {
		json_object_object_get_ex(o, "naa", &v);
		if (!json_object_is_type(v, json_type_string) ||
		    !prk_ctl_naa_valid(json_object_get_string(v)))
			return prk_errf(err, cap, "naa: must be a string of 1 to 32 hex digits");
		snprintf(r->naa, sizeof(r->naa), "%s", json_object_get_string(v));
	}
	if (want & F_MAX_MS) {
		json_object_object_get_ex(o, "max_ms", &v);
		int64_t ms = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
		if (ms < 1 || ms > (int64_t)CTL_MAX_MS_LIMIT)
			return prk_errf(err, cap, "max_ms: must be an integer from 1 to %u",
			                CTL_MAX_MS_LIMIT);
		r->max_ms = (unsigned)ms;
	}
	if ((want & F_OLD) && req_key(o, "old_key", &r->old_key, err, cap))
		return -1;
	if (want & F_NEW) {
		if (req_key(o, "new_key", &r->new_key, err, cap))
			return -1;
		if (!r->new_key)
			return prk_errf(err, cap, "new_key: must not be 0");
	}
	if ((want & F_REASON) && req_reason(o, r, err, cap))
		return -1;
	return 0;
}

int prk_ctl_req_parse(const char *line, size_t len, struct ctl_req *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (errlen)
		err[0] = 0;
	if (len > CTL_LINE_MAX)
		return prk_errf(err, errlen, "request: longer than %u bytes", CTL_LINE_MAX);
	json_object *o = parse_object(line, len, "request", err, errlen);
	if (!o)
		return -1;
	int rc = -1;
	if (req_op(o, r, err, errlen) == 0 && req_members(o, r, err, errlen) == 0 &&
	    req_values(o, r, err, errlen) == 0)
		rc = 0;
	json_object_put(o);
	return rc;
}

static char *to_line(json_object *o)
{
	if (!o)
		return NULL;
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                      JSON_C_TO_STRING_NOSLASHESCAPE);
	char *line = NULL;
	size_t n = s ? strlen(s) : 0;
	if (s && (line = malloc(n + 2))) {
		memcpy(line, s, n);
		line[n] = '\n';
		line[n + 1] = 0;
	}
	json_object_put(o);
	return line;
}

static void add_key(json_object *o, const char *name, uint64_t key)
{
	char k[CTL_KEY_LEN + 1];
	prk_ctl_key_format(key, k);
	json_object_object_add(o, name, json_object_new_string(k));
}

char *prk_ctl_req_format(const struct ctl_req *r)
{
	json_object *o = json_object_new_object();
	if (!o || (unsigned)r->op >= N_OPS) {
		json_object_put(o);
		return NULL;
	}
	unsigned want = op_fields[r->op];
	json_object_object_add(o, "op", json_object_new_string(prk_ctl_op_name(r->op)));
	if (want & F_NAA)
		json_object_object_add(o, "naa", json_object_new_string(r->naa));
	if (want & F_MAX_MS)
		json_object_object_add(o, "max_ms", json_object_new_int64(r->max_ms));
	if (want & F_OLD)
		add_key(o, "old_key", r->old_key);
	if (want & F_NEW)
		add_key(o, "new_key", r->new_key);
	if (want & F_REASON)
		json_object_object_add(o, "reason", json_object_new_string(r->reason));
	return to_line(o);
}

/* ---- replies ---- */

static json_object *dev_json(const struct prk_ctl_dev *d)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "naa", json_object_new_string(d->naa));
	add_key(o, "key", d->key);
	json_object_object_add(o, "open", json_object_new_boolean(d->open));
	json_object_object_add(o, "fenced", json_object_new_boolean(d->fenced));
	json_object_object_add(o, "stalled", json_object_new_boolean(d->stalled));
	json_object_object_add(o, "inflight", json_object_new_int64(d->inflight));
	json_object_object_add(o, "paths", json_object_new_int64(d->n_paths));
	json_object_object_add(o, "paths_up", json_object_new_int64(d->n_up));
	return o;
}

char *prk_ctl_reply_format(const struct ctl_reply *r)
{
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "ok", json_object_new_boolean(r->ok));
	if (!r->ok) {
		json_object_object_add(o, "error", json_object_new_string(r->error));
		if (r->fenced)
			json_object_object_add(o, "fenced", json_object_new_boolean(true));
		return to_line(o);
	}
	if (r->is_list) {
		json_object *a = json_object_new_array();
		for (size_t i = 0; i < r->n_devs; i++)
			json_object_array_add(a, dev_json(&r->devs[i]));
		json_object_object_add(o, "devices", a);
		return to_line(o);
	}
	json_object_object_add(o, "present", json_object_new_boolean(r->present));
	if (!r->present && r->error[0])
		json_object_object_add(o, "reason", json_object_new_string(r->error));
	return to_line(o);
}

/* Optional members of a reply: absent leaves the default; present with
 * the wrong type is an error. */
static int get_bool(json_object *o, const char *name, bool *out, char *err, size_t cap)
{
	json_object *v;
	if (!json_object_object_get_ex(o, name, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return prk_errf(err, cap, "reply: %s: must be true or false", name);
	*out = json_object_get_boolean(v);
	return 0;
}

static int get_uint(json_object *o, const char *name, unsigned *out, char *err, size_t cap)
{
	json_object *v;
	if (!json_object_object_get_ex(o, name, &v))
		return 0;
	int64_t x = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
	if (x < 0 || x > (int64_t)0xffffffffu)
		return prk_errf(err, cap, "reply: %s: must be an unsigned integer", name);
	*out = (unsigned)x;
	return 0;
}

static int get_text(json_object *o, const char *name, char *out, size_t outcap, char *err,
                    size_t cap)
{
	json_object *v;
	if (!json_object_object_get_ex(o, name, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return prk_errf(err, cap, "reply: %s: must be a string", name);
	snprintf(out, outcap, "%s", json_object_get_string(v));
	return 0;
}

static int dev_parse(json_object *o, struct prk_ctl_dev *d, char *err, size_t cap)
{
	memset(d, 0, sizeof(*d));
	if (!json_object_is_type(o, json_type_object))
		return prk_errf(err, cap, "reply: devices: an element is not an object");
	json_object *v;
	if (!json_object_object_get_ex(o, "naa", &v) || !json_object_is_type(v, json_type_string) ||
	    (json_object_get_string_len(v) && !prk_ctl_naa_valid(json_object_get_string(v))))
		return prk_errf(err, cap, "reply: devices: naa: must be up to 32 hex digits");
	snprintf(d->naa, sizeof(d->naa), "%s", json_object_get_string(v));
	if (!json_object_object_get_ex(o, "key", &v) || !json_object_is_type(v, json_type_string) ||
	    prk_ctl_key_parse(json_object_get_string(v), &d->key))
		return prk_errf(err, cap, "reply: devices: key: must be \"0x\" and 16 hex digits");
	if (get_bool(o, "open", &d->open, err, cap) ||
	    get_bool(o, "fenced", &d->fenced, err, cap) ||
	    get_bool(o, "stalled", &d->stalled, err, cap) ||
	    get_uint(o, "inflight", &d->inflight, err, cap) ||
	    get_uint(o, "paths", &d->n_paths, err, cap) ||
	    get_uint(o, "paths_up", &d->n_up, err, cap))
		return -1;
	return 0;
}

static int reply_devices(json_object *o, struct ctl_reply *r, struct prk_ctl_dev *devs, size_t cap,
                         char *err, size_t errlen)
{
	json_object *a;
	if (!json_object_object_get_ex(o, "devices", &a))
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return prk_errf(err, errlen, "reply: devices: must be an array");
	r->is_list = true;
	size_t n = json_object_array_length(a);
	for (size_t i = 0; i < n && r->n_devs < cap; i++)
		if (dev_parse(json_object_array_get_idx(a, i), &devs[r->n_devs++], err, errlen))
			return -1;
	return 0;
}

int prk_ctl_reply_parse(const char *line, size_t len, struct ctl_reply *r, struct prk_ctl_dev *devs,
                        size_t cap, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->devs = devs;
	if (errlen)
		err[0] = 0;
	json_object *o = parse_object(line, len, "reply", err, errlen);
	if (!o)
		return -1;
	int rc = -1;
	json_object *v;
	if (!json_object_object_get_ex(o, "ok", &v) || !json_object_is_type(v, json_type_boolean)) {
		prk_errf(err, errlen, "reply: ok: missing or not true/false");
		goto out;
	}
	r->ok = json_object_get_boolean(v);
	if (get_text(o, "error", r->error, sizeof(r->error), err, errlen) ||
	    get_bool(o, "present", &r->present, err, errlen) ||
	    get_bool(o, "fenced", &r->fenced, err, errlen))
		goto out;
	if (r->ok && !r->present && !r->error[0] &&
	    get_text(o, "reason", r->error, sizeof(r->error), err, errlen))
		goto out;
	if (!r->ok && !r->error[0])
		snprintf(r->error, sizeof(r->error), "the process gave no reason");
	if (reply_devices(o, r, devs, cap, err, errlen))
		goto out;
	rc = 0;
out:
	json_object_put(o);
	return rc;
}
