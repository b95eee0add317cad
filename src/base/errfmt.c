/* See errfmt.h. */
#include "errfmt.h"

#include <stdio.h>

int prk_verrf(char *err, size_t cap, const char *fmt, va_list ap)
{
	if (err && cap)
		vsnprintf(err, cap, fmt, ap);
	return -1;
}

int prk_errf(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	prk_verrf(err, cap, fmt, ap);
	va_end(ap);
	return -1;
}
