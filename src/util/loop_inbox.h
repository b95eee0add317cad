/* Between loop.c and loop_post.c only: every loop owns an inbox. */
#ifndef PRKIT_LOOP_INBOX_H
#define PRKIT_LOOP_INBOX_H

#include <stdint.h>

struct prk_loop;
struct prk_loop_inbox;
struct prk_loop_msg;

struct prk_loop_inbox *prk_loop_inbox_new(struct prk_loop *l);
void prk_loop_inbox_free(struct prk_loop *l, struct prk_loop_inbox *in);
void prk_loop_inbox_post(struct prk_loop_inbox *in, struct prk_loop_msg *m);
void prk_loop_inbox_run(struct prk_loop_inbox *in);
uint64_t prk_loop_inbox_wakes(const struct prk_loop_inbox *in);

#endif
