/* http_server: the project's one HTTP/1.1 server (libuv TCP, http_parser; TLS through the
 * engine of base/http_tls.h, never referenced here so plain servers link no OpenSSL). Owns
 * connections, keep-alive and in-order pipelining, request framing and limits, response framing
 * (Content-Length or chunked streams) and the per-connection TLS state machine. */
#include "base/http_server.h"

#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <http_parser.h>

#include "base/http_tls.h"

#define DEFAULT_MAX_BODY ((size_t)3 * 1024 * 1024)
#define MAX_HEADER_BYTES (64 * 1024)
/* Stop reading from a socket while this much unparsed input is buffered (a request is
 * outstanding and the client keeps pipelining). */
#define IN_HIGH_WATER (1024 * 1024)
#define IN_INIT_CAP   16384
#define IN_MIN_FREE   8192
#define TLS_RBUF_SIZE 65536

typedef struct conn conn_t;

typedef struct hdr_off {
    uint32_t name, value; /* offsets into req_t.hbuf */
} hdr_off_t;

typedef struct req {
    http_request_t pub; /* first member: http_request_t * casts to req_t * */
    conn_t *conn;       /* NULL once the connection is gone (detached) */
    /* hbuf holds the raw URL, then header names/values, then the decoded path and query, each
     * NUL-terminated. It does not move once the headers are complete. */
    char *hbuf;
    size_t hlen, hcap;
    size_t url_len;
    bool url_done, in_value;
    hdr_off_t *hdrs;
    size_t nhdrs, hdrcap;
    char *body;
    size_t body_cap;
    bool keep_alive, http10, head, chunked, streaming, closing;
    void (*on_close)(http_request_t *req, void *ud);
    void *on_close_ud;
} req_t;

struct conn {
    uv_tcp_t tcp;
    uv_shutdown_t shutdown_req;
    http_server_t *srv;
    conn_t *prev, *next;
    conn_t *resume_next;
    http_parser parser;
    char *in; /* plaintext input; [in_off, in_len) not parsed yet */
    size_t in_off, in_len, in_cap;
    req_t *cur;    /* being parsed */
    req_t *ready;  /* parsed, about to be dispatched */
    req_t *active; /* given to the handler, not finished */
    size_t header_bytes;
    const char *err; /* parse error detail set by a callback */
    size_t write_pending;
    bool resume_queued, in_process, closing, shutting_down, reading, eof, no_more, write_failed;
    void *tls; /* the TLS engine's connection state, NULL for plain HTTP */
    bool tls_ready, peer_cert_valid;
    char peer_cn[128];
    char remote[64];
};

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_idle_t idle;
    http_handler_fn handler;
    void *ud;
    size_t max_body;
    const http_tls_ops_t *tls; /* set with tls_ctx */
    void *tls_ctx;
    int port;
    int open_handles;
    bool stopping, idle_active;
    conn_t *conns;
    conn_t *resume_head;
    time_t date_t;
    char date[40];
    char *tls_rbuf; /* TLS_RBUF_SIZE bytes, TLS servers only */
};

typedef struct wreq {
    uv_write_t w;
    conn_t *c;
    size_t len;
    char data[];
} wreq_t;

static void conn_close(conn_t *c);
static void conn_process(conn_t *c);
static void conn_graceful_close(conn_t *c);
static void update_reading(conn_t *c);
static void queue_resume(conn_t *c);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* ---------- small helpers ---------- */

static void set_err(char *errbuf, size_t errlen, const char *fmt, const char *a)
{
    if (errbuf && errlen) snprintf(errbuf, errlen, fmt, a ? a : "");
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Decodes src[0..n) into dst (room for n+1). '%XX' is decoded, an invalid escape is kept
 * literally; plus_space turns '+' into ' '. Returns the length, or -1 for an encoded NUL
 * when reject_nul. */
static ssize_t pct_decode(char *dst, const char *src, size_t n, bool plus_space, bool reject_nul)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = src[i];
        if (ch == '%' && i + 2 < n) {
            int hi = hexval((unsigned char)src[i + 1]);
            int lo = hexval((unsigned char)src[i + 2]);
            if (hi >= 0 && lo >= 0) {
                int v = hi * 16 + lo;
                if (v == 0 && reject_nul) return -1;
                dst[o++] = (char)v;
                i += 2;
                continue;
            }
        }
        dst[o++] = (plus_space && ch == '+') ? ' ' : ch;
    }
    dst[o] = '\0';
    return (ssize_t)o;
}

static const char *reason_phrase(int status)
{
    const char *s = http_status_str((enum http_status)status);
    return (!s || s[0] == '<') ? "Unknown" : s; /* "<unknown>" for codes it does not know */
}

