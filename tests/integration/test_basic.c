/* Integration tests: a real prkitd on 127.0.0.1 driven over iSCSI by
 * libiscsi. Login, discovery, INQUIRY, READ CAPACITY, data round trips
 * (immediate data and R2T), several portals as several I_T nexuses, a
 * first persistent reservation check, and a clean stop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"
#include "harness_cmd.h"

#define INI_A "iqn.2026-11.io.prkit.test:host-a"
#define INI_B "iqn.2026-11.io.prkit.test:host-b"

static struct h_daemon daemon_;

static int setup(void **state)
{
	(void)state;
	return h_start_basic(&daemon_, 2, 32);
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

static void test_login_tur_logout(void **state)
{
	(void)state;
	struct iscsi_context *iscsi = h_login(&daemon_, 0, INI_A, 1);
	assert_non_null(iscsi);
	struct scsi_task *t = iscsi_testunitready_sync(iscsi, 0);
	assert_non_null(t);
	/* The first command of a new nexus reports the power-on UA. */
	if (t->status == SCSI_STATUS_CHECK_CONDITION) {
		assert_int_equal(t->sense.key, SCSI_SENSE_UNIT_ATTENTION);
		scsi_free_scsi_task(t);
		t = iscsi_testunitready_sync(iscsi, 0);
	}
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	scsi_free_scsi_task(t);
	h_logout(iscsi);
}

static void test_inquiry_and_capacity(void **state)
{
	(void)state;
	struct iscsi_context *iscsi = h_login(&daemon_, 0, INI_A, 2);
	assert_non_null(iscsi);
	struct scsi_task *t = iscsi_inquiry_sync(iscsi, 0, 0, 0, 255);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	struct scsi_inquiry_standard *inq = scsi_datain_unmarshall(t);
	assert_non_null(inq);
	assert_int_equal(inq->device_type, SCSI_INQUIRY_PERIPHERAL_DEVICE_TYPE_DIRECT_ACCESS);
	assert_memory_equal(inq->vendor_identification, "PRKIT   ", 8);
	scsi_free_scsi_task(t);

	t = iscsi_readcapacity16_sync(iscsi, 0);
	assert_non_null(t);
	if (t->status == SCSI_STATUS_CHECK_CONDITION) { /* power-on UA */
		scsi_free_scsi_task(t);
		t = iscsi_readcapacity16_sync(iscsi, 0);
	}
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	struct scsi_readcapacity16 *rc = scsi_datain_unmarshall(t);
	assert_non_null(rc);
	assert_int_equal(rc->block_length, 512);
	assert_int_equal(rc->returned_lba + 1, 32 * 2048);
	scsi_free_scsi_task(t);
	h_logout(iscsi);
}

static struct scsi_task *write16(struct iscsi_context *iscsi, uint64_t lba, uint8_t *buf,
                                 uint32_t len)
{
	struct scsi_task *t = iscsi_write16_sync(iscsi, 0, lba, buf, len, 512, 0, 0, 0, 0, 0);
	if (t && t->status == SCSI_STATUS_CHECK_CONDITION &&
	    t->sense.key == SCSI_SENSE_UNIT_ATTENTION) {
		scsi_free_scsi_task(t);
		t = iscsi_write16_sync(iscsi, 0, lba, buf, len, 512, 0, 0, 0, 0, 0);
	}
	return t;
}

/* Sizes that use immediate data only, immediate + one R2T, and many R2Ts
 * and Data-In PDUs. */
static void test_write_read_round_trip(void **state)
{
	(void)state;
	struct iscsi_context *iscsi = h_login(&daemon_, 0, INI_A, 3);
	assert_non_null(iscsi);
	static const uint32_t sizes[] = {512, 8192, 65536, 262144, 1048576};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t len = sizes[s];
		uint8_t *buf = malloc(len);
		for (uint32_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(i * 7 + s * 13 + (i >> 9));
		uint64_t lba = 1000 + s * 4096;
		struct scsi_task *t = write16(iscsi, lba, buf, len);
		assert_non_null(t);
		assert_int_equal(t->status, SCSI_STATUS_GOOD);
		scsi_free_scsi_task(t);
		h_assert_read(iscsi, 0, lba, buf, len);
		free(buf);
	}
	h_logout(iscsi);
}

static void test_discovery_lists_both_portals(void **state)
{
	(void)state;
	struct iscsi_context *iscsi = iscsi_create_context(INI_A);
	assert_non_null(iscsi);
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", daemon_.ports[0]);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_DISCOVERY);
	assert_int_equal(iscsi_connect_sync(iscsi, addr), 0);
	assert_int_equal(iscsi_login_sync(iscsi), 0);
	struct iscsi_discovery_address *da = iscsi_discovery_sync(iscsi);
	assert_non_null(da);
	assert_string_equal(da->target_name, H_TARGET);
	int portals = 0;
	for (struct iscsi_target_portal *p = da->portals; p; p = p->next)
		portals++;
	assert_int_equal(portals, 2);
	iscsi_free_discovery_data(iscsi, da);
	iscsi_logout_sync(iscsi);
	iscsi_destroy_context(iscsi);
}

static uint16_t relative_port(struct iscsi_context *iscsi)
{
	struct scsi_task *t =
	    iscsi_inquiry_sync(iscsi, 0, 1, SCSI_INQUIRY_PAGECODE_DEVICE_IDENTIFICATION, 255);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	struct scsi_inquiry_device_identification *di = scsi_datain_unmarshall(t);
	assert_non_null(di);
	uint16_t rtpi = 0;
	for (struct scsi_inquiry_device_designator *d = di->designators; d; d = d->next)
		if (d->designator_type == SCSI_DESIGNATOR_TYPE_RELATIVE_TARGET_PORT &&
		    d->designator_length >= 4)
			rtpi =
			    (uint16_t)((uint8_t)d->designator[2] << 8 | (uint8_t)d->designator[3]);
	scsi_free_scsi_task(t);
	return rtpi;
}

