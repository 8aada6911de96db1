/* goquote: the few Go standard-library text routines whose output Kubernetes error messages
 * carry, so ours read the same: utf8.DecodeRune, an approximation of unicode.IsPrint, and
 * strconv.Quote. Pure. */
#ifndef BASE_GOQUOTE_H
#define BASE_GOQUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* utf8.DecodeRune: the rune at s (n > 0 bytes) and its width in *w; invalid input yields
 * U+FFFD with width 1. */
uint32_t goquote_decode_rune(const unsigned char *s, size_t n, size_t *w);
/* The same, but invalid input is reported as false instead of as U+FFFD. */
bool goquote_next_rune(const unsigned char *s, size_t n, uint32_t *r, size_t *w);
/* unicode.IsPrint, approximated: false for controls, non-ASCII spaces, line and paragraph
 * separators, common format characters, private use and noncharacters. */
bool goquote_is_print(uint32_t r);
/* strconv.Quote of s[0..n): a malloc'd, NUL-terminated string (NULL on allocation failure). */
char *goquote(const char *s, size_t n);

#endif