static const char *date_header(http_server_t *srv)
{
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    if (now != srv->date_t || !srv->date[0]) {
        struct tm tm;
        gmtime_r(&now, &tm);
        snprintf(srv->date, sizeof srv->date, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                 days[tm.tm_wday % 7], tm.tm_mday, mons[tm.tm_mon % 12], tm.tm_year + 1900,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        srv->date_t = now;
    }
    return srv->date;
}

/* ---------- requests ---------- */

/* Makes room for n more bytes in hbuf (which may move). */
static int hb_reserve(req_t *r, size_t n)
{
    if (r->hlen + n <= r->hcap) return 0;
    size_t cap = r->hcap ? r->hcap : 512;
    while (cap < r->hlen + n)
        cap *= 2;
    char *nb = realloc(r->hbuf, cap);
    if (!nb) return -ENOMEM;
    r->hbuf = nb;
    r->hcap = cap;
    return 0;
}

static int hb_append(req_t *r, const char *p, size_t n)
{
    if (hb_reserve(r, n)) return -ENOMEM;
    if (n) memcpy(r->hbuf + r->hlen, p, n);
    r->hlen += n;
    return 0;
}

static int hb_nul(req_t *r)
{
    if (hb_reserve(r, 1)) return -ENOMEM;
    r->hbuf[r->hlen++] = '\0';
    return 0;
}

static req_t *req_new(conn_t *c)
{
    req_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->conn = c;
    r->pub.method = "";
    r->pub.path = "";
    r->pub.query = "";
    r->pub.body = "";
    return r;
}

static void req_free(req_t *r)
{
    if (!r) return;
    free(r->hbuf);
    free(r->hdrs);
    free(r->body);
    free(r);
}

const char *http_request_header(const http_request_t *req, const char *name)
{
    const req_t *r = (const req_t *)req;
    if (!r || !name || !r->hbuf) return NULL;
    for (size_t i = 0; i < r->nhdrs; i++)
        if (strcasecmp(r->hbuf + r->hdrs[i].name, name) == 0) return r->hbuf + r->hdrs[i].value;
    return NULL;
}

/* Whether the query key src[0..n), once decoded, equals key. */
static bool query_key_eq(const char *src, size_t n, const char *key)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)src[i];
        if (ch == '%' && i + 2 < n) {
            int hi = hexval((unsigned char)src[i + 1]), lo = hexval((unsigned char)src[i + 2]);
            if (hi >= 0 && lo >= 0) {
                ch = hi * 16 + lo;
                i += 2;
            }
        } else if (ch == '+') {
            ch = ' ';
        }
        if (key[k] == '\0' || (unsigned char)key[k] != ch) return false;
        k++;
    }
    return key[k] == '\0';
}

char *http_request_query(const http_request_t *req, const char *key)
{
    if (!req || !key || !req->query) return NULL;
    const char *p = req->query;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t seg = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', seg);
        size_t klen = eq ? (size_t)(eq - p) : seg;
        if (seg > 0 && query_key_eq(p, klen, key)) {
            size_t vlen = eq ? seg - klen - 1 : 0;
            char *out = malloc(vlen + 1);
            if (!out) return NULL;
            pct_decode(out, eq ? eq + 1 : "", vlen, true, false);
            return out;
        }
        if (!end) break;
        p = end + 1;
    }
    return NULL;
}

/* ---------- writing ---------- */

static wreq_t *wreq_alloc(size_t cap)
{
    wreq_t *w = malloc(sizeof *w + cap);
    if (w) w->len = 0;
    return w;
}

static void on_write(uv_write_t *uw, int status)
{
    wreq_t *w = (wreq_t *)uw;
    conn_t *c = w->c;
    c->write_pending -= w->len;
    free(w);
    if (status < 0 && !c->closing) conn_close(c);
}

static int raw_write(conn_t *c, wreq_t *w)
{
    /* Most responses fit in the socket buffer: try writing now, and queue only the rest. */
    size_t done = 0;
    int rc = uv_try_write((uv_stream_t *)&c->tcp, &(uv_buf_t){.base = w->data, .len = w->len}, 1);
    if (rc >= 0) {
        done = (size_t)rc;
        if (done == w->len) {
            free(w);
            return 0;
        }
    } else if (rc != UV_EAGAIN) {
        free(w);
        c->write_failed = true;
        queue_resume(c);
        return -EPIPE;
    }
    w->len -= done;
    uv_buf_t b = uv_buf_init(w->data + done, (unsigned int)w->len);
    w->c = c;
    rc = uv_write(&w->w, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc) {
        free(w);
        c->write_failed = true;
        queue_resume(c);
        return -EPIPE;
    }
    c->write_pending += w->len;
    return 0;
}

