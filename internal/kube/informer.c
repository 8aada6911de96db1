/* informer: the reflector loop of one resource type (client-go's reflector +
 * shared informer): paginated list into the cache, watch from the list's
 * resourceVersion with bookmarks, resume from the last version seen, relist on
 * 410, back-off on errors, handlers and metrics. Runs on one libuv loop through
 * curl_uv; the cache (cache.c) serves reads from any thread. */
#include "kube/informer.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "kube/cache.h"
#include "kube/curl_uv.h"
#include "kube/ratelimit.h"
#include "kube/watch_decoder.h"

#define LIST_TIMEOUT_MS    60000L
#define CONNECT_TIMEOUT_MS 10000L
#define WATCH_SLACK_S      30
#define SHORT_WATCH_S      1.0
#define MAX_BODY           ((size_t)512 << 20)

typedef enum phase { PHASE_IDLE, PHASE_LIST, PHASE_WATCH } phase_t;

struct kube_informer {
    uv_loop_t *loop;
    kube_client_t *client;
    const kube_resource_t *res;
    char *ns, *label_selector, *field_selector;
    int page_size;
    json_t *(*transform)(json_t *obj, void *ud);
    void *transform_ud;
    double resync_s;
    kube_informer_handlers_t h;
    char res_label[256];

    kube_cache_t *cache;
    kube_curl_uv_t *cm;
    uv_timer_t retry_timer, resync_timer;
    kube_backoff_t backoff;

    /* shared with readers */
    pthread_mutex_t mu;
    char last_rv[64];
    bool synced;
    kube_informer_stats_t stats;

    /* the transfer in progress (one at a time) */
    phase_t phase;
    CURL *easy;
    struct curl_slist *hdrs;
    strbuf_t body; /* a list page, or the body of a failed watch */
    long http_code;
    /* list */
    json_t *items;
    char *continue_tok;
    bool unpaged; /* the pager's fallback after an expired continue token */
    bool listed;  /* a list was applied once */
    bool waiting_logged;
    /* watch */
    kube_watch_decoder_t dec;
    double watch_start;
    unsigned long watch_events;
    int watch_end; /* 0 running, 1 relist (410), 2 error event, 3 decode error */
    char watch_msg[512];

    bool started, stopping;
    int open_handles;
    void (*done)(void *ud);
    void *done_ud;
    metric_t *m_restarts, *m_relists, *m_objects;
};

static void start_list(kube_informer_t *inf);
static void start_watch(kube_informer_t *inf);

/* ---------- helpers ---------- */

