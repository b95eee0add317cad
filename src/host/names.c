/* Names of the host library's enums, for logs, the CLI and JSON. */
#include <string.h>

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
