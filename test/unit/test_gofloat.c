/* Unit tests for base/gofloat: Go's strconv.FormatFloat(v, 'g', -1, 64) and encoding/json's
 * float form, as tables of Go's own outputs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/gofloat.h"

static const struct {
    double v;
    const char *g, *json;
} cases[] = {
    {0.0, "0", "0"},
    {-0.0, "-0", "-0"},
    {1, "1", "1"},
    {0.1, "0.1", "0.1"},
    {-2.5, "-2.5", "-2.5"},
    {100000, "100000", "100000"},
    {123456.7, "123456.7", "123456.7"},
    {1e6, "1e+06", "1000000"},
    {1234567, "1.234567e+06", "1234567"},
    {1e20, "1e+20", "100000000000000000000"},
    {1e21, "1e+21", "1e+21"},
    {0.0001, "0.0001", "0.0001"},
    {0.00001, "1e-05", "0.00001"},
    {0.000001, "1e-06", "0.000001"},
    {1e-7, "1e-07", "1e-7"},
    {1.5e-10, "1.5e-10", "1.5e-10"},
    {1.5e300, "1.5e+300", "1.5e+300"},
    {0.30000000000000004, "0.30000000000000004", "0.30000000000000004"},
};

static void test_formats(void **state)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strbuf_t b = {0};
        gofloat_g(&b, cases[i].v);
        assert_string_equal(strbuf_str(&b), cases[i].g);
        strbuf_free(&b);
        gofloat_json(&b, cases[i].v);
        assert_string_equal(strbuf_str(&b), cases[i].json);
        strbuf_free(&b);
    }
}

static void test_special(void **state)
{
    strbuf_t b = {0};
    gofloat_g(&b, NAN);
    assert_string_equal(strbuf_str(&b), "NaN");
    strbuf_free(&b);
    gofloat_g(&b, INFINITY);
    assert_string_equal(strbuf_str(&b), "+Inf");
    strbuf_free(&b);
    gofloat_g(&b, -INFINITY);
    assert_string_equal(strbuf_str(&b), "-Inf");
    strbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_special),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
