/* prkit: the command-line tool. `prkit target ...` talks to a running
 * prkitd over its admin socket. (`prkit persist` and `prkit fence` come
 * with the host-side issues.) */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin.h"
#include "copy.h"
#include "fence.h"
#include "fenced.h"
#include "io.h"
#include "mount_cli.h"
#include "persist.h"
#include "target_cluster.h"

static int usage(FILE *f)
{
	fprintf(f,
	        "usage: prkit target [-s SOCKET] [--json] COMMAND\n"
	        "\n"
	        "commands:\n"
	        "  list                         targets and their LUNs\n"
	        "  show TARGET                  one target\n"
	        "  sessions                     logged-in sessions\n"
	        "  portals                      listening portals\n"
	        "  cluster                      cluster mode: members, quorum, links, epoch, LUs\n"
	        "  loops                        event loops, and how often they were paused\n"
	        "  add-lu TARGET LUN (--ram SIZE |\n"
	        "                     --file PATH [--size SIZE] [--create] [--grow] [--direct])\n"
	        "         [--block-size 512|4096] [--thin] [--serial S] [--readonly] [--no-pr]\n"
	        "  remove-lu TARGET LUN\n"
	        "  add-portal ADDRESS:PORT [--tpgt N] [--rtpi N]\n"
	        "  remove-portal ADDRESS:PORT\n"
	        "  set-alua ADDRESS:PORT STATE  active_optimized, active_non_optimized,\n"
	        "                               standby or unavailable\n"
	        "\n"
	        "  -s, --socket PATH  the admin socket (default: as prkitd's default)\n"
	        "      --json         print the daemon's JSON answer\n");
	return f == stdout ? 0 : 2;
}

