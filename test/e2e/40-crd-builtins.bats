#!/usr/bin/env bats
# CRDs and built-ins as a user sees them (kubernetes-api.md §2.8-§2.10, §1.3, §1.4): CRD create
# checks and establishment, pruning, fieldValidation, defaulting, schema validation, printer
# columns, several versions, server-side apply, leases, events and describe, pods and service
# accounts, discovery and OpenAPI, and an operator's RBAC-style manifests.

setup() {
    load helpers
    start_cluster --no-kubelet # these tests predate the kubelet: pods stay Pending
}
teardown() { teardown_cluster; }

W=/apis/example.com/v1/namespaces/default/widgets
CRDS=/apis/apiextensions.k8s.io/v1/customresourcedefinitions

# widget NAME SPEC-JSON [EXTRA-TOP-LEVEL]: a Widget as JSON.
widget() {
    printf '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"%s"},"spec":%s%s}' \
        "$1" "$2" "${3:+,$3}"
}

# crd_json NAME PLURAL STORAGE ROOT-TYPE: a minimal CRD of group example.com as JSON.
crd_json() {
    printf '{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"%s"},"spec":{"group":"example.com","scope":"Namespaced","names":{"plural":"%s","singular":"gadget","kind":"Gadget"},"versions":[{"name":"v1","served":true,"storage":%s,"schema":{"openAPIV3Schema":{"type":"%s"}}}]}}' \
        "$1" "$2" "$3" "$4"
}

# expect_invalid FIELD...: $body is a 422 Invalid Status whose causes name every FIELD.
expect_invalid() {
    [ "$status_code" = 422 ] || { echo "want 422, got $status_code: $body"; return 1; }
    [ "$(jget 'd["kind"]+"/"+d["reason"]' <<<"$body")" = Status/Invalid ] || { echo "$body"; return 1; }
    local f fields
    fields=$(jget '" ".join(c["field"] for c in d["details"]["causes"])' <<<"$body")
    for f in "$@"; do
        [[ " $fields " == *" $f "* ]] || { echo "no cause for $f in: $body"; return 1; }
    done
}

# ---------------------------------------------------------------------------------------------
# §2.8 CRD lifecycle

@test "crd: a CRD whose name is not <plural>.<group> is rejected with 422 on metadata.name" {
    run k apply -f - <<<"$(crd_json wrong.example.com gadgets true object)"
    [ "$status" -ne 0 ]
    [[ "$output" == *'is invalid'* ]]
    [[ "$output" == *'metadata.name'* ]]

    api_json POST "$CRDS" "$(crd_json wrong.example.com gadgets true object)"
    expect_invalid metadata.name
    [ "$(jget 'd["details"]["kind"]' <<<"$body")" = CustomResourceDefinition ]
    api_json GET "$CRDS/wrong.example.com"
    [ "$status_code" = 404 ]
}

@test "crd: a CRD with no storage version is rejected with 422 on spec.versions" {
    api_json POST "$CRDS" "$(crd_json gadgets.example.com gadgets false object)"
    expect_invalid spec.versions
    [[ "$(jget 'd["message"]' <<<"$body")" == *'must have exactly one version marked as storage version'* ]]
    api_json GET "$CRDS/gadgets.example.com"
    [ "$status_code" = 404 ]
}

@test "crd: a CRD whose schema root is not an object is rejected with 422" {
    api_json POST "$CRDS" "$(crd_json gadgets.example.com gadgets true string)"
    expect_invalid spec.versions[0].schema.openAPIV3Schema.type
    api_json GET "$CRDS/gadgets.example.com"
    [ "$status_code" = 404 ]
}

@test "crd: kubectl wait --for=condition=Established succeeds and the status is filled in" {
    widget_crd | k apply -f -
    run k wait --for=condition=Established crd/widgets.example.com --timeout=20s
    [ "$status" -eq 0 ]
    [[ "$output" == *'condition met'* ]]

    crd=$(k get crd widgets.example.com -o json)
    [ "$(jget '[c["status"] for c in d["status"]["conditions"] if c["type"]=="NamesAccepted"][0]' <<<"$crd")" = True ]
    [ "$(jget 'd["status"]["acceptedNames"]["kind"]' <<<"$crd")" = Widget ]
    [ "$(jget 'd["status"]["acceptedNames"]["plural"]' <<<"$crd")" = widgets ]
    [ "$(jget 'd["status"]["storedVersions"]' <<<"$crd")" = '["v1"]' ]
}

