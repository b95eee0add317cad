/* Reservations across the paths of a device (mpdev_pr.c), the SPC-2
 * fallback (open.c), and a path's bring-up, which registers our key
 * (mpdev_up.c). These block: they run the loop until the target answers.
 * Private to src/host. */
#ifndef PRKIT_HOST_MPDEV_PR_H
#define PRKIT_HOST_MPDEV_PR_H

#include <stdbool.h>
#include <stdint.h>

#include "mpdev.h"

/* open.c */
/* SPC-2 fallback: RESERVE(6) through p. 0; -1 with PRK_HE_BUSY when
 * another initiator holds it; other errors -1. */
int prk_spc2_reserve_sync(struct prk_mpdev *d, struct hpath *p, struct prk_host_err *err);
/* After spc2_path lost its session: reserve again through a usable path
 * (I/O waits meanwhile); another initiator's reservation means fenced. */
void prk_spc2_recover_sync(struct prk_mpdev *d);

/* mpdev_pr.c */
int prk_devpr_register_path_sync(struct hpath *p, uint64_t key, struct prk_host_err *err);
int prk_devpr_unregister_path_sync(struct hpath *p, struct prk_host_err *err);
int prk_devpr_reregister_returning_sync(struct hpath *p);
int prk_devpr_recover_dead_holder_sync(struct prk_mpdev *d);
int prk_devpr_prout_sync(struct hpath *p, uint8_t sa, uint8_t type, uint64_t rk, uint64_t sark,
                         bool aptpl, struct prk_host_err *err);
int prk_devpr_prin_sync(struct hpath *p, uint8_t sa, uint8_t *buf, uint16_t cap, size_t *got,
                        struct prk_host_err *err);
int prk_devpr_count_key_sync(struct hpath *p, uint64_t key, size_t *n, struct prk_host_err *err);
/* READ FULL STATUS through via: which of our paths are registered and
 * which holds the reservation; sets resv_held / resv_type. */
int prk_devpr_read_state_sync(struct prk_mpdev *d, struct hpath *via, struct prk_host_err *err);
void prk_cmd_err(struct prk_host_err *err, struct hpath *p, int st, const struct hsync *s,
                 const char *what);
/* Our registration is gone: every path unregistered, PRK_EV_FENCED. */
void prk_devpr_mark_fenced(struct prk_mpdev *d, int path, const char *why);
struct hpath *prk_devpr_any_session(struct prk_mpdev *d, bool need_registered);
/* The path of ours whose I_T nexus a READ FULL STATUS descriptor names,
 * or NULL. */
struct prk_full_desc;
struct hpath *prk_devpr_path_of_tid(struct prk_mpdev *d, const struct prk_full_desc *fd);
/* A path's bring-up is done (identity known): take back a registration
 * we could not verify when the device is no longer registered, and
 * register our key again on it when the device is. 0 when the path may
 * carry I/O; -1 when it may not (dropped, or no longer logged in). */
int prk_devpr_path_up_sync(struct hpath *p);

/* mpdev_up.c */
/* A logged-in path's bring-up: identity (the device's LU), capacity,
 * ALUA, unit attentions, registration, then READY. 0 when it carries I/O;
 * -1 when it was dropped or its session went. */
int prk_dev_bring_up_sync(struct hpath *p);
/* REPORT TARGET PORT GROUPS through p, applied to every path of its
 * device. */
int prk_dev_refresh_alua_sync(struct hpath *p);

#endif
