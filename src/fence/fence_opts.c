/* `prkit fence` / fence_prkit options: command-line flags and fence-agents
 * style name=value lines on standard input, into one struct, validated. */
#include "fence_opts.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fence_key.h"
#include "prkit/host.h"
#include "prkit/iscsi_url.h"
#include "prkit/scsi_tid.h"

_Static_assert(PRK_FENCE_MAX_PATHS == PRK_MPDEV_MAX_PATHS, "paths per device");
_Static_assert(PRK_FENCE_INITIATOR_MAX == PRK_ISCSI_NAME_MAX, "initiator name length");
_Static_assert(sizeof(((struct prk_fence_opts *)0)->cluster_name) == PRK_FENCE_CLUSTER_NAME_MAX + 1,
               "cluster name length");

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

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

/* ---- small parsers ---- */

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

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"", "1", "yes", "y", "true", "on"};
	static const char *const no[] = {"0", "no", "n", "false", "off"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Separators of the list options (host map, members). */
static bool is_list_sep(char c)
{
	return c == ',' || c == ';' || is_blank(c);
}

static bool node_id_of_number(const char *s, uint16_t *id)
{
	uint64_t v;

	if (!parse_dec(s, 65535, &v) || v == 0)
		return false;
	*id = (uint16_t)v;
	return true;
}

/* Checks one path with the shared URL parser (prkit/iscsi_url.h), in the
 * fence agent's words for the mistakes its users make most (they name
 * the path in every message, as one option holds many paths). */
static int check_url(const char *u, char *err, size_t errlen)
{
	struct prk_iscsi_url parsed;
	char why[300];
	const char *lun;

	switch (prk_iscsi_url_parse(u, &parsed, why, sizeof(why))) {
	case PRK_URL_OK:
		return 0;
	case PRK_URL_SCHEME:
		return fail(err, errlen, "path '%s' does not start with iscsi://", u);
	case PRK_URL_EMPTY:
	case PRK_URL_HOST_EMPTY:
		return fail(err, errlen, "path '%s' has no host", u);
	case PRK_URL_NO_PATH:
	case PRK_URL_TARGET_EMPTY:
	case PRK_URL_NO_LUN:
		return fail(err, errlen, "path '%s' has no /target-iqn/lun after the host", u);
	case PRK_URL_LUN:
		/* The LUN is what follows the target name's '/'. */
		lun = strchr(strchr(u + strlen("iscsi://"), '/') + 1, '/') + 1;
		return fail(err, errlen, "path '%s': LUN '%s' is not a number 0..%d", u, lun,
		            PRK_ISCSI_URL_MAX_LUN);
	default:
		return fail(err, errlen, "path '%s': %s", u, why);
	}
}

static bool path_known(const struct prk_fence_opts *o, const char *u)
{
	for (size_t d = 0; d < o->n_devices; d++)
		for (size_t i = 0; i < o->devices[d].n_paths; i++)
			if (strcmp(o->devices[d].paths[i], u) == 0)
				return true;
	return false;
}

/* Adds one path (the text [s, s+n)) to device dv. */
static int add_path(struct prk_fence_opts *o, struct prk_fence_device *dv, const char *s, size_t n,
                    char *err, size_t errlen)
{
	char url[PRK_FENCE_URL_MAX + 2];

	if (n == 0)
		return fail(err, errlen, "empty path (two commas, or a comma at an end)");
	if (n > PRK_FENCE_URL_MAX)
		return fail(err, errlen, "path '%.40s...' is longer than %d characters", s,
		            PRK_FENCE_URL_MAX);
	memcpy(url, s, n);
	url[n] = '\0';
	if (check_url(url, err, errlen))
		return -1;
	if (path_known(o, url))
		return fail(err, errlen, "path '%s' is given twice", url);
	for (size_t i = 0; i < dv->n_paths; i++)
		if (strcmp(dv->paths[i], url) == 0)
			return fail(err, errlen, "path '%s' is given twice", url);
	if (dv->n_paths == PRK_FENCE_MAX_PATHS)
		return fail(err, errlen, "more than %d paths in one device (at '%s')",
		            PRK_FENCE_MAX_PATHS, url);
	memcpy(dv->paths[dv->n_paths++], url, n + 1);
	return 0;
}

/* "a,b c,d": devices separated by blanks, the paths of one device by
 * commas; blanks next to a comma do not end the device. */
static int add_devices(struct prk_fence_opts *o, const char *s, char *err, size_t errlen)
{
	const char *p = s;
	bool any = false;

	for (;;) {
		struct prk_fence_device dv;

		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		memset(&dv, 0, sizeof(dv));
		for (;;) {
			const char *b = p;

			while (*p && *p != ',' && !is_blank(*p))
				p++;
			if (add_path(o, &dv, b, (size_t)(p - b), err, errlen))
				return -1;
			/* blanks, then a comma, continue this device */
			const char *q = p;

			while (is_blank(*q))
				q++;
			if (*q != ',')
				break;
			q++;
			while (is_blank(*q))
				q++;
			p = q;
		}
		if (o->n_devices == PRK_FENCE_MAX_DEVICES)
			return fail(err, errlen, "more than %d devices", PRK_FENCE_MAX_DEVICES);
		o->devices[o->n_devices++] = dv;
		any = true;
	}
	if (!any)
		return fail(err, errlen, "no device given");
	return 0;
}

static int copy_name(char *dst, size_t cap, const char *s, const char *what, char *err,
                     size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0)
		return fail(err, errlen, "empty %s", what);
	if (n >= cap)
		return fail(err, errlen, "%s '%.40s...' is longer than %zu characters", what, s,
		            cap - 1);
	memcpy(dst, s, n + 1);
	return 0;
}

