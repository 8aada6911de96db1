/* watch: one watch stream: the initial ADDED events or the replay from a resourceVersion, the
 * live fan-out with selector transitions (an object leaving the selector is DELETED), Table
 * events, bookmarks, timeoutSeconds, ERROR 410 for expired versions, and the fault knobs
 * (cut after K events, delivery delay). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/objops.h"
#include "apiserver/rest_internal.h"
#include "apiserver/table.h"
#include "base/jsonx.h"

typedef struct pending_chunk {
    uint64_t due_ms;
    char *data;
    size_t len;
    bool end; /* end the stream after this chunk */
    struct pending_chunk *next;
} pending_chunk_t;

typedef struct watch {
    rest_req_t r; /* copy; r.http is cleared when the connection goes away */
    char *version;
    label_selector_t *ls;
    field_selector_t *fs;
    bool bookmarks;
    bool table;
    bool table_defs_sent;
    table_include_t include;
    int events;
    bool ended; /* no more events will be written */
    store_watch_t *sw;
    uv_timer_t timeout_timer, bookmark_timer, delay_timer;
    int open_handles;
    pending_chunk_t *q_head, *q_tail;
} watch_t;

static void watch_maybe_free(watch_t *w)
{
    if (w->open_handles > 0 || w->r.http) return;
    while (w->q_head) {
        pending_chunk_t *p = w->q_head;
        w->q_head = p->next;
        free(p->data);
        free(p);
    }
    label_selector_free(w->ls);
    field_selector_free(w->fs);
    free(w->version);
    w->r.as->watch_count--;
    free(w);
}

static void on_handle_closed(uv_handle_t *h)
{
    watch_t *w = h->data;
    w->open_handles--;
    watch_maybe_free(w);
}

/* Stops producing events; closes timers. The HTTP request may still be open. */
static void watch_shutdown(watch_t *w)
{
    if (w->sw) {
        store_watch_remove(w->sw);
        w->sw = NULL;
    }
    if (!w->ended) {
        w->ended = true;
        uv_close((uv_handle_t *)&w->timeout_timer, on_handle_closed);
        uv_close((uv_handle_t *)&w->bookmark_timer, on_handle_closed);
        uv_close((uv_handle_t *)&w->delay_timer, on_handle_closed);
    }
}

/* Ends the HTTP stream (after pending chunks) and shuts the watch down. */
static void watch_finish(watch_t *w)
{
    if (w->r.http) {
        http_request_t *h = w->r.http;
        w->r.http = NULL;
        http_stream_end(h);
    }
    watch_shutdown(w);
    watch_maybe_free(w);
}

static void write_now(watch_t *w, const char *data, size_t len)
{
    if (!w->r.http) return;
    if (http_stream_write(w->r.http, data, len) != 0) return; /* close callback handles it */
    /* a consumer this far behind is cut, as the real watch cache does */
    if (http_stream_pending(w->r.http) > 64u * 1024 * 1024) watch_finish(w);
}

static uint64_t now_ms(watch_t *w)
{
    return uv_now(w->r.as->loop);
}

static void delay_fire(uv_timer_t *t);

static void schedule_delay(watch_t *w)
{
    if (!w->q_head || w->ended) return;
    uint64_t now = now_ms(w);
    uint64_t wait = w->q_head->due_ms > now ? w->q_head->due_ms - now : 0;
    uv_timer_start(&w->delay_timer, delay_fire, wait, 0);
}

static void delay_fire(uv_timer_t *t)
{
    watch_t *w = t->data;
    uint64_t now = now_ms(w);
    while (w->q_head && w->q_head->due_ms <= now && w->r.http) {
        pending_chunk_t *p = w->q_head;
        w->q_head = p->next;
        if (!w->q_head) w->q_tail = NULL;
        write_now(w, p->data, p->len);
        bool end = p->end;
        free(p->data);
        free(p);
        if (end) {
            watch_finish(w);
            return;
        }
    }
    schedule_delay(w);
}

/* Emits one line (stolen text, newline added); with a delay configured it is queued. */
static void emit(watch_t *w, char *text, bool end_after)
{
    size_t n = strlen(text);
    text = realloc(text, n + 2);
    text[n] = '\n';
    text[n + 1] = '\0';
    int delay = w->r.as->faults.watch_delay_ms;
    if (delay > 0 || w->q_head) {
        pending_chunk_t *p = calloc(1, sizeof *p);
        p->due_ms = now_ms(w) + (uint64_t)(delay > 0 ? delay : 0);
        p->data = text;
        p->len = n + 1;
        p->end = end_after;
        if (w->q_tail)
            w->q_tail->next = p;
        else
            w->q_head = p;
        w->q_tail = p;
        if (end_after && w->sw) {
            store_watch_remove(w->sw);
            w->sw = NULL;
        }
        if (w->q_head == p) schedule_delay(w);
        return;
    }
    write_now(w, text, n + 1);
    free(text);
    if (end_after) watch_finish(w);
}