/* Sends one request, returns the parsed answer or NULL (message printed). */
static json_object *call(const char *path, json_object *req)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "prkit: socket path too long: %s\n", path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "prkit: cannot reach prkitd at %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
		fprintf(stderr, "prkit: cannot send to %s: %s\n", path, strerror(errno));
		close(fd);
		return NULL;
	}
	shutdown(fd, SHUT_WR);
	size_t cap = 65536, have = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (have + 1 >= cap) {
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb)
				break;
			buf = nb;
		}
		ssize_t n = read(fd, buf + have, cap - have - 1);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	buf[have] = 0;
	json_object *rsp = json_tokener_parse(buf);
	free(buf);
	if (!rsp)
		fprintf(stderr, "prkit: prkitd sent an answer that is not JSON\n");
	return rsp;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static long long num(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static void print_target(json_object *t)
{
	printf("%s%s%s%s\n", str(t, "name"), *str(t, "alias") ? "  (" : "", str(t, "alias"),
	       *str(t, "alias") ? ")" : "");
	json_object *luns, *acls;
	if (json_object_object_get_ex(t, "acls", &acls) && json_object_array_length(acls)) {
		printf("  acls:");
		for (size_t i = 0; i < json_object_array_length(acls); i++)
			printf(" %s", json_object_get_string(json_object_array_get_idx(acls, i)));
		printf("\n");
	}
	if (!json_object_object_get_ex(t, "luns", &luns))
		return;
	for (size_t i = 0; i < json_object_array_length(luns); i++) {
		json_object *l = json_object_array_get_idx(luns, i);
		json_object *pr;
		bool no_pr = json_object_object_get_ex(l, "persistent_reservations", &pr) &&
		             !json_object_get_boolean(pr);
		printf("  lun %-3lld %-4s %10.1f MiB  block %lld%s%s  serial %s  %s\n",
		       num(l, "lun"), str(l, "backstore"), (double)num(l, "size") / 1048576.0,
		       num(l, "block_size"),
		       json_object_get_boolean(json_object_object_get(l, "thin")) ? "  thin" : "",
		       no_pr ? "  no-pr" : "", str(l, "serial"), str(l, "path"));
	}
}

/* The daemon's copy manager: the TransportID a backup application moves
 * its reservation to (REGISTER AND MOVE), and its counters. */
static void print_cm(json_object *r)
{
	json_object *cm;
	if (!json_object_object_get_ex(r, "copy_manager", &cm))
		return;
	if (!json_object_get_boolean(json_object_object_get(cm, "enabled"))) {
		printf("copy manager: off\n");
		return;
	}
	printf("copy manager: %s  rtpi %lld\n", str(cm, "transport_id"), num(cm, "rtpi"));
	printf("  copies: %lld active (max %lld), %lld started, %lld done, %lld failed, %lld "
	       "aborted; %lld bytes\n",
	       num(cm, "active"), num(cm, "max_copies"), num(cm, "started"), num(cm, "done"),
	       num(cm, "failed"), num(cm, "aborted"), num(cm, "bytes"));
}

static void print_pr(json_object *r)
{
	json_object *v;
	printf("PRgeneration 0x%llx  APTPL %s%s\n", num(r, "generation"),
	       json_object_get_boolean(json_object_object_get(r, "aptpl")) ? "on" : "off",
	       json_object_get_boolean(json_object_object_get(r, "lost"))
	           ? "  RESERVATION INFORMATION LOST"
	           : "");
	if (json_object_object_get_ex(r, "reservation", &v))
		printf("reservation: %s (type %lld), scope %lld\n", str(v, "type"),
		       num(v, "type_code"), num(v, "scope"));
	else
		printf("reservation: none\n");
	if (json_object_object_get_ex(r, "spc2_reservation", &v))
		printf("SPC-2 reservation: %s isid %s rtpi %lld\n", str(v, "initiator"),
		       str(v, "isid"), num(v, "rtpi"));
	json_object *regs = json_object_object_get(r, "registrations");
	printf("registrations: %zu\n", regs ? json_object_array_length(regs) : 0);
	for (size_t i = 0; regs && i < json_object_array_length(regs); i++) {
		json_object *g = json_object_array_get_idx(regs, i);
		printf("  key %s  %s isid %s rtpi %s%s%s\n", str(g, "key"), str(g, "initiator"),
		       str(g, "isid"), str(g, "rtpi"),
		       json_object_get_boolean(json_object_object_get(g, "holder")) ? "  HOLDER"
		                                                                    : "",
		       json_object_get_boolean(json_object_object_get(g, "logged_in"))
		           ? "  logged in"
		           : "  not logged in");
	}
}

static int split_addr(const char *s, char *addr, size_t cap, int *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= cap)
		return -1;
	const char *a = s, *e = colon;
	if (*a == '[' && e[-1] == ']') {
		a++;
		e--;
	}
	memcpy(addr, a, (size_t)(e - a));
	addr[e - a] = 0;
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end || p < 0 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

/* A LUN argument of `cmd`: says whether it is no number at all or a number
 * out of range, as given (never turned into another number). */
static int lun_arg(const char *cmd, const char *s, long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end) {
		fprintf(stderr, "prkit target %s: \"%s\" is not a LUN number (0..%d)\n", cmd, s,
		        PRK_ADMIN_MAX_LUN);
		return -1;
	}
	if (errno == ERANGE || v < 0 || v > PRK_ADMIN_MAX_LUN) {
		fprintf(stderr, "prkit target %s: LUN %s is out of range 0..%d\n", cmd, s,
		        PRK_ADMIN_MAX_LUN);
		return -1;
	}
	*out = (long)v;
	return 0;
}

/* TARGET LUN of pr and remove-lu. */
static long target_lun_args(const char *cmd, int argc, char **argv, int *rc)
{
	long lun = -1;
	if (argc != 3) {
		fprintf(stderr, "prkit target %s: give TARGET and a LUN 0..%d\n", cmd,
		        PRK_ADMIN_MAX_LUN);
		*rc = 2;
	} else if (lun_arg(cmd, argv[2], &lun)) {
		*rc = 2;
	}
	return lun;
}

/* getopt takes "-1" for an option: among add-lu's arguments, one that is a
 * negative number and no option's value can only be a LUN out of range. */
