/* metrics: the registry of counters, gauges and histograms, their labelled series, and the
 * Prometheus text exposition (0.0.4). Metrics render in registration order; a metric's series
 * render sorted by their label values (so output does not depend on which thread came first).
 * One mutex per registry guards everything. Misuse (bad names, wrong label count, a counter
 * going down, a call of the wrong kind) is logged once per metric and otherwise ignored. */
#include "base/metrics.h"
#include "base/gofloat.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/strbuf.h"

typedef enum { M_COUNTER, M_GAUGE, M_HISTOGRAM } mkind_t;

typedef struct series {
    char *key;      /* label_values as passed ("" when none) */
    char **values;  /* split key, one per label name */
    double value;   /* counter/gauge */
    double sum;     /* histogram */
    uint64_t count; /* histogram */
    uint64_t *hits; /* histogram: per-bucket (non-cumulative), nbuckets + 1 with +Inf */
} series_t;

struct metric {
    metrics_registry_t *reg;
    mkind_t kind;
    char *name, *help;
    char **labels;
    size_t nlabels;
    double *buckets;
    size_t nbuckets;
    series_t **series;
    size_t nseries, capseries;
    unsigned warned; /* bit per kind of misuse already logged */
};

struct metrics_registry {
    pthread_mutex_t mu;
    metric_t **metrics;
    size_t n, cap;
};

enum { W_LABELS = 1, W_KIND = 2, W_NEGATIVE = 4 };

static const char *const KIND_NAMES[] = {"counter", "gauge", "histogram"};

metrics_registry_t *metrics_registry_new(void)
{
    metrics_registry_t *reg = calloc(1, sizeof *reg);
    if (!reg) return NULL;
    pthread_mutex_init(&reg->mu, NULL);
    return reg;
}

