#!/usr/bin/env bats
# Deletion, finalizers, garbage collection, namespaces and CRD termination (spec §2.5); lists,
# selectors and pagination (§2.6); watches (§2.7); and the §3 traps they expose.

setup() {
    load helpers
    start_cluster --no-kubelet # these tests predate the kubelet: pods stay Pending
}

teardown() {
    teardown_cluster
}

# ---------------------------------------------------------------------------------------------
# Local helpers

CM=/api/v1/namespaces/default/configmaps
WG=/apis/example.com/v1/namespaces/default/widgets

# watch_to FILE PATH [curl args...]: a raw watch in the background, its events written to FILE.
watch_to() {
    local out=$1 path=$2
    shift 2
    : >"$out"
    curl -sSN "$LC_URL$path" "$@" >"$out" 2>"$out.err" &
    BG_PIDS="${BG_PIDS:-} $!"
}

# events FILE: one line "TYPE NAME" per watch event received so far.
events() {
    python3 -S - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    e = json.loads(line)
    print(e["type"], e["object"].get("metadata", {}).get("name", ""))
PY
}

# has_events FILE TYPE N: FILE holds at least N events of TYPE (cheap enough to poll).
has_events() { [ "$(grep -cE "^\{\"type\": ?\"$2\"" "$1")" -ge "$3" ]; }

# jx EXPR: python3 over the JSON d like jget, but it starts faster (no site-packages), and a
# tuple prints as its space-separated fields, so one call checks several: jx 'd["a"], d["b"]'.
jx() {
    python3 -S -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
s = lambda x: json.dumps(x) if isinstance(x, (dict, list, type(None), bool)) else str(x)
print(" ".join(s(x) for x in v) if isinstance(v, tuple) else s(v))' "$1"
}

# list_rv PATH: the resourceVersion of a list.
list_rv() { curl -sS "$LC_URL$1" | jx 'd["metadata"]["resourceVersion"]'; }

# gone PATH: a GET of PATH answers 404.
gone() { [ "$(curl -sS -o /dev/null -w '%{http_code}' "$LC_URL$1")" = 404 ]; }

# deleting PATH: the object at PATH exists and has a deletionTimestamp.
deleting() { curl -sSf "$LC_URL$1" | grep -q '"deletionTimestamp"'; }

# not_owned PATH: the object at PATH exists and has no ownerReferences.
not_owned() {
    local o
    o=$(curl -sSf "$LC_URL$1") && [[ "$o" != *'"ownerReferences"'* ]]
}

# configmap NAME [KEY=VALUE...]: YAML for a ConfigMap in default with those labels.
configmap() {
    local name=$1 l
    shift
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n' "$name"
    [ $# -eq 0 ] || printf '  labels:\n'
    for l in "$@"; do printf '    %s: "%s"\n' "${l%%=*}" "${l#*=}"; done
    printf 'data:\n  k: v\n---\n'
}

# widget NAME [finalizer]: YAML for a Widget in default.
widget() {
    printf 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: %s\n' "$1"
    [ -z "${2:-}" ] || printf '  finalizers: [%s]\n' "$2"
    printf 'spec:\n  replicas: 1\n---\n'
}

# uid_of [kubectl get args]: the object's uid.
uid_of() { k get "$@" -o jsonpath='{.metadata.uid}'; }

# dependent NAME OWNER_KIND OWNER_NAME OWNER_UID [blockOwnerDeletion] [finalizer]: a ConfigMap
# owned by that owner.
dependent() {
    cat <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: $1
  ownerReferences:
  - apiVersion: example.com/v1
    kind: $2
    name: $3
    uid: $4
    blockOwnerDeletion: ${5:-false}
YAML
    [ -z "${6:-}" ] || printf '  finalizers: [%s]\n' "$6"
    printf 'data:\n  k: v\n---\n'
}

wait_default_sa() { wait_for k get serviceaccount default; }

# ---------------------------------------------------------------------------------------------
# §2.5 Delete, finalizers, namespaces and garbage collection

@test "deleting a widget or configmap answers a Status; a pod or namespace answers the object" {
    install_widget_crd
    widget w1 | k apply -f -
    configmap c1 | k apply -f -
    wait_default_sa
    k apply -f - <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: doomed}
---
apiVersion: v1
kind: Pod
metadata: {name: p1}
spec:
  containers: [{name: c, image: busybox}]
YAML
    uid=$(uid_of widget w1)

    api_json DELETE "$WG/w1"
    [ "$status_code" = 200 ]
    [ "$(jx 'd["kind"], d["status"], d["details"]["kind"], d["details"]["group"], d["details"]["name"], d["details"]["uid"]' <<<"$body")" = \
        "Status Success widgets example.com w1 $uid" ]

    api_json DELETE "$CM/c1"
    [ "$status_code" = 200 ]
    [ "$(jx 'd["kind"], d["details"]["kind"], d["details"]["name"]' <<<"$body")" = "Status configmaps c1" ]

    api_json DELETE /api/v1/namespaces/default/pods/p1
    [ "$status_code" = 200 ]
    [ "$(jx 'd["kind"], d["metadata"]["name"]' <<<"$body")" = "Pod p1" ]

    api_json DELETE /api/v1/namespaces/doomed
    [ "$status_code" = 200 ]
    [ "$(jx 'd["kind"], d["metadata"]["name"], d["status"]["phase"]' <<<"$body")" = "Namespace doomed Terminating" ]
}

@test "a finalizer holds a deleted widget: MODIFIED with deletionTimestamp, DELETED once removed" {
    install_widget_crd
    widget w1 example.com/hold | k apply -f -
    rv=$(list_rv "$WG")
    watch_to "$BATS_TEST_TMPDIR/w" "$WG?watch=1&resourceVersion=$rv"

    run k delete widget w1 --wait=false
    [ "$status" -eq 0 ]
    w1=$(k get widget w1 -o json)
    [ "$(jx '"deletionTimestamp" in d["metadata"], d["metadata"]["deletionGracePeriodSeconds"], d["metadata"]["generation"], d["metadata"]["finalizers"]' <<<"$w1")" = \
        'true 0 2 ["example.com/hold"]' ]
    wait_for has_events "$BATS_TEST_TMPDIR/w" MODIFIED 1

    # deleting again changes nothing
    api_json DELETE "$WG/w1"
    [ "$status_code" = 200 ]
    [ "$(jx 'd["metadata"]["resourceVersion"]' <<<"$body")" = "$(jx 'd["metadata"]["resourceVersion"]' <<<"$w1")" ]
    # and no new finalizers once deletion started
    run k patch widget w1 --type=merge -p '{"metadata":{"finalizers":["example.com/hold","example.com/late"]}}'
    [ "$status" -ne 0 ]
    [[ "$output" == *"no new finalizers can be added if the object is being deleted"* ]]

    k patch widget w1 --type=merge -p '{"metadata":{"finalizers":null}}'
    wait_for has_events "$BATS_TEST_TMPDIR/w" DELETED 1
    [ "$(events "$BATS_TEST_TMPDIR/w")" = "MODIFIED w1
DELETED w1" ]
    run k get widget w1
    [ "$status" -ne 0 ]
    [[ "$output" == *'(NotFound)'* ]]
}

@test "DELETE with a failed uid or resourceVersion precondition is a 409 and deletes nothing" {
    configmap c1 | k apply -f -
    uid=$(uid_of configmap c1)

    api_json DELETE "$CM/c1" '{"preconditions":{"uid":"00000000-0000-0000-0000-000000000000"}}'
    [ "$status_code" = 409 ]
    [ "$(jx 'd["reason"]' <<<"$body")" = Conflict ]
    api_json DELETE "$CM/c1" '{"preconditions":{"resourceVersion":"1"}}'
    [ "$status_code" = 409 ]
    k get configmap c1

    api_json DELETE "$CM/c1" "{\"preconditions\":{\"uid\":\"$uid\"}}"
    [ "$status_code" = 200 ]
    gone "$CM/c1"
}

@test "garbage collection: a configmap owned by a deleted widget disappears soon after" {
    install_widget_crd
    widget owner | k apply -f -
    dependent child Widget owner "$(uid_of widget owner)" | k apply -f -

    k delete widget owner
    wait_for gone "$CM/child"
}

@test "garbage collection: owner references to another namespace or a wrong uid count as absent" {
    install_widget_crd
    k apply -f - <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: other}
YAML
    widget owner | k apply -f -
    widget owner | k apply -n other -f -
    good=$(uid_of widget owner)
    foreign=$(uid_of -n other widget owner)
    {
        dependent kept Widget owner "$good"
        dependent cross-ns Widget owner "$foreign"
        dependent wrong-uid Widget owner 11111111-2222-3333-4444-555555555555
    } | k apply -f -

    wait_for gone "$CM/cross-ns"
    wait_for gone "$CM/wrong-uid"
    k get configmap kept
    k get -n other widget owner
}

@test "Foreground delete keeps the owner until its blocking dependents are gone" {
    install_widget_crd
    widget owner | k apply -f -
    dependent child Widget owner "$(uid_of widget owner)" true example.com/hold | k apply -f -

    k delete widget owner --cascade=foreground --wait=false
    [ "$(k get widget owner -o json | jx '"deletionTimestamp" in d["metadata"], d["metadata"]["finalizers"]')" = \
        'true ["foregroundDeletion"]' ]

    # the collector deletes the child, whose own finalizer keeps it, so the owner waits
    wait_for deleting "$CM/child"
    k get widget owner

    k patch configmap child --type=merge -p '{"metadata":{"finalizers":null}}'
    wait_for gone "$CM/child"
    wait_for gone "$WG/owner"
}

@test "Orphan delete removes the owner and strips the ownerReference from the dependent" {
    install_widget_crd
    widget owner | k apply -f -
    dependent child Widget owner "$(uid_of widget owner)" true | k apply -f -

    k delete widget owner --cascade=orphan
    wait_for gone "$WG/owner"
    wait_for not_owned "$CM/child"
    [ "$(k get configmap child -o jsonpath='{.metadata.name} {.metadata.ownerReferences}')" = "child " ]
}

@test "a scheduled pod stays Terminating after delete; an unscheduled one goes at once" {
    wait_default_sa
    k apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: scheduled}
spec:
  nodeName: node-1
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: pending}
spec:
  containers: [{name: c, image: busybox}]
YAML

    k delete pod pending --timeout=5s
    gone /api/v1/namespaces/default/pods/pending

    k delete pod scheduled --wait=false
    [ "$(k get pod scheduled -o json | jx '"deletionTimestamp" in d["metadata"], d["metadata"]["deletionGracePeriodSeconds"]')" = "true 30" ]
    run k get pod scheduled
    [[ "$output" == *Terminating* ]]

    k delete pod scheduled --force --grace-period=0
    gone /api/v1/namespaces/default/pods/scheduled
}

