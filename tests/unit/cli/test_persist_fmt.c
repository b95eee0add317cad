/* `prkit persist` output: sg_persist's text for every PR IN report and the
 * INQUIRY line (whole strings), its hex layouts, and our JSON parsed back
 * with json-c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persist_exit.h"
#include "persist_fmt.h"
#include "prkit/scsi_cdb.h"

#define NODE1 "iqn.1994-05.com.redhat:node1"
#define NODE2 "iqn.1994-05.com.redhat:node2"

/* ---- capturing a FILE * ---- */

struct cap {
	FILE *f;
	char *buf;
	size_t len;
};

static FILE *cap_open(struct cap *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	return c->f;
}

/* Closes and returns the text (caller frees). */
static char *cap_close(struct cap *c)
{
	fclose(c->f);
	return c->buf;
}

#define assert_text(c, want)                                                                       \
	do {                                                                                       \
		char *s_ = cap_close(c);                                                           \
		assert_string_equal(s_, (want));                                                   \
		free(s_);                                                                          \
	} while (0)

/* ---- building responses ---- */

static size_t keys_resp(uint8_t *buf, size_t cap, uint32_t gen, size_t n)
{
	static const uint64_t keys[] = {0x123abc, 0x456def, 0xffffffffffffffffULL};

	return prk_prin_keys_encode(gen, keys, n, buf, cap);
}

static void make_tid(struct prk_tid *t, uint8_t fmt, const char *name, uint64_t isid)
{
	memset(t, 0, sizeof(*t));
	t->format = fmt;
	t->isid = isid;
	strcpy(t->name, name);
}

/* Two registrations: NODE1's port holds a WE-RO reservation through RTPI 1,
 * NODE2 registered as a device on every target port. */
static size_t full_resp(uint8_t *buf, size_t cap)
{
	struct prk_full_enc e;
	struct prk_full_desc d;

	prk_full_enc_start(&e, 0x12, buf, cap);
	memset(&d, 0, sizeof(d));
	d.key = 0x123abc;
	d.rtpi = 1;
	d.r_holder = true;
	d.scope = 0;
	d.type = PRK_PR_WE_RO;
	make_tid(&d.tid, PRK_TID_FMT_PORT, NODE1, 0x23d000000001ULL);
	prk_full_enc_add(&e, &d);
	memset(&d, 0, sizeof(d));
	d.key = 0x456def;
	d.all_tg_pt = true;
	make_tid(&d.tid, PRK_TID_FMT_DEVICE, NODE2, 0);
	prk_full_enc_add(&e, &d);
	return prk_full_enc_finish(&e);
}

static const char FULL_TEXT[] =
    "  PR generation=0x12\n"
    "    Key=0x123abc\n"
    "      All target ports bit clear\n"
    "      Relative port address: 0x1\n"
    "      << Reservation holder >>\n"
    "      scope: LU_SCOPE,  type: Write Exclusive, registrants only\n"
    "      Transport Id of initiator:\n"
    "        iSCSI world wide unique port id: " NODE1 ",i,0x23d000000001\n"
    "    Key=0x456def\n"
    "      All target ports bit set\n"
    "      not reservation holder\n"
    "      Transport Id of initiator:\n"
    "        iSCSI name: " NODE2 "\n";

static const struct prk_prin_caps CAPS_ALL = {
    .rlr_c = true,
    .crh = false,
    .sip_c = true,
    .atp_c = true,
    .ptpl_c = true,
    .tmv = true,
    .allow_commands = 1,
    .ptpl_a = false,
    .type_mask = PRK_TYPE_MASK_ALL,
};

/* ---- text ---- */

