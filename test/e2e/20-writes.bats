#!/usr/bin/env bats
# Writes: create and metadata, PUT and optimistic concurrency, PATCH, the status subresource and
# generation (kubernetes-api.md §2.1-§2.4), and the §3 traps an emulator gets wrong (no-op
# writes, status split, generation, patch rules, pruning and defaulting, number and time formats).

setup() {
    load helpers
    start_cluster --no-kubelet # these tests predate the kubelet: pods stay Pending
}
teardown() { teardown_cluster; }

W=/apis/example.com/v1/namespaces/default/widgets
CM=/api/v1/namespaces/default/configmaps

# widget NAME REPLICAS [METADATA-EXTRA]: a Widget as JSON; METADATA-EXTRA is spliced into
# metadata, e.g. '"finalizers":["example.com/hold"]'.
widget() {
    local extra=${3:+,$3}
    printf '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"%s"%s},"spec":{"replicas":%s}}' \
        "$1" "$extra" "$2"
}

# create_widget NAME REPLICAS [METADATA-EXTRA]: POSTs it and expects 201.
create_widget() {
    api_json POST "$W" "$(widget "$@")"
    [ "$status_code" = 201 ] || { echo "create $1: $status_code $body"; return 1; }
}

# jfields EXPR...: JSON object on stdin; prints each Python expression over d (m = d["metadata"],
# mf = its first managedFields entry) on its own line, with one python3 start.
jfields() {
    python3 -c 'import json,sys
d=json.load(sys.stdin); m=d.get("metadata",{}); mf=(m.get("managedFields") or [{}])[0]
for e in sys.argv[1:]: print(eval(e))' "$@"
}

# canon: JSON on stdin, printed with sorted keys (for comparing objects).
canon() { python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))'; }

# rv_of PATH: the stored object's resourceVersion.
rv_of() {
    api_json GET "$1"
    [ "$status_code" = 200 ] || return 1
    jget 'd["metadata"]["resourceVersion"]' <<<"$body"
}

# start_watch PATH RV OUTFILE: a raw curl watch from RV into OUTFILE, killed at teardown.
start_watch() {
    curl -sS -N "$LC_URL$1?watch=1&resourceVersion=$2" >"$3" 2>/dev/null &
    BG_PIDS="${BG_PIDS:-} $!"
}

# grep_q PATTERN FILE (for wait_for).
grep_q() { grep -q -- "$1" "$2"; }

# ---------------------------------------------------------------------------------------------
# §2.1 Create and metadata

