/* `prkit fence` options: every flag, every stdin name, the device and
 * host-map syntax, node id resolution, and every validation rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fence_opts.h"

#define U1 "iscsi://192.0.2.1/iqn.2026-01.io.prkit:t1/0"
#define U2 "iscsi://192.0.2.2:3261/iqn.2026-01.io.prkit:t1/0"
#define U3 "iscsi://192.0.2.1/iqn.2026-01.io.prkit:t2/1"
#define U4 "iscsi://192.0.2.2/iqn.2026-01.io.prkit:t2/1"
#define INI "iqn.2026-01.io.prkit:node1"

static struct prk_fence_opts O;
static char E[1024];

static int argv_v(char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	memset(E, 0, sizeof(E));
	return prk_fence_opts_parse_argv(argc, argv, &O, E, sizeof(E));
}

#define ARGV(...) ((char *[]){"fence", __VA_ARGS__, NULL})
#define PARSE(...) argv_v(ARGV(__VA_ARGS__))

/* Parses text as standard input into O, which starts from init. */
static int stdin_text(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc;

	assert_non_null(f);
	prk_fence_opts_init(&O);
	memset(E, 0, sizeof(E));
	rc = prk_fence_opts_parse_stdin(f, &O, E, sizeof(E));
	fclose(f);
	return rc;
}

#define assert_msg(...)                                                                            \
	do {                                                                                       \
		const char *const want_[] = {__VA_ARGS__};                                         \
		for (size_t i_ = 0; i_ < sizeof(want_) / sizeof(want_[0]); i_++) {                 \
			if (!strstr(E, want_[i_]))                                                 \
				fail_msg("message \"%s\" lacks \"%s\"", E, want_[i_]);             \
		}                                                                                  \
	} while (0)

/* argv fails with 1 and a message holding every string given. */
#define assert_argv_fails(argv, ...)                                                               \
	do {                                                                                       \
		assert_int_equal(argv_v(argv), 1);                                                 \
		assert_msg(__VA_ARGS__);                                                           \
	} while (0)
#define assert_stdin_fails(text, ...)                                                              \
	do {                                                                                       \
		assert_int_equal(stdin_text(text), 1);                                             \
		assert_msg(__VA_ARGS__);                                                           \
	} while (0)

/* ---- defaults, actions ---- */

static void defaults(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-o", "metadata"), 0);
	assert_string_equal(E, "");
	assert_int_equal(O.action, PRK_FENCE_METADATA);
	assert_true(O.action_given);
	assert_false(O.read_stdin);
	assert_false(O.reboot_requested);
	assert_int_equal(O.n_devices, 0);
	assert_string_equal(O.nodename, "");
	assert_string_equal(O.plug, "");
	assert_int_equal(O.nodeid, 0);
	assert_int_equal(O.n_hosts, 0);
	assert_string_equal(O.local_node, "");
	assert_false(O.local_node_given);
	assert_string_equal(O.cluster_name, "prkit");
	assert_int_equal(O.key_mode, PRK_FENCE_KEY_NODE);
	assert_false(O.first);
	assert_int_equal(O.n_members, 0);
	assert_string_equal(O.initiator, "");
	assert_string_equal(O.state_dir, "");
	assert_int_equal(O.retry, 0);
	assert_int_equal(O.retry_sleep, 1);
	assert_int_equal(O.timeout, 30);
	assert_int_equal(O.verbose, 0);
	assert_false(O.help);
	assert_false(O.version);

	/* init gives the same defaults, and off */
	prk_fence_opts_init(&O);
	assert_int_equal(O.action, PRK_FENCE_OFF);
	assert_false(O.action_given);
	assert_string_equal(O.cluster_name, "prkit");
	assert_int_equal(O.timeout, 30);
}

static void action_names(void **state)
{
	static const struct {
		const char *s;
		enum prk_fence_action a;
		bool reboot;
		const char *canon;
	} t[] = {
	    {"on", PRK_FENCE_ON, false, "on"},
	    {"off", PRK_FENCE_OFF, false, "off"},
	    {"reboot", PRK_FENCE_OFF, true, "off"},
	    {"status", PRK_FENCE_STATUS, false, "status"},
	    {"monitor", PRK_FENCE_MONITOR, false, "monitor"},
	    {"list", PRK_FENCE_LIST, false, "list"},
	    {"list-status", PRK_FENCE_LIST, false, "list"},
	    {"metadata", PRK_FENCE_METADATA, false, "metadata"},
	    {"validate-all", PRK_FENCE_VALIDATE, false, "validate-all"},
	    {"check", PRK_FENCE_CHECK, false, "check"},
	    {"OFF", PRK_FENCE_OFF, false, "off"},
	};
	enum prk_fence_action a;
	bool reboot;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		a = PRK_FENCE_METADATA;
		reboot = !t[i].reboot;
		assert_int_equal(prk_fence_action_parse(t[i].s, &a, &reboot), 0);
		assert_int_equal(a, t[i].a);
		assert_int_equal(reboot, t[i].reboot);
		assert_string_equal(prk_fence_action_name(a), t[i].canon);
	}
	assert_int_equal(prk_fence_action_parse("fence", &a, NULL), -1);
	assert_int_equal(prk_fence_action_parse("", &a, NULL), -1);
	assert_int_equal(prk_fence_action_parse("of", &a, NULL), -1);
	assert_string_equal(prk_fence_action_name((enum prk_fence_action)99), "?");
}

