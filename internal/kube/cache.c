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
    /* key -> index entries of its object (["o<uid>", "l<k>=<v>", ...]), so an object leaves the
     * indexes without being decoded */
    json_t *ikeys;
    char **labels; /* indexed label keys, NULL-terminated */
};

typedef struct delta {
    kube_delta_t kind;
    json_t *old_obj, *new_obj; /* references: trees, or packed forms decoded when emitted */
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
    c->ikeys = json_object();
    if (!c->labels || !c->objs || !c->by_owner || !c->by_label || !c->ikeys) goto oom;
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
    json_decref(c->ikeys);
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
    json_decref(c->ikeys);
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
json_t *kube_cache_pack(json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT); /* one encoding pass */
    if (!text) cache_oom();
    json_t *s = json_stringn_nocheck(text, strlen(text));
    free(text);
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
        if (!set || json_object_set_new(index, ikey, set)) cache_oom();
    }
    if (json_object_set_new(set, key, json_true())) cache_oom();
}

static void set_del(json_t *index, const char *ikey, const char *key)
{
    json_t *set = json_object_get(index, ikey);
    if (!set) return;
    json_object_del(set, key);
    if (json_object_size(set) == 0) json_object_del(index, ikey);
}

/* The index entries of obj: "o<uid>" per owner reference, "l<key>=<value>" per indexed label. */
static json_t *index_entries(kube_cache_t *c, json_t *obj)
{
    json_t *out = json_array();
    if (!out) cache_oom();
    json_t *refs = jsonx_get(obj, "metadata.ownerReferences");
    size_t i;
    json_t *ref;
    json_array_foreach(refs, i, ref)
    {
        const char *uid = jsonx_str(ref, "uid", NULL);
        if (uid && *uid) json_array_append_new(out, json_sprintf("o%s", uid));
    }
    json_t *labels = jsonx_get(obj, "metadata.labels");
    if (json_is_object(labels))
        for (char **l = c->labels; *l; l++) {
            const char *v = json_string_value(json_object_get(labels, *l));
            if (v) json_array_append_new(out, json_sprintf("l%s=%s", *l, v));
        }
    return out;
}

/* Enters key's entries (stolen) in the indexes, replacing what key had. */
static void index_set(kube_cache_t *c, const char *key, json_t *entries)
{
    json_t *old = json_object_get(c->ikeys, key);
    size_t i;
    json_t *e;
    json_array_foreach(old, i, e)
    {
        const char *s = json_string_value(e);
        set_del(s[0] == 'o' ? c->by_owner : c->by_label, s + 1, key);
    }
    if (!entries) {
        json_object_del(c->ikeys, key);
        return;
    }
    json_array_foreach(entries, i, e)
    {
        const char *s = json_string_value(e);
        set_add(s[0] == 'o' ? c->by_owner : c->by_label, s + 1, key);
    }
    if (json_object_set_new(c->ikeys, key, entries)) cache_oom();
}

/* ---- deltas ---- */

static void deltas_push(deltas_t *d, kube_delta_t kind, json_t *old_obj, json_t *new_obj)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        delta_t *nv = realloc(d->v, cap * sizeof *nv);
        if (!nv) cache_oom(); /* a lost delta would be a silent drop */
        d->v = nv;
        d->cap = cap;
    }
    d->v[d->n++] = (delta_t){kind, json_incref(old_obj), json_incref(new_obj)};
}

/* A tree for a delta side: packed forms are decoded now (one object at a time). */
static json_t *materialize(json_t *v)
{
    return json_is_string(v) ? unpack(v) : json_incref(v);
}