@test "crd: custom resource endpoints answer 404 with empty details before the CRD exists" {
    api_json GET "$W"
    [ "$status_code" = 404 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = NotFound ]
    [ "$(jget 'd["message"]' <<<"$body")" = 'the server could not find the requested resource' ]
    [ "$(jget 'd["details"]' <<<"$body")" = '{}' ]
    api_json POST "$W" "$(widget w1 '{"replicas":1}')"
    [ "$status_code" = 404 ]
    [ "$(jget 'd["details"]' <<<"$body")" = '{}' ]
    run k get widgets
    [ "$status" -ne 0 ]
    [[ "$output" == *'the server doesn'\''t have a resource type "widgets"'* ]]

    install_widget_crd
    api_json GET "$W"
    [ "$status_code" = 200 ]
    [ "$(jget 'd["items"]' <<<"$body")" = '[]' ]
    run k get widgets
    [ "$status" -eq 0 ]
}

# ---------------------------------------------------------------------------------------------
# §2.8 pruning, fieldValidation, defaulting

@test "crd: status.unknownField is pruned on write, through the main endpoint and /status" {
    install_widget_crd
    api_json POST "$W" "$(widget w1 '{"replicas":1}')"
    [ "$status_code" = 201 ]
    obj=$(k get widget w1 -o json)
    obj=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["status"]={"ready":"yes","unknownField":"x"}; print(json.dumps(d))' "$obj")
    api_json PUT "$W/w1/status" "$obj"
    [ "$status_code" = 200 ]
    [ "$(jget 'd["status"]' <<<"$body")" = '{"ready": "yes"}' ]

    run k get widget w1 -o jsonpath='{.status}'
    [ "$status" -eq 0 ]
    [[ "$output" == *'"ready":"yes"'* ]]
    [[ "$output" != *unknownField* ]]

    k patch widget w1 --subresource=status --type=merge -p '{"status":{"unknownField":"again","ready":"no"}}'
    api_json GET "$W/w1"
    [ "$(jget 'd["status"]' <<<"$body")" = '{"ready": "no"}' ]
}

@test "crd: fieldValidation=Strict rejects an unknown field with 400; the default Warn warns" {
    install_widget_crd
    api_json POST "$W?fieldValidation=Strict" "$(widget w1 '{"replicas":1,"bogus":1}')"
    [ "$status_code" = 400 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = BadRequest ]
    [ "$(jget 'd["message"]' <<<"$body")" = 'Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.bogus"' ]
    api_json GET "$W/w1"
    [ "$status_code" = 404 ]

    # kubectl apply sends Strict by default ...
    manifest='{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1","namespace":"default"},"spec":{"replicas":1,"bogus":1}}'
    run k apply -f - <<<"$manifest"
    [ "$status" -ne 0 ]
    [[ "$output" == *'strict decoding error: unknown field "spec.bogus"'* ]]

    # ... and with --validate=warn the server prunes the field and kubectl prints its Warning.
    run k apply --validate=warn -f - <<<"$manifest"
    [ "$status" -eq 0 ]
    [[ "$output" == *'Warning: unknown field "spec.bogus"'* ]]
    [[ "$output" == *'widget.example.com/w1 created'* ]]
    [ "$(k get widget w1 -o jsonpath='{.spec}')" = '{"mode":"fast","replicas":1}' ]

    # a raw request without fieldValidation gets the Warning header too
    hdrs=$(curl -sS -D - -o /dev/null -X POST -H 'Content-Type: application/json' \
        --data-binary "$(widget w2 '{"replicas":1,"bogus":1}')" "$LC_URL$W" | tr -d '\r')
    [[ "$hdrs" == *'HTTP/1.1 201'* ]]
    grep -qi '^Warning: 299 - "unknown field \\"spec.bogus\\""' <<<"$hdrs"
}

@test "crd: defaults appear (spec.mode fast) only where the parent object exists" {
    install_widget_crd
    k apply -f - <<'YAML'
apiVersion: example.com/v1
kind: Widget
metadata: {name: plain, namespace: default}
spec: {replicas: 2}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: slow, namespace: default}
spec: {replicas: 2, mode: slow}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: nospec, namespace: default}
YAML
    [ "$(k get widget plain -o jsonpath='{.spec.mode}')" = fast ]
    [ "$(k get widget slow -o jsonpath='{.spec.mode}')" = slow ]
    api_json GET "$W/nospec"
    [ "$status_code" = 200 ]
    [ "$(jget '"spec" in d' <<<"$body")" = False ]

    # a null on a defaulted field is pruned, then defaulted
    api_json POST "$W" "$(widget nulled '{"replicas":1,"mode":null}')"
    [ "$status_code" = 201 ]
    [ "$(jget 'd["spec"]["mode"]' <<<"$body")" = fast ]
}

