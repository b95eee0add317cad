/* The one "format an error message and fail" helper.
 *
 * Parsers and file routines across prkit report failures as a return value
 * plus a message in a caller-owned buffer. The message is truncated to fit
 * (always NUL-terminated when cap > 0); a NULL buffer or cap 0 means the
 * caller wants no message. Pure (only vsnprintf). */
#ifndef PRKIT_SRC_BASE_ERRFMT_H
#define PRKIT_SRC_BASE_ERRFMT_H

#include <stdarg.h>
#include <stddef.h>

/* Writes the message to err[0..cap) and returns -1, so that a failing path
 * reads `return prk_errf(err, cap, "...", ...);`. */
__attribute__((format(printf, 3, 4))) int prk_errf(char *err, size_t cap, const char *fmt, ...);

/* The same with a va_list, for helpers that return something other than
 * -1 (they call this and return their own code). */
__attribute__((format(printf, 3, 0))) int prk_verrf(char *err, size_t cap, const char *fmt,
                                                    va_list ap);

#endif