@test "create: POST fills uid, creationTimestamp, resourceVersion, generation, managedFields; GETs agree" {
    install_widget_crd
    api_json POST "$W" "$(widget w1 3 '"uid":"11111111-2222-3333-4444-555555555555","creationTimestamp":"2001-01-01T00:00:00Z"')"
    [ "$status_code" = 201 ]
    created=$body
    # one line per field: uid, creationTimestamp, resourceVersion, generation, namespace, then
    # the managedFields entry as "manager operation apiVersion fieldsType time"
    jfields <<<"$created" 'm["uid"]' 'm["creationTimestamp"]' 'm["resourceVersion"]' \
        'm["generation"]' 'm["namespace"]' 'len(m["managedFields"])' \
        '" ".join(mf[k] for k in ("manager","operation","apiVersion","fieldsType","time"))' \
        '"f:replicas" in mf["fieldsV1"]["f:spec"]' >"$BATS_TEST_TMPDIR/f"
    { read -r uid; read -r ts; read -r rv; read -r gen; read -r ns; read -r nmf; read -r mf; read -r owned; } <"$BATS_TEST_TMPDIR/f"
    [[ "$uid" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]
    [ "$uid" != 11111111-2222-3333-4444-555555555555 ]
    [[ "$ts" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]
    [ "$ts" != 2001-01-01T00:00:00Z ]
    [[ "$rv" =~ ^[1-9][0-9]*$ ]]
    [ "$gen" = 1 ]
    [ "$ns" = default ]
    [ "$nmf" = 1 ]
    [[ "$mf" =~ ^[^\ ]+\ Update\ example.com/v1\ FieldsV1\ 20[0-9-]+T[0-9:]+Z$ ]]
    [ "$owned" = True ]

    api_json GET "$W/w1"
    [ "$status_code" = 200 ]
    first=$(canon <<<"$body")
    api_json GET "$W/w1"
    [ "$(canon <<<"$body")" = "$first" ]
    [ "$(canon <<<"$created")" = "$first" ]
}

@test "create: a POST carrying a resourceVersion is refused with 500 and stores nothing" {
    api_json POST "$CM" '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1","resourceVersion":"5"}}'
    [ "$status_code" = 500 ]
    [ "$(jget 'd["kind"]' <<<"$body")" = Status ]
    [ "$(jget 'd["code"]' <<<"$body")" = 500 ]
    [[ "$(jget 'd["message"]' <<<"$body")" == *"resourceVersion should not be set on objects to be created"* ]]
    api_json GET "$CM/c1"
    [ "$status_code" = 404 ]
}

@test "create: 50 objects with generateName get unique names of the form w-xxxxx" {
    for i in $(seq 1 50); do
        api_json POST "$CM" '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"w-"},"data":{"i":"'"$i"'"}}'
        [ "$status_code" = 201 ] || { echo "$body"; false; }
        echo "$body" >>"$BATS_TEST_TMPDIR/bodies"
    done
    python3 -c 'import json,sys; [print(json.loads(l)["metadata"]["name"]) for l in sys.stdin if l.strip()]' \
        <"$BATS_TEST_TMPDIR/bodies" >"$BATS_TEST_TMPDIR/names"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/names")" = 50 ]
    [ "$(sort -u "$BATS_TEST_TMPDIR/names" | wc -l)" = 50 ]
    run grep -cvE '^w-[bcdfghjklmnpqrstvwxz2456789]{5}$' "$BATS_TEST_TMPDIR/names"
    [ "$output" = 0 ]
    # they are all really stored under those names
    [ "$(k get cm -o name | grep -c '^configmap/w-')" = 50 ]
}

@test "create: a second POST of the same name is a 409 AlreadyExists naming it; the first object stays" {
    local cm='{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"a":"1"}}'
    api_json POST "$CM" "$cm"
    [ "$status_code" = 201 ]
    local rv
    rv=$(jget 'd["metadata"]["resourceVersion"]' <<<"$body")
    api_json POST "$CM" '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"a":"2"}}'
    [ "$status_code" = 409 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = AlreadyExists ]
    [ "$(jget 'd["details"]["name"]' <<<"$body")" = dup ]
    [[ "$(jget 'd["message"]' <<<"$body")" == *'configmaps "dup" already exists'* ]]
    api_json GET "$CM/dup"
    [ "$status_code" = 200 ]
    [ "$(jget 'd["data"]["a"]' <<<"$body")" = 1 ]
    [ "$(jget 'd["metadata"]["resourceVersion"]' <<<"$body")" = "$rv" ]
}

@test "create: metadata.namespace differing from the URL namespace is a 400" {
    api_json POST "$CM" '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1","namespace":"kube-system"}}'
    [ "$status_code" = 400 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = BadRequest ]
    [[ "$(jget 'd["message"]' <<<"$body")" == *"the namespace of the provided object does not match the namespace sent on the request"* ]]
    api_json GET "$CM/c1"
    [ "$status_code" = 404 ]
    api_json GET /api/v1/namespaces/kube-system/configmaps/c1
    [ "$status_code" = 404 ]
    # the same namespace, or none, is fine
    api_json POST "$CM" '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1","namespace":"default"}}'
    [ "$status_code" = 201 ]
    # a cluster-scoped object has no namespace, whatever the body says
    api_json POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n1","namespace":"default"}}'
    [ "$status_code" = 201 ]
    [ "$(jget '"namespace" in d["metadata"]' <<<"$body")" = False ]
}

@test "create: a CR named Bad_Name is a 422 with a cause on metadata.name; bad labels too" {
    install_widget_crd
    api_json POST "$W" "$(widget Bad_Name 1)"
    [ "$status_code" = 422 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = Invalid ]
    [ "$(jget '[c["field"] for c in d["details"]["causes"]]' <<<"$body")" = '["metadata.name"]' ]
    # label keys and values are validated too
    api_json POST "$W" "$(widget w1 1 '"labels":{"bad key":"v"}')"
    [ "$status_code" = 422 ]
    [ "$(jget '[c["field"] for c in d["details"]["causes"]]' <<<"$body")" = '["metadata.labels"]' ]
    api_json POST "$W" "$(widget w1 1 '"labels":{"k":"'"$(printf 'v%.0s' {1..64})"'"}')"
    [ "$status_code" = 422 ]
    [[ "$(jget 'd["message"]' <<<"$body")" == *"must be no more than 63 characters"* ]]
    run k get widgets -o name
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "namespaces: the four default namespaces exist and are Active" {
    run k get ns --no-headers
    [ "$status" -eq 0 ]
    for ns in default kube-system kube-public kube-node-lease; do
        echo "$output" | grep -E "^$ns +Active "
    done
    api_json GET /api/v1/namespaces/default
    [ "$(jget 'd["metadata"]["labels"]["kubernetes.io/metadata.name"]' <<<"$body")" = default ]
    [ "$(jget 'd["spec"]["finalizers"]' <<<"$body")" = '["kubernetes"]' ]
    [ "$(jget 'd["status"]["phase"]' <<<"$body")" = Active ]
}

@test "dry run: kubectl apply --dry-run=server stores nothing, sends no event, keeps the resourceVersion" {
    install_widget_crd
    widget w1 1 | k apply -f -
    rv=$(rv_of "$W/w1")
    start_watch "$W" "$rv" "$BATS_TEST_TMPDIR/watch"

    run k apply --dry-run=server -f - -o jsonpath='{.spec.replicas}' <<<"$(widget w1 5)"
    [ "$status" -eq 0 ]
    [ "$output" = 5 ]
    # a new object in dry run is not created either
    run k apply --dry-run=server -f - <<<"$(widget w2 2)"
    [ "$status" -eq 0 ]
    run k get widget w2
    [ "$status" -ne 0 ]
    [[ "$output" == *NotFound* ]]

    api_json GET "$W/w1"
    [ "$(jget 'd["spec"]["replicas"]' <<<"$body")" = 1 ]
    [ "$(jget 'd["metadata"]["resourceVersion"]' <<<"$body")" = "$rv" ]

    # a real change arrives on the watch; nothing from the dry runs came before it
    k label widget w1 real=yes
    wait_for grep_q '"real":"yes"' "$BATS_TEST_TMPDIR/watch"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/watch")" = 1 ]
    ! grep -q '"w2"' "$BATS_TEST_TMPDIR/watch"
}

# ---------------------------------------------------------------------------------------------
# §2.2 Update (PUT) and optimistic concurrency

@test "PUT: two writers PUT what they read; the second gets 409 Conflict" {
    install_widget_crd
    create_widget w1 1
    api_json GET "$W/w1"
    a=$body
    b=$body
    a=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["spec"]["replicas"]=2; print(json.dumps(d))' "$a")
    b=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["spec"]["replicas"]=3; print(json.dumps(d))' "$b")
    api_json PUT "$W/w1" "$a"
    [ "$status_code" = 200 ]
    api_json PUT "$W/w1" "$b"
    [ "$status_code" = 409 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = Conflict ]
    [[ "$(jget 'd["message"]' <<<"$body")" == *'"w1": the object has been modified; please apply your changes to the latest version and try again'* ]]
    [ "$(jget 'd["details"]["kind"]' <<<"$body")" = widgets ]
    run k get widget w1 -o jsonpath='{.spec.replicas}'
    [ "$output" = 2 ]
}

@test "PUT: without a resourceVersion a CR is a 422, a ConfigMap is updated unconditionally" {
    install_widget_crd
    create_widget w1 1
    api_json PUT "$W/w1" "$(widget w1 4)"
    [ "$status_code" = 422 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = Invalid ]
    [[ "$(jget 'd["message"]' <<<"$body")" == *"metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"* ]]
    run k get widget w1 -o jsonpath='{.spec.replicas}'
    [ "$output" = 1 ]

    api_json POST "$CM" '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1"},"data":{"a":"1"}}'
    [ "$status_code" = 201 ]
    api_json PUT "$CM/c1" '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1"},"data":{"a":"2"}}'
    [ "$status_code" = 200 ]
    run k get cm c1 -o jsonpath='{.data.a}'
    [ "$output" = 2 ]
}

@test "PUT: a different uid is a 422, another name or namespace a 400; server-owned fields are kept" {
    install_widget_crd
    create_widget w1 1
    api_json GET "$W/w1"
    orig=$body
    bad=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["metadata"]["uid"]="00000000-0000-0000-0000-000000000001"; print(json.dumps(d))' "$orig")
    api_json PUT "$W/w1" "$bad"
    [ "$status_code" = 422 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = Invalid ]
    [[ "$body" == *metadata.uid* ]]
    # the name and namespace in the body must match the URL
    renamed=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["metadata"]["name"]="other"; print(json.dumps(d))' "$orig")
    api_json PUT "$W/w1" "$renamed"
    [ "$status_code" = 400 ]
    [[ "$(jget 'd["message"]' <<<"$body")" == *"does not match the name on the URL"* ]]
    moved=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["metadata"]["namespace"]="kube-system"; print(json.dumps(d))' "$orig")
    api_json PUT "$W/w1" "$moved"
    [ "$status_code" = 400 ]
    # server-owned fields sent with other values are ignored
    upd=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); m=d["metadata"]; m["creationTimestamp"]="2001-01-01T00:00:00Z"; m["generation"]=42; d["spec"]["replicas"]=2; print(json.dumps(d))' "$orig")
    api_json PUT "$W/w1" "$upd"
    [ "$status_code" = 200 ]
    [ "$(jget 'd["metadata"]["creationTimestamp"]' <<<"$body")" = "$(jget 'd["metadata"]["creationTimestamp"]' <<<"$orig")" ]
    [ "$(jget 'd["metadata"]["generation"]' <<<"$body")" = 2 ]
    [ "$(jget 'd["metadata"]["uid"]' <<<"$body")" = "$(jget 'd["metadata"]["uid"]' <<<"$orig")" ]
}

