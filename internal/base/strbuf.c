/* strbuf: the growable string used by the Table renderer and the JSONPath evaluator. */
#include "base/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_reserve(strbuf_t *b, size_t add)
{
    if (b->n + add + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + add + 1)
        cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np) abort();
    b->p = np;
    b->cap = cap;
}

void strbuf_putn(strbuf_t *b, const char *s, size_t n)
{
    strbuf_reserve(b, n);
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void strbuf_puts(strbuf_t *b, const char *s)
{
    strbuf_putn(b, s, strlen(s));
}

void strbuf_putc(strbuf_t *b, char c)
{
    strbuf_putn(b, &c, 1);
}

void strbuf_printf(strbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k <= 0) return;
    strbuf_reserve(b, (size_t)k);
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

const char *strbuf_str(const strbuf_t *b)
{
    return b->p ? b->p : "";
}

void strbuf_reset(strbuf_t *b)
{
    b->n = 0;
    if (b->p) b->p[0] = 0;
}

void strbuf_free(strbuf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}
