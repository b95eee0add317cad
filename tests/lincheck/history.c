/* The history file: one JSON object per line (docs/testing-cluster.md).
 * Every field is checked here, so that the search only ever sees commands
 * it can run through the engine; a bad line is reported by its number and
 * field, never guessed at. Fields the format does not know (a recorder's
 * "node", say) are ignored, so that recorders can add notes for people. */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "errfmt.h"
#include "hexdigit.h"
#include "lincheck.h"
#include "prkit/scsi_cdb.h"

/* Decodes a hex string (even length, no prefix, either case) into a
 * malloc'ed buffer (NULL for ""). Returns 0 or -1. */
static int hex_decode(const char *s, uint8_t **out, size_t *out_len)
{
	size_t n = strlen(s);

	*out = NULL;
	*out_len = 0;
	if (n % 2)
		return -1;
	if (n == 0)
		return 0;
	uint8_t *b = malloc(n / 2);
	if (!b)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = prk_hex_digit((unsigned char)s[2 * i]);
		int lo = prk_hex_digit((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(b);
			return -1;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = b;
	*out_len = n / 2;
	return 0;
}

static json_object *field(json_object *o, const char *name)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, name, &v))
		return NULL;
	return v; /* NULL too for an explicit null */
}

/* An integer field in [min, max]. Returns 1 when present, 0 when absent or
 * null, -1 (err filled) when it is not such an integer. */
static int get_int(json_object *o, const char *name, int64_t min, int64_t max, int64_t *out,
                   char *err, size_t cap)
{
	json_object *v = field(o, name);

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_int)) {
		prk_errf(err, cap, "\"%s\" must be an integer", name);
		return -1;
	}
	errno = 0;
	int64_t x = json_object_get_int64(v);
	if (errno || x < min || x > max) {
		prk_errf(err, cap, "\"%s\" out of range (%lld..%lld)", name, (long long)min,
		         (long long)max);
		return -1;
	}
	*out = x;
	return 1;
}

/* A hex string field: 1 present (buffer malloc'ed), 0 absent, -1 bad. */
static int get_hex(json_object *o, const char *name, uint8_t **out, size_t *len, char *err,
                   size_t cap)
{
	json_object *v = field(o, name);

	*out = NULL;
	*len = 0;
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    hex_decode(json_object_get_string(v), out, len) < 0) {
		prk_errf(err, cap, "\"%s\" must be a string of hex byte pairs", name);
		return -1;
	}
	return 1;
}

static int parse_nexus(json_object *o, struct prk_lin_op *op, char *err, size_t cap)
{
	json_object *nx = field(o, "nexus");
	json_object *name, *isid;
	uint64_t isid_v = 0;
	int64_t rtpi = 0;

	if (!nx || !json_object_is_type(nx, json_type_object))
		return prk_errf(err, cap, "\"nexus\" must be an object {name, isid, rtpi}");
	name = field(nx, "name");
	if (!name || !json_object_is_type(name, json_type_string))
		return prk_errf(err, cap, "\"nexus.name\" must be a string");
	isid = field(nx, "isid");
	if (isid && json_object_is_type(isid, json_type_string)) {
		const char *s = json_object_get_string(isid);
		if (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0)
			s += 2;
		if (!prk_parse_hex_n(s, strlen(s), 0xffffffffffffULL, &isid_v))
			return prk_errf(err, cap, "\"nexus.isid\" must be 48-bit hex (\"0x...\")");
	} else if (isid && json_object_is_type(isid, json_type_int)) {
		int64_t x = json_object_get_int64(isid);
		if (x < 0 || x > 0xffffffffffffLL)
			return prk_errf(err, cap, "\"nexus.isid\" must be a 48-bit value");
		isid_v = (uint64_t)x;
	} else {
		return prk_errf(err, cap, "\"nexus.isid\" must be a hex string (\"0x...\")");
	}
	if (get_int(nx, "rtpi", 0, 0xffff, &rtpi, err, cap) <= 0)
		return prk_errf(err, cap, "\"nexus.rtpi\" must be an integer 0..65535");
	if (prk_nexus_init(&op->nx, json_object_get_string(name), isid_v, (uint16_t)rtpi) < 0)
		return prk_errf(err, cap, "\"nexus.name\" is not a valid iSCSI name");
	return 0;
}

