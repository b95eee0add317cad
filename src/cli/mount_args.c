/* `prkit mount`: command-line parsing (see mount_args.h and docs/mount.md).
 * The conventions are prkit io's (io_opts.c): keys in hex, errors that
 * name the option and the value; values are bounded as in the
 * configuration file (mnt_config.c). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_urls.h"
#include "decimal.h"
#include "errfmt.h"
#include "hexdigit.h"
#include "mount_args.h"
#include "prkit/iscsi_url.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_tid.h"

/* The configuration file's bounds (mnt_config.c): ten minutes is a typo. */
#define MS_MAX 600000u

void prk_mount_usage(FILE *f)
{
	fprintf(f,
	        "usage: prkit mount [options] --key HEX MOUNTPOINT iscsi://HOST[:PORT]/IQN/LUN "
	        "[URL...]\n"
	        "       prkit mount -c FILE [options] [MOUNTPOINT]\n"
	        "       prkit mount status [--json] MOUNTPOINT\n"
	        "  The multipath device appears as MOUNTPOINT/NAME, a file of the LU's size;\n"
	        "  open(2) of NAME runs the device's open mode, of NAME.MODE that mode\n"
	        "  (default, forced, retain, no-reserve, single, cluster).\n"
	        "  -c, --config FILE      the devices (JSON, docs/mount.md); options override it\n"
	        "  -k, --key HEX          reservation key (required without -c)\n"
	        "  -m, --mode MODE        what open(2) of NAME runs (default)\n"
	        "  -n, --name NAME        the device's file name (lu)\n"
	        "      --type N           reservation type 1, 3, 5, 6, 7 or 8 (6)\n"
	        "      --aptpl            register with APTPL (persist through power loss)\n"
	        "      --discover         the paths are every portal the target lists\n"
	        "      --initiator NAME   initiator IQN ($%s, else %s<hostname>)\n"
	        "      --state-dir DIR    host state directory (ISIDs, locks)\n"
	        "      --ctl PATH         control socket path (<state dir>/ctl/<pid>.sock)\n"
	        "      --no-ctl           no control socket (prkit fence cannot stall the mount)\n"
	        "      --allow-other      other users may open the files (FUSE allow_other)\n"
	        "      --open-timeout MS  how long open(2) and the start wait for paths (10000)\n"
	        "      --io-timeout MS    command timeout before ABORT TASK (10000)\n"
	        "      --no-path-timeout MS  how long I/O waits for a path, then EIO (15000)\n"
	        "      --fenced-hold MS   hold I/O that meets RESERVATION CONFLICT up to MS\n"
	        "                         for a new registration (0: EBADE at once)\n"
	        "  -v, --verbose          also the host library's messages\n"
	        "  -q, --quiet            only errors and the \"mounted\" line\n"
	        "      --json             status: the document as JSON\n"
	        "Exit: 0 unmounted cleanly, 1 failed while mounted, 2 could not start or bad\n"
	        "usage; status: 0, 1 cannot read MOUNTPOINT/%s.\n",
	        PRK_HOST_INITIATOR_ENV, PRK_HOST_INITIATOR_PREFIX, PRK_MNT_STATUS_NAME);
}

enum {
	OPT_TYPE = 256,
	OPT_APTPL,
	OPT_DISCOVER,
	OPT_INITIATOR,
	OPT_STATE_DIR,
	OPT_CTL,
	OPT_NO_CTL,
	OPT_ALLOW_OTHER,
	OPT_OPEN_TIMEOUT,
	OPT_IO_TIMEOUT,
	OPT_NO_PATH_TIMEOUT,
	OPT_FENCED_HOLD,
	OPT_JSON
};

static const struct option lopts[] = {
    {"config", required_argument, NULL, 'c'},
    {"key", required_argument, NULL, 'k'},
    {"mode", required_argument, NULL, 'm'},
    {"name", required_argument, NULL, 'n'},
    {"type", required_argument, NULL, OPT_TYPE},
    {"aptpl", no_argument, NULL, OPT_APTPL},
    {"discover", no_argument, NULL, OPT_DISCOVER},
    {"initiator", required_argument, NULL, OPT_INITIATOR},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"ctl", required_argument, NULL, OPT_CTL},
    {"no-ctl", no_argument, NULL, OPT_NO_CTL},
    {"allow-other", no_argument, NULL, OPT_ALLOW_OTHER},
    {"open-timeout", required_argument, NULL, OPT_OPEN_TIMEOUT},
    {"io-timeout", required_argument, NULL, OPT_IO_TIMEOUT},
    {"no-path-timeout", required_argument, NULL, OPT_NO_PATH_TIMEOUT},
    {"fenced-hold", required_argument, NULL, OPT_FENCED_HOLD},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *opt_name(int c)
{
	for (const struct option *l = lopts; l->name; l++)
		if (l->val == c)
			return l->name;
	return "?";
}