static void strv_free(char **v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Splits s on ',' (NULL or "" with want == 0 gives zero parts); NULL on OOM. */
static char **split_commas(const char *s, size_t *n)
{
    *n = 0;
    if (!s) s = "";
    size_t parts = 1;
    for (const char *p = s; *p; p++)
        parts += *p == ',';
    char **v = calloc(parts, sizeof *v);
    if (!v) return NULL;
    const char *start = s;
    for (size_t i = 0; i < parts; i++) {
        const char *end = strchr(start, ',');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        v[i] = strndup(start, len);
        if (!v[i]) {
            strv_free(v, i);
            return NULL;
        }
        start = end ? end + 1 : start + len;
    }
    *n = parts;
    return v;
}

static void series_free(series_t *s, size_t nlabels)
{
    if (!s) return;
    free(s->key);
    strv_free(s->values, nlabels);
    free(s->hits);
    free(s);
}

static void metric_free(metric_t *m)
{
    for (size_t i = 0; i < m->nseries; i++)
        series_free(m->series[i], m->nlabels);
    free(m->series);
    strv_free(m->labels, m->nlabels);
    free(m->buckets);
    free(m->name);
    free(m->help);
    free(m);
}

void metrics_registry_free(metrics_registry_t *reg)
{
    if (!reg) return;
    for (size_t i = 0; i < reg->n; i++)
        metric_free(reg->metrics[i]);
    free(reg->metrics);
    pthread_mutex_destroy(&reg->mu);
    free(reg);
}

static bool valid_name(const char *s, bool colon)
{
    if (!s || !*s) return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (colon && c == ':') || (p != s && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

/* Finds or creates the series for label_values; NULL (logged once) on a label count mismatch. */
static series_t *series_get(metric_t *m, const char *label_values)
{
    const char *key = label_values ? label_values : "";
    for (size_t i = 0; i < m->nseries; i++)
        if (strcmp(m->series[i]->key, key) == 0) return m->series[i];
    size_t nv = 0;
    char **values = NULL;
    if (m->nlabels > 0) {
        values = split_commas(key, &nv);
        if (!values) return NULL;
    } else if (*key) {
        nv = 1; /* values given to a metric without labels */
    }
    if (nv != m->nlabels) {
        strv_free(values, nv);
        if (!(m->warned & W_LABELS)) {
            m->warned |= W_LABELS;
            log_warn("metrics: wrong number of label values; sample dropped", "metric", m->name,
                     "label_values", key);
        }
        return NULL;
    }
    series_t *s = calloc(1, sizeof *s);
    if (!s) goto oom;
    s->values = values;
    values = NULL;
    s->key = strdup(key);
    if (!s->key) goto oom;
    if (m->kind == M_HISTOGRAM) {
        s->hits = calloc(m->nbuckets + 1, sizeof *s->hits);
        if (!s->hits) goto oom;
    }
    if (m->nseries == m->capseries) {
        size_t cap = m->capseries ? m->capseries * 2 : 4;
        series_t **ns = realloc(m->series, cap * sizeof *ns);
        if (!ns) goto oom;
        m->series = ns;
        m->capseries = cap;
    }
    m->series[m->nseries++] = s;
    return s;
oom:
    strv_free(values, nv);
    series_free(s, m->nlabels);
    return NULL;
}

static metric_t *metric_register(metrics_registry_t *reg, mkind_t kind, const char *name,
                                 const char *help, const char *label_names, const double *buckets,
                                 size_t nbuckets)
{
    if (!reg) return NULL;
    if (!valid_name(name, true)) {
        log_error("metrics: invalid metric name", "metric", name);
        return NULL;
    }
    pthread_mutex_lock(&reg->mu);
    metric_t *m = NULL;
    for (size_t i = 0; i < reg->n; i++) {
        if (strcmp(reg->metrics[i]->name, name) == 0) {
            m = reg->metrics[i];
            if (m->kind != kind) {
                log_error("metrics: metric already registered as another type", "metric", name,
                          "type", KIND_NAMES[m->kind]);
                m = NULL;
            }
            pthread_mutex_unlock(&reg->mu);
            return m;
        }
    }
    m = calloc(1, sizeof *m);
    if (!m) goto fail;
    m->reg = reg;
    m->kind = kind;
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    if (!m->name || !m->help) goto fail;
    if (label_names && *label_names) {
        m->labels = split_commas(label_names, &m->nlabels);
        if (!m->labels) goto fail;
        for (size_t i = 0; i < m->nlabels; i++) {
            const char *l = m->labels[i];
            if (!valid_name(l, false) || strncmp(l, "__", 2) == 0 ||
                (kind == M_HISTOGRAM && strcmp(l, "le") == 0)) {
                log_error("metrics: invalid label name", "metric", name, "label", l);
                goto fail;
            }
            for (size_t j = 0; j < i; j++) {
                if (strcmp(m->labels[j], l) == 0) {
                    log_error("metrics: duplicate label name", "metric", name, "label", l);
                    goto fail;
                }
            }
        }
    }
    if (kind == M_HISTOGRAM && nbuckets > 0) {
        for (size_t i = 0; i < nbuckets; i++) {
            if (!isfinite(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1]))) {
                log_error("metrics: histogram buckets must be finite and ascending", "metric",
                          name);
                goto fail;
            }
        }
        m->buckets = malloc(nbuckets * sizeof *m->buckets);
        if (!m->buckets) goto fail;
        memcpy(m->buckets, buckets, nbuckets * sizeof *m->buckets);
        m->nbuckets = nbuckets;
    }
    /* a metric without labels has its one series (at zero) from the start */
    if (m->nlabels == 0 && !series_get(m, NULL)) goto fail;
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 8;
        metric_t **nm = realloc(reg->metrics, cap * sizeof *nm);
        if (!nm) goto fail;
        reg->metrics = nm;
        reg->cap = cap;
    }
    reg->metrics[reg->n++] = m;
    pthread_mutex_unlock(&reg->mu);
    return m;
fail:
    if (m) metric_free(m);
    pthread_mutex_unlock(&reg->mu);
    return NULL;
}

metric_t *metrics_counter(metrics_registry_t *reg, const char *name, const char *help,
                          const char *label_names)
{
    return metric_register(reg, M_COUNTER, name, help, label_names, NULL, 0);
}

metric_t *metrics_gauge(metrics_registry_t *reg, const char *name, const char *help,
                        const char *label_names)
{
    return metric_register(reg, M_GAUGE, name, help, label_names, NULL, 0);
}

metric_t *metrics_histogram(metrics_registry_t *reg, const char *name, const char *help,
                            const char *label_names, const double *buckets, size_t nbuckets)
{
    return metric_register(reg, M_HISTOGRAM, name, help, label_names, buckets, nbuckets);
}

/* Locks, checks the kind, and finds the series; NULL (unlocked) when the call does not apply. */
static series_t *begin_update(metric_t *m, const char *label_values, bool ok_kind, const char *op)
{
    pthread_mutex_lock(&m->reg->mu);
    if (!ok_kind) {
        if (!(m->warned & W_KIND)) {
            m->warned |= W_KIND;
            log_warn("metrics: operation does not apply to this metric type", "metric", m->name,
                     "type", KIND_NAMES[m->kind], "op", op);
        }
        pthread_mutex_unlock(&m->reg->mu);
        return NULL;
    }
    series_t *s = series_get(m, label_values);
    if (!s) pthread_mutex_unlock(&m->reg->mu);
    return s;
}

