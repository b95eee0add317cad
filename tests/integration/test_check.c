/* prkitd refuses what it used to accept silently, and `prkitd --check`
 * finds everything a start would: a backing file that does not exist (a
 * typo served a new empty disk) unless "create": true, one shorter than its
 * size unless "grow": true, an address that cannot be bound, a JSON syntax
 * error by line and column. Also add-lu over the admin socket, and an
 * InitiatorName that is not UTF-8 at the first login PDU. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#ifndef PRKITD_PATH
#error "PRKITD_PATH must name the prkitd binary"
#endif

static char dir[64];
static char out[8192], errtext[8192];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/prkit-check-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void slurp(const char *path, char *buf, size_t cap)
{
	buf[0] = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = 0;
	fclose(f);
}

/* Runs prkitd with args (NULL-terminated) and PRKIT_STATE_DIR in dir.
 * Returns its exit status; one still running after 3 s (it started
 * serving) is stopped by its PID and reported as -2. */
static int run_prkitd(const char *const *args)
{
	char o[128], e[128];
	snprintf(o, sizeof(o), "%s/out.txt", dir);
	snprintf(e, sizeof(e), "%s/err.txt", dir);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char state[128];
		snprintf(state, sizeof(state), "%s/state", dir);
		setenv("PRKIT_STATE_DIR", state, 1);
		if (!freopen(o, "w", stdout) || !freopen(e, "w", stderr))
			_exit(126);
		const char *argv[16] = {"prkitd"};
		for (int i = 0; args[i] && i < 14; i++)
			argv[i + 1] = args[i];
		execv(PRKITD_PATH, (char *const *)argv);
		_exit(127);
	}
	int status = 0, rc = -2;
	for (int i = 0; i < 300; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
			break;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (rc == -2) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	}
	slurp(o, out, sizeof(out));
	slurp(e, errtext, sizeof(errtext));
	return rc;
}

/* Writes <dir>/prkitd.json: one file LU at <dir>/<img> with backstore
 * fields extra, and the portal address addr. */
static const char *config(const char *img, const char *extra, const char *addr)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/prkitd.json", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
	        "{\"portals\": [{\"address\": \"%s\", \"port\": 0}],\n"
	        " \"admin_socket\": \"%s/admin.sock\",\n"
	        " \"targets\": [{\"name\": \"%s\", \"luns\": [\n"
	        "   {\"backstore\": {\"type\": \"file\", \"path\": \"%s/%s\"%s}}]}]}\n",
	        addr, dir, H_TARGET, dir, img, extra);
	fclose(f);
	return path;
}

static bool exists(const char *name)
{
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static off_t size_of(const char *name)
{
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void make_file(const char *name, size_t len)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	close(fd);
}

static void test_missing_file_is_an_error(void **state)
{
	(void)state;
	const char *cfg = config("typo.img", ", \"size\": \"4M\"", "127.0.0.1");
	const char *check[] = {"-c", cfg, "--check", NULL};
	assert_int_equal(run_prkitd(check), 1);
	assert_non_null(strstr(errtext, "typo.img does not exist (\"create\": true"));
	const char *start[] = {"-c", cfg, NULL};
	assert_int_equal(run_prkitd(start), 1);
	assert_non_null(strstr(errtext, "target " H_TARGET " LUN 0: backstore.path"));
	assert_non_null(strstr(errtext, "typo.img does not exist"));
	assert_false(exists("typo.img")); /* no new empty disk */

	/* Asked for: created. */
	cfg = config("typo.img", ", \"size\": \"4M\", \"create\": true", "127.0.0.1");
	assert_int_equal(run_prkitd(check), 0);
	assert_false(exists("typo.img")); /* --check creates nothing */
	assert_int_equal(run_prkitd(start), -2);
	assert_int_equal(size_of("typo.img"), 4 << 20);
}

static void test_short_file_is_an_error(void **state)
{
	(void)state;
	make_file("short.img", 1 << 20);
	const char *cfg = config("short.img", ", \"size\": \"4M\"", "127.0.0.1");
	const char *check[] = {"-c", cfg, "--check", NULL};
	const char *start[] = {"-c", cfg, NULL};
	assert_int_equal(run_prkitd(check), 1);
	assert_non_null(strstr(errtext, "has 1048576 bytes, fewer than the size 4194304"));
	assert_int_equal(run_prkitd(start), 1);
	assert_int_equal(size_of("short.img"), 1 << 20);
	cfg = config("short.img", ", \"size\": \"4M\", \"grow\": true", "127.0.0.1");
	assert_int_equal(run_prkitd(check), 0);
	assert_int_equal(size_of("short.img"), 1 << 20);
	assert_int_equal(run_prkitd(start), -2);
	assert_int_equal(size_of("short.img"), 4 << 20);
}

static void test_check_finds_what_a_start_would(void **state)
{
	(void)state;
	make_file("disk.img", 1 << 20);
	const char *cfg = config("disk.img", "", "127.0.0.1");
	const char *check[] = {"-c", cfg, "--check", NULL};
	assert_int_equal(run_prkitd(check), 0);
	assert_non_null(strstr(out, "configuration is valid"));
	/* No interface of this machine has a TEST-NET-1 address: a start
	 * could not listen there. */
	config("disk.img", "", "192.0.2.1");
	assert_int_equal(run_prkitd(check), 1);
	assert_non_null(strstr(errtext, "portals[0]: cannot listen on 192.0.2.1:0"));
	config("disk.img", "", "localhost");
	assert_int_equal(run_prkitd(check), 1);
	assert_non_null(strstr(errtext, "\"localhost\" is not an IPv4 or IPv6 address"));
	/* The backing file is opened as a start opens it. */
	make_file("odd.img", 1000);
	config("odd.img", "", "127.0.0.1");
	assert_int_equal(run_prkitd(check), 1);
	assert_non_null(strstr(errtext, "not a multiple of 512"));
}

static void test_syntax_error_names_line_and_column(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/bad.json", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\n  \"portals\": [{\"address\": \"127.0.0.1\"},]\n  \"targets\": []\n}\n", f);
	fclose(f);
	const char *check[] = {"-c", path, "--check", NULL};
	assert_int_equal(run_prkitd(check), 1);
	if (!strstr(errtext, "bad.json: line 3, column 3: "))
		fail_msg("%s", errtext);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(run_prkitd(check), 1);
	assert_non_null(strstr(errtext, "bad.json: the file is empty"));
}

