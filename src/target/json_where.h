/* Where in a JSON text json-c stopped, as a person looks for it: line and
 * column (both from 1; a column counts characters, not UTF-8 bytes). Shared
 * by the configuration file and the admin socket's request lines. */
#ifndef PRKIT_JSON_WHERE_H
#define PRKIT_JSON_WHERE_H

#include <json-c/json.h>
#include <stddef.h>

struct prk_json_where {
	unsigned line, column;
};

/* The line and column of byte offset off in text[0..len). */
struct prk_json_where prk_json_where(const char *text, size_t len, size_t off);

/* Parses exactly one JSON value from text[0..len): a syntax error, a text
 * that ends inside the value, nothing but white space, a NUL byte, or
 * anything but white space after the value is an error. Returns the value,
 * or NULL with a message in err saying which of these and where
 * ("line 3, column 7: ..."). */
json_object *prk_json_parse_one(const char *text, size_t len, char *err, size_t errlen);

#endif
