/* Receiving PDUs on a connection. Each readable event reads as much as the
 * connection buffer takes in one recv() and dispatches every complete PDU
 * in it where it lies (BHS, AHS, digests and data segment are pointers
 * into the buffer, lent to the handler for the call). A partial PDU left
 * at the end is moved to the front before the next recv(): it is at most
 * one PDU, usually a few KiB, so a ring's wrap-around (a PDU split in two
 * places) is not worth its cost to every parser.
 *
 * A Data-Out whose data is not all in the buffer yet, and that passes the
 * task's checks, is received straight into the task's buffer at its
 * offset (prk_task_place): the part already buffered is copied there, the
 * rest is read there by readv(), together with its padding and digest
 * (into a small scratch area) and whatever follows it (into the buffer).
 * Immediate data is not placed: it is at most FirstBurstLength (64 KiB by
 * default, below the buffer's size) and is copied once, from the buffer
 * into the task's buffer, by prk_task_scsi_cmd. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"
#include "prkit/crc32c.h"
#include "prkit/scsi_sense.h"
#include "srv_internal.h"

/* During login PDUs are few and small: 8 KiB, grown for a larger one
 * (at most 64 KiB of text). In full feature phase 128 KiB: a queue of 32
 * 4 KiB writes with immediate data (32 x 4144 bytes) arrives in one or
 * two recv() calls, while a thousand connections hold 128 MiB at most.
 * A PDU that does not fit (a 256 KiB NOP-Out, a Data-Out that cannot be
 * placed) grows the buffer to its size, which MaxRecvDataSegmentLength
 * bounds; buffers never shrink, so this happens once per size. */
#define RX_LOGIN_CAP ((size_t)8 << 10)
#define RX_FFP_CAP ((size_t)128 << 10)

/* Fairness: at most this many reads per readable event, each followed by
 * the dispatch of everything complete in the buffer, so one connection
 * takes at most 16 buffers' worth (2 MiB at 128 KiB) before the loop
 * serves the others. Level-triggered epoll reports the rest. */
#define RX_ROUNDS 16

int prk_conn_rx_init(struct prk_conn *c)
{
	c->rx = malloc(RX_LOGIN_CAP);
	if (!c->rx)
		return -1;
	c->rx_cap = RX_LOGIN_CAP;
	c->rx_head = c->rx_tail = 0;
	return 0;
}

void prk_conn_rx_free(struct prk_conn *c)
{
	free(c->rx);
	c->rx = NULL;
	c->rx_cap = 0;
}

/* The framing rules of c's phase: login PDUs carry no digests and at most
 * 64 KiB of text. */
static void rules_of(const struct prk_conn *c, struct prk_iscsi_frame_rules *r)
{
	bool ffp = c->state == CONN_FFP;
	r->login = c->state == CONN_LOGIN;
	r->max_dlen = r->login ? 65536 : c->params.max_recv_dsl;
	r->header_digest = ffp && c->params.header_digest;
	r->data_digest = ffp && c->params.data_digest;
}

/* A data digest error: the PDU is rejected (the initiator recovers). A
 * Data-Out's task cannot complete with what it carried: it fails. */
static void data_digest_error(struct prk_conn *c, const uint8_t *bhs)
{
	prk_conn_reject(c, bhs, PRK_REJECT_DIGEST_ERROR);
	if ((bhs[0] & 0x3f) == PRK_ISCSI_OP_DATA_OUT && c->state == CONN_FFP &&
	    !c->params.discovery)
		prk_task_data_error(c, bhs, PRK_ASC_PROTOCOL_SERVICE_CRC_ERROR);
}

/* A complete PDU in the buffer: its data digest, then its handler. */
static void complete(struct prk_conn *c, const uint8_t *bhs, const struct prk_iscsi_frame *f,
                     bool dd)
{
	const uint8_t *data = bhs + f->hdr;
	if (dd && f->dlen) {
		size_t padded = prk_iscsi_pad4(f->dlen);
		uint32_t d = prk_crc32c(0, data, padded), w;
		memcpy(&w, data + padded, 4); /* little-endian on the wire */
		if (d != w) {
			data_digest_error(c, bhs);
			return;
		}
	}
	c->last_rx_ms = prk_now_ms();
	prk_conn_dispatch(c, bhs, f->dlen ? data : NULL, f->dlen);
}

/* The Data-Out at rx_head (header complete, data not) goes to t's buffer
 * at off: what is buffered of it is moved out, its header to the front. */
