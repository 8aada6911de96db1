#!/usr/bin/env bats
# Bad input: every malformed, oversized, mistyped or hostile request gets a Kubernetes Status
# body with the right code (kubernetes-api.md §1.5, §1.9, §2.1, §2.3, §2.6, §2.8), and the
# server keeps serving afterwards (each test ends by checking /readyz and a real write).

setup() {
    load helpers
    start_cluster --no-kubelet # these tests predate the kubelet: pods stay Pending
}
teardown() { teardown_cluster; }

CM=/api/v1/namespaces/default/configmaps
PODS=/api/v1/namespaces/default/pods
W=/apis/example.com/v1/namespaces/default/widgets

# post_file PATH FILE [METHOD] [CONTENT-TYPE]: like api_json with the body read from FILE (for
# bodies too large for an argument list).
post_file() {
    local out
    out=$(curl -sS -X "${3:-POST}" -H "Content-Type: ${4:-application/json}" --data-binary @"$2" \
        -w '\n%{http_code}' "$LC_URL$1")
    status_code=${out##*$'\n'}
    body=${out%$'\n'*}
}

cm() { printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s"},"data":{"k":"v"}}' "$1"; }

# expect_status CODE REASON: $body is a Failure Status with that code and reason.
expect_status() {
    [ "$status_code" = "$1" ] || { echo "want $1, got $status_code: $body"; return 1; }
    [ "$(jget 'd["kind"]+" "+d["apiVersion"]+" "+d["status"]+" "+str(d["code"])+" "+d["reason"]' <<<"$body")" = "Status v1 Failure $1 $2" ] ||
        { echo "not a $1 $2 Status: $body"; return 1; }
}

# message: the Status message of $body.
message() { jget 'd["message"]' <<<"$body"; }

# still_serving: /readyz answers 200 and a create followed by a read works.
still_serving() {
    kill -0 "$LC_PID"
    [ "$(curl -sS -o /dev/null -w '%{http_code}' "$LC_URL/readyz")" = 200 ]
    local n=alive-$RANDOM
    api_json POST "$CM" "$(cm "$n")"
    [ "$status_code" = 201 ] || { echo "create after bad input: $status_code $body"; return 1; }
    api_json GET "$CM/$n"
    [ "$status_code" = 200 ]
}

# ---------------------------------------------------------------------------------------------
# Bodies that do not decode

@test "bad body: malformed JSON is a 400 BadRequest Status" {
    api_json POST "$CM" '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"'
    expect_status 400 BadRequest
    [[ "$(message)" == 'ConfigMap in version "v1" cannot be handled as a ConfigMap: '* ]]
    api_json PUT "$CM/x" '{"apiVersion":"v1",,}'
    expect_status 400 BadRequest
    api_json POST "$CM" 'not json at all'
    expect_status 400 BadRequest
    api_json GET "$CM/x"
    [ "$status_code" = 404 ]
    still_serving
}

@test "bad body: malformed YAML with Content-Type application/yaml is a 400 naming the line" {
    api_json POST "$CM" $'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: [1' application/yaml
    expect_status 400 BadRequest
    [[ "$(message)" == *'line '[0-9]* ]]
    # well-formed YAML is accepted on the same endpoint
    api_json POST "$CM" $'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fromyaml\ndata:\n  k: v\n' application/yaml
    [ "$status_code" = 201 ]
    [ "$(jget 'd["data"]["k"]' <<<"$body")" = v ]
    still_serving
}

@test "bad body: a JSON array, string, number or null body is a 400" {
    for b in '[1,2]' '"configmap"' '42' 'null' '[]'; do
        api_json POST "$CM" "$b"
        expect_status 400 BadRequest
    done
    api_json PUT "$CM/x" '["a"]'
    expect_status 400 BadRequest
    api_json GET "$CM"
    [ "$(jget 'len(d["items"])' <<<"$body")" = 0 ]
    still_serving
}

@test "bad body: an object of the wrong kind for the URL is a 400" {
    api_json POST "$PODS" "$(cm x)"
    expect_status 400 BadRequest
    [[ "$(message)" == *'ConfigMap'* && "$(message)" == *'Pod'* ]]
    api_json GET "$PODS/x"
    [ "$status_code" = 404 ]
    api_json GET "$CM/x"
    [ "$status_code" = 404 ]

    # a PUT of a Secret onto a ConfigMap's URL is refused too, and the ConfigMap is untouched
    api_json POST "$CM" "$(cm real)"
    api_json PUT "$CM/real" '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"real"}}'
    expect_status 400 BadRequest
    [ "$(k get cm real -o jsonpath='{.data.k}')" = v ]
    still_serving
}

@test "bad body: a wrong apiVersion for the URL is a 400" {
    api_json POST "$CM" '{"apiVersion":"v2","kind":"ConfigMap","metadata":{"name":"x"}}'
    expect_status 400 BadRequest
    [ "$(message)" = 'the API version in the data (v2) does not match the expected API version (v1)' ]
    api_json POST "$CM" '{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"x"}}'
    expect_status 400 BadRequest
    api_json GET "$CM/x"
    [ "$status_code" = 404 ]
    still_serving
}

@test "bad body: a body over 3 MiB is a 413 RequestEntityTooLarge" {
    python3 -c 'import json; print(json.dumps({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":"x"*(3*1024*1024+10)}}))' >"$BATS_TEST_TMPDIR/big.json"
    post_file "$CM" "$BATS_TEST_TMPDIR/big.json"
    expect_status 413 RequestEntityTooLarge
    [[ "$(message)" == *'request that is too large'* ]]
    api_json GET "$CM/big"
    [ "$status_code" = 404 ]
    still_serving
}

@test "bad body: annotations totalling more than 256 KiB are a 422 on metadata.annotations" {
    python3 -c 'import json; print(json.dumps({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ann","annotations":{"a":"x"*(200*1024),"b":"y"*(60*1024)}}}))' >"$BATS_TEST_TMPDIR/ann.json"
    post_file "$CM" "$BATS_TEST_TMPDIR/ann.json"
    expect_status 422 Invalid
    [ "$(jget 'd["details"]["causes"][0]["field"]' <<<"$body")" = metadata.annotations ]
    [[ "$(message)" == 'ConfigMap "ann" is invalid: metadata.annotations: Too long: '* ]]
    api_json GET "$CM/ann"
    [ "$status_code" = 404 ]

    # adding them by patch to an existing object is refused the same way
    api_json POST "$CM" "$(cm small)"
    python3 -c 'import json; print(json.dumps({"metadata":{"annotations":{"a":"x"*(257*1024)}}}))' >"$BATS_TEST_TMPDIR/p.json"
    post_file "$CM/small" "$BATS_TEST_TMPDIR/p.json" PATCH application/merge-patch+json
    expect_status 422 Invalid
    [ "$(jget 'd["details"]["causes"][0]["field"]' <<<"$body")" = metadata.annotations ]
    still_serving
}

# ---------------------------------------------------------------------------------------------
# URLs, names and schemas

@test "bad url: an unknown resource, group or version is a 404 with empty details" {
    for p in /api/v1/namespaces/default/gizmos /api/v1/gizmos/x /apis/nosuch.io/v1/things \
        /apis/apps/v9/deployments /api/v2/pods "$W" /apis/example.com/v1/widgets; do
        api_json GET "$p"
        [ "$status_code" = 404 ] || { echo "$p: $status_code $body"; false; }
        [ "$(jget 'd["kind"]+" "+d["reason"]+" "+str(d["code"])+" "+json.dumps(d["details"])+" "+d["message"]' <<<"$body")" = \
            'Status NotFound 404 {} the server could not find the requested resource' ] || { echo "$p: $body"; false; }
    done
    api_json POST /api/v1/namespaces/default/gizmos '{"apiVersion":"v1","kind":"Gizmo","metadata":{"name":"g"}}'
    expect_status 404 NotFound
    api_json DELETE /apis/nosuch.io/v1/namespaces/default/things/x
    expect_status 404 NotFound
    # a missing object, by contrast, names itself
    api_json GET "$CM/missing"
    expect_status 404 NotFound
    [ "$(message)" = 'configmaps "missing" not found' ]
    still_serving
}

@test "bad name: uppercase, 254 characters and a namespace with a dot are 422 on metadata.name" {
    api_json POST "$CM" "$(cm Upper)"
    expect_status 422 Invalid
    [ "$(jget 'd["details"]["causes"][0]["field"]' <<<"$body")" = metadata.name ]
    [[ "$(message)" == *'a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters'* ]]

    long=$(printf 'a%.0s' $(seq 1 254))
    api_json POST "$CM" "$(cm "$long")"
    expect_status 422 Invalid
    [ "$(jget 'd["details"]["causes"][0]["field"]' <<<"$body")" = metadata.name ]
    [[ "$(message)" == *'must be no more than 253 characters'* ]]
    api_json POST "$CM" "$(cm "${long:0:253}")"
    [ "$status_code" = 201 ]

    api_json POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team.a"}}'
    expect_status 422 Invalid
    [ "$(jget 'd["details"]["causes"][0]["field"]' <<<"$body")" = metadata.name ]
    api_json GET /api/v1/namespaces/team.a
    [ "$status_code" = 404 ]

    run k apply -f - <<<'{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"Bad_Name"}}'
    [ "$status" -ne 0 ]
    [[ "$output" == *'The Namespace "Bad_Name" is invalid: metadata.name'* ]]
    still_serving
}

@test "bad object: a custom resource violating its schema is a 422 with one cause per field" {
    install_widget_crd
    api_json POST "$W" '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"replicas":"many","mode":"turbo"}}'
    expect_status 422 Invalid
    [ "$(jget 'sorted(c["field"] for c in d["details"]["causes"])' <<<"$body")" = '["spec.mode", "spec.replicas"]' ]
    [ "$(jget 'sorted(c["reason"] for c in d["details"]["causes"])' <<<"$body")" = '["FieldValueNotSupported", "FieldValueTypeInvalid"]' ]
    api_json GET "$W/w"
    [ "$status_code" = 404 ]
    still_serving
}

@test "bad labels: label values that are not strings are a 400" {
    for v in 1 true '{"x":"y"}' '["a"]'; do
        api_json POST "$CM" "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":$v}}}"
        expect_status 400 BadRequest
    done
    api_json POST "$CM" "$(cm x)"
    api_json PATCH "$CM/x" '{"metadata":{"labels":{"a":7}}}' application/merge-patch+json
    expect_status 400 BadRequest
    [ "$(k get cm x -o jsonpath='{.metadata.labels}')" = '' ]
    still_serving
}

