/* `prkit persist` command line: sg_persist's options and rules, plus
 * --json, --initiator and --timeout, against iscsi:// URLs. */
#include "persist_args.h"

#include <getopt.h>
#include <stddef.h>
#include <string.h>

#include "persist_values.h"
#include "prkit/scsi_cdb.h"

/* ---- the command line ---- */

/* What prk_persist_parse keeps while it reads the options: the service
 * actions given (the first two of each direction, to name both when two
 * are given), --in and --out, and --prout-type as typed. */
struct pstate {
	struct prk_persist_args *a;
	const struct popt *in1, *in2, *out1, *out2;
	bool in_opt, out_opt;
	const char *type_text;
};

enum popt_kind {
	PK_SA,    /* a service action (sa_out, sa) */
	PK_FLAG,  /* sets the bool at off in the args */
	PK_COUNT, /* adds one to the int at off in the args */
	PK_VALUE, /* set() reads the value */
};

struct popt;
/* Reads an option's value. name is the option as the user spelled it, for
 * the message. Returns 0, or -1 with "name 'value': why" in err. */
typedef int (*popt_set)(struct pstate *st, const struct popt *o, const char *name,
                        const char *value, char *err, size_t errlen);

/* One option: the parser, the getopt tables and the usage text all come
 * from this. */
struct popt {
	int id;               /* sg_persist's letter, or an OPT_* of ours (long only) */
	const char *names[5]; /* long spellings; the first is the usage's and the messages' */
	const char *arg;      /* the value's name in the usage; NULL: takes no value */
	enum popt_kind kind;
	size_t off;         /* PK_FLAG, PK_COUNT, and PK_VALUE options that share a setter */
	popt_set set;       /* PK_VALUE */
	bool sa_out;        /* PK_SA: PR OUT (else PR IN) */
	uint8_t sa;         /* PK_SA: enum prk_prin_sa / prk_prout_sa */
	int level;          /* shown by -h (1) or by -hh (2) */
	const char *before; /* usage text printed before this option's line */
	const char *help;   /* the usage line ('\n' continues it on the next) */
};

/* Long-only options of ours. */
enum {
	OPT_JSON = 0x100,
	OPT_INITIATOR,
	OPT_TIMEOUT,
};

#define ARG_OFF(field) offsetof(struct prk_persist_args, field)
#define VALID_TYPES "1, 3, 5, 6, 7 or 8"

static int set_dir(struct pstate *st, const struct popt *o, const char *name, const char *value,
                   char *err, size_t errlen)
{
	(void)name, (void)value, (void)err, (void)errlen;
	if (o->id == 'o')
		st->out_opt = true;
	else
		st->in_opt = true;
	return 0;
}

/* --param-rk and --param-sark: the uint64_t at off. */
static int set_key(struct pstate *st, const struct popt *o, const char *name, const char *value,
                   char *err, size_t errlen)
{
	uint64_t v;

	if (!prk_persist_parse_hex(value, UINT64_MAX, &v))
		return prk_errf(err, errlen,
		                "%s '%s': not a hex key (up to 16 hex digits, 0x optional)", name,
		                value);
	memcpy((char *)st->a + o->off, &v, sizeof(v));
	return 0;
}

static int set_type(struct pstate *st, const struct popt *o, const char *name, const char *value,
                    char *err, size_t errlen)
{
	uint64_t v;

	(void)o;
	if (!prk_persist_parse_hex(value, 0xf, &v))
		return prk_errf(err, errlen,
		                "%s '%s': not a reservation type (hex, " VALID_TYPES ")", name,
		                value);
	st->a->type = (uint8_t)v;
	st->a->type_given = true;
	st->type_text = value;
	return 0;
}

static int set_rtpi(struct pstate *st, const struct popt *o, const char *name, const char *value,
                    char *err, size_t errlen)
{
	uint64_t v;

	(void)o;
	if (!prk_persist_parse_hex(value, 0xffff, &v))
		return prk_errf(err, errlen,
		                "%s '%s': not a relative target port identifier (hex, 0 to ffff)",
		                name, value);
	st->a->rtpi = (uint16_t)v;
	st->a->rtpi_given = true;
	return 0;
}