static int parse_ms(const char *s, uint64_t lo, uint64_t hi, unsigned *out)
{
	uint64_t v;
	if (!prk_parse_dec(s, hi, &v) || v < lo)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static const char *wanted(int c)
{
	switch (c) {
	case 'k':
		return "a non-zero hexadecimal key of at most 16 digits";
	case 'm':
		return "one of default, forced, retain, no-reserve, single, cluster";
	case 'n':
		return "a name of 1 to 63 letters, digits, '_' or '-'";
	case OPT_TYPE:
		return "one of 1, 3, 5, 6, 7, 8";
	case OPT_INITIATOR:
		return "a valid iSCSI name (iqn. or eui. or naa.)";
	case OPT_STATE_DIR:
		return "a directory path of at most 511 bytes";
	case OPT_CTL:
		return "a path of at most 107 bytes";
	case 'c':
		return "a file path";
	case OPT_OPEN_TIMEOUT:
	case OPT_IO_TIMEOUT:
	case OPT_NO_PATH_TIMEOUT:
		return "milliseconds from 100 to 600000";
	case OPT_FENCED_HOLD:
		return "milliseconds from 0 to 600000";
	}
	return "a valid value";
}

static int one_option(int c, const char *v, struct prk_mount_args *a)
{
	uint64_t t;
	switch (c) {
	case 'c':
		a->config = v;
		return *v ? 0 : -1;
	case 'k':
		a->key_set = true;
		return prk_parse_key_hex(v, &a->key) ? 0 : -1;
	case 'm':
		a->mode_set = true;
		return prk_open_mode_parse(v, &a->mode);
	case 'n':
		a->name_set = true;
		a->name = v;
		return prk_mnt_name_valid(v) ? 0 : -1;
	case OPT_TYPE:
		a->type_set = true;
		if (!prk_parse_dec(v, 8, &t) || !prk_pr_type_valid((uint8_t)t))
			return -1;
		a->type = (uint8_t)t;
		return 0;
	case OPT_APTPL:
		a->aptpl = true;
		return 0;
	case OPT_DISCOVER:
		a->discover = true;
		return 0;
	case OPT_INITIATOR:
		a->initiator_set = true;
		a->initiator = v;
		return prk_iscsi_name_valid(v) && prk_iscsi_name_has_type(v) &&
		               strlen(v) <= PRK_ISCSI_NAME_MAX
		           ? 0
		           : -1;
	case OPT_STATE_DIR:
		a->state_dir_set = true;
		a->state_dir = v;
		return *v && strlen(v) < sizeof(((struct prk_mnt_config *)0)->state_dir) ? 0 : -1;
	case OPT_CTL:
		a->ctl_set = true;
		a->ctl = v;
		return *v && strlen(v) < 108 ? 0 : -1;
	case OPT_NO_CTL:
		a->no_ctl = true;
		return 0;
	case OPT_ALLOW_OTHER:
		a->allow_other = true;
		return 0;
	case OPT_OPEN_TIMEOUT:
		a->open_timeout_set = true;
		return parse_ms(v, 100, MS_MAX, &a->open_timeout_ms);
	case OPT_IO_TIMEOUT:
		a->io_timeout_set = true;
		return parse_ms(v, 100, MS_MAX, &a->io_timeout_ms);
	case OPT_NO_PATH_TIMEOUT:
		a->no_path_timeout_set = true;
		return parse_ms(v, 100, MS_MAX, &a->no_path_timeout_ms);
	case OPT_FENCED_HOLD:
		a->fenced_hold_set = true;
		return parse_ms(v, 0, MS_MAX, &a->fenced_hold_ms);
	case 'v':
		a->log_set = true;
		a->log_level = 2;
		return 0;
	case 'q':
		a->log_set = true;
		a->log_level = 0;
		return 0;
	case OPT_JSON:
		a->json = true;
		return 0;
	}
	return -1;
}

static int positional(int argc, char **argv, struct prk_mount_args *a, char *err, size_t cap)
{
	int i = optind;
	if (a->cmd == PRK_MOUNT_STATUS) {
		if (argc - i != 1)
			return prk_errf(err, cap, "status: give one MOUNTPOINT");
		a->mountpoint = argv[i];
		return 0;
	}
	if (i < argc)
		a->mountpoint = argv[i++];
	if (a->config) {
		if (i < argc)
			return prk_errf(err, cap,
			                "'%s': with -c the URLs come from the configuration file",
			                argv[i]);
		return 0;
	}
	if (!a->mountpoint)
		return prk_errf(err, cap, "MOUNTPOINT: give the directory to mount on");
	if (prk_cli_take_urls(argc, argv, i, a->discover, a->urls, PRK_MPDEV_MAX_PATHS, &a->n_urls,
	                      err, cap))
		return -1;
	if (!a->key_set)
		return prk_errf(err, cap,
		                "--key: a reservation key is required (it is registered on every "
		                "path)");
	return 0;
}

static int check_combination(const struct prk_mount_args *a, char *err, size_t cap)
{
	if (a->no_ctl && a->ctl_set)
		return prk_errf(err, cap, "--ctl: cannot be given with --no-ctl");
	if (a->cmd == PRK_MOUNT_STATUS) {
		if (a->config || a->key_set || a->mode_set || a->name_set || a->type_set ||
		    a->aptpl || a->discover || a->initiator_set || a->state_dir_set || a->ctl_set ||
		    a->no_ctl || a->allow_other || a->open_timeout_set || a->io_timeout_set ||
		    a->no_path_timeout_set || a->fenced_hold_set)
			return prk_errf(err, cap, "status: only --json and MOUNTPOINT");
		return 0;
	}
	if (a->json)
		return prk_errf(err, cap, "--json: only for prkit mount status");
	if (a->config && (a->name_set || a->discover))
		return prk_errf(err, cap, "--%s: the configuration file names the devices",
		                a->name_set ? "name" : "discover");
	return 0;
}

int prk_mount_args_parse(int argc, char **argv, struct prk_mount_args *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	err[0] = 0;
	if (argc >= 2 && strcmp(argv[1], "status") == 0) {
		a->cmd = PRK_MOUNT_STATUS;
		argc--;
		argv++;
	}
	optind = 0; /* glibc: a full re-initialisation */
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "c:k:m:n:vqh", lopts, NULL)) != -1) {
		if (c == 'h') {
			a->help = true;
			return 0;
		}
		if (c == '?' || c == ':') {
			if (optopt && strcmp(opt_name(optopt), "?"))
				return prk_errf(err, errlen, "--%s: needs a value",
				                opt_name(optopt));
			return prk_errf(err, errlen, "%s: unknown option", argv[optind - 1]);
		}
		if (one_option(c, optarg, a))
			return prk_errf(err, errlen, "--%s: '%s' is not %s", opt_name(c),
			                optarg ? optarg : "", wanted(c));
	}
	if (check_combination(a, err, errlen))
		return -1;
	return positional(argc, argv, a, err, errlen);
}

