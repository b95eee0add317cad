/* `prkit persist` command line: sg_persist's options and rules, plus
 * --json, --initiator and --timeout, against iscsi:// URLs. */
#include "persist_args.h"

#include <getopt.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "prkit/hexdigit.h"
#include "prkit/iscsi_url.h"
#include "prkit/scsi_cdb.h"

/* Long-only options of ours. */
enum {
	OPT_JSON = 0x100,
	OPT_INITIATOR,
	OPT_TIMEOUT,
};

/* sg_persist's option letters (its getopt string, plus -? by hand). The
 * leading ':' makes getopt report a missing argument as ':'. */
static const char short_opts[] = ":AcCd:GHhiIkK:l:Lm:MnoPQ:rRsS:T:UvVX:yYzZ";

/* sg_persist's long options, with the underscore spellings recent versions
 * also accept, and ours. */
static const struct option long_opts[] = {
    {"alloc-length", required_argument, NULL, 'l'},
    {"alloc_length", required_argument, NULL, 'l'},
    {"clear", no_argument, NULL, 'C'},
    {"device", required_argument, NULL, 'd'},
    {"help", no_argument, NULL, 'h'},
    {"hex", no_argument, NULL, 'H'},
    {"in", no_argument, NULL, 'i'},
    {"maxlen", required_argument, NULL, 'm'},
    {"no-inquiry", no_argument, NULL, 'n'},
    {"no_inquiry", no_argument, NULL, 'n'},
    {"out", no_argument, NULL, 'o'},
    {"param-alltgpt", no_argument, NULL, 'Y'},
    {"param_alltgpt", no_argument, NULL, 'Y'},
    {"param-aptpl", no_argument, NULL, 'Z'},
    {"param_aptpl", no_argument, NULL, 'Z'},
    {"param-rk", required_argument, NULL, 'K'},
    {"param_rk", required_argument, NULL, 'K'},
    {"param-sark", required_argument, NULL, 'S'},
    {"param_sark", required_argument, NULL, 'S'},
    {"param-unreg", no_argument, NULL, 'U'},
    {"param_unreg", no_argument, NULL, 'U'},
    {"preempt", no_argument, NULL, 'P'},
    {"preempt-abort", no_argument, NULL, 'A'},
    {"preempt_abort", no_argument, NULL, 'A'},
    {"prout-type", required_argument, NULL, 'T'},
    {"prout_type", required_argument, NULL, 'T'},
    {"read-full-status", no_argument, NULL, 's'},
    {"read_full_status", no_argument, NULL, 's'},
    {"read-keys", no_argument, NULL, 'k'},
    {"read_keys", no_argument, NULL, 'k'},
    {"readonly", no_argument, NULL, 'y'},
    {"read-reservation", no_argument, NULL, 'r'},
    {"read_reservation", no_argument, NULL, 'r'},
    {"read-status", no_argument, NULL, 's'},
    {"read_status", no_argument, NULL, 's'},
    {"register", no_argument, NULL, 'G'},
    {"register-ignore", no_argument, NULL, 'I'},
    {"register_ignore", no_argument, NULL, 'I'},
    {"register-move", no_argument, NULL, 'M'},
    {"register_move", no_argument, NULL, 'M'},
    {"release", no_argument, NULL, 'L'},
    {"relative-target-port", required_argument, NULL, 'Q'},
    {"relative_target_port", required_argument, NULL, 'Q'},
    {"replace-lost", no_argument, NULL, 'z'},
    {"replace_lost", no_argument, NULL, 'z'},
    {"report-capabilities", no_argument, NULL, 'c'},
    {"report_capabilities", no_argument, NULL, 'c'},
    {"reserve", no_argument, NULL, 'R'},
    {"transport-id", required_argument, NULL, 'X'},
    {"transport_id", required_argument, NULL, 'X'},
    {"unreg", no_argument, NULL, 'U'},
    {"verbose", no_argument, NULL, 'v'},
    {"version", no_argument, NULL, 'V'},
    {"json", no_argument, NULL, OPT_JSON},
    {"initiator", required_argument, NULL, OPT_INITIATOR},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {NULL, 0, NULL, 0},
};

