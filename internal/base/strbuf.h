/* strbuf: a growable NUL-terminated string for building messages and documents. Aborts on
 * allocation failure (these strings are small and short-lived). A zeroed strbuf_t is empty. */
#ifndef BASE_STRBUF_H
#define BASE_STRBUF_H

#include <stddef.h>

typedef struct strbuf {
    char *p;
    size_t n, cap;
} strbuf_t;

void strbuf_reserve(strbuf_t *b, size_t add);
void strbuf_putn(strbuf_t *b, const char *s, size_t n);
void strbuf_puts(strbuf_t *b, const char *s);
void strbuf_putc(strbuf_t *b, char c);
void strbuf_printf(strbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text so far ("" when empty); owned by b. */
const char *strbuf_str(const strbuf_t *b);
void strbuf_reset(strbuf_t *b);
void strbuf_free(strbuf_t *b);

#endif