/* Sends whatever TLS produced (handshake records, alerts, application data). */
static int tls_flush(conn_t *c)
{
    const http_tls_ops_t *t = c->srv->tls;
    size_t n = t->output_pending(c->tls);
    if (n == 0) return 0;
    wreq_t *w = wreq_alloc(n);
    if (!w) return -ENOMEM;
    size_t got = t->take_output(c->tls, w->data, n);
    if (got == 0) {
        free(w);
        return 0;
    }
    w->len = got;
    return raw_write(c, w);
}

/* Writes w (plaintext) to the connection; takes ownership of w. */
static int conn_write(conn_t *c, wreq_t *w)
{
    if (c->closing || c->write_failed || c->shutting_down) {
        free(w);
        return -EPIPE;
    }
    if (!c->tls) return raw_write(c, w);
    if (c->srv->tls->write(c->tls, w->data, w->len) != 0) {
        free(w);
        c->write_failed = true;
        queue_resume(c);
        return -EPIPE;
    }
    free(w);
    return tls_flush(c);
}

/* Formats a response head into a new wreq with room for body_room more bytes. */
static wreq_t *build_head(conn_t *c, req_t *r, int status, const char *ctype, bool has_length,
                          size_t clen, bool chunked, const char *extra, size_t body_room)
{
    size_t ctlen = ctype ? strlen(ctype) : 0;
    size_t exlen = extra ? strlen(extra) : 0;
    size_t cap = 256 + ctlen + exlen;
    wreq_t *w = wreq_alloc(cap + body_room);
    if (!w) return NULL;
    char clbuf[48] = "";
    if (has_length) snprintf(clbuf, sizeof clbuf, "Content-Length: %zu\r\n", clen);
    const char *connhdr = "";
    if (!r->keep_alive)
        connhdr = "Connection: close\r\n";
    else if (r->http10)
        connhdr = "Connection: keep-alive\r\n";
    int n = snprintf(w->data, cap, "HTTP/1.1 %d %s\r\n%s%s%s%s%sDate: %s\r\n%s", status,
                     reason_phrase(status), ctype ? "Content-Type: " : "", ctype ? ctype : "",
                     ctype ? "\r\n" : "", clbuf, chunked ? "Transfer-Encoding: chunked\r\n" : "",
                     date_header(c->srv), connhdr);
    if (n < 0 || (size_t)n >= cap) {
        free(w);
        return NULL;
    }
    w->len = (size_t)n;
    if (exlen) memcpy(w->data + w->len, extra, exlen);
    w->len += exlen;
    memcpy(w->data + w->len, "\r\n", 2);
    w->len += 2;
    return w;
}

/* The handler is done with r: free it and let the connection go on. */
static void finish_request(req_t *r)
{
    conn_t *c = r->conn;
    if (!c) {
        req_free(r);
        return;
    }
    bool ka = r->keep_alive;
    if (c->active == r) c->active = NULL;
    req_free(r);
    if (!ka) c->no_more = true;
    if (c->in_process || c->closing) return;
    if (c->no_more) {
        conn_graceful_close(c);
    } else if (c->in_off < c->in_len) {
        queue_resume(c); /* pipelined requests wait; after EOF too, conn_process then closes */
    } else if (c->eof) {
        conn_graceful_close(c);
    } else {
        update_reading(c);
    }
}

void http_respond(http_request_t *req, int status, const char *content_type, const char *body,
                  size_t len, const char *extra_headers)
{
    req_t *r = (req_t *)req;
    if (!r || r->closing) return;
    if (r->streaming) {
        http_stream_end(req);
        return;
    }
    conn_t *c = r->conn;
    if (!c || c->closing) {
        finish_request(r);
        return;
    }
    bool no_body = (status >= 100 && status < 200) || status == 204 || status == 304;
    size_t send_len = (no_body || r->head || !body) ? 0 : len;
    wreq_t *w = build_head(c, r, status, content_type, !no_body, body ? len : 0, false,
                           extra_headers, send_len);
    if (w) {
        if (send_len) memcpy(w->data + w->len, body, send_len);
        w->len += send_len;
        conn_write(c, w);
    } else {
        r->keep_alive = false;
        c->write_failed = true;
        queue_resume(c);
    }
    finish_request(r);
}

int http_stream_start(http_request_t *req, int status, const char *content_type,
                      const char *extra_headers)
{
    req_t *r = (req_t *)req;
    if (!r || r->closing || r->streaming) return -EPIPE;
    conn_t *c = r->conn;
    if (!c || c->closing) return -EPIPE;
    r->streaming = true;
    r->chunked = !r->http10;
    if (!r->chunked) r->keep_alive = false; /* HTTP/1.0: the body ends when we close */
    wreq_t *w =
        build_head(c, r, status, content_type, false, 0, r->chunked && !r->head, extra_headers, 0);
    if (!w) return -ENOMEM;
    return conn_write(c, w);
}

