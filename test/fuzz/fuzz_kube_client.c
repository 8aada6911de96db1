/* fuzz_kube_client: libFuzzer target for what the controller's client parses from files and from
 * the server: the kubeconfig parser (kube_config_parse), Status decoding (kube_status_decode and
 * its predicates) and the watch stream decoder fed in two chunks split at an input-chosen offset.
 * Each must give a result or a clear error for any bytes: no crash, no leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/client.h"
#include "kube/config.h"
#include "kube/watch_decoder.h"

static int on_event(kube_watch_type_t type, json_t *object, void *ud)
{
    (void)kube_watch_type_name(type);
    if (!json_is_object(object)) abort(); /* the contract: always an object */
    json_decref(object);
    (*(unsigned *)ud)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;

    /* kubeconfig: YAML or JSON text; errors leave *out NULL and a terminated message */
    kube_config_t *cfg = NULL;
    char err[512];
    err[0] = '\0';
    if (kube_config_parse(text, size, "/fuzz/kubeconfig", &cfg, err, sizeof err) == 0) {
        if (!cfg || !cfg->server) abort();
        free(kube_config_token(cfg, false));
        kube_config_free(cfg);
    } else if (cfg != NULL || strnlen(err, sizeof err) == sizeof err || err[0] == '\0') {
        abort();
    }

    /* Status bodies under every interesting code */
    static const int codes[] = {200, 201, 400, 401, 403, 404, 409, 410, 422, 429, 500, 503, 504};
    kube_status_t st;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        kube_status_decode(codes[i], text, size, &st);
        if (strnlen(st.message, sizeof st.message) == sizeof st.message) abort();
        if (st.ncauses < 0 || st.ncauses > KUBE_MAX_CAUSES) abort();
        (void)kube_status_is_not_found(&st);
        (void)kube_status_is_type_not_found(&st);
        (void)kube_status_is_conflict(&st);
        (void)kube_status_is_field_manager_conflict(&st);
        (void)kube_status_is_already_exists(&st);
        (void)kube_status_is_expired(&st);
        (void)kube_status_is_invalid(&st);
        (void)kube_status_is_retryable(&st);
    }

    /* the watch stream, split in two at an offset taken from the first byte */
    unsigned events = 0;
    kube_watch_decoder_t d;
    kube_watch_decoder_init(&d, 1 << 16, on_event, &events);
    size_t cut = size ? (size_t)data[0] % (size + 1) : 0;
    int rc = kube_watch_decoder_feed(&d, text, cut);
    if (rc == 0) rc = kube_watch_decoder_feed(&d, text + cut, size - cut);
    if (rc == 0) rc = kube_watch_decoder_finish(&d);
    if (rc != 0 && strnlen(d.err, sizeof d.err) == sizeof d.err) abort();
    kube_watch_decoder_free(&d);
    return 0;
}