# ---------------------------------------------------------------------------------------------
# §2.8 validation

@test "crd: each schema violation is a 422 whose cause names the field" {
    install_widget_crd
    # name | spec | field | cause reason
    while IFS='|' read -r name spec field reason; do
        api_json POST "$W" "$(widget "$name" "$spec")"
        [ "$status_code" = 422 ] || { echo "$name: $status_code $body"; false; }
        got=$(jget '(lambda c, m: " | ".join([d["reason"], d["details"]["kind"], d["details"]["group"], d["details"]["name"], str(len(d["details"]["causes"])), c["field"], c["reason"], m[0] + ": " + m[1]]))(d["details"]["causes"][0], d["message"].split(": "))' <<<"$body") ||
            { echo "$name: $body"; false; }
        want="Invalid | Widget | example.com | $name | 1 | $field | $reason | Widget.example.com \"$name\" is invalid: $field"
        [ "$got" = "$want" ] || { echo "$name: got '$got'"; echo "want '$want'"; false; }
    done <<'CASES'
type|{"replicas":"three"}|spec.replicas|FieldValueTypeInvalid
required|{"mode":"fast"}|spec.replicas|FieldValueRequired
enum|{"replicas":1,"mode":"medium"}|spec.mode|FieldValueNotSupported
minimum|{"replicas":-1}|spec.replicas|FieldValueInvalid
maximum|{"replicas":101}|spec.replicas|FieldValueInvalid
pattern|{"replicas":1,"name":"ABC"}|spec.name|FieldValueInvalid
maxlength|{"replicas":1,"name":"abcdefghijk"}|spec.name|FieldValueTooLong
set|{"replicas":1,"tags":["a","b","a"]}|spec.tags[2]|FieldValueDuplicate
CASES

    # kubectl shows the same error
    run k apply -f - <<'YAML'
apiVersion: example.com/v1
kind: Widget
metadata: {name: viakubectl, namespace: default}
spec: {replicas: 1, mode: medium}
YAML
    [ "$status" -ne 0 ]
    [[ "$output" == *'The Widget "viakubectl" is invalid: spec.mode: Unsupported value: "medium": supported values: "fast", "slow"'* ]]
}

@test "crd: several schema problems come back as several causes in one Status" {
    install_widget_crd
    api_json POST "$W" "$(widget bad '{"replicas":-1,"mode":"medium","name":"ABC"}')"
    expect_invalid spec.replicas spec.mode spec.name
    [ "$(jget 'len(d["details"]["causes"])' <<<"$body")" = 3 ]
    msg=$(jget 'd["message"]' <<<"$body")
    [[ "$msg" == 'Widget.example.com "bad" is invalid: ['* ]]
    [[ "$msg" == *'spec.mode: Unsupported value: "medium"'* ]]
    [[ "$msg" == *'spec.replicas: Invalid value: -1'* ]]

    # updates are validated as well
    api_json POST "$W" "$(widget good '{"replicas":1}')"
    [ "$status_code" = 201 ]
    run k patch widget good --type=merge -p '{"spec":{"replicas":500,"mode":"medium"}}'
    [ "$status" -ne 0 ]
    [[ "$output" == *'The Widget "good" is invalid:'* ]]
    [[ "$output" == *'* spec.mode: Unsupported value: "medium"'* ]]
    [[ "$output" == *'* spec.replicas: Invalid value: 500'* ]]
    [ "$(k get widget good -o jsonpath='{.spec.replicas}')" = 1 ]
}