static int set_tid(struct pstate *st, const struct popt *o, const char *name, const char *value,
                   char *err, size_t errlen)
{
	struct prk_persist_args *a = st->a;
	char msg[200];

	(void)o;
	if (a->n_tids == PRK_PERSIST_MAX_TIDS)
		return prk_errf(err, errlen, "%s '%s': more than %d TransportIDs", name, value,
		                PRK_PERSIST_MAX_TIDS);
	if (prk_persist_tid_parse(value, &a->tids[a->n_tids], msg, sizeof(msg)))
		return prk_errf(err, errlen, "%s '%s': %s", name, value, msg);
	a->n_tids++;
	return 0;
}

/* --alloc-length (hex, as sg_persist) and --maxlen (sg3_utils' numbers). */
static int set_alloc_len(struct pstate *st, const struct popt *o, const char *name,
                         const char *value, char *err, size_t errlen)
{
	uint64_t v;

	if (o->id == 'm') {
		if (!prk_persist_parse_num(value, 0xffff, &v))
			return prk_errf(
			    err, errlen,
			    "%s '%s': not an allocation length (0 to 65535; 0x.. or ..h for "
			    "hex)",
			    name, value);
	} else if (!prk_persist_parse_hex(value, 0xffff, &v)) {
		return prk_errf(err, errlen, "%s '%s': not an allocation length (hex, 0 to ffff)",
		                name, value);
	}
	st->a->alloc_len = (uint16_t)v;
	return 0;
}

/* A URL given with --device; operands go the same way. */
static int add_url(struct prk_persist_args *a, const char *value, char *msg, size_t msglen)
{
	if (prk_persist_url_parse(value, &a->urls[a->n_urls], msg, msglen))
		return -1;
	a->n_urls++;
	return 0;
}

static int set_device(struct pstate *st, const struct popt *o, const char *name, const char *value,
                      char *err, size_t errlen)
{
	char msg[200];

	(void)o;
	if (st->a->n_urls == PRK_PERSIST_MAX_URLS)
		return prk_errf(err, errlen, "%s '%s': more than %d URLs", name, value,
		                PRK_PERSIST_MAX_URLS);
	if (add_url(st->a, value, msg, sizeof(msg)))
		return prk_errf(err, errlen, "%s '%s': %s", name, value, msg);
	return 0;
}

static int set_initiator(struct pstate *st, const struct popt *o, const char *name,
                         const char *value, char *err, size_t errlen)
{
	(void)o;
	if (strlen(value) > PRK_ISCSI_NAME_MAX || !prk_iscsi_name_valid(value))
		return prk_errf(err, errlen,
		                "%s '%s': not a valid iSCSI name (1 to %d printable characters, no "
		                "space or comma)",
		                name, value, PRK_ISCSI_NAME_MAX);
	strcpy(st->a->initiator, value);
	st->a->initiator_given = true;
	return 0;
}

static int set_timeout(struct pstate *st, const struct popt *o, const char *name, const char *value,
                       char *err, size_t errlen)
{
	uint64_t v;

	(void)o;
	if (!prk_parse_dec(value, PRK_PERSIST_MAX_TIMEOUT, &v) || v == 0)
		return prk_errf(err, errlen, "%s '%s': not a number of seconds (1 to %d)", name,
		                value, PRK_PERSIST_MAX_TIMEOUT);
	st->a->timeout = (unsigned)v;
	return 0;
}

#define SA(id_, out_, sa_, lvl, help_, ...)                                                        \
	{                                                                                          \
		.id = (id_), .names = {__VA_ARGS__}, .kind = PK_SA, .sa_out = (out_), .sa = (sa_), \
		.level = (lvl), .help = (help_)                                                    \
	}
#define FLAG(id_, field, lvl, help_, ...)                                                          \
	{                                                                                          \
		.id = (id_), .names = {__VA_ARGS__}, .kind = PK_FLAG, .off = ARG_OFF(field),       \
		.level = (lvl), .help = (help_)                                                    \
	}
#define COUNT(id_, field, lvl, help_, ...)                                                         \
	{                                                                                          \
		.id = (id_), .names = {__VA_ARGS__}, .kind = PK_COUNT, .off = ARG_OFF(field),      \
		.level = (lvl), .help = (help_)                                                    \
	}
#define VALUE(id_, arg_, setter, lvl, help_, ...)                                                  \
	{                                                                                          \
		.id = (id_), .names = {__VA_ARGS__}, .arg = (arg_), .kind = PK_VALUE,              \
		.set = (setter), .level = (lvl), .help = (help_)                                   \
	}

/* sg_persist's options (with the underscore spellings recent versions also
 * accept) and ours, in the order of the usage text. */
