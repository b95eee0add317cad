/* The cluster message codec: every type round-trips, every truncation is
 * refused with the field named, forged counts cannot make it allocate,
 * and random corruption never crashes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "byteorder.h"
#include "cl_msg.h"

static struct prk_cl_view view3(void)
{
	struct prk_cl_view v = {.n = 3};
	for (uint32_t i = 0; i < 3; i++)
		v.m[i] = (struct prk_cl_member){.node = i + 1, .pid = 100 + i};
	return v;
}

/* Encodes m in every type and checks decode(encode(x)) == x. */
static size_t enc_all(int which, uint8_t **out)
{
	static struct prk_cl_lu_def lus[2];
	static const uint8_t params[24] = {1, 2, 3};
	switch (which) {
	case 0: {
		struct prk_cl_hello h = {.view = view3(), .pid = 101, .synced = true, .epoch = 9};
		memset(lus, 0, sizeof(lus));
		for (int i = 0; i < 2; i++) {
			lus[i].naa[0] = 0x60;
			lus[i].naa[15] = (uint8_t)i;
			strcpy(lus[i].target, "iqn.2026-12.io.prkit:t");
			lus[i].lun = (uint16_t)i;
			lus[i].block_size = 512;
			lus[i].blocks = 2048;
			lus[i].flags = PRK_CL_LU_THIN;
			lus[i].epoch = 9;
			lus[i].seq = 77;
		}
		h.lus = lus;
		h.n_lus = 2;
		h.n_ports = 1;
		h.ports[0] = (struct prk_cl_port){.node = 2, .tpg = 2, .rtpi = 2, .state = 1};
		return prk_cl_enc_hello(2, &h, out);
	}
	case 1: {
		static const uint8_t blob[5] = {9, 8, 7, 6, 5};
		struct prk_cl_snapshot s = {
		    .view = view3(), .epoch = 3, .seq = 4, .blob = blob, .blob_len = 5};
		s.naa[0] = 0x60;
		return prk_cl_enc_snapshot(1, &s, out);
	}
	case 2: {
		struct prk_cl_pending_wire p = {
		    .id = {.node = 3, .n = 12}, .n_waiting = 2, .waiting = {1, 2}};
		struct prk_cl_sync_done d = {
		    .view = view3(), .epoch = 10, .n_ports = 2, .pending = &p, .n_pending = 1};
		d.ports[0] = (struct prk_cl_port){.node = 1, .tpg = 1, .rtpi = 1};
		d.ports[1] = (struct prk_cl_port){.node = 4, .tpg = 4, .rtpi = 4, .state = 3};
		return prk_cl_enc_sync_done(1, &d, out);
	}
	case 3: {
		struct prk_cl_event e = {.id = {.node = 2, .n = 5},
		                         .kind = PRK_CL_EV_PROUT,
		                         .cdb_len = 10,
		                         .params = params,
		                         .params_len = 24};
		strcpy(e.from.name, "iqn.2026-12.io.prkit:i1");
		e.from.isid = 0x23d000000001ULL;
		e.from.rtpi = 2;
		e.cdb[0] = 0x5f;
		e.cdb[8] = 24;
		return prk_cl_enc_event(2, &e, out);
	}
	case 4: {
		struct prk_cl_ack a = {.id = {.node = 2, .n = 5},
		                       .status = 2,
		                       .sense_key = 5,
		                       .asc = 0x2400,
		                       .persist_failed = true};
		return prk_cl_enc_ack(3, &a, out);
	}
	case 5:
		return prk_cl_enc_heartbeat(1, 123456789, out);
	case 6: {
		struct prk_cl_ua u = {.asc = 0x2a03};
		strcpy(u.nx.name, "iqn.2026-12.io.prkit:i2");
		u.nx.rtpi = 3;
		return prk_cl_enc_ua(3, PRK_CL_UA_POP, &u, out);
	}
	case 7: {
		struct prk_cl_view v = view3();
		return prk_cl_enc_sync_req(1, &v, out);
	}
	}
	return 0;
}

