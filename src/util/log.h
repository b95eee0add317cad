/* Logging with levels to stderr. */
#ifndef PRKIT_LOG_H
#define PRKIT_LOG_H

enum prk_log_level { PRK_LOG_ERROR, PRK_LOG_WARN, PRK_LOG_INFO, PRK_LOG_DEBUG };

void prk_log_set_level(enum prk_log_level l);
enum prk_log_level prk_log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int prk_log_parse_level(const char *s);
void prk_log(enum prk_log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define prk_err(...) prk_log(PRK_LOG_ERROR, __VA_ARGS__)
#define prk_warn(...) prk_log(PRK_LOG_WARN, __VA_ARGS__)
#define prk_info(...) prk_log(PRK_LOG_INFO, __VA_ARGS__)
#define prk_debug(...)                                                                             \
	do {                                                                                       \
		if (prk_log_get_level() >= PRK_LOG_DEBUG)                                          \
			prk_log(PRK_LOG_DEBUG, __VA_ARGS__);                                       \
	} while (0)

#endif
