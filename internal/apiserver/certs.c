/* certs: generation of the --tls material (self-signed EC P-256 CA, server and client certificates
 * signed by it, as malloc'd PEM strings) with OpenSSL 3, and the kubeconfig writer (fixed-shape
 * YAML, base64-embedded credentials, atomic temp-file + fsync + rename, mode 0600). */
#include "apiserver/certs.h"
#include "base/fileio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define CERT_VALIDITY_DAYS 365
#define CERT_BACKDATE_SECS 3600 /* tolerate clock skew: notBefore = now - 1h */

/* ---------------------------------------------------------------- errors */

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats the message, appends the first queued OpenSSL error (if any), clears the queue. */
static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    unsigned long e = ERR_peek_error();
    if (errbuf && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
        if (e != 0 && n >= 0 && (size_t)n < errlen) {
            char ebuf[256];
            ERR_error_string_n(e, ebuf, sizeof ebuf);
            snprintf(errbuf + n, errlen - (size_t)n, ": %s", ebuf);
        }
    }
    ERR_clear_error();
}

/* ---------------------------------------------------------------- host / SAN */

typedef enum { HOST_NONE, HOST_IPV4, HOST_IPV6, HOST_DNS } host_kind_t;

typedef struct host_san {
    host_kind_t kind;
    unsigned char ip[16];
    char dns[256];
} host_san_t;

static bool dns_name_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-') return false;
    size_t label = 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok || ++label > 63) return false;
    }
    return true;
}

/* Classifies host: HOST_NONE when it adds nothing to the default SANs (NULL, empty, 127.0.0.1,
 * ::1, localhost, or an unspecified bind-all address). Returns -1 when it is not a valid IP
 * address or DNS name. */
static int classify_host(const char *host, host_san_t *h)
{
    memset(h, 0, sizeof *h);
    h->kind = HOST_NONE;
    if (!host || !*host) return 0;

    char buf[256];
    size_t len = strlen(host);
    if (len >= sizeof buf) return -1;
    memcpy(buf, host, len + 1);
    if (buf[0] == '[' && len >= 2 && buf[len - 1] == ']') { /* "[::1]" */
        memmove(buf, buf + 1, len - 2);
        buf[len - 2] = '\0';
    }

    unsigned char a[16];
    if (inet_pton(AF_INET, buf, a) == 1) {
        static const unsigned char lo4[4] = {127, 0, 0, 1}, any4[4] = {0, 0, 0, 0};
        if (memcmp(a, lo4, 4) == 0 || memcmp(a, any4, 4) == 0) return 0;
        h->kind = HOST_IPV4;
        memcpy(h->ip, a, 4);
        return 0;
    }
    if (inet_pton(AF_INET6, buf, a) == 1) {
        static const unsigned char lo6[16] = {[15] = 1}, any6[16] = {0};
        if (memcmp(a, lo6, 16) == 0 || memcmp(a, any6, 16) == 0) return 0;
        h->kind = HOST_IPV6;
        memcpy(h->ip, a, 16);
        return 0;
    }
    if (!dns_name_ok(buf)) return -1;
    if (strcasecmp(buf, "localhost") == 0) return 0;
    h->kind = HOST_DNS;
    snprintf(h->dns, sizeof h->dns, "%s", buf);
    return 0;
}

static int add_gen_ip(GENERAL_NAMES *gens, const unsigned char *ip, int len)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    if (!gn || !os || !ASN1_OCTET_STRING_set(os, ip, len)) goto fail;
    GENERAL_NAME_set0_value(gn, GEN_IPADD, os);
    os = NULL;
    if (!sk_GENERAL_NAME_push(gens, gn)) goto fail;
    return 0;
fail:
    ASN1_OCTET_STRING_free(os);
    GENERAL_NAME_free(gn);
    return -1;
}

static int add_gen_dns(GENERAL_NAMES *gens, const char *name)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();
    if (!gn || !s || !ASN1_STRING_set(s, name, (int)strlen(name))) goto fail;
    GENERAL_NAME_set0_value(gn, GEN_DNS, s);
    s = NULL;
    if (!sk_GENERAL_NAME_push(gens, gn)) goto fail;
    return 0;
fail:
    ASN1_IA5STRING_free(s);
    GENERAL_NAME_free(gn);
    return -1;
}

/* Builds the SAN list directly (no config-string parsing, so host cannot inject entries). */
static int add_san(X509 *x, const host_san_t *h)
{
    static const unsigned char lo4[4] = {127, 0, 0, 1}, lo6[16] = {[15] = 1};
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    int rc = -1;
    if (!gens) return -1;
    if (add_gen_ip(gens, lo4, 4) || add_gen_ip(gens, lo6, 16) || add_gen_dns(gens, "localhost"))
        goto out;
    if (h->kind == HOST_IPV4 && add_gen_ip(gens, h->ip, 4)) goto out;
    if (h->kind == HOST_IPV6 && add_gen_ip(gens, h->ip, 16)) goto out;
    if (h->kind == HOST_DNS && add_gen_dns(gens, h->dns)) goto out;
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1) goto out;
    rc = 0;
