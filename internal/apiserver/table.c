/* table: meta.k8s.io/v1 Table rendering for kubectl get: CR printer columns (client-go JSONPath
 * semantics, apiextensions tableconvertor cell rules), the built-in kinds' printers
 * (pkg/printers/internalversion, Wide as the server renders them), the default Name/Created At
 * convertor, and apimachinery's duration.HumanDuration. Pure: no I/O, no global state. */
#include "apiserver/table.h"

#include "apiserver/jsonpath.h"
#include "base/goquote.h"
#include "base/gofloat.h"
#include "base/strbuf.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Small helpers: JSON accessors.
 * ------------------------------------------------------------------------------------------- */

/* Follows object keys; NULL when any step is missing or not an object. */
static json_t *jget_v(json_t *o, ...)
{
    va_list ap;
    va_start(ap, o);
    const char *k;
    while (o && (k = va_arg(ap, const char *)) != NULL)
        o = json_is_object(o) ? json_object_get(o, k) : NULL;
    va_end(ap);
    return o;
}
#define JGET(...) jget_v(__VA_ARGS__, (const char *)NULL)

static const char *jstr(json_t *v, const char *def)
{
    return json_is_string(v) ? json_string_value(v) : def;
}

static long long jint(json_t *v, long long def)
{
    if (json_is_integer(v)) return json_integer_value(v);
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != d) return 0;
        if (d >= 9.2233720368547758e18) return LLONG_MAX;
        if (d <= -9.2233720368547758e18) return LLONG_MIN;
        return (long long)d;
    }
    return def;
}

static bool jeq(json_t *v, const char *s)
{
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

static json_t *S(const char *s)
{
    json_t *j = json_string(s ? s : "");
    return j ? j : json_string("");
}

static json_t *Sn(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    return j ? j : json_string("");
}

static void append_str(json_t *cells, const char *s)
{
    json_array_append_new(cells, S(s));
}

static void append_int(json_t *cells, long long v)
{
    json_array_append_new(cells, json_integer(v));
}

/* Present and not JSON null. */
static bool jset(json_t *v)
{
    return v && !json_is_null(v);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---------------------------------------------------------------------------------------------
 * Time: RFC3339 parsing (Go's time.Parse(time.RFC3339)) and duration.HumanDuration.
 * ------------------------------------------------------------------------------------------- */

typedef struct ts {
    bool set; /* false: the zero time (missing, null, "" or 0001-01-01T00:00:00Z) */
    long long sec;
    int nsec;
} ts_t;

static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, long long *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static long long zero_time_sec(void)
{
    return days_from_civil(1, 1, 1) * 86400;
}

static bool digits_at(const char *s, size_t i, size_t n, int *out)
{
    int v = 0;
    for (size_t k = 0; k < n; k++) {
        char c = s[i + k];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

/* Parses an RFC3339 timestamp. Returns false when s is not one. */
static bool ts_parse(const char *s, ts_t *out)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t n = strlen(s);
    int y, mo, d, h, mi, se;
    if (n < 20 || !digits_at(s, 0, 4, &y) || s[4] != '-' || !digits_at(s, 5, 2, &mo) ||
        s[7] != '-' || !digits_at(s, 8, 2, &d) || s[10] != 'T' || !digits_at(s, 11, 2, &h) ||
        s[13] != ':' || !digits_at(s, 14, 2, &mi) || s[16] != ':' || !digits_at(s, 17, 2, &se))
        return false;
    size_t i = 19;
    long nsec = 0;
    if (s[i] == '.' || s[i] == ',') {
        int nd = 0;
        i++;
        while (s[i] >= '0' && s[i] <= '9') {
            if (nd < 9) nsec = nsec * 10 + (s[i] - '0');
            nd++;
            i++;
        }
        if (nd == 0) return false;
        for (int k = nd; k < 9; k++)
            nsec *= 10;
    }
    long long off = 0;
    if (s[i] == 'Z' && s[i + 1] == 0) {
        off = 0;
    } else if ((s[i] == '+' || s[i] == '-') && n == i + 6) {
        int oh, om;
        if (!digits_at(s, i + 1, 2, &oh) || s[i + 3] != ':' || !digits_at(s, i + 4, 2, &om) ||
            oh > 23 || om > 59)
            return false;
        off = (oh * 3600LL + om * 60LL) * (s[i] == '-' ? -1 : 1);
    } else {
        return false;
    }
    if (mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 59 || d < 1) return false;
    int dim = mdays[mo - 1];
    if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) dim = 29;
    if (d > dim) return false;
    out->sec = days_from_civil(y, mo, d) * 86400 + h * 3600LL + mi * 60LL + se - off;
    out->nsec = (int)nsec;
    out->set = !(out->sec == zero_time_sec() && out->nsec == 0);
    return true;
}

/* A metav1.Time field as stored. Missing, null, "" and unparseable values read as the zero time. */
static ts_t ts_of(json_t *v)
{
    ts_t t = {0};
    if (json_is_string(v) && !ts_parse(json_string_value(v), &t)) t.set = false;
    return t;
}

static bool ts_before(const ts_t *a, const ts_t *b)
{
    if (!b->set) return false;
    if (!a->set) return true;
    return a->sec < b->sec || (a->sec == b->sec && a->nsec < b->nsec);
}

/* now - t in nanoseconds, saturated like time.Sub. */
static long long ts_since_ns(const ts_t *t, time_t now)
{
    long long ds = (long long)now - t->sec;
    if (ds > LLONG_MAX / 1000000000LL - 1) return LLONG_MAX;
    if (ds < LLONG_MIN / 1000000000LL + 1) return LLONG_MIN;
    return ds * 1000000000LL - t->nsec;
}

/* duration.HumanDuration for a duration in nanoseconds. */
static void human_duration_ns(long long d, char *buf, size_t len)
{
    const long long S_ = 1000000000LL, M_ = 60 * S_, H_ = 60 * M_;
    long long seconds = d / S_;
    if (seconds < -1) {
        snprintf(buf, len, "<invalid>");
        return;
    }
    if (seconds < 0) {
        snprintf(buf, len, "0s");
        return;
    }
    if (seconds < 60 * 2) {
        snprintf(buf, len, "%llds", seconds);
        return;
    }
    long long minutes = d / M_;
    if (minutes < 10) {
        long long s = (d / S_) % 60;
        if (s == 0)
            snprintf(buf, len, "%lldm", minutes);
        else
            snprintf(buf, len, "%lldm%llds", minutes, s);
        return;
    }
    if (minutes < 60 * 3) {
        snprintf(buf, len, "%lldm", minutes);
        return;
    }
    long long hours = d / H_;
    if (hours < 8) {
        long long m = (d / M_) % 60;
        if (m == 0)
            snprintf(buf, len, "%lldh", hours);
        else
            snprintf(buf, len, "%lldh%lldm", hours, m);
    } else if (hours < 48) {
        snprintf(buf, len, "%lldh", hours);
    } else if (hours < 24 * 8) {
        long long h = hours % 24;
        if (h == 0)
            snprintf(buf, len, "%lldd", hours / 24);
        else
            snprintf(buf, len, "%lldd%lldh", hours / 24, h);
    } else if (hours < 24 * 365 * 2) {
        snprintf(buf, len, "%lldd", hours / 24);
    } else if (hours < 24 * 365 * 8) {
        long long dy = (hours / 24) % 365;
        if (dy == 0)
            snprintf(buf, len, "%lldy", hours / 24 / 365);
        else
            snprintf(buf, len, "%lldy%lldd", hours / 24 / 365, dy);
    } else {
        snprintf(buf, len, "%lldy", hours / 24 / 365);
    }
}

void table_human_age(long long seconds, char *buf, size_t len)
{
    long long ns;
    if (seconds > LLONG_MAX / 1000000000LL)
        ns = LLONG_MAX;
    else if (seconds < LLONG_MIN / 1000000000LL)
        ns = LLONG_MIN;
    else
        ns = seconds * 1000000000LL;
    human_duration_ns(ns, buf, len);
}

/* translateTimestampSince: "<unknown>" for the zero time. */
static void age_of(const ts_t *t, time_t now, char *buf, size_t len)
{
    if (!t->set)
        snprintf(buf, len, "<unknown>");
    else
        human_duration_ns(ts_since_ns(t, now), buf, len);
}

static void append_age(json_t *cells, json_t *tsval, time_t now)
{
    char buf[32];
    ts_t t = ts_of(tsval);
    age_of(&t, now, buf, sizeof buf);
    append_str(cells, buf);
}

/* time.Time.UTC().Format(time.RFC3339) */
static void rfc3339_utc(const ts_t *t, char *buf, size_t len)
{
    long long sec = t->set ? t->sec : zero_time_sec();
    long long days = sec / 86400, rem = sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    long long y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60));
}

/* ---------------------------------------------------------------------------------------------
 * Go value formatting: encoding/json.Marshal of strings and values, fmt.Fprint of values (floats
 * through base/gofloat).
 * ------------------------------------------------------------------------------------------- */

static void go_json_string(strbuf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, start = 0;
    strbuf_putc(b, '"');
    while (i < n) {
        unsigned char c = u[i];
        if (c < 0x80) {
            if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
                i++;
                continue;
            }
            strbuf_putn(b, s + start, i - start);
            switch (c) {
            case '"':
            case '\\':
                strbuf_putc(b, '\\');
                strbuf_putc(b, (char)c);
                break;
            case '\b':
                strbuf_puts(b, "\\b");
                break;
            case '\f':
                strbuf_puts(b, "\\f");
                break;
            case '\n':
                strbuf_puts(b, "\\n");
                break;
            case '\r':
                strbuf_puts(b, "\\r");
                break;
            case '\t':
                strbuf_puts(b, "\\t");
                break;
            default:
                strbuf_puts(b, "\\u00");
                strbuf_putc(b, hex[c >> 4]);
                strbuf_putc(b, hex[c & 15]);
            }
            start = ++i;
            continue;
        }
        uint32_t cp;
        size_t len;
        if (!goquote_next_rune(u + i, n - i, &cp, &len)) {
            strbuf_putn(b, s + start, i - start);
            strbuf_puts(b, "\\ufffd");
            start = ++i;
            continue;
        }
        if (cp == 0x2028 || cp == 0x2029) {
            strbuf_putn(b, s + start, i - start);
            strbuf_puts(b, cp == 0x2028 ? "\\u2028" : "\\u2029");
            i += len;
            start = i;
            continue;
        }
        i += len;
    }
    strbuf_putn(b, s + start, i - start);
    strbuf_putc(b, '"');
}