static void actions_from_argv(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--action", "reboot", "-d", U1, "-n", "2"), 0);
	assert_int_equal(O.action, PRK_FENCE_OFF);
	assert_true(O.reboot_requested);
	assert_int_equal(PARSE("--action=list-status", "-d", U1), 0);
	assert_int_equal(O.action, PRK_FENCE_LIST);
	assert_int_equal(PARSE("-o", "monitor", "-d", U1), 0);
	assert_int_equal(O.action, PRK_FENCE_MONITOR);
	assert_int_equal(PARSE("-o", "check", "-d", U1, "--retry", "3", "--retry-sleep", "2"), 0);
	assert_int_equal(O.action, PRK_FENCE_CHECK);
	assert_int_equal(O.retry, 3);
	assert_int_equal(O.retry_sleep, 2);
	assert_argv_fails(ARGV("-o", "destroy"), "-o", "'destroy'", "unknown action",
	                  "validate-all");
	assert_argv_fails(ARGV("--action", "destroy"), "--action 'destroy'");
}

static void no_action_means_stdin(void **state)
{
	(void)state;
	/* Nothing is validated yet: off without a victim would fail. */
	assert_int_equal(PARSE("-v", "--cluster-name", "c2"), 0);
	assert_true(O.read_stdin);
	assert_false(O.action_given);
	assert_int_equal(argv_v((char *[]){"fence", NULL}), 0);
	assert_true(O.read_stdin);
	/* help and version need no stdin */
	assert_int_equal(PARSE("--help"), 0);
	assert_true(O.help);
	assert_false(O.read_stdin);
	assert_int_equal(PARSE("-V"), 0);
	assert_true(O.version);
	assert_false(O.read_stdin);
	assert_int_equal(PARSE("-h", "-o", "off"), 0); /* help: nothing checked */
}

static void argv_then_stdin(void **state)
{
	const char *text = "action=off\nnodename=node2\ndevices=" U3 "\n";
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	(void)state;
	assert_int_equal(PARSE("--cluster-name", "c2", "-d", U1, "--host-map", "node2:2"), 0);
	assert_true(O.read_stdin);
	assert_non_null(f);
	assert_int_equal(prk_fence_opts_parse_stdin(f, &O, E, sizeof(E)), 0);
	fclose(f);
	assert_false(O.read_stdin);
	assert_string_equal(O.cluster_name, "c2");
	assert_int_equal(O.n_devices, 2);
	assert_string_equal(O.devices[0].paths[0], U1);
	assert_string_equal(O.devices[1].paths[0], U3);
	assert_string_equal(O.nodename, "node2");
}

/* ---- every flag ---- */

static void all_flags(void **state)
{
	uint16_t id = 0;

	(void)state;
	assert_int_equal(PARSE("--action", "on", "--devices", U1 "," U2, "-d", U3, "--nodename",
	                       "node1", "--plug", "1", "--nodeid", "1", "--host-map",
	                       "node1:1,node2:2", "--local-node", "node1", "--cluster-name", "db_1",
	                       "--key-mode", "cluster", "--first", "--members", "node1,node2",
	                       "--initiator", INI, "--state-dir", "/var/lib/x", "--retry", "5",
	                       "--retry-sleep", "3", "--timeout", "90", "-v", "--verbose"),
	                 0);
	assert_string_equal(E, "");
	assert_int_equal(O.action, PRK_FENCE_ON);
	assert_int_equal(O.n_devices, 2);
	assert_int_equal(O.devices[0].n_paths, 2);
	assert_string_equal(O.devices[0].paths[0], U1);
	assert_string_equal(O.devices[0].paths[1], U2);
	assert_int_equal(O.devices[1].n_paths, 1);
	assert_string_equal(O.devices[1].paths[0], U3);
	assert_string_equal(O.nodename, "node1");
	assert_string_equal(O.plug, "1");
	assert_int_equal(O.nodeid, 1);
	assert_int_equal(O.n_hosts, 2);
	assert_string_equal(O.hosts[1].name, "node2");
	assert_int_equal(O.hosts[1].id, 2);
	assert_string_equal(O.local_node, "node1");
	assert_true(O.local_node_given);
	assert_string_equal(O.cluster_name, "db_1");
	assert_int_equal(O.key_mode, PRK_FENCE_KEY_CLUSTER);
	assert_true(O.first);
	assert_int_equal(O.n_members, 2);
	assert_string_equal(O.members[1], "node2");
	assert_string_equal(O.initiator, INI);
	assert_string_equal(O.state_dir, "/var/lib/x");
	assert_int_equal(O.retry, 5);
	assert_int_equal(O.retry_sleep, 3);
	assert_int_equal(O.timeout, 90);
	assert_int_equal(O.verbose, 2);
	assert_int_equal(prk_fence_local_id(&O, &id, E, sizeof(E)), 0);
	assert_int_equal(id, 1);
}

static void underscore_and_alias_spellings(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-o", "off", "-d", U1, "--port", "node2", "--host_map", "node2:2",
	                       "--local_node", "n1", "--cluster_name", "c", "--key_mode", "node",
	                       "--state_dir", "/s", "--retry_sleep", "0", "--nodeid", "1"),
	                 0);
	assert_string_equal(O.plug, "node2");
	assert_int_equal(O.n_hosts, 1);
	assert_string_equal(O.local_node, "n1");
	assert_string_equal(O.cluster_name, "c");
	assert_string_equal(O.state_dir, "/s");
	assert_int_equal(O.retry_sleep, 0);
}

