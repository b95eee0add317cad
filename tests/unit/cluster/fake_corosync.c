/* A scripted stand-in for corosync's client libraries (the functions
 * src/cluster/cs.c calls), so the adapter's own logic (send queue, close
 * from a callback, reconnection, link changes, member order) is tested
 * without a corosync. Each handle's fd is an eventfd: the test makes it
 * readable to have the loop call the adapter's dispatch. */
#include "fake_corosync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct fake_cs fake;

void fake_reset(void)
{
	for (size_t i = 0; i < fake.n_sent; i++)
		free(fake.sent[i]);
	free(fake.sent);
	if (fake.cpg_efd > 0)
		close(fake.cpg_efd);
	if (fake.vq_efd > 0)
		close(fake.vq_efd);
	memset(&fake, 0, sizeof(fake));
	fake.cpg_efd = fake.vq_efd = -1;
	fake.local_nodeid = 1;
	fake.n_nodes = 3;
	fake.quorate = 1;
}

void fake_kick_cpg(void)
{
	uint64_t one = 1;
	if (write(fake.cpg_efd, &one, sizeof(one)) != sizeof(one))
		abort();
}

static void drain(int fd)
{
	uint64_t v;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* nothing pending: fine */
	}
}

cs_error_t cpg_model_initialize(cpg_handle_t *h, cpg_model_t model, cpg_model_data_t *data,
                                void *context)
{
	(void)model;
	fake.init_calls++;
	if (fake.refuse_connect)
		return CS_ERR_LIBRARY;
	fake.model = *(cpg_model_v1_data_t *)data;
	fake.cpg_ctx = context;
	fake.cpg_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	fake.connected = true;
	*h = 0x1234;
	return CS_OK;
}

cs_error_t cpg_context_get(cpg_handle_t h, void **context)
{
	(void)h;
	*context = fake.cpg_ctx;
	return CS_OK;
}

cs_error_t cpg_fd_get(cpg_handle_t h, int *fd)
{
	(void)h;
	*fd = fake.cpg_efd;
	return CS_OK;
}

cs_error_t cpg_join(cpg_handle_t h, const struct cpg_name *group)
{
	(void)h;
	fake.join_calls++;
	if (fake.join_try_again > 0) {
		fake.join_try_again--;
		return CS_ERR_TRY_AGAIN;
	}
	memcpy(fake.group, group->value, group->length);
	fake.group[group->length] = 0;
	return CS_OK;
}

cs_error_t cpg_leave(cpg_handle_t h, const struct cpg_name *group)
{
	(void)h;
	(void)group;
	fake.leave_calls++;
	return CS_OK;
}

cs_error_t cpg_finalize(cpg_handle_t h)
{
	(void)h;
	if (fake.cpg_efd >= 0)
		close(fake.cpg_efd);
	fake.cpg_efd = -1;
	fake.connected = false;
	fake.finalize_calls++;
	return CS_OK;
}

cs_error_t cpg_mcast_joined(cpg_handle_t h, cpg_guarantee_t g, const struct iovec *iov,
                            unsigned int n)
{
	(void)h;
	(void)n;
	if (g != CPG_TYPE_AGREED)
		return CS_ERR_INVALID_PARAM;
	if (fake.try_again > 0) {
		fake.try_again--;
		return CS_ERR_TRY_AGAIN;
	}
	if (fake.mcast_error)
		return fake.mcast_error;
	fake.sent = realloc(fake.sent, (fake.n_sent + 1) * sizeof(*fake.sent));
	fake.sent[fake.n_sent] = malloc(iov[0].iov_len + 1);
	memcpy(fake.sent[fake.n_sent], iov[0].iov_base, iov[0].iov_len);
	fake.sent[fake.n_sent][iov[0].iov_len] = 0;
	fake.n_sent++;
	return CS_OK;
}

/* One dispatch: runs the scripted action, as corosync would run the
 * callbacks of what it had received. */
cs_error_t cpg_dispatch(cpg_handle_t h, cs_dispatch_flags_t flags)
{
	(void)flags;
	drain(fake.cpg_efd);
	fake.dispatch_calls++;
	if (fake.dispatch_error)
		return fake.dispatch_error;
	if (fake.on_dispatch)
		fake.on_dispatch(h);
	return CS_OK;
}

