/* The values of the fence agent's options: numbers, booleans, node names
 * and the three lists (devices of paths, the host map, the members).
 * Shared by the option parser (fence_opts.c) and the node checks
 * (fence_nodes.c) through fence_values.h. */
#include "fence_values.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "prkit/iscsi_url.h"

int prk_fence_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"", "1", "yes", "y", "true", "on"};
	static const char *const no[] = {"0", "no", "n", "false", "off"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

bool prk_fence_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Separators of the list options (host map, members). */
static bool is_list_sep(char c)
{
	return c == ',' || c == ';' || prk_fence_is_blank(c);
}

bool prk_fence_node_number(const char *s, uint16_t *id)
{
	uint64_t v;

	if (!prk_parse_dec(s, 65535, &v) || v == 0)
		return false;
	*id = (uint16_t)v;
	return true;
}

/* Checks one path with the shared URL parser (prkit/iscsi_url.h), in the
 * fence agent's words for the mistakes its users make most (they name
 * the path in every message, as one option holds many paths). */
static int check_url(const char *u, char *err, size_t errlen)
{
	struct prk_iscsi_url parsed;
	char why[300];
	const char *lun;

	switch (prk_iscsi_url_parse(u, &parsed, why, sizeof(why))) {
	case PRK_URL_OK:
		return 0;
	case PRK_URL_SCHEME:
		return prk_errf(err, errlen, "path '%s' does not start with iscsi://", u);
	case PRK_URL_EMPTY:
	case PRK_URL_HOST_EMPTY:
		return prk_errf(err, errlen, "path '%s' has no host", u);
	case PRK_URL_NO_PATH:
	case PRK_URL_TARGET_EMPTY:
	case PRK_URL_NO_LUN:
		return prk_errf(err, errlen, "path '%s' has no /target-iqn/lun after the host", u);
	case PRK_URL_LUN:
		/* The LUN is what follows the target name's '/'. */
		lun = strchr(strchr(u + strlen("iscsi://"), '/') + 1, '/') + 1;
		return prk_errf(err, errlen, "path '%s': LUN '%s' is not a number 0..%d", u, lun,
		                PRK_ISCSI_URL_MAX_LUN);
	default:
		return prk_errf(err, errlen, "path '%s': %s", u, why);
	}
}

static bool path_known(const struct prk_fence_opts *o, const char *u)
{
	for (size_t d = 0; d < o->n_devices; d++)
		for (size_t i = 0; i < o->devices[d].n_paths; i++)
			if (strcmp(o->devices[d].paths[i], u) == 0)
				return true;
	return false;
}

/* Adds one path (the text [s, s+n)) to device dv. */
static int add_path(struct prk_fence_opts *o, struct prk_fence_device *dv, const char *s, size_t n,
                    char *err, size_t errlen)
{
	char url[PRK_FENCE_URL_MAX + 2];

	if (n == 0)
		return prk_errf(err, errlen, "empty path (two commas, or a comma at an end)");
	if (n > PRK_FENCE_URL_MAX)
		return prk_errf(err, errlen, "path '%.40s...' is longer than %d characters", s,
		                PRK_FENCE_URL_MAX);
	memcpy(url, s, n);
	url[n] = '\0';
	if (check_url(url, err, errlen))
		return -1;
	if (path_known(o, url))
		return prk_errf(err, errlen, "path '%s' is given twice", url);
	for (size_t i = 0; i < dv->n_paths; i++)
		if (strcmp(dv->paths[i], url) == 0)
			return prk_errf(err, errlen, "path '%s' is given twice", url);
	if (dv->n_paths == PRK_FENCE_MAX_PATHS)
		return prk_errf(err, errlen, "more than %d paths in one device (at '%s')",
		                PRK_FENCE_MAX_PATHS, url);
	memcpy(dv->paths[dv->n_paths++], url, n + 1);
	return 0;
}

/* "a,b c,d": devices separated by blanks, the paths of one device by
 * commas; blanks next to a comma do not end the device. */
int prk_fence_add_devices(struct prk_fence_opts *o, const char *s, char *err, size_t errlen)
{
	const char *p = s;
	bool any = false;

	for (;;) {
		struct prk_fence_device dv;

		while (prk_fence_is_blank(*p))
			p++;
		if (!*p)
			break;
		memset(&dv, 0, sizeof(dv));
		for (;;) {
			const char *b = p;

			while (*p && *p != ',' && !prk_fence_is_blank(*p))
				p++;
			if (add_path(o, &dv, b, (size_t)(p - b), err, errlen))
				return -1;
			/* blanks, then a comma, continue this device */
			const char *q = p;

			while (prk_fence_is_blank(*q))
				q++;
			if (*q != ',')
				break;
			q++;
			while (prk_fence_is_blank(*q))
				q++;
			p = q;
		}
		if (o->n_devices == PRK_FENCE_MAX_DEVICES)
			return prk_errf(err, errlen, "more than %d devices", PRK_FENCE_MAX_DEVICES);
		o->devices[o->n_devices++] = dv;
		any = true;
	}
	if (!any)
		return prk_errf(err, errlen, "no device given");
	return 0;
}

int prk_fence_copy_name(char *dst, size_t cap, const char *s, const char *what, char *err,
                        size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0)
		return prk_errf(err, errlen, "empty %s", what);
	if (n >= cap)
		return prk_errf(err, errlen, "%s '%.40s...' is longer than %zu characters", what, s,
		                cap - 1);
	memcpy(dst, s, n + 1);
	return 0;
}