@test "crd: unknown metadata fields such as metadata.foo are dropped" {
    install_widget_crd
    api_json POST "$W" '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1","foo":"bar","labels":{"a":"b"}},"spec":{"replicas":1}}'
    [ "$status_code" = 201 ]
    [ "$(jget '"foo" in d["metadata"]' <<<"$body")" = False ]
    api_json GET "$W/w1"
    [ "$(jget '"foo" in d["metadata"]' <<<"$body")" = False ]
    [ "$(jget 'd["metadata"]["labels"]' <<<"$body")" = '{"a": "b"}' ]
}

# ---------------------------------------------------------------------------------------------
# §2.8 printer columns and versions

@test "crd: kubectl get shows the printer columns; -o wide adds the priority-1 ones" {
    install_widget_crd
    k apply -f - <<'YAML'
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: default}
spec: {replicas: 3, mode: slow}
YAML
    k patch widget w1 --subresource=status --type=merge -p '{"status":{"ready":"yes"}}'

    run k get widgets
    [ "$status" -eq 0 ]
    read -ra head <<<"${lines[0]}"
    [ "${head[*]}" = "NAME REPLICAS MODE AGE" ]
    read -ra row <<<"${lines[1]}"
    [ "${row[0]} ${row[1]} ${row[2]}" = "w1 3 slow" ]
    [[ "${row[3]}" =~ ^[0-9]+s$ ]]

    run k get widgets -o wide
    [ "$status" -eq 0 ]
    read -ra head <<<"${lines[0]}"
    [ "${head[*]}" = "NAME REPLICAS MODE READY AGE" ]
    read -ra row <<<"${lines[1]}"
    [ "${row[0]} ${row[1]} ${row[2]} ${row[3]}" = "w1 3 slow yes" ]

    # short name and category work as well
    run k get wg
    [[ "${lines[1]}" == w1* ]]
    run k get all
    [[ "$output" == *'widget.example.com/w1'* ]]
}

@test "crd: with two versions (conversion None) an object reads through either one" {
    k apply -f - <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  conversion: {strategy: None}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}}}}
  - name: v2
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}}}}
YAML
    k wait --for=condition=Established crd/gadgets.example.com --timeout=20s
    k apply -f - <<'YAML'
apiVersion: example.com/v2
kind: Gadget
metadata: {name: g1, namespace: default}
spec: {size: 4}
YAML
    [ "$(k get gadgets.v1.example.com g1 -o jsonpath='{.apiVersion} {.spec.size}')" = 'example.com/v1 4' ]
    [ "$(k get gadgets.v2.example.com g1 -o jsonpath='{.apiVersion} {.spec.size}')" = 'example.com/v2 4' ]

    api_json GET /apis/example.com/v1/namespaces/default/gadgets
    [ "$(jget '[d["apiVersion"], d["kind"], d["items"][0]["apiVersion"]]' <<<"$body")" = '["example.com/v1", "GadgetList", "example.com/v1"]' ]
    api_json GET /apis/example.com/v2/namespaces/default/gadgets
    [ "$(jget '[d["apiVersion"], d["kind"], d["items"][0]["apiVersion"]]' <<<"$body")" = '["example.com/v2", "GadgetList", "example.com/v2"]' ]
    uid=$(jget 'd["items"][0]["metadata"]["uid"]' <<<"$body")

    # a write through v1 is seen through v2; both versions are one object
    k patch gadgets.v1.example.com g1 --type=merge -p '{"spec":{"size":5}}'
    api_json GET /apis/example.com/v2/namespaces/default/gadgets/g1
    [ "$(jget 'd["apiVersion"]+" "+str(d["spec"]["size"])+" "+d["metadata"]["uid"]' <<<"$body")" = "example.com/v2 5 $uid" ]
    [ "$(k get crd gadgets.example.com -o jsonpath='{.status.storedVersions}')" = '["v1"]' ]
}

# ---------------------------------------------------------------------------------------------
# §2.9 server-side apply