static void place_start(struct prk_conn *c, const uint8_t *bhs, const struct prk_iscsi_frame *f,
                        bool dd, struct prk_task *t, uint32_t off)
{
	size_t have = c->rx_tail - c->rx_head - f->hdr;
	size_t data = have < f->dlen ? have : f->dlen;
	const uint8_t *p = bhs + f->hdr;
	memcpy(t->buf + off, p, data);
	c->placing = true;
	c->place_task = t;
	c->place_off = off;
	c->place_len = f->dlen;
	c->place_got = (uint32_t)data;
	c->place_crc = dd ? prk_crc32c(0, p, data) : 0;
	c->place_trl_len = f->total - f->hdr - f->dlen;
	c->place_trl_got = have - data;
	memcpy(c->place_trl, p + data, c->place_trl_got);
	memmove(c->rx, bhs, f->hdr);
	c->place_hdr = f->hdr;
	c->rx_head = 0;
	c->rx_tail = f->hdr;
}

/* The placed Data-Out is all in: digest, then its handler; its header
 * leaves the buffer. */
static void place_finish(struct prk_conn *c)
{
	const uint8_t *bhs = c->rx + c->rx_head;
	struct prk_task *t = c->place_task;
	bool dd = c->params.data_digest;
	c->placing = false;
	c->place_task = NULL;
	bool ok = true;
	if (dd) {
		size_t pad = c->place_trl_len - PRK_ISCSI_DIGEST_LEN;
		uint32_t d = prk_crc32c(c->place_crc, c->place_trl, pad), w;
		memcpy(&w, c->place_trl + pad, 4);
		ok = d == w;
	}
	if (!t)
		prk_info("%s: a Data-Out's task went away while its data arrived: the data was "
		         "dropped",
		         c->peer);
	if (!ok) {
		data_digest_error(c, bhs);
	} else {
		c->last_rx_ms = prk_now_ms();
		prk_task_data_out(c, bhs, t ? t->buf + c->place_off : NULL, c->place_len);
	}
	c->rx_head += c->place_hdr;
}

/* Dispatches every complete PDU in the buffer; a Data-Out that can be
 * received in place starts being so. Stops while the transmit queue is
 * over PRK_TXQ_PAUSE (rx_paused: flush_tx resumes) and when the
 * connection is closing. */
void prk_conn_rx_parse(struct prk_conn *c)
{
	c->rx_paused = false;
	while (!c->closed && !c->placing && c->state != CONN_CLOSING) {
		size_t avail = c->rx_tail - c->rx_head;
		if (avail < PRK_ISCSI_BHS_LEN)
			break;
		if (c->txq_bytes > PRK_TXQ_PAUSE) {
			c->rx_paused = true;
			break;
		}
		const uint8_t *bhs = c->rx + c->rx_head;
		struct prk_iscsi_frame_rules rules;
		struct prk_iscsi_frame f;
		rules_of(c, &rules);
		enum prk_iscsi_frame_result r = prk_iscsi_frame(bhs, avail, &rules, &f);
		if (r == PRK_FRAME_BAD_BHS || r == PRK_FRAME_TOO_LONG) {
			if (r == PRK_FRAME_TOO_LONG)
				prk_warn("%s sent a %u-byte data segment (limit %u)", c->peer,
				         f.dlen, rules.max_dlen);
			prk_conn_close(c, "malformed PDU header");
			return;
		}
		if (r == PRK_FRAME_HEADER_DIGEST) {
			prk_warn("%s: header digest error", c->peer);
			prk_conn_close(c, "protocol error"); /* ERL 0: no trust left */
			return;
		}
		if (r == PRK_FRAME_NEED_DATA) {
			uint32_t off;
			struct prk_task *t = NULL;
			if ((bhs[0] & 0x3f) == PRK_ISCSI_OP_DATA_OUT && c->state == CONN_FFP &&
			    !c->params.discovery)
				t = prk_task_place(c, bhs, f.dlen, &off);
			if (t)
				place_start(c, bhs, &f, rules.data_digest, t, off);
			break;
		}
		if (r != PRK_FRAME_COMPLETE)
			break; /* the header is not all in */
		complete(c, bhs, &f, rules.data_digest);
		c->rx_head += f.total;
	}
	if (c->rx_head == c->rx_tail && !c->placing)
		c->rx_head = c->rx_tail = 0;
}

/* Room for the next recv(): the partial PDU moves to the front, and the
 * buffer grows to hold it whole (its size is known from its BHS). */
