/* See harness.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>

#include "harness.h"

#ifndef PRKITD_PATH
#error "PRKITD_PATH must name the prkitd binary"
#endif

static void print_log(const struct h_daemon *d)
{
	FILE *f = fopen(d->log, "r");
	char line[512];
	fprintf(stderr, "---- prkitd log ----\n");
	while (f && fgets(line, sizeof(line), f))
		fputs(line, stderr);
	if (f)
		fclose(f);
}

static char *replace_dir(const char *json, const char *dir)
{
	size_t n = strlen(json) + 1, dl = strlen(dir);
	for (const char *p = json; (p = strstr(p, "@DIR@")); p += 5)
		n += dl;
	char *out = malloc(n), *o = out;
	for (const char *p = json; *p;) {
		if (strncmp(p, "@DIR@", 5) == 0) {
			memcpy(o, dir, dl);
			o += dl;
			p += 5;
		} else {
			*o++ = *p++;
		}
	}
	*o = 0;
	return out;
}

/* Counts "listening on A:P" lines in the log; fills the ports. */
static int scan_ports(struct h_daemon *d)
{
	FILE *f = fopen(d->log, "r");
	if (!f)
		return 0;
	char line[512];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "listening on ");
		if (!p)
			continue;
		char *colon = strrchr(p, ':');
		char *paren = strstr(p, " (tpgt");
		if (colon && paren && colon < paren && n < 8)
			d->ports[n++] = (uint16_t)atoi(colon + 1);
	}
	fclose(f);
	return n;
}

int h_start(struct h_daemon *d, const char *json)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/prkit-itest-XXXXXX");
	if (!mkdtemp(d->dir))
		return -1;
	char cfg[300];
	snprintf(cfg, sizeof(cfg), "%s/prkitd.json", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/prkitd.log", d->dir);
	char *text = replace_dir(json, d->dir);
	FILE *f = fopen(cfg, "w");
	if (!f || fputs(text, f) < 0) {
		free(text);
		return -1;
	}
	fclose(f);
	int want = 0;
	for (const char *p = text; (p = strstr(p, "\"address\"")); p++)
		want++;
	free(text);
	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		FILE *lf = freopen(d->log, "w", stderr);
		(void)lf;
		execl(PRKITD_PATH, "prkitd", "-c", cfg, "--log-level", "debug", (char *)NULL);
		_exit(127);
	}
	/* Wait (at most 10 s) until every portal listens. */
	for (int i = 0; i < 1000; i++) {
		d->n_ports = scan_ports(d);
		if (d->n_ports >= want)
			return 0;
		int st;
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			print_log(d);
			return -1;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	print_log(d);
	h_stop(d);
	return -1;
}

int h_stop(struct h_daemon *d)
{
	int status = -1;
	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		for (int i = 0; i < 500; i++) {
			if (waitpid(d->pid, &status, WNOHANG) == d->pid)
				break;
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
			if (i == 499) {
				kill(d->pid, SIGKILL);
				waitpid(d->pid, &status, 0);
				print_log(d);
			}
		}
		d->pid = 0;
	}
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	if (d->dir[0] && system(cmd) != 0)
		fprintf(stderr, "harness: could not remove %s\n", d->dir);
	if (status != 0)
		print_log(d);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void h_config_basic(char *buf, size_t cap, int n_portals, unsigned size_mb)
{
	int n = snprintf(buf, cap, "{\"portals\": [");
	for (int i = 0; i < n_portals; i++)
		n += snprintf(buf + n, cap - (size_t)n,
		              "%s{\"address\": \"127.0.0.1\", \"port\": 0}", i ? ", " : "");
	snprintf(buf + n, cap - (size_t)n,
	         "], \"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000, "
	         "\"targets\": [{\"name\": \"%s\", \"luns\": "
	         "[{\"backstore\": {\"type\": \"ram\", \"size\": \"%uM\"}, \"thin\": true}]}]}",
	         H_TARGET, size_mb);
}

struct iscsi_context *h_login(struct h_daemon *d, int portal, const char *initiator,
                              uint32_t isid_qualifier)
{
	struct iscsi_context *iscsi = iscsi_create_context(initiator);
	if (!iscsi)
		return NULL;
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", d->ports[portal]);
	iscsi_set_targetname(iscsi, H_TARGET);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_noautoreconnect(iscsi, 1);
	iscsi_set_isid_random(iscsi, 0x123456, isid_qualifier);
	iscsi_set_timeout(iscsi, 10);
	if (iscsi_full_connect_sync(iscsi, addr, 0) != 0) {
		fprintf(stderr, "login to %s failed: %s\n", addr, iscsi_get_error(iscsi));
		iscsi_destroy_context(iscsi);
		return NULL;
	}
	return iscsi;
}

void h_logout(struct iscsi_context *iscsi)
{
	if (!iscsi)
		return;
	iscsi_logout_sync(iscsi);
	iscsi_destroy_context(iscsi);
}
