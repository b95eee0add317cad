/* `prkit fence` / fence_prkit options: command-line flags and fence-agents
 * style name=value lines on standard input, into one struct, validated. */
#include "fence_opts.h"

#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fence_key.h"
#include "fence_values.h"
#include "prkit/host.h"
#include "prkit/iscsi_url.h"
#include "prkit/scsi_tid.h"

_Static_assert(PRK_FENCE_MAX_PATHS == PRK_MPDEV_MAX_PATHS, "paths per device");
_Static_assert(PRK_FENCE_INITIATOR_MAX == PRK_ISCSI_NAME_MAX, "initiator name length");
_Static_assert(sizeof(((struct prk_fence_opts *)0)->cluster_name) == PRK_FENCE_CLUSTER_NAME_MAX + 1,
               "cluster name length");

/* ---- actions ---- */

static const struct {
	const char *name;
	enum prk_fence_action a;
	bool reboot;
} actions[] = {
    {"off", PRK_FENCE_OFF, false},
    {"on", PRK_FENCE_ON, false},
    {"reboot", PRK_FENCE_OFF, true},
    {"status", PRK_FENCE_STATUS, false},
    {"monitor", PRK_FENCE_MONITOR, false},
    {"list", PRK_FENCE_LIST, false},
    {"list-status", PRK_FENCE_LIST, false},
    {"metadata", PRK_FENCE_METADATA, false},
    {"validate-all", PRK_FENCE_VALIDATE, false},
    {"check", PRK_FENCE_CHECK, false},
};

#define ACTION_LIST                                                                                \
	"on, off, reboot, status, monitor, list, list-status, metadata, validate-all, check"

const char *prk_fence_action_name(enum prk_fence_action a)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (actions[i].a == a && !actions[i].reboot)
			return actions[i].name;
	return "?";
}

int prk_fence_action_parse(const char *s, enum prk_fence_action *a, bool *reboot)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcasecmp(s, actions[i].name) == 0) {
			*a = actions[i].a;
			if (reboot)
				*reboot = actions[i].reboot;
			return 0;
		}
	}
	return -1;
}

/* ---- one option ---- */

struct fopt;

/* One option as given: value is NULL for a flag given without a value;
 * label is the option as the user spelled it ("-d", "--devices",
 * "devices"). */
struct fval {
	const struct fopt *row;
	const char *value;
	const char *label;
	bool from_stdin;
};

/* Sets one option. 0, or -1 with "label 'value': why" in err. */
typedef int (*fopt_set)(struct prk_fence_opts *o, const struct fval *v, char *err, size_t errlen);

/* One option: getopt's tables, the stdin names and the usage text all
 * come from this. */
struct fopt {
	char letter;                /* the short option, or 0 */
	const char *names[3];       /* command-line spellings; the first is the usage's */
	const char *stdin_names[3]; /* fence-agents parameter names; none: command line only */
	const char *arg;            /* the value's name in the usage; NULL: a flag */
	fopt_set set;
	size_t off;        /* set_node_name, set_number: which field */
	unsigned min, max; /* set_number: the range */
	const char *what;  /* set_number: "number", "number of seconds" */
	const char *help;  /* the usage line ('\n' continues it on the next) */
};

/* "label 'value': why", for the setters whose helpers say only why. */
static int explain(int rc, const char *why, const char *label, const char *value, char *err,
                   size_t errlen)
{
	if (rc == 0)
		return 0;
	return prk_errf(err, errlen, "%s '%s': %s", label, value, why);
}

/* A boolean on stdin: a bare name, or one of parse_bool's words. */
static int stdin_bool(const char *value, const char *label, bool *out, char *err, size_t errlen)
{
	if (!value) {
		*out = true;
		return 0;
	}
	if (prk_fence_parse_bool(value, out))
		return prk_errf(err, errlen,
		                "%s '%s': not a boolean (1/0, yes/no, true/false, on/off)", label,
		                value);
	return 0;
}