@test "no-op writes: PUT, PATCH and /status of unchanged content keep the resourceVersion and send no event" {
    install_widget_crd
    create_widget w1 1
    api_json PATCH "$W/w1/status" '{"status":{"ready":"yes"}}' application/merge-patch+json
    [ "$status_code" = 200 ]
    api_json GET "$W/w1"
    obj=$body
    rv=$(jget 'd["metadata"]["resourceVersion"]' <<<"$obj")
    start_watch "$W" "$rv" "$BATS_TEST_TMPDIR/watch"

    api_json PUT "$W/w1" "$obj"
    [ "$status_code" = 200 ]
    [ "$(jget 'd["metadata"]["resourceVersion"]' <<<"$body")" = "$rv" ]
    api_json PATCH "$W/w1" '{"spec":{"replicas":1},"metadata":{"labels":null}}' application/merge-patch+json
    [ "$status_code" = 200 ]
    [ "$(jget 'd["metadata"]["resourceVersion"]' <<<"$body")" = "$rv" ]
    api_json PUT "$W/w1/status" "$obj"
    [ "$status_code" = 200 ]
    [ "$(jget 'd["metadata"]["resourceVersion"]' <<<"$body")" = "$rv" ]
    api_json PATCH "$W/w1/status" '{"status":{"ready":"yes"}}' application/merge-patch+json
    [ "$status_code" = 200 ]
    [ "$(jget 'd["metadata"]["resourceVersion"]' <<<"$body")" = "$rv" ]
    # the first kubectl apply adds the last-applied annotation (a real write); the second is
    # "unchanged" and sends no PATCH at all
    k apply -f - <<<"$(widget w1 1)"
    k apply -f - <<<"$(widget w1 1)" | grep -q unchanged
    rv=$(rv_of "$W/w1")
    # now a real change: the watch has the annotation write, this one, and nothing else
    api_json PATCH "$W/w1" '{"spec":{"replicas":7}}' application/merge-patch+json
    [ "$status_code" = 200 ]
    [ "$(jget 'd["metadata"]["resourceVersion"]' <<<"$body")" != "$rv" ]
    wait_for grep_q '"replicas":7' "$BATS_TEST_TMPDIR/watch"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/watch")" = 2 ]
    head -n1 "$BATS_TEST_TMPDIR/watch" | grep -q last-applied-configuration
}

