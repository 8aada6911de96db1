/* http_server: the project's one HTTP/1.1 server, on a libuv loop, with requests parsed by
 * http_parser (Debian's libhttp-parser) and optional TLS through OpenSSL memory BIOs.
 * It owns connections, keep-alive, request framing, body limits and response framing
 * (Content-Length or chunked streams). It knows nothing about Kubernetes. */
#ifndef BASE_HTTP_SERVER_H
#define BASE_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct http_server http_server_t;
typedef struct http_request http_request_t;

/* One request. Every string is NUL-terminated and owned by the server; valid until the
 * response is finished (http_respond, or http_stream_end) or the close callback ran. */
struct http_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* percent-decoded path, without the query */
    const char *query;  /* raw query string without '?', "" if none (not decoded) */
    const char *body;   /* NUL-terminated copy of the body ("" if none) */
    size_t body_len;
    bool body_too_large;  /* body exceeded the server's max_body; body is empty then */
    bool peer_cert_valid; /* TLS: the client presented a certificate that verified */
    char peer_cn[128];    /* TLS: client certificate subject CN, "" if none */
    char remote_addr[64]; /* "127.0.0.1:54321" */
    void *user;           /* free for the handler's use */
};

/* Called once per complete request. The handler must finish it exactly once, now or later
 * (from the same loop), with http_respond or http_stream_start...http_stream_end. */
typedef void (*http_handler_fn)(http_request_t *req, void *ud);

typedef struct http_server_config {
    const char *host; /* "127.0.0.1" */
    int port;         /* 0 = pick a free port; see http_server_port */
    size_t max_body;  /* bodies larger than this set req->body_too_large (0 = 3 MiB) */
    /* TLS: if cert_pem/key_pem are set, the server speaks only TLS. If ca_pem is set, client
     * certificates are requested and verified against it (not required: a client may use a
     * bearer token instead; see req->peer_cert_valid). PEM strings are borrowed. */
    const char *cert_pem;
    const char *key_pem;
    const char *ca_pem;
} http_server_config_t;

/* Creates and binds the server on loop. Returns 0 or a negative errno-style code (a uv error
 * code for bind errors, -EINVAL for bad TLS material); on error *out is NULL and errbuf (may be
 * NULL) holds a message. */
int http_server_start(uv_loop_t *loop, const http_server_config_t *cfg, http_handler_fn handler,
                      void *ud, http_server_t **out, char *errbuf, size_t errlen);
/* The same without TLS support: cfg must not carry TLS material (-EINVAL). A program that
 * starts its servers only with this links no OpenSSL (the TLS engine lives in http_tls.c, which
 * http_server_start pulls in), which keeps small daemons small (the task-executor). */
int http_server_start_plain(uv_loop_t *loop, const http_server_config_t *cfg,
                            http_handler_fn handler, void *ud, http_server_t **out, char *errbuf,
                            size_t errlen);
/* The bound port (useful with port 0). */
int http_server_port(const http_server_t *srv);
/* Closes the listener and every connection (streams get their close callbacks), then frees the
 * server once libuv has closed all handles. Safe to call once. */
void http_server_stop(http_server_t *srv);

/* Header lookup; name is case-insensitive. Returns the value (owned by the request) or NULL. */
const char *http_request_header(const http_request_t *req, const char *name);
/* Query parameter lookup: returns a malloc'd percent-decoded value ('+' is a space), "" for a
 * key without '=', or NULL if absent. Caller frees. */
char *http_request_query(const http_request_t *req, const char *key);

/* A complete response with Content-Length. extra_headers is NULL or CRLF-terminated lines
 * ("Warning: 299 - \"x\"\r\n"). The body is copied. Finishes the request. */
void http_respond(http_request_t *req, int status, const char *content_type, const char *body,
                  size_t len, const char *extra_headers);

/* Streaming (chunked) response, as a watch uses. Start once, write chunks, end once.
 * http_stream_write returns 0 or -EPIPE if the client is gone (the close callback has then run
 * or will run; stop writing). http_stream_end finishes the request (sends the last chunk). */
int http_stream_start(http_request_t *req, int status, const char *content_type,
                      const char *extra_headers);
int http_stream_write(http_request_t *req, const char *data, size_t len);
void http_stream_end(http_request_t *req);
/* Bytes accepted by http_stream_write and not yet written to the socket. */
size_t http_stream_pending(const http_request_t *req);
/* cb runs once if the connection closes before the request is finished (client went away,
 * server stopping). After cb returns the request is freed: never touch it again. */
void http_request_on_close(http_request_t *req, void (*cb)(http_request_t *req, void *ud),
                           void *ud);

#endif
