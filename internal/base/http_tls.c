/* http_tls: http_server's TLS engine (OpenSSL, memory BIOs, ALPN http/1.1, optional client
 * certificates) as the ops table of base/http_tls.h, and http_server_start, the server entry
 * with TLS support (http_server_start_plain, in http_server.c, links none of this). */
#include "base/http_tls.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

typedef struct tls_ctx {
    SSL_CTX *ctx;
    bool verify_clients;
} tls_ctx_t;

typedef struct tls_conn {
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    bool verify_clients;
} tls_conn_t;

static void tls_errmsg(char *errbuf, size_t errlen, const char *what)
{
    char e[256] = "";
    unsigned long code = ERR_peek_last_error();
    if (code) ERR_error_string_n(code, e, sizeof e);
    ERR_clear_error();
    if (errbuf && errlen) snprintf(errbuf, errlen, "%s%s%s", what, e[0] ? ": " : "", e);
}

static void set_msg(char *errbuf, size_t errlen, const char *msg)
{
    if (errbuf && errlen) snprintf(errbuf, errlen, "%s", msg);
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char ours[] = "\x08http/1.1";
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, ours, sizeof ours - 1, in, inlen) ==
            OPENSSL_NPN_NEGOTIATED &&
        sel) {
        *out = sel;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_NOACK; /* e.g. a client offering only h2: no ALPN, plain HTTP/1.1 */
}

static int ctx_new(const http_server_config_t *cfg, void **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    if (!cfg->cert_pem || !cfg->key_pem) {
        set_msg(errbuf, errlen, "TLS needs both cert_pem and key_pem");
        return -EINVAL;
    }
    tls_ctx_t *tc = calloc(1, sizeof *tc);
    if (!tc) return -ENOMEM;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        tls_errmsg(errbuf, errlen, "SSL_CTX_new");
        free(tc);
        return -ENOMEM;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    static const unsigned char sid_ctx[] = "localcluster";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);

    /* Certificate, then any chain certificates. */
    BIO *b = BIO_new_mem_buf(cfg->cert_pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    if (!x || SSL_CTX_use_certificate(ctx, x) != 1) {
        X509_free(x);
        BIO_free(b);
        tls_errmsg(errbuf, errlen, "bad TLS certificate");
        SSL_CTX_free(ctx);
        free(tc);
        return -EINVAL;
    }
    X509_free(x);
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (SSL_CTX_add0_chain_cert(ctx, x) != 1) X509_free(x);
    }
    ERR_clear_error();
    BIO_free(b);

    b = BIO_new_mem_buf(cfg->key_pem, -1);
    EVP_PKEY *key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!key || SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        EVP_PKEY_free(key);
        tls_errmsg(errbuf, errlen, "bad TLS private key");
        SSL_CTX_free(ctx);
        free(tc);
        return -EINVAL;
    }
    EVP_PKEY_free(key);

    if (cfg->ca_pem) {
        X509_STORE *store = SSL_CTX_get_cert_store(ctx);
        b = BIO_new_mem_buf(cfg->ca_pem, -1);
        int count = 0;
        while (b && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
            X509_STORE_add_cert(store, x);
            SSL_CTX_add_client_CA(ctx, x);
            X509_free(x);
            count++;
        }
        BIO_free(b);
        ERR_clear_error();
        if (count == 0) {
            set_msg(errbuf, errlen, "bad client CA certificate");
            SSL_CTX_free(ctx);
            free(tc);
            return -EINVAL;
        }
        /* Request a certificate but do not require one: a bearer token may be used instead. */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        tc->verify_clients = true;
    }
    tc->ctx = ctx;
    *out = tc;
    return 0;
}

static void ctx_free(void *p)
{
    tls_ctx_t *tc = p;
    if (!tc) return;
    SSL_CTX_free(tc->ctx);
    free(tc);
}

static void *conn_new(void *p)
{
    tls_ctx_t *tc = p;
    tls_conn_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->verify_clients = tc->verify_clients;
    t->ssl = SSL_new(tc->ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        SSL_free(t->ssl);
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        ERR_clear_error();
        free(t);
        return NULL;
    }
    BIO_set_mem_eof_return(t->rbio, -1);
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_accept_state(t->ssl);
    return t;
}

