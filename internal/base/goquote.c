/* goquote: Go's utf8.DecodeRune, unicode.IsPrint (approximated) and strconv.Quote, for error
 * messages worded as Kubernetes words them. One implementation for the selector parser, the
 * ObjectMeta checks and the CRD schema validator. */
#include "base/goquote.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t goquote_decode_rune(const unsigned char *s, size_t n, size_t *w)
{
    unsigned char c = s[0];
    *w = 1;
    if (c < 0x80) return c;
    uint32_t r, min;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, r = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, r = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, r = c & 0x07, min = 0x10000;
    else
        return 0xFFFD;
    if (n < len) return 0xFFFD;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0xFFFD;
        r = (r << 6) | (s[i] & 0x3F);
    }
    if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return 0xFFFD;
    *w = len;
    return r;
}

bool goquote_next_rune(const unsigned char *s, size_t n, uint32_t *r, size_t *w)
{
    *r = goquote_decode_rune(s, n, w);
    return !(*r == 0xFFFD && *w == 1);
}

bool goquote_is_print(uint32_t r)
{
    if (r < 0x20 || r == 0x7F) return false;
    if (r < 0x7F) return true;
    if (r <= 0xA0 || r == 0xAD) return false;
    if (r == 0x61C || r == 0x6DD || r == 0x70F || r == 0x180E || r == 0x1680) return false;
    if ((r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F)) return false;
    if ((r >= 0x205F && r <= 0x206F) || r == 0x3000 || r == 0xFEFF) return false;
    if ((r >= 0xE000 && r <= 0xF8FF) || (r >= 0xFFF9 && r <= 0xFFFB)) return false;
    if ((r & 0xFFFE) == 0xFFFE || (r >= 0xFDD0 && r <= 0xFDEF)) return false;
    if (r >= 0xE0000 && !(r >= 0xE0100 && r <= 0xE01EF)) return false;
    return true;
}

char *goquote(const char *s, size_t n)
{
    size_t cap = n * 10 + 3; /* worst case: \U0010ffff per 4 bytes, \xNN per byte */
    char *out = malloc(cap);
    if (!out) return NULL;
    size_t o = 0;
    out[o++] = '"';
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t w;
        uint32_t r = goquote_decode_rune(u + i, n - i, &w);
        const char *esc = NULL;
        switch (r) {
        case '\a':
            esc = "\\a";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\v':
            esc = "\\v";
            break;
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        default:
            break;
        }
        if (r == 0xFFFD && w == 1)
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", u[i]);
        else if (esc)
            o += (size_t)snprintf(out + o, cap - o, "%s", esc);
        else if (goquote_is_print(r)) {
            memcpy(out + o, s + i, w);
            o += w;
        } else if (r < 0x20 || r == 0x7F)
            o += (size_t)snprintf(out + o, cap - o, "\\x%02" PRIx32, r);
        else if (r < 0x10000)
            o += (size_t)snprintf(out + o, cap - o, "\\u%04" PRIx32, r);
        else
            o += (size_t)snprintf(out + o, cap - o, "\\U%08" PRIx32, r);
        i += w;
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}
