/* `prkit io`: what it prints. Event lines and once-a-second progress go to
 * stderr (not with --quiet); the final report goes to stdout, as text or
 * as JSON (--json). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "io_run.h"
#include "prkit/host_ctl.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_sense.h"

double prk_io_elapsed(const struct io_run *r, uint64_t now_ns)
{
	return (double)(now_ns - r->start_ns) / 1e9;
}

uint64_t prk_io_errors(const struct io_counts *c)
{
	return c->no_path + c->scsi + c->closed + c->submit;
}

/* "hh:mm:ss.mmm +S.sss": wall clock, and seconds since the start. */
static void stamp(const struct io_run *r, char *buf, size_t cap)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	localtime_r(&tv.tv_sec, &tm);
	snprintf(buf, cap, "%02d:%02d:%02d.%03ld +%.3f", tm.tm_hour, tm.tm_min, tm.tm_sec,
	         (long)(tv.tv_usec / 1000), prk_io_elapsed(r, prk_io_now_ns()));
}

static const char *portal_of(struct prk_mpdev *d, int path, char *buf, size_t cap)
{
	struct prk_path_info pi[IO_NP];
	size_t n = d ? prk_mpdev_paths(d, pi, IO_NP) : 0;
	snprintf(buf, cap, "%s", path >= 0 && (size_t)path < n ? pi[path].portal : "?");
	return buf;
}

static void asc_text(uint16_t asc, char *buf, size_t cap)
{
	const char *name = prk_asc_name(asc);
	snprintf(buf, cap, "%02x/%02x%s%s", asc >> 8, asc & 0xff, name ? " " : "",
	         name ? name : "");
}

void prk_io_flush_redrives(struct io_run *r)
{
	char ts[48];
	for (int a = 0; a < IO_NP; a++) {
		for (int b = 0; b < IO_NP; b++) {
			uint64_t n = r->redrive_pending[a][b];
			r->redrive_seen[a][b] = false;
			if (!n)
				continue;
			r->redrive_pending[a][b] = 0;
			if (r->o->quiet)
				continue;
			stamp(r, ts, sizeof(ts));
			fprintf(stderr, "%s %llu more I/O(s) re-driven from path %d to path %d\n",
			        ts, (unsigned long long)n, a, b);
		}
	}
}

/* true for the first re-drive from old_path to path since the last
 * progress line (printed at once), false for the others (counted). */
static bool redrive_batch(struct io_run *r, const struct prk_event *ev)
{
	if (ev->old_path < 0 || ev->old_path >= IO_NP || ev->path < 0 || ev->path >= IO_NP)
		return true;
	bool *seen = &r->redrive_seen[ev->old_path][ev->path];
	if (!*seen) {
		*seen = true;
		return true;
	}
	r->redrive_pending[ev->old_path][ev->path]++;
	return false;
}

void prk_io_print_event(struct io_run *r, struct prk_mpdev *d, const struct prk_event *ev)
{
	if (r->o->quiet)
		return;
	char ts[48], portal[128], asc[96];
	stamp(r, ts, sizeof(ts));
	portal_of(d, ev->path, portal, sizeof(portal));
	const char *why = ev->why ? ev->why : "";
	switch (ev->kind) {
	case PRK_EV_PATH_STATE:
		fprintf(stderr, "%s path %d (%s): %s -> %s%s%s\n", ts, ev->path, portal,
		        prk_path_state_name(ev->old_state), prk_path_state_name(ev->new_state),
		        *why ? ": " : "", why);
		break;
	case PRK_EV_UA:
		asc_text(ev->asc, asc, sizeof(asc));
		fprintf(stderr, "%s path %d (%s): unit attention %s (%s)\n", ts, ev->path, portal,
		        asc, why);
		break;
	case PRK_EV_FENCED:
		fprintf(stderr, "%s path %d (%s): FENCED: %s\n", ts, ev->path, portal, why);
		break;
	case PRK_EV_REREGISTERED:
		fprintf(stderr, "%s path %d (%s): key registered again\n", ts, ev->path, portal);
		break;
	case PRK_EV_RESV_MOVED:
		fprintf(stderr, "%s reservation moved from path %d to path %d (%s)\n", ts,
		        ev->old_path, ev->path, portal);
		break;
	case PRK_EV_IO_REDRIVEN:
		/* The first of a batch now, the rest summed up with the next
		 * progress line. */
		if (redrive_batch(r, ev))
			fprintf(stderr, "%s I/O re-driven from path %d to path %d (%s): %s\n", ts,
			        ev->old_path, ev->path, portal, why);
		break;
	case PRK_EV_STALLED:
		fprintf(stderr, "%s I/O stalled (control socket)\n", ts);
		break;
	case PRK_EV_RESUMED:
		fprintf(stderr, "%s I/O resumed\n", ts);
		break;
	case PRK_EV_KEY_CHANGED:
		fprintf(stderr, "%s key changed to 0x%llx (%s)\n", ts,
		        (unsigned long long)prk_mpdev_key(d), why);
		break;
	}
}

