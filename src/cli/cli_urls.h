/* The path URLs at the end of a prkit command line (prkit io, prkit
 * mount). Pure. */
#ifndef PRKIT_CLI_CLI_URLS_H
#define PRKIT_CLI_CLI_URLS_H

#include <stdbool.h>
#include <stddef.h>

/* argv[first..argc) are iscsi:// path URLs, each checked by the one URL
 * parser (the same checks as prkit persist and the fence agent) before any
 * path is tried; at most cap of them, at least one; with discover, exactly
 * one (the other paths are the portals the target lists). They are stored
 * in urls (pointing into argv), *n set. 0, or -1 with a message naming the
 * argument. */
int prk_cli_take_urls(int argc, char **argv, int first, bool discover, const char **urls,
                      size_t cap, size_t *n, char *err, size_t errcap);

#endif