static void inquiry(void **state)
{
	struct cap c;
	(void)state;

	/* trimmed strings are padded to the INQUIRY field widths */
	prk_persist_print_inquiry(cap_open(&c), "PRKIT", "disk0", "0.1", 0);
	assert_text(&c, "  PRKIT     disk0             0.1 \n"
	                "  Peripheral device type: disk\n");
	/* the raw, space-padded fields print the same */
	prk_persist_print_inquiry(cap_open(&c), "PRKIT   ", "disk0           ", "0.1 ", 0);
	assert_text(&c, "  PRKIT     disk0             0.1 \n"
	                "  Peripheral device type: disk\n");
	/* longer strings are cut at the field width */
	prk_persist_print_inquiry(cap_open(&c), "LIO-ORG-EXTRA", "0123456789abcdefXYZ", "4.0.1",
	                          0x0d);
	assert_text(&c, "  LIO-ORG-  0123456789abcdef  4.0.\n"
	                "  Peripheral device type: enclosure services device\n");
	prk_persist_print_inquiry(cap_open(&c), "A", "B", "C", 0x1f);
	assert_text(&c, "  A         B                 C   \n"
	                "  Peripheral device type: unknown or no device type\n");
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(prk_persist_type_str(0), "obsolete [0]");
	assert_string_equal(prk_persist_type_str(1), "Write Exclusive");
	assert_string_equal(prk_persist_type_str(2), "obsolete [2]");
	assert_string_equal(prk_persist_type_str(3), "Exclusive Access");
	assert_string_equal(prk_persist_type_str(4), "obsolete [4]");
	assert_string_equal(prk_persist_type_str(5), "Write Exclusive, registrants only");
	assert_string_equal(prk_persist_type_str(6), "Exclusive Access, registrants only");
	assert_string_equal(prk_persist_type_str(7), "Write Exclusive, all registrants");
	assert_string_equal(prk_persist_type_str(8), "Exclusive Access, all registrants");
	assert_string_equal(prk_persist_type_str(9), "obsolete [9]");
	assert_string_equal(prk_persist_type_str(0xa), "obsolete [0xa]");
	assert_string_equal(prk_persist_type_str(0xf), "obsolete [0xf]");
	assert_string_equal(prk_persist_pdt_str(0), "disk");
	assert_string_equal(prk_persist_pdt_str(1), "tape");
	assert_string_equal(prk_persist_pdt_str(0x14), "host managed zoned block");
	assert_string_equal(prk_persist_pdt_str(0x15), "0x15");
	assert_string_equal(prk_persist_pdt_str(0x1e), "well known logical unit");
	assert_string_equal(prk_persist_pdt_str(32), "bad pdt");
}

static void read_keys(void **state)
{
	uint8_t buf[64];
	struct prk_prin_keys k;
	struct prk_field_err fe;
	struct cap c;
	size_t n;
	(void)state;

	n = keys_resp(buf, sizeof(buf), 0, 0);
	assert_int_equal(prk_prin_keys_decode(buf, n, &k, &fe), 0);
	prk_persist_print_keys(cap_open(&c), &k);
	assert_text(&c, "  PR generation=0x0, there are NO registered reservation keys\n");

	n = keys_resp(buf, sizeof(buf), 1, 1);
	assert_int_equal(prk_prin_keys_decode(buf, n, &k, &fe), 0);
	prk_persist_print_keys(cap_open(&c), &k);
	assert_text(&c, "  PR generation=0x1, 1 registered reservation key follows:\n"
	                "    0x123abc\n");

	n = keys_resp(buf, sizeof(buf), 0xabcdef01, 3);
	assert_int_equal(prk_prin_keys_decode(buf, n, &k, &fe), 0);
	prk_persist_print_keys(cap_open(&c), &k);
	assert_text(&c, "  PR generation=0xabcdef01, 3 registered reservation keys follow:\n"
	                "    0x123abc\n"
	                "    0x456def\n"
	                "    0xffffffffffffffff\n");

	/* truncated at the allocation length: the count the target gives,
	 * the keys that arrived */
	n = keys_resp(buf, 16, 2, 3);
	assert_int_equal(prk_prin_keys_decode(buf, 16, &k, &fe), 0);
	prk_persist_print_keys(cap_open(&c), &k);
	assert_text(&c, "  PR generation=0x2, 3 registered reservation keys follow:\n"
	                "    0x123abc\n");
}

static void read_reservation(void **state)
{
	struct prk_prin_resv r = {.generation = 7, .present = false};
	struct cap c;
	(void)state;

	prk_persist_print_resv(cap_open(&c), &r);
	assert_text(&c, "  PR generation=0x7, there is NO reservation held\n");

	r.present = true;
	r.key = 0x123abc;
	r.scope = 0;
	r.type = PRK_PR_WE_RO;
	prk_persist_print_resv(cap_open(&c), &r);
	assert_text(&c, "  PR generation=0x7, Reservation follows:\n"
	                "    Key=0x123abc\n"
	                "    scope: LU_SCOPE,  type: Write Exclusive, registrants only\n");

	r.key = 0;
	r.type = PRK_PR_EA_AR;
	r.generation = 0x10;
	prk_persist_print_resv(cap_open(&c), &r);
	assert_text(&c, "  PR generation=0x10, Reservation follows:\n"
	                "    Key=0x0\n"
	                "    scope: LU_SCOPE,  type: Exclusive Access, all registrants\n");

	r.scope = 2;
	r.type = 2;
	prk_persist_print_resv(cap_open(&c), &r);
	assert_text(&c, "  PR generation=0x10, Reservation follows:\n"
	                "    Key=0x0\n"
	                "    scope: 2  type: obsolete [2]\n");
}