static void argv_errors(void **state)
{
	(void)state;
	assert_argv_fails(ARGV("-x"), "unknown option '-x'");
	assert_argv_fails(ARGV("--bogus"), "unknown or ambiguous option '--bogus'");
	/* no abbreviations: --key would otherwise be --key-mode */
	assert_argv_fails(ARGV("--key", "0x1"), "option '--key' is not spelled out", "--key-mode");
	assert_argv_fails(ARGV("--mem=a", "-o", "metadata"), "option '--mem' is not spelled out");
	assert_argv_fails(ARGV("--no", "1"),
	                  "ambiguous option '--no'"); /* ambiguous: --nodename, --nodeid */
	/* operands stop the options */
	assert_argv_fails(ARGV("extra", "-o", "metadata"), "unexpected argument 'extra'");
	assert_argv_fails(ARGV("-o"), "'-o' needs a value");
	assert_argv_fails(ARGV("--devices"), "'--devices' needs a value");
	assert_argv_fails(ARGV("-o", "off", "extra"), "unexpected argument 'extra'");
	assert_argv_fails(ARGV("--first=1"), "option '--first' does not take a value");
	assert_argv_fails(ARGV("--verbose=2"), "option '--verbose' does not take a value");
}

static void numbers(void **state)
{
	(void)state;
	assert_argv_fails(ARGV("--nodeid", "0"), "--nodeid '0'", "1..65535");
	assert_argv_fails(ARGV("--nodeid", "65536"), "--nodeid '65536'");
	assert_argv_fails(ARGV("--nodeid", "x"), "--nodeid 'x'");
	assert_argv_fails(ARGV("--nodeid", "-1"), "--nodeid '-1'");
	assert_argv_fails(ARGV("--nodeid", ""), "--nodeid ''");
	assert_int_equal(PARSE("--nodeid", "65535"), 0);
	assert_int_equal(O.nodeid, 65535);
	assert_argv_fails(ARGV("--retry", "1001"), "--retry '1001'", "0..1000");
	assert_argv_fails(ARGV("--retry", "2x"), "--retry '2x'");
	assert_argv_fails(ARGV("--retry-sleep", "3601"), "--retry-sleep '3601'");
	assert_argv_fails(ARGV("--timeout", "0"), "--timeout '0'", "1..86400");
	assert_argv_fails(ARGV("--timeout", "86401"), "--timeout '86401'");
	assert_argv_fails(ARGV("--timeout", "1.5"), "--timeout '1.5'");
	assert_int_equal(PARSE("--timeout", "86400", "--retry", "1000", "--retry-sleep", "0"), 0);
	assert_int_equal(O.timeout, 86400);
	assert_int_equal(O.retry, 1000);
	assert_int_equal(O.retry_sleep, 0);
}

static void names_and_modes(void **state)
{
	char long_name[300];

	(void)state;
	assert_argv_fails(ARGV("--cluster-name", "a/b"), "--cluster-name 'a/b'", "cluster name");
	assert_argv_fails(ARGV("--cluster-name", ""), "--cluster-name ''");
	assert_argv_fails(ARGV("--cluster-name", ".hidden"), "'.hidden'");
	assert_argv_fails(ARGV("--key-mode", "shared"), "--key-mode 'shared'", "node or cluster");
	assert_int_equal(PARSE("--key-mode", "CLUSTER"), 0);
	assert_int_equal(O.key_mode, PRK_FENCE_KEY_CLUSTER);
	assert_argv_fails(ARGV("--initiator", "node1"), "--initiator 'node1'", "iSCSI name");
	assert_argv_fails(ARGV("--initiator", "iqn.bad name"), "'iqn.bad name'");
	assert_argv_fails(ARGV("--state-dir", "rel/dir"), "--state-dir 'rel/dir'", "absolute");
	assert_argv_fails(ARGV("--state-dir", ""), "--state-dir ''");
	assert_argv_fails(ARGV("-n", ""), "-n ''", "empty");
	assert_argv_fails(ARGV("--local-node", ""), "--local-node ''");
	memset(long_name, 'n', 256);
	long_name[256] = '\0';
	assert_argv_fails(ARGV("--nodename", long_name), "--nodename", "longer than 255");
	long_name[255] = '\0';
	assert_int_equal(PARSE("--nodename", long_name), 0);
	assert_int_equal(strlen(O.nodename), 255);
}

/* ---- devices ---- */

static void devices_syntax(void **state)
{
	(void)state;
	/* blanks separate devices, commas the paths of one device */
	assert_int_equal(PARSE("-o", "monitor", "-d", U1 "," U2 " " U3 "\t" U4), 0);
	assert_int_equal(O.n_devices, 3);
	assert_int_equal(O.devices[0].n_paths, 2);
	assert_string_equal(O.devices[2].paths[0], U4);
	/* blanks next to a comma continue the device */
	assert_int_equal(PARSE("-o", "monitor", "-d", "  " U1 " , " U2 ",  " U4 "  " U3 " "), 0);
	assert_int_equal(O.n_devices, 2);
	assert_int_equal(O.devices[0].n_paths, 3);
	assert_string_equal(O.devices[0].paths[2], U4);
	assert_string_equal(O.devices[1].paths[0], U3);
	/* repeated -d adds devices */
	assert_int_equal(PARSE("-o", "monitor", "-d", U1, "--devices", U3 "," U4), 0);
	assert_int_equal(O.n_devices, 2);
	assert_int_equal(O.devices[1].n_paths, 2);
	/* a credentials part and IPv6 are left to the host library */
	assert_int_equal(PARSE("-o", "monitor", "-d",
	                       "iscsi://u%s@[2001:db8::1]:3260/iqn.2026-01.io.prkit:t/16383"),
	                 0);
}

