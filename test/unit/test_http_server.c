/* Unit tests for base/http_server: the server runs on a libuv loop in a background thread;
 * the tests talk to it over loopback with plain sockets (parsing responses with http_parser),
 * libcurl and a raw OpenSSL client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <http_parser.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/http_server.h"
#include "support/server_thread.h"

/* ---------- server harness ---------- */

static atomic_int g_watch_closed;
static atomic_int g_handled;
static atomic_size_t g_pending; /* largest http_stream_pending seen by /flood */
static atomic_int
    g_handler_errors; /* handler-side failures (cmocka asserts only on the test thread) */

typedef server_thread_t harness_t;

typedef struct later {
    uv_timer_t timer;
    http_request_t *req;
} later_t;

static void later_closed(uv_handle_t *h)
{
    free(h->data);
}

static void later_fire(uv_timer_t *t)
{
    later_t *l = t->data;
    char body[256];
    int n = snprintf(body, sizeof body, "later P=%s Q=%s", l->req->path, l->req->query);
    http_respond(l->req, 200, "text/plain", body, (size_t)n, NULL);
    t->data = l;
    uv_close((uv_handle_t *)t, later_closed);
}

static void watch_on_close(http_request_t *req, void *ud)
{
    atomic_fetch_add(&g_watch_closed, 1);
}

static void handler(http_request_t *req, void *ud)
{
    uv_loop_t *loop = ud;
    atomic_fetch_add(&g_handled, 1);
    if (strncmp(req->path, "/echo", 5) == 0) {
        char *name = http_request_query(req, "name");
        char *flag = http_request_query(req, "flag");
        const char *xt = http_request_header(req, "x-test");
        size_t cap = 512 + req->body_len;
        char *out = malloc(cap);
        int n = snprintf(out, cap, "M=%s P=%s Q=%s H=%s name=%s flag=%s L=%zu T=%d R=%d B=%s",
                         req->method, req->path, req->query, xt ? xt : "(null)",
                         name ? name : "(null)", flag ? flag : "(null)", req->body_len,
                         req->body_too_large, req->remote_addr[0] != 0, req->body);
        free(name);
        free(flag);
        http_respond(req, 200, "text/plain", out, (size_t)n, "X-Extra: yes\r\n");
        free(out);
    } else if (strcmp(req->path, "/stream") == 0) {
        http_stream_start(req, 200, "application/json", NULL);
        for (int i = 1; i <= 3; i++) {
            char ev[64];
            int n = snprintf(ev, sizeof ev, "{\"n\":%d}\n", i);
            if (http_stream_write(req, ev, (size_t)n) != 0) atomic_fetch_add(&g_handler_errors, 1);
        }
        http_stream_end(req);
    } else if (strcmp(req->path, "/watch") == 0) {
        http_request_on_close(req, watch_on_close, NULL);
        http_stream_start(req, 200, "application/json", NULL);
        http_stream_write(req, "{\"type\":\"ADDED\"}\n", 17);
        /* left open: ends when the client goes or the server stops */
    } else if (strcmp(req->path, "/later") == 0) {
        later_t *l = calloc(1, sizeof *l);
        l->req = req;
        uv_timer_init(loop, &l->timer);
        l->timer.data = l;
        uv_timer_start(&l->timer, later_fire, 30, 0);
    } else if (strcmp(req->path, "/peer") == 0) {
        char out[256];
        int n = snprintf(out, sizeof out, "valid=%d cn=%s", req->peer_cert_valid, req->peer_cn);
        http_respond(req, 200, "text/plain", out, (size_t)n, NULL);
    } else if (strcmp(req->path, "/big") == 0) {
        size_t len = 8 * 1024 * 1024;
        char *b = malloc(len);
        memset(b, 'x', len);
        http_respond(req, 200, "application/octet-stream", b, len, NULL);
        free(b);
    } else if (strcmp(req->path, "/flood") == 0) {
        /* 16 MiB in 64 chunks to a client that is not reading yet */
        size_t len = 256 * 1024;
        char *b = malloc(len);
        memset(b, 'f', len);
        http_stream_start(req, 200, "application/octet-stream", NULL);
        for (int i = 0; i < 64; i++) {
            if (http_stream_write(req, b, len) != 0) atomic_fetch_add(&g_handler_errors, 1);
            size_t p = http_stream_pending(req);
            if (p > atomic_load(&g_pending)) atomic_store(&g_pending, p);
        }
        http_stream_end(req);
        free(b);
    } else if (strcmp(req->path, "/status") == 0) {
        char *code = http_request_query(req, "code");
        http_respond(req, code ? atoi(code) : 500, "text/plain", "s", 1, NULL);
        free(code);
    } else if (strcmp(req->path, "/nocontent") == 0) {
        http_respond(req, 204, NULL, NULL, 0, NULL);
    } else {
        http_respond(req, 404, "application/json", "{}", 2, NULL);
    }
}

static harness_t *harness_start_cfg(const http_server_config_t *cfg)
{
    harness_t *h = calloc(1, sizeof *h);
    char err[256];
    int rc = server_thread_start(h, cfg, handler, &h->loop, err, sizeof err);
    if (rc) fprintf(stderr, "start: %s\n", err);
    assert_int_equal(rc, 0);
    assert_true(h->port > 0);
    return h;
}

static harness_t *harness_start(void)
{
    return harness_start_cfg(NULL); /* plain HTTP on 127.0.0.1, a free port */
}

static void harness_stop(harness_t *h)
{
    assert_int_equal(server_thread_stop(h), 0);
    free(h);
    assert_int_equal(atomic_load(&g_handler_errors), 0);
}

