/* log: formats one event (time, level, message, key/value pairs) as a logfmt or JSON line and
 * writes it with a single write(2); owns the process-wide level, format and output fd.
 * Text values are quoted with strconv.Quote when needed; JSON strings are escaped here. */
#include "base/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/goquote.h"
#include "base/strbuf.h"

static atomic_int g_level = LOG_INFO;
static atomic_int g_format = LOG_FORMAT_TEXT;
static atomic_int g_fd = 2;

static const char *const LEVEL_NAMES[] = {"error", "warn", "info", "debug", "trace"};

void log_setup(log_level_t level, log_format_t format, int fd)
{
    atomic_store(&g_level, (int)level);
    atomic_store(&g_format, (int)format);
    atomic_store(&g_fd, fd);
}

int log_level_parse(const char *s, log_level_t *out)
{
    if (!s) return -EINVAL;
    for (int i = 0; i <= LOG_TRACE; i++) {
        if (strcmp(s, LEVEL_NAMES[i]) == 0) {
            *out = (log_level_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

log_level_t log_level_from_v(int v)
{
    if (v <= 0) return LOG_INFO;
    if (v <= 3) return LOG_DEBUG;
    return LOG_TRACE;
}

int log_format_parse(const char *s, log_format_t *out)
{
    if (!s) return -EINVAL;
    if (strcmp(s, "text") == 0) {
        *out = LOG_FORMAT_TEXT;
        return 0;
    }
    if (strcmp(s, "json") == 0) {
        *out = LOG_FORMAT_JSON;
        return 0;
    }
    return -EINVAL;
}

bool log_enabled(log_level_t level)
{
    return (int)level <= atomic_load(&g_level);
}

/* A logfmt value needs quotes when empty or when it holds a space, quote, '=', backslash, a
 * control byte or anything non-ASCII (strconv.Quote then makes it unambiguous). */
static bool text_needs_quote(const char *s)
{
    if (!*s) return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p >= 0x7f) return true;
    }
    return false;
}

static void put_text_quoted(strbuf_t *b, const char *s)
{
    char *q = goquote(s, strlen(s));
    if (q) {
        strbuf_puts(b, q);
        free(q);
    } else {
        strbuf_puts(b, "\"\"");
    }
}

static void put_text_value(strbuf_t *b, const char *s)
{
    if (text_needs_quote(s))
        put_text_quoted(b, s);
    else
        strbuf_puts(b, s);
}

/* A JSON string: escapes quote, backslash and controls; invalid UTF-8 becomes U+FFFD. */
static void put_json_string(strbuf_t *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    strbuf_putc(b, '"');
    while (n > 0) {
        unsigned char c = *p;
        if (c < 0x80) {
            switch (c) {
            case '"':
                strbuf_puts(b, "\\\"");
                break;
            case '\\':
                strbuf_puts(b, "\\\\");
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
                if (c < 0x20 || c == 0x7f)
                    strbuf_printf(b, "\\u%04x", c);
                else
                    strbuf_putc(b, (char)c);
            }
            p++;
            n--;
            continue;
        }
        uint32_t r;
        size_t w;
        if (goquote_next_rune(p, n, &r, &w)) {
            strbuf_putn(b, (const char *)p, w);
        } else {
            strbuf_puts(b, "\\ufffd");
            w = 1;
        }
        p += w;
        n -= w;
    }
    strbuf_putc(b, '"');
}

static void format_time(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + k, len - k, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return; /* nowhere to report a failing log sink */
        }
        p += w;
        n -= (size_t)w;
    }
}

void log_write(log_level_t level, const char *msg, ...)
{
    if (!log_enabled(level)) return;
    int lv = (int)level;
    if (lv < LOG_ERROR) lv = LOG_ERROR;
    if (lv > LOG_TRACE) lv = LOG_TRACE;
    bool json = atomic_load(&g_format) == LOG_FORMAT_JSON;
    char ts[48];
    format_time(ts, sizeof ts);
    if (!msg) msg = "";

    strbuf_t b = {0};
    if (json) {
        strbuf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, LEVEL_NAMES[lv]);
        put_json_string(&b, msg);
    } else {
        strbuf_printf(&b, "ts=%s level=%s msg=", ts, LEVEL_NAMES[lv]);
        put_text_quoted(&b, msg);
    }

    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k) break;
        const char *v = va_arg(ap, const char *);
        if (!v) v = "";
        if (json) {
            strbuf_putc(&b, ',');
            put_json_string(&b, k);
            strbuf_putc(&b, ':');
            put_json_string(&b, v);
        } else {
            strbuf_putc(&b, ' ');
            put_text_value(&b, k);
            strbuf_putc(&b, '=');
            put_text_value(&b, v);
        }
    }
    va_end(ap);
    strbuf_puts(&b, json ? "}\n" : "\n");
    write_all(atomic_load(&g_fd), b.p, b.n);
    strbuf_free(&b);
}