/* add-lu over the admin socket checks the file the same way. */
static void test_add_lu_missing_file(void **state)
{
	(void)state;
	struct h_daemon d;
	char cfg[2048], o[4096], e[4096], img[300];
	h_config_basic(cfg, sizeof(cfg), 1, 4);
	assert_int_equal(h_start(&d, cfg), 0);
	snprintf(img, sizeof(img), "%s/added.img", d.dir);
	const char *add[] = {"add-lu", H_TARGET, "1", "--file", img, "--size", "1M", NULL};
	assert_int_equal(h_cli(&d, o, sizeof(o), e, sizeof(e), add), 1);
	if (!strstr(e, "added.img does not exist"))
		fail_msg("%s", e);
	const char *create[] = {"add-lu", H_TARGET, "1",        "--file", img,
	                        "--size", "1M",     "--create", NULL};
	assert_int_equal(h_cli(&d, o, sizeof(o), e, sizeof(e), create), 0);
	struct stat st;
	assert_int_equal(stat(img, &st), 0);
	assert_int_equal(st.st_size, 1 << 20);
	assert_int_equal(h_stop(&d), 0);
}

/* A raw Login Request whose InitiatorName ends in a byte that is not
 * UTF-8 and an escape sequence: status 02/00 (it was 03/02, out of
 * resources), and the log shows the name escaped. */
static void test_initiator_name_not_utf8(void **state)
{
	(void)state;
	struct h_daemon d;
	char cfg[2048];
	h_config_basic(cfg, sizeof(cfg), 1, 4);
	assert_int_equal(h_start(&d, cfg), 0);
	static const char text[] = "InitiatorName=iqn.2026-11.io.prkit.test:bad\xff\x1b[2J\0"
	                           "TargetName=" H_TARGET "\0SessionType=Normal\0";
	size_t dlen = sizeof(text) - 1, padded = (dlen + 3) & ~(size_t)3;
	uint8_t pdu[48 + 256] = {0};
	assert_true(48 + padded <= sizeof(pdu));
	pdu[0] = 0x43;              /* Login Request, immediate */
	pdu[1] = 0x80 | 1 << 2 | 3; /* T, operational stage to full feature phase */
	pdu[5] = (uint8_t)(dlen >> 16);
	pdu[6] = (uint8_t)(dlen >> 8);
	pdu[7] = (uint8_t)dlen;
	pdu[8] = 0x80; /* ISID: random type, 0x800000000001 */
	pdu[13] = 1;
	pdu[19] = 1; /* ITT */
	memcpy(pdu + 48, text, dlen);
	int fd = h_tcp_connect(&d, 0);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, pdu, 48 + padded), (ssize_t)(48 + padded));
	uint8_t rsp[48];
	size_t have = 0;
	while (have < sizeof(rsp)) {
		ssize_t n = read(fd, rsp + have, sizeof(rsp) - have);
		assert_true(n > 0);
		have += (size_t)n;
	}
	close(fd);
	assert_int_equal(rsp[0] & 0x3f, 0x23); /* Login Response */
	assert_int_equal(rsp[36], 2);          /* status class: initiator error */
	assert_int_equal(rsp[37], 0);          /* detail: miscellaneous */
	assert_true(h_log_wait(&d,
	                       "refused: InitiatorName \"iqn.2026-11.io.prkit.test:bad"
	                       "\\xff\\x1b[2J\" is not valid UTF-8 (byte 29)",
	                       2000));
	assert_false(h_log_contains(&d, "\xff"));
	assert_false(h_log_contains(&d, "\x1b"));
	assert_int_equal(h_stop(&d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_missing_file_is_an_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_short_file_is_an_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_finds_what_a_start_would, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syntax_error_names_line_and_column, setup,
	                                    teardown),
	    cmocka_unit_test(test_add_lu_missing_file),
	    cmocka_unit_test(test_initiator_name_not_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
