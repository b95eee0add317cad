/* The mount's directory (pure): which names the root holds, their inode
 * numbers, and which device and open mode each stands for.
 *
 * The root (inode 1) holds the status file and, per device NAME, the
 * plain NAME (the device's configured mode) and one NAME.MODE per open
 * mode (NAME.default, NAME.forced, ...): unmodified programs pick the
 * mode by the name they open. Inode numbers are computed, never stored,
 * so a lookup needs no table: 2 is the status file, device d's slot s is
 * 16 + d * 8 + s (slot 0 the plain name, slot 1 + m the mode m). */
#ifndef PRKIT_MOUNT_MNT_NAMES_H
#define PRKIT_MOUNT_MNT_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mount.h"

#define PRK_MNT_INO_ROOT 1
#define PRK_MNT_INO_STATUS 2
#define PRK_MNT_INO_DEV_BASE 16
#define PRK_MNT_SLOTS_PER_DEV 8
/* Slot 0 plus one per open mode (PRK_OPEN_DEFAULT .. PRK_OPEN_CLUSTER). */
#define PRK_MNT_N_MODES 6
#define PRK_MNT_USED_SLOTS (1 + PRK_MNT_N_MODES)

enum prk_mnt_node_kind { PRK_MNT_NODE_ROOT = 1, PRK_MNT_NODE_STATUS, PRK_MNT_NODE_DEV };

struct prk_mnt_node {
	enum prk_mnt_node_kind kind;
	size_t dev;              /* PRK_MNT_NODE_DEV: index in the configuration */
	unsigned slot;           /* 0: the plain name; 1 + mode: NAME.MODE */
	enum prk_open_mode mode; /* what open(2) of this name runs */
};

/* The node of a name in the root. 0, or -1 when there is no such name. */
int prk_mnt_lookup(const struct prk_mnt_config *c, const char *name, struct prk_mnt_node *out);
/* The node of an inode number. 0, or -1 when no node has it. */
int prk_mnt_node_of(const struct prk_mnt_config *c, uint64_t ino, struct prk_mnt_node *out);
uint64_t prk_mnt_ino(const struct prk_mnt_node *n);
/* The node's name in the root ("" for the root itself). 0, or -1 when
 * cap is too small. */
int prk_mnt_node_name(const struct prk_mnt_config *c, const struct prk_mnt_node *n, char *buf,
                      size_t cap);
/* Directory entry k of the root: 0 ".", 1 "..", 2 the status file, then
 * every device's names in order. 0 with name and ino set, or -1 past the
 * last entry. */
size_t prk_mnt_dir_entries(const struct prk_mnt_config *c);
int prk_mnt_dir_entry(const struct prk_mnt_config *c, size_t k, char *name, size_t cap,
                      uint64_t *ino);

#endif