/* The CDB must be the command "op" says, with a length the engine takes. */
static int parse_cdb(json_object *o, struct prk_lin_op *op, char *err, size_t cap)
{
	uint8_t *cdb;
	size_t len;

	if (get_hex(o, "cdb", &cdb, &len, err, cap) <= 0)
		return prk_errf(err, cap, "\"cdb\" must be a string of hex byte pairs");
	if (len < 6 || len > PRK_LIN_CDB_MAX) {
		free(cdb);
		return prk_errf(err, cap, "\"cdb\" has %zu bytes (6..%d)", len, PRK_LIN_CDB_MAX);
	}
	memcpy(op->cdb, cdb, len);
	op->cdb_len = len;
	free(cdb);
	uint8_t opc = op->cdb[0];
	bool ok = false;
	switch (op->kind) {
	case PRK_LIN_PROUT:
		ok = opc == PRK_OP_PR_OUT;
		break;
	case PRK_LIN_PRIN:
		ok = opc == PRK_OP_PR_IN;
		break;
	case PRK_LIN_SPC2:
		ok = opc == PRK_OP_RESERVE6 || opc == PRK_OP_RELEASE6 || opc == PRK_OP_RESERVE10 ||
		     opc == PRK_OP_RELEASE10;
		break;
	}
	if (!ok)
		return prk_errf(err, cap, "\"cdb\" operation code %02xh does not match \"op\"",
		                opc);
	return 0;
}

static int parse_kind(json_object *o, struct prk_lin_op *op, char *err, size_t cap)
{
	json_object *v = field(o, "op");
	const char *s =
	    v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";

	if (strcmp(s, "prout") == 0)
		op->kind = PRK_LIN_PROUT;
	else if (strcmp(s, "prin") == 0)
		op->kind = PRK_LIN_PRIN;
	else if (strcmp(s, "spc2") == 0)
		op->kind = PRK_LIN_SPC2;
	else
		return prk_errf(err, cap, "\"op\" must be \"prout\", \"prin\" or \"spc2\"");
	return 0;
}

/* The answer: all of return_ns, status (sense, data) or none of them. */
static int parse_answer(json_object *o, struct prk_lin_op *op, char *err, size_t cap)
{
	int64_t ret = 0, status = 0;
	int r = get_int(o, "return_ns", 0, INT64_MAX, &ret, err, cap);
	if (r < 0)
		return -1;
	op->answered = r == 1;
	op->return_ns = ret;
	r = get_int(o, "status", 0, 255, &status, err, cap);
	if (r < 0)
		return -1;
	if (op->answered != (r == 1))
		return prk_errf(err, cap,
		                op->answered ? "\"status\" missing (the op has return_ns)"
		                             : "\"status\" without \"return_ns\"");
	if (!op->answered)
		return 0;
	if (op->return_ns < op->invoke_ns)
		return prk_errf(err, cap, "\"return_ns\" is before \"invoke_ns\"");
	op->status = (uint8_t)status;

	uint8_t *sense;
	size_t slen;
	r = get_hex(o, "sense", &sense, &slen, err, cap);
	if (r < 0)
		return -1;
	if (r == 1 && slen == 3 && sense[0] < 0x70) {
		op->sense_key = sense[0];
		op->asc = sense[1];
		op->ascq = sense[2];
		op->has_sense = true;
	} else if (r == 1) {
		struct prk_sense s;
		if (prk_sense_decode(sense, slen, &s) == 0) {
			op->sense_key = s.key;
			op->asc = s.asc;
			op->ascq = s.ascq;
			op->has_sense = true;
		}
	}
	free(sense);
	if (r == 1 && !op->has_sense)
		return prk_errf(err, cap,
		                "\"sense\" is neither key/asc/ascq (3 bytes) nor sense data");
	if (op->status == PRK_STATUS_CHECK_CONDITION && !op->has_sense)
		return prk_errf(err, cap, "CHECK CONDITION without \"sense\"");

	r = get_hex(o, "data", &op->data, &op->data_len, err, cap);
	if (r < 0)
		return -1;
	op->has_data = r == 1;
	if (op->kind == PRK_LIN_PRIN && op->status == PRK_STATUS_GOOD && !op->has_data)
		return prk_errf(err, cap, "PR IN with GOOD status needs \"data\"");
	return 0;
}

