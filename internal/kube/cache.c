/* cache: the informer's keyed store (uid checks, replace with synthetic
 * deletes) and its owner-uid and label indexes under one rwlock; also the
 * object key and the default transform. Objects are kept as compact JSON text
 * (about 1 KiB per pod instead of about 9 KiB as jansson trees) and decoded on
 * each read. Deltas are collected under the lock and handed to the caller's
 * function after it is released. */
#include "kube/cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "kube/informer.h"

struct kube_cache {
    pthread_rwlock_t lock;
    json_t *objs;     /* key -> compact JSON text of the object (a JSON string) */
    json_t *by_owner; /* owner uid -> {key: true} */
    json_t *by_label; /* "k=v" -> {key: true} */
    char **labels;    /* indexed label keys, NULL-terminated */
};

typedef struct delta {
    kube_delta_t kind;
    json_t *old_obj, *new_obj; /* references */
} delta_t;

typedef struct deltas {
    delta_t *v;
    size_t n, cap;
} deltas_t;

char *kube_object_key(json_t *obj)
{
    const char *name = jsonx_str(obj, "metadata.name", NULL);
    if (!name || !*name) return NULL;
    const char *ns = jsonx_str(obj, "metadata.namespace", "");
    char *key;
    if (*ns) {
        if (asprintf(&key, "%s/%s", ns, name) < 0) return NULL;
        return key;
    }
    return strdup(name);
}

json_t *kube_cache_default_transform(json_t *obj, void *ud)
{
    json_t *md = json_object_get(obj, "metadata");
    if (json_is_object(md)) json_object_del(md, "managedFields");
    return obj;
}

kube_cache_t *kube_cache_new(const char *const *index_labels)
{
    kube_cache_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    size_t n = 0;
    while (index_labels && index_labels[n])
        n++;
    c->labels = calloc(n + 1, sizeof *c->labels);
    c->objs = json_object();
    c->by_owner = json_object();
    c->by_label = json_object();
    if (!c->labels || !c->objs || !c->by_owner || !c->by_label) goto oom;
    for (size_t i = 0; i < n; i++)
        if (!(c->labels[i] = strdup(index_labels[i]))) goto oom;
    pthread_rwlock_init(&c->lock, NULL);
    return c;
oom:
    if (c->labels)
        for (size_t i = 0; i < n; i++)
            free(c->labels[i]);
    free(c->labels);
    json_decref(c->objs);
    json_decref(c->by_owner);
    json_decref(c->by_label);
    free(c);
    return NULL;
}

void kube_cache_free(kube_cache_t *c)
{
    if (!c) return;
    pthread_rwlock_destroy(&c->lock);
    for (char **l = c->labels; *l; l++)
        free(*l);
    free(c->labels);
    json_decref(c->objs);
    json_decref(c->by_owner);
    json_decref(c->by_label);
    free(c);
}

/* ---- stored form ---- */

/* Out of memory while storing or decoding an object: going on would drop an event or report a
 * cached object as deleted, with nobody told. Abort, as strbuf does. */
static void cache_oom(void)
{
    fputs("kube cache: out of memory\n", stderr);
    abort();
}

/* The stored form of obj: its compact JSON text as a jansson string (no UTF-8
 * re-check: jansson produced it). Aborts on OOM. */
static json_t *pack(json_t *obj)
{
    size_t len = json_dumpb(obj, NULL, 0, JSON_COMPACT);
    if (len == 0) cache_oom(); /* an object always has text ("{}" at least) */
    char *buf = malloc(len);
    if (!buf) cache_oom();
    json_dumpb(obj, buf, len, JSON_COMPACT);
    json_t *s = json_stringn_nocheck(buf, len);
    free(buf);
    if (!s) cache_oom();
    return s;
}

/* A fresh tree decoded from a stored form (caller owns it); NULL if packed is
 * NULL. The text was written by pack, so it always decodes: a failure is OOM and aborts. */
static json_t *unpack(json_t *packed)
{
    if (!packed) return NULL;
    json_t *o = json_loadb(json_string_value(packed), json_string_length(packed), 0, NULL);
    if (!o) cache_oom();
    return o;
}

/* ---- indexes (callers hold the write lock) ---- */

static void set_add(json_t *index, const char *ikey, const char *key)
{
    json_t *set = json_object_get(index, ikey);
    if (!set) {
        set = json_object();
        json_object_set_new(index, ikey, set);
    }
    json_object_set_new(set, key, json_true());
}

static void set_del(json_t *index, const char *ikey, const char *key)
{
    json_t *set = json_object_get(index, ikey);
    if (!set) return;
    json_object_del(set, key);
    if (json_object_size(set) == 0) json_object_del(index, ikey);
}

