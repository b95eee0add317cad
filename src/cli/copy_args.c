/* `prkit copy`: the command line. Values are read with `prkit persist`'s
 * readers (URLs, keys, TransportIDs, numbers) so that both commands take
 * the same spellings. */
#include "copy_args.h"

#include <getopt.h>
#include <string.h>

#include "persist_values.h"
#include "prkit/scsi_xcopy.h"

enum {
	OPT_SRC_LBA = 0x100,
	OPT_DST_LBA,
	OPT_BLOCKS,
	OPT_HOST_COPY,
	OPT_THIRD_PARTY,
	OPT_CM_KEY,
	OPT_CM_TID,
	OPT_CM_RTPI,
	OPT_KEEP,
	OPT_LIST_ID,
	OPT_SEG_BLOCKS,
	OPT_SEGS_PER_CMD,
	OPT_TIMEOUT,
	OPT_JSON,
	OPT_INITIATOR,
};

static const struct option longs[] = {
    {"src-lba", required_argument, NULL, OPT_SRC_LBA},
    {"dst-lba", required_argument, NULL, OPT_DST_LBA},
    {"blocks", required_argument, NULL, OPT_BLOCKS},
    {"host-copy", no_argument, NULL, OPT_HOST_COPY},
    {"third-party", required_argument, NULL, OPT_THIRD_PARTY},
    {"cm-key", required_argument, NULL, OPT_CM_KEY},
    {"cm-transport-id", required_argument, NULL, OPT_CM_TID},
    {"cm-rtpi", required_argument, NULL, OPT_CM_RTPI},
    {"keep", no_argument, NULL, OPT_KEEP},
    {"list-id", required_argument, NULL, OPT_LIST_ID},
    {"segment-blocks", required_argument, NULL, OPT_SEG_BLOCKS},
    {"segments-per-command", required_argument, NULL, OPT_SEGS_PER_CMD},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"json", no_argument, NULL, OPT_JSON},
    {"initiator", required_argument, NULL, OPT_INITIATOR},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

uint64_t prk_copy_default_cm_key(uint64_t key)
{
	uint64_t k = key ^ PRK_COPY_CM_KEY_XOR;
	return k ? k : 1;
}

/* A number (sg3_utils' spelling: decimal, 0x.. or ..h) in lo..hi. */
static int num(const char *name, const char *v, uint64_t lo, uint64_t hi, uint64_t *out, char *err,
               size_t errlen)
{
	if (!prk_persist_parse_num(v, hi, out) || *out < lo)
		return prk_errf(err, errlen, "--%s '%s': not a number from %llu to %llu", name, v,
		                (unsigned long long)lo, (unsigned long long)hi);
	return 0;
}

/* A reservation key: hex, not 0 (0 is no key in PR OUT). */
static int key(const char *name, const char *v, uint64_t *out, char *err, size_t errlen)
{
	if (!prk_persist_parse_hex(v, UINT64_MAX, out) || !*out)
		return prk_errf(
		    err, errlen,
		    "--%s '%s': not a reservation key (1 to 16 hex digits, 0x optional, "
		    "not 0)",
		    name, v);
	return 0;
}