static void apply_dev(const struct prk_mount_args *a, struct prk_mnt_dev_config *d)
{
	if (a->key_set)
		d->key = a->key;
	if (a->mode_set)
		d->mode = a->mode;
	if (a->type_set)
		d->type = a->type;
	if (a->aptpl)
		d->aptpl = true;
	if (a->io_timeout_set)
		d->io_timeout_ms = a->io_timeout_ms;
	if (a->no_path_timeout_set)
		d->no_path_timeout_ms = a->no_path_timeout_ms;
	if (a->fenced_hold_set)
		d->fenced_hold_ms = a->fenced_hold_ms;
}

static int copy_str(char *dst, size_t cap, const char *src, const char *what, char *err,
                    size_t errlen)
{
	if (strlen(src) >= cap)
		return prk_errf(err, errlen, "%s: '%s' is longer than %zu bytes", what, src,
		                cap - 1);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int prk_mount_args_apply(const struct prk_mount_args *a, struct prk_mnt_config *c, char *err,
                         size_t errlen)
{
	if (a->mountpoint && copy_str(c->mountpoint, sizeof(c->mountpoint), a->mountpoint,
	                              "MOUNTPOINT", err, errlen))
		return -1;
	if (a->initiator_set &&
	    copy_str(c->initiator, sizeof(c->initiator), a->initiator, "--initiator", err, errlen))
		return -1;
	if (a->state_dir_set &&
	    copy_str(c->state_dir, sizeof(c->state_dir), a->state_dir, "--state-dir", err, errlen))
		return -1;
	if (a->ctl_set && copy_str(c->ctl_path, sizeof(c->ctl_path), a->ctl, "--ctl", err, errlen))
		return -1;
	if (a->ctl_set)
		c->no_ctl = false;
	if (a->no_ctl) {
		c->no_ctl = true;
		c->ctl_path[0] = 0;
	}
	if (a->allow_other)
		c->allow_other = true;
	if (a->log_set)
		c->log_level = a->log_level;
	if (a->open_timeout_set)
		c->open_timeout_ms = a->open_timeout_ms;
	if (!a->config) {
		struct prk_mnt_dev_config *d = &c->devs[0];
		memset(d, 0, sizeof(*d));
		if (copy_str(d->name, sizeof(d->name), a->name_set ? a->name : "lu", "--name", err,
		             errlen))
			return -1;
		for (size_t i = 0; i < a->n_urls; i++)
			if (copy_str(d->urls[i], sizeof(d->urls[i]), a->urls[i], "URL", err,
			             errlen))
				return -1;
		d->n_urls = a->n_urls;
		d->discover = a->discover;
		d->mode = PRK_OPEN_DEFAULT;
		c->n_devs = 1;
	}
	for (size_t i = 0; i < c->n_devs; i++)
		apply_dev(a, &c->devs[i]);
	return 0;
}