int http_stream_write(http_request_t *req, const char *data, size_t len)
{
    req_t *r = (req_t *)req;
    if (!r || r->closing || !r->streaming) return -EPIPE;
    conn_t *c = r->conn;
    if (!c || c->closing || c->write_failed) return -EPIPE;
    if (len == 0 || r->head) return 0;
    wreq_t *w = wreq_alloc(len + 32);
    if (!w) return -ENOMEM;
    if (r->chunked) w->len = (size_t)snprintf(w->data, 32, "%zx\r\n", len);
    memcpy(w->data + w->len, data, len);
    w->len += len;
    if (r->chunked) {
        memcpy(w->data + w->len, "\r\n", 2);
        w->len += 2;
    }
    return conn_write(c, w);
}

void http_stream_end(http_request_t *req)
{
    req_t *r = (req_t *)req;
    if (!r || r->closing) return;
    conn_t *c = r->conn;
    if (!r->streaming) r->keep_alive = false; /* nothing was sent: the client sees EOF */
    if (c && !c->closing && r->streaming && r->chunked && !r->head) {
        wreq_t *w = wreq_alloc(5);
        if (w) {
            memcpy(w->data, "0\r\n\r\n", 5);
            w->len = 5;
            conn_write(c, w);
        }
    }
    finish_request(r);
}

size_t http_stream_pending(const http_request_t *req)
{
    const req_t *r = (const req_t *)req;
    if (!r || !r->conn || r->conn->closing) return 0;
    return r->conn->write_pending;
}

void http_request_on_close(http_request_t *req, void (*cb)(http_request_t *req, void *ud), void *ud)
{
    req_t *r = (req_t *)req;
    if (!r) return;
    r->on_close = cb;
    r->on_close_ud = ud;
}

/* ---------- parsing ---------- */

static int count_header_bytes(conn_t *c, size_t len)
{
    c->header_bytes += len;
    if (c->header_bytes > MAX_HEADER_BYTES) {
        c->err = "request header too large";
        return -1;
    }
    return 0;
}

static int on_message_begin(http_parser *p)
{
    conn_t *c = p->data;
    c->header_bytes = 0;
    c->err = NULL;
    req_free(c->cur);
    c->cur = req_new(c);
    if (!c->cur) {
        c->err = "out of memory";
        return -1;
    }
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    req_t *r = c->cur;
    if (count_header_bytes(c, len) || hb_append(r, at, len)) return -1;
    r->url_len += len;
    return 0;
}

static int end_url(req_t *r)
{
    if (r->url_done) return 0;
    r->url_done = true;
    return hb_nul(r);
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    req_t *r = c->cur;
    if (count_header_bytes(c, len) || end_url(r)) return -1;
    if (r->in_value || r->nhdrs == 0) {
        /* ": " and CRLF of each line count too */
        if (count_header_bytes(c, 4)) return -1;
        if (r->in_value && hb_nul(r)) return -1;
        r->in_value = false;
        if (r->nhdrs == r->hdrcap) {
            size_t cap = r->hdrcap ? r->hdrcap * 2 : 16;
            hdr_off_t *nh = realloc(r->hdrs, cap * sizeof *nh);
            if (!nh) return -1;
            r->hdrs = nh;
            r->hdrcap = cap;
        }
        r->hdrs[r->nhdrs].name = (uint32_t)r->hlen;
        r->hdrs[r->nhdrs].value = 0;
        r->nhdrs++;
    }
    return hb_append(r, at, len) ? -1 : 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    req_t *r = c->cur;
    if (count_header_bytes(c, len) || r->nhdrs == 0) return -1;
    if (!r->in_value) {
        if (hb_nul(r)) return -1;
        r->hdrs[r->nhdrs - 1].value = (uint32_t)r->hlen;
        r->in_value = true;
    }
    return hb_append(r, at, len) ? -1 : 0;
}