static void devices_errors(void **state)
{
	char many[8192];
	size_t n = 0;

	(void)state;
	assert_argv_fails(ARGV("-d", "/dev/sdb"), "-d '/dev/sdb'", "does not start with iscsi://");
	assert_argv_fails(ARGV("-d", U1 ",/dev/dm-3"), "'/dev/dm-3' does not start with iscsi://");
	assert_argv_fails(ARGV("--devices", U1 ",," U2), "--devices", "empty path");
	assert_argv_fails(ARGV("-d", U1 ","), "empty path");
	assert_argv_fails(ARGV("-d", "," U1), "empty path");
	assert_argv_fails(ARGV("-d", "   "), "no device");
	assert_argv_fails(ARGV("-d", "iscsi://"), "has no host");
	assert_argv_fails(ARGV("-d", "iscsi:///iqn.x:t/0"), "has no host");
	assert_argv_fails(ARGV("-d", "iscsi://h"), "'iscsi://h' has no /target-iqn/lun");
	assert_argv_fails(ARGV("-d", "iscsi://h/iqn.2026-01.io.prkit:t1"), "/target-iqn/lun");
	assert_argv_fails(ARGV("-d", "iscsi://h//0"), "/target-iqn/lun");
	assert_argv_fails(ARGV("-d", "iscsi://h/iqn.2026-01.io.prkit:t1/"), "LUN ''");
	assert_argv_fails(ARGV("-d", "iscsi://h/iqn.2026-01.io.prkit:t1/16384"), "LUN '16384'");
	assert_argv_fails(ARGV("-d", "iscsi://h/iqn.2026-01.io.prkit:t1/x"), "LUN 'x'");
	/* the same path twice, in one device or two */
	assert_argv_fails(ARGV("-d", U1 "," U1), "'" U1 "' is given twice");
	assert_argv_fails(ARGV("-d", U1, "-d", U1), "is given twice");
	assert_argv_fails(ARGV("-d", U1 " " U2 "," U1), "is given twice");

	/* 9 paths in one device */
	for (int i = 0; i < 9; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%siscsi://h%d/iqn.x:t/0",
		                      i ? "," : "", i);
	assert_argv_fails(ARGV("-d", many), "more than 8 paths");
	/* 8 paths are fine */
	*strrchr(many, ',') = '\0';
	assert_int_equal(PARSE("-o", "monitor", "-d", many), 0);
	assert_int_equal(O.devices[0].n_paths, 8);

	/* 17 devices */
	n = 0;
	for (int i = 0; i < 17; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, " iscsi://h/iqn.x:t/%d", i);
	assert_argv_fails(ARGV("-d", many), "more than 16 devices");
	*strrchr(many, ' ') = '\0';
	assert_int_equal(PARSE("-o", "monitor", "-d", many), 0);
	assert_int_equal(O.n_devices, 16);

	/* a path longer than 255 characters */
	memset(many, 'a', 300);
	memcpy(many, "iscsi://", 8);
	strcpy(many + 290, "/iqn.x:t/0");
	assert_argv_fails(ARGV("-d", many), "longer than 255");
}

/* Paths go through the same URL parser as `prkit persist`: what the host
 * library could never log in to is refused here, with the path named. */
static void devices_shared_url_checks(void **state)
{
	(void)state;
	assert_argv_fails(ARGV("-d", "iscsi://h:0/iqn.x:t/0"),
	                  "path 'iscsi://h:0/iqn.x:t/0': port '0' is out of range 1..65535");
	assert_argv_fails(ARGV("-d", "iscsi://ho$t/iqn.x:t/0"), "character '$' in the host");
	assert_argv_fails(ARGV("-d", U1 ",iscsi://h/target/0"),
	                  "path 'iscsi://h/target/0': target name 'target' does not start with "
	                  "iqn., eui. or naa.");
	assert_argv_fails(ARGV("-d", "iscsi://@h/iqn.x:t/0"), "empty user name before '@'");
	assert_argv_fails(ARGV("-d", "ISCSI://h/iqn.x:t/0"), "does not start with iscsi://");
}

static void devices_required(void **state)
{
	static const char *const acts[] = {"on",   "off",          "status", "monitor",
	                                   "list", "validate-all", "check"};

	(void)state;

	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		assert_argv_fails(ARGV("-o", (char *)acts[i], "-n", "2", "--nodeid", "1"),
		                  "needs devices=", "--devices");
		assert_msg(acts[i]);
	}
	assert_int_equal(PARSE("-o", "metadata"), 0);
}

/* ---- node ids ---- */

