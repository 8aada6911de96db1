#!/usr/bin/env bats
# The controller shell against localcluster: readiness follows the informers (CRDs installed
# late), reconcile keys flow, leader election on a Lease (one leader, fail-over after kill -9, a
# stale renew answered 409 and handled, release on SIGTERM), bad flags and kubeconfigs, and
# /metrics. Binaries come from ${BIN:-build/san/bin}.

: "${BIN:=$BATS_TEST_DIRNAME/../../build/san/bin}"
CRDS="$BATS_TEST_DIRNAME/../../config/crd/bases"
LEASE=sandbox-controller.opensandbox.io

setup() {
    load helpers
    CTL_PIDS=
}

teardown() {
    local p
    for p in $CTL_PIDS; do kill -KILL "$p" 2>/dev/null || true; done
    for p in $CTL_PIDS; do wait "$p" 2>/dev/null || true; done
    teardown_cluster
}

# wait_until SECONDS CMD...: retries CMD every 0.1 s until it succeeds or time runs out.
wait_until() {
    local end=$((SECONDS + $1))
    shift
    while [ "$SECONDS" -lt "$end" ]; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    "$@"
}

# start_ctl NAME [flags...]: starts a controller logging to $BATS_TEST_TMPDIR/NAME.log with
# probe and metrics servers on free ports; sets ${NAME}_PID, ${NAME}_PROBE, ${NAME}_METRICS.
start_ctl() {
    local name=$1 log="$BATS_TEST_TMPDIR/$1.log"
    shift
    "$BIN/controller" --kubeconfig "$KUBECONFIG" --health-probe-bind-address 127.0.0.1:0 \
        --metrics-bind-address 127.0.0.1:0 "$@" >"$log" 2>&1 &
    local pid=$!
    CTL_PIDS="$CTL_PIDS $pid"
    printf -v "${name}_PID" %s "$pid"
    wait_until 20 grep -q 'serving metrics' "$log" || { cat "$log"; return 1; }
    # text (addr=H:P) or JSON ("addr":"H:P") log lines
    printf -v "${name}_PROBE" %s "$(grep 'serving health probes' "$log" | sed -E 's/.*addr(=|":")([0-9.:]+).*/\2/')"
    printf -v "${name}_METRICS" %s "$(grep 'serving metrics' "$log" | sed -E 's/.*addr(=|":")([0-9.:]+).*/\2/')"
}

