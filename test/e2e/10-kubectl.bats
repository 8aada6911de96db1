#!/usr/bin/env bats
# kubectl acceptance: a user session against localcluster with real kubectl. Every scenario
# runs twice: with the installed dispatcher `kubectl` (which must pick 1.32 because
# localcluster reports minor 32) and with kubectl 1.27 called directly.

setup() {
    load helpers
    start_cluster
}

teardown() { teardown_cluster; }

# kc ARGS...: the kubectl under test (KCV=132 -> the dispatcher, KCV=127 -> kubectl 1.27).
# kc_bin: the binary itself, for background commands (so BG_PIDS holds kubectl's own PID).
kc_bin() {
    if [ "${KCV:-132}" = 127 ]; then echo "$KUBECTL_127"; else command -v kubectl; fi
}
kc() { "$(kc_bin)" --request-timeout=20s "$@"; }

widget() { # widget NAME REPLICAS [extra metadata yaml lines...]
    local name=$1 replicas=$2
    shift 2
    printf 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: %s\n' "$name"
    local l
    for l in "$@"; do printf '  %s\n' "$l"; done
    printf 'spec:\n  replicas: %s\n' "$replicas"
}

# The CR a kubectl user starts with: the CRD established and one widget w1 (replicas 3).
crd_and_w1() {
    run kc apply -f - <<<"$(widget_crd)"
    [ "$status" -eq 0 ]
    [[ "$output" == *"customresourcedefinition.apiextensions.k8s.io/widgets.example.com created"* ]]
    run kc wait --for=condition=Established crd/widgets.example.com --timeout=20s
    [ "$status" -eq 0 ]
    [[ "$output" == *"condition met"* ]]
    run kc apply -f - <<<"$(widget w1 3)"
    [ "$status" -eq 0 ]
    [ "$output" = "widget.example.com/w1 created" ]
}

# file_has FILE PATTERN: grep -E on a file (for wait_for).
file_has() { grep -Eq "$2" "$1"; }
# proc_gone PID
proc_gone() { ! kill -0 "$1" 2>/dev/null; }

# --- the scenarios -------------------------------------------------------------------------

scenario_crd_and_printer_columns() {
    crd_and_w1
    run kc get widgets
    [ "$status" -eq 0 ]
    # Name, the priority-0 printer columns in order, and Age; no READY (priority 1).
    [[ "${lines[0]}" =~ ^NAME\ +REPLICAS\ +MODE\ +AGE$ ]]
    [[ "${lines[1]}" =~ ^w1\ +3\ +fast\ +[0-9]+s$ ]] # mode comes from the schema default
    [ "${#lines[@]}" -eq 2 ]
    # The short name and the category work too.
    run kc get wg w1 --no-headers
    [[ "$output" =~ ^w1\ +3\ +fast ]]
    run kc get all -n default
    [[ "$output" == *"widget.example.com/w1"* ]]
}

