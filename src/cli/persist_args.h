/* `prkit persist`: the command line, in sg_persist's vocabulary (see
 * docs/persist.md, "Compatibility with sg_persist").
 *
 * prk_persist_parse() is pure apart from getopt_long's global state (it
 * resets optind itself and never prints): it fills a struct that says which
 * command to send, with which parameters, to which URLs. Sending is the
 * caller's job. */
#ifndef PRKIT_CLI_PERSIST_ARGS_H
#define PRKIT_CLI_PERSIST_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prkit/iscsi_url.h"
#include "prkit/scsi_tid.h"

#define PRK_PERSIST_MAX_URLS 8
#define PRK_PERSIST_MAX_TIDS 16
#define PRK_PERSIST_HOST_MAX PRK_ISCSI_URL_HOST_MAX
#define PRK_PERSIST_DEFAULT_PORT PRK_ISCSI_URL_DEFAULT_PORT
#define PRK_PERSIST_MAX_LUN PRK_ISCSI_URL_MAX_LUN
/* PR IN allocation length when neither --alloc-length nor --maxlen is
 * given: sg_persist's buffer size. */
#define PRK_PERSIST_DEFAULT_ALLOC_LEN 8192
/* Seconds per command when --timeout is not given (sg3_utils' default
 * pass-through timeout). */
#define PRK_PERSIST_DEFAULT_TIMEOUT 60
#define PRK_PERSIST_MAX_TIMEOUT 86400
/* Environment variable that names the initiator when --initiator is not
 * given, and the prefix of the name made up from the host name otherwise. */
#define PRK_PERSIST_INITIATOR_ENV "PRKIT_INITIATOR_NAME"
#define PRK_PERSIST_INITIATOR_PREFIX "iqn.2026-11.io.prkit:host-"

enum prk_persist_dir {
	PRK_PERSIST_IN = 0, /* PERSISTENT RESERVE IN (the default) */
	PRK_PERSIST_OUT = 1 /* PERSISTENT RESERVE OUT */
};

/* One iscsi://[user[%secret]@]host[:port]/target-iqn/lun argument. */
struct prk_persist_url {
	const char *text;                    /* the argument itself (points into argv) */
	char host[PRK_PERSIST_HOST_MAX + 1]; /* IPv6 addresses without brackets */
	uint16_t port;                       /* PRK_PERSIST_DEFAULT_PORT if absent */
	char target[PRK_ISCSI_NAME_MAX + 1];
	uint16_t lun;
	bool has_credentials; /* a user[%secret]@ part is present */
};

struct prk_persist_args {
	enum prk_persist_dir dir;
	uint8_t prin_sa;        /* enum prk_prin_sa; valid when dir == PRK_PERSIST_IN */
	bool prin_sa_defaulted; /* no service action was given: READ KEYS */
	uint8_t prout_sa;       /* enum prk_prout_sa; valid when dir == PRK_PERSIST_OUT */

	/* PR OUT parameters (ignored with PR IN, as sg_persist does). */
	uint64_t rk;   /* --param-rk */
	uint64_t sark; /* --param-sark */
	uint8_t type;  /* --prout-type; 0 when not given */
	bool type_given;
	bool aptpl;     /* --param-aptpl */
	bool all_tg_pt; /* --param-alltgpt */
	bool unreg;     /* --unreg (REGISTER AND MOVE) */
	uint16_t rtpi;  /* --relative-target-port (REGISTER AND MOVE) */
	bool rtpi_given;
	struct prk_tid tids[PRK_PERSIST_MAX_TIDS]; /* --transport-id, in order */
	size_t n_tids;

	/* PR IN */
	uint16_t alloc_len; /* --alloc-length / --maxlen; PRK_PERSIST_DEFAULT_ALLOC_LEN */

	/* Output and behaviour */
	bool no_inquiry;  /* --no-inquiry: skip the INQUIRY line */
	int hex;          /* --hex count */
	int verbose;      /* --verbose count */
	bool json;        /* --json (ours) */
	int readonly;     /* --readonly count: accepted, no effect over iSCSI */
	unsigned timeout; /* --timeout (ours), seconds; PRK_PERSIST_DEFAULT_TIMEOUT */
	/* --initiator (ours). Empty when not given: the caller fills it with
	 * prk_persist_default_initiator() before logging in. */
	char initiator[PRK_ISCSI_NAME_MAX + 1];
	bool initiator_given;

	struct prk_persist_url urls[PRK_PERSIST_MAX_URLS]; /* operands and --device */
	size_t n_urls;

	int help;     /* --help count (2: the longer usage); nothing else is checked */
	bool version; /* --version */
};

/* Exit statuses of the command-line checks (sg3_utils' values). */
#define PRK_PERSIST_EXIT_SYNTAX 1      /* bad option, bad value, missing URL */
#define PRK_PERSIST_EXIT_CONTRADICT 31 /* options that contradict each other */

/* Parses argv (argv[0] is "persist"). Returns 0 on success (check a->help
 * and a->version first), or PRK_PERSIST_EXIT_SYNTAX / _CONTRADICT with a
 * one-line message in err that names the option and the bad value. GNU
 * getopt may permute argv. */
int prk_persist_parse(int argc, char **argv, struct prk_persist_args *a, char *err, size_t errlen);

/* Parses one URL with prk_iscsi_url_parse(). Returns 0, or -1 with a
 * message (without the URL itself) in err. */
int prk_persist_url_parse(const char *s, struct prk_persist_url *u, char *err, size_t errlen);

/* Parses one --transport-id argument: "iqn...,i,0x<12 hex digits>" (an
 * initiator port, format 01b), "iqn..." (a whole initiator device, format
 * 00b; eui. and naa. names too) or sg_persist's list of hex bytes separated
 * by commas or single spaces (one whole iSCSI TransportID). Returns 0, or
 * -1 with a message in err. */
int prk_persist_tid_parse(const char *s, struct prk_tid *t, char *err, size_t errlen);

/* Usage text (help >= 2 adds the less used options and the TYPE codes). */
void prk_persist_usage(FILE *f, int help);

/* What sg_persist says on stderr before doing anything (today: the note
 * that READ KEYS was assumed). Prints nothing with --json. */
void prk_persist_print_notes(FILE *err, const struct prk_persist_args *a);

/* Not pure (getenv, gethostname): the initiator name to use when
 * --initiator was not given: $PRKIT_INITIATOR_NAME if set and valid, else
 * PRK_PERSIST_INITIATOR_PREFIX + the lower-cased host name (characters an
 * iSCSI name cannot hold become '-'). Returns 0, or -1 with a message in
 * err when the variable is set but is not a valid iSCSI name. */
int prk_persist_default_initiator(char *buf, size_t len, char *err, size_t errlen);

#endif