static void report_capabilities(void **state)
{
	struct prk_prin_caps cp = CAPS_ALL;
	struct cap c;
	(void)state;

	prk_persist_print_caps(cap_open(&c), &cp);
	assert_text(&c, "Report capabilities response:\n"
	                "  Replace Lost Reservation Capable(RLR_C): 1\n"
	                "  Compatible Reservation Handling(CRH): 0\n"
	                "  Specify Initiator Ports Capable(SIP_C): 1\n"
	                "  All Target Ports Capable(ATP_C): 1\n"
	                "  Persist Through Power Loss Capable(PTPL_C): 1\n"
	                "  Type Mask Valid(TMV): 1\n"
	                "  Allow Commands: 1\n"
	                "  Persist Through Power Loss Active(PTPL_A): 0\n"
	                "    Support indicated in Type mask:\n"
	                "      Write Exclusive, all registrants: 1\n"
	                "      Exclusive Access, registrants only: 1\n"
	                "      Write Exclusive, registrants only: 1\n"
	                "      Exclusive Access: 1\n"
	                "      Write Exclusive: 1\n"
	                "      Exclusive Access, all registrants: 1\n");

	cp.type_mask = PRK_TYPE_MASK_WR_EX | PRK_TYPE_MASK_EX_AC_AR;
	cp.crh = true;
	cp.ptpl_a = true;
	cp.allow_commands = 5;
	prk_persist_print_caps(cap_open(&c), &cp);
	assert_text(&c, "Report capabilities response:\n"
	                "  Replace Lost Reservation Capable(RLR_C): 1\n"
	                "  Compatible Reservation Handling(CRH): 1\n"
	                "  Specify Initiator Ports Capable(SIP_C): 1\n"
	                "  All Target Ports Capable(ATP_C): 1\n"
	                "  Persist Through Power Loss Capable(PTPL_C): 1\n"
	                "  Type Mask Valid(TMV): 1\n"
	                "  Allow Commands: 5\n"
	                "  Persist Through Power Loss Active(PTPL_A): 1\n"
	                "    Support indicated in Type mask:\n"
	                "      Write Exclusive, all registrants: 0\n"
	                "      Exclusive Access, registrants only: 0\n"
	                "      Write Exclusive, registrants only: 0\n"
	                "      Exclusive Access: 0\n"
	                "      Write Exclusive: 1\n"
	                "      Exclusive Access, all registrants: 1\n");

	/* without TMV, no type mask lines */
	memset(&cp, 0, sizeof(cp));
	cp.type_mask = PRK_TYPE_MASK_ALL;
	prk_persist_print_caps(cap_open(&c), &cp);
	assert_text(&c, "Report capabilities response:\n"
	                "  Replace Lost Reservation Capable(RLR_C): 0\n"
	                "  Compatible Reservation Handling(CRH): 0\n"
	                "  Specify Initiator Ports Capable(SIP_C): 0\n"
	                "  All Target Ports Capable(ATP_C): 0\n"
	                "  Persist Through Power Loss Capable(PTPL_C): 0\n"
	                "  Type Mask Valid(TMV): 0\n"
	                "  Allow Commands: 0\n"
	                "  Persist Through Power Loss Active(PTPL_A): 0\n");
}

static void read_full_status(void **state)
{
	uint8_t buf[512];
	struct cap c;
	size_t n;
	char *p;
	(void)state;

	n = full_resp(buf, sizeof(buf));
	assert_true(n > 8);
	assert_int_equal(prk_persist_print_full(cap_open(&c), buf, n, 0), 0);
	assert_text(&c, FULL_TEXT);

	/* the TransportID is printed as received (here an upper-case ISID) */
	p = memmem(buf, n, "0x23d", 5);
	assert_non_null(p);
	p[4] = 'D';
	assert_int_equal(prk_persist_print_full(cap_open(&c), buf, n, 0), 0);
	p = cap_close(&c);
	assert_non_null(strstr(p, "iSCSI world wide unique port id: " NODE1 ",i,0x23D000000001\n"));
	free(p);

	/* no registrations */
	struct prk_full_enc e;
	prk_full_enc_start(&e, 7, buf, sizeof(buf));
	n = prk_full_enc_finish(&e);
	assert_int_equal(prk_persist_print_full(cap_open(&c), buf, n, 0), 0);
	assert_text(&c, "  PR generation=0x7\n"
	                "  No full status descriptors\n");
	assert_int_equal(prk_persist_print_full(cap_open(&c), buf, n, 1), 0);
	assert_text(&c, "  PR generation=0x7\n"
	                "  No full status descriptors\n"
	                "  So there are no registered IT nexuses\n");

	/* a holder of scope 1 on port 0x1234 */
	struct prk_full_desc d;
	prk_full_enc_start(&e, 0, buf, sizeof(buf));
	memset(&d, 0, sizeof(d));
	d.key = 1;
	d.rtpi = 0x1234;
	d.r_holder = true;
	d.scope = 1;
	d.type = PRK_PR_EA;
	make_tid(&d.tid, PRK_TID_FMT_DEVICE, "iqn.a", 0);
	prk_full_enc_add(&e, &d);
	n = prk_full_enc_finish(&e);
	assert_int_equal(prk_persist_print_full(cap_open(&c), buf, n, 0), 0);
	assert_text(&c, "  PR generation=0x0\n"
	                "    Key=0x1\n"
	                "      All target ports bit clear\n"
	                "      Relative port address: 0x1234\n"
	                "      << Reservation holder >>\n"
	                "      scope: 1  type: Exclusive Access\n"
	                "      Transport Id of initiator:\n"
	                "        iSCSI name: iqn.a\n");

	/* malformed: nothing printed */
	n = full_resp(buf, sizeof(buf));
	buf[8 + 24] = 0x06; /* first TransportID: SAS, not iSCSI */
	assert_int_equal(prk_persist_print_full(cap_open(&c), buf, n, 0),
	                 PRK_PERSIST_EXIT_MALFORMED);
	assert_text(&c, "");
	assert_int_equal(prk_persist_print_full(cap_open(&c), buf, 4, 0),
	                 PRK_PERSIST_EXIT_MALFORMED);
	assert_text(&c, "");
}