scenario_get_wide_yaml_jsonpath() {
    crd_and_w1
    # Fill the priority-1 column through the status subresource.
    api_json PATCH /apis/example.com/v1/namespaces/default/widgets/w1/status \
        '{"status":{"ready":"yes"}}' application/merge-patch+json
    [ "$status_code" = 200 ]
    run kc get widgets -o wide
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^NAME\ +REPLICAS\ +MODE\ +READY\ +AGE$ ]]
    [[ "${lines[1]}" =~ ^w1\ +3\ +fast\ +yes\ +[0-9]+s$ ]]

    run kc get widget w1 -o yaml
    [ "$status" -eq 0 ]
    [[ "$output" == *"apiVersion: example.com/v1"* ]]
    [[ "$output" == *"kind: Widget"* ]]
    [[ "$output" == *"  name: w1"* ]]
    [[ "$output" == *"  namespace: default"* ]]
    [[ "$output" == *"  replicas: 3"* ]]
    [[ "$output" == *"  mode: fast"* ]]
    [[ "$output" == *"  ready: \"yes\""* ]]
    [[ "$output" =~ uid:\ [0-9a-f-]{36} ]]
    [[ "$output" =~ resourceVersion:\ \"[0-9]+\" ]]

    run kc get widget w1 -o jsonpath='{.spec.replicas}/{.spec.mode}/{.status.ready}/{.metadata.generation}'
    [ "$status" -eq 0 ]
    [ "$output" = "3/fast/yes/1" ]
    run kc get widgets -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'
    [ "$output" = "w1" ]
}

scenario_get_watch_sees_changes() {
    crd_and_w1
    local out=$BATS_TEST_TMPDIR/watch.out
    "$(kc_bin)" get widgets -w >"$out" 2>&1 &
    BG_PIDS="${BG_PIDS:-} $!"
    wait_for file_has "$out" '^w1 +3 +fast'
    kc patch widget w1 --type=merge -p '{"spec":{"replicas":5}}'
    wait_for file_has "$out" '^w1 +5 +fast'
    kc apply -f - <<<"$(widget w2 1)"
    wait_for file_has "$out" '^w2 +1 +fast'
    kc delete widget w2
    # The watch keeps running until we stop it, and showed no errors.
    run grep -qi error "$out"
    [ "$status" -ne 0 ]
    kill -0 "${BG_PIDS##* }"
}

scenario_label_and_annotate() {
    crd_and_w1
    run kc label widget w1 tier=gold
    [ "$status" -eq 0 ]
    [ "$output" = "widget.example.com/w1 labeled" ]
    run kc get widgets -l tier=gold -o name
    [ "$output" = "widget.example.com/w1" ]
    run kc get widgets -l tier=silver -o name
    [ -z "$output" ]
    run kc get widgets -L tier
    [[ "${lines[0]}" =~ TIER$ ]]
    [[ "${lines[1]}" =~ gold$ ]]
    # Relabelling needs --overwrite, as on a real cluster.
    run kc label widget w1 tier=silver
    [ "$status" -ne 0 ]
    [[ "$output" == *"already has a value (gold)"* ]]
    kc label widget w1 tier=silver --overwrite
    run kc get widget w1 -o jsonpath='{.metadata.labels.tier}'
    [ "$output" = silver ]
    kc label widget w1 tier-
    run kc get widget w1 -o jsonpath='{.metadata.labels}'
    [[ "$output" != *tier* ]]

    run kc annotate widget w1 owner='team a'
    [ "$status" -eq 0 ]
    # (kubectl 1.27 prints "annotate", later versions "annotated")
    [[ "$output" =~ ^widget\.example\.com/w1\ annotated?$ ]]
    run kc get widget w1 -o jsonpath='{.metadata.annotations.owner}'
    [ "$output" = "team a" ]
    # Labels and annotations never bump the generation.
    run kc get widget w1 -o jsonpath='{.metadata.generation}'
    [ "$output" = 1 ]
}

scenario_patch_merge_and_status() {
    crd_and_w1
    run kc patch widget w1 --type=merge -p '{"spec":{"replicas":7,"mode":"slow"}}'
    [ "$status" -eq 0 ]
    [ "$output" = "widget.example.com/w1 patched" ]
    run kc get widget w1 -o jsonpath='{.spec.replicas}/{.spec.mode}/{.metadata.generation}'
    [ "$output" = "7/slow/2" ]
    # The same patch again changes nothing.
    run kc patch widget w1 --type=merge -p '{"spec":{"replicas":7}}'
    [ "$status" -eq 0 ]
    [ "$output" = "widget.example.com/w1 patched (no change)" ]
    # Schema validation reaches the user as kubectl's Invalid error.
    run kc patch widget w1 --type=merge -p '{"spec":{"replicas":1000}}'
    [ "$status" -ne 0 ]
    [[ "$output" == *'"w1" is invalid: spec.replicas: Invalid value: 1000'* ]]
    # status is ignored through the main endpoint ...
    kc patch widget w1 --type=merge -p '{"status":{"ready":"no"}}'
    run kc get widget w1 -o jsonpath='{.status.ready}'
    [ -z "$output" ]
    # ... and written through /status, without a generation bump.
    run kc patch widget w1 --subresource=status --type=merge -p '{"status":{"ready":"yes"}}'
    [ "$status" -eq 0 ]
    [ "$output" = "widget.example.com/w1 patched" ]
    run kc get widget w1 -o jsonpath='{.status.ready}/{.metadata.generation}'
    [ "$output" = "yes/2" ]
    run kc get widgets -o wide --no-headers
    [[ "$output" =~ ^w1\ +7\ +slow\ +yes\ +[0-9]+s$ ]]
    # A JSON patch works as well; a strategic merge patch is refused for a custom resource.
    kc patch widget w1 --type=json -p '[{"op":"replace","path":"/spec/replicas","value":8}]'
    run kc get widget w1 -o jsonpath='{.spec.replicas}'
    [ "$output" = 8 ]
    run kc patch widget w1 -p '{"spec":{"replicas":9}}'
    [ "$status" -ne 0 ]
    [[ "$output" == *"application/strategic-merge-patch+json is not supported"* ]]
    [[ "$output" == *"accepted media types include: application/json-patch+json"* ]]
}

scenario_describe() {
    crd_and_w1
    kc label widget w1 tier=gold
    run kc describe widget w1
    [ "$status" -eq 0 ]
    [[ "$output" =~ Name:\ +w1 ]]
    [[ "$output" =~ Namespace:\ +default ]]
    [[ "$output" =~ Labels:\ +tier=gold ]]
    [[ "$output" =~ API\ Version:\ +example.com/v1 ]]
    [[ "$output" =~ Kind:\ +Widget ]]
    [[ "$output" =~ Replicas:\ +3 ]]
    [[ "$output" =~ Mode:\ +fast ]]
    [[ "$output" =~ Events:\ +\<none\> ]]
    run kc describe widget nope
    [ "$status" -ne 0 ]
    [[ "$output" == *'widgets.example.com "nope" not found'* ]]
}

scenario_delete_waits_for_finalizer() {
    crd_and_w1
    kc apply -f - <<<"$(widget held 1 'finalizers: [example.com/hold]')"
    local out=$BATS_TEST_TMPDIR/delete.out
    "$(kc_bin)" delete widget held --timeout=30s >"$out" 2>&1 &
    local pid=$!
    BG_PIDS="${BG_PIDS:-} $pid"
    # The object is now Terminating: deletionTimestamp set, finalizer still there ...
    wait_for eval '[ -n "$(kc get widget held -o jsonpath="{.metadata.deletionTimestamp}")" ]'
    run kc get widget held -o jsonpath='{.metadata.finalizers[0]}/{.metadata.generation}'
    [ "$output" = "example.com/hold/2" ]
    # ... and kubectl delete is still waiting for it to go.
    kill -0 "$pid"
    # Deletes are idempotent meanwhile.
    run kc delete widget held --wait=false
    [ "$status" -eq 0 ]
    # Adding a finalizer while being deleted is refused.
    run kc patch widget held --type=merge -p '{"metadata":{"finalizers":["example.com/hold","example.com/more"]}}'
    [ "$status" -ne 0 ]
    [[ "$output" == *"no new finalizers can be added if the object is being deleted"* ]]
    kill -0 "$pid"
    # The controller's part: drop the finalizer. Then delete returns, successfully.
    kc patch widget held --type=merge -p '{"metadata":{"finalizers":null}}'
    wait_for proc_gone "$pid"
    wait "$pid"
    BG_PIDS=
    grep -q 'widget.example.com "held" deleted' "$out"
    run kc get widget held
    [ "$status" -ne 0 ]
    [[ "$output" == *'widgets.example.com "held" not found'* ]]
    # w1 had no finalizer: delete is immediate.
    run kc delete widget w1
    [ "$status" -eq 0 ]
    [ "$output" = 'widget.example.com "w1" deleted' ]
    run kc get widgets
    [[ "$output" == "No resources found in default namespace." ]]
}

scenario_delete_namespace_cascades() {
    crd_and_w1
    run kc apply -f - <<'YAML'
apiVersion: v1
kind: Namespace
metadata:
  name: team
YAML
    [ "$output" = "namespace/team created" ]
    kc apply -n team -f - <<<"$(widget tw 2)"
    kc apply -n team -f - <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: blue
YAML
    run kc get widgets,configmaps -n team -o name
    [[ "$output" == *"widget.example.com/tw"* ]]
    [[ "$output" == *"configmap/settings"* ]]
    # A namespace gets its default service account from the controller.
    wait_for kc get serviceaccount default -n team
    run kc delete namespace team --timeout=30s
    [ "$status" -eq 0 ]
    [ "$output" = 'namespace "team" deleted' ]
    run kc get namespace team
    [ "$status" -ne 0 ]
    [[ "$output" == *'namespaces "team" not found'* ]]
    run kc get widgets,configmaps,serviceaccounts -n team -o name
    [ -z "$output" ]
    # Objects in other namespaces are untouched.
    run kc get widget w1 -n default -o name
    [ "$output" = "widget.example.com/w1" ]
}

scenario_apply_twice_unchanged() {
    crd_and_w1
    run kc apply -f - <<<"$(widget w1 3)"
    [ "$status" -eq 0 ]
    [ "$output" = "widget.example.com/w1 unchanged" ]
    local rv
    rv=$(kc get widget w1 -o jsonpath='{.metadata.resourceVersion}')
    run kc apply -f - <<<"$(widget w1 4)"
    [ "$output" = "widget.example.com/w1 configured" ]
    run kc get widget w1 -o jsonpath='{.spec.replicas}/{.metadata.generation}'
    [ "$output" = "4/2" ]
    [ "$(kc get widget w1 -o jsonpath='{.metadata.resourceVersion}')" != "$rv" ]
    # The last-applied annotation tracks what the user applied.
    run kc get widget w1 -o jsonpath='{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}'
    [[ "$output" == *'"replicas":4'* ]]
    # Dropping a field from the file removes it from the object (three-way merge).
    kc apply -f - <<<"$(widget w1 4 'labels: {a: "1"}')"
    run kc get widget w1 -o jsonpath='{.metadata.labels.a}'
    [ "$output" = 1 ]
    kc apply -f - <<<"$(widget w1 4)"
    run kc get widget w1 -o jsonpath='{.metadata.labels}'
    [[ "$output" != *'"a"'* ]]
}

scenario_apply_server_side() {
    crd_and_w1
    run kc apply --server-side -f - <<<"$(widget ssa 2)"
    [ "$status" -eq 0 ]
    [ "$output" = "widget.example.com/ssa serverside-applied" ]
    run kc get widget ssa -o jsonpath='{.spec.replicas}/{.spec.mode}'
    [ "$output" = "2/fast" ]
    run kc get widget ssa --show-managed-fields -o jsonpath='{.metadata.managedFields[*].manager}:{.metadata.managedFields[*].operation}'
    [ "$output" = "kubectl:Apply" ]
    local rv
    rv=$(kc get widget ssa -o jsonpath='{.metadata.resourceVersion}')
    run kc apply --server-side -f - <<<"$(widget ssa 2)"
    [ "$status" -eq 0 ]
    [[ "$output" == "widget.example.com/ssa serverside-applied" ||
        "$output" == "widget.example.com/ssa unchanged" ]]
    # Nothing changed, so nothing was written.
    [ "$(kc get widget ssa -o jsonpath='{.metadata.resourceVersion}')" = "$rv" ]
    run kc apply --server-side -f - <<<"$(widget ssa 6)"
    [ "$status" -eq 0 ]
    run kc get widget ssa -o jsonpath='{.spec.replicas}'
    [ "$output" = 6 ]
}

scenario_builtin_kinds() {
    run kc apply -f - <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  mode: fast
YAML
    [ "$status" -eq 0 ]
    [ "$output" = "configmap/app-config created" ]
    cat >"$BATS_TEST_TMPDIR/deploy.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
YAML
    run kc apply -f "$BATS_TEST_TMPDIR/deploy.yaml"
    [ "$status" -eq 0 ]
    [ "$output" = "deployment.apps/web created" ]
    run kc apply -f "$BATS_TEST_TMPDIR/deploy.yaml"
    [ "$output" = "deployment.apps/web unchanged" ]

    run kc apply -f - <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  mode: slow
  extra: "1"
YAML
    [ "$status" -eq 0 ]
    [ "$output" = "configmap/app-config configured" ]
    run kc get configmap app-config -o jsonpath='{.data.mode}/{.data.extra}'
    [ "$output" = "slow/1" ]

    sed -i -e 's/replicas: 2/replicas: 3/' -e 's/nginx:1.25/nginx:1.27/' \
        "$BATS_TEST_TMPDIR/deploy.yaml"
    run kc apply -f "$BATS_TEST_TMPDIR/deploy.yaml"
    [ "$status" -eq 0 ]
    [ "$output" = "deployment.apps/web configured" ]
    run kc get deployment web -o jsonpath='{.spec.replicas}/{.spec.template.spec.containers[0].image}/{.spec.template.spec.containers[0].ports[0].containerPort}'
    [ "$output" = "3/nginx:1.27/80" ]
    run kc get deployments
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^NAME ]]
    [[ "${lines[1]}" =~ ^web\  ]]
    run kc get configmaps -o name
    [[ "$output" == *"configmap/app-config"* ]]
}

