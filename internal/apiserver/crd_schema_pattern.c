/* crd_schema_pattern: schema `pattern` regexes (ECMA/RE2 translated to POSIX ERE, with the
 * bounded compiled-pattern cache, the only global state) and the kube-openapi `format` checks
 * (date-time, uuid, ipv4/6, cidr, mac, byte, hostname, duration, ...). */
#include "apiserver/crd_schema_internal.h"

#include <ctype.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- regex (ECMA/RE2 -> POSIX ERE) */

typedef struct {
    const char *p;
    size_t i;
    strbuf_t *out;
    const char *why; /* RE2-style reason for RX_INVALID */
} rx_t;

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void crds_utf8_encode(strbuf_t *b, uint32_t cp)
{
    char t[4];
    if (cp < 0x80) {
        t[0] = (char)cp;
        strbuf_putn(b, t, 1);
    } else if (cp < 0x800) {
        t[0] = (char)(0xc0 | (cp >> 6));
        t[1] = (char)(0x80 | (cp & 0x3f));
        strbuf_putn(b, t, 2);
    } else if (cp < 0x10000) {
        t[0] = (char)(0xe0 | (cp >> 12));
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        t[2] = (char)(0x80 | (cp & 0x3f));
        strbuf_putn(b, t, 3);
    } else {
        t[0] = (char)(0xf0 | (cp >> 18));
        t[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        t[3] = (char)(0x80 | (cp & 0x3f));
        strbuf_putn(b, t, 4);
    }
}

/* Emits a literal code point outside brackets (multi-byte runes grouped so that a following
 * quantifier applies to the whole rune). */
static int rx_emit_lit(rx_t *r, uint32_t cp)
{
    if (cp == 0) return RX_UNSUPPORTED;
    if (cp < 0x80) {
        if (strchr(".[\\()*+?{|^$", (int)cp)) strbuf_putc(r->out, '\\');
        strbuf_putc(r->out, (char)cp);
        return RX_OK;
    }
    strbuf_putc(r->out, '(');
    crds_utf8_encode(r->out, cp);
    strbuf_putc(r->out, ')');
    return RX_OK;
}

/* Parses \x41 or \x{41}; r->i is on the 'x'. */
static int rx_hex_escape(rx_t *r, uint32_t *cp)
{
    const char *p = r->p;
    size_t i = r->i + 1;
    uint32_t v = 0;
    if (p[i] == '{') {
        i++;
        int nd = 0;
        while (hexval(p[i]) >= 0) {
            v = v * 16 + (uint32_t)hexval(p[i++]);
            if (++nd > 8 || v > 0x10ffff) {
                r->why = "invalid escape sequence";
                return RX_INVALID;
            }
        }
        if (p[i] != '}' || nd == 0) {
            r->why = "invalid escape sequence";
            return RX_INVALID;
        }
        i++;
    } else {
        if (hexval(p[i]) < 0 || hexval(p[i + 1]) < 0) {
            r->why = "invalid escape sequence";
            return RX_INVALID;
        }
        v = (uint32_t)(hexval(p[i]) * 16 + hexval(p[i + 1]));
        i += 2;
    }
    r->i = i;
    *cp = v;
    return RX_OK;
}

typedef struct {
    bool set[128];
    const char *cls[16];
    int ncls;
} rx_class_t;

static void cls_range(rx_class_t *c, int lo, int hi)
{
    for (int x = lo; x <= hi; x++)
        c->set[x] = true;
}

static int cls_named(rx_class_t *c, const char *name)
{
    if (c->ncls >= 16) return RX_UNSUPPORTED;
    c->cls[c->ncls++] = name;
    return RX_OK;
}

/* One bracket element. Returns RX_OK with *single >= 0 for a single character (range endpoint),
 * -1 for a class escape. */
static int rx_class_atom(rx_t *r, rx_class_t *c, int *single)
{
    const char *p = r->p;
    unsigned char ch = (unsigned char)p[r->i];
    *single = -1;
    if (ch == '[' && p[r->i + 1] == ':') {
        const char *end = strstr(p + r->i + 2, ":]");
        if (!end) {
            *single = '[';
            r->i++;
            return RX_OK;
        }
        size_t n = (size_t)(end - (p + r->i + 2));
        char name[16];
        if (n == 0 || n >= sizeof(name)) {
            r->why = "invalid character class range";
            return RX_INVALID;
        }
        memcpy(name, p + r->i + 2, n);
        name[n] = '\0';
        r->i += n + 4;
        static const char *const names[] = {"alnum", "alpha", "blank", "cntrl", "digit", "graph",
                                            "lower", "print", "punct", "space", "upper", "xdigit"};
        static const char *const brk[] = {"[:alnum:]", "[:alpha:]", "[:blank:]", "[:cntrl:]",
                                          "[:digit:]", "[:graph:]", "[:lower:]", "[:print:]",
                                          "[:punct:]", "[:space:]", "[:upper:]", "[:xdigit:]"};
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
            if (!strcmp(name, names[k])) return cls_named(c, brk[k]);
        if (!strcmp(name, "word")) {
            cls_range(c, 'a', 'z');
            cls_range(c, 'A', 'Z');
            cls_range(c, '0', '9');
            c->set['_'] = true;
            return RX_OK;
        }
        if (!strcmp(name, "ascii")) {
            cls_range(c, 1, 127);
            return RX_OK;
        }
        if (name[0] == '^') return RX_UNSUPPORTED;
        r->why = "invalid character class range";
        return RX_INVALID;
    }
    if (ch == '\\') {
        unsigned char e = (unsigned char)p[r->i + 1];
        if (!e) {
            r->why = "trailing backslash at end of expression";
            return RX_INVALID;
        }
        r->i += 2;
        switch (e) {
        case 'd':
            cls_range(c, '0', '9');
            return RX_OK;
        case 'w':
            cls_range(c, 'a', 'z');
            cls_range(c, 'A', 'Z');
            cls_range(c, '0', '9');
            c->set['_'] = true;
            return RX_OK;
        case 's':
            return cls_named(c, "[:space:]");
        case 'D':
        case 'W':
        case 'S':
        case 'p':
        case 'P':
            return RX_UNSUPPORTED;
        case 'n':
            *single = '\n';
            return RX_OK;
        case 't':
            *single = '\t';
            return RX_OK;
        case 'r':
            *single = '\r';
            return RX_OK;
        case 'f':
            *single = '\f';
            return RX_OK;
        case 'v':
            *single = '\v';
            return RX_OK;
        case 'a':
            *single = '\a';
            return RX_OK;
        case 'x': {
            uint32_t cp;
            r->i--;
            int rc = rx_hex_escape(r, &cp);
            if (rc) return rc;
            if (cp == 0 || cp >= 0x80) return RX_UNSUPPORTED;
            *single = (int)cp;
            return RX_OK;
        }
        default:
            if (e < 0x80 && ispunct(e)) {
                *single = e;
                return RX_OK;
            }
            if (e >= '0' && e <= '9') return RX_UNSUPPORTED;
            r->why = "invalid escape sequence";
            return RX_INVALID;
        }
    }
    if (ch >= 0x80) return RX_UNSUPPORTED;
    *single = ch;
    r->i++;
    return RX_OK;
}

static int rx_class(rx_t *r)
{
    const char *p = r->p;
    rx_class_t c;
    memset(&c, 0, sizeof(c));
    bool neg = false;
    r->i++; /* '[' */
    if (p[r->i] == '^') {
        neg = true;
        r->i++;
    }
    bool first = true;
    for (;;) {
        if (!p[r->i]) {
            r->why = "missing closing ]";
            return RX_INVALID;
        }
        if (p[r->i] == ']' && !first) {
            r->i++;
            break;
        }
        int lo;
        int rc;
        if (p[r->i] == ']') { /* leading ']' is literal */
            lo = ']';
            r->i++;
        } else if ((rc = rx_class_atom(r, &c, &lo)) != RX_OK) {
            return rc;
        }
        first = false;
        if (lo < 0) continue;
        if (p[r->i] == '-' && p[r->i + 1] && p[r->i + 1] != ']') {
            r->i++;
            int hi;
            if ((rc = rx_class_atom(r, &c, &hi)) != RX_OK) return rc;
            if (hi < 0 || hi < lo) {
                r->why = "invalid character class range";
                return RX_INVALID;
            }
            cls_range(&c, lo, hi);
        } else {
            c.set[lo] = true;
        }
    }
    bool any = c.ncls > 0;
    for (int x = 1; x < 128; x++)
        any = any || c.set[x];
    if (!any) return RX_UNSUPPORTED;
    if (!neg && c.ncls == 0) { /* a lone '^' cannot be first in a POSIX bracket */
        int cnt = 0;
        for (int x = 1; x < 128; x++)
            cnt += c.set[x];
        if (cnt == 1 && c.set['^']) {
            strbuf_puts(r->out, "\\^");
            return RX_OK;
        }
    }
    strbuf_t *o = r->out;
    strbuf_putc(o, '[');
    if (neg) strbuf_putc(o, '^');
    if (c.set[']']) strbuf_putc(o, ']');
    for (int k = 0; k < c.ncls; k++)
        strbuf_puts(o, c.cls[k]);
    for (int x = 1; x < 128;) {
        if (!c.set[x] || x == ']' || x == '^' || x == '-' || x == '[') {
            x++;
            continue;
        }
        int y = x;
        while (y + 1 < 128 && c.set[y + 1] && y + 1 != ']' && y + 1 != '^' && y + 1 != '-' &&
               y + 1 != '[')
            y++;
        if (y - x >= 2) {
            strbuf_putc(o, (char)x);
            strbuf_putc(o, '-');
            strbuf_putc(o, (char)y);
        } else {
            for (int z = x; z <= y; z++)
                strbuf_putc(o, (char)z);
        }
        x = y + 1;
    }
    if (c.set['[']) strbuf_putc(o, '[');
    if (c.set['^']) strbuf_putc(o, '^');
    if (c.set['-']) strbuf_putc(o, '-');
    strbuf_putc(o, ']');
    return RX_OK;
}

/* Parses a {n}, {n,} or {n,m} repetition at r->i; returns false if it is not one (literal '{'). */
static bool rx_repeat(rx_t *r, size_t *end, long *lo, long *hi)
{
    const char *p = r->p;
    size_t i = r->i + 1;
    long a = 0, b = -1;
    if (!isdigit((unsigned char)p[i])) return false;
    while (isdigit((unsigned char)p[i])) {
        a = a * 10 + (p[i++] - '0');
        if (a > 100000) a = 100000;
    }
    if (p[i] == ',') {
        i++;
        if (isdigit((unsigned char)p[i])) {
            b = 0;
            while (isdigit((unsigned char)p[i])) {
                b = b * 10 + (p[i++] - '0');
                if (b > 100000) b = 100000;
            }
        }
    } else {
        b = a;
    }
    if (p[i] != '}') return false;
    *end = i + 1;
    *lo = a;
    *hi = b;
    return true;
}

/* Translates an ECMA/RE2-style pattern to POSIX ERE. Returns RX_OK, RX_UNSUPPORTED (feature with
 * no ERE equivalent) or RX_INVALID (RE2 would reject it too; r->why says why). */
int crds_rx_translate(const char *pat, strbuf_t *out, int *cflags, const char **why)
{
    rx_t r = {.p = pat, .i = 0, .out = out, .why = NULL};
    int depth = 0;
    bool atom = false;  /* a quantifier may follow */
    bool quant = false; /* previous token was a quantifier */
    *cflags = REG_EXTENDED | REG_NOSUB;
    if (!strncmp(pat, "(?i)", 4)) {
        *cflags |= REG_ICASE;
        r.i = 4;
    }
    int rc = RX_OK;
    while (pat[r.i]) {
        unsigned char c = (unsigned char)pat[r.i];
        switch (c) {
        case '\\': {
            unsigned char e = (unsigned char)pat[r.i + 1];
            if (!e) {
                r.why = "trailing backslash at end of expression";
                rc = RX_INVALID;
                goto done;
            }
            const char *rep = NULL;
            uint32_t lit = 0;
            bool is_atom = true;
            switch (e) {
            case 'd':
                rep = "[0-9]";
                break;
            case 'D':
                rep = "[^0-9]";
                break;
            case 'w':
                rep = "[A-Za-z0-9_]";
                break;
            case 'W':
                rep = "[^A-Za-z0-9_]";
                break;
            case 's':
                rep = "[[:space:]]";
                break;
            case 'S':
                rep = "[^[:space:]]";
                break;
            case 'b':
                rep = "\\b";
                is_atom = false;
                break;
            case 'B':
                rep = "\\B";
                is_atom = false;
                break;
            case 'A':
                rep = "^";
                is_atom = false;
                break;
            case 'z':
                rep = "$";
                is_atom = false;
                break;
            case 'n':
                lit = '\n';
                break;
            case 't':
                lit = '\t';
                break;
            case 'r':
                lit = '\r';
                break;
            case 'f':
                lit = '\f';
                break;
            case 'v':
                lit = '\v';
                break;
            case 'a':
                lit = '\a';
                break;
            case 'x':
                r.i++;
                if ((rc = rx_hex_escape(&r, &lit)) != RX_OK) goto done;
                if ((rc = rx_emit_lit(&r, lit)) != RX_OK) goto done;
                atom = true;
                quant = false;
                continue;
            case 'p':
            case 'P':
            case 'Q':
            case 'C':
                rc = RX_UNSUPPORTED;
                goto done;
            default:
                if (e < 0x80 && ispunct(e)) {
                    lit = e;
                } else if (e >= '0' && e <= '9') {
                    rc = RX_UNSUPPORTED;
                    goto done;
                } else {
                    r.why = "invalid escape sequence";
                    rc = RX_INVALID;
                    goto done;
                }
            }
            r.i += 2;
            if (rep)
                strbuf_puts(out, rep);
            else if ((rc = rx_emit_lit(&r, lit)) != RX_OK)
                goto done;
            atom = is_atom;
            quant = false;
            break;
        }
        case '[':
            if ((rc = rx_class(&r)) != RX_OK) goto done;
            atom = true;
            quant = false;
            break;
        case '(':
            if (pat[r.i + 1] == '?') {
                const char *q = pat + r.i + 2;
                if (*q == ':') {
                    r.i += 3;
                } else if ((*q == 'P' && q[1] == '<') ||
                           (*q == '<' && q[1] != '=' && q[1] != '!')) {
                    const char *gt = strchr(q, '>');
                    if (!gt) {
                        r.why = "invalid named capture";
                        rc = RX_INVALID;
                        goto done;
                    }
                    r.i = (size_t)(gt + 1 - pat);
                } else if (*q == '=' || *q == '!' || (*q == '<' && (q[1] == '=' || q[1] == '!'))) {
                    r.why = "invalid or unsupported Perl syntax";
                    rc = RX_INVALID;
                    goto done;
                } else {
                    rc = RX_UNSUPPORTED;
                    goto done;
                }
            } else {
                r.i++;
            }
            if (pat[r.i] == ')') { /* empty group: ERE rejects "()" */
                r.i++;
                strbuf_puts(out, "()");
                rc = RX_UNSUPPORTED;
                goto done;
            }
            depth++;
            strbuf_putc(out, '(');
            atom = false;
            quant = false;
            break;
        case ')':
            if (depth == 0) {
                r.why = "unexpected )";
                rc = RX_INVALID;
                goto done;
            }
            depth--;
            strbuf_putc(out, ')');
            r.i++;
            atom = true;
            quant = false;
            break;
        case '*':
        case '+':
        case '?':
            if (quant) {
                if (c == '?') { /* lazy: same match set */
                    r.i++;
                    quant = false;
                    break;
                }
                r.why = "invalid nested repetition operator";
                rc = RX_INVALID;
                goto done;
            }
            if (!atom) {
                r.why = "missing argument to repetition operator";
                rc = RX_INVALID;
                goto done;
            }
            strbuf_putc(out, (char)c);
            r.i++;
            atom = false;
            quant = true;
            break;
        case '{': {
            size_t end;
            long lo, hi;
            if (!rx_repeat(&r, &end, &lo, &hi)) {
                strbuf_puts(out, "\\{");
                r.i++;
                atom = true;
                quant = false;
                break;
            }
            if (quant) {
                r.why = "invalid nested repetition operator";
                rc = RX_INVALID;
                goto done;
            }
            if (!atom) {
                r.why = "missing argument to repetition operator";
                rc = RX_INVALID;
                goto done;
            }
            if (lo > 1000 || hi > 1000 || (hi >= 0 && hi < lo)) {
                r.why = "invalid repeat count";
                rc = RX_INVALID;
                goto done;
            }
            strbuf_putn(out, pat + r.i, end - r.i);
            r.i = end;
            atom = false;
            quant = true;
            break;
        }
        case '|':
        case '^':
        case '$':
            strbuf_putc(out, (char)c);
            r.i++;
            atom = false;
            quant = false;
            break;
        default:
            if (c >= 0x80) {
                uint32_t cp;
                size_t k =
                    crds_utf8_decode((const unsigned char *)pat + r.i, strlen(pat + r.i), &cp);
                if (!k) {
                    r.why = "invalid UTF-8";
                    rc = RX_INVALID;
                    goto done;
                }
                r.i += k;
                rx_emit_lit(&r, cp);
            } else {
                strbuf_putc(out, (char)c);
                r.i++;
            }
            atom = true;
            quant = false;
            break;
        }
    }
    if (depth) {
        r.why = "missing closing )";
        rc = RX_INVALID;
    }
done:
    *why = r.why;
    return rc;
}

/* Bounded direct-mapped cache of compiled patterns, keyed by the pattern string (FNV-1a slot).
 * Single-threaded use only; a collision evicts the previous entry. */
#define RX_CACHE_SLOTS 128
static struct rx_slot {
    char *pattern;
    regex_t re;
    int status;
} rx_cache[RX_CACHE_SLOTS];

static struct rx_slot *rx_lookup(const char *pattern)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)pattern; *p; p++)
        h = (h ^ *p) * 16777619u;
    struct rx_slot *s = &rx_cache[h % RX_CACHE_SLOTS];
    if (s->pattern && !strcmp(s->pattern, pattern)) return s;
    if (s->pattern) {
        if (s->status == RX_OK) regfree(&s->re);
        free(s->pattern);
        s->pattern = NULL;
    }
    strbuf_t ere = {0};
    int cflags;
    const char *why;
    s->status = crds_rx_translate(pattern, &ere, &cflags, &why);
    if (s->status == RX_OK && regcomp(&s->re, strbuf_str(&ere), cflags) != 0)
        s->status = RX_UNSUPPORTED;
    strbuf_free(&ere);
    s->pattern = strdup(pattern);
    if (!s->pattern) abort();
    return s;
}