/* ---- hex ---- */

static void hexdump(void **state)
{
	uint8_t b[0x112];
	struct cap c;
	(void)state;

	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)i;
	prk_persist_hexdump(cap_open(&c), b, 20, 1);
	assert_text(&c, " 00     00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f\n"
	                " 10     10 11 12 13\n");
	prk_persist_hexdump(cap_open(&c), b, 20, -1);
	assert_text(&c, "00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f\n"
	                "10 11 12 13\n");
	prk_persist_hexdump(cap_open(&c), b, 16, 1);
	assert_text(&c, " 00     00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f\n");
	prk_persist_hexdump(cap_open(&c), b, 9, -1);
	assert_text(&c, "00 01 02 03 04 05 06 07  08\n");
	prk_persist_hexdump(cap_open(&c), b, 8, 1);
	assert_text(&c, " 00     00 01 02 03 04 05 06 07\n");
	prk_persist_hexdump(cap_open(&c), b, 0, 1);
	assert_text(&c, "");
	prk_persist_hexdump(cap_open(&c), b + 0xf0, 0x22, 1);
	assert_text(&c, " 00     f0 f1 f2 f3 f4 f5 f6 f7  f8 f9 fa fb fc fd fe ff\n"
	                " 10     00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f\n"
	                " 20     10 11\n");
	prk_persist_hexdump(cap_open(&c), b, sizeof(b), 1);
	char *s = cap_close(&c);
	assert_non_null(strstr(s, "\n f0     f0 f1"));
	assert_non_null(strstr(s, "\n 100    00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f\n"
	                          " 110    10 11\n"));
	free(s);
}

static void hex_reports(void **state)
{
	uint8_t buf[64];
	struct cap c, e;
	size_t n;
	(void)state;

	n = keys_resp(buf, sizeof(buf), 3, 2);
	assert_int_equal(
	    prk_persist_print_hex(cap_open(&c), cap_open(&e), PRK_PRIN_READ_KEYS, buf, n, 1), 0);
	assert_text(&c, "  PR generation=0x3, Additional length=16\n"
	                " 00     00 00 00 00 00 12 3a bc  00 00 00 00 00 45 6d ef\n");
	assert_text(&e, "");
	prk_persist_print_hex(cap_open(&c), cap_open(&e), PRK_PRIN_READ_KEYS, buf, n, 2);
	assert_text(&c, " 00     00 00 00 03 00 00 00 10  00 00 00 00 00 12 3a bc\n"
	                " 10     00 00 00 00 00 45 6d ef\n");
	assert_text(&e, "");
	prk_persist_print_hex(cap_open(&c), cap_open(&e), PRK_PRIN_READ_FULL_STATUS, buf, n, 3);
	assert_text(&c, "00 00 00 03 00 00 00 10  00 00 00 00 00 12 3a bc\n"
	                "00 00 00 00 00 45 6d ef\n");
	assert_text(&e, "");
	prk_persist_print_hex(cap_open(&c), cap_open(&e), PRK_PRIN_READ_KEYS, buf, n, 5);
	assert_text(&c, "00 00 00 03 00 00 00 10  00 00 00 00 00 12 3a bc\n"
	                "00 00 00 00 00 45 6d ef\n");
	assert_text(&e, "");

	/* sg_persist prints the length line twice when it is 0 */
	n = keys_resp(buf, sizeof(buf), 3, 0);
	prk_persist_print_hex(cap_open(&c), cap_open(&e), PRK_PRIN_READ_RESERVATION, buf, n, 1);
	assert_text(&c, "  PR generation=0x3, Additional length=0\n"
	                "Additional length=0\n");
	assert_text(&e, "");

	/* truncated at the allocation length */
	n = keys_resp(buf, 16, 3, 2);
	prk_persist_print_hex(cap_open(&c), cap_open(&e), PRK_PRIN_READ_KEYS, buf, 16, 1);
	assert_text(&c, "  PR generation=0x3, Additional length too large=16, truncate\n"
	                " 00     00 00 00 00 00 12 3a bc\n");
	assert_text(&e, "");
	prk_persist_print_hex(cap_open(&c), cap_open(&e), PRK_PRIN_READ_KEYS, buf, 16, 2);
	assert_text(&c, " 00     00 00 00 03 00 00 00 10  00 00 00 00 00 12 3a bc\n");
	assert_text(&e, "");

	/* too short for a header */
	assert_int_equal(
	    prk_persist_print_hex(cap_open(&c), cap_open(&e), PRK_PRIN_READ_KEYS, buf, 7, 1),
	    PRK_PERSIST_EXIT_MALFORMED);
	assert_text(&c, "");
	assert_text(&e, "PR in (READ KEYS): response of 7 bytes is shorter than its header\n");

	/* REPORT CAPABILITIES: always the 8 bytes with offsets */
	n = prk_prin_caps_encode(&CAPS_ALL, buf, sizeof(buf));
	assert_int_equal(n, 8);
	for (int h = 1; h <= 3; h++) {
		assert_int_equal(prk_persist_print_hex(cap_open(&c), cap_open(&e),
		                                       PRK_PRIN_REPORT_CAPABILITIES, buf, n, h),
		                 0);
		assert_text(&c, " 00     00 08 8d 90 ea 01 00 00\n");
		assert_text(&e, "");
	}
	/* ... and LENGTH must be 8 */
	buf[1] = 6;
	assert_int_equal(prk_persist_print_hex(cap_open(&c), cap_open(&e),
	                                       PRK_PRIN_REPORT_CAPABILITIES, buf, n, 1),
	                 PRK_PERSIST_EXIT_MALFORMED);
	assert_text(&c, " 00     00 06 8d 90 ea 01\n");
	assert_text(&e, "Unexpected response for PRIN Report Capabilities\n");
}

