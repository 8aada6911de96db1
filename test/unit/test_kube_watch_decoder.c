/* test_kube_watch_decoder: watch bodies split at every byte offset and fed byte by byte give the
 * same events as one feed; several events per chunk; bookmarks and ERROR events; garbage, unknown
 * types, truncation and oversized lines are reported as errors, never crashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "kube/watch_decoder.h"

#define EV(type, rv)                                                                               \
    "{\"type\":\"" type "\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c" rv      \
    "\",\"resourceVersion\":\"" rv "\"}}}\n"
#define BOOKMARK(rv)                                                                               \
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\","             \
    "\"metadata\":"                                                                                \
    "{\"resourceVersion\":\"" rv "\",\"creationTimestamp\":null}}}\n"
#define EXPIRED                                                                                    \
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"   \
    "\"status\":\"Failure\",\"message\":\"too old resource version: 102 (100)\",\"reason\":"       \
    "\"Expired\",\"code\":410}}\n"

/* The events seen, as "TYPE:rv" joined by spaces (ERROR shows the Status code). */
typedef struct rec {
    char out[1024];
    int stop_after; /* > 0: return 7 from the callback after this many events */
    int n;
} rec_t;

static int on_ev(kube_watch_type_t t, json_t *obj, void *ud)
{
    rec_t *r = ud;
    assert_true(json_is_object(obj));
    char one[128];
    if (t == KUBE_WATCH_ERROR)
        snprintf(one, sizeof one, "%s:%lld ", kube_watch_type_name(t), jsonx_int(obj, "code", 0));
    else
        snprintf(one, sizeof one, "%s:%s ", kube_watch_type_name(t),
                 jsonx_str(obj, "metadata.resourceVersion", "-"));
    strncat(r->out, one, sizeof r->out - strlen(r->out) - 1);
    json_decref(obj);
    r->n++;
    return r->stop_after > 0 && r->n >= r->stop_after ? 7 : 0;
}

static const struct {
    const char *body;
    const char *events;
    int feed_rc;   /* of the feeds */
    int finish_rc; /* of kube_watch_decoder_finish (when the feeds returned 0) */
} CASES[] = {
    {"", "", 0, 0},
    {EV("ADDED", "5"), "ADDED:5 ", 0, 0},
    {EV("ADDED", "5") EV("MODIFIED", "6") EV("DELETED", "7"), "ADDED:5 MODIFIED:6 DELETED:7 ", 0,
     0},
    {EV("ADDED", "5") BOOKMARK("9") EV("MODIFIED", "10"), "ADDED:5 BOOKMARK:9 MODIFIED:10 ", 0, 0},
    {EV("ADDED", "5") EXPIRED, "ADDED:5 ERROR:410 ", 0, 0},
    /* blank lines and CRLF line ends are fine */
    {"\n\n" EV("ADDED", "5") "\r\n  \n", "ADDED:5 ", 0, 0},
    /* the last event without its newline is still complete */
    {"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"3\"}}}", "ADDED:3 ", 0,
     0},
    /* a stream cut inside an event */
    {EV("ADDED", "5") "{\"type\":\"MODIFIED\",\"obj", "ADDED:5 ", 0, -EPROTO},
    /* garbage: the events before it are delivered, then an error */
    {EV("ADDED", "5") "this is not json\n" EV("ADDED", "6"), "ADDED:5 ", -EPROTO, -EPROTO},
    {"{\"type\":\"ADDED\"}\n", "", -EPROTO, -EPROTO},
    {"{\"type\":\"ADDED\",\"object\":[]}\n", "", -EPROTO, -EPROTO},
    {"{\"type\":5,\"object\":{}}\n", "", -EPROTO, -EPROTO},
    {"{\"type\":\"SNAPSHOT\",\"object\":{}}\n", "", -EPROTO, -EPROTO},
    {"[1,2,3]\n", "", -EPROTO, -EPROTO},
    {"{\"type\":\"ADDED\",\"object\":{}} {}\n", "", -EPROTO, -EPROTO},
};
#define NCASES (sizeof CASES / sizeof CASES[0])

