/* store: the object maps, the global resourceVersion, the change history (a ring buffer of
 * events sharing the immutable object trees) and the watcher lists of each collection. */
#include "apiserver/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct store_watch {
    store_coll_t *coll;
    store_watch_fn fn;
    void *ud;
    store_watch_t *prev, *next;
};

struct store_coll {
    json_t *objs; /* key -> object */
    int refs;     /* the store's reference + one per history event */
    bool dropped;
    store_watch_t *watches;
    /* sorted key cache, rebuilt after a change to the key set */
    const char **keys;
    size_t nkeys;
    bool keys_valid;
};

typedef struct hist_entry {
    store_event_t ev;
    time_t at;
} hist_entry_t;

struct store {
    uint64_t rv;
    uint64_t floor;
    size_t max_events, cap_default;
    unsigned max_age;
    hist_entry_t *ring;
    size_t cap, head, len; /* ring[head] is the oldest */
    unsigned rng;
    json_t *text_obj; /* the one-entry encode cache (own reference) */
    char *text;
    size_t text_len;
};

static void coll_release(store_coll_t *c)
{
    if (--c->refs > 0) return;
    json_decref(c->objs);
    free(c->keys);
    free(c);
}

store_t *store_new(size_t max_events, unsigned max_age_s)
{
    store_t *s = calloc(1, sizeof *s);
    s->cap_default = max_events ? max_events : 100000;
    s->max_events = s->cap_default;
    s->max_age = max_age_s ? max_age_s : 150;
    s->cap = 1024;
    s->ring = calloc(s->cap, sizeof *s->ring);
    s->rng = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)s;
    /* Real resourceVersions are large etcd revisions: start somewhere in the millions. */
    s->rv = 1000000 + (uint64_t)(rand_r(&s->rng) % 9000000);
    s->floor = s->rv;
    return s;
}

static void hist_pop(store_t *s)
{
    hist_entry_t *h = &s->ring[s->head];
    s->floor = h->ev.rv;
    json_decref(h->ev.obj);
    json_decref(h->ev.old);
    free(h->ev.key);
    coll_release(h->ev.coll);
    memset(h, 0, sizeof *h);
    s->head = (s->head + 1) % s->cap;
    s->len--;
}

const char *store_obj_text(store_t *s, json_t *obj, size_t *len)
{
    if (obj != s->text_obj || !s->text) {
        json_decref(s->text_obj);
        free(s->text);
        s->text_obj = json_incref(obj);
        s->text = json_dumps(obj, JSON_COMPACT);
        s->text_len = s->text ? strlen(s->text) : 0;
    }
    *len = s->text_len;
    return s->text ? s->text : "null";
}

void store_free(store_t *s)
{
    if (!s) return;
    json_decref(s->text_obj);
    free(s->text);
    while (s->len)
        hist_pop(s);
    free(s->ring);
    free(s);
}

uint64_t store_rv(const store_t *s)
{
    return s->rv;
}

uint64_t store_next_rv(store_t *s)
{
    s->rv += 1 + (uint64_t)(rand_r(&s->rng) % 4);
    return s->rv;
}

uint64_t store_history_floor(const store_t *s)
{
    return s->floor;
}

void store_set_retention(store_t *s, size_t max_events)
{
    s->max_events = max_events ? max_events : s->cap_default;
    while (s->len > s->max_events)
        hist_pop(s);
}

store_coll_t *store_coll_new(store_t *s)
{
    (void)s;
    store_coll_t *c = calloc(1, sizeof *c);
    c->objs = json_object();
    c->refs = 1;
    return c;
}

void store_coll_drop(store_t *s, store_coll_t *c)
{
    (void)s;
    c->dropped = true;
    while (c->watches) {
        store_watch_t *w = c->watches;
        store_watch_fn fn = w->fn;
        void *ud = w->ud;
        store_watch_remove(w);
        fn(NULL, ud);
    }
    json_object_clear(c->objs);
    c->keys_valid = false;
    coll_release(c);
}

size_t store_coll_count(const store_coll_t *c)
{
    return json_object_size(c->objs);
}

