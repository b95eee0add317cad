/* A bounded cache of same-sized objects: the device's per-I/O records
 * (struct hio) are taken from it and given back, so that an I/O costs no
 * malloc and free once the queue depth has been reached. At most `cap`
 * idle objects are kept (memory stays bounded after a burst of a deeper
 * queue); beyond that, objects given back are freed. Not thread-safe:
 * one host loop owns it. */
#ifndef PRKIT_HOST_OBJ_POOL_H
#define PRKIT_HOST_OBJ_POOL_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct prk_obj_pool {
	void *idle;    /* singly linked through each object's first pointer */
	size_t n_idle; /* objects in idle */
	size_t cap;    /* most idle objects kept */
	size_t size;   /* bytes per object, at least sizeof(void *) */
};

/* An empty pool of objects of `size` bytes keeping at most `cap` idle. */
void prk_obj_pool_init(struct prk_obj_pool *pl, size_t size, size_t cap);
/* Get and put run once per I/O each: inline, as calls into another
 * object they cost the device more than their bodies. */

/* A zeroed object (an idle one, or a new one); NULL without memory. */
static inline void *prk_obj_pool_get(struct prk_obj_pool *pl)
{
	void *obj = pl->idle;
	if (!obj)
		return calloc(1, pl->size);
	memcpy(&pl->idle, obj, sizeof(void *));
	pl->n_idle--;
	/* Callers rely on calloc's zeroes (lists, counters, flags). */
	memset(obj, 0, pl->size);
	return obj;
}

/* Gives obj back: kept idle while fewer than cap are, else freed. */
static inline void prk_obj_pool_put(struct prk_obj_pool *pl, void *obj)
{
	if (!obj)
		return;
	if (pl->n_idle >= pl->cap) {
		free(obj);
		return;
	}
	memcpy(obj, &pl->idle, sizeof(void *));
	pl->idle = obj;
	pl->n_idle++;
}
/* Frees every idle object (the pool stays usable). */
void prk_obj_pool_drain(struct prk_obj_pool *pl);

#endif
