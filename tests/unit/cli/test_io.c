/* `prkit io`'s pure parts: the verify pattern (a flipped byte, a block of
 * another LBA, a lost write, another run, an unwritten block are all
 * caught, at the right LBA and byte), the option parser (every bad value
 * is refused with a message naming its option), the region check against
 * the LU, the default initiator, and the latency percentiles of known
 * distributions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_opts.h"
#include "io_pattern.h"

#define RUN 0x1234567890abcdefULL

/* ---- the verify pattern ---- */

static uint8_t *filled(uint32_t bs, uint32_t n, uint64_t lba, uint64_t seq)
{
	uint8_t *b = malloc((size_t)bs * n);
	assert_non_null(b);
	prk_iop_fill(b, bs, n, lba, seq, RUN);
	return b;
}

static void test_pattern_round_trip(void **state)
{
	(void)state;
	const uint32_t sizes[] = {512, 4096};
	for (int i = 0; i < 2; i++) {
		uint8_t *b = filled(sizes[i], 8, 1000, 7);
		struct iop_mismatch m;
		assert_int_equal(prk_iop_check(b, sizes[i], 8, 1000, 7, RUN, &m), IOP_OK);
		assert_int_equal(m.fault, IOP_OK);
		/* The header says what it is. */
		assert_memory_equal(b + sizes[i] * 3, "PRKITIO1", 8);
		assert_int_equal(b[sizes[i] * 3 + 8], 1003 & 0xff);
		free(b);
	}
}

static void test_pattern_differs_per_lba_seq_run(void **state)
{
	(void)state;
	uint8_t *a = filled(512, 1, 10, 1);
	uint8_t *b = filled(512, 1, 10, 2);
	uint8_t c[512];
	prk_iop_fill(c, 512, 1, 10, 1, RUN + 1);
	/* Past the header, the data itself depends on seq and run id. */
	assert_memory_not_equal(a + IOP_HEADER, b + IOP_HEADER, 512 - IOP_HEADER);
	assert_memory_not_equal(a + IOP_HEADER, c + IOP_HEADER, 512 - IOP_HEADER);
	free(a);
	free(b);
}

static void test_pattern_flipped_data_byte(void **state)
{
	(void)state;
	uint8_t *b = filled(512, 4, 5000, 3);
	b[2 * 512 + 300] ^= 0x10; /* block 2: LBA 5002, byte 300 */
	struct iop_mismatch m;
	assert_int_equal(prk_iop_check(b, 512, 4, 5000, 3, RUN, &m), IOP_BAD_DATA);
	assert_int_equal(m.lba, 5002);
	assert_int_equal(m.offset, 300);
	free(b);
}

static void test_pattern_flipped_last_byte_4k(void **state)
{
	(void)state;
	uint8_t *b = filled(4096, 2, 0, 1);
	b[4096 + 4095] ^= 1;
	struct iop_mismatch m;
	assert_int_equal(prk_iop_check(b, 4096, 2, 0, 1, RUN, &m), IOP_BAD_DATA);
	assert_int_equal(m.lba, 1);
	assert_int_equal(m.offset, 4095);
	free(b);
}

static void test_pattern_wrong_lba(void **state)
{
	(void)state;
	/* A misdirected write: block 1 of the buffer holds LBA 777's data. */
	uint8_t *b = filled(512, 3, 100, 9);
	prk_iop_fill(b + 512, 512, 1, 777, 9, RUN);
	struct iop_mismatch m;
	assert_int_equal(prk_iop_check(b, 512, 3, 100, 9, RUN, &m), IOP_WRONG_LBA);
	assert_int_equal(m.lba, 101);
	assert_int_equal(m.found, 777);
	assert_int_equal(m.offset, 8);
	/* The whole I/O read from the wrong place. */
	uint8_t *w = filled(512, 2, 200, 9);
	assert_int_equal(prk_iop_check(w, 512, 2, 300, 9, RUN, &m), IOP_WRONG_LBA);
	assert_int_equal(m.lba, 300);
	assert_int_equal(m.found, 200);
	free(b);
	free(w);
}