static void emit_event(watch_t *w, const char *type, json_t *obj)
{
    json_t *o;
    if (w->table) {
        json_t *pres = objops_present(w->r.rt, w->version, obj);
        o = table_build(w->r.rt, restype_version(w->r.rt, w->version), &pres, 1, w->include,
                        !w->table_defs_sent, time(NULL));
        json_decref(pres);
        jsonx_set_new(o, "metadata.resourceVersion",
                      json_string(jsonx_str(obj, "metadata.resourceVersion", "")));
        w->table_defs_sent = true;
    } else {
        o = objops_present(w->r.rt, w->version, obj);
    }
    char *text;
    if (o == obj) {
        /* the stored object as is: every watcher of this event shares one encoding */
        size_t len;
        const char *ot = store_obj_text(w->r.as->store, obj, &len);
        text = malloc(len + strlen(type) + 32);
        sprintf(text, "{\"type\":\"%s\",\"object\":%s}", type, ot);
        json_decref(o);
    } else {
        json_t *ev = json_pack("{s:s,s:o}", "type", type, "object", o);
        text = jsonx_dump(ev);
        json_decref(ev);
    }
    w->events++;
    int cut = w->r.as->faults.watch_cut_after;
    emit(w, text, cut > 0 && w->events >= cut);
}

static void emit_bookmark(watch_t *w, bool initial_end)
{
    char av[300];
    if (w->r.rt->group[0])
        snprintf(av, sizeof av, "%s/%s", w->r.rt->group, w->version);
    else
        snprintf(av, sizeof av, "%s", w->version);
    char rvs[32];
    snprintf(rvs, sizeof rvs, "%llu", (unsigned long long)store_rv(w->r.as->store));
    json_t *md = json_pack("{s:s,s:n}", "resourceVersion", rvs, "creationTimestamp");
    if (initial_end)
        json_object_set_new(md, "annotations",
                            json_pack("{s:s}", "k8s.io/initial-events-end", "true"));
    json_t *ev = json_pack("{s:s,s:{s:s,s:s,s:o}}", "type", "BOOKMARK", "object", "kind",
                           w->r.rt->kind, "apiVersion", av, "metadata", md);
    emit(w, jsonx_dump(ev), false);
    json_decref(ev);
}

static void emit_expired(watch_t *w, uint64_t asked)
{
    char msg[128];
    snprintf(msg, sizeof msg, "too old resource version: %llu (%llu)", (unsigned long long)asked,
             (unsigned long long)store_history_floor(w->r.as->store));
    json_t *ev = json_pack("{s:s,s:{s:s,s:s,s:{},s:s,s:s,s:s,s:i}}", "type", "ERROR", "object",
                           "kind", "Status", "apiVersion", "v1", "metadata", "status", "Failure",
                           "message", msg, "reason", "Expired", "code", 410);
    emit(w, jsonx_dump(ev), true);
    json_decref(ev);
}

static bool matches(watch_t *w, json_t *obj)
{
    return obj && rest_obj_matches(&w->r, obj, w->ls, w->fs);
}

/* Delivers one store event through the selector-transition rules (§2.7.2). */
static void deliver(watch_t *w, const store_event_t *ev)
{
    if (w->ended || !w->sw) return;
    switch (ev->type) {
    case STORE_ADDED:
        if (matches(w, ev->obj)) emit_event(w, "ADDED", ev->obj);
        break;
    case STORE_MODIFIED: {
        bool now = matches(w, ev->obj), before = matches(w, ev->old);
        if (now && before)
            emit_event(w, "MODIFIED", ev->obj);
        else if (now)
            emit_event(w, "ADDED", ev->obj);
        else if (before)
            emit_event(w, "DELETED", ev->obj);
        break;
    }
    case STORE_DELETED:
        if (matches(w, ev->obj)) emit_event(w, "DELETED", ev->obj);
        break;
    }
}

static void on_store_event(const store_event_t *ev, void *ud)
{
    watch_t *w = ud;
    if (!ev) { /* the type went away (CRD deleted) */
        w->sw = NULL;
        if (w->q_head) {
            w->q_tail->end = true;
        } else {
            watch_finish(w);
        }
        return;
    }
    deliver(w, ev);
}

static void on_timeout(uv_timer_t *t)
{
    watch_t *w = t->data;
    if (w->q_head) {
        w->q_tail->end = true;
        if (w->sw) {
            store_watch_remove(w->sw);
            w->sw = NULL;
        }
        return;
    }
    watch_finish(w);
}

static void on_bookmark(uv_timer_t *t)
{
    watch_t *w = t->data;
    if (!w->ended && w->sw) emit_bookmark(w, false);
}

static void on_client_gone(http_request_t *req, void *ud)
{
    (void)req;
    watch_t *w = ud;
    w->r.http = NULL;
    watch_shutdown(w);
    watch_maybe_free(w);
}

static char *qv(rest_req_t *r, const char *k)
{
    return http_request_query(r->http, k);
}

