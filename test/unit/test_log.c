/* test_log: log lines as written to a pipe: logfmt and JSON shapes, quoting and escaping of
 * messages and values, level filtering, and parsing of level/format names and --v. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/log.h"

static int g_pipe[2];

static int setup(void **state)
{
    if (pipe(g_pipe) != 0) return -1;
    fcntl(g_pipe[0], F_SETFL, O_NONBLOCK);
    return 0;
}

static int teardown(void **state)
{
    log_setup(LOG_INFO, LOG_FORMAT_TEXT, 2);
    close(g_pipe[0]);
    close(g_pipe[1]);
    return 0;
}

/* Everything written so far (malloc'd). */
static char *drain(void)
{
    static char buf[65536];
    ssize_t n = read(g_pipe[0], buf, sizeof buf - 1);
    if (n < 0) n = 0;
    buf[n] = 0;
    return strdup(buf);
}

#define TS_RE "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"

/* Checks that line starts with "<prefix><timestamp>" and returns what follows the timestamp. */
static const char *after_ts(const char *line, const char *prefix)
{
    size_t pl = strlen(prefix);
    assert_int_equal(strncmp(line, prefix, pl), 0);
    regex_t re;
    assert_int_equal(regcomp(&re, "^" TS_RE, REG_EXTENDED), 0);
    regmatch_t m;
    int rc = regexec(&re, line + pl, 1, &m, 0);
    regfree(&re);
    assert_int_equal(rc, 0);
    assert_int_equal(m.rm_eo, 24);
    return line + pl + 24;
}

static const struct {
    const char *msg, *k1, *v1, *k2, *v2;
    const char *text; /* after "ts=<ts>" */
} TEXT_CASES[] = {
    {"started", "addr", "127.0.0.1:8080", NULL, NULL,
     " level=info msg=\"started\" addr=127.0.0.1:8080\n"},
    {"two words", "key", "ns/name", "n", "3", " level=info msg=\"two words\" key=ns/name n=3\n"},
    {"m", "err", "connection refused", NULL, NULL,
     " level=info msg=\"m\" err=\"connection refused\"\n"},
    {"m", "q", "say \"hi\"", NULL, NULL, " level=info msg=\"m\" q=\"say \\\"hi\\\"\"\n"},
    {"m", "sel", "app=web", NULL, NULL, " level=info msg=\"m\" sel=\"app=web\"\n"},
    {"m", "empty", "", NULL, NULL, " level=info msg=\"m\" empty=\"\"\n"},
    {"m", "nl", "a\nb", NULL, NULL, " level=info msg=\"m\" nl=\"a\\nb\"\n"},
    {"m", "bs", "C:\\x", NULL, NULL, " level=info msg=\"m\" bs=\"C:\\\\x\"\n"},
    {"line\nbreak \"q\"", NULL, NULL, NULL, NULL, " level=info msg=\"line\\nbreak \\\"q\\\"\"\n"},
};

static void test_text_lines(void **state)
{
    log_setup(LOG_INFO, LOG_FORMAT_TEXT, g_pipe[1]);
    for (size_t i = 0; i < sizeof TEXT_CASES / sizeof TEXT_CASES[0]; i++) {
        if (TEXT_CASES[i].k2)
            log_info(TEXT_CASES[i].msg, TEXT_CASES[i].k1, TEXT_CASES[i].v1, TEXT_CASES[i].k2,
                     TEXT_CASES[i].v2);
        else if (TEXT_CASES[i].k1)
            log_info(TEXT_CASES[i].msg, TEXT_CASES[i].k1, TEXT_CASES[i].v1);
        else
            log_info(TEXT_CASES[i].msg);
        char *out = drain();
        assert_string_equal(after_ts(out, "ts="), TEXT_CASES[i].text);
        free(out);
    }
}

static void test_text_null_value(void **state)
{
    log_setup(LOG_INFO, LOG_FORMAT_TEXT, g_pipe[1]);
    log_warn("gone", "pod", (const char *)NULL, "ns", "default");
    char *out = drain();
    assert_string_equal(after_ts(out, "ts="), " level=warn msg=\"gone\" pod=\"\" ns=default\n");
    free(out);
}