/* Each portal is its own target port: the same initiator port reaches the
 * LU as two I_T nexuses, told apart by the relative target port id. */
static void test_two_portals_two_nexuses(void **state)
{
	(void)state;
	struct iscsi_context *p0 = h_login(&daemon_, 0, INI_A, 4);
	struct iscsi_context *p1 = h_login(&daemon_, 1, INI_A, 4);
	assert_non_null(p0);
	assert_non_null(p1);
	uint16_t r0 = relative_port(p0), r1 = relative_port(p1);
	assert_int_equal(r0, 1);
	assert_int_equal(r1, 2);
	h_logout(p0);
	h_logout(p1);
}

/* Host A registers on both paths and takes Write Exclusive - Registrants
 * Only; unregistered host B may read but its write conflicts. */
static void test_pr_registrants_only_blocks_unregistered_writer(void **state)
{
	(void)state;
	struct iscsi_context *a0 = h_login(&daemon_, 0, INI_A, 5);
	struct iscsi_context *a1 = h_login(&daemon_, 1, INI_A, 5);
	struct iscsi_context *b = h_login(&daemon_, 0, INI_B, 6);
	assert_non_null(a0);
	assert_non_null(a1);
	assert_non_null(b);
	struct scsi_persistent_reserve_out_basic p = {.service_action_reservation_key = 0xabc1};
	struct iscsi_context *paths[] = {a0, a1};
	for (int i = 0; i < 2; i++) {
		struct scsi_task *t = iscsi_persistent_reserve_out_sync(
		    paths[i], 0, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0,
		    &p);
		if (t->status == SCSI_STATUS_CHECK_CONDITION) { /* power-on UA */
			scsi_free_scsi_task(t);
			t = iscsi_persistent_reserve_out_sync(
			    paths[i], 0, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
			    0, 0, &p);
		}
		assert_int_equal(t->status, SCSI_STATUS_GOOD);
		scsi_free_scsi_task(t);
	}
	struct scsi_task *t =
	    iscsi_persistent_reserve_in_sync(a0, 0, SCSI_PERSISTENT_RESERVE_READ_KEYS, 4096);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	struct scsi_persistent_reserve_in_read_keys *rk = scsi_datain_unmarshall(t);
	assert_non_null(rk);
	assert_int_equal(rk->num_keys, 2);
	assert_true(rk->keys[0] == 0xabc1 && rk->keys[1] == 0xabc1);
	scsi_free_scsi_task(t);

	struct scsi_persistent_reserve_out_basic r = {.reservation_key = 0xabc1};
	t = iscsi_persistent_reserve_out_sync(
	    a0, 0, SCSI_PERSISTENT_RESERVE_RESERVE, 0,
	    SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY, &r);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	scsi_free_scsi_task(t);

	uint8_t buf[512] = {1, 2, 3};
	t = write16(b, 10, buf, sizeof(buf));
	assert_int_equal(t->status, SCSI_STATUS_RESERVATION_CONFLICT);
	scsi_free_scsi_task(t);
	t = iscsi_read16_sync(b, 0, 10, 512, 512, 0, 0, 0, 0, 0);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	scsi_free_scsi_task(t);
	t = write16(a1, 10, buf, sizeof(buf)); /* the other path of the registrant */
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	scsi_free_scsi_task(t);

	/* Every PR OUT is logged with its nexus and outcome. */
	assert_true(h_log_contains(&daemon_, "PR OUT RESERVE from " INI_A " isid "));
	assert_true(h_log_contains(&daemon_, "rtpi 1 on " H_TARGET " LUN 0: GOOD"));

	/* Clean up for later tests: CLEAR from the holder. */
	t = iscsi_persistent_reserve_out_sync(a0, 0, SCSI_PERSISTENT_RESERVE_CLEAR, 0, 0, &r);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	scsi_free_scsi_task(t);
	h_logout(a0);
	h_logout(a1);
	h_logout(b);
}

/* Header digests (CRC32C) negotiated and checked both ways: a data round
 * trip through R2T and Data-In still works, so our digests are what libiscsi
 * computes and we accept its. */
static void test_header_digest_round_trip(void **state)
{
	(void)state;
	struct iscsi_context *iscsi = iscsi_create_context(INI_A);
	assert_non_null(iscsi);
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", daemon_.ports[0]);
	iscsi_set_targetname(iscsi, H_TARGET);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_CRC32C);
	iscsi_set_noautoreconnect(iscsi, 1);
	assert_int_equal(iscsi_full_connect_sync(iscsi, addr, 0), 0);
	uint32_t len = 262144;
	uint8_t *buf = malloc(len);
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	struct scsi_task *t = write16(iscsi, 20000, buf, len);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	scsi_free_scsi_task(t);
	t = iscsi_read16_sync(iscsi, 0, 20000, len, 512, 0, 0, 0, 0, 0);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	assert_memory_equal(t->datain.data, buf, len);
	scsi_free_scsi_task(t);
	free(buf);
	assert_true(h_log_contains(&daemon_, "header digest"));
	h_logout(iscsi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_login_tur_logout),
	    cmocka_unit_test(test_inquiry_and_capacity),
	    cmocka_unit_test(test_write_read_round_trip),
	    cmocka_unit_test(test_discovery_lists_both_portals),
	    cmocka_unit_test(test_two_portals_two_nexuses),
	    cmocka_unit_test(test_pr_registrants_only_blocks_unregistered_writer),
	    cmocka_unit_test(test_header_digest_round_trip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
