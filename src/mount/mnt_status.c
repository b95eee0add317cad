/* The mount's event rings and status document (see mnt_status.h). */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mnt_status.h"

void prk_mnt_events_add(struct prk_mnt_events *r, uint64_t ms, const struct prk_event *e)
{
	struct prk_mnt_event *x = &r->ring[r->total % PRK_MNT_EVENTS];
	memset(x, 0, sizeof(*x));
	x->ms = ms;
	x->kind = e->kind;
	x->path = e->path;
	x->old_path = e->old_path;
	x->old_state = e->old_state;
	x->new_state = e->new_state;
	x->sense_key = e->sense_key;
	x->asc = e->asc;
	snprintf(x->why, sizeof(x->why), "%s", e->why ? e->why : "");
	r->total++;
}

size_t prk_mnt_events_count(const struct prk_mnt_events *r)
{
	return r->total < PRK_MNT_EVENTS ? (size_t)r->total : PRK_MNT_EVENTS;
}

const struct prk_mnt_event *prk_mnt_events_get(const struct prk_mnt_events *r, size_t i)
{
	size_t n = prk_mnt_events_count(r);
	if (i >= n)
		return NULL;
	return &r->ring[(r->total - n + i) % PRK_MNT_EVENTS];
}

void prk_mnt_event_text(const struct prk_mnt_event *e, char *buf, size_t cap)
{
	char what[128];
	switch (e->kind) {
	case PRK_EV_PATH_STATE:
		snprintf(what, sizeof(what), "path %d: %s -> %s", e->path,
		         prk_path_state_name(e->old_state), prk_path_state_name(e->new_state));
		break;
	case PRK_EV_UA:
		snprintf(what, sizeof(what), "path %d: unit attention, ASC %02xh/%02xh", e->path,
		         e->asc >> 8, e->asc & 0xff);
		break;
	case PRK_EV_IO_REDRIVEN:
	case PRK_EV_RESV_MOVED:
		snprintf(what, sizeof(what), "%s from path %d to path %d", prk_event_name(e->kind),
		         e->old_path, e->path);
		break;
	default:
		if (e->path >= 0)
			snprintf(what, sizeof(what), "%s (path %d)", prk_event_name(e->kind),
			         e->path);
		else
			snprintf(what, sizeof(what), "%s", prk_event_name(e->kind));
		break;
	}
	if (e->why[0])
		snprintf(buf, cap, "%s (%s)", what, e->why);
	else
		snprintf(buf, cap, "%s", what);
}

static json_object *jstr_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static json_object *event_json(const struct prk_mnt_event *e)
{
	json_object *o = json_object_new_object();
	char text[400], asc[8];
	json_object_object_add(o, "ms", json_object_new_int64((int64_t)e->ms));
	json_object_object_add(o, "kind", json_object_new_string(prk_event_name(e->kind)));
	json_object_object_add(o, "path", json_object_new_int(e->path));
	if (e->kind == PRK_EV_PATH_STATE) {
		json_object_object_add(o, "old_state",
		                       json_object_new_string(prk_path_state_name(e->old_state)));
		json_object_object_add(o, "new_state",
		                       json_object_new_string(prk_path_state_name(e->new_state)));
	}
	if (e->kind == PRK_EV_IO_REDRIVEN || e->kind == PRK_EV_RESV_MOVED)
		json_object_object_add(o, "old_path", json_object_new_int(e->old_path));
	/* ASC/ASCQ as the standards write them: "2a03". */
	snprintf(asc, sizeof(asc), "%04x", e->asc);
	json_object_object_add(o, "asc", e->asc ? json_object_new_string(asc) : NULL);
	json_object_object_add(o, "why", jstr_or_null(e->why));
	prk_mnt_event_text(e, text, sizeof(text));
	json_object_object_add(o, "text", json_object_new_string(text));
	return o;
}

static json_object *path_json(const struct prk_path_info *p)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "url", json_object_new_string(p->url));
	json_object_object_add(o, "state", json_object_new_string(prk_path_state_name(p->state)));
	json_object_object_add(o, "registered", json_object_new_boolean(p->registered));
	json_object_object_add(o, "holder", json_object_new_boolean(p->holder));
	json_object_object_add(o, "inflight", json_object_new_int64(p->inflight));
	json_object_object_add(o, "completed", json_object_new_int64((int64_t)p->completed));
	json_object_object_add(o, "failures", json_object_new_int64((int64_t)p->failures));
	json_object_object_add(o, "last_error", jstr_or_null(p->last_error));
	return o;
}

static json_object *io_json(const struct prk_mnt_iostat *s)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "opens", json_object_new_int64((int64_t)s->opens));
	json_object_object_add(o, "opens_refused", json_object_new_int64((int64_t)s->refused));
	json_object_object_add(o, "reads", json_object_new_int64((int64_t)s->reads));
	json_object_object_add(o, "writes", json_object_new_int64((int64_t)s->writes));
	json_object_object_add(o, "bytes_read", json_object_new_int64((int64_t)s->bytes_read));
	json_object_object_add(o, "bytes_written",
	                       json_object_new_int64((int64_t)s->bytes_written));
	json_object_object_add(o, "flushes", json_object_new_int64((int64_t)s->flushes));
	json_object_object_add(o, "unmaps", json_object_new_int64((int64_t)s->unmaps));
	json_object_object_add(o, "errors", json_object_new_int64((int64_t)s->errors));
	json_object_object_add(
	    o, "last_errno",
	    s->last_errno ? json_object_new_string(strerrorname_np(s->last_errno)) : NULL);
	return o;
}

