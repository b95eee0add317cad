/* prkit fenced: the CPG message codec (see fd_msg.h for the layout). The
 * encoder and the decoder share one validity check, so that whatever
 * decodes re-encodes to the same bytes (the fuzz target relies on it) and
 * nothing invalid can be sent. */
#include "fd_msg.h"

#include <string.h>

#include "byteorder.h"
#include "errfmt.h"

const char *prk_fd_msg_type_name(enum prk_fd_msg_type t)
{
	switch (t) {
	case PRK_FD_MSG_HELLO:
		return "HELLO";
	case PRK_FD_MSG_LEAVE:
		return "LEAVE";
	case PRK_FD_MSG_STALLED:
		return "STALLED";
	case PRK_FD_MSG_FENCED:
		return "FENCED";
	}
	return "?";
}

static bool has_victims(enum prk_fd_msg_type t)
{
	return t == PRK_FD_MSG_STALLED || t == PRK_FD_MSG_FENCED;
}

/* The body length a type takes with n victims; 0 for an unknown type. */
static size_t body_len(unsigned type, size_t n)
{
	switch (type) {
	case PRK_FD_MSG_HELLO:
		return 12;
	case PRK_FD_MSG_LEAVE:
		return 2;
	case PRK_FD_MSG_STALLED:
		return 4 + 2 * n;
	case PRK_FD_MSG_FENCED:
		return 12 + 2 * n;
	}
	return 0;
}

/* The rules both directions enforce (the header's last paragraph). */
static int check(const struct prk_fd_msg *m, char *err, size_t errlen)
{
	if (body_len(m->type, 0) == 0)
		return prk_errf(err, errlen, "bad type %u", (unsigned)m->type);
	if (m->nodeid == 0)
		return prk_errf(err, errlen, "bad %s: node id 0",
		                m->type == PRK_FD_MSG_FENCED ? "executor" : "nodeid");
	if (!has_victims(m->type))
		return 0;
	if (m->n_victims > PRK_FD_MAX_VICTIMS)
		return prk_errf(err, errlen, "bad n: %zu victims (at most %d)", m->n_victims,
		                PRK_FD_MAX_VICTIMS);
	if (m->type == PRK_FD_MSG_FENCED && m->result > PRK_FD_RESULT_LOST)
		return prk_errf(err, errlen, "bad result %u", (unsigned)m->result);
	for (size_t i = 0; i < m->n_victims; i++) {
		if (m->victims[i] == 0)
			return prk_errf(err, errlen, "bad victim %zu: node id 0", i);
		for (size_t j = 0; j < i; j++)
			if (m->victims[j] == m->victims[i])
				return prk_errf(err, errlen, "bad victim %zu: node %u listed twice",
				                i, (unsigned)m->victims[i]);
	}
	return 0;
}

int prk_fd_msg_encode(const struct prk_fd_msg *m, uint8_t *buf, size_t cap)
{
	if (check(m, NULL, 0))
		return -1;
	size_t n = has_victims(m->type) ? m->n_victims : 0;
	size_t blen = body_len(m->type, n);
	if (PRK_FD_MSG_HDR + blen > cap)
		return -1;
	memcpy(buf, PRK_FD_MSG_MAGIC, 4);
	buf[4] = PRK_FD_MSG_VERSION;
	buf[5] = (uint8_t)m->type;
	prk_put_be16(buf + 6, (uint16_t)blen);
	uint8_t *b = buf + PRK_FD_MSG_HDR;
	memset(b, 0, blen);
	prk_put_be16(b, m->nodeid);
	uint8_t *v = NULL;
	switch (m->type) {
	case PRK_FD_MSG_HELLO:
		b[2] = m->joined ? 1 : 0;
		prk_put_be64(b + 4, m->key);
		break;
	case PRK_FD_MSG_LEAVE:
		break;
	case PRK_FD_MSG_STALLED:
		b[2] = (uint8_t)n;
		v = b + 4;
		break;
	case PRK_FD_MSG_FENCED:
		b[2] = m->result;
		b[3] = (uint8_t)n;
		prk_put_be64(b + 4, m->key);
		v = b + 12;
		break;
	}
	for (size_t i = 0; i < n; i++)
		prk_put_be16(v + 2 * i, m->victims[i]);
	return (int)(PRK_FD_MSG_HDR + blen);
}

