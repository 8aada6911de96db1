/* status: decoding of the API server's error answers (metav1.Status bodies, or anything else a
 * proxy may send) into kube_status_t, and the predicates callers branch on (by reason, never by
 * message). Pure. */
#include "kube/client.h"

#include <stdio.h>
#include <string.h>

static void copy_str(char *dst, size_t cap, const char *src)
{
    if (!src) src = "";
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

static void copy_json_str(char *dst, size_t cap, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    copy_str(dst, cap, json_is_string(v) ? json_string_value(v) : "");
}

/* The reason client-go gives an answer without a Status body (NewGenericServerResponse). */
static const char *reason_for_code(int code)
{
    switch (code) {
    case 400:
        return "BadRequest";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "NotFound";
    case 405:
        return "MethodNotAllowed";
    case 406:
        return "NotAcceptable";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 415:
        return "UnsupportedMediaType";
    case 422:
        return "Invalid";
    case 429:
        return "TooManyRequests";
    case 503:
        return "ServiceUnavailable";
    case 504:
        return "Timeout";
    default:
        return code >= 500 ? "InternalError" : "";
    }
}

static const char *message_for_code(int code)
{
    switch (code) {
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "the server could not find the requested resource";
    case 409:
        return "the server reported a conflict";
    case 410:
        return "the resource is gone";
    case 429:
        return "the server has received too many requests and has asked us to try again "
               "later";
    default:
        break;
    }
    return code >= 500 ? "an error on the server has prevented the request from succeeding"
                       : "the server returned an unexpected answer";
}

static bool is_status_object(json_t *root)
{
    if (!json_is_object(root)) return false;
    json_t *kind = json_object_get(root, "kind");
    if (json_is_string(kind)) return strcmp(json_string_value(kind), "Status") == 0;
    /* items of a watch ERROR event sometimes lack kind; accept the Status shape */
    return json_is_string(json_object_get(root, "reason")) ||
           (json_is_string(json_object_get(root, "status")) &&
            json_is_string(json_object_get(root, "message")));
}

void kube_status_decode(int http_code, const char *body, size_t len, kube_status_t *out)
{
    memset(out, 0, sizeof *out);
    out->code = http_code;
    json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    if (is_status_object(root)) {
        json_t *code = json_object_get(root, "code");
        /* A Status inside a 200 (a watch ERROR event) carries the real code. */
        if ((http_code < 300) && json_is_integer(code) && json_integer_value(code) >= 300 &&
            json_integer_value(code) < 1000)
            out->code = (int)json_integer_value(code);
        copy_json_str(out->reason, sizeof out->reason, root, "reason");
        copy_json_str(out->message, sizeof out->message, root, "message");
        json_t *d = json_object_get(root, "details");
        if (json_is_object(d)) {
            copy_json_str(out->details_name, sizeof out->details_name, d, "name");
            copy_json_str(out->details_group, sizeof out->details_group, d, "group");
            copy_json_str(out->details_kind, sizeof out->details_kind, d, "kind");
            json_t *ra = json_object_get(d, "retryAfterSeconds");
            if (json_is_integer(ra) && json_integer_value(ra) > 0)
                out->retry_after_s = (double)json_integer_value(ra);
            json_t *causes = json_object_get(d, "causes");
            size_t i;
            json_t *cz;
            if (json_is_array(causes)) {
                json_array_foreach(causes, i, cz)
                {
                    if (out->ncauses >= KUBE_MAX_CAUSES) break;
                    if (!json_is_object(cz)) continue;
                    int k = out->ncauses++;
                    copy_json_str(out->causes[k].reason, sizeof out->causes[k].reason, cz,
                                  "reason");
                    copy_json_str(out->causes[k].field, sizeof out->causes[k].field, cz, "field");
                    copy_json_str(out->causes[k].message, sizeof out->causes[k].message, cz,
                                  "message");
                }
            }
        }
        if (!out->reason[0]) copy_str(out->reason, sizeof out->reason, reason_for_code(out->code));
        if (!out->message[0])
            copy_str(out->message, sizeof out->message, message_for_code(out->code));
    } else {
        copy_str(out->reason, sizeof out->reason, reason_for_code(out->code));
        if (body && len) {
            size_t n = len < 200 ? len : 200;
            size_t j = 0;
            for (size_t i = 0; i < n && j + 1 < sizeof out->message; i++) {
                unsigned char ch = (unsigned char)body[i];
                out->message[j++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
            }
            out->message[j] = 0;
        } else {
            copy_str(out->message, sizeof out->message, message_for_code(out->code));
        }
    }
    json_decref(root);
}

static bool reason_is(const kube_status_t *s, const char *r)
{
    return strcmp(s->reason, r) == 0;
}

bool kube_status_is_not_found(const kube_status_t *s)
{
    return s->code == 404 && s->details_name[0] != 0;
}

bool kube_status_is_type_not_found(const kube_status_t *s)
{
    return s->code == 404 && s->details_name[0] == 0;
}

bool kube_status_is_field_manager_conflict(const kube_status_t *s)
{
    if (s->code != 409 || !reason_is(s, "Conflict")) return false;
    for (int i = 0; i < s->ncauses; i++)
        if (strcmp(s->causes[i].reason, "FieldManagerConflict") == 0) return true;
    return false;
}

bool kube_status_is_conflict(const kube_status_t *s)
{
    return s->code == 409 && reason_is(s, "Conflict") && !kube_status_is_field_manager_conflict(s);
}

bool kube_status_is_already_exists(const kube_status_t *s)
{
    return s->code == 409 && reason_is(s, "AlreadyExists");
}

bool kube_status_is_expired(const kube_status_t *s)
{
    return s->code == 410 || reason_is(s, "Expired") || reason_is(s, "Gone");
}

bool kube_status_is_invalid(const kube_status_t *s)
{
    return s->code == 422;
}

bool kube_status_is_retryable(const kube_status_t *s)
{
    return s->code == 0 || s->code == 429 || s->code == 500 || (s->code >= 502 && s->code <= 504);
}