/* ---- JSON ---- */

static json_object *reparse(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	json_object *r = json_tokener_parse(s);

	assert_non_null(r);
	json_object_put(o);
	return r;
}

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v))
		fail_msg("no field \"%s\" in %s", k, json_object_to_json_string(o));
	return v;
}

static const char *get_str(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	assert_true(json_object_is_type(v, json_type_string));
	return json_object_get_string(v);
}

static int64_t get_int(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	assert_true(json_object_is_type(v, json_type_int));
	return json_object_get_int64(v);
}

static bool get_bool(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	assert_true(json_object_is_type(v, json_type_boolean));
	return json_object_get_boolean(v);
}

static void assert_null_field(json_object *o, const char *k)
{
	assert_null(get(o, k));
}

static void json_keys(void **state)
{
	uint8_t buf[64];
	struct prk_prin_keys k;
	struct prk_field_err fe;
	json_object *o, *arr, *e;
	size_t n;
	(void)state;

	n = keys_resp(buf, sizeof(buf), 0x10, 3);
	assert_int_equal(prk_prin_keys_decode(buf, n, &k, &fe), 0);
	o = reparse(prk_persist_json_keys(&k));
	assert_string_equal(get_str(o, "command"), "pr_in");
	assert_int_equal(get_int(o, "service_action"), 0);
	assert_string_equal(get_str(o, "service_action_name"), "READ KEYS");
	assert_int_equal(get_int(o, "pr_generation"), 0x10);
	assert_int_equal(get_int(o, "keys_reported"), 3);
	assert_false(get_bool(o, "truncated"));
	arr = get(o, "keys");
	assert_int_equal(json_object_array_length(arr), 3);
	e = json_object_array_get_idx(arr, 0);
	assert_string_equal(get_str(e, "key"), "0x123abc");
	assert_int_equal(get_int(e, "key_value"), 0x123abc);
	e = json_object_array_get_idx(arr, 2);
	assert_string_equal(get_str(e, "key"), "0xffffffffffffffff");
	assert_true(json_object_get_uint64(get(e, "key_value")) == UINT64_MAX);
	json_object_put(o);

	n = keys_resp(buf, 16, 1, 3);
	assert_int_equal(prk_prin_keys_decode(buf, 16, &k, &fe), 0);
	o = reparse(prk_persist_json_keys(&k));
	assert_int_equal(get_int(o, "keys_reported"), 3);
	assert_true(get_bool(o, "truncated"));
	assert_int_equal(json_object_array_length(get(o, "keys")), 1);
	json_object_put(o);
}