/* encoding/json.Marshal of a decoded value: map keys sorted, HTML characters escaped. */
static void go_json_marshal(strbuf_t *b, json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), k = 0;
        const char **keys = malloc((n ? n : 1) * sizeof *keys);
        if (!keys) abort();
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val) keys[k++] = key;
        qsort(keys, k, sizeof *keys, cmp_cstr);
        strbuf_putc(b, '{');
        for (size_t i = 0; i < k; i++) {
            if (i) strbuf_putc(b, ',');
            go_json_string(b, keys[i], strlen(keys[i]));
            strbuf_putc(b, ':');
            go_json_marshal(b, json_object_get(v, keys[i]));
        }
        strbuf_putc(b, '}');
        free(keys);
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *e;
        strbuf_putc(b, '[');
        json_array_foreach(v, i, e)
        {
            if (i) strbuf_putc(b, ',');
            go_json_marshal(b, e);
        }
        strbuf_putc(b, ']');
        break;
    }
    case JSON_STRING:
        go_json_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        strbuf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        gofloat_json(b, json_real_value(v));
        break;
    case JSON_TRUE:
        strbuf_puts(b, "true");
        break;
    case JSON_FALSE:
        strbuf_puts(b, "false");
        break;
    default:
        strbuf_puts(b, "null");
        break;
    }
}

