/* mk_pr_record: writes an APTPL record file (the format prkitd restores from
 * its state_dir at start) holding many registrations, for benchmarks of the
 * PR access check under a large PR state.
 *
 * The state is built through the engine itself, by applying PR OUT commands
 * (encoded CDB + parameter list, prk_pr_out) from synthetic I_T nexuses:
 *
 *   - N REGISTERs from iqn.2026-11.io.prkit:reg-%06d (ISID 0x400000000000 + i,
 *     rtpi 1), key KEY_BASE + i;
 *   - the last of them (reg-(N-1)) also carries SPEC_I_PT with a format-00b
 *     TransportID naming --initiator: that registers every ISID of the load
 *     generator's name on rtpi 1 (iscsi_load picks random ISIDs per run), with
 *     the same key as reg-(N-1); it also sets APTPL=1;
 *   - with --type T (1, 3, 5, 6, 7, 8), reg-000000 then RESERVEs type T
 *     (0: no reservation).
 *
 * Usage: mk_pr_record -o PATH [-n N] [-i INITIATOR] [-t TYPE]
 *
 * PATH is the record file, "<state_dir>/<target, with characters outside
 * [A-Za-z0-9._-] replaced by _>-lun<N>.pr". Exits 0, 1 on a failed command or
 * write, 2 on a bad option. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prkit/pr.h"

#define KEY_BASE 0x5052000000000000ULL /* "PR" */
#define ISID_BASE 0x400000000000ULL

static void usage(FILE *f)
{
	fprintf(f, "usage: mk_pr_record -o PATH [options]\n"
	           "  -o, --out PATH        record file to write\n"
	           "  -n, --count N         synthetic registrations, >= 1 (1000)\n"
	           "  -i, --initiator NAME  also registered, any ISID, via SPEC_I_PT\n"
	           "                        (iqn.2026-11.io.prkit:bench-load)\n"
	           "  -t, --type T          reservation held by reg-000000: 0 (none), 1, 3,\n"
	           "                        5, 6, 7, 8 (0)\n");
}

static int run_prout(struct prk_pr_state *st, const struct prk_nexus *nx, uint8_t sa, uint8_t type,
                     const uint8_t *params, size_t plen)
{
	struct prk_prout_cdb c = {
	    .sa = sa, .scope = PRK_PR_SCOPE_LU, .type = type, .param_len = (uint32_t)plen};
	uint8_t cdb[10];
	prk_prout_cdb_encode(&c, cdb);
	struct prk_pr_result res;
	prk_pr_result_init(&res);
	int rc = prk_pr_out(st, nx, cdb, sizeof(cdb), params, plen, &res);
	if (rc) {
		fprintf(
		    stderr, "mk_pr_record: PR OUT %s from %s isid %#" PRIx64 ": status %#x (%s)\n",
		    prk_prout_sa_name(sa), nx->name, nx->isid, res.status, res.why ? res.why : "?");
	}
	prk_pr_result_free(&res);
	return rc ? -1 : 0;
}

static int write_file(const char *path, const uint8_t *buf, size_t len)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		fprintf(stderr, "mk_pr_record: %s: path too long\n", path);
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "mk_pr_record: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "mk_pr_record: %s: %s\n", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)n;
	}
	if (fsync(fd) || close(fd) || rename(tmp, path)) {
		fprintf(stderr, "mk_pr_record: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	const char *initiator = "iqn.2026-11.io.prkit:bench-load";
	unsigned long count = 1000;
	unsigned long type = 0;
	static const struct option lopts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"count", required_argument, NULL, 'n'},
	    {"initiator", required_argument, NULL, 'i'},
	    {"type", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "o:n:i:t:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'n':
			errno = 0;
			count = strtoul(optarg, &end, 10);
			if (errno || *end || count < 1 || count > PRK_PR_DEFAULT_MAX_REGS - 1) {
				fprintf(stderr, "mk_pr_record: --count: 1..%d\n",
				        PRK_PR_DEFAULT_MAX_REGS - 1);
				return 2;
			}
			break;
		case 'i':
			initiator = optarg;
			break;
		case 't':
			errno = 0;
			type = strtoul(optarg, &end, 10);
			if (errno || *end || (type != 0 && !prk_pr_type_valid((uint8_t)type)) ||
			    type > 8) {
				fprintf(stderr, "mk_pr_record: --type: 0, 1, 3, 5, 6, 7 or 8\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!out || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!prk_iscsi_name_valid(initiator)) {
		fprintf(stderr, "mk_pr_record: --initiator: not a valid iSCSI name\n");
		return 2;
	}

	struct prk_pr_state *st = prk_pr_state_new(NULL);
	if (!st) {
		fprintf(stderr, "mk_pr_record: out of memory\n");
		return 1;
	}
	int rc = 1;
	uint8_t params[PRK_PROUT_SPEC_I_PT_HDR_LEN + PRK_TID_MAX_LEN];
	struct prk_tid tid = {.format = PRK_TID_FMT_DEVICE};
	snprintf(tid.name, sizeof(tid.name), "%s", initiator);

	struct prk_nexus first;
	for (unsigned long i = 0; i < count; i++) {
		char name[64];
		snprintf(name, sizeof(name), "iqn.2026-11.io.prkit:reg-%06lu", i);
		struct prk_nexus nx;
		if (prk_nexus_init(&nx, name, ISID_BASE + i, 1)) {
			fprintf(stderr, "mk_pr_record: bad nexus %s\n", name);
			goto out;
		}
		if (i == 0)
			first = nx;
		bool last = i == count - 1;
		size_t plen =
		    prk_prout_params_encode_basic(0, KEY_BASE + i, false, last, last ? &tid : NULL,
		                                  last ? 1 : 0, params, sizeof(params));
		if (plen == 0 || plen > sizeof(params)) {
			fprintf(stderr, "mk_pr_record: cannot encode the parameter list\n");
			goto out;
		}
		if (run_prout(st, &nx, PRK_PROUT_REGISTER, 0, params, plen))
			goto out;
	}
	if (type) {
		size_t plen = prk_prout_params_encode_basic(KEY_BASE, 0, false, true, NULL, 0,
		                                            params, sizeof(params));
		if (run_prout(st, &first, PRK_PROUT_RESERVE, (uint8_t)type, params, plen))
			goto out;
	}

	/* The load generator must be covered, whatever ISID it picks. */
	struct prk_nexus probe;
	if (prk_nexus_init(&probe, initiator, 0x23d012345678ULL, 1) ||
	    prk_pr_find(st, &probe) < 0) {
		fprintf(stderr, "mk_pr_record: %s is not registered (engine refused the TID?)\n",
		        initiator);
		goto out;
	}

	uint8_t *rec = NULL;
	size_t len = prk_pr_record_encode(st, &rec);
	if (len == 0) {
		fprintf(stderr, "mk_pr_record: cannot encode the record\n");
		goto out;
	}
	if (write_file(out, rec, len) == 0) {
		printf("%s: %zu registrations, APTPL %d, reservation %s, %zu bytes\n", out,
		       prk_pr_reg_count(st), prk_pr_aptpl(st),
		       type ? prk_pr_type_name((uint8_t)type) : "none", len);
		rc = 0;
	}
	free(rec);
out:
	prk_pr_state_free(st);
	return rc;
}