static char *dupz(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static void set_last_rv(kube_informer_t *inf, const char *rv)
{
    if (!rv || !*rv) return;
    pthread_mutex_lock(&inf->mu);
    snprintf(inf->last_rv, sizeof inf->last_rv, "%s", rv);
    pthread_mutex_unlock(&inf->mu);
}

static void note_restart(kube_informer_t *inf, const char *reason)
{
    char lv[320];
    snprintf(lv, sizeof lv, "%s,%s", inf->res_label, reason);
    metrics_add(inf->m_restarts, lv, 1);
    pthread_mutex_lock(&inf->mu);
    inf->stats.watch_restarts++;
    pthread_mutex_unlock(&inf->mu);
}

static void update_count(kube_informer_t *inf)
{
    metrics_set(inf->m_objects, inf->res_label, (double)kube_cache_count(inf->cache));
}

static void on_delta(kube_delta_t kind, json_t *old_obj, json_t *new_obj, void *ud)
{
    kube_informer_t *inf = ud;
    switch (kind) {
    case KUBE_DELTA_ADD:
        if (inf->h.on_add) inf->h.on_add(new_obj, inf->h.ud);
        break;
    case KUBE_DELTA_UPDATE:
        if (inf->h.on_update) inf->h.on_update(old_obj, new_obj, inf->h.ud);
        break;
    case KUBE_DELTA_DELETE:
        if (inf->h.on_delete) inf->h.on_delete(old_obj, inf->h.ud);
        break;
    }
}

static json_t *transform(kube_informer_t *inf, json_t *obj)
{
    return inf->transform ? inf->transform(obj, inf->transform_ud)
                          : kube_cache_default_transform(obj, NULL);
}

static void end_transfer(kube_informer_t *inf)
{
    if (inf->easy) {
        kube_curl_uv_remove(inf->cm, inf->easy); /* no-op once its done callback ran */
        curl_easy_cleanup(inf->easy);
        inf->easy = NULL;
    }
    curl_slist_free_all(inf->hdrs);
    inf->hdrs = NULL;
    strbuf_free(&inf->body);
    inf->phase = PHASE_IDLE;
}

static void on_retry_timer(uv_timer_t *t);

/* Waits for the back-off, then lists (relist) or watches. */
static void retry_later(kube_informer_t *inf, bool relist)
{
    double d = kube_backoff_next(&inf->backoff);
    inf->retry_timer.data = inf;
    inf->phase = relist ? PHASE_LIST : PHASE_WATCH; /* what to do when the timer fires */
    uv_timer_start(&inf->retry_timer, on_retry_timer, (uint64_t)(d * 1000), 0);
}

static void on_retry_timer(uv_timer_t *t)
{
    kube_informer_t *inf = t->data;
    if (inf->stopping) return;
    phase_t next = inf->phase;
    inf->phase = PHASE_IDLE;
    if (next == PHASE_WATCH)
        start_watch(inf);
    else
        start_list(inf);
}

/* Appends "&k=escaped(v)" when v is set. */
static void put_param(strbuf_t *b, CURL *easy, const char *k, const char *v)
{
    if (!v || !*v) return;
    char *e = curl_easy_escape(easy, v, 0);
    strbuf_printf(b, "&%s=%s", k, e ? e : "");
    curl_free(e);
}

/* A new easy handle for path + query; NULL on failure (logged). */
static CURL *new_easy(kube_informer_t *inf, const char *url)
{
    CURL *easy = curl_easy_init();
    if (!easy) return NULL;
    if (kube_client_setup_easy(inf->client, easy, url, &inf->hdrs) != 0) {
        curl_easy_cleanup(easy);
        curl_slist_free_all(inf->hdrs);
        inf->hdrs = NULL;
        return NULL;
    }
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L); /* a dead peer ends a quiet watch */
    return easy;
}

