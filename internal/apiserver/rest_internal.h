/* rest_internal: what the rest_*.c and watch.c files share: the parsed request and response
 * helpers. */
#ifndef APISERVER_REST_INTERNAL_H
#define APISERVER_REST_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "apiserver/apiserver.h"
#include "apiserver/kstatus.h"
#include "base/http_server.h"
#include "base/selector.h"

typedef struct rest_req {
    apiserver_t *as;
    http_request_t *http;
    restype_t *rt;
    const char *version;
    char ns[256];   /* "" when none in the URL */
    char name[256]; /* "" for collections */
    char sub[64];   /* "" or "status", "finalize", "log", ... */
} rest_req_t;

/* Responses. rest_reply_json steals body. warnings (may be NULL) become Warning headers. */
void rest_reply_json(rest_req_t *r, int code, json_t *body, json_t *warnings);
void rest_reply_err(http_request_t *req, const kerr_t *e);
/* Accept asks for a Table (as=Table) / aggregated discovery. */
bool rest_wants_table(http_request_t *req);

/* Resource handlers (rest_resources.c). */
void rest_resource(rest_req_t *r);

/* Selectors from the query; 0 or -1 with e set (400). Caller frees both. */
int rest_parse_selectors(rest_req_t *r, label_selector_t **ls, field_selector_t **fs, kerr_t *e);
/* Whether obj passes the request's namespace and selectors. */
bool rest_obj_matches(rest_req_t *r, json_t *obj, const label_selector_t *ls,
                      const field_selector_t *fs);

/* Watch (watch.c): takes over the request. */
void watch_serve(rest_req_t *r);

#endif
