/* See decimal.h. */
#include "decimal.h"

#include <string.h>

bool prk_parse_dec_n(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint64_t d;

		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (uint64_t)(s[i] - '0');
		/* v * 10 + d > max, asked without overflowing. */
		if (d > max || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool prk_parse_dec(const char *s, uint64_t max, uint64_t *out)
{
	return prk_parse_dec_n(s, strlen(s), max, out);
}