static long response_code(CURL *easy)
{
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

/* ---------- list ---------- */

static size_t on_list_body(char *p, size_t size, size_t nmemb, void *ud)
{
    kube_informer_t *inf = ud;
    size_t n = size * nmemb;
    if (inf->stopping || inf->body.n + n > MAX_BODY) return 0;
    strbuf_putn(&inf->body, p, n);
    return n;
}

static void list_page(kube_informer_t *inf);

static void list_failed(kube_informer_t *inf, const char *what, const kube_status_t *st)
{
    json_decref(inf->items);
    inf->items = NULL;
    free(inf->continue_tok);
    inf->continue_tok = NULL;
    if (st && kube_status_is_type_not_found(st)) {
        if (!inf->waiting_logged)
            log_info("waiting for resource type", "resource", inf->res_label, "message",
                     st->message);
        inf->waiting_logged = true;
    } else {
        log_warn("informer list failed", "resource", inf->res_label, "error", what);
    }
    retry_later(inf, true);
}

static void list_finish(kube_informer_t *inf, const char *rv)
{
    json_t *items = inf->items;
    inf->items = NULL;
    free(inf->continue_tok);
    inf->continue_tok = NULL;
    inf->unpaged = false;
    inf->waiting_logged = false;
    kube_cache_replace(inf->cache, items, on_delta, inf);
    /* The pages' trees are freed, but between the small blocks that stay (the cache's texts)
     * glibc keeps their pages resident: give the free pages back (tens of MB after a list of
     * 10,000 pods). glibc-specific, as the whole project is (Debian). */
    malloc_trim(0);
    pthread_mutex_lock(&inf->mu);
    snprintf(inf->last_rv, sizeof inf->last_rv, "%s", rv);
    inf->synced = true;
    inf->stats.lists++;
    if (inf->listed) inf->stats.relists++;
    pthread_mutex_unlock(&inf->mu);
    if (inf->listed) metrics_add(inf->m_relists, inf->res_label, 1);
    inf->listed = true;
    update_count(inf);
    log_debug("informer listed", "resource", inf->res_label, "resourceVersion", rv);
    start_watch(inf);
}

static void on_list_done(CURL *easy, CURLcode res, void *ud)
{
    kube_informer_t *inf = ud;
    if (res == CURLE_ABORTED_BY_CALLBACK || inf->stopping) return;
    long code = res == CURLE_OK ? response_code(easy) : 0;
    kube_client_note_response(inf->client, "GET", (int)code);
    strbuf_t body = inf->body;
    inf->body = (strbuf_t){0};
    end_transfer(inf);
    kube_status_t st;
    if (res != CURLE_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "transport: %s", curl_easy_strerror(res));
        strbuf_free(&body);
        return list_failed(inf, msg, NULL);
    }
    if (code != 200) {
        kube_status_decode((int)code, body.p ? body.p : "", body.n, &st);
        strbuf_free(&body);
        if (kube_status_is_expired(&st) && inf->continue_tok) {
            /* an expired continue token: list everything at once (client-go's pager)
             */
            log_info("informer list continue token expired, listing unpaged", "resource",
                     inf->res_label);
            json_decref(inf->items);
            inf->items = NULL;
            free(inf->continue_tok);
            inf->continue_tok = NULL;
            inf->unpaged = true;
            return start_list(inf);
        }
        return list_failed(inf, st.message, &st);
    }
    json_error_t je;
    json_t *page = json_loadb(body.p ? body.p : "", body.n, 0, &je);
    strbuf_free(&body);
    json_t *items = json_object_get(page, "items");
    const char *rv = jsonx_str(page, "metadata.resourceVersion", NULL);
    if (!json_is_object(page) || !(json_is_array(items) || json_is_null(items) || !items) || !rv) {
        char msg[300];
        snprintf(msg, sizeof msg, "list body is not a List: %s",
                 page ? "no items/resourceVersion" : je.text);
        json_decref(page);
        return list_failed(inf, msg, NULL);
    }
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (!json_is_object(it)) continue;
        /* stage the packed form: a relist of 10,000 objects never holds 10,000 trees */
        json_t *obj = transform(inf, json_incref(it));
        if (!obj) continue;
        json_t *packed = kube_cache_pack(obj);
        json_decref(obj);
        if (json_array_append_new(inf->items, packed) != 0) {
            json_decref(page);
            return list_failed(inf, "out of memory", NULL);
        }
    }
    const char *cont = jsonx_str(page, "metadata.continue", "");
    free(inf->continue_tok);
    inf->continue_tok = *cont ? strdup(cont) : NULL;
    if (inf->continue_tok) {
        json_decref(page);
        return list_page(inf);
    }
    char rvb[64];
    snprintf(rvb, sizeof rvb, "%s", rv);
    json_decref(page);
    list_finish(inf, rvb);
}