static int parse_fields(json_object *o, struct prk_lin_op *op, char *err, size_t cap)
{
	int64_t id = 0, inv = 0;
	json_object *lu, *na;

	if (get_int(o, "id", 0, INT64_MAX, &id, err, cap) <= 0)
		return prk_errf(err, cap, "\"id\" must be a non-negative integer");
	op->id = (uint64_t)id;
	lu = field(o, "lu");
	if (!lu || !json_object_is_type(lu, json_type_string) ||
	    json_object_get_string_len(lu) == 0 || json_object_get_string_len(lu) > PRK_LIN_LU_MAX)
		return prk_errf(err, cap, "\"lu\" must be a string of 1..%d characters",
		                PRK_LIN_LU_MAX);
	strcpy(op->lu, json_object_get_string(lu));
	if (parse_nexus(o, op, err, cap) < 0 || parse_kind(o, op, err, cap) < 0 ||
	    parse_cdb(o, op, err, cap) < 0)
		return -1;
	if (get_hex(o, "params", &op->params, &op->params_len, err, cap) < 0)
		return -1;
	if (op->kind == PRK_LIN_PROUT) {
		/* The engine takes exactly PARAMETER LIST LENGTH bytes (the
		 * data-out buffer); a recorder that logged something else
		 * logged the wrong thing. */
		uint32_t pll = op->cdb_len >= 9
		                   ? (uint32_t)op->cdb[5] << 24 | (uint32_t)op->cdb[6] << 16 |
		                         (uint32_t)op->cdb[7] << 8 | op->cdb[8]
		                   : 0;
		if (pll != op->params_len)
			return prk_errf(err, cap,
			                "\"params\" has %zu bytes, the CDB's PARAMETER LIST "
			                "LENGTH says %u",
			                op->params_len, pll);
	}
	if (get_int(o, "invoke_ns", 0, INT64_MAX, &inv, err, cap) <= 0)
		return prk_errf(err, cap, "\"invoke_ns\" must be a non-negative integer");
	op->invoke_ns = inv;
	na = field(o, "not_applied");
	if (na && !json_object_is_type(na, json_type_boolean))
		return prk_errf(err, cap, "\"not_applied\" must be true or false");
	op->not_applied = na && json_object_get_boolean(na);
	return parse_answer(o, op, err, cap);
}

int prk_lin_op_parse(const char *line, size_t lineno, struct prk_lin_op *op, char *err,
                     size_t errcap)
{
	enum json_tokener_error jerr;
	json_object *o;

	memset(op, 0, sizeof(*op));
	op->line = lineno;
	o = json_tokener_parse_verbose(line, &jerr);
	if (!o)
		return prk_errf(err, errcap, "not JSON (%s)", json_tokener_error_desc(jerr));
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return prk_errf(err, errcap, "not a JSON object");
	}
	int r = parse_fields(o, op, err, errcap);
	json_object_put(o);
	if (r < 0) {
		prk_lin_op_free(op);
		return -1;
	}
	return 0;
}

void prk_lin_op_free(struct prk_lin_op *op)
{
	free(op->params);
	free(op->data);
	op->params = op->data = NULL;
}

static int grow(struct prk_lin_history *h)
{
	if (h->n < h->cap)
		return 0;
	if (h->n >= PRK_LIN_OPS_MAX)
		return -1;
	size_t cap = h->cap ? h->cap * 2 : 256;
	struct prk_lin_op *ops = realloc(h->ops, cap * sizeof(*ops));
	if (!ops)
		return -1;
	h->ops = ops;
	h->cap = cap;
	return 0;
}

static uint8_t *dup_bytes(const uint8_t *b, size_t n)
{
	if (!n)
		return NULL;
	uint8_t *c = malloc(n);
	if (c)
		memcpy(c, b, n);
	return c;
}

int prk_lin_history_add(struct prk_lin_history *h, const struct prk_lin_op *op)
{
	if (grow(h) < 0)
		return -1;
	struct prk_lin_op *c = &h->ops[h->n];
	*c = *op;
	c->params = dup_bytes(op->params, op->params_len);
	c->data = dup_bytes(op->data, op->data_len);
	if ((op->params_len && !c->params) || (op->data_len && !c->data)) {
		prk_lin_op_free(c);
		return -1;
	}
	h->n++;
	return 0;
}