static bool negative_lun(int argc, char **argv)
{
	static const char *const with_value[] = {"--ram",        "--file",   "--size",
	                                         "--block-size", "--serial", NULL};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool value_of_prev = false;
		for (const char *const *o = with_value; *o; o++)
			value_of_prev |= strcmp(argv[i - 1], *o) == 0;
		if (value_of_prev || a[0] != '-' || !a[1] ||
		    strspn(a + 1, "0123456789") != strlen(a + 1))
			continue;
		long lun;
		lun_arg("add-lu", a, &lun);
		return true;
	}
	return false;
}

static json_object *build_request(int argc, char **argv, int *rc)
{
	const char *cmd = argv[0];
	json_object *req = json_object_new_object();
	*rc = 0;
	if (!strcmp(cmd, "list") || !strcmp(cmd, "show")) {
		json_object_object_add(req, "cmd", json_object_new_string("targets"));
		if (!strcmp(cmd, "show") && argc != 2) {
			fprintf(stderr, "prkit target show: give one TARGET\n");
			*rc = 2;
		}
	} else if (!strcmp(cmd, "sessions") || !strcmp(cmd, "portals") || !strcmp(cmd, "cluster") ||
	           !strcmp(cmd, "loops")) {
		json_object_object_add(req, "cmd", json_object_new_string(cmd));
	} else if (!strcmp(cmd, "pr")) {
		long lun = target_lun_args(cmd, argc, argv, rc);
		json_object_object_add(req, "cmd", json_object_new_string(cmd));
		json_object_object_add(req, "target",
		                       json_object_new_string(argc > 1 ? argv[1] : ""));
		json_object_object_add(req, "lun", json_object_new_int((int)lun));
	} else if (!strcmp(cmd, "remove-lu")) {
		long lun = target_lun_args(cmd, argc, argv, rc);
		json_object_object_add(req, "cmd", json_object_new_string(cmd));
		json_object_object_add(req, "target",
		                       json_object_new_string(argc > 1 ? argv[1] : ""));
		json_object_object_add(req, "lun", json_object_new_int((int)lun));
	} else if (!strcmp(cmd, "add-lu")) {
		static const struct option o[] = {{"ram", required_argument, NULL, 'r'},
		                                  {"file", required_argument, NULL, 'f'},
		                                  {"size", required_argument, NULL, 'z'},
		                                  {"direct", no_argument, NULL, 'd'},
		                                  {"block-size", required_argument, NULL, 'b'},
		                                  {"thin", no_argument, NULL, 't'},
		                                  {"serial", required_argument, NULL, 'S'},
		                                  {"readonly", no_argument, NULL, 'R'},
		                                  {"no-pr", no_argument, NULL, 'P'},
		                                  {"create", no_argument, NULL, 'C'},
		                                  {"grow", no_argument, NULL, 'G'},
		                                  {NULL, 0, NULL, 0}};
		json_object *lun = json_object_new_object(), *bs = json_object_new_object();
		int c;
		if (negative_lun(argc, argv)) {
			*rc = 2;
			json_object_put(lun);
			json_object_put(bs);
			return req;
		}
		optind = 0; /* glibc: 0 re-initialises getopt for this sub-command */
		while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
			switch (c) {
			case 'r':
				json_object_object_add(bs, "type", json_object_new_string("ram"));
				json_object_object_add(bs, "size", json_object_new_string(optarg));
				break;
			case 'f':
				json_object_object_add(bs, "type", json_object_new_string("file"));
				json_object_object_add(bs, "path", json_object_new_string(optarg));
				break;
			case 'z':
				json_object_object_add(bs, "size", json_object_new_string(optarg));
				break;
			case 'd':
				json_object_object_add(bs, "direct", json_object_new_boolean(1));
				break;
			case 'C':
				json_object_object_add(bs, "create", json_object_new_boolean(1));
				break;
			case 'G':
				json_object_object_add(bs, "grow", json_object_new_boolean(1));
				break;
			case 'b':
				json_object_object_add(lun, "block_size",
				                       json_object_new_int(atoi(optarg)));
				break;
			case 't':
				json_object_object_add(lun, "thin", json_object_new_boolean(1));
				break;
			case 'S':
				json_object_object_add(lun, "serial",
				                       json_object_new_string(optarg));
				break;
			case 'R':
				json_object_object_add(lun, "readonly", json_object_new_boolean(1));
				break;
			case 'P':
				json_object_object_add(lun, "persistent_reservations",
				                       json_object_new_boolean(0));
				break;
			default:
				*rc = 2;
			}
		}
		long n = -1;
		if (argc - optind != 2) {
			fprintf(stderr, "prkit target add-lu: give TARGET and a LUN 0..%d\n",
			        PRK_ADMIN_MAX_LUN);
			*rc = 2;
		} else if (lun_arg(cmd, argv[optind + 1], &n)) {
			*rc = 2;
		}
		json_object_object_add(lun, "lun", json_object_new_int((int)n));
		json_object_object_add(lun, "backstore", bs);
		json_object_object_add(req, "cmd", json_object_new_string(cmd));
		json_object_object_add(req, "target",
		                       json_object_new_string(optind < argc ? argv[optind] : ""));
		json_object_object_add(req, "lun", lun);
	} else if (!strcmp(cmd, "add-portal") || !strcmp(cmd, "remove-portal")) {
		static const struct option o[] = {{"tpgt", required_argument, NULL, 'g'},
		                                  {"rtpi", required_argument, NULL, 'p'},
		                                  {NULL, 0, NULL, 0}};
		int c;
		optind = 0; /* glibc: 0 re-initialises getopt for this sub-command */
		json_object_object_add(req, "cmd", json_object_new_string(cmd));
		while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
			if (c == 'g' || c == 'p')
				json_object_object_add(req, c == 'g' ? "tpgt" : "rtpi",
				                       json_object_new_int(atoi(optarg)));
			else
				*rc = 2;
		}
		char addr[64];
		int port;
		if (argc - optind != 1 || split_addr(argv[optind], addr, sizeof(addr), &port)) {
			fprintf(stderr, "prkit target %s: give ADDRESS:PORT\n", cmd);
			*rc = 2;
		} else {
			json_object_object_add(req, "address", json_object_new_string(addr));
			json_object_object_add(req, "port", json_object_new_int(port));
		}
	} else if (!strcmp(cmd, "set-alua")) {
		char addr[64];
		int port;
		json_object_object_add(req, "cmd", json_object_new_string(cmd));
		if (argc != 3 || split_addr(argv[1], addr, sizeof(addr), &port)) {
			fprintf(stderr, "prkit target set-alua: give ADDRESS:PORT and a state "
			                "(active_optimized, active_non_optimized, standby, "
			                "unavailable)\n");
			*rc = 2;
		} else {
			json_object_object_add(req, "address", json_object_new_string(addr));
			json_object_object_add(req, "port", json_object_new_int(port));
			json_object_object_add(req, "state", json_object_new_string(argv[2]));
		}
	} else {
		fprintf(stderr, "prkit target: unknown command \"%s\"\n", cmd);
		*rc = 2;
	}
	return req;
}

