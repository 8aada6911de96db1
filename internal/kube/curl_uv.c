/* curl_uv: the libcurl multi <-> libuv glue (the pattern of libcurl's
 * multi-uv.c example): one uv_poll per socket curl asks us to watch, one
 * uv_timer for curl's timeouts, completed transfers collected with
 * curl_multi_info_read and handed to their owners. */
#include "kube/curl_uv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    kube_curl_uv_t *m;
    struct sock_ctx *prev, *next;
} sock_ctx_t;

typedef struct transfer {
    kube_curl_done_fn done;
    void *ud;
    struct transfer *prev, *next;
    CURL *easy;
} transfer_t;

struct kube_curl_uv {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    sock_ctx_t *socks;
    transfer_t *xfers;
    int running;
    int open_handles;
    bool closing;
    void (*closed)(void *ud);
    void *closed_ud;
};

static void maybe_closed(kube_curl_uv_t *m)
{
    if (!m->closing || m->open_handles > 0) return;
    void (*closed)(void *) = m->closed;
    void *ud = m->closed_ud;
    free(m);
    if (closed) closed(ud);
}

static void on_handle_closed(uv_handle_t *h)
{
    kube_curl_uv_t *m = h->data;
    if (h->type == UV_POLL) free((sock_ctx_t *)h) /* poll is the first member */;
    m->open_handles--;
    maybe_closed(m);
}

static void sock_close(sock_ctx_t *s)
{
    kube_curl_uv_t *m = s->m;
    if (s->prev)
        s->prev->next = s->next;
    else
        m->socks = s->next;
    if (s->next) s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    s->poll.data = m;
    uv_close((uv_handle_t *)&s->poll, on_handle_closed);
}

static void xfer_unlink(kube_curl_uv_t *m, transfer_t *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        m->xfers = t->next;
    if (t->next) t->next->prev = t->prev;
}

static void check_done(kube_curl_uv_t *m)
{
    CURLMsg *msg;
    int left;
    while (m->multi && (msg = curl_multi_info_read(m->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL *easy = msg->easy_handle;
        CURLcode res = msg->data.result;
        transfer_t *t = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(m->multi, easy);
        /* t is freed below: a later kube_curl_uv_remove(easy) must find nothing */
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        m->running--;
        if (!t) continue;
        xfer_unlink(m, t);
        kube_curl_done_fn done = t->done;
        void *ud = t->ud;
        free(t);
        done(easy, res, ud);
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    sock_ctx_t *s = p->data;
    kube_curl_uv_t *m = s->m;
    int flags = 0;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    int still;
    curl_multi_socket_action(m->multi, s->fd, flags, &still);
    check_done(m);
}

static void on_timer(uv_timer_t *t)
{
    kube_curl_uv_t *m = t->data;
    int still;
    curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &still);
    check_done(m);
}

static int socket_fn(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
    kube_curl_uv_t *m = userp;
    sock_ctx_t *s = socketp;
    if (action == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(m->multi, fd, NULL);
            sock_close(s);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return -1;
        if (uv_poll_init_socket(m->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->fd = fd;
        s->m = m;
        s->poll.data = s;
        s->next = m->socks;
        if (m->socks) m->socks->prev = s;
        m->socks = s;
        m->open_handles++;
        curl_multi_assign(m->multi, fd, s);
    }
    int ev = 0;
    if (action == CURL_POLL_IN || action == CURL_POLL_INOUT) ev |= UV_READABLE;
    if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT) ev |= UV_WRITABLE;
    s->poll.data = s;
    uv_poll_start(&s->poll, ev, on_poll);
    return 0;
}

static int timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
    kube_curl_uv_t *m = userp;
    if (m->closing) return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&m->timer);
    else
        uv_timer_start(&m->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

int kube_curl_uv_new(uv_loop_t *loop, kube_curl_uv_t **out)
{
    kube_curl_uv_t *m = calloc(1, sizeof *m);
    if (!m) return -ENOMEM;
    m->loop = loop;
    m->multi = curl_multi_init();
    if (!m->multi) {
        free(m);
        return -ENOMEM;
    }
    uv_timer_init(loop, &m->timer);
    m->timer.data = m;
    m->open_handles = 1;
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, socket_fn);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, timer_fn);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    *out = m;
    return 0;
}

int kube_curl_uv_add(kube_curl_uv_t *m, CURL *easy, kube_curl_done_fn done, void *ud)
{
    if (m->closing) return -EIO;
    transfer_t *t = calloc(1, sizeof *t);
    if (!t) return -ENOMEM;
    t->done = done;
    t->ud = ud;
    t->easy = easy;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
    if (curl_multi_add_handle(m->multi, easy) != CURLM_OK) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        free(t);
        return -EIO;
    }
    t->next = m->xfers;
    if (m->xfers) m->xfers->prev = t;
    m->xfers = t;
    m->running++;
    return 0;
}

void kube_curl_uv_remove(kube_curl_uv_t *m, CURL *easy)
{
    transfer_t *t = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
    if (!t) return;
    curl_multi_remove_handle(m->multi, easy);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
    m->running--;
    xfer_unlink(m, t);
    free(t);
}

int kube_curl_uv_running(const kube_curl_uv_t *m)
{
    return m->running;
}

void kube_curl_uv_close(kube_curl_uv_t *m, void (*closed)(void *ud), void *ud)
{
    /* closing first: a done callback that adds a transfer again gets -EIO, so the loop ends */
    m->closing = true;
    while (m->xfers) {
        transfer_t *t = m->xfers;
        CURL *easy = t->easy;
        kube_curl_done_fn done = t->done;
        void *dud = t->ud;
        kube_curl_uv_remove(m, easy);
        done(easy, CURLE_ABORTED_BY_CALLBACK, dud);
    }
    m->closed = closed;
    m->closed_ud = ud;
    curl_multi_cleanup(m->multi); /* may still report sockets to remove */
    m->multi = NULL;
    while (m->socks)
        sock_close(m->socks);
    uv_timer_stop(&m->timer);
    uv_close((uv_handle_t *)&m->timer, on_handle_closed);
}
