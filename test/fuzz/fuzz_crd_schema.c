/* fuzz_crd_schema: libFuzzer target for the CRD schema engine (crd_schema.h). The input is a JSON
 * document run through prune -> default -> validate against a fixed Pool-like schema, used as a
 * schema itself (against a copy of itself), and checked as a CRD by crd_default/crd_validate. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/crd_schema.h"

static const char FIXED_SCHEMA[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"apiVersion\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\"},\"metadata\":{\"type\":"
    "\"object\"},"
    "\"spec\":{\"type\":\"object\",\"required\":[\"capacitySpec\"],\"properties\":{"
    "\"template\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true},"
    "\"emb\":{\"type\":\"object\",\"x-kubernetes-embedded-resource\":true,\"x-kubernetes-preserve-"
    "unknown-fields\":true},"
    "\"capacitySpec\":{\"type\":\"object\",\"required\":[\"bufferMin\",\"poolMax\"],\"properties\":"
    "{"
    "\"bufferMin\":{\"type\":\"integer\",\"minimum\":0,\"multipleOf\":2},"
    "\"poolMax\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":1000,\"exclusiveMaximum\":true}}},"
    "\"mode\":{\"type\":\"string\",\"enum\":[\"fast\",\"slow\"],\"default\":\"fast\"},"
    "\"name\":{\"type\":\"string\",\"maxLength\":12,\"minLength\":1,\"pattern\":\"^[a-z]([-a-z0-9]*"
    "[a-z0-9])?$\"},"
    "\"ratio\":{\"type\":\"number\",\"minimum\":0.5,\"multipleOf\":0.25,\"nullable\":true},"
    "\"when\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"ip\":{\"type\":\"string\",\"format\":\"ipv6\"},"
    "\"mu\":{\"x-kubernetes-int-or-string\":true,\"anyOf\":[{\"type\":\"integer\"},{\"type\":"
    "\"string\",\"pattern\":\"^\\\\d+%$\"}]},"
    "\"one\":{\"type\":\"integer\",\"oneOf\":[{\"minimum\":5},{\"maximum\":3}],\"not\":{\"enum\":["
    "0]}},"
    "\"tags\":{\"type\":\"array\",\"maxItems\":4,\"minItems\":1,\"x-kubernetes-list-type\":\"set\","
    "\"items\":{\"type\":\"string\"}},"
    "\"env\":{\"type\":\"array\",\"x-kubernetes-list-type\":\"map\",\"x-kubernetes-list-map-keys\":"
    "[\"name\",\"port\"],"
    "\"items\":{\"type\":\"object\",\"required\":[\"name\"],\"properties\":{\"name\":{\"type\":"
    "\"string\"},"
    "\"port\":{\"type\":\"integer\",\"default\":80},\"value\":{\"type\":\"string\"}}}},"
    "\"labels\":{\"type\":\"object\",\"maxProperties\":3,\"additionalProperties\":{\"type\":"
    "\"string\",\"default\":\"x\"}},"
    "\"opaque\":{\"type\":\"object\",\"default\":{}}}},"
    "\"status\":{\"type\":\"object\",\"properties\":{\"total\":{\"type\":\"integer\"},"
    "\"conditions\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"type\":{"
    "\"type\":\"string\"}}}}}}}}";

static json_t *fixed_schema;

static void check_causes(json_t *causes)
{
    size_t i;
    json_t *c;
    json_array_foreach(causes, i, c)
    {
        if (!json_is_string(json_object_get(c, "reason")) ||
            !json_is_string(json_object_get(c, "field")) ||
            !json_is_string(json_object_get(c, "message")))
            abort();
    }
}

static void pipeline(json_t *schema, json_t *obj)
{
    json_t *pruned = json_array(), *causes = json_array();
    crd_schema_prune(schema, obj, pruned);
    size_t i;
    json_t *p;
    json_array_foreach(pruned, i, p) if (!json_is_string(p)) abort();
    /* pruning is idempotent */
    json_t *again = json_deep_copy(obj), *pruned2 = json_array();
    crd_schema_prune(schema, again, pruned2);
    if (json_array_size(pruned2) || !json_equal(again, obj)) abort();
    json_decref(again);
    json_decref(pruned2);
    crd_schema_default(schema, obj);
    crd_schema_validate(schema, obj, causes);
    check_causes(causes);
    json_decref(pruned);
    json_decref(causes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fixed_schema) {
        json_error_t e;
        fixed_schema = json_loads(FIXED_SCHEMA, 0, &e);
        if (!fixed_schema) {
            fprintf(stderr, "fixed schema: %s\n", e.text);
            abort();
        }
    }
    json_error_t err;
    json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!in) return 0;

    /* 1. input as a custom resource of the fixed schema */
    json_t *obj = json_deep_copy(in);
    pipeline(fixed_schema, obj);
    json_decref(obj);

    /* 2. input as a schema, validating a copy of itself */
    obj = json_deep_copy(in);
    pipeline(in, obj);
    json_decref(obj);

    /* 3. input as a CRD, and as the openAPIV3Schema of an otherwise valid CRD */
    json_t *crd = json_deep_copy(in), *causes = json_array();
    crd_default(crd);
    crd_validate(crd, causes);
    check_causes(causes);
    json_decref(crd);
    json_decref(causes);

    crd = json_pack("{s:{s:s},s:{s:s,s:s,s:{s:s,s:s},s:[{s:s,s:b,s:b,s:{s:O},s:{s:{}}}]}}",
                    "metadata", "name", "widgets.example.com", "spec", "group", "example.com",
                    "scope", "Namespaced", "names", "kind", "Widget", "plural", "widgets",
                    "versions", "name", "v1", "served", 1, "storage", 1, "schema",
                    "openAPIV3Schema", in, "subresources", "status");
    if (crd) {
        causes = json_array();
        crd_default(crd);
        crd_validate(crd, causes);
        check_causes(causes);
        json_decref(causes);
        json_decref(crd);
    }
    json_decref(in);
    return 0;
}