static int option(struct prk_copy_args *a, int c, const char *v, char *err, size_t errlen)
{
	uint64_t n;
	switch (c) {
	case OPT_SRC_LBA:
		return num("src-lba", v, 0, UINT64_MAX, &a->src_lba, err, errlen);
	case OPT_DST_LBA:
		return num("dst-lba", v, 0, UINT64_MAX, &a->dst_lba, err, errlen);
	case OPT_BLOCKS:
		a->blocks_given = true;
		return num("blocks", v, 1, UINT64_MAX, &a->blocks, err, errlen);
	case OPT_HOST_COPY:
		a->host_copy = true;
		return 0;
	case OPT_THIRD_PARTY:
		a->third_party = true;
		return key("third-party", v, &a->key, err, errlen);
	case OPT_CM_KEY:
		a->cm_key_given = true;
		return key("cm-key", v, &a->cm_key, err, errlen);
	case OPT_CM_TID: {
		char m[256];
		if (prk_persist_tid_parse(v, &a->cm_tid, m, sizeof(m)))
			return prk_errf(err, errlen, "--cm-transport-id '%s': %s", v, m);
		if (a->cm_tid.format != PRK_TID_FMT_PORT)
			return prk_errf(err, errlen,
			                "--cm-transport-id '%s': give an initiator port "
			                "(NAME,i,0xISID): REGISTER AND MOVE moves to one I_T nexus",
			                v);
		a->cm_tid_given = true;
		return 0;
	}
	case OPT_CM_RTPI:
		if (num("cm-rtpi", v, 1, 0xffff, &n, err, errlen))
			return -1;
		a->cm_rtpi = (uint16_t)n;
		a->cm_rtpi_given = true;
		return 0;
	case OPT_KEEP:
		a->keep = true;
		return 0;
	case OPT_LIST_ID:
		if (num("list-id", v, 0, 255, &n, err, errlen))
			return -1;
		a->list_id = (uint8_t)n;
		return 0;
	case OPT_SEG_BLOCKS:
		if (num("segment-blocks", v, 1, PRK_COPY_MAX_SEG_BLOCKS, &n, err, errlen))
			return -1;
		a->seg_blocks = (uint32_t)n;
		return 0;
	case OPT_SEGS_PER_CMD:
		if (num("segments-per-command", v, 1, PRK_XCOPY_MAX_SEG, &n, err, errlen))
			return -1;
		a->segs_per_cmd = (uint16_t)n;
		return 0;
	case OPT_TIMEOUT:
		if (num("timeout", v, 1, PRK_COPY_MAX_TIMEOUT, &n, err, errlen))
			return -1;
		a->timeout = (unsigned)n;
		return 0;
	case OPT_JSON:
		a->json = true;
		return 0;
	case OPT_INITIATOR:
		if (!prk_iscsi_name_valid(v))
			return prk_errf(err, errlen, "--initiator '%s': not a valid iSCSI name", v);
		snprintf(a->initiator, sizeof(a->initiator), "%s", v);
		a->initiator_given = true;
		return 0;
	case 'v':
		a->verbose++;
		return 0;
	case 'h':
		a->help = true;
		return 0;
	case 'V':
		a->version = true;
		return 0;
	}
	return -1;
}

/* Options that make no sense together or alone (sg3_utils: 31). */
static int contradictions(const struct prk_copy_args *a, char *err, size_t errlen)
{
	if (a->host_copy && a->third_party)
		return prk_errf(err, errlen,
		                "--host-copy and --third-party: a host copy needs no copy manager");
	if (!a->third_party) {
		const char *o = a->cm_key_given    ? "--cm-key"
		                : a->cm_tid_given  ? "--cm-transport-id"
		                : a->cm_rtpi_given ? "--cm-rtpi"
		                : a->keep          ? "--keep"
		                                   : NULL;
		if (o)
			return prk_errf(err, errlen, "%s is for --third-party only", o);
	}
	if (a->cm_tid_given != a->cm_rtpi_given)
		return prk_errf(err, errlen,
		                "--cm-transport-id and --cm-rtpi go together (the copy manager's "
		                "I_T nexus is both)");
	if (a->third_party && a->cm_key == a->key)
		return prk_errf(err, errlen,
		                "--cm-key must differ from the --third-party key (the copy "
		                "manager's registration is its own)");
	if (a->host_copy && (a->seg_blocks || a->segs_per_cmd))
		return prk_errf(err, errlen, "--%s is for the offload (not --host-copy)",
		                a->seg_blocks ? "segment-blocks" : "segments-per-command");
	return 0;
}

