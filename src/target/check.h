/* What a start would find wrong beyond the configuration text itself:
 * backing files, addresses, memory, the admin socket and state directory.
 * prkitd checks a LU's backing file before it opens it (start and add-lu);
 * `prkitd --check` runs every check without starting anything. */
#ifndef PRKIT_CHECK_H
#define PRKIT_CHECK_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

/* A file LU's backing file: a path that does not exist is an error unless
 * the LU says "create": true (then it must be creatable), a regular file
 * shorter than the LU's size one unless it says "grow": true. where names
 * the LU in the message ("targets[0].luns[1]", "target T LUN 1"). Returns
 * 0 (also for RAM LUs) or -1 with a message. */
int prk_check_lun_file(const struct prk_cfg_lun *l, const char *where, char *err, size_t errlen);

struct prk_bs_file_opts;
/* How a file LU's backstore is opened, by a start and by --check alike. */
void prk_check_file_opts(const struct prk_cfg_lun *l, struct prk_bs_file_opts *o);

/* Everything a start would check or do that can fail, without starting:
 * each portal's address parses and can be bound (one in use is only a
 * warning: it may be this daemon's, running), every backing file opens as
 * the backstore would open it (or could be created or grown as the LU
 * allows), the RAM LUs fit in the machine's memory, the admin socket path
 * (NULL: none) and the state directory can be made. Warnings go to warn.
 * Returns 0, or -1 with the first error. */
int prk_check_config(const struct prk_cfg *cfg, const char *admin_socket, const char *state_dir,
                     FILE *warn, char *err, size_t errlen);

#endif