/* Splits the raw URL into the decoded path and the raw query, appended to hbuf. */
static int finish_url(conn_t *c, req_t *r)
{
    const char *u = r->hbuf; /* NUL-terminated raw URL at offset 0 */
    size_t n = r->url_len;
    size_t start = 0;
    if (n > 0 && u[0] != '/') {
        const char *sch = strstr(u, "://");
        if (sch && (size_t)(sch - u) < n && u[0] != '*') {
            const char *slash = strchr(sch + 3, '/');
            const char *qm = strchr(sch + 3, '?');
            if (slash && (!qm || slash < qm))
                start = (size_t)(slash - u);
            else
                start = qm ? (size_t)(qm - u) : n;
        }
    }
    size_t end = n;
    const char *hash = memchr(u + start, '#', n - start);
    if (hash) end = (size_t)(hash - u);
    const char *qm = memchr(u + start, '?', end - start);
    size_t path_end = qm ? (size_t)(qm - u) : end;
    size_t path_len = path_end - start;
    size_t qlen = qm ? end - path_end - 1 : 0;
    bool empty_path = path_len == 0;
    /* Reserve room first (hbuf may move), then decode from the raw URL at its start. */
    if (hb_reserve(r, path_len + 2 + qlen + 1)) return -1;
    u = r->hbuf;
    size_t path_off = r->hlen;
    ssize_t dl;
    if (empty_path) {
        r->hbuf[path_off] = '/';
        r->hbuf[path_off + 1] = '\0';
        dl = 1;
    } else {
        dl = pct_decode(r->hbuf + path_off, u + start, path_len, false, true);
        if (dl < 0) {
            c->err = "invalid escape in request path";
            return -1;
        }
    }
    r->hlen += (size_t)dl + 1;
    size_t q_off = r->hlen;
    if (qlen) memcpy(r->hbuf + q_off, u + path_end + 1, qlen);
    r->hbuf[q_off + qlen] = '\0';
    r->hlen += qlen + 1;
    r->pub.path = r->hbuf + path_off;
    r->pub.query = r->hbuf + q_off;
    return 0;
}

static void send_continue(conn_t *c)
{
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    wreq_t *w = wreq_alloc(sizeof msg - 1);
    if (!w) return;
    memcpy(w->data, msg, sizeof msg - 1);
    w->len = sizeof msg - 1;
    conn_write(c, w);
}

static int on_headers_complete(http_parser *p)
{
    conn_t *c = p->data;
    req_t *r = c->cur;
    if (end_url(r)) return -1;
    if (r->nhdrs > 0) {
        if (!r->in_value) { /* a name with no value callback: empty value */
            if (hb_nul(r)) return -1;
            r->hdrs[r->nhdrs - 1].value = (uint32_t)r->hlen;
        }
        if (hb_nul(r)) return -1;
    }
    r->in_value = false;
    if (finish_url(c, r)) {
        if (!c->err) c->err = "out of memory";
        return -1;
    }
    r->pub.method = http_method_str((enum http_method)p->method);
    r->head = p->method == HTTP_HEAD;
    r->http10 = p->http_major < 1 || (p->http_major == 1 && p->http_minor == 0);
    size_t max_body = c->srv->max_body;
    if ((p->flags & F_CONTENTLENGTH) && p->content_length != ULLONG_MAX) {
        if (p->content_length > max_body) {
            r->pub.body_too_large = true;
        } else if (p->content_length > 0) {
            r->body = malloc((size_t)p->content_length + 1);
            if (!r->body) {
                c->err = "out of memory";
                return -1;
            }
            r->body_cap = (size_t)p->content_length + 1;
        }
    }
    if (!r->http10) {
        const char *expect = http_request_header(&r->pub, "Expect");
        if (expect && strcasecmp(expect, "100-continue") == 0) send_continue(c);
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    req_t *r = c->cur;
    if (r->pub.body_too_large) return 0;
    size_t have = r->pub.body_len;
    if (have + len > c->srv->max_body) {
        r->pub.body_too_large = true;
        free(r->body);
        r->body = NULL;
        r->body_cap = 0;
        r->pub.body_len = 0;
        return 0;
    }
    if (have + len + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 1024;
        while (cap < have + len + 1)
            cap *= 2;
        char *nb = realloc(r->body, cap);
        if (!nb) {
            c->err = "out of memory";
            return -1;
        }
        r->body = nb;
        r->body_cap = cap;
    }
    memcpy(r->body + have, at, len);
    r->pub.body_len = have + len;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    conn_t *c = p->data;
    req_t *r = c->cur;
    r->keep_alive = http_should_keep_alive(p) && !p->upgrade;
    if (r->pub.body_too_large || !r->body) {
        r->pub.body = "";
        r->pub.body_len = 0;
    } else {
        r->body[r->pub.body_len] = '\0';
        r->pub.body = r->body;
    }
    r->pub.peer_cert_valid = c->peer_cert_valid;
    memcpy(r->pub.peer_cn, c->peer_cn, sizeof r->pub.peer_cn);
    memcpy(r->pub.remote_addr, c->remote, sizeof r->pub.remote_addr);
    c->ready = r;
    c->cur = NULL;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void bad_request(conn_t *c, const char *msg)
{
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                     "\"Failure\",\"message\":\"bad request: %s\",\"reason\":\"BadRequest\","
                     "\"code\":400}\n",
                     msg);
    if (n < 0 || (size_t)n >= sizeof body) n = 0;
    req_free(c->cur);
    c->cur = NULL;
    c->no_more = true;
    req_t tmp = {.keep_alive = false};
    wreq_t *w =
        build_head(c, &tmp, 400, "application/json", true, (size_t)n, false, NULL, (size_t)n);
    if (!w) return;
    memcpy(w->data + w->len, body, (size_t)n);
    w->len += (size_t)n;
    conn_write(c, w);
}

static void dispatch(conn_t *c)
{
    req_t *r = c->ready;
    c->ready = NULL;
    if (!r) return;
    if (!r->keep_alive) c->no_more = true; /* nothing after this request is parsed */
    c->active = r;
    c->srv->handler(&r->pub, c->srv->ud);
}

/* Parses buffered input and dispatches requests, one at a time. */
static void conn_process(conn_t *c)
{
    if (c->in_process || c->closing || c->shutting_down) return;
    c->in_process = true;
    while (!c->closing && !c->active && !c->no_more && !c->write_failed && c->in_off < c->in_len) {
        size_t avail = c->in_len - c->in_off;
        size_t n = http_parser_execute(&c->parser, &parser_settings, c->in + c->in_off, avail);
        if (n > avail) n = avail;
        c->in_off += n;
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        if (e == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            dispatch(c);
        } else if (e != HPE_OK) {
            bad_request(c, c->err ? c->err : http_errno_description(e));
            break;
        } else if (n != avail) {
            bad_request(c, "unexpected data");
            break;
        }
    }
    if (c->in_off == c->in_len) {
        c->in_off = c->in_len = 0;
        if (c->in_cap > 4 * IN_INIT_CAP) {
            free(c->in);
            c->in = NULL;
            c->in_cap = 0;
        }
    }
    c->in_process = false;
    if (c->closing) return;
    if (c->write_failed) {
        conn_close(c);
        return;
    }
    if (!c->active && (c->no_more || c->eof)) {
        conn_graceful_close(c);
        return;
    }
    update_reading(c);
}

/* ---------- connection lifecycle ---------- */

static void maybe_free_server(http_server_t *srv)
{
    if (srv->stopping && srv->open_handles == 0) {
        if (srv->tls_ctx) srv->tls->ctx_free(srv->tls_ctx);
        free(srv->tls_rbuf);
        free(srv);
    }
}

static void on_conn_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    http_server_t *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else if (srv->conns == c)
        srv->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    if (c->resume_queued) {
        for (conn_t **pp = &srv->resume_head; *pp; pp = &(*pp)->resume_next) {
            if (*pp == c) {
                *pp = c->resume_next;
                break;
            }
        }
    }
    if (c->tls) srv->tls->conn_free(c->tls);
    req_free(c->cur);
    req_free(c->ready);
    free(c->in);
    free(c);
    srv->open_handles--;
    maybe_free_server(srv);
}