@test "a namespace holding a widget with a finalizer stays Terminating and refuses creates" {
    install_widget_crd
    k apply -f - <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: team}
YAML
    widget w1 example.com/hold | k apply -n team -f -

    k delete namespace team --wait=false
    [ "$(k get namespace team -o jsonpath='{.status.phase}')" = Terminating ]
    wait_for deleting /apis/example.com/v1/namespaces/team/widgets/w1

    api_json POST /api/v1/namespaces/team/configmaps '{"metadata":{"name":"late"}}'
    [ "$status_code" = 403 ]
    [ "$(jx 'd["reason"], d["details"]["causes"][0]["reason"]' <<<"$body")" = "Forbidden NamespaceTerminating" ]
    [[ "$body" == *"unable to create new content in namespace team because it is being terminated"* ]]
    k get namespace team

    k patch -n team widget w1 --type=merge -p '{"metadata":{"finalizers":null}}'
    wait_for gone /api/v1/namespaces/team
}

@test "deleting a CRD deletes its widgets (watchers see DELETED), then the endpoints 404" {
    install_widget_crd
    { widget w1; widget w2; widget held example.com/hold; } | k apply -f -
    rv=$(list_rv /apis/example.com/v1/widgets)
    watch_to "$BATS_TEST_TMPDIR/w" "/apis/example.com/v1/widgets?watch=1&resourceVersion=$rv"

    k delete crd widgets.example.com --wait=false
    wait_for has_events "$BATS_TEST_TMPDIR/w" DELETED 2
    [ "$(events "$BATS_TEST_TMPDIR/w" | grep DELETED | sort)" = "DELETED w1
DELETED w2" ]

    # "held" keeps the CRD Terminating; creates meanwhile are refused
    [ "$(k get crd widgets.example.com \
        -o jsonpath='{.status.conditions[?(@.type=="Terminating")].status}')" = True ]
    api_json POST "$WG" '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w3"},"spec":{"replicas":1}}'
    [ "$status_code" = 405 ]
    [ "$(jx 'd["reason"]' <<<"$body")" = MethodNotAllowed ]

    api_json PATCH "$WG/held" '{"metadata":{"finalizers":null}}' application/merge-patch+json
    [ "$status_code" = 200 ]
    wait_for has_events "$BATS_TEST_TMPDIR/w" DELETED 3
    wait_for gone /apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com
    api_json GET "$WG"
    [ "$status_code" = 404 ]
    [ "$(jx 'd["details"]' <<<"$body")" = '{}' ]
}

# ---------------------------------------------------------------------------------------------
# §2.6 List, selectors and pagination

@test "list bodies: items is [] when empty, built-in items carry no kind, widget items do" {
    install_widget_crd
    api_json GET "$CM"
    [ "$(jx 'd["kind"], d["apiVersion"], d["items"]' <<<"$body")" = "ConfigMapList v1 []" ]
    api_json GET "$WG"
    [ "$(jx 'd["kind"], d["apiVersion"], d["items"]' <<<"$body")" = "WidgetList example.com/v1 []" ]

    { configmap c1; configmap c2; widget w1; widget w2; } | k apply -f -
    api_json GET "$CM"
    [ "$(jx '[(i["metadata"]["name"], i.get("kind"), i.get("apiVersion")) for i in d["items"]]' <<<"$body")" = \
        '[["c1", null, null], ["c2", null, null]]' ]
    [ "$(jx 'int(d["metadata"]["resourceVersion"]) >= max(int(i["metadata"]["resourceVersion"]) for i in d["items"])' <<<"$body")" = true ]
    api_json GET "$WG"
    [ "$(jx '[(i["metadata"]["name"], i["kind"], i["apiVersion"]) for i in d["items"]]' <<<"$body")" = \
        '[["w1", "Widget", "example.com/v1"], ["w2", "Widget", "example.com/v1"]]' ]
    [ "$(jx 'int(d["metadata"]["resourceVersion"]) >= max(int(i["metadata"]["resourceVersion"]) for i in d["items"])' <<<"$body")" = true ]
}

five_labelled_configmaps() {
    {
        configmap c1 app=web tier=front
        configmap c2 app=web tier=back
        configmap c3 app=db tier=back
        configmap c4 app=cache
        configmap c5 tier=front
    } | k apply -f - >/dev/null
}

# sel SELECTOR: the configmap names kubectl lists for that label selector, space-separated.
sel() { k get configmaps -l "$1" -o name | sed 's|.*/||' | sort | xargs; }

@test "label selectors: =, ==, !=, in, notin, exists, !exists and AND over five configmaps" {
    five_labelled_configmaps
    [ "$(sel app=web)" = "c1 c2" ]
    [ "$(sel app==web)" = "c1 c2" ]
    [ "$(sel app!=web)" = "c3 c4 c5" ]
    [ "$(sel 'app in (web,db)')" = "c1 c2 c3" ]
    [ "$(sel 'app notin (web)')" = "c3 c4 c5" ]
    [ "$(sel tier)" = "c1 c2 c3 c5" ]
    [ "$(sel '!tier')" = "c4" ]
    [ "$(sel app=web,tier=back)" = "c2" ]
    [ "$(sel app=nothing)" = "" ]

    api_json GET "$CM?labelSelector=app+in+(web"
    [ "$status_code" = 400 ]
    [ "$(jx 'd["reason"]' <<<"$body")" = BadRequest ]
}

@test "field selectors: metadata fields, pod status.phase, event involvedObject, and 400 otherwise" {
    five_labelled_configmaps
    wait_default_sa
    install_widget_crd
    widget w1 | k apply -f -
    k apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: p1}
spec:
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Event
metadata: {name: w1.1}
involvedObject: {apiVersion: example.com/v1, kind: Widget, namespace: default, name: w1}
reason: Scaled
message: scaled to 1
type: Normal
source: {component: test}
---
apiVersion: v1
kind: Event
metadata: {name: w2.1}
involvedObject: {apiVersion: example.com/v1, kind: Widget, namespace: default, name: w2}
reason: Scaled
message: scaled to 2
type: Normal
source: {component: test}
YAML

    [ "$(k get cm --field-selector=metadata.name=c3 -o name)" = configmap/c3 ]
    [ "$(k get cm --field-selector=metadata.name!=c3 -o name | xargs)" = \
        "configmap/c1 configmap/c2 configmap/c4 configmap/c5" ]
    [ "$(k get cm -A --field-selector=metadata.namespace==default -o name | wc -l)" = 5 ]
    [ "$(k get pods --field-selector=status.phase=Pending -o name)" = pod/p1 ]
    run k get pods --field-selector=status.phase=Running
    [ "$status" -eq 0 ]
    [ "$output" = "No resources found in default namespace." ]
    [ "$(k get events --field-selector=involvedObject.name=w1 -o name)" = event/w1.1 ]

    run k get configmaps --field-selector=spec.foo=x
    [ "$status" -ne 0 ]
    [[ "$output" == *'(BadRequest)'*'field label not supported: spec.foo'* ]]
    api_json GET "$CM?fieldSelector=spec.foo%3Dx"
    [ "$status_code" = 400 ]
}