static int set_action(struct prk_fence_opts *o, const struct fval *v, char *err, size_t errlen)
{
	if (prk_fence_action_parse(v->value, &o->action, &o->reboot_requested))
		return prk_errf(err, errlen, "%s '%s': unknown action (one of " ACTION_LIST ")",
		                v->label, v->value);
	o->action_given = true;
	return 0;
}

static int set_devices(struct prk_fence_opts *o, const struct fval *v, char *err, size_t errlen)
{
	char why[400];

	return explain(prk_fence_add_devices(o, v->value, why, sizeof(why)), why, v->label,
	               v->value, err, errlen);
}

/* --nodename, --plug, --local-node: the name field at the row's off. */
static int set_node_name(struct prk_fence_opts *o, const struct fval *v, char *err, size_t errlen)
{
	char why[400];
	char *dst = (char *)o + v->row->off;

	if (explain(prk_fence_copy_name(dst, PRK_FENCE_NAME_MAX + 1, v->value, "node name", why,
	                                sizeof(why)),
	            why, v->label, v->value, err, errlen))
		return -1;
	if (dst == o->local_node)
		o->local_node_given = true;
	return 0;
}

static int set_nodeid(struct prk_fence_opts *o, const struct fval *v, char *err, size_t errlen)
{
	if (!prk_fence_node_number(v->value, &o->nodeid))
		return prk_errf(err, errlen, "%s '%s': not a node id 1..65535", v->label, v->value);
	return 0;
}

static int set_host_map(struct prk_fence_opts *o, const struct fval *v, char *err, size_t errlen)
{
	char why[400];

	return explain(prk_fence_add_host_map(o, v->value, why, sizeof(why)), why, v->label,
	               v->value, err, errlen);
}

static int set_cluster_name(struct prk_fence_opts *o, const struct fval *v, char *err,
                            size_t errlen)
{
	if (!prk_fence_cluster_name_valid(v->value))
		return prk_errf(err, errlen,
		                "%s '%s': not a valid cluster name (1..%d of A-Z a-z 0-9 . _ -, "
		                "not starting with . or -)",
		                v->label, v->value, PRK_FENCE_CLUSTER_NAME_MAX);
	memcpy(o->cluster_name, v->value, strlen(v->value) + 1);
	return 0;
}

static int set_key_mode(struct prk_fence_opts *o, const struct fval *v, char *err, size_t errlen)
{
	if (strcasecmp(v->value, "node") == 0)
		o->key_mode = PRK_FENCE_KEY_NODE;
	else if (strcasecmp(v->value, "cluster") == 0)
		o->key_mode = PRK_FENCE_KEY_CLUSTER;
	else
		return prk_errf(err, errlen, "%s '%s': not node or cluster", v->label, v->value);
	return 0;
}

static int set_first(struct prk_fence_opts *o, const struct fval *v, char *err, size_t errlen)
{
	return stdin_bool(v->value, v->label, &o->first, err, errlen);
}

static int set_members(struct prk_fence_opts *o, const struct fval *v, char *err, size_t errlen)
{
	char why[400];

	return explain(prk_fence_add_members(o, v->value, why, sizeof(why)), why, v->label,
	               v->value, err, errlen);
}

static int set_initiator(struct prk_fence_opts *o, const struct fval *v, char *err, size_t errlen)
{
	if (strlen(v->value) > PRK_FENCE_INITIATOR_MAX)
		return prk_errf(err, errlen, "%s '%.40s...': longer than %d characters", v->label,
		                v->value, PRK_FENCE_INITIATOR_MAX);
	if (!prk_iscsi_name_valid(v->value) || !prk_iscsi_name_has_type(v->value))
		return prk_errf(
		    err, errlen,
		    "%s '%s': not an iSCSI name (iqn., eui. or naa. and valid characters)",
		    v->label, v->value);
	memcpy(o->initiator, v->value, strlen(v->value) + 1);
	return 0;
}

