/* fuzz_request: libFuzzer target for the API server's request path without HTTP: body decoding
 * (JSON and YAML), create through every admission rule (ConfigMap, a CRD-defined Widget with a
 * schema), merge / JSON / strategic-merge patches, label and field selector parsing and
 * matching, then delete. Input: three parts separated by NUL bytes: selector, body, patch. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver.h"
#include "apiserver/controllers.h"
#include "apiserver/objops.h"
#include "base/selector.h"
#include "base/yamljson.h"

static apiserver_t as;
static uv_loop_t loop;

static const char crd_json[] =
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
    "\"metadata\":{\"name\":\"widgets.example.com\"},\"spec\":{\"group\":\"example.com\","
    "\"scope\":\"Namespaced\",\"names\":{\"plural\":\"widgets\",\"singular\":\"widget\","
    "\"kind\":\"Widget\"},\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,"
    "\"subresources\":{\"status\":{}},\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\","
    "\"properties\":{\"spec\":{\"type\":\"object\",\"properties\":{\"replicas\":{\"type\":"
    "\"integer\",\"minimum\":0},\"mode\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"],\"default\":"
    "\"a\"},\"tags\":{\"type\":\"array\",\"x-kubernetes-list-type\":\"set\",\"items\":{\"type\":"
    "\"string\"}},\"name\":{\"type\":\"string\",\"pattern\":\"^[a-z]+$\",\"maxLength\":8}}},"
    "\"status\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}}}}}]}}";

static void init_once(void)
{
    static int done;
    if (done) return;
    done = 1;
    uv_loop_init(&loop);
    apiserver_config_t cfg = {0};
    apiserver_init(&as, &loop, &cfg);
    store_set_retention(as.store, 200);
    json_t *crd = json_loads(crd_json, 0, NULL);
    restype_t *crdrt = registry_find(as.reg, "apiextensions.k8s.io", "customresourcedefinitions");
    objops_opts_t o = {0};
    json_t *out = NULL;
    kerr_t e = {0};
    objops_create(&as, crdrt, NULL, crd, &o, &out, &e);
    json_decref(out);
    json_decref(crd);
    kerr_clear(&e);
    ctl_crd_run(&as);
}

static json_t *decode(const uint8_t *p, size_t n)
{
    json_t *v = json_loadb((const char *)p, n, JSON_DECODE_ANY, NULL);
    if (!v) {
        char err[256];
        v = yamljson_parse((const char *)p, n, err, sizeof err);
    }
    return v;
}

static void exercise(restype_t *rt, json_t *body, json_t *patch, const label_selector_t *ls,
                     const field_selector_t *fs)
{
    objops_opts_t o = {.field_validation = "Warn", .warnings = json_array()};
    json_t *out = NULL;
    kerr_t e = {0};
    json_t *b = json_is_object(body) ? json_deep_copy(body) : json_incref(body);
    if (json_is_object(b) && !json_is_object(json_object_get(b, "metadata")))
        json_object_set_new(b, "metadata", json_pack("{s:s}", "generateName", "f-"));
    if (objops_create(&as, rt, "default", b, &o, &out, &e) == 0) {
        char name[300];
        snprintf(name, sizeof name, "%s",
                 json_string_value(json_object_get(json_object_get(out, "metadata"), "name")));
        if (ls)
            label_selector_matches(ls, json_object_get(json_object_get(out, "metadata"), "labels"));
        if (fs) field_selector_matches(fs, out);
        static const char *const types[] = {
            "application/merge-patch+json", "application/json-patch+json",
            "application/strategic-merge-patch+json", "application/apply-patch+yaml"};
        for (int i = 0; patch && i < 4; i++) {
            json_t *p2 = NULL;
            bool created;
            kerr_t pe = {0};
            objops_opts_t po = {.field_manager = "fuzz", .warnings = json_array()};
            objops_patch(&as, rt, "default", name, types[i], patch, &po, &p2, &created, &pe);
            json_decref(p2);
            json_decref(po.warnings);
            kerr_clear(&pe);
        }
        json_t *d = NULL;
        bool removed;
        kerr_t de = {0};
        objops_opts_t dopt = {0};
        objops_delete(&as, rt, "default", name, NULL, &dopt, &d, &removed, &de);
        json_decref(d);
        kerr_clear(&de);
        /* objects left with finalizers: drop them by clearing finalizers */
        json_t *left = objops_get(&as, rt, "default", name);
        if (left) {
            json_t *p3 = NULL;
            bool c2;
            kerr_t fe = {0};
            objops_opts_t fo = {0};
            json_t *clear = json_pack("{s:{s:n}}", "metadata", "finalizers");
            objops_patch(&as, rt, "default", name, "application/merge-patch+json", clear, &fo, &p3,
                         &c2, &fe);
            json_decref(clear);
            json_decref(p3);
            kerr_clear(&fe);
        }
    }
    json_decref(out);
    json_decref(b);
    json_decref(o.warnings);
    kerr_clear(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    const uint8_t *parts[3] = {data, NULL, NULL};
    size_t lens[3] = {size, 0, 0};
    int np = 1;
    for (size_t i = 0; i < size && np < 3; i++) {
        if (data[i] == 0) {
            lens[np - 1] = (size_t)(data + i - parts[np - 1]);
            parts[np] = data + i + 1;
            lens[np] = size - i - 1;
            np++;
        }
    }
    char *sel = strndup((const char *)parts[0], lens[0]);
    char err[512];
    label_selector_t *ls = NULL;
    field_selector_t *fs = NULL;
    label_selector_parse(sel, &ls, err, sizeof err);
    field_selector_parse(sel, &fs, err, sizeof err);
    free(sel);
    json_t *body = np > 1 ? decode(parts[1], lens[1]) : NULL;
    json_t *patch = np > 2 ? decode(parts[2], lens[2]) : NULL;
    if (body) {
        exercise(registry_find(as.reg, "", "configmaps"), body, patch, ls, fs);
        exercise(registry_find(as.reg, "example.com", "widgets"), body, patch, ls, fs);
    }
    json_decref(body);
    json_decref(patch);
    label_selector_free(ls);
    field_selector_free(fs);
    return 0;
}
