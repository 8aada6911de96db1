/* curl_uv: drives a libcurl multi handle from a libuv loop
 * (CURLMOPT_SOCKETFUNCTION with uv_poll, CURLMOPT_TIMERFUNCTION with uv_timer,
 * curl_multi_socket_action), so transfers run without blocking the loop.
 * Everything here is called on the loop thread. */
#ifndef KUBE_CURL_UV_H
#define KUBE_CURL_UV_H

#include <curl/curl.h>
#include <uv.h>

typedef struct kube_curl_uv kube_curl_uv_t;

/* Runs on the loop when a transfer ends; easy is already out of the multi and
 * belongs to the caller again (clean it up or reuse it). result is the
 * transfer's CURLcode. */
typedef void (*kube_curl_done_fn)(CURL *easy, CURLcode result, void *ud);

/* Returns 0 or -ENOMEM. */
int kube_curl_uv_new(uv_loop_t *loop, kube_curl_uv_t **out);
/* Starts a transfer (easy borrowed until done runs or kube_curl_uv_remove).
 * curl_uv uses the easy handle's CURLOPT_PRIVATE. Must not be called from
 * inside a curl callback (write, header) of the same multi; done callbacks are
 * fine. Returns 0, -ENOMEM or -EIO. */
int kube_curl_uv_add(kube_curl_uv_t *m, CURL *easy, kube_curl_done_fn done, void *ud);
/* Cancels a transfer: no done call; easy belongs to the caller again. Not from
 * inside a curl callback of that transfer. A no-op for an easy handle that is not
 * in a transfer (never added, or its done already ran). */
void kube_curl_uv_remove(kube_curl_uv_t *m, CURL *easy);
/* Number of transfers in progress. */
int kube_curl_uv_running(const kube_curl_uv_t *m);
/* Cancels what is left (each gets done(easy, CURLE_ABORTED_BY_CALLBACK, ud)),
 * cleans up the multi and closes every handle; closed(ud) runs on the loop once
 * all are closed, after which m is freed. closed may be NULL. From the start of
 * the call, kube_curl_uv_add fails with -EIO (also from those done callbacks). */
void kube_curl_uv_close(kube_curl_uv_t *m, void (*closed)(void *ud), void *ud);

#endif