static int set_state_dir(struct prk_fence_opts *o, const struct fval *v, char *err, size_t errlen)
{
	if (v->value[0] != '/')
		return prk_errf(err, errlen, "%s '%s': not an absolute path", v->label, v->value);
	if (strlen(v->value) > PRK_FENCE_DIR_MAX)
		return prk_errf(err, errlen, "%s '%.40s...': longer than %d characters", v->label,
		                v->value, PRK_FENCE_DIR_MAX);
	memcpy(o->state_dir, v->value, strlen(v->value) + 1);
	return 0;
}

/* --retry, --retry-sleep, --timeout: the unsigned at the row's off, a
 * decimal number in [row->min, row->max]; row->what says what it counts. */
static int set_number(struct prk_fence_opts *o, const struct fval *v, char *err, size_t errlen)
{
	const struct fopt *row = v->row;
	uint64_t n;

	if (!prk_parse_dec(v->value, row->max, &n) || n < row->min)
		return prk_errf(err, errlen, "%s '%s': not a %s %u..%u", v->label, v->value,
		                row->what, row->min, row->max);
	*(unsigned *)((char *)o + row->off) = (unsigned)n;
	return 0;
}

/* -v counts on the command line; verbose= on stdin is a boolean. */
static int set_verbose(struct prk_fence_opts *o, const struct fval *v, char *err, size_t errlen)
{
	bool on;

	if (!v->from_stdin) {
		o->verbose++;
		return 0;
	}
	if (stdin_bool(v->value, v->label, &on, err, errlen))
		return -1;
	o->verbose = on;
	return 0;
}

static int set_help(struct prk_fence_opts *o, const struct fval *v, char *err, size_t errlen)
{
	(void)v, (void)err, (void)errlen;
	o->help = true;
	return 0;
}

static int set_version(struct prk_fence_opts *o, const struct fval *v, char *err, size_t errlen)
{
	(void)v, (void)err, (void)errlen;
	o->version = true;
	return 0;
}

