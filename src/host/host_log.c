/* The host library's log (stderr, by level) and the error it fills for
 * the caller, and its clock. The bottom of src/host: it calls nothing
 * above it. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "host_base.h"

uint64_t prk_host_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void prk_hlog(struct prk_host *h, int level, const char *fmt, ...)
{
	if (!h || level > h->log_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "prkit: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void prk_herr(struct prk_host_err *e, enum prk_host_errc code, int path, const char *fmt, ...)
{
	if (!e)
		return;
	e->code = code;
	e->path = path;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}