void crd_schema_regex_cache_clear(void)
{
    for (size_t i = 0; i < RX_CACHE_SLOTS; i++) {
        struct rx_slot *s = &rx_cache[i];
        if (!s->pattern) continue;
        if (s->status == RX_OK) regfree(&s->re);
        free(s->pattern);
        s->pattern = NULL;
    }
}

/* 1 match, 0 no match, -1 pattern cannot be evaluated (treated as passing). */
int crds_rx_match(const char *pattern, const char *s, size_t n)
{
    struct rx_slot *slot = rx_lookup(pattern);
    if (slot->status != RX_OK) return -1;
    regmatch_t m[1];
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)n;
    return regexec(&slot->re, s, 1, m, REG_STARTEND) == 0;
}

/* ---------------------------------------------------------------- string formats */

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return false;
    return n > 0;
}

static int num_n(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static bool fmt_date(const char *s, size_t n)
{
    if (n != 10 || s[4] != '-' || s[7] != '-') return false;
    if (!all_digits(s, 4) || !all_digits(s + 5, 2) || !all_digits(s + 8, 2)) return false;
    int y = num_n(s, 4), m = num_n(s + 5, 2), d = num_n(s + 8, 2);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1) return false;
    int md = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) md = 29;
    return d <= md;
}

/* strfmt IsDateTime: <date>T<HH:MM:SS>(.frac)?(z|+hh:mm), case-insensitive T and Z. */
static bool fmt_datetime(const char *s, size_t n)
{
    if (n < 4) return false;
    size_t t = 0;
    while (t < n && s[t] != 't' && s[t] != 'T')
        t++;
    if (t == n || !fmt_date(s, t)) return false;
    const char *p = s + t + 1;
    size_t m = n - t - 1;
    for (size_t i = 0; i < m; i++)
        if (p[i] == 't' || p[i] == 'T') return false;
    if (m < 9 || p[2] != ':' || p[5] != ':') return false;
    if (!all_digits(p, 2) || !all_digits(p + 3, 2) || !all_digits(p + 6, 2)) return false;
    if (num_n(p, 2) > 23 || num_n(p + 3, 2) > 59 || num_n(p + 6, 2) > 59) return false;
    size_t i = 8;
    if (i < m && p[i] != 'z' && p[i] != 'Z' && p[i] != '+' && p[i] != '-') {
        i++; /* any separator, as in the upstream regex */
        size_t st = i;
        while (i < m && isdigit((unsigned char)p[i]))
            i++;
        if (i == st) return false;
    }
    if (i < m && (p[i] == 'z' || p[i] == 'Z')) return i + 1 == m;
    if (i < m && (p[i] == '+' || p[i] == '-'))
        return m - i == 6 && all_digits(p + i + 1, 2) && p[i + 3] == ':' &&
               all_digits(p + i + 4, 2);
    return false;
}

