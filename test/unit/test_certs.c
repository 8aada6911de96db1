/* Unit tests for apiserver/certs: the generated CA/server/client certificates (chain, SANs, EKUs,
 * names, keys, validity) and the kubeconfig writer (shape, base64 round-trip, mode 0600,
 * atomic replace, errors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "apiserver/certs.h"

/* ---------------------------------------------------------------- helpers */

static X509 *parse_cert(const char *pem)
{
    assert_non_null(pem);
    assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE-----"));
    BIO *b = BIO_new_mem_buf(pem, -1);
    assert_non_null(b);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(x);
    return x;
}

static EVP_PKEY *parse_key(const char *pem)
{
    assert_non_null(pem);
    BIO *b = BIO_new_mem_buf(pem, -1);
    assert_non_null(b);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(k);
    return k;
}

/* Verifies leaf against ca alone (no intermediates) for the given purpose; returns the
 * X509_V_* result. */
static int verify_with(X509 *ca, X509 *leaf, int purpose)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    assert_non_null(st);
    assert_non_null(ctx);
    assert_int_equal(X509_STORE_add_cert(st, ca), 1);
    assert_int_equal(X509_STORE_CTX_init(ctx, st, leaf, NULL), 1);
    if (purpose) assert_int_equal(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
    int ok = X509_verify_cert(ctx);
    int err = X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    return ok == 1 ? X509_V_OK : (err ? err : -1);
}

static void name_entry(X509 *x, int nid, char *buf, size_t len)
{
    buf[0] = '\0';
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), nid, buf, (int)len);
}

/* Collects the SANs as strings "IP:1.2.3.4", "IP:::1", "DNS:name" into out; returns count. */
static int collect_sans(X509 *x, char out[][80], int max)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (!gens) return 0;
    int n = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(gens) && n < max; i++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
        int type;
        void *v = GENERAL_NAME_get0_value(gn, &type);
        if (type == GEN_IPADD) {
            ASN1_OCTET_STRING *os = v;
            char ip[INET6_ADDRSTRLEN];
            int af = ASN1_STRING_length(os) == 4 ? AF_INET : AF_INET6;
            assert_non_null(inet_ntop(af, ASN1_STRING_get0_data(os), ip, sizeof ip));
            snprintf(out[n++], 80, "IP:%s", ip);
        } else if (type == GEN_DNS) {
            ASN1_IA5STRING *s = v;
            snprintf(out[n++], 80, "DNS:%.*s", ASN1_STRING_length(s),
                     (const char *)ASN1_STRING_get0_data(s));
        } else {
            snprintf(out[n++], 80, "OTHER");
        }
    }
    GENERAL_NAMES_free(gens);
    return n;
}

static int has_san(char sans[][80], int n, const char *want)
{
    for (int i = 0; i < n; i++)
        if (strcmp(sans[i], want) == 0) return 1;
    return 0;
}

static void assert_p256(X509 *x)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    assert_non_null(pk);
    assert_int_equal(EVP_PKEY_get_base_id(pk), EVP_PKEY_EC);
    char grp[64];
    size_t glen = 0;
    assert_int_equal(EVP_PKEY_get_utf8_string_param(pk, "group", grp, sizeof grp, &glen), 1);
    assert_string_equal(grp, "prime256v1");
    assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
}

static void assert_validity(X509 *x)
{
    time_t now = time(NULL);
    /* notBefore about now-1h */
    time_t lo = now - 3600 - 120, hi = now - 3600 + 120;
    assert_true(X509_cmp_time(X509_get0_notBefore(x), &lo) > 0);
    assert_true(X509_cmp_time(X509_get0_notBefore(x), &hi) < 0);
    /* notAfter about now+365d */
    lo = now + 365 * 86400 - 120;
    hi = now + 365 * 86400 + 120;
    assert_true(X509_cmp_time(X509_get0_notAfter(x), &lo) > 0);
    assert_true(X509_cmp_time(X509_get0_notAfter(x), &hi) < 0);
}

static void assert_serial_128(X509 *x)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    assert_non_null(bn);
    assert_false(BN_is_negative(bn));
    assert_int_equal(BN_num_bits(bn), 127); /* top bit cleared, next bit set */
    BN_free(bn);
}

