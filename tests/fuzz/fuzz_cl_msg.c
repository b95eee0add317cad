/* libFuzzer target: the cluster message decoder (bytes from other nodes).
 * An accepted message must be canonical: encoding what was decoded gives
 * back the same bytes; a rejected one must say which field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cl_msg.h"

static size_t reencode(const struct prk_cl_msg *m, uint8_t **out)
{
	switch (m->type) {
	case PRK_CL_HELLO:
		return prk_cl_enc_hello(m->sender, &m->u.hello, out);
	case PRK_CL_SNAPSHOT:
		return prk_cl_enc_snapshot(m->sender, &m->u.snap, out);
	case PRK_CL_SYNC_DONE:
		return prk_cl_enc_sync_done(m->sender, &m->u.done, out);
	case PRK_CL_EVENT:
		return prk_cl_enc_event(m->sender, &m->u.ev, out);
	case PRK_CL_ACK:
		return prk_cl_enc_ack(m->sender, &m->u.ack, out);
	case PRK_CL_HEARTBEAT:
		return prk_cl_enc_heartbeat(m->sender, m->u.sent_ns, out);
	case PRK_CL_UA_POP:
	case PRK_CL_NEXUS_UP:
		return prk_cl_enc_ua(m->sender, m->type, &m->u.ua, out);
	case PRK_CL_SYNC_REQ:
		return prk_cl_enc_sync_req(m->sender, &m->u.req, out);
	}
	__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prk_cl_msg m;
	char err[200];
	if (prk_cl_msg_decode(data, size, &m, err, sizeof(err))) {
		if (!strstr(err, "bad "))
			__builtin_trap();
		return 0;
	}
	uint8_t *out = NULL;
	size_t n = reencode(&m, &out);
	if (n != size || memcmp(out, data, size) != 0)
		__builtin_trap();
	free(out);
	prk_cl_msg_free(&m);
	return 0;
}