@test "PUT: an unknown name is a 404 NotFound and creates nothing" {
    install_widget_crd
    api_json PUT "$W/ghost" "$(widget ghost 1 '"resourceVersion":"1"')"
    [ "$status_code" = 404 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = NotFound ]
    [ "$(jget 'd["details"]["name"]' <<<"$body")" = ghost ]
    [ "$(jget 'd["details"]["kind"]' <<<"$body")" = widgets ]
    api_json PUT "$CM/ghost" '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ghost"}}'
    [ "$status_code" = 404 ]
    api_json GET "$W/ghost"
    [ "$status_code" = 404 ]
}

@test "finalizers: while an object is being deleted a new finalizer is a 422, removing one still works" {
    install_widget_crd
    create_widget w1 1 '"finalizers":["example.com/a"]'
    k delete widget w1 --wait=false
    api_json GET "$W/w1"
    [ -n "$(jget 'd["metadata"]["deletionTimestamp"]' <<<"$body")" ]
    run k patch widget w1 --type=merge -p '{"metadata":{"finalizers":["example.com/a","example.com/b"]}}'
    [ "$status" -ne 0 ]
    [[ "$output" == *"no new finalizers can be added if the object is being deleted"* ]]
    two=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["metadata"]["finalizers"].append("example.com/b"); print(json.dumps(d))' "$body")
    api_json PUT "$W/w1" "$two"
    [ "$status_code" = 422 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = Invalid ]
    # other updates are still allowed while it is terminating
    run k label widget w1 still=here
    [ "$status" -eq 0 ]
    k patch widget w1 --type=merge -p '{"metadata":{"finalizers":null}}'
    api_json GET "$W/w1"
    [ "$status_code" = 404 ]
}

# ---------------------------------------------------------------------------------------------
# §2.3 PATCH

@test "merge patch: a stale resourceVersion in the patch is a 409, without one it applies to the latest" {
    install_widget_crd
    create_widget w1 1
    old=$(jget 'd["metadata"]["resourceVersion"]' <<<"$body")
    k label widget w1 a=b
    api_json PATCH "$W/w1" '{"metadata":{"resourceVersion":"'"$old"'"},"spec":{"replicas":2}}' application/merge-patch+json
    [ "$status_code" = 409 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = Conflict ]
    run k get widget w1 -o jsonpath='{.spec.replicas}'
    [ "$output" = 1 ]
    api_json PATCH "$W/w1" '{"spec":{"replicas":2}}' application/merge-patch+json
    [ "$status_code" = 200 ]
    [ "$(jget 'd["spec"]["replicas"]' <<<"$body")" = 2 ]
    [ "$(jget 'd["metadata"]["labels"]["a"]' <<<"$body")" = b ]
    # the current resourceVersion works as a precondition that holds
    cur=$(jget 'd["metadata"]["resourceVersion"]' <<<"$body")
    api_json PATCH "$W/w1" '{"metadata":{"resourceVersion":"'"$cur"'"},"spec":{"replicas":3}}' application/merge-patch+json
    [ "$status_code" = 200 ]
}

