/* podip: the loopback pod IP allocator (127.0.0.2 .. 127.255.255.254 without .0/.255
 * endings): a bitmap over the range and a next-fit cursor. */
#include "kubelet/podip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct podip_pool {
    uint32_t first, last; /* inclusive, host order */
    uint32_t cursor;      /* next address to try */
    uint8_t *bits;        /* one bit per address in first..last */
    size_t used;
};

bool podip_usable(uint32_t a)
{
    if ((a >> 24) != 127) return false;
    if (a == 0x7f000001u) return false;
    uint32_t low = a & 0xff;
    return low != 0 && low != 255;
}

podip_pool_t *podip_new_range(uint32_t first, uint32_t last)
{
    if (first > last || (first >> 24) != 127 || (last >> 24) != 127) return NULL;
    podip_pool_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->first = first;
    p->last = last;
    p->cursor = first;
    size_t n = (size_t)(last - first) + 1;
    p->bits = calloc((n + 7) / 8, 1);
    if (!p->bits) {
        free(p);
        return NULL;
    }
    return p;
}

podip_pool_t *podip_new(void)
{
    return podip_new_range(0x7f000002u, 0x7ffffffeu);
}

void podip_free(podip_pool_t *p)
{
    if (!p) return;
    free(p->bits);
    free(p);
}

static bool bit_get(const podip_pool_t *p, uint32_t a)
{
    uint32_t i = a - p->first;
    return p->bits[i / 8] & (1u << (i % 8));
}

static void bit_set(podip_pool_t *p, uint32_t a, bool v)
{
    uint32_t i = a - p->first;
    if (v)
        p->bits[i / 8] |= (uint8_t)(1u << (i % 8));
    else
        p->bits[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

static void fmt_ip(uint32_t a, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

int podip_alloc(podip_pool_t *p, char *buf, size_t len)
{
    uint64_t span = (uint64_t)(p->last - p->first) + 1;
    uint32_t a = p->cursor;
    for (uint64_t tried = 0; tried < span; tried++) {
        if (podip_usable(a) && !bit_get(p, a)) {
            bit_set(p, a, true);
            p->used++;
            p->cursor = a == p->last ? p->first : a + 1;
            fmt_ip(a, buf, len);
            return 0;
        }
        a = a == p->last ? p->first : a + 1;
    }
    return -ENOSPC;
}

static int parse(const podip_pool_t *p, const char *ip, uint32_t *out)
{
    struct in_addr in;
    if (!ip || inet_pton(AF_INET, ip, &in) != 1) return -EINVAL;
    uint32_t a = ntohl(in.s_addr);
    if (a < p->first || a > p->last || !podip_usable(a)) return -EINVAL;
    *out = a;
    return 0;
}

int podip_reserve(podip_pool_t *p, const char *ip)
{
    uint32_t a;
    if (parse(p, ip, &a)) return -EINVAL;
    if (bit_get(p, a)) return -EEXIST;
    bit_set(p, a, true);
    p->used++;
    return 0;
}

int podip_release(podip_pool_t *p, const char *ip)
{
    uint32_t a;
    if (parse(p, ip, &a)) return -EINVAL;
    if (!bit_get(p, a)) return -ENOENT;
    bit_set(p, a, false);
    p->used--;
    return 0;
}

size_t podip_in_use(const podip_pool_t *p)
{
    return p->used;
}
