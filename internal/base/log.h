/* log: one line per event on stderr, as key=value ("logfmt") or JSON, with levels. Shared by the
 * controller and the task-executor. Thread-safe: each line is written with one write(2). */
#ifndef BASE_LOG_H
#define BASE_LOG_H

#include <stdbool.h>

typedef enum log_level {
    LOG_ERROR = 0,
    LOG_WARN = 1,
    LOG_INFO = 2,  /* --v=0 */
    LOG_DEBUG = 3, /* --v=1..3 */
    LOG_TRACE = 4, /* --v>=4 */
} log_level_t;

typedef enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON } log_format_t;

/* Process-wide settings (default: info, text, fd 2). */
void log_setup(log_level_t level, log_format_t format, int fd);
/* "error" "warn" "info" "debug" "trace" -> 0, else -EINVAL. */
int log_level_parse(const char *s, log_level_t *out);
/* --v=N: 0 -> info, 1..3 -> debug, >=4 -> trace. */
log_level_t log_level_from_v(int v);
/* "text" | "json" -> 0, else -EINVAL. */
int log_format_parse(const char *s, log_format_t *out);
bool log_enabled(log_level_t level);

/* Writes one line: ts, level, msg, then the key/value string pairs (NULL-terminated list;
 * a NULL value prints as ""). Text: ts=2026-11-21T10:00:00.123Z level=info msg="..." k=v,
 * values quoted when they contain spaces, quotes or '='. JSON:
 * {"ts":..,"level":..,"msg":..,"k":"v"}. */
void log_write(log_level_t level, const char *msg, ...);

#define log_error(msg, ...) log_write(LOG_ERROR, msg, ##__VA_ARGS__, (const char *)0)
#define log_warn(msg, ...)  log_write(LOG_WARN, msg, ##__VA_ARGS__, (const char *)0)
#define log_info(msg, ...)  log_write(LOG_INFO, msg, ##__VA_ARGS__, (const char *)0)
#define log_debug(msg, ...) log_write(LOG_DEBUG, msg, ##__VA_ARGS__, (const char *)0)
#define log_trace(msg, ...) log_write(LOG_TRACE, msg, ##__VA_ARGS__, (const char *)0)

#endif