static void assert_key_ids(X509 *x, X509 *issuer)
{
    const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(x);
    const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(x);
    const ASN1_OCTET_STRING *iskid = X509_get0_subject_key_id(issuer);
    assert_non_null(skid);
    assert_non_null(akid);
    assert_non_null(iskid);
    assert_int_equal(ASN1_OCTET_STRING_cmp(akid, iskid), 0);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* Finds "key: <b64>\n" in text and returns the decoded bytes (malloc'd, NUL-terminated), or NULL
 * when key is absent. */
static char *decode_field(const char *text, const char *key)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\n    %s: ", key);
    const char *p = strstr(text, pat);
    if (!p) return NULL;
    p += strlen(pat);
    const char *e = strchr(p, '\n');
    assert_non_null(e);
    size_t n = (size_t)(e - p);
    assert_int_equal(n % 4, 0);
    for (size_t i = 0; i < n; i++)
        assert_true(p[i] != ' ' && p[i] != '\r');
    unsigned char *out = malloc(n + 1);
    assert_non_null(out);
    int m = EVP_DecodeBlock(out, (const unsigned char *)p, (int)n);
    assert_true(m >= 0);
    /* EVP_DecodeBlock counts padding bytes as output zeros; drop them. */
    if (n >= 1 && p[n - 1] == '=') m--;
    if (n >= 2 && p[n - 2] == '=') m--;
    out[m] = '\0';
    return (char *)out;
}

static char tmpdir[256];

static int setup_dir(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_certs.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown_dir(void **state)
{
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", tmpdir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(tmpdir);
    return 0;
}

static int count_dir_entries(void)
{
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

/* ---------------------------------------------------------------- certificate tests */

static void test_generate_chain(void **state)
{
    certs_bundle_t b;
    char err[256] = "";
    assert_int_equal(certs_generate(NULL, &b, err, sizeof err), 0);

    X509 *ca = parse_cert(b.ca_cert_pem);
    X509 *srv = parse_cert(b.server_cert_pem);
    X509 *cli = parse_cert(b.client_cert_pem);
    EVP_PKEY *cak = parse_key(b.ca_key_pem);
    EVP_PKEY *srvk = parse_key(b.server_key_pem);
    EVP_PKEY *clik = parse_key(b.client_key_pem);

    /* Keys match their certificates; all P-256/SHA-256. */
    assert_int_equal(X509_check_private_key(ca, cak), 1);
    assert_int_equal(X509_check_private_key(srv, srvk), 1);
    assert_int_equal(X509_check_private_key(cli, clik), 1);
    assert_int_equal(X509_check_private_key(srv, clik), 0);
    assert_p256(ca);
    assert_p256(srv);
    assert_p256(cli);

    /* Chain verification, including purpose (EKU) checks. */
    assert_int_equal(verify_with(ca, srv, 0), X509_V_OK);
    assert_int_equal(verify_with(ca, cli, 0), X509_V_OK);
    assert_int_equal(verify_with(ca, srv, X509_PURPOSE_SSL_SERVER), X509_V_OK);
    assert_int_equal(verify_with(ca, cli, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
    assert_int_not_equal(verify_with(ca, srv, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
    assert_int_not_equal(verify_with(ca, cli, X509_PURPOSE_SSL_SERVER), X509_V_OK);
    /* The server cert is not a CA: a cert "signed" by it would not verify; the CA is. */
    assert_int_equal(X509_check_ca(srv), 0);
    assert_int_equal(X509_check_ca(cli), 0);
    assert_true(X509_check_ca(ca) >= 1);

    /* CA extensions. */
    assert_true(X509_get_extension_flags(ca) & EXFLAG_CA);
    assert_true(X509_get_extension_flags(ca) & EXFLAG_SS);
    int idx = X509_get_ext_by_NID(ca, NID_basic_constraints, -1);
    assert_true(idx >= 0);
    assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(ca, idx)), 1);
    uint32_t ku = X509_get_key_usage(ca);
    assert_true(ku & KU_KEY_CERT_SIGN);
    assert_true(ku & KU_CRL_SIGN);
    assert_int_equal(X509_get_version(ca), X509_VERSION_3);

    /* EKUs. */
    assert_int_equal(X509_get_extended_key_usage(srv), XKU_SSL_SERVER);
    assert_int_equal(X509_get_extended_key_usage(cli), XKU_SSL_CLIENT);

    /* Names. */
    char buf[128];
    name_entry(cli, NID_commonName, buf, sizeof buf);
    assert_string_equal(buf, "kubernetes-admin");
    name_entry(cli, NID_organizationName, buf, sizeof buf);
    assert_string_equal(buf, "system:masters");
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(srv), X509_get_subject_name(ca)), 0);
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(cli), X509_get_subject_name(ca)), 0);

    /* Server SANs: exactly the defaults. */
    char sans[8][80];
    int n = collect_sans(srv, sans, 8);
    assert_int_equal(n, 3);
    assert_true(has_san(sans, n, "IP:127.0.0.1"));
    assert_true(has_san(sans, n, "IP:::1"));
    assert_true(has_san(sans, n, "DNS:localhost"));
    assert_int_equal(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(srv, "::1", 0), 1);
    assert_int_equal(X509_check_host(srv, "localhost", 0, 0, NULL), 1);
    assert_int_equal(collect_sans(cli, sans, 8), 0);

    /* Serials, validity, key identifiers. */
    assert_serial_128(ca);
    assert_serial_128(srv);
    assert_serial_128(cli);
    assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(srv), X509_get0_serialNumber(cli)),
                         0);
    assert_validity(ca);
    assert_validity(srv);
    assert_validity(cli);
    assert_key_ids(ca, ca);
    assert_key_ids(srv, ca);
    assert_key_ids(cli, ca);

    X509_free(ca);
    X509_free(srv);
    X509_free(cli);
    EVP_PKEY_free(cak);
    EVP_PKEY_free(srvk);
    EVP_PKEY_free(clik);
    certs_free(&b);
    assert_null(b.ca_cert_pem);
    assert_null(b.client_key_pem);
    certs_free(&b); /* idempotent */
    certs_free(NULL);
}

