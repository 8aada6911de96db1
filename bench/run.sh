#!/usr/bin/env bash
# Benchmarks (never part of make test): each prints a table of figures beside the target.
# Runs against the release build in bin/. RUNS (default 3) repeats each and prints every run.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
n=${N:-10000}
mkdir -p build/bench
gcc -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror bench/apiserver_bench.c \
    $(pkg-config --cflags --libs libcurl) -lpthread -o build/bench/apiserver_bench
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
for r in $(seq 1 "$runs"); do
    rm -f "$tmp/kc"
    # the API server alone: with the kubelet, 10,000 pods would each start processes
    ./bin/localcluster --listen 127.0.0.1:0 --kubeconfig-out "$tmp/kc" --no-kubelet \
        >"$tmp/log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do [ -s "$tmp/kc" ] && break; sleep 0.05; done
    url=$(awk '/server:/ {print $2; exit}' "$tmp/kc")
    echo "## apiserver run $r/$runs ($n pods)"
    ./build/bench/apiserver_bench "$url" "$pid" "$n"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
done
# the kubelet: pods/s to Ready and to gone (needs root)
for r in $(seq 1 "$runs"); do
    echo "## kubelet run $r/$runs"
    bash bench/pods_bench.sh "${PODS_N:-500}"
done
bash bench/executor/run.sh
bash bench/informer_bench.sh
bash bench/controller_bench.sh