logged() { grep -q -- "$2" "$BATS_TEST_TMPDIR/$1.log"; }
http_code() { curl -s -o /dev/null -w '%{http_code}' "$1"; }
metric_has() { curl -s "http://$c_METRICS/metrics" | grep -q -- "$1"; }
code_is() { [ "$(http_code "$1")" = "$2" ]; }
holder() { k get lease "$LEASE" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
holder_is() { [ "$(holder)" = "$1" ]; }
renewed_since() { [ "$(k -n kube-system get lease my-lock -o jsonpath='{.spec.renewTime}')" != "$1" ]; }
identity_of() { grep -o 'msg="attempting to acquire leader lease".*identity=[^ ]*' "$BATS_TEST_TMPDIR/$1.log" | sed 's/.*identity=//'; }

# exited PID: the process has exited (gone, or a zombie not reaped yet).
exited() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# reap PID: waits (at most 30 s, then SIGKILL) and sets $ctl_rc to the exit code.
reap() {
    wait_until 30 exited "$1" || kill -KILL "$1"
    ctl_rc=0
    wait "$1" || ctl_rc=$?
}

# stop_ctl PID: SIGTERM, then reap.
stop_ctl() {
    kill -TERM "$1"
    reap "$1"
}

@test "readiness waits for the CRDs; caches sync after install; a new Pool is reconciled" {
    start_cluster --no-kubelet
    start_ctl c --v 1
    wait_until 20 logged c 'msg="waiting for resource type" resource=pools.sandbox.opensandbox.io'
    # not ready: the custom-resource informers cannot list yet
    run curl -s -w '\n%{http_code}' "http://$c_PROBE/readyz"
    [ "${lines[-1]}" = 503 ]
    [[ "$output" == *"[-]informer-pools not ready"* ]]
    [[ "$output" == *"[-]informer-batchsandboxes not ready"* ]]
    [[ "$output" == *"[+]informer-pods ok"* ]]
    run curl -s "http://$c_PROBE/healthz"
    [ "$output" = ok ]

    k apply -f "$CRDS" >/dev/null
    wait_until 40 code_is "http://$c_PROBE/readyz" 200
    wait_until 10 logged c 'msg="caches synced"'
    logged c 'msg="starting workers"'

    k apply -f - <<'YAML'
apiVersion: sandbox.opensandbox.io/v1alpha1
kind: Pool
metadata:
  name: warm
spec:
  capacitySpec: {bufferMin: 1, bufferMax: 2, poolMin: 0, poolMax: 5}
YAML
    wait_until 20 logged c 'msg="reconcile" controller=pool key=default/warm present=true generation=1 pods=0'
    # a pod labelled for the pool reaches the Pool's queue and is counted from the cache
    k apply -f - <<'YAML' >/dev/null
apiVersion: v1
kind: Pod
metadata:
  name: warm-abcde
  labels: {sandbox.opensandbox.io/pool-name: warm}
spec:
  containers: [{name: c, image: busybox}]
YAML
    wait_until 20 logged c 'msg="reconcile" controller=pool key=default/warm present=true generation=1 pods=1'
    # a deleted Pool is reconciled as absent
    k delete pool warm >/dev/null
    wait_until 20 logged c 'msg="reconcile" controller=pool key=default/warm present=false'
    kill -0 "$c_PID"
}

@test "--namespace watches one namespace only" {
    start_cluster --no-kubelet
    k apply -f "$CRDS" >/dev/null
    printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: team-b}\n' |
        k apply -f - >/dev/null
    start_ctl c --v 1 --namespace team-a
    wait_until 20 code_is "http://$c_PROBE/readyz" 200
    for ns in team-b team-a; do
        k -n "$ns" apply -f "$BATS_TEST_DIRNAME/../../config/samples" >/dev/null
    done
    wait_until 20 logged c 'msg="reconcile" controller=batchsandbox key=team-a/batchsandbox-sample present=true'
    wait_until 20 logged c 'msg="reconcile" controller=pool key=team-a/pool-sample present=true'
    ! logged c 'key=team-b/'
}