@test "ssa: an apply patch without fieldManager is rejected; with one it creates and records Apply" {
    install_widget_crd
    api_json PATCH "$W/w1" "$(widget w1 '{"replicas":1}')" application/apply-patch+yaml
    [ "$status_code" = 422 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = Invalid ]
    [ "$(jget 'd["message"]' <<<"$body")" = 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch' ]
    [ "$(jget 'd["details"]["causes"][0]["field"]' <<<"$body")" = fieldManager ]
    api_json GET "$W/w1"
    [ "$status_code" = 404 ]

    api_json PATCH "$W/w1?fieldManager=operator" "$(widget w1 '{"replicas":1}')" application/apply-patch+yaml
    [ "$status_code" = 201 ]
    mf=$(jget 'd["metadata"]["managedFields"]' <<<"$body")
    [ "$(jget 'len(d)' <<<"$mf")" = 1 ]
    [ "$(jget 'd[0]["manager"]+" "+d[0]["operation"]+" "+d[0]["apiVersion"]' <<<"$mf")" = 'operator Apply example.com/v1' ]
    [ "$(jget '"f:replicas" in d[0]["fieldsV1"]["f:spec"]' <<<"$mf")" = True ]

    # an ordinary update by another manager adds its own Update entry beside the Apply one
    k patch widget w1 --type=merge -p '{"spec":{"mode":"slow"}}'
    mf=$(k get widget w1 -o jsonpath='{.metadata.managedFields}' --show-managed-fields)
    [ "$(jget '",".join(sorted(e["manager"]+":"+e["operation"] for e in d))' <<<"$mf")" = 'kubectl-patch:Update,operator:Apply' ]
}

@test "ssa: kubectl apply --server-side twice creates (201), then changes nothing (200)" {
    install_widget_crd
    cat >"$BATS_TEST_TMPDIR/w1.yaml" <<'YAML'
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: default}
spec: {replicas: 2}
YAML
    run k apply --server-side -f "$BATS_TEST_TMPDIR/w1.yaml" -v6
    [ "$status" -eq 0 ]
    [[ "$output" == *'widget.example.com/w1 serverside-applied'* ]]
    grep -E 'PATCH .*/widgets/w1\?fieldManager=kubectl.* 201 Created' <<<"$output"
    rv=$(k get widget w1 -o jsonpath='{.metadata.resourceVersion}')
    mf=$(k get widget w1 -o jsonpath='{.metadata.managedFields}' --show-managed-fields)
    [ "$(jget '[(e["manager"], e["operation"]) for e in d]' <<<"$mf")" = '[["kubectl", "Apply"]]' ]

    run k apply --server-side -f "$BATS_TEST_TMPDIR/w1.yaml" -v6
    [ "$status" -eq 0 ]
    grep -E 'PATCH .*/widgets/w1\?fieldManager=kubectl.* 200 OK' <<<"$output"
    [ "$(k get widget w1 -o jsonpath='{.metadata.resourceVersion}')" = "$rv" ]

    sed -i 's/replicas: 2/replicas: 4/' "$BATS_TEST_TMPDIR/w1.yaml"
    k apply --server-side -f "$BATS_TEST_TMPDIR/w1.yaml"
    [ "$(k get widget w1 -o jsonpath='{.spec.replicas} {.spec.mode} {.metadata.generation}')" = '4 fast 2' ]
}

# ---------------------------------------------------------------------------------------------
# §2.10 leases, events, pods, service accounts

@test "lease: renewTime must be a MicroTime with six fractional digits" {
    L=/apis/coordination.k8s.io/v1/namespaces/default/leases
    api_json POST "$L" '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"l1"},"spec":{"holderIdentity":"a","leaseDurationSeconds":15,"renewTime":"2024-01-01T00:00:00Z"}}'
    [ "$status_code" = 400 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = BadRequest ]
    [[ "$(jget 'd["message"]' <<<"$body")" == 'Lease in version "v1" cannot be handled as a Lease: '* ]]
    api_json GET "$L/l1"
    [ "$status_code" = 404 ]

    api_json POST "$L" '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"l1"},"spec":{"holderIdentity":"a","leaseDurationSeconds":15,"renewTime":"2024-01-01T00:00:00.000000Z"}}'
    [ "$status_code" = 201 ]
    [ "$(k get lease l1 -o jsonpath='{.spec.holderIdentity} {.spec.renewTime}')" = 'a 2024-01-01T00:00:00.000000Z' ]
}

@test "event: an Event whose namespace differs from involvedObject.namespace is rejected with 422" {
    api_json POST /api/v1/namespaces/default/events '{"apiVersion":"v1","kind":"Event","metadata":{"name":"e1"},"involvedObject":{"kind":"Widget","namespace":"other","name":"w1"},"reason":"Scaled","message":"m","type":"Normal"}'
    expect_invalid involvedObject.namespace
    [ "$(jget 'd["details"]["kind"]' <<<"$body")" = Event ]
    api_json GET /api/v1/namespaces/default/events/e1
    [ "$status_code" = 404 ]
}

