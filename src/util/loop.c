/* The epoll event loop. Handles deleted inside a callback are only marked
 * and freed after the current batch of events, so a callback may close
 * another connection whose event is still pending in the batch. */
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

struct prk_loop {
	int epfd;
	bool stop;
	struct prk_loop_fd *dead;
	void (*after_batch)(void *arg);
	void *after_batch_arg;
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
		if (l->after_batch)
			l->after_batch(l->after_batch_arg);
		reap(l);
	}
	return 0;
}

void prk_loop_set_after_batch(struct prk_loop *l, void (*fn)(void *arg), void *arg)
{
	l->after_batch = fn;
	l->after_batch_arg = arg;
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