@test "merge patch: two managers each set finalizers; lists are replaced whole, only the last survives" {
    install_widget_crd
    create_widget w1 1
    k patch widget w1 --type=merge --field-manager=ctl-a -p '{"metadata":{"finalizers":["example.com/a"]}}'
    k patch widget w1 --type=merge --field-manager=ctl-b -p '{"metadata":{"finalizers":["example.com/b"]}}'
    run k get widget w1 -o jsonpath='{.metadata.finalizers}'
    [ "$output" = '["example.com/b"]' ]
    k patch widget w1 --type=merge -p '{"metadata":{"finalizers":null}}'
}

@test "JSON patch: a test op on a stale resourceVersion is a 422 and changes nothing" {
    install_widget_crd
    create_widget w1 1 '"finalizers":["example.com/a"]'
    old=$(jget 'd["metadata"]["resourceVersion"]' <<<"$body")
    k label widget w1 moved=on
    p='[{"op":"test","path":"/metadata/resourceVersion","value":"'"$old"'"},{"op":"remove","path":"/metadata/finalizers/0"}]'
    api_json PATCH "$W/w1" "$p" application/json-patch+json
    [ "$status_code" = 422 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = Invalid ]
    run k get widget w1 -o jsonpath='{.metadata.finalizers}'
    [ "$output" = '["example.com/a"]' ]
    # a missing path is a 422 too
    api_json PATCH "$W/w1" '[{"op":"remove","path":"/metadata/annotations/nope"}]' application/json-patch+json
    [ "$status_code" = 422 ]
    # with the current resourceVersion the same patch goes through
    cur=$(rv_of "$W/w1")
    p='[{"op":"test","path":"/metadata/resourceVersion","value":"'"$cur"'"},{"op":"remove","path":"/metadata/finalizers/0"}]'
    api_json PATCH "$W/w1" "$p" application/json-patch+json
    [ "$status_code" = 200 ]
    [ "$(jget 'd["metadata"].get("finalizers")' <<<"$body")" = None ]
}

@test "strategic merge patch: 415 on a CR; kubectl apply of a Pod with a changed label is a 200" {
    install_widget_crd
    create_widget w1 1
    api_json PATCH "$W/w1" '{"spec":{"replicas":2}}' application/strategic-merge-patch+json
    [ "$status_code" = 415 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = UnsupportedMediaType ]
    [[ "$(jget 'd["message"]' <<<"$body")" == *"application/merge-patch+json"* ]]
    run k patch widget w1 --type=strategic -p '{"spec":{"replicas":2}}'
    [ "$status" -ne 0 ]
    run k get widget w1 -o jsonpath='{.spec.replicas}'
    [ "$output" = 1 ]

    pod() {
        cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: p1
  labels:
    app: demo
    tier: $1
spec:
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
YAML
    }
    pod one | k apply -f -
    run k apply -f - -v=6 <<<"$(pod two)"
    [ "$status" -eq 0 ]
    [[ "$output" == *"pod/p1 configured"* ]]
    echo "$output" | grep -E 'PATCH .*/namespaces/default/pods/p1.* 200 OK'
    run k get pod p1 -o jsonpath='{.metadata.labels.tier} {.metadata.labels.app} {.spec.containers[0].name} {.status.phase}'
    [ "$output" = "two demo main Pending" ]
}

@test "server-side apply: first apply creates (201), the second updates (200)" {
    install_widget_crd
    api_json PATCH "$W/w1?fieldManager=mgr" "$(widget w1 1)" application/apply-patch+yaml
    [ "$status_code" = 201 ]
    [ "$(jget 'd["spec"]["replicas"]' <<<"$body")" = 1 ]
    api_json PATCH "$W/w1?fieldManager=mgr" "$(widget w1 2)" application/apply-patch+yaml
    [ "$status_code" = 200 ]
    [ "$(jget 'd["spec"]["replicas"]' <<<"$body")" = 2 ]
    [ "$(jget '[m["manager"] for m in d["metadata"]["managedFields"] if m["operation"]=="Apply"]' <<<"$body")" = '["mgr"]' ]
    # kubectl does the same
    run k apply --server-side -f - <<<"$(widget w2 1)"
    [ "$status" -eq 0 ]
    [[ "$output" == *"serverside-applied"* ]]
    run k apply --server-side -f - <<<"$(widget w2 5)"
    [ "$status" -eq 0 ]
    run k get widget w2 -o jsonpath='{.spec.replicas}'
    [ "$output" = 5 ]
    # applying the same configuration again is a no-op: same resourceVersion
    rv=$(rv_of "$W/w1")
    api_json PATCH "$W/w1?fieldManager=mgr" "$(widget w1 2)" application/apply-patch+yaml
    [ "$status_code" = 200 ]
    [ "$(jget 'd["metadata"]["resourceVersion"]' <<<"$body")" = "$rv" ]
}