int prk_copy_parse(int argc, char **argv, struct prk_copy_args *a, char *err, size_t errlen)
{
	*a = (struct prk_copy_args){.list_id = PRK_COPY_DEFAULT_LIST_ID,
	                            .timeout = PRK_COPY_DEFAULT_TIMEOUT};
	if (errlen)
		err[0] = 0;
	optind = 0; /* glibc: 0 re-initialises getopt */
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "vhV", longs, NULL)) != -1) {
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			if (optopt && c == '?')
				return prk_errf(err, errlen, "unknown option '-%c'", optopt),
				       PRK_PERSIST_EXIT_SYNTAX;
			return prk_errf(err, errlen, "'%s': unknown option or missing value", bad),
			       PRK_PERSIST_EXIT_SYNTAX;
		}
		if (option(a, c, optarg, err, errlen))
			return PRK_PERSIST_EXIT_SYNTAX;
	}
	if (a->help || a->version)
		return 0;
	if (a->third_party && !a->cm_key_given)
		a->cm_key = prk_copy_default_cm_key(a->key);
	int n = argc - optind;
	if (n != 2)
		return prk_errf(err, errlen,
		                "give SRC and DST (two iscsi:// URLs), not %d operand%s", n,
		                n == 1 ? "" : "s"),
		       PRK_PERSIST_EXIT_SYNTAX;
	char m[256];
	if (prk_persist_url_parse(argv[optind], &a->src, m, sizeof(m)))
		return prk_errf(err, errlen, "SRC '%s': %s", argv[optind], m),
		       PRK_PERSIST_EXIT_SYNTAX;
	if (prk_persist_url_parse(argv[optind + 1], &a->dst, m, sizeof(m)))
		return prk_errf(err, errlen, "DST '%s': %s", argv[optind + 1], m),
		       PRK_PERSIST_EXIT_SYNTAX;
	/* The copy manager of the target that receives the command copies:
	 * both LUs must be behind it. */
	if (!a->host_copy && (!prk_iscsi_name_eq(a->src.target, a->dst.target) ||
	                      strcmp(a->src.host, a->dst.host) || a->src.port != a->dst.port))
		return prk_errf(err, errlen,
		                "SRC and DST must be LUs of one target through one portal for the "
		                "offload (the target's copy manager copies); --host-copy copies "
		                "between any two"),
		       PRK_PERSIST_EXIT_CONTRADICT;
	if (contradictions(a, err, errlen))
		return PRK_PERSIST_EXIT_CONTRADICT;
	return 0;
}

void prk_copy_usage(FILE *f)
{
	fprintf(f,
	        "usage: prkit copy [options] SRC DST\n"
	        "  SRC, DST: iscsi://[user[%%secret]@]host[:port]/target-iqn/lun\n"
	        "  Copies SRC to DST with EXTENDED COPY: the target's copy manager moves the\n"
	        "  data, none of it crosses the network (docs/copy.md).\n"
	        "\n"
	        "  --src-lba N          first source block (default 0)\n"
	        "  --dst-lba N          first destination block (default 0)\n"
	        "  --blocks N           source blocks to copy (default: to the end of SRC)\n"
	        "  --host-copy          read SRC and write DST through iSCSI instead (the\n"
	        "                       fallback when offload fails; SRC and DST may be anywhere)\n"
	        "  --third-party KEY    SPC-4 Annex B.3: register KEY on DST, reserve it\n"
	        "                       (Exclusive Access), move the reservation to the copy\n"
	        "                       manager, copy with a 15h descriptor that moves it back,\n"
	        "                       verify it came back, then release and unregister\n"
	        "  --cm-key KEY         the copy manager's key (default KEY ^ 0x434d000000000000)\n"
	        "  --cm-transport-id T  the copy manager's initiator port NAME,i,0xISID and\n"
	        "  --cm-rtpi N          its relative target port (default: from DST's VPD 8Fh)\n"
	        "  --keep               leave KEY registered and the reservation held at the end\n"
	        "  --list-id N          LIST IDENTIFIER of the EXTENDED COPY commands (default 1)\n"
	        "  --segment-blocks N   at most N blocks per segment descriptor\n"
	        "  --segments-per-command N  at most N segment descriptors per command\n"
	        "  --timeout S          seconds per command (default 60; an EXTENDED COPY gets\n"
	        "                       S per segment it carries)\n"
	        "  --initiator NAME     our iSCSI name (default $PRKIT_INITIATOR_NAME, else\n"
	        "                       iqn.2026-11.io.prkit:host-<hostname>)\n"
	        "  --json               print the report as JSON\n"
	        "  -v, --verbose        progress and each step on stderr\n"
	        "  -h, --help           this text;  -V, --version\n"
	        "\n"
	        "Exit status as sg3_utils: 0 done, 1 syntax, 2 not ready, 5 illegal request,\n"
	        "6 unit attention, 10 copy aborted, 11 aborted command, 15 cannot open,\n"
	        "24 reservation conflict, 31 contradicting options, 33 timeout, 35 transport,\n"
	        "97 malformed response, 99 other (docs/copy.md).\n");
}
