/* libFuzzer target: the whole PR OUT / PR IN / SPC-2 path of the engine,
 * fed a sequence of commands from several nexuses. Each step reads:
 *   1 byte  nexus selector and command kind
 *   10 bytes CDB
 *   1 byte  parameter list length n, then n bytes of parameter data.
 * Checks: no crash or sanitizer report; a failed command leaves the state
 * unchanged and carries no effects; PR IN never reports more bytes than
 * allowed; the record of the final state round-trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prkit/pr.h"

static const char *const names[] = {
    "iqn.2026-01.org.example:a",
    "iqn.2026-01.org.example:b",
    "IQN.2026-01.ORG.EXAMPLE:A",
    "iqn.2026-01.org.example:c",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t ports[] = {1, 2};
	struct prk_pr_config cfg = {.max_registrations = 16, .rtpis = ports, .n_rtpis = 2};
	struct prk_pr_state *st = prk_pr_state_new(&cfg);
	if (!st)
		return 0;
	struct prk_nexus nx[8];
	for (int i = 0; i < 8; i++)
		prk_nexus_init(&nx[i], names[i % 4], 0x400000000000ULL + (uint64_t)(i / 4),
		               (uint16_t)(1 + (i & 1)));
	size_t pos = 0;
	while (pos + 12 <= size) {
		uint8_t sel = data[pos];
		const uint8_t *cdb = data + pos + 1;
		size_t plen = data[pos + 11];
		pos += 12;
		if (plen > size - pos)
			plen = size - pos;
		const uint8_t *params = data + pos;
		pos += plen;
		const struct prk_nexus *from = &nx[sel & 7];
		struct prk_pr_state *before = prk_pr_state_clone(st);
		if (!before)
			break;
		struct prk_pr_result res;
		prk_pr_result_init(&res);
		switch ((sel >> 3) & 7) {
		case 0:
		case 1:
		case 2: {
			/* Keep the CDB's PARAMETER LIST LENGTH honest most of
			 * the time so that the deep paths are reached. */
			uint8_t c[10];
			memcpy(c, cdb, 10);
			c[0] = PRK_OP_PR_OUT;
			if (sel & 0x40) {
				c[5] = c[6] = 0;
				c[7] = (uint8_t)(plen >> 8);
				c[8] = (uint8_t)plen;
			}
			prk_pr_out(st, from, c, 10, params, plen, &res);
			break;
		}
		case 3: {
			uint8_t buf[512];
			uint8_t c[10];
			memcpy(c, cdb, 10);
			c[0] = PRK_OP_PR_IN;
			size_t cap = plen ? params[0] * 2u : 64;
			if (cap > sizeof(buf))
				cap = sizeof(buf);
			size_t n = prk_pr_in(st, from, c, 10, buf, cap, &res);
			if (n > cap)
				__builtin_trap();
			break;
		}
		case 4:
			prk_pr_spc2(st, from, cdb, 10, &res);
			break;
		case 5:
			prk_pr_nexus_loss(st, from, &res);
			break;
		case 6:
			prk_pr_access(st, from, cdb, 10);
			res.status = PRK_STATUS_GOOD;
			break;
		default:
			prk_pr_lu_reset(st, &res);
			break;
		}
		if (res.status != PRK_STATUS_GOOD &&
		    (!prk_pr_state_equal(before, st) || res.n_ua || res.n_abort))
			__builtin_trap();
		prk_pr_result_free(&res);
		prk_pr_state_free(before);
	}
	uint8_t *rec = NULL;
	size_t n = prk_pr_record_encode(st, &rec);
	struct prk_pr_state *back = prk_pr_state_new(&cfg);
	struct prk_field_err err;
	if (n && back && prk_pr_record_decode(back, rec, n, &err) != 0)
		__builtin_trap();
	free(rec);
	prk_pr_state_free(back);
	prk_pr_state_free(st);
	return 0;
}