static void test_json_lines(void **state)
{
    log_setup(LOG_INFO, LOG_FORMAT_JSON, g_pipe[1]);
    log_error("it \"failed\"\n", "key", "a\\b", "ctl", "\x01\xff", "nil", (const char *)NULL);
    char *out = drain();
    const char *rest = after_ts(out, "{\"ts\":\"");
    assert_string_equal(rest, "\",\"level\":\"error\",\"msg\":\"it \\\"failed\\\"\\n\","
                              "\"key\":\"a\\\\b\",\"ctl\":\"\\u0001\\ufffd\",\"nil\":\"\"}\n");
    /* and it is one valid JSON document */
    json_error_t jerr;
    json_t *doc = json_loads(out, 0, &jerr);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "msg")), "it \"failed\"\n");
    assert_string_equal(json_string_value(json_object_get(doc, "key")), "a\\b");
    json_decref(doc);
    free(out);

    log_info("utf8 ok", "name", "caf\xc3\xa9");
    out = drain();
    rest = after_ts(out, "{\"ts\":\"");
    assert_string_equal(rest,
                        "\",\"level\":\"info\",\"msg\":\"utf8 ok\",\"name\":\"caf\xc3\xa9\"}\n");
    free(out);
}

static void test_level_filtering(void **state)
{
    log_setup(LOG_WARN, LOG_FORMAT_TEXT, g_pipe[1]);
    assert_true(log_enabled(LOG_ERROR));
    assert_true(log_enabled(LOG_WARN));
    assert_false(log_enabled(LOG_INFO));
    log_info("hidden");
    log_debug("hidden");
    log_error("shown");
    char *out = drain();
    assert_non_null(strstr(out, "msg=\"shown\""));
    assert_null(strstr(out, "hidden"));
    assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out)); /* exactly one line */
    free(out);

    log_setup(LOG_TRACE, LOG_FORMAT_TEXT, g_pipe[1]);
    log_trace("deep");
    out = drain();
    assert_non_null(strstr(out, " level=trace msg=\"deep\"\n"));
    free(out);

    log_setup(LOG_INFO, LOG_FORMAT_TEXT, g_pipe[1]);
    assert_false(log_enabled(LOG_DEBUG));
    log_debug("nope");
    out = drain();
    assert_string_equal(out, "");
    free(out);
}

static const struct {
    const char *s;
    int rc;
    log_level_t level;
} LEVEL_PARSE[] = {
    {"error", 0, LOG_ERROR}, {"warn", 0, LOG_WARN}, {"info", 0, LOG_INFO}, {"debug", 0, LOG_DEBUG},
    {"trace", 0, LOG_TRACE}, {"INFO", -EINVAL, 0},  {"", -EINVAL, 0},      {"warning", -EINVAL, 0},
    {"info ", -EINVAL, 0},   {NULL, -EINVAL, 0},
};

static void test_level_parse(void **state)
{
    for (size_t i = 0; i < sizeof LEVEL_PARSE / sizeof LEVEL_PARSE[0]; i++) {
        log_level_t l = (log_level_t)99;
        assert_int_equal(log_level_parse(LEVEL_PARSE[i].s, &l), LEVEL_PARSE[i].rc);
        if (LEVEL_PARSE[i].rc == 0) assert_int_equal(l, LEVEL_PARSE[i].level);
    }
    log_format_t f = (log_format_t)99;
    assert_int_equal(log_format_parse("text", &f), 0);
    assert_int_equal(f, LOG_FORMAT_TEXT);
    assert_int_equal(log_format_parse("json", &f), 0);
    assert_int_equal(f, LOG_FORMAT_JSON);
    assert_int_equal(log_format_parse("JSON", &f), -EINVAL);
    assert_int_equal(log_format_parse("logfmt", &f), -EINVAL);
    assert_int_equal(log_format_parse(NULL, &f), -EINVAL);

    static const struct {
        int v;
        log_level_t l;
    } V[] = {{-1, LOG_INFO}, {0, LOG_INFO},  {1, LOG_DEBUG},
             {3, LOG_DEBUG}, {4, LOG_TRACE}, {10, LOG_TRACE}};
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++)
        assert_int_equal(log_level_from_v(V[i].v), V[i].l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_text_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_null_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_filtering, setup, teardown),
        cmocka_unit_test(test_level_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