/* "name:id" entries (also "name=id", as pcmk_host_map takes), separated
 * by ',', ';' or blanks. */
static int add_host_map(struct prk_fence_opts *o, const char *s, char *err, size_t errlen)
{
	const char *p = s;
	bool any = false;

	for (;;) {
		char ent[PRK_FENCE_NAME_MAX + 16];
		const char *b;
		char *sep;
		size_t n;
		uint16_t id;

		while (is_list_sep(*p))
			p++;
		if (!*p)
			break;
		b = p;
		while (*p && !is_list_sep(*p))
			p++;
		n = (size_t)(p - b);
		if (n >= sizeof(ent))
			return fail(err, errlen, "entry '%.40s...' is too long", b);
		memcpy(ent, b, n);
		ent[n] = '\0';
		sep = strpbrk(ent, ":=");
		if (!sep)
			return fail(err, errlen, "entry '%s' is not name:id", ent);
		*sep = '\0';
		if (!*ent)
			return fail(err, errlen, "entry '%s:%s' has an empty node name", ent,
			            sep + 1);
		if (!node_id_of_number(sep + 1, &id))
			return fail(err, errlen,
			            "entry '%s:%s': node id '%s' is not a number 1..65535", ent,
			            sep + 1, sep + 1);
		for (size_t i = 0; i < o->n_hosts; i++) {
			if (strcasecmp(o->hosts[i].name, ent) != 0)
				continue;
			if (o->hosts[i].id != id)
				return fail(err, errlen, "node '%s' is mapped to both %u and %u",
				            ent, (unsigned)o->hosts[i].id, (unsigned)id);
			goto next;
		}
		if (o->n_hosts == PRK_FENCE_MAX_HOSTS)
			return fail(err, errlen, "more than %d entries", PRK_FENCE_MAX_HOSTS);
		if (copy_name(o->hosts[o->n_hosts].name, sizeof(o->hosts[0].name), ent, "node name",
		              err, errlen))
			return -1;
		o->hosts[o->n_hosts++].id = id;
	next:
		any = true;
	}
	if (!any)
		return fail(err, errlen, "no name:id entry");
	return 0;
}

