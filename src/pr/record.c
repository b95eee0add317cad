/* The persistent form of the PR state (APTPL): a versioned, CRC32C-checked
 * little-endian record, layout in docs/pr-engine.md. Files are the target's
 * business; this only turns state into bytes and back, and refuses any
 * record that is not exactly what encode would have written. */
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "prkit/crc32c.h"
#include "pr_internal.h"

static const uint8_t magic[8] = {'P', 'R', 'K', 'P', 'R', 0, 0, 1};

#define HDR_LEN 36
#define OFF_CRC 16
#define REG_FIXED_LEN 20
#define FLAG_APTPL 0x1
#define REG_ALL_TG_PT 0x1
#define REG_ANY_ISID 0x2

/* The record is little-endian: the base's prk_get_le* / prk_put_le*. */

/* The checksum covers every byte of the record except the CRC field. */
static uint32_t record_crc(const uint8_t *buf, size_t len)
{
	uint32_t crc = prk_crc32c(0, buf, OFF_CRC);
	return prk_crc32c(crc, buf + OFF_CRC + 4, len - OFF_CRC - 4);
}

size_t prk_pr_record_encode(const struct prk_pr_state *st, uint8_t **out)
{
	size_t len = HDR_LEN;
	for (size_t i = 0; i < st->n_regs; i++)
		len += REG_FIXED_LEN + strlen(st->regs[i].nx.name);
	uint8_t *b = calloc(1, len);
	if (!b)
		return 0;
	memcpy(b, magic, sizeof(magic));
	prk_put_le16(b + 8, PRK_PR_RECORD_VERSION);
	prk_put_le16(b + 10, st->aptpl ? FLAG_APTPL : 0);
	prk_put_le32(b + 12, (uint32_t)len);
	prk_put_le32(b + 20, st->generation);
	b[24] = st->resv;
	b[25] = st->resv ? st->type : 0;
	b[26] = st->resv ? st->scope : 0;
	prk_put_le32(b + 28, (uint32_t)(int32_t)(st->resv ? st->holder : -1));
	prk_put_le32(b + 32, (uint32_t)st->n_regs);
	uint8_t *p = b + HDR_LEN;
	for (size_t i = 0; i < st->n_regs; i++) {
		const struct prk_reg *r = &st->regs[i];
		size_t n = strlen(r->nx.name);
		prk_put_le64(p, r->key);
		prk_put_le64(p + 8, r->nx.isid);
		prk_put_le16(p + 16, r->nx.rtpi);
		p[18] = (uint8_t)((r->all_tg_pt ? REG_ALL_TG_PT : 0) |
		                  (r->any_isid ? REG_ANY_ISID : 0));
		p[19] = (uint8_t)n;
		memcpy(p + REG_FIXED_LEN, r->nx.name, n);
		p += REG_FIXED_LEN + n;
	}
	prk_put_le32(b + OFF_CRC, record_crc(b, len));
	*out = b;
	return len;
}

static int bad(struct prk_field_err *err, size_t off, const char *field)
{
	prk_field_err_set(err, false, (uint16_t)(off > UINT16_MAX ? UINT16_MAX : off), -1,
	                  PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, field);
	return -1;
}

/* Decodes one registration at p (avail bytes left); off is its offset. */
static int decode_reg(const uint8_t *p, size_t avail, size_t off, struct prk_reg *r, size_t *used,
                      struct prk_field_err *err)
{
	if (avail < REG_FIXED_LEN)
		return bad(err, off, "registration (truncated)");
	uint8_t flags = p[18], n = p[19];
	if (flags & ~(REG_ALL_TG_PT | REG_ANY_ISID))
		return bad(err, off + 18, "registration flags");
	if (n == 0 || n > PRK_ISCSI_NAME_MAX || avail < REG_FIXED_LEN + (size_t)n)
		return bad(err, off + 19, "name length");
	/* A NUL inside would shorten the name: not what encode writes. */
	if (memchr(p + REG_FIXED_LEN, 0, n))
		return bad(err, off + REG_FIXED_LEN, "iSCSI name (contains NUL)");
	char name[PRK_ISCSI_NAME_MAX + 1];
	memcpy(name, p + REG_FIXED_LEN, n);
	name[n] = 0;
	memset(r, 0, sizeof(*r));
	r->key = prk_get_le64(p);
	r->all_tg_pt = flags & REG_ALL_TG_PT;
	r->any_isid = flags & REG_ANY_ISID;
	uint64_t isid = prk_get_le64(p + 8);
	uint16_t rtpi = prk_get_le16(p + 16);
	if (r->key == 0)
		return bad(err, off, "reservation key (zero)");
	if ((r->any_isid && isid) || (isid & ~PRK_ISID_MASK))
		return bad(err, off + 8, "ISID");
	if (r->all_tg_pt && rtpi)
		return bad(err, off + 16, "relative target port identifier");
	if (prk_nexus_init(&r->nx, name, isid, rtpi) || strcmp(r->nx.name, name) != 0)
		return bad(err, off + REG_FIXED_LEN, "iSCSI name (invalid or not lower case)");
	*used = REG_FIXED_LEN + n;
	return 0;
}

