/* prkit mount: the configuration file and the checks of the whole
 * configuration (mount.h). An operator writes the file, so every refusal
 * names the member and the value it saw, and an unknown member is an error
 * rather than a silently ignored typo. The command line (src/cli/mount.c)
 * fills the same struct: prk_mnt_config_check judges both alike. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errfmt.h"
#include "hexdigit.h"
#include "json_member.h"
#include "mount.h"
#include "prkit/iscsi_url.h"
#include "prkit/scsi_cdb.h"

#define CONFIG_FILE_MAX (1u << 20)
/* Timeouts of the file: a minute-long I/O timeout is already odd; ten
 * minutes is a typo. */
#define MS_MAX 600000u

void prk_mnt_config_init(struct prk_mnt_config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = 1;
}

bool prk_mnt_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= PRK_MNT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		          (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
		if (!ok)
			return false;
	}
	return true;
}

static int set_url(json_object *v, const char *what, char *dst, char *err, size_t errlen)
{
	if (prk_json_text(v, what, dst, PRK_HOST_URL_MAX, err, errlen))
		return -1;
	struct prk_iscsi_url u;
	char why[200];
	if (prk_iscsi_url_parse(dst, &u, why, sizeof(why)) != PRK_URL_OK)
		return prk_errf(err, errlen, "%s: '%s': %s", what, dst, why);
	return 0;
}

static int set_paths(json_object *v, const char *what, struct prk_mnt_dev_config *d, char *err,
                     size_t errlen)
{
	if (!json_object_is_type(v, json_type_array))
		return prk_errf(err, errlen, "%s: expected an array of iscsi:// URLs, got %.60s",
		                what, prk_json_shown(v));
	size_t n = json_object_array_length(v);
	if (n == 0)
		return prk_errf(err, errlen, "%s: empty array", what);
	if (n > PRK_MPDEV_MAX_PATHS)
		return prk_errf(err, errlen, "%s: %zu paths, at most %d", what, n,
		                PRK_MPDEV_MAX_PATHS);
	for (size_t i = 0; i < n; i++) {
		char w[160];
		snprintf(w, sizeof(w), "%.120s[%zu]", what, i);
		if (set_url(json_object_array_get_idx(v, i), w, d->urls[i], err, errlen))
			return -1;
	}
	d->n_urls = n;
	return 0;
}

static int set_key(json_object *v, const char *what, uint64_t *key, char *err, size_t errlen)
{
	const char *s;
	if (prk_json_str(v, what, &s, err, errlen))
		return -1;
	if (!prk_parse_key_hex(s, key))
		return prk_errf(
		    err, errlen,
		    "%s: '%.40s' is not a non-zero hexadecimal key of at most 16 digits", what, s);
	return 0;
}

static int set_mode(json_object *v, const char *what, enum prk_open_mode *mode, char *err,
                    size_t errlen)
{
	const char *s;
	if (prk_json_str(v, what, &s, err, errlen))
		return -1;
	if (prk_open_mode_parse(s, mode))
		return prk_errf(err, errlen,
		                "%s: '%.40s' is not an open mode (default, forced, retain, "
		                "no-reserve, single, cluster)",
		                what, s);
	return 0;
}

static int set_selector(json_object *v, const char *what, enum prk_selector *sel, char *err,
                        size_t errlen)
{
	const char *s;
	if (prk_json_str(v, what, &s, err, errlen))
		return -1;
	if (prk_selector_parse(s, sel))
		return prk_errf(err, errlen,
		                "%s: '%.40s' is not a path selector (service-time, round-robin, "
		                "queue-length)",
		                what, s);
	return 0;
}

static int set_type(json_object *v, const char *what, uint8_t *type, char *err, size_t errlen)
{
	unsigned t;
	if (prk_json_uint(v, what, 1, 8, &t, err, errlen))
		return -1;
	if (!prk_pr_type_valid((uint8_t)t))
		return prk_errf(err, errlen, "%s: %u is not a reservation type (1, 3, 5, 6, 7, 8)",
		                what, t);
	*type = (uint8_t)t;
	return 0;
}

