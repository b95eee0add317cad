/* See raw_iscsi.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "raw_iscsi.h"

static void put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

int raw_send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_all(int fd, void *buf, size_t len, int timeout_ms)
{
	uint8_t *p = buf;
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	while (len) {
		uint64_t now = h_now_ms();
		if (now >= end)
			return -1;
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int r = poll(&pf, 1, (int)(end - now));
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		ssize_t n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int raw_read(struct raw *r, struct raw_pdu *p, int timeout_ms)
{
	memset(p, 0, sizeof(*p));
	if (recv_all(r->fd, p->bhs, 48, timeout_ms))
		return -1;
	uint32_t n = get24(p->bhs + 5), padded = (n + 3) & ~3u;
	size_t ahs = (size_t)p->bhs[4] * 4 + (r->hd ? 4 : 0);
	if (r->dd && n)
		padded += 4;
	uint8_t *tmp = malloc(ahs + padded + 1);
	if (!tmp || recv_all(r->fd, tmp, ahs + padded, timeout_ms)) {
		free(tmp);
		return -1;
	}
	if (n) {
		p->data = malloc(n);
		if (!p->data) {
			free(tmp);
			return -1;
		}
		memcpy(p->data, tmp + ahs, n);
	}
	free(tmp);
	p->dlen = n;
	uint8_t op = p->bhs[0] & 0x3f;
	if (op == RAW_OP_NOP_IN || op == RAW_OP_SCSI_RSP || op == RAW_OP_LOGIN_RSP ||
	    op == RAW_OP_R2T || op == RAW_OP_DATA_IN || op == RAW_OP_REJECT) {
		r->expcmdsn = raw_get32(p->bhs + 28);
		r->maxcmdsn = raw_get32(p->bhs + 32);
	}
	return 0;
}

void raw_pdu_free(struct raw_pdu *p)
{
	free(p->data);
	p->data = NULL;
}

static size_t add_kv(uint8_t *buf, size_t len, const char *kv)
{
	size_t n = strlen(kv) + 1;
	memcpy(buf + len, kv, n);
	return len + n;
}

/* The value of key among the NUL-separated pairs of text, or NULL. */
static const char *find_key(const char *text, size_t len, const char *key)
{
	size_t kl = strlen(key);
	for (size_t off = 0; off < len; off += strlen(text + off) + 1)
		if (strncmp(text + off, key, kl) == 0 && text[off + kl] == '=')
			return text + off + kl + 1;
	return NULL;
}