@test "event: kubectl describe widget lists the events recorded for it" {
    install_widget_crd
    k apply -f - <<'YAML'
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: default}
spec: {replicas: 3}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w2, namespace: default}
spec: {replicas: 1}
YAML
    for w in w1 w2; do
        uid=$(k get widget $w -o jsonpath='{.metadata.uid}')
        k apply -f - <<YAML
apiVersion: v1
kind: Event
metadata: {name: $w.scaled, namespace: default}
involvedObject: {apiVersion: example.com/v1, kind: Widget, name: $w, namespace: default, uid: $uid}
reason: Scaled
message: scaled $w to its replicas
type: Normal
source: {component: widget-operator}
firstTimestamp: "2024-01-01T00:00:00Z"
lastTimestamp: "2024-01-01T00:00:00Z"
count: 1
YAML
    done
    run k describe widget w1
    [ "$status" -eq 0 ]
    [[ "$output" == *'Replicas:  3'* ]]
    ev=$(grep -A3 '^Events:' <<<"$output")
    [[ "$ev" == *'Normal  Scaled'* ]]
    [[ "$ev" == *'widget-operator  scaled w1 to its replicas'* ]]
    [[ "$ev" != *'scaled w2'* ]]
}

@test "pod: pods stay Pending without a kubelet" {
    k apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: p1, namespace: default}
spec:
  containers: [{name: c, image: busybox}]
YAML
    [ "$(k get pod p1 -o jsonpath='{.status.phase}|{.spec.nodeName}|{.spec.serviceAccountName}')" = 'Pending||default' ]
    run k wait --for=condition=Ready pod/p1 --timeout=1s
    [ "$status" -ne 0 ]
    [ "$(k get pod p1 -o jsonpath='{.status.phase}')" = Pending ]
    run k get pods
    [[ "${lines[1]}" =~ ^p1\ +0/1\ +Pending ]]
}

@test "pod: a pod naming a missing ServiceAccount is forbidden (403) until the account exists" {
    pod='{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1"},"spec":{"serviceAccountName":"robot","containers":[{"name":"c","image":"busybox"}]}}'
    api_json POST /api/v1/namespaces/default/pods "$pod"
    [ "$status_code" = 403 ]
    [ "$(jget 'd["reason"]' <<<"$body")" = Forbidden ]
    [[ "$(jget 'd["message"]' <<<"$body")" == 'pods "p1" is forbidden: '*'serviceaccount "robot" not found'* ]]

    api_json POST /api/v1/namespaces/default/serviceaccounts '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"robot"}}'
    [ "$status_code" = 201 ]
    api_json POST /api/v1/namespaces/default/pods "$pod"
    [ "$status_code" = 201 ]

    # a brand-new namespace gets its default ServiceAccount, and then takes pods
    k apply -f - <<<'{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fresh"}}'
    wait_for k get serviceaccount default -n fresh
    k apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: p2, namespace: fresh}
spec:
  containers: [{name: c, image: busybox}]
YAML
    [ "$(k get pod p2 -n fresh -o jsonpath='{.spec.serviceAccountName}')" = default ]
}

# ---------------------------------------------------------------------------------------------
# §1.3 discovery, §1.4 OpenAPI

@test "discovery: kubectl api-resources lists widgets with short name wg" {
    install_widget_crd
    run k api-resources --api-group=example.com
    [ "$status" -eq 0 ]
    read -ra row <<<"${lines[1]}"
    [ "${row[*]}" = "widgets wg example.com/v1 true Widget" ]
    run k api-resources -o name
    [[ "$output" == *$'\nwidgets.example.com\n'* || "$output" == *$'\nwidgets.example.com' ]]
    run k api-resources --namespaced=false -o name
    [[ "$output" != *widgets* ]]
    [[ "$output" == *customresourcedefinitions.apiextensions.k8s.io* ]]
}