static void conn_free(void *p)
{
    tls_conn_t *t = p;
    if (!t) return;
    SSL_free(t->ssl); /* frees both BIOs */
    free(t);
}

static int put_input(void *p, const char *data, size_t n)
{
    tls_conn_t *t = p;
    size_t off = 0;
    while (off < n) {
        size_t chunk = n - off;
        if (chunk > INT_MAX) chunk = INT_MAX;
        int w = BIO_write(t->rbio, data + off, (int)chunk);
        if (w <= 0) return -1;
        off += (size_t)w;
    }
    return 0;
}

static int handshake(void *p)
{
    tls_conn_t *t = p;
    ERR_clear_error();
    int rc = SSL_do_handshake(t->ssl);
    if (rc == 1) return 1;
    int err = SSL_get_error(t->ssl, rc);
    ERR_clear_error();
    return (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) ? 0 : -1;
}

static bool peer(void *p, char *cn, size_t cnlen)
{
    tls_conn_t *t = p;
    if (!t->verify_clients) return false;
    X509 *x = SSL_get1_peer_certificate(t->ssl);
    if (!x) return false;
    bool ok = false;
    if (SSL_get_verify_result(t->ssl) == X509_V_OK) {
        ok = true;
        if (cnlen) {
            cn[0] = '\0';
            if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
                                          (int)(cnlen > INT_MAX ? INT_MAX : cnlen)) < 0)
                cn[0] = '\0';
        }
    }
    X509_free(x);
    ERR_clear_error();
    return ok;
}

static ssize_t tls_read(void *p, char *buf, size_t room)
{
    tls_conn_t *t = p;
    if (room > INT_MAX) room = INT_MAX;
    ERR_clear_error();
    int rc = SSL_read(t->ssl, buf, (int)room);
    if (rc > 0) return rc;
    int err = SSL_get_error(t->ssl, rc);
    ERR_clear_error();
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return HTTP_TLS_WANT;
    if (err == SSL_ERROR_ZERO_RETURN) return HTTP_TLS_EOF;
    return HTTP_TLS_FAIL;
}

static int tls_write(void *p, const char *data, size_t len)
{
    tls_conn_t *t = p;
    size_t off = 0;
    while (off < len) {
        size_t n = len - off;
        if (n > INT_MAX / 2) n = INT_MAX / 2;
        ERR_clear_error();
        int rc = SSL_write(t->ssl, data + off, (int)n);
        if (rc <= 0) {
            ERR_clear_error();
            return -1;
        }
        off += (size_t)rc;
    }
    return 0;
}

static size_t output_pending(void *p)
{
    tls_conn_t *t = p;
    return BIO_ctrl_pending(t->wbio);
}

static size_t take_output(void *p, char *buf, size_t n)
{
    tls_conn_t *t = p;
    if (n > INT_MAX) n = INT_MAX;
    int got = BIO_read(t->wbio, buf, (int)n);
    return got > 0 ? (size_t)got : 0;
}

static void tls_shutdown(void *p)
{
    tls_conn_t *t = p;
    ERR_clear_error();
    SSL_shutdown(t->ssl);
    ERR_clear_error();
}

static const http_tls_ops_t openssl_ops = {
    .ctx_new = ctx_new,
    .ctx_free = ctx_free,
    .conn_new = conn_new,
    .conn_free = conn_free,
    .put_input = put_input,
    .handshake = handshake,
    .peer = peer,
    .read = tls_read,
    .write = tls_write,
    .output_pending = output_pending,
    .take_output = take_output,
    .shutdown = tls_shutdown,
};

int http_server_start(uv_loop_t *loop, const http_server_config_t *cfg, http_handler_fn handler,
                      void *ud, http_server_t **out, char *errbuf, size_t errlen)
{
    return http_server_start_ops(loop, cfg, &openssl_ops, handler, ud, out, errbuf, errlen);
}
