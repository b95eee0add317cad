/* The bounded object cache (obj_pool.h; get and put are inline there). */
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

void prk_obj_pool_drain(struct prk_obj_pool *pl)
{
	while (pl->idle) {
		void *obj = pl->idle;
		memcpy(&pl->idle, obj, sizeof(void *));
		free(obj);
	}
	pl->n_idle = 0;
}
