/* The scripted corosync of the adapter's unit tests (fake_corosync.c). */
#ifndef PRKIT_FAKE_COROSYNC_H
#define PRKIT_FAKE_COROSYNC_H

#include <corosync/cfg.h>
#include <corosync/cmap.h>
#include <corosync/cpg.h>
#include <corosync/votequorum.h>
#include <stdbool.h>
#include <stddef.h>

#define FAKE_NODES 8

struct fake_cs {
	/* what the adapter registered */
	cpg_model_v1_data_t model;
	void *cpg_ctx, *vq_ctx;
	votequorum_callbacks_t vq_cb;
	char group[CPG_MAX_NAME_LENGTH + 1];
	int cpg_efd, vq_efd;
	bool connected;

	/* the script */
	uint32_t local_nodeid;
	size_t n_nodes;   /* configured nodes 1..n_nodes */
	bool qdevice;     /* quorum.device.model set */
	uint32_t quorate; /* what votequorum reports */
	int try_again;    /* the next N multicasts answer CS_ERR_TRY_AGAIN */
	cs_error_t mcast_error;
	cs_error_t dispatch_error; /* cpg_dispatch answers this (the daemon died) */
	bool refuse_connect;
	int join_try_again;        /* the next N cpg_join answer CS_ERR_TRY_AGAIN */
	uint8_t links[FAKE_NODES]; /* bit l: link l of node i+1 connected */
	void (*on_dispatch)(cpg_handle_t h);

	/* what happened */
	char **sent; /* every multicast accepted, NUL-terminated copies */
	size_t n_sent;
	int join_calls, init_calls, finalize_calls, leave_calls, dispatch_calls, status_calls;
};

extern struct fake_cs fake;

void fake_reset(void);
/* Makes the cpg fd readable: the loop will call cpg_dispatch. */
void fake_kick_cpg(void);

#endif