static json_object *dev_json(const struct prk_mnt_status_dev *d)
{
	json_object *o = json_object_new_object();
	char key[24];
	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, "naa", jstr_or_null(d->naa));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)d->size));
	json_object_object_add(o, "block_size", json_object_new_int64(d->block_size));
	/* Hex as the other prkit tools print keys (a JSON number would lose
	 * the low bits of a 64-bit key in many readers). */
	snprintf(key, sizeof(key), "0x%llx", (unsigned long long)d->key);
	json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "mode", json_object_new_string(prk_open_mode_name(d->mode)));
	json_object_object_add(o, "handles", json_object_new_int64(d->handles));
	json_object_object_add(o, "open_mode",
	                       d->open ? json_object_new_string(prk_open_mode_name(d->open_mode))
	                               : NULL);
	json_object_object_add(o, "fenced", json_object_new_boolean(d->fenced));
	json_object_object_add(o, "stalled", json_object_new_boolean(d->stalled));
	json_object_object_add(o, "thin", json_object_new_boolean(d->thin));
	json_object *paths = json_object_new_array();
	for (size_t i = 0; i < d->n_paths; i++)
		json_object_array_add(paths, path_json(&d->paths[i]));
	json_object_object_add(o, "paths", paths);
	if (d->io)
		json_object_object_add(o, "io", io_json(d->io));
	json_object *evs = json_object_new_array();
	size_t n = d->events ? prk_mnt_events_count(d->events) : 0;
	for (size_t i = 0; i < n; i++)
		json_object_array_add(evs, event_json(prk_mnt_events_get(d->events, i)));
	json_object_object_add(o, "events", evs);
	return o;
}

char *prk_mnt_status_json(const struct prk_mnt_status *s)
{
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "mountpoint", json_object_new_string(s->mountpoint));
	json_object_object_add(o, "pid", json_object_new_int64(s->pid));
	json_object_object_add(o, "initiator", json_object_new_string(s->initiator));
	json_object_object_add(o, "ctl_socket", jstr_or_null(s->ctl_path));
	json_object *devs = json_object_new_array();
	for (size_t i = 0; i < s->n_devs; i++)
		json_object_array_add(devs, dev_json(&s->devs[i]));
	json_object_object_add(o, "devices", devs);
	const char *t = json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = t ? strlen(t) : 0;
	char *out = t ? malloc(len + 2) : NULL;
	if (out) {
		memcpy(out, t, len);
		out[len] = '\n';
		out[len + 1] = 0;
	}
	json_object_put(o);
	return out;
}

static const char *sget(json_object *o, const char *k)
{
	json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || !v)
		return "-";
	return json_object_get_string(v);
}

static long long iget(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? (long long)json_object_get_int64(v) : 0;
}

static bool bget(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

static void print_dev(json_object *d, FILE *out)
{
	fprintf(out, "%s  naa.%s  %lld bytes (%lld-byte blocks)  key %s  mode %s%s\n",
	        sget(d, "name"), sget(d, "naa"), iget(d, "size"), iget(d, "block_size"),
	        sget(d, "key"), sget(d, "mode"), bget(d, "thin") ? "  thin" : "");
	fprintf(out, "  open: %s, %lld handle(s)%s%s\n", sget(d, "open_mode"), iget(d, "handles"),
	        bget(d, "fenced") ? "  FENCED" : "", bget(d, "stalled") ? "  stalled" : "");
	json_object *io;
	if (json_object_object_get_ex(d, "io", &io) && io)
		fprintf(out,
		        "  io: %lld reads, %lld writes, %lld flushes, %lld unmaps, %lld errors "
		        "(last %s)\n",
		        iget(io, "reads"), iget(io, "writes"), iget(io, "flushes"),
		        iget(io, "unmaps"), iget(io, "errors"), sget(io, "last_errno"));
	json_object *paths, *evs;
	if (json_object_object_get_ex(d, "paths", &paths))
		for (size_t i = 0; i < json_object_array_length(paths); i++) {
			json_object *p = json_object_array_get_idx(paths, i);
			fprintf(out,
			        "  path %zu  %-7s %s%s  %s  inflight %lld  failures %lld%s%s\n", i,
			        sget(p, "state"), bget(p, "registered") ? "registered" : "-",
			        bget(p, "holder") ? " holder" : "", sget(p, "url"),
			        iget(p, "inflight"), iget(p, "failures"),
			        strcmp(sget(p, "last_error"), "-") ? "  last error: " : "",
			        strcmp(sget(p, "last_error"), "-") ? sget(p, "last_error") : "");
		}
	if (json_object_object_get_ex(d, "events", &evs))
		for (size_t i = 0; i < json_object_array_length(evs); i++) {
			json_object *e = json_object_array_get_idx(evs, i);
			long long ms = iget(e, "ms");
			time_t sec = (time_t)(ms / 1000);
			struct tm tm;
			char when[32] = "?";
			if (gmtime_r(&sec, &tm))
				strftime(when, sizeof(when), "%H:%M:%S", &tm);
			fprintf(out, "  event %s.%03lld  %s\n", when, ms % 1000, sget(e, "text"));
		}
}

int prk_mnt_status_print(const char *text, FILE *out, char *err, size_t errlen)
{
	json_object *o = json_tokener_parse(text);
	json_object *devs;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "devices", &devs) ||
	    !json_object_is_type(devs, json_type_array)) {
		snprintf(err, errlen, "not a prkit mount status document");
		json_object_put(o);
		return -1;
	}
	fprintf(out, "mount %s  pid %lld  initiator %s  control socket %s\n", sget(o, "mountpoint"),
	        iget(o, "pid"), sget(o, "initiator"), sget(o, "ctl_socket"));
	for (size_t i = 0; i < json_object_array_length(devs); i++)
		print_dev(json_object_array_get_idx(devs, i), out);
	json_object_put(o);
	return 0;
}
