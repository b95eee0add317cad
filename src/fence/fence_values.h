/* What the fence agent's option parser (fence_opts.c) and its node checks
 * (fence_nodes.c) share: the readers of option values (fence_values.c).
 * Internal to src/fence. Each returns as its comment says; the ones with
 * err write a message without the option's name (the caller adds it). */
#ifndef PRKIT_FENCE_VALUES_H
#define PRKIT_FENCE_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Messages (prk_errf) and decimals (prk_parse_dec) come from the base. */
#include "decimal.h"
#include "errfmt.h"
#include "fence_opts.h"

/* 1/0, yes/no, y/n, true/false, on/off (any case); "" is yes. 0, or -1. */
int prk_fence_parse_bool(const char *s, bool *out);
bool prk_fence_is_blank(char c);
/* s as a node id 1..65535. */
bool prk_fence_node_number(const char *s, uint16_t *id);

/* Copies a name of 1..cap-1 characters; what names it in the message. */
int prk_fence_copy_name(char *dst, size_t cap, const char *s, const char *what, char *err,
                        size_t errlen);
/* Adds the devices of "url,url url": blanks separate devices, commas the
 * paths of one device. */
int prk_fence_add_devices(struct prk_fence_opts *o, const char *s, char *err, size_t errlen);
/* Adds "name:id" (or name=id) entries separated by ',', ';' or blanks. */
int prk_fence_add_host_map(struct prk_fence_opts *o, const char *s, char *err, size_t errlen);
/* Adds member names or ids separated by ',', ';' or blanks. */
int prk_fence_add_members(struct prk_fence_opts *o, const char *s, char *err, size_t errlen);

#endif
