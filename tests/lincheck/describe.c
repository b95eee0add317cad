/* Short descriptions of commands and answers, so that a "not linearizable"
 * verdict can be read without a hex dump: which command, from which I_T
 * nexus, what it returned and what the engine would have returned. */
#include <stdarg.h>
#include <string.h>

#include "byteorder.h"
#include "lincheck.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"

/* snprintf at *pos, never past cap. */
__attribute__((format(printf, 4, 5))) static void put(char *buf, size_t cap, size_t *pos,
                                                      const char *fmt, ...)
{
	va_list ap;

	if (*pos >= cap)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *pos, cap - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n < cap - *pos ? (size_t)n : cap - *pos - 1;
}

static const char *prin_sa_name(uint8_t sa)
{
	switch (sa) {
	case PRK_PRIN_READ_KEYS:
		return "READ KEYS";
	case PRK_PRIN_READ_RESERVATION:
		return "READ RESERVATION";
	case PRK_PRIN_REPORT_CAPABILITIES:
		return "REPORT CAPABILITIES";
	case PRK_PRIN_READ_FULL_STATUS:
		return "READ FULL STATUS";
	}
	return "(unknown service action)";
}

static const char *spc2_name(uint8_t opc)
{
	switch (opc) {
	case PRK_OP_RESERVE6:
		return "RESERVE(6)";
	case PRK_OP_RELEASE6:
		return "RELEASE(6)";
	case PRK_OP_RESERVE10:
		return "RESERVE(10)";
	default:
		return "RELEASE(10)";
	}
}

void prk_lin_op_describe(const struct prk_lin_op *op, char *buf, size_t cap)
{
	size_t pos = 0;
	uint8_t sa = op->cdb[1] & 0x1f;

	buf[0] = '\0';
	switch (op->kind) {
	case PRK_LIN_PROUT:
		put(buf, cap, &pos, "PR OUT %s", prk_prout_sa_name(sa));
		if (sa == PRK_PROUT_RESERVE || sa == PRK_PROUT_RELEASE || sa == PRK_PROUT_PREEMPT ||
		    sa == PRK_PROUT_PREEMPT_AND_ABORT)
			put(buf, cap, &pos, " type %s", prk_pr_type_name(op->cdb[2] & 0xf));
		if (op->params_len >= 16)
			put(buf, cap, &pos, " key 0x%llx sa_key 0x%llx",
			    (unsigned long long)prk_get_be64(op->params),
			    (unsigned long long)prk_get_be64(op->params + 8));
		break;
	case PRK_LIN_PRIN:
		put(buf, cap, &pos, "PR IN %s", prin_sa_name(sa));
		break;
	case PRK_LIN_SPC2:
		put(buf, cap, &pos, "%s", spc2_name(op->cdb[0]));
		break;
	}
	put(buf, cap, &pos, " from %s,isid 0x%llx,rtpi %u", op->nx.name,
	    (unsigned long long)op->nx.isid, op->nx.rtpi);
}

static void describe_keys(const uint8_t *data, size_t len, char *buf, size_t cap, size_t *pos)
{
	struct prk_prin_keys k;
	struct prk_field_err e;

	if (prk_prin_keys_decode(data, len, &k, &e) < 0) {
		put(buf, cap, pos, "malformed READ KEYS data (%zu bytes)", len);
		return;
	}
	put(buf, cap, pos, "generation %u, keys [", k.generation);
	for (size_t i = 0; i < k.n_present && i < 8; i++)
		put(buf, cap, pos, "%s0x%llx", i ? " " : "",
		    (unsigned long long)prk_prin_keys_at(&k, i));
	if (k.n_present > 8)
		put(buf, cap, pos, " ... %zu in all", k.n_present);
	put(buf, cap, pos, "]");
}

static void describe_resv(const uint8_t *data, size_t len, char *buf, size_t cap, size_t *pos)
{
	struct prk_prin_resv r;
	struct prk_field_err e;

	if (prk_prin_resv_decode(data, len, &r, &e) < 0) {
		put(buf, cap, pos, "malformed READ RESERVATION data (%zu bytes)", len);
		return;
	}
	if (r.present)
		put(buf, cap, pos, "generation %u, reservation %s by key 0x%llx", r.generation,
		    prk_pr_type_name(r.type), (unsigned long long)r.key);
	else
		put(buf, cap, pos, "generation %u, no reservation", r.generation);
}

static void describe_full(const uint8_t *data, size_t len, char *buf, size_t cap, size_t *pos)
{
	struct prk_full_dec d;
	struct prk_full_desc fd;
	struct prk_field_err e;
	size_t n = 0;

	if (prk_full_dec_start(&d, data, len, &e) < 0) {
		put(buf, cap, pos, "malformed READ FULL STATUS data (%zu bytes)", len);
		return;
	}
	put(buf, cap, pos, "generation %u, registrations [", d.generation);
	while (prk_full_dec_next(&d, &fd, &e) == 1) {
		if (n++ < 6)
			put(buf, cap, pos, "%s0x%llx%s", n > 1 ? " " : "",
			    (unsigned long long)fd.key, fd.r_holder ? "(holder)" : "");
	}
	if (n > 6)
		put(buf, cap, pos, " ... %zu in all", n);
	put(buf, cap, pos, "]");
}

void prk_lin_answer_describe(const struct prk_lin_op *op, uint8_t status, bool has_sense,
                             uint8_t key, uint8_t asc, uint8_t ascq, const uint8_t *data,
                             size_t data_len, char *buf, size_t cap)
{
	size_t pos = 0;

	buf[0] = '\0';
	switch (status) {
	case PRK_STATUS_GOOD:
		break;
	case PRK_STATUS_CHECK_CONDITION:
		if (has_sense)
			put(buf, cap, &pos, "CHECK CONDITION %x/%02x/%02x", key, asc, ascq);
		else
			put(buf, cap, &pos, "CHECK CONDITION");
		return;
	case PRK_STATUS_RESERVATION_CONFLICT:
		put(buf, cap, &pos, "RESERVATION CONFLICT");
		return;
	default:
		put(buf, cap, &pos, "status %02xh", status);
		return;
	}
	if (op->kind != PRK_LIN_PRIN || !data) {
		put(buf, cap, &pos, "GOOD");
		return;
	}
	switch (op->cdb[1] & 0x1f) {
	case PRK_PRIN_READ_KEYS:
		describe_keys(data, data_len, buf, cap, &pos);
		break;
	case PRK_PRIN_READ_RESERVATION:
		describe_resv(data, data_len, buf, cap, &pos);
		break;
	case PRK_PRIN_READ_FULL_STATUS:
		describe_full(data, data_len, buf, cap, &pos);
		break;
	default:
		put(buf, cap, &pos, "data");
		for (size_t i = 0; i < data_len && i < 16; i++)
			put(buf, cap, &pos, " %02x", data[i]);
		break;
	}
}