void metrics_add(metric_t *m, const char *label_values, double v)
{
    if (!m) return;
    series_t *s = begin_update(m, label_values, m->kind != M_HISTOGRAM, "add");
    if (!s) return;
    if (m->kind == M_COUNTER && !(v >= 0)) {
        if (!(m->warned & W_NEGATIVE)) {
            m->warned |= W_NEGATIVE;
            log_warn("metrics: counters only go up; ignoring", "metric", m->name);
        }
    } else {
        s->value += v;
    }
    pthread_mutex_unlock(&m->reg->mu);
}

void metrics_set(metric_t *m, const char *label_values, double v)
{
    if (!m) return;
    series_t *s = begin_update(m, label_values, m->kind == M_GAUGE, "set");
    if (!s) return;
    s->value = v;
    pthread_mutex_unlock(&m->reg->mu);
}

void metrics_observe(metric_t *m, const char *label_values, double v)
{
    if (!m) return;
    series_t *s = begin_update(m, label_values, m->kind == M_HISTOGRAM, "observe");
    if (!s) return;
    size_t i = 0;
    while (i < m->nbuckets && !(v <= m->buckets[i]))
        i++;
    s->hits[i]++;
    s->count++;
    s->sum += v;
    pthread_mutex_unlock(&m->reg->mu);
}

/* ---- exposition ---- */

static void put_escaped(strbuf_t *b, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            strbuf_puts(b, "\\\\");
        else if (*s == '\n')
            strbuf_puts(b, "\\n");
        else if (quote && *s == '"')
            strbuf_puts(b, "\\\"");
        else
            strbuf_putc(b, *s);
    }
}

/* {a="x",b="y"} plus an optional le; nothing when there are no labels at all. */
static void put_labels(strbuf_t *b, const metric_t *m, const series_t *s, const char *le)
{
    if (m->nlabels == 0 && !le) return;
    strbuf_putc(b, '{');
    for (size_t i = 0; i < m->nlabels; i++) {
        if (i) strbuf_putc(b, ',');
        strbuf_printf(b, "%s=\"", m->labels[i]);
        put_escaped(b, s->values[i], true);
        strbuf_putc(b, '"');
    }
    if (le) strbuf_printf(b, "%sle=\"%s\"", m->nlabels ? "," : "", le);
    strbuf_putc(b, '}');
}

static int series_cmp(const void *a, const void *b, void *nlabels)
{
    const series_t *x = *(series_t *const *)a, *y = *(series_t *const *)b;
    for (size_t i = 0; i < *(const size_t *)nlabels; i++) {
        int c = strcmp(x->values[i], y->values[i]);
        if (c) return c;
    }
    return 0;
}

static void render_metric(strbuf_t *b, metric_t *m)
{
    if (m->nseries == 0) return; /* a labelled metric nobody used yet: omitted, as client_golang */
    if (m->help[0]) {
        strbuf_printf(b, "# HELP %s ", m->name);
        put_escaped(b, m->help, false);
        strbuf_putc(b, '\n');
    }
    strbuf_printf(b, "# TYPE %s %s\n", m->name, KIND_NAMES[m->kind]);
    if (m->nlabels > 0) {
        qsort_r(m->series, m->nseries, sizeof *m->series, series_cmp, &m->nlabels);
    }
    for (size_t i = 0; i < m->nseries; i++) {
        const series_t *s = m->series[i];
        if (m->kind != M_HISTOGRAM) {
            strbuf_puts(b, m->name);
            put_labels(b, m, s, NULL);
            strbuf_putc(b, ' ');
            gofloat_g(b, s->value);
            strbuf_putc(b, '\n');
            continue;
        }
        uint64_t cum = 0;
        for (size_t j = 0; j <= m->nbuckets; j++) {
            cum += s->hits[j];
            strbuf_t le = {0};
            if (j < m->nbuckets)
                gofloat_g(&le, m->buckets[j]);
            else
                strbuf_puts(&le, "+Inf");
            strbuf_printf(b, "%s_bucket", m->name);
            put_labels(b, m, s, strbuf_str(&le));
            strbuf_printf(b, " %llu\n", (unsigned long long)cum);
            strbuf_free(&le);
        }
        strbuf_printf(b, "%s_sum", m->name);
        put_labels(b, m, s, NULL);
        strbuf_putc(b, ' ');
        gofloat_g(b, s->sum);
        strbuf_printf(b, "\n%s_count", m->name);
        put_labels(b, m, s, NULL);
        strbuf_printf(b, " %llu\n", (unsigned long long)s->count);
    }
}

char *metrics_render(metrics_registry_t *reg)
{
    strbuf_t b = {0};
    if (reg) {
        pthread_mutex_lock(&reg->mu);
        for (size_t i = 0; i < reg->n; i++)
            render_metric(&b, reg->metrics[i]);
        pthread_mutex_unlock(&reg->mu);
    }
    char *out = strdup(strbuf_str(&b));
    strbuf_free(&b);
    return out;
}
