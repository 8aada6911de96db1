/* libFuzzer target for base/patch and base/yamljson: the input is "<doc>\n<patch>" (split at the
 * first NUL or newline); both halves go through merge, JSON and strategic (Pod rules) patch and
 * the merge diff, and the whole input through the YAML parser and emitter. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/patch.h"
#include "base/yamljson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_patch_all(json_t *doc, json_t *patch)
{
    char err[256];
    json_t *out = NULL;
    if (patch_merge_apply(doc, patch, &out, err, sizeof err) == 0) {
        json_t *d = patch_merge_diff(doc, out);
        json_decref(d);
        json_decref(out);
    }
    out = NULL;
    if (patch_json_apply(doc, patch, &out, err, sizeof err) == 0) json_decref(out);
    out = NULL;
    if (patch_smp_apply(doc, patch, patch_smp_rules_for_kind("Pod"), &out, err, sizeof err) == 0) {
        json_t *d = patch_merge_diff(doc, out);
        json_decref(d);
        json_decref(out);
    }
    out = NULL;
    if (patch_smp_apply(doc, patch, patch_smp_rules_for_kind("Deployment"), &out, err,
                        sizeof err) == 0)
        json_decref(out);
    json_t *d = patch_merge_diff(doc, patch);
    json_decref(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t cut = 0;
    while (cut < size && data[cut] != '\0' && data[cut] != '\n')
        cut++;
    size_t rest = cut < size ? cut + 1 : size;

    json_t *doc = json_loadb(text, cut, JSON_DECODE_ANY, NULL);
    json_t *patch = json_loadb(text + rest, size - rest, JSON_DECODE_ANY, NULL);
    if (patch) {
        fuzz_patch_all(doc, patch);
        fuzz_patch_all(patch, doc ? doc : patch);
    }
    json_decref(doc);
    json_decref(patch);

    char err[256];
    json_t *y = yamljson_parse(text, size, err, sizeof err);
    if (y) {
        char *dumped = yamljson_dump(y);
        if (dumped) {
            /* what we emit must parse back to the same tree */
            json_t *back = yamljson_parse(dumped, strlen(dumped), err, sizeof err);
            if (!back || !json_equal(back, y)) abort();
            json_decref(back);
            free(dumped);
        }
        json_t *out = NULL;
        if (json_is_object(y) &&
            patch_smp_apply(y, y, patch_smp_rules_for_kind("Pod"), &out, err, sizeof err) == 0)
            json_decref(out);
        json_decref(y);
    }
    return 0;
}