static void host_map_syntax(void **state)
{
	uint16_t id = 0;

	(void)state;
	assert_int_equal(PARSE("--host-map", "a:1;b=2, c:3\td:65535", "--host-map", "e:5;"), 0);
	assert_int_equal(O.n_hosts, 5);
	assert_string_equal(O.hosts[0].name, "a");
	assert_int_equal(O.hosts[1].id, 2);
	assert_int_equal(O.hosts[3].id, 65535);
	assert_int_equal(O.hosts[4].id, 5);
	assert_int_equal(prk_fence_node_id(&O, "c", &id), 0);
	assert_int_equal(id, 3);
	/* names compare case-insensitively */
	assert_int_equal(prk_fence_node_id(&O, "B", &id), 0);
	assert_int_equal(id, 2);
	/* the same entry twice is fine; two ids for one name are not */
	assert_int_equal(PARSE("--host-map", "a:1,A:1"), 0);
	assert_int_equal(O.n_hosts, 1);
	assert_argv_fails(ARGV("--host-map", "a:1,a:2"), "--host-map",
	                  "'a' is mapped to both 1 and 2");
	/* two names for one id (aliases) are fine */
	assert_int_equal(PARSE("--host-map", "a:1,a.example.com:1"), 0);
	assert_argv_fails(ARGV("--host-map", "a"), "--host-map 'a'", "entry 'a' is not name:id");
	assert_argv_fails(ARGV("--host-map", "a:0"), "entry 'a:0'", "node id '0'");
	assert_argv_fails(ARGV("--host-map", "a:65536"), "node id '65536'");
	assert_argv_fails(ARGV("--host-map", "a:x"), "node id 'x'");
	assert_argv_fails(ARGV("--host-map", ":3"), "empty node name");
	assert_argv_fails(ARGV("--host-map", " ; "), "no name:id entry");
}

static void node_id_resolution(void **state)
{
	uint16_t id = 0;

	(void)state;
	assert_int_equal(PARSE("--host-map", "node1:1,7:9"), 0);
	assert_int_equal(prk_fence_node_id(&O, "node1", &id), 0);
	assert_int_equal(id, 1);
	/* a number that is not mapped is the id itself */
	assert_int_equal(prk_fence_node_id(&O, "42", &id), 0);
	assert_int_equal(id, 42);
	/* the map wins over a numeric name */
	assert_int_equal(prk_fence_node_id(&O, "7", &id), 0);
	assert_int_equal(id, 9);
	id = 1234;
	assert_int_equal(prk_fence_node_id(&O, "node2", &id), -1);
	assert_int_equal(prk_fence_node_id(&O, "0", &id), -1);
	assert_int_equal(prk_fence_node_id(&O, "65536", &id), -1);
	assert_int_equal(prk_fence_node_id(&O, "", &id), -1);
	assert_int_equal(prk_fence_node_id(&O, NULL, &id), -1);
	assert_int_equal(prk_fence_node_id(&O, "node", &id), -1);
	assert_int_equal(prk_fence_node_id(&O, "node12", &id), -1);
	assert_int_equal(id, 1234);
}

static void victim(void **state)
{
	uint16_t id = 0;

	(void)state;
	assert_argv_fails(ARGV("-o", "off", "-d", U1), "action 'off' needs the node",
	                  "nodename=", "plug=");
	assert_argv_fails(ARGV("-o", "reboot", "-d", U1), "action 'reboot' needs the node");
	assert_argv_fails(ARGV("-o", "status", "-d", U1), "action 'status' needs the node");
	assert_argv_fails(ARGV("-o", "off", "-d", U1, "-n", "node2"),
	                  "nodename 'node2' is not a node id");
	assert_argv_fails(ARGV("-o", "off", "-d", U1, "--plug", "node2"), "plug 'node2'");
	assert_int_equal(PARSE("-o", "off", "-d", U1, "-n", "2"), 0);
	assert_int_equal(prk_fence_target_id(&O, &id, E, sizeof(E)), 0);
	assert_int_equal(id, 2);
	assert_int_equal(PARSE("-o", "status", "-d", U1, "-n", "node2", "--host-map", "node2:12"),
	                 0);
	assert_int_equal(prk_fence_target_id(&O, &id, E, sizeof(E)), 0);
	assert_int_equal(id, 12);

	/* Pacemaker with pcmk_host_map: plug is the id, nodename the name */
	assert_int_equal(PARSE("-o", "off", "-d", U1, "--plug", "3", "-n", "node3"), 0);
	assert_int_equal(prk_fence_target_id(&O, &id, E, sizeof(E)), 0);
	assert_int_equal(id, 3);
	/* plug that does not resolve: nodename is used */
	assert_int_equal(
	    PARSE("-o", "off", "-d", U1, "--plug", "bmc-3", "-n", "node3", "--host-map", "node3:3"),
	    0);
	assert_int_equal(prk_fence_target_id(&O, &id, E, sizeof(E)), 0);
	assert_int_equal(id, 3);
	/* both resolve and disagree */
	assert_argv_fails(
	    ARGV("-o", "off", "-d", U1, "--plug", "4", "-n", "node3", "--host-map", "node3:3"),
	    "plug '4' (node id 4)", "nodename 'node3' (node id 3)", "different");
	assert_argv_fails(ARGV("-o", "off", "-d", U1, "--plug", "x", "-n", "y"),
	                  "neither plug 'x' nor nodename 'y'");

	prk_fence_opts_init(&O);
	assert_int_equal(prk_fence_target_id(&O, &id, E, sizeof(E)), -1);
	assert_msg("needs the node");
}