static void list_page(kube_informer_t *inf)
{
    char path[1024];
    if (kube_path(inf->res, inf->ns, NULL, NULL, path, sizeof path) != 0) {
        log_error("informer: path too long", "resource", inf->res_label);
        return;
    }
    strbuf_t url = {0};
    strbuf_puts(&url, path);
    CURL *easy = curl_easy_init();
    if (!easy) return retry_later(inf, true);
    if (inf->unpaged)
        strbuf_puts(&url, "?resourceVersion=");
    else
        strbuf_printf(&url, "?limit=%d", inf->page_size);
    put_param(&url, easy, "continue", inf->continue_tok);
    put_param(&url, easy, "labelSelector", inf->label_selector);
    put_param(&url, easy, "fieldSelector", inf->field_selector);
    curl_easy_cleanup(easy);
    inf->easy = new_easy(inf, strbuf_str(&url));
    strbuf_free(&url);
    if (!inf->easy) return list_failed(inf, "cannot set up the request", NULL);
    curl_easy_setopt(inf->easy, CURLOPT_WRITEFUNCTION, on_list_body);
    curl_easy_setopt(inf->easy, CURLOPT_WRITEDATA, inf);
    curl_easy_setopt(inf->easy, CURLOPT_TIMEOUT_MS, LIST_TIMEOUT_MS);
    inf->phase = PHASE_LIST;
    if (kube_curl_uv_add(inf->cm, inf->easy, on_list_done, inf) != 0) {
        curl_easy_cleanup(inf->easy);
        inf->easy = NULL;
        curl_slist_free_all(inf->hdrs);
        inf->hdrs = NULL;
        list_failed(inf, "cannot start the transfer", NULL);
    }
}

static void start_list(kube_informer_t *inf)
{
    if (inf->stopping) return;
    json_decref(inf->items);
    inf->items = json_array();
    free(inf->continue_tok);
    inf->continue_tok = NULL;
    /* no array to collect into: applying an empty list would delete everything cached */
    if (!inf->items) return list_failed(inf, "out of memory", NULL);
    list_page(inf);
}

/* ---------- watch ---------- */

static int on_event(kube_watch_type_t type, json_t *obj, void *ud)
{
    kube_informer_t *inf = ud;
    /* stopped by a handler while more events of this transfer were buffered: no handler runs
     * after kube_informer_stop (obj is ours, as the decoder hands it over) */
    if (inf->stopping) {
        json_decref(obj);
        return 1;
    }
    inf->watch_events++;
    pthread_mutex_lock(&inf->mu);
    inf->stats.events++;
    pthread_mutex_unlock(&inf->mu);
    char rv[64];
    snprintf(rv, sizeof rv, "%s", jsonx_str(obj, "metadata.resourceVersion", ""));
    switch (type) {
    case KUBE_WATCH_ADDED:
    case KUBE_WATCH_MODIFIED: {
        json_t *t = transform(inf, obj);
        if (t && kube_cache_upsert(inf->cache, t, on_delta, inf) != 0)
            log_warn("informer: watch event object without a name", "resource", inf->res_label);
        break;
    }
    case KUBE_WATCH_DELETED: {
        json_t *t = transform(inf, obj); /* handlers see the same shape as cached objects */
        if (t) kube_cache_remove(inf->cache, t, on_delta, inf);
        json_decref(t);
        break;
    }
    case KUBE_WATCH_BOOKMARK:
        json_decref(obj);
        break;
    case KUBE_WATCH_ERROR: {
        kube_status_t st;
        char *text = json_dumps(obj, JSON_COMPACT);
        kube_status_decode((int)jsonx_int(obj, "code", 500), text ? text : "",
                           text ? strlen(text) : 0, &st);
        free(text);
        json_decref(obj);
        inf->watch_end = kube_status_is_expired(&st) ? 1 : 2;
        snprintf(inf->watch_msg, sizeof inf->watch_msg, "%s", st.message);
        return 1;
    }
    }
    set_last_rv(inf, rv);
    if (type != KUBE_WATCH_BOOKMARK) update_count(inf);
    return 0;
}

static size_t on_watch_body(char *p, size_t size, size_t nmemb, void *ud)
{
    kube_informer_t *inf = ud;
    size_t n = size * nmemb;
    if (inf->stopping) return 0;
    if (!inf->http_code) inf->http_code = response_code(inf->easy);
    if (inf->http_code != 200) { /* a Status body */
        if (inf->body.n < 65536) strbuf_putn(&inf->body, p, n);
        return n;
    }
    int rc = kube_watch_decoder_feed(&inf->dec, p, n);
    if (rc == 0) return n;
    if (rc < 0) {
        inf->watch_end = 3;
        snprintf(inf->watch_msg, sizeof inf->watch_msg, "%s", inf->dec.err);
    }
    return 0; /* ends the transfer */
}

