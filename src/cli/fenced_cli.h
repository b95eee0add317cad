/* `prkit fenced`: the command line and the status text (pure: nothing but
 * writing to the FILE given; tests/unit/cli/test_fenced_cli.c), and the
 * command itself (fenced.c). docs/fenced.md. */
#ifndef PRKIT_CLI_FENCED_CLI_H
#define PRKIT_CLI_FENCED_CLI_H

#include <json-c/json.h>
#include <stdio.h>

enum prk_fdcli_cmd {
	PRK_FDCLI_RUN,    /* the daemon, in the foreground */
	PRK_FDCLI_STATUS, /* ask the daemon's status socket */
	PRK_FDCLI_KEY,    /* print this node's key */
	PRK_FDCLI_HELP,
};

struct prk_fdcli_args {
	enum prk_fdcli_cmd cmd;
	const char *config; /* -c / --config */
	const char *socket; /* -s / --socket */
	int json;           /* --json (status) */
	int verbose;        /* -v (run), counts */
};

/* Exit statuses of `status` and `key` (docs/fenced.md). */
#define PRK_FDCLI_EXIT_OK 0     /* answers, running or fencing / joined */
#define PRK_FDCLI_EXIT_ERROR 1  /* cannot be reached, bad arguments */
#define PRK_FDCLI_EXIT_NOT_OK 2 /* answers, but not running / not joined */

/* argv[0] is "fenced". 0, or 1 with a message naming the argument. */
int prk_fdcli_parse(int argc, char **argv, struct prk_fdcli_args *a, char *err, size_t errlen);
void prk_fdcli_usage(FILE *f);

/* The status reply as text. */
void prk_fdcli_print_status(FILE *f, json_object *st);
/* 0 for a reply whose state is running or fencing, else 2. */
int prk_fdcli_status_exit(json_object *st);
/* `key`: prints the key on out and returns 0 when the node has joined,
 * else a message on err and 2. */
int prk_fdcli_key(json_object *st, FILE *out, FILE *err);

#endif
