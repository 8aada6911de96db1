/* podip: the pod IP allocator: unique loopback addresses 127.x.y.z for pods, never 127.0.0.1
 * and never an address ending in .0 or .255. Next-fit over a bitmap, so a released address is
 * reused only after the rest of the range. Pure and single-threaded. */
#ifndef KUBELET_PODIP_H
#define KUBELET_PODIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct podip_pool podip_pool_t;

/* The full pool 127.0.0.2 .. 127.255.255.254. */
podip_pool_t *podip_new(void);
/* A pool over first..last (host-order IPv4 addresses inside 127/8; for tests). NULL if the
 * range is empty or outside 127/8. */
podip_pool_t *podip_new_range(uint32_t first, uint32_t last);
void podip_free(podip_pool_t *p);

/* Whether addr (host order) may ever be a pod IP: inside 127/8, not 127.0.0.1, not ending in
 * .0 or .255. */
bool podip_usable(uint32_t addr);
/* Takes the next free address; writes it dotted into buf (len >= 16). 0 or -ENOSPC. */
int podip_alloc(podip_pool_t *p, char *buf, size_t len);
/* Marks a given address taken: 0, -EEXIST if already taken, -EINVAL if not in the pool. */
int podip_reserve(podip_pool_t *p, const char *ip);
/* Frees an address: 0, or -ENOENT if it was not taken, -EINVAL if not in the pool. */
int podip_release(podip_pool_t *p, const char *ip);
size_t podip_in_use(const podip_pool_t *p);

#endif