static void on_watch_done(CURL *easy, CURLcode res, void *ud)
{
    kube_informer_t *inf = ud;
    if (res == CURLE_ABORTED_BY_CALLBACK || inf->stopping) return;
    long code = inf->http_code ? inf->http_code : (res == CURLE_OK ? response_code(easy) : 0);
    if (code == 0 && res != CURLE_OK) code = response_code(easy);
    kube_client_note_response(inf->client, "GET", (int)code);
    if (res == CURLE_OK && code == 200 && !inf->watch_end) {
        int rc = kube_watch_decoder_finish(&inf->dec);
        if (rc < 0) {
            inf->watch_end = 3;
            snprintf(inf->watch_msg, sizeof inf->watch_msg, "%s", inf->dec.err);
        }
    }
    kube_status_t st;
    bool http_err = code != 200 && code != 0;
    if (http_err) kube_status_decode((int)code, inf->body.p ? inf->body.p : "", inf->body.n, &st);
    double lasted = kube_now_s() - inf->watch_start;
    unsigned long events = inf->watch_events;
    int end = inf->watch_end;
    char msg[512];
    snprintf(msg, sizeof msg, "%s",
             end        ? inf->watch_msg
             : http_err ? st.message
                        : curl_easy_strerror(res));
    kube_watch_decoder_free(&inf->dec);
    end_transfer(inf);

    if (end == 1 || (http_err && kube_status_is_expired(&st))) {
        note_restart(inf, "expired");
        pthread_mutex_lock(&inf->mu);
        inf->stats.expired++;
        pthread_mutex_unlock(&inf->mu);
        log_debug("informer watch expired, relisting after a back-off", "resource", inf->res_label,
                  "message", msg);
        /* client-go runs every ListAndWatch return, 410 included, through its back-off */
        return retry_later(inf, true);
    }
    if (end == 2 || end == 3 || http_err || (res != CURLE_OK && res != CURLE_WRITE_ERROR)) {
        note_restart(inf, "error");
        log_warn("informer watch failed", "resource", inf->res_label, "error", msg);
        if (http_err && kube_status_is_type_not_found(&st)) return retry_later(inf, true);
        return retry_later(inf, false);
    }
    if (lasted < SHORT_WATCH_S && events == 0) {
        note_restart(inf, "short");
        log_debug("informer watch ended quickly with no events", "resource", inf->res_label);
        return retry_later(inf, false);
    }
    note_restart(inf, "closed");
    start_watch(inf);
}

static void start_watch(kube_informer_t *inf)
{
    if (inf->stopping) return;
    char path[1024];
    if (kube_path(inf->res, inf->ns, NULL, NULL, path, sizeof path) != 0) return;
    char rv[64];
    kube_informer_last_rv(inf, rv, sizeof rv);
    int timeout = 300 + (int)(random() % 301);
    strbuf_t url = {0};
    CURL *tmp = curl_easy_init();
    strbuf_printf(&url, "%s?watch=1", path);
    put_param(&url, tmp, "resourceVersion", rv);
    strbuf_printf(&url, "&allowWatchBookmarks=true&timeoutSeconds=%d", timeout);
    put_param(&url, tmp, "labelSelector", inf->label_selector);
    put_param(&url, tmp, "fieldSelector", inf->field_selector);
    curl_easy_cleanup(tmp);
    inf->easy = new_easy(inf, strbuf_str(&url));
    strbuf_free(&url);
    if (!inf->easy) {
        note_restart(inf, "error");
        return retry_later(inf, false);
    }
    curl_easy_setopt(inf->easy, CURLOPT_WRITEFUNCTION, on_watch_body);
    curl_easy_setopt(inf->easy, CURLOPT_WRITEDATA, inf);
    curl_easy_setopt(inf->easy, CURLOPT_TIMEOUT, (long)(timeout + WATCH_SLACK_S));
    kube_watch_decoder_init(&inf->dec, 0, on_event, inf);
    inf->watch_start = kube_now_s();
    inf->watch_events = 0;
    inf->watch_end = 0;
    inf->watch_msg[0] = 0;
    inf->http_code = 0;
    inf->phase = PHASE_WATCH;
    pthread_mutex_lock(&inf->mu);
    inf->stats.watches++;
    pthread_mutex_unlock(&inf->mu);
    if (kube_curl_uv_add(inf->cm, inf->easy, on_watch_done, inf) != 0) {
        kube_watch_decoder_free(&inf->dec);
        end_transfer(inf);
        note_restart(inf, "error");
        retry_later(inf, false);
    }
}