static void test_pattern_lost_write_and_other_run(void **state)
{
	(void)state;
	uint8_t *old = filled(512, 2, 42, 5); /* the write of seq 6 never landed */
	struct iop_mismatch m;
	assert_int_equal(prk_iop_check(old, 512, 2, 42, 6, RUN, &m), IOP_WRONG_SEQ);
	assert_int_equal(m.lba, 42);
	assert_int_equal(m.found, 5);
	assert_int_equal(m.offset, 16);
	assert_int_equal(prk_iop_check(old, 512, 2, 42, 5, RUN + 1, &m), IOP_WRONG_RUN);
	assert_int_equal(m.found, RUN);
	/* A flipped bit in the sequence number's third byte. */
	old[512 + 18] ^= 0x80;
	assert_int_equal(prk_iop_check(old, 512, 2, 42, 5, RUN, &m), IOP_WRONG_SEQ);
	assert_int_equal(m.lba, 43);
	assert_int_equal(m.offset, 18);
	free(old);
}

static void test_pattern_unwritten_block(void **state)
{
	(void)state;
	uint8_t *b = filled(512, 2, 0, 1);
	memset(b + 512, 0, 512);
	struct iop_mismatch m;
	assert_int_equal(prk_iop_check(b, 512, 2, 0, 1, RUN, &m), IOP_NOT_WRITTEN);
	assert_int_equal(m.lba, 1);
	assert_int_equal(m.offset, 0);
	assert_string_equal(prk_iop_fault_name(IOP_NOT_WRITTEN), "no pattern");
	free(b);
}

/* ---- the option parser ---- */

static int parse(struct io_opts *o, char *err, size_t cap, ...)
{
	static char *argv[64];
	int argc = 0;
	argv[argc++] = "io";
	va_list ap;
	va_start(ap, cap);
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return prk_io_opts_parse(argc, argv, o, err, cap);
}

#define URL1 "iscsi://127.0.0.1:3260/iqn.2026-11.io.prkit:demo/0"
#define URL2 "iscsi://127.0.0.1:3261/iqn.2026-11.io.prkit:demo/0"

static void test_parse_defaults(void **state)
{
	(void)state;
	struct io_opts o;
	char err[256];
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "abc", URL1, NULL), 0);
	assert_int_equal(o.key, 0xabc);
	assert_int_equal(o.n_urls, 1);
	assert_string_equal(o.urls[0], URL1);
	assert_int_equal(o.mode, PRK_OPEN_DEFAULT);
	assert_int_equal(o.type, 0);
	assert_int_equal(o.rw, IO_RW_RANDREAD);
	assert_int_equal(o.bs, 4096);
	assert_int_equal(o.qd, 32);
	assert_true(o.seconds == IO_DEFAULT_SECONDS);
	assert_int_equal(o.count, 0);
	assert_int_equal(o.selector, PRK_SEL_SERVICE_TIME);
	assert_int_equal(o.failback, PRK_FAILBACK_IMMEDIATE);
	assert_null(o.initiator);
	assert_false(o.json);
	assert_false(o.quiet);
	/* The control socket is on by default, at the library's path. */
	assert_false(o.no_ctl);
	assert_null(o.ctl_path);
}

/* --ctl PATH and --no-ctl; not both, and the path must fit a UNIX socket
 * address. */