void prk_lin_history_free(struct prk_lin_history *h)
{
	for (size_t i = 0; i < h->n; i++)
		prk_lin_op_free(&h->ops[i]);
	free(h->ops);
	memset(h, 0, sizeof(*h));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Ids name ops in explanations: two ops with one id would make them lie. */
static int check_unique_ids(const struct prk_lin_history *h, char *err, size_t cap)
{
	uint64_t *ids = malloc((h->n ? h->n : 1) * sizeof(*ids));
	if (!ids)
		return prk_errf(err, cap, "out of memory");
	for (size_t i = 0; i < h->n; i++)
		ids[i] = h->ops[i].id;
	qsort(ids, h->n, sizeof(*ids), cmp_u64);
	for (size_t i = 1; i < h->n; i++) {
		if (ids[i] == ids[i - 1]) {
			uint64_t dup = ids[i];
			free(ids);
			for (size_t j = h->n; j-- > 0;)
				if (h->ops[j].id == dup)
					return prk_errf(err, cap,
					                "line %zu: \"id\" %llu used twice",
					                h->ops[j].line, (unsigned long long)dup);
		}
	}
	free(ids);
	return 0;
}

int prk_lin_history_read(FILE *f, struct prk_lin_history *h, char *err, size_t errcap)
{
	char *line = NULL;
	size_t lcap = 0, lineno = 0;
	ssize_t n;
	char why[256];

	memset(h, 0, sizeof(*h));
	while ((n = getline(&line, &lcap, f)) >= 0) {
		lineno++;
		if ((size_t)n > PRK_LIN_LINE_MAX) {
			prk_errf(err, errcap, "line %zu: longer than %u bytes", lineno,
			         PRK_LIN_LINE_MAX);
			goto fail;
		}
		size_t k = strspn(line, " \t\r\n");
		if (line[k] == '\0')
			continue;
		struct prk_lin_op op;
		if (prk_lin_op_parse(line, lineno, &op, why, sizeof(why)) < 0) {
			prk_errf(err, errcap, "line %zu: %s", lineno, why);
			goto fail;
		}
		if (grow(h) < 0) {
			prk_lin_op_free(&op);
			prk_errf(err, errcap, "line %zu: more than %u ops or out of memory", lineno,
			         PRK_LIN_OPS_MAX);
			goto fail;
		}
		h->ops[h->n++] = op; /* takes params/data */
	}
	if (ferror(f)) {
		prk_errf(err, errcap, "line %zu: read error", lineno + 1);
		goto fail;
	}
	free(line);
	if (check_unique_ids(h, err, errcap) < 0) {
		prk_lin_history_free(h);
		return -1;
	}
	return 0;
fail:
	free(line);
	prk_lin_history_free(h);
	return -1;
}

static char *hex_encode(const uint8_t *b, size_t n)
{
	static const char dig[] = "0123456789abcdef";
	char *s = malloc(2 * n + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = dig[b[i] >> 4];
		s[2 * i + 1] = dig[b[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

static int add_hex(json_object *o, const char *name, const uint8_t *b, size_t n)
{
	char *s = hex_encode(b, n);
	if (!s)
		return -1;
	json_object_object_add(o, name, json_object_new_string(s));
	free(s);
	return 0;
}

int prk_lin_op_write(FILE *f, const struct prk_lin_op *op)
{
	static const char *const kinds[] = {"prout", "prin", "spc2"};
	json_object *o = json_object_new_object(), *nx = json_object_new_object();
	char isid[24];
	int r = -1;

	if (!o || !nx)
		goto out;
	json_object_object_add(o, "id", json_object_new_int64((int64_t)op->id));
	json_object_object_add(o, "lu", json_object_new_string(op->lu));
	json_object_object_add(nx, "name", json_object_new_string(op->nx.name));
	snprintf(isid, sizeof(isid), "0x%012llx", (unsigned long long)op->nx.isid);
	json_object_object_add(nx, "isid", json_object_new_string(isid));
	json_object_object_add(nx, "rtpi", json_object_new_int(op->nx.rtpi));
	json_object_object_add(o, "nexus", nx);
	nx = NULL;
	json_object_object_add(o, "op", json_object_new_string(kinds[op->kind]));
	if (add_hex(o, "cdb", op->cdb, op->cdb_len) < 0 ||
	    (op->params_len && add_hex(o, "params", op->params, op->params_len) < 0))
		goto out;
	json_object_object_add(o, "invoke_ns", json_object_new_int64(op->invoke_ns));
	if (op->answered) {
		json_object_object_add(o, "return_ns", json_object_new_int64(op->return_ns));
		json_object_object_add(o, "status", json_object_new_int(op->status));
		uint8_t s[3] = {op->sense_key, op->asc, op->ascq};
		if (op->has_sense && add_hex(o, "sense", s, 3) < 0)
			goto out;
		if (op->has_data && add_hex(o, "data", op->data, op->data_len) < 0)
			goto out;
	}
	if (op->not_applied)
		json_object_object_add(o, "not_applied", json_object_new_boolean(1));
	if (fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) > 0)
		r = 0;
out:
	json_object_put(nx);
	json_object_put(o);
	return r;
}
