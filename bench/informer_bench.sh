#!/usr/bin/env bash
# The informer on 10,000 pods (release build): list + sync time, memory per cached pod (target
# <= 2 KiB with managedFields dropped, DESIGN.md §8), CPU for the list and for watching 10,000
# updates; then the same with a transform that keeps only what a controller reads. Runs against
# `localcluster --no-kubelet` (bin/, from `make`). RUNS (default 3) repeats; N pods (10000).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
n=${N:-10000}
make --no-print-directory >/dev/null # bin/ (make bench has done it already)
make --no-print-directory MODE=rel build/rel/tools/informer_bench >/dev/null
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
for r in $(seq 1 "$runs"); do
    rm -f "$tmp/kc"
    ./bin/localcluster --listen 127.0.0.1:0 --kubeconfig-out "$tmp/kc" --no-kubelet \
        >"$tmp/log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do [ -s "$tmp/kc" ] && break; sleep 0.05; done
    echo "## informer run $r/$runs ($n pods)"
    ./build/rel/tools/informer_bench --kubeconfig "$tmp/kc" -n "$n"
    ./build/rel/tools/informer_bench --kubeconfig "$tmp/kc" -n "$n" --skip-create \
        --transform minimal
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
done
