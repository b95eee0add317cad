/* A bounded cache of same-sized objects: the device's per-I/O records
 * (struct hio) are taken from it and given back, so that an I/O costs no
 * malloc and free once the queue depth has been reached. At most `cap`
 * idle objects are kept (memory stays bounded after a burst of a deeper
 * queue); beyond that, objects given back are freed. Not thread-safe:
 * one host loop owns it. */
#ifndef PRKIT_HOST_OBJ_POOL_H
#define PRKIT_HOST_OBJ_POOL_H

#include <stddef.h>

struct prk_obj_pool {
	void *idle;    /* singly linked through each object's first pointer */
	size_t n_idle; /* objects in idle */
	size_t cap;    /* most idle objects kept */
	size_t size;   /* bytes per object, at least sizeof(void *) */
};

/* An empty pool of objects of `size` bytes keeping at most `cap` idle. */
void prk_obj_pool_init(struct prk_obj_pool *pl, size_t size, size_t cap);
/* A zeroed object (an idle one, or a new one); NULL without memory. */
void *prk_obj_pool_get(struct prk_obj_pool *pl);
/* Gives obj back: kept idle while fewer than cap are, else freed. */
void prk_obj_pool_put(struct prk_obj_pool *pl, void *obj);
/* Frees every idle object (the pool stays usable). */
void prk_obj_pool_drain(struct prk_obj_pool *pl);

#endif
