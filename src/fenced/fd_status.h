/* prkit fenced: the status socket (fd_status.c: a UNIX stream socket on
 * the daemon's loop, one JSON request line, one reply line) and the reply
 * itself (fd_status_json.c, pure: built from a snapshot of the daemon so
 * that unit tests can build it from hand-made values). docs/fenced.md
 * "Status". Internal to src/fenced. */
#ifndef PRKIT_FENCED_FD_STATUS_H
#define PRKIT_FENCED_FD_STATUS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fd_config.h"
#include "fd_core.h"
#include "fd_local.h"
#include "fd_storage.h"

/* The last self-check as the daemon saw it. */
struct prk_fd_check_info {
	bool valid; /* one has run */
	bool ok;
	size_t with_key, counted;
	uint64_t at_ms; /* monotonic */
};

/* What the reply is made of. Times: the core's monotonic ms; wall-clock
 * times in the reply are these plus real_minus_mono_ms. */
struct prk_fd_status_in {
	const struct prk_fd_config *cfg;
	const struct prk_fd_core *core;
	uint16_t executor; /* prk_fdc_executor */
	bool may_act;      /* prk_fdc_may_act */
	uint64_t now_ms;
	int64_t real_minus_mono_ms;
	const struct prk_fds_lu *lus;
	size_t n_lus;
	const struct prk_fdl_proc *procs;
	size_t n_procs;
	struct prk_fd_check_info check;
	uint64_t fencings;         /* rounds completed that this node saw */
	uint64_t self_fence_at_ms; /* monotonic; when state is SELF_FENCED */
};

/* The reply object (docs/fenced.md "Status"); NULL when out of memory. */
json_object *prk_fd_status_json(const struct prk_fd_status_in *in);

/* The server: listens on path (an old socket file there is replaced),
 * answers {"cmd":"status"} with build(arg) on loop. NULL with err. */
struct prk_loop;
struct prk_fd_status_srv;
struct prk_fd_status_srv *prk_fd_status_listen(struct prk_loop *loop, const char *path,
                                               json_object *(*build)(void *arg), void *arg,
                                               char *err, size_t errlen);
/* Drops clients idle for more than 5 s (call from the tick). */
void prk_fd_status_tick(struct prk_fd_status_srv *s);
/* Stops listening, removes the socket file. NULL is fine. */
void prk_fd_status_close(struct prk_fd_status_srv *s);

#endif