static void test_two_bundles_differ(void **state)
{
    certs_bundle_t a, b;
    char err[256];
    assert_int_equal(certs_generate(NULL, &a, err, sizeof err), 0);
    assert_int_equal(certs_generate(NULL, &b, err, sizeof err), 0);
    assert_string_not_equal(a.ca_key_pem, b.ca_key_pem);
    X509 *ca_a = parse_cert(a.ca_cert_pem);
    X509 *srv_b = parse_cert(b.server_cert_pem);
    /* A server cert of one bundle does not verify against the other CA. */
    assert_int_not_equal(verify_with(ca_a, srv_b, 0), X509_V_OK);
    X509_free(ca_a);
    X509_free(srv_b);
    certs_free(&a);
    certs_free(&b);
}

static void check_host_sans(const char *host, const char *extra)
{
    certs_bundle_t b;
    char err[256] = "";
    assert_int_equal(certs_generate(host, &b, err, sizeof err), 0);
    X509 *srv = parse_cert(b.server_cert_pem);
    char sans[8][80];
    int n = collect_sans(srv, sans, 8);
    assert_true(has_san(sans, n, "IP:127.0.0.1"));
    assert_true(has_san(sans, n, "IP:::1"));
    assert_true(has_san(sans, n, "DNS:localhost"));
    if (extra) {
        assert_int_equal(n, 4);
        assert_true(has_san(sans, n, extra));
    } else {
        assert_int_equal(n, 3);
    }
    X509_free(srv);
    certs_free(&b);
}

static void test_host_sans(void **state)
{
    check_host_sans("", NULL);
    check_host_sans("127.0.0.1", NULL);
    check_host_sans("::1", NULL);
    check_host_sans("0:0::1", NULL);
    check_host_sans("[::1]", NULL);
    check_host_sans("localhost", NULL);
    check_host_sans("LocalHost", NULL);
    check_host_sans("0.0.0.0", NULL);
    check_host_sans("::", NULL);
    check_host_sans("10.1.2.3", "IP:10.1.2.3");
    check_host_sans("fd00::5", "IP:fd00::5");
    check_host_sans("[fd00::6]", "IP:fd00::6");
    check_host_sans("node-1.example.com", "DNS:node-1.example.com");
}

static void test_bad_host(void **state)
{
    certs_bundle_t b;
    memset(&b, 0xff, sizeof b); /* must be reset, not freed */
    char err[256] = "";
    int rc = certs_generate("a,IP:1.2.3.4", &b, err, sizeof err);
    assert_true(rc < 0);
    assert_int_equal(rc, -EIO);
    assert_true(strlen(err) > 0);
    assert_null(b.ca_cert_pem);
    assert_null(b.server_key_pem);
    assert_true(certs_generate("bad host", &b, err, sizeof err) < 0);
    assert_true(certs_generate("a..b", &b, err, sizeof err) < 0);
    certs_free(&b);
}

/* ---------------------------------------------------------------- kubeconfig tests */