/* ---------- resync ---------- */

static void on_resync(uv_timer_t *t)
{
    kube_informer_t *inf = t->data;
    if (inf->stopping || !inf->h.on_update) return;
    json_t *all = kube_cache_list(inf->cache);
    size_t i;
    json_t *obj;
    json_array_foreach(all, i, obj) inf->h.on_update(obj, obj, inf->h.ud);
    json_decref(all);
}

/* ---------- lifecycle ---------- */

int kube_informer_new(uv_loop_t *loop, kube_client_t *client, const kube_informer_options_t *opts,
                      const kube_informer_handlers_t *handlers, kube_informer_t **out)
{
    if (!loop || !client || !opts || !opts->resource || !out) return -EINVAL;
    kube_informer_t *inf = calloc(1, sizeof *inf);
    if (!inf) return -ENOMEM;
    inf->loop = loop;
    inf->client = client;
    inf->res = opts->resource;
    inf->ns = dupz(opts->ns);
    inf->label_selector = dupz(opts->label_selector);
    inf->field_selector = dupz(opts->field_selector);
    inf->page_size = opts->page_size > 0 ? opts->page_size : 500;
    inf->transform = opts->transform;
    inf->transform_ud = opts->transform_ud;
    inf->resync_s = opts->resync_s;
    if (handlers) inf->h = *handlers;
    if (inf->res->group && *inf->res->group)
        snprintf(inf->res_label, sizeof inf->res_label, "%s.%s", inf->res->plural, inf->res->group);
    else
        snprintf(inf->res_label, sizeof inf->res_label, "%s", inf->res->plural);
    inf->cache = kube_cache_new(opts->index_labels);
    if (!inf->cache || kube_curl_uv_new(loop, &inf->cm) != 0) {
        kube_cache_free(inf->cache);
        free(inf->ns);
        free(inf->label_selector);
        free(inf->field_selector);
        free(inf);
        return -ENOMEM;
    }
    pthread_mutex_init(&inf->mu, NULL);
    /* the reflector's back-off manager: 800 ms doubling to 30 s, jitter 1.0,
     * reset after 2 min */
    kube_backoff_init(&inf->backoff, 0.8, 30.0, 2.0, 1.0, 120.0);
    uv_timer_init(loop, &inf->retry_timer);
    uv_timer_init(loop, &inf->resync_timer);
    inf->retry_timer.data = inf->resync_timer.data = inf;
    if (opts->metrics) {
        inf->m_restarts = metrics_counter(opts->metrics, "informer_watch_restarts_total",
                                          "Watch streams restarted, by reason.", "resource,reason");
        inf->m_relists = metrics_counter(opts->metrics, "informer_relists_total",
                                         "Lists after the first (410 Expired).", "resource");
        inf->m_objects =
            metrics_gauge(opts->metrics, "informer_objects", "Objects in the cache.", "resource");
    }
    *out = inf;
    return 0;
}

int kube_informer_start(kube_informer_t *inf)
{
    if (inf->started || inf->stopping) return -EALREADY;
    inf->started = true;
    if (inf->resync_s > 0) {
        uint64_t ms = (uint64_t)(inf->resync_s * 1000);
        uv_timer_start(&inf->resync_timer, on_resync, ms ? ms : 1, ms ? ms : 1);
    }
    start_list(inf);
    return 0;
}