/* How client-go's JSONPath.PrintResults renders reflect.ValueOf(value) for a string column. */
static void go_print_value(strbuf_t *b, json_t *v)
{
    if (!v || json_is_null(v)) {
        strbuf_puts(b, "<no value>");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        strbuf_putn(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        strbuf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        gofloat_g(b, json_real_value(v));
        break;
    case JSON_TRUE:
        strbuf_puts(b, "true");
        break;
    case JSON_FALSE:
        strbuf_puts(b, "false");
        break;
    default:
        go_json_marshal(b, v);
        break;
    }
}

json_t *table_jsonpath_get(json_t *obj, const char *path)
{
    if (!obj || !path) return NULL;
    jsonpath_t *jp;
    if (jsonpath_compile(path, &jp)) return NULL;
    json_t *r = jsonpath_first(jp, obj);
    if (r && jsonpath_owns(jp, r)) r = NULL; /* a literal of the path itself cannot be borrowed */
    jsonpath_free(jp);
    return r;
}

/* ---------------------------------------------------------------------------------------------
 * Column definitions and descriptions (the SwaggerDoc strings the real server sends).
 * ------------------------------------------------------------------------------------------- */

typedef struct coldef {
    const char *name, *type, *format, *desc;
    int priority;
} coldef_t;

#define D_NAME                                                                                     \
    "Name must be unique within a namespace. Is required when creating resources, although some "  \
    "resources may allow a client to request the generation of an appropriate name "               \
    "automatically. Name is primarily intended for creation idempotence and configuration "        \
    "definition. Cannot be updated. More info: "                                                   \
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
#define D_CREATED                                                                                  \
    "CreationTimestamp is a timestamp representing the server time when this object was "          \
    "created. It is not guaranteed to be set in happens-before order across separate "             \
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "     \
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "                      \
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"                            \
    "api-conventions.md#metadata"
#define D_CONTAINERS "Names of each container in the template."
#define D_IMAGES     "Images referenced by each container in the template."
#define D_NODE_ADDRESSES                                                                           \
    "List of addresses reachable to the node. Queried from cloud provider, if available. More "    \
    "info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is "  \
    "declared as mergeable, but the merge key is not sufficiently unique, which can cause data "   \
    "corruption when it is merged. Callers should instead use a full-replacement patch. See "      \
    "https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change "   \
    "during the lifetime of a Node. However, there are some exceptions where this may not be "     \
    "possible, such as Pods that inherit a Node's address in its own status or consumers of the "  \
    "downward API (status.hostIP)."

#define COL_NAME                                                                                   \
    {                                                                                              \
        "Name", "string", "name", D_NAME, 0                                                        \
    }
#define COL_AGE                                                                                    \
    {                                                                                              \
        "Age", "string", "", D_CREATED, 0                                                          \
    }

static const coldef_t POD_COLS[] = {
    COL_NAME,
    {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0},
    {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
    {"Restarts", "string", "",
     "The number of times the containers in this pod have been restarted and when the last "
     "container in this pod has restarted.",
     0},
    COL_AGE,
    {"IP", "string", "",
     "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet "
     "allocated.",
     1},
    {"Node", "string", "",
     "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate "
     "for scheduling by the scheduler defined in schedulerName. Once this field is set, the "
     "kubelet for this node becomes responsible for the lifecycle of this pod. This field should "
     "not be used to express a desire for the pod to be scheduled on a specific node. "
     "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
     1},
    {"Nominated Node", "string", "",
     "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot "
     "be scheduled right away as preemption victims receive their graceful termination periods. "
     "This field does not guarantee that the pod will be scheduled on this node. Scheduler may "
     "decide to place the pod elsewhere if other nodes become available sooner. Scheduler may "
     "also decide to give the resources on this node to a higher priority pod that is created "
     "after preemption. As a result, this field may be different than PodSpec.nodeName when the "
     "pod is scheduled.",
     1},
    {"Readiness Gates", "string", "",
     "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when "
     "all its containers are ready AND all conditions specified in the readiness gates have "
     "status equal to \"True\" More info: "
     "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
     1},
};

static const coldef_t NAMESPACE_COLS[] = {
    COL_NAME,
    {"Status", "string", "", "The status of the namespace", 0},
    COL_AGE,
};

static const coldef_t NODE_COLS[] = {
    COL_NAME,
    {"Status", "string", "", "The status of the node", 0},
    {"Roles", "string", "", "The roles of the node", 0},
    COL_AGE,
    {"Version", "string", "", "Kubelet Version reported by the node.", 0},
    {"Internal-IP", "string", "", D_NODE_ADDRESSES, 1},
    {"External-IP", "string", "", D_NODE_ADDRESSES, 1},
    {"OS-Image", "string", "",
     "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1},
    {"Kernel-Version", "string", "",
     "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1},
    {"Container-Runtime", "string", "",
     "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
     "containerd://1.4.2).",
     1},
};

static const coldef_t SERVICE_COLS[] = {
    COL_NAME,
    {"Type", "string", "",
     "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are "
     "ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a "
     "cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by "
     "the selector or if that is not specified, by manual construction of an Endpoints object or "
     "EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the "
     "endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds "
     "on ClusterIP and allocates a port on every node which routes to the same endpoints as the "
     "clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if "
     "supported in the current cloud) which routes to the same endpoints as the clusterIP. "
     "\"ExternalName\" aliases this service to the specified externalName. Several other fields "
     "do not apply to ExternalName services. More info: "
     "https://kubernetes.io/docs/concepts/services-networking/service/"
     "#publishing-services-service-types",
     0},
    {"Cluster-IP", "string", "",
     "clusterIP is the IP address of the service and is usually assigned randomly. If an address "
     "is specified manually, is in-range (as per system configuration), and is not in use, it "
     "will be allocated to the service; otherwise creation of the service will fail. This field "
     "may not be changed through updates unless the type field is also being changed to "
     "ExternalName (which requires this field to be blank) or the type field is being changed "
     "from ExternalName (in which case this field may optionally be specified, as describe "
     "above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting "
     "this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct "
     "endpoint connections are preferred and proxying is not required.  Only applies to types "
     "ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service "
     "of type ExternalName, creation will fail. This field will be wiped when updating a Service "
     "to type ExternalName. More info: "
     "https://kubernetes.io/docs/concepts/services-networking/service/"
     "#virtual-ips-and-service-proxies",
     0},
    {"External-IP", "string", "",
     "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
     "traffic for this service.  These IPs are not managed by Kubernetes.  The user is "
     "responsible for ensuring that traffic arrives at a node with this IP.  A common example is "
     "external load-balancers that are not part of the Kubernetes system.",
     0},
    {"Port(s)", "string", "",
     "The list of ports that are exposed by this service. More info: "
     "https://kubernetes.io/docs/concepts/services-networking/service/"
     "#virtual-ips-and-service-proxies",
     0},
    COL_AGE,
    {"Selector", "string", "",
     "Route service traffic to pods with label keys and values matching this selector. If empty "
     "or not present, the service is assumed to have an external process managing its "
     "endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and "
     "LoadBalancer. Ignored if type is ExternalName. More info: "
     "https://kubernetes.io/docs/concepts/services-networking/service/",
     1},
};

static const coldef_t ENDPOINTS_COLS[] = {
    COL_NAME,
    {"Endpoints", "string", "",
     "The set of all endpoints is the union of all subsets. Addresses are placed into subsets "
     "according to the IPs they share. A single address with multiple ports, some of which are "
     "ready and some of which are not (because they come from different containers) will result "
     "in the address being displayed in different subsets for the different ports. No address "
     "will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses "
     "and ports that comprise a service.",
     0},
    COL_AGE,
};

static const coldef_t CONFIGMAP_COLS[] = {
    COL_NAME,
    {"Data", "string", "",
     "Data contains the configuration data. Each key must consist of alphanumeric characters, "
     "'-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The "
     "keys stored in Data must not overlap with the keys in the BinaryData field, this is "
     "enforced during validation process.",
     0},
    COL_AGE,
};

static const coldef_t SECRET_COLS[] = {
    COL_NAME,
    {"Type", "string", "",
     "Used to facilitate programmatic handling of secret data. More info: "
     "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
     0},
    {"Data", "string", "",
     "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' "
     "or '.'. The serialized form of the secret data is a base64 encoded string, representing "
     "the arbitrary (possibly non-string) data value here. Described in "
     "https://tools.ietf.org/html/rfc4648#section-4",
     0},
    COL_AGE,
};

static const coldef_t SA_COLS[] = {
    COL_NAME,
    {"Secrets", "string", "",
     "Secrets is a list of the secrets in the same namespace that pods running using this "
     "ServiceAccount are allowed to use. Pods are only limited to this list if this service "
     "account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The "
     "\"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer "
     "separate namespaces to isolate access to mounted secrets. This field should not be used to "
     "find auto-generated service account token secrets for use outside of pods. Instead, tokens "
     "can be requested directly using the TokenRequest API, or service account token secrets can "
     "be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret",
     0},
    COL_AGE,
};

static const coldef_t EVENT_COLS[] = {
    {"Last Seen", "string", "",
     "The time at which the most recent occurrence of this event was recorded.", 0},
    {"Type", "string", "",
     "Type of this event (Normal, Warning), new types could be added in the "
     "future",
     0},
    {"Reason", "string", "",
     "This should be a short, machine understandable string that gives the reason for the "
     "transition into the object's current status.",
     0},
    {"Object", "string", "", "The object that this event is about.", 0},
    {"Subobject", "string", "",
     "If referring to a piece of an object instead of an entire object, this string should "
     "contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. "
     "For example, if the object reference is to a container within a pod, this would take on a "
     "value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container "
     "that triggered the event) or if no container name is specified \"spec.containers[2]\" "
     "(container with index 2 in this pod). This syntax is chosen only to have some well-defined "
     "way of referencing a part of an object.",
     1},
    {"Source", "string", "",
     "The component reporting this event. Should be a short machine understandable string.", 1},
    {"Message", "string", "", "A human-readable description of the status of this operation.", 0},
    {"First Seen", "string", "",
     "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", 1},
    {"Count", "string", "", "The number of times this event has occurred.", 1},
    {"Name", "string", "name", D_NAME, 1},
};

static const coldef_t PVC_COLS[] = {
    COL_NAME,
    {"Status", "string", "", "phase represents the current phase of PersistentVolumeClaim.", 0},
    {"Volume", "string", "",
     "volumeName is the binding reference to the PersistentVolume backing this claim.", 0},
    {"Capacity", "string", "", "capacity represents the actual resources of the underlying volume.",
     0},
    {"Access Modes", "string", "",
     "accessModes contains the actual access modes the volume backing the PVC has. More info: "
     "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1",
     0},
    {"StorageClass", "string", "", "StorageClass of the pvc", 0},
    {"VolumeAttributesClass", "string", "", "VolumeAttributesClass of the pvc", 0},
    COL_AGE,
    {"VolumeMode", "string", "",
     "volumeMode defines what type of volume is required by the claim. Value of Filesystem is "
     "implied when not included in claim spec.",
     1},
};

static const coldef_t LEASE_COLS[] = {
    COL_NAME,
    {"Holder", "string", "",
     "holderIdentity contains the identity of the holder of a current lease. If Coordinated "
     "Leader Election is used, the holder identity must be equal to the elected "
     "LeaseCandidate.metadata.name field.",
     0},
    COL_AGE,
};

static const coldef_t DEPLOYMENT_COLS[] = {
    COL_NAME,
    {"Ready", "string", "", "Number of the pod with ready state", 0},
    {"Up-to-date", "string", "",
     "Total number of non-terminated pods targeted by this deployment that have the desired "
     "template spec.",
     0},
    {"Available", "string", "",
     "Total number of available pods (ready for at least minReadySeconds) targeted by this "
     "deployment.",
     0},
    COL_AGE,
    {"Containers", "string", "", D_CONTAINERS, 1},
    {"Images", "string", "", D_IMAGES, 1},
    {"Selector", "string", "",
     "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the "
     "ones affected by this deployment.",
     1},
};

static const coldef_t REPLICASET_COLS[] = {
    COL_NAME,
    {"Desired", "integer", "",
     "Replicas is the number of desired replicas. This is a pointer to distinguish between "
     "explicit zero and unspecified. Defaults to 1. More info: "
     "https://kubernetes.io/docs/concepts/workloads/controllers/"
     "replicationcontroller#what-is-a-replicationcontroller",
     0},
    {"Current", "integer", "",
     "Replicas is the most recently observed number of replicas. More info: "
     "https://kubernetes.io/docs/concepts/workloads/controllers/"
     "replicationcontroller#what-is-a-replicationcontroller",
     0},
    {"Ready", "integer", "",
     "readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition.", 0},
    COL_AGE,
    {"Containers", "string", "", D_CONTAINERS, 1},
    {"Images", "string", "", D_IMAGES, 1},
    {"Selector", "string", "",
     "Selector is a label query over pods that should match the replica count. If the selector "
     "is empty, it is defaulted to the labels present on the pod template. Label keys and values "
     "that must match in order to be controlled by this replica set. More info: "
     "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
     1},
};

static const coldef_t STATEFULSET_COLS[] = {
    COL_NAME,
    {"Ready", "string", "", "Number of the pod with ready state", 0},
    COL_AGE,
    {"Containers", "string", "", D_CONTAINERS, 1},
    {"Images", "string", "", D_IMAGES, 1},
};

static const coldef_t DAEMONSET_COLS[] = {
    COL_NAME,
    {"Desired", "integer", "",
     "The total number of nodes that should be running the daemon pod (including nodes correctly "
     "running the daemon pod). More info: "
     "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
     0},
    {"Current", "integer", "",
     "The number of nodes that are running at least 1 daemon pod and are supposed to run the "
     "daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
     0},
    {"Ready", "integer", "",
     "numberReady is the number of nodes that should be running the daemon pod and have one or "
     "more of the daemon pod running with a Ready Condition.",
     0},
    {"Up-to-date", "integer", "", "The total number of nodes that are running updated daemon pod",
     0},
    {"Available", "integer", "",
     "The number of nodes that should be running the daemon pod and have one or more of the "
     "daemon pod running and available (ready for at least spec.minReadySeconds)",
     0},
    {"Node Selector", "string", "",
     "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which "
     "must match a node's labels for the pod to be scheduled on that node. More info: "
     "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
     0},
    COL_AGE,
    {"Containers", "string", "", D_CONTAINERS, 1},
    {"Images", "string", "", D_IMAGES, 1},
    {"Selector", "string", "",
     "A label query over pods that are managed by the daemon set. Must match in order to be "
     "controlled. It must match the pod template's labels. More info: "
     "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
     1},
};

#define D_ROLEREF                                                                                  \
    "RoleRef can reference a Role in the current namespace or a ClusterRole in the global "        \
    "namespace. If the RoleRef cannot be resolved, the Authorizer must return an error."

static const coldef_t ROLEBINDING_COLS[] = {
    COL_NAME,
    {"Role", "string", "", D_ROLEREF, 0},
    COL_AGE,
    {"Users", "string", "", "Users in the roleBinding", 1},
    {"Groups", "string", "", "Groups in the roleBinding", 1},
    {"ServiceAccounts", "string", "", "ServiceAccounts in the roleBinding", 1},
};

static const coldef_t CLUSTERROLEBINDING_COLS[] = {
    COL_NAME,
    {"Role", "string", "", D_ROLEREF, 0},
    COL_AGE,
    {"Users", "string", "", "Users in the clusterRoleBinding", 1},
    {"Groups", "string", "", "Groups in the clusterRoleBinding", 1},
    {"ServiceAccounts", "string", "", "ServiceAccounts in the clusterRoleBinding", 1},
};

/* rest.NewDefaultTableConvertor (CRDs, roles, cluster roles). */
static const coldef_t DEFAULT_COLS[] = {
    COL_NAME,
    {"Created At", "date", "", D_CREATED, 0},
};

/* Built-in kinds this file has no printer for. */
static const coldef_t FALLBACK_COLS[] = {
    COL_NAME,
    COL_AGE,
};

static json_t *coldef_json(const char *name, const char *type, const char *format, const char *desc,
                           long long priority)
{
    json_t *d = json_object();
    json_object_set_new(d, "name", S(name));
    json_object_set_new(d, "type", S(type));
    json_object_set_new(d, "format", S(format));
    json_object_set_new(d, "description", S(desc));
    json_object_set_new(d, "priority", json_integer(priority));
    return d;
}

/* ---------------------------------------------------------------------------------------------
 * Formatting helpers shared by the printers.
 * ------------------------------------------------------------------------------------------- */

static const char *obj_name(json_t *obj)
{
    return jstr(JGET(obj, "metadata", "name"), "");
}

static void append_obj_age(json_t *cells, json_t *obj, time_t now)
{
    append_age(cells, JGET(obj, "metadata", "creationTimestamp"), now);
}

/* labels.FormatLabels: sorted "k=v,..." or "<none>". */
static void format_labels(strbuf_t *b, json_t *m)
{
    size_t n = json_object_size(m), k = 0;
    if (!json_is_object(m) || n == 0) {
        strbuf_puts(b, "<none>");
        return;
    }
    const char **keys = malloc(n * sizeof *keys);
    if (!keys) abort();
    const char *key;
    json_t *v;
    json_object_foreach(m, key, v) keys[k++] = key;
    qsort(keys, k, sizeof *keys, cmp_cstr);
    for (size_t i = 0; i < k; i++) {
        if (i) strbuf_putc(b, ',');
        strbuf_printf(b, "%s=%s", keys[i], jstr(json_object_get(m, keys[i]), ""));
    }
    free(keys);
}

typedef struct req {
    const char *key;
    int op; /* 0 =, 1 in, 2 notin, 3 exists, 4 !exists */
    json_t *values;
    const char *value;
} req_t;

static int cmp_req(const void *a, const void *b)
{
    return strcmp(((const req_t *)a)->key, ((const req_t *)b)->key);
}

/* metav1.LabelSelectorAsSelector(sel).String(); false when the selector is invalid. */
static bool label_selector_string(strbuf_t *b, json_t *sel)
{
    if (!json_is_object(sel)) return true; /* labels.Nothing(): "" */
    json_t *ml = json_object_get(sel, "matchLabels"),
           *me = json_object_get(sel, "matchExpressions");
    size_t n = json_object_size(ml) + json_array_size(me), k = 0;
    if (n == 0) return true; /* labels.Everything(): "" */
    req_t *r = calloc(n, sizeof *r);
    if (!r) abort();
    const char *key;
    json_t *v;
    json_object_foreach(ml, key, v) r[k++] = (req_t){.key = key, .op = 0, .value = jstr(v, "")};
    size_t i;
    json_t *e;
    bool ok = true;
    json_array_foreach(me, i, e)
    {
        const char *op = jstr(JGET(e, "operator"), "");
        req_t q = {.key = jstr(JGET(e, "key"), ""), .values = JGET(e, "values")};
        if (strcmp(op, "In") == 0)
            q.op = 1;
        else if (strcmp(op, "NotIn") == 0)
            q.op = 2;
        else if (strcmp(op, "Exists") == 0)
            q.op = 3;
        else if (strcmp(op, "DoesNotExist") == 0)
            q.op = 4;
        else
            ok = false;
        if ((q.op == 1 || q.op == 2) && json_array_size(q.values) == 0) ok = false;
        r[k++] = q;
    }
    if (ok) {
        qsort(r, k, sizeof *r, cmp_req);
        for (i = 0; i < k; i++) {
            if (i) strbuf_putc(b, ',');
            if (r[i].op == 4) strbuf_putc(b, '!');
            strbuf_puts(b, r[i].key);
            if (r[i].op == 0) {
                strbuf_printf(b, "=%s", r[i].value);
            } else if (r[i].op == 1 || r[i].op == 2) {
                size_t nv = json_array_size(r[i].values), j;
                const char **vs = malloc(nv * sizeof *vs);
                if (!vs) abort();
                for (j = 0; j < nv; j++)
                    vs[j] = jstr(json_array_get(r[i].values, j), "");
                qsort(vs, nv, sizeof *vs, cmp_cstr);
                strbuf_puts(b, r[i].op == 1 ? " in (" : " notin (");
                for (j = 0; j < nv; j++) {
                    if (j) strbuf_putc(b, ',');
                    strbuf_puts(b, vs[j]);
                }
                strbuf_putc(b, ')');
                free(vs);
            }
        }
    }
    free(r);
    return ok;
}

/* metav1.FormatLabelSelector */
static void format_label_selector(strbuf_t *b, json_t *sel)
{
    size_t start = b->n;
    if (!label_selector_string(b, sel)) {
        b->n = start;
        strbuf_puts(b, "<error>");
    } else if (b->n == start) {
        strbuf_puts(b, "<none>");
    }
}

/* layoutContainerCells */
static void append_container_cells(json_t *cells, json_t *containers)
{
    strbuf_t names = {0}, images = {0};
    size_t i;
    json_t *c;
    json_array_foreach(containers, i, c)
    {
        if (i) {
            strbuf_putc(&names, ',');
            strbuf_putc(&images, ',');
        }
        strbuf_puts(&names, jstr(JGET(c, "name"), ""));
        strbuf_puts(&images, jstr(JGET(c, "image"), ""));
    }
    append_str(cells, strbuf_str(&names));
    append_str(cells, strbuf_str(&images));
    strbuf_free(&names);
    strbuf_free(&images);
}

/* ---------------------------------------------------------------------------------------------
 * Built-in printers (server side: Wide rows, kubectl hides priority > 0 columns itself).
 * ------------------------------------------------------------------------------------------- */

typedef void (*row_fn_t)(json_t *obj, json_t *cells, json_t *row, time_t now);

static json_t *condition_of(json_t *conditions, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(conditions, i, c)
    {
        if (jeq(JGET(c, "type"), type)) return c;
    }
    return NULL;
}

static bool is_restartable_init(json_t *inits, const char *name)
{
    size_t i;
    json_t *c;
    json_t *found = NULL;
    json_array_foreach(inits, i, c)
    {
        if (jeq(JGET(c, "name"), name)) found = c; /* a Go map by name: the last one wins */
    }
    return found && jeq(JGET(found, "restartPolicy"), "Always");
}

static void add_row_condition(json_t *row, const char *reason, const char *message)
{
    json_t *c = json_object();
    json_object_set_new(c, "type", json_string("Completed"));
    json_object_set_new(c, "status", json_string("True"));
    json_object_set_new(c, "reason", json_string(reason));
    json_object_set_new(c, "message", json_string(message));
    json_t *a = json_array();
    json_array_append_new(a, c);
    json_object_set_new(row, "conditions", a);
}

static void row_pod(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    json_t *spec = JGET(obj, "spec"), *status = JGET(obj, "status");
    json_t *inits = JGET(spec, "initContainers"), *conds = JGET(status, "conditions");
    long long restarts = 0, ri_restarts = 0, ready = 0;
    long long total = (long long)json_array_size(JGET(spec, "containers"));
    ts_t last = {0}, ri_last = {0};
    const char *phase = jstr(JGET(status, "phase"), "");
    const char *status_reason = jstr(JGET(status, "reason"), "");
    strbuf_t reason = {0};
    strbuf_puts(&reason, *status_reason ? status_reason : phase);
    size_t i;
    json_t *c;

    json_array_foreach(conds, i, c)
    {
        if (jeq(JGET(c, "type"), "PodScheduled") && jeq(JGET(c, "reason"), "SchedulingGated")) {
            strbuf_reset(&reason);
            strbuf_puts(&reason, "SchedulingGated");
        }
    }
    if (strcmp(phase, "Succeeded") == 0)
        add_row_condition(row, "Succeeded", "The pod has completed successfully.");
    else if (strcmp(phase, "Failed") == 0)
        add_row_condition(row, "Failed", "The pod failed.");

    json_array_foreach(inits, i, c)
    {
        if (jeq(JGET(c, "restartPolicy"), "Always")) total++; /* sidecars count */
    }

    bool initializing = false;
    json_array_foreach(JGET(status, "initContainerStatuses"), i, c)
    {
        long long rc = jint(JGET(c, "restartCount"), 0);
        ts_t fin = ts_of(JGET(c, "lastState", "terminated", "finishedAt"));
        bool restartable = is_restartable_init(inits, jstr(JGET(c, "name"), ""));
        restarts += rc;
        if (jset(JGET(c, "lastState", "terminated")) && ts_before(&last, &fin)) last = fin;
        if (restartable) {
            ri_restarts += rc;
            if (jset(JGET(c, "lastState", "terminated")) && ts_before(&ri_last, &fin))
                ri_last = fin;
        }
        json_t *term = JGET(c, "state", "terminated"), *wait = JGET(c, "state", "waiting");
        bool has_term = jset(term), has_wait = jset(wait);
        if (has_term && jint(JGET(term, "exitCode"), 0) == 0) continue;
        if (restartable && json_is_true(JGET(c, "started"))) {
            if (json_is_true(JGET(c, "ready"))) ready++;
            continue;
        }
        strbuf_reset(&reason);
        if (has_term) {
            const char *tr = jstr(JGET(term, "reason"), "");
            if (!*tr) {
                long long sig = jint(JGET(term, "signal"), 0);
                if (sig)
                    strbuf_printf(&reason, "Init:Signal:%lld", sig);
                else
                    strbuf_printf(&reason, "Init:ExitCode:%lld", jint(JGET(term, "exitCode"), 0));
            } else {
                strbuf_printf(&reason, "Init:%s", tr);
            }
        } else if (has_wait && *jstr(JGET(wait, "reason"), "") &&
                   !jeq(JGET(wait, "reason"), "PodInitializing")) {
            strbuf_printf(&reason, "Init:%s", jstr(JGET(wait, "reason"), ""));
        } else {
            strbuf_printf(&reason, "Init:%zu/%zu", i, json_array_size(inits));
        }
        initializing = true;
        break;
    }

    json_t *initialized = condition_of(conds, "Initialized");
    if (!initializing || (initialized && jeq(JGET(initialized, "status"), "True"))) {
        restarts = ri_restarts;
        last = ri_last;
        bool has_running = false;
        json_t *css = JGET(status, "containerStatuses");
        for (i = json_array_size(css); i-- > 0;) {
            c = json_array_get(css, i);
            restarts += jint(JGET(c, "restartCount"), 0);
            ts_t fin = ts_of(JGET(c, "lastState", "terminated", "finishedAt"));
            if (jset(JGET(c, "lastState", "terminated")) && ts_before(&last, &fin)) last = fin;
            json_t *term = JGET(c, "state", "terminated"), *wait = JGET(c, "state", "waiting");
            const char *wr = jstr(JGET(wait, "reason"), ""), *tr = jstr(JGET(term, "reason"), "");
            if (jset(wait) && *wr) {
                strbuf_reset(&reason);
                strbuf_puts(&reason, wr);
            } else if (jset(term) && *tr) {
                strbuf_reset(&reason);
                strbuf_puts(&reason, tr);
            } else if (jset(term)) {
                long long sig = jint(JGET(term, "signal"), 0);
                strbuf_reset(&reason);
                if (sig)
                    strbuf_printf(&reason, "Signal:%lld", sig);
                else
                    strbuf_printf(&reason, "ExitCode:%lld", jint(JGET(term, "exitCode"), 0));
            } else if (json_is_true(JGET(c, "ready")) && jset(JGET(c, "state", "running"))) {
                has_running = true;
                ready++;
            }
        }
        if (strcmp(strbuf_str(&reason), "Completed") == 0 && has_running) {
            bool pod_ready = false; /* hasPodReadyCondition: any Ready=True */
            json_array_foreach(conds, i, c)
            {
                if (jeq(JGET(c, "type"), "Ready") && jeq(JGET(c, "status"), "True"))
                    pod_ready = true;
            }
            strbuf_reset(&reason);
            strbuf_puts(&reason, pod_ready ? "Running" : "NotReady");
        }
    }

    bool deleting = jset(JGET(obj, "metadata", "deletionTimestamp"));
    if (deleting && strcmp(status_reason, "NodeLost") == 0) {
        strbuf_reset(&reason);
        strbuf_puts(&reason, "Unknown");
    } else if (deleting && strcmp(phase, "Failed") != 0 && strcmp(phase, "Succeeded") != 0) {
        strbuf_reset(&reason);
        strbuf_puts(&reason, "Terminating");
    }

    char restarts_s[64], age[32], buf[48];
    if (restarts != 0 && last.set) {
        age_of(&last, now, age, sizeof age);
        snprintf(restarts_s, sizeof restarts_s, "%lld (%s ago)", restarts, age);
    } else {
        snprintf(restarts_s, sizeof restarts_s, "%lld", restarts);
    }
    append_str(cells, obj_name(obj));
    snprintf(buf, sizeof buf, "%lld/%lld", ready, total);
    append_str(cells, buf);
    append_str(cells, strbuf_str(&reason));
    append_str(cells, restarts_s);
    append_obj_age(cells, obj, now);

    const char *ip = jstr(JGET(json_array_get(JGET(status, "podIPs"), 0), "ip"), NULL);
    if (!ip) ip = jstr(JGET(status, "podIP"), "");
    const char *node = jstr(JGET(spec, "nodeName"), "");
    const char *nominated = jstr(JGET(status, "nominatedNodeName"), "");
    append_str(cells, *ip ? ip : "<none>");
    append_str(cells, *node ? node : "<none>");
    append_str(cells, *nominated ? nominated : "<none>");
    json_t *gates = JGET(spec, "readinessGates");
    if (json_array_size(gates) > 0) {
        size_t trues = 0, g;
        json_t *gate;
        json_array_foreach(gates, g, gate)
        {
            const char *ct = jstr(JGET(gate, "conditionType"), "");
            json_t *cond = condition_of(conds, ct);
            if (cond && jeq(JGET(cond, "status"), "True")) trues++;
        }
        snprintf(buf, sizeof buf, "%zu/%zu", trues, json_array_size(gates));
        append_str(cells, buf);
    } else {
        append_str(cells, "<none>");
    }
    strbuf_free(&reason);
}

static void row_namespace(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    append_str(cells, obj_name(obj));
    append_str(cells, jstr(JGET(obj, "status", "phase"), ""));
    append_obj_age(cells, obj, now);
}

static const char *node_address(json_t *node, const char *type)
{
    size_t i;
    json_t *a;
    json_array_foreach(JGET(node, "status", "addresses"), i, a)
    {
        if (jeq(JGET(a, "type"), type)) return jstr(JGET(a, "address"), "");
    }
    return "<none>";
}

static void row_node(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    strbuf_t st = {0}, roles = {0};
    json_t *ready = NULL, *c;
    size_t i;
    json_array_foreach(JGET(obj, "status", "conditions"), i, c)
    {
        if (jeq(JGET(c, "type"), "Ready")) ready = c; /* conditionMap: the last one wins */
    }
    if (ready)
        strbuf_puts(&st, jeq(JGET(ready, "status"), "True") ? "Ready" : "NotReady");
    else
        strbuf_puts(&st, "Unknown");
    if (json_is_true(JGET(obj, "spec", "unschedulable"))) strbuf_puts(&st, ",SchedulingDisabled");

    json_t *labels = JGET(obj, "metadata", "labels");
    size_t n = json_object_size(labels), k = 0;
    const char **rl = malloc((n ? n : 1) * sizeof *rl);
    if (!rl) abort();
    const char *key;
    json_t *v;
    json_object_foreach(labels, key, v)
    {
        static const char prefix[] = "node-role.kubernetes.io/";
        if (strncmp(key, prefix, sizeof prefix - 1) == 0) {
            if (key[sizeof prefix - 1]) rl[k++] = key + sizeof prefix - 1;
        } else if (strcmp(key, "kubernetes.io/role") == 0 && *jstr(v, "")) {
            rl[k++] = jstr(v, "");
        }
    }
    qsort(rl, k, sizeof *rl, cmp_cstr);
    for (i = 0; i < k; i++) {
        if (i && strcmp(rl[i], rl[i - 1]) == 0) continue;
        if (roles.n) strbuf_putc(&roles, ',');
        strbuf_puts(&roles, rl[i]);
    }
    free(rl);

    json_t *info = JGET(obj, "status", "nodeInfo");
    const char *os = jstr(JGET(info, "osImage"), ""), *kv = jstr(JGET(info, "kernelVersion"), "");
    const char *cr = jstr(JGET(info, "containerRuntimeVersion"), "");
    append_str(cells, obj_name(obj));
    append_str(cells, strbuf_str(&st));
    append_str(cells, roles.n ? strbuf_str(&roles) : "<none>");
    append_obj_age(cells, obj, now);
    append_str(cells, jstr(JGET(info, "kubeletVersion"), ""));
    append_str(cells, node_address(obj, "InternalIP"));
    append_str(cells, node_address(obj, "ExternalIP"));
    append_str(cells, *os ? os : "<unknown>");
    append_str(cells, *kv ? kv : "<unknown>");
    append_str(cells, *cr ? cr : "<unknown>");
    strbuf_free(&st);
    strbuf_free(&roles);
}

static void join_strings(strbuf_t *b, json_t *arr, const char *sep)
{
    size_t i;
    json_t *s;
    json_array_foreach(arr, i, s)
    {
        if (i) strbuf_puts(b, sep);
        strbuf_puts(b, jstr(s, ""));
    }
}

/* getServiceExternalIP (wide: no truncation of load-balancer ingress). */
static void service_external_ip(strbuf_t *b, json_t *svc, const char *type)
{
    json_t *ext = JGET(svc, "spec", "externalIPs");
    if (strcmp(type, "ClusterIP") == 0 || strcmp(type, "NodePort") == 0) {
        if (json_array_size(ext) > 0)
            join_strings(b, ext, ",");
        else
            strbuf_puts(b, "<none>");
    } else if (strcmp(type, "LoadBalancer") == 0) {
        json_t *ing = JGET(svc, "status", "loadBalancer", "ingress");
        size_t n = json_array_size(ing), k = 0, i;
        const char **ips = malloc((n ? n : 1) * sizeof *ips);
        if (!ips) abort();
        json_t *e;
        json_array_foreach(ing, i, e)
        {
            const char *ip = jstr(JGET(e, "ip"), ""), *host = jstr(JGET(e, "hostname"), "");
            if (*ip)
                ips[k++] = ip;
            else if (*host)
                ips[k++] = host;
        }
        qsort(ips, k, sizeof *ips, cmp_cstr);
        size_t start = b->n;
        for (i = 0; i < k; i++) {
            if (i && strcmp(ips[i], ips[i - 1]) == 0) continue;
            if (b->n > start) strbuf_putc(b, ',');
            strbuf_puts(b, ips[i]);
        }
        free(ips);
        if (json_array_size(ext) > 0) {
            if (b->n > start) strbuf_putc(b, ',');
            join_strings(b, ext, ",");
        } else if (b->n == start) {
            strbuf_puts(b, "<pending>");
        }
    } else if (strcmp(type, "ExternalName") == 0) {
        strbuf_puts(b, jstr(JGET(svc, "spec", "externalName"), ""));
    } else {
        strbuf_puts(b, "<unknown>");
    }
}

static void row_service(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    json_t *spec = JGET(obj, "spec");
    const char *type = jstr(JGET(spec, "type"), "ClusterIP"); /* defaulted by the API */
    const char *cip = jstr(json_array_get(JGET(spec, "clusterIPs"), 0), NULL);
    if (!cip) cip = jstr(JGET(spec, "clusterIP"), "");
    strbuf_t ext = {0}, ports = {0}, sel = {0};
    service_external_ip(&ext, obj, type);
    size_t i;
    json_t *p;
    json_array_foreach(JGET(spec, "ports"), i, p)
    {
        if (i) strbuf_putc(&ports, ',');
        long long np = jint(JGET(p, "nodePort"), 0);
        const char *proto = jstr(JGET(p, "protocol"), "TCP");
        if (np > 0)
            strbuf_printf(&ports, "%lld:%lld/%s", jint(JGET(p, "port"), 0), np, proto);
        else
            strbuf_printf(&ports, "%lld/%s", jint(JGET(p, "port"), 0), proto);
    }
    format_labels(&sel, JGET(spec, "selector"));
    append_str(cells, obj_name(obj));
    append_str(cells, type);
    append_str(cells, *cip ? cip : "<none>");
    append_str(cells, strbuf_str(&ext));
    append_str(cells, ports.n ? strbuf_str(&ports) : "<none>");
    append_obj_age(cells, obj, now);
    append_str(cells, strbuf_str(&sel));
    strbuf_free(&ext);
    strbuf_free(&ports);
    strbuf_free(&sel);
}

static void row_endpoints(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    json_t *subsets = JGET(obj, "subsets");
    strbuf_t out = {0};
    if (json_array_size(subsets) == 0) {
        strbuf_puts(&out, "<none>");
    } else {
        const size_t max = 3;
        size_t listed = 0, count = 0, i, j, k;
        bool more = false;
        json_t *ss, *port, *addr;
        json_array_foreach(subsets, i, ss)
        {
            json_t *addrs = JGET(ss, "addresses"), *ports = JGET(ss, "ports");
            if (json_array_size(ports) == 0) {
                count += json_array_size(addrs);
                json_array_foreach(addrs, j, addr)
                {
                    if (listed == max) {
                        more = true;
                        break;
                    }
                    if (listed++) strbuf_putc(&out, ',');
                    strbuf_puts(&out, jstr(JGET(addr, "ip"), ""));
                }
                continue;
            }
            json_array_foreach(ports, k, port)
            {
                count += json_array_size(addrs);
                json_array_foreach(addrs, j, addr)
                {
                    if (listed == max) {
                        more = true;
                        break;
                    }
                    const char *ip = jstr(JGET(addr, "ip"), "");
                    if (listed++) strbuf_putc(&out, ',');
                    if (strchr(ip, ':'))
                        strbuf_printf(&out, "[%s]:%lld", ip, jint(JGET(port, "port"), 0));
                    else
                        strbuf_printf(&out, "%s:%lld", ip, jint(JGET(port, "port"), 0));
                }
            }
        }
        if (more) strbuf_printf(&out, " + %zu more...", count - max);
    }
    append_str(cells, obj_name(obj));
    append_str(cells, strbuf_str(&out));
    append_obj_age(cells, obj, now);
    strbuf_free(&out);
}

static void row_configmap(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    append_str(cells, obj_name(obj));
    append_int(cells, (long long)(json_object_size(JGET(obj, "data")) +
                                  json_object_size(JGET(obj, "binaryData"))));
    append_obj_age(cells, obj, now);
}

static void row_secret(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    append_str(cells, obj_name(obj));
    append_str(cells, jstr(JGET(obj, "type"), ""));
    append_int(cells, (long long)json_object_size(JGET(obj, "data")));
    append_obj_age(cells, obj, now);
}

static void row_serviceaccount(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    append_str(cells, obj_name(obj));
    append_int(cells, (long long)json_array_size(JGET(obj, "secrets")));
    append_obj_age(cells, obj, now);
}

static void trim_space(const char **s, size_t *n)
{
    static const char ws[] = " \t\n\v\f\r";
    while (*n && strchr(ws, (*s)[0]))
        (*s)++, (*n)--;
    while (*n && strchr(ws, (*s)[*n - 1]))
        (*n)--;
}

static void row_event(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    char first[32], last[32];
    ts_t ft = ts_of(JGET(obj, "firstTimestamp"));
    if (ft.set) {
        age_of(&ft, now, first, sizeof first);
    } else {
        ts_t et = ts_of(JGET(obj, "eventTime"));
        age_of(&et, now, first, sizeof first);
    }
    ts_t lt = ts_of(JGET(obj, "lastTimestamp"));
    if (lt.set)
        age_of(&lt, now, last, sizeof last);
    else
        snprintf(last, sizeof last, "%s", first);
    long long count = jint(JGET(obj, "count"), 0);
    json_t *series = JGET(obj, "series");
    if (jset(series)) {
        ts_t lo = ts_of(JGET(series, "lastObservedTime"));
        age_of(&lo, now, last, sizeof last);
        count = jint(JGET(series, "count"), 0);
    } else if (count == 0) {
        count = 1;
    }
    strbuf_t target = {0}, source = {0};
    const char *kind = jstr(JGET(obj, "involvedObject", "kind"), "");
    const char *iname = jstr(JGET(obj, "involvedObject", "name"), "");
    for (const char *k = kind; *k; k++)
        strbuf_putc(&target, (char)((*k >= 'A' && *k <= 'Z') ? *k - 'A' + 'a' : *k));
    if (*iname) strbuf_printf(&target, "/%s", iname);
    const char *comp = jstr(JGET(obj, "source", "component"), "");
    const char *host = jstr(JGET(obj, "source", "host"), "");
    if (!*comp) comp = jstr(JGET(obj, "reportingComponent"), "");
    if (!*host) host = jstr(JGET(obj, "reportingInstance"), "");
    strbuf_puts(&source, comp);
    if (*host) strbuf_printf(&source, ", %s", host);
    json_t *msgv = JGET(obj, "message");
    const char *msg = jstr(msgv, "");
    size_t msgn = json_is_string(msgv) ? json_string_length(msgv) : 0;
    trim_space(&msg, &msgn);

    append_str(cells, last);
    append_str(cells, jstr(JGET(obj, "type"), ""));
    append_str(cells, jstr(JGET(obj, "reason"), ""));
    append_str(cells, strbuf_str(&target));
    append_str(cells, jstr(JGET(obj, "involvedObject", "fieldPath"), ""));
    append_str(cells, strbuf_str(&source));
    json_array_append_new(cells, Sn(msg, msgn));
    append_str(cells, first);
    append_int(cells, count);
    append_str(cells, obj_name(obj));
    strbuf_free(&target);
    strbuf_free(&source);
}

static void row_pvc(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    json_t *spec = JGET(obj, "spec"), *status = JGET(obj, "status");
    const char *phase = jstr(JGET(status, "phase"), "");
    if (jset(JGET(obj, "metadata", "deletionTimestamp"))) phase = "Terminating";
    const char *vol = jstr(JGET(spec, "volumeName"), "");
    strbuf_t modes = {0};
    const char *capacity = "";
    if (*vol) {
        static const char *const order[][2] = {{"ReadWriteOnce", "RWO"},
                                               {"ReadOnlyMany", "ROX"},
                                               {"ReadWriteMany", "RWX"},
                                               {"ReadWriteOncePod", "RWOP"}};
        json_t *am = JGET(status, "accessModes");
        for (size_t k = 0; k < 4; k++) {
            size_t i;
            json_t *m;
            bool has = false;
            json_array_foreach(am, i, m)
            {
                if (jeq(m, order[k][0])) has = true;
            }
            if (!has) continue;
            if (modes.n) strbuf_putc(&modes, ',');
            strbuf_puts(&modes, order[k][1]);
        }
        capacity = jstr(JGET(status, "capacity", "storage"), "0");
    }
    const char *sc =
        jstr(JGET(obj, "metadata", "annotations", "volume.beta.kubernetes.io/storage-class"), NULL);
    if (!sc) sc = jstr(JGET(spec, "storageClassName"), "");
    append_str(cells, obj_name(obj));
    append_str(cells, phase);
    append_str(cells, vol);
    append_str(cells, capacity);
    append_str(cells, strbuf_str(&modes));
    append_str(cells, sc);
    append_str(cells, jstr(JGET(spec, "volumeAttributesClassName"), "<unset>"));
    append_obj_age(cells, obj, now);
    append_str(cells, jstr(JGET(spec, "volumeMode"), "<unset>"));
    strbuf_free(&modes);
}

static void row_lease(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    append_str(cells, obj_name(obj));
    append_str(cells, jstr(JGET(obj, "spec", "holderIdentity"), ""));
    append_obj_age(cells, obj, now);
}

static void row_deployment(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    json_t *spec = JGET(obj, "spec"), *status = JGET(obj, "status");
    char buf[64];
    snprintf(buf, sizeof buf, "%lld/%lld", jint(JGET(status, "readyReplicas"), 0),
             jint(JGET(spec, "replicas"), 1));
    strbuf_t sel = {0};
    if (!label_selector_string(&sel, JGET(spec, "selector"))) {
        strbuf_reset(&sel);
        strbuf_puts(&sel, "<invalid>");
    }
    append_str(cells, obj_name(obj));
    append_str(cells, buf);
    append_int(cells, jint(JGET(status, "updatedReplicas"), 0));
    append_int(cells, jint(JGET(status, "availableReplicas"), 0));
    append_obj_age(cells, obj, now);
    append_container_cells(cells, JGET(spec, "template", "spec", "containers"));
    append_str(cells, strbuf_str(&sel));
    strbuf_free(&sel);
}

static void row_replicaset(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    json_t *spec = JGET(obj, "spec"), *status = JGET(obj, "status");
    strbuf_t sel = {0};
    format_label_selector(&sel, JGET(spec, "selector"));
    append_str(cells, obj_name(obj));
    append_int(cells, jint(JGET(spec, "replicas"), 1));
    append_int(cells, jint(JGET(status, "replicas"), 0));
    append_int(cells, jint(JGET(status, "readyReplicas"), 0));
    append_obj_age(cells, obj, now);
    append_container_cells(cells, JGET(spec, "template", "spec", "containers"));
    append_str(cells, strbuf_str(&sel));
    strbuf_free(&sel);
}

static void row_statefulset(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    json_t *spec = JGET(obj, "spec");
    char buf[64];
    snprintf(buf, sizeof buf, "%lld/%lld", jint(JGET(obj, "status", "readyReplicas"), 0),
             jint(JGET(spec, "replicas"), 1));
    append_str(cells, obj_name(obj));
    append_str(cells, buf);
    append_obj_age(cells, obj, now);
    append_container_cells(cells, JGET(spec, "template", "spec", "containers"));
}

static void row_daemonset(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    json_t *spec = JGET(obj, "spec"), *status = JGET(obj, "status");
    strbuf_t ns = {0}, sel = {0};
    format_labels(&ns, JGET(spec, "template", "spec", "nodeSelector"));
    format_label_selector(&sel, JGET(spec, "selector"));
    append_str(cells, obj_name(obj));
    append_int(cells, jint(JGET(status, "desiredNumberScheduled"), 0));
    append_int(cells, jint(JGET(status, "currentNumberScheduled"), 0));
    append_int(cells, jint(JGET(status, "numberReady"), 0));
    append_int(cells, jint(JGET(status, "updatedNumberScheduled"), 0));
    append_int(cells, jint(JGET(status, "numberAvailable"), 0));
    append_str(cells, strbuf_str(&ns));
    append_obj_age(cells, obj, now);
    append_container_cells(cells, JGET(spec, "template", "spec", "containers"));
    append_str(cells, strbuf_str(&sel));
    strbuf_free(&ns);
    strbuf_free(&sel);
}

static void row_rolebinding(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    strbuf_t role = {0}, users = {0}, groups = {0}, sas = {0};
    strbuf_printf(&role, "%s/%s", jstr(JGET(obj, "roleRef", "kind"), ""),
                  jstr(JGET(obj, "roleRef", "name"), ""));
    size_t i;
    json_t *s;
    json_array_foreach(JGET(obj, "subjects"), i, s)
    {
        const char *kind = jstr(JGET(s, "kind"), ""), *name = jstr(JGET(s, "name"), "");
        strbuf_t *dst = strcmp(kind, "ServiceAccount") == 0 ? &sas
                        : strcmp(kind, "User") == 0         ? &users
                        : strcmp(kind, "Group") == 0        ? &groups
                                                            : NULL;
        if (!dst) continue;
        if (dst->n) strbuf_puts(dst, ", ");
        if (dst == &sas)
            strbuf_printf(dst, "%s/%s", jstr(JGET(s, "namespace"), ""), name);
        else
            strbuf_puts(dst, name);
    }
    append_str(cells, obj_name(obj));
    append_str(cells, strbuf_str(&role));
    append_obj_age(cells, obj, now);
    append_str(cells, strbuf_str(&users));
    append_str(cells, strbuf_str(&groups));
    append_str(cells, strbuf_str(&sas));
    strbuf_free(&role);
    strbuf_free(&users);
    strbuf_free(&groups);
    strbuf_free(&sas);
}

static void row_default(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    char buf[48];
    ts_t t = ts_of(JGET(obj, "metadata", "creationTimestamp"));
    rfc3339_utc(&t, buf, sizeof buf);
    append_str(cells, obj_name(obj));
    append_str(cells, buf);
}

static void row_fallback(json_t *obj, json_t *cells, json_t *row, time_t now)
{
    append_str(cells, obj_name(obj));
    append_obj_age(cells, obj, now);
}

#define PRINTER(g, p, cols, fn)                                                                    \
    {                                                                                              \
        g, p, cols, sizeof cols / sizeof cols[0], fn                                               \
    }

static const struct printer {
    const char *group, *plural;
    const coldef_t *cols;
    size_t ncols;
    row_fn_t fn;
} PRINTERS[] = {
    PRINTER("", "pods", POD_COLS, row_pod),
    PRINTER("", "namespaces", NAMESPACE_COLS, row_namespace),
    PRINTER("", "nodes", NODE_COLS, row_node),
    PRINTER("", "services", SERVICE_COLS, row_service),
    PRINTER("", "endpoints", ENDPOINTS_COLS, row_endpoints),
    PRINTER("", "configmaps", CONFIGMAP_COLS, row_configmap),
    PRINTER("", "secrets", SECRET_COLS, row_secret),
    PRINTER("", "serviceaccounts", SA_COLS, row_serviceaccount),
    PRINTER("", "events", EVENT_COLS, row_event),
    PRINTER("", "persistentvolumeclaims", PVC_COLS, row_pvc),
    PRINTER("coordination.k8s.io", "leases", LEASE_COLS, row_lease),
    PRINTER("apps", "deployments", DEPLOYMENT_COLS, row_deployment),
    PRINTER("apps", "replicasets", REPLICASET_COLS, row_replicaset),
    PRINTER("apps", "statefulsets", STATEFULSET_COLS, row_statefulset),
    PRINTER("apps", "daemonsets", DAEMONSET_COLS, row_daemonset),
    PRINTER("rbac.authorization.k8s.io", "rolebindings", ROLEBINDING_COLS, row_rolebinding),
    PRINTER("rbac.authorization.k8s.io", "clusterrolebindings", CLUSTERROLEBINDING_COLS,
            row_rolebinding),
    PRINTER("rbac.authorization.k8s.io", "roles", DEFAULT_COLS, row_default),
    PRINTER("rbac.authorization.k8s.io", "clusterroles", DEFAULT_COLS, row_default),
    PRINTER("apiextensions.k8s.io", "customresourcedefinitions", DEFAULT_COLS, row_default),
};

static const struct printer FALLBACK_PRINTER = PRINTER("", "", FALLBACK_COLS, row_fallback);

static const struct printer *printer_for(const restype_t *rt)
{
    const char *g = rt && rt->group ? rt->group : "", *p = rt && rt->plural ? rt->plural : "";
    for (size_t i = 0; i < sizeof PRINTERS / sizeof PRINTERS[0]; i++)
        if (strcmp(PRINTERS[i].group, g) == 0 && strcmp(PRINTERS[i].plural, p) == 0)
            return &PRINTERS[i];
    return &FALLBACK_PRINTER;
}

/* ---------------------------------------------------------------------------------------------
 * Custom resources: additionalPrinterColumns (apiextensions tableconvertor).
 * ------------------------------------------------------------------------------------------- */

typedef enum ctype { CT_STRING, CT_INTEGER, CT_NUMBER, CT_BOOLEAN, CT_DATE, CT_OTHER } ctype_t;

typedef struct crcol {
    ctype_t type;
    bool ok; /* the path compiled */
    jsonpath_t *path;
} crcol_t;

static ctype_t ctype_of(const char *t)
{
    if (strcmp(t, "string") == 0) return CT_STRING;
    if (strcmp(t, "integer") == 0) return CT_INTEGER;
    if (strcmp(t, "number") == 0) return CT_NUMBER;
    if (strcmp(t, "boolean") == 0) return CT_BOOLEAN;
    if (strcmp(t, "date") == 0) return CT_DATE;
    return CT_OTHER;
}

/* cellForJSONValue, plus the string-column printing. New reference. */
static json_t *cr_cell(const crcol_t *col, json_t *obj, time_t now, strbuf_t *tmp)
{
    if (!col->ok) return json_null();
    json_t *v = jsonpath_first(col->path, obj);
    if (!v) return json_null();
    switch (col->type) {
    case CT_STRING:
        if (json_is_string(v)) return Sn(json_string_value(v), json_string_length(v));
        strbuf_reset(tmp);
        go_print_value(tmp, v);
        return Sn(strbuf_str(tmp), tmp->n);
    case CT_INTEGER:
        if (json_is_integer(v)) return json_integer(json_integer_value(v));
        if (json_is_real(v)) return json_integer(jint(v, 0));
        return json_null();
    case CT_NUMBER: {
        double d;
        if (json_is_integer(v))
            d = (double)json_integer_value(v);
        else if (json_is_real(v))
            d = json_real_value(v);
        else
            return json_null();
        /* float64 on the wire: integral values read "3", as Go encodes them */
        if (d == (double)(long long)d && d > -9007199254740992.0 && d < 9007199254740992.0)
            return json_integer((long long)d);
        return json_real(d);
    }
    case CT_BOOLEAN:
        return json_is_boolean(v) ? json_boolean(json_is_true(v)) : json_null();
    case CT_DATE: {
        if (!json_is_string(v)) return json_null();
        const char *s = json_string_value(v);
        ts_t t = {0};
        if (*s && strcmp(s, "null") != 0 && !ts_parse(s, &t)) return json_string("<invalid>");
        char buf[32];
        age_of(&t, now, buf, sizeof buf);
        return json_string(buf);
    }
    default:
        return json_null();
    }
}

/* ---------------------------------------------------------------------------------------------
 * The Table.
 * ------------------------------------------------------------------------------------------- */

static json_t *row_object(json_t *obj, table_include_t include, const char *api_version,
                          const char *kind)
{
    if (include == TABLE_INCLUDE_OBJECT) {
        if (json_object_get(obj, "kind") && json_object_get(obj, "apiVersion"))
            return json_incref(obj);
        json_t *c = json_object();
        json_object_set_new(c, "kind", S(kind));
        json_object_set_new(c, "apiVersion", S(api_version));
        json_object_update(c, obj);
        return c;
    }
    json_t *p = json_object(), *meta = json_object_get(obj, "metadata");
    json_object_set_new(p, "kind", json_string("PartialObjectMetadata"));
    json_object_set_new(p, "apiVersion", json_string("meta.k8s.io/v1"));
    if (json_is_object(meta))
        json_object_set(p, "metadata", meta);
    else
        json_object_set_new(p, "metadata", json_object());
    return p;
}

json_t *table_build(const restype_t *rt, const restype_version_t *ver, json_t *const *objs,
                    size_t n, table_include_t include, bool with_column_definitions, time_t now)
{
    json_t *table = json_object();
    json_object_set_new(table, "kind", json_string("Table"));
    json_object_set_new(table, "apiVersion", json_string("meta.k8s.io/v1"));
    json_object_set_new(table, "metadata", json_object());

    const char *group = rt && rt->group ? rt->group : "";
    const char *kind = rt && rt->kind ? rt->kind : "";
    strbuf_t api_version = {0};
    if (*group) strbuf_printf(&api_version, "%s/", group);
    strbuf_puts(&api_version, ver && ver->name ? ver->name : "v1");

    bool is_cr = rt && !rt->builtin;
    json_t *defs = json_array();
    const struct printer *pr = NULL;
    crcol_t *cols = NULL;
    size_t ncols = 0;
    if (is_cr) {
        json_t *pcs = ver ? ver->printer_columns : NULL;
        size_t npc = json_array_size(pcs);
        json_array_append_new(defs, coldef_json("Name", "string", "name", D_NAME, 0));
        cols = calloc(npc ? npc : 1, sizeof *cols);
        if (!cols) abort();
        if (npc == 0) {
            /* serveDefaultColumnsIfEmpty: Age from .metadata.creationTimestamp */
            json_array_append_new(defs, coldef_json("Age", "date", "", D_CREATED, 0));
            cols[0].type = CT_DATE;
            cols[0].ok = jsonpath_compile(".metadata.creationTimestamp", &cols[0].path) == 0;
            ncols = 1;
        }
        size_t i;
        json_t *pc;
        json_array_foreach(pcs, i, pc)
        {
            const char *path = jstr(JGET(pc, "jsonPath"), "");
            const char *type = jstr(JGET(pc, "type"), "");
            const char *desc = jstr(JGET(pc, "description"), "");
            strbuf_t d = {0};
            if (*desc)
                strbuf_puts(&d, desc);
            else
                strbuf_printf(&d, "Custom resource definition column (in JSONPath format): %s",
                              path);
            json_array_append_new(defs, coldef_json(jstr(JGET(pc, "name"), ""), type,
                                                    jstr(JGET(pc, "format"), ""), strbuf_str(&d),
                                                    jint(JGET(pc, "priority"), 0)));
            strbuf_free(&d);
            cols[ncols].type = ctype_of(type);
            cols[ncols].ok = jsonpath_compile(path, &cols[ncols].path) == 0;
            ncols++;
        }
    } else {
        pr = printer_for(rt);
        for (size_t i = 0; i < pr->ncols; i++) {
            const coldef_t *c = &pr->cols[i];
            json_array_append_new(defs,
                                  coldef_json(c->name, c->type, c->format, c->desc, c->priority));
        }
    }
    if (with_column_definitions)
        json_object_set_new(table, "columnDefinitions", defs);
    else
        json_decref(defs);

    json_t *rows = json_array();
    strbuf_t tmp = {0};
    for (size_t k = 0; k < n; k++) {
        json_t *obj = objs[k];
        if (!json_is_object(obj)) continue;
        json_t *row = json_object(), *cells = json_array();
        json_object_set_new(row, "cells", cells);
        if (is_cr) {
            append_str(cells, obj_name(obj));
            for (size_t c = 0; c < ncols; c++)
                json_array_append_new(cells, cr_cell(&cols[c], obj, now, &tmp));
        } else {
            pr->fn(obj, cells, row, now);
        }
        if (include != TABLE_INCLUDE_NONE)
            json_object_set_new(row, "object",
                                row_object(obj, include, strbuf_str(&api_version), kind));
        json_array_append_new(rows, row);
    }
    json_object_set_new(table, "rows", rows);

    for (size_t c = 0; c < ncols; c++)
        jsonpath_free(cols[c].path);
    free(cols);
    strbuf_free(&tmp);
    strbuf_free(&api_version);
    return table;
}
