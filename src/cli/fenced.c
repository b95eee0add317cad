/* `prkit fenced`: runs the daemon (src/fenced) in the foreground, or asks
 * a running one for its status or key over the status socket. */
#include <stdio.h>
#include <stdlib.h>

#include "fd_daemon.h"
#include "fenced.h"
#include "fenced_cli.h"

/* The status socket's reply (parsed), or NULL with a message. */
static json_object *ask(const struct prk_fdcli_args *a)
{
	static struct prk_fd_config cfg;
	char path[108], err[1024];
	prk_fd_config_init(&cfg);
	if (a->config && prk_fd_config_load(a->config, &cfg, err, sizeof(err))) {
		fprintf(stderr, "prkit fenced: %s\n", err);
		return NULL;
	}
	if (a->socket)
		snprintf(path, sizeof(path), "%s", a->socket);
	else
		prk_fd_socket_path(&cfg, path, sizeof(path));
	/* The daemon answers between storage steps, each bounded by its
	 * io_timeout_ms: wait longer than one. */
	char *text = prk_fd_status_query(path, 15000, err, sizeof(err));
	if (!text) {
		fprintf(stderr, "prkit fenced: %s\n", err);
		return NULL;
	}
	json_object *st = json_tokener_parse(text), *e;
	free(text);
	if (!st || !json_object_is_type(st, json_type_object)) {
		fprintf(stderr, "prkit fenced: %s sent an answer that is not a JSON object\n",
		        path);
		json_object_put(st);
		return NULL;
	}
	if (json_object_object_get_ex(st, "error", &e)) {
		fprintf(stderr, "prkit fenced: %s: %s\n", path, json_object_get_string(e));
		json_object_put(st);
		return NULL;
	}
	return st;
}

int prk_cli_fenced(int argc, char **argv)
{
	struct prk_fdcli_args a;
	char err[512];
	if (prk_fdcli_parse(argc, argv, &a, err, sizeof(err))) {
		fprintf(stderr, "prkit fenced: %s (prkit fenced --help)\n", err);
		return PRK_FDCLI_EXIT_ERROR;
	}
	if (a.cmd == PRK_FDCLI_HELP) {
		prk_fdcli_usage(stdout);
		return 0;
	}
	if (a.cmd == PRK_FDCLI_RUN) {
		static struct prk_fd_config cfg;
		char cerr[1024];
		if (prk_fd_config_load(a.config, &cfg, cerr, sizeof(cerr))) {
			fprintf(stderr, "prkit fenced: %s\n", cerr);
			return PRK_FD_EXIT_ERROR;
		}
		prk_fd_daemon_verbose(a.verbose);
		return prk_fd_daemon_run(&cfg, stderr);
	}
	json_object *st = ask(&a);
	if (!st)
		return PRK_FDCLI_EXIT_ERROR;
	int rc;
	if (a.cmd == PRK_FDCLI_KEY) {
		rc = prk_fdcli_key(st, stdout, stderr);
	} else {
		if (a.json)
			printf("%s\n", json_object_to_json_string_ext(st, JSON_C_TO_STRING_PRETTY));
		else
			prk_fdcli_print_status(stdout, st);
		rc = prk_fdcli_status_exit(st);
	}
	json_object_put(st);
	return rc;
}