static void index_obj(kube_cache_t *c, const char *key, json_t *obj, bool add)
{
    json_t *refs = jsonx_get(obj, "metadata.ownerReferences");
    size_t i;
    json_t *ref;
    json_array_foreach(refs, i, ref)
    {
        const char *uid = jsonx_str(ref, "uid", NULL);
        if (!uid || !*uid) continue;
        if (add)
            set_add(c->by_owner, uid, key);
        else
            set_del(c->by_owner, uid, key);
    }
    json_t *labels = jsonx_get(obj, "metadata.labels");
    if (!json_is_object(labels)) return;
    for (char **l = c->labels; *l; l++) {
        const char *v = json_string_value(json_object_get(labels, *l));
        if (!v) continue;
        char *ik;
        if (asprintf(&ik, "%s=%s", *l, v) < 0) continue;
        if (add)
            set_add(c->by_label, ik, key);
        else
            set_del(c->by_label, ik, key);
        free(ik);
    }
}

/* ---- deltas ---- */

static void deltas_push(deltas_t *d, kube_delta_t kind, json_t *old_obj, json_t *new_obj)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        delta_t *nv = realloc(d->v, cap * sizeof *nv);
        if (!nv) abort(); /* a lost delta would be a silent drop */
        d->v = nv;
        d->cap = cap;
    }
    d->v[d->n++] = (delta_t){kind, json_incref(old_obj), json_incref(new_obj)};
}

static void deltas_emit(deltas_t *d, kube_delta_fn fn, void *ud)
{
    for (size_t i = 0; i < d->n; i++) {
        if (fn) fn(d->v[i].kind, d->v[i].old_obj, d->v[i].new_obj, ud);
        json_decref(d->v[i].old_obj);
        json_decref(d->v[i].new_obj);
    }
    free(d->v);
}

static bool same_uid(json_t *a, json_t *b)
{
    const char *ua = jsonx_str(a, "metadata.uid", ""), *ub = jsonx_str(b, "metadata.uid", "");
    return !*ua || !*ub || strcmp(ua, ub) == 0;
}

/* Records the deltas of old -> obj for one key (either may be NULL). */
static void diff_one(deltas_t *d, json_t *old_obj, json_t *obj)
{
    if (!old_obj) {
        deltas_push(d, KUBE_DELTA_ADD, NULL, obj);
    } else if (!same_uid(old_obj, obj)) {
        deltas_push(d, KUBE_DELTA_DELETE, old_obj, NULL);
        deltas_push(d, KUBE_DELTA_ADD, NULL, obj);
    } else {
        deltas_push(d, KUBE_DELTA_UPDATE, old_obj, obj);
    }
}

int kube_cache_upsert(kube_cache_t *c, json_t *obj, kube_delta_fn fn, void *ud)
{
    char *key = kube_object_key(obj);
    if (!key) {
        json_decref(obj);
        return -EINVAL;
    }
    json_t *packed = pack(obj);
    if (!packed) {
        free(key);
        json_decref(obj);
        return -ENOMEM;
    }
    deltas_t d = {0};
    pthread_rwlock_wrlock(&c->lock);
    json_t *old_obj = unpack(json_object_get(c->objs, key));
    diff_one(&d, old_obj, obj);
    if (old_obj) index_obj(c, key, old_obj, false);
    index_obj(c, key, obj, true);
    json_object_set_new(c->objs, key, packed);
    pthread_rwlock_unlock(&c->lock);
    free(key);
    json_decref(old_obj); /* the deltas hold references */
    json_decref(obj);
    deltas_emit(&d, fn, ud);
    return 0;
}

int kube_cache_remove(kube_cache_t *c, json_t *obj, kube_delta_fn fn, void *ud)
{
    char *key = kube_object_key(obj);
    if (!key) return -EINVAL;
    deltas_t d = {0};
    pthread_rwlock_wrlock(&c->lock);
    json_t *old_obj = unpack(json_object_get(c->objs, key));
    if (old_obj) {
        index_obj(c, key, old_obj, false);
        /* the event's object is the newest state; a stale one (other uid) reports
         * the cached */
        deltas_push(&d, KUBE_DELTA_DELETE, same_uid(old_obj, obj) ? obj : old_obj, NULL);
        json_object_del(c->objs, key);
    }
    pthread_rwlock_unlock(&c->lock);
    json_decref(old_obj);
    free(key);
    int rc = d.n ? 0 : -ENOENT;
    deltas_emit(&d, fn, ud);
    return rc;
}