/* The next item of a list separated by ',', ';' or blanks: [*b, *b+*n).
 * false at the end. */
static bool next_item(const char **p, const char **b, size_t *n)
{
	while (is_list_sep(**p))
		(*p)++;
	if (!**p)
		return false;
	*b = *p;
	while (**p && !is_list_sep(**p))
		(*p)++;
	*n = (size_t)(*p - *b);
	return true;
}

/* "name:id" entries (also "name=id", as pcmk_host_map takes), separated
 * by ',', ';' or blanks. */
int prk_fence_add_host_map(struct prk_fence_opts *o, const char *s, char *err, size_t errlen)
{
	const char *p = s;
	bool any = false;

	for (;;) {
		char ent[PRK_FENCE_NAME_MAX + 16];
		const char *b;
		char *sep;
		size_t n;
		uint16_t id;

		if (!next_item(&p, &b, &n))
			break;
		if (n >= sizeof(ent))
			return prk_errf(err, errlen, "entry '%.40s...' is too long", b);
		memcpy(ent, b, n);
		ent[n] = '\0';
		sep = strpbrk(ent, ":=");
		if (!sep)
			return prk_errf(err, errlen, "entry '%s' is not name:id", ent);
		*sep = '\0';
		if (!*ent)
			return prk_errf(err, errlen, "entry '%s:%s' has an empty node name", ent,
			                sep + 1);
		if (!prk_fence_node_number(sep + 1, &id))
			return prk_errf(err, errlen,
			                "entry '%s:%s': node id '%s' is not a number 1..65535", ent,
			                sep + 1, sep + 1);
		for (size_t i = 0; i < o->n_hosts; i++) {
			if (strcasecmp(o->hosts[i].name, ent) != 0)
				continue;
			if (o->hosts[i].id != id)
				return prk_errf(err, errlen,
				                "node '%s' is mapped to both %u and %u", ent,
				                (unsigned)o->hosts[i].id, (unsigned)id);
			goto next;
		}
		if (o->n_hosts == PRK_FENCE_MAX_HOSTS)
			return prk_errf(err, errlen, "more than %d entries", PRK_FENCE_MAX_HOSTS);
		if (prk_fence_copy_name(o->hosts[o->n_hosts].name, sizeof(o->hosts[0].name), ent,
		                        "node name", err, errlen))
			return -1;
		o->hosts[o->n_hosts++].id = id;
	next:
		any = true;
	}
	if (!any)
		return prk_errf(err, errlen, "no name:id entry");
	return 0;
}

int prk_fence_add_members(struct prk_fence_opts *o, const char *s, char *err, size_t errlen)
{
	const char *p = s;
	bool any = false;

	for (;;) {
		const char *b;
		size_t n;
		bool dup = false;

		if (!next_item(&p, &b, &n))
			break;
		if (n > PRK_FENCE_NAME_MAX)
			return prk_errf(err, errlen,
			                "member '%.40s...' is longer than %d characters", b,
			                PRK_FENCE_NAME_MAX);
		any = true;
		for (size_t i = 0; i < o->n_members; i++)
			if (strncasecmp(o->members[i], b, n) == 0 && o->members[i][n] == '\0')
				dup = true;
		if (dup)
			continue;
		if (o->n_members == PRK_FENCE_MAX_MEMBERS)
			return prk_errf(err, errlen, "more than %d members", PRK_FENCE_MAX_MEMBERS);
		memcpy(o->members[o->n_members], b, n);
		o->members[o->n_members++][n] = '\0';
	}
	if (!any)
		return prk_errf(err, errlen, "no member given");
	return 0;
}