out:
    GENERAL_NAMES_free(gens);
    return rc;
}

/* ---------------------------------------------------------------- certificates */

typedef enum { CERT_CA, CERT_SERVER, CERT_CLIENT } cert_kind_t;

static EVP_PKEY *gen_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* Random positive 128-bit serial (top bit cleared so the DER INTEGER stays 16 bytes, non-zero). */
static int set_serial(X509 *x)
{
    unsigned char r[16];
    int rc = -1;
    if (RAND_bytes(r, sizeof r) != 1) return -1;
    r[0] &= 0x7f;
    r[0] |= 0x40;
    BIGNUM *bn = BN_bin2bn(r, sizeof r, NULL);
    if (bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) rc = 0;
    BN_free(bn);
    return rc;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    if (!ext) return -1;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static int set_name(X509_NAME *n, const char *org, const char *cn)
{
    if (org &&
        !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0))
        return -1;
    if (!X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0))
        return -1;
    return 0;
}

/* Creates and signs a certificate for key. issuer/issuer_key are NULL for the self-signed CA. */
static X509 *make_cert(cert_kind_t kind, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                       const char *org, const char *cn, const host_san_t *host)
{
    X509 *x = X509_new();
    if (!x) return NULL;
    if (!X509_set_version(x, X509_VERSION_3) || set_serial(x) != 0) goto fail;
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -CERT_BACKDATE_SECS) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), CERT_VALIDITY_DAYS, 0, NULL))
        goto fail;
    if (set_name(X509_get_subject_name(x), org, cn) != 0) goto fail;
    if (!X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x)))
        goto fail;
    if (!X509_set_pubkey(x, key)) goto fail;

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    if (kind == CERT_CA) {
        if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") ||
            add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign"))
            goto fail;
    } else {
        if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
            add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") ||
            add_ext(x, &ctx, NID_ext_key_usage, kind == CERT_SERVER ? "serverAuth" : "clientAuth"))
            goto fail;
        if (kind == CERT_SERVER && add_san(x, host) != 0) goto fail;
    }
    /* The subject key identifier first: for the self-signed CA the authority key identifier is
     * taken from it. */
    if (add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
        add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always"))
        goto fail;

    if (X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) <= 0) goto fail;
    return x;
fail:
    X509_free(x);
    return NULL;
}

/* Copies a memory BIO's contents into a malloc'd NUL-terminated string. */
static char *bio_to_str(BIO *b)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    if (n <= 0 || !data) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    return s;
}

static char *cert_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *s = NULL;
    if (b && PEM_write_bio_X509(b, x)) s = bio_to_str(b);
    BIO_free(b);
    return s;
}

/* PKCS#8 "PRIVATE KEY", unencrypted. The BIO buffer is cleansed before it is freed. */
static char *key_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_secmem());
    if (!b) b = BIO_new(BIO_s_mem());
    char *s = NULL;
    if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) s = bio_to_str(b);
    BIO_free(b);
    return s;
}

int certs_generate(const char *host, certs_bundle_t *out, char *errbuf, size_t errlen)
{
    EVP_PKEY *ca_key = NULL, *srv_key = NULL, *cli_key = NULL;
    X509 *ca = NULL, *srv = NULL, *cli = NULL;
    host_san_t h;
    int rc = -EIO;

    if (!out) {
        set_err(errbuf, errlen, "certs_generate: no output bundle");
        return -EIO;
    }
    memset(out, 0, sizeof *out);
    if (classify_host(host, &h) != 0) {
        set_err(errbuf, errlen, "certs: host %.200s is neither an IP address nor a DNS name", host);
        return -EIO;
    }
    ERR_clear_error();

    if (!(ca_key = gen_key()) || !(srv_key = gen_key()) || !(cli_key = gen_key())) {
        set_err(errbuf, errlen, "certs: generating EC P-256 key");
        goto out;
    }
    if (!(ca = make_cert(CERT_CA, ca_key, NULL, NULL, NULL, "localcluster-ca", &h))) {
        set_err(errbuf, errlen, "certs: building CA certificate");
        goto out;
    }
    if (!(srv = make_cert(CERT_SERVER, srv_key, ca, ca_key, NULL, "localcluster", &h))) {
        set_err(errbuf, errlen, "certs: building server certificate");
        goto out;
    }
    if (!(cli = make_cert(CERT_CLIENT, cli_key, ca, ca_key, "system:masters", "kubernetes-admin",
                          &h))) {
        set_err(errbuf, errlen, "certs: building client certificate");
        goto out;
    }
    if (!(out->ca_cert_pem = cert_pem(ca)) || !(out->ca_key_pem = key_pem(ca_key)) ||
        !(out->server_cert_pem = cert_pem(srv)) || !(out->server_key_pem = key_pem(srv_key)) ||
        !(out->client_cert_pem = cert_pem(cli)) || !(out->client_key_pem = key_pem(cli_key))) {
        set_err(errbuf, errlen, "certs: encoding PEM");
        goto out;
    }
    rc = 0;
out:
    if (rc != 0) certs_free(out);
    X509_free(ca);
    X509_free(srv);
    X509_free(cli);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(cli_key);
    return rc;
}