int kube_cache_replace(kube_cache_t *c, json_t *items, kube_delta_fn fn, void *ud)
{
    json_t *fresh = json_object(); /* key -> tree from items */
    size_t i;
    json_t *obj;
    json_array_foreach(items, i, obj)
    {
        char *key = kube_object_key(obj);
        if (!key) continue;
        json_object_set(fresh, key, obj);
        free(key);
    }
    json_decref(items);
    deltas_t d = {0};
    json_t *stored = json_object(); /* key -> packed */
    pthread_rwlock_wrlock(&c->lock);
    const char *key;
    json_t *packed;
    json_object_foreach(c->objs, key, packed)
    {
        if (json_object_get(fresh, key)) continue;
        json_t *old_obj = unpack(packed);
        deltas_push(&d, KUBE_DELTA_DELETE, old_obj, NULL);
        json_decref(old_obj);
    }
    json_t *olds = json_object(); /* key -> decoded cached tree, for keys in both */
    json_object_foreach(fresh, key, obj)
    {
        json_t *old_obj = unpack(json_object_get(c->objs, key));
        if (!old_obj) continue;
        if (!same_uid(old_obj, obj)) deltas_push(&d, KUBE_DELTA_DELETE, old_obj, NULL);
        json_object_set_new(olds, key, old_obj);
    }
    json_object_foreach(fresh, key, obj)
    {
        json_t *old_obj = json_object_get(olds, key);
        if (!old_obj || !same_uid(old_obj, obj)) {
            deltas_push(&d, KUBE_DELTA_ADD, NULL, obj);
        } else if (strcmp(jsonx_str(old_obj, "metadata.resourceVersion", ""),
                          jsonx_str(obj, "metadata.resourceVersion", "")) != 0) {
            deltas_push(&d, KUBE_DELTA_UPDATE, old_obj, obj);
        } else { /* unchanged: keep the stored text */
            json_object_set(stored, key, json_object_get(c->objs, key));
            continue;
        }
        json_t *p = pack(obj);
        if (!p) abort(); /* out of memory: a dropped object would be a silent loss */
        json_object_set_new(stored, key, p);
    }
    json_decref(c->objs);
    c->objs = stored;
    json_object_clear(c->by_owner);
    json_object_clear(c->by_label);
    json_object_foreach(fresh, key, obj) index_obj(c, key, obj, true);
    pthread_rwlock_unlock(&c->lock);
    json_decref(olds);
    json_decref(fresh);
    deltas_emit(&d, fn, ud);
    return 0;
}

/* ---- reads ---- */

json_t *kube_cache_get(kube_cache_t *c, const char *key)
{
    pthread_rwlock_rdlock(&c->lock);
    json_t *o = unpack(json_object_get(c->objs, key));
    pthread_rwlock_unlock(&c->lock);
    return o;
}

json_t *kube_cache_list(kube_cache_t *c)
{
    pthread_rwlock_rdlock(&c->lock);
    json_t *a = json_array();
    const char *key;
    json_t *obj;
    json_object_foreach(c->objs, key, obj) json_array_append_new(a, unpack(obj));
    pthread_rwlock_unlock(&c->lock);
    return a;
}

size_t kube_cache_count(kube_cache_t *c)
{
    pthread_rwlock_rdlock(&c->lock);
    size_t n = json_object_size(c->objs);
    pthread_rwlock_unlock(&c->lock);
    return n;
}

static json_t *set_objects(kube_cache_t *c, json_t *set)
{
    json_t *a = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(set, key, v)
    {
        json_t *obj = unpack(json_object_get(c->objs, key));
        if (obj) json_array_append_new(a, obj);
    }
    return a;
}

json_t *kube_cache_by_owner(kube_cache_t *c, const char *owner_uid)
{
    pthread_rwlock_rdlock(&c->lock);
    json_t *a = set_objects(c, json_object_get(c->by_owner, owner_uid ? owner_uid : ""));
    pthread_rwlock_unlock(&c->lock);
    return a;
}

json_t *kube_cache_by_label(kube_cache_t *c, const char *key, const char *value)
{
    bool indexed = false;
    for (char **l = c->labels; *l && !indexed; l++)
        indexed = strcmp(*l, key) == 0;
    json_t *a;
    pthread_rwlock_rdlock(&c->lock);
    if (indexed) {
        char *ik = NULL;
        if (asprintf(&ik, "%s=%s", key, value) < 0) ik = NULL;
        a = set_objects(c, ik ? json_object_get(c->by_label, ik) : NULL);
        free(ik);
    } else {
        a = json_array();
        const char *k;
        json_t *obj;
        json_object_foreach(c->objs, k, obj)
        {
            json_t *o = unpack(obj);
            const char *v =
                json_string_value(json_object_get(jsonx_get(o, "metadata.labels"), key));
            if (v && strcmp(v, value) == 0)
                json_array_append_new(a, o);
            else
                json_decref(o);
        }
    }
    pthread_rwlock_unlock(&c->lock);
    return a;
}
