/* The one crash-safe "replace a file" routine (not pure: file I/O; kept out
 * of the pure base library so that src/scsi and src/pr cannot link it).
 *
 * After a crash the file holds either the old content or the new one, never
 * a mix or nothing: the new content goes to a temporary file in the same
 * directory, is fsynced, renamed over the target, and the directory is
 * fsynced so that the rename itself survives. Every write, fsync and close
 * error is checked; on any failure before the rename the temporary file is
 * removed and the target is untouched. */
#ifndef PRKIT_SRC_BASE_REPLACE_FILE_H
#define PRKIT_SRC_BASE_REPLACE_FILE_H

#include <stddef.h>

/* Temporary file name: "<path>.tmp", or "<path>.tmp.<pid>" with this flag
 * (for files that several processes may write; their callers serialise
 * with a lock, the pid keeps a crashed writer's leftover apart). */
#define PRK_REPLACE_TMP_PID 1u

/* Replaces path's content with data[0..len) (mode 0600 when created).
 * 0 on success; -1 with a message in err naming the file, the step and the
 * system error, and errno set. A failure of the directory fsync comes after
 * the rename: the new content is in place but not known to be durable, and
 * the caller must treat it as a failure. */
int prk_replace_file(const char *path, const void *data, size_t len, unsigned flags, char *err,
                     size_t errlen);

#endif