/* ---------- plain socket client ---------- */

typedef struct resp {
    int status;
    char headers[16384];
    size_t hlen;
    char *body;
    size_t blen;
    int body_calls;
    bool done;
    bool keep_alive;
    bool last_was_value;
} resp_t;

typedef struct client {
    int fd;
    char buf[65536];
    size_t off, len;
    http_parser p;
} client_t;

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static client_t *client_new(int port)
{
    client_t *c = calloc(1, sizeof *c);
    c->fd = connect_port(port);
    http_parser_init(&c->p, HTTP_RESPONSE);
    return c;
}

static void client_free(client_t *c)
{
    if (c->fd >= 0) close(c->fd);
    free(c);
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        assert_true(n > 0);
        data += n;
        len -= (size_t)n;
    }
}

static void send_str(client_t *c, const char *s)
{
    send_all(c->fd, s, strlen(s));
}

static void hdr_add(resp_t *r, const char *at, size_t len)
{
    if (r->hlen + len + 1 < sizeof r->headers) {
        memcpy(r->headers + r->hlen, at, len);
        r->hlen += len;
        r->headers[r->hlen] = '\0';
    }
}

static int rc_on_header_field(http_parser *p, const char *at, size_t len)
{
    resp_t *r = p->data;
    if (r->last_was_value) hdr_add(r, "\n", 1);
    r->last_was_value = false;
    hdr_add(r, at, len);
    return 0;
}

static int rc_on_header_value(http_parser *p, const char *at, size_t len)
{
    resp_t *r = p->data;
    if (!r->last_was_value) hdr_add(r, ": ", 2);
    r->last_was_value = true;
    hdr_add(r, at, len);
    return 0;
}

static int rc_on_headers_complete(http_parser *p)
{
    resp_t *r = p->data;
    r->status = p->status_code;
    hdr_add(r, "\n", 1);
    return 0;
}

static int rc_on_body(http_parser *p, const char *at, size_t len)
{
    resp_t *r = p->data;
    r->body = realloc(r->body, r->blen + len + 1);
    memcpy(r->body + r->blen, at, len);
    r->blen += len;
    r->body[r->blen] = '\0';
    r->body_calls++;
    return 0;
}

static int rc_on_message_complete(http_parser *p)
{
    resp_t *r = p->data;
    r->done = true;
    r->keep_alive = http_should_keep_alive(p);
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings rc_settings = {
    .on_header_field = rc_on_header_field,
    .on_header_value = rc_on_header_value,
    .on_headers_complete = rc_on_headers_complete,
    .on_body = rc_on_body,
    .on_message_complete = rc_on_message_complete,
};

/* Reads until a full response is parsed (or until stop(r) holds). Returns 0, or -1 on EOF or
 * error before that. */
static int client_read_until(client_t *c, resp_t *r, bool (*stop)(const resp_t *r))
{
    c->p.data = r;
    for (;;) {
        if (c->off < c->len) {
            size_t n = http_parser_execute(&c->p, &rc_settings, c->buf + c->off, c->len - c->off);
            c->off += n;
            if (HTTP_PARSER_ERRNO(&c->p) == HPE_PAUSED)
                http_parser_pause(&c->p, 0);
            else if (HTTP_PARSER_ERRNO(&c->p) != HPE_OK)
                return -1;
        }
        if (r->done || (stop && stop(r))) return 0;
        if (c->off == c->len) c->off = c->len = 0;
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (n <= 0) {
            if (n == 0) { /* EOF may complete a close-delimited body */
                http_parser_execute(&c->p, &rc_settings, NULL, 0);
                if (r->done) return 0;
            }
            return -1;
        }
        c->len += (size_t)n;
    }
}

static int client_read(client_t *c, resp_t *r)
{
    memset(r, 0, sizeof *r);
    return client_read_until(c, r, NULL);
}

static void resp_clear(resp_t *r)
{
    free(r->body);
    r->body = NULL;
}

/* True when the peer has closed (EOF or reset) within timeout_ms. */
static bool wait_eof(int fd, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    char tmp[4096];
    for (;;) {
        int rc = poll(&pfd, 1, timeout_ms);
        if (rc <= 0) return false;
        ssize_t n = recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0) return true;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool wait_counter(atomic_int *ctr, int want, int timeout_ms)
{
    for (int i = 0; i < timeout_ms; i += 5) {
        if (atomic_load(ctr) >= want) return true;
        usleep(5000);
    }
    return atomic_load(ctr) >= want;
}

/* ---------- tests: plain HTTP ---------- */

static void test_get_query_headers(void **state)
{
    harness_t *h = harness_start();
    client_t *c = client_new(h->port);
    send_str(c, "GET /echo/a%20b%2Fc?name=x%2By+z&flag&x=1 HTTP/1.1\r\nHost: t\r\n"
                "X-TEST: hello\r\nAccept: */*\r\n\r\n");
    resp_t r;
    assert_int_equal(client_read(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "M=GET "));
    assert_non_null(strstr(r.body, "P=/echo/a b/c "));
    assert_non_null(strstr(r.body, "Q=name=x%2By+z&flag&x=1 "));
    assert_non_null(strstr(r.body, "H=hello "));
    assert_non_null(strstr(r.body, "name=x+y z "));
    assert_non_null(strstr(r.body, "flag= "));
    assert_non_null(strstr(r.body, "L=0 T=0 R=1 B="));
    assert_non_null(strcasestr(r.headers, "Content-Type: text/plain\n"));
    assert_non_null(strcasestr(r.headers, "Content-Length: "));
    assert_non_null(strcasestr(r.headers, "Date: "));
    assert_non_null(strcasestr(r.headers, "X-Extra: yes\n"));
    assert_true(r.keep_alive);
    resp_clear(&r);

    /* absolute-form target; 404 from the handler; 204 without a body */
    send_str(c, "GET http://example/nothere?q=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(client_read(c, &r), 0);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "{}");
    resp_clear(&r);
    send_str(c, "DELETE /nocontent HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(client_read(c, &r), 0);
    assert_int_equal(r.status, 204);
    resp_clear(&r);
    /* HEAD: headers only */
    send_str(c, "HEAD /echo HTTP/1.1\r\nHost: t\r\n\r\n");
    memset(&r, 0, sizeof r);
    char buf[2048];
    ssize_t n = recv(c->fd, buf, sizeof buf - 1, 0);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\n"));
    assert_string_equal(strstr(buf, "\r\n\r\n"), "\r\n\r\n");
    client_free(c);
    harness_stop(h);
}

static void test_post_body(void **state)
{
    harness_t *h = harness_start();
    client_t *c = client_new(h->port);
    send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                "Content-Length: 11\r\n\r\nhello world");
    resp_t r;
    assert_int_equal(client_read(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "M=POST "));
    assert_non_null(strstr(r.body, "L=11 T=0 R=1 B=hello world"));
    resp_clear(&r);
    /* chunked request body, sent in small pieces */
    const char *req = "PUT /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    for (const char *p = req; *p; p++) {
        send_all(c->fd, p, 1);
        if ((p - req) % 7 == 0) usleep(200);
    }
    assert_int_equal(client_read(c, &r), 0);
    assert_non_null(strstr(r.body, "M=PUT "));
    assert_non_null(strstr(r.body, "L=11 T=0 R=1 B=hello world"));
    resp_clear(&r);
    /* Expect: 100-continue gets an interim response */
    send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                "Expect: 100-continue\r\n\r\n");
    char buf[256];
    ssize_t n = recv(c->fd, buf, sizeof buf - 1, 0);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, "HTTP/1.1 100 Continue\r\n\r\n");
    send_str(c, "abc");
    assert_int_equal(client_read(c, &r), 0);
    assert_non_null(strstr(r.body, "L=3 T=0 R=1 B=abc"));
    resp_clear(&r);
    client_free(c);
    harness_stop(h);
}