static void free_secret(char **p)
{
    if (*p) {
        OPENSSL_cleanse(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

void certs_free(certs_bundle_t *b)
{
    if (!b) return;
    free(b->ca_cert_pem);
    free(b->server_cert_pem);
    free(b->client_cert_pem);
    b->ca_cert_pem = b->server_cert_pem = b->client_cert_pem = NULL;
    free_secret(&b->ca_key_pem);
    free_secret(&b->server_key_pem);
    free_secret(&b->client_key_pem);
}

/* ---------------------------------------------------------------- kubeconfig */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf_t;

static void sb_put(sbuf_t *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf_t *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* True when s can be written as a plain YAML scalar and reads back as the same string (not a
 * bool/null/number, no indicator or special characters). */
static bool yaml_plain_ok(const char *s)
{
    static const char *const words[] = {"y",   "n",    "yes",   "no",   "on",
                                        "off", "true", "false", "null", NULL};
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
    for (int i = 0; words[i]; i++)
        if (strcasecmp(s, words[i]) == 0) return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("-._/:=+~@", c) != NULL;
        if (!ok) return false;
    }
    return true;
}

/* Appends s as a YAML scalar: plain when safe, else double-quoted with escapes. */
static void sb_scalar(sbuf_t *b, const char *s)
{
    if (yaml_plain_ok(s)) {
        sb_puts(b, s);
        return;
    }
    sb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            sb_put(b, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", *p);
            sb_puts(b, esc);
        } else {
            sb_put(b, (const char *)p, 1);
        }
    }
    sb_put(b, "\"", 1);
}

/* Appends the base64 (no line breaks) of the NUL-terminated string s. */
static void sb_b64(sbuf_t *b, const char *s)
{
    size_t n = strlen(s);
    if (n > (size_t)INT32_MAX / 2) {
        b->oom = true;
        return;
    }
    size_t outlen = 4 * ((n + 2) / 3) + 1;
    unsigned char *enc = malloc(outlen);
    if (!enc) {
        b->oom = true;
        return;
    }
    int m = EVP_EncodeBlock(enc, (const unsigned char *)s, (int)n);
    if (m < 0)
        b->oom = true;
    else
        sb_put(b, (const char *)enc, (size_t)m);
    OPENSSL_cleanse(enc, outlen);
    free(enc);
}

static void sb_field(sbuf_t *b, const char *indent_key, const char *value)
{
    sb_puts(b, indent_key);
    sb_scalar(b, value);
    sb_put(b, "\n", 1);
}

static void sb_b64_field(sbuf_t *b, const char *indent_key, const char *value)
{
    sb_puts(b, indent_key);
    sb_b64(b, value);
    sb_put(b, "\n", 1);
}

int certs_write_kubeconfig(const char *path, const char *server, const certs_bundle_t *tls,
                           const char *token)
{
    if (!path || !*path || !server || !*server) return -EINVAL;
    if (tls && (!tls->ca_cert_pem || !tls->client_cert_pem || !tls->client_key_pem)) return -EINVAL;
    bool has_token = token && *token;

    sbuf_t b = {0};
    sb_puts(&b, "apiVersion: v1\n"
                "kind: Config\n"
                "clusters:\n"
                "- cluster:\n");
    if (tls) sb_b64_field(&b, "    certificate-authority-data: ", tls->ca_cert_pem);
    sb_field(&b, "    server: ", server);
    sb_puts(&b, "  name: localcluster\n"
                "contexts:\n"
                "- context:\n"
                "    cluster: localcluster\n"
                "    user: localcluster\n"
                "  name: localcluster\n"
                "current-context: localcluster\n"
                "preferences: {}\n"
                "users:\n"
                "- name: localcluster\n");
    if (!tls && !has_token) {
        sb_puts(&b, "  user: {}\n");
    } else {
        sb_puts(&b, "  user:\n");
        if (tls) {
            sb_b64_field(&b, "    client-certificate-data: ", tls->client_cert_pem);
            sb_b64_field(&b, "    client-key-data: ", tls->client_key_pem);
        }
        if (has_token) sb_field(&b, "    token: ", token);
    }

    int rc = b.oom ? -ENOMEM : fileio_replace_at(AT_FDCWD, path, b.p, b.len, 0600, true);
    if (b.p) {
        OPENSSL_cleanse(b.p, b.cap);
        free(b.p);
    }
    return rc;
}
