/* faults: the fault-injection settings and the draws that decide when a write fails. */
#include "apiserver/faults.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int faults_from_json(faults_t *f, json_t *in, char *errbuf, size_t errlen)
{
    if (!json_is_object(in)) {
        snprintf(errbuf, errlen, "faults: body must be a JSON object");
        return -EINVAL;
    }
    faults_t n = *f;
    const char *k;
    json_t *v;
    json_object_foreach(in, k, v)
    {
        if (strcmp(k, "writeErrorRate") == 0 && json_is_number(v) && json_number_value(v) >= 0 &&
            json_number_value(v) <= 1) {
            n.write_error_rate = json_number_value(v);
        } else if (strcmp(k, "watchCutAfter") == 0 && json_is_integer(v) &&
                   json_integer_value(v) >= 0) {
            n.watch_cut_after = (int)json_integer_value(v);
        } else if (strcmp(k, "expireAfter") == 0 && json_is_integer(v) &&
                   json_integer_value(v) >= 0) {
            n.expire_after = (int)json_integer_value(v);
        } else if (strcmp(k, "watchDelayMs") == 0 && json_is_integer(v) &&
                   json_integer_value(v) >= 0 && json_integer_value(v) <= 60000) {
            n.watch_delay_ms = (int)json_integer_value(v);
        } else if (strcmp(k, "emptyPages") == 0 && json_is_boolean(v)) {
            n.empty_pages = json_is_true(v);
        } else {
            snprintf(errbuf, errlen,
                     "faults: field \"%s\" is unknown or has a wrong type or range (writeErrorRate "
                     "0..1, watchCutAfter/expireAfter integers >= 0, watchDelayMs 0..60000, "
                     "emptyPages boolean)",
                     k);
            return -EINVAL;
        }
    }
    *f = n;
    return 0;
}

json_t *faults_to_json(const faults_t *f)
{
    return json_pack("{s:f,s:i,s:i,s:i,s:b}", "writeErrorRate", f->write_error_rate,
                     "watchCutAfter", f->watch_cut_after, "expireAfter", f->expire_after,
                     "watchDelayMs", f->watch_delay_ms, "emptyPages", f->empty_pages);
}

int faults_draw_write_error(faults_t *f)
{
    if (f->write_error_rate <= 0) return 0;
    double r = (double)rand_r(&f->seed) / ((double)RAND_MAX + 1.0);
    if (r >= f->write_error_rate) return 0;
    static const int codes[] = {429, 500, 503, 504, -1};
    return codes[rand_r(&f->seed) % 5];
}