@test "patch: a missing name is a 404; a merge patch that is a JSON list is a 4xx" {
    install_widget_crd
    api_json PATCH "$W/ghost" '{"spec":{"replicas":2}}' application/merge-patch+json
    [ "$status_code" = 404 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = NotFound ]
    api_json PATCH "$W/ghost" '[{"op":"add","path":"/spec/replicas","value":2}]' application/json-patch+json
    [ "$status_code" = 404 ]
    run k patch widget ghost --type=merge -p '{"spec":{"replicas":2}}'
    [ "$status" -ne 0 ]
    [[ "$output" == *NotFound* ]]

    create_widget w1 1
    # python3-kubernetes sends list bodies as merge patches
    api_json PATCH "$W/w1" '[{"op":"replace","path":"/spec/replicas","value":9}]' application/merge-patch+json
    [[ "$status_code" == 4?? ]]
    [ "$(jget 'd["kind"]' <<<"$body")" = Status ]
    api_json PATCH "$W/w1" '"just a string"' application/merge-patch+json
    [[ "$status_code" == 4?? ]]
    api_json PATCH "$W/w1" '{"spec":' application/merge-patch+json
    [[ "$status_code" == 4?? ]]
    run k get widget w1 -o jsonpath='{.spec.replicas}'
    [ "$output" = 1 ]
}

# ---------------------------------------------------------------------------------------------
# §2.4 Status subresource and generation

@test "status split: create drops status, the main endpoint keeps status, /status keeps everything else" {
    install_widget_crd
    api_json POST "$W" '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"replicas":1},"status":{"ready":"created"}}'
    [ "$status_code" = 201 ]
    [ "$(jget 'd.get("status")' <<<"$body")" = None ]

    api_json PATCH "$W/w1/status" '{"status":{"ready":"yes"}}' application/merge-patch+json
    [ "$status_code" = 200 ]
    # main endpoint: spec changes, status silently stays
    api_json PATCH "$W/w1" '{"spec":{"replicas":2},"status":{"ready":"main"}}' application/merge-patch+json
    [ "$status_code" = 200 ]
    [ "$(jget 'd["spec"]["replicas"]' <<<"$body")" = 2 ]
    [ "$(jget 'd["status"]["ready"]' <<<"$body")" = yes ]
    # a PUT with status on the main endpoint "succeeds" and loses the status too
    obj=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["status"]={"ready":"put"}; print(json.dumps(d))' "$body")
    api_json PUT "$W/w1" "$obj"
    [ "$status_code" = 200 ]
    [ "$(jget 'd["status"]["ready"]' <<<"$body")" = yes ]

    # /status: status changes; spec, labels and annotations silently stay
    api_json PATCH "$W/w1/status" '{"metadata":{"labels":{"x":"y"}},"spec":{"replicas":9},"status":{"ready":"status"}}' application/merge-patch+json
    [ "$status_code" = 200 ]
    [ "$(jget 'd["status"]["ready"]' <<<"$body")" = status ]
    [ "$(jget 'd["spec"]["replicas"]' <<<"$body")" = 2 ]
    [ "$(jget 'd["metadata"].get("labels")' <<<"$body")" = None ]
    run k get widget w1 -o jsonpath='{.spec.replicas} {.status.ready} {.metadata.labels}'
    [ "$output" = "2 status " ]
    # kubectl patch --subresource=status works the same way
    k patch widget w1 --subresource=status --type=merge -p '{"status":{"ready":"kubectl"}}'
    run k get widget w1 -o jsonpath='{.status.ready}'
    [ "$output" = kubectl ]
    # a /status PUT without a status key removes it
    api_json GET "$W/w1/status"
    [ "$status_code" = 200 ]
    nostatus=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d.pop("status"); print(json.dumps(d))' "$body")
    api_json PUT "$W/w1/status" "$nostatus"
    [ "$status_code" = 200 ]
    [ "$(jget 'd.get("status")' <<<"$body")" = None ]
    [ "$(jget 'd["spec"]["replicas"]' <<<"$body")" = 2 ]
}