/* The service-action options, by letter. */
struct sa_opt {
	int c;
	bool out;
	uint8_t sa;
	const char *name; /* the long option, for messages */
};

static const struct sa_opt sa_opts[] = {
    {'k', false, PRK_PRIN_READ_KEYS, "--read-keys"},
    {'r', false, PRK_PRIN_READ_RESERVATION, "--read-reservation"},
    {'c', false, PRK_PRIN_REPORT_CAPABILITIES, "--report-capabilities"},
    {'s', false, PRK_PRIN_READ_FULL_STATUS, "--read-full-status"},
    {'G', true, PRK_PROUT_REGISTER, "--register"},
    {'R', true, PRK_PROUT_RESERVE, "--reserve"},
    {'L', true, PRK_PROUT_RELEASE, "--release"},
    {'C', true, PRK_PROUT_CLEAR, "--clear"},
    {'P', true, PRK_PROUT_PREEMPT, "--preempt"},
    {'A', true, PRK_PROUT_PREEMPT_AND_ABORT, "--preempt-abort"},
    {'I', true, PRK_PROUT_REGISTER_AND_IGNORE, "--register-ignore"},
    {'M', true, PRK_PROUT_REGISTER_AND_MOVE, "--register-move"},
    {'z', true, PRK_PROUT_REPLACE_LOST, "--replace-lost"},
};

static const struct sa_opt *sa_opt_of(int c)
{
	for (size_t i = 0; i < sizeof(sa_opts) / sizeof(sa_opts[0]); i++)
		if (sa_opts[i].c == c)
			return &sa_opts[i];
	return NULL;
}