/* Reads the victim list after the fixed part; n was read from the body. */
static int read_victims(const uint8_t *v, size_t n, size_t have, struct prk_fd_msg *m, char *err,
                        size_t errlen)
{
	if (n > PRK_FD_MAX_VICTIMS)
		return prk_errf(err, errlen, "bad n: %zu victims (at most %d)", n,
		                PRK_FD_MAX_VICTIMS);
	if (have != 2 * n)
		return prk_errf(err, errlen, "bad length: %zu victims need %zu bytes, body has %zu",
		                n, 2 * n, have);
	for (size_t i = 0; i < n; i++)
		m->victims[i] = prk_get_be16(v + 2 * i);
	m->n_victims = n;
	return 0;
}

int prk_fd_msg_decode(const uint8_t *buf, size_t len, struct prk_fd_msg *m, char *err,
                      size_t errlen)
{
	memset(m, 0, sizeof(*m));
	if (len < PRK_FD_MSG_HDR)
		return prk_errf(err, errlen, "bad length: %zu bytes, the header takes %d", len,
		                PRK_FD_MSG_HDR);
	if (memcmp(buf, PRK_FD_MSG_MAGIC, 4) != 0)
		return prk_errf(err, errlen, "bad magic (not a prkit fenced message)");
	if (buf[4] != PRK_FD_MSG_VERSION)
		return prk_errf(err, errlen, "bad version %u (this is %d)", buf[4],
		                PRK_FD_MSG_VERSION);
	unsigned type = buf[5];
	if (body_len(type, 0) == 0)
		return prk_errf(err, errlen, "bad type %u", type);
	size_t blen = prk_get_be16(buf + 6);
	if (blen != len - PRK_FD_MSG_HDR)
		return prk_errf(err, errlen, "bad length: header says %zu body bytes, got %zu",
		                blen, len - PRK_FD_MSG_HDR);
	if (blen < body_len(type, 0))
		return prk_errf(err, errlen, "bad length: %s body needs %zu bytes, got %zu",
		                prk_fd_msg_type_name(type), body_len(type, 0), blen);
	const uint8_t *b = buf + PRK_FD_MSG_HDR;
	m->type = (enum prk_fd_msg_type)type;
	m->nodeid = prk_get_be16(b);
	int rc = 0;
	switch (m->type) {
	case PRK_FD_MSG_HELLO:
		if (blen != 12)
			return prk_errf(err, errlen, "bad length: HELLO body is 12 bytes, got %zu",
			                blen);
		/* Only bit 0 is defined: anything else would not re-encode. */
		if (b[2] > 1 || b[3] != 0)
			return prk_errf(err, errlen, "bad flags 0x%02x%02x", b[2], b[3]);
		m->joined = b[2] == 1;
		m->key = prk_get_be64(b + 4);
		break;
	case PRK_FD_MSG_LEAVE:
		if (blen != 2)
			return prk_errf(err, errlen, "bad length: LEAVE body is 2 bytes, got %zu",
			                blen);
		break;
	case PRK_FD_MSG_STALLED:
		if (b[3] != 0)
			return prk_errf(err, errlen, "bad pad 0x%02x", b[3]);
		rc = read_victims(b + 4, b[2], blen - 4, m, err, errlen);
		break;
	case PRK_FD_MSG_FENCED:
		m->result = b[2];
		m->key = prk_get_be64(b + 4);
		rc = read_victims(b + 12, b[3], blen - 12, m, err, errlen);
		break;
	}
	if (rc)
		return rc;
	return check(m, err, errlen);
}
