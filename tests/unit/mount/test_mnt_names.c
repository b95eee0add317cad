/* The mount's directory (mnt_names.c): every name of every device is found
 * with the right mode, inode numbers go both ways, readdir lists each name
 * once, and near-miss names are not found. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mnt_names.h"

static struct prk_mnt_config cfg;

static int setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.devs[0].name, sizeof(cfg.devs[0].name), "db");
	cfg.devs[0].mode = PRK_OPEN_RETAIN;
	snprintf(cfg.devs[1].name, sizeof(cfg.devs[1].name), "db-log");
	cfg.devs[1].mode = PRK_OPEN_SINGLE;
	cfg.n_devs = 2;
	return 0;
}

static void test_plain_name_has_configured_mode(void **state)
{
	(void)state;
	struct prk_mnt_node n;
	assert_int_equal(prk_mnt_lookup(&cfg, "db", &n), 0);
	assert_int_equal(n.kind, PRK_MNT_NODE_DEV);
	assert_int_equal(n.dev, 0);
	assert_int_equal(n.slot, 0);
	assert_int_equal(n.mode, PRK_OPEN_RETAIN);
	assert_int_equal(prk_mnt_lookup(&cfg, "db-log", &n), 0);
	assert_int_equal(n.dev, 1);
	assert_int_equal(n.mode, PRK_OPEN_SINGLE);
}

static void test_mode_names(void **state)
{
	(void)state;
	const char *modes[] = {"default", "forced", "retain", "no-reserve", "single", "cluster"};
	for (int m = 0; m < 6; m++) {
		char name[80];
		struct prk_mnt_node n;
		snprintf(name, sizeof(name), "db-log.%s", modes[m]);
		assert_int_equal(prk_mnt_lookup(&cfg, name, &n), 0);
		assert_int_equal(n.dev, 1);
		assert_int_equal(n.slot, 1 + m);
		assert_int_equal(n.mode, (enum prk_open_mode)m);
		/* And back from the inode number. */
		struct prk_mnt_node b;
		assert_int_equal(prk_mnt_node_of(&cfg, prk_mnt_ino(&n), &b), 0);
		assert_int_equal(b.dev, 1);
		assert_int_equal(b.mode, (enum prk_open_mode)m);
		char back[80];
		assert_int_equal(prk_mnt_node_name(&cfg, &b, back, sizeof(back)), 0);
		assert_string_equal(back, name);
	}
}

static void test_unknown_names(void **state)
{
	(void)state;
	struct prk_mnt_node n;
	const char *bad[] = {
	    "",      "d",           "db.",    "db.exclusive", "db.default.x", "dbx",
	    "db-lo", "db-log.forc", ".prkit", "DB",           "db.Forced",    "db-logx.single",
	    "..",    "db/forced"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(prk_mnt_lookup(&cfg, bad[i], &n), -1);
}

static void test_status_and_root(void **state)
{
	(void)state;
	struct prk_mnt_node n;
	assert_int_equal(prk_mnt_lookup(&cfg, ".prkit-status", &n), 0);
	assert_int_equal(n.kind, PRK_MNT_NODE_STATUS);
	assert_int_equal(prk_mnt_ino(&n), PRK_MNT_INO_STATUS);
	assert_int_equal(prk_mnt_node_of(&cfg, 1, &n), 0);
	assert_int_equal(n.kind, PRK_MNT_NODE_ROOT);
	/* Numbers no node has. */
	uint64_t none[] = {0, 3, 15, 16 + 7, 16 + 8 + 7, 16 + 2 * 8, UINT64_MAX};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		assert_int_equal(prk_mnt_node_of(&cfg, none[i], &n), -1);
}

static void test_readdir_lists_every_name_once(void **state)
{
	(void)state;
	size_t n = prk_mnt_dir_entries(&cfg);
	assert_int_equal(n, 3 + 2 * 7);
	char seen[32][80];
	uint64_t inos[32];
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(prk_mnt_dir_entry(&cfg, k, seen[k], sizeof(seen[k]), &inos[k]), 0);
		for (size_t j = 0; j < k; j++) {
			assert_string_not_equal(seen[j], seen[k]);
			if (k > 1 && j > 1)
				assert_true(inos[j] != inos[k]);
		}
		if (k >= 2) {
			/* Each listed name looks up to the listed inode. */
			struct prk_mnt_node nd;
			assert_int_equal(prk_mnt_lookup(&cfg, seen[k], &nd), 0);
			assert_int_equal(prk_mnt_ino(&nd), inos[k]);
		}
	}
	assert_string_equal(seen[0], ".");
	assert_string_equal(seen[1], "..");
	assert_string_equal(seen[2], ".prkit-status");
	assert_string_equal(seen[3], "db");
	assert_string_equal(seen[4], "db.default");
	assert_string_equal(seen[10], "db-log");
	assert_string_equal(seen[16], "db-log.cluster");
	char name[80];
	uint64_t ino;
	assert_int_equal(prk_mnt_dir_entry(&cfg, n, name, sizeof(name), &ino), -1);
}

static void test_name_buffer_too_small(void **state)
{
	(void)state;
	struct prk_mnt_node n;
	char small[6];
	assert_int_equal(prk_mnt_lookup(&cfg, "db-log.no-reserve", &n), 0);
	assert_int_equal(prk_mnt_node_name(&cfg, &n, small, sizeof(small)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_plain_name_has_configured_mode, setup),
	    cmocka_unit_test_setup(test_mode_names, setup),
	    cmocka_unit_test_setup(test_unknown_names, setup),
	    cmocka_unit_test_setup(test_status_and_root, setup),
	    cmocka_unit_test_setup(test_readdir_lists_every_name_once, setup),
	    cmocka_unit_test_setup(test_name_buffer_too_small, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
