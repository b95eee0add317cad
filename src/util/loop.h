/* A small epoll event loop: file descriptors with callbacks, and timers
 * (timerfd). One loop per thread; nothing here is thread-safe except
 * prk_loop_post (loop_post.h), how other threads talk to a loop. */
#ifndef PRKIT_LOOP_H
#define PRKIT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct prk_loop;
struct prk_loop_fd;

typedef void (*prk_loop_fd_cb)(void *arg, uint32_t events);

struct prk_loop *prk_loop_new(void);
void prk_loop_free(struct prk_loop *l);

/* Watches fd for events (EPOLLIN / EPOLLOUT ...). Returns a handle or
 * NULL. */
struct prk_loop_fd *prk_loop_add(struct prk_loop *l, int fd, uint32_t events, prk_loop_fd_cb cb,
                                 void *arg);
/* As prk_loop_add, and the loop closes fd when the handle is deleted. */
struct prk_loop_fd *prk_loop_add_owned(struct prk_loop *l, int fd, uint32_t events,
                                       prk_loop_fd_cb cb, void *arg);
int prk_loop_fd_number(const struct prk_loop_fd *h);
int prk_loop_mod(struct prk_loop *l, struct prk_loop_fd *h, uint32_t events);
/* Stops watching (safe inside a callback; the handle is freed later). */
void prk_loop_del(struct prk_loop *l, struct prk_loop_fd *h);

/* A periodic timer every `ms` milliseconds; returns a handle (delete with
 * prk_loop_del) or NULL. */
struct prk_loop_fd *prk_loop_timer(struct prk_loop *l, unsigned ms, void (*cb)(void *arg),
                                   void *arg);

/* Re-arms a timer made by prk_loop_timer: it fires after ms, then every
 * interval_ms (0: once); ms = 0 disarms it. The timer keeps its file
 * descriptor, so arming it needs none (e.g. when they have run out).
 * 0, or -1. */
int prk_loop_timer_arm(struct prk_loop_fd *h, unsigned ms, unsigned interval_ms);

/* After-batch hooks: fn(arg) runs once after each batch of events, hooks
 * in ascending order (equal orders in the order added). A hook added while
 * the hooks run starts with the next batch; one removed while they run
 * (itself included) does not run again. The orders in use:
 *  - PRK_LOOP_AFTER_IO: backstores submit the I/O queued during the batch
 *    (one io_uring_enter per ring), first, so that the device works while
 *    the responses are written;
 *  - PRK_LOOP_AFTER_SEND: the iSCSI server writes the responses queued
 *    during the batch (one writev per connection, no epoll_ctl); it also
 *    hands freed task memory to waiting tasks, which may start I/O;
 *  - PRK_LOOP_AFTER_LAST: backstores again, for that I/O: nothing else
 *    would wake the loop to submit it. With nothing queued it costs no
 *    system call. */
enum {
	PRK_LOOP_AFTER_IO = 10,
	PRK_LOOP_AFTER_SEND = 20,
	PRK_LOOP_AFTER_LAST = 30,
};
/* 0, or -1 when out of memory. */
int prk_loop_after_batch_add(struct prk_loop *l, int order, void (*fn)(void *arg), void *arg);
/* Removes every hook fn(arg) (safe inside a hook). */
void prk_loop_after_batch_del(struct prk_loop *l, void (*fn)(void *arg), void *arg);

/* Runs until prk_loop_stop(). Returns 0, or -1 on an epoll error. */
int prk_loop_run(struct prk_loop *l);
void prk_loop_stop(struct prk_loop *l);
bool prk_loop_stopping(const struct prk_loop *l);

#endif
