/* `prkit persist` output: sg_persist's text layouts, its --hex layouts, and
 * our JSON. */
#include "persist_fmt.h"

#include <inttypes.h>
#include <string.h>

#include "byteorder.h"
#include "persist_exit.h"
#include "prkit/scsi_cdb.h"

/* ---- names ---- */

const char *prk_persist_type_str(uint8_t type)
{
	static const char *const strs[16] = {
	    "obsolete [0]",
	    "Write Exclusive",
	    "obsolete [2]",
	    "Exclusive Access",
	    "obsolete [4]",
	    "Write Exclusive, registrants only",
	    "Exclusive Access, registrants only",
	    "Write Exclusive, all registrants",
	    "Exclusive Access, all registrants",
	    "obsolete [9]",
	    "obsolete [0xa]",
	    "obsolete [0xb]",
	    "obsolete [0xc]",
	    "obsolete [0xd]",
	    "obsolete [0xe]",
	    "obsolete [0xf]",
	};
	return strs[type & 0xf];
}

const char *prk_persist_pdt_str(uint8_t pdt)
{
	static const char *const strs[32] = {
	    "disk",
	    "tape",
	    "printer",
	    "processor",
	    "write once optical disk",
	    "cd/dvd",
	    "scanner",
	    "optical memory device",
	    "medium changer",
	    "communications",
	    "graphics [0xa]",
	    "graphics [0xb]",
	    "storage array controller",
	    "enclosure services device",
	    "simplified direct access device",
	    "optical card reader/writer device",
	    "bridge controller commands",
	    "object based storage",
	    "automation/driver interface",
	    "security manager device",
	    "host managed zoned block",
	    "0x15",
	    "0x16",
	    "0x17",
	    "0x18",
	    "0x19",
	    "0x1a",
	    "0x1b",
	    "0x1c",
	    "0x1d",
	    "well known logical unit",
	    "unknown or no device type",
	};
	return pdt < 32 ? strs[pdt] : "bad pdt";
}

static const char *prin_sa_name(uint8_t sa)
{
	static const char *const names[] = {"READ KEYS", "READ RESERVATION", "REPORT CAPABILITIES",
	                                    "READ FULL STATUS"};
	return sa <= PRK_PRIN_SA_MAX ? names[sa] : "?";
}

/* ---- text ---- */

void prk_persist_print_inquiry(FILE *out, const char *vendor, const char *product,
                               const char *revision, uint8_t pdt)
{
	/* The INQUIRY fields are 8, 16 and 4 bytes wide, space padded. */
	fprintf(out, "  %-8.8s  %-16.16s  %-4.4s\n", vendor, product, revision);
	fprintf(out, "  Peripheral device type: %s\n", prk_persist_pdt_str(pdt));
}

void prk_persist_print_keys(FILE *out, const struct prk_prin_keys *k)
{
	fprintf(out, "  PR generation=0x%" PRIx32 ", ", k->generation);
	if (k->n_total == 0) {
		fputs("there are NO registered reservation keys\n", out);
		return;
	}
	if (k->n_total == 1)
		fputs("1 registered reservation key follows:\n", out);
	else
		fprintf(out, "%zu registered reservation keys follow:\n", k->n_total);
	for (size_t i = 0; i < k->n_present; i++)
		fprintf(out, "    0x%" PRIx64 "\n", prk_prin_keys_at(k, i));
}

/* "scope: LU_SCOPE,  type: ..." after the given indentation. */
static void print_scope_type(FILE *out, const char *indent, uint8_t scope, uint8_t type)
{
	if (scope == 0)
		fprintf(out, "%sscope: LU_SCOPE, ", indent);
	else
		fprintf(out, "%sscope: %u ", indent, scope);
	fprintf(out, " type: %s\n", prk_persist_type_str(type));
}

void prk_persist_print_resv(FILE *out, const struct prk_prin_resv *r)
{
	fprintf(out, "  PR generation=0x%" PRIx32 ", ", r->generation);
	if (!r->present) {
		fputs("there is NO reservation held\n", out);
		return;
	}
	fputs("Reservation follows:\n", out);
	fprintf(out, "    Key=0x%" PRIx64 "\n", r->key);
	print_scope_type(out, "    ", r->scope, r->type);
}