static void json_resv_caps(void **state)
{
	struct prk_prin_resv r = {.generation = 9, .present = true, .key = 0xabc, .type = 6};
	json_object *o, *res, *arr, *e;
	(void)state;

	o = reparse(prk_persist_json_resv(&r));
	assert_string_equal(get_str(o, "service_action_name"), "READ RESERVATION");
	assert_int_equal(get_int(o, "service_action"), 1);
	assert_int_equal(get_int(o, "pr_generation"), 9);
	res = get(o, "reservation");
	assert_string_equal(get_str(res, "key"), "0xabc");
	assert_int_equal(get_int(res, "key_value"), 0xabc);
	assert_int_equal(get_int(res, "scope"), 0);
	assert_string_equal(get_str(res, "scope_name"), "LU_SCOPE");
	assert_int_equal(get_int(res, "type"), 6);
	assert_string_equal(get_str(res, "type_name"), "EA-RO");
	assert_string_equal(get_str(res, "type_description"), "Exclusive Access, registrants only");
	json_object_put(o);

	r.present = false;
	o = reparse(prk_persist_json_resv(&r));
	assert_null_field(o, "reservation");
	json_object_put(o);

	o = reparse(prk_persist_json_caps(&CAPS_ALL));
	assert_string_equal(get_str(o, "service_action_name"), "REPORT CAPABILITIES");
	assert_int_equal(get_int(o, "service_action"), 2);
	assert_false(json_object_object_get_ex(o, "pr_generation", NULL));
	assert_true(get_bool(o, "rlr_c"));
	assert_false(get_bool(o, "crh"));
	assert_true(get_bool(o, "sip_c"));
	assert_true(get_bool(o, "atp_c"));
	assert_true(get_bool(o, "ptpl_c"));
	assert_true(get_bool(o, "tmv"));
	assert_int_equal(get_int(o, "allow_commands"), 1);
	assert_false(get_bool(o, "ptpl_a"));
	assert_int_equal(get_int(o, "type_mask"), 0xea01);
	arr = get(o, "supported_types");
	assert_int_equal(json_object_array_length(arr), 6);
	static const int order[] = {7, 6, 5, 3, 1, 8};
	for (size_t i = 0; i < 6; i++) {
		e = json_object_array_get_idx(arr, i);
		assert_int_equal(get_int(e, "type"), order[i]);
		assert_string_equal(get_str(e, "type_name"), prk_pr_type_name((uint8_t)order[i]));
	}
	json_object_put(o);

	struct prk_prin_caps cp = CAPS_ALL;
	cp.tmv = false;
	o = reparse(prk_persist_json_caps(&cp));
	assert_null_field(o, "supported_types");
	json_object_put(o);
}

static void json_full(void **state)
{
	uint8_t buf[512];
	json_object *o, *arr, *e, *t;
	size_t n;
	(void)state;

	n = full_resp(buf, sizeof(buf));
	o = reparse(prk_persist_json_full(buf, n));
	assert_string_equal(get_str(o, "service_action_name"), "READ FULL STATUS");
	assert_int_equal(get_int(o, "service_action"), 3);
	assert_int_equal(get_int(o, "pr_generation"), 0x12);
	assert_false(get_bool(o, "truncated"));
	arr = get(o, "registrations");
	assert_int_equal(json_object_array_length(arr), 2);

	e = json_object_array_get_idx(arr, 0);
	assert_string_equal(get_str(e, "key"), "0x123abc");
	assert_int_equal(get_int(e, "key_value"), 0x123abc);
	assert_false(get_bool(e, "all_tg_pt"));
	assert_int_equal(get_int(e, "relative_target_port"), 1);
	assert_true(get_bool(e, "reservation_holder"));
	assert_int_equal(get_int(e, "scope"), 0);
	assert_int_equal(get_int(e, "type"), 5);
	assert_string_equal(get_str(e, "type_name"), "WE-RO");
	t = get(e, "transport_id");
	assert_string_equal(get_str(t, "name"), NODE1);
	assert_string_equal(get_str(t, "isid"), "0x23d000000001");
	assert_int_equal(get_int(t, "format"), 1);

	e = json_object_array_get_idx(arr, 1);
	assert_string_equal(get_str(e, "key"), "0x456def");
	assert_true(get_bool(e, "all_tg_pt"));
	assert_null_field(e, "relative_target_port");
	assert_false(get_bool(e, "reservation_holder"));
	assert_false(json_object_object_get_ex(e, "type", NULL));
	t = get(e, "transport_id");
	assert_string_equal(get_str(t, "name"), NODE2);
	assert_null_field(t, "isid");
	assert_int_equal(get_int(t, "format"), 0);
	json_object_put(o);

	/* truncated in the second descriptor */
	o = reparse(prk_persist_json_full(buf, n - 10));
	assert_true(get_bool(o, "truncated"));
	assert_int_equal(json_object_array_length(get(o, "registrations")), 1);
	json_object_put(o);

	buf[8 + 24] = 0x06;
	assert_null(prk_persist_json_full(buf, n));
	assert_null(prk_persist_json_full(buf, 3));
}