static void test_parse_ctl(void **state)
{
	(void)state;
	struct io_opts o;
	char err[256];
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--no-ctl", URL1, NULL), 0);
	assert_true(o.no_ctl);
	assert_null(o.ctl_path);
	assert_int_equal(
	    parse(&o, err, sizeof(err), "--key", "1", "--ctl", "/run/io.sock", URL1, NULL), 0);
	assert_false(o.no_ctl);
	assert_string_equal(o.ctl_path, "/run/io.sock");
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--ctl", "/run/io.sock",
	                       "--no-ctl", URL1, NULL),
	                 -1);
	assert_non_null(strstr(err, "--ctl"));
	assert_non_null(strstr(err, "--no-ctl"));
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = 0;
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--ctl", longp, URL1, NULL), -1);
	assert_non_null(strstr(err, "--ctl"));
	longp[107] = 0; /* 107 bytes fit sun_path with its NUL */
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--ctl", longp, URL1, NULL), 0);
	longp[107] = 'a';
	longp[108] = 0;
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--ctl", longp, URL1, NULL), -1);
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--ctl", "", URL1, NULL), -1);
	assert_non_null(strstr(err, "--ctl"));
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", URL1, "--ctl", NULL), -1);
	assert_non_null(strstr(err, "needs a value"));
}

static void test_parse_everything(void **state)
{
	(void)state;
	struct io_opts o;
	char err[256];
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "0xA1A1", "--mode", "no-reserve",
	                       "--type", "5", "--initiator", "iqn.2026-11.io.prkit:x", "--rw",
	                       "verify", "--bs", "64k", "--qd", "8", "--count", "1000", "--offset",
	                       "1m", "--size", "8M", "--selector", "round-robin", "--checker-ms",
	                       "200", "--io-timeout-ms", "800", "--abort-timeout-ms", "1500",
	                       "--fenced-hold-ms", "2500", "--failback", "30", "--json", "--quiet",
	                       "--state-dir", "/tmp/s", URL1, URL2, NULL),
	                 0);
	assert_int_equal(o.key, 0xa1a1);
	assert_int_equal(o.mode, PRK_OPEN_NO_RESERVE);
	assert_int_equal(o.type, 5);
	assert_string_equal(o.initiator, "iqn.2026-11.io.prkit:x");
	assert_int_equal(o.rw, IO_RW_VERIFY);
	assert_int_equal(o.bs, 65536);
	assert_int_equal(o.qd, 8);
	assert_int_equal(o.count, 1000);
	assert_true(o.seconds == 0); /* --count alone: no time limit */
	assert_int_equal(o.offset, 1 << 20);
	assert_int_equal(o.size, 8 << 20);
	assert_int_equal(o.selector, PRK_SEL_ROUND_ROBIN);
	assert_int_equal(o.checker_ms, 200);
	assert_int_equal(o.io_timeout_ms, 800);
	assert_int_equal(o.tmf_timeout_ms, 1500);
	assert_int_equal(o.fenced_hold_ms, 2500);
	assert_int_equal(o.failback, PRK_FAILBACK_DELAYED);
	assert_int_equal(o.failback_delay_ms, 30000);
	assert_true(o.json && o.quiet);
	assert_string_equal(o.state_dir, "/tmp/s");
	assert_int_equal(o.n_urls, 2);
	assert_string_equal(o.urls[1], URL2);
	/* The parser can run again (getopt's state is reset). */
	assert_int_equal(parse(&o, err, sizeof(err), "--failback", "manual", "--time", "2.5",
	                       "--key", "1", URL1, NULL),
	                 0);
	assert_int_equal(o.failback, PRK_FAILBACK_MANUAL);
	assert_true(o.seconds == 2.5);
	assert_int_equal(parse(&o, err, sizeof(err), "--failback", "0", "--key", "1", URL1, NULL),
	                 0);
	assert_int_equal(o.failback, PRK_FAILBACK_IMMEDIATE);
	assert_int_equal(parse(&o, err, sizeof(err), "--help", NULL), 0);
	assert_true(o.help);
}

struct bad {
	const char *opt, *val;
	const char *must_name;
};

