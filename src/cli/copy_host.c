/* `prkit copy --host-copy`: the same copy read from SRC and written to
 * DST through iSCSI by this host, DEPTH chunks in flight, each chunk's
 * buffer written as it was read. It is what a host falls back to when
 * the offload fails, and the benchmark's comparison: every byte crosses
 * the network twice. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "copy_run.h"
#include "persist_exit.h"
#include "prkit/scsi_sense.h"

#define CHUNK (1u << 20)
#define DEPTH 8

struct slot {
	struct copy_run *r;
	struct prk_raw_cmd c;
	uint8_t *buf;
	uint64_t src_lba, dst_lba;
	uint32_t n_src; /* source blocks */
	bool writing, busy;
};

static struct {
	uint64_t next; /* source blocks handed out */
	uint64_t chunk_blocks;
	bool failed;
} hs;

static void slot_done(struct prk_mpdev *d, struct prk_raw_cmd *c, void *arg);

static void put_lba(uint8_t *cdb, uint8_t op, uint64_t lba, uint32_t n)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	for (int i = 0; i < 8; i++)
		cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		cdb[10 + i] = (uint8_t)(n >> (24 - 8 * i));
}

/* Starts the next chunk's READ on s, if any is left. */
static void slot_next(struct slot *s)
{
	struct copy_run *r = s->r;
	const struct prk_copy_plan *p = &r->plan;
	s->busy = false;
	if (hs.failed || hs.next >= p->blocks)
		return;
	uint64_t left = p->blocks - hs.next;
	s->n_src = (uint32_t)(left < hs.chunk_blocks ? left : hs.chunk_blocks);
	s->src_lba = p->src_lba + hs.next;
	s->dst_lba = p->dst_lba + hs.next * p->src_bs / p->dst_bs;
	hs.next += s->n_src;
	s->writing = false;
	s->c = (struct prk_raw_cmd){.cdb_len = 16,
	                            .dir = PRK_RAW_READ,
	                            .in = s->buf,
	                            .in_cap = s->n_src * p->src_bs,
	                            .timeout_ms = r->a->timeout * 1000};
	put_lba(s->c.cdb, 0x88, s->src_lba, s->n_src);
	s->busy = true;
	if (prk_mpdev_raw_async(r->src.dev, 0, &s->c, slot_done, s)) {
		s->busy = false;
		hs.failed = true;
		copy_failf(&r->fail, PRK_PERSIST_EXIT_TRANSPORT, "READ(16): no session to %s",
		           r->src.url);
	}
}

static void slot_done(struct prk_mpdev *d, struct prk_raw_cmd *c, void *arg)
{
	(void)d;
	struct slot *s = arg;
	struct copy_run *r = s->r;
	char what[128];
	snprintf(what, sizeof(what), "%s at LBA %" PRIu64 " of %s",
	         s->writing ? "WRITE(16)" : "READ(16)", s->writing ? s->dst_lba : s->src_lba,
	         s->writing ? r->dst.url : r->src.url);
	if (!hs.failed && copy_outcome(c, what, &r->fail))
		hs.failed = true;
	if (!hs.failed && !s->writing && c->in_len != s->n_src * r->plan.src_bs) {
		copy_failf(&r->fail, PRK_PERSIST_EXIT_MALFORMED, "%s: %" PRIu32 " bytes came back",
		           what, c->in_len);
		hs.failed = true;
	}
	if (hs.failed) {
		s->busy = false;
		return;
	}
	if (!s->writing) {
		uint32_t bytes = s->n_src * r->plan.src_bs;
		s->writing = true;
		s->c = (struct prk_raw_cmd){.cdb_len = 16,
		                            .dir = PRK_RAW_WRITE,
		                            .out = s->buf,
		                            .out_len = bytes,
		                            .timeout_ms = r->a->timeout * 1000};
		put_lba(s->c.cdb, 0x8a, s->dst_lba, bytes / r->plan.dst_bs);
		if (prk_mpdev_raw_async(r->dst.dev, 0, &s->c, slot_done, s)) {
			s->busy = false;
			hs.failed = true;
			copy_failf(&r->fail, PRK_PERSIST_EXIT_TRANSPORT,
			           "WRITE(16): no session to %s", r->dst.url);
		}
		return;
	}
	r->bytes_done += (uint64_t)s->n_src * r->plan.src_bs;
	r->bytes_now = r->bytes_done;
	copy_progress(r, false);
	slot_next(s);
}

int copy_host(struct copy_run *r)
{
	const struct prk_copy_plan *p = &r->plan;
	/* A chunk is a whole number of blocks of both LUs: a multiple of
	 * lcm(src_bs, dst_bs) bytes, i.e. of dst_bs / gcd source blocks. */
	uint64_t g = p->src_bs, b = p->dst_bs;
	while (b) {
		uint64_t t = g % b;
		g = b;
		b = t;
	}
	uint64_t step = p->dst_bs / g;
	uint64_t cb = CHUNK / p->src_bs / step * step;
	hs.chunk_blocks = cb ? cb : step;
	hs.next = 0;
	hs.failed = false;
	static struct slot slots[DEPTH];
	for (int i = 0; i < DEPTH; i++) {
		slots[i] = (struct slot){.r = r};
		slots[i].buf = malloc(hs.chunk_blocks * p->src_bs);
		if (!slots[i].buf) {
			for (int j = 0; j < i; j++)
				free(slots[j].buf);
			return copy_failf(&r->fail, PRK_PERSIST_EXIT_OTHER, "out of memory");
		}
	}
	for (int i = 0; i < DEPTH; i++)
		slot_next(&slots[i]);
	for (;;) {
		bool busy = false;
		for (int i = 0; i < DEPTH; i++)
			busy |= slots[i].busy;
		if (!busy)
			break;
		prk_host_run(r->h, 100);
	}
	for (int i = 0; i < DEPTH; i++)
		free(slots[i].buf);
	return hs.failed ? r->fail.exit : 0;
}
