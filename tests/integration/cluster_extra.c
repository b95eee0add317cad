/* See cluster_extra.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/scsi-lowlevel.h>

#include "cluster_extra.h"
#include "cluster_harness.h"
#include "harness.h"

#if !defined(TOPO_SH) || !defined(CX_SH) || !defined(PRKIT_PATH)
#error "TOPO_SH, CX_SH and PRKIT_PATH must name topo.sh, cluster_extra.sh and prkit"
#endif

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void cx_topology(int links, bool qdevice)
{
	if (links <= 1 && !qdevice) {
		unsetenv("PRKIT_TOPO_SH");
		unsetenv("CX_LINKS");
		unsetenv("CX_QDEVICE");
		return;
	}
	setenv("PRKIT_TOPO_SH", CX_SH, 1);
	setenv("CX_TOPO_REAL", TOPO_SH, 1);
	if (links > 1)
		setenv("CX_LINKS", "2", 1);
	else
		unsetenv("CX_LINKS");
	if (qdevice)
		setenv("CX_QDEVICE", "1", 1);
	else
		unsetenv("CX_QDEVICE");
}

int cx_link(int i, int l, bool up)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "bash '%s' %s %d %d", TOPO_SH, up ? "link-up" : "link-down", i,
	         l);
	int st = system(cmd);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int cx_wait_exit(int i, int ms, int *code)
{
	/* The PID cluster_harness.c recorded for topo.sh's down. */
	char path[400];
	snprintf(path, sizeof(path), "%s/pids/n%d.prkitd", cl_work(), i);
	FILE *f = fopen(path, "r");
	int pid = 0;
	if (!f)
		return -1;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 0)
		return -1;
	uint64_t end = h_now_ms() + (uint64_t)ms;
	for (;;) {
		/* WNOWAIT: the harness reaps it (cl_down), as it does any
		 * prkitd it started. */
		siginfo_t si = {0};
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
			return -1;
		if (si.si_pid == pid) {
			*code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
			return 1;
		}
		if (h_now_ms() >= end)
			return 0;
		sleep_ms(20);
	}
}

int cx_rtpg(struct iscsi_context *iscsi, uint8_t *buf, size_t cap, size_t *len)
{
	/* MAINTENANCE IN, service action REPORT TARGET PORT GROUPS (0Ah),
	 * length format (not extended). */
	uint8_t cdb[12] = {0xa3, 0x0a};
	cdb[6] = (uint8_t)(cap >> 24);
	cdb[7] = (uint8_t)(cap >> 16);
	cdb[8] = (uint8_t)(cap >> 8);
	cdb[9] = (uint8_t)cap;
	struct scsi_task *t = scsi_create_task(12, cdb, SCSI_XFER_READ, (int)cap);
	assert_non_null(t);
	if (!iscsi_scsi_command_sync(iscsi, 0, t, NULL)) {
		scsi_free_scsi_task(t);
		return -1;
	}
	int st = t->status;
	size_t n = (size_t)t->datain.size < cap ? (size_t)t->datain.size : cap;
	memcpy(buf, t->datain.data, n);
	*len = n;
	scsi_free_scsi_task(t);
	return st;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int cx_parse_rtpg(const uint8_t *buf, size_t len, struct cx_group *g, int cap)
{
	if (len < 4 || be32(buf) + 4 != len)
		return -1;
	int n = 0;
	size_t p = 4;
	while (p < len) {
		/* 8 bytes of descriptor, then 4 per target port. */
		if (p + 8 > len || n == cap)
			return -1;
		size_t ports = buf[p + 7];
		if (p + 8 + 4 * ports > len)
			return -1;
		g[n].state = buf[p] & 0x0f;
		g[n].tpg = be16(buf + p + 2);
		g[n].n_ports = (uint8_t)ports;
		g[n].rtpi = ports ? be16(buf + p + 8 + 2) : 0;
		n++;
		p += 8 + 4 * ports;
	}
	return n;
}

json_object *cx_cli_cluster(int i)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "'%s' target -s '%s/n%d/admin.sock' cluster --json", PRKIT_PATH,
	         cl_work(), i);
	FILE *f = popen(cmd, "r");
	if (!f)
		return NULL;
	static char buf[65536];
	size_t have = fread(buf, 1, sizeof(buf) - 1, f);
	buf[have] = 0;
	int st = pclose(f);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr,
		        "# prkit target cluster --json on node %d: status 0x%x, output %s\n", i, st,
		        buf);
		return NULL;
	}
	json_object *o = json_tokener_parse(buf), *c;
	if (!o)
		return NULL;
	/* The admin answer, or (should the CLI unwrap it) the object alone. */
	if (json_object_object_get_ex(o, "cluster", &c)) {
		json_object_get(c);
		json_object_put(o);
		return c;
	}
	return o;
}

static json_object *members(json_object *c)
{
	json_object *m;
	return c && json_object_object_get_ex(c, "members", &m) &&
	               json_object_is_type(m, json_type_array)
	           ? m
	           : NULL;
}

static long get_int(json_object *o, const char *k, long dflt)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? (long)json_object_get_int64(v) : dflt;
}

int cx_n_members(json_object *c)
{
	json_object *m = members(c);
	return m ? (int)json_object_array_length(m) : 0;
}

static json_object *member(json_object *c, int node)
{
	json_object *m = members(c);
	for (size_t k = 0; m && k < json_object_array_length(m); k++) {
		json_object *x = json_object_array_get_idx(m, k);
		if (get_int(x, "node", -1) == node)
			return x;
	}
	return NULL;
}

bool cx_is_member(json_object *c, int node)
{
	return member(c, node) != NULL;
}

int cx_link_state(json_object *c, int node, int l)
{
	json_object *x = member(c, node), *ls, *up;
	if (!x || !json_object_object_get_ex(x, "links", &ls))
		return -1;
	for (size_t k = 0; k < json_object_array_length(ls); k++) {
		json_object *e = json_object_array_get_idx(ls, k);
		if (get_int(e, "link", -1) == l && json_object_object_get_ex(e, "up", &up))
			return json_object_get_boolean(up) ? 1 : 0;
	}
	return -1;
}

long cx_lease_left(json_object *c)
{
	return c ? get_int(c, "lease_ms_left", 0) : 0;
}