static void conn_close(conn_t *c)
{
    if (c->closing) return;
    c->closing = true;
    req_free(c->cur);
    c->cur = NULL;
    req_free(c->ready);
    c->ready = NULL;
    req_t *r = c->active;
    c->active = NULL;
    if (r) {
        r->conn = NULL;
        if (r->on_close) {
            r->closing = true;
            r->on_close(&r->pub, r->on_close_ud);
            req_free(r);
        }
        /* else: detached; freed when the handler finishes it */
    }
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn_t *c = req->data;
    conn_close(c);
}

/* Sends what is queued, then FIN, then closes. */
static void conn_graceful_close(conn_t *c)
{
    if (c->closing || c->shutting_down) return;
    if (c->tls && c->tls_ready && !c->write_failed) {
        c->srv->tls->shutdown(c->tls);
        tls_flush(c);
    }
    if (c->write_failed) {
        conn_close(c);
        return;
    }
    c->shutting_down = true;
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown)) conn_close(c);
}

static void on_idle(uv_idle_t *h)
{
    http_server_t *srv = h->data;
    conn_t *list = srv->resume_head;
    srv->resume_head = NULL;
    uv_idle_stop(h);
    srv->idle_active = false;
    while (list) {
        conn_t *c = list;
        list = c->resume_next;
        c->resume_next = NULL;
        c->resume_queued = false;
        if (c->closing) continue;
        if (c->write_failed) {
            conn_close(c);
            continue;
        }
        conn_process(c);
    }
}

static void queue_resume(conn_t *c)
{
    http_server_t *srv = c->srv;
    if (c->resume_queued || c->closing || srv->stopping) return;
    c->resume_queued = true;
    c->resume_next = srv->resume_head;
    srv->resume_head = c;
    if (!srv->idle_active) {
        uv_idle_start(&srv->idle, on_idle);
        srv->idle_active = true;
    }
}

