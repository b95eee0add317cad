/* Reading an operator's JSON configuration file: the checks every prkit
 * configuration reader (prkit fenced, prkit mount) makes the same way, so
 * that their refusals read alike: each names the member (`what`, e.g.
 * "devices[2].key") and the value it saw. Not pure: it links json-c, and
 * prk_json_read_file reads a file. */
#ifndef PRKIT_SRC_BASE_JSON_MEMBER_H
#define PRKIT_SRC_BASE_JSON_MEMBER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* A short, printable rendering of any JSON value for a message. */
const char *prk_json_shown(json_object *v);

/* A JSON string without NUL bytes (json-c accepts \u0000, which would cut
 * the value short silently). 0, or -1 with err. */
int prk_json_str(json_object *v, const char *what, const char **out, char *err, size_t errlen);
/* Copies a string of 1..cap-1 characters into dst. */
int prk_json_text(json_object *v, const char *what, char *dst, size_t cap, char *err,
                  size_t errlen);
/* The same, and it must be an absolute path. */
int prk_json_abs_path(json_object *v, const char *what, char *dst, size_t cap, char *err,
                      size_t errlen);
/* An integer in [min, max]; 1.0, "5" or true are refused. */
int prk_json_uint(json_object *v, const char *what, unsigned min, unsigned max, unsigned *dst,
                  char *err, size_t errlen);
int prk_json_bool(json_object *v, const char *what, bool *dst, char *err, size_t errlen);

/* The whole text must be one JSON object and nothing but blanks after it
 * (a second object or stray text is a mistake, not something to ignore),
 * with no NUL byte, at most max bytes. The object (the caller puts it), or
 * NULL with err. */
json_object *prk_json_parse_object(const char *text, size_t len, size_t max, char *err,
                                   size_t errlen);
/* A regular file's whole content, at most max bytes (NUL-terminated;
 * *len without it). Free it. NULL with err naming the path. */
char *prk_json_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

/* Reads path (at most max bytes) and hands its text to parse; a refusal
 * of parse is prefixed with the path. What prk_fd_config_load and
 * prk_mnt_config_load do. 0, or -1 with err. */
typedef int (*prk_json_parse_fn)(const char *text, size_t len, void *out, char *err, size_t errlen);
int prk_json_load_file(const char *path, size_t max, prk_json_parse_fn parse, void *out, char *err,
                       size_t errlen);

#endif