static void json_inquiry_tid_prout(void **state)
{
	struct prk_persist_args a;
	json_object *o, *arr;
	(void)state;

	o = reparse(prk_persist_json_inquiry("LIO-ORG ", "disk0           ", "4.0 ", 0));
	assert_string_equal(get_str(o, "vendor"), "LIO-ORG");
	assert_string_equal(get_str(o, "product"), "disk0");
	assert_string_equal(get_str(o, "revision"), "4.0");
	assert_int_equal(get_int(o, "peripheral_device_type"), 0);
	assert_string_equal(get_str(o, "peripheral_device_type_name"), "disk");
	json_object_put(o);

	memset(&a, 0, sizeof(a));
	a.dir = PRK_PERSIST_OUT;
	a.prout_sa = PRK_PROUT_REGISTER;
	a.sark = 0x1a2b;
	a.aptpl = true;
	make_tid(&a.tids[0], PRK_TID_FMT_PORT, NODE1, 0x400001370000ULL);
	make_tid(&a.tids[1], PRK_TID_FMT_DEVICE, NODE2, 0);
	a.n_tids = 2;
	o = reparse(prk_persist_json_prout(&a, 0));
	assert_string_equal(get_str(o, "command"), "pr_out");
	assert_int_equal(get_int(o, "service_action"), 0);
	assert_string_equal(get_str(o, "service_action_name"), "REGISTER");
	assert_string_equal(get_str(o, "reservation_key"), "0x0");
	assert_int_equal(get_int(o, "reservation_key_value"), 0);
	assert_string_equal(get_str(o, "service_action_reservation_key"), "0x1a2b");
	assert_int_equal(get_int(o, "service_action_reservation_key_value"), 0x1a2b);
	assert_null_field(o, "type");
	assert_null_field(o, "type_name");
	assert_true(get_bool(o, "aptpl"));
	assert_false(get_bool(o, "all_tg_pt"));
	assert_false(json_object_object_get_ex(o, "unreg", NULL));
	arr = get(o, "transport_ids");
	assert_int_equal(json_object_array_length(arr), 2);
	assert_string_equal(get_str(json_object_array_get_idx(arr, 0), "isid"), "0x400001370000");
	assert_string_equal(get_str(json_object_array_get_idx(arr, 1), "name"), NODE2);
	assert_int_equal(get_int(o, "exit_status"), 0);
	assert_string_equal(get_str(o, "status"), "Success");
	json_object_put(o);

	a.prout_sa = PRK_PROUT_REGISTER_AND_MOVE;
	a.type = 5;
	a.type_given = true;
	a.unreg = true;
	a.rtpi = 2;
	a.n_tids = 1;
	o = reparse(prk_persist_json_prout(&a, 24));
	assert_string_equal(get_str(o, "service_action_name"), "REGISTER AND MOVE");
	assert_int_equal(get_int(o, "type"), 5);
	assert_string_equal(get_str(o, "type_name"), "WE-RO");
	assert_true(get_bool(o, "unreg"));
	assert_int_equal(get_int(o, "relative_target_port"), 2);
	assert_int_equal(get_int(o, "exit_status"), 24);
	assert_string_equal(get_str(o, "status"), "Reservation conflict");
	json_object_put(o);
}

/* json_print: pretty, then a newline; a caller can add "paths". */
static void json_print_compose(void **state)
{
	struct prk_prin_resv r = {.generation = 1};
	json_object *o = prk_persist_json_resv(&r), *paths = json_object_new_array(), *back;
	struct cap c;
	char *s;
	(void)state;

	json_object_array_add(paths, json_object_new_string("iscsi://a/iqn.a/0"));
	json_object_object_add(o, "paths", paths);
	prk_persist_json_print(cap_open(&c), o);
	s = cap_close(&c);
	assert_int_equal(s[0], '{');
	assert_non_null(strchr(s, '\n'));
	assert_int_equal(s[strlen(s) - 1], '\n');
	assert_int_equal(s[strlen(s) - 2], '}');
	back = json_tokener_parse(s);
	assert_non_null(back);
	assert_string_equal(
	    json_object_get_string(json_object_array_get_idx(get(back, "paths"), 0)),
	    "iscsi://a/iqn.a/0");
	json_object_put(back);
	json_object_put(o);
	free(s);
}

/* ---- one PR IN response ---- */

static int report(struct prk_persist_args *a, const uint8_t *buf, size_t len, char **out,
                  char **err)
{
	struct cap c, e;
	int rc = prk_persist_report_prin(cap_open(&c), cap_open(&e), a, buf, len);

	*out = cap_close(&c);
	*err = cap_close(&e);
	return rc;
}