static int target_main(int argc, char **argv)
{
	static const struct option o[] = {{"socket", required_argument, NULL, 's'},
	                                  {"json", no_argument, NULL, 'j'},
	                                  {"help", no_argument, NULL, 'h'},
	                                  {NULL, 0, NULL, 0}};
	char sock[108];
	prk_admin_default_path(sock, sizeof(sock));
	bool json = false;
	int c;
	/* --json may also follow the command (`prkit target pr T 0 --json`). */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json")) {
			json = true;
			for (int j = i; j < argc - 1; j++)
				argv[j] = argv[j + 1];
			argc--;
			i--;
		}
	/* Options before the command only; the command parses its own. */
	while ((c = getopt_long(argc, argv, "+s:h", o, NULL)) != -1) {
		switch (c) {
		case 's':
			snprintf(sock, sizeof(sock), "%s", optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return usage(stdout);
		default:
			return usage(stderr);
		}
	}
	if (optind >= argc)
		return usage(stderr);
	int rc;
	json_object *req = build_request(argc - optind, argv + optind, &rc);
	if (rc) {
		json_object_put(req);
		return rc;
	}
	json_object *rsp = call(sock, req);
	json_object_put(req);
	if (!rsp)
		return 1;
	json_object *ok;
	if (!json_object_object_get_ex(rsp, "ok", &ok) || !json_object_get_boolean(ok)) {
		fprintf(stderr, "prkit: %s\n", str(rsp, "error"));
		json_object_put(rsp);
		return 1;
	}
	const char *cmd = argv[optind];
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(rsp, JSON_C_TO_STRING_PRETTY));
	} else if (!strcmp(cmd, "list") || !strcmp(cmd, "show")) {
		json_object *ts = json_object_object_get(rsp, "targets");
		bool found = false;
		for (size_t i = 0; i < json_object_array_length(ts); i++) {
			json_object *t = json_object_array_get_idx(ts, i);
			if (!strcmp(cmd, "show") && strcasecmp(str(t, "name"), argv[optind + 1]))
				continue;
			found = true;
			print_target(t);
		}
		if (!strcmp(cmd, "show") && !found) {
			fprintf(stderr, "prkit: no target named \"%s\"\n", argv[optind + 1]);
			rc = 1;
		} else {
			print_cm(rsp);
		}
	} else if (!strcmp(cmd, "sessions")) {
		json_object *ss = json_object_object_get(rsp, "sessions");
		for (size_t i = 0; i < json_object_array_length(ss); i++) {
			json_object *s = json_object_array_get_idx(ss, i);
			printf("%s isid %s -> %s  tsih %lld tpgt %lld  %s  tasks %lld\n",
			       str(s, "initiator"), str(s, "isid"),
			       *str(s, "target") ? str(s, "target") : "(discovery)", num(s, "tsih"),
			       num(s, "tpgt"), str(s, "peer"), num(s, "tasks"));
		}
	} else if (!strcmp(cmd, "pr")) {
		print_pr(rsp);
	} else if (!strcmp(cmd, "cluster")) {
		prk_cli_print_cluster(rsp);
	} else if (!strcmp(cmd, "loops")) {
		printf("threads %lld  pauses %lld\n", num(rsp, "threads"), num(rsp, "pauses"));
	} else if (!strcmp(cmd, "portals")) {
		json_object *ps = json_object_object_get(rsp, "portals");
		for (size_t i = 0; i < json_object_array_length(ps); i++) {
			json_object *p = json_object_array_get_idx(ps, i);
			printf("%s:%lld  tpgt %lld  rtpi %lld  alua %s  connections %lld\n",
			       str(p, "address"), num(p, "port"), num(p, "tpgt"), num(p, "rtpi"),
			       str(p, "alua_state"), num(p, "connections"));
		}
	}
	json_object_put(rsp);
	return rc;
}

