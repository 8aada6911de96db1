/* watch_decoder: the streaming decoder of Kubernetes watch bodies:
 * newline-delimited JSON events {"type":...,"object":{...}} that arrive in
 * arbitrary chunks (an event may span many chunks, a chunk may hold many
 * events). Pure: no I/O, no globals. */
#ifndef KUBE_WATCH_DECODER_H
#define KUBE_WATCH_DECODER_H

#include <jansson.h>
#include <stddef.h>

typedef enum kube_watch_type {
    KUBE_WATCH_ADDED,
    KUBE_WATCH_MODIFIED,
    KUBE_WATCH_DELETED,
    KUBE_WATCH_BOOKMARK,
    KUBE_WATCH_ERROR, /* object is a Status */
} kube_watch_type_t;

/* "ADDED", ... */
const char *kube_watch_type_name(kube_watch_type_t t);

/* Called once per complete event; steals object (always a JSON object). A
 * nonzero return stops decoding: kube_watch_decoder_feed returns that value at
 * once and drops the rest. */
typedef int (*kube_watch_event_fn)(kube_watch_type_t type, json_t *object, void *ud);

typedef struct kube_watch_decoder {
    kube_watch_event_fn fn;
    void *ud;
    size_t max_line; /* longest event accepted, bytes */
    char *buf;       /* the incomplete line so far */
    size_t len, cap;
    int failed;    /* sticky error code */
    char err[256]; /* the reason when a call returned -EPROTO / -EMSGSIZE */
    unsigned long events;
} kube_watch_decoder_t;

/* max_line 0 = 64 MiB. */
void kube_watch_decoder_init(kube_watch_decoder_t *d, size_t max_line, kube_watch_event_fn fn,
                             void *ud);
void kube_watch_decoder_free(kube_watch_decoder_t *d);
/* Feeds bytes. Returns 0; the callback's nonzero value; -EPROTO for a line that
 * is not a watch event (not JSON, no "type"/"object", unknown type; the message
 * is in d->err); -EMSGSIZE for an event longer than max_line. After an error
 * every later call returns the same error. Blank lines are skipped. */
int kube_watch_decoder_feed(kube_watch_decoder_t *d, const char *data, size_t len);
/* End of the stream: an unterminated last line is decoded if it is a complete
 * event, otherwise -EPROTO ("truncated event"). Returns 0 when nothing was
 * pending. */
int kube_watch_decoder_finish(kube_watch_decoder_t *d);

#endif