static int add_members(struct prk_fence_opts *o, const char *s, char *err, size_t errlen)
{
	const char *p = s;
	bool any = false;

	for (;;) {
		const char *b;
		size_t n;
		bool dup = false;

		while (is_list_sep(*p))
			p++;
		if (!*p)
			break;
		b = p;
		while (*p && !is_list_sep(*p))
			p++;
		n = (size_t)(p - b);
		if (n > PRK_FENCE_NAME_MAX)
			return fail(err, errlen, "member '%.40s...' is longer than %d characters",
			            b, PRK_FENCE_NAME_MAX);
		any = true;
		for (size_t i = 0; i < o->n_members; i++)
			if (strncasecmp(o->members[i], b, n) == 0 && o->members[i][n] == '\0')
				dup = true;
		if (dup)
			continue;
		if (o->n_members == PRK_FENCE_MAX_MEMBERS)
			return fail(err, errlen, "more than %d members", PRK_FENCE_MAX_MEMBERS);
		memcpy(o->members[o->n_members], b, n);
		o->members[o->n_members++][n] = '\0';
	}
	if (!any)
		return fail(err, errlen, "no member given");
	return 0;
}

/* ---- one option ---- */

enum opt_id {
	O_ACTION = 0x100,
	O_DEVICES,
	O_NODENAME,
	O_PLUG,
	O_NODEID,
	O_HOST_MAP,
	O_LOCAL_NODE,
	O_CLUSTER_NAME,
	O_KEY_MODE,
	O_FIRST,
	O_MEMBERS,
	O_INITIATOR,
	O_STATE_DIR,
	O_RETRY,
	O_RETRY_SLEEP,
	O_VERBOSE,
	O_TIMEOUT,
	O_HELP,
	O_VERSION,
};

/* Sets option id from value (NULL: a flag given without a value). label
 * is the option as the user spelled it. 0, or -1 with "label 'value': why"
 * in err. */