json_t *store_coll_get(const store_coll_t *c, const char *key)
{
    return json_object_get(c->objs, key);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **store_coll_keys(const store_coll_t *cc, const char *prefix, size_t *n)
{
    store_coll_t *c = (store_coll_t *)cc;
    if (!c->keys_valid) {
        free(c->keys);
        c->nkeys = json_object_size(c->objs);
        c->keys = malloc((c->nkeys + 1) * sizeof *c->keys);
        size_t i = 0;
        const char *k;
        json_t *v;
        json_object_foreach(c->objs, k, v) c->keys[i++] = k;
        qsort(c->keys, c->nkeys, sizeof *c->keys, cmp_str);
        c->keys_valid = true;
    }
    size_t lo = 0, hi = c->nkeys, plen = prefix ? strlen(prefix) : 0;
    if (plen) {
        /* binary search the first key >= prefix, then take the run that starts with it */
        size_t a = 0, b = c->nkeys;
        while (a < b) {
            size_t m = (a + b) / 2;
            if (strcmp(c->keys[m], prefix) < 0)
                a = m + 1;
            else
                b = m;
        }
        lo = a;
        hi = lo;
        while (hi < c->nkeys && strncmp(c->keys[hi], prefix, plen) == 0)
            hi++;
    }
    const char **out = malloc((hi - lo + 1) * sizeof *out);
    memcpy(out, c->keys + lo, (hi - lo) * sizeof *out);
    *n = hi - lo;
    return out;
}

static void hist_push(store_t *s, const store_event_t *ev)
{
    time_t now = time(NULL);
    while (s->len && (s->len >= s->max_events || now - s->ring[s->head].at > (time_t)s->max_age))
        hist_pop(s);
    if (s->len == s->cap) {
        size_t ncap = s->cap * 2;
        hist_entry_t *nr = calloc(ncap, sizeof *nr);
        for (size_t i = 0; i < s->len; i++)
            nr[i] = s->ring[(s->head + i) % s->cap];
        free(s->ring);
        s->ring = nr;
        s->cap = ncap;
        s->head = 0;
    }
    hist_entry_t *h = &s->ring[(s->head + s->len) % s->cap];
    h->ev = *ev;
    h->at = now;
    s->len++;
}

void store_commit(store_t *s, store_coll_t *c, const char *key, store_ev_type_t type, uint64_t rv,
                  json_t *obj, json_t *ev_obj)
{
    json_t *old = json_object_get(c->objs, key);
    json_incref(old);
    bool keyset_changes = (old == NULL) != (obj == NULL);
    if (obj) {
        json_object_set(c->objs, key, obj);
    } else {
        json_object_del(c->objs, key);
    }
    if (keyset_changes) c->keys_valid = false;
    store_event_t ev = {.rv = rv,
                        .type = type,
                        .coll = c,
                        .key = strdup(key),
                        .obj = ev_obj ? ev_obj : json_incref(obj),
                        .old = old};
    json_decref(obj);
    c->refs++;
    hist_push(s, &ev);
    /* fan out; a callback may remove its own watch (or others'), so walk carefully */
    for (store_watch_t *w = c->watches, *next; w; w = next) {
        next = w->next;
        w->fn(&s->ring[(s->head + s->len - 1) % s->cap].ev, w->ud);
    }
}

int store_history_seek(const store_t *s, uint64_t after, size_t *idx)
{
    if (after < s->floor) return -ESTALE;
    size_t a = 0, b = s->len;
    while (a < b) {
        size_t m = (a + b) / 2;
        if (s->ring[(s->head + m) % s->cap].ev.rv <= after)
            a = m + 1;
        else
            b = m;
    }
    *idx = a;
    return 0;
}

size_t store_history_len(const store_t *s)
{
    return s->len;
}

const store_event_t *store_history_at(const store_t *s, size_t idx)
{
    return &s->ring[(s->head + idx) % s->cap].ev;
}

int store_coll_snapshot(const store_t *s, const store_coll_t *c, uint64_t rv, json_t **out)
{
    size_t idx;
    if (store_history_seek(s, rv, &idx) != 0) return -ESTALE;
    json_t *snap = json_copy(c->objs); /* shallow: values are shared immutable trees */
    json_t *seen = json_object();
    for (size_t i = idx; i < s->len; i++) {
        const store_event_t *ev = store_history_at(s, i);
        if (ev->coll != c || json_object_get(seen, ev->key)) continue;
        json_object_set_new(seen, ev->key, json_true());
        /* the first change after rv tells what the key held at rv */
        if (ev->old)
            json_object_set(snap, ev->key, ev->old);
        else
            json_object_del(snap, ev->key);
    }
    json_decref(seen);
    *out = snap;
    return 0;
}

store_watch_t *store_watch_add(store_coll_t *c, store_watch_fn fn, void *ud)
{
    store_watch_t *w = calloc(1, sizeof *w);
    w->coll = c;
    w->fn = fn;
    w->ud = ud;
    w->next = c->watches;
    if (c->watches) c->watches->prev = w;
    c->watches = w;
    return w;
}

void store_watch_remove(store_watch_t *w)
{
    if (!w) return;
    if (w->prev)
        w->prev->next = w->next;
    else
        w->coll->watches = w->next;
    if (w->next) w->next->prev = w->prev;
    free(w);
}
