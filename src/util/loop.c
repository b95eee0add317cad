/* The epoll event loop. Handles deleted inside a callback are only marked
 * and freed after the current batch of events, so a callback may close
 * another connection whose event is still pending in the batch. After each
 * batch the after-batch hooks run in order (loop.h says which and why);
 * hooks removed while they run are likewise only marked, then unlinked. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "loop.h"
#include "loop_inbox.h"
#include "loop_post.h"

struct prk_loop_fd {
	int fd;
	bool dead;
	bool owns_fd; /* timers own their timerfd */
	prk_loop_fd_cb cb;
	void *arg;
	void (*timer_cb)(void *arg);
	struct prk_loop_fd *next_dead;
};

struct after_hook {
	struct after_hook *next; /* sorted by order, then by when added */
	int order;
	void (*fn)(void *arg);
	void *arg;
	bool removed; /* removed while the hooks ran: unlinked after */
	bool fresh;   /* added while the hooks ran: runs from the next batch */
};

struct prk_loop {
	int epfd;
	bool stop;
	struct prk_loop_fd *dead;
	struct after_hook *hooks;
	bool in_hooks;                /* the hooks are running */
	struct prk_loop_inbox *inbox; /* messages from other threads (loop_post.c) */
};

struct prk_loop *prk_loop_new(void)
{
	struct prk_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	l->inbox = prk_loop_inbox_new(l);
	if (!l->inbox) {
		close(l->epfd);
		free(l);
		return NULL;
	}
	return l;
}

static void reap(struct prk_loop *l)
{
	while (l->dead) {
		struct prk_loop_fd *h = l->dead;
		l->dead = h->next_dead;
		if (h->owns_fd)
			close(h->fd);
		free(h);
	}
}

void prk_loop_free(struct prk_loop *l)
{
	if (!l)
		return;
	prk_loop_inbox_free(l, l->inbox);
	reap(l);
	while (l->hooks) {
		struct after_hook *h = l->hooks;
		l->hooks = h->next;
		free(h);
	}
	close(l->epfd);
	free(l);
}

struct prk_loop_fd *prk_loop_add(struct prk_loop *l, int fd, uint32_t events, prk_loop_fd_cb cb,
                                 void *arg)
{
	struct prk_loop_fd *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->fd = fd;
	h->cb = cb;
	h->arg = arg;
	struct epoll_event ev = {.events = events, .data.ptr = h};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(h);
		return NULL;
	}
	return h;
}

struct prk_loop_fd *prk_loop_add_owned(struct prk_loop *l, int fd, uint32_t events,
                                       prk_loop_fd_cb cb, void *arg)
{
	struct prk_loop_fd *h = prk_loop_add(l, fd, events, cb, arg);
	if (h)
		h->owns_fd = true;
	return h;
}

int prk_loop_fd_number(const struct prk_loop_fd *h)
{
	return h->fd;
}

int prk_loop_mod(struct prk_loop *l, struct prk_loop_fd *h, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = h};
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, h->fd, &ev);
}

void prk_loop_del(struct prk_loop *l, struct prk_loop_fd *h)
{
	if (!h || h->dead)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, h->fd, NULL);
	h->dead = true;
	h->next_dead = l->dead;
	l->dead = h;
}

static void timer_fired(void *arg, uint32_t events)
{
	struct prk_loop_fd *h = arg;
	uint64_t n;
	(void)events;
	if (read(h->fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		h->timer_cb(h->arg);
}

struct prk_loop_fd *prk_loop_timer(struct prk_loop *l, unsigned ms, void (*cb)(void *arg),
                                   void *arg)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct itimerspec its = {
	    .it_interval = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000},
	    .it_value = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000},
	};
	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		close(fd);
		return NULL;
	}
	struct prk_loop_fd *h = calloc(1, sizeof(*h));
	if (!h) {
		close(fd);
		return NULL;
	}
	h->fd = fd;
	h->owns_fd = true;
	h->timer_cb = cb;
	h->arg = arg;
	h->cb = timer_fired;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = h};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		free(h);
		return NULL;
	}
	return h;
}

int prk_loop_timer_arm(struct prk_loop_fd *h, unsigned ms, unsigned interval_ms)
{
	struct itimerspec its = {
	    .it_interval = {.tv_sec = interval_ms / 1000,
	                    .tv_nsec = (long)(interval_ms % 1000) * 1000000},
	    .it_value = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000},
	};
	return timerfd_settime(h->fd, 0, &its, NULL);
}

/* Runs every hook present when the batch ended, then unlinks the ones
 * removed meanwhile (a hook may remove itself or another). */
static void run_after_batch(struct prk_loop *l)
{
	l->in_hooks = true;
	for (struct after_hook *h = l->hooks; h; h = h->next)
		if (!h->removed && !h->fresh)
			h->fn(h->arg);
	l->in_hooks = false;
	for (struct after_hook **at = &l->hooks; *at;) {
		struct after_hook *h = *at;

		if (h->removed) {
			*at = h->next;
			free(h);
		} else {
			h->fresh = false;
			at = &h->next;
		}
	}
}

int prk_loop_run(struct prk_loop *l)
{
	struct epoll_event evs[64];
	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < n; i++) {
			struct prk_loop_fd *h = evs[i].data.ptr;
			if (h->dead)
				continue;
			/* A timer's callback gets its own handle (timer_fired). */
			h->cb(h->timer_cb ? (void *)h : h->arg, evs[i].events);
		}
		run_after_batch(l);
		reap(l);
	}
	return 0;
}

int prk_loop_after_batch_add(struct prk_loop *l, int order, void (*fn)(void *arg), void *arg)
{
	struct after_hook *h = calloc(1, sizeof(*h));
	struct after_hook **at = &l->hooks;

	if (!h)
		return -1;
	*h = (struct after_hook){.order = order, .fn = fn, .arg = arg, .fresh = l->in_hooks};
	while (*at && (*at)->order <= order)
		at = &(*at)->next;
	h->next = *at;
	*at = h;
	return 0;
}

void prk_loop_after_batch_del(struct prk_loop *l, void (*fn)(void *arg), void *arg)
{
	for (struct after_hook **at = &l->hooks; *at;) {
		struct after_hook *h = *at;

		if (h->fn != fn || h->arg != arg || h->removed) {
			at = &h->next;
		} else if (l->in_hooks) {
			h->removed = true; /* the running loop may hold it */
			at = &h->next;
		} else {
			*at = h->next;
			free(h);
		}
	}
}

void prk_loop_stop(struct prk_loop *l)
{
	l->stop = true;
}

bool prk_loop_stopping(const struct prk_loop *l)
{
	return l->stop;
}

void prk_loop_post(struct prk_loop *to, struct prk_loop_msg *m)
{
	prk_loop_inbox_post(to->inbox, m);
}

void prk_loop_run_posts(struct prk_loop *l)
{
	prk_loop_inbox_run(l->inbox);
}

uint64_t prk_loop_post_wakes(const struct prk_loop *l)
{
	return prk_loop_inbox_wakes(l->inbox);
}
