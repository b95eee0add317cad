/* The one parser of iscsi:// URLs (prkit/iscsi_url.h). It was written
 * twice before, for `prkit persist` and for the fence agent, and the two
 * disagreed on what they accepted. */
#include "prkit/iscsi_url.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "decimal.h"
#include "errfmt.h"

/* The base's message formatter, returning the URL error code. */
__attribute__((format(printf, 4, 5))) static enum prk_iscsi_url_error
url_fail(enum prk_iscsi_url_error e, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	prk_verrf(err, errlen, fmt, ap);
	va_end(ap);
	return e;
}

bool prk_iscsi_name_has_type(const char *s)
{
	return strncasecmp(s, "iqn.", 4) == 0 || strncasecmp(s, "eui.", 4) == 0 ||
	       strncasecmp(s, "naa.", 4) == 0;
}

static bool host_char(char c, bool v6)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	if (c == '.' || c == '-' || c == '_')
		return true;
	/* '%': the zone of a link-local IPv6 address (fe80::1%eth0). */
	return v6 && (c == ':' || c == '%');
}

/* The port in [port, slash): decimal, 1..65535. */
static enum prk_iscsi_url_error parse_port(const char *port, const char *slash,
                                           struct prk_iscsi_url *u, char *err, size_t errlen)
{
	int plen = (int)(slash - port);
	uint64_t v;

	if (plen == 0)
		return url_fail(PRK_URL_PORT, err, errlen, "empty port after ':'");
	/* Eight characters or more cannot be a port, whatever they are. */
	if (plen >= 8)
		return url_fail(PRK_URL_PORT, err, errlen, "port '%.*s' is out of range 1..65535",
		                plen, port);
	if (!prk_parse_dec_n(port, (size_t)plen, UINT64_MAX, &v))
		return url_fail(PRK_URL_PORT, err, errlen, "port '%.*s' is not a decimal number",
		                plen, port);
	if (v == 0 || v > 65535)
		return url_fail(PRK_URL_PORT, err, errlen, "port '%.*s' is out of range 1..65535",
		                plen, port);
	u->port = (uint16_t)v;
	return PRK_URL_OK;
}

/* [host] or host, then an optional :port, in [p, slash). */
static enum prk_iscsi_url_error parse_portal(const char *p, const char *slash,
                                             struct prk_iscsi_url *u, char *err, size_t errlen)
{
	const char *h, *hend;
	size_t hlen;
	bool v6 = false;

	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(slash - p));

		if (!rb)
			return url_fail(PRK_URL_HOST, err, errlen,
			                "'[' without ']' around the IPv6 address");
		h = p + 1;
		hlen = (size_t)(rb - h);
		hend = rb + 1;
		v6 = true;
		if (hend != slash && *hend != ':')
			return url_fail(PRK_URL_HOST, err, errlen, "'%c' after the IPv6 address",
			                *hend);
	} else {
		h = p;
		hend = p;
		while (hend < slash && *hend != ':')
			hend++;
		hlen = (size_t)(hend - h);
	}
	if (hlen == 0)
		return url_fail(PRK_URL_HOST_EMPTY, err, errlen, "empty host");
	if (hlen > PRK_ISCSI_URL_HOST_MAX)
		return url_fail(PRK_URL_HOST, err, errlen, "host longer than %d characters",
		                PRK_ISCSI_URL_HOST_MAX);
	for (size_t i = 0; i < hlen; i++)
		if (!host_char(h[i], v6))
			return url_fail(PRK_URL_HOST, err, errlen, "character '%c' in the host",
			                h[i]);
	memcpy(u->host, h, hlen);
	u->host[hlen] = '\0';

	if (*hend == ':')
		return parse_port(hend + 1, slash, u, err, errlen);
	return PRK_URL_OK;
}

/* target-iqn/lun, from t to the end. */
static enum prk_iscsi_url_error parse_target_lun(const char *t, struct prk_iscsi_url *u, char *err,
                                                 size_t errlen)
{
	const char *tend = strchr(t, '/'), *l;
	size_t tlen;
	uint64_t v;

	if (tend == t)
		return url_fail(PRK_URL_TARGET_EMPTY, err, errlen, "empty target name");
	if (!tend)
		return url_fail(PRK_URL_NO_LUN, err, errlen, "no /lun after the target name");
	tlen = (size_t)(tend - t);
	if (tlen > PRK_ISCSI_NAME_MAX)
		return url_fail(PRK_URL_TARGET, err, errlen,
		                "target name longer than %d characters", PRK_ISCSI_NAME_MAX);
	memcpy(u->target, t, tlen);
	u->target[tlen] = '\0';
	if (!prk_iscsi_name_valid(u->target))
		return url_fail(PRK_URL_TARGET, err, errlen,
		                "target name '%s' is not a valid iSCSI name", u->target);
	if (!prk_iscsi_name_has_type(u->target))
		return url_fail(PRK_URL_TARGET, err, errlen,
		                "target name '%s' does not start with iqn., eui. or naa.",
		                u->target);

	l = tend + 1;
	if (!*l)
		return url_fail(PRK_URL_LUN, err, errlen, "empty LUN");
	if (strspn(l, "0123456789") != strlen(l))
		return url_fail(PRK_URL_LUN, err, errlen, "LUN '%s' is not a decimal number", l);
	if (!prk_parse_dec_n(l, strlen(l), PRK_ISCSI_URL_MAX_LUN, &v))
		return url_fail(PRK_URL_LUN, err, errlen, "LUN '%s' is out of range 0..%d", l,
		                PRK_ISCSI_URL_MAX_LUN);
	u->lun = (uint16_t)v;
	return PRK_URL_OK;
}

enum prk_iscsi_url_error prk_iscsi_url_parse(const char *s, struct prk_iscsi_url *u, char *err,
                                             size_t errlen)
{
	static const char scheme[] = "iscsi://";
	const char *p, *slash, *at = NULL;
	enum prk_iscsi_url_error e;

	memset(u, 0, sizeof(*u));
	u->port = PRK_ISCSI_URL_DEFAULT_PORT;
	if (strncmp(s, scheme, sizeof(scheme) - 1) != 0)
		return url_fail(PRK_URL_SCHEME, err, errlen, "does not start with %s", scheme);
	p = s + sizeof(scheme) - 1;
	slash = strchr(p, '/');
	if (!*p)
		return url_fail(PRK_URL_EMPTY, err, errlen, "no /target-iqn/lun after the host");
	if (!slash)
		return url_fail(PRK_URL_NO_PATH, err, errlen, "no /target-iqn/lun after the host");

	/* [user[%secret]@]: libiscsi's credentials; the last '@' before the
	 * path ends them (a secret may hold an '@'). */
	for (const char *q = p; q < slash; q++)
		if (*q == '@')
			at = q;
	if (at) {
		if (at == p || *p == '%')
			return url_fail(PRK_URL_USER, err, errlen, "empty user name before '@'");
		u->has_credentials = true;
		p = at + 1;
	}
	e = parse_portal(p, slash, u, err, errlen);
	if (e != PRK_URL_OK)
		return e;
	return parse_target_lun(slash + 1, u, err, errlen);
}