static void ensure_in_space(conn_t *c, size_t min_free)
{
    if (c->in_off == c->in_len) c->in_off = c->in_len = 0;
    if (c->in_cap - c->in_len >= min_free) return;
    if (c->in_off > 0) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
        if (c->in_cap - c->in_len >= min_free) return;
    }
    size_t cap = c->in_cap ? c->in_cap * 2 : IN_INIT_CAP;
    while (cap - c->in_len < min_free)
        cap *= 2;
    char *nb = realloc(c->in, cap);
    if (!nb) return;
    c->in = nb;
    c->in_cap = cap;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn_t *c = h->data;
    if (c->tls) {
        *buf = uv_buf_init(c->srv->tls_rbuf, TLS_RBUF_SIZE);
        return;
    }
    ensure_in_space(c, IN_MIN_FREE);
    if (c->in_cap - c->in_len < IN_MIN_FREE) {
        *buf = uv_buf_init(NULL, 0); /* out of memory: libuv reports UV_ENOBUFS */
        return;
    }
    *buf = uv_buf_init(c->in + c->in_len, (unsigned int)(c->in_cap - c->in_len));
}

static void update_reading(conn_t *c)
{
    if (c->closing || c->eof) return;
    bool want = c->in_len - c->in_off < IN_HIGH_WATER;
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) c->reading = true;
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

/* ---------- TLS ---------- */

/* Feeds ciphertext to the TLS engine and decrypts what it can into c->in. Returns 0, 1 when the
 * peer sent close_notify, or -1 when the connection is being closed. */
static int tls_feed(conn_t *c, const char *data, size_t n)
{
    const http_tls_ops_t *t = c->srv->tls;
    if (t->put_input(c->tls, data, n) != 0) {
        conn_close(c);
        return -1;
    }
    if (!c->tls_ready) {
        int rc = t->handshake(c->tls);
        if (rc == 1) {
            c->tls_ready = true;
            c->peer_cert_valid = t->peer(c->tls, c->peer_cn, sizeof c->peer_cn);
            if (!c->peer_cert_valid) c->peer_cn[0] = '\0';
        } else if (rc < 0) {
            tls_flush(c); /* the alert, if any */
            c->no_more = true;
            conn_graceful_close(c);
            return -1;
        }
    }
    int ret = 0;
    while (c->tls_ready) {
        ensure_in_space(c, 16 * 1024 + 512);
        size_t room = c->in_cap - c->in_len;
        if (room == 0) {
            conn_close(c);
            return -1;
        }
        ssize_t rc = t->read(c->tls, c->in + c->in_len, room);
        if (rc > 0) {
            c->in_len += (size_t)rc;
            continue;
        }
        if (rc == HTTP_TLS_WANT) break;
        if (rc == HTTP_TLS_EOF) {
            ret = 1;
            break;
        }
        tls_flush(c);
        conn_close(c);
        return -1;
    }
    tls_flush(c);
    return c->closing ? -1 : ret;
}

/* ---------- reading and accepting ---------- */

static void handle_eof(conn_t *c)
{
    c->eof = true;
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
    if (c->shutting_down || c->closing) return;
    req_t *r = c->active;
    if (r && (r->streaming || r->on_close)) {
        conn_close(c); /* the client went away: cancel the outstanding request */
        return;
    }
    if (!r) conn_process(c); /* parses what is left, then closes gracefully */
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    conn_t *c = s->data;
    if (c->closing || nread == 0) return;
    if (nread < 0) {
        if (nread == UV_EOF) {
            c->reading = false;
            handle_eof(c);
        } else {
            conn_close(c);
        }
        return;
    }
    if (c->shutting_down) return; /* discard */
    if (c->tls) {
        int rc = tls_feed(c, buf->base, (size_t)nread);
        if (rc < 0) return;
        conn_process(c);
        if (rc == 1 && !c->closing) handle_eof(c);
        return;
    }
    c->in_len += (size_t)nread;
    conn_process(c);
}

static void on_reject_closed(uv_handle_t *h)
{
    free(h);
}

static void on_connection(uv_stream_t *server, int status)
{
    http_server_t *srv = server->data;
    if (status < 0 || srv->stopping) return;
    conn_t *c = calloc(1, sizeof *c);
    if (!c) {
        uv_tcp_t *t = malloc(sizeof *t);
        if (t && uv_tcp_init(srv->loop, t) == 0) {
            uv_accept(server, (uv_stream_t *)t);
            uv_close((uv_handle_t *)t, on_reject_closed);
        } else {
            free(t);
        }
        return;
    }
    c->srv = srv;
    if (uv_tcp_init(srv->loop, &c->tcp)) {
        free(c);
        return;
    }
    c->tcp.data = c;
    c->next = srv->conns;
    if (srv->conns) srv->conns->prev = c;
    srv->conns = c;
    srv->open_handles++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, 60);
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0) {
        char ip[48] = "";
        if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof ip);
            snprintf(c->remote, sizeof c->remote, "[%s]:%d", ip,
                     ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
        } else {
            uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
            snprintf(c->remote, sizeof c->remote, "%s:%d", ip,
                     ntohs(((struct sockaddr_in *)&ss)->sin_port));
        }
    }
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    if (srv->tls_ctx) {
        c->tls = srv->tls->conn_new(srv->tls_ctx);
        if (!c->tls) {
            conn_close(c);
            return;
        }
    }
    update_reading(c);
}