static void test_round_trip(void **state)
{
	(void)state;
	for (int w = 0; w < 8; w++) {
		uint8_t *b;
		size_t len = enc_all(w, &b);
		assert_true(len >= PRK_CL_HDR_LEN);
		struct prk_cl_msg m;
		char err[200];
		assert_int_equal(prk_cl_msg_decode(b, len, &m, err, sizeof(err)), 0);
		switch (w) {
		case 0:
			assert_int_equal(m.type, PRK_CL_HELLO);
			assert_int_equal(m.sender, 2);
			assert_int_equal(m.u.hello.n_lus, 2);
			assert_string_equal(m.u.hello.lus[1].target, "iqn.2026-12.io.prkit:t");
			assert_int_equal(m.u.hello.lus[1].seq, 77);
			assert_int_equal(m.u.hello.lus[1].naa[15], 1);
			assert_true(m.u.hello.synced);
			assert_false(m.u.hello.quorate);
			assert_int_equal(m.u.hello.ports[0].state, 1);
			break;
		case 1:
			assert_int_equal(m.u.snap.blob_len, 5);
			assert_int_equal(m.u.snap.blob[4], 5);
			assert_int_equal(m.u.snap.seq, 4);
			break;
		case 2:
			assert_int_equal(m.u.done.n_pending, 1);
			assert_int_equal(m.u.done.pending[0].waiting[1], 2);
			assert_int_equal(m.u.done.ports[1].state, 3);
			break;
		case 3:
			assert_int_equal(m.u.ev.id.n, 5);
			assert_string_equal(m.u.ev.from.name, "iqn.2026-12.io.prkit:i1");
			assert_int_equal(m.u.ev.from.isid, 0x23d000000001ULL);
			assert_int_equal(m.u.ev.params_len, 24);
			assert_int_equal(m.u.ev.params[2], 3);
			break;
		case 5:
			assert_int_equal(m.u.sent_ns, 123456789);
			break;
		case 4:
			assert_int_equal(m.u.ack.asc, 0x2400);
			assert_true(m.u.ack.persist_failed);
			break;
		case 6:
			assert_int_equal(m.u.ua.asc, 0x2a03);
			break;
		case 7:
			assert_int_equal(m.u.req.n, 3);
			break;
		}
		prk_cl_msg_free(&m);
		/* every truncation is refused */
		for (size_t cut = 0; cut < len; cut++)
			assert_int_equal(prk_cl_msg_decode(b, cut, &m, err, sizeof(err)), -1);
		/* a byte too many too */
		uint8_t *longer = malloc(len + 1);
		memcpy(longer, b, len);
		longer[len] = 0;
		assert_int_equal(prk_cl_msg_decode(longer, len + 1, &m, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "trailing bytes"));
		free(longer);
		free(b);
	}
}

static void test_errors_name_the_field(void **state)
{
	(void)state;
	uint8_t *b;
	size_t len = enc_all(3, &b);
	struct prk_cl_msg m;
	char err[200];
	/* params_len forged to 2 MiB */
	size_t off =
	    PRK_CL_HDR_LEN + 12 + 16 + 1 + 2 + strlen("iqn.2026-12.io.prkit:i1") + 8 + 2 + 1 + 10;
	prk_put_be32(b + off, 2u << 20);
	assert_int_equal(prk_cl_msg_decode(b, len, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "event.params_len"));
	free(b);
	/* a HELLO claiming 1000 LUs in a few bytes allocates nothing */
	len = enc_all(0, &b);
	off = PRK_CL_HDR_LEN + 4 + 3 * 8 + 4 + 1 + 8;
	prk_put_be32(b + off, 1000);
	assert_int_equal(prk_cl_msg_decode(b, len, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "hello.n_lus"));
	free(b);
	/* wrong magic / version / unknown type */
	len = enc_all(5, &b);
	b[0] = 'X';
	assert_int_equal(prk_cl_msg_decode(b, len, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "magic"));
	b[0] = 'P';
	b[4] = 2;
	assert_int_equal(prk_cl_msg_decode(b, len, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "version"));
	b[4] = 1;
	b[5] = 99;
	assert_int_equal(prk_cl_msg_decode(b, len, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "type"));
	free(b);
	/* an unsorted view */
	len = enc_all(7, &b);
	prk_put_be32(b + PRK_CL_HDR_LEN + 4, 9);
	assert_int_equal(prk_cl_msg_decode(b, len, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not sorted"));
	free(b);
}

static void test_random_corruption(void **state)
{
	(void)state;
	unsigned r = 12345;
	for (int round = 0; round < 20000; round++) {
		uint8_t *b;
		size_t len = enc_all(round % 8, &b);
		for (int k = 0; k < 3; k++) {
			r = r * 1103515245u + 12345u;
			b[(r >> 8) % len] ^= (uint8_t)(1u << ((r >> 4) & 7));
		}
		struct prk_cl_msg m;
		char err[200];
		if (prk_cl_msg_decode(b, len, &m, err, sizeof(err)) == 0)
			prk_cl_msg_free(&m);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_errors_name_the_field),
	    cmocka_unit_test(test_random_corruption),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
