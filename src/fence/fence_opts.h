/* The options of `prkit fence` (installed for Pacemaker as fence_prkit),
 * from the command line and, fence-agents style, from standard input.
 *
 * Pure apart from getopt_long's global state (reset here) and reading the
 * FILE given: nothing is printed, no environment or host name is looked
 * at. Defaults that need the system (this node's name, the initiator
 * name, the state directory) are left empty for the caller to fill,
 * after which it calls prk_fence_opts_validate() again.
 *
 * Flow of the caller:
 *
 *   rc = prk_fence_opts_parse_argv(argc, argv, &o, err, sizeof(err));
 *   if (rc == 0 && o.read_stdin)              // no --action on the command line
 *           rc = prk_fence_opts_parse_stdin(stdin, &o, err, sizeof(err));
 *   fill o.local_node / o.initiator / o.state_dir if empty;
 *   rc = rc ? rc : prk_fence_opts_validate(&o, err, sizeof(err));
 *
 * Values from standard input are added to those of the command line
 * (lists grow, single values are replaced). See docs/fence.md for the
 * table of options. */
#ifndef PRKIT_FENCE_OPTS_H
#define PRKIT_FENCE_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PRK_FENCE_MAX_DEVICES 16
#define PRK_FENCE_MAX_PATHS 8 /* = PRK_MPDEV_MAX_PATHS (prkit/host.h) */
#define PRK_FENCE_URL_MAX 255
#define PRK_FENCE_NAME_MAX 255 /* node names */
#define PRK_FENCE_MAX_HOSTS 64 /* host map entries */
#define PRK_FENCE_MAX_MEMBERS 64
#define PRK_FENCE_INITIATOR_MAX 223 /* = PRK_ISCSI_NAME_MAX */
#define PRK_FENCE_DIR_MAX 1023

#define PRK_FENCE_DEFAULT_CLUSTER "prkit"
#define PRK_FENCE_DEFAULT_TIMEOUT 30 /* seconds per storage operation */
#define PRK_FENCE_MAX_TIMEOUT 86400
#define PRK_FENCE_DEFAULT_RETRY 0 /* check: extra READ KEYS rounds */
#define PRK_FENCE_MAX_RETRY 1000
#define PRK_FENCE_DEFAULT_RETRY_SLEEP 1 /* check: seconds between rounds */
#define PRK_FENCE_MAX_RETRY_SLEEP 3600

/* fence-agents exit statuses. */
#define PRK_FENCE_EXIT_OK 0
#define PRK_FENCE_EXIT_ERROR 1
#define PRK_FENCE_EXIT_OFF 2 /* status / check: the node's key is not registered */

enum prk_fence_action {
	PRK_FENCE_OFF = 0,  /* fence the victim; also "reboot" (see reboot_requested) */
	PRK_FENCE_ON,       /* unfence (join) this node */
	PRK_FENCE_STATUS,   /* is the node's key registered: exit 0 ON, 2 OFF */
	PRK_FENCE_MONITOR,  /* can the devices be reached */
	PRK_FENCE_LIST,     /* the nodes that have keys; also "list-status" */
	PRK_FENCE_METADATA, /* print the XML (fence_meta.h) */
	PRK_FENCE_VALIDATE, /* "validate-all": check the options, touch nothing */
	PRK_FENCE_CHECK     /* ours: the watchdog check (exit 0 key present, 2 not) */
};
/* The canonical name ("off", "validate-all", ...). */
const char *prk_fence_action_name(enum prk_fence_action a);
/* Accepts every name above (case-insensitively) plus "reboot" (off) and
 * "list-status" (list). 0, or -1 for an unknown name. reboot is set when
 * the name was "reboot". */
int prk_fence_action_parse(const char *s, enum prk_fence_action *a, bool *reboot);

enum prk_fence_key_mode {
	PRK_FENCE_KEY_NODE = 0, /* one key per node: tag | node id | incarnation */
	PRK_FENCE_KEY_CLUSTER   /* one key for all members: tag | 0 | generation */
};

/* One multipath device: its paths (iscsi:// URLs) to one LU. */
struct prk_fence_device {
	size_t n_paths;
	char paths[PRK_FENCE_MAX_PATHS][PRK_FENCE_URL_MAX + 1];
};

struct prk_fence_host {
	char name[PRK_FENCE_NAME_MAX + 1];
	uint16_t id;
};