@test "discovery: legacy /api/v1 and /apis/example.com/v1 resource lists include subresources" {
    install_widget_crd
    api_json GET /api/v1
    [ "$status_code" = 200 ]
    [ "$(jget 'd["kind"]+" "+d["groupVersion"]' <<<"$body")" = 'APIResourceList v1' ]
    [ "$(jget '[r["verbs"] for r in d["resources"] if r["name"]=="pods/status"][0]' <<<"$body")" = '["get", "patch", "update"]' ]
    [ "$(jget '[r["namespaced"] for r in d["resources"] if r["name"]=="namespaces"][0]' <<<"$body")" = False ]

    api_json GET /apis/example.com/v1
    [ "$status_code" = 200 ]
    [ "$(jget 'd["kind"]+" "+d["groupVersion"]' <<<"$body")" = 'APIResourceList example.com/v1' ]
    # the widgets entry and its status subresource, as kubectl reads them
    [ "$(jget '[[r["name"], r["kind"], r["singularName"], r["namespaced"], r.get("shortNames"), r.get("categories"), sorted(r["verbs"])] for r in d["resources"]]' <<<"$body")" = \
        '[["widgets", "Widget", "widget", true, ["wg"], ["all"], ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]], ["widgets/status", "Widget", "", true, null, null, ["get", "patch", "update"]]]' ]

    api_json GET /apis
    [ "$(jget '[g["preferredVersion"]["groupVersion"] for g in d["groups"] if g["name"]=="example.com"]' <<<"$body")" = '["example.com/v1"]' ]
    api_json GET /apis/example.com
    [ "$(jget 'd["kind"]+" "+d["name"]' <<<"$body")" = 'APIGroup example.com' ]
}

@test "discovery: aggregated discovery only with the as=APIGroupDiscoveryList Accept" {
    install_widget_crd
    agg='application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json'
    for p in /api /apis; do
        hdrs=$(curl -sS -D - -o "$BATS_TEST_TMPDIR/agg.json" -H "Accept: $agg" "$LC_URL$p" | tr -d '\r')
        grep -qi '^Content-Type: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' <<<"$hdrs"
        [ "$(jget 'd["kind"]+" "+d["apiVersion"]' <"$BATS_TEST_TMPDIR/agg.json")" = 'APIGroupDiscoveryList apidiscovery.k8s.io/v2' ]

        hdrs=$(curl -sS -D - -o "$BATS_TEST_TMPDIR/plain.json" -H 'Accept: application/json' "$LC_URL$p" | tr -d '\r')
        grep -qi '^Content-Type: application/json$' <<<"$hdrs"
        [[ "$(jget 'd["kind"]' <"$BATS_TEST_TMPDIR/plain.json")" == API*  ]]
        [ "$(jget 'd["kind"]' <"$BATS_TEST_TMPDIR/plain.json")" != APIGroupDiscoveryList ]
    done

    curl -sS -o "$BATS_TEST_TMPDIR/agg.json" -H "Accept: $agg" "$LC_URL/apis"
    w=$(jget '[r for g in d["items"] if g["metadata"]["name"]=="example.com" for v in g["versions"] if v["version"]=="v1" for r in v["resources"] if r["resource"]=="widgets"][0]' <"$BATS_TEST_TMPDIR/agg.json")
    [ "$(jget 'd["responseKind"]["kind"]+" "+d["scope"]+" "+d["singularResource"]' <<<"$w")" = 'Widget Namespaced widget' ]
    [ "$(jget 'd["shortNames"]' <<<"$w")" = '["wg"]' ]
    [ "$(jget '[s["subresource"] for s in d["subresources"]]' <<<"$w")" = '["status"]' ]
    curl -sS -o "$BATS_TEST_TMPDIR/agg.json" -H "Accept: $agg" "$LC_URL/api"
    [ "$(jget '[g["metadata"]["name"] for g in d["items"]]' <<<"$(cat "$BATS_TEST_TMPDIR/agg.json")")" = '[""]' ]
}

