/* The mount's directory: names and inode numbers (see mnt_names.h). */
#include <stdio.h>
#include <string.h>

#include "mnt_names.h"

static void dev_node(const struct prk_mnt_config *c, size_t dev, unsigned slot,
                     struct prk_mnt_node *out)
{
	out->kind = PRK_MNT_NODE_DEV;
	out->dev = dev;
	out->slot = slot;
	out->mode = slot == 0 ? c->devs[dev].mode : (enum prk_open_mode)(slot - 1);
}

int prk_mnt_lookup(const struct prk_mnt_config *c, const char *name, struct prk_mnt_node *out)
{
	memset(out, 0, sizeof(*out));
	if (strcmp(name, PRK_MNT_STATUS_NAME) == 0) {
		out->kind = PRK_MNT_NODE_STATUS;
		return 0;
	}
	for (size_t d = 0; d < c->n_devs; d++) {
		const char *dn = c->devs[d].name;
		size_t len = strlen(dn);
		if (!len || strncmp(name, dn, len) != 0)
			continue;
		if (name[len] == 0) {
			dev_node(c, d, 0, out);
			return 0;
		}
		/* Device names hold no '.', so NAME.MODE cannot be another
		 * device's plain name. */
		if (name[len] != '.')
			continue;
		enum prk_open_mode m;
		if (prk_open_mode_parse(name + len + 1, &m) == 0) {
			dev_node(c, d, 1 + (unsigned)m, out);
			return 0;
		}
	}
	return -1;
}

int prk_mnt_node_of(const struct prk_mnt_config *c, uint64_t ino, struct prk_mnt_node *out)
{
	memset(out, 0, sizeof(*out));
	if (ino == PRK_MNT_INO_ROOT) {
		out->kind = PRK_MNT_NODE_ROOT;
		return 0;
	}
	if (ino == PRK_MNT_INO_STATUS) {
		out->kind = PRK_MNT_NODE_STATUS;
		return 0;
	}
	if (ino < PRK_MNT_INO_DEV_BASE)
		return -1;
	uint64_t rel = ino - PRK_MNT_INO_DEV_BASE;
	uint64_t dev = rel / PRK_MNT_SLOTS_PER_DEV;
	unsigned slot = (unsigned)(rel % PRK_MNT_SLOTS_PER_DEV);
	if (dev >= c->n_devs || slot >= PRK_MNT_USED_SLOTS)
		return -1;
	dev_node(c, (size_t)dev, slot, out);
	return 0;
}

uint64_t prk_mnt_ino(const struct prk_mnt_node *n)
{
	switch (n->kind) {
	case PRK_MNT_NODE_ROOT:
		return PRK_MNT_INO_ROOT;
	case PRK_MNT_NODE_STATUS:
		return PRK_MNT_INO_STATUS;
	case PRK_MNT_NODE_DEV:
		break;
	}
	return PRK_MNT_INO_DEV_BASE + (uint64_t)n->dev * PRK_MNT_SLOTS_PER_DEV + n->slot;
}

int prk_mnt_node_name(const struct prk_mnt_config *c, const struct prk_mnt_node *n, char *buf,
                      size_t cap)
{
	int len;
	switch (n->kind) {
	case PRK_MNT_NODE_ROOT:
		len = snprintf(buf, cap, "%s", "");
		break;
	case PRK_MNT_NODE_STATUS:
		len = snprintf(buf, cap, "%s", PRK_MNT_STATUS_NAME);
		break;
	default:
		if (n->slot == 0)
			len = snprintf(buf, cap, "%s", c->devs[n->dev].name);
		else
			len = snprintf(buf, cap, "%s.%s", c->devs[n->dev].name,
			               prk_open_mode_name((enum prk_open_mode)(n->slot - 1)));
		break;
	}
	return len < 0 || (size_t)len >= cap ? -1 : 0;
}

size_t prk_mnt_dir_entries(const struct prk_mnt_config *c)
{
	return 3 + c->n_devs * PRK_MNT_USED_SLOTS;
}

int prk_mnt_dir_entry(const struct prk_mnt_config *c, size_t k, char *name, size_t cap,
                      uint64_t *ino)
{
	struct prk_mnt_node n = {.kind = PRK_MNT_NODE_ROOT};
	if (k >= prk_mnt_dir_entries(c))
		return -1;
	if (k < 2) {
		*ino = PRK_MNT_INO_ROOT; /* ".." of the mount's root: itself, as FUSE sees it */
		return snprintf(name, cap, "%s", k == 0 ? "." : "..") < (int)cap ? 0 : -1;
	}
	if (k == 2) {
		n.kind = PRK_MNT_NODE_STATUS;
	} else {
		size_t i = k - 3;
		dev_node(c, i / PRK_MNT_USED_SLOTS, (unsigned)(i % PRK_MNT_USED_SLOTS), &n);
	}
	*ino = prk_mnt_ino(&n);
	return prk_mnt_node_name(c, &n, name, cap);
}