void prk_io_print_mismatch(const struct io_run *r, const struct iop_mismatch *m)
{
	if (r->c.mismatches > 10) {
		if (r->c.mismatches == 11)
			fprintf(stderr, "prkit io: further mismatches are counted, not shown\n");
		return;
	}
	fprintf(stderr, "prkit io: VERIFY MISMATCH at LBA %llu, byte %u of the block: %s",
	        (unsigned long long)m->lba, m->offset, prk_iop_fault_name(m->fault));
	if (m->fault == IOP_WRONG_LBA || m->fault == IOP_WRONG_SEQ || m->fault == IOP_WRONG_RUN)
		fprintf(stderr, " (found %llu / 0x%llx)", (unsigned long long)m->found,
		        (unsigned long long)m->found);
	fputc('\n', stderr);
}

void prk_io_progress(struct io_run *r, uint64_t now)
{
	double dt = (double)(now - r->prog_ns) / 1e9;
	struct prk_path_info pi[IO_NP];
	size_t np = prk_mpdev_paths(r->d, pi, IO_NP);
	prk_io_flush_redrives(r);
	if (!r->o->quiet && dt > 0) {
		fprintf(stderr, "+%.1fs %9.0f IOPS %8.1f MB/s  err %llu  fenced %llu |",
		        prk_io_elapsed(r, now), (double)(r->c.ops - r->prog_ops) / dt,
		        (double)(r->c.bytes - r->prog_bytes) / dt / 1e6,
		        (unsigned long long)prk_io_errors(&r->c), (unsigned long long)r->c.fenced);
		for (size_t i = 0; i < np; i++)
			fprintf(stderr, " p%zu %s %llu", i, prk_path_state_name(pi[i].state),
			        (unsigned long long)(r->c.per_path[i] - r->prog_path[i]));
		fputc('\n', stderr);
	}
	r->prog_ns = now;
	r->prog_ops = r->c.ops;
	r->prog_bytes = r->c.bytes;
	memcpy(r->prog_path, r->c.per_path, sizeof(r->prog_path));
}

void prk_io_print_opened(const struct io_run *r)
{
	if (r->o->quiet)
		return;
	const struct io_opts *o = r->o;
	fprintf(stderr,
	        "prkit io: naa.%s, %llu blocks of %u bytes, %zu path(s), mode %s, type %u, "
	        "key 0x%llx, initiator %s\n",
	        prk_mpdev_naa(r->d), (unsigned long long)prk_mpdev_blocks(r->d), r->block_size,
	        r->n_urls, prk_open_mode_name(o->mode), o->type ? o->type : 6,
	        (unsigned long long)o->key, r->initiator);
	fprintf(stderr, "prkit io: %s, bs %u, qd %u, LBA %llu + %llu units, run id 0x%016llx\n",
	        prk_io_rw_name(o->rw), o->bs, o->qd, (unsigned long long)r->reg.first_lba,
	        (unsigned long long)r->reg.units, (unsigned long long)r->run_id);
	if (r->ctl_path[0])
		fprintf(stderr, "prkit io: control socket %s\n", r->ctl_path);
}

static double run_seconds(const struct io_run *r)
{
	return r->io_end_ns > r->io_start_ns ? (double)(r->io_end_ns - r->io_start_ns) / 1e9 : 0;
}

void prk_io_report_text(const struct io_run *r, FILE *f)
{
	const struct io_counts *c = &r->c;
	double secs = run_seconds(r);
	fprintf(f, "%s, bs %u, qd %u, %zu path(s), %.2f s\n", prk_io_rw_name(r->o->rw), r->o->bs,
	        r->o->qd, r->n_urls, secs);
	fprintf(f, "ops        %llu (reads %llu, writes %llu)\n", (unsigned long long)c->ops,
	        (unsigned long long)c->reads, (unsigned long long)c->writes);
	fprintf(f, "bytes      %llu\n", (unsigned long long)c->bytes);
	fprintf(f, "IOPS       %.0f\n", secs > 0 ? (double)c->ops / secs : 0);
	fprintf(f, "MB/s       %.1f (10^6 B/s)\n", secs > 0 ? (double)c->bytes / secs / 1e6 : 0);
	fprintf(f, "latency    p50 %llu us, p99 %llu us, max %llu us\n",
	        (unsigned long long)prk_io_hist_percentile(&c->lat, 50),
	        (unsigned long long)prk_io_hist_percentile(&c->lat, 99),
	        (unsigned long long)c->lat.max);
	fprintf(f,
	        "errors     no-path %llu, scsi %llu, closed %llu, submit %llu, fenced %llu, "
	        "verify-mismatch %llu\n",
	        (unsigned long long)c->no_path, (unsigned long long)c->scsi,
	        (unsigned long long)c->closed, (unsigned long long)c->submit,
	        (unsigned long long)c->fenced, (unsigned long long)c->mismatches);
	for (size_t i = 0; i < r->n_urls; i++)
		fprintf(f, "path %zu     %s: %llu completions\n", i, r->urls[i],
		        (unsigned long long)c->per_path[i]);
	fprintf(f,
	        "failovers  %llu (a path left the up state), %llu I/O re-drives, %llu I/Os "
	        "completed after a re-drive\n",
	        (unsigned long long)c->failovers, (unsigned long long)c->redriven,
	        (unsigned long long)c->ios_redriven);
	fprintf(f, "control    %s: %llu stall(s), %llu key change(s)",
	        r->ctl_path[0] ? r->ctl_path : "off", (unsigned long long)c->stalls,
	        (unsigned long long)c->key_changes);
	if (c->key_changes && r->d)
		fprintf(f, ", key now 0x%llx", (unsigned long long)prk_mpdev_key(r->d));
	fputc('\n', f);
	if (c->mismatches)
		fprintf(f, "first mismatch at LBA %llu: %s\n", (unsigned long long)r->first_bad.lba,
		        prk_iop_fault_name(r->first_bad.fault));
}

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static json_object *json_errors(const struct io_counts *c)
{
	json_object *e = json_object_new_object();
	add_u64(e, "no_path", c->no_path);
	add_u64(e, "scsi", c->scsi);
	add_u64(e, "closed", c->closed);
	add_u64(e, "submit", c->submit);
	add_u64(e, "fenced", c->fenced);
	add_u64(e, "verify_mismatch", c->mismatches);
	return e;
}