static int decode_into(struct prk_pr_state *t, const uint8_t *buf, size_t len,
                       struct prk_field_err *err)
{
	if (len < HDR_LEN)
		return bad(err, 0, "record (shorter than its header)");
	if (memcmp(buf, magic, sizeof(magic)) != 0)
		return bad(err, 0, "magic");
	if (prk_get_le16(buf + 8) != PRK_PR_RECORD_VERSION)
		return bad(err, 8, "version");
	uint16_t flags = prk_get_le16(buf + 10);
	if (flags & ~FLAG_APTPL)
		return bad(err, 10, "flags");
	if (prk_get_le32(buf + 12) != len)
		return bad(err, 12, "length");
	if (prk_get_le32(buf + OFF_CRC) != record_crc(buf, len))
		return bad(err, OFF_CRC, "checksum");
	t->aptpl = flags & FLAG_APTPL;
	t->generation = prk_get_le32(buf + 20);
	uint8_t present = buf[24], type = buf[25], scope = buf[26];
	int32_t holder = (int32_t)prk_get_le32(buf + 28);
	uint32_t count = prk_get_le32(buf + 32);
	if (present > 1 || buf[27])
		return bad(err, 24, "reservation present");
	if (present && !prk_pr_type_valid(type))
		return bad(err, 25, "reservation type");
	if ((present && scope != PRK_PR_SCOPE_LU) || (!present && (type || scope)))
		return bad(err, 26, "reservation scope");
	if (count > t->max_regs || count > (len - HDR_LEN) / (REG_FIXED_LEN + 1))
		return bad(err, 32, "registration count");
	bool ar = present && prk_pr_type_all_registrants(type);
	bool holder_ok = (present && !ar) ? holder >= 0 && (uint32_t)holder < count : holder == -1;
	if (!holder_ok || (ar && count == 0))
		return bad(err, 28, "holder index");
	if (prk_reg_reserve(t, count))
		return bad(err, 32, "registration count (out of memory)");
	size_t off = HDR_LEN;
	for (uint32_t i = 0; i < count; i++) {
		struct prk_reg r;
		size_t used;
		if (decode_reg(buf + off, len - off, off, &r, &used, err))
			return -1;
		if (prk_reg_find_identity(t, &r) >= 0)
			return bad(err, off, "registration (duplicate)");
		prk_reg_add(t, &r);
		off += used;
	}
	if (off != len)
		return bad(err, off, "trailing bytes");
	t->resv = present;
	t->type = present ? type : 0;
	t->scope = present ? scope : 0;
	t->holder = holder;
	return 0;
}

int prk_pr_record_decode(struct prk_pr_state *st, const uint8_t *buf, size_t len,
                         struct prk_field_err *err)
{
	struct prk_pr_config cfg = {.max_registrations = st->max_regs};
	struct prk_pr_state *t = prk_pr_state_new(&cfg);
	if (!t)
		return bad(err, 0, "record (out of memory)");
	if (decode_into(t, buf, len, err)) {
		prk_pr_state_free(t);
		return -1;
	}
	/* Swap the decoded registrations in; keep st's configuration. */
	struct prk_pr_state keep = *st;
	st->regs = t->regs;
	st->n_regs = t->n_regs;
	st->cap_regs = t->cap_regs;
	st->index = t->index;
	st->index_cap = t->index_cap;
	st->n_all_tg_pt = t->n_all_tg_pt;
	st->n_any_isid = t->n_any_isid;
	st->generation = t->generation;
	st->aptpl = t->aptpl;
	st->resv = t->resv;
	st->type = t->type;
	st->scope = t->scope;
	st->holder = t->holder;
	st->spc2 = false;
	st->lost = false;
	t->regs = keep.regs;
	t->index = keep.index;
	prk_pr_state_free(t);
	return 0;
}