static void test_kubeconfig_tls(void **state)
{
    certs_bundle_t b;
    char err[256];
    assert_int_equal(certs_generate(NULL, &b, err, sizeof err), 0);

    char path[512];
    snprintf(path, sizeof path, "%s/kubeconfig", tmpdir);
    assert_int_equal(certs_write_kubeconfig(path, "https://127.0.0.1:6443", &b, "tok-abc.123"), 0);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(count_dir_entries(), 1); /* no temp file left behind */

    char *text = read_file(path);
    assert_non_null(strstr(text, "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"));
    assert_non_null(strstr(text, "\n    server: https://127.0.0.1:6443\n  name: localcluster\n"));
    assert_non_null(strstr(text, "contexts:\n- context:\n    cluster: localcluster\n"
                                 "    user: localcluster\n  name: localcluster\n"));
    assert_non_null(strstr(text, "\ncurrent-context: localcluster\n"));
    assert_non_null(strstr(text, "\npreferences: {}\n"));
    assert_non_null(strstr(text, "\nusers:\n- name: localcluster\n  user:\n"));
    assert_non_null(strstr(text, "\n    token: tok-abc.123\n"));
    assert_null(strstr(text, "\t"));

    char *ca = decode_field(text, "certificate-authority-data");
    char *cc = decode_field(text, "client-certificate-data");
    char *ck = decode_field(text, "client-key-data");
    assert_non_null(ca);
    assert_non_null(cc);
    assert_non_null(ck);
    assert_string_equal(ca, b.ca_cert_pem);
    assert_string_equal(cc, b.client_cert_pem);
    assert_string_equal(ck, b.client_key_pem);
    free(ca);
    free(cc);
    free(ck);
    free(text);
    certs_free(&b);
}

static void test_kubeconfig_plain(void **state)
{
    char path[512];
    snprintf(path, sizeof path, "%s/kc-plain", tmpdir);
    /* Pre-existing file with loose permissions is replaced atomically with a 0600 one. */
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "old\n", 4), 4);
    close(fd);
    assert_int_equal(chmod(path, 0644), 0);

    assert_int_equal(certs_write_kubeconfig(path, "http://127.0.0.1:8080", NULL, NULL), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    char *text = read_file(path);
    assert_null(strstr(text, "old"));
    assert_null(strstr(text, "-data:"));
    assert_null(strstr(text, "token"));
    assert_non_null(strstr(text, "\n    server: http://127.0.0.1:8080\n"));
    assert_non_null(strstr(text, "\n- name: localcluster\n  user: {}\n"));
    free(text);

    /* Token only; a token needing quoting is double-quoted. */
    assert_int_equal(certs_write_kubeconfig(path, "http://127.0.0.1:8080", NULL, "123"), 0);
    text = read_file(path);
    assert_non_null(strstr(text, "\n  user:\n    token: \"123\"\n"));
    free(text);
    assert_int_equal(certs_write_kubeconfig(path, "http://127.0.0.1:8080", NULL, "a \"b\"#c"), 0);
    text = read_file(path);
    assert_non_null(strstr(text, "\n    token: \"a \\\"b\\\"#c\"\n"));
    free(text);
    assert_int_equal(count_dir_entries(), 1);
}

static void test_kubeconfig_errors(void **state)
{
    int rc = certs_write_kubeconfig("/nonexistent-dir-xyz/sub/kubeconfig", "http://127.0.0.1:1",
                                    NULL, NULL);
    assert_true(rc < 0);
    assert_int_equal(rc, -ENOENT);

    /* Parent is a regular file. */
    char file[512], path[600];
    snprintf(file, sizeof file, "%s/afile", tmpdir);
    int fd = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    assert_true(fd >= 0);
    close(fd);
    snprintf(path, sizeof path, "%s/kubeconfig", file);
    assert_int_equal(certs_write_kubeconfig(path, "http://127.0.0.1:1", NULL, NULL), -ENOTDIR);

    /* Target is a directory: the rename fails and the temp file is removed. */
    char dir[512];
    snprintf(dir, sizeof dir, "%s/adir", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    rc = certs_write_kubeconfig(dir, "http://127.0.0.1:1", NULL, NULL);
    assert_true(rc < 0);
    assert_int_equal(count_dir_entries(), 2); /* afile, adir */
    rmdir(dir);

    /* Read-only directory (meaningless as root, which bypasses permissions). */
    if (geteuid() != 0) {
        snprintf(dir, sizeof dir, "%s/ro", tmpdir);
        assert_int_equal(mkdir(dir, 0500), 0);
        snprintf(path, sizeof path, "%s/kubeconfig", dir);
        assert_int_equal(certs_write_kubeconfig(path, "http://127.0.0.1:1", NULL, NULL), -EACCES);
        rmdir(dir);
    }

    assert_int_equal(certs_write_kubeconfig(NULL, "http://x", NULL, NULL), -EINVAL);
    assert_int_equal(certs_write_kubeconfig(path, NULL, NULL, NULL), -EINVAL);
    certs_bundle_t empty = {0};
    assert_int_equal(certs_write_kubeconfig(path, "https://x", &empty, NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_chain),
        cmocka_unit_test(test_two_bundles_differ),
        cmocka_unit_test(test_host_sans),
        cmocka_unit_test(test_bad_host),
        cmocka_unit_test_setup_teardown(test_kubeconfig_tls, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_kubeconfig_plain, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_kubeconfig_errors, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