static void deltas_emit(deltas_t *d, kube_delta_fn fn, void *ud)
{
    for (size_t i = 0; i < d->n; i++) {
        if (fn) {
            json_t *o = materialize(d->v[i].old_obj), *n = materialize(d->v[i].new_obj);
            fn(d->v[i].kind, o, n, ud);
            json_decref(o);
            json_decref(n);
        }
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

/* Records the deltas of old -> obj for one key (old may be NULL). */
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
    json_t *packed = kube_cache_pack(obj);
    json_t *entries = index_entries(c, obj);
    deltas_t d = {0};
    pthread_rwlock_wrlock(&c->lock);
    json_t *old_obj = unpack(json_object_get(c->objs, key));
    diff_one(&d, old_obj, obj);
    index_set(c, key, entries);
    if (json_object_set_new(c->objs, key, packed)) cache_oom();
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
        index_set(c, key, NULL);
        /* the event's object is the newest state; a stale one (other uid) reports the cached */
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

/* One item of a replace, reduced to what the diff and the indexes need. */
typedef struct fresh {
    char *key, *uid, *rv;
    json_t *packed, *entries;
} fresh_t;

int kube_cache_replace(kube_cache_t *c, json_t *items, kube_delta_fn fn, void *ud)
{
    /* Reduce every item to its packed form and a few fields, one decoded tree at a time, so a
     * list of 10,000 objects never exists as 10,000 trees at once. */
    size_t n = json_array_size(items), nf = 0;
    fresh_t *f = calloc(n ? n : 1, sizeof *f);
    json_t *pos = json_object(); /* key -> index into f (later duplicates win) */
    if (!f || !pos) cache_oom();
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_t *tree = materialize(it);
        char *key = json_is_object(tree) ? kube_object_key(tree) : NULL;
        if (!key) {
            json_decref(tree);
            continue;
        }
        json_t *prev = json_object_get(pos, key);
        size_t at = prev ? (size_t)json_integer_value(prev) : nf++;
        if (prev) {
            free(f[at].key);
            free(f[at].uid);
            free(f[at].rv);
            json_decref(f[at].packed);
            json_decref(f[at].entries);
        }
        f[at] = (fresh_t){
            .key = key,
            .uid = strdup(jsonx_str(tree, "metadata.uid", "")),
            .rv = strdup(jsonx_str(tree, "metadata.resourceVersion", "")),
            .packed = json_is_string(it) ? json_incref(it) : kube_cache_pack(tree),
            .entries = index_entries(c, tree),
        };
        if (!f[at].uid || !f[at].rv || json_object_set_new(pos, key, json_integer((json_int_t)at)))
            cache_oom();
        json_decref(tree);
    }
    json_decref(items);

    deltas_t dels = {0}, rest = {0};
    json_t *stored = json_object();
    if (!stored) cache_oom();
    pthread_rwlock_wrlock(&c->lock);
    const char *key;
    json_t *packed;
    json_object_foreach(c->objs, key, packed)
    {
        if (!json_object_get(pos, key)) deltas_push(&dels, KUBE_DELTA_DELETE, packed, NULL);
    }
    for (i = 0; i < nf; i++) {
        json_t *old = json_object_get(c->objs, f[i].key);
        json_t *keep = f[i].packed;
        if (!old) {
            deltas_push(&rest, KUBE_DELTA_ADD, NULL, f[i].packed);
        } else if (json_equal(old, f[i].packed)) { /* same text: unchanged, nothing to decode */
            keep = old;
        } else {
            json_t *o = unpack(old);
            const char *ouid = jsonx_str(o, "metadata.uid", "");
            bool same = !*ouid || !*f[i].uid || strcmp(ouid, f[i].uid) == 0;
            if (!same) {
                deltas_push(&dels, KUBE_DELTA_DELETE, old, NULL);
                deltas_push(&rest, KUBE_DELTA_ADD, NULL, f[i].packed);
            } else if (strcmp(jsonx_str(o, "metadata.resourceVersion", ""), f[i].rv) != 0) {
                deltas_push(&rest, KUBE_DELTA_UPDATE, old, f[i].packed);
            } else {
                keep = old; /* same version: keep what is cached */
            }
            json_decref(o);
        }
        if (json_object_set(stored, f[i].key, keep)) cache_oom();
    }
    json_decref(c->objs);
    c->objs = stored;
    json_object_clear(c->by_owner);
    json_object_clear(c->by_label);
    json_object_clear(c->ikeys);
    for (i = 0; i < nf; i++) {
        index_set(c, f[i].key, f[i].entries); /* steals entries */
        f[i].entries = NULL;
    }
    pthread_rwlock_unlock(&c->lock);
    for (i = 0; i < nf; i++) {
        free(f[i].key);
        free(f[i].uid);
        free(f[i].rv);
        json_decref(f[i].packed);
    }
    free(f);
    json_decref(pos);
    /* deletes first, then adds and updates */
    for (i = 0; i < rest.n; i++)
        deltas_push(&dels, rest.v[i].kind, rest.v[i].old_obj, rest.v[i].new_obj);
    for (i = 0; i < rest.n; i++) {
        json_decref(rest.v[i].old_obj);
        json_decref(rest.v[i].new_obj);
    }
    free(rest.v);
    deltas_emit(&dels, fn, ud);
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

size_t kube_cache_count(kube_cache_t *c)
{
    pthread_rwlock_rdlock(&c->lock);
    size_t n = json_object_size(c->objs);
    pthread_rwlock_unlock(&c->lock);
    return n;
}

static bool label_indexed(kube_cache_t *c, const char *key)
{
    for (char **l = c->labels; *l; l++)
        if (strcmp(*l, key) == 0) return true;
    return false;
}

/* The packed forms of the selected objects, as a new array (taken under the read lock, decoded
 * later without it): all objects (kind 0), by owner uid ('o'), by an indexed label ('l'). */
static json_t *select_packed(kube_cache_t *c, char kind, const char *ikey)
{
    json_t *a = json_array();
    if (!a) cache_oom();
    pthread_rwlock_rdlock(&c->lock);
    const char *key;
    json_t *v;
    if (!kind) {
        json_object_foreach(c->objs, key, v) json_array_append(a, v);
    } else {
        json_t *set = json_object_get(kind == 'o' ? c->by_owner : c->by_label, ikey);
        json_object_foreach(set, key, v)
        {
            json_t *p = json_object_get(c->objs, key);
            if (p) json_array_append(a, p);
        }
    }
    pthread_rwlock_unlock(&c->lock);
    return a;
}

/* Decodes the packed forms one at a time; objects whose label key is not value are skipped when
 * key is set (a scan of a label that is not indexed). Stops when fn returns nonzero. */
static size_t visit(json_t *packed, const char *label, const char *value, kube_visit_fn fn,
                    void *ud)
{
    size_t i, n = 0;
    json_t *p;
    json_array_foreach(packed, i, p)
    {
        json_t *o = unpack(p);
        if (label) {
            const char *v =
                json_string_value(json_object_get(jsonx_get(o, "metadata.labels"), label));
            if (!v || strcmp(v, value) != 0) {
                json_decref(o);
                continue;
            }
        }
        n++;
        int stop = fn(o, ud);
        json_decref(o);
        if (stop) break;
    }
    json_decref(packed);
    return n;
}

size_t kube_cache_foreach(kube_cache_t *c, kube_visit_fn fn, void *ud)
{
    return visit(select_packed(c, 0, NULL), NULL, NULL, fn, ud);
}

size_t kube_cache_foreach_by_owner(kube_cache_t *c, const char *owner_uid, kube_visit_fn fn,
                                   void *ud)
{
    return visit(select_packed(c, 'o', owner_uid ? owner_uid : ""), NULL, NULL, fn, ud);
}

size_t kube_cache_foreach_by_label(kube_cache_t *c, const char *key, const char *value,
                                   kube_visit_fn fn, void *ud)
{
    if (!label_indexed(c, key)) return visit(select_packed(c, 0, NULL), key, value, fn, ud);
    char *ik = NULL;
    if (asprintf(&ik, "%s=%s", key, value) < 0) cache_oom();
    size_t n = visit(select_packed(c, 'l', ik), NULL, NULL, fn, ud);
    free(ik);
    return n;
}

static int collect(json_t *obj, void *ud)
{
    json_array_append(ud, obj);
    return 0;
}

json_t *kube_cache_list(kube_cache_t *c)
{
    json_t *a = json_array();
    kube_cache_foreach(c, collect, a);
    return a;
}

json_t *kube_cache_by_owner(kube_cache_t *c, const char *owner_uid)
{
    json_t *a = json_array();
    kube_cache_foreach_by_owner(c, owner_uid, collect, a);
    return a;
}

json_t *kube_cache_by_label(kube_cache_t *c, const char *key, const char *value)
{
    json_t *a = json_array();
    kube_cache_foreach_by_label(c, key, value, collect, a);
    return a;
}