static const struct popt popts[] = {
    /* -h */
    {.id = 'i',
     .names = {"in"},
     .kind = PK_VALUE,
     .set = set_dir,
     .level = 1,
     .before = "PR IN (the default direction; READ KEYS is the default service action):\n",
     .help = "PERSISTENT RESERVE IN"},
    SA('k', false, PRK_PRIN_READ_KEYS, 1, "registered keys", "read-keys", "read_keys"),
    SA('r', false, PRK_PRIN_READ_RESERVATION, 1, "the reservation, if any", "read-reservation",
       "read_reservation"),
    SA('c', false, PRK_PRIN_REPORT_CAPABILITIES, 1, "what the target supports",
       "report-capabilities", "report_capabilities"),
    SA('s', false, PRK_PRIN_READ_FULL_STATUS, 1, "every registration with its initiator",
       "read-full-status", "read_full_status", "read-status", "read_status"),
    {.id = 'o',
     .names = {"out"},
     .kind = PK_VALUE,
     .set = set_dir,
     .level = 1,
     .before = "PR OUT (needs --out and one service action):\n",
     .help = "PERSISTENT RESERVE OUT"},
    SA('G', true, PRK_PROUT_REGISTER, 1, "register (-S new key; -K old key to change)", "register"),
    SA('I', true, PRK_PROUT_REGISTER_AND_IGNORE, 1, "register, ignoring any existing key",
       "register-ignore", "register_ignore"),
    SA('R', true, PRK_PROUT_RESERVE, 1, "reserve (-K, -T)", "reserve"),
    SA('L', true, PRK_PROUT_RELEASE, 1, "release (-K, -T)", "release"),
    SA('C', true, PRK_PROUT_CLEAR, 1, "remove every registration (-K)", "clear"),
    SA('P', true, PRK_PROUT_PREEMPT, 1, "preempt key -S (-K, -T)", "preempt"),
    SA('A', true, PRK_PROUT_PREEMPT_AND_ABORT, 1, "preempt and abort (-K, -S, -T)", "preempt-abort",
       "preempt_abort"),
    SA('M', true, PRK_PROUT_REGISTER_AND_MOVE, 1, "move the reservation to -X (-K, -S, -T)",
       "register-move", "register_move"),
    SA('z', true, PRK_PROUT_REPLACE_LOST, 1, "replace a lost reservation (-S, -T)", "replace-lost",
       "replace_lost"),
    {.id = 'K',
     .names = {"param-rk", "param_rk"},
     .arg = "RK",
     .kind = PK_VALUE,
     .off = ARG_OFF(rk),
     .set = set_key,
     .level = 1,
     .help = "reservation key (hex)"},
    {.id = 'S',
     .names = {"param-sark", "param_sark"},
     .arg = "SARK",
     .kind = PK_VALUE,
     .off = ARG_OFF(sark),
     .set = set_key,
     .level = 1,
     .help = "service action reservation key (hex)"},
    VALUE('T', "TYPE", set_type, 1, "reservation type (see -hh)", "prout-type", "prout_type"),
    FLAG('U', unreg, 1, "with --register-move: unregister the sender", "unreg", "param-unreg",
         "param_unreg"),
    {.id = 'h',
     .names = {"help"},
     .kind = PK_COUNT,
     .off = ARG_OFF(help),
     .level = 1,
     .before = "\n",
     .help = "this text; -hh for the other options"},
    /* -hh */
    VALUE('d', "URL", set_device, 2, "a URL given as an option", "device"),
    COUNT('H', hex, 2, "PR IN response in hex (-HH, -HHH: other layouts)", "hex"),
    VALUE('l', "LEN", set_alloc_len, 2, "PR IN allocation length, hex (default 2000)",
          "alloc-length", "alloc_length"),
    VALUE('m', "LEN", set_alloc_len, 2, "the same in decimal (0x.. or ..h for hex)", "maxlen"),
    FLAG('n', no_inquiry, 2, "skip the INQUIRY line", "no-inquiry", "no_inquiry"),
    VALUE('Q', "RTPI", set_rtpi, 2, "with --register-move: the target port (hex)",
          "relative-target-port", "relative_target_port"),
    VALUE('X', "TID", set_tid, 2,
          "NAME,i,0xISID (a port), NAME (every port of a\n"
          "device) or hex bytes; repeat for several",
          "transport-id", "transport_id"),
    FLAG('Y', all_tg_pt, 2, "register on every target port", "param-alltgpt", "param_alltgpt"),
    FLAG('Z', aptpl, 2, "persist through power loss", "param-aptpl", "param_aptpl"),
    COUNT('y', readonly, 2, "accepted for sg_persist scripts; no effect", "readonly"),
    COUNT('v', verbose, 2, "more on stderr (repeat for more)", "verbose"),
    FLAG('V', version, 2, "version, then exit", "version"),
    FLAG(OPT_JSON, json, 2, "JSON instead of sg_persist's text", "json"),
    VALUE(OPT_INITIATOR, "NAME", set_initiator, 2,
          "our iSCSI initiator name (default: $" PRK_PERSIST_INITIATOR_ENV ",\n"
          "else " PRK_PERSIST_INITIATOR_PREFIX "HOSTNAME)",
          "initiator"),
    VALUE(OPT_TIMEOUT, "SECONDS", set_timeout, 2, "per command (default 60)", "timeout"),
};