/* The type mask bits in the order sg_persist lists them. */
static const struct {
	uint16_t bit;
	uint8_t type;
} mask_order[] = {
    {PRK_TYPE_MASK_WR_EX_AR, PRK_PR_WE_AR}, {PRK_TYPE_MASK_EX_AC_RO, PRK_PR_EA_RO},
    {PRK_TYPE_MASK_WR_EX_RO, PRK_PR_WE_RO}, {PRK_TYPE_MASK_EX_AC, PRK_PR_EA},
    {PRK_TYPE_MASK_WR_EX, PRK_PR_WE},       {PRK_TYPE_MASK_EX_AC_AR, PRK_PR_EA_AR},
};
#define N_MASK (sizeof(mask_order) / sizeof(mask_order[0]))

void prk_persist_print_caps(FILE *out, const struct prk_prin_caps *c)
{
	fputs("Report capabilities response:\n", out);
	fprintf(out, "  Replace Lost Reservation Capable(RLR_C): %d\n", c->rlr_c);
	fprintf(out, "  Compatible Reservation Handling(CRH): %d\n", c->crh);
	fprintf(out, "  Specify Initiator Ports Capable(SIP_C): %d\n", c->sip_c);
	fprintf(out, "  All Target Ports Capable(ATP_C): %d\n", c->atp_c);
	fprintf(out, "  Persist Through Power Loss Capable(PTPL_C): %d\n", c->ptpl_c);
	fprintf(out, "  Type Mask Valid(TMV): %d\n", c->tmv);
	fprintf(out, "  Allow Commands: %u\n", c->allow_commands);
	fprintf(out, "  Persist Through Power Loss Active(PTPL_A): %d\n", c->ptpl_a);
	if (!c->tmv)
		return;
	fputs("    Support indicated in Type mask:\n", out);
	for (size_t i = 0; i < N_MASK; i++)
		fprintf(out, "      %s: %d\n", prk_persist_type_str(mask_order[i].type),
		        (c->type_mask & mask_order[i].bit) != 0);
}

/* The TransportID of the descriptor at buf[off], as received: its string
 * area holds "name" or "name,i,0x<ISID>". */
static void print_full_tid(FILE *out, const uint8_t *buf, size_t off, const struct prk_tid *t)
{
	const uint8_t *tid = buf + off + PRK_FULL_DESC_HDR_LEN;
	uint16_t addl = prk_get_be16(tid + 2);

	fputs("      Transport Id of initiator:\n", out);
	if (t->format == PRK_TID_FMT_PORT)
		fprintf(out, "        iSCSI world wide unique port id: %.*s\n", (int)addl, tid + 4);
	else
		fprintf(out, "        iSCSI name: %.*s\n", (int)addl, tid + 4);
}

int prk_persist_print_full(FILE *out, const uint8_t *buf, size_t len, int verbose)
{
	struct prk_full_dec d;
	struct prk_full_desc desc;
	struct prk_field_err fe;
	size_t off;
	int r;

	/* Check everything first so that a bad response prints nothing. */
	if (prk_full_dec_start(&d, buf, len, &fe) < 0)
		return PRK_PERSIST_EXIT_MALFORMED;
	while ((r = prk_full_dec_next(&d, &desc, &fe)) > 0)
		;
	if (r < 0)
		return PRK_PERSIST_EXIT_MALFORMED;

	prk_full_dec_start(&d, buf, len, &fe);
	fprintf(out, "  PR generation=0x%" PRIx32 "\n", d.generation);
	if (d.additional_len == 0) {
		fputs("  No full status descriptors\n", out);
		if (verbose)
			fputs("  So there are no registered IT nexuses\n", out);
	}
	for (off = d.pos; prk_full_dec_next(&d, &desc, &fe) > 0; off = d.pos) {
		fprintf(out, "    Key=0x%" PRIx64 "\n", desc.key);
		if (desc.all_tg_pt) {
			fputs("      All target ports bit set\n", out);
		} else {
			fputs("      All target ports bit clear\n", out);
			fprintf(out, "      Relative port address: 0x%x\n", desc.rtpi);
		}
		if (desc.r_holder) {
			fputs("      << Reservation holder >>\n", out);
			print_scope_type(out, "      ", desc.scope, desc.type);
		} else {
			fputs("      not reservation holder\n", out);
		}
		print_full_tid(out, buf, off, &desc.tid);
	}
	return 0;
}

void prk_persist_hexdump(FILE *out, const uint8_t *buf, size_t len, int mode)
{
	for (size_t off = 0; off < len; off += 16) {
		size_t n = len - off < 16 ? len - off : 16;
		char line[100];
		int pos = 0;

		if (mode > 0) {
			/* " OFFSET" then the bytes from column 8 on. */
			pos = snprintf(line, sizeof(line), " %02zx", off);
			while (pos < 8)
				line[pos++] = ' ';
		}
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				line[pos++] = ' ';
			if (i == 8)
				line[pos++] = ' ';
			pos +=
			    snprintf(line + pos, sizeof(line) - (size_t)pos, "%02x", buf[off + i]);
		}
		line[pos] = '\0';
		fprintf(out, "%s\n", line);
	}
}