static const char *prout_sa_opt_name(uint8_t sa)
{
	for (size_t i = 0; i < sizeof(sa_opts) / sizeof(sa_opts[0]); i++)
		if (sa_opts[i].out && sa_opts[i].sa == sa)
			return sa_opts[i].name;
	return "?";
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Optional 0x/0X, then at least one hex digit and nothing else; at most
 * max. (sg_persist reads keys with sscanf("%x"), which also takes leading
 * blanks, a sign and trailing junk; we do not.) */
static bool parse_hex(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return false;
	for (; *s; s++) {
		int d = prk_hex_digit((unsigned char)*s);

		if (d < 0 || v > (UINT64_MAX >> 4))
			return false;
		v = v << 4 | (uint64_t)d;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* Decimal digits only, at most max. */
static bool parse_dec(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* --maxlen: decimal, or hex with a 0x prefix or an h suffix (sg3_utils'
 * number forms, without the multipliers). */
static bool parse_num(const char *s, uint64_t max, uint64_t *out)
{
	size_t n = strlen(s);
	char tmp[32];

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return parse_hex(s, max, out);
	if (n > 1 && n < sizeof(tmp) && (s[n - 1] == 'h' || s[n - 1] == 'H')) {
		memcpy(tmp, s, n - 1);
		tmp[n - 1] = '\0';
		if (tmp[0] == '0' && (tmp[1] == 'x' || tmp[1] == 'X'))
			return false;
		return parse_hex(tmp, max, out);
	}
	return parse_dec(s, max, out);
}

/* ---- URLs ---- */

/* The shared parser (prkit/iscsi_url.h); the operand's own text is kept
 * for messages and for handing to the host library. */
int prk_persist_url_parse(const char *s, struct prk_persist_url *u, char *err, size_t errlen)
{
	struct prk_iscsi_url parsed;

	memset(u, 0, sizeof(*u));
	u->text = s;
	if (prk_iscsi_url_parse(s, &parsed, err, errlen) != PRK_URL_OK)
		return -1;
	memcpy(u->host, parsed.host, sizeof(u->host));
	u->port = parsed.port;
	memcpy(u->target, parsed.target, sizeof(u->target));
	u->lun = parsed.lun;
	u->has_credentials = parsed.has_credentials;
	return 0;
}

/* ---- TransportIDs ---- */

#define ISID_DIGITS 12

static int tid_from_name(const char *s, struct prk_tid *t, char *err, size_t errlen)
{
	const char *comma = strchr(s, ',');
	size_t nlen = comma ? (size_t)(comma - s) : strlen(s);

	if (nlen > PRK_ISCSI_NAME_MAX)
		return fail(err, errlen, "iSCSI name longer than %d characters",
		            PRK_ISCSI_NAME_MAX);
	memcpy(t->name, s, nlen);
	t->name[nlen] = '\0';
	if (!prk_iscsi_name_valid(t->name))
		return fail(err, errlen, "'%s' is not a valid iSCSI name", t->name);
	if (!comma) {
		t->format = PRK_TID_FMT_DEVICE;
		return 0;
	}
	if (strncasecmp(comma, ",i,0x", 5) != 0)
		return fail(err, errlen,
		            "after the name, expected ',i,0x' and 12 hex digits of ISID");
	const char *hex = comma + 5;
	uint64_t isid = 0;

	if (strlen(hex) != ISID_DIGITS)
		return fail(err, errlen, "ISID '%s' is not 12 hex digits", hex);
	for (size_t i = 0; i < ISID_DIGITS; i++) {
		int d = prk_hex_digit((unsigned char)hex[i]);

		if (d < 0)
			return fail(err, errlen, "ISID '%s' is not 12 hex digits", hex);
		isid = isid << 4 | (uint64_t)d;
	}
	t->format = PRK_TID_FMT_PORT;
	t->isid = isid;
	return 0;
}

/* sg_persist's "comma (or single space) separated list of ASCII hex bytes"
 * for one TransportID. Bytes not given are zero, as in sg_persist. */
static int tid_from_hex(const char *s, struct prk_tid *t, char *err, size_t errlen)
{
	uint8_t buf[PRK_TID_MAX_LEN];
	size_t n = 0, used = 0;
	const char *p = s;
	struct prk_field_err fe;

	memset(buf, 0, sizeof(buf));
	for (;;) {
		size_t pos = (size_t)(p - s) + 1;
		size_t k = 0;
		unsigned v = 0;

		while (prk_hex_digit((unsigned char)p[k]) >= 0) {
			v = v << 4 | (unsigned)prk_hex_digit((unsigned char)p[k]);
			if (++k > 2)
				return fail(err, errlen,
				            "hex number at position %zu is larger than ff", pos);
		}
		if (k == 0)
			return fail(err, errlen, "expected a hex byte at position %zu", pos);
		if (n == sizeof(buf))
			return fail(err, errlen, "more than %d bytes", PRK_TID_MAX_LEN);
		buf[n++] = (uint8_t)v;
		p += k;
		if (!*p)
			break;
		p++; /* one ',' or ' ' */
	}
	memset(&fe, 0, sizeof(fe));
	if (prk_tid_decode(buf, sizeof(buf), 0, t, &used, &fe) < 0) {
		if (fe.field && strcmp(fe.field, "PROTOCOL IDENTIFIER") == 0)
			return fail(err, errlen,
			            "not an iSCSI TransportID (PROTOCOL IDENTIFIER %u)",
			            buf[0] & 0xfu);
		return fail(err, errlen, "bad %s at byte %u of the TransportID",
		            fe.field ? fe.field : "field", fe.byte);
	}
	if (n > used)
		return fail(err, errlen,
		            "%zu bytes given, but the TransportID's ADDITIONAL LENGTH makes it %zu",
		            n, used);
	return 0;
}

int prk_persist_tid_parse(const char *s, struct prk_tid *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	if (!*s)
		return fail(err, errlen, "empty");
	if (strcmp(s, "-") == 0 || strncasecmp(s, "file=", 5) == 0)
		return fail(err, errlen,
		            "reading TransportIDs from stdin or a file is not supported; give each "
		            "with its own --transport-id");
	if (prk_iscsi_name_has_type(s))
		return tid_from_name(s, t, err, errlen);
	if (strspn(s, "0123456789abcdefABCDEF, ") == strlen(s))
		return tid_from_hex(s, t, err, errlen);
	return fail(err, errlen,
	            "only iSCSI TransportIDs are supported: iqn.NAME, iqn.NAME,i,0xISID "
	            "(eui. and naa. names too) or hex bytes");
}

/* ---- the command line ---- */

/* How the option just returned by getopt_long was spelled, for messages. */
static const char *opt_name(char *buf, size_t len, int c, int longidx)
{
	if (longidx >= 0)
		snprintf(buf, len, "--%s", long_opts[longidx].name);
	else
		snprintf(buf, len, "-%c", c);
	return buf;
}

static bool is_long_arg(const char *arg)
{
	return arg[0] == '-' && arg[1] == '-';
}

static bool type_needed(uint8_t sa)
{
	switch (sa) {
	case PRK_PROUT_RESERVE:
	case PRK_PROUT_RELEASE:
	case PRK_PROUT_PREEMPT:
	case PRK_PROUT_PREEMPT_AND_ABORT:
	case PRK_PROUT_REGISTER_AND_MOVE:
	case PRK_PROUT_REPLACE_LOST:
		return true;
	default:
		return false;
	}
}

#define VALID_TYPES "1, 3, 5, 6, 7 or 8"

int prk_persist_parse(int argc, char **argv, struct prk_persist_args *a, char *err, size_t errlen)
{
	const struct sa_opt *in1 = NULL, *in2 = NULL, *out1 = NULL, *out2 = NULL;
	const char *in_opt = NULL, *out_opt = NULL, *type_text = NULL;
	char name[40], msg[200];
	uint64_t v;
	int c;

	memset(a, 0, sizeof(*a));
	a->dir = PRK_PERSIST_IN;
	a->alloc_len = PRK_PERSIST_DEFAULT_ALLOC_LEN;
	a->timeout = PRK_PERSIST_DEFAULT_TIMEOUT;
	if (errlen)
		err[0] = '\0';

	optind = 0; /* full reset of GNU getopt (also forgets the last argv) */
	opterr = 0;
	for (;;) {
		int longidx = -1;
		const struct sa_opt *so;

		c = getopt_long(argc, argv, short_opts, long_opts, &longidx);
		if (c == -1)
			break;
		opt_name(name, sizeof(name), c, longidx);

		so = sa_opt_of(c);
		if (so) {
			const struct sa_opt **first = so->out ? &out1 : &in1;
			const struct sa_opt **second = so->out ? &out2 : &in2;

			if (!*first)
				*first = so;
			else if ((*first)->c != so->c && !*second)
				*second = so;
			continue;
		}

		switch (c) {
		case 'i':
			in_opt = "--in";
			break;
		case 'o':
			out_opt = "--out";
			break;
		case 'K':
		case 'S':
			if (!parse_hex(optarg, UINT64_MAX, &v)) {
				fail(err, errlen,
				     "%s '%s': not a hex key (up to 16 hex digits, 0x optional)",
				     name, optarg);
				return PRK_PERSIST_EXIT_SYNTAX;
			}
			if (c == 'K')
				a->rk = v;
			else
				a->sark = v;
			break;
		case 'T':
			if (!parse_hex(optarg, 0xf, &v)) {
				fail(err, errlen,
				     "%s '%s': not a reservation type (hex, " VALID_TYPES ")", name,
				     optarg);
				return PRK_PERSIST_EXIT_SYNTAX;
			}
			a->type = (uint8_t)v;
			a->type_given = true;
			type_text = optarg;
			break;
		case 'Q':
			if (!parse_hex(optarg, 0xffff, &v)) {
				fail(err, errlen,
				     "%s '%s': not a relative target port identifier (hex, 0 to "
				     "ffff)",
				     name, optarg);
				return PRK_PERSIST_EXIT_SYNTAX;
			}
			a->rtpi = (uint16_t)v;
			a->rtpi_given = true;
			break;
		case 'X':
			if (a->n_tids == PRK_PERSIST_MAX_TIDS) {
				fail(err, errlen, "%s '%s': more than %d TransportIDs", name,
				     optarg, PRK_PERSIST_MAX_TIDS);
				return PRK_PERSIST_EXIT_SYNTAX;
			}
			if (prk_persist_tid_parse(optarg, &a->tids[a->n_tids], msg, sizeof(msg))) {
				fail(err, errlen, "%s '%s': %s", name, optarg, msg);
				return PRK_PERSIST_EXIT_SYNTAX;
			}
			a->n_tids++;
			break;
		case 'Y':
			a->all_tg_pt = true;
			break;
		case 'Z':
			a->aptpl = true;
			break;
		case 'U':
			a->unreg = true;
			break;
		case 'l':
			if (!parse_hex(optarg, 0xffff, &v)) {
				fail(err, errlen,
				     "%s '%s': not an allocation length (hex, 0 to ffff)", name,
				     optarg);
				return PRK_PERSIST_EXIT_SYNTAX;
			}
			a->alloc_len = (uint16_t)v;
			break;
		case 'm':
			if (!parse_num(optarg, 0xffff, &v)) {
				fail(err, errlen,
				     "%s '%s': not an allocation length (0 to 65535; 0x.. or ..h "
				     "for hex)",
				     name, optarg);
				return PRK_PERSIST_EXIT_SYNTAX;
			}
			a->alloc_len = (uint16_t)v;
			break;
		case 'd':
			if (a->n_urls == PRK_PERSIST_MAX_URLS) {
				fail(err, errlen, "%s '%s': more than %d URLs", name, optarg,
				     PRK_PERSIST_MAX_URLS);
				return PRK_PERSIST_EXIT_SYNTAX;
			}
			if (prk_persist_url_parse(optarg, &a->urls[a->n_urls], msg, sizeof(msg))) {
				fail(err, errlen, "%s '%s': %s", name, optarg, msg);
				return PRK_PERSIST_EXIT_SYNTAX;
			}
			a->n_urls++;
			break;
		case 'n':
			a->no_inquiry = true;
			break;
		case 'H':
			a->hex++;
			break;
		case 'v':
			a->verbose++;
			break;
		case 'y':
			a->readonly++;
			break;
		case 'h':
			a->help++;
			break;
		case 'V':
			a->version = true;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_INITIATOR:
			if (strlen(optarg) > PRK_ISCSI_NAME_MAX || !prk_iscsi_name_valid(optarg)) {
				fail(err, errlen,
				     "%s '%s': not a valid iSCSI name (1 to %d printable "
				     "characters, no "
				     "space or comma)",
				     name, optarg, PRK_ISCSI_NAME_MAX);
				return PRK_PERSIST_EXIT_SYNTAX;
			}
			strcpy(a->initiator, optarg);
			a->initiator_given = true;
			break;
		case OPT_TIMEOUT:
			if (!parse_dec(optarg, PRK_PERSIST_MAX_TIMEOUT, &v) || v == 0) {
				fail(err, errlen, "%s '%s': not a number of seconds (1 to %d)",
				     name, optarg, PRK_PERSIST_MAX_TIMEOUT);
				return PRK_PERSIST_EXIT_SYNTAX;
			}
			a->timeout = (unsigned)v;
			break;
		case ':':
			if (is_long_arg(argv[optind - 1]))
				fail(err, errlen, "%s needs a value", argv[optind - 1]);
			else
				fail(err, errlen, "-%c needs a value", optopt);
			return PRK_PERSIST_EXIT_SYNTAX;
		case '?':
		default:
			if (is_long_arg(argv[optind - 1])) {
				fail(err, errlen,
				     "unknown or ambiguous option, or a value it does not take: "
				     "'%s'",
				     argv[optind - 1]);
				return PRK_PERSIST_EXIT_SYNTAX;
			}
			if (optopt == '?') { /* -?: sg_persist's other spelling of help */
				a->help++;
				break;
			}
			fail(err, errlen, "unknown option '-%c'", optopt);
			return PRK_PERSIST_EXIT_SYNTAX;
		}
	}
	if (a->help || a->version)
		return 0;

	for (int i = optind; i < argc; i++) {
		if (a->n_urls == PRK_PERSIST_MAX_URLS) {
			fail(err, errlen, "too many URLs (at most %d): '%s'", PRK_PERSIST_MAX_URLS,
			     argv[i]);
			return PRK_PERSIST_EXIT_SYNTAX;
		}
		if (prk_persist_url_parse(argv[i], &a->urls[a->n_urls], msg, sizeof(msg))) {
			fail(err, errlen, "URL '%s': %s", argv[i], msg);
			return PRK_PERSIST_EXIT_SYNTAX;
		}
		a->n_urls++;
	}
	if (a->n_urls == 0) {
		fail(err, errlen, "no URL given (iscsi://host[:port]/target-iqn/lun)");
		return PRK_PERSIST_EXIT_SYNTAX;
	}

	/* Direction and service action, as sg_persist decides them. */
	if (in_opt && out_opt) {
		fail(err, errlen, "--in and --out: choose one");
		return PRK_PERSIST_EXIT_CONTRADICT;
	}
	if (out_opt) {
		if (in1) {
			fail(err, errlen, "%s is a PR IN service action; it cannot go with --out",
			     in1->name);
			return PRK_PERSIST_EXIT_CONTRADICT;
		}
		if (!out1) {
			fail(
			    err, errlen,
			    "--out needs one PR OUT service action (--register, --register-ignore, "
			    "--reserve, --release, --clear, --preempt, --preempt-abort, "
			    "--register-move or --replace-lost)");
			return PRK_PERSIST_EXIT_CONTRADICT;
		}
		if (out2) {
			fail(err, errlen, "%s and %s: choose one service action", out1->name,
			     out2->name);
			return PRK_PERSIST_EXIT_CONTRADICT;
		}
		a->dir = PRK_PERSIST_OUT;
		a->prout_sa = out1->sa;
	} else {
		if (out1) {
			fail(err, errlen,
			     "%s is a PR OUT service action: give --out too (sg_persist's "
			     "safeguard)",
			     out1->name);
			return PRK_PERSIST_EXIT_CONTRADICT;
		}
		if (in2) {
			fail(err, errlen, "%s and %s: choose one service action", in1->name,
			     in2->name);
			return PRK_PERSIST_EXIT_CONTRADICT;
		}
		a->dir = PRK_PERSIST_IN;
		a->prin_sa = in1 ? in1->sa : PRK_PRIN_READ_KEYS;
		a->prin_sa_defaulted = !in1;
	}

	/* What only REGISTER AND MOVE takes (checked with PR IN too, as
	 * sg_persist does). */
	bool move = a->dir == PRK_PERSIST_OUT && a->prout_sa == PRK_PROUT_REGISTER_AND_MOVE;

	if ((a->unreg || a->rtpi_given) && !move) {
		fail(err, errlen, "%s is only for --register-move",
		     a->unreg ? "--unreg" : "--relative-target-port");
		return PRK_PERSIST_EXIT_CONTRADICT;
	}

	if (a->dir == PRK_PERSIST_OUT) {
		const char *sa_name = prout_sa_opt_name(a->prout_sa);

		if (type_needed(a->prout_sa)) {
			if (!a->type_given) {
				fail(err, errlen, "%s needs --prout-type (" VALID_TYPES ")",
				     sa_name);
				return PRK_PERSIST_EXIT_CONTRADICT;
			}
			if (!prk_pr_type_valid(a->type)) {
				fail(err, errlen,
				     "--prout-type '%s': type %u is not valid for %s (" VALID_TYPES
				     ")",
				     type_text, a->type, sa_name);
				return PRK_PERSIST_EXIT_SYNTAX;
			}
		}
		if (move) {
			if (a->n_tids != 1) {
				fail(err, errlen,
				     "--register-move needs exactly one --transport-id (%zu given)",
				     a->n_tids);
				return PRK_PERSIST_EXIT_CONTRADICT;
			}
			if (a->tids[0].format != PRK_TID_FMT_PORT) {
				fail(err, errlen,
				     "--transport-id '%s': --register-move needs an initiator port "
				     "(NAME,i,0xISID)",
				     a->tids[0].name);
				return PRK_PERSIST_EXIT_SYNTAX;
			}
		} else if (a->n_tids && a->prout_sa != PRK_PROUT_REGISTER) {
			fail(err, errlen,
			     "--transport-id is only for --register and --register-move, "
			     "not %s",
			     sa_name);
			return PRK_PERSIST_EXIT_CONTRADICT;
		}
		if (a->all_tg_pt && a->prout_sa != PRK_PROUT_REGISTER &&
		    a->prout_sa != PRK_PROUT_REGISTER_AND_IGNORE) {
			fail(err, errlen,
			     "--param-alltgpt is only for --register and --register-ignore, not %s",
			     sa_name);
			return PRK_PERSIST_EXIT_CONTRADICT;
		}
	}

	if (a->json && a->hex) {
		fail(err, errlen, "--json and --hex: choose one");
		return PRK_PERSIST_EXIT_CONTRADICT;
	}
	return 0;
}

void prk_persist_usage(FILE *f, int help)
{
	if (help < 2) {
		fputs("usage: prkit persist [OPTIONS] URL [URL...]\n"
		      "  URL: iscsi://[user[%secret]@]host[:port]/target-iqn/lun (one per path, up "
		      "to 8)\n"
		      "\n"
		      "PR IN (the default direction; READ KEYS is the default service action):\n"
		      "  -i, --in                    PERSISTENT RESERVE IN\n"
		      "  -k, --read-keys             registered keys\n"
		      "  -r, --read-reservation      the reservation, if any\n"
		      "  -c, --report-capabilities   what the target supports\n"
		      "  -s, --read-full-status      every registration with its initiator\n"
		      "PR OUT (needs --out and one service action):\n"
		      "  -o, --out                   PERSISTENT RESERVE OUT\n"
		      "  -G, --register              register (-S new key; -K old key to change)\n"
		      "  -I, --register-ignore       register, ignoring any existing key\n"
		      "  -R, --reserve               reserve (-K, -T)\n"
		      "  -L, --release               release (-K, -T)\n"
		      "  -C, --clear                 remove every registration (-K)\n"
		      "  -P, --preempt               preempt key -S (-K, -T)\n"
		      "  -A, --preempt-abort         preempt and abort (-K, -S, -T)\n"
		      "  -M, --register-move         move the reservation to -X (-K, -S, -T)\n"
		      "  -z, --replace-lost          replace a lost reservation (-S, -T)\n"
		      "  -K, --param-rk=RK           reservation key (hex)\n"
		      "  -S, --param-sark=SARK       service action reservation key (hex)\n"
		      "  -T, --prout-type=TYPE       reservation type (see -hh)\n"
		      "  -U, --unreg                 with --register-move: unregister the sender\n"
		      "\n"
		      "  -h, --help                  this text; -hh for the other options\n"
		      "\n"
		      "Exit status: 0 on success, else sg_persist's (see docs/persist.md).\n",
		      f);
		return;
	}
	fputs("usage: prkit persist [OPTIONS] URL [URL...]\n"
	      "other options:\n"
	      "  -d, --device=URL            a URL given as an option\n"
	      "  -H, --hex                   PR IN response in hex (-HH, -HHH: other layouts)\n"
	      "  -l, --alloc-length=LEN      PR IN allocation length, hex (default 2000)\n"
	      "  -m, --maxlen=LEN            the same in decimal (0x.. or ..h for hex)\n"
	      "  -n, --no-inquiry            skip the INQUIRY line\n"
	      "  -Q, --relative-target-port=RTPI\n"
	      "                              with --register-move: the target port (hex)\n"
	      "  -X, --transport-id=TID      NAME,i,0xISID (a port), NAME (every port of a\n"
	      "                              device) or hex bytes; repeat for several\n"
	      "  -Y, --param-alltgpt         register on every target port\n"
	      "  -Z, --param-aptpl           persist through power loss\n"
	      "  -y, --readonly              accepted for sg_persist scripts; no effect\n"
	      "  -v, --verbose               more on stderr (repeat for more)\n"
	      "  -V, --version               version, then exit\n"
	      "      --json                  JSON instead of sg_persist's text\n"
	      "      --initiator=NAME        our iSCSI initiator name (default: "
	      "$" PRK_PERSIST_INITIATOR_ENV ",\n"
	      "                              else " PRK_PERSIST_INITIATOR_PREFIX "HOSTNAME)\n"
	      "      --timeout=SECONDS       per command (default 60)\n"
	      "\n"
	      "PR OUT TYPE values:\n"
	      "  1  write exclusive\n"
	      "  3  exclusive access\n"
	      "  5  write exclusive, registrants only\n"
	      "  6  exclusive access, registrants only\n"
	      "  7  write exclusive, all registrants\n"
	      "  8  exclusive access, all registrants\n",
	      f);
}

void prk_persist_print_notes(FILE *err, const struct prk_persist_args *a)
{
	if (a->json)
		return;
	if (a->dir == PRK_PERSIST_IN && a->prin_sa_defaulted)
		fputs(">> No service action given; assume Persistent Reserve In command\n"
		      ">> with Read Keys service action\n",
		      err);
}
