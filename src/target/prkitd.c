/* prkitd: the iSCSI target daemon. Loads and validates the configuration,
 * builds the daemon (src/target/daemon.c), listens on the portals, and runs
 * one event loop until SIGTERM or SIGINT. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "admin.h"
#include "aptpl.h"
#include "check.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "loop.h"

static void on_signal(void *arg, uint32_t events)
{
	struct daemon *d = arg;
	struct signalfd_siginfo si;
	(void)events;
	if (read(prk_loop_fd_number(d->sig), &si, sizeof(si)) == (ssize_t)sizeof(si))
		prk_info("signal %u: stopping", si.ssi_signo);
	prk_loop_stop(d->loop);
}

/* The admin socket: --admin-socket, else the configuration's, else the
 * default ("none": no socket). */
static void admin_path(const struct prk_cfg *cfg, const char *opt, char *sock, size_t cap)
{
	if (opt)
		snprintf(sock, cap, "%s", opt);
	else if (cfg->admin_socket[0])
		snprintf(sock, cap, "%s", cfg->admin_socket);
	else
		prk_admin_default_path(sock, cap);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: prkitd -c CONFIG.json [--log-level LEVEL]\n"
	           "       prkitd --demo [--port PORT] [--log-level LEVEL]\n"
	           "\n"
	           "  -c, --config FILE   the JSON configuration (see docs/prkitd.md)\n"
	           "      --demo          serve one 64 MiB RAM LU on 127.0.0.1 (no config needed)\n"
	           "      --port PORT     demo portal port (default 3260; 0 = any free port)\n"
	           "      --check         check everything a start would (configuration,\n"
	           "                      backing files, addresses, memory) and exit\n"
	           "      --admin-socket P  the admin socket (\"none\": no socket)\n"
	           "  -l, --log-level L   error, warn, info (default) or debug\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"demo", no_argument, NULL, 'd'},
	                                     {"port", required_argument, NULL, 'p'},
	                                     {"log-level", required_argument, NULL, 'l'},
	                                     {"check", no_argument, NULL, 'k'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"admin-socket", required_argument, NULL, 's'},
	                                     {NULL, 0, NULL, 0}};
	const char *config = NULL, *level = NULL, *admin_socket = NULL;
	bool demo = false, check = false;
	long port = 3260;
	int c;
	while ((c = getopt_long(argc, argv, "c:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'd':
			demo = true;
			break;
		case 'p': {
			char *end;
			port = strtol(optarg, &end, 10);
			if (*end || port < 0 || port > 65535) {
				fprintf(stderr, "prkitd: --port: \"%s\" is not a port number\n",
				        optarg);
				return 2;
			}
			break;
		}
		case 'l':
			level = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 's':
			admin_socket = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || (!config && !demo) || (config && demo)) {
		if (optind < argc)
			fprintf(stderr, "prkitd: unexpected argument \"%s\"\n", argv[optind]);
		else
			fprintf(stderr, "prkitd: give either -c CONFIG or --demo\n");
		usage(stderr);
		return 2;
	}
	struct daemon d;
	memset(&d, 0, sizeof(d));
	char err[1024];
	if (demo) {
		prk_cfg_demo(&d.cfg, (uint16_t)port);
	} else if (prk_cfg_load(config, &d.cfg, err, sizeof(err))) {
		fprintf(stderr, "prkitd: %s\n", err);
		return 1;
	}
	char sock[108];
	admin_path(&d.cfg, admin_socket, sock, sizeof(sock));
	if (check) {
		/* Everything a start would check, without starting. */
		char state[4096];
		if (d.cfg.state_dir[0])
			snprintf(state, sizeof(state), "%s", d.cfg.state_dir);
		else
			prk_aptpl_default_dir(state, sizeof(state));
		int bad = prk_check_config(&d.cfg, strcmp(sock, "none") ? sock : NULL, state,
		                           stderr, err, sizeof(err));
		prk_cfg_free(&d.cfg);
		if (bad) {
			fprintf(stderr, "prkitd: %s%s%s\n", config ? config : "",
			        config ? ": " : "", err);
			return 1;
		}
		printf("%s: configuration is valid\n", config ? config : "--demo");
		return 0;
	}
	const char *lv = level ? level : d.cfg.log_level;
	int l = prk_log_parse_level(lv);
	if (l < 0) {
		fprintf(stderr, "prkitd: --log-level: \"%s\" is not error, warn, info or debug\n",
		        lv);
		prk_cfg_free(&d.cfg);
		return 2;
	}
	prk_log_set_level((enum prk_log_level)l);

	/* Data buffers of up to a few MiB come and go with every command:
	 * keep them in the heap instead of mmap/munmap and trimming each time
	 * (the benchmark saw systrim and page faults dominate 1 MiB I/O). */
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d.loop = prk_loop_new();
	if (sfd < 0 || !d.loop) {
		fprintf(stderr, "prkitd: cannot set up the event loop: %s\n", strerror(errno));
		return 1;
	}
	d.sig = prk_loop_add_owned(d.loop, sfd, EPOLLIN, on_signal, &d);
	if (prk_daemon_build(&d, err, sizeof(err))) {
		fprintf(stderr, "prkitd: %s\n", err);
		prk_daemon_teardown(&d);
		return 1;
	}
	if (strcmp(sock, "none") != 0) {
		if (prk_admin_start(&d, sock, err, sizeof(err))) {
			fprintf(stderr, "prkitd: %s\n", err);
			prk_daemon_teardown(&d);
			return 1;
		}
		prk_info("admin socket %s", sock);
	}
	if (demo) {
		uint16_t p = prk_iscsi_server_portal_port(d.srv, 0);
		printf("prkitd: serving %s LUN 0 (64 MiB RAM, thin) on 127.0.0.1:%u\n"
		       "  try:  iscsi-inq iscsi://127.0.0.1:%u/%s/0\n"
		       "        iscsi-ls -s iscsi://127.0.0.1:%u\n"
		       "        prkit target list%s%s\n"
		       "  stop: Ctrl-C\n",
		       PRK_DEMO_TARGET, p, p, PRK_DEMO_TARGET, p, admin_socket ? " -s " : "",
		       admin_socket ? admin_socket : "");
		fflush(stdout);
	}
	int r = prk_loop_run(d.loop);
	prk_daemon_teardown(&d);
	return r ? 1 : 0;
}