static void test_parse_rejects_bad_values(void **state)
{
	(void)state;
	static const struct bad bad[] = {
	    {"--qd", "0", "--qd"},
	    {"--qd", "1025", "--qd"},
	    {"--qd", "abc", "--qd"},
	    {"--qd", "-3", "--qd"},
	    {"--bs", "1000", "--bs"},
	    {"--bs", "100", "--bs"},
	    {"--bs", "32m", "--bs"},
	    {"--bs", "4q", "--bs"},
	    {"--type", "2", "--type"},
	    {"--type", "4", "--type"},
	    {"--type", "9", "--type"},
	    {"--key", "zz", "--key"},
	    {"--key", "0", "--key"},
	    {"--key", "12345678901234567", "--key"},
	    {"--mode", "exclusive", "--mode"},
	    {"--rw", "randomread", "--rw"},
	    {"--selector", "fastest", "--selector"},
	    {"--failback", "soon", "--failback"},
	    {"--failback", "-1", "--failback"},
	    {"--time", "0", "--time"},
	    {"--time", "1s", "--time"},
	    {"--count", "0", "--count"},
	    {"--checker-ms", "5", "--checker-ms"},
	    {"--io-timeout-ms", "x", "--io-timeout-ms"},
	    {"--abort-timeout-ms", "9", "--abort-timeout-ms"},
	    {"--fenced-hold-ms", "-1", "--fenced-hold-ms"},
	    {"--fenced-hold-ms", "3600001", "--fenced-hold-ms"},
	    {"--abort-timeout-ms", "3600001", "--abort-timeout-ms"},
	    {"--offset", "-1", "--offset"},
	    {"--size", "0", "--size"},
	    {"--initiator", "not an iqn", "--initiator"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct io_opts o;
		char err[256];
		int rc = strcmp(bad[i].opt, "--key") == 0
		             ? parse(&o, err, sizeof(err), bad[i].opt, bad[i].val, URL1, NULL)
		             : parse(&o, err, sizeof(err), "--key", "1", bad[i].opt, bad[i].val,
		                     URL1, NULL);
		if (rc != -1 || !strstr(err, bad[i].must_name))
			fail_msg("%s %s: rc %d, message '%s'", bad[i].opt, bad[i].val, rc, err);
		if (!strstr(err, bad[i].val))
			fail_msg("%s %s: the message does not quote the value: '%s'", bad[i].opt,
			         bad[i].val, err);
	}
}

/* URLs go through the parser that prkit persist and the fence agent use:
 * one that no path could log in to is refused before the run. */
static void test_parse_rejects_bad_urls(void **state)
{
	(void)state;
	struct io_opts o;
	char err[256];
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "/dev/sdb", NULL), -1);
	assert_string_equal(err, "'/dev/sdb': not an option and not an iscsi:// URL");
	assert_int_equal(
	    parse(&o, err, sizeof(err), "--key", "1", "iscsi://127.0.0.1:0/iqn.a/0", NULL), -1);
	assert_string_equal(err,
	                    "URL 'iscsi://127.0.0.1:0/iqn.a/0': port '0' is out of range 1..65535");
	assert_int_equal(
	    parse(&o, err, sizeof(err), "--key", "1", URL1, "iscsi://127.0.0.1/iqn.a/16384", NULL),
	    -1);
	assert_string_equal(
	    err, "URL 'iscsi://127.0.0.1/iqn.a/16384': LUN '16384' is out of range 0..16383");
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "iscsi://h/target/0", NULL), -1);
	assert_non_null(strstr(err, "does not start with iqn., eui. or naa."));
}

static void test_parse_rejects_combinations(void **state)
{
	(void)state;
	struct io_opts o;
	char err[256];
	assert_int_equal(parse(&o, err, sizeof(err), URL1, NULL), -1);
	assert_non_null(strstr(err, "--key"));
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", NULL), -1);
	assert_non_null(strstr(err, "URL"));
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "http://x/", NULL), -1);
	assert_non_null(strstr(err, "http://x/"));
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--frobnicate", URL1, NULL), -1);
	assert_non_null(strstr(err, "--frobnicate"));
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", URL1, "--qd", NULL), -1);
	assert_non_null(strstr(err, "--qd"));
	assert_non_null(strstr(err, "needs a value"));
	assert_int_equal(
	    parse(&o, err, sizeof(err), "--key", "1", "--size", "4k", "--bs", "8k", URL1, NULL),
	    -1);
	assert_non_null(strstr(err, "--size"));
	assert_int_equal(
	    parse(&o, err, sizeof(err), "--key", "1", "--qd", "1024", "--bs", "1m", URL1, NULL), 0);
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--qd", "1024", "--bs", "1m",
	                       "--rw", "verify", URL1, NULL),
	                 -1);
	assert_non_null(strstr(err, "--qd"));
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", URL1, URL1, URL1, URL1, URL1,
	                       URL1, URL1, URL1, URL1, NULL),
	                 -1);
	assert_non_null(strstr(err, "at most 8"));
	/* --discover finds the other paths from one URL */
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--discover", URL1, NULL), 0);
	assert_true(o.discover);
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--discover", URL1, URL2, NULL),
	                 -1);
	assert_non_null(strstr(err, "--discover"));
}

