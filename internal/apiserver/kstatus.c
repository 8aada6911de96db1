/* kstatus: builds metav1.Status error and success bodies, keeping the message wording, reasons
 * and details of k8s.io/apimachinery/pkg/api/errors so kubectl prints what it prints on a real
 * cluster. */
#include "apiserver/kstatus.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int kerr_vset(kerr_t *e, int code, const char *reason, const char *fmt, va_list ap)
{
    kerr_clear(e);
    e->code = code;
    snprintf(e->reason, sizeof e->reason, "%s", reason ? reason : "");
    if (vasprintf(&e->message, fmt, ap) < 0) e->message = NULL;
    return -1;
}

int kerr_set(kerr_t *e, int code, const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kerr_vset(e, code, reason, fmt, ap);
    va_end(ap);
    return -1;
}

void kerr_clear(kerr_t *e)
{
    free(e->message);
    json_decref(e->details);
    free(e->retry_after);
    memset(e, 0, sizeof *e);
}

void kstatus_qualified(const restype_t *rt, char *buf, size_t len)
{
    if (rt->group[0])
        snprintf(buf, len, "%s.%s", rt->plural, rt->group);
    else
        snprintf(buf, len, "%s", rt->plural);
}

static json_t *details_for(const restype_t *rt, const char *name)
{
    json_t *d = json_object();
    if (name) json_object_set_new(d, "name", json_string(name));
    if (rt->group[0]) json_object_set_new(d, "group", json_string(rt->group));
    json_object_set_new(d, "kind", json_string(rt->plural));
    return d;
}

int kerr_not_found(kerr_t *e, const restype_t *rt, const char *name)
{
    char q[300];
    kstatus_qualified(rt, q, sizeof q);
    kerr_set(e, 404, "NotFound", "%s \"%s\" not found", q, name);
    e->details = details_for(rt, name);
    return -1;
}

int kerr_type_not_found(kerr_t *e)
{
    kerr_set(e, 404, "NotFound", "the server could not find the requested resource");
    e->details = json_object();
    return -1;
}

int kerr_already_exists(kerr_t *e, const restype_t *rt, const char *name)
{
    char q[300];
    kstatus_qualified(rt, q, sizeof q);
    kerr_set(e, 409, "AlreadyExists", "%s \"%s\" already exists", q, name);
    e->details = details_for(rt, name);
    return -1;
}

int kerr_conflict(kerr_t *e, const restype_t *rt, const char *name, const char *why)
{
    char q[300];
    kstatus_qualified(rt, q, sizeof q);
    kerr_set(e, 409, "Conflict", "Operation cannot be fulfilled on %s \"%s\": %s", q, name,
             why ? why
                 : "the object has been modified; please apply your changes to the latest "
                   "version and try again");
    e->details = details_for(rt, name);
    return -1;
}

int kerr_bad_request(kerr_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kerr_vset(e, 400, "BadRequest", fmt, ap);
    va_end(ap);
    return -1;
}

int kerr_invalid(kerr_t *e, const restype_t *rt, const char *name, json_t *causes)
{
    /* message: Kind.group "name" is invalid: field: msg  |  [field: msg, field: msg] */
    size_t n = json_array_size(causes);
    size_t cap = 256, len = 0;
    char *list = malloc(cap);
    list[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(causes, i);
        const char *f = json_string_value(json_object_get(c, "field"));
        const char *m = json_string_value(json_object_get(c, "message"));
        size_t need = (f ? strlen(f) : 0) + (m ? strlen(m) : 0) + 8;
        if (len + need >= cap) {
            while (len + need >= cap)
                cap *= 2;
            list = realloc(list, cap);
        }
        len += (size_t)snprintf(list + len, cap - len, "%s%s%s%s", i ? ", " : "", f ? f : "",
                                f && *f ? ": " : "", m ? m : "");
    }
    char kind[300];
    if (rt->group[0])
        snprintf(kind, sizeof kind, "%s.%s", rt->kind, rt->group);
    else
        snprintf(kind, sizeof kind, "%s", rt->kind);
    kerr_set(e, 422, "Invalid", "%s \"%s\" is invalid: %s%s%s", kind, name ? name : "",
             n > 1 ? "[" : "", list, n > 1 ? "]" : "");
    free(list);
    json_t *d = json_object();
    if (name) json_object_set_new(d, "name", json_string(name));
    if (rt->group[0]) json_object_set_new(d, "group", json_string(rt->group));
    json_object_set_new(d, "kind", json_string(rt->kind));
    json_object_set_new(d, "causes", causes);
    e->details = d;
    return -1;
}

json_t *kstatus_from_err(const kerr_t *e)
{
    json_t *s = json_pack("{s:s,s:s,s:{},s:s,s:s}", "kind", "Status", "apiVersion", "v1",
                          "metadata", "status", "Failure", "message", e->message ? e->message : "");
    if (e->reason[0]) json_object_set_new(s, "reason", json_string(e->reason));
    json_object_set_new(s, "details", e->details ? json_deep_copy(e->details) : json_object());
    json_object_set_new(s, "code", json_integer(e->code));
    return s;
}

json_t *kstatus_success(const restype_t *rt, const char *name, const char *uid)
{
    json_t *d = details_for(rt, name);
    if (uid) json_object_set_new(d, "uid", json_string(uid));
    return json_pack("{s:s,s:s,s:{},s:s,s:o}", "kind", "Status", "apiVersion", "v1", "metadata",
                     "status", "Success", "details", d);
}