static int set_dev_member(const char *k, json_object *v, const char *at,
                          struct prk_mnt_dev_config *d, char *err, size_t errlen)
{
	char w[120];
	snprintf(w, sizeof(w), "%.30s.%.80s", at, k);
	if (!strcmp(k, "name")) {
		if (prk_json_text(v, w, d->name, sizeof(d->name), err, errlen))
			return -1;
		if (!prk_mnt_name_valid(d->name))
			return prk_errf(err, errlen,
			                "%s: '%s' is not a device name (letters, digits, '_' and "
			                "'-', no '.')",
			                w, d->name);
		return 0;
	}
	if (!strcmp(k, "paths"))
		return set_paths(v, w, d, err, errlen);
	if (!strcmp(k, "discover"))
		return prk_json_bool(v, w, &d->discover, err, errlen);
	if (!strcmp(k, "key"))
		return set_key(v, w, &d->key, err, errlen);
	if (!strcmp(k, "mode"))
		return set_mode(v, w, &d->mode, err, errlen);
	if (!strcmp(k, "type"))
		return set_type(v, w, &d->type, err, errlen);
	if (!strcmp(k, "aptpl"))
		return prk_json_bool(v, w, &d->aptpl, err, errlen);
	if (!strcmp(k, "selector"))
		return set_selector(v, w, &d->selector, err, errlen);
	if (!strcmp(k, "io_timeout_ms"))
		return prk_json_uint(v, w, 100, MS_MAX, &d->io_timeout_ms, err, errlen);
	if (!strcmp(k, "no_path_timeout_ms"))
		return prk_json_uint(v, w, 100, MS_MAX, &d->no_path_timeout_ms, err, errlen);
	if (!strcmp(k, "fenced_hold_ms"))
		return prk_json_uint(v, w, 0, MS_MAX, &d->fenced_hold_ms, err, errlen);
	if (!strcmp(k, "checker_interval_ms"))
		return prk_json_uint(v, w, 100, MS_MAX, &d->checker_interval_ms, err, errlen);
	return prk_errf(err, errlen, "%s: unknown member", w);
}

static int set_devices(json_object *v, struct prk_mnt_config *c, char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_array))
		return prk_errf(err, errlen, "devices: expected an array of objects, got %.60s",
		                prk_json_shown(v));
	size_t n = json_object_array_length(v);
	if (n == 0)
		return prk_errf(err, errlen, "devices: empty array");
	if (n > PRK_MNT_MAX_DEVS)
		return prk_errf(err, errlen, "devices: %zu devices, at most %d", n,
		                PRK_MNT_MAX_DEVS);
	memset(c->devs, 0, sizeof(c->devs));
	c->n_devs = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(v, i);
		char at[32];
		snprintf(at, sizeof(at), "devices[%zu]", i);
		if (!json_object_is_type(o, json_type_object))
			return prk_errf(err, errlen, "%s: expected an object, got %.60s", at,
			                prk_json_shown(o));
		struct prk_mnt_dev_config *d = &c->devs[i];
		json_object_object_foreach(o, k, mv)
		{
			if (set_dev_member(k, mv, at, d, err, errlen))
				return -1;
		}
		if (!d->name[0])
			return prk_errf(err, errlen, "%s.name: missing", at);
		if (!d->n_urls)
			return prk_errf(err, errlen, "%s.paths: missing", at);
		if (!d->key)
			return prk_errf(err, errlen, "%s.key: missing", at);
		c->n_devs = i + 1;
	}
	return 0;
}

