/* Names of the host library's enums, for logs, the CLI and JSON. */
#include <stdio.h>
#include <string.h>

#include "prkit/scsi_tid.h"

#include "prkit/host.h"

const char *prk_path_state_name(enum prk_path_state s)
{
	switch (s) {
	case PRK_PATH_DOWN:
		return "down";
	case PRK_PATH_FAILED:
		return "failed";
	case PRK_PATH_STANDBY:
		return "standby";
	case PRK_PATH_UP:
		return "up";
	}
	return "?";
}

static const char *const sel_names[] = {"service-time", "round-robin", "queue-length"};

const char *prk_selector_name(enum prk_selector s)
{
	return (unsigned)s < 3 ? sel_names[s] : "?";
}

int prk_selector_parse(const char *s, enum prk_selector *out)
{
	for (unsigned i = 0; i < 3; i++) {
		if (strcmp(s, sel_names[i]) == 0) {
			*out = (enum prk_selector)i;
			return 0;
		}
	}
	return -1;
}

const char *prk_event_name(enum prk_event_kind k)
{
	switch (k) {
	case PRK_EV_PATH_STATE:
		return "path-state";
	case PRK_EV_UA:
		return "unit-attention";
	case PRK_EV_FENCED:
		return "fenced";
	case PRK_EV_REREGISTERED:
		return "re-registered";
	case PRK_EV_RESV_MOVED:
		return "reservation-moved";
	case PRK_EV_IO_REDRIVEN:
		return "io-redriven";
	case PRK_EV_STALLED:
		return "stalled";
	case PRK_EV_RESUMED:
		return "resumed";
	case PRK_EV_KEY_CHANGED:
		return "key-changed";
	}
	return "?";
}

static const char *const mode_names[] = {"default",    "forced", "retain",
                                         "no-reserve", "single", "cluster"};

const char *prk_open_mode_name(enum prk_open_mode m)
{
	return (unsigned)m < 6 ? mode_names[m] : "?";
}

int prk_open_mode_parse(const char *s, enum prk_open_mode *out)
{
	for (unsigned i = 0; i < 6; i++) {
		if (strcmp(s, mode_names[i]) == 0) {
			*out = (enum prk_open_mode)i;
			return 0;
		}
	}
	return -1;
}

const char *prk_io_status_name(enum prk_io_status s)
{
	switch (s) {
	case PRK_IO_OK:
		return "ok";
	case PRK_IO_FENCED:
		return "fenced";
	case PRK_IO_SCSI_ERROR:
		return "scsi-error";
	case PRK_IO_NO_PATH:
		return "no-path";
	case PRK_IO_CLOSED:
		return "closed";
	}
	return "?";
}

int prk_host_initiator_name(const char *env, const char *hostname, char *buf, size_t cap, char *err,
                            size_t errcap)
{
	if (env && *env) {
		if (strlen(env) > PRK_ISCSI_NAME_MAX || !prk_iscsi_name_valid(env)) {
			snprintf(err, errcap, "%s='%s' is not a valid iSCSI name",
			         PRK_HOST_INITIATOR_ENV, env);
			return -1;
		}
		snprintf(buf, cap, "%s", env);
		return 0;
	}
	char host[256];
	snprintf(host, sizeof(host), "%s", hostname && *hostname ? hostname : "localhost");
	/* iSCSI names are lower case (RFC 3722 stringprep); anything a name
	 * may not hold becomes '-'. */
	for (char *p = host; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		           *p == '-'))
			*p = '-';
	}
	size_t room = PRK_ISCSI_NAME_MAX - strlen(PRK_HOST_INITIATOR_PREFIX);
	if (strlen(host) > room)
		host[room] = 0;
	snprintf(buf, cap, "%s%s", PRK_HOST_INITIATOR_PREFIX, host);
	return 0;
}