/* ---------- server ---------- */

static void on_srv_handle_closed(uv_handle_t *h)
{
    http_server_t *srv = h->data;
    srv->open_handles--;
    maybe_free_server(srv);
}

int http_server_start_plain(uv_loop_t *loop, const http_server_config_t *cfg,
                            http_handler_fn handler, void *ud, http_server_t **out, char *errbuf,
                            size_t errlen)
{
    return http_server_start_ops(loop, cfg, NULL, handler, ud, out, errbuf, errlen);
}

static void free_tls(http_server_t *srv)
{
    if (srv->tls_ctx) srv->tls->ctx_free(srv->tls_ctx);
    free(srv->tls_rbuf);
}

int http_server_start_ops(uv_loop_t *loop, const http_server_config_t *cfg,
                          const http_tls_ops_t *tls, http_handler_fn handler, void *ud,
                          http_server_t **out, char *errbuf, size_t errlen)
{
    if (out) *out = NULL;
    if (errbuf && errlen) errbuf[0] = '\0';
    if (!loop || !cfg || !handler || !out || cfg->port < 0 || cfg->port > 65535) {
        set_err(errbuf, errlen, "http_server_start: invalid arguments%s", NULL);
        return -EINVAL;
    }
    /* libuv writes with write(2): a peer that is gone must give EPIPE, not kill the process. */
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) signal(SIGPIPE, SIG_IGN);
    http_server_t *srv = calloc(1, sizeof *srv);
    if (!srv) return -ENOMEM;
    srv->loop = loop;
    srv->handler = handler;
    srv->ud = ud;
    srv->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
    if (cfg->cert_pem || cfg->key_pem) {
        if (!tls) {
            set_err(errbuf, errlen, "TLS is not available in this program (plain HTTP only)%s",
                    NULL);
            free(srv);
            return -EINVAL;
        }
        srv->tls = tls;
        srv->tls_rbuf = malloc(TLS_RBUF_SIZE);
        int rc = srv->tls_rbuf ? tls->ctx_new(cfg, &srv->tls_ctx, errbuf, errlen) : -ENOMEM;
        if (rc) {
            free(srv->tls_rbuf);
            free(srv);
            return rc;
        }
    }
    const char *host = cfg->host && cfg->host[0] ? cfg->host : "127.0.0.1";
    if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
    struct sockaddr_storage ss;
    int rc = strchr(host, ':') ? uv_ip6_addr(host, cfg->port, (struct sockaddr_in6 *)&ss)
                               : uv_ip4_addr(host, cfg->port, (struct sockaddr_in *)&ss);
    if (rc) {
        set_err(errbuf, errlen, "invalid listen address %s", host);
        free_tls(srv);
        free(srv);
        return rc;
    }
    rc = uv_tcp_init(loop, &srv->listener);
    if (rc) {
        free_tls(srv);
        free(srv);
        return rc;
    }
    srv->listener.data = srv;
    srv->open_handles++;
    uv_idle_init(loop, &srv->idle);
    srv->idle.data = srv;
    srv->open_handles++;
    rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&ss, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&srv->listener, 1024, on_connection);
    if (rc) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "listen on %s:%d: %s", host, cfg->port, uv_strerror(rc));
        srv->stopping = true;
        uv_close((uv_handle_t *)&srv->listener, on_srv_handle_closed);
        uv_close((uv_handle_t *)&srv->idle, on_srv_handle_closed);
        return rc;
    }
    struct sockaddr_storage bound;
    int bl = sizeof bound;
    if (uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &bl) == 0)
        srv->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                      : ((struct sockaddr_in *)&bound)->sin_port);
    *out = srv;
    return 0;
}

int http_server_port(const http_server_t *srv)
{
    return srv ? srv->port : 0;
}

void http_server_stop(http_server_t *srv)
{
    if (!srv || srv->stopping) return;
    srv->stopping = true;
    uv_close((uv_handle_t *)&srv->listener, on_srv_handle_closed);
    uv_idle_stop(&srv->idle);
    srv->idle_active = false;
    uv_close((uv_handle_t *)&srv->idle, on_srv_handle_closed);
    for (conn_t *c = srv->resume_head; c; c = c->resume_next)
        c->resume_queued = false;
    srv->resume_head = NULL;
    conn_t *next;
    for (conn_t *c = srv->conns; c; c = next) {
        next = c->next;
        conn_close(c);
    }
}