void watch_serve(rest_req_t *r)
{
    kerr_t e = {0};
    label_selector_t *ls;
    field_selector_t *fs;
    if (rest_parse_selectors(r, &ls, &fs, &e)) {
        rest_reply_err(r->http, &e);
        kerr_clear(&e);
        return;
    }
    char *rvq = qv(r, "resourceVersion"), *bm = qv(r, "allowWatchBookmarks");
    char *to = qv(r, "timeoutSeconds"), *sie = qv(r, "sendInitialEvents");
    char *match = qv(r, "resourceVersionMatch");
    bool send_initial = sie && jsonx_query_bool(sie);
    bool bookmarks = bm && jsonx_query_bool(bm);
    int bad = 0;
    if (sie && *sie) {
        if (!match || strcmp(match, "NotOlderThan") != 0 || !bookmarks) bad = 1;
    } else if (match && *match) {
        bad = 2;
    }
    if (bad) {
        kerr_set(&e, 422, "Invalid",
                 bad == 1 ? "ListOptions.meta.k8s.io \"\" is invalid: [resourceVersionMatch: "
                            "Forbidden: sendInitialEvents requires setting resourceVersionMatch "
                            "to NotOlderThan, allowWatchBookmarks: Forbidden: sendInitialEvents "
                            "requires allowWatchBookmarks=true]"
                          : "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: "
                            "Forbidden: resourceVersionMatch is forbidden for watch");
        rest_reply_err(r->http, &e);
        kerr_clear(&e);
        label_selector_free(ls);
        field_selector_free(fs);
        free(rvq);
        free(bm);
        free(to);
        free(sie);
        free(match);
        return;
    }
    watch_t *w = calloc(1, sizeof *w);
    w->r = *r;
    w->version = strdup(r->version);
    w->r.version = w->version;
    w->ls = ls;
    w->fs = fs;
    w->bookmarks = bookmarks;
    w->table = rest_wants_table(r->http);
    char *inc = qv(r, "includeObject");
    w->include = TABLE_INCLUDE_METADATA;
    if (inc && strcmp(inc, "Object") == 0) w->include = TABLE_INCLUDE_OBJECT;
    if (inc && strcmp(inc, "None") == 0) w->include = TABLE_INCLUDE_NONE;
    free(inc);
    apiserver_t *as = r->as;
    as->watch_count++;
    uv_timer_init(as->loop, &w->timeout_timer);
    uv_timer_init(as->loop, &w->bookmark_timer);
    uv_timer_init(as->loop, &w->delay_timer);
    w->timeout_timer.data = w->bookmark_timer.data = w->delay_timer.data = w;
    w->open_handles = 3;
    http_request_on_close(r->http, on_client_gone, w);
    http_stream_start(r->http, 200, "application/json", NULL);

    long long timeout = to && *to ? atoll(to) : 0;
    if (timeout <= 0) timeout = 1800 + (long long)(arc4random_uniform(1800));
    uv_timer_start(&w->timeout_timer, on_timeout, (uint64_t)timeout * 1000, 0);
    if (bookmarks) {
        uint64_t iv = (uint64_t)(as->cfg.bookmark_interval_s ? as->cfg.bookmark_interval_s : 60);
        uv_timer_start(&w->bookmark_timer, on_bookmark, iv * 1000, iv * 1000);
    }

    bool from_now = !rvq || !*rvq || strcmp(rvq, "0") == 0;
    w->sw = store_watch_add(r->rt->coll, on_store_event, w);
    if (from_now || send_initial) {
        /* synthetic ADDED for every matching object (§2.7.1) */
        char prefix[300] = "";
        if (r->rt->namespaced && r->ns[0]) snprintf(prefix, sizeof prefix, "%s/", r->ns);
        size_t n;
        const char **keys = store_coll_keys(r->rt->coll, prefix[0] ? prefix : NULL, &n);
        json_t **objs = malloc((n + 1) * sizeof *objs);
        for (size_t i = 0; i < n; i++)
            objs[i] = json_incref(store_coll_get(r->rt->coll, keys[i]));
        free(keys);
        for (size_t i = 0; i < n; i++) {
            if (w->sw && !w->ended && matches(w, objs[i])) emit_event(w, "ADDED", objs[i]);
            json_decref(objs[i]);
        }
        free(objs);
        if (send_initial && w->sw && !w->ended) emit_bookmark(w, true);
    } else {
        char *endp;
        unsigned long long after = strtoull(rvq, &endp, 10);
        size_t idx;
        if (*endp) {
            store_watch_remove(w->sw);
            w->sw = NULL;
            json_t *ev = json_pack("{s:s,s:{s:s,s:s,s:{},s:s,s:s,s:s,s:i}}", "type", "ERROR",
                                   "object", "kind", "Status", "apiVersion", "v1", "metadata",
                                   "status", "Failure", "message", "invalid resource version",
                                   "reason", "BadRequest", "code", 400);
            emit(w, jsonx_dump(ev), true);
            json_decref(ev);
        } else if (store_history_seek(as->store, after, &idx) != 0) {
            emit_expired(w, after);
        } else {
            size_t len = store_history_len(as->store);
            for (size_t i = idx; i < len && w->sw && !w->ended; i++) {
                const store_event_t *ev = store_history_at(as->store, i);
                if (ev->coll == r->rt->coll) deliver(w, ev);
            }
        }
    }
    free(rvq);
    free(bm);
    free(to);
    free(sie);
    free(match);
}