static bool fmt_ipv4(const char *s, size_t n)
{
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t st = i;
        int v = 0;
        while (i < n && isdigit((unsigned char)s[i]) && i - st < 3)
            v = v * 10 + (s[i++] - '0');
        if (i == st || v > 255 || (i - st > 1 && s[st] == '0')) return false;
        parts++;
        if (parts < 4) {
            if (i >= n || s[i] != '.') return false;
            i++;
        }
    }
    return i == n;
}

static bool fmt_ipv6(const char *s, size_t n)
{
    if (n < 2 || n > 45) return false;
    int groups = 0;
    bool dbl = false;
    size_t i = 0;
    if (s[0] == ':') {
        if (s[1] != ':') return false;
        dbl = true;
        i = 2;
        if (i == n) return true;
    }
    while (i < n) {
        size_t st = i;
        while (i < n && hexval(s[i]) >= 0 && i - st < 5)
            i++;
        if (i < n && s[i] == '.') { /* embedded IPv4 tail */
            if (!fmt_ipv4(s + st, n - st)) return false;
            groups += 2;
            i = n;
            break;
        }
        if (i == st || i - st > 4) return false;
        groups++;
        if (i == n) break;
        if (s[i] != ':') return false;
        i++;
        if (i < n && s[i] == ':') {
            if (dbl) return false;
            dbl = true;
            i++;
            if (i == n) break;
        } else if (i == n) {
            return false;
        }
    }
    return dbl ? groups < 8 : groups == 8;
}