/* In the order of the usage text. */
static const struct fopt fopts[] = {
    {.letter = 'o',
     .names = {"action"},
     .stdin_names = {"action", "option"},
     .arg = "ACTION",
     .set = set_action,
     .help = "on, off (default), reboot (= off), status, monitor,\n"
             "list, list-status, metadata, validate-all, check"},
    {.letter = 'd',
     .names = {"devices"},
     .stdin_names = {"devices"},
     .arg = "DEVICES",
     .set = set_devices,
     .help = "devices separated by blanks, the iscsi:// paths of one\n"
             "device by commas; may be repeated"},
    {.letter = 'n',
     .names = {"nodename"},
     .stdin_names = {"nodename"},
     .arg = "NAME",
     .set = set_node_name,
     .off = offsetof(struct prk_fence_opts, nodename),
     .help = "the node to fence (off, status); this node (on)"},
    {.names = {"plug", "port"},
     .stdin_names = {"plug", "port"},
     .arg = "NAME",
     .set = set_node_name,
     .off = offsetof(struct prk_fence_opts, plug),
     .help = "the same, as mapped by pcmk_host_map (wins); --port"},
    {.names = {"nodeid"},
     .stdin_names = {"nodeid"},
     .arg = "N",
     .set = set_nodeid,
     .help = "this node's id (1..65535)"},
    {.names = {"host-map", "host_map"},
     .stdin_names = {"host_map"},
     .arg = "MAP",
     .set = set_host_map,
     .help = "name:id,name:id... node names to node ids"},
    {.names = {"local-node", "local_node"},
     .stdin_names = {"local_node"},
     .arg = "NAME",
     .set = set_node_name,
     .off = offsetof(struct prk_fence_opts, local_node),
     .help = "this node's name (default: the host name)"},
    {.names = {"cluster-name", "cluster_name"},
     .stdin_names = {"cluster_name"},
     .arg = "NAME",
     .set = set_cluster_name,
     .help = "the cluster (default " PRK_FENCE_DEFAULT_CLUSTER ")"},
    {.names = {"key-mode", "key_mode"},
     .stdin_names = {"key_mode"},
     .arg = "MODE",
     .set = set_key_mode,
     .help = "node (default: one key per node) or cluster"},
    {.names = {"first"},
     .stdin_names = {"first"},
     .set = set_first,
     .help = "on: this node is the first member; remove the keys\n"
             "of nodes not in --members"},
    {.names = {"members"},
     .stdin_names = {"members"},
     .arg = "LIST",
     .set = set_members,
     .help = "the current members (names or ids)"},
    {.names = {"initiator"},
     .stdin_names = {"initiator"},
     .arg = "NAME",
     .set = set_initiator,
     .help = "this node's iSCSI initiator name"},
    {.names = {"state-dir", "state_dir"},
     .stdin_names = {"state_dir"},
     .arg = "DIR",
     .set = set_state_dir,
     .help = "where incarnations are kept"},
    {.names = {"retry"},
     .stdin_names = {"retry"},
     .arg = "N",
     .set = set_number,
     .off = offsetof(struct prk_fence_opts, retry),
     .max = PRK_FENCE_MAX_RETRY,
     .what = "number",
     .help = "check: READ KEYS rounds after the first (default 0)"},
    {.names = {"retry-sleep", "retry_sleep"},
     .stdin_names = {"retry_sleep"},
     .arg = "S",
     .set = set_number,
     .off = offsetof(struct prk_fence_opts, retry_sleep),
     .max = PRK_FENCE_MAX_RETRY_SLEEP,
     .what = "number of seconds",
     .help = "check: seconds between rounds (default 1)"},
    {.names = {"timeout"},
     .stdin_names = {"timeout"},
     .arg = "S",
     .set = set_number,
     .off = offsetof(struct prk_fence_opts, timeout),
     .min = 1,
     .max = PRK_FENCE_MAX_TIMEOUT,
     .what = "number of seconds",
     .help = "seconds per storage operation (default 30)"},
    {.letter = 'v',
     .names = {"verbose"},
     .stdin_names = {"verbose"},
     .set = set_verbose,
     .help = "more messages on stderr"},
    {.letter = 'h', .names = {"help"}, .set = set_help, .help = "this text"},
    {.letter = 'V', .names = {"version"}, .set = set_version, .help = "the version"},
};

#define N_FOPTS (sizeof(fopts) / sizeof(fopts[0]))
#define MAX_SPELLINGS (sizeof(fopts[0].names) / sizeof(fopts[0].names[0]))

/* ---- the command line ---- */

/* getopt_long's tables, from fopts: an option's value is its row + 1.
 * '+' stops at the first operand (none are taken), so the option being
 * parsed is always argv[optind] before the call; ':' reports a missing
 * value as ':'. */
static void getopt_tables(char *shorts, struct option *longs)
{
	size_t ns = 0, nl = 0;

	shorts[ns++] = '+';
	shorts[ns++] = ':';
	for (size_t i = 0; i < N_FOPTS; i++) {
		if (fopts[i].letter) {
			shorts[ns++] = fopts[i].letter;
			if (fopts[i].arg)
				shorts[ns++] = ':';
		}
		for (size_t k = 0; k < MAX_SPELLINGS && fopts[i].names[k]; k++)
			longs[nl++] = (struct option){
			    fopts[i].names[k], fopts[i].arg ? required_argument : no_argument, NULL,
			    (int)i + 1};
	}
	shorts[ns] = '\0';
	longs[nl] = (struct option){NULL, 0, NULL, 0};
}

/* The row of what getopt_long returned, or NULL for ':' and '?'. */
static const struct fopt *fopt_of(int c)
{
	if (c >= 1 && (size_t)c <= N_FOPTS)
		return &fopts[c - 1];
	for (size_t i = 0; i < N_FOPTS; i++)
		if (fopts[i].letter && fopts[i].letter == c)
			return &fopts[i];
	return NULL;
}

