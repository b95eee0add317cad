/* `prkit copy`: the command line (docs/copy.md).
 *
 * prk_copy_parse() is pure apart from getopt_long's global state (it
 * resets optind itself and never prints): it says what to copy, from
 * where to where, and how. The run is the caller's (copy.c). */
#ifndef PRKIT_CLI_COPY_ARGS_H
#define PRKIT_CLI_COPY_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "persist_args.h"
#include "prkit/scsi_tid.h"

/* Seconds each command may take when --timeout is not given. An EXTENDED
 * COPY command gets this much per segment descriptor it carries. */
#define PRK_COPY_DEFAULT_TIMEOUT 60
#define PRK_COPY_MAX_TIMEOUT 86400
/* The list identifier of our EXTENDED COPY commands unless --list-id. */
#define PRK_COPY_DEFAULT_LIST_ID 1
/* The largest NUMBER OF BLOCKS of a 02h segment descriptor (16 bits). */
#define PRK_COPY_MAX_SEG_BLOCKS 65535
/* XORed into KEY to make the copy manager's key when --cm-key is not
 * given: "CM" in the two high bytes, so that the two keys differ and the
 * copy manager's is recognisable in READ KEYS. */
#define PRK_COPY_CM_KEY_XOR 0x434d000000000000ULL

/* Exit statuses of the command-line checks (sg3_utils' values, as prkit
 * persist: PRK_PERSIST_EXIT_SYNTAX 1, PRK_PERSIST_EXIT_CONTRADICT 31). */

struct prk_copy_args {
	struct prk_persist_url src, dst;

	uint64_t src_lba, dst_lba; /* --src-lba, --dst-lba (default 0) */
	uint64_t blocks;           /* --blocks, in source blocks; valid if blocks_given */
	bool blocks_given;

	bool host_copy; /* --host-copy: read and write through iSCSI */

	/* --third-party KEY: the Annex B.3 sequence on the destination. */
	bool third_party;
	uint64_t key;
	uint64_t cm_key; /* --cm-key, else prk_copy_default_cm_key(key) */
	bool cm_key_given;
	struct prk_tid cm_tid; /* --cm-transport-id (format 01b) */
	bool cm_tid_given;
	uint16_t cm_rtpi; /* --cm-rtpi */
	bool cm_rtpi_given;
	bool keep; /* --keep: leave our registration and reservation in place */

	uint8_t list_id;       /* --list-id */
	uint32_t seg_blocks;   /* --segment-blocks: cap per 02h segment (0: none) */
	uint16_t segs_per_cmd; /* --segments-per-command: cap (0: none) */
	unsigned timeout;      /* --timeout, seconds */
	bool json;             /* --json */
	int verbose;           /* -v count */
	char initiator[PRK_ISCSI_NAME_MAX + 1];
	bool initiator_given;

	bool help, version;
};

/* Parses argv (argv[0] is "copy"). Returns 0 (check a->help and
 * a->version first), or PRK_PERSIST_EXIT_SYNTAX / PRK_PERSIST_EXIT_CONTRADICT
 * with a one-line message in err naming the option and the bad value. */
int prk_copy_parse(int argc, char **argv, struct prk_copy_args *a, char *err, size_t errlen);

/* KEY ^ PRK_COPY_CM_KEY_XOR, or 1 when that is 0. */
uint64_t prk_copy_default_cm_key(uint64_t key);

void prk_copy_usage(FILE *f);

#endif