@test "status: without a status subresource /status is a 404 and status is an ordinary field" {
    cat <<'YAML' | k apply -f -
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
YAML
    k wait --for=condition=Established crd/gadgets.example.com --timeout=20s
    G=/apis/example.com/v1/namespaces/default/gadgets
    api_json POST "$G" '{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"g1"},"spec":{"a":1},"status":{"ok":true}}'
    [ "$status_code" = 201 ]
    [ "$(jget 'd["status"]["ok"]' <<<"$body")" = True ]
    [ "$(jget 'd["metadata"]["generation"]' <<<"$body")" = 1 ]
    api_json GET "$G/g1/status"
    [ "$status_code" = 404 ]
    api_json PATCH "$G/g1/status" '{"status":{"ok":false}}' application/merge-patch+json
    [ "$status_code" = 404 ]
    # status goes through the main endpoint, and counts as a change for generation
    api_json PATCH "$G/g1" '{"status":{"ok":false}}' application/merge-patch+json
    [ "$status_code" = 200 ]
    [ "$(jget 'd["status"]["ok"]' <<<"$body")" = False ]
    [ "$(jget 'd["metadata"]["generation"]' <<<"$body")" = 2 ]
}

@test "generation: same on label and /status changes, +1 on spec change and on delete with a finalizer" {
    install_widget_crd
    create_widget w1 1 '"finalizers":["example.com/hold"]'
    gen() { k get widget w1 -o jsonpath='{.metadata.generation}'; }
    [ "$(gen)" = 1 ]
    k label widget w1 a=b
    k annotate widget w1 note=x
    [ "$(gen)" = 1 ]
    k patch widget w1 --type=merge -p '{"spec":{"replicas":2}}'
    [ "$(gen)" = 2 ]
    k patch widget w1 --subresource=status --type=merge -p '{"status":{"ready":"yes"}}'
    [ "$(gen)" = 2 ]
    # a status write through the main endpoint is dropped and bumps nothing
    k patch widget w1 --type=merge -p '{"status":{"ready":"no"}}'
    [ "$(gen)" = 2 ]
    k patch widget w1 --type=merge -p '{"metadata":{"finalizers":["example.com/hold","example.com/two"]}}'
    [ "$(gen)" = 2 ]
    k delete widget w1 --wait=false
    run k get widget w1 -o jsonpath='{.metadata.generation} {.metadata.deletionTimestamp}'
    [[ "$output" =~ ^3\ 20[0-9-]+T ]]
    k patch widget w1 --type=merge -p '{"metadata":{"finalizers":null}}'
    wait_for bash -c "! kubectl get widget w1 2>/dev/null"
}

@test "generation: Deployments track it, Pods and ConfigMaps have none" {
    api_json POST /apis/apps/v1/namespaces/default/deployments '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d1"},"spec":{"selector":{"matchLabels":{"app":"d1"}},"template":{"metadata":{"labels":{"app":"d1"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}'
    [ "$status_code" = 201 ]
    [ "$(jget 'd["metadata"]["generation"]' <<<"$body")" = 1 ]
    k patch deployment d1 -p '{"spec":{"replicas":3}}'
    k label deployment d1 tier=web
    [ "$(k get deployment d1 -o jsonpath='{.metadata.generation}')" = 2 ]
    api_json POST "$CM" '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1"},"data":{"a":"1"}}'
    [ "$(jget '"generation" in d["metadata"]' <<<"$body")" = False ]
    api_json POST /api/v1/namespaces/default/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}'
    [ "$(jget '"generation" in d["metadata"]' <<<"$body")" = False ]
}

@test "pods/status: labels, annotations and status change, spec and ownerReferences stay" {
    api_json POST /api/v1/namespaces/default/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1","labels":{"app":"a"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}'
    [ "$status_code" = 201 ]
    uid=$(jget 'd["metadata"]["uid"]' <<<"$body")
    api_json PATCH /api/v1/namespaces/default/pods/p1/status '{"metadata":{"labels":{"seen":"yes"},"annotations":{"note":"x"},"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"c","uid":"'"$uid"'"}]},"spec":{"containers":[{"name":"c","image":"nginx"}]},"status":{"phase":"Running"}}' application/merge-patch+json
    [ "$status_code" = 200 ]
    run k get pod p1 -o jsonpath='{.status.phase} {.spec.containers[0].image} {.metadata.labels.app},{.metadata.labels.seen} {.metadata.annotations.note} [{.metadata.ownerReferences}]'
    [ "$output" = "Running busybox a,yes x []" ]
}

@test "kubectl wait --for=condition ignores a condition with a stale observedGeneration" {
    install_widget_crd
    create_widget w1 1
    k patch widget w1 --type=merge -p '{"spec":{"replicas":2}}'
    [ "$(k get widget w1 -o jsonpath='{.metadata.generation}')" = 2 ]
    k patch widget w1 --subresource=status --type=merge \
        -p '{"status":{"observedGeneration":1,"conditions":[{"type":"Ready","status":"True","observedGeneration":1}]}}'
    run k wait --for=condition=Ready widget/w1 --timeout=1s
    [ "$status" -ne 0 ]
    [[ "$output" == *"timed out"* ]]
    k patch widget w1 --subresource=status --type=merge \
        -p '{"status":{"observedGeneration":2,"conditions":[{"type":"Ready","status":"True","observedGeneration":2}]}}'
    run k wait --for=condition=Ready widget/w1 --timeout=10s
    [ "$status" -eq 0 ]
    [[ "$output" == *"condition met"* ]]
}

