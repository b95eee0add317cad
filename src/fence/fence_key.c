/* fence_prkit's key layout: cluster tag, node id, incarnation. */
#include "fence_key.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#define FNV32_OFFSET 2166136261u
#define FNV32_PRIME 16777619u

bool prk_fence_cluster_name_valid(const char *name)
{
	size_t n = 0;

	if (!name || !*name || *name == '.' || *name == '-')
		return false;
	for (const char *p = name; *p; p++, n++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return n <= PRK_FENCE_CLUSTER_NAME_MAX;
}

uint16_t prk_fence_cluster_tag(const char *cluster_name)
{
	uint32_t h = FNV32_OFFSET;
	uint16_t tag;

	for (const unsigned char *p = (const unsigned char *)(cluster_name ? cluster_name : ""); *p;
	     p++) {
		h ^= *p;
		h *= FNV32_PRIME;
	}
	tag = (uint16_t)((h >> 16) ^ (h & 0xffffu));
	return tag ? tag : 1;
}

uint64_t prk_fence_key_make(uint16_t tag, uint16_t node, uint32_t incarnation)
{
	if (tag == 0 || incarnation == 0)
		return 0;
	return (uint64_t)tag << 48 | (uint64_t)node << 32 | incarnation;
}

bool prk_fence_key_parse(uint64_t key, uint16_t *tag, uint16_t *node, uint32_t *inc)
{
	uint16_t t = (uint16_t)(key >> 48);
	uint32_t i = (uint32_t)key;

	if (tag)
		*tag = t;
	if (node)
		*node = (uint16_t)(key >> 32);
	if (inc)
		*inc = i;
	return t != 0 && i != 0;
}

bool prk_fence_key_is_node(uint64_t key, uint16_t tag, uint16_t node)
{
	uint16_t t, n;

	return prk_fence_key_parse(key, &t, &n, NULL) && t == tag && n == node;
}

bool prk_fence_key_same_cluster(uint64_t key, uint16_t tag)
{
	uint16_t t;

	return prk_fence_key_parse(key, &t, NULL, NULL) && t == tag;
}

int prk_fence_cluster_current(const uint64_t *keys, size_t n, uint16_t tag, uint64_t *cur)
{
	uint64_t best = 0;
	uint32_t best_gen = 0;
	bool tie = false;

	for (size_t i = 0; i < n; i++) {
		uint16_t t;
		uint32_t gen;

		if (!prk_fence_key_parse(keys[i], &t, NULL, &gen) || t != tag || keys[i] == best)
			continue;
		if (gen > best_gen) {
			best = keys[i];
			best_gen = gen;
			tie = false;
		} else if (gen == best_gen) {
			tie = true;
		}
	}
	if (!best)
		return 0;
	*cur = best;
	return tie ? -1 : 1;
}

void prk_fence_key_str(uint64_t key, char buf[PRK_FENCE_KEY_STR_LEN])
{
	snprintf(buf, PRK_FENCE_KEY_STR_LEN, "0x%016" PRIx64, key);
}