static void test_keepalive_many(void **state)
{
    harness_t *h = harness_start();
    client_t *c = client_new(h->port);
    const char *req = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                      "Content-Length: 28\r\n\r\n{\"kind\":\"ConfigMap\",\"x\":123}";
    int before = atomic_load(&g_handled);
    double t0 = now_s();
    for (int i = 0; i < 1000; i++) {
        send_str(c, req);
        resp_t r;
        assert_int_equal(client_read(c, &r), 0);
        assert_int_equal(r.status, 200);
        assert_true(r.keep_alive);
        resp_clear(&r);
    }
    double dt = now_s() - t0;
    fprintf(stderr, "# 1000 keep-alive requests in %.3fs (%.0f req/s)\n", dt, 1000 / dt);
    assert_int_equal(atomic_load(&g_handled) - before, 1000);

    /* libcurl reuses the one connection as well */
    CURL *e = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo?i=1", h->port);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, (curl_write_callback)NULL);
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(e, CURLOPT_WRITEDATA, devnull);
    long total_connects = 0;
    for (int i = 0; i < 50; i++) {
        assert_int_equal(curl_easy_perform(e), CURLE_OK);
        long code = 0, nc = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &nc);
        assert_int_equal(code, 200);
        total_connects += nc;
    }
    assert_int_equal(total_connects, 1);
    curl_easy_cleanup(e);
    fclose(devnull);
    client_free(c);
    harness_stop(h);
}

