/* http_tls: the TLS engine of http_server (OpenSSL with memory BIOs), behind an ops table so that
 * http_server.c never references OpenSSL or http_tls.c. A binary that starts its servers only
 * with http_server_start_plain does not link OpenSSL at all (the task-executor's idle RSS);
 * http_server_start, defined in http_tls.c, passes these ops. Internal to internal/base. */
#ifndef BASE_HTTP_TLS_H
#define BASE_HTTP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/http_server.h"

/* http_tls_ops_t.read results other than a byte count */
#define HTTP_TLS_WANT 0  /* needs more ciphertext */
#define HTTP_TLS_EOF  -1 /* the peer sent close_notify */
#define HTTP_TLS_FAIL -2 /* fatal: flush what is pending (an alert) and close */

typedef struct http_tls_ops {
    /* Server context from cfg->cert_pem/key_pem/ca_pem (borrowed). 0 and *ctx, or -EINVAL /
     * -ENOMEM with a message in errbuf (may be NULL). */
    int (*ctx_new)(const http_server_config_t *cfg, void **ctx, char *errbuf, size_t errlen);
    void (*ctx_free)(void *ctx);
    /* Per-connection state in accept mode; NULL on failure. */
    void *(*conn_new)(void *ctx);
    void (*conn_free)(void *tls);
    /* Ciphertext from the socket: 0, or -1 (fatal). */
    int (*put_input)(void *tls, const char *data, size_t n);
    /* Advances the handshake: 1 done, 0 needs more input, -1 failed (flush the alert). */
    int (*handshake)(void *tls);
    /* After the handshake: true and the subject CN (cn[0] = "" if none) when the client presented
     * a certificate that verified against the server's client CA. */
    bool (*peer)(void *tls, char *cn, size_t cnlen);
    /* Decrypted input into buf (room > 0): a byte count or HTTP_TLS_WANT/EOF/FAIL. */
    ssize_t (*read)(void *tls, char *buf, size_t room);
    /* Encrypts plaintext (all of it): 0 or -1. */
    int (*write)(void *tls, const char *data, size_t n);
    /* Ciphertext waiting to be sent, and taking it (returns the bytes copied, 0 if none). */
    size_t (*output_pending)(void *tls);
    size_t (*take_output)(void *tls, char *buf, size_t n);
    /* Queues close_notify. */
    void (*shutdown)(void *tls);
} http_tls_ops_t;

/* http_server_start with the TLS engine tls (NULL: TLS material in cfg is refused with
 * -EINVAL). Defined in http_server.c. */
int http_server_start_ops(uv_loop_t *loop, const http_server_config_t *cfg,
                          const http_tls_ops_t *tls, http_handler_fn handler, void *ud,
                          http_server_t **out, char *errbuf, size_t errlen);

#endif