int prk_persist_print_hex(FILE *out, FILE *err, uint8_t prin_sa, const uint8_t *buf, size_t len,
                          int hex)
{
	if (prin_sa == PRK_PRIN_REPORT_CAPABILITIES) {
		if (len < PRK_PRIN_CAPS_LEN || buf[1] != PRK_PRIN_CAPS_LEN) {
			fputs("Unexpected response for PRIN Report Capabilities\n", err);
			if (len >= 2)
				prk_persist_hexdump(out, buf, buf[1] < len ? buf[1] : len, 1);
			return PRK_PERSIST_EXIT_MALFORMED;
		}
		prk_persist_hexdump(out, buf, PRK_PRIN_CAPS_LEN, 1);
		return 0;
	}
	if (len < PRK_PRIN_HDR_LEN) {
		fprintf(err, "PR in (%s): response of %zu bytes is shorter than its header\n",
		        prin_sa_name(prin_sa), len);
		return PRK_PERSIST_EXIT_MALFORMED;
	}

	uint32_t gen = prk_get_be32(buf);
	/* sg_persist keeps ADDITIONAL LENGTH in an int. */
	int add_len = (int)prk_get_be32(buf + 4);
	size_t have = len - PRK_PRIN_HDR_LEN;

	if (hex > 1) {
		size_t n = (size_t)(uint32_t)add_len + PRK_PRIN_HDR_LEN;

		prk_persist_hexdump(out, buf, n < len ? n : len, hex == 2 ? 1 : -1);
		return 0;
	}
	fprintf(out, "  PR generation=0x%" PRIx32 ", ", gen);
	/* sg_persist prints this line twice when the length is 0. */
	if (add_len <= 0)
		fprintf(out, "Additional length=%d\n", add_len);
	if ((uint32_t)add_len > have) {
		fprintf(out, "Additional length too large=%d, truncate\n", add_len);
		prk_persist_hexdump(out, buf + PRK_PRIN_HDR_LEN, have, 1);
	} else {
		fprintf(out, "Additional length=%d\n", add_len);
		prk_persist_hexdump(out, buf + PRK_PRIN_HDR_LEN, (size_t)add_len, 1);
	}
	return 0;
}

/* ---- JSON ---- */

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

static json_object *hex_str(uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "0x%" PRIx64, v);
	return json_object_new_string(b);
}

/* "<prefix>": "0x...", "<prefix>_value": n */
static void add_key(json_object *o, const char *name, uint64_t key)
{
	char k[64];

	add(o, name, hex_str(key));
	snprintf(k, sizeof(k), "%s_value", name);
	add(o, k, json_object_new_uint64(key));
}

static void add_type(json_object *o, uint8_t type)
{
	add(o, "type", json_object_new_int(type));
	add(o, "type_name", json_object_new_string(prk_pr_type_name(type)));
	add(o, "type_description", json_object_new_string(prk_persist_type_str(type)));
}

static void add_scope(json_object *o, uint8_t scope)
{
	add(o, "scope", json_object_new_int(scope));
	add(o, "scope_name", scope == 0 ? json_object_new_string("LU_SCOPE") : NULL);
}

static json_object *prin_obj(uint8_t sa, uint32_t generation)
{
	json_object *o = json_object_new_object();

	add(o, "command", json_object_new_string("pr_in"));
	add(o, "service_action", json_object_new_int(sa));
	add(o, "service_action_name", json_object_new_string(prin_sa_name(sa)));
	if (sa != PRK_PRIN_REPORT_CAPABILITIES)
		add(o, "pr_generation", json_object_new_int64(generation));
	return o;
}