static void test_pipelining(void **state)
{
    harness_t *h = harness_start();
    client_t *c = client_new(h->port);
    /* The first answer comes from a timer; the others must wait and stay in order. */
    send_str(c, "GET /later?a=1 HTTP/1.1\r\nHost: t\r\n\r\n"
                "GET /echo?b=2 HTTP/1.1\r\nHost: t\r\n\r\n"
                "POST /echo?c=3 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi"
                "GET /later?d=4 HTTP/1.1\r\nHost: t\r\n\r\n");
    resp_t r;
    assert_int_equal(client_read(c, &r), 0);
    assert_string_equal(r.body, "later P=/later Q=a=1");
    resp_clear(&r);
    assert_int_equal(client_read(c, &r), 0);
    assert_non_null(strstr(r.body, "Q=b=2 "));
    resp_clear(&r);
    assert_int_equal(client_read(c, &r), 0);
    assert_non_null(strstr(r.body, "Q=c=3 "));
    assert_non_null(strstr(r.body, "B=hi"));
    resp_clear(&r);
    assert_int_equal(client_read(c, &r), 0);
    assert_string_equal(r.body, "later P=/later Q=d=4");
    resp_clear(&r);
    client_free(c);

    /* A client that leaves before a deferred answer: the answer is dropped quietly. */
    c = client_new(h->port);
    send_str(c, "GET /later?gone=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    usleep(5000);
    client_free(c);
    /* ... or resets the connection (the request is detached until the handler answers) */
    c = client_new(h->port);
    send_str(c, "GET /later?reset=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    usleep(5000);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    client_free(c);
    usleep(80000);
    /* the server stops while a deferred answer is pending */
    c = client_new(h->port);
    send_str(c, "GET /later?stop=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    usleep(5000);
    harness_stop(h);
    client_free(c);
}

static void test_backpressure(void **state)
{
    harness_t *h = harness_start();
    client_t *c = client_new(h->port);
    /* A deferred request, then > 1 MiB of pipelined requests: the server stops reading while
     * they pile up, then works through them in order. */
    enum { N = 30000 };
    size_t cap = (size_t)N * 64 + 128;
    char *all = malloc(cap);
    size_t off = (size_t)snprintf(all, cap, "GET /later?first=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    for (int i = 0; i < N; i++)
        off +=
            (size_t)snprintf(all + off, cap - off, "GET /echo?i=%d HTTP/1.1\r\nHost: t\r\n\r\n", i);
    assert_true(off > 1024 * 1024);
    send_all(c->fd, all, off);
    free(all);
    resp_t r;
    assert_int_equal(client_read(c, &r), 0);
    assert_string_equal(r.body, "later P=/later Q=first=1");
    resp_clear(&r);
    for (int i = 0; i < N; i++) {
        assert_int_equal(client_read(c, &r), 0);
        char want[32];
        snprintf(want, sizeof want, "Q=i=%d ", i);
        assert_non_null(strstr(r.body, want));
        resp_clear(&r);
    }

    /* a stream faster than the client reads: pending bytes are tracked */
    atomic_store(&g_pending, 0);
    send_str(c, "GET /flood HTTP/1.1\r\nHost: t\r\n\r\n");
    usleep(100000);
    assert_int_equal(client_read(c, &r), 0);
    assert_int_equal(r.blen, 64 * 256 * 1024);
    resp_clear(&r);
    assert_true(atomic_load(&g_pending) > 0);

    /* reason phrases */
    const int codes[] = {201, 409, 422, 429, 299};
    const char *want[] = {"201 Created", "409 Conflict", "422 Unprocessable Entity",
                          "429 Too Many Requests", "299 Unknown"};
    for (int i = 0; i < 5; i++) {
        char req[128];
        snprintf(req, sizeof req, "GET /status?code=%d HTTP/1.1\r\nHost: t\r\n\r\n", codes[i]);
        send_str(c, req);
        char buf[512];
        ssize_t n = recv(c->fd, buf, sizeof buf - 1, 0);
        assert_true(n > 0);
        buf[n] = '\0';
        char line[64];
        snprintf(line, sizeof line, "HTTP/1.1 %s\r\n", want[i]);
        assert_non_null(strstr(buf, line));
    }
    client_free(c);
    harness_stop(h);
}

static void test_connection_close_and_http10(void **state)
{
    harness_t *h = harness_start();
    client_t *c = client_new(h->port);
    send_str(c, "GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    resp_t r;
    assert_int_equal(client_read(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_false(r.keep_alive);
    assert_non_null(strcasestr(r.headers, "Connection: close"));
    resp_clear(&r);
    assert_true(wait_eof(c->fd, 2000));
    client_free(c);

    c = client_new(h->port);
    send_str(c, "GET /echo?v=10 HTTP/1.0\r\n\r\n");
    assert_int_equal(client_read(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "Q=v=10 "));
    resp_clear(&r);
    assert_true(wait_eof(c->fd, 2000));
    client_free(c);

    /* HTTP/1.0 keep-alive */
    c = client_new(h->port);
    for (int i = 0; i < 2; i++) {
        send_str(c, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert_int_equal(client_read(c, &r), 0);
        assert_int_equal(r.status, 200);
        assert_non_null(strcasestr(r.headers, "Connection: keep-alive"));
        resp_clear(&r);
    }
    /* HTTP/1.0 stream: close-delimited body */
    send_str(c, "GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_int_equal(client_read(c, &r), 0);
    assert_string_equal(r.body, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    assert_null(strcasestr(r.headers, "Transfer-Encoding"));
    resp_clear(&r);
    client_free(c);

    /* half-close after pipelined requests: every response still arrives */
    c = client_new(h->port);
    send_str(c, "GET /later?half=1 HTTP/1.1\r\nHost: t\r\n\r\n"
                "GET /echo?half=2 HTTP/1.1\r\nHost: t\r\n\r\n");
    shutdown(c->fd, SHUT_WR);
    assert_int_equal(client_read(c, &r), 0);
    assert_string_equal(r.body, "later P=/later Q=half=1");
    resp_clear(&r);
    assert_int_equal(client_read(c, &r), 0);
    assert_non_null(strstr(r.body, "Q=half=2 "));
    resp_clear(&r);
    assert_true(wait_eof(c->fd, 2000));
    client_free(c);
    harness_stop(h);
}

static void test_body_too_large(void **state)
{
    harness_t *h = harness_start();
    client_t *c = client_new(h->port);
    size_t big = 3 * 1024 * 1024 + 1;
    char *body = malloc(big);
    memset(body, 'a', big);
    char head[256];
    snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n",
             big);
    send_str(c, head);
    send_all(c->fd, body, big);
    resp_t r;
    assert_int_equal(client_read(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "L=0 T=1 R=1 B="));
    assert_true(r.keep_alive);
    resp_clear(&r);
    /* exactly the limit is accepted */
    snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n",
             big - 1);
    send_str(c, head);
    send_all(c->fd, body, big - 1);
    assert_int_equal(client_read(c, &r), 0);
    assert_non_null(strstr(r.body, "L=3145728 T=0 R=1 B=aaaa"));
    assert_int_equal(strlen(strstr(r.body, "B=")) - 2, big - 1);
    resp_clear(&r);
    /* chunked body over the limit (no Content-Length to check up front) */
    send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    char ch[64];
    for (int i = 0; i < 4; i++) {
        size_t part = 1024 * 1024;
        snprintf(ch, sizeof ch, "%zx\r\n", part);
        send_str(c, ch);
        send_all(c->fd, body, part);
        send_str(c, "\r\n");
    }
    send_str(c, "0\r\n\r\n");
    assert_int_equal(client_read(c, &r), 0);
    assert_non_null(strstr(r.body, "L=0 T=1 R=1 B="));
    resp_clear(&r);
    /* the connection is still usable */
    send_str(c, "GET /echo?after=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(client_read(c, &r), 0);
    assert_non_null(strstr(r.body, "Q=after=1 "));
    resp_clear(&r);
    free(body);
    client_free(c);

    /* a smaller configured limit */
    harness_stop(h);
    http_server_config_t cfg = {.host = "127.0.0.1", .max_body = 10};
    h = harness_start_cfg(&cfg);
    c = client_new(h->port);
    send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world");
    assert_int_equal(client_read(c, &r), 0);
    assert_non_null(strstr(r.body, "L=0 T=1 "));
    resp_clear(&r);
    send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhelloworld");
    assert_int_equal(client_read(c, &r), 0);
    assert_non_null(strstr(r.body, "L=10 T=0 "));
    resp_clear(&r);
    client_free(c);
    harness_stop(h);
}

static void expect_bad_request(int port, const char *data, size_t len)
{
    client_t *c = client_new(port);
    send_all(c->fd, data, len);
    resp_t r;
    assert_int_equal(client_read(c, &r), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"kind\":\"Status\""));
    assert_non_null(strstr(r.body, "\"apiVersion\":\"v1\""));
    assert_non_null(strstr(r.body, "\"status\":\"Failure\""));
    assert_non_null(strstr(r.body, "\"reason\":\"BadRequest\""));
    assert_non_null(strstr(r.body, "\"code\":400"));
    assert_non_null(strcasestr(r.headers, "Content-Type: application/json"));
    resp_clear(&r);
    assert_true(wait_eof(c->fd, 2000));
    client_free(c);
}

static void test_malformed(void **state)
{
    harness_t *h = harness_start();
    const char *g1 = "GARBAGE\r\n\r\n";
    expect_bad_request(h->port, g1, strlen(g1));
    const char *g2 = "GET / HTTP/1.1\r\nBad Header\r\n\r\n";
    expect_bad_request(h->port, g2, strlen(g2));
    const char *g3 = "POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n";
    expect_bad_request(h->port, g3, strlen(g3));
    const char *g4 = "GET /a%00b HTTP/1.1\r\nHost: t\r\n\r\n";
    expect_bad_request(h->port, g4, strlen(g4));
    const char g5[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage";
    expect_bad_request(h->port, g5, sizeof g5 - 1);
    /* oversized headers */
    size_t big = 70 * 1024;
    char *req = malloc(big + 128);
    int n = snprintf(req, big + 128, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: ");
    memset(req + n, 'b', big);
    memcpy(req + n + big, "\r\n\r\n", 4);
    expect_bad_request(h->port, req, (size_t)n + big + 4);
    /* many small headers adding up */
    size_t off = 0;
    off += (size_t)snprintf(req + off, big + 128 - off, "GET / HTTP/1.1\r\n");
    while (off + 40 < big)
        off += (size_t)snprintf(req + off, big + 128 - off, "X-H%zu: vvvvvvvvvvvvvvvv\r\n", off);
    off += (size_t)snprintf(req + off, big + 128 - off, "\r\n");
    expect_bad_request(h->port, req, off);
    free(req);

    /* random garbage on many connections: the server survives */
    unsigned seed = 12345;
    for (int i = 0; i < 50; i++) {
        int fd = connect_port(h->port);
        char junk[512];
        size_t jl = 1 + (size_t)(rand_r(&seed) % (int)sizeof junk);
        for (size_t j = 0; j < jl; j++)
            junk[j] = (char)rand_r(&seed);
        if (i % 3 == 0) memcpy(junk, "GET /", 5 < jl ? 5 : jl);
        send(fd, junk, jl, MSG_NOSIGNAL);
        if (i % 2) wait_eof(fd, 200);
        close(fd);
    }
    /* partial request, then vanish */
    for (int i = 0; i < 20; i++) {
        int fd = connect_port(h->port);
        send(fd, "POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc", 48, MSG_NOSIGNAL);
        close(fd);
    }
    client_t *c = client_new(h->port);
    send_str(c, "GET /echo?ok=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    resp_t r;
    assert_int_equal(client_read(c, &r), 0);
    assert_int_equal(r.status, 200);
    resp_clear(&r);
    client_free(c);
    harness_stop(h);
}

static bool saw_first_event(const resp_t *r)
{
    return r->body && strstr(r->body, "ADDED");
}

static void test_streaming(void **state)
{
    harness_t *h = harness_start();
    client_t *c = client_new(h->port);
    send_str(c, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
    resp_t r;
    assert_int_equal(client_read(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strcasestr(r.headers, "Transfer-Encoding: chunked"));
    assert_null(strcasestr(r.headers, "Content-Length"));
    assert_string_equal(r.body, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    resp_clear(&r);
    /* keep-alive after a finished stream */
    send_str(c, "GET /echo?after=stream HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(client_read(c, &r), 0);
    assert_non_null(strstr(r.body, "Q=after=stream "));
    resp_clear(&r);
    client_free(c);

    /* libcurl sees the same chunked body */
    CURL *e = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/stream", h->port);
    curl_easy_setopt(e, CURLOPT_URL, url);
    char *mem = NULL;
    size_t memlen = 0;
    FILE *f = open_memstream(&mem, &memlen);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    fclose(f);
    assert_string_equal(mem, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    free(mem);
    curl_easy_cleanup(e);
    harness_stop(h);
}

static void test_disconnect_mid_stream(void **state)
{
    atomic_store(&g_watch_closed, 0);
    harness_t *h = harness_start();
    client_t *c = client_new(h->port);
    send_str(c, "GET /watch?watch=true HTTP/1.1\r\nHost: t\r\n\r\n");
    resp_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(client_read_until(c, &r, saw_first_event), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strcasestr(r.headers, "Transfer-Encoding: chunked"));
    resp_clear(&r);
    usleep(20000);
    assert_int_equal(atomic_load(&g_watch_closed), 0);
    client_free(c);
    assert_true(wait_counter(&g_watch_closed, 1, 3000));
    usleep(20000);
    assert_int_equal(atomic_load(&g_watch_closed), 1);

    /* reset (SO_LINGER 0) instead of FIN */
    c = client_new(h->port);
    send_str(c, "GET /watch HTTP/1.1\r\nHost: t\r\n\r\n");
    memset(&r, 0, sizeof r);
    assert_int_equal(client_read_until(c, &r, saw_first_event), 0);
    resp_clear(&r);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    client_free(c);
    assert_true(wait_counter(&g_watch_closed, 2, 3000));

    /* open watches are closed by http_server_stop, which runs their callbacks */
    client_t *w[3];
    for (int i = 0; i < 3; i++) {
        w[i] = client_new(h->port);
        send_str(w[i], "GET /watch HTTP/1.1\r\nHost: t\r\n\r\n");
        memset(&r, 0, sizeof r);
        assert_int_equal(client_read_until(w[i], &r, saw_first_event), 0);
        resp_clear(&r);
    }
    /* a big response to a client that never reads, then vanishes */
    c = client_new(h->port);
    send_str(c, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
    usleep(50000);
    client_free(c);
    harness_stop(h);
    assert_int_equal(atomic_load(&g_watch_closed), 5);
    for (int i = 0; i < 3; i++) {
        assert_true(wait_eof(w[i]->fd, 2000));
        client_free(w[i]);
    }
}

static void test_concurrent_connections(void **state)
{
    harness_t *h = harness_start();
    enum { N = 200 };
    client_t **cs = calloc(N, sizeof *cs);
    for (int i = 0; i < N; i++)
        cs[i] = client_new(h->port);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            char req[128];
            snprintf(req, sizeof req, "GET /echo?i=%d HTTP/1.1\r\nHost: t\r\n\r\n", i);
            send_str(cs[i], req);
        }
        for (int i = N - 1; i >= 0; i--) {
            resp_t r;
            assert_int_equal(client_read(cs[i], &r), 0);
            char want[32];
            snprintf(want, sizeof want, "Q=i=%d ", i);
            assert_non_null(strstr(r.body, want));
            resp_clear(&r);
        }
    }
    for (int i = 0; i < N; i++)
        client_free(cs[i]);
    free(cs);
    harness_stop(h);
}

static void test_bind_errors(void **state)
{
    harness_t *h = harness_start();
    uv_loop_t loop;
    uv_loop_init(&loop);
    http_server_t *srv = (http_server_t *)1;
    char err[256];
    http_server_config_t cfg = {.host = "127.0.0.1", .port = h->port};
    int rc = http_server_start(&loop, &cfg, handler, &loop, &srv, err, sizeof err);
    assert_true(rc < 0);
    assert_null(srv);
    assert_true(err[0] != '\0');
    cfg.host = "not-an-ip";
    rc = http_server_start(&loop, &cfg, handler, &loop, &srv, err, sizeof err);
    assert_true(rc < 0);
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.cert_pem = "not a pem";
    cfg.key_pem = "nope";
    rc = http_server_start(&loop, &cfg, handler, &loop, &srv, err, sizeof err);
    assert_int_equal(rc, -EINVAL);
    assert_null(srv);
    /* the plain start (no TLS engine linked) refuses TLS material with a message */
    srv = (http_server_t *)1;
    err[0] = '\0';
    rc = http_server_start_plain(&loop, &cfg, handler, &loop, &srv, err, sizeof err);
    assert_int_equal(rc, -EINVAL);
    assert_null(srv);
    assert_true(err[0] != '\0');
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    harness_stop(h);
}

static void test_query_decode(void **state)
{
    http_request_t req = {.query = "a=1&b=x%20y+z&c&d=&e%3Dk=v&a=2&pct=%zz%4"};
    char *v;
    assert_string_equal(v = http_request_query(&req, "a"), "1");
    free(v);
    assert_string_equal(v = http_request_query(&req, "b"), "x y z");
    free(v);
    assert_string_equal(v = http_request_query(&req, "c"), "");
    free(v);
    assert_string_equal(v = http_request_query(&req, "d"), "");
    free(v);
    assert_string_equal(v = http_request_query(&req, "e=k"), "v");
    free(v);
    assert_string_equal(v = http_request_query(&req, "pct"), "%zz%4");
    free(v);
    assert_null(http_request_query(&req, "missing"));
    assert_null(http_request_query(&req, ""));
    http_request_t empty = {.query = ""};
    assert_null(http_request_query(&empty, "a"));
    http_request_t sel = {.query = "labelSelector=app%3Dweb%2Cenv+in+%28a%2Cb%29&limit=500"};
    assert_string_equal(v = http_request_query(&sel, "labelSelector"), "app=web,env in (a,b)");
    free(v);
    assert_string_equal(v = http_request_query(&sel, "limit"), "500");
    free(v);
}

/* ---------- TLS ---------- */

typedef struct pki {
    char *ca_cert, *srv_cert, *srv_key, *cli_cert, *cli_key, *rogue_cert, *rogue_key;
} pki_t;

static pki_t g_pki;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(ex);
    X509_add_ext(x, ex, -1);
    X509_EXTENSION_free(ex);
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       int kind /* 0 CA, 1 server, 2 client */)
{
    static long serial = 1;
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    add_ext(x, issuer, NID_subject_key_identifier, "hash");
    if (kind == 0) {
        add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
        add_ext(x, issuer, NID_ext_key_usage, kind == 1 ? "serverAuth" : "clientAuth");
        if (kind == 1) add_ext(x, issuer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    }
    assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    return x;
}

static char *bio_str(BIO *b)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *s = malloc((size_t)n + 1);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(b);
    return s;
}

static char *cert_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    return bio_str(b);
}

static char *key_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    return bio_str(b);
}

static int pki_setup(void **state)
{
    EVP_PKEY *cak = EVP_EC_gen("P-256"), *sk = EVP_EC_gen("P-256"), *ck = EVP_EC_gen("P-256"),
             *rk = EVP_EC_gen("P-256");
    X509 *ca = make_cert(cak, "test-ca", NULL, NULL, 0);
    X509 *sc = make_cert(sk, "localcluster", ca, cak, 1);
    X509 *cc = make_cert(ck, "alice", ca, cak, 2);
    X509 *rc = make_cert(rk, "mallory", NULL, NULL, 2); /* self-signed, not from the CA */
    g_pki.ca_cert = cert_pem(ca);
    g_pki.srv_cert = cert_pem(sc);
    g_pki.srv_key = key_pem(sk);
    g_pki.cli_cert = cert_pem(cc);
    g_pki.cli_key = key_pem(ck);
    g_pki.rogue_cert = cert_pem(rc);
    g_pki.rogue_key = key_pem(rk);
    X509_free(ca);
    X509_free(sc);
    X509_free(cc);
    X509_free(rc);
    EVP_PKEY_free(cak);
    EVP_PKEY_free(sk);
    EVP_PKEY_free(ck);
    EVP_PKEY_free(rk);
    return 0;
}

static int pki_teardown(void **state)
{
    free(g_pki.ca_cert);
    free(g_pki.srv_cert);
    free(g_pki.srv_key);
    free(g_pki.cli_cert);
    free(g_pki.cli_key);
    free(g_pki.rogue_cert);
    free(g_pki.rogue_key);
    return 0;
}

typedef struct curl_result {
    CURLcode rc;
    long code;
    long http_version;
    char *body;
    size_t len;
} curl_result_t;

static void curl_tls_get(int port, const char *path, const char *cert, const char *key,
                         curl_result_t *res, long http_version, int repeat)
{
    CURL *e = curl_easy_init();
    char url[256];
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(e, CURLOPT_URL, url);
    struct curl_blob ca = {.data = g_pki.ca_cert, .len = strlen(g_pki.ca_cert)};
    curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, http_version);
    if (cert) {
        struct curl_blob cb = {.data = (void *)cert, .len = strlen(cert)};
        struct curl_blob kb = {.data = (void *)key, .len = strlen(key)};
        curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cb);
        curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &kb);
        curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
    }
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
    memset(res, 0, sizeof *res);
    for (int i = 0; i < repeat; i++) {
        free(res->body);
        res->body = NULL;
        FILE *f = open_memstream(&res->body, &res->len);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
        res->rc = curl_easy_perform(e);
        fclose(f);
        if (res->rc != CURLE_OK) break;
    }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &res->code);
    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &res->http_version);
    curl_easy_cleanup(e);
}

/* Raw OpenSSL client: offers alpn, returns the selected protocol ("" if none) and whether a
 * request over the connection was answered. */
static bool raw_tls_request(int port, const unsigned char *alpn, unsigned alpn_len, char *sel,
                            size_t sellen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    BIO *b = BIO_new_mem_buf(g_pki.ca_cert, -1);
    X509 *ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
    X509_free(ca);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL *ssl = SSL_new(ctx);
    if (alpn) SSL_set_alpn_protos(ssl, alpn, alpn_len);
    int fd = connect_port(port);
    SSL_set_fd(ssl, fd);
    bool ok = false;
    if (SSL_connect(ssl) == 1) {
        const unsigned char *p = NULL;
        unsigned pl = 0;
        SSL_get0_alpn_selected(ssl, &p, &pl);
        snprintf(sel, sellen, "%.*s", (int)pl, p ? (const char *)p : "");
        const char *req = "GET /peer HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
        SSL_write(ssl, req, (int)strlen(req));
        char buf[4096];
        size_t got = 0;
        int n;
        while ((n = SSL_read(ssl, buf + got, (int)(sizeof buf - 1 - got))) > 0)
            got += (size_t)n;
        buf[got] = '\0';
        /* close_notify from the server ends the read cleanly */
        ok = strstr(buf, "HTTP/1.1 200 OK") && strstr(buf, "valid=0") &&
             SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN;
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    ERR_clear_error();
    return ok;
}

static void test_tls(void **state)
{
    http_server_config_t cfg = {.host = "127.0.0.1",
                                .cert_pem = g_pki.srv_cert,
                                .key_pem = g_pki.srv_key,
                                .ca_pem = g_pki.ca_cert};
    harness_t *h = harness_start_cfg(&cfg);
    curl_result_t res;

    /* no client certificate: allowed, not valid */
    curl_tls_get(h->port, "/peer", NULL, NULL, &res, CURL_HTTP_VERSION_1_1, 1);
    assert_int_equal(res.rc, CURLE_OK);
    assert_int_equal(res.code, 200);
    assert_string_equal(res.body, "valid=0 cn=");
    free(res.body);

    /* client certificate signed by the CA: valid, CN exposed; keep-alive over TLS */
    curl_tls_get(h->port, "/peer", g_pki.cli_cert, g_pki.cli_key, &res, CURL_HTTP_VERSION_1_1, 20);
    assert_int_equal(res.rc, CURLE_OK);
    assert_string_equal(res.body, "valid=1 cn=alice");
    free(res.body);

    /* a client offering h2 still gets HTTP/1.1 */
    curl_tls_get(h->port, "/peer", g_pki.cli_cert, g_pki.cli_key, &res, CURL_HTTP_VERSION_2TLS, 1);
    assert_int_equal(res.rc, CURLE_OK);
    assert_int_equal(res.http_version, CURL_HTTP_VERSION_1_1);
    assert_string_equal(res.body, "valid=1 cn=alice");
    free(res.body);

    /* a certificate from another CA is refused (that connection only) */
    curl_tls_get(h->port, "/peer", g_pki.rogue_cert, g_pki.rogue_key, &res, CURL_HTTP_VERSION_1_1,
                 1);
    assert_int_not_equal(res.rc, CURLE_OK);
    free(res.body);

    /* POST body, streaming and large bodies over TLS */
    CURL *e = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/echo?x=1", h->port);
    struct curl_blob ca = {.data = g_pki.ca_cert, .len = strlen(g_pki.ca_cert)};
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca);
    size_t blen = 200000;
    char *pbody = malloc(blen + 1);
    memset(pbody, 'z', blen);
    pbody[blen] = '\0';
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, pbody);
    char *mem = NULL;
    size_t memlen = 0;
    FILE *f = open_memstream(&mem, &memlen);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    fclose(f);
    assert_non_null(strstr(mem, "L=200000 T=0 "));
    assert_int_equal(memlen, strlen(mem));
    free(mem);
    free(pbody);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/stream", h->port);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    f = open_memstream(&mem, &memlen);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    fclose(f);
    assert_string_equal(mem, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    free(mem);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/big", h->port);
    curl_easy_setopt(e, CURLOPT_URL, url);
    f = open_memstream(&mem, &memlen);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    fclose(f);
    assert_int_equal(memlen, 8 * 1024 * 1024);
    free(mem);
    curl_easy_cleanup(e);

    /* ALPN: http/1.1 chosen from h2+http/1.1; no ALPN when only h2 is offered */
    char sel[32];
    assert_true(
        raw_tls_request(h->port, (const unsigned char *)"\x02h2\x08http/1.1", 12, sel, sizeof sel));
    assert_string_equal(sel, "http/1.1");
    assert_true(raw_tls_request(h->port, (const unsigned char *)"\x02h2", 3, sel, sizeof sel));
    assert_string_equal(sel, "");

    /* plaintext and garbage to the TLS port close that connection only */
    int fd = connect_port(h->port);
    send_all(fd, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", 27);
    assert_true(wait_eof(fd, 2000));
    close(fd);
    fd = connect_port(h->port);
    send_all(fd, "\x16\x03\x01\x00\x05hello", 10);
    assert_true(wait_eof(fd, 2000));
    close(fd);

    /* a TLS watch: the client vanishes mid-stream */
    atomic_store(&g_watch_closed, 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/watch", h->port);
    e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 300L);
    f = fopen("/dev/null", "w");
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    assert_int_equal(curl_easy_perform(e), CURLE_OPERATION_TIMEDOUT);
    curl_easy_cleanup(e);
    fclose(f);
    assert_true(wait_counter(&g_watch_closed, 1, 3000));

    /* still serving */
    curl_tls_get(h->port, "/peer", NULL, NULL, &res, CURL_HTTP_VERSION_1_1, 1);
    assert_int_equal(res.rc, CURLE_OK);
    free(res.body);
    harness_stop(h);

    /* TLS without client CA: certificates are not requested */
    http_server_config_t cfg2 = {
        .host = "127.0.0.1", .cert_pem = g_pki.srv_cert, .key_pem = g_pki.srv_key};
    h = harness_start_cfg(&cfg2);
    curl_tls_get(h->port, "/peer", g_pki.cli_cert, g_pki.cli_key, &res, CURL_HTTP_VERSION_1_1, 1);
    assert_int_equal(res.rc, CURLE_OK);
    assert_string_equal(res.body, "valid=0 cn=");
    free(res.body);
    harness_stop(h);

    /* mismatched key */
    uv_loop_t loop;
    uv_loop_init(&loop);
    http_server_t *srv;
    http_server_config_t bad = {
        .host = "127.0.0.1", .cert_pem = g_pki.srv_cert, .key_pem = g_pki.cli_key};
    char err[256];
    assert_int_equal(http_server_start(&loop, &bad, handler, &loop, &srv, err, sizeof err),
                     -EINVAL);
    assert_null(srv);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_decode),
        cmocka_unit_test(test_get_query_headers),
        cmocka_unit_test(test_post_body),
        cmocka_unit_test(test_keepalive_many),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_connection_close_and_http10),
        cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_streaming),
        cmocka_unit_test(test_disconnect_mid_stream),
        cmocka_unit_test(test_concurrent_connections),
        cmocka_unit_test(test_bind_errors),
        cmocka_unit_test(test_tls),
    };
    int rc = cmocka_run_group_tests(tests, pki_setup, pki_teardown);
    curl_global_cleanup();
    return rc;
}
