/* I_T nexus identities and sets of them. */
#include <ctype.h>
#include <string.h>

#include "pr_internal.h"

/* FNV-1a over the lower-cased name: computed once per nexus (at login), so
 * the per-command lookup only mixes in the ISID and target port. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

int prk_nexus_init(struct prk_nexus *nx, const char *iscsi_name, uint64_t isid, uint16_t rtpi)
{
	if (!iscsi_name || !prk_iscsi_name_valid(iscsi_name) || (isid & ~PRK_ISID_MASK))
		return -1;
	memset(nx, 0, sizeof(*nx));
	size_t n = strlen(iscsi_name);
	for (size_t i = 0; i < n; i++)
		nx->name[i] = (char)tolower((unsigned char)iscsi_name[i]);
	nx->isid = isid;
	nx->rtpi = rtpi;
	nx->name_hash = name_hash(nx->name);
	return 0;
}

bool prk_nexus_eq(const struct prk_nexus *a, const struct prk_nexus *b)
{
	return a->name_hash == b->name_hash && a->isid == b->isid && a->rtpi == b->rtpi &&
	       strcmp(a->name, b->name) == 0;
}

bool prk_nexus_set_contains(const struct prk_nexus_set *s, const struct prk_nexus *nx)
{
	if (s->everyone)
		return true;
	if (s->nx.name_hash != nx->name_hash || strcmp(s->nx.name, nx->name) != 0)
		return false;
	if (!s->any_isid && s->nx.isid != nx->isid)
		return false;
	if (!s->any_port && s->nx.rtpi != nx->rtpi)
		return false;
	return true;
}