#define N_POPTS (sizeof(popts) / sizeof(popts[0]))
#define MAX_NAMES (sizeof(popts[0].names) / sizeof(popts[0].names[0]))
/* getopt's tables sized for every letter with its ':', every spelling of
 * every option, and the end marks: nothing can be left out. */
#define SHORTS_CAP (1 + 2 * N_POPTS + 1)
#define LONGS_CAP (N_POPTS * MAX_NAMES + 1)

static const struct popt *popt_of(int id)
{
	for (size_t i = 0; i < N_POPTS; i++)
		if (popts[i].id == id)
			return &popts[i];
	return NULL;
}

/* getopt_long's tables, from popts. The leading ':' of the short options
 * makes getopt report a missing value as ':'. */
static void getopt_tables(char shorts[SHORTS_CAP], struct option longs[LONGS_CAP])
{
	size_t ns = 0, nl = 0;

	shorts[ns++] = ':';
	for (size_t i = 0; i < N_POPTS; i++) {
		const struct popt *o = &popts[i];

		if (o->id < 0x100) {
			shorts[ns++] = (char)o->id;
			if (o->arg)
				shorts[ns++] = ':';
		}
		for (size_t k = 0; k < MAX_NAMES && o->names[k]; k++)
			longs[nl++] = (struct option){
			    o->names[k], o->arg ? required_argument : no_argument, NULL, o->id};
	}
	shorts[ns] = '\0';
	longs[nl] = (struct option){NULL, 0, NULL, 0};
}

/* Applies one option of the table. 0, or -1 with a message. */
static int apply(struct pstate *st, const struct popt *o, const char *name, const char *value,
                 char *err, size_t errlen)
{
	switch (o->kind) {
	case PK_SA: {
		const struct popt **first = o->sa_out ? &st->out1 : &st->in1;
		const struct popt **second = o->sa_out ? &st->out2 : &st->in2;

		if (!*first)
			*first = o;
		else if ((*first)->id != o->id && !*second)
			*second = o;
		return 0;
	}
	case PK_FLAG:
		*(bool *)((char *)st->a + o->off) = true;
		return 0;
	case PK_COUNT:
		++*(int *)((char *)st->a + o->off);
		return 0;
	case PK_VALUE:
		return o->set(st, o, name, value, err, errlen);
	}
	return prk_errf(err, errlen, "%s: internal error", name);
}

static bool is_long_arg(const char *arg)
{
	return arg[0] == '-' && arg[1] == '-';
}

/* getopt_long's ':' and '?': a missing value, an unknown option, or -?
 * (sg_persist's other spelling of help: returns 0). */
static int getopt_error(int c, char **argv, struct prk_persist_args *a, char *err, size_t errlen)
{
	const char *arg = argv[optind - 1];

	if (c == ':') {
		if (is_long_arg(arg))
			return prk_errf(err, errlen, "%s needs a value", arg);
		return prk_errf(err, errlen, "-%c needs a value", optopt);
	}
	if (is_long_arg(arg))
		return prk_errf(err, errlen,
		                "unknown or ambiguous option, or a value it does not take: '%s'",
		                arg);
	if (optopt == '?') {
		a->help++;
		return 0;
	}
	return prk_errf(err, errlen, "unknown option '-%c'", optopt);
}

