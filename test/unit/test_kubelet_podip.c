/* test_kubelet_podip: the pod IP allocator: which addresses are usable, next-fit allocation
 * that skips .0/.255 endings and 127.0.0.1, reuse only after wrapping, reserve/release errors
 * and exhaustion of a small range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "kubelet/podip.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static void test_usable(void **state)
{
    (void)state;
    assert_false(podip_usable(IP(127, 0, 0, 1)));
    assert_false(podip_usable(IP(127, 0, 0, 0)));
    assert_false(podip_usable(IP(127, 0, 1, 255)));
    assert_false(podip_usable(IP(127, 3, 4, 0)));
    assert_false(podip_usable(IP(10, 0, 0, 2)));
    assert_false(podip_usable(IP(128, 0, 0, 2)));
    assert_true(podip_usable(IP(127, 0, 0, 2)));
    assert_true(podip_usable(IP(127, 255, 255, 254)));
    assert_true(podip_usable(IP(127, 0, 1, 1)));
}

static void test_sequence_skips(void **state)
{
    (void)state;
    podip_pool_t *p = podip_new();
    char ip[16];
    assert_int_equal(podip_alloc(p, ip, sizeof ip), 0);
    assert_string_equal(ip, "127.0.0.2");
    for (int i = 3; i <= 254; i++)
        assert_int_equal(podip_alloc(p, ip, sizeof ip), 0);
    assert_string_equal(ip, "127.0.0.254");
    assert_int_equal(podip_alloc(p, ip, sizeof ip), 0);
    assert_string_equal(ip, "127.0.1.1"); /* .255 and .0 skipped */
    assert_int_equal(podip_in_use(p), 254);
    /* a released address is not handed out again at once */
    assert_int_equal(podip_release(p, "127.0.0.2"), 0);
    assert_int_equal(podip_alloc(p, ip, sizeof ip), 0);
    assert_string_equal(ip, "127.0.1.2");
    podip_free(p);
}

static void test_errors(void **state)
{
    (void)state;
    podip_pool_t *p = podip_new();
    assert_int_equal(podip_reserve(p, "127.0.0.5"), 0);
    assert_int_equal(podip_reserve(p, "127.0.0.5"), -EEXIST);
    assert_int_equal(podip_reserve(p, "127.0.0.1"), -EINVAL);
    assert_int_equal(podip_reserve(p, "10.0.0.5"), -EINVAL);
    assert_int_equal(podip_reserve(p, "banana"), -EINVAL);
    assert_int_equal(podip_release(p, "127.0.0.6"), -ENOENT);
    assert_int_equal(podip_release(p, "127.0.0.5"), 0);
    assert_int_equal(podip_in_use(p), 0);
    assert_null(podip_new_range(IP(127, 0, 0, 9), IP(127, 0, 0, 3)));
    assert_null(podip_new_range(IP(10, 0, 0, 1), IP(10, 0, 0, 9)));
    podip_free(p);
}

static void test_exhaustion_and_wrap(void **state)
{
    (void)state;
    /* 127.0.0.250 .. 127.0.1.3: usable .250-.254 and .1.1-.1.3 = 8 addresses */
    podip_pool_t *p = podip_new_range(IP(127, 0, 0, 250), IP(127, 0, 1, 3));
    char ip[16];
    for (int i = 0; i < 8; i++)
        assert_int_equal(podip_alloc(p, ip, sizeof ip), 0);
    assert_string_equal(ip, "127.0.1.3");
    assert_int_equal(podip_alloc(p, ip, sizeof ip), -ENOSPC);
    assert_int_equal(podip_release(p, "127.0.0.252"), 0);
    assert_int_equal(podip_alloc(p, ip, sizeof ip), 0);
    assert_string_equal(ip, "127.0.0.252"); /* wrapped around to the only free one */
    assert_int_equal(podip_in_use(p), 8);
    podip_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usable),
        cmocka_unit_test(test_sequence_skips),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_exhaustion_and_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
