/* Logging to stderr: one line per message, level first, so that a test or
 * an operator can grep it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static enum prk_log_level level = PRK_LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

void prk_log_set_level(enum prk_log_level l)
{
	level = l;
}

enum prk_log_level prk_log_get_level(void)
{
	return level;
}

int prk_log_parse_level(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void prk_log(enum prk_log_level l, const char *fmt, ...)
{
	if (l > level)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "prkitd %s: %s\n", names[l], line);
}
