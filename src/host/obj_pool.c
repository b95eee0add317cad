/* The bounded object cache (obj_pool.h). */
#include <stdlib.h>
#include <string.h>

#include "obj_pool.h"

void prk_obj_pool_init(struct prk_obj_pool *pl, size_t size, size_t cap)
{
	pl->idle = NULL;
	pl->n_idle = 0;
	pl->cap = cap;
	/* An idle object holds the link to the next one. */
	pl->size = size < sizeof(void *) ? sizeof(void *) : size;
}

void *prk_obj_pool_get(struct prk_obj_pool *pl)
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

void prk_obj_pool_put(struct prk_obj_pool *pl, void *obj)
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

void prk_obj_pool_drain(struct prk_obj_pool *pl)
{
	while (pl->idle) {
		void *obj = pl->idle;
		memcpy(&pl->idle, obj, sizeof(void *));
		free(obj);
	}
	pl->n_idle = 0;
}
