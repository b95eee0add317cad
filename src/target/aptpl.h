/* The APTPL store: one record file per LU in the state directory, written
 * so that a crash at any instant leaves the old or the new record, never a
 * mix (temporary file, fsync, rename, fsync of the directory); the record
 * itself carries a checksum (src/pr/record.c). */
#ifndef PRKIT_APTPL_H
#define PRKIT_APTPL_H

#include <stddef.h>
#include <stdint.h>

/* "<dir>/<target name>-lun<N>.pr", with characters that do not belong in
 * a file name replaced. Returns 0 or -1 (too long). */
int prk_aptpl_path(const char *dir, const char *target, uint16_t lun, char *out, size_t cap);
/* Creates dir (and its parents) with mode 0700 when missing. */
int prk_aptpl_mkdir(const char *dir, char *err, size_t errlen);
/* Atomically replaces the file at path with rec. Returns 0 or -1 with a
 * message naming the file and the failing step. */
int prk_aptpl_write(const char *path, const uint8_t *rec, size_t len, char *err, size_t errlen);
/* Reads the record: 1 with *rec (malloc'ed) and *len, 0 when there is no
 * file, -1 with a message on an I/O error. */
int prk_aptpl_read(const char *path, uint8_t **rec, size_t *len, char *err, size_t errlen);
/* The default state directory: $PRKIT_STATE_DIR when set, else
 * /var/lib/prkit for root, else $XDG_STATE_HOME/prkit or
 * ~/.local/state/prkit. */
void prk_aptpl_default_dir(char *out, size_t cap);

#endif
