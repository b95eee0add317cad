/* The replicated form of a LU's PR state (cluster state transfer): the
 * APTPL record, which already holds APTPL, generation, the registrations
 * and the reservation, behind a header with what a record leaves out
 * because it does not survive a power cycle but must survive a transfer
 * between live replicas: the SPC-2 reservation and the "information lost"
 * flag. The bytes come from the network, so decode trusts nothing: the
 * whole snapshot is CRC32C-checked, every length is checked against what
 * is left, and only states the engine itself can reach are accepted.
 *
 * Layout (little-endian, as the record):
 *   0  magic "PRKSNAP" + format version (8)
 *   8  total length (4)
 *  12  CRC32C of every byte but this field (4)
 *  16  flags (1): 1 = SPC-2 reservation held, 2 = PR information lost
 *  17  SPC-2 holder's name length (1), 0 without a holder
 *  18  SPC-2 holder's relative target port identifier (2)
 *  20  SPC-2 holder's ISID (8)
 *  28  SPC-2 holder's name (lower case, not terminated)
 *  ..  the APTPL record (prk_pr_record_encode) up to the end */
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "prkit/crc32c.h"
#include "pr_internal.h"

static const uint8_t magic[8] = {'P', 'R', 'K', 'S', 'N', 'A', 'P', PRK_PR_SNAPSHOT_VERSION};

#define FIXED_LEN 28
#define OFF_CRC 12
#define FLAG_SPC2 0x1
#define FLAG_LOST 0x2

static uint32_t snap_crc(const uint8_t *buf, size_t len)
{
	uint32_t crc = prk_crc32c(0, buf, OFF_CRC);
	return prk_crc32c(crc, buf + OFF_CRC + 4, len - OFF_CRC - 4);
}

size_t prk_pr_snapshot_encode(const struct prk_pr_state *st, uint8_t **out)
{
	uint8_t *rec = NULL;
	size_t rec_len = prk_pr_record_encode(st, &rec);
	if (!rec_len)
		return 0;
	size_t name_len = st->spc2 ? strlen(st->spc2_holder.name) : 0;
	size_t len = FIXED_LEN + name_len + rec_len;
	uint8_t *b = calloc(1, len);
	if (!b) {
		free(rec);
		return 0;
	}
	memcpy(b, magic, sizeof(magic));
	prk_put_le32(b + 8, (uint32_t)len);
	b[16] = (uint8_t)((st->spc2 ? FLAG_SPC2 : 0) | (st->lost ? FLAG_LOST : 0));
	b[17] = (uint8_t)name_len;
	if (st->spc2) {
		prk_put_le16(b + 18, st->spc2_holder.rtpi);
		prk_put_le64(b + 20, st->spc2_holder.isid);
		memcpy(b + FIXED_LEN, st->spc2_holder.name, name_len);
	}
	memcpy(b + FIXED_LEN + name_len, rec, rec_len);
	free(rec);
	prk_put_le32(b + OFF_CRC, snap_crc(b, len));
	*out = b;
	return len;
}

static int bad(struct prk_field_err *err, size_t off, const char *field)
{
	prk_field_err_set(err, false, (uint16_t)(off > UINT16_MAX ? UINT16_MAX : off), -1,
	                  PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, field);
	return -1;
}

int prk_pr_snapshot_decode(struct prk_pr_state *st, const uint8_t *buf, size_t len,
                           struct prk_field_err *err)
{
	if (len < FIXED_LEN)
		return bad(err, 0, "snapshot (shorter than its header)");
	if (memcmp(buf, magic, sizeof(magic)) != 0)
		return bad(err, 0, "snapshot magic or version");
	if (prk_get_le32(buf + 8) != len)
		return bad(err, 8, "snapshot length");
	if (prk_get_le32(buf + OFF_CRC) != snap_crc(buf, len))
		return bad(err, OFF_CRC, "snapshot checksum");
	uint8_t flags = buf[16], name_len = buf[17];
	uint16_t rtpi = prk_get_le16(buf + 18);
	uint64_t isid = prk_get_le64(buf + 20);
	if (flags & ~(FLAG_SPC2 | FLAG_LOST))
		return bad(err, 16, "snapshot flags");
	bool spc2 = flags & FLAG_SPC2, lost = flags & FLAG_LOST;
	struct prk_nexus holder;
	memset(&holder, 0, sizeof(holder));
	if (!spc2) {
		if (name_len || rtpi || isid)
			return bad(err, 17, "SPC-2 holder (without an SPC-2 reservation)");
	} else {
		if (name_len == 0 || name_len > PRK_ISCSI_NAME_MAX || len - FIXED_LEN < name_len ||
		    memchr(buf + FIXED_LEN, 0, name_len))
			return bad(err, 17, "SPC-2 holder name length");
		char name[PRK_ISCSI_NAME_MAX + 1];
		memcpy(name, buf + FIXED_LEN, name_len);
		name[name_len] = 0;
		/* The engine stores names lower-cased: anything else is not a
		 * state it could have sent. */
		if (prk_nexus_init(&holder, name, isid, rtpi) || strcmp(holder.name, name) != 0)
			return bad(err, FIXED_LEN, "SPC-2 holder (invalid name or ISID)");
	}
	size_t rec_off = FIXED_LEN + name_len;
	/* Decode the record into a scratch state first, so that the checks
	 * that need both halves can still refuse without touching st. */
	struct prk_pr_config cfg = {.max_registrations = st->max_regs};
	struct prk_pr_state *t = prk_pr_state_new(&cfg);
	if (!t)
		return bad(err, 0, "snapshot (out of memory)");
	if (prk_pr_record_decode(t, buf + rec_off, len - rec_off, err)) {
		size_t off = rec_off + err->byte;
		err->byte = (uint16_t)(off > UINT16_MAX ? UINT16_MAX : off);
		prk_pr_state_free(t);
		return -1;
	}
	/* What the engine guarantees: an SPC-2 reservation exists only while
	 * nothing is registered (B11), and losing PR information drops every
	 * registration, the reservation and APTPL. */
	if (spc2 && t->n_regs) {
		prk_pr_state_free(t);
		return bad(err, 16, "SPC-2 reservation with registrations");
	}
	if (lost && (t->n_regs || t->aptpl)) {
		prk_pr_state_free(t);
		return bad(err, 16, "information lost with registrations or APTPL");
	}
	/* Swap t's contents in; st keeps its configuration (limits, ports). */
	struct prk_reg *regs = st->regs;
	uint32_t *index = st->index;
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
	st->spc2 = spc2;
	st->spc2_holder = holder;
	st->lost = lost;
	t->regs = regs;
	t->index = index;
	prk_pr_state_free(t);
	return 0;
}