static void rstrip_copy(char *dst, size_t cap, const char *src, size_t width)
{
	size_t n = strnlen(src, width);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

json_object *prk_persist_json_inquiry(const char *vendor, const char *product, const char *revision,
                                      uint8_t pdt)
{
	json_object *o = json_object_new_object();
	char b[20];

	rstrip_copy(b, sizeof(b), vendor, 8);
	add(o, "vendor", json_object_new_string(b));
	rstrip_copy(b, sizeof(b), product, 16);
	add(o, "product", json_object_new_string(b));
	rstrip_copy(b, sizeof(b), revision, 4);
	add(o, "revision", json_object_new_string(b));
	add(o, "peripheral_device_type", json_object_new_int(pdt));
	add(o, "peripheral_device_type_name", json_object_new_string(prk_persist_pdt_str(pdt)));
	return o;
}

json_object *prk_persist_json_tid(const struct prk_tid *t)
{
	json_object *o = json_object_new_object();

	add(o, "name", json_object_new_string(t->name));
	if (t->format == PRK_TID_FMT_PORT) {
		char b[24];

		snprintf(b, sizeof(b), "0x%012" PRIx64, (uint64_t)(t->isid & PRK_ISID_MASK));
		add(o, "isid", json_object_new_string(b));
	} else {
		add(o, "isid", NULL);
	}
	add(o, "format", json_object_new_int(t->format));
	return o;
}

json_object *prk_persist_json_keys(const struct prk_prin_keys *k)
{
	json_object *o = prin_obj(PRK_PRIN_READ_KEYS, k->generation);
	json_object *arr = json_object_new_array();

	add(o, "keys_reported", json_object_new_int64((int64_t)k->n_total));
	add(o, "truncated", json_object_new_boolean(k->n_present < k->n_total));
	for (size_t i = 0; i < k->n_present; i++) {
		json_object *e = json_object_new_object();

		add_key(e, "key", prk_prin_keys_at(k, i));
		json_object_array_add(arr, e);
	}
	add(o, "keys", arr);
	return o;
}

json_object *prk_persist_json_resv(const struct prk_prin_resv *r)
{
	json_object *o = prin_obj(PRK_PRIN_READ_RESERVATION, r->generation);
	json_object *res;

	if (!r->present) {
		add(o, "reservation", NULL);
		return o;
	}
	res = json_object_new_object();
	add_key(res, "key", r->key);
	add_scope(res, r->scope);
	add_type(res, r->type);
	add(o, "reservation", res);
	return o;
}

json_object *prk_persist_json_caps(const struct prk_prin_caps *c)
{
	json_object *o = prin_obj(PRK_PRIN_REPORT_CAPABILITIES, 0);

	add(o, "rlr_c", json_object_new_boolean(c->rlr_c));
	add(o, "crh", json_object_new_boolean(c->crh));
	add(o, "sip_c", json_object_new_boolean(c->sip_c));
	add(o, "atp_c", json_object_new_boolean(c->atp_c));
	add(o, "ptpl_c", json_object_new_boolean(c->ptpl_c));
	add(o, "tmv", json_object_new_boolean(c->tmv));
	add(o, "allow_commands", json_object_new_int(c->allow_commands));
	add(o, "ptpl_a", json_object_new_boolean(c->ptpl_a));
	add(o, "type_mask", json_object_new_int(c->type_mask));
	if (c->tmv) {
		json_object *arr = json_object_new_array();

		for (size_t i = 0; i < N_MASK; i++) {
			if (!(c->type_mask & mask_order[i].bit))
				continue;
			json_object *e = json_object_new_object();

			add_type(e, mask_order[i].type);
			json_object_array_add(arr, e);
		}
		add(o, "supported_types", arr);
	} else {
		add(o, "supported_types", NULL);
	}
	return o;
}

json_object *prk_persist_json_full(const uint8_t *buf, size_t len)
{
	struct prk_full_dec d;
	struct prk_full_desc desc;
	struct prk_field_err fe;
	json_object *o, *arr;
	int r;

	if (prk_full_dec_start(&d, buf, len, &fe) < 0)
		return NULL;
	o = prin_obj(PRK_PRIN_READ_FULL_STATUS, d.generation);
	arr = json_object_new_array();
	while ((r = prk_full_dec_next(&d, &desc, &fe)) > 0) {
		json_object *e = json_object_new_object();

		add_key(e, "key", desc.key);
		add(e, "all_tg_pt", json_object_new_boolean(desc.all_tg_pt));
		add(e, "relative_target_port",
		    desc.all_tg_pt ? NULL : json_object_new_int(desc.rtpi));
		add(e, "reservation_holder", json_object_new_boolean(desc.r_holder));
		if (desc.r_holder) {
			add_scope(e, desc.scope);
			add_type(e, desc.type);
		}
		add(e, "transport_id", prk_persist_json_tid(&desc.tid));
		json_object_array_add(arr, e);
	}
	if (r < 0) {
		json_object_put(arr);
		json_object_put(o);
		return NULL;
	}
	add(o, "truncated", json_object_new_boolean(d.truncated));
	add(o, "registrations", arr);
	return o;
}

json_object *prk_persist_json_prout(const struct prk_persist_args *a, int exit_status)
{
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();

	add(o, "command", json_object_new_string("pr_out"));
	add(o, "service_action", json_object_new_int(a->prout_sa));
	add(o, "service_action_name", json_object_new_string(prk_prout_sa_name(a->prout_sa)));
	add_key(o, "reservation_key", a->rk);
	add_key(o, "service_action_reservation_key", a->sark);
	if (a->type_given) {
		add_type(o, a->type);
	} else {
		add(o, "type", NULL);
		add(o, "type_name", NULL);
		add(o, "type_description", NULL);
	}
	add(o, "aptpl", json_object_new_boolean(a->aptpl));
	add(o, "all_tg_pt", json_object_new_boolean(a->all_tg_pt));
	if (a->prout_sa == PRK_PROUT_REGISTER_AND_MOVE) {
		add(o, "unreg", json_object_new_boolean(a->unreg));
		add(o, "relative_target_port", json_object_new_int(a->rtpi));
	}
	for (size_t i = 0; i < a->n_tids; i++)
		json_object_array_add(arr, prk_persist_json_tid(&a->tids[i]));
	add(o, "transport_ids", arr);
	add(o, "exit_status", json_object_new_int(exit_status));
	add(o, "status", json_object_new_string(prk_persist_exit_str(exit_status)));
	return o;
}

void prk_persist_json_print(FILE *out, json_object *o)
{
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
}

/* ---- one PR IN response ---- */

static int malformed(FILE *err, uint8_t sa, const struct prk_field_err *fe)
{
	fprintf(err, "PR in (%s): malformed response: bad %s at byte %u\n", prin_sa_name(sa),
	        fe->field ? fe->field : "length", fe->byte);
	return PRK_PERSIST_EXIT_MALFORMED;
}

static int emit(FILE *out, json_object *o)
{
	prk_persist_json_print(out, o);
	json_object_put(o);
	return 0;
}

int prk_persist_report_prin(FILE *out, FILE *err, const struct prk_persist_args *a,
                            const uint8_t *buf, size_t len)
{
	struct prk_field_err fe;
	uint8_t sa = a->prin_sa;

	memset(&fe, 0, sizeof(fe));
	if (a->hex && !a->json)
		return prk_persist_print_hex(out, err, sa, buf, len, a->hex);

	switch (sa) {
	case PRK_PRIN_READ_KEYS: {
		struct prk_prin_keys k;

		if (prk_prin_keys_decode(buf, len, &k, &fe) < 0)
			return malformed(err, sa, &fe);
		if (k.n_present < k.n_total)
			fprintf(err,
			        "PR in (Read keys): only %zu of %zu keys returned; use a larger "
			        "--maxlen\n",
			        k.n_present, k.n_total);
		if (a->json)
			return emit(out, prk_persist_json_keys(&k));
		prk_persist_print_keys(out, &k);
		return 0;
	}
	case PRK_PRIN_READ_RESERVATION: {
		struct prk_prin_resv r;

		if (prk_prin_resv_decode(buf, len, &r, &fe) < 0)
			return malformed(err, sa, &fe);
		if (a->json)
			return emit(out, prk_persist_json_resv(&r));
		prk_persist_print_resv(out, &r);
		return 0;
	}
	case PRK_PRIN_REPORT_CAPABILITIES: {
		struct prk_prin_caps c;

		/* sg_persist insists on LENGTH 8. */
		if (len < PRK_PRIN_CAPS_LEN || buf[1] != PRK_PRIN_CAPS_LEN ||
		    prk_prin_caps_decode(buf, len, &c, &fe) < 0) {
			fputs("Unexpected response for PRIN Report Capabilities\n", err);
			return PRK_PERSIST_EXIT_MALFORMED;
		}
		if (a->json)
			return emit(out, prk_persist_json_caps(&c));
		prk_persist_print_caps(out, &c);
		return 0;
	}
	case PRK_PRIN_READ_FULL_STATUS: {
		if (a->json) {
			json_object *o = prk_persist_json_full(buf, len);

			if (!o) {
				fputs("PR in (Read full status): malformed response\n", err);
				return PRK_PERSIST_EXIT_MALFORMED;
			}
			return emit(out, o);
		}
		if (prk_persist_print_full(out, buf, len, a->verbose) != 0) {
			fputs("PR in (Read full status): malformed response\n", err);
			return PRK_PERSIST_EXIT_MALFORMED;
		}
		return 0;
	}
	default:
		fprintf(err, "PR in: service action %u is not one prkit decodes\n", sa);
		return PRK_PERSIST_EXIT_MALFORMED;
	}
}
