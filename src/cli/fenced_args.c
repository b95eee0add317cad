/* `prkit fenced`: the command line (fenced_cli.h). Parsed by hand, not by
 * getopt, so that the sub-command may come first or not at all (`prkit
 * fenced -c F` runs the daemon) and every mistake names the argument. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "errfmt.h"
#include "fenced_cli.h"

void prk_fdcli_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: prkit fenced [run] -c CONFIG [-v]          run the daemon in the foreground\n"
	    "       prkit fenced status [--json] [-c CONFIG | -s SOCKET]\n"
	    "       prkit fenced key [-c CONFIG | -s SOCKET]   this node's key\n"
	    "\n"
	    "  -c, --config FILE  the daemon's configuration (JSON; docs/fenced.md)\n"
	    "  -s, --socket PATH  the status socket (default: from the configuration, else\n"
	    "                     <state dir>/fenced.sock)\n"
	    "      --json         status: the daemon's JSON reply\n"
	    "  -v, --verbose      run: log every message and self-check\n"
	    "\n"
	    "exit status: run 0 stopped by SIGTERM/SIGINT, 1 start-up failure, 3 stopped\n"
	    "after a self-fence; status 0 running, 2 answers but is not running (starting,\n"
	    "joining, inquorate, self-fenced), 1 cannot be reached; key 0 joined, 2 not\n"
	    "joined, 1 cannot be reached.\n");
}

/* The value of an option: "--opt=V", or the next argument. */
static int value(int argc, char **argv, int *i, const char *eq, const char **out, char *err,
                 size_t errlen)
{
	if (eq) {
		*out = eq + 1;
	} else if (*i + 1 < argc) {
		*out = argv[++*i];
	} else {
		return prk_errf(err, errlen, "%s needs a value", argv[*i]);
	}
	if (!**out) {
		/* Name the option, not "--opt=": argv[*i] is the value when it came apart. */
		const char *opt = eq ? argv[*i] : argv[*i - 1];
		return prk_errf(err, errlen, "%.*s: empty value", (int)strcspn(opt, "="), opt);
	}
	return 0;
}

static bool is_opt(const char *arg, const char *s, const char *l, const char **eq)
{
	*eq = NULL;
	if (s && !strcmp(arg, s))
		return true;
	size_t n = strlen(l);
	if (!strncmp(arg, l, n) && (arg[n] == 0 || arg[n] == '=')) {
		*eq = arg[n] == '=' ? arg + n : NULL;
		return true;
	}
	return false;
}

int prk_fdcli_parse(int argc, char **argv, struct prk_fdcli_args *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->cmd = PRK_FDCLI_RUN;
	bool have_cmd = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq;
		if (is_opt(arg, "-h", "--help", &eq)) {
			a->cmd = PRK_FDCLI_HELP;
			return 0;
		} else if (is_opt(arg, "-c", "--config", &eq)) {
			if (value(argc, argv, &i, eq, &a->config, err, errlen))
				return 1;
		} else if (is_opt(arg, "-s", "--socket", &eq)) {
			if (value(argc, argv, &i, eq, &a->socket, err, errlen))
				return 1;
		} else if (!strcmp(arg, "--json")) {
			a->json = 1;
		} else if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
			a->verbose++;
		} else if (arg[0] == '-') {
			return prk_errf(err, errlen, "unknown option '%s'", arg), 1;
		} else if (!have_cmd &&
		           (!strcmp(arg, "run") || !strcmp(arg, "status") || !strcmp(arg, "key"))) {
			have_cmd = true;
			a->cmd = !strcmp(arg, "run")      ? PRK_FDCLI_RUN
			         : !strcmp(arg, "status") ? PRK_FDCLI_STATUS
			                                  : PRK_FDCLI_KEY;
		} else if (!have_cmd) {
			return prk_errf(err, errlen, "unknown command '%s' (run, status, key)",
			                arg),
			       1;
		} else {
			return prk_errf(err, errlen, "unexpected argument '%s'", arg), 1;
		}
	}
	if (a->cmd == PRK_FDCLI_RUN) {
		if (!a->config)
			return prk_errf(err, errlen, "run: -c CONFIG is required"), 1;
		if (a->socket)
			return prk_errf(err, errlen,
			                "run: -s is for status and key (the daemon's socket is "
			                "\"socket\" in the configuration)"),
			       1;
		if (a->json)
			return prk_errf(err, errlen, "run: --json is for status"), 1;
	} else {
		if (a->config && a->socket)
			return prk_errf(err, errlen, "%s: give -c CONFIG or -s SOCKET, not both",
			                a->cmd == PRK_FDCLI_STATUS ? "status" : "key"),
			       1;
		if (a->verbose)
			return prk_errf(err, errlen, "%s: -v is for run",
			                a->cmd == PRK_FDCLI_STATUS ? "status" : "key"),
			       1;
		if (a->json && a->cmd == PRK_FDCLI_KEY)
			return prk_errf(err, errlen, "key: --json is for status"), 1;
	}
	return 0;
}
