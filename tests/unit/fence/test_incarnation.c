/* The durable incarnation / generation counters: counting, file names and
 * format, corrupt files, wrap-around refusal, the crash-safe write order
 * (fsync and rename are wrapped) and failures while writing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "incarnation.h"

/* ---- wrapped system calls ---- */

int __real_fsync(int fd);
int __real_rename(const char *from, const char *to);

/* What happened, in order: "F" fsync of a file, "D" fsync of a directory,
 * "R" rename. */
static char call_log[64];
static int fail_fsync_file; /* errno to fail the next fsync of a file with */
static int fail_fsync_dir;
static int fail_rename;

static void log_call(char c)
{
	size_t n = strlen(call_log);

	if (n + 1 < sizeof(call_log)) {
		call_log[n] = c;
		call_log[n + 1] = '\0';
	}
}

int __wrap_fsync(int fd)
{
	struct stat st;
	bool dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);

	log_call(dir ? 'D' : 'F');
	if (!dir && fail_fsync_file) {
		errno = fail_fsync_file;
		fail_fsync_file = 0;
		return -1;
	}
	if (dir && fail_fsync_dir) {
		errno = fail_fsync_dir;
		fail_fsync_dir = 0;
		return -1;
	}
	return __real_fsync(fd);
}

int __wrap_rename(const char *from, const char *to)
{
	log_call('R');
	if (fail_rename) {
		errno = fail_rename;
		fail_rename = 0;
		return -1;
	}
	return __real_rename(from, to);
}

/* ---- a temporary state directory per test ---- */

static char dir[256];
static char E[512];

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/prkit-fence-inc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	call_log[0] = '\0';
	fail_fsync_file = fail_fsync_dir = fail_rename = 0;
	E[0] = '\0';
	return 0;
}