int raw_login(struct raw *r, const struct h_daemon *d, const char *target, const char *initiator,
              uint8_t isid_q, const struct raw_opts *o)
{
	memset(r, 0, sizeof(*r));
	r->fd = h_tcp_connect(d, 0);
	if (r->fd < 0)
		return -1;
	uint8_t pdu[48 + 2048] = {0};
	char kv[300];
	size_t len = 0;
	snprintf(kv, sizeof(kv), "InitiatorName=%s", initiator);
	len = add_kv(pdu + 48, len, kv);
	snprintf(kv, sizeof(kv), "TargetName=%s", target);
	len = add_kv(pdu + 48, len, kv);
	len = add_kv(pdu + 48, len, "SessionType=Normal");
	len = add_kv(pdu + 48, len, o->header_digest ? "HeaderDigest=CRC32C" : "HeaderDigest=None");
	len = add_kv(pdu + 48, len, o->data_digest ? "DataDigest=CRC32C" : "DataDigest=None");
	len = add_kv(pdu + 48, len, o->initial_r2t ? "InitialR2T=Yes" : "InitialR2T=No");
	len = add_kv(pdu + 48, len, o->immediate_data ? "ImmediateData=Yes" : "ImmediateData=No");
	snprintf(kv, sizeof(kv), "FirstBurstLength=%u", o->first_burst ? o->first_burst : 65536);
	len = add_kv(pdu + 48, len, kv);
	snprintf(kv, sizeof(kv), "MaxBurstLength=%u", o->max_burst ? o->max_burst : 262144);
	len = add_kv(pdu + 48, len, kv);
	snprintf(kv, sizeof(kv), "MaxRecvDataSegmentLength=%u",
	         o->max_recv_dsl ? o->max_recv_dsl : 65536);
	len = add_kv(pdu + 48, len, kv);
	pdu[0] = 0x40 | 0x03;       /* immediate Login Request */
	pdu[1] = 0x80 | 1 << 2 | 3; /* T, CSG operational, NSG full feature phase */
	put24(pdu + 5, (uint32_t)len);
	pdu[8] = 0x80; /* ISID: random format */
	pdu[9] = 0x44;
	pdu[10] = 0x4f;
	pdu[11] = 0x53;
	pdu[13] = isid_q;
	raw_put32(pdu + 24, 1); /* CmdSN */
	if (raw_send_all(r->fd, pdu, 48 + ((len + 3) & ~(size_t)3)))
		return -1;
	struct raw_pdu p;
	if (raw_read(r, &p, 5000))
		return -1;
	int rc = 0;
	if ((p.bhs[0] & 0x3f) != RAW_OP_LOGIN_RSP || p.bhs[36] != 0 || (p.bhs[1] & 3) != 3) {
		fprintf(stderr, "raw login: opcode 0x%02x status %u/%u\n", p.bhs[0], p.bhs[36],
		        p.bhs[37]);
		rc = -1;
	}
	const char *text = (const char *)p.data;
	const char *v;
	r->max_send_dsl = 8192;
	r->first_burst = o->first_burst ? o->first_burst : 65536;
	r->initial_r2t = o->initial_r2t;
	r->immediate_data = o->immediate_data;
	if (text && (v = find_key(text, p.dlen, "MaxRecvDataSegmentLength")))
		r->max_send_dsl = (uint32_t)strtoul(v, NULL, 10);
	if (text && (v = find_key(text, p.dlen, "FirstBurstLength")))
		r->first_burst = (uint32_t)strtoul(v, NULL, 10);
	if (text && (v = find_key(text, p.dlen, "InitialR2T")))
		r->initial_r2t = strcmp(v, "Yes") == 0;
	if (text && (v = find_key(text, p.dlen, "ImmediateData")))
		r->immediate_data = strcmp(v, "Yes") == 0;
	if (text && (v = find_key(text, p.dlen, "HeaderDigest")))
		r->hd = strcmp(v, "CRC32C") == 0;
	if (text && (v = find_key(text, p.dlen, "DataDigest")))
		r->dd = strcmp(v, "CRC32C") == 0;
	r->expstatsn = raw_get32(p.bhs + 24) + 1;
	r->cmdsn = r->expcmdsn;
	raw_pdu_free(&p);
	return rc;
}