static void no_self_fencing(void **state)
{
	(void)state;
	assert_argv_fails(ARGV("-o", "off", "-d", U1, "-n", "2", "--nodeid", "2"),
	                  "refusing to fence this node (node id 2)");
	assert_argv_fails(ARGV("-o", "reboot", "-d", U1, "-n", "node2", "--local-node", "NODE2",
	                       "--host-map", "node2:2"),
	                  "refusing to fence this node");
	/* status of oneself is fine */
	assert_int_equal(PARSE("-o", "status", "-d", U1, "-n", "2", "--nodeid", "2"), 0);
	/* the caller fills local_node later and validates again */
	assert_int_equal(
	    PARSE("-o", "off", "-d", U1, "-n", "node2", "--host-map", "node2:2,node1:1"), 0);
	strcpy(O.local_node, "node2");
	assert_int_equal(prk_fence_opts_validate(&O, E, sizeof(E)), 1);
	assert_msg("refusing to fence this node");
	strcpy(O.local_node, "node1");
	assert_int_equal(prk_fence_opts_validate(&O, E, sizeof(E)), 0);
	/* a host name that is not in the map is no error until an id is needed */
	strcpy(O.local_node, "node1.example.com");
	assert_int_equal(prk_fence_opts_validate(&O, E, sizeof(E)), 0);
}

static void local_id(void **state)
{
	uint16_t id = 0;

	(void)state;
	/* on: the node Pacemaker names is this node */
	assert_int_equal(PARSE("-o", "on", "-d", U1, "-n", "node4", "--host-map", "node4:4"), 0);
	assert_int_equal(prk_fence_local_id(&O, &id, E, sizeof(E)), 0);
	assert_int_equal(id, 4);
	/* off: local_node, never the victim */
	assert_int_equal(PARSE("-o", "off", "-d", U1, "-n", "node4", "--host-map", "node4:4,n1:1",
	                       "--local-node", "n1"),
	                 0);
	assert_int_equal(prk_fence_local_id(&O, &id, E, sizeof(E)), 0);
	assert_int_equal(id, 1);
	/* --nodeid wins */
	assert_int_equal(
	    PARSE("-o", "off", "-d", U1, "-n", "4", "--nodeid", "9", "--local-node", "5"), 0);
	assert_int_equal(prk_fence_local_id(&O, &id, E, sizeof(E)), 0);
	assert_int_equal(id, 9);
	/* unknown */
	assert_int_equal(PARSE("-o", "off", "-d", U1, "-n", "4"), 0);
	assert_int_equal(prk_fence_local_id(&O, &id, E, sizeof(E)), -1);
	assert_msg("this node's id is unknown", "--nodeid");
	strcpy(O.local_node, "myhost");
	assert_int_equal(prk_fence_local_id(&O, &id, E, sizeof(E)), -1);
	assert_msg("local_node 'myhost'");
	/* an explicit --local-node that does not resolve is an error at once */
	assert_argv_fails(ARGV("-o", "off", "-d", U1, "-n", "4", "--local-node", "myhost"),
	                  "local_node 'myhost'");
	/* on without any name: left to the caller's local_node */
	assert_int_equal(PARSE("-o", "on", "-d", U1), 0);
	assert_int_equal(prk_fence_local_id(&O, &id, E, sizeof(E)), -1);
}

static void on_must_be_this_node(void **state)
{
	(void)state;
	assert_argv_fails(ARGV("-o", "on", "-d", U1, "-n", "3", "--nodeid", "2"),
	                  "not this node (id 2 from --nodeid)", "(id 3)");
	assert_argv_fails(ARGV("-o", "on", "-d", U1, "-n", "3", "--local-node", "2"),
	                  "from local_node");
	assert_argv_fails(ARGV("-o", "on", "-d", U1, "-n", "nodeX"), "nodename 'nodeX'");
	assert_int_equal(PARSE("-o", "on", "-d", U1, "-n", "3", "--nodeid", "3"), 0);
}

static void first_and_members(void **state)
{
	uint16_t ids[8];

	(void)state;
	assert_argv_fails(ARGV("-o", "on", "-d", U1, "--nodeid", "1", "--first"),
	                  "first (--first) needs members=");
	assert_argv_fails(
	    ARGV("-o", "on", "-d", U1, "--nodeid", "1", "--first", "--members", "2,3"),
	    "this node (id 1) is not in members");
	assert_argv_fails(ARGV("-o", "on", "-d", U1, "--nodeid", "1", "--members", "1,nodeX"),
	                  "members: 'nodeX'");
	assert_argv_fails(ARGV("-o", "validate-all", "-d", U1, "--members", "nodeX"),
	                  "members: 'nodeX'");
	assert_argv_fails(ARGV("-o", "validate-all", "-d", U1, "--first"), "needs members=");
	/* cluster mode: keys do not name nodes, first needs no members */
	assert_int_equal(
	    PARSE("-o", "on", "-d", U1, "--nodeid", "1", "--first", "--key-mode", "cluster"), 0);
	assert_argv_fails(ARGV("-o", "on", "-d", U1, "--nodeid", "1", "--first", "--key-mode",
	                       "cluster", "--members", "2,3"),
	                  "this node (id 1) is not in members");
	/* off does not use them: a mistake there must not stop fencing */
	assert_int_equal(PARSE("-o", "off", "-d", U1, "-n", "2", "--first", "--members", "nodeX"),
	                 0);
	assert_int_equal(PARSE("-o", "on", "-d", U1, "-n", "node1", "--first", "--members",
	                       "node1;node2, 3 NODE1", "--host-map", "node1:1,node2:2"),
	                 0);
	assert_int_equal(O.n_members, 3); /* NODE1 is node1 again */
	assert_int_equal(prk_fence_member_ids(&O, ids, 8), 3);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 2);
	assert_int_equal(ids[2], 3);
	assert_int_equal(prk_fence_member_ids(&O, ids, 2), 2);
	/* two names of one node count once */
	assert_int_equal(
	    PARSE("-o", "on", "-d", U1, "--nodeid", "1", "--members", "1,n1", "--host-map", "n1:1"),
	    0);
	assert_int_equal(prk_fence_member_ids(&O, ids, 8), 1);
	/* a name that starts with another is another name */
	assert_int_equal(PARSE("-o", "on", "-d", U1, "--nodeid", "1", "--members", "n12,n1,n12",
	                       "--host-map", "n1:1,n12:12"),
	                 0);
	assert_int_equal(O.n_members, 2);
	assert_string_equal(O.members[1], "n1");
	assert_argv_fails(ARGV("--members", ",,"), "--members", "no member");
}