static void report_prin(void **state)
{
	struct prk_persist_args a;
	uint8_t buf[512];
	char *out, *err;
	size_t n;
	json_object *o;
	(void)state;

	memset(&a, 0, sizeof(a));
	a.dir = PRK_PERSIST_IN;

	/* READ KEYS: text, JSON, hex, truncated, malformed */
	a.prin_sa = PRK_PRIN_READ_KEYS;
	n = keys_resp(buf, sizeof(buf), 3, 2);
	assert_int_equal(report(&a, buf, n, &out, &err), 0);
	assert_string_equal(out, "  PR generation=0x3, 2 registered reservation keys follow:\n"
	                         "    0x123abc\n"
	                         "    0x456def\n");
	assert_string_equal(err, "");
	free(out);
	free(err);
	a.json = true;
	assert_int_equal(report(&a, buf, n, &out, &err), 0);
	o = json_tokener_parse(out);
	assert_non_null(o);
	assert_int_equal(json_object_array_length(get(o, "keys")), 2);
	json_object_put(o);
	free(out);
	free(err);
	a.json = false;
	a.hex = 1;
	assert_int_equal(report(&a, buf, n, &out, &err), 0);
	assert_string_equal(out, "  PR generation=0x3, Additional length=16\n"
	                         " 00     00 00 00 00 00 12 3a bc  00 00 00 00 00 45 6d ef\n");
	free(out);
	free(err);
	a.hex = 0;
	assert_int_equal(report(&a, buf, 16, &out, &err), 0);
	assert_string_equal(out, "  PR generation=0x3, 2 registered reservation keys follow:\n"
	                         "    0x123abc\n");
	assert_string_equal(
	    err, "PR in (Read keys): only 1 of 2 keys returned; use a larger --maxlen\n");
	free(out);
	free(err);
	buf[7] = 5; /* ADDITIONAL LENGTH not a multiple of 8 */
	assert_int_equal(report(&a, buf, n, &out, &err), PRK_PERSIST_EXIT_MALFORMED);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "PR in (READ KEYS): malformed response: bad "));
	free(out);
	free(err);

	/* READ RESERVATION */
	struct prk_prin_resv r = {.generation = 4, .present = true, .key = 0x99, .type = 1};
	a.prin_sa = PRK_PRIN_READ_RESERVATION;
	n = prk_prin_resv_encode(&r, buf, sizeof(buf));
	assert_int_equal(report(&a, buf, n, &out, &err), 0);
	assert_string_equal(out, "  PR generation=0x4, Reservation follows:\n"
	                         "    Key=0x99\n"
	                         "    scope: LU_SCOPE,  type: Write Exclusive\n");
	free(out);
	free(err);
	assert_int_equal(report(&a, buf, 12, &out, &err), PRK_PERSIST_EXIT_MALFORMED);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "PR in (READ RESERVATION): malformed response"));
	free(out);
	free(err);

	/* REPORT CAPABILITIES, and its LENGTH check */
	a.prin_sa = PRK_PRIN_REPORT_CAPABILITIES;
	n = prk_prin_caps_encode(&CAPS_ALL, buf, sizeof(buf));
	assert_int_equal(report(&a, buf, n, &out, &err), 0);
	assert_int_equal(strncmp(out, "Report capabilities response:\n", 30), 0);
	assert_string_equal(err, "");
	free(out);
	free(err);
	buf[1] = 10;
	assert_int_equal(report(&a, buf, n, &out, &err), PRK_PERSIST_EXIT_MALFORMED);
	assert_string_equal(out, "");
	assert_string_equal(err, "Unexpected response for PRIN Report Capabilities\n");
	free(out);
	free(err);

	/* READ FULL STATUS: text (with --verbose), JSON, malformed */
	a.prin_sa = PRK_PRIN_READ_FULL_STATUS;
	n = full_resp(buf, sizeof(buf));
	assert_int_equal(report(&a, buf, n, &out, &err), 0);
	assert_string_equal(out, FULL_TEXT);
	free(out);
	free(err);
	a.json = true;
	assert_int_equal(report(&a, buf, n, &out, &err), 0);
	o = json_tokener_parse(out);
	assert_non_null(o);
	assert_int_equal(json_object_array_length(get(o, "registrations")), 2);
	json_object_put(o);
	free(out);
	free(err);
	buf[8 + 24] = 0x06;
	assert_int_equal(report(&a, buf, n, &out, &err), PRK_PERSIST_EXIT_MALFORMED);
	assert_string_equal(out, "");
	assert_string_equal(err, "PR in (Read full status): malformed response\n");
	free(out);
	free(err);
	a.json = false;
	assert_int_equal(report(&a, buf, n, &out, &err), PRK_PERSIST_EXIT_MALFORMED);
	assert_string_equal(out, "");
	assert_string_equal(err, "PR in (Read full status): malformed response\n");
	free(out);
	free(err);

	/* an unknown service action */
	a.prin_sa = 7;
	assert_int_equal(report(&a, buf, n, &out, &err), PRK_PERSIST_EXIT_MALFORMED);
	assert_string_equal(err, "PR in: service action 7 is not one prkit decodes\n");
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(inquiry),
	    cmocka_unit_test(names),
	    cmocka_unit_test(read_keys),
	    cmocka_unit_test(read_reservation),
	    cmocka_unit_test(report_capabilities),
	    cmocka_unit_test(read_full_status),
	    cmocka_unit_test(hexdump),
	    cmocka_unit_test(hex_reports),
	    cmocka_unit_test(json_keys),
	    cmocka_unit_test(json_resv_caps),
	    cmocka_unit_test(json_full),
	    cmocka_unit_test(json_inquiry_tid_prout),
	    cmocka_unit_test(json_print_compose),
	    cmocka_unit_test(report_prin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