static int set_control(json_object *v, struct prk_mnt_config *c, char *err, size_t errlen)
{
	if (json_object_is_type(v, json_type_boolean)) {
		/* true: the default socket; false: none. */
		c->no_ctl = !json_object_get_boolean(v);
		c->ctl_path[0] = 0;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return prk_errf(err, errlen,
		                "control: expected a socket path, true or false, got %.60s",
		                prk_json_shown(v));
	c->no_ctl = false;
	return prk_json_abs_path(v, "control", c->ctl_path, sizeof(c->ctl_path), err, errlen);
}

static int set_member(const char *k, json_object *v, struct prk_mnt_config *c, char *err,
                      size_t errlen)
{
	if (!strcmp(k, "mountpoint"))
		return prk_json_abs_path(v, k, c->mountpoint, sizeof(c->mountpoint), err, errlen);
	if (!strcmp(k, "initiator")) {
		if (prk_json_text(v, k, c->initiator, sizeof(c->initiator), err, errlen))
			return -1;
		if (!prk_iscsi_name_has_type(c->initiator))
			return prk_errf(err, errlen,
			                "initiator: '%s' is not an iSCSI name (iqn., eui. or naa.)",
			                c->initiator);
		return 0;
	}
	if (!strcmp(k, "state_dir"))
		return prk_json_abs_path(v, k, c->state_dir, sizeof(c->state_dir), err, errlen);
	if (!strcmp(k, "control"))
		return set_control(v, c, err, errlen);
	if (!strcmp(k, "allow_other"))
		return prk_json_bool(v, k, &c->allow_other, err, errlen);
	if (!strcmp(k, "log_level")) {
		unsigned l;
		if (prk_json_uint(v, k, 0, 2, &l, err, errlen))
			return -1;
		c->log_level = (int)l;
		return 0;
	}
	if (!strcmp(k, "open_timeout_ms"))
		return prk_json_uint(v, k, 100, MS_MAX, &c->open_timeout_ms, err, errlen);
	if (!strcmp(k, "devices"))
		return set_devices(v, c, err, errlen);
	return prk_errf(err, errlen, "%s: unknown member", k);
}

int prk_mnt_config_parse(const char *text, size_t len, struct prk_mnt_config *c, char *err,
                         size_t errlen)
{
	json_object *root = prk_json_parse_object(text, len, CONFIG_FILE_MAX, err, errlen);
	if (!root)
		return -1;
	int rc = 0;
	json_object_object_foreach(root, k, v)
	{
		if (set_member(k, v, c, err, errlen)) {
			rc = -1;
			break;
		}
	}
	json_object_put(root);
	return rc;
}

static int parse_any(const char *text, size_t len, void *out, char *err, size_t errlen)
{
	return prk_mnt_config_parse(text, len, out, err, errlen);
}

int prk_mnt_config_load(const char *path, struct prk_mnt_config *c, char *err, size_t errlen)
{
	return prk_json_load_file(path, CONFIG_FILE_MAX, parse_any, c, err, errlen);
}

/* One device on its own: name, paths, key, type. */
static int check_dev(const struct prk_mnt_dev_config *d, size_t i, char *err, size_t errlen)
{
	if (!prk_mnt_name_valid(d->name))
		return prk_errf(err, errlen,
		                "device %zu: name '%s' is not a device name (1..%d of letters, "
		                "digits, '_' and '-')",
		                i, d->name, PRK_MNT_NAME_MAX - 1);
	if (d->n_urls == 0 || d->n_urls > PRK_MPDEV_MAX_PATHS)
		return prk_errf(err, errlen, "device %s: %zu paths (1..%d)", d->name, d->n_urls,
		                PRK_MPDEV_MAX_PATHS);
	for (size_t p = 0; p < d->n_urls; p++) {
		struct prk_iscsi_url u;
		char why[200];
		if (prk_iscsi_url_parse(d->urls[p], &u, why, sizeof(why)) != PRK_URL_OK)
			return prk_errf(err, errlen, "device %s: path '%s': %s", d->name,
			                d->urls[p], why);
	}
	if (!d->key)
		return prk_errf(err, errlen, "device %s: no reservation key (--key or \"key\")",
		                d->name);
	if (d->type && !prk_pr_type_valid(d->type))
		return prk_errf(err, errlen, "device %s: %u is not a reservation type", d->name,
		                d->type);
	return 0;
}

int prk_mnt_config_check(const struct prk_mnt_config *c, char *err, size_t errlen)
{
	if (!c->mountpoint[0])
		return prk_errf(err, errlen, "no mountpoint (give MOUNTPOINT or \"mountpoint\")");
	if (c->n_devs == 0 || c->n_devs > PRK_MNT_MAX_DEVS)
		return prk_errf(err, errlen, "%zu devices (1..%d)", c->n_devs, PRK_MNT_MAX_DEVS);
	if (c->no_ctl && c->ctl_path[0])
		return prk_errf(err, errlen,
		                "a control socket path and no control socket: give "
		                "one of them");
	for (size_t i = 0; i < c->n_devs; i++) {
		const struct prk_mnt_dev_config *d = &c->devs[i];
		if (check_dev(d, i, err, errlen))
			return -1;
		for (size_t j = 0; j < i; j++) {
			const struct prk_mnt_dev_config *e = &c->devs[j];
			if (!strcmp(d->name, e->name))
				return prk_errf(err, errlen,
				                "devices %zu and %zu are both named '%s'", j, i,
				                d->name);
			/* One path in two devices is one LU mounted twice: two
			 * open states for one reservation. */
			for (size_t p = 0; p < d->n_urls; p++)
				for (size_t q = 0; q < e->n_urls; q++)
					if (!strcmp(d->urls[p], e->urls[q]))
						return prk_errf(
						    err, errlen,
						    "devices %s and %s share the path '%s'",
						    e->name, d->name, d->urls[p]);
		}
		for (size_t p = 0; p < d->n_urls; p++)
			for (size_t q = 0; q < p; q++)
				if (!strcmp(d->urls[p], d->urls[q]))
					return prk_errf(err, errlen,
					                "device %s: the path '%s' is given twice",
					                d->name, d->urls[p]);
	}
	return 0;
}