/* Large (about 70 KiB): keep it static or on the heap in long-lived code. */
struct prk_fence_opts {
	enum prk_fence_action action; /* PRK_FENCE_OFF when not given */
	bool action_given;
	bool reboot_requested; /* the action was "reboot", done as off */
	/* parse_argv found no action: read standard input next. */
	bool read_stdin;

	struct prk_fence_device devices[PRK_FENCE_MAX_DEVICES];
	size_t n_devices;

	/* The node the action is about: the victim of off/status, this node
	 * for on. Pacemaker passes both: plug (= port) is the value mapped by
	 * pcmk_host_map (often the node id itself), nodename the cluster's
	 * name for the node. plug wins; both must agree when both resolve. */
	char nodename[PRK_FENCE_NAME_MAX + 1];
	char plug[PRK_FENCE_NAME_MAX + 1];

	uint16_t nodeid; /* --nodeid: this node; 0 when not given */
	struct prk_fence_host hosts[PRK_FENCE_MAX_HOSTS]; /* --host-map / host_map= */
	size_t n_hosts;
	/* --local-node: this node's name. Empty when not given: the caller
	 * fills it (gethostname) and validates again. */
	char local_node[PRK_FENCE_NAME_MAX + 1];
	bool local_node_given;

	char cluster_name[64 + 1]; /* PRK_FENCE_DEFAULT_CLUSTER */
	enum prk_fence_key_mode key_mode;
	bool first; /* on: this node is the first member; remove non-members' keys */
	char members[PRK_FENCE_MAX_MEMBERS][PRK_FENCE_NAME_MAX + 1];
	size_t n_members;

	/* Empty when not given: filled by the caller. */
	char initiator[PRK_FENCE_INITIATOR_MAX + 1];
	char state_dir[PRK_FENCE_DIR_MAX + 1];

	unsigned retry;       /* check */
	unsigned retry_sleep; /* check, seconds */
	unsigned timeout;     /* seconds */
	int verbose;

	bool help;    /* -h/--help: nothing else is checked */
	bool version; /* -V/--version */
};

/* Sets every default (also done by prk_fence_opts_parse_argv). */
void prk_fence_opts_init(struct prk_fence_opts *o);

/* Parses argv (argv[0] is "fence"; GNU getopt may permute argv). Starts
 * from prk_fence_opts_init(). When an action is given, validates too;
 * when none is (and neither --help nor --version), sets read_stdin and
 * leaves validation to prk_fence_opts_parse_stdin. Returns 0, or 1 with a
 * one-line message in err that names the option and the value. */
int prk_fence_opts_parse_argv(int argc, char **argv, struct prk_fence_opts *o, char *err,
                              size_t errlen);

/* Reads name=value lines from in until EOF into o (which must come from
 * prk_fence_opts_parse_argv or prk_fence_opts_init), then validates.
 * Blank lines and lines starting with '#' are ignored; blanks around the
 * name and the value are dropped; a boolean may be given without "=value".
 * Returns 0, or 1 with "line N: ..." naming the parameter and value (or,
 * from validation, the option) in err. */
int prk_fence_opts_parse_stdin(FILE *in, struct prk_fence_opts *o, char *err, size_t errlen);

/* The checks across options (also run by both parsers): devices present
 * (every action but metadata), a victim for off/status that resolves to a
 * node id and is not this node, members resolvable, --first with members,
 * names that agree. Returns 0, or 1 with a message. */
int prk_fence_opts_validate(const struct prk_fence_opts *o, char *err, size_t errlen);

/* The node id of name: its host map entry (names compare
 * case-insensitively), else name itself when it is a decimal number
 * 1..65535. Returns 0, or -1 when neither applies. */
int prk_fence_node_id(const struct prk_fence_opts *o, const char *name, uint16_t *id);

/* The node the action is about (plug, else nodename), resolved. For on it
 * is this node. Returns 0, or -1 with a message when none was given or it
 * does not resolve. */
int prk_fence_target_id(const struct prk_fence_opts *o, uint16_t *id, char *err, size_t errlen);

/* This node's id: --nodeid; else, for on, the target (Pacemaker passes
 * this node as nodename); else local_node resolved. Returns 0, or -1 with
 * a message. */
int prk_fence_local_id(const struct prk_fence_opts *o, uint16_t *id, char *err, size_t errlen);

/* The node ids of --members, in order, without repeats (validated
 * options resolve them all). Returns how many were stored (at most cap). */
size_t prk_fence_member_ids(const struct prk_fence_opts *o, uint16_t *ids, size_t cap);

/* Usage text for --help. */
void prk_fence_usage(FILE *f);

#endif