static bool fmt_cidr(const char *s, size_t n)
{
    const char *sl = memchr(s, '/', n);
    if (!sl) return false;
    size_t a = (size_t)(sl - s), b = n - a - 1;
    if (!all_digits(sl + 1, b) || b > 3) return false;
    int bits = num_n(sl + 1, b);
    if (fmt_ipv4(s, a)) return bits <= 32;
    if (fmt_ipv6(s, a)) return bits <= 128;
    return false;
}

static bool fmt_uuid(const char *s, size_t n, char ver)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    size_t i = 0;
    for (int g = 0; g < 5; g++) {
        if (g && i < n && s[i] == '-') i++;
        for (int k = 0; k < groups[g]; k++, i++) {
            if (i >= n || hexval(s[i]) < 0) return false;
            if (ver && g == 2 && k == 0 && s[i] != ver) return false;
            if (ver && ver != '3' && g == 3 && k == 0 && !strchr("89abAB", s[i])) return false;
        }
    }
    return i == n;
}

static bool fmt_mac(const char *s, size_t n)
{
    /* net.ParseMAC: 6, 8 or 20 octets separated by ':' or '-', or dotted 4-hex groups */
    if (n >= 14 && s[4] == '.') {
        if ((n + 1) % 5 != 0) return false;
        size_t groups = (n + 1) / 5;
        if (groups != 3 && groups != 4 && groups != 10) return false;
        for (size_t i = 0; i < n; i++) {
            if (i % 5 == 4 ? s[i] != '.' : hexval(s[i]) < 0) return false;
        }
        return true;
    }
    if (n < 14 || (n + 1) % 3 != 0) return false;
    size_t octets = (n + 1) / 3;
    if (octets != 6 && octets != 8 && octets != 20) return false;
    char sep = s[2];
    if (sep != ':' && sep != '-') return false;
    for (size_t i = 0; i < n; i++) {
        if (i % 3 == 2 ? s[i] != sep : hexval(s[i]) < 0) return false;
    }
    return true;
}