# page PATH: GET PATH and print "<item names> | <continue token>".
page() {
    curl -sS "$LC_URL$1" |
        jx '" ".join(i["metadata"]["name"] for i in d["items"]) + " | " + d["metadata"].get("continue", "")'
}

@test "limit=2 over five configmaps gives three pages through continue, then no token" {
    five_labelled_configmaps
    api_json GET "$CM?limit=2"
    [ "$(jx 'len(d["items"]), d["metadata"]["remainingItemCount"]' <<<"$body")" = "2 3" ]
    p1=$(page "$CM?limit=2")
    [ "${p1% | *}" = "c1 c2" ]
    p2=$(page "$CM?limit=2&continue=${p1#* | }")
    [ "${p2% | *}" = "c3 c4" ]
    p3=$(page "$CM?limit=2&continue=${p2#* | }")
    [ "$p3" = "c5 | " ]

    # kubectl follows the tokens itself
    [ "$(k get configmaps --chunk-size=2 -o name | wc -l)" = 5 ]
}

@test "pages are a snapshot of the first page even when objects change in between" {
    five_labelled_configmaps
    api_json GET "$CM?limit=2"
    read -r rv token < <(jx 'd["metadata"]["resourceVersion"], d["metadata"]["continue"]' <<<"$body")

    k delete configmap c3
    k label configmap c4 app=changed --overwrite
    configmap c0 | k apply -f -
    configmap c6 | k apply -f -

    api_json GET "$CM?limit=10&continue=$token"
    [ "$status_code" = 200 ]
    [ "$(jx '" ".join(i["metadata"]["name"] for i in d["items"]), d["items"][1]["metadata"]["labels"]["app"]' <<<"$body")" = "c3 c4 c5 cache" ]
    [ "$(jx 'd["metadata"]["resourceVersion"]' <<<"$body")" = "$rv" ]
    # a fresh list sees the new state
    [ "$(k get configmaps -o name | sed 's|.*/||' | xargs)" = "c0 c1 c2 c4 c5 c6" ]
}

