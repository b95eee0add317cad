/* prkit fenced's watchdog against stand-ins for /dev/watchdog: a regular
 * file records every byte written (keep-alives, the magic 'V'), a FIFO
 * shows the bytes as a device driver would see them, one at a time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd_watchdog.h"

static char E[256], W[256];

static char *tmp_path(void)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/test_fd_watchdog.%d", (int)getpid());
	return path;
}

/* The whole content of a file. */
static size_t slurp(const char *p, char *buf, size_t cap)
{
	int fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = 0;
	return (size_t)n;
}

static void test_feed_then_magic_close(void **state)
{
	(void)state;
	char *p = tmp_path(), buf[64];
	int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	close(fd);
	struct prk_fdw *w = prk_fdw_open(p, 10, W, sizeof(W), E, sizeof(E));
	assert_non_null(w);
	assert_string_equal(W, ""); /* a regular file: no timeout to set */
	assert_int_equal(prk_fdw_feed(w), 0);
	assert_int_equal(prk_fdw_feed(w), 0);
	assert_int_equal(slurp(p, buf, sizeof(buf)), 2);
	assert_null(strchr(buf, 'V')); /* a keep-alive never arms the magic close */
	assert_false(prk_fdw_stopped(w));
	prk_fdw_close(w, true);
	assert_int_equal(slurp(p, buf, sizeof(buf)), 3);
	assert_int_equal(buf[2], 'V');
	unlink(p);
}

static void test_stopped_is_not_fed_nor_disarmed(void **state)
{
	(void)state;
	char *p = tmp_path(), buf[64];
	int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	close(fd);
	struct prk_fdw *w = prk_fdw_open(p, 10, W, sizeof(W), E, sizeof(E));
	assert_non_null(w);
	assert_int_equal(prk_fdw_feed(w), 0);
	prk_fdw_stop(w);
	assert_true(prk_fdw_stopped(w));
	assert_int_equal(prk_fdw_feed(w), 0);
	assert_int_equal(prk_fdw_feed(w), 0);
	/* The orderly exit after a self-fence: the reboot must still come. */
	prk_fdw_close(w, true);
	assert_int_equal(slurp(p, buf, sizeof(buf)), 1);
	assert_int_not_equal(buf[0], 'V');
	unlink(p);
}

static void test_fifo(void **state)
{
	(void)state;
	char *p = tmp_path(), buf[8];
	unlink(p);
	assert_int_equal(mkfifo(p, 0600), 0);
	int rd = open(p, O_RDONLY | O_NONBLOCK);
	assert_true(rd >= 0);
	struct prk_fdw *w = prk_fdw_open(p, 5, W, sizeof(W), E, sizeof(E));
	assert_non_null(w);
	assert_int_equal(prk_fdw_feed(w), 0);
	assert_int_equal(read(rd, buf, sizeof(buf)), 1);
	assert_int_not_equal(buf[0], 'V');
	prk_fdw_close(w, true);
	assert_int_equal(read(rd, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 'V');
	/* Closed: the reader sees the end. */
	assert_int_equal(read(rd, buf, sizeof(buf)), 0);
	close(rd);
	unlink(p);
}

static void test_open_fails_with_path(void **state)
{
	(void)state;
	assert_null(prk_fdw_open("/nonexistent/watchdog", 10, W, sizeof(W), E, sizeof(E)));
	assert_non_null(strstr(E, "watchdog /nonexistent/watchdog: No such file"));
	prk_fdw_close(NULL, true);
	assert_int_equal(prk_fdw_feed(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_feed_then_magic_close),
	    cmocka_unit_test(test_stopped_is_not_fed_nor_disarmed),
	    cmocka_unit_test(test_fifo),
	    cmocka_unit_test(test_open_fails_with_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
