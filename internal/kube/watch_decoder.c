/* watch_decoder: splits a watch body into lines across chunk boundaries and
 * decodes each line into a typed event with jansson (json_loadb per complete
 * line). */
#include "kube/watch_decoder.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const TYPE_NAMES[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};

const char *kube_watch_type_name(kube_watch_type_t t)
{
    return (unsigned)t < sizeof TYPE_NAMES / sizeof TYPE_NAMES[0] ? TYPE_NAMES[t] : "?";
}

void kube_watch_decoder_init(kube_watch_decoder_t *d, size_t max_line, kube_watch_event_fn fn,
                             void *ud)
{
    memset(d, 0, sizeof *d);
    d->fn = fn;
    d->ud = ud;
    d->max_line = max_line ? max_line : (size_t)64 << 20;
}

void kube_watch_decoder_free(kube_watch_decoder_t *d)
{
    free(d->buf);
    d->buf = NULL;
    d->len = d->cap = 0;
}

__attribute__((format(printf, 3, 4))) static int fail(kube_watch_decoder_t *d, int code,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof d->err, fmt, ap);
    va_end(ap);
    d->failed = code;
    d->len = 0;
    return code;
}

static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') return false;
    return true;
}

/* Decodes one complete line. */
static int decode_line(kube_watch_decoder_t *d, const char *p, size_t n)
{
    if (blank(p, n)) return 0;
    json_error_t je;
    json_t *ev = json_loadb(p, n, 0, &je);
    if (!ev) return fail(d, -EPROTO, "watch event %s (column %d)", je.text, je.column);
    json_t *type = json_object_get(ev, "type"), *obj = json_object_get(ev, "object");
    if (!json_is_object(ev) || !json_is_string(type) || !json_is_object(obj)) {
        json_decref(ev);
        return fail(d, -EPROTO, "watch event is not {\"type\":string,\"object\":{...}}");
    }
    const char *ts = json_string_value(type);
    int t = -1;
    for (int i = 0; i < (int)(sizeof TYPE_NAMES / sizeof TYPE_NAMES[0]); i++)
        if (strcmp(ts, TYPE_NAMES[i]) == 0) t = i;
    if (t < 0) {
        fail(d, -EPROTO, "watch event has unknown type \"%.64s\"", ts);
        json_decref(ev);
        return d->failed;
    }
    json_incref(obj);
    json_decref(ev);
    d->events++;
    int rc = d->fn ? d->fn((kube_watch_type_t)t, obj, d->ud) : (json_decref(obj), 0);
    if (rc) {
        d->failed = rc;
        d->len = 0;
    }
    return rc;
}

static int append(kube_watch_decoder_t *d, const char *p, size_t n)
{
    if (d->len + n > d->max_line)
        return fail(d, -EMSGSIZE, "watch event longer than %zu bytes", d->max_line);
    if (d->len + n > d->cap) {
        size_t cap = d->cap ? d->cap : 4096;
        while (cap < d->len + n)
            cap *= 2;
        char *nb = realloc(d->buf, cap);
        if (!nb) return fail(d, -ENOMEM, "out of memory");
        d->buf = nb;
        d->cap = cap;
    }
    memcpy(d->buf + d->len, p, n);
    d->len += n;
    return 0;
}

int kube_watch_decoder_feed(kube_watch_decoder_t *d, const char *data, size_t len)
{
    if (d->failed) return d->failed;
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        if (!nl) return append(d, data, len);
        size_t n = (size_t)(nl - data);
        int rc;
        if (d->len == 0) {
            if (n > d->max_line)
                return fail(d, -EMSGSIZE, "watch event longer than %zu bytes", d->max_line);
            rc = decode_line(d, data, n);
        } else {
            rc = append(d, data, n);
            if (rc) return rc;
            size_t total = d->len;
            d->len = 0; /* the buffer stays valid until the next append */
            rc = decode_line(d, d->buf, total);
        }
        if (rc) return rc;
        data = nl + 1;
        len -= n + 1;
    }
    return 0;
}

int kube_watch_decoder_finish(kube_watch_decoder_t *d)
{
    if (d->failed) return d->failed;
    if (d->len == 0 || blank(d->buf, d->len)) {
        d->len = 0;
        return 0;
    }
    size_t n = d->len;
    d->len = 0;
    json_t *probe = json_loadb(d->buf, n, 0, NULL);
    if (!probe) return fail(d, -EPROTO, "truncated watch event at end of stream");
    json_decref(probe);
    return decode_line(d, d->buf, n);
}