@test "CRDs: printer columns, -o wide, short name, defaults and validation" {
    start_cluster --no-kubelet
    k apply -f "$CRDS" >/dev/null
    k wait --for=condition=Established crd/pools.sandbox.opensandbox.io crd/batchsandboxes.sandbox.opensandbox.io --timeout=20s >/dev/null
    k apply -f "$BATS_TEST_DIRNAME/../../config/samples" >/dev/null
    run k get pools
    [[ "${lines[0]}" =~ ^NAME\ +TOTAL\ +ALLOCATED\ +AVAILABLE\ +UPDATED\ +AGE$ ]]
    run k get bsbx
    [[ "${lines[0]}" =~ ^NAME\ +DESIRED\ +TOTAL\ +ALLOCATED\ +READY\ +EXPIRE\ +AGE$ ]]
    [[ "${lines[1]}" =~ ^batchsandbox-sample\ +3\  ]]
    run k get bsbx -o wide
    [[ "${lines[0]}" =~ ^NAME\ +DESIRED\ +TOTAL\ +ALLOCATED\ +READY\ +TASK_RUNNING\ +TASK_SUCCEED\ +TASK_FAILED\ +TASK_UNKNOWN\ +EXPIRE\ +AGE$ ]]
    # status columns print what the status subresource holds
    k patch pool pool-sample --subresource=status --type=merge \
        -p '{"status":{"total":4,"allocated":1,"available":3,"updated":4}}' >/dev/null
    run k get pool pool-sample --no-headers
    [[ "$output" =~ ^pool-sample\ +4\ +1\ +3\ +4\  ]]
    # defaults: replicas 1, taskResourcePolicyWhenCompleted Retain, recycleStrategy.type Delete
    echo '{"apiVersion":"sandbox.opensandbox.io/v1alpha1","kind":"BatchSandbox","metadata":{"name":"d"},"spec":{}}' | k apply -f - >/dev/null
    [ "$(k get bsbx d -o jsonpath='{.spec.replicas}/{.spec.taskResourcePolicyWhenCompleted}')" = "1/Retain" ]
    echo '{"apiVersion":"sandbox.opensandbox.io/v1alpha1","kind":"Pool","metadata":{"name":"p"},"spec":{"capacitySpec":{"bufferMin":0,"bufferMax":0,"poolMin":0,"poolMax":0},"recycleStrategy":{},"scaleStrategy":{"maxUnavailable":2}}}' | k apply -f - >/dev/null
    [ "$(k get pool p -o jsonpath='{.spec.recycleStrategy.type}/{.spec.scaleStrategy.maxUnavailable}')" = "Delete/2" ]
    # validation: minimum 0, enums, required fields, int-or-string
    run k apply -f - <<<'{"apiVersion":"sandbox.opensandbox.io/v1alpha1","kind":"BatchSandbox","metadata":{"name":"bad"},"spec":{"replicas":-1,"taskResourcePolicyWhenCompleted":"Keep"}}'
    [ "$status" -ne 0 ]
    [[ "$output" == *"spec.replicas"*"greater than or equal to 0"* ]]
    [[ "$output" == *'Unsupported value: "Keep"'* ]]
    run k apply -f - <<<'{"apiVersion":"sandbox.opensandbox.io/v1alpha1","kind":"Pool","metadata":{"name":"bad"},"spec":{"capacitySpec":{"bufferMin":1},"recycleStrategy":{"type":"Reuse"},"updateStrategy":{"maxUnavailable":true}}}'
    [ "$status" -ne 0 ]
    [[ "$output" == *"spec.capacitySpec.poolMax: Required value"* ]]
    [[ "$output" == *'Unsupported value: "Reuse"'* ]]
    [[ "$output" == *"spec.updateStrategy.maxUnavailable"* ]]
    run k apply -f - <<<'{"apiVersion":"sandbox.opensandbox.io/v1alpha1","kind":"Pool","metadata":{"name":"bad2"},"spec":{}}'
    [ "$status" -ne 0 ]
    [[ "$output" == *"spec.capacitySpec: Required value"* ]]
}

@test "leader election: one leader, the other waits; kill -9 of the leader hands over" {
    start_cluster --no-kubelet
    k apply -f "$CRDS" >/dev/null
    start_ctl a --leader-elect
    wait_until 20 logged a 'msg="successfully acquired lease"'
    start_ctl b --leader-elect
    wait_until 20 logged b 'msg="lease is held by another candidate and has not expired; waiting"'
    ida=$(identity_of a)
    idb=$(identity_of b)
    [ -n "$ida" ] && [ -n "$idb" ] && [ "$ida" != "$idb" ]
    [[ "$ida" == "$(hostname)_"* ]]
    holder_is "$ida"
    ! logged b 'msg="successfully acquired lease"'
    ! logged b 'msg="starting workers"'
    # the leader records an event on the Lease, as client-go does
    run k get events --field-selector reason=LeaderElection -o jsonpath='{.items[*].message}'
    [[ "$output" == *"$ida became leader"* ]]
    # MicroTime with six fractional digits
    [[ "$(k get lease "$LEASE" -o jsonpath='{.spec.renewTime}')" =~ \.[0-9]{6}Z$ ]]

    kill -KILL "$a_PID"
    # b takes over once a's record has not changed for leaseDurationSeconds (15 s) by b's clock;
    # b saw a's last renewal at most one retry (4.4 s) late and wakes when it expires: <= 20 s
    wait_until 20 holder_is "$idb"
    wait_until 10 logged b 'msg="starting workers"'
    [ "$(k get lease "$LEASE" -o jsonpath='{.spec.leaseTransitions}')" = 1 ]
    stop_ctl "$b_PID"
    [ "$ctl_rc" = 0 ]
}

