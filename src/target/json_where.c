/* One JSON value from a text, with errors that say where (line, column)
 * and what: json-c only reports a byte offset, and its plain parser
 * silently stops after the first value, so that "{...}{...}" or "{...} x"
 * would be half-read. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "json_where.h"

struct prk_json_where prk_json_where(const char *text, size_t len, size_t off)
{
	struct prk_json_where w = {1, 1};
	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n') {
			w.line++;
			w.column = 1;
		} else if ((c & 0xc0) != 0x80) {
			/* UTF-8 continuation bytes belong to the character
			 * before them. */
			w.column++;
		}
	}
	return w;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

json_object *prk_json_parse_one(const char *text, size_t len, char *err, size_t errlen)
{
	size_t first = 0;
	while (first < len && blank(text[first]))
		first++;
	if (first == len) {
		snprintf(err, errlen,
		         len ? "only white space, no JSON value" : "empty, no JSON value");
		return NULL;
	}
	const char *nul = memchr(text, 0, len);
	if (nul) {
		struct prk_json_where w = prk_json_where(text, len, (size_t)(nul - text));
		snprintf(err, errlen, "line %u, column %u: a NUL byte", w.line, w.column);
		return NULL;
	}
	if (len > (size_t)(1u << 30)) {
		snprintf(err, errlen, "larger than 1 GiB");
		return NULL;
	}
	json_tokener *tok = json_tokener_new();
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_object *v = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	if (!v && jerr == json_tokener_continue) {
		/* A bare number is complete only when something follows it:
		 * one more blank tells it from a truncated text. */
		v = json_tokener_parse_ex(tok, " ", 1);
		jerr = json_tokener_get_error(tok);
	}
	json_tokener_free(tok);
	if (!v || jerr != json_tokener_success) {
		struct prk_json_where w = prk_json_where(text, len, end);
		if (jerr == json_tokener_continue)
			snprintf(
			    err, errlen,
			    "line %u, column %u: the text ends inside a JSON value (truncated?)",
			    w.line, w.column);
		else
			snprintf(err, errlen, "line %u, column %u: %s", w.line, w.column,
			         json_tokener_error_desc(jerr));
		if (v)
			json_object_put(v);
		return NULL;
	}
	while (end < len && blank(text[end]))
		end++;
	if (end < len) {
		struct prk_json_where w = prk_json_where(text, len, end);
		snprintf(err, errlen,
		         "line %u, column %u: text after the JSON value (only one is allowed)",
		         w.line, w.column);
		json_object_put(v);
		return NULL;
	}
	return v;
}