cs_error_t votequorum_initialize(votequorum_handle_t *h, votequorum_callbacks_t *cb)
{
	fake.vq_cb = *cb;
	fake.vq_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	*h = 0x5678;
	return CS_OK;
}

cs_error_t votequorum_context_set(votequorum_handle_t h, void *context)
{
	(void)h;
	fake.vq_ctx = context;
	return CS_OK;
}

cs_error_t votequorum_context_get(votequorum_handle_t h, void **context)
{
	(void)h;
	*context = fake.vq_ctx;
	return CS_OK;
}

cs_error_t votequorum_fd_get(votequorum_handle_t h, int *fd)
{
	(void)h;
	*fd = fake.vq_efd;
	return CS_OK;
}

/* CS_TRACK_CURRENT: the current state comes with the next dispatch. */
cs_error_t votequorum_trackstart(votequorum_handle_t h, uint64_t context, unsigned int flags)
{
	uint64_t one = 1;
	(void)h;
	(void)context;
	(void)flags;
	if (write(fake.vq_efd, &one, sizeof(one)) != sizeof(one))
		abort();
	return CS_OK;
}

cs_error_t votequorum_dispatch(votequorum_handle_t h, cs_dispatch_flags_t flags)
{
	(void)flags;
	drain(fake.vq_efd);
	fake.vq_cb.votequorum_quorum_notify_fn(h, 0, fake.quorate, 0, NULL);
	return CS_OK;
}

cs_error_t votequorum_getinfo(votequorum_handle_t h, unsigned int nodeid,
                              struct votequorum_info *info)
{
	(void)h;
	memset(info, 0, sizeof(*info));
	info->node_id = nodeid;
	info->node_expected_votes = (unsigned)fake.n_nodes;
	return CS_OK;
}

cs_error_t votequorum_finalize(votequorum_handle_t h)
{
	(void)h;
	if (fake.vq_efd >= 0)
		close(fake.vq_efd);
	fake.vq_efd = -1;
	return CS_OK;
}

cs_error_t corosync_cfg_initialize(corosync_cfg_handle_t *h, const corosync_cfg_callbacks_t *cb)
{
	(void)cb;
	*h = 0x9abc;
	return CS_OK;
}

cs_error_t corosync_cfg_local_get(corosync_cfg_handle_t h, unsigned int *nodeid)
{
	(void)h;
	*nodeid = fake.local_nodeid;
	return CS_OK;
}

cs_error_t corosync_cfg_node_status_get(corosync_cfg_handle_t h, unsigned int nodeid,
                                        corosync_cfg_node_status_version_t v, void *status)
{
	struct corosync_cfg_node_status_v1 *st = status;
	(void)h;
	if (v != CFG_NODE_STATUS_V1 || nodeid == 0 || nodeid > FAKE_NODES)
		return CS_ERR_INVALID_PARAM;
	fake.status_calls++;
	st->nodeid = nodeid;
	for (unsigned l = 0; l < 2; l++) {
		st->link_status[l].enabled = 1;
		st->link_status[l].connected = (fake.links[nodeid - 1] >> l) & 1;
	}
	return CS_OK;
}

cs_error_t corosync_cfg_finalize(corosync_cfg_handle_t h)
{
	(void)h;
	return CS_OK;
}

cs_error_t cmap_initialize(cmap_handle_t *h)
{
	*h = 0xdef0;
	return CS_OK;
}

/* The nodelist: nodes 3, 1, 2 ... (listed out of order on purpose). */
cs_error_t cmap_get_uint32(cmap_handle_t h, const char *key, uint32_t *u32)
{
	unsigned i;
	(void)h;
	if (sscanf(key, "nodelist.node.%u.nodeid", &i) != 1 || i >= fake.n_nodes)
		return CS_ERR_NOT_EXIST;
	*u32 = (uint32_t)((i + fake.n_nodes - 1) % fake.n_nodes + 1);
	return CS_OK;
}

cs_error_t cmap_get_string(cmap_handle_t h, const char *key, char **str)
{
	(void)h;
	if (strcmp(key, "quorum.device.model") != 0 || !fake.qdevice)
		return CS_ERR_NOT_EXIST;
	*str = strdup("net");
	return CS_OK;
}

cs_error_t cmap_finalize(cmap_handle_t h)
{
	(void)h;
	return CS_OK;
}
