/* faults: fault injection for tests, off by default: a write error rate (429/500/503/504 and
 * closed connections), watches cut after K events, resourceVersions expired beyond the last N
 * events, watch delivery delayed by D ms, and empty list pages. Set by flags or by
 * PUT /admin/faults (JSON) on the API port; GET /admin/faults shows them. */
#ifndef APISERVER_FAULTS_H
#define APISERVER_FAULTS_H

#include <jansson.h>
#include <stdbool.h>

typedef struct faults {
    double write_error_rate; /* 0..1: fraction of writes answered with an injected error */
    int watch_cut_after;     /* > 0: end every watch stream after this many events */
    int expire_after;        /* > 0: keep only the last N events (older RVs are Expired) */
    int watch_delay_ms;      /* > 0: delay every watch event by this much */
    bool empty_pages;        /* paginated lists include an empty page with a continue token */
    unsigned seed;
} faults_t;

/* Parses {"writeErrorRate":0.05,"watchCutAfter":50,"expireAfter":100,"watchDelayMs":20,
 * "emptyPages":true}; unknown keys or wrong types -> -EINVAL with a message naming the field.
 * Keys absent keep their value. */
int faults_from_json(faults_t *f, json_t *in, char *errbuf, size_t errlen);
json_t *faults_to_json(const faults_t *f);
/* Draws whether this write fails; if so returns the HTTP code to inject (429, 500, 503, 504)
 * or -1 for "close the connection", else 0. */
int faults_draw_write_error(faults_t *f);

#endif