static int make_room(struct prk_conn *c)
{
	size_t avail = c->rx_tail - c->rx_head;
	if (c->rx_head) {
		memmove(c->rx, c->rx + c->rx_head, avail);
		c->rx_head = 0;
		c->rx_tail = avail;
	}
	size_t want = c->state == CONN_LOGIN ? RX_LOGIN_CAP : RX_FFP_CAP;
	struct prk_iscsi_frame_rules rules;
	struct prk_iscsi_frame f;
	rules_of(c, &rules);
	enum prk_iscsi_frame_result r = prk_iscsi_frame(c->rx, avail, &rules, &f);
	/* The parser ends the connection on anything else before we come
	 * here; a complete PDU is not left behind either. */
	if ((r == PRK_FRAME_NEED_HEADER || r == PRK_FRAME_NEED_DATA) && f.total > want)
		want = f.total;
	if (want <= c->rx_cap)
		return 0;
	uint8_t *n = realloc(c->rx, want);
	if (!n)
		return -1;
	c->rx = n;
	c->rx_cap = want;
	return 0;
}

/* One readv() for the placed Data-Out: the rest of its data (into the
 * task's buffer, or dropped when the task went away), its padding and
 * digest, and what follows (into the connection buffer). */
static ssize_t place_read(struct prk_conn *c, size_t *asked)
{
	struct iovec iov[3];
	int n = 0;
	uint32_t data_left = c->place_len - c->place_got;
	struct prk_task *t = c->place_task;
	uint8_t *dst = NULL;
	if (data_left) {
		/* The task's buffer is looked up each time: nothing moves it
		 * while its data arrives, but this costs nothing. Dropped data
		 * goes to the free part of the connection buffer. */
		size_t room = c->rx_cap - c->rx_tail;
		dst = t ? t->buf + c->place_off + c->place_got : c->rx + c->rx_tail;
		size_t len = t || data_left < room ? data_left : room;
		iov[n++] = (struct iovec){dst, len};
	}
	if (c->place_trl_got < c->place_trl_len)
		iov[n++] = (struct iovec){c->place_trl + c->place_trl_got,
		                          c->place_trl_len - c->place_trl_got};
	if ((t || !data_left) && c->rx_tail < c->rx_cap)
		iov[n++] = (struct iovec){c->rx + c->rx_tail, c->rx_cap - c->rx_tail};
	*asked = 0;
	for (int i = 0; i < n; i++)
		*asked += iov[i].iov_len;
	ssize_t r = readv(c->fd, iov, n);
	if (r <= 0)
		return r;
	size_t left = (size_t)r;
	if (data_left) {
		size_t take = left < iov[0].iov_len ? left : iov[0].iov_len;
		if (c->params.data_digest)
			c->place_crc = prk_crc32c(c->place_crc, dst, take);
		c->place_got += (uint32_t)take;
		left -= take;
	}
	size_t trl = c->place_trl_len - c->place_trl_got;
	size_t take = left < trl ? left : trl;
	c->place_trl_got += take;
	left -= take;
	c->rx_tail += left;
	return r;
}

void prk_conn_rx(struct prk_conn *c)
{
	for (int round = 0; round < RX_ROUNDS; round++) {
		if (c->closed || c->state == CONN_CLOSING)
			return;
		if (c->txq_bytes > PRK_TXQ_PAUSE) {
			/* Not read until the queue drains (the flush turns EPOLLIN
			 * off); what is buffered stays for prk_conn_rx_parse. */
			c->rx_paused = c->rx_tail > c->rx_head;
			return;
		}
		size_t asked;
		ssize_t n;
		if (c->placing) {
			n = place_read(c, &asked);
		} else {
			if (make_room(c)) {
				prk_conn_close(c, "out of memory for a PDU");
				return;
			}
			asked = c->rx_cap - c->rx_tail;
			n = recv(c->fd, c->rx + c->rx_tail, asked, 0);
			if (n > 0)
				c->rx_tail += (size_t)n;
		}
		if (n == 0) {
			prk_conn_close(c, "peer closed the connection");
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			prk_conn_close(c, strerror(errno));
			return;
		}
		if (c->placing && c->place_got == c->place_len &&
		    c->place_trl_got == c->place_trl_len)
			place_finish(c);
		prk_conn_rx_parse(c);
		/* A short read emptied the socket: another recv() would only
		 * say EAGAIN. More data makes the descriptor readable again. */
		if ((size_t)n < asked)
			return;
	}
}