# ---------------------------------------------------------------------------------------------
# Patches, conflicts, content types

@test "bad patch: wrong patch types and bodies get 415 or 400" {
    install_widget_crd
    api_json POST "$W" '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"replicas":1}}'
    [ "$status_code" = 201 ]
    api_json POST "$CM" "$(cm c1)"
    [ "$status_code" = 201 ]

    # strategic merge patch on a custom resource
    api_json PATCH "$W/w1" '{"spec":{"replicas":2}}' application/strategic-merge-patch+json
    expect_status 415 UnsupportedMediaType
    [ "$(message)" = 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml' ]
    run k patch widget w1 --type=strategic -p '{"spec":{"replicas":2}}'
    [ "$status" -ne 0 ]
    [[ "$output" == *'UnsupportedMediaType'* || "$output" == *'unknown format'* ]]

    # a JSON patch that is not an array of operations
    api_json PATCH "$CM/c1" '{"op":"add","path":"/data/x","value":"y"}' application/json-patch+json
    expect_status 400 BadRequest
    # an unknown patch content type
    api_json PATCH "$CM/c1" '{"data":{"x":"y"}}' application/x-custom-patch
    expect_status 415 UnsupportedMediaType
    # a merge patch that is not an object
    for b in '[{"data":{}}]' '"x"' '3'; do
        api_json PATCH "$CM/c1" "$b" application/merge-patch+json
        [[ "$status_code" == 4* ]] || { echo "$b: $status_code"; false; }
        expect_status 400 BadRequest
    done
    # and a patch whose body is not JSON at all
    api_json PATCH "$W/w1" '{"spec":' application/merge-patch+json
    expect_status 400 BadRequest

    [ "$(k get widget w1 -o jsonpath='{.spec.replicas}')" = 1 ]
    [ "$(k get cm c1 -o jsonpath='{.data}')" = '{"k":"v"}' ]
    still_serving
}

@test "bad update: a PUT with a stale resourceVersion is a 409 Conflict with the standard message" {
    install_widget_crd
    api_json POST "$W" '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"replicas":1}}'
    old=$body
    k patch widget w1 --type=merge -p '{"spec":{"replicas":2}}'
    stale=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["spec"]["replicas"]=9; print(json.dumps(d))' "$old")
    api_json PUT "$W/w1" "$stale"
    expect_status 409 Conflict
    [ "$(message)" = 'Operation cannot be fulfilled on widgets.example.com "w1": the object has been modified; please apply your changes to the latest version and try again' ]
    [ "$(jget 'd["details"]' <<<"$body")" = '{"name": "w1", "group": "example.com", "kind": "widgets"}' ]
    [ "$(k get widget w1 -o jsonpath='{.spec.replicas}')" = 2 ]

    # the same for a built-in
    api_json POST "$CM" "$(cm c1)"
    rv=$(jget 'd["metadata"]["resourceVersion"]' <<<"$body")
    api_json PUT "$CM/c1" '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1","resourceVersion":"'"$rv"'"},"data":{"k":"2"}}'
    [ "$status_code" = 200 ]
    api_json PUT "$CM/c1" '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1","resourceVersion":"'"$rv"'"},"data":{"k":"3"}}'
    expect_status 409 Conflict
    [ "$(message)" = 'Operation cannot be fulfilled on configmaps "c1": the object has been modified; please apply your changes to the latest version and try again' ]
    [ "$(k get cm c1 -o jsonpath='{.data.k}')" = 2 ]
    still_serving
}

@test "bad content type: a protobuf body is a 415 UnsupportedMediaType" {
    out=$(curl -sS -X POST -H 'Content-Type: application/vnd.kubernetes.protobuf' \
        --data-binary $'k8s\x00\n\x0f\n\x02v1\x12\tConfigMap' -w '\n%{http_code}' "$LC_URL$CM")
    status_code=${out##*$'\n'}
    body=${out%$'\n'*}
    expect_status 415 UnsupportedMediaType
    [[ "$(message)" == 'the body of the request was in an unknown format - accepted media types include: '*'application/json'* ]]
    api_json PUT "$CM/x" 'k8s' application/vnd.kubernetes.protobuf
    expect_status 415 UnsupportedMediaType
    api_json POST "$CM" "$(cm x)" text/plain
    expect_status 415 UnsupportedMediaType
    api_json GET "$CM"
    [ "$(jget 'len(d["items"])' <<<"$body")" = 0 ]
    still_serving
}

# ---------------------------------------------------------------------------------------------
# Hostile connections

@test "bad connection: garbage bytes on the socket get a 400 and the connection closes" {
    python3 - "$LC_PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])

def exchange(payload):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(payload)
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break  # the server closed the connection
        data += c
    s.close()
    return data

for junk in (b"\x00\xff\x13garbage\r\n\r\n", b"\x16\x03\x01\x02\x00\x01" * 50, b"GET /\x00\x01 HTTP/1.1\r\n\r\n",
             b"GET /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"):
    data = exchange(junk)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), (junk, data[:200])
    assert b'"kind":"Status"' in body and b'"code":400' in body, data[:300]

# a good request on a keep-alive connection, then garbage on the same connection
data = exchange(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n\x01\x02garbage\r\n\r\n")
assert data.startswith(b"HTTP/1.1 200 "), data[:200]
assert b"HTTP/1.1 400 " in data, data[:400]
PY
    still_serving
}

@test "bad connection: 200 connections opened and dropped mid-request leave the server serving" {
    install_widget_crd
    python3 - "$LC_PORT" <<'PY'
import socket, struct, sys
port = int(sys.argv[1])
partial = [
    b"GE",
    b"GET /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n",
    b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"apiVersion\":",
    b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"apiVers",
    b"GET /apis/example.com/v1/namespaces/default/widgets?watch=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /openapi/v3/apis/example.com/v1 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"PATCH /api/v1/namespaces/default/configmaps/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/merge-patch+json\r\nContent-Length: 50\r\n\r\n{",
]
socks = []
for i in range(200):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(partial[i % len(partial)])
    socks.append(s)
for i, s in enumerate(socks):
    if i % 2:  # half of them reset instead of closing politely
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
PY
    # the watches among them are gone, and the server answers everything as before
    wait_for test "$(curl -sS -o /dev/null -w '%{http_code}' "$LC_URL/readyz")" = 200
    api_json POST "$W" '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"after"},"spec":{"replicas":1}}'
    [ "$status_code" = 201 ]
    run k get widgets
    [ "$status" -eq 0 ]
    [[ "${lines[1]}" == after* ]]
    api_json GET "$CM"
    [ "$(jget 'len(d["items"])' <<<"$body")" = 0 ]
    still_serving
}

# ---------------------------------------------------------------------------------------------
# Selectors and delete options

@test "bad selector: an unsupported field selector is a 400 'field label not supported'" {
    api_json GET "$CM?fieldSelector=spec.foo%3Dx"
    expect_status 400 BadRequest
    [ "$(message)" = 'field label not supported: spec.foo' ]
    api_json GET "$CM?watch=1&fieldSelector=data.k%3Dv"
    expect_status 400 BadRequest
    run k get pods --field-selector=spec.foo=x
    [ "$status" -ne 0 ]
    [[ "$output" == *'field label not supported: spec.foo'* ]]
    # a supported one works
    run k get pods --field-selector=status.phase=Pending
    [ "$status" -eq 0 ]
    still_serving
}

@test "bad selector: label selector syntax errors are a 400" {
    for sel in 'a%20in%20(b' 'a%3Db%3Dc' '!%3Db' 'a%20notin' '%3D%3Dx' 'a%3D%3F%3F'; do
        api_json GET "$CM?labelSelector=$sel"
        expect_status 400 BadRequest || { echo "selector $sel"; false; }
    done
    api_json GET "$CM?labelSelector=a%20in%20(b"
    [[ "$(message)" == *'unable to parse requirement'* ]]
    api_json GET "$CM?labelSelector=a%20in%20(b%2Cc)%2C!d"
    [ "$status_code" = 200 ]
    still_serving
}

@test "bad delete: DeleteOptions with an unsupported propagationPolicy is a 422 and deletes nothing" {
    api_json POST "$CM" "$(cm c1)"
    api_json DELETE "$CM/c1" '{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Sideways"}'
    expect_status 422 Invalid
    [ "$(message)" = 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan"' ]
    [ "$(jget 'd["details"]["kind"]+" "+d["details"]["causes"][0]["field"]' <<<"$body")" = 'DeleteOptions propagationPolicy' ]
    api_json DELETE "$CM/c1?propagationPolicy=Sideways"
    expect_status 422 Invalid
    api_json GET "$CM/c1"
    [ "$status_code" = 200 ]
    api_json DELETE "$CM/c1" '{"propagationPolicy":"Background"}'
    [ "$status_code" = 200 ]
    still_serving
}