@test "a stale lease write gets 409 and is handled: the leader keeps leading" {
    start_cluster --no-kubelet
    start_ctl a --leader-elect --leader-election-namespace kube-system --leader-election-id my-lock
    wait_until 20 logged a 'msg="successfully acquired lease"'
    ida=$(identity_of a)
    [ "$(k -n kube-system get lease my-lock -o jsonpath='{.spec.holderIdentity}')" = "$ida" ]
    old=$(k -n kube-system get lease my-lock -o json)
    # change the lease under the leader: its next renew PUT carries a stale resourceVersion
    k -n kube-system annotate lease my-lock poked=yes >/dev/null
    wait_until 10 logged a 'lease renew conflict (409)'
    # it re-read the lease and renewed: still the holder, renewTime moves on, still running
    r1=$(k -n kube-system get lease my-lock -o jsonpath='{.spec.renewTime}')
    wait_until 10 renewed_since "$r1"
    [ "$(k -n kube-system get lease my-lock -o jsonpath='{.spec.holderIdentity}')" = "$ida" ]
    kill -0 "$a_PID"
    ! logged a 'leadership lost'
    run curl -s "http://$a_METRICS/metrics"
    [[ "$output" =~ leader_election_conflicts_total\{name=\"my-lock\"\}\ [1-9] ]]
    [[ "$output" == *'leader_election_master_status{name="my-lock"} 1'* ]]
    # the server's side of it: a PUT with the stale resourceVersion is refused with 409
    api_json PUT /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/my-lock "$old"
    [ "$status_code" = 409 ]
    [[ "$body" == *'"reason":"Conflict"'* ]]
    stop_ctl "$a_PID"
    [ "$ctl_rc" = 0 ]
}

@test "SIGTERM of the leader releases the lease and exits 0" {
    start_cluster --no-kubelet
    k apply -f "$CRDS" >/dev/null
    start_ctl a --leader-elect
    wait_until 20 logged a 'msg="starting workers"'
    ida=$(identity_of a)
    holder_is "$ida"
    stop_ctl "$a_PID"
    [ "$ctl_rc" = 0 ]
    logged a 'msg="released leader lease"'
    run k get lease "$LEASE" -o jsonpath='{.spec.holderIdentity}|{.spec.leaseDurationSeconds}'
    [ "$output" = "|1" ]
    logged a 'msg="controller stopped" exit=0'
}

@test "a leader that cannot renew within the renew deadline (lease taken) exits 1" {
    start_cluster --no-kubelet
    start_ctl a --leader-elect
    wait_until 20 logged a 'msg="successfully acquired lease"'
    # another party takes the lease: every renew now finds a live lease held by someone else
    k patch lease "$LEASE" --type=merge -p '{"spec":{"holderIdentity":"intruder"}}' >/dev/null
    reap "$a_PID"
    [ "$ctl_rc" = 1 ]
    logged a 'leadership lost'
    logged a 'msg="new leader observed" lease=sandbox-controller.opensandbox.io holder=intruder'
    # it did not release a lease it no longer holds
    holder_is intruder
}

# A fake API server whose Lease PUTs (renew and release) hang for a minute; every other read is
# 404. Writes its port to $1 and a line per PUT to $2.
slow_lease_api() {
    cat >"$BATS_TEST_TMPDIR/slowapi.py" <<'PY'
import http.server, json, os, sys, time
lease = {}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def body(self):
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
    def do_GET(self):
        if "/leases/" in self.path and "l" in lease:
            return self.send(200, lease["l"])
        details = {"name": "x"} if "/leases/" in self.path else {}
        self.send(404, {"kind": "Status", "code": 404, "reason": "NotFound", "details": details})
    def do_POST(self):
        o = self.body()
        o["metadata"]["resourceVersion"] = "1"
        lease["l"] = o
        self.send(201, o)
    def do_PUT(self):
        self.body()
        with open(sys.argv[2], "a") as f:
            f.write("PUT\n")
        time.sleep(60)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
    python3 "$BATS_TEST_TMPDIR/slowapi.py" "$1" "$2" &
    CTL_PIDS="$CTL_PIDS $!"
    wait_until 10 test -s "$1"
}

@test "SIGTERM then SIGINT while the lease renew and release hang: the second signal exits 1 at once" {
    slow_lease_api "$BATS_TEST_TMPDIR/port" "$BATS_TEST_TMPDIR/puts"
    cat >"$BATS_TEST_TMPDIR/kc" <<EOF
apiVersion: v1
kind: Config
current-context: c
contexts: [{name: c, context: {cluster: k, namespace: default}}]
clusters: [{name: k, cluster: {server: "http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")"}}]
EOF
    KUBECONFIG="$BATS_TEST_TMPDIR/kc" start_ctl a --leader-elect
    wait_until 20 logged a 'msg="successfully acquired lease"'
    # the first renew is in flight and hangs
    wait_until 20 test -s "$BATS_TEST_TMPDIR/puts"
    kill -TERM "$a_PID"
    wait_until 10 logged a 'msg="shutting down"'
    # the lease is still being given back (the renew, then the release, each up to 5 s)
    if exited "$a_PID"; then return 1; fi
    kill -INT "$a_PID"
    # the loop is blocked in the shutdown: only a raw handler can act on the second signal
    wait_until 2 exited "$a_PID"
    reap "$a_PID"
    [ "$ctl_rc" = 1 ]
    logged a 'second signal: exiting now'
}

@test "bad flags and bad kubeconfigs exit 2 with a clear message" {
    run "$BIN/controller" --no-such-flag
    [ "$status" = 2 ]
    [[ "$output" == *"unknown flag: --no-such-flag"* ]]
    run "$BIN/controller" --concurrency zero
    [ "$status" = 2 ]
    [[ "$output" == *'invalid value "zero" for --concurrency'* ]]
    run "$BIN/controller" --metrics-bind-address localhost
    [ "$status" = 2 ]
    [[ "$output" == *'invalid bind address "localhost" for --metrics-bind-address'* ]]
    run "$BIN/controller" --log-format xml
    [ "$status" = 2 ]
    [[ "$output" == *'--log-format'* ]]
    run "$BIN/controller" --kubeconfig
    [ "$status" = 2 ]
    run "$BIN/controller" --help
    [ "$status" = 0 ]
    [[ "$output" == *"--leader-election-id"* ]]

    kc="$BATS_TEST_TMPDIR/bad.kubeconfig"
    printf 'apiVersion: v1\nkind: Config\ncurrent-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters: []\n' >"$kc"
    run "$BIN/controller" --kubeconfig "$kc"
    [ "$status" = 2 ]
    [[ "$output" == *"$kc"* ]]
    [[ "$output" == *'cluster "c" not found'* ]]
    printf 'clusters: [ {{{\n' >"$kc"
    run "$BIN/controller" --kubeconfig "$kc"
    [ "$status" = 2 ]
    [[ "$output" == *"$kc"* ]]
    run "$BIN/controller" --kubeconfig "$BATS_TEST_TMPDIR/missing"
    [ "$status" = 2 ]
    [[ "$output" == *"$BATS_TEST_TMPDIR/missing"* ]]
}

@test "/metrics serves Prometheus text with work queue and client metrics; /healthz is ok" {
    start_cluster --no-kubelet
    k apply -f "$CRDS" >/dev/null
    start_ctl c --log-format json
    wait_until 20 code_is "http://$c_PROBE/readyz" 200
    k apply -f "$BATS_TEST_DIRNAME/../../config/samples" >/dev/null
    # both samples are reconciled (observed) and counted
    wait_until 20 metric_has 'controller_runtime_reconcile_total{controller="pool",result="success"} [1-9]'
    wait_until 20 metric_has 'controller_runtime_reconcile_total{controller="batchsandbox",result="success"} [1-9]'
    run curl -s -D - "http://$c_METRICS/metrics"
    [[ "$output" == *"Content-Type: text/plain; version=0.0.4"* ]]
    [[ "$output" == *"# TYPE workqueue_depth gauge"* ]]
    [[ "$output" == *"# TYPE rest_client_requests_total counter"* ]]
    [[ "$output" =~ rest_client_requests_total\{code=\"200\",method=\"GET\"\}\ [1-9] ]]
    run curl -s "http://$c_PROBE/healthz"
    [ "$output" = ok ]
    # the probe port does not serve metrics and the metrics port does not serve probes
    code_is "http://$c_PROBE/metrics" 404
    code_is "http://$c_METRICS/readyz" 404
    # JSON log lines
    head -n 1 "$BATS_TEST_TMPDIR/c.log" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["msg"]=="starting controller", d'
    stop_ctl "$c_PID"
    [ "$ctl_rc" = 0 ]
}