@test "a garbage continue token is a 400; resourceVersion=0 ignores limit" {
    five_labelled_configmaps
    api_json GET "$CM?limit=2&continue=not-a-token"
    [ "$status_code" = 400 ]
    [ "$(jx 'd["kind"], d["reason"]' <<<"$body")" = "Status BadRequest" ]

    api_json GET "$CM?limit=2&resourceVersion=0"
    [ "$status_code" = 200 ]
    [ "$(jx 'len(d["items"]), "continue" in d["metadata"]' <<<"$body")" = "5 false" ]
}

@test "list resourceVersion rules: Exact with 0 is a 422, a future resourceVersion a 504" {
    configmap c1 | k apply -f -
    rv=$(list_rv "$CM")
    api_json GET "$CM?resourceVersion=0&resourceVersionMatch=Exact"
    [ "$status_code" = 422 ]
    [ "$(jx 'd["reason"]' <<<"$body")" = Invalid ]
    api_json GET "$CM?resourceVersionMatch=NotOlderThan"
    [ "$status_code" = 422 ]
    api_json GET "$CM?sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=$rv"
    [ "$status_code" = 422 ]
    api_json GET "$CM?resourceVersion=$rv&resourceVersionMatch=NotOlderThan"
    [ "$status_code" = 200 ]
    [ "$(jx 'd["items"][0]["metadata"]["name"]' <<<"$body")" = c1 ]

    api_json GET "$CM?resourceVersion=$((rv + 1000000))"
    [ "$status_code" = 504 ]
    [ "$(jx 'd["reason"]' <<<"$body")" = Timeout ]
    [[ "$body" == *"Too large resource version"* ]]
}