static json_object *json_paths(const struct io_run *r)
{
	json_object *a = json_object_new_array();
	struct prk_path_info pi[IO_NP];
	size_t np = r->d ? prk_mpdev_paths(r->d, pi, IO_NP) : 0;
	for (size_t i = 0; i < r->n_urls; i++) {
		json_object *p = json_object_new_object();
		add_u64(p, "index", i);
		json_object_object_add(p, "url", json_object_new_string(r->urls[i]));
		if (i < np) {
			json_object_object_add(p, "portal", json_object_new_string(pi[i].portal));
			json_object_object_add(
			    p, "state", json_object_new_string(prk_path_state_name(pi[i].state)));
			add_u64(p, "failures", pi[i].failures);
		}
		add_u64(p, "completions", r->c.per_path[i]);
		json_object_array_add(a, p);
	}
	return a;
}

static json_object *json_latency(const struct io_hist *h)
{
	json_object *l = json_object_new_object();
	add_u64(l, "p50", prk_io_hist_percentile(h, 50));
	add_u64(l, "p99", prk_io_hist_percentile(h, 99));
	add_u64(l, "max", h->max);
	return l;
}

int prk_io_report_json(const struct io_run *r, int exit_status, FILE *f)
{
	const struct io_counts *c = &r->c;
	double secs = run_seconds(r);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "rw", json_object_new_string(prk_io_rw_name(r->o->rw)));
	add_u64(o, "bs", r->o->bs);
	add_u64(o, "qd", r->o->qd);
	json_object_object_add(o, "seconds", json_object_new_double(secs));
	add_u64(o, "ops", c->ops);
	add_u64(o, "reads", c->reads);
	add_u64(o, "writes", c->writes);
	add_u64(o, "bytes", c->bytes);
	json_object_object_add(o, "iops", json_object_new_double(secs > 0 ? c->ops / secs : 0));
	json_object_object_add(o, "mbps",
	                       json_object_new_double(secs > 0 ? c->bytes / secs / 1e6 : 0));
	json_object_object_add(o, "latency_us", json_latency(&c->lat));
	json_object_object_add(o, "errors", json_errors(c));
	json_object_object_add(o, "paths", json_paths(r));
	add_u64(o, "failovers", c->failovers);
	add_u64(o, "io_redrives", c->redriven);
	add_u64(o, "ios_redriven", c->ios_redriven);
	add_u64(o, "unit_attentions", c->uas);
	json_object_object_add(o, "ctl_socket",
	                       r->ctl_path[0] ? json_object_new_string(r->ctl_path) : NULL);
	add_u64(o, "stalls", c->stalls);
	add_u64(o, "key_changes", c->key_changes);
	if (r->d) {
		char k[24];
		snprintf(k, sizeof(k), "0x%llx", (unsigned long long)prk_mpdev_key(r->d));
		json_object_object_add(o, "key", json_object_new_string(k));
	}
	if (c->mismatches)
		add_u64(o, "first_mismatch_lba", r->first_bad.lba);
	/* What a reader of the blocks finds in their headers: who (run id)
	 * and, with --seq-clock, when the last write was issued (us). */
	char id[24];
	snprintf(id, sizeof(id), "0x%016llx", (unsigned long long)r->run_id);
	json_object_object_add(o, "run_id", json_object_new_string(id));
	add_u64(o, "last_seq", r->seq);
	add_u64(o, "exit_status", (uint64_t)exit_status);
	int rc = fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
	return rc < 0 ? -1 : 0;
}
