/* metrics: counters, gauges and histograms with labels, rendered in the Prometheus text
 * exposition format (0.0.4). Debian packages no metrics library for C, so this small writer is
 * ours. Every function is thread-safe. */
#ifndef BASE_METRICS_H
#define BASE_METRICS_H

#include <stddef.h>

typedef struct metrics_registry metrics_registry_t;
typedef struct metric metric_t;

metrics_registry_t *metrics_registry_new(void);
/* Frees the registry and every metric in it. */
void metrics_registry_free(metrics_registry_t *reg);

/* Registers a metric (or returns the one already registered under name). label_names is a
 * comma-separated list ("code,method") or NULL for none. The registry owns the metric. */
metric_t *metrics_counter(metrics_registry_t *reg, const char *name, const char *help,
                          const char *label_names);
metric_t *metrics_gauge(metrics_registry_t *reg, const char *name, const char *help,
                        const char *label_names);
/* buckets: ascending upper bounds (the +Inf bucket is implicit); copied. */
metric_t *metrics_histogram(metrics_registry_t *reg, const char *name, const char *help,
                            const char *label_names, const double *buckets, size_t nbuckets);

/* label_values: comma-separated values in label_names order ("200,GET"), NULL when the metric
 * has no labels. Values are escaped on output. m may be NULL (no-op), so callers need not check
 * whether metrics are enabled. */
void metrics_add(metric_t *m, const char *label_values, double v);     /* counter/gauge += v */
void metrics_set(metric_t *m, const char *label_values, double v);     /* gauge = v */
void metrics_observe(metric_t *m, const char *label_values, double v); /* histogram */

/* The whole registry as exposition text, malloc'd (caller frees); NULL only on OOM. */
char *metrics_render(metrics_registry_t *reg);

#endif