/* The options, through getopt_long. 0, or -1 with a message. */
static int read_options(int argc, char **argv, struct pstate *st, char *err, size_t errlen)
{
	char shorts[SHORTS_CAP];
	struct option longs[LONGS_CAP];
	char name[40];

	getopt_tables(shorts, longs);
	optind = 0; /* full reset of GNU getopt (also forgets the last argv) */
	opterr = 0;
	for (;;) {
		int longidx = -1;
		int c = getopt_long(argc, argv, shorts, longs, &longidx);
		const struct popt *o;

		if (c == -1)
			return 0;
		o = (c == ':' || c == '?') ? NULL : popt_of(c);
		if (!o) {
			if (getopt_error(c, argv, st->a, err, errlen))
				return -1;
			continue;
		}
		/* The option as it was spelled, for messages. */
		if (longidx >= 0)
			snprintf(name, sizeof(name), "--%s", longs[longidx].name);
		else
			snprintf(name, sizeof(name), "-%c", c);
		if (apply(st, o, name, optarg, err, errlen))
			return -1;
	}
}

/* The operands: URLs after those given with --device. */
static int read_operands(int argc, char **argv, struct prk_persist_args *a, char *err,
                         size_t errlen)
{
	char msg[200];

	for (int i = optind; i < argc; i++) {
		if (a->n_urls == PRK_PERSIST_MAX_URLS)
			return prk_errf(err, errlen, "too many URLs (at most %d): '%s'",
			                PRK_PERSIST_MAX_URLS, argv[i]);
		if (add_url(a, argv[i], msg, sizeof(msg)))
			return prk_errf(err, errlen, "URL '%s': %s", argv[i], msg);
	}
	if (a->n_urls == 0)
		return prk_errf(err, errlen, "no URL given (iscsi://host[:port]/target-iqn/lun)");
	return 0;
}

/* Direction and service action, as sg_persist decides them. 0, or -1 with
 * a message (options that contradict each other). */