/* ---- standard input ---- */

static void stdin_basic(void **state)
{
	(void)state;
	assert_int_equal(stdin_text("# fence_prkit\n"
	                            "\n"
	                            "action=off\n"
	                            "  nodename = node2  \n"
	                            "port=2\n"
	                            "devices=" U1 "," U2 " " U3 "\n"
	                            "host_map=node1:1;node2:2\n"
	                            "cluster_name=prod\n"
	                            "key_mode=node\n"
	                            "local_node=node1\n"
	                            "initiator=" INI "\n"
	                            "state_dir=/var/lib/prkit\n"
	                            "timeout=20\n"
	                            "retry=2\n"
	                            "retry_sleep=4\n"
	                            "verbose=1\n"
	                            "   # indented comment\n"
	                            "\t\n"),
	                 0);
	assert_string_equal(E, "");
	assert_int_equal(O.action, PRK_FENCE_OFF);
	assert_true(O.action_given);
	assert_string_equal(O.nodename, "node2");
	assert_string_equal(O.plug, "2");
	assert_int_equal(O.n_devices, 2);
	assert_int_equal(O.devices[0].n_paths, 2);
	assert_int_equal(O.n_hosts, 2);
	assert_string_equal(O.cluster_name, "prod");
	assert_string_equal(O.local_node, "node1");
	assert_string_equal(O.initiator, INI);
	assert_string_equal(O.state_dir, "/var/lib/prkit");
	assert_int_equal(O.timeout, 20);
	assert_int_equal(O.retry, 2);
	assert_int_equal(O.retry_sleep, 4);
	assert_int_equal(O.verbose, 1);
}

static void stdin_pacemaker_style(void **state)
{
	uint16_t id;

	(void)state;
	/* What pacemaker-fenced writes: no trailing newline, plug, option */
	assert_int_equal(stdin_text("option=on\nplug=5\nnodename=node5\ndevices=" U1 "\r\n"
	                            "first\nmembers=5 6\nkey_mode=cluster"),
	                 0);
	assert_int_equal(O.action, PRK_FENCE_ON);
	assert_string_equal(O.devices[0].paths[0], U1); /* the \r is dropped */
	assert_true(O.first);
	assert_int_equal(O.key_mode, PRK_FENCE_KEY_CLUSTER);
	assert_int_equal(prk_fence_local_id(&O, &id, E, sizeof(E)), 0);
	assert_int_equal(id, 5);
	/* no action line: off */
	assert_int_equal(stdin_text("nodename=3\ndevices=" U1 "\n"), 0);
	assert_int_equal(O.action, PRK_FENCE_OFF);
	assert_false(O.action_given);
	/* the last value wins, lists grow */
	assert_int_equal(stdin_text("action=on\naction=metadata\ndevices=" U1 "\ndevices=" U3 "\n"),
	                 0);
	assert_int_equal(O.action, PRK_FENCE_METADATA);
	assert_int_equal(O.n_devices, 2);
	assert_int_equal(stdin_text("action=metadata\n"), 0);
	assert_int_equal(stdin_text(""), 1); /* off, nothing else */
	assert_msg("needs devices=");
}

static void stdin_booleans(void **state)
{
	static const char *const yes[] = {"first",      "first=",   "first=1",  "first=yes",
	                                  "first=TRUE", "first=on", "first = y"};
	static const char *const no[] = {"first=0", "first=no", "first=false", "first=OFF",
	                                 "first=n"};
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(text, sizeof(text), "action=metadata\n%s\n", yes[i]);
		assert_int_equal(stdin_text(text), 0);
		if (!O.first)
			fail_msg("'%s' is not true", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		snprintf(text, sizeof(text), "action=metadata\nfirst\n%s\n", no[i]);
		assert_int_equal(stdin_text(text), 0);
		if (O.first)
			fail_msg("'%s' is not false", no[i]);
	}
	assert_stdin_fails("first=2\n", "line 1:", "first '2'", "not a boolean");
	assert_stdin_fails("verbose=maybe\n", "verbose 'maybe'");
	assert_int_equal(stdin_text("action=metadata\nverbose\n"), 0);
	assert_int_equal(O.verbose, 1);
	assert_int_equal(stdin_text("action=metadata\nverbose=0\n"), 0);
	assert_int_equal(O.verbose, 0);
}

