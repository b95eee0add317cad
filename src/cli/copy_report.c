/* `prkit copy`: steps, progress and the report (text or --json). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "copy_run.h"
#include "persist_exit.h"
#include "persist_fmt.h"

struct copy_step *copy_step_begin(struct copy_run *r, const char *name)
{
	static struct copy_step spare;
	struct copy_step *s = r->n_steps < COPY_MAX_STEPS ? &r->steps[r->n_steps++] : &spare;
	*s = (struct copy_step){.name = name, .ms = prk_host_now_ms()};
	return s;
}

void copy_step_end(struct copy_run *r, struct copy_step *s, int exit, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
	s->exit = exit;
	s->ms = prk_host_now_ms() - s->ms;
	if (r->a->verbose && !r->a->json)
		fprintf(stderr, "prkit copy: %-10s %s: %s\n", s->name, exit ? "FAILED" : "ok",
		        s->detail);
}

static double mbps(uint64_t bytes, uint64_t ms)
{
	return ms ? (double)bytes / 1e6 / ((double)ms / 1000.0) : 0.0;
}

void copy_progress(struct copy_run *r, bool final)
{
	if (!r->progress)
		return;
	uint64_t now = prk_host_now_ms(), ms = now - r->t0_ms;
	/* A line a second in a log, five redraws a second on a terminal; the
	 * final figure once. */
	if (!final && r->progress_ms && now - r->progress_ms < (r->tty ? 200u : 1000u))
		return;
	if (final && r->progress_ms && r->progress_bytes == r->bytes_now && !r->tty)
		return;
	r->progress_ms = now;
	r->progress_bytes = r->bytes_now;
	double pct = r->plan.bytes ? 100.0 * (double)r->bytes_now / (double)r->plan.bytes : 100.0;
	fprintf(stderr, "%sprkit copy: %" PRIu64 " of %" PRIu64 " MiB (%.0f%%), %.1f MB/s%s",
	        r->tty ? "\r" : "", r->bytes_now >> 20, r->plan.bytes >> 20, pct,
	        mbps(r->bytes_now, ms), r->tty && !final ? "" : "\n");
	fflush(stderr);
}

/* A number printed as given ("%.3f"), not with double's noise. */
static json_object *jnum(double v, const char *fmt)
{
	char b[64];
	snprintf(b, sizeof(b), fmt, v);
	return json_object_new_double_s(v, b);
}

static json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