static int set_opt(struct prk_fence_opts *o, int id, const char *value, const char *label,
                   bool from_stdin, char *err, size_t errlen)
{
	char why[400];
	uint64_t v;
	bool b;

	why[0] = '\0';
	switch (id) {
	case O_ACTION:
		if (prk_fence_action_parse(value, &o->action, &o->reboot_requested))
			return fail(err, errlen, "%s '%s': unknown action (one of " ACTION_LIST ")",
			            label, value);
		o->action_given = true;
		return 0;
	case O_DEVICES:
		if (add_devices(o, value, why, sizeof(why)))
			break;
		return 0;
	case O_NODENAME:
		if (copy_name(o->nodename, sizeof(o->nodename), value, "node name", why,
		              sizeof(why)))
			break;
		return 0;
	case O_PLUG:
		if (copy_name(o->plug, sizeof(o->plug), value, "node name", why, sizeof(why)))
			break;
		return 0;
	case O_NODEID:
		if (!node_id_of_number(value, &o->nodeid))
			return fail(err, errlen, "%s '%s': not a node id 1..65535", label, value);
		return 0;
	case O_HOST_MAP:
		if (add_host_map(o, value, why, sizeof(why)))
			break;
		return 0;
	case O_LOCAL_NODE:
		if (copy_name(o->local_node, sizeof(o->local_node), value, "node name", why,
		              sizeof(why)))
			break;
		o->local_node_given = true;
		return 0;
	case O_CLUSTER_NAME:
		if (!prk_fence_cluster_name_valid(value))
			return fail(
			    err, errlen,
			    "%s '%s': not a valid cluster name (1..%d of A-Z a-z 0-9 . _ -, "
			    "not starting with . or -)",
			    label, value, PRK_FENCE_CLUSTER_NAME_MAX);
		memcpy(o->cluster_name, value, strlen(value) + 1);
		return 0;
	case O_KEY_MODE:
		if (strcasecmp(value, "node") == 0)
			o->key_mode = PRK_FENCE_KEY_NODE;
		else if (strcasecmp(value, "cluster") == 0)
			o->key_mode = PRK_FENCE_KEY_CLUSTER;
		else
			return fail(err, errlen, "%s '%s': not node or cluster", label, value);
		return 0;
	case O_FIRST:
		if (!value)
			b = true;
		else if (parse_bool(value, &b))
			return fail(err, errlen,
			            "%s '%s': not a boolean (1/0, yes/no, true/false, on/off)",
			            label, value);
		o->first = b;
		return 0;
	case O_MEMBERS:
		if (add_members(o, value, why, sizeof(why)))
			break;
		return 0;
	case O_INITIATOR:
		if (strlen(value) > PRK_FENCE_INITIATOR_MAX)
			return fail(err, errlen, "%s '%.40s...': longer than %d characters", label,
			            value, PRK_FENCE_INITIATOR_MAX);
		if (!prk_iscsi_name_valid(value) || !prk_iscsi_name_has_type(value))
			return fail(err, errlen,
			            "%s '%s': not an iSCSI name (iqn., eui. or naa. and valid "
			            "characters)",
			            label, value);
		memcpy(o->initiator, value, strlen(value) + 1);
		return 0;
	case O_STATE_DIR:
		if (value[0] != '/')
			return fail(err, errlen, "%s '%s': not an absolute path", label, value);
		if (strlen(value) > PRK_FENCE_DIR_MAX)
			return fail(err, errlen, "%s '%.40s...': longer than %d characters", label,
			            value, PRK_FENCE_DIR_MAX);
		memcpy(o->state_dir, value, strlen(value) + 1);
		return 0;
	case O_RETRY:
		if (!parse_dec(value, PRK_FENCE_MAX_RETRY, &v))
			return fail(err, errlen, "%s '%s': not a number 0..%d", label, value,
			            PRK_FENCE_MAX_RETRY);
		o->retry = (unsigned)v;
		return 0;
	case O_RETRY_SLEEP:
		if (!parse_dec(value, PRK_FENCE_MAX_RETRY_SLEEP, &v))
			return fail(err, errlen, "%s '%s': not a number of seconds 0..%d", label,
			            value, PRK_FENCE_MAX_RETRY_SLEEP);
		o->retry_sleep = (unsigned)v;
		return 0;
	case O_TIMEOUT:
		if (!parse_dec(value, PRK_FENCE_MAX_TIMEOUT, &v) || v == 0)
			return fail(err, errlen, "%s '%s': not a number of seconds 1..%d", label,
			            value, PRK_FENCE_MAX_TIMEOUT);
		o->timeout = (unsigned)v;
		return 0;
	case O_VERBOSE:
		if (!from_stdin) {
			o->verbose++;
			return 0;
		}
		if (!value)
			b = true;
		else if (parse_bool(value, &b))
			return fail(err, errlen,
			            "%s '%s': not a boolean (1/0, yes/no, true/false, on/off)",
			            label, value);
		o->verbose = b;
		return 0;
	case O_HELP:
		o->help = true;
		return 0;
	case O_VERSION:
		o->version = true;
		return 0;
	default:
		return fail(err, errlen, "%s: internal error (option %d)", label, id);
	}
	return fail(err, errlen, "%s '%s': %s", label, value, why);
}

/* ---- the command line ---- */

/* '+': stop at the first operand (none are taken), so the option being
 * parsed is always argv[optind] before the call; ':' reports a missing
 * value as ':'. */
static const char short_opts[] = "+:o:d:n:vhV";

