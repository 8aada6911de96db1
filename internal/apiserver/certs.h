/* certs: the TLS material localcluster generates for --tls, the way kind's kubeconfig holds it:
 * a self-signed CA, a server certificate for 127.0.0.1/localhost signed by it, and a client
 * certificate (CN kubernetes-admin, O system:masters) signed by it; plus the kubeconfig writer.
 * OpenSSL 3. */
#ifndef APISERVER_CERTS_H
#define APISERVER_CERTS_H

#include <stddef.h>

typedef struct certs_bundle {
    char *ca_cert_pem;
    char *ca_key_pem;
    char *server_cert_pem;
    char *server_key_pem;
    char *client_cert_pem;
    char *client_key_pem;
} certs_bundle_t;

/* Generates all six PEMs (EC P-256 keys, 1 year validity, SANs IP:127.0.0.1, IP:::1,
 * DNS:localhost plus host if it is another address/name). Returns 0 or -EIO with a message. */
int certs_generate(const char *host, certs_bundle_t *out, char *errbuf, size_t errlen);
void certs_free(certs_bundle_t *b);

/* Writes a kubeconfig (cluster/context/user "localcluster", current-context set) to path,
 * atomically (temp file + rename), mode 0600. server is "http://127.0.0.1:PORT" or
 * "https://...". If tls is non-NULL the CA and client cert/key are embedded base64 as
 * certificate-authority-data / client-certificate-data / client-key-data. token (may be NULL)
 * is written as the user's token. Returns 0 or -errno. */
int certs_write_kubeconfig(const char *path, const char *server, const certs_bundle_t *tls,
                           const char *token);

#endif
