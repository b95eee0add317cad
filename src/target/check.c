/* See check.h. A typo in a backing file's path used to serve a new, empty
 * disk, and `prkitd --check` only parsed the text: both now look at the
 * machine the way a start does. */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backstore.h"
#include "check.h"

/* The directory a path would be created in must exist and be writable. */
static int creatable(const char *path, char *why, size_t cap)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", path);
	const char *dir = dirname(buf);
	struct stat st;
	if (stat(dir, &st) < 0) {
		snprintf(why, cap, "its directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, cap, "%s is not a directory", dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		snprintf(why, cap, "its directory %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

void prk_check_file_opts(const struct prk_cfg_lun *l, struct prk_bs_file_opts *o)
{
	*o = (struct prk_bs_file_opts){
	    .path = l->path,
	    .size = l->size,
	    .direct = l->direct,
	    .queue_depth = l->queue_depth,
	    .readonly = l->readonly,
	};
}

int prk_check_lun_file(const struct prk_cfg_lun *l, const char *where, char *err, size_t errlen)
{
	char why[4400];
	struct stat st;
	if (l->type != PRK_CFG_BS_FILE)
		return 0;
	if (stat(l->path, &st) < 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: backstore.path %s: %s", where, l->path,
			         strerror(errno));
			return -1;
		}
		if (!l->create) {
			snprintf(err, errlen,
			         "%s: backstore.path %s does not exist (\"create\": true makes a "
			         "new file of the LU's size)",
			         where, l->path);
			return -1;
		}
		if (l->readonly) {
			snprintf(err, errlen,
			         "%s: backstore.path %s does not exist, and a read-only LU does "
			         "not create it",
			         where, l->path);
			return -1;
		}
		if (creatable(l->path, why, sizeof(why))) {
			snprintf(err, errlen, "%s: backstore.path %s cannot be created: %s", where,
			         l->path, why);
			return -1;
		}
		return 0;
	}
	if (S_ISREG(st.st_mode) && l->size && (uint64_t)st.st_size < l->size && !l->grow) {
		snprintf(err, errlen,
		         "%s: backstore.size: %s has %llu bytes, fewer than the size %llu "
		         "(\"grow\": true extends it)",
		         where, l->path, (unsigned long long)st.st_size,
		         (unsigned long long)l->size);
		return -1;
	}
	return 0;
}

/* Opens the backing file as the backstore would, when that changes
 * nothing (no file to create, nothing to extend). */
static int check_open(const struct prk_cfg_lun *l, const char *where, char *err, size_t errlen)
{
	struct stat st;
	if (stat(l->path, &st) < 0)
		return 0; /* to be created: prk_check_lun_file saw the directory */
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < l->size) {
		if (access(l->path, W_OK) < 0) {
			snprintf(err, errlen, "%s: backstore.path %s cannot be extended: %s", where,
			         l->path, strerror(errno));
			return -1;
		}
		return 0;
	}
	struct prk_bs_file_opts o;
	prk_check_file_opts(l, &o);
	char e[512];
	struct prk_bs *bs = prk_bs_file_open(&o, e, sizeof(e));
	if (!bs) {
		snprintf(err, errlen, "%s: %s", where, e);
		return -1;
	}
	if (prk_bs_size(bs) % l->block_size) {
		snprintf(err, errlen,
		         "%s: the size %llu of %s is not a multiple of the block size %u", where,
		         (unsigned long long)prk_bs_size(bs), l->path, l->block_size);
		prk_bs_close(bs);
		return -1;
	}
	prk_bs_close(bs);
	return 0;
}

static int check_portal(const struct prk_cfg_portal *p, size_t i, FILE *warn, char *err,
                        size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, p->address, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(p->port);
		len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, p->address, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(p->port);
		len = sizeof(*a6);
	} else {
		snprintf(err, errlen, "portals[%zu].address: \"%s\" is not an IPv4 or IPv6 address",
		         i, p->address);
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "portals[%zu]: socket: %s", i, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int r = bind(fd, (struct sockaddr *)&ss, len);
	int e = errno;
	close(fd);
	if (r == 0)
		return 0;
	if (e == EADDRINUSE) {
		fprintf(warn,
		        "prkitd: warning: portals[%zu]: %s:%u is in use now (a start fails while "
		        "it is)\n",
		        i, p->address, p->port);
		return 0;
	}
	snprintf(err, errlen, "portals[%zu]: cannot listen on %s:%u: %s", i, p->address, p->port,
	         strerror(e));
	return -1;
}

static int check_memory(const struct prk_cfg *cfg, char *err, size_t errlen)
{
	unsigned long long total = 0;
	for (size_t t = 0; t < cfg->n_targets; t++)
		for (size_t l = 0; l < cfg->targets[t].n_luns; l++)
			if (cfg->targets[t].luns[l].type == PRK_CFG_BS_RAM)
				total += cfg->targets[t].luns[l].size;
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || page <= 0)
		return 0;
	unsigned long long mem = (unsigned long long)pages * (unsigned long long)page;
	if (total > mem) {
		snprintf(err, errlen,
		         "RAM LUs hold %llu bytes together, more than the %llu bytes of memory of "
		         "this machine",
		         total, mem);
		return -1;
	}
	return 0;
}

static int check_admin_socket(const char *path, char *err, size_t errlen)
{
	char why[4400];
	struct sockaddr_un sa;
	struct stat st;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "admin_socket %s: path too long", path);
		return -1;
	}
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "admin_socket %s: exists and is not a socket", path);
		return -1;
	}
	if (creatable(path, why, sizeof(why))) {
		snprintf(err, errlen, "admin_socket %s: %s", path, why);
		return -1;
	}
	return 0;
}

/* The state directory, or its nearest existing ancestor, where a start
 * creates it. */
static int check_state_dir(const char *dir, char *err, size_t errlen)
{
	char buf[4096];
	struct stat st;
	snprintf(buf, sizeof(buf), "%s", dir);
	while (stat(buf, &st) < 0) {
		if (errno != ENOENT || strcmp(buf, "/") == 0 || strcmp(buf, ".") == 0) {
			snprintf(err, errlen, "state_dir %s: %s: %s", dir, buf, strerror(errno));
			return -1;
		}
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s", buf);
		snprintf(buf, sizeof(buf), "%s", dirname(tmp));
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "state_dir %s: %s is not a directory", dir, buf);
		return -1;
	}
	if (access(buf, W_OK | X_OK) < 0) {
		snprintf(err, errlen, "state_dir %s: %s: %s", dir, buf, strerror(errno));
		return -1;
	}
	return 0;
}

int prk_check_config(const struct prk_cfg *cfg, const char *admin_socket, const char *state_dir,
                     FILE *warn, char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->n_portals; i++)
		if (check_portal(&cfg->portals[i], i, warn, err, errlen))
			return -1;
	for (size_t t = 0; t < cfg->n_targets; t++) {
		for (size_t i = 0; i < cfg->targets[t].n_luns; i++) {
			const struct prk_cfg_lun *l = &cfg->targets[t].luns[i];
			char where[64];
			snprintf(where, sizeof(where), "targets[%zu].luns[%zu]", t, i);
			if (l->type == PRK_CFG_BS_FILE &&
			    (prk_check_lun_file(l, where, err, errlen) ||
			     check_open(l, where, err, errlen)))
				return -1;
		}
	}
	if (check_memory(cfg, err, errlen))
		return -1;
	if (admin_socket && check_admin_socket(admin_socket, err, errlen))
		return -1;
	return check_state_dir(state_dir, err, errlen);
}