static const struct option long_opts[] = {
    {"action", required_argument, NULL, O_ACTION},
    {"devices", required_argument, NULL, O_DEVICES},
    {"nodename", required_argument, NULL, O_NODENAME},
    {"plug", required_argument, NULL, O_PLUG},
    {"port", required_argument, NULL, O_PLUG},
    {"nodeid", required_argument, NULL, O_NODEID},
    {"host-map", required_argument, NULL, O_HOST_MAP},
    {"host_map", required_argument, NULL, O_HOST_MAP},
    {"local-node", required_argument, NULL, O_LOCAL_NODE},
    {"local_node", required_argument, NULL, O_LOCAL_NODE},
    {"cluster-name", required_argument, NULL, O_CLUSTER_NAME},
    {"cluster_name", required_argument, NULL, O_CLUSTER_NAME},
    {"key-mode", required_argument, NULL, O_KEY_MODE},
    {"key_mode", required_argument, NULL, O_KEY_MODE},
    {"first", no_argument, NULL, O_FIRST},
    {"members", required_argument, NULL, O_MEMBERS},
    {"initiator", required_argument, NULL, O_INITIATOR},
    {"state-dir", required_argument, NULL, O_STATE_DIR},
    {"state_dir", required_argument, NULL, O_STATE_DIR},
    {"retry", required_argument, NULL, O_RETRY},
    {"retry-sleep", required_argument, NULL, O_RETRY_SLEEP},
    {"retry_sleep", required_argument, NULL, O_RETRY_SLEEP},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"verbose", no_argument, NULL, O_VERBOSE},
    {"help", no_argument, NULL, O_HELP},
    {"version", no_argument, NULL, O_VERSION},
    {NULL, 0, NULL, 0},
};