static bool is_long_arg(const char *arg)
{
	return arg[0] == '-' && arg[1] == '-';
}

/* arg is "--name" or "--name=...", not an abbreviation of it. */
static bool spelled_out(const char *arg, const char *name)
{
	size_t n = strcspn(arg + 2, "=");

	return is_long_arg(arg) && n == strlen(name) && strncmp(arg + 2, name, n) == 0;
}

void prk_fence_opts_init(struct prk_fence_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->action = PRK_FENCE_OFF;
	memcpy(o->cluster_name, PRK_FENCE_DEFAULT_CLUSTER, sizeof(PRK_FENCE_DEFAULT_CLUSTER));
	o->key_mode = PRK_FENCE_KEY_NODE;
	o->retry = PRK_FENCE_DEFAULT_RETRY;
	o->retry_sleep = PRK_FENCE_DEFAULT_RETRY_SLEEP;
	o->timeout = PRK_FENCE_DEFAULT_TIMEOUT;
}

/* getopt_long's ':' and '?', in words. Always -1. */
static int getopt_error(int c, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');

	if (c == ':') {
		if (optopt && !is_long_arg(arg))
			return prk_errf(err, errlen, "option '-%c' needs a value", optopt);
		return prk_errf(err, errlen, "option '%s' needs a value", arg);
	}
	if (optopt && !is_long_arg(arg))
		return prk_errf(err, errlen, "unknown option '-%c'", optopt);
	if (optopt && eq)
		return prk_errf(err, errlen, "option '%.*s' does not take a value", (int)(eq - arg),
		                arg);
	return prk_errf(err, errlen, "unknown or ambiguous option '%s'", arg);
}

int prk_fence_opts_parse_argv(int argc, char **argv, struct prk_fence_opts *o, char *err,
                              size_t errlen)
{
	char shorts[2 + 2 * N_FOPTS + 1];
	struct option longs[N_FOPTS * MAX_SPELLINGS + 1];
	char name[40];

	prk_fence_opts_init(o);
	if (err && errlen)
		err[0] = '\0';
	getopt_tables(shorts, longs);
	optind = 0; /* full reset of GNU getopt */
	opterr = 0;
	for (;;) {
		int longidx = -1;
		int at = optind ? optind : 1;
		int c = getopt_long(argc, argv, shorts, longs, &longidx);
		const struct fopt *row;

		if (c == -1)
			break;
		/* getopt_long takes unique prefixes ("--key" for --key-mode):
		 * a fencing agent should not guess. */
		if (longidx >= 0 && at < argc && !spelled_out(argv[at], longs[longidx].name)) {
			prk_errf(err, errlen, "option '%.*s' is not spelled out (is it --%s?)",
			         (int)strcspn(argv[at], "="), argv[at], longs[longidx].name);
			return PRK_FENCE_EXIT_ERROR;
		}
		row = fopt_of(c);
		if (!row) {
			getopt_error(c, argv[optind - 1], err, errlen);
			return PRK_FENCE_EXIT_ERROR;
		}
		if (longidx >= 0)
			snprintf(name, sizeof(name), "--%s", longs[longidx].name);
		else
			snprintf(name, sizeof(name), "-%c", c);
		if (row->set(o, &(struct fval){row, optarg, name, false}, err, errlen))
			return PRK_FENCE_EXIT_ERROR;
	}
	if (optind < argc) {
		prk_errf(err, errlen, "unexpected argument '%s' (options only; see --help)",
		         argv[optind]);
		return PRK_FENCE_EXIT_ERROR;
	}
	if (o->help || o->version)
		return 0;
	if (!o->action_given) {
		o->read_stdin = true;
		return 0;
	}
	return prk_fence_opts_validate(o, err, errlen);
}