static void stdin_errors(void **state)
{
	(void)state;
	assert_stdin_fails("action=off\nbogus=1\n", "line 2:", "unknown parameter 'bogus'");
	assert_stdin_fails("\n\n# c\nkey=0x1234\n", "line 4:", "'key' is not supported");
	assert_stdin_fails("devices\n", "line 1:", "'devices' without '=value'");
	assert_stdin_fails("=x\n", "no parameter name");
	assert_stdin_fails("Action=off\n", "unknown parameter 'Action'");
	assert_stdin_fails("host-map=a:1\n", "unknown parameter 'host-map'");
	assert_stdin_fails("action=fly\n", "line 1:", "action 'fly'", "unknown action");
	assert_stdin_fails("nodeid=0\n", "nodeid '0'");
	assert_stdin_fails("devices=/dev/sdc\n", "line 1:", "devices '/dev/sdc'", "iscsi://");
	assert_stdin_fails("devices=" U1 "\naction=off\n", "action 'off' needs the node");
	assert_stdin_fails("host_map=a\n", "host_map 'a'", "not name:id");
	assert_stdin_fails("cluster_name=a b\n", "cluster_name 'a b'");
	assert_stdin_fails("key_mode=x\n", "key_mode 'x'");
	assert_stdin_fails("state_dir=x\n", "state_dir 'x'");
	assert_stdin_fails("initiator=x\n", "initiator 'x'");
	assert_stdin_fails("timeout=0\n", "timeout '0'");
	assert_stdin_fails("retry=-1\n", "retry '-1'");
	assert_stdin_fails("retry_sleep=x\n", "retry_sleep 'x'");
	assert_stdin_fails("members=\n", "members ''", "no member");
	assert_stdin_fails("local_node=\n", "local_node ''");
	assert_stdin_fails("plug=\n", "plug ''");
	assert_stdin_fails("port=\n", "port ''");
	assert_stdin_fails("nodename=\n", "nodename ''");
}

static void stdin_nul_byte(void **state)
{
	static const char text[] = "action=metadata\nnodename=a\0b\n";
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	(void)state;
	assert_non_null(f);
	prk_fence_opts_init(&O);
	assert_int_equal(prk_fence_opts_parse_stdin(f, &O, E, sizeof(E)), 1);
	fclose(f);
	assert_msg("line 2:", "NUL");
}

static void stdin_long_line(void **state)
{
	size_t n = 0;
	char *text = malloc(20000);

	(void)state;
	assert_non_null(text);
	n += (size_t)sprintf(text, "action=monitor\ndevices=");
	for (int i = 0; i < 16; i++)
		n += (size_t)sprintf(text + n,
		                     "%siscsi://host-%d.example.com/iqn.2026-01.io.prkit:t/%d,"
		                     "iscsi://host-%d.example.net/iqn.2026-01.io.prkit:t/%d",
		                     i ? " " : "", i, i, i, i);
	strcpy(text + n, "\n");
	assert_int_equal(stdin_text(text), 0);
	assert_int_equal(O.n_devices, 16);
	assert_int_equal(O.devices[15].n_paths, 2);
	free(text);
}

static void usage_lists_options(void **state)
{
	static const char *const names[] = {
	    "--action",     "--devices",    "--nodename",     "--plug",     "--nodeid",
	    "--host-map",   "--local-node", "--cluster-name", "--key-mode", "--first",
	    "--members",    "--initiator",  "--state-dir",    "--retry",    "--retry-sleep",
	    "--timeout",    "--verbose",    "--help",         "--version",  "list-status",
	    "validate-all", "check",
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	prk_fence_usage(f);
	fclose(f);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strstr(buf, names[i]))
			fail_msg("usage lacks %s", names[i]);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults),
	    cmocka_unit_test(action_names),
	    cmocka_unit_test(actions_from_argv),
	    cmocka_unit_test(no_action_means_stdin),
	    cmocka_unit_test(argv_then_stdin),
	    cmocka_unit_test(all_flags),
	    cmocka_unit_test(underscore_and_alias_spellings),
	    cmocka_unit_test(argv_errors),
	    cmocka_unit_test(numbers),
	    cmocka_unit_test(names_and_modes),
	    cmocka_unit_test(devices_syntax),
	    cmocka_unit_test(devices_errors),
	    cmocka_unit_test(devices_shared_url_checks),
	    cmocka_unit_test(devices_required),
	    cmocka_unit_test(host_map_syntax),
	    cmocka_unit_test(node_id_resolution),
	    cmocka_unit_test(victim),
	    cmocka_unit_test(no_self_fencing),
	    cmocka_unit_test(local_id),
	    cmocka_unit_test(on_must_be_this_node),
	    cmocka_unit_test(first_and_members),
	    cmocka_unit_test(stdin_basic),
	    cmocka_unit_test(stdin_pacemaker_style),
	    cmocka_unit_test(stdin_booleans),
	    cmocka_unit_test(stdin_errors),
	    cmocka_unit_test(stdin_nul_byte),
	    cmocka_unit_test(stdin_long_line),
	    cmocka_unit_test(usage_lists_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
