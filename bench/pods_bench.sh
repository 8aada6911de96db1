#!/usr/bin/env bash
# pods_bench: the kubelet's throughput: N pods of `sleep infinity` created at once, timed until
# all are Ready (pods/s) and, after deleting them (default grace period), until all are gone
# (pods/s), then a check that no pod process is left. Prints a table beside the target.
# Usage: bench/pods_bench.sh [N] (default 500; LOCALCLUSTER=path overrides bin/localcluster).
# Needs root (the kubelet uses namespaces). Figures only, never a test.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-${N:-500}}
bin=${LOCALCLUSTER:-$PWD/bin/localcluster}
tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
"$bin" --listen 127.0.0.1:0 --kubeconfig-out "$tmp/kc" --state-dir "$tmp/state" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do [ -s "$tmp/kc" ] && break; sleep 0.05; done
url=$(awk '/server:/ {print $2; exit}' "$tmp/kc")
python3 - "$url" "$n" "$pid" <<'PY'
import http.client, json, os, sys, threading, time, urllib.parse

url, n, lc_pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
u = urllib.parse.urlparse(url)
marker = "pods-bench-%d" % os.getpid()
NS = "default"

def conn():
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)

def request(c, method, path, body=None):
    hdr = {"Content-Type": "application/json"} if body is not None else {}
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=hdr)
    r = c.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit("%s %s: %d %s" % (method, path, r.status, data[:300]))
    return json.loads(data)

c0 = conn()
rv = request(c0, "GET", "/api/v1/namespaces/%s/pods" % NS)["metadata"]["resourceVersion"]
ready_at, gone_at = {}, {}
done_ready, done_gone = threading.Event(), threading.Event()

def watch():
    c = conn()
    c.request("GET", "/api/v1/namespaces/%s/pods?watch=1&resourceVersion=%s" % (NS, rv))
    r = c.getresponse()
    while True:
        line = r.readline()
        if not line:
            return
        ev = json.loads(line)
        o = ev["object"]
        name = o["metadata"]["name"]
        if ev["type"] == "DELETED":
            gone_at.setdefault(name, time.monotonic())
            if len(gone_at) == n:
                done_gone.set()
                return
            continue
        conds = o.get("status", {}).get("conditions", [])
        if any(x.get("type") == "Ready" and x.get("status") == "True" for x in conds):
            if name not in ready_at:
                ready_at[name] = time.monotonic()
                if len(ready_at) == n:
                    done_ready.set()

threading.Thread(target=watch, daemon=True).start()
time.sleep(0.2)

def pod(i):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "bench-%05d" % i, "labels": {"app": "bench"}},
            "spec": {"containers": [{"name": "c", "image": "bench", "command": ["sleep", "infinity"],
                                      "env": [{"name": "BENCH_MARKER", "value": marker}]}]}}

def parallel(fn, workers=4):
    def run(k):
        c = conn()
        for i in range(k, n, workers):
            fn(c, i)
    ts = [threading.Thread(target=run, args=(k,)) for k in range(workers)]
    for t in ts: t.start()
    for t in ts: t.join()

t0 = time.monotonic()
parallel(lambda c, i: request(c, "POST", "/api/v1/namespaces/%s/pods" % NS, pod(i)))
t_created = time.monotonic()
if not done_ready.wait(300):
    raise SystemExit("only %d of %d pods became Ready" % (len(ready_at), n))
t_ready = max(ready_at.values())

t1 = time.monotonic()
parallel(lambda c, i: request(c, "DELETE", "/api/v1/namespaces/%s/pods/bench-%05d" % (NS, i)))
if not done_gone.wait(300):
    raise SystemExit("only %d of %d pods are gone" % (len(gone_at), n))
t_gone = max(gone_at.values())

def leftovers():
    left = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % p, "rb") as f:
                if marker.encode() in f.read():
                    left += 1
        except OSError:
            pass
    return left

left = leftovers()
ready_rate = n / (t_ready - t0)
gone_rate = n / (t_gone - t1)
print("## kubelet pods bench: %d pods of `sleep infinity`, %d cores" % (n, os.cpu_count()))
print("| figure | value | target |")
print("|---|---|---|")
print("| create (API) | %.0f pods/s (%.2f s) | - |" % (n / (t_created - t0), t_created - t0))
print("| create -> all Ready | %.0f pods/s (%.2f s) | >= 200 pods/s |" % (ready_rate, t_ready - t0))
print("| delete -> all gone | %.0f pods/s (%.2f s) | >= 200 pods/s |" % (gone_rate, t_gone - t1))
print("| pod processes left | %d | 0 |" % left)
PY
kill -TERM "$pid"
wait "$pid" || { echo "localcluster exited with $?"; tail -20 "$tmp/log"; exit 1; }
pid=