int copy_report(struct copy_run *r, int exit)
{
	const struct prk_copy_args *a = r->a;
	uint64_t ms = (r->t1_ms > r->t0_ms ? r->t1_ms - r->t0_ms : 0);
	if (r->progress && r->tty)
		fputc('\n', stderr);
	const char *mode = a->host_copy ? "host-copy" : a->third_party ? "third-party" : "offload";
	if (a->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "source", jstr(a->src.text));
		json_object_object_add(o, "destination", jstr(a->dst.text));
		json_object_object_add(o, "mode", jstr(mode));
		json_object_object_add(o, "offloaded", json_object_new_boolean(r->offloaded));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)r->bytes_done));
		json_object_object_add(o, "bytes_planned",
		                       json_object_new_int64((int64_t)r->plan.bytes));
		json_object_object_add(o, "seconds", jnum((double)ms / 1000.0, "%.3f"));
		json_object_object_add(o, "mb_per_s", jnum(mbps(r->bytes_done, ms), "%.1f"));
		json_object_object_add(o, "src_lba",
		                       json_object_new_int64((int64_t)r->plan.src_lba));
		json_object_object_add(o, "dst_lba",
		                       json_object_new_int64((int64_t)r->plan.dst_lba));
		json_object_object_add(o, "blocks", json_object_new_int64((int64_t)r->plan.blocks));
		json_object_object_add(o, "block_size", json_object_new_int((int)r->plan.src_bs));
		if (!a->host_copy) {
			json_object_object_add(o, "segments",
			                       json_object_new_int64((int64_t)r->segs_done));
			json_object_object_add(o, "segments_planned",
			                       json_object_new_int64((int64_t)r->plan.n_segs));
			json_object_object_add(o, "commands",
			                       json_object_new_int64((int64_t)r->cmds_done));
			json_object_object_add(o, "commands_planned",
			                       json_object_new_int64((int64_t)r->plan.n_cmds));
			json_object_object_add(o, "segment_blocks",
			                       json_object_new_int((int)r->plan.seg_blocks));
			json_object_object_add(o, "list_id", json_object_new_int(a->list_id));
			json_object_object_add(o, "status_polls",
			                       json_object_new_int64((int64_t)r->polls));
		}
		if (a->third_party) {
			char k[24];
			snprintf(k, sizeof(k), "0x%" PRIx64, a->key);
			json_object_object_add(o, "key", jstr(k));
			snprintf(k, sizeof(k), "0x%" PRIx64, a->cm_key);
			json_object_object_add(o, "cm_key", jstr(k));
			json_object *cm = json_object_new_object();
			if (r->cm_from) {
				json_object_object_add(cm, "transport_id",
				                       prk_persist_json_tid(&r->cm_tid));
				json_object_object_add(cm, "rtpi", json_object_new_int(r->cm_rtpi));
				json_object_object_add(cm, "from", jstr(r->cm_from));
			}
			json_object_object_add(o, "copy_manager", cm);
			json_object_object_add(o, "nexus", prk_persist_json_tid(&r->dst.nexus));
			json_object_object_add(o, "rtpi", json_object_new_int(r->dst.rtpi));
			json_object_object_add(o, "keep", json_object_new_boolean(a->keep));
			json_object *st = json_object_new_array();
			for (size_t i = 0; i < r->n_steps; i++) {
				json_object *s = json_object_new_object();
				json_object_object_add(s, "step", jstr(r->steps[i].name));
				json_object_object_add(s, "ok",
				                       json_object_new_boolean(!r->steps[i].exit));
				json_object_object_add(s, "exit_status",
				                       json_object_new_int(r->steps[i].exit));
				json_object_object_add(
				    s, "seconds", jnum((double)r->steps[i].ms / 1000.0, "%.3f"));
				json_object_object_add(s, "detail", jstr(r->steps[i].detail));
				json_object_array_add(st, s);
			}
			json_object_object_add(o, "steps", st);
		}
		json_object_object_add(o, "exit_status", json_object_new_int(exit));
		json_object_object_add(o, "exit_meaning", jstr(prk_persist_exit_str(exit)));
		if (exit)
			json_object_object_add(o, "error", jstr(r->fail.msg));
		prk_persist_json_print(stdout, o);
		json_object_put(o);
	} else {
		/* The Annex B.3 steps, in order, whatever the outcome. */
		for (size_t i = 0; i < r->n_steps; i++)
			printf("%-10s %-6s %s\n", r->steps[i].name,
			       r->steps[i].exit ? "FAILED" : "ok", r->steps[i].detail);
	}
	if (!a->json && !exit) {
		printf("prkit copy: %" PRIu64 " bytes in %.3f s (%.1f MB/s), ", r->bytes_done,
		       (double)ms / 1000.0, mbps(r->bytes_done, ms));
		if (a->host_copy)
			printf("host copy (read and written through iSCSI)\n");
		else
			printf("%" PRIu64 " segment%s in %" PRIu64 " EXTENDED COPY command%s, "
			       "offloaded%s\n",
			       r->segs_done, r->segs_done == 1 ? "" : "s", r->cmds_done,
			       r->cmds_done == 1 ? "" : "s",
			       a->third_party ? (a->keep ? "; reservation ours (kept)"
			                                 : "; reservation came back, released")
			                      : "");
	}
	if (exit) {
		fprintf(stderr, "prkit copy: %s\n", r->fail.msg);
		fprintf(stderr, "prkit copy failed: %s (exit status %d)\n",
		        prk_persist_exit_str(exit), exit);
	}
	return exit;
}
