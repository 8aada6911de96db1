/* fuzz_selector: libFuzzer target for selector.c. Feeds the input to label_selector_parse and
 * field_selector_parse, matches what parses against a small fixed object, and runs the
 * objmeta_validate checks over the same bytes used as a name, label and finalizer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/objmeta_validate.h"
#include "base/selector.h"

static const char OBJ[] =
    "{\"metadata\":{\"name\":\"n1\",\"namespace\":\"default\",\"labels\":{\"app\":\"web\","
    "\"tier\":\"frontend\",\"num\":\"5\",\"example.com/role\":\"x\",\"empty\":\"\"}},"
    "\"spec\":{\"nodeName\":\"node,1\",\"replicas\":3,\"paused\":false,\"ratio\":0.5},"
    "\"status\":{\"phase\":\"Running\"}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    json_t *obj = json_loads(OBJ, 0, NULL);
    json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
    char err[256];

    label_selector_t *ls = NULL;
    if (label_selector_parse(text, &ls, err, sizeof err) == 0) {
        (void)label_selector_matches(ls, labels);
        (void)label_selector_matches(ls, NULL);
        label_selector_free(ls);
    } else if (ls != NULL || strnlen(err, sizeof err) == sizeof err) {
        abort(); /* errors leave *out NULL and a terminated message */
    }

    field_selector_t *fs = NULL;
    if (field_selector_parse(text, &fs, err, sizeof err) == 0) {
        (void)field_selector_matches(fs, obj);
        for (size_t i = 0; i < field_selector_count(fs); i++) {
            const char *f = field_selector_field(fs, i);
            if (!f) abort();
            (void)field_selector_exact(fs, f);
        }
        field_selector_free(fs);
    } else if (fs != NULL) {
        abort();
    }

    /* The same bytes as metadata: a name, a label key and value, a finalizer. */
    json_t *s = json_stringn(text, strlen(text)); /* NULL for invalid UTF-8 */
    if (s) {
        json_t *meta = json_pack("{s:O,s:O,s:{s:O},s:[O]}", "name", s, "generateName", s, "labels",
                                 json_string_value(s), s, "finalizers", s);
        json_t *causes = json_array();
        objmeta_validate(meta, size & 1, causes);
        json_decref(causes);
        json_decref(meta);
        json_t *sel =
            json_pack("{s:{s:O},s:[{s:O,s:s,s:[O]}]}", "matchLabels", json_string_value(s), s,
                      "matchExpressions", "key", s, "operator", "In", "values", s);
        label_selector_t *js = NULL;
        if (sel && label_selector_from_json(sel, &js, err, sizeof err) == 0) {
            (void)label_selector_matches(js, labels);
            label_selector_free(js);
        }
        json_decref(sel);
        json_decref(s);
    }
    json_decref(obj);
    free(text);
    return 0;
}
