/* `prkit persist`: what it prints. The text forms are sg_persist's, byte
 * for byte (fence agents parse them); the JSON forms are ours. Pure: the
 * only I/O is writing to the FILE * given. */
#ifndef PRKIT_CLI_PERSIST_FMT_H
#define PRKIT_CLI_PERSIST_FMT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "persist_args.h"
#include "prkit/scsi_pr_wire.h"

/* ---- text, as sg_persist prints it ---- */

/* sg_persist's names of the 16 TYPE codes ("Write Exclusive, registrants
 * only", "obsolete [2]"). */
const char *prk_persist_type_str(uint8_t type);
/* sg_lib's names of peripheral device types ("disk"). */
const char *prk_persist_pdt_str(uint8_t pdt);

/* The two lines printed before the command unless --no-inquiry:
 * "  VENDOR    PRODUCT           REV\n  Peripheral device type: disk\n".
 * The strings are the INQUIRY fields, trailing spaces or not. */
void prk_persist_print_inquiry(FILE *out, const char *vendor, const char *product,
                               const char *revision, uint8_t pdt);

void prk_persist_print_keys(FILE *out, const struct prk_prin_keys *k);
void prk_persist_print_resv(FILE *out, const struct prk_prin_resv *r);
void prk_persist_print_caps(FILE *out, const struct prk_prin_caps *c);
/* READ FULL STATUS from the raw data (ADDITIONAL LENGTH and descriptors
 * decoded with prk_full_dec_start/next; TransportIDs printed as received).
 * verbose > 0 adds sg_persist's note when there are no registrations.
 * Returns 0, or PRK_PERSIST_EXIT_MALFORMED (nothing printed) when the data
 * does not decode. */
int prk_persist_print_full(FILE *out, const uint8_t *buf, size_t len, int verbose);

/* sg3_utils' hex dump: mode 1 prints each line of 16 bytes after a hex
 * offset (" 00     00 01 ..."), mode -1 only the bytes ("00 01 ..."); both
 * with an extra space after the 8th byte. */
void prk_persist_hexdump(FILE *out, const uint8_t *buf, size_t len, int mode);

/* --hex output of a PR IN response, by service action and --hex count, as
 * sg_persist prints it. Returns 0, or PRK_PERSIST_EXIT_MALFORMED (with
 * sg_persist's message on err) for REPORT CAPABILITIES whose LENGTH is not
 * 8. */
int prk_persist_print_hex(FILE *out, FILE *err, uint8_t prin_sa, const uint8_t *buf, size_t len,
                          int hex);

/* ---- JSON (ours) ----
 * Each builder returns a new object (the caller owns it) with snake_case
 * fields; keys appear as "key": "0x..." plus "key_value": <number>, types
 * as "type": <code> plus "type_name" (prk_pr_type_name) and
 * "type_description" (prk_persist_type_str). Results are objects, so a
 * caller with several paths can add "inquiry" or a "paths" array to them. */

json_object *prk_persist_json_inquiry(const char *vendor, const char *product, const char *revision,
                                      uint8_t pdt);
/* {"name", "isid" ("0x" + 12 hex digits, or null for format 00b), "format"} */
json_object *prk_persist_json_tid(const struct prk_tid *t);
json_object *prk_persist_json_keys(const struct prk_prin_keys *k);
json_object *prk_persist_json_resv(const struct prk_prin_resv *r);
json_object *prk_persist_json_caps(const struct prk_prin_caps *c);
/* NULL when the data does not decode. */
json_object *prk_persist_json_full(const uint8_t *buf, size_t len);
/* The result of a PR OUT command: what was sent and how it ended. */
json_object *prk_persist_json_prout(const struct prk_persist_args *a, int exit_status);

/* Prints o pretty (json_object_to_json_string_ext, PRETTY) and a newline.
 * Does not take the reference. */
void prk_persist_json_print(FILE *out, json_object *o);

/* ---- one PR IN response, the way the arguments ask ----
 * Decodes buf (the bytes the target returned) for a->prin_sa and prints
 * text, --hex or --json to out; problems go to err. Returns the exit
 * status: 0, or PRK_PERSIST_EXIT_MALFORMED when the response does not
 * decode. */
int prk_persist_report_prin(FILE *out, FILE *err, const struct prk_persist_args *a,
                            const uint8_t *buf, size_t len);

#endif