static bool fmt_byte(const char *s, size_t n)
{
    /* govalidator.IsBase64: standard alphabet, padded, length multiple of 4 */
    if (n % 4) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=') {
            if (i < n - 2) return false;
            if (i == n - 2 && s[n - 1] != '=') return false;
            continue;
        }
        if (!isalnum(c) && c != '+' && c != '/') return false;
    }
    return true;
}

static bool fmt_hostname(const char *s, size_t n)
{
    if (n == 0 || n > 255) return false;
    size_t st = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            unsigned char c = (unsigned char)s[i];
            if (!isalnum(c) && c != '-' && c < 0x80) return false;
            continue;
        }
        size_t len = i - st;
        if (len == 0 || len > 63 || s[st] == '-' || s[i - 1] == '-') return false;
        st = i + 1;
    }
    return true;
}

static bool fmt_hexcolor(const char *s, size_t n)
{
    if (n && s[0] == '#') s++, n--;
    if (n != 3 && n != 6) return false;
    for (size_t i = 0; i < n; i++)
        if (hexval(s[i]) < 0) return false;
    return true;
}

static bool fmt_duration(const char *s, size_t n)
{
    /* time.ParseDuration-compatible: [-+]?(digits(.digits)?unit)+ or "0" */
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    if (n - i == 1 && s[i] == '0') return true;
    if (i == n) return false;
    while (i < n) {
        size_t st = i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        bool digits = i > st;
        if (i < n && s[i] == '.') {
            i++;
            size_t f = i;
            while (i < n && isdigit((unsigned char)s[i]))
                i++;
            digits = digits || i > f;
        }
        if (!digits) return false;
        static const char *const units[] = {"ns", "us", "\xc2\xb5s", "\xce\xbcs",
                                            "ms", "s",  "m",         "h"};
        bool ok = false;
        for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
            size_t ul = strlen(units[u]);
            if (n - i >= ul && !memcmp(s + i, units[u], ul)) {
                i += ul;
                ok = true;
                break;
            }
        }
        if (!ok) return false;
    }
    return true;
}

