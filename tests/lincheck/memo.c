/* A hash set of byte strings: open addressing with linear probing, grown at
 * half load. Entries are never removed (a configuration once explored stays
 * explored), so there are no tombstones. */
#include <stdlib.h>
#include <string.h>

#include "memo.h"

struct prk_lin_memo_ent {
	uint64_t hash;
	size_t len;
	uint8_t key[];
};

/* FNV-1a, then a final mix so that the low bits (the slot) depend on every
 * byte. */
static uint64_t hash_bytes(const uint8_t *b, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

void prk_lin_memo_init(struct prk_lin_memo *m)
{
	memset(m, 0, sizeof(*m));
}

static int grow(struct prk_lin_memo *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024;
	struct prk_lin_memo_ent **s = calloc(cap, sizeof(*s));

	if (!s)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		struct prk_lin_memo_ent *e = m->slots[i];
		if (!e)
			continue;
		size_t j = e->hash & (cap - 1);
		while (s[j])
			j = (j + 1) & (cap - 1);
		s[j] = e;
	}
	m->bytes += (cap - m->cap) * sizeof(*s);
	free(m->slots);
	m->slots = s;
	m->cap = cap;
	return 0;
}

int prk_lin_memo_insert(struct prk_lin_memo *m, const uint8_t *key, size_t len)
{
	if (2 * (m->n + 1) > m->cap && grow(m) < 0)
		return -1;
	uint64_t h = hash_bytes(key, len);
	size_t j = h & (m->cap - 1);
	for (struct prk_lin_memo_ent *e; (e = m->slots[j]); j = (j + 1) & (m->cap - 1))
		if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)
			return 0;
	struct prk_lin_memo_ent *e = malloc(sizeof(*e) + len);
	if (!e)
		return -1;
	e->hash = h;
	e->len = len;
	memcpy(e->key, key, len);
	m->slots[j] = e;
	m->n++;
	m->bytes += sizeof(*e) + len;
	return 1;
}

void prk_lin_memo_free(struct prk_lin_memo *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i]);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
