#!/usr/bin/env bash
# The controller's footprint (DESIGN.md §8: <= 2 KiB per managed pod, <= 30 MiB RSS at 10,000
# pods): localcluster --no-kubelet with the CRDs, N pool pods (label sandbox.opensandbox.io/
# pool-name, default 10,000), then bin/controller until /readyz; prints its RSS, the RSS of the
# same controller with no pods, the difference per pod, and the time to sync. Release build (make).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-10000}
make --no-print-directory >/dev/null
tmp=$(mktemp -d)
lc= ctl=
cleanup() {
    for p in $ctl $lc; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
./bin/localcluster --listen 127.0.0.1:0 --kubeconfig-out "$tmp/kc" --no-kubelet >"$tmp/lc.log" 2>&1 &
lc=$!
for _ in $(seq 1 100); do [ -s "$tmp/kc" ] && break; sleep 0.05; done
url=$(awk '/server:/ {print $2; exit}' "$tmp/kc")
KUBECONFIG=$tmp/kc kubectl apply -f config/crd/bases >/dev/null

# ctl_rss: starts the controller, waits for /readyz, prints "RSS_KiB SYNC_SECONDS", stops it
ctl_rss() {
    local port t0 t1 rss
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    t0=$(date +%s.%N)
    ./bin/controller --kubeconfig "$tmp/kc" --health-probe-bind-address "127.0.0.1:$port" \
        --metrics-bind-address 0 >"$tmp/ctl.log" 2>&1 &
    ctl=$!
    until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.02; done
    t1=$(date +%s.%N)
    sleep 1
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$ctl/status")
    kill "$ctl"
    wait "$ctl" 2>/dev/null || true
    ctl=
    echo "$rss $(python3 -c "print(f'{$t1 - $t0:.2f}')")"
}

read -r rss0 _ < <(ctl_rss)
python3 - "$url" "$n" <<'PY'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); n = int(sys.argv[2])
c = http.client.HTTPConnection(u.hostname, u.port)
for i in range(n):
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": f"pool-a-{i:05d}", "labels": {
               "sandbox.opensandbox.io/pool-name": "pool-a",
               "sandbox.opensandbox.io/pool-revision": "0123456789abcdef"}},
           "spec": {"containers": [{"name": "main", "image": "busybox",
                                    "command": ["sleep", "infinity"],
                                    "env": [{"name": "SANDBOX_MAIN_CONTAINER", "value": "main"}]}]}}
    c.request("POST", "/api/v1/namespaces/default/pods", json.dumps(pod),
              {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 201: sys.exit(f"create {i}: {r.status}")
PY
read -r rss1 sync1 < <(ctl_rss)
printf '| %-44s | %12s | %14s |\n' figure measured target
printf '| %-44s | %9s KiB | %14s |\n' "controller RSS, no pods" "$rss0" "-"
printf '| %-44s | %9s KiB | %14s |\n' "controller RSS, $n pool pods cached" "$rss1" "<= 30720 KiB"
printf '| %-44s | %8s KiB | %14s |\n' "per pod" \
    "$(python3 -c "print(f'{($rss1 - $rss0) / $n:.2f}')")" "<= 2 KiB"
printf '| %-44s | %10s s | %14s |\n' "start -> /readyz with $n pods" "$sync1" "-"