/* Formats validated by apiextensions (after '-' normalization); 0 = unsupported (stripped). */

int crds_fmt_kind(const char *f)
{
    if (!f || !*f) return F_NONE;
    char norm[32];
    size_t n = 0;
    for (const char *p = f; *p; p++) {
        if (*p == '-') continue;
        if (n + 1 >= sizeof(norm)) return F_NONE;
        norm[n++] = *p;
    }
    norm[n] = '\0';
    static const struct {
        const char *name;
        int kind;
    } tab[] = {{"date", F_DATE},         {"datetime", F_DATETIME},
               {"uuid", F_UUID},         {"uuid3", F_UUID3},
               {"uuid4", F_UUID4},       {"uuid5", F_UUID5},
               {"ipv4", F_IPV4},         {"ipv6", F_IPV6},
               {"cidr", F_CIDR},         {"mac", F_MAC},
               {"byte", F_BYTE},         {"hostname", F_HOSTNAME},
               {"hexcolor", F_HEXCOLOR}, {"duration", F_DURATION},
               {"password", F_LENIENT},  {"uri", F_LENIENT},
               {"email", F_LENIENT},     {"bsonobjectid", F_LENIENT},
               {"isbn", F_LENIENT},      {"isbn10", F_LENIENT},
               {"isbn13", F_LENIENT},    {"creditcard", F_LENIENT},
               {"ssn", F_LENIENT},       {"rgbcolor", F_LENIENT}};
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (!strcmp(norm, tab[i].name)) return tab[i].kind;
    return F_NONE;
}

bool crds_fmt_check(int kind, const char *s, size_t n)
{
    switch (kind) {
    case F_DATE:
        return fmt_date(s, n);
    case F_DATETIME:
        return fmt_datetime(s, n);
    case F_UUID:
        return fmt_uuid(s, n, 0);
    case F_UUID3:
        return fmt_uuid(s, n, '3');
    case F_UUID4:
        return fmt_uuid(s, n, '4');
    case F_UUID5:
        return fmt_uuid(s, n, '5');
    case F_IPV4:
        return fmt_ipv4(s, n);
    case F_IPV6:
        return fmt_ipv6(s, n);
    case F_CIDR:
        return fmt_cidr(s, n);
    case F_MAC:
        return fmt_mac(s, n);
    case F_BYTE:
        return fmt_byte(s, n);
    case F_HOSTNAME:
        return fmt_hostname(s, n);
    case F_HEXCOLOR:
        return fmt_hexcolor(s, n);
    case F_DURATION:
        return fmt_duration(s, n);
    default:
        return true;
    }
}