scenario_namespaces() {
    run kc get ns
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^NAME\ +STATUS\ +AGE$ ]]
    local ns
    for ns in default kube-system kube-public kube-node-lease; do
        [[ "$output" =~ (^|$'\n')$ns\ +Active\ + ]] || {
            echo "namespace $ns not Active in: $output"
            return 1
        }
    done
    [ "${#lines[@]}" -eq 5 ]
}

# --- kubectl via the dispatcher (1.32) -----------------------------------------------------

@test "kubectl version: server minor 32, and the dispatcher runs kubectl 1.32" {
    run kubectl version -o json
    [ "$status" -eq 0 ]
    run jget 'd["serverVersion"]["major"], d["serverVersion"]["minor"], d["clientVersion"]["gitVersion"]' <<<"$output"
    [[ "$output" =~ ^\(\'1\',\ \'32\',\ \'v1\.32\. ]]
    run kubectl version
    [[ "$output" == *"Server Version: v1.32."* ]]
    # The client that actually talks to the server is kubectl 1.32 (its User-Agent says so),
    # not one of the other versions installed beside the dispatcher.
    run kubectl -v=8 get ns default
    [ "$status" -eq 0 ]
    [[ "$output" =~ User-Agent:\ kubectl(\.1\.32)?/v1\.32\. ]]
}

@test "kubectl 1.32: apply a CRD with printer columns, wait Established, get shows the columns" {
    scenario_crd_and_printer_columns
}
@test "kubectl 1.32: get -o wide, -o yaml, -o jsonpath" { scenario_get_wide_yaml_jsonpath; }
@test "kubectl 1.32: get -w shows changes made while watching" { scenario_get_watch_sees_changes; }
@test "kubectl 1.32: label and annotate" { scenario_label_and_annotate; }
@test "kubectl 1.32: patch --type=merge and --subresource=status" {
    scenario_patch_merge_and_status
}
@test "kubectl 1.32: describe" { scenario_describe; }
@test "kubectl 1.32: delete waits for finalizers" { scenario_delete_waits_for_finalizer; }
@test "kubectl 1.32: delete namespace cascades" { scenario_delete_namespace_cascades; }
@test "kubectl 1.32: apply twice says unchanged, a change says configured" {
    scenario_apply_twice_unchanged
}
@test "kubectl 1.32: apply --server-side" { scenario_apply_server_side; }
@test "kubectl 1.32: ConfigMap and Deployment apply, re-apply with a change" {
    scenario_builtin_kinds
}
@test "kubectl 1.32: get ns shows the four default namespaces Active" { scenario_namespaces; }

# --- kubectl 1.27 --------------------------------------------------------------------------

@test "kubectl 1.27: client version 1.27 against server 1.32" {
    local out
    out=$(k127 version -o json 2>"$BATS_TEST_TMPDIR/err")
    [ "$(jget 'd["clientVersion"]["minor"]' <<<"$out")" = 27 ]
    [ "$(jget 'd["serverVersion"]["minor"]' <<<"$out")" = 32 ]
    # It warns about the version skew, as against a real 1.32 server.
    grep -q "exceeds the supported minor version skew" "$BATS_TEST_TMPDIR/err"
}
@test "kubectl 1.27: apply a CRD with printer columns, wait Established, get shows the columns" {
    KCV=127 scenario_crd_and_printer_columns
}
@test "kubectl 1.27: get -o wide, -o yaml, -o jsonpath" { KCV=127 scenario_get_wide_yaml_jsonpath; }
@test "kubectl 1.27: get -w shows changes made while watching" {
    KCV=127 scenario_get_watch_sees_changes
}
@test "kubectl 1.27: label and annotate" { KCV=127 scenario_label_and_annotate; }
@test "kubectl 1.27: patch --type=merge and --subresource=status" {
    KCV=127 scenario_patch_merge_and_status
}
@test "kubectl 1.27: describe" { KCV=127 scenario_describe; }
@test "kubectl 1.27: delete waits for finalizers" { KCV=127 scenario_delete_waits_for_finalizer; }
@test "kubectl 1.27: delete namespace cascades" { KCV=127 scenario_delete_namespace_cascades; }
@test "kubectl 1.27: apply twice says unchanged, a change says configured" {
    KCV=127 scenario_apply_twice_unchanged
}
@test "kubectl 1.27: apply --server-side" { KCV=127 scenario_apply_server_side; }
@test "kubectl 1.27: ConfigMap and Deployment apply, re-apply with a change" {
    KCV=127 scenario_builtin_kinds
}
@test "kubectl 1.27: get ns shows the four default namespaces Active" {
    KCV=127 scenario_namespaces
}