void raw_close(struct raw *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

int raw_cmd(struct raw *r, uint32_t itt, const uint8_t cdb[16], bool read, bool write,
            uint32_t edtl, const uint8_t *imm, uint32_t imm_len)
{
	size_t total = 48 + ((imm_len + 3) & ~3u);
	uint8_t *pdu = calloc(1, total);
	if (!pdu)
		return -1;
	pdu[0] = RAW_OP_SCSI_CMD;
	pdu[1] = 0x80 | (read ? 0x40 : 0) | (write ? 0x20 : 0) | 1; /* F, R, W, SIMPLE */
	put24(pdu + 5, imm_len);
	raw_put32(pdu + 16, itt);
	raw_put32(pdu + 20, edtl);
	raw_put32(pdu + 24, r->cmdsn++);
	raw_put32(pdu + 28, r->expstatsn);
	memcpy(pdu + 32, cdb, 16);
	if (imm_len)
		memcpy(pdu + 48, imm, imm_len);
	int rc = raw_send_all(r->fd, pdu, total);
	free(pdu);
	return rc;
}

int raw_data_out(struct raw *r, uint32_t itt, uint32_t ttt, uint32_t datasn, uint32_t offset,
                 const uint8_t *data, uint32_t len, bool final)
{
	uint8_t bhs[48] = {0};
	bhs[0] = RAW_OP_DATA_OUT;
	bhs[1] = final ? 0x80 : 0;
	put24(bhs + 5, len);
	raw_put32(bhs + 16, itt);
	raw_put32(bhs + 20, ttt);
	raw_put32(bhs + 28, r->expstatsn);
	raw_put32(bhs + 36, datasn);
	raw_put32(bhs + 40, offset);
	static const uint8_t pad[3];
	if (raw_send_all(r->fd, bhs, 48) || raw_send_all(r->fd, data, len))
		return -1;
	return raw_send_all(r->fd, pad, ((len + 3) & ~3u) - len);
}

int raw_ping(struct raw *r, uint32_t itt)
{
	uint8_t bhs[48] = {0};
	bhs[0] = 0x40 | RAW_OP_NOP_OUT;
	bhs[1] = 0x80;
	raw_put32(bhs + 16, itt);
	raw_put32(bhs + 20, RAW_RSVD_TAG);
	raw_put32(bhs + 24, r->cmdsn);
	raw_put32(bhs + 28, r->expstatsn);
	return raw_send_all(r->fd, bhs, 48);
}

int raw_wait_status(struct raw *r, uint32_t itt, uint8_t *in, size_t in_cap, uint8_t rsp[48],
                    int timeout_ms)
{
	for (;;) {
		struct raw_pdu p;
		if (raw_read(r, &p, timeout_ms))
			return -1;
		uint8_t op = p.bhs[0] & 0x3f;
		bool mine = raw_get32(p.bhs + 16) == itt;
		if (op == RAW_OP_DATA_IN && mine) {
			uint32_t off = raw_get32(p.bhs + 40);
			if (in && off < in_cap)
				memcpy(in + off, p.data,
				       p.dlen < in_cap - off ? p.dlen : in_cap - off);
			if (p.bhs[1] & 0x01) { /* S: the status rides here */
				r->expstatsn = raw_get32(p.bhs + 24) + 1;
				if (rsp)
					memcpy(rsp, p.bhs, 48);
				int st = p.bhs[3];
				raw_pdu_free(&p);
				return st;
			}
		} else if (op == RAW_OP_SCSI_RSP && mine) {
			r->expstatsn = raw_get32(p.bhs + 24) + 1;
			if (rsp)
				memcpy(rsp, p.bhs, 48);
			int st = p.bhs[3];
			raw_pdu_free(&p);
			return st;
		}
		raw_pdu_free(&p);
	}
}

static void cdb10(uint8_t cdb[16], uint8_t op, uint32_t lba, uint16_t blocks)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	raw_put32(cdb + 2, lba);
	cdb[7] = (uint8_t)(blocks >> 8);
	cdb[8] = (uint8_t)blocks;
}

int raw_write10(struct raw *r, uint32_t itt, uint32_t lba, const uint8_t *buf, uint32_t len,
                uint32_t block)
{
	uint8_t cdb[16];
	cdb10(cdb, 0x2a, lba, (uint16_t)(len / block));
	if (raw_cmd(r, itt, cdb, false, true, len, NULL, 0))
		return -1;
	for (;;) {
		struct raw_pdu p;
		if (raw_read(r, &p, 5000))
			return -1;
		uint8_t op = p.bhs[0] & 0x3f;
		if (op == RAW_OP_R2T && raw_get32(p.bhs + 16) == itt) {
			uint32_t ttt = raw_get32(p.bhs + 20), off = raw_get32(p.bhs + 40);
			uint32_t want = raw_get32(p.bhs + 44), sn = 0;
			raw_pdu_free(&p);
			for (uint32_t done = 0; done < want; sn++) {
				uint32_t n =
				    want - done < r->max_send_dsl ? want - done : r->max_send_dsl;
				if (raw_data_out(r, itt, ttt, sn, off + done, buf + off + done, n,
				                 done + n == want))
					return -1;
				done += n;
			}
			continue;
		}
		if (op == RAW_OP_SCSI_RSP && raw_get32(p.bhs + 16) == itt) {
			r->expstatsn = raw_get32(p.bhs + 24) + 1;
			int st = p.bhs[3];
			raw_pdu_free(&p);
			return st;
		}
		raw_pdu_free(&p);
	}
}

int raw_read10(struct raw *r, uint32_t itt, uint32_t lba, uint8_t *buf, uint32_t len,
               uint32_t block)
{
	uint8_t cdb[16];
	cdb10(cdb, 0x28, lba, (uint16_t)(len / block));
	if (raw_cmd(r, itt, cdb, true, false, len, NULL, 0))
		return -1;
	return raw_wait_status(r, itt, buf, len, NULL, 5000);
}
