/* jsonx: dotted-path access and small conveniences over jansson, plus Kubernetes timestamp
 * formats (Time with second precision, MicroTime with six fractional digits). */
#include "base/jsonx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

/* Walks path up to its last segment; returns the parent and points *last at the final key.
 * create=true makes missing intermediate objects. */
static json_t *walk(json_t *obj, const char *path, bool create, char *last, size_t lastlen)
{
    const char *p = path;
    json_t *cur = obj;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= lastlen) return NULL;
        memcpy(last, p, n);
        last[n] = '\0';
        if (!dot) return json_is_object(cur) ? cur : NULL;
        if (!json_is_object(cur)) return NULL;
        json_t *next = json_object_get(cur, last);
        if (!next && create) {
            next = json_object();
            json_object_set_new(cur, last, next);
        }
        if (!next) return NULL;
        cur = next;
        p = dot + 1;
    }
}

json_t *jsonx_get(json_t *obj, const char *path)
{
    char key[256];
    json_t *parent = walk(obj, path, false, key, sizeof key);
    return parent ? json_object_get(parent, key) : NULL;
}

const char *jsonx_str(json_t *obj, const char *path, const char *dflt)
{
    json_t *v = jsonx_get(obj, path);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

long long jsonx_int(json_t *obj, const char *path, long long dflt)
{
    json_t *v = jsonx_get(obj, path);
    if (json_is_integer(v)) return json_integer_value(v);
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == (double)(long long)d) return (long long)d;
    }
    return dflt;
}

bool jsonx_bool(json_t *obj, const char *path)
{
    return json_is_true(jsonx_get(obj, path));
}

int jsonx_set_new(json_t *obj, const char *path, json_t *value)
{
    char key[256];
    json_t *parent = walk(obj, path, true, key, sizeof key);
    if (!parent) {
        json_decref(value);
        return -EINVAL;
    }
    json_object_set_new(parent, key, value);
    return 0;
}

void jsonx_del(json_t *obj, const char *path)
{
    char key[256];
    json_t *parent = walk(obj, path, false, key, sizeof key);
    if (parent) json_object_del(parent, key);
}

json_t *jsonx_obj(json_t *obj, const char *path)
{
    json_t *v = jsonx_get(obj, path);
    if (json_is_object(v)) return v;
    if (v) return NULL;
    if (jsonx_set_new(obj, path, json_object()) != 0) return NULL;
    return jsonx_get(obj, path);
}

int jsonx_depth(json_t *v, int cap)
{
    if (!json_is_object(v) && !json_is_array(v)) return 0;
    if (cap <= 0) return 1;
    int best = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c)
        {
            int d = jsonx_depth(c, cap - 1);
            if (d > best) best = d;
            if (best > cap - 1) break;
        }
    } else {
        for (size_t i = 0; i < json_array_size(v); i++) {
            int d = jsonx_depth(json_array_get(v, i), cap - 1);
            if (d > best) best = d;
            if (best > cap - 1) break;
        }
    }
    return best + 1;
}

size_t jsonx_count(json_t *v, size_t cap)
{
    size_t n = 1;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c)
        {
            if (n > cap) break;
            n += jsonx_count(c, cap - n);
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v) && n <= cap; i++)
            n += jsonx_count(json_array_get(v, i), cap - n);
    }
    return n;
}

char *jsonx_dump(json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

void jsonx_time_format(time_t t, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void jsonx_microtime_now(char *buf, size_t len)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%06ldZ", base, (long)tv.tv_usec);
}

int jsonx_time_parse(const char *s, time_t *out)
{
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p) return -EINVAL;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return -EINVAL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2) return -EINVAL;
        off = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -EINVAL;
    }
    if (*p) return -EINVAL;
    *out = timegm(&tm) - off;
    return 0;
}

bool jsonx_query_bool(const char *value)
{
    if (!value) return false;
    return strcasecmp(value, "false") != 0 && strcmp(value, "0") != 0;
}