static int decide_service_action(const struct pstate *st, char *err, size_t errlen)
{
	struct prk_persist_args *a = st->a;

	if (st->in_opt && st->out_opt)
		return prk_errf(err, errlen, "--in and --out: choose one");
	if (st->out_opt) {
		if (st->in1)
			return prk_errf(err, errlen,
			                "--%s is a PR IN service action; it cannot go with --out",
			                st->in1->names[0]);
		if (!st->out1)
			return prk_errf(
			    err, errlen,
			    "--out needs one PR OUT service action (--register, --register-ignore, "
			    "--reserve, --release, --clear, --preempt, --preempt-abort, "
			    "--register-move or --replace-lost)");
		if (st->out2)
			return prk_errf(err, errlen, "--%s and --%s: choose one service action",
			                st->out1->names[0], st->out2->names[0]);
		a->dir = PRK_PERSIST_OUT;
		a->prout_sa = st->out1->sa;
		return 0;
	}
	if (st->out1)
		return prk_errf(err, errlen,
		                "--%s is a PR OUT service action: give --out too (sg_persist's "
		                "safeguard)",
		                st->out1->names[0]);
	if (st->in2)
		return prk_errf(err, errlen, "--%s and --%s: choose one service action",
		                st->in1->names[0], st->in2->names[0]);
	a->dir = PRK_PERSIST_IN;
	a->prin_sa = st->in1 ? st->in1->sa : PRK_PRIN_READ_KEYS;
	a->prin_sa_defaulted = !st->in1;
	return 0;
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

/* The PR OUT parameters the service action takes or needs. Returns 0 or
 * the exit status, with a message. */
static int check_prout_params(const struct pstate *st, char *err, size_t errlen)
{
	const struct prk_persist_args *a = st->a;
	bool move = a->prout_sa == PRK_PROUT_REGISTER_AND_MOVE;
	const char *sa_name = st->out1->names[0];

	if (type_needed(a->prout_sa)) {
		if (!a->type_given) {
			prk_errf(err, errlen, "--%s needs --prout-type (" VALID_TYPES ")", sa_name);
			return PRK_PERSIST_EXIT_CONTRADICT;
		}
		if (!prk_pr_type_valid(a->type)) {
			prk_errf(err, errlen,
			         "--prout-type '%s': type %u is not valid for --%s (" VALID_TYPES
			         ")",
			         st->type_text, a->type, sa_name);
			return PRK_PERSIST_EXIT_SYNTAX;
		}
	}
	if (move) {
		if (a->n_tids != 1) {
			prk_errf(err, errlen,
			         "--register-move needs exactly one --transport-id (%zu given)",
			         a->n_tids);
			return PRK_PERSIST_EXIT_CONTRADICT;
		}
		if (a->tids[0].format != PRK_TID_FMT_PORT) {
			prk_errf(err, errlen,
			         "--transport-id '%s': --register-move needs an initiator port "
			         "(NAME,i,0xISID)",
			         a->tids[0].name);
			return PRK_PERSIST_EXIT_SYNTAX;
		}
	} else if (a->n_tids && a->prout_sa != PRK_PROUT_REGISTER) {
		prk_errf(err, errlen,
		         "--transport-id is only for --register and --register-move, not --%s",
		         sa_name);
		return PRK_PERSIST_EXIT_CONTRADICT;
	}
	if (a->all_tg_pt && a->prout_sa != PRK_PROUT_REGISTER &&
	    a->prout_sa != PRK_PROUT_REGISTER_AND_IGNORE) {
		prk_errf(err, errlen,
		         "--param-alltgpt is only for --register and --register-ignore, not --%s",
		         sa_name);
		return PRK_PERSIST_EXIT_CONTRADICT;
	}
	return 0;
}

int prk_persist_parse(int argc, char **argv, struct prk_persist_args *a, char *err, size_t errlen)
{
	struct pstate st = {.a = a};
	int rc;

	memset(a, 0, sizeof(*a));
	a->dir = PRK_PERSIST_IN;
	a->alloc_len = PRK_PERSIST_DEFAULT_ALLOC_LEN;
	a->timeout = PRK_PERSIST_DEFAULT_TIMEOUT;
	if (errlen)
		err[0] = '\0';

	if (read_options(argc, argv, &st, err, errlen))
		return PRK_PERSIST_EXIT_SYNTAX;
	if (a->help || a->version)
		return 0;
	if (read_operands(argc, argv, a, err, errlen))
		return PRK_PERSIST_EXIT_SYNTAX;
	if (decide_service_action(&st, err, errlen))
		return PRK_PERSIST_EXIT_CONTRADICT;

	/* What only REGISTER AND MOVE takes (checked with PR IN too, as
	 * sg_persist does). */
	if ((a->unreg || a->rtpi_given) &&
	    !(a->dir == PRK_PERSIST_OUT && a->prout_sa == PRK_PROUT_REGISTER_AND_MOVE)) {
		prk_errf(err, errlen, "%s is only for --register-move",
		         a->unreg ? "--unreg" : "--relative-target-port");
		return PRK_PERSIST_EXIT_CONTRADICT;
	}
	if (a->dir == PRK_PERSIST_OUT) {
		rc = check_prout_params(&st, err, errlen);
		if (rc)
			return rc;
	}
	if (a->json && a->hex) {
		prk_errf(err, errlen, "--json and --hex: choose one");
		return PRK_PERSIST_EXIT_CONTRADICT;
	}
	return 0;
}

/* ---- usage ---- */

/* Where the help text of an option starts, and continues. */
#define HELP_COLUMN 30

/* "  -k, --read-keys             registered keys", from the table. */
static void usage_line(FILE *f, const struct popt *o)
{
	char spelling[64];
	const char *h = o->help;

	if (o->before)
		fputs(o->before, f);
	snprintf(spelling, sizeof(spelling), "--%s%s%s", o->names[0], o->arg ? "=" : "",
	         o->arg ? o->arg : "");
	if (o->id < 0x100)
		fprintf(f, "  -%c, ", o->id);
	else
		fputs("      ", f);
	if (strlen(spelling) < HELP_COLUMN - 6)
		fprintf(f, "%-*s", HELP_COLUMN - 6, spelling);
	else
		fprintf(f, "%s\n%*s", spelling, HELP_COLUMN, "");
	for (const char *nl; (nl = strchr(h, '\n')) != NULL; h = nl + 1)
		fprintf(f, "%.*s\n%*s", (int)(nl - h), h, HELP_COLUMN, "");
	fprintf(f, "%s\n", h);
}

void prk_persist_usage(FILE *f, int help)
{
	int level = help < 2 ? 1 : 2;

	fputs("usage: prkit persist [OPTIONS] URL [URL...]\n", f);
	if (level == 1)
		fputs("  URL: iscsi://[user[%secret]@]host[:port]/target-iqn/lun (one per path, up "
		      "to 8)\n\n",
		      f);
	else
		fputs("other options:\n", f);
	for (size_t i = 0; i < N_POPTS; i++)
		if (popts[i].level == level)
			usage_line(f, &popts[i]);
	if (level == 1) {
		fputs("\nExit status: 0 on success, else sg_persist's (see docs/persist.md).\n", f);
		return;
	}
	fputs("\n"
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