/* --run-id and --seq-clock: the versioned writes the prkit fenced tests
 * read back from the backing files (who wrote a block, and when). */
static void test_parse_run_id_seq_clock(void **state)
{
	(void)state;
	struct io_opts o;
	char err[256];
	/* Defaults: a random run id, a counter, plain writes unversioned. */
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--rw", "randwrite", URL1, NULL),
	                 0);
	assert_false(o.run_id_set);
	assert_false(o.seq_clock);
	assert_false(prk_io_versioned(&o));
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--rw", "randwrite", "--run-id",
	                       "0x3", "--seq-clock", URL1, NULL),
	                 0);
	assert_true(o.run_id_set);
	assert_int_equal(o.run_id, 3);
	assert_true(o.seq_clock);
	assert_true(prk_io_versioned(&o));
	/* Either option alone makes the write modes versioned. */
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--rw", "write", "--run-id",
	                       "ab", URL1, NULL),
	                 0);
	assert_int_equal(o.run_id, 0xab);
	assert_true(prk_io_versioned(&o));
	assert_int_equal(
	    parse(&o, err, sizeof(err), "--key", "1", "--rw", "randrw", "--seq-clock", URL1, NULL),
	    0);
	assert_true(prk_io_versioned(&o));
	/* verify always is; a read mode never, and --seq-clock is refused. */
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--rw", "verify", URL1, NULL),
	                 0);
	assert_true(prk_io_versioned(&o));
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--run-id", "7", URL1, NULL), 0);
	assert_false(prk_io_versioned(&o));
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--seq-clock", URL1, NULL), -1);
	assert_non_null(strstr(err, "--seq-clock"));
	assert_non_null(strstr(err, "randread"));
	assert_int_equal(
	    parse(&o, err, sizeof(err), "--key", "1", "--rw", "read", "--seq-clock", URL1, NULL),
	    -1);
	assert_non_null(strstr(err, "--seq-clock"));
	/* Bad run ids name the option and quote the value. */
	static const char *const bad[] = {"0", "zz", "12345678901234567", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--rw", "write",
		                       "--run-id", bad[i], URL1, NULL),
		                 -1);
		assert_non_null(strstr(err, "--run-id"));
		assert_non_null(strstr(err, bad[i]));
	}
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", URL1, "--run-id", NULL), -1);
	assert_non_null(strstr(err, "needs a value"));
}

/* The sequence numbers: a counter by default; with the clock, the clock,
 * but never repeated nor going back. */
static void test_next_seq(void **state)
{
	(void)state;
	uint64_t last = 0;
	assert_int_equal(prk_io_next_seq(&last, false, 1700000000000000ull), 1);
	assert_int_equal(prk_io_next_seq(&last, false, 1700000000000000ull), 2);
	assert_int_equal(last, 2);
	last = 0;
	assert_int_equal(prk_io_next_seq(&last, true, 1700000000000000ull), 1700000000000000ull);
	/* Two writes issued in the same microsecond. */
	assert_int_equal(prk_io_next_seq(&last, true, 1700000000000000ull), 1700000000000001ull);
	/* The clock set back: still increasing. */
	assert_int_equal(prk_io_next_seq(&last, true, 1600000000000000ull), 1700000000000002ull);
	/* And forward again: the clock's value. */
	assert_int_equal(prk_io_next_seq(&last, true, 1700000000500000ull), 1700000000500000ull);
	assert_int_equal(last, 1700000000500000ull);
}

