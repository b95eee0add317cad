/* Members of an operator's JSON file, checked one way for every reader
 * (json_member.h). */
#include "json_member.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errfmt.h"

const char *prk_json_shown(json_object *v)
{
	const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	return s ? s : "?";
}

int prk_json_str(json_object *v, const char *what, const char **out, char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_string))
		return prk_errf(err, errlen, "%s: expected a string, got %.60s", what,
		                prk_json_shown(v));
	const char *s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return prk_errf(err, errlen, "%s: the string holds a NUL character", what);
	*out = s;
	return 0;
}

int prk_json_text(json_object *v, const char *what, char *dst, size_t cap, char *err, size_t errlen)
{
	const char *s;
	if (prk_json_str(v, what, &s, err, errlen))
		return -1;
	if (!*s)
		return prk_errf(err, errlen, "%s: empty string", what);
	if (strlen(s) >= cap)
		return prk_errf(err, errlen, "%s: '%.40s...' is longer than %zu characters", what,
		                s, cap - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

int prk_json_abs_path(json_object *v, const char *what, char *dst, size_t cap, char *err,
                      size_t errlen)
{
	if (prk_json_text(v, what, dst, cap, err, errlen))
		return -1;
	if (dst[0] != '/')
		return prk_errf(err, errlen, "%s: '%s' is not an absolute path", what, dst);
	return 0;
}

int prk_json_uint(json_object *v, const char *what, unsigned min, unsigned max, unsigned *dst,
                  char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_int))
		return prk_errf(err, errlen, "%s: expected an integer %u..%u, got %.60s", what, min,
		                max, prk_json_shown(v));
	errno = 0;
	int64_t n = json_object_get_int64(v);
	if (errno || n < (int64_t)min || n > (int64_t)max)
		return prk_errf(err, errlen, "%s: %.40s is out of range %u..%u", what,
		                prk_json_shown(v), min, max);
	*dst = (unsigned)n;
	return 0;
}

int prk_json_bool(json_object *v, const char *what, bool *dst, char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_boolean))
		return prk_errf(err, errlen, "%s: expected true or false, got %.60s", what,
		                prk_json_shown(v));
	*dst = json_object_get_boolean(v);
	return 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

json_object *prk_json_parse_object(const char *text, size_t len, size_t max, char *err,
                                   size_t errlen)
{
	const char *nul = memchr(text, 0, len);
	if (nul) {
		prk_errf(err, errlen, "a NUL byte at offset %zu", (size_t)(nul - text));
		return NULL;
	}
	if (len > max || len > INT32_MAX) {
		prk_errf(err, errlen, "larger than %zu bytes", max);
		return NULL;
	}
	json_tokener *tok = json_tokener_new();
	if (!tok) {
		prk_errf(err, errlen, "out of memory");
		return NULL;
	}
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root && jerr == json_tokener_continue)
		jerr = json_tokener_error_parse_eof;
	if (!root || jerr != json_tokener_success) {
		prk_errf(err, errlen, "not JSON: %s (at byte %zu)", json_tokener_error_desc(jerr),
		         used);
		json_object_put(root);
		return NULL;
	}
	for (size_t i = used; i < len; i++)
		if (!blank(text[i])) {
			json_object_put(root);
			prk_errf(err, errlen, "text after the JSON object at byte %zu", i);
			return NULL;
		}
	if (!json_object_is_type(root, json_type_object)) {
		prk_errf(err, errlen, "expected a JSON object {...}, got %.60s",
		         prk_json_shown(root));
		json_object_put(root);
		return NULL;
	}
	return root;
}

char *prk_json_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		prk_errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		prk_errf(err, errlen, "%s: not a regular file", path);
		return NULL;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		prk_errf(err, errlen, "%s: larger than %zu bytes", path, max);
		return NULL;
	}
	/* Up to the limit and one byte more, in case it grew meanwhile. */
	char *buf = malloc(max + 2);
	if (!buf) {
		close(fd);
		prk_errf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	size_t have = 0;
	for (;;) {
		ssize_t n = read(fd, buf + have, max + 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			close(fd);
			prk_errf(err, errlen, "%s: %s", path, strerror(e));
			return NULL;
		}
		if (n == 0 || (have += (size_t)n) > max)
			break;
	}
	close(fd);
	if (have > max) {
		free(buf);
		prk_errf(err, errlen, "%s: larger than %zu bytes", path, max);
		return NULL;
	}
	buf[have] = 0;
	*len = have;
	return buf;
}

int prk_json_load_file(const char *path, size_t max, prk_json_parse_fn parse, void *out, char *err,
                       size_t errlen)
{
	char why[400];
	size_t len;
	char *buf = prk_json_read_file(path, max, &len, err, errlen);
	if (!buf)
		return -1;
	int rc = 0;
	if (parse(buf, len, out, why, sizeof(why)))
		rc = prk_errf(err, errlen, "%s: %s", path, why);
	free(buf);
	return rc;
}
