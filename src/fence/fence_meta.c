/* The fence-agents style metadata of fence_prkit. */
#include "fence_meta.h"

#include <stdbool.h>
#include <stddef.h>

#include "fence_opts.h"

struct param {
	const char *name;
	const char *getopt; /* the command-line spelling */
	const char *type;   /* string, boolean, integer, second, select */
	const char *def;    /* NULL: no default attribute */
	bool required;
	const char *shortdesc;
	const char *const *options; /* select: the values, NULL-terminated */
};

#define STR_(x) #x
#define STR(x) STR_(x)

static const char *const key_modes[] = {"node", "cluster", NULL};

/* No "nodeid" parameter on purpose: pacemaker-fenced passes
 * nodeid=<the target's corosync node id> to agents whose metadata lists
 * one, and our nodeid means this node (see docs/fence.md). */

static const struct param params[] = {
    {"action", "-o, --action=[action]", "string", "off", true,
     "Fencing action: on (unfence this node), off (fence the node), status, list, monitor, "
     "metadata, validate-all; reboot is done as off",
     NULL},
    {"devices", "-d, --devices=[devices]", "string", NULL, true,
     "The shared LUs: devices separated by spaces, each device the comma-separated iscsi:// "
     "URLs of its paths (iscsi://portal[:port]/target-iqn/lun)",
     NULL},
    {"nodename", "-n, --nodename=[nodename]", "string", NULL, false,
     "The node to fence (off, status) or to unfence (on, which runs on that node); a name in "
     "host_map or a node id",
     NULL},
    {"plug", "--plug=[plug]", "string", NULL, false,
     "The same node as nodename, as mapped by pcmk_host_map (for example its node id); wins "
     "over nodename",
     NULL},
    {"host_map", "--host-map=[name:id,...]", "string", NULL, false,
     "Node names to node ids 1..65535: name:id entries separated by commas, semicolons or "
     "spaces. Names that are numbers need no entry",
     NULL},
    {"local_node", "--local-node=[name]", "string", NULL, false,
     "This node's name, looked up in host_map (default: the host name)", NULL},
    {"cluster_name", "--cluster-name=[name]", "string", PRK_FENCE_DEFAULT_CLUSTER, false,
     "The cluster's name; its hash is the top 16 bits of every key", NULL},
    {"key_mode", "--key-mode=[node|cluster]", "select", "node", false,
     "node: one key per node (cluster tag, node id, incarnation); cluster: one key shared by "
     "the members (cluster tag, opener, membership generation)",
     key_modes},
    {"first", "--first", "boolean", "0", false,
     "on: this node is the first member; remove the keys of nodes that are not in members", NULL},
    {"members", "--members=[name,...]", "string", NULL, false,
     "The current members (names or node ids), for first", NULL},
    {"initiator", "--initiator=[iqn]", "string", NULL, false,
     "This node's iSCSI initiator name (default: $PRKIT_INITIATOR_NAME, else one made from the "
     "host name)",
     NULL},
    {"state_dir", "--state-dir=[dir]", "string", NULL, false,
     "Where the incarnation counters and the ISIDs of the paths are kept (default: "
     "$PRKIT_STATE_DIR, else /var/lib/prkit)",
     NULL},
    {"retry", "--retry=[count]", "integer", STR(PRK_FENCE_DEFAULT_RETRY), false,
     "check: how many more times READ KEYS is tried before the key counts as gone", NULL},
    {"retry_sleep", "--retry-sleep=[seconds]", "second", STR(PRK_FENCE_DEFAULT_RETRY_SLEEP), false,
     "check: seconds between the tries", NULL},
    {"verbose", "-v, --verbose", "boolean", NULL, false, "Verbose mode", NULL},
    {"timeout", "--timeout=[seconds]", "second", STR(PRK_FENCE_DEFAULT_TIMEOUT), false,
     "Seconds one storage operation may take", NULL},
};

/* Text with the XML special characters escaped. */
static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

static const char longdesc[] =
    "fence_prkit is an I/O fencing agent for shared LUs reached over iSCSI, with SCSI-3 "
    "persistent reservations. It logs in itself (no kernel initiator, no dm-multipath): every "
    "device is a multipath device made of the iscsi:// paths given, each path with a fixed "
    "ISID, so a node's registration stays on the same I_T nexus across restarts.\n"
    "on (run by Pacemaker on the node itself, before resources start there) registers the "
    "node's key on every path of every device and takes a registrants-only "
    "reservation if nobody holds one. off removes the victim's key with PREEMPT AND ABORT, "
    "device by device in ascending order of their NAA identifier, and checks that it is gone. "
    "status reports whether the node's key is registered (exit 2 when not). The fenced node is "
    "not rebooted: pair the agent with a watchdog running the check action.\n"
    "Keys are 64 bits, printed CCCCNNNNIIIIIIII: C the cluster tag (FNV-1a hash of "
    "cluster_name folded to 16 bits, never 0), N the node id (1..65535, from host_map or a "
    "numeric name), I the incarnation (1..4294967295), which grows by one at every on and is "
    "kept on disk before the key is used, so a node that comes back never reuses the key it "
    "was fenced under. With key_mode=cluster every member registers one key C O G, G the "
    "membership generation and O the node that opened it; off opens the next generation and "
    "the other members rejoin it with on.";

void prk_fence_metadata(FILE *out)
{
	static const char *const other_actions[] = {
	    "off", "status", "list", "list-status", "monitor", "metadata", "validate-all",
	};

	fputs("<?xml version=\"1.0\" ?>\n", out);
	fputs("<resource-agent name=\"" PRK_FENCE_AGENT_NAME "\" shortdesc=\"", out);
	xml_text(out, "Fence agent for SCSI-3 persistent reservations over iSCSI (prkit)");
	fputs("\" >\n<longdesc>", out);
	xml_text(out, longdesc);
	fputs("</longdesc>\n<vendor-url></vendor-url>\n<parameters>\n", out);
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		const struct param *p = &params[i];

		fprintf(out, "\t<parameter name=\"%s\" unique=\"0\" required=\"%d\">\n", p->name,
		        p->required ? 1 : 0);
		fputs("\t\t<getopt mixed=\"", out);
		xml_text(out, p->getopt);
		fprintf(out, "\" />\n\t\t<content type=\"%s\"", p->type);
		if (p->def) {
			fputs(" default=\"", out);
			xml_text(out, p->def);
			fputc('"', out);
		}
		if (p->options) {
			fputs(" >\n", out);
			for (const char *const *v = p->options; *v; v++) {
				fputs("\t\t\t<option value=\"", out);
				xml_text(out, *v);
				fputs("\" />\n", out);
			}
			fputs("\t\t</content>\n", out);
		} else {
			fputs(" />\n", out);
		}
		fputs("\t\t<shortdesc lang=\"en\">", out);
		xml_text(out, p->shortdesc);
		fputs("</shortdesc>\n\t</parameter>\n", out);
	}
	fputs("</parameters>\n<actions>\n", out);
	fputs("\t<action name=\"on\" on_target=\"1\" automatic=\"1\"/>\n", out);
	for (size_t i = 0; i < sizeof(other_actions) / sizeof(other_actions[0]); i++)
		fprintf(out, "\t<action name=\"%s\" />\n", other_actions[i]);
	fputs("</actions>\n</resource-agent>\n", out);
}