static void test_sizes(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(prk_io_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(prk_io_parse_size("4k", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(prk_io_parse_size("2KiB", &v), 0);
	assert_int_equal(v, 2048);
	assert_int_equal(prk_io_parse_size("3M", &v), 0);
	assert_int_equal(v, 3u << 20);
	assert_int_equal(prk_io_parse_size("1g", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(prk_io_parse_size("2tb", &v), 0);
	assert_int_equal(v, 2ull << 40);
	assert_int_equal(prk_io_parse_size("", &v), -1);
	assert_int_equal(prk_io_parse_size("k", &v), -1);
	assert_int_equal(prk_io_parse_size("-1", &v), -1);
	assert_int_equal(prk_io_parse_size("4x", &v), -1);
	assert_int_equal(prk_io_parse_size("4kk", &v), -1);
	assert_int_equal(prk_io_parse_size("99999999999999999999", &v), -1);
	assert_int_equal(prk_io_parse_size("17179869184T", &v), -1); /* 2^34 T overflows */
}

/* ---- the region against the LU ---- */

static void test_fit_region(void **state)
{
	(void)state;
	struct io_opts o;
	char err[256];
	struct io_region r;
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--bs", "8k", "--offset", "1m",
	                       "--size", "64k", URL1, NULL),
	                 0);
	assert_int_equal(prk_io_opts_fit(&o, 512, 131072, &r, err, sizeof(err)), 0);
	assert_int_equal(r.first_lba, 2048);
	assert_int_equal(r.io_blocks, 16);
	assert_int_equal(r.units, 8);
	/* Whole LU, 4 KiB blocks. */
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--bs", "16k", URL1, NULL), 0);
	assert_int_equal(prk_io_opts_fit(&o, 4096, 1000, &r, err, sizeof(err)), 0);
	assert_int_equal(r.first_lba, 0);
	assert_int_equal(r.io_blocks, 4);
	assert_int_equal(r.units, 250);
	/* --bs 512 on a 4096-byte-block LU. */
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--bs", "512", URL1, NULL), 0);
	assert_int_equal(prk_io_opts_fit(&o, 4096, 1000, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--bs"));
	assert_non_null(strstr(err, "4096"));
	/* Misaligned and out-of-range regions. */
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--offset", "1000", URL1, NULL),
	                 0);
	assert_int_equal(prk_io_opts_fit(&o, 512, 1000, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--offset"));
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--offset", "1m", URL1, NULL),
	                 0);
	assert_int_equal(prk_io_opts_fit(&o, 512, 2048, &r, err, sizeof(err)), -1); /* 1 MiB LU */
	assert_non_null(strstr(err, "--offset"));
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--size", "2m", URL1, NULL), 0);
	assert_int_equal(prk_io_opts_fit(&o, 512, 2048, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--size"));
	assert_int_equal(parse(&o, err, sizeof(err), "--key", "1", "--size", "6k", URL1, NULL), 0);
	assert_int_equal(prk_io_opts_fit(&o, 512, 2048, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "multiple of --bs"));
}

static void test_default_initiator(void **state)
{
	(void)state;
	char buf[256], err[256];
	assert_int_equal(
	    prk_io_default_initiator(NULL, "My_Host.Example", buf, sizeof(buf), err, sizeof(err)),
	    0);
	assert_string_equal(buf, "iqn.2026-11.io.prkit:host-my-host.example");
	assert_int_equal(prk_io_default_initiator("", "", buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "iqn.2026-11.io.prkit:host-localhost");
	assert_int_equal(prk_io_default_initiator("iqn.2026-11.io.prkit:from-env", "h", buf,
	                                          sizeof(buf), err, sizeof(err)),
	                 0);
	assert_string_equal(buf, "iqn.2026-11.io.prkit:from-env");
	assert_int_equal(
	    prk_io_default_initiator("bad name", "h", buf, sizeof(buf), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "PRKIT_INITIATOR_NAME"));
}

/* ---- percentiles ---- */

static struct io_hist hist;

static void test_percentiles_exact_below_64(void **state)
{
	(void)state;
	memset(&hist, 0, sizeof(hist));
	assert_int_equal(prk_io_hist_percentile(&hist, 50), 0); /* empty */
	for (uint64_t v = 1; v <= 50; v++)
		prk_io_hist_add(&hist, v);
	assert_int_equal(hist.n, 50);
	assert_int_equal(prk_io_hist_percentile(&hist, 50), 25);
	assert_int_equal(prk_io_hist_percentile(&hist, 99), 50); /* rank ceil(49.5) = 50 */
	assert_int_equal(prk_io_hist_percentile(&hist, 2), 1);
	assert_int_equal(prk_io_hist_percentile(&hist, 100), 50);
	assert_int_equal(hist.max, 50);
}

static void test_percentiles_uniform_1_to_1000(void **state)
{
	(void)state;
	memset(&hist, 0, sizeof(hist));
	/* In a shuffled order: the histogram does not care. */
	for (uint64_t i = 0; i < 1000; i++)
		prk_io_hist_add(&hist, (i * 337) % 1000 + 1);
	uint64_t p50 = prk_io_hist_percentile(&hist, 50);
	uint64_t p99 = prk_io_hist_percentile(&hist, 99);
	/* The true values are 500 and 990; kept within 1/32 above. */
	assert_in_range(p50, 500, 500 + 500 / 32);
	assert_in_range(p99, 990, 990 + 990 / 32);
	assert_int_equal(prk_io_hist_percentile(&hist, 100), 1000);
	assert_int_equal(hist.max, 1000);
}

static void test_percentiles_bimodal(void **state)
{
	(void)state;
	memset(&hist, 0, sizeof(hist));
	for (int i = 0; i < 990; i++)
		prk_io_hist_add(&hist, 100);
	for (int i = 0; i < 10; i++)
		prk_io_hist_add(&hist, 5000);
	assert_in_range(prk_io_hist_percentile(&hist, 50), 100, 101);
	assert_in_range(prk_io_hist_percentile(&hist, 99), 100, 101); /* rank 990 is still 100 */
	assert_int_equal(prk_io_hist_percentile(&hist, 99.5), 5000);  /* clamped to the max */
	assert_int_equal(hist.max, 5000);
	/* Far above: a 10 s stall and a value past the last bucket. */
	prk_io_hist_add(&hist, 10000000);
	prk_io_hist_add(&hist, UINT64_MAX / 2);
	assert_int_equal(prk_io_hist_percentile(&hist, 100), UINT64_MAX / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pattern_round_trip),
	    cmocka_unit_test(test_pattern_differs_per_lba_seq_run),
	    cmocka_unit_test(test_pattern_flipped_data_byte),
	    cmocka_unit_test(test_pattern_flipped_last_byte_4k),
	    cmocka_unit_test(test_pattern_wrong_lba),
	    cmocka_unit_test(test_pattern_lost_write_and_other_run),
	    cmocka_unit_test(test_pattern_unwritten_block),
	    cmocka_unit_test(test_parse_defaults),
	    cmocka_unit_test(test_parse_ctl),
	    cmocka_unit_test(test_parse_everything),
	    cmocka_unit_test(test_parse_rejects_bad_values),
	    cmocka_unit_test(test_parse_rejects_bad_urls),
	    cmocka_unit_test(test_parse_rejects_combinations),
	    cmocka_unit_test(test_parse_run_id_seq_clock),
	    cmocka_unit_test(test_next_seq),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_fit_region),
	    cmocka_unit_test(test_default_initiator),
	    cmocka_unit_test(test_percentiles_exact_below_64),
	    cmocka_unit_test(test_percentiles_uniform_1_to_1000),
	    cmocka_unit_test(test_percentiles_bimodal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