static void on_closed(kube_informer_t *inf)
{
    if (--inf->open_handles > 0) return;
    if (inf->done) inf->done(inf->done_ud);
}

static void on_timer_closed(uv_handle_t *h)
{
    on_closed(h->data);
}

static void on_cm_closed(void *ud)
{
    on_closed(ud);
}

static void on_stop_timer(uv_timer_t *t)
{
    kube_informer_t *inf = t->data;
    if (inf->phase == PHASE_WATCH && inf->easy) kube_watch_decoder_free(&inf->dec);
    end_transfer(inf);
    json_decref(inf->items);
    inf->items = NULL;
    inf->open_handles = 3;
    uv_timer_stop(&inf->resync_timer);
    uv_close((uv_handle_t *)&inf->retry_timer, on_timer_closed);
    uv_close((uv_handle_t *)&inf->resync_timer, on_timer_closed);
    kube_curl_uv_close(inf->cm, on_cm_closed, inf);
    inf->cm = NULL;
}

void kube_informer_stop(kube_informer_t *inf, void (*done)(void *ud), void *ud)
{
    if (inf->stopping) return;
    inf->stopping = true;
    inf->done = done;
    inf->done_ud = ud;
    /* stop may be called from a handler inside a curl callback: tear down from
     * the loop */
    inf->retry_timer.data = inf;
    uv_timer_start(&inf->retry_timer, on_stop_timer, 0, 0);
}

void kube_informer_free(kube_informer_t *inf)
{
    if (!inf) return;
    kube_cache_free(inf->cache);
    json_decref(inf->items);
    free(inf->continue_tok);
    free(inf->ns);
    free(inf->label_selector);
    free(inf->field_selector);
    pthread_mutex_destroy(&inf->mu);
    free(inf);
}

/* ---------- reads ---------- */

bool kube_informer_has_synced(kube_informer_t *inf)
{
    pthread_mutex_lock(&inf->mu);
    bool s = inf->synced;
    pthread_mutex_unlock(&inf->mu);
    return s;
}

void kube_informer_last_rv(kube_informer_t *inf, char *buf, size_t len)
{
    pthread_mutex_lock(&inf->mu);
    snprintf(buf, len, "%s", inf->last_rv);
    pthread_mutex_unlock(&inf->mu);
}

void kube_informer_stats(kube_informer_t *inf, kube_informer_stats_t *out)
{
    pthread_mutex_lock(&inf->mu);
    *out = inf->stats;
    pthread_mutex_unlock(&inf->mu);
}

json_t *kube_informer_get(kube_informer_t *inf, const char *key)
{
    return kube_cache_get(inf->cache, key);
}

json_t *kube_informer_list(kube_informer_t *inf)
{
    return kube_cache_list(inf->cache);
}

size_t kube_informer_count(kube_informer_t *inf)
{
    return kube_cache_count(inf->cache);
}

json_t *kube_informer_by_owner(kube_informer_t *inf, const char *owner_uid)
{
    return kube_cache_by_owner(inf->cache, owner_uid);
}

json_t *kube_informer_by_label(kube_informer_t *inf, const char *key, const char *value)
{
    return kube_cache_by_label(inf->cache, key, value);
}

size_t kube_informer_foreach(kube_informer_t *inf, kube_visit_fn fn, void *ud)
{
    return kube_cache_foreach(inf->cache, fn, ud);
}

size_t kube_informer_foreach_by_owner(kube_informer_t *inf, const char *owner_uid, kube_visit_fn fn,
                                      void *ud)
{
    return kube_cache_foreach_by_owner(inf->cache, owner_uid, fn, ud);
}

size_t kube_informer_foreach_by_label(kube_informer_t *inf, const char *key, const char *value,
                                      kube_visit_fn fn, void *ud)
{
    return kube_cache_foreach_by_label(inf->cache, key, value, fn, ud);
}