int main(int argc, char **argv)
{
	/* Installed as fence_prkit too: Pacemaker runs the agent by that name. */
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "fence_prkit")) {
		argv[0] = "fence";
		return prk_cli_fence(argc, argv);
	}
	if (argc >= 2 && !strcmp(argv[1], "fence"))
		return prk_cli_fence(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "fenced"))
		return prk_cli_fenced(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "target"))
		return target_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "persist"))
		return prk_cli_persist(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "copy"))
		return prk_cli_copy(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "io"))
		return prk_cli_io(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "mount"))
		return prk_cli_mount(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf(
		    "usage: prkit target ...   the prkitd admin socket (below)\n"
		    "       prkit persist ...  persistent reservations, sg_persist style "
		    "(prkit persist --help)\n"
		    "       prkit io ...       I/O through a multipath device (prkit io "
		    "--help)\n"
		    "       prkit mount ...    the multipath device as a file (prkit mount "
		    "--help)\n"
		    "       prkit copy ...     EXTENDED COPY between LUs, third-party "
		    "reservations (prkit copy --help)\n"
		    "       prkit fence ...    the fence agent fence_prkit (prkit fence --help)\n"
		    "       prkit fenced ...   fencing driven by Corosync membership (prkit "
		    "fenced --help)\n\n");
		return usage(stdout);
	}
	fprintf(stderr, "prkit: %s\n",
	        argc < 2 ? "give a command (target, persist, io, mount, copy, fence, fenced)"
	                 : "unknown command; try prkit --help");
	return 2;
}