@test "with --fault-empty-pages a client that follows continue still gets every object" {
    stop_cluster
    start_cluster --fault-empty-pages
    five_labelled_configmaps

    # a raw client loop: count pages and items until the token is empty
    items=0 pages=0 empty=0 token=
    while :; do
        api_json GET "$CM?limit=2${token:+&continue=$token}"
        [ "$status_code" = 200 ]
        read -r n token < <(jx 'len(d["items"]), d["metadata"].get("continue", "")' <<<"$body")
        items=$((items + n)) pages=$((pages + 1))
        [ "$n" -gt 0 ] || empty=$((empty + 1))
        [ -n "$token" ] || break
        [ "$pages" -lt 20 ]
    done
    [ "$items" = 5 ]
    [ "$empty" -ge 1 ]

    [ "$(k get configmaps --chunk-size=2 -o name | xargs)" = \
        "configmap/c1 configmap/c2 configmap/c3 configmap/c4 configmap/c5" ]
}

# ---------------------------------------------------------------------------------------------
# §2.7 Watch

@test "a watch from a list's resourceVersion replays exactly the changes made since" {
    configmap c1 | k apply -f -
    rv=$(list_rv "$CM")
    configmap c2 | k apply -f -
    k label configmap c1 x=y
    k delete configmap c2

    watch_to "$BATS_TEST_TMPDIR/w" "$CM?watch=1&resourceVersion=$rv"
    wait_for has_events "$BATS_TEST_TMPDIR/w" DELETED 1
    # a later marker proves nothing else was queued before it
    configmap marker | k apply -f -
    wait_for grep -q marker "$BATS_TEST_TMPDIR/w"
    [ "$(events "$BATS_TEST_TMPDIR/w")" = "ADDED c2
MODIFIED c1
DELETED c2
ADDED marker" ]
}

@test "a label-selector watch sees DELETED when the label goes and ADDED when it comes back" {
    configmap c1 a=b | k apply -f -
    rv=$(list_rv "$CM")
    watch_to "$BATS_TEST_TMPDIR/w" "$CM?watch=1&labelSelector=a%3Db&resourceVersion=$rv"

    k label configmap c1 a-
    wait_for has_events "$BATS_TEST_TMPDIR/w" DELETED 1
    k get configmap c1
    k label configmap c1 a=b
    wait_for has_events "$BATS_TEST_TMPDIR/w" ADDED 1
    configmap c2 a=other | k apply -f -
    k label configmap c1 more=1
    wait_for has_events "$BATS_TEST_TMPDIR/w" MODIFIED 1
    [ "$(events "$BATS_TEST_TMPDIR/w")" = "DELETED c1
ADDED c1
MODIFIED c1" ]
}

@test "resourceVersions strictly increase within one watch" {
    rv=$(list_rv "$CM")
    watch_to "$BATS_TEST_TMPDIR/w" "$CM?watch=1&resourceVersion=$rv"
    { configmap c1; configmap c2; configmap c3; } | k apply -f -
    k label configmap c1 c2 x=1
    k delete configmap c3 c1
    wait_for has_events "$BATS_TEST_TMPDIR/w" DELETED 2
    python3 -S - "$BATS_TEST_TMPDIR/w" "$rv" <<'PY'
import json, sys
rvs = [int(sys.argv[2])] + [int(json.loads(l)["object"]["metadata"]["resourceVersion"])
                            for l in open(sys.argv[1]) if l.strip()]
assert len(rvs) == 8, rvs
assert all(a < b for a, b in zip(rvs, rvs[1:])), rvs
PY
}

@test "a watch without resourceVersion or from 0 starts with ADDED for every existing object" {
    { configmap c1; configmap c2; } | k apply -f -
    watch_to "$BATS_TEST_TMPDIR/unset" "$CM?watch=1"
    watch_to "$BATS_TEST_TMPDIR/zero" "$CM?watch=1&resourceVersion=0"
    for w in unset zero; do
        wait_for has_events "$BATS_TEST_TMPDIR/$w" ADDED 2
        [ "$(events "$BATS_TEST_TMPDIR/$w" | sort)" = "ADDED c1
ADDED c2" ]
    done
    # then the changes that follow
    configmap c3 | k apply -f -
    wait_for has_events "$BATS_TEST_TMPDIR/unset" ADDED 3
    wait_for has_events "$BATS_TEST_TMPDIR/zero" ADDED 3
}

@test "timeoutSeconds ends a watch stream cleanly" {
    start=$SECONDS
    run curl -sSN --max-time 10 "$LC_URL$CM?watch=1&timeoutSeconds=1"
    [ "$status" -eq 0 ]
    [ "$output" = "" ]
    [ $((SECONDS - start)) -le 5 ]
}

@test "versions older than the history kept: a watch gets one ERROR 410 event, a list a 410" {
    stop_cluster
    start_cluster --fault-expire-after 3
    { configmap c1; configmap c2; configmap c3; } | k apply -f -
    api_json GET "$CM?limit=1"
    read -r rv token < <(jx 'd["metadata"]["resourceVersion"], d["metadata"]["continue"]' <<<"$body")
    { configmap c4; configmap c5; configmap c6; configmap c7; } | k apply -f -

    # not an HTTP 410: a 200 stream carrying one ERROR event, then the end
    run curl -sSN --max-time 10 -w '\n%{http_code}' "$LC_URL$CM?watch=1&resourceVersion=$rv"
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 2 ]
    [ "${lines[1]}" = 200 ]
    [ "$(jx 'd["type"], d["object"]["kind"], d["object"]["code"], d["object"]["reason"]' <<<"${lines[0]}")" = \
        "ERROR Status 410 Expired" ]

    # lists answer 410 itself, for an old continue token or an old exact version
    api_json GET "$CM?limit=1&continue=$token"
    [ "$status_code" = 410 ]
    [ "$(jx 'd["reason"]' <<<"$body")" = Expired ]
    api_json GET "$CM?resourceVersion=$rv&resourceVersionMatch=Exact"
    [ "$status_code" = 410 ]
    # and a client that starts over gets everything
    [ "$(k get configmaps -o name | wc -l)" = 7 ]
}

@test "allowWatchBookmarks with --bookmark-interval 1 delivers BOOKMARK events" {
    stop_cluster
    start_cluster --bookmark-interval 1
    configmap c1 | k apply -f -
    rv=$(list_rv "$CM")
    watch_to "$BATS_TEST_TMPDIR/plain" "$CM?watch=1&resourceVersion=$rv"
    watch_to "$BATS_TEST_TMPDIR/w" "$CM?watch=1&allowWatchBookmarks=true&resourceVersion=$rv"
    wait_for has_events "$BATS_TEST_TMPDIR/w" BOOKMARK 1
    line=$(grep BOOKMARK "$BATS_TEST_TMPDIR/w" | head -1)
    [ "$(jx 'd["object"]["kind"], d["object"]["apiVersion"], int(d["object"]["metadata"]["resourceVersion"]) >= '"$rv" <<<"$line")" = \
        "ConfigMap v1 true" ]

    # a watch that did not ask for bookmarks gets none, only the changes
    configmap c2 | k apply -f -
    wait_for has_events "$BATS_TEST_TMPDIR/plain" ADDED 1
    [ "$(events "$BATS_TEST_TMPDIR/plain")" = "ADDED c2" ]
}

@test "sendInitialEvents gives ADDED then a BOOKMARK marking the end; it needs its companions" {
    { configmap c1; configmap c2; } | k apply -f -
    watch_to "$BATS_TEST_TMPDIR/w" \
        "$CM?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
    wait_for has_events "$BATS_TEST_TMPDIR/w" BOOKMARK 1
    [ "$(events "$BATS_TEST_TMPDIR/w" | head -3 | sort)" = "ADDED c1
ADDED c2
BOOKMARK " ]
    [ "$(events "$BATS_TEST_TMPDIR/w" | sed -n 3p)" = "BOOKMARK " ]
    line=$(sed -n 3p "$BATS_TEST_TMPDIR/w")
    [ "$(jx 'd["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"]' <<<"$line")" = true ]

    api_json GET "$CM?watch=1&sendInitialEvents=true&allowWatchBookmarks=true"
    [ "$status_code" = 422 ]
    api_json GET "$CM?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
    [ "$status_code" = 422 ]
    [ "$(jx 'd["reason"]' <<<"$body")" = Invalid ]
}

@test "a watch with fieldSelector=metadata.name sees only that object" {
    rv=$(list_rv "$CM")
    watch_to "$BATS_TEST_TMPDIR/w" "$CM?watch=1&fieldSelector=metadata.name%3Dc2&resourceVersion=$rv"
    { configmap c1; configmap c2; configmap c3; } | k apply -f -
    k delete configmap c1 c2 c3
    wait_for has_events "$BATS_TEST_TMPDIR/w" DELETED 1
    [ "$(events "$BATS_TEST_TMPDIR/w")" = "ADDED c2
DELETED c2" ]
}

@test "a watch asking for Tables gets one-row Tables, columnDefinitions only in the first" {
    install_widget_crd
    rv=$(list_rv "$WG")
    watch_to "$BATS_TEST_TMPDIR/w" "$WG?watch=1&resourceVersion=$rv" \
        -H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json'
    { widget w1; widget w2; } | k apply -f -
    wait_for has_events "$BATS_TEST_TMPDIR/w" ADDED 2
    python3 -S - "$BATS_TEST_TMPDIR/w" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(evs) == 2, evs
for e in evs:
    assert e["object"]["kind"] == "Table", e
    assert len(e["object"]["rows"]) == 1, e
names = [c["name"] for c in evs[0]["object"]["columnDefinitions"]]
assert names[:3] == ["Name", "Replicas", "Mode"], names
assert not evs[1]["object"].get("columnDefinitions"), evs[1]
assert evs[1]["object"]["rows"][0]["cells"][0] == "w2", evs[1]
PY

    # and kubectl get -w prints the rows
    k get widgets -w >"$BATS_TEST_TMPDIR/kw" 2>&1 &
    BG_PIDS="$BG_PIDS $!"
    widget w3 | k apply -f -
    wait_for grep -q '^w3 ' "$BATS_TEST_TMPDIR/kw"
}

# ---------------------------------------------------------------------------------------------
# §3 traps

@test "a 404 for a missing type has empty details; a 404 for a missing object names it" {
    api_json GET "$WG/w1"
    [ "$status_code" = 404 ]
    [ "$(jx 'd["reason"], d["details"], d["message"]' <<<"$body")" = \
        "NotFound {} the server could not find the requested resource" ]

    install_widget_crd
    api_json GET "$WG/w1"
    [ "$status_code" = 404 ]
    [ "$(jx 'd["reason"], d["details"]["kind"], d["details"]["group"], d["details"]["name"], d["message"]' <<<"$body")" = \
        'NotFound widgets example.com w1 widgets.example.com "w1" not found' ]
    run k get widget w1
    [[ "$output" == *'widgets.example.com "w1" not found'* ]]
}

@test "resourceVersions are large, have gaps, and come from one counter across types" {
    install_widget_crd
    {
        for i in 1 2 3 4 5; do
            configmap "c$i"
            widget "w$i"
        done
    } | k apply -f - >/dev/null
    python3 -S - "$(k get configmaps,widgets -o json)" <<'PY'
import json, sys
items = json.loads(sys.argv[1])["items"]
assert len(items) == 10, items
rvs = sorted(int(i["metadata"]["resourceVersion"]) for i in items)
assert len(set(rvs)) == 10, rvs
assert rvs[0] > 1000, rvs
assert any(b - a > 1 for a, b in zip(rvs, rvs[1:])), rvs
# apply creates in file order: c1 w1 c2 w2 ..., so the kinds interleave on one counter
order = [i["metadata"]["name"] for i in sorted(items, key=lambda i: int(i["metadata"]["resourceVersion"]))]
assert order == ["c1", "w1", "c2", "w2", "c3", "w3", "c4", "w4", "c5", "w5"], order
PY
}

@test "delete then recreate under the same name gives a new uid" {
    rv=$(list_rv "$CM")
    configmap c1 | k apply -f -
    uid1=$(uid_of configmap c1)
    k delete configmap c1
    configmap c1 | k apply -f -
    uid2=$(uid_of configmap c1)
    [ -n "$uid1" ] && [ -n "$uid2" ]
    [ "$uid1" != "$uid2" ]

    watch_to "$BATS_TEST_TMPDIR/w" "$CM?watch=1&resourceVersion=$rv"
    wait_for has_events "$BATS_TEST_TMPDIR/w" ADDED 2
    python3 -S - "$BATS_TEST_TMPDIR/w" "$uid1" "$uid2" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
got = [(e["type"], e["object"]["metadata"]["uid"]) for e in evs]
assert got == [("ADDED", sys.argv[2]), ("DELETED", sys.argv[2]), ("ADDED", sys.argv[3])], got
PY
}