/* ---- standard input ---- */

/* The row whose stdin names hold name, or NULL. */
static const struct fopt *fopt_of_stdin(const char *name)
{
	for (size_t i = 0; i < N_FOPTS; i++)
		for (size_t k = 0; k < MAX_SPELLINGS && fopts[i].stdin_names[k]; k++)
			if (strcmp(name, fopts[i].stdin_names[k]) == 0)
				return &fopts[i];
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (prk_fence_is_blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && prk_fence_is_blank(e[-1]))
		*--e = '\0';
	return s;
}

/* One line (without its newline). 0, or -1 with a message. */
static int stdin_line(struct prk_fence_opts *o, char *line, char *err, size_t errlen)
{
	char *name, *value, *eq;
	const struct fopt *row;

	name = trim(line);
	if (!*name || *name == '#')
		return 0;
	eq = strchr(name, '=');
	if (eq) {
		*eq = '\0';
		value = trim(eq + 1);
		name = trim(name);
	} else {
		value = NULL;
	}
	if (!*name)
		return prk_errf(err, errlen, "'=%s': no parameter name", value ? value : "");
	row = fopt_of_stdin(name);
	if (!row) {
		if (strcmp(name, "key") == 0)
			return prk_errf(
			    err, errlen,
			    "parameter 'key' is not supported: fence_prkit derives every key "
			    "from cluster_name, the node id and its incarnation");
		return prk_errf(err, errlen, "unknown parameter '%s'", name);
	}
	/* Flags (first, verbose) may come without a value. */
	if (!value && row->arg)
		return prk_errf(err, errlen, "'%s' without '=value'", name);
	return row->set(o, &(struct fval){row, value, name, true}, err, errlen);
}

int prk_fence_opts_parse_stdin(FILE *in, struct prk_fence_opts *o, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	char why[600];

	if (err && errlen)
		err[0] = '\0';
	o->read_stdin = false;
	for (;;) {
		ssize_t n = getline(&line, &cap, in);

		if (n < 0)
			break;
		lineno++;
		if (memchr(line, '\0', (size_t)n)) {
			free(line);
			prk_errf(err, errlen, "line %u: contains a NUL byte", lineno);
			return PRK_FENCE_EXIT_ERROR;
		}
		if (stdin_line(o, line, why, sizeof(why))) {
			free(line);
			prk_errf(err, errlen, "line %u: %s", lineno, why);
			return PRK_FENCE_EXIT_ERROR;
		}
	}
	free(line);
	if (ferror(in)) {
		prk_errf(err, errlen, "reading standard input failed after line %u", lineno);
		return PRK_FENCE_EXIT_ERROR;
	}
	return prk_fence_opts_validate(o, err, errlen);
}

/* ---- usage ---- */

/* Where the help text of an option starts, and continues. */
#define HELP_COLUMN 26

void prk_fence_usage(FILE *f)
{
	fputs("Usage: prkit fence [OPTIONS]   (as fence_prkit: options on stdin, name=value)\n", f);
	for (size_t i = 0; i < N_FOPTS; i++) {
		const struct fopt *row = &fopts[i];
		char spelling[64];
		const char *h = row->help;

		snprintf(spelling, sizeof(spelling), "--%s%s%s", row->names[0], row->arg ? "=" : "",
		         row->arg ? row->arg : "");
		if (row->letter)
			fprintf(f, "  -%c, ", row->letter);
		else
			fputs("      ", f);
		fprintf(f, "%-*s ", HELP_COLUMN - 7, spelling);
		for (const char *nl; (nl = strchr(h, '\n')) != NULL; h = nl + 1)
			fprintf(f, "%.*s\n%*s", (int)(nl - h), h, HELP_COLUMN, "");
		fprintf(f, "%s\n", h);
	}
	fputs("Exit: 0 success (status: ON), 1 failure, 2 status/check: OFF.\n", f);
}
