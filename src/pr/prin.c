/* PERSISTENT RESERVE IN: the four reports, built from the state with the
 * src/scsi encoders, so the bytes match what the host library decodes. */
#include <stdlib.h>
#include <string.h>

#include "pr_internal.h"

static size_t read_keys(const struct prk_pr_state *st, uint8_t *buf, size_t cap,
                        struct prk_pr_result *res)
{
	uint64_t *keys = malloc((st->n_regs ? st->n_regs : 1) * sizeof(*keys));
	if (!keys) {
		prk_res_check(res, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INSUFFICIENT_RESOURCES,
		              "out of memory for READ KEYS");
		return 0;
	}
	for (size_t i = 0; i < st->n_regs; i++)
		keys[i] = st->regs[i].key;
	size_t full = prk_prin_keys_encode(st->generation, keys, st->n_regs, buf, cap);
	free(keys);
	return full;
}

static size_t read_reservation(const struct prk_pr_state *st, uint8_t *buf, size_t cap)
{
	struct prk_prin_resv r = {.generation = st->generation, .present = st->resv};
	if (st->resv) {
		r.type = st->type;
		r.scope = st->scope;
		/* All-registrants reservations report key 0 (SPC-4 6.15.3). */
		r.key = st->holder >= 0 ? st->regs[st->holder].key : 0;
	}
	return prk_prin_resv_encode(&r, buf, cap);
}

static size_t report_capabilities(const struct prk_pr_state *st, uint8_t *buf, size_t cap)
{
	struct prk_prin_caps c = {
	    .rlr_c = true,
	    .crh = true,
	    .sip_c = true,
	    .atp_c = true,
	    .ptpl_c = true,
	    .tmv = true,
	    /* 001b: TEST UNIT READY passes WE and EA reservations; no claim
	     * about the others (see docs/pr-engine.md). */
	    .allow_commands = 1,
	    .ptpl_a = st->aptpl,
	    .type_mask = PRK_TYPE_MASK_ALL,
	};
	return prk_prin_caps_encode(&c, buf, cap);
}

static size_t read_full_status(const struct prk_pr_state *st, uint8_t *buf, size_t cap,
                               struct prk_pr_result *res)
{
	struct prk_full_enc e;
	prk_full_enc_start(&e, st->generation, buf, cap);
	for (size_t i = 0; i < st->n_regs; i++) {
		const struct prk_reg *r = &st->regs[i];
		struct prk_full_desc d = {
		    .key = r->key,
		    .all_tg_pt = r->all_tg_pt,
		    .r_holder = prk_reg_is_holder(st, (long)i),
		    .rtpi = r->all_tg_pt ? 0 : r->nx.rtpi,
		};
		if (d.r_holder) {
			d.scope = st->scope;
			d.type = st->type;
		}
		d.tid.format = r->any_isid ? PRK_TID_FMT_DEVICE : PRK_TID_FMT_PORT;
		d.tid.isid = r->any_isid ? 0 : r->nx.isid;
		memcpy(d.tid.name, r->nx.name, sizeof(d.tid.name));
		prk_full_enc_add(&e, &d);
	}
	size_t n = prk_full_enc_finish(&e);
	if (!n) /* cannot happen: names were validated when registered */
		prk_res_check(res, PRK_SK_HARDWARE_ERROR, PRK_ASC_INTERNAL_TARGET_FAILURE,
		              "unencodable TransportID");
	return n;
}

size_t prk_pr_in(const struct prk_pr_state *st, const struct prk_nexus *from, const uint8_t *cdb,
                 size_t cdb_len, uint8_t *buf, size_t cap, struct prk_pr_result *res)
{
	struct prk_prin_cdb c;
	struct prk_field_err err;
	(void)from; /* PR IN reports the same data to every nexus */
	res->changed = res->persist = false;
	if (st->spc2) {
		prk_res_conflict(res, "SPC-2 reservation held");
		return 0;
	}
	if (prk_prin_cdb_decode(cdb, cdb_len, &c, &err)) {
		prk_res_field(res, &err);
		return 0;
	}
	if (cap > c.alloc_len)
		cap = c.alloc_len;
	prk_res_good(res);
	size_t full = 0;
	switch (c.sa) {
	case PRK_PRIN_READ_KEYS:
		full = read_keys(st, buf, cap, res);
		break;
	case PRK_PRIN_READ_RESERVATION:
		full = read_reservation(st, buf, cap);
		break;
	case PRK_PRIN_REPORT_CAPABILITIES:
		full = report_capabilities(st, buf, cap);
		break;
	default:
		full = read_full_status(st, buf, cap, res);
		break;
	}
	if (res->status != PRK_STATUS_GOOD)
		return 0;
	return full < cap ? full : cap;
}
