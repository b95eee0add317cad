/* The unit serial number of each LU: its default when the configuration
 * gives none, and the rule that no two LUs share one. The serial seeds the
 * LU's NAA identifier (src/lu/lu.c), and hosts (dm-multipath, prkit's host
 * library, prkit fenced's discovery) take two paths reporting one NAA for
 * one device: two LUs with one serial would have their data mixed. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* FNV-1a, 32 bits, of the lower-cased name: iSCSI names compare without
 * case (RFC 3722), so the spellings of one target give one serial. */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 0x811c9dc5u;
	for (; *s; s++) {
		h ^= (uint8_t)tolower((unsigned char)*s);
		h *= 0x01000193u;
	}
	return h;
}

/* What is unique and stable about a LU is its target's name and its LUN
 * number: not its place in a list, which changes when LUs are removed and
 * added, and which is the same in every target. The same configuration
 * gives the same serial on every node of a cluster, where nodes match
 * their LUs by NAA (docs/cluster.md). 17 characters: "prkit", 8 hex digits
 * of the name's hash, 4 of the LUN (at most 3fff). */
void prk_cfg_default_serial(const char *target, uint16_t lun, char *out, size_t cap)
{
	snprintf(out, cap, "prkit%08x%04x", (unsigned)name_hash(target), (unsigned)lun);
}

/* A LU's place in the configuration, in config order (t, then l). */
struct where {
	const char *serial;
	size_t t, l;
};

static bool before(const struct where *a, const struct where *b)
{
	return a->t < b->t || (a->t == b->t && a->l < b->l);
}

static int by_serial(const void *a, const void *b)
{
	const struct where *x = a, *y = b;
	/* SPC: serial numbers compare exactly (no case folding, no trimming). */
	int c = strcmp(x->serial, y->serial);
	if (c)
		return c;
	return before(x, y) ? -1 : before(y, x);
}

int prk_cfg_check_serials(const struct prk_cfg *cfg, char *err, size_t errlen)
{
	/* Sorted, not compared pairwise: a 16 MiB configuration may hold
	 * hundreds of thousands of LUs. */
	size_t n = 0;
	for (size_t t = 0; t < cfg->n_targets; t++)
		n += cfg->targets[t].n_luns;
	if (n < 2)
		return 0;
	struct where *w = calloc(n, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "targets: out of memory");
		return -1;
	}
	size_t k = 0;
	for (size_t t = 0; t < cfg->n_targets; t++)
		for (size_t l = 0; l < cfg->targets[t].n_luns; l++)
			w[k++] = (struct where){cfg->targets[t].luns[l].serial, t, l};
	qsort(w, n, sizeof(*w), by_serial);
	/* Of all repeated serials, name the repeat that comes first in the
	 * file, and the LU that used it before. */
	const struct where *dup = NULL, *first = NULL;
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && !strcmp(w[j].serial, w[i].serial); j++)
			;
		/* sorted by place within a group: w[i] first, w[i + 1] repeats it */
		if (j - i > 1 && (!dup || before(&w[i + 1], dup)))
			dup = &w[i + 1], first = &w[i];
	}
	int r = 0;
	if (dup) {
		snprintf(err, errlen,
		         "targets[%zu].luns[%zu].serial: '%s' is already used by "
		         "targets[%zu].luns[%zu]: two LUs with one serial have one NAA identifier",
		         dup->t, dup->l, dup->serial, first->t, first->l);
		r = -1;
	}
	free(w);
	return r;
}
