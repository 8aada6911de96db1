/* gofloat: Go's float64 text forms, where the project must match Go byte for byte:
 * strconv.FormatFloat(v, 'g', -1, 64) (fmt's %v: kubectl columns, apimachinery messages,
 * Prometheus' exposition format) and encoding/json's form (Table cells). */
#ifndef BASE_GOFLOAT_H
#define BASE_GOFLOAT_H

#include "base/strbuf.h"

/* strconv.FormatFloat(v, 'g', -1, 64): the shortest digits that read back exactly, %e form when
 * the exponent is < -4 or >= 6 ("1e+06", "1.5e-05", "0.0001", "-0", "NaN", "+Inf", "-Inf"). */
void gofloat_g(strbuf_t *b, double v);
/* encoding/json: the same digits, %e form only below 1e-6 or from 1e21 on, with Go's short
 * negative exponent ("1e-7", "1e+21", "100000"). JSON has no NaN/Inf: they print "NaN", "Inf". */
void gofloat_json(strbuf_t *b, double v);

#endif