/* Feeds body in the given chunks (cut points), then finishes; checks events and codes. */
static void run(size_t ci, const size_t *cuts, size_t ncuts)
{
    const char *body = CASES[ci].body;
    size_t len = strlen(body), pos = 0;
    rec_t r = {0};
    kube_watch_decoder_t d;
    kube_watch_decoder_init(&d, 0, on_ev, &r);
    int rc = 0;
    for (size_t i = 0; i <= ncuts && rc == 0; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        rc = kube_watch_decoder_feed(&d, body + pos, end - pos);
        pos = end;
    }
    if (rc != CASES[ci].feed_rc)
        fail_msg("case %zu: feed rc %d, want %d", ci, rc, CASES[ci].feed_rc);
    int frc = kube_watch_decoder_finish(&d);
    if (frc != CASES[ci].finish_rc)
        fail_msg("case %zu: finish rc %d, want %d (%s)", ci, frc, CASES[ci].finish_rc, d.err);
    if (rc || frc) assert_true(strlen(d.err) > 0);
    if (strcmp(r.out, CASES[ci].events) != 0)
        fail_msg("case %zu: events \"%s\", want \"%s\"", ci, r.out, CASES[ci].events);
    /* sticky: a failed decoder keeps failing */
    if (rc) assert_int_equal(kube_watch_decoder_feed(&d, EV("ADDED", "1"), 40), rc);
    kube_watch_decoder_free(&d);
}

static void test_one_chunk(void **state)
{
    for (size_t i = 0; i < NCASES; i++)
        run(i, NULL, 0);
}

static void test_split_every_offset(void **state)
{
    for (size_t i = 0; i < NCASES; i++) {
        size_t len = strlen(CASES[i].body);
        for (size_t cut = 0; cut <= len; cut++)
            run(i, &cut, 1);
        /* and in three pieces */
        for (size_t a = 0; a <= len; a += 7)
            for (size_t b = a; b <= len; b += 5) {
                size_t cuts[2] = {a, b};
                run(i, cuts, 2);
            }
    }
}

static void test_byte_by_byte(void **state)
{
    for (size_t i = 0; i < NCASES; i++) {
        size_t len = strlen(CASES[i].body);
        size_t *cuts = malloc((len + 1) * sizeof *cuts);
        for (size_t k = 0; k < len; k++)
            cuts[k] = k + 1;
        run(i, cuts, len);
        free(cuts);
    }
}

static void test_callback_stops(void **state)
{
    rec_t r = {.stop_after = 2};
    kube_watch_decoder_t d;
    kube_watch_decoder_init(&d, 0, on_ev, &r);
    const char *body = EV("ADDED", "1") EV("ADDED", "2") EV("ADDED", "3");
    assert_int_equal(kube_watch_decoder_feed(&d, body, strlen(body)), 7);
    assert_string_equal(r.out, "ADDED:1 ADDED:2 ");
    assert_int_equal(kube_watch_decoder_feed(&d, "\n", 1), 7);
    kube_watch_decoder_free(&d);
}

static void test_too_long(void **state)
{
    rec_t r = {0};
    kube_watch_decoder_t d;
    kube_watch_decoder_init(&d, 64, on_ev, &r);
    const char *body = EV("ADDED", "1");
    assert_int_equal(kube_watch_decoder_feed(&d, body, 40), 0);
    assert_int_equal(kube_watch_decoder_feed(&d, body + 40, strlen(body) - 40), -EMSGSIZE);
    assert_non_null(strstr(d.err, "longer than 64"));
    kube_watch_decoder_free(&d);
    /* also when the whole line arrives in one chunk */
    kube_watch_decoder_init(&d, 64, on_ev, &r);
    assert_int_equal(kube_watch_decoder_feed(&d, body, strlen(body)), -EMSGSIZE);
    assert_string_equal(r.out, "");
    kube_watch_decoder_free(&d);
}

static void test_error_message(void **state)
{
    rec_t r = {0};
    kube_watch_decoder_t d;
    kube_watch_decoder_init(&d, 0, on_ev, &r);
    assert_int_equal(kube_watch_decoder_feed(&d, "{\"type\":\"NOPE\",\"object\":{}}\n", 29),
                     -EPROTO);
    assert_non_null(strstr(d.err, "unknown type \"NOPE\""));
    kube_watch_decoder_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_chunk),    cmocka_unit_test(test_split_every_offset),
        cmocka_unit_test(test_byte_by_byte), cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_too_long),     cmocka_unit_test(test_error_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
