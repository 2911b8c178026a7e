/* route.h — per-route statistics (private to loadgen/). A route is a method
 * and a normalised path (lg_route_key). Each worker keeps its own table;
 * the engine merges them into routes.json at the end. */
#ifndef LG_ROUTE_H
#define LG_ROUTE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "loadgen/stats.h"

#define LG_ROUTE_KEY_MAX 256
#define LG_ROUTE_DIGITS 2 /* per-route histograms: 2 significant digits */
#define LG_MAX_ROUTES 512 /* beyond this, requests count under "OTHER" */

typedef struct lg_route {
    char key[LG_ROUTE_KEY_MAX];
    lg_stats *stats;
} lg_route;

#define LG_ROUTE_INDEX 2048 /* hash index slots: more than LG_MAX_ROUTES + 1, a power of 2 */

typedef struct lg_routes {
    lg_route *items;
    size_t n, cap;
    int index[LG_ROUTE_INDEX]; /* item index + 1 by key hash (0 = empty) */
} lg_routes;

/* Initialises an empty table. */
void lg_routes_init(lg_routes *t);

/* Frees every route's stats and the table's array. */
void lg_routes_free(lg_routes *t);

/* Returns the index of key, adding it when new (past LG_MAX_ROUTES the
 * shared "OTHER" route). Returns -ENOMEM on out of memory. */
int lg_routes_intern(lg_routes *t, const char *key);

/* Merges every route of src into dst by key. Returns 0 or -ENOMEM. */
int lg_routes_merge(lg_routes *dst, const lg_routes *src);

/* Encodes the table as {"schema":"squall.routes/1","routes":[{"route":key,
 * "method":..,"path":.., <lg_stats_to_json fields>}]}; routes with nothing
 * recorded are left out (unless they are the only one). Caller owns it. */
json_t *lg_routes_to_json(const lg_routes *t);

#endif