static void rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d) {
		unlink(path);
		return;
	}
	while ((e = readdir(d))) {
		char p[600];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		rm_rf(p);
	}
	closedir(d);
	rmdir(path);
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(dir);
	return 0;
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void write_file(const char *name, const char *text)
{
	char p[600];
	FILE *f;

	path_of(p, sizeof(p), name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* The file's content ("<missing>" when it does not exist). */
static const char *read_file(const char *name)
{
	static char buf[128];
	char p[600];
	FILE *f;
	size_t n;

	path_of(p, sizeof(p), name);
	f = fopen(p, "r");
	if (!f)
		return "<missing>";
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* How many directory entries other than . and .. */
static int entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

#define assert_err_has(s)                                                                          \
	do {                                                                                       \
		if (!strstr(E, (s)))                                                               \
			fail_msg("message \"%s\" lacks \"%s\"", E, (s));                           \
	} while (0)

/* ---- tests ---- */

static void counts_from_one(void **state)
{
	uint32_t v = 0;

	(void)state;
	assert_int_equal(prk_fence_incarnation_current(dir, "prkit", 2, &v, E, sizeof(E)), 0);
	assert_int_equal(v, 0);
	assert_string_equal(read_file("fence-prkit-node2.inc"), "<missing>");
	for (uint32_t want = 1; want <= 3; want++) {
		assert_int_equal(prk_fence_incarnation_next(dir, "prkit", 2, &v, E, sizeof(E)), 0);
		assert_int_equal(v, want);
	}
	assert_string_equal(read_file("fence-prkit-node2.inc"), "3\n");
	v = 0;
	assert_int_equal(prk_fence_incarnation_current(dir, "prkit", 2, &v, E, sizeof(E)), 0);
	assert_int_equal(v, 3);
	/* current does not change it */
	assert_int_equal(prk_fence_incarnation_current(dir, "prkit", 2, &v, E, sizeof(E)), 0);
	assert_int_equal(v, 3);
	assert_string_equal(read_file("fence-prkit-node2.inc"), "3\n");
	/* Only the counter file is left: no temporary file. */
	assert_int_equal(entries(dir), 1);
}

static void separate_counters(void **state)
{
	uint32_t v = 0;

	(void)state;
	assert_int_equal(prk_fence_incarnation_next(dir, "prkit", 2, &v, E, sizeof(E)), 0);
	assert_int_equal(prk_fence_incarnation_next(dir, "prkit", 2, &v, E, sizeof(E)), 0);
	assert_int_equal(prk_fence_incarnation_next(dir, "prkit", 65535, &v, E, sizeof(E)), 0);
	assert_int_equal(v, 1);
	assert_int_equal(prk_fence_incarnation_next(dir, "other", 2, &v, E, sizeof(E)), 0);
	assert_int_equal(v, 1);
	assert_string_equal(read_file("fence-prkit-node2.inc"), "2\n");
	assert_string_equal(read_file("fence-prkit-node65535.inc"), "1\n");
	assert_string_equal(read_file("fence-other-node2.inc"), "1\n");

	assert_int_equal(prk_fence_generation_current(dir, "prkit", &v, E, sizeof(E)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(prk_fence_generation_next(dir, "prkit", &v, E, sizeof(E)), 0);
	assert_int_equal(prk_fence_generation_next(dir, "prkit", &v, E, sizeof(E)), 0);
	assert_int_equal(v, 2);
	assert_int_equal(prk_fence_generation_current(dir, "prkit", &v, E, sizeof(E)), 0);
	assert_int_equal(v, 2);
	assert_string_equal(read_file("fence-prkit.gen"), "2\n");
	/* The node counters were not touched. */
	assert_string_equal(read_file("fence-prkit-node2.inc"), "2\n");
}

static void continues_existing(void **state)
{
	uint32_t v = 0;

	(void)state;
	write_file("fence-prkit-node7.inc", "41\n");
	assert_int_equal(prk_fence_incarnation_next(dir, "prkit", 7, &v, E, sizeof(E)), 0);
	assert_int_equal(v, 42);
	write_file("fence-prkit-node8.inc", "0\n");
	assert_int_equal(prk_fence_incarnation_current(dir, "prkit", 8, &v, E, sizeof(E)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(prk_fence_incarnation_next(dir, "prkit", 8, &v, E, sizeof(E)), 0);
	assert_int_equal(v, 1);
}

static void creates_state_dir(void **state)
{
	char sub[400], file[600];
	uint32_t v = 0;
	struct stat st;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/a/b/state", dir);
	/* current does not create anything */
	assert_int_equal(prk_fence_incarnation_current(sub, "prkit", 1, &v, E, sizeof(E)), 0);
	assert_int_equal(v, 0);
	assert_int_not_equal(stat(sub, &st), 0);
	assert_int_equal(prk_fence_incarnation_next(sub, "prkit", 1, &v, E, sizeof(E)), 0);
	assert_int_equal(v, 1);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(file, sizeof(file), "%s/fence-prkit-node1.inc", sub);
	assert_int_equal(stat(file, &st), 0);
}

static void corrupt_files(void **state)
{
	static const char *const bad[] = {
	    "",
	    "\n",
	    "abc\n",
	    "12",
	    "12\n\n",
	    " 5\n",
	    "5 \n",
	    "-1\n",
	    "+1\n",
	    "0x10\n",
	    "1.5\n",
	    "4294967296\n",
	    "99999999999999999999\n",
	    "7\n8\n",
	    "3\r\n",
	};
	char want[600];
	uint32_t v = 77;

	(void)state;
	path_of(want, sizeof(want), "fence-prkit-node3.inc");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file("fence-prkit-node3.inc", bad[i]);
		E[0] = '\0';
		if (prk_fence_incarnation_current(dir, "prkit", 3, &v, E, sizeof(E)) != -1)
			fail_msg("current accepted \"%s\"", bad[i]);
		assert_err_has(want);
		assert_err_has("corrupt");
		E[0] = '\0';
		if (prk_fence_incarnation_next(dir, "prkit", 3, &v, E, sizeof(E)) != -1)
			fail_msg("next accepted \"%s\"", bad[i]);
		assert_err_has(want);
		/* left as it was */
		assert_string_equal(read_file("fence-prkit-node3.inc"), bad[i]);
	}
	assert_int_equal(v, 77);

	write_file("fence-prkit.gen", "x\n");
	path_of(want, sizeof(want), "fence-prkit.gen");
	assert_int_equal(prk_fence_generation_next(dir, "prkit", &v, E, sizeof(E)), -1);
	assert_err_has(want);
}

static void largest_values(void **state)
{
	uint32_t v = 0;

	(void)state;
	write_file("fence-prkit-node4.inc", "4294967294\n");
	assert_int_equal(prk_fence_incarnation_next(dir, "prkit", 4, &v, E, sizeof(E)), 0);
	assert_true(v == 0xffffffffu);
	assert_string_equal(read_file("fence-prkit-node4.inc"), "4294967295\n");
	assert_int_equal(prk_fence_incarnation_current(dir, "prkit", 4, &v, E, sizeof(E)), 0);
	assert_true(v == 0xffffffffu);
}

static void refuses_wrap(void **state)
{
	char want[600];
	uint32_t v = 5;

	(void)state;
	write_file("fence-prkit-node4.inc", "4294967295\n");
	path_of(want, sizeof(want), "fence-prkit-node4.inc");
	assert_int_equal(prk_fence_incarnation_next(dir, "prkit", 4, &v, E, sizeof(E)), -1);
	assert_err_has(want);
	assert_err_has("4294967295");
	assert_int_equal(v, 5);
	assert_string_equal(read_file("fence-prkit-node4.inc"), "4294967295\n");

	write_file("fence-prkit.gen", "4294967295\n");
	path_of(want, sizeof(want), "fence-prkit.gen");
	assert_int_equal(prk_fence_generation_next(dir, "prkit", &v, E, sizeof(E)), -1);
	assert_err_has(want);
	assert_err_has("generation");
	assert_string_equal(read_file("fence-prkit.gen"), "4294967295\n");
}

static void bad_arguments(void **state)
{
	uint32_t v = 0;

	(void)state;
	assert_int_equal(prk_fence_incarnation_next(dir, "prkit", 0, &v, E, sizeof(E)), -1);
	assert_err_has("node id 0");
	assert_int_equal(prk_fence_incarnation_current(dir, "prkit", 0, &v, E, sizeof(E)), -1);
	assert_int_equal(prk_fence_incarnation_next(dir, "a/b", 1, &v, E, sizeof(E)), -1);
	assert_err_has("'a/b'");
	assert_int_equal(prk_fence_incarnation_next(dir, "..", 1, &v, E, sizeof(E)), -1);
	assert_int_equal(prk_fence_generation_next(dir, "", &v, E, sizeof(E)), -1);
	assert_int_equal(prk_fence_incarnation_next("", "prkit", 1, &v, E, sizeof(E)), -1);
	assert_err_has("state directory");
	assert_int_equal(prk_fence_incarnation_next(NULL, "prkit", 1, &v, E, sizeof(E)), -1);
	/* nothing was created */
	assert_int_equal(entries(dir), 0);
	/* err may be NULL */
	assert_int_equal(prk_fence_incarnation_next(dir, "a/b", 1, &v, NULL, 0), -1);
}

static void counter_paths(void **state)
{
	char p[600], want[600];

	(void)state;
	assert_int_equal(prk_fence_counter_path(p, sizeof(p), "/s", "c1", 12, E, sizeof(E)), 0);
	assert_string_equal(p, "/s/fence-c1-node12.inc");
	assert_int_equal(prk_fence_counter_path(p, sizeof(p), "/s", "c1", 0, E, sizeof(E)), 0);
	assert_string_equal(p, "/s/fence-c1.gen");
	assert_int_equal(prk_fence_counter_path(p, 10, "/s", "c1", 12, E, sizeof(E)), -1);
	assert_err_has("too long");
	snprintf(want, sizeof(want), "%s/fence-x.gen", dir);
	assert_int_equal(prk_fence_counter_path(p, sizeof(p), dir, "x", 0, E, sizeof(E)), 0);
	assert_string_equal(p, want);
}

static void state_dir_is_a_file(void **state)
{
	char f[600];
	uint32_t v = 0;

	(void)state;
	write_file("plain", "x");
	path_of(f, sizeof(f), "plain");
	assert_int_equal(prk_fence_incarnation_next(f, "prkit", 1, &v, E, sizeof(E)), -1);
	assert_err_has(f);
	assert_err_has(strerror(ENOTDIR));
	assert_int_equal(prk_fence_incarnation_current(f, "prkit", 1, &v, E, sizeof(E)), -1);
	assert_err_has(strerror(ENOTDIR));
}

static void counter_is_a_directory(void **state)
{
	char p[600];
	uint32_t v = 0;

	(void)state;
	path_of(p, sizeof(p), "fence-prkit-node5.inc");
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(prk_fence_incarnation_current(dir, "prkit", 5, &v, E, sizeof(E)), -1);
	assert_err_has(p);
	assert_int_equal(prk_fence_incarnation_next(dir, "prkit", 5, &v, E, sizeof(E)), -1);
	assert_err_has(p);
}

static void write_order(void **state)
{
	uint32_t v = 0;

	(void)state;
	call_log[0] = '\0';
	assert_int_equal(prk_fence_incarnation_next(dir, "prkit", 9, &v, E, sizeof(E)), 0);
	/* The temporary file reaches the disk, then replaces the counter,
	 * then the directory entry reaches the disk. */
	assert_string_equal(call_log, "FRD");
	call_log[0] = '\0';
	assert_int_equal(prk_fence_generation_next(dir, "prkit", &v, E, sizeof(E)), 0);
	assert_string_equal(call_log, "FRD");
	call_log[0] = '\0';
	assert_int_equal(prk_fence_incarnation_current(dir, "prkit", 9, &v, E, sizeof(E)), 0);
	assert_string_equal(call_log, "");
}

static void fsync_of_file_fails(void **state)
{
	uint32_t v = 0;

	(void)state;
	write_file("fence-prkit-node6.inc", "10\n");
	fail_fsync_file = EIO;
	v = 0;
	assert_int_equal(prk_fence_incarnation_next(dir, "prkit", 6, &v, E, sizeof(E)), -1);
	assert_err_has("fence-prkit-node6.inc.tmp.");
	assert_err_has(strerror(EIO));
	assert_int_equal(v, 0);
	/* The counter is unchanged and the temporary file is gone. */
	assert_string_equal(read_file("fence-prkit-node6.inc"), "10\n");
	assert_int_equal(entries(dir), 1);
	/* Nothing was renamed. */
	assert_null(strchr(call_log, 'R'));
	/* The next call works and does not skip a number. */
	assert_int_equal(prk_fence_incarnation_next(dir, "prkit", 6, &v, E, sizeof(E)), 0);
	assert_int_equal(v, 11);
}

static void rename_fails(void **state)
{
	char want[600];
	uint32_t v = 0;

	(void)state;
	write_file("fence-prkit-node6.inc", "10\n");
	fail_rename = EXDEV;
	path_of(want, sizeof(want), "fence-prkit-node6.inc");
	assert_int_equal(prk_fence_incarnation_next(dir, "prkit", 6, &v, E, sizeof(E)), -1);
	assert_err_has(want);
	assert_err_has(strerror(EXDEV));
	assert_string_equal(read_file("fence-prkit-node6.inc"), "10\n");
	assert_int_equal(entries(dir), 1);
}

static void fsync_of_dir_fails(void **state)
{
	char want[600];
	uint32_t v = 0;

	(void)state;
	fail_fsync_dir = EIO;
	path_of(want, sizeof(want), "fence-prkit.gen");
	/* The new value is not known to be durable: the caller gets no key. */
	assert_int_equal(prk_fence_generation_next(dir, "prkit", &v, E, sizeof(E)), -1);
	assert_int_equal(v, 0);
	assert_err_has(want);
	assert_err_has("directory");
	assert_err_has(strerror(EIO));
}

/* Processes taking incarnations at the same time get distinct ones and
 * none is lost (the directory flock). */
static void concurrent_callers(void **state)
{
	enum { PROCS = 6, EACH = 40 };
	uint32_t seen[PROCS * EACH];
	size_t n_seen = 0;
	int fds[2];
	uint32_t v;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	for (int p = 0; p < PROCS; p++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			for (int i = 0; i < EACH; i++) {
				char e[256];

				if (prk_fence_incarnation_next(dir, "prkit", 1, &v, e, sizeof(e)))
					v = 0;
				if (write(fds[1], &v, sizeof(v)) != sizeof(v))
					_exit(2);
			}
			_exit(0);
		}
	}
	close(fds[1]);
	while (read(fds[0], &v, sizeof(v)) == sizeof(v)) {
		assert_true(n_seen < PROCS * EACH);
		seen[n_seen++] = v;
	}
	close(fds[0]);
	for (int p = 0; p < PROCS; p++) {
		int st = 0;

		assert_true(wait(&st) > 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(n_seen, PROCS * EACH);
	for (size_t i = 0; i < n_seen; i++) {
		if (seen[i] == 0 || seen[i] > PROCS * EACH)
			fail_msg("value %u out of 1..%d", seen[i], PROCS * EACH);
		for (size_t j = 0; j < i; j++)
			if (seen[i] == seen[j])
				fail_msg("incarnation %u handed out twice", seen[i]);
	}
	assert_string_equal(read_file("fence-prkit-node1.inc"), "240\n");
}

/* Cluster mode: a generation above a floor seen on the LUs, and never
 * below what this node made before. */
static void generation_above_floor(void **state)
{
	uint32_t g = 0;

	(void)state;
	assert_int_equal(prk_fence_generation_next_above(dir, "c", 0, &g, E, sizeof(E)), 0);
	assert_int_equal(g, 1);
	assert_int_equal(prk_fence_generation_next_above(dir, "c", 41, &g, E, sizeof(E)), 0);
	assert_int_equal(g, 42);
	/* a lower floor (the LUs were cleared) does not go back */
	assert_int_equal(prk_fence_generation_next_above(dir, "c", 3, &g, E, sizeof(E)), 0);
	assert_int_equal(g, 43);
	assert_int_equal(prk_fence_generation_current(dir, "c", &g, E, sizeof(E)), 0);
	assert_int_equal(g, 43);
	assert_int_equal(prk_fence_generation_next_above(dir, "c", UINT32_MAX, &g, E, sizeof(E)),
	                 -1);
	assert_non_null(strstr(E, "refusing to wrap"));
}

/* The cluster key this node holds: missing is 0, saved crash-safely,
 * read back exactly, and a corrupt file is an error naming it. */
static void cluster_key_file(void **state)
{
	uint64_t k = 1;
	char p[600];

	(void)state;
	assert_int_equal(prk_fence_cluster_key_load(dir, "c", &k, E, sizeof(E)), 0);
	assert_int_equal(k, 0);
	call_log[0] = '\0';
	assert_int_equal(prk_fence_cluster_key_save(dir, "c", 0x84d4000200000007ULL, E, sizeof(E)),
	                 0);
	assert_string_equal(call_log, "FRD");
	assert_int_equal(prk_fence_cluster_key_load(dir, "c", &k, E, sizeof(E)), 0);
	assert_int_equal(k, 0x84d4000200000007ULL);
	snprintf(p, sizeof(p), "%s/fence-c.key", dir);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	char line[64] = "";
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "0x84d4000200000007\n");

	static const char *const bad[] = {"",
	                                  "0x84d4000200000007",
	                                  "84d4000200000007\n",
	                                  "0x84d400020000000g\n",
	                                  "0x0000000000000000\n",
	                                  "0x84d4000200000007\n\n",
	                                  "0X84d4000200000007\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file("fence-c.key", bad[i]);
		E[0] = '\0';
		assert_int_equal(prk_fence_cluster_key_load(dir, "c", &k, E, sizeof(E)), -1);
		assert_non_null(strstr(E, "fence-c.key"));
		assert_non_null(strstr(E, "corrupt"));
	}
	assert_int_equal(prk_fence_cluster_key_load(dir, "bad/name", &k, E, sizeof(E)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(counts_from_one, setup, teardown),
	    cmocka_unit_test_setup_teardown(separate_counters, setup, teardown),
	    cmocka_unit_test_setup_teardown(continues_existing, setup, teardown),
	    cmocka_unit_test_setup_teardown(creates_state_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(corrupt_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(largest_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(refuses_wrap, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
	    cmocka_unit_test_setup_teardown(counter_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(state_dir_is_a_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(counter_is_a_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(write_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(fsync_of_file_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(rename_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(fsync_of_dir_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(concurrent_callers, setup, teardown),
	    cmocka_unit_test_setup_teardown(generation_above_floor, setup, teardown),
	    cmocka_unit_test_setup_teardown(cluster_key_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
