/* fuzz_executor: libFuzzer target for the task-executor's request path without sockets: the
 * route table and name check on the first line ("METHOD PATH"), then the body through the
 * strict decoders (POST /setTasks array and POST /tasks object), the API and record encodings
 * and the record decoder on what was encoded. Input: "METHOD PATH\n" then the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "executor/routes.h"
#include "executor/task.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nl = memchr(p, '\n', size);
    size_t hl = nl ? (size_t)(nl - p) : size;
    char *head = strndup(p, hl);
    const char *body = nl ? nl + 1 : "";
    size_t blen = nl ? size - hl - 1 : 0;
    char *sp = strchr(head, ' ');
    if (sp) {
        *sp = '\0';
        route_id_t id;
        const char *name;
        if (routes_match(head, sp + 1, &id, &name) == 0 && name) (void)task_name_valid(name);
        (void)routes_token_ok(sp + 1, "token");
    }
    free(head);

    char err[1024];
    task_t **v = NULL;
    size_t n = 0;
    if (task_list_decode(body, blen, &v, &n, err, sizeof err) == 0) {
        for (size_t i = 0; i < n; i++) {
            json_t *rec = task_record_encode(v[i]);
            task_t *back = NULL;
            if (task_record_decode(rec, &back, err, sizeof err) != 0) abort();
            if (strcmp(back->name, v[i]->name) != 0 || !task_name_valid(back->name)) abort();
            task_free(back);
            json_decref(rec);
        }
        task_list_free(v, n);
    }
    json_t *one = task_json_parse(body, blen, err, sizeof err);
    if (one) {
        task_t *t = NULL;
        if (task_decode(one, &t, err, sizeof err) == 0) {
            json_t *o = task_encode(t);
            json_decref(o);
            task_free(t);
        }
        task_t *r = NULL;
        if (task_record_decode(one, &r, err, sizeof err) == 0) task_free(r);
        json_decref(one);
    }
    return 0;
}