@test "openapi: the /openapi/v3 hash of a group-version changes when the CRD schema changes" {
    install_widget_crd
    url1=$(curl -sS "$LC_URL/openapi/v3" | jget 'd["paths"]["apis/example.com/v1"]["serverRelativeURL"]')
    [[ "$url1" == /openapi/v3/apis/example.com/v1\?hash=* ]]
    doc1=$(curl -sS "$LC_URL$url1")
    [ "$(jget '[p["patch"]["x-kubernetes-group-version-kind"]["kind"] for p in d["paths"].values() if "patch" in p]' <<<"$doc1" | grep -c Widget)" -ge 1 ]
    # unchanged schema, unchanged URL
    [ "$(curl -sS "$LC_URL/openapi/v3" | jget 'd["paths"]["apis/example.com/v1"]["serverRelativeURL"]')" = "$url1" ]

    widget_crd | sed 's/maximum: 100/maximum: 50/' | k apply -f -
    wait_for test "$(curl -sS "$LC_URL/openapi/v3" | jget 'd["paths"]["apis/example.com/v1"]["serverRelativeURL"]')" != "$url1"
    url2=$(curl -sS "$LC_URL/openapi/v3" | jget 'd["paths"]["apis/example.com/v1"]["serverRelativeURL"]')
    [ "$url2" != "$url1" ]
    curl -sS "$LC_URL$url2" | grep -q '"maximum": *50'

    # and the new schema is enforced
    api_json POST "$W" "$(widget w1 '{"replicas":60}')"
    expect_invalid spec.replicas
}

# ---------------------------------------------------------------------------------------------
# The operator's RBAC-style manifests

@test "manifests: RBAC objects, a ServiceAccount and a Deployment apply, then re-apply unchanged" {
    cat >"$BATS_TEST_TMPDIR/manager.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata:
  name: sandbox-system
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: controller-manager
  namespace: sandbox-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: manager-role
rules:
- apiGroups: [sandbox.opensandbox.io]
  resources: [pools, batchsandboxes]
  verbs: [create, delete, get, list, patch, update, watch]
- apiGroups: [sandbox.opensandbox.io]
  resources: [pools/status, batchsandboxes/status]
  verbs: [get, patch, update]
- apiGroups: [""]
  resources: [pods, events]
  verbs: [create, delete, get, list, patch, update, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: manager-rolebinding
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: manager-role
subjects:
- kind: ServiceAccount
  name: controller-manager
  namespace: sandbox-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: leader-election-role
  namespace: sandbox-system
rules:
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: leader-election-rolebinding
  namespace: sandbox-system
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: leader-election-role
subjects:
- kind: ServiceAccount
  name: controller-manager
  namespace: sandbox-system
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: controller-manager
  namespace: sandbox-system
  labels:
    control-plane: controller-manager
spec:
  replicas: 1
  selector:
    matchLabels:
      control-plane: controller-manager
  template:
    metadata:
      labels:
        control-plane: controller-manager
    spec:
      serviceAccountName: controller-manager
      terminationGracePeriodSeconds: 10
      containers:
      - name: manager
        image: controller:latest
        args: [--leader-elect]
        ports:
        - containerPort: 8081
          name: health
          protocol: TCP
        resources:
          limits: {cpu: 500m, memory: 128Mi}
          requests: {cpu: 10m, memory: 64Mi}
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
YAML
    run k apply -f "$BATS_TEST_TMPDIR/manager.yaml"
    [ "$status" -eq 0 ]
    [ "$(grep -c ' created$' <<<"$output")" = 7 ]
    [[ "$output" == *'clusterrole.rbac.authorization.k8s.io/manager-role created'* ]]
    [[ "$output" == *'rolebinding.rbac.authorization.k8s.io/leader-election-rolebinding created'* ]]
    [[ "$output" == *'deployment.apps/controller-manager created'* ]]

    run k apply -f "$BATS_TEST_TMPDIR/manager.yaml"
    [ "$status" -eq 0 ]
    [ "$(grep -c ' unchanged$' <<<"$output")" = 7 ]

    [ "$(k get clusterrole manager-role -o jsonpath='{.rules[1].resources}')" = '["pools/status","batchsandboxes/status"]' ]
    [ "$(k get rolebinding leader-election-rolebinding -n sandbox-system -o jsonpath='{.roleRef.kind}/{.roleRef.name} {.subjects[0].name}')" = 'Role/leader-election-role controller-manager' ]
    [ "$(k get deploy controller-manager -n sandbox-system -o jsonpath='{.spec.template.spec.serviceAccountName}')" = controller-manager ]

    # a change to one object re-applies just that one
    sed -i 's/replicas: 1/replicas: 2/' "$BATS_TEST_TMPDIR/manager.yaml"
    run k apply -f "$BATS_TEST_TMPDIR/manager.yaml"
    [ "$status" -eq 0 ]
    [[ "$output" == *'deployment.apps/controller-manager configured'* ]]
    [ "$(grep -c ' unchanged$' <<<"$output")" = 6 ]
}