static int short_id(int c)
{
	switch (c) {
	case 'o':
		return O_ACTION;
	case 'd':
		return O_DEVICES;
	case 'n':
		return O_NODENAME;
	case 'v':
		return O_VERBOSE;
	case 'h':
		return O_HELP;
	case 'V':
		return O_VERSION;
	default:
		return c;
	}
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

int prk_fence_opts_parse_argv(int argc, char **argv, struct prk_fence_opts *o, char *err,
                              size_t errlen)
{
	char name[40];

	prk_fence_opts_init(o);
	if (err && errlen)
		err[0] = '\0';
	optind = 0; /* full reset of GNU getopt */
	opterr = 0;
	for (;;) {
		int longidx = -1;
		int at = optind ? optind : 1;
		int c = getopt_long(argc, argv, short_opts, long_opts, &longidx);

		if (c == -1)
			break;
		/* getopt_long takes unique prefixes ("--key" for --key-mode):
		 * a fencing agent should not guess. */
		if (longidx >= 0 && at < argc && !spelled_out(argv[at], long_opts[longidx].name)) {
			fail(err, errlen, "option '%.*s' is not spelled out (is it --%s?)",
			     (int)strcspn(argv[at], "="), argv[at], long_opts[longidx].name);
			return PRK_FENCE_EXIT_ERROR;
		}
		if (longidx >= 0)
			snprintf(name, sizeof(name), "--%s", long_opts[longidx].name);
		else
			snprintf(name, sizeof(name), "-%c", c);
		if (c == '?') {
			const char *arg = argv[optind - 1];
			const char *eq = strchr(arg, '=');

			if (optopt && !is_long_arg(arg))
				fail(err, errlen, "unknown option '-%c'", optopt);
			else if (optopt && eq)
				fail(err, errlen, "option '%.*s' does not take a value",
				     (int)(eq - arg), arg);
			else
				fail(err, errlen, "unknown or ambiguous option '%s'", arg);
			return PRK_FENCE_EXIT_ERROR;
		}
		if (c == ':') {
			const char *arg = argv[optind - 1];

			if (optopt && !is_long_arg(arg))
				fail(err, errlen, "option '-%c' needs a value", optopt);
			else
				fail(err, errlen, "option '%s' needs a value", arg);
			return PRK_FENCE_EXIT_ERROR;
		}
		if (set_opt(o, short_id(c), optarg, name, false, err, errlen))
			return PRK_FENCE_EXIT_ERROR;
	}
	if (optind < argc) {
		fail(err, errlen, "unexpected argument '%s' (options only; see --help)",
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

static const struct {
	const char *name;
	int id;
} stdin_names[] = {
    {"action", O_ACTION},
    {"option", O_ACTION}, /* fence-agents' old name for action */
    {"devices", O_DEVICES},
    {"nodename", O_NODENAME},
    {"plug", O_PLUG},
    {"port", O_PLUG},
    {"nodeid", O_NODEID},
    {"host_map", O_HOST_MAP},
    {"local_node", O_LOCAL_NODE},
    {"cluster_name", O_CLUSTER_NAME},
    {"key_mode", O_KEY_MODE},
    {"first", O_FIRST},
    {"members", O_MEMBERS},
    {"initiator", O_INITIATOR},
    {"state_dir", O_STATE_DIR},
    {"retry", O_RETRY},
    {"retry_sleep", O_RETRY_SLEEP},
    {"verbose", O_VERBOSE},
    {"timeout", O_TIMEOUT},
};

static char *trim(char *s)
{
	char *e;

	while (is_blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_blank(e[-1]))
		*--e = '\0';
	return s;
}

/* One line (without its newline). 0, or -1 with a message. */
static int stdin_line(struct prk_fence_opts *o, char *line, char *err, size_t errlen)
{
	char *name, *value, *eq;
	int id = -1;

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
		return fail(err, errlen, "'=%s': no parameter name", value ? value : "");
	for (size_t i = 0; i < sizeof(stdin_names) / sizeof(stdin_names[0]); i++)
		if (strcmp(name, stdin_names[i].name) == 0)
			id = stdin_names[i].id;
	if (id < 0) {
		if (strcmp(name, "key") == 0)
			return fail(
			    err, errlen,
			    "parameter 'key' is not supported: fence_prkit derives every key "
			    "from cluster_name, the node id and its incarnation");
		return fail(err, errlen, "unknown parameter '%s'", name);
	}
	if (!value && id != O_FIRST && id != O_VERBOSE)
		return fail(err, errlen, "'%s' without '=value'", name);
	return set_opt(o, id, value, name, true, err, errlen);
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
			fail(err, errlen, "line %u: contains a NUL byte", lineno);
			return PRK_FENCE_EXIT_ERROR;
		}
		if (stdin_line(o, line, why, sizeof(why))) {
			free(line);
			fail(err, errlen, "line %u: %s", lineno, why);
			return PRK_FENCE_EXIT_ERROR;
		}
	}
	free(line);
	if (ferror(in)) {
		fail(err, errlen, "reading standard input failed after line %u", lineno);
		return PRK_FENCE_EXIT_ERROR;
	}
	return prk_fence_opts_validate(o, err, errlen);
}

/* ---- node ids ---- */

int prk_fence_node_id(const struct prk_fence_opts *o, const char *name, uint16_t *id)
{
	if (!name || !*name)
		return -1;
	for (size_t i = 0; i < o->n_hosts; i++) {
		if (strcasecmp(o->hosts[i].name, name) == 0) {
			*id = o->hosts[i].id;
			return 0;
		}
	}
	return node_id_of_number(name, id) ? 0 : -1;
}

#define VICTIM_HOW "nodename= or plug= (--nodename/-n or --plug)"

int prk_fence_target_id(const struct prk_fence_opts *o, uint16_t *id, char *err, size_t errlen)
{
	uint16_t a = 0, b = 0;
	bool has_a, has_b;

	if (!o->plug[0] && !o->nodename[0])
		return fail(err, errlen, "action '%s' needs the node: %s",
		            o->reboot_requested ? "reboot" : prk_fence_action_name(o->action),
		            VICTIM_HOW);
	has_a = o->plug[0] && prk_fence_node_id(o, o->plug, &a) == 0;
	has_b = o->nodename[0] && prk_fence_node_id(o, o->nodename, &b) == 0;
	if (!has_a && !has_b) {
		if (o->plug[0] && o->nodename[0])
			return fail(
			    err, errlen,
			    "neither plug '%s' nor nodename '%s' is a node id 1..65535 or a "
			    "name in host_map",
			    o->plug, o->nodename);
		return fail(err, errlen, "%s '%s' is not a node id 1..65535 nor a name in host_map",
		            o->plug[0] ? "plug" : "nodename", o->plug[0] ? o->plug : o->nodename);
	}
	if (has_a && has_b && a != b)
		return fail(err, errlen,
		            "plug '%s' (node id %u) and nodename '%s' (node id %u) name different "
		            "nodes",
		            o->plug, (unsigned)a, o->nodename, (unsigned)b);
	*id = has_a ? a : b;
	return 0;
}

int prk_fence_local_id(const struct prk_fence_opts *o, uint16_t *id, char *err, size_t errlen)
{
	if (o->nodeid) {
		*id = o->nodeid;
		return 0;
	}
	if (o->action == PRK_FENCE_ON && (o->plug[0] || o->nodename[0]))
		return prk_fence_target_id(o, id, err, errlen);
	if (!o->local_node[0])
		return fail(err, errlen,
		            "this node's id is unknown: give --nodeid, or --local-node with a "
		            "name in host_map");
	if (prk_fence_node_id(o, o->local_node, id))
		return fail(err, errlen,
		            "local_node '%s' is not a node id 1..65535 nor a name in host_map "
		            "(give --nodeid, or map it)",
		            o->local_node);
	return 0;
}

size_t prk_fence_member_ids(const struct prk_fence_opts *o, uint16_t *ids, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < o->n_members; i++) {
		uint16_t id;
		bool dup = false;

		if (prk_fence_node_id(o, o->members[i], &id))
			continue;
		for (size_t j = 0; j < n; j++)
			dup = dup || ids[j] == id;
		if (dup)
			continue;
		if (n == cap)
			break;
		ids[n++] = id;
	}
	return n;
}

/* ---- validation ---- */

int prk_fence_opts_validate(const struct prk_fence_opts *o, char *err, size_t errlen)
{
	const char *act = o->reboot_requested ? "reboot" : prk_fence_action_name(o->action);
	uint16_t target = 0, local = 0, id;
	bool has_local = false;
	char why[400];

	if (o->action == PRK_FENCE_METADATA)
		return 0;
	if (o->n_devices == 0) {
		fail(err, errlen, "action '%s' needs devices= (--devices/-d): iscsi:// URLs", act);
		return PRK_FENCE_EXIT_ERROR;
	}
	/* first and members matter to on alone: an error in them must not
	 * stop off (Pacemaker passes one parameter set to every action). */
	if (o->action == PRK_FENCE_ON || o->action == PRK_FENCE_VALIDATE) {
		for (size_t i = 0; i < o->n_members; i++) {
			if (prk_fence_node_id(o, o->members[i], &id)) {
				fail(err, errlen,
				     "members: '%s' is not a node id 1..65535 nor a name in "
				     "host_map",
				     o->members[i]);
				return PRK_FENCE_EXIT_ERROR;
			}
		}
		/* Cluster mode: keys do not name nodes, first needs no list. */
		if (o->first && o->n_members == 0 && o->key_mode == PRK_FENCE_KEY_NODE) {
			fail(err, errlen,
			     "first (--first) needs members= (--members): the current members");
			return PRK_FENCE_EXIT_ERROR;
		}
	}

	/* This node, as far as it is known yet. */
	if (o->nodeid) {
		local = o->nodeid;
		has_local = true;
	} else if (o->local_node[0] && prk_fence_node_id(o, o->local_node, &id) == 0) {
		local = id;
		has_local = true;
	} else if (o->local_node_given) {
		fail(err, errlen,
		     "local_node '%s' is not a node id 1..65535 nor a name in host_map",
		     o->local_node);
		return PRK_FENCE_EXIT_ERROR;
	}

	switch (o->action) {
	case PRK_FENCE_OFF:
	case PRK_FENCE_STATUS:
		if (prk_fence_target_id(o, &target, why, sizeof(why))) {
			fail(err, errlen, "%s", why);
			return PRK_FENCE_EXIT_ERROR;
		}
		if (o->action == PRK_FENCE_OFF && has_local && local == target) {
			fail(err, errlen,
			     "refusing to fence this node (node id %u) from itself: check "
			     "nodename/plug, --nodeid and --local-node",
			     (unsigned)target);
			return PRK_FENCE_EXIT_ERROR;
		}
		break;
	case PRK_FENCE_ON:
		if (o->plug[0] || o->nodename[0]) {
			if (prk_fence_target_id(o, &target, why, sizeof(why))) {
				fail(err, errlen, "%s", why);
				return PRK_FENCE_EXIT_ERROR;
			}
			if (has_local && local != target) {
				fail(
				    err, errlen,
				    "on unfences this node, but the node given (id %u) is not this "
				    "node (id %u from %s)",
				    (unsigned)target, (unsigned)local,
				    o->nodeid ? "--nodeid" : "local_node");
				return PRK_FENCE_EXIT_ERROR;
			}
			local = target;
			has_local = true;
		}
		if (o->first && has_local && o->n_members) {
			uint16_t ids[PRK_FENCE_MAX_MEMBERS];
			size_t n = prk_fence_member_ids(o, ids, PRK_FENCE_MAX_MEMBERS);
			bool in = false;

			for (size_t i = 0; i < n; i++)
				in = in || ids[i] == local;
			if (!in) {
				fail(err, errlen,
				     "first: this node (id %u) is not in members (it would "
				     "remove its own key)",
				     (unsigned)local);
				return PRK_FENCE_EXIT_ERROR;
			}
		}
		break;
	default:
		break;
	}
	return 0;
}

/* ---- usage ---- */

void prk_fence_usage(FILE *f)
{
	fputs("Usage: prkit fence [OPTIONS]   (as fence_prkit: options on stdin, name=value)\n"
	      "  -o, --action=ACTION     on, off (default), reboot (= off), status, monitor,\n"
	      "                          list, list-status, metadata, validate-all, check\n"
	      "  -d, --devices=DEVICES   devices separated by blanks, the iscsi:// paths of one\n"
	      "                          device by commas; may be repeated\n"
	      "  -n, --nodename=NAME     the node to fence (off, status); this node (on)\n"
	      "      --plug=NAME         the same, as mapped by pcmk_host_map (wins); --port\n"
	      "      --nodeid=N          this node's id (1..65535)\n"
	      "      --host-map=MAP      name:id,name:id... node names to node ids\n"
	      "      --local-node=NAME   this node's name (default: the host name)\n"
	      "      --cluster-name=NAME the cluster (default " PRK_FENCE_DEFAULT_CLUSTER ")\n"
	      "      --key-mode=MODE     node (default: one key per node) or cluster\n"
	      "      --first             on: this node is the first member; remove the keys\n"
	      "                          of nodes not in --members\n"
	      "      --members=LIST      the current members (names or ids)\n"
	      "      --initiator=NAME    this node's iSCSI initiator name\n"
	      "      --state-dir=DIR     where incarnations are kept\n"
	      "      --retry=N           check: READ KEYS rounds after the first (default 0)\n"
	      "      --retry-sleep=S     check: seconds between rounds (default 1)\n"
	      "      --timeout=S         seconds per storage operation (default 30)\n"
	      "  -v, --verbose           more messages on stderr\n"
	      "  -h, --help              this text\n"
	      "  -V, --version           the version\n"
	      "Exit: 0 success (status: ON), 1 failure, 2 status/check: OFF.\n",
	      f);
}
