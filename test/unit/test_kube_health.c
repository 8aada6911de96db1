/* test_kube_health: bind-address parsing in controller-runtime's syntax (":8081", "0" = off,
 * brackets for IPv6) and the /readyz answer listing each readiness check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kube/health.h"

typedef struct {
    const char *addr;
    int rc;
    const char *host;
    int port;
} addr_case_t;

static const addr_case_t ADDRS[] = {
    {":8081", 0, "0.0.0.0", 8081},
    {"127.0.0.1:0", 0, "127.0.0.1", 0},
    {"localhost:9090", 0, "127.0.0.1", 9090},
    {"[::1]:8080", 0, "::1", 8080},
    {"0.0.0.0:65535", 0, "0.0.0.0", 65535},
    {"0", 1, NULL, 0},
    {"", -EINVAL, NULL, 0},
    {"8080", -EINVAL, NULL, 0},
    {"127.0.0.1:", -EINVAL, NULL, 0},
    {"127.0.0.1:65536", -EINVAL, NULL, 0},
    {"127.0.0.1:80a", -EINVAL, NULL, 0},
    {"::1:8080", -EINVAL, NULL, 0},
    {":-1", -EINVAL, NULL, 0},
};

static void test_parse_addr(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(ADDRS) / sizeof(ADDRS[0]); i++) {
        char host[64] = "";
        int port = -1;
        int rc = kube_health_parse_addr(ADDRS[i].addr, host, sizeof(host), &port);
        if (rc != ADDRS[i].rc) fail_msg("%s: rc %d, want %d", ADDRS[i].addr, rc, ADDRS[i].rc);
        if (rc == 0) {
            assert_string_equal(host, ADDRS[i].host);
            assert_int_equal(port, ADDRS[i].port);
        }
    }
}

static bool flag_check(void *ud)
{
    return *(bool *)ud;
}

static void test_readyz(void **state)
{
    (void)state;
    kube_health_t *h = kube_health_new(NULL, NULL);
    char *body = NULL;
    assert_int_equal(kube_health_readyz(h, &body), 200); /* no checks: ready */
    free(body);
    bool pools = true, pods = false;
    kube_health_add_check(h, "informer-pools", flag_check, &pools);
    kube_health_add_check(h, "informer-pods", flag_check, &pods);
    assert_int_equal(kube_health_readyz(h, &body), 503);
    assert_non_null(strstr(body, "[+]informer-pools ok"));
    assert_non_null(strstr(body, "[-]informer-pods not ready"));
    free(body);
    pods = true;
    assert_int_equal(kube_health_readyz(h, &body), 200);
    assert_non_null(strstr(body, "[+]informer-pods ok"));
    free(body);
    kube_health_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_addr),
        cmocka_unit_test(test_readyz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