# ---------------------------------------------------------------------------------------------
# §3 traps: pruning, defaulting, number and time formats

@test "schema: unknown spec and status fields are pruned, defaults appear, also on /status and PUT" {
    install_widget_crd
    api_json POST "$W?fieldValidation=Ignore" '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"replicas":1,"bogus":"x","template":{"free":{"form":1}}}}'
    [ "$status_code" = 201 ]
    [ "$(jget 'sorted(d["spec"])' <<<"$body")" = '["mode", "replicas", "template"]' ]
    [ "$(jget 'd["spec"]["mode"]' <<<"$body")" = fast ]
    [ "$(jget 'd["spec"]["template"]' <<<"$body")" = '{"free": {"form": 1}}' ]
    api_json PATCH "$W/w1/status" '{"status":{"ready":"yes","unknownField":"gone"}}' application/merge-patch+json
    [ "$status_code" = 200 ]
    [ "$(jget 'd["status"]' <<<"$body")" = '{"ready": "yes"}' ]
    run k get widget w1 -o jsonpath='{.status}'
    [ "$output" = '{"ready":"yes"}' ]
    # a merge patch removing the defaulted field gets the default back
    api_json PATCH "$W/w1" '{"spec":{"mode":null,"extra":1}}' application/merge-patch+json
    [ "$status_code" = 200 ]
    [ "$(jget 'd["spec"]["mode"]' <<<"$body")" = fast ]
    [ "$(jget '"extra" in d["spec"]' <<<"$body")" = False ]
    # kubectl apply with Strict validation reports the unknown field instead
    run k apply -f - <<<'{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w2"},"spec":{"replicas":1,"bogus":"x"}}'
    [ "$status" -ne 0 ]
    [[ "$output" == *'unknown field "spec.bogus"'* ]]
}

@test "formats: integers stay JSON integers, floats stay floats, creationTimestamp has second precision" {
    install_widget_crd
    api_json POST "$W" '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"replicas":3,"template":{"big":1234567890123,"f":1.5,"whole":2.0,"neg":-7}}}'
    [ "$status_code" = 201 ]
    api GET "$W/w1" >"$BATS_TEST_TMPDIR/raw"
    grep -q '"replicas":3[,}]' "$BATS_TEST_TMPDIR/raw"
    grep -q '"big":1234567890123[,}]' "$BATS_TEST_TMPDIR/raw"
    grep -q '"f":1.5[,}]' "$BATS_TEST_TMPDIR/raw"
    grep -q '"neg":-7[,}]' "$BATS_TEST_TMPDIR/raw"
    # kubectl sees integers too (a float would print as 3.0 or fail the integer column)
    run k get widget w1 -o jsonpath='{.spec.replicas} {.spec.template.big} {.spec.template.neg}'
    [ "$output" = "3 1234567890123 -7" ]
    # after a patch and a status round trip they are still integers
    k patch widget w1 --type=merge -p '{"spec":{"replicas":4}}'
    k patch widget w1 --subresource=status --type=merge -p '{"status":{"observedGeneration":2}}'
    api GET "$W/w1" >"$BATS_TEST_TMPDIR/raw"
    grep -q '"replicas":4[,}]' "$BATS_TEST_TMPDIR/raw"
    grep -q '"observedGeneration":2[,}]' "$BATS_TEST_TMPDIR/raw"
    grep -q '"generation":2[,}]' "$BATS_TEST_TMPDIR/raw"
    grep -q '"big":1234567890123[,}]' "$BATS_TEST_TMPDIR/raw"
    # timestamps: RFC 3339, UTC, whole seconds, on objects and on managedFields
    ts=$(sed '$d' "$BATS_TEST_TMPDIR/raw" | jget 'd["metadata"]["creationTimestamp"]')
    [[ "$ts" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]
    sed '$d' "$BATS_TEST_TMPDIR/raw" | jget '[m["time"] for m in d["metadata"]["managedFields"]]' >"$BATS_TEST_TMPDIR/times"
    ! grep -qE '\.[0-9]' "$BATS_TEST_TMPDIR/times"
    # a user-supplied timestamp with fractions is replaced, not kept
    api_json POST "$CM" '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1","creationTimestamp":"2020-01-01T00:00:00.123456Z"}}'
    [ "$status_code" = 201 ]
    [[ "$(jget 'd["metadata"]["creationTimestamp"]' <<<"$body")" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]
}
