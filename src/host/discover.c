/* Path discovery: a SendTargets discovery session to the portal of one
 * URL lists every portal (TargetAddress) through which the target is
 * reachable; each becomes a path URL for the same target and LUN, with the
 * same credentials. The given URL's portal comes first, so a device made
 * from the result starts from the portal the user named. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <iscsi/iscsi.h>

#include "host_base.h"
#include "prkit/host.h"

/* "host:port,tpgt" -> "host:port" (host_base.h). */
void prk_host_portal_address(const char *sendtargets, char *out, size_t cap)
{
	snprintf(out, cap, "%s", sendtargets);
	char *comma = strrchr(out, ',');
	char *bracket = strrchr(out, ']');
	if (comma && (!bracket || comma > bracket))
		*comma = '\0';
}

/* host[:port] with the default port made explicit, for comparing. */
static void with_port(const char *portal, char *out, size_t cap)
{
	const char *bracket = strrchr(portal, ']');
	const char *colon = strrchr(portal, ':');
	bool has_port =
	    colon && (!bracket || colon > bracket) && (bracket || strchr(portal, ':') == colon);
	snprintf(out, cap, has_port ? "%s" : "%s:3260", portal);
}

static bool same_portal(const char *a, const char *b)
{
	char x[300], y[300];
	with_port(a, x, sizeof(x));
	with_port(b, y, sizeof(y));
	return strcasecmp(x, y) == 0;
}

/* Appends iscsi://[cred@]portal/target/lun unless the portal is there. */
static int add_url(char (*urls)[PRK_HOST_URL_MAX], size_t cap, size_t *n, char (*portals)[256],
                   const char *cred, const char *portal, const char *target, int lun,
                   struct prk_host_err *err)
{
	for (size_t i = 0; i < *n; i++)
		if (same_portal(portals[i], portal))
			return 0;
	if (*n == cap)
		return 0; /* the caller's limit: the first cap portals */
	int len =
	    snprintf(urls[*n], PRK_HOST_URL_MAX, "iscsi://%s%s/%s/%d", cred, portal, target, lun);
	if (len < 0 || len >= PRK_HOST_URL_MAX) {
		prk_herr(err, PRK_HE_USAGE, -1, "discovery: the URL for portal %s is too long",
		         portal);
		return -1;
	}
	snprintf(portals[*n], 256, "%s", portal);
	(*n)++;
	return 0;
}

int prk_host_discover(const char *initiator, const char *url, int timeout_s,
                      char (*urls)[PRK_HOST_URL_MAX], size_t cap, size_t *n,
                      struct prk_host_err *err)
{
	*n = 0;
	if (!initiator || !url || !cap) {
		prk_herr(err, PRK_HE_USAGE, -1,
		         "discovery: initiator, URL and room for paths needed");
		return -1;
	}
	struct iscsi_context *ctx = iscsi_create_context(initiator);
	if (!ctx) {
		prk_herr(err, PRK_HE_STATE, -1, "discovery: cannot create a libiscsi context");
		return -1;
	}
	int rc = -1;
	char portals[PRK_MPDEV_MAX_PATHS * 4][256];
	if (cap > PRK_MPDEV_MAX_PATHS * 4)
		cap = PRK_MPDEV_MAX_PATHS * 4;
	struct iscsi_discovery_address *list = NULL;
	struct iscsi_url *u = iscsi_parse_full_url(ctx, url);
	if (!u) {
		prk_herr(err, PRK_HE_USAGE, -1,
		         "discovery: bad URL '%s': %s (want iscsi://host[:port]/iqn/lun)", url,
		         iscsi_get_error(ctx));
		goto out;
	}
	char cred[600] = "";
	if (u->user[0])
		snprintf(cred, sizeof(cred), "%s%%%s@", u->user, u->passwd);
	if (u->user[0] && iscsi_set_initiator_username_pwd(ctx, u->user, u->passwd)) {
		prk_herr(err, PRK_HE_USAGE, -1, "discovery: CHAP credentials: %s",
		         iscsi_get_error(ctx));
		goto out;
	}
	iscsi_set_session_type(ctx, ISCSI_SESSION_DISCOVERY);
	iscsi_set_timeout(ctx, timeout_s > 0 ? timeout_s : 10);
	if (iscsi_connect_sync(ctx, u->portal) || iscsi_login_sync(ctx)) {
		prk_herr(err, PRK_HE_NO_PATH, -1, "discovery: login to %s failed: %s", u->portal,
		         iscsi_get_error(ctx));
		goto out;
	}
	list = iscsi_discovery_sync(ctx);
	if (!list) {
		prk_herr(err, PRK_HE_SCSI, -1, "discovery: SendTargets through %s failed: %s",
		         u->portal, iscsi_get_error(ctx));
		goto out;
	}
	const struct iscsi_discovery_address *t = list;
	while (t && strcasecmp(t->target_name, u->target) != 0)
		t = t->next;
	if (!t) {
		prk_herr(err, PRK_HE_NO_PATH, -1,
		         "discovery: portal %s does not list target %s (SendTargets)", u->portal,
		         u->target);
		goto out;
	}
	/* The portal of the URL first, then the others in the target's
	 * order; the URL's own text keeps any target-side credentials. */
	if (add_url(urls, cap, n, portals, cred, u->portal, u->target, u->lun, err))
		goto out;
	snprintf(urls[0], PRK_HOST_URL_MAX, "%s", url);
	for (const struct iscsi_target_portal *p = t->portals; p; p = p->next) {
		char addr[256];
		prk_host_portal_address(p->portal, addr, sizeof(addr));
		if (add_url(urls, cap, n, portals, cred, addr, u->target, u->lun, err))
			goto out;
	}
	rc = 0;
out:
	if (list)
		iscsi_free_discovery_data(ctx, list);
	if (u)
		iscsi_destroy_url(u);
	if (iscsi_is_logged_in(ctx))
		iscsi_logout_sync(ctx);
	iscsi_destroy_context(ctx);
	return rc;
}
