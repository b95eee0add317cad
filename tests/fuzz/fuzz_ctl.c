/* libFuzzer target: the control socket's request and reply parsers
 * (src/host/ctl_proto.c). Any bytes must give either a request that
 * formats to a line parsing back to the same request, or an error message;
 * never a crash, a leak, or an empty message. The same bytes go to the
 * reply parser (the client reads what a process of our uid sends). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"

static void check_request(const uint8_t *data, size_t size)
{
	struct ctl_req r;
	char err[256] = "";
	if (prk_ctl_req_parse((const char *)data, size, &r, err, sizeof(err))) {
		if (!err[0])
			__builtin_trap();
		return;
	}
	char *line = prk_ctl_req_format(&r);
	if (!line)
		return;
	size_t n = strlen(line);
	struct ctl_req back;
	if (n < 1 || line[n - 1] != '\n' || memchr(line, '\n', n - 1) ||
	    prk_ctl_req_parse(line, n - 1, &back, err, sizeof(err)) || back.op != r.op ||
	    strcmp(back.naa, r.naa) || back.max_ms != r.max_ms || back.old_key != r.old_key ||
	    back.new_key != r.new_key || strcmp(back.reason, r.reason))
		__builtin_trap();
	free(line);
}

static void check_reply(const uint8_t *data, size_t size)
{
	struct ctl_reply r;
	struct prk_ctl_dev devs[4];
	char err[256] = "";
	if (prk_ctl_reply_parse((const char *)data, size, &r, devs, 4, err, sizeof(err))) {
		if (!err[0])
			__builtin_trap();
		return;
	}
	if (r.n_devs > 4 || (!r.ok && !r.error[0]))
		__builtin_trap();
	char *line = prk_ctl_reply_format(&r);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_request(data, size);
	check_reply(data, size);
	return 0;
}
