/* gofloat: Go's float64 formatting (strconv 'g' shortest, and encoding/json's variant) for the
 * places that must print floats exactly as Go does. The shortest round-trip digits come from
 * printf %e at rising precision (no packaged library ports Go's Ryu; this is its observable
 * result). */
#include "base/gofloat.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* The shortest decimal digits of v (> 0, finite) that read back exactly, without trailing
 * zeros, and the decimal exponent of the first digit. Returns the digit count. */
static int shortest_digits(double v, char *dig, int *exp10)
{
    char buf[48];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v) break;
    }
    if (prec > 17) snprintf(buf, sizeof buf, "%.16e", v);
    int nd = 0;
    const char *p = buf;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') dig[nd++] = *p;
    *exp10 = *p == 'e' ? atoi(p + 1) : 0;
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    dig[nd] = 0;
    return nd;
}

static void format(strbuf_t *b, double f, bool json)
{
    if (f != f) {
        strbuf_puts(b, "NaN");
        return;
    }
    if (f == 0) {
        strbuf_puts(b, signbit(f) ? "-0" : "0");
        return;
    }
    if (isinf(f)) {
        strbuf_puts(b, f < 0 ? "-Inf" : json ? "Inf" : "+Inf");
        return;
    }
    if (f < 0) {
        strbuf_putc(b, '-');
        f = -f;
    }
    char dig[32];
    int e;
    int nd = shortest_digits(f, dig, &e);
    bool use_e = json ? (f < 1e-6 || f >= 1e21) : (e < -4 || e >= 6);
    if (use_e) {
        strbuf_putc(b, dig[0]);
        if (nd > 1) {
            strbuf_putc(b, '.');
            strbuf_putn(b, dig + 1, (size_t)nd - 1);
        }
        int ae = e < 0 ? -e : e;
        if (json && e < 0 && ae < 10)
            strbuf_printf(b, "e-%d", ae);
        else
            strbuf_printf(b, "e%c%02d", e < 0 ? '-' : '+', ae);
        return;
    }
    if (e >= 0) {
        for (int i = 0; i <= e; i++)
            strbuf_putc(b, i < nd ? dig[i] : '0');
        if (nd > e + 1) {
            strbuf_putc(b, '.');
            strbuf_putn(b, dig + e + 1, (size_t)(nd - e - 1));
        }
    } else {
        strbuf_puts(b, "0.");
        for (int i = 0; i < -e - 1; i++)
            strbuf_putc(b, '0');
        strbuf_putn(b, dig, (size_t)nd);
    }
}

void gofloat_g(strbuf_t *b, double v)
{
    format(b, v, false);
}

void gofloat_json(strbuf_t *b, double v)
{
    format(b, v, true);
}
