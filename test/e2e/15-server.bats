#!/usr/bin/env bats
# localcluster the program: health and version endpoints, --listen and the kubeconfig it
# writes, SIGTERM, --tls and --token authentication, flag errors, and the fault-injection knobs
# (PUT /admin/faults).

setup() {
    load helpers
    start_cluster
}

teardown() { teardown_cluster; }

# kc_field FIELD: a value from the kubeconfig localcluster wrote (first occurrence).
kc_field() { awk -v f="$1:" '$1 == f {print $2; exit}' "$KUBECONFIG"; }

# restart_with FLAGS...: stop the default cluster, start one with these flags.
restart_with() {
    stop_cluster
    start_cluster "$@"
}

# tls_files: the CA, client certificate and key from the kubeconfig, as PEM files.
tls_files() {
    kc_field certificate-authority-data | base64 -d >"$BATS_TEST_TMPDIR/ca.pem"
    kc_field client-certificate-data | base64 -d >"$BATS_TEST_TMPDIR/client.pem"
    kc_field client-key-data | base64 -d >"$BATS_TEST_TMPDIR/client-key.pem"
}

# status_of JSON: "code reason" of a Status body.
status_of() { jget 'd["kind"]+" "+str(d["code"])+" "+d["reason"]'; }

put_faults() { api_json PUT /admin/faults "$1"; }

# list_rv PATH: the resourceVersion of a list.
list_rv() { api_json GET "$1" && jget 'd["metadata"]["resourceVersion"]' <<<"$body"; }

create_cm() { # create_cm NAME -> sets status_code/body
    api_json POST /api/v1/namespaces/default/configmaps \
        "{\"metadata\":{\"name\":\"$1\"},\"data\":{\"k\":\"v\"}}"
}

line_count() { if [ -f "$1" ]; then grep -c . "$1" || true; else echo 0; fi; }
has_lines() { [ "$(line_count "$1")" -ge "$2" ]; }
proc_gone() { ! kill -0 "$1" 2>/dev/null; }

# --- health, version, --listen -------------------------------------------------------------

@test "GET /readyz, /livez and /healthz answer 200 ok" {
    local p
    for p in /readyz /livez /healthz; do
        run api GET "$p"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = ok ]
        [ "${lines[1]}" = 200 ]
    done
}

@test "GET /version reports Kubernetes 1.32" {
    api_json GET /version
    [ "$status_code" = 200 ]
    run jget '" ".join([d["major"], d["minor"], d["gitVersion"], d["platform"]])' <<<"$body"
    [[ "$output" =~ ^1\ 32\ v1\.32\.[^\ ]+\ linux/amd64$ ]]
}

@test "--listen 127.0.0.1:0 picks a free port and writes it into the kubeconfig" {
    # start_cluster used --listen 127.0.0.1:0.
    [[ "$LC_URL" =~ ^http://127\.0\.0\.1:[0-9]+$ ]]
    [ "$LC_PORT" -gt 0 ]
    [ "$LC_PORT" -lt 65536 ]
    grep -q "serving on http://127.0.0.1:$LC_PORT" "$BATS_TEST_TMPDIR/localcluster.log"
    # The kubeconfig is complete: kubectl finds the server through its current context.
    run kubectl config view -o jsonpath='{.current-context}/{.clusters[0].cluster.server}'
    [ "$output" = "localcluster/$LC_URL" ]
    run k get ns default -o name
    [ "$output" = namespace/default ]
    # A second server on port 0 gets another port.
    local kc2=$BATS_TEST_TMPDIR/kc2
    "$LOCALCLUSTER" --listen 127.0.0.1:0 --kubeconfig-out "$kc2" >"$BATS_TEST_TMPDIR/lc2.log" 2>&1 &
    local pid2=$!
    BG_PIDS="${BG_PIDS:-} $pid2"
    wait_for test -s "$kc2"
    local url2
    url2=$(awk '/server:/ {print $2; exit}' "$kc2")
    [ "$url2" != "$LC_URL" ]
    run curl -sS "$url2/readyz"
    [ "$output" = ok ]
    kill -TERM "$pid2"
    wait "$pid2"
}

@test "SIGTERM stops the server with exit status 0" {
    k get ns >/dev/null
    kill -TERM "$LC_PID"
    local rc=0
    wait "$LC_PID" || rc=$?
    LC_PID=
    [ "$rc" -eq 0 ]
    grep -q "shutting down" "$BATS_TEST_TMPDIR/localcluster.log"
    run curl -sS "$LC_URL/readyz"
    [ "$status" -ne 0 ]
}

@test "SIGTERM stops the server with exit status 0 while watches are open" {
    local rv
    rv=$(list_rv /api/v1/namespaces/default/configmaps)
    curl -sS -N "$LC_URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv" \
        >"$BATS_TEST_TMPDIR/watch.out" 2>&1 &
    local curl_pid=$!
    BG_PIDS="${BG_PIDS:-} $curl_pid"
    kubectl get configmaps -w >"$BATS_TEST_TMPDIR/kwatch.out" 2>&1 &
    local kpid=$!
    BG_PIDS="${BG_PIDS:-} $kpid"
    # Both watches are live: they see a create.
    create_cm live
    [ "$status_code" = 201 ]
    wait_for has_lines "$BATS_TEST_TMPDIR/watch.out" 1
    wait_for grep -q '^live ' "$BATS_TEST_TMPDIR/kwatch.out"
    # stop_cluster fails unless localcluster exits 0 within 5 s (and ASan finds no leak).
    stop_cluster
    # The open streams were ended, so their clients finish too.
    wait_for proc_gone "$curl_pid"
    wait_for proc_gone "$kpid"
}

# --- TLS and tokens ------------------------------------------------------------------------

@test "--tls: the kubeconfig embeds the CA and a client certificate; kubectl works through it" {
    restart_with --tls
    [[ "$LC_URL" =~ ^https://127\.0\.0\.1:[0-9]+$ ]]
    [ -n "$(kc_field certificate-authority-data)" ]
    [ -n "$(kc_field client-certificate-data)" ]
    [ -n "$(kc_field client-key-data)" ]
    [ -z "$(kc_field token)" ]
    tls_files
    grep -q 'BEGIN CERTIFICATE' "$BATS_TEST_TMPDIR/ca.pem"
    grep -q 'BEGIN CERTIFICATE' "$BATS_TEST_TMPDIR/client.pem"
    grep -q 'PRIVATE KEY' "$BATS_TEST_TMPDIR/client-key.pem"
    # The client certificate is the cluster admin's, as with kind.
    run openssl x509 -in "$BATS_TEST_TMPDIR/client.pem" -noout -subject
    [[ "$output" == *"O = system:masters"* ]]
    [[ "$output" == *"CN = kubernetes-admin"* ]]
    run openssl verify -CAfile "$BATS_TEST_TMPDIR/ca.pem" "$BATS_TEST_TMPDIR/client.pem"
    [ "$status" -eq 0 ]

    run k get ns
    [ "$status" -eq 0 ]
    [[ "$output" == *"kube-system"*Active* ]]
    install_widget_crd
    run k apply -f - <<'YAML'
apiVersion: example.com/v1
kind: Widget
metadata:
  name: secure
spec:
  replicas: 1
YAML
    [ "$output" = "widget.example.com/secure created" ]
    run k get widgets --no-headers
    [[ "$output" =~ ^secure\ +1\ +fast ]]

    # With the client certificate curl is let in; the server certificate checks out against
    # the CA for 127.0.0.1.
    run curl -sS --cacert "$BATS_TEST_TMPDIR/ca.pem" --cert "$BATS_TEST_TMPDIR/client.pem" \
        --key "$BATS_TEST_TMPDIR/client-key.pem" -w '\n%{http_code}' "$LC_URL/api/v1/namespaces"
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = 200 ]
    # Without one: 401 with a Status body.
    run curl -sS --cacert "$BATS_TEST_TMPDIR/ca.pem" -w '\n%{http_code}' "$LC_URL/api/v1/namespaces"
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = 401 ]
    [ "$(status_of <<<"${lines[0]}")" = "Status 401 Unauthorized" ]
    # Plain HTTP to a TLS port gets nowhere, and curl without the CA rejects the certificate.
    run curl -sS "http://127.0.0.1:$LC_PORT/api" --max-time 5
    [ "$status" -ne 0 ] || [[ "$output" != *APIVersions* ]]
    run curl -sS "$LC_URL/readyz"
    [ "$status" -ne 0 ]
    # Health stays open, like the real server's.
    run curl -sS --cacert "$BATS_TEST_TMPDIR/ca.pem" "$LC_URL/readyz"
    [ "$output" = ok ]
}

@test "--tls --token: a bearer token works with the CA; a wrong token gets 401" {
    restart_with --tls --token s3cret-T
    [ "$(kc_field token)" = s3cret-T ]
    tls_files
    local ca=$BATS_TEST_TMPDIR/ca.pem
    run curl -sS --cacert "$ca" -H 'Authorization: Bearer s3cret-T' -w '\n%{http_code}' \
        "$LC_URL/api/v1/namespaces/default"
    [ "${lines[-1]}" = 200 ]
    [ "$(jget 'd["metadata"]["name"]' <<<"${lines[0]}")" = default ]
    run curl -sS --cacert "$ca" -H 'Authorization: Bearer wrong' -w '\n%{http_code}' \
        "$LC_URL/api/v1/namespaces/default"
    [ "${lines[-1]}" = 401 ]
    [ "$(status_of <<<"${lines[0]}")" = "Status 401 Unauthorized" ]
    # A prefix of the token is not the token.
    run curl -sS --cacert "$ca" -H 'Authorization: Bearer s3cret' -w '\n%{http_code}' \
        "$LC_URL/api/v1/namespaces/default"
    [ "${lines[-1]}" = 401 ]
    run curl -sS --cacert "$ca" -w '\n%{http_code}' "$LC_URL/api/v1/namespaces/default"
    [ "${lines[-1]}" = 401 ]
    # kubectl works with the token alone (the client certificate removed from the kubeconfig).
    sed -i -e '/client-certificate-data:/d' -e '/client-key-data:/d' "$KUBECONFIG"
    run k get ns default -o name
    [ "$status" -eq 0 ]
    [ "$output" = namespace/default ]
    sed -i -e 's/token: s3cret-T/token: wrong/' "$KUBECONFIG"
    run k get ns default -o name
    [ "$status" -ne 0 ]
    [[ "$output" == *"Unauthorized"* || "$output" == *"provide credentials"* ]]
}

@test "--token without TLS enforces the token" {
    restart_with --token plain-T
    [[ "$LC_URL" == http://* ]]
    [ "$(kc_field token)" = plain-T ]
    api_json GET /api/v1/namespaces
    [ "$status_code" = 401 ]
    [ "$(status_of <<<"$body")" = "Status 401 Unauthorized" ]
    run curl -sS -H 'Authorization: Bearer nope' -w '\n%{http_code}' "$LC_URL/api/v1/namespaces"
    [ "${lines[-1]}" = 401 ]
    run curl -sS -H 'Authorization: Bearer plain-T' -w '\n%{http_code}' "$LC_URL/api/v1/namespaces"
    [ "${lines[-1]}" = 200 ]
    # Writes too.
    run curl -sS -X POST -H 'Content-Type: application/json' \
        --data '{"metadata":{"name":"c1"}}' -w '\n%{http_code}' \
        "$LC_URL/api/v1/namespaces/default/configmaps"
    [ "${lines[-1]}" = 401 ]
    run curl -sS -H 'Authorization: Bearer plain-T' -w '\n%{http_code}' \
        "$LC_URL/api/v1/namespaces/default/configmaps/c1"
    [ "${lines[-1]}" = 404 ]
    run curl -sS -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer plain-T' \
        --data '{"metadata":{"name":"c1"}}' -w '\n%{http_code}' \
        "$LC_URL/api/v1/namespaces/default/configmaps"
    [ "${lines[-1]}" = 201 ]
    # (kubectl itself never sends a bearer token over plain http, so it needs --tls.)
    # The fault admin endpoint is protected as well.
    api_json GET /admin/faults
    [ "$status_code" = 401 ]
}

# --- flags ---------------------------------------------------------------------------------

@test "bad flags exit non-zero with a message" {
    run "$LOCALCLUSTER" --listen nope
    [ "$status" -ne 0 ]
    [[ "$output" == *"--listen"*"nope"* ]]
    run "$LOCALCLUSTER" --listen 127.0.0.1:99999
    [ "$status" -ne 0 ]
    [[ "$output" == *"--listen"*"99999"* ]]
    run "$LOCALCLUSTER" --bogus
    [ "$status" -ne 0 ]
    [[ "$output" == *"bogus"* ]]
    [[ "$output" == *"usage: localcluster"* ]]
    run "$LOCALCLUSTER" --listen
    [ "$status" -ne 0 ]
    [[ "$output" == *"listen"* ]]
    run "$LOCALCLUSTER" --fault-write-error-rate 2
    [ "$status" -ne 0 ]
    [[ "$output" == *"--fault-write-error-rate"*"2"* ]]
    run "$LOCALCLUSTER" extra-arg
    [ "$status" -ne 0 ]
    [[ "$output" == *'unexpected argument "extra-arg"'* ]]
    # A port that is taken: a message, not a crash.
    run timeout 10 "$LOCALCLUSTER" --listen "127.0.0.1:$LC_PORT" --kubeconfig-out "$BATS_TEST_TMPDIR/kc3"
    [ "$status" -ne 0 ]
    [ "$status" -ne 124 ]
    [[ "$output" == *"localcluster:"* ]]
    [[ "$output" == *"in use"* ]]
    [ ! -s "$BATS_TEST_TMPDIR/kc3" ]
    run "$LOCALCLUSTER" --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--listen"* ]]
}

# --- fault injection -----------------------------------------------------------------------

@test "PUT /admin/faults rejects bad JSON and unknown or invalid fields with 400" {
    put_faults '{"writeErrorRate":'
    [ "$status_code" = 400 ]
    [ "$(status_of <<<"$body")" = "Status 400 BadRequest" ]
    put_faults '{"bogusKnob":1}'
    [ "$status_code" = 400 ]
    [ "$(status_of <<<"$body")" = "Status 400 BadRequest" ]
    [[ "$(jget 'd["message"]' <<<"$body")" == *'"bogusKnob"'* ]]
    put_faults '{"writeErrorRate":2}'
    [ "$status_code" = 400 ]
    [[ "$(jget 'd["message"]' <<<"$body")" == *'"writeErrorRate"'* ]]
    put_faults '{"watchCutAfter":"3"}'
    [ "$status_code" = 400 ]
    [[ "$(jget 'd["message"]' <<<"$body")" == *'"watchCutAfter"'* ]]
    put_faults '[1,2]'
    [ "$status_code" = 400 ]
    # A rejected PUT changes nothing, even the valid fields in it.
    put_faults '{"watchCutAfter":5,"nope":true}'
    [ "$status_code" = 400 ]
    api_json GET /admin/faults
    [ "$status_code" = 200 ]
    [ "$(jget 'd["writeErrorRate"], d["watchCutAfter"], d["expireAfter"], d["watchDelayMs"]' \
        <<<"$body")" = "(0.0, 0, 0, 0)" ]
    # A good PUT answers with the new settings; absent keys keep their value.
    put_faults '{"watchCutAfter":7}'
    [ "$status_code" = 200 ]
    put_faults '{"watchDelayMs":3}'
    [ "$status_code" = 200 ]
    [ "$(jget 'd["watchCutAfter"], d["watchDelayMs"]' <<<"$body")" = "(7, 3)" ]
}

@test "writeErrorRate 1: writes fail with 429/500/503/504 Status bodies, reads still work" {
    create_cm before
    [ "$status_code" = 201 ]
    put_faults '{"writeErrorRate":1}'
    [ "$status_code" = 200 ]
    # 60 creates; each answer is recorded as CODE HEADERS-FILE BODY-FILE.
    local i d=$BATS_TEST_TMPDIR/w
    mkdir -p "$d"
    for i in $(seq 1 60); do
        echo "$(curl -sS -D "$d/$i.h" -o "$d/$i.b" -w '%{http_code}' -X POST \
            -H 'Content-Type: application/json' --data "{\"metadata\":{\"name\":\"cm$i\"}}" \
            "$LC_URL/api/v1/namespaces/default/configmaps" 2>/dev/null) $d/$i.h $d/$i.b"
    done >"$d/codes"
    # Other write verbs fail the same way.
    for i in $(seq 1 5); do
        echo "$(curl -sS -D "$d/p$i.h" -o "$d/p$i.b" -w '%{http_code}' -X PATCH \
            -H 'Content-Type: application/merge-patch+json' --data '{"data":{"k":"x"}}' \
            "$LC_URL/api/v1/namespaces/default/configmaps/before" 2>/dev/null) $d/p$i.h $d/p$i.b"
        echo "$(curl -sS -D "$d/d$i.h" -o "$d/d$i.b" -w '%{http_code}' -X DELETE \
            "$LC_URL/api/v1/namespaces/default/configmaps/before" 2>/dev/null) $d/d$i.h $d/d$i.b"
    done >>"$d/codes"
    # Every write failed: 000 is an injected closed connection; the others carry a Status
    # whose code and reason match, and 429/503 a Retry-After header. All four codes occur
    # (a miss has probability < 1e-5).
    run python3 - "$d/codes" <<'PY'
import json, sys
reasons = {"429": "TooManyRequests", "500": "InternalError", "503": "ServiceUnavailable",
           "504": "Timeout"}
seen = set()
for line in open(sys.argv[1]):
    code, hfile, bfile = line.split()
    seen.add(code)
    if code == "000":
        continue
    assert code in reasons, "unexpected HTTP " + line
    st = json.load(open(bfile))
    assert (st["kind"], str(st["code"]), st["reason"], st["status"]) == \
        ("Status", code, reasons[code], "Failure"), st
    retry = [l for l in open(hfile) if l.lower().startswith("retry-after:")]
    assert bool(retry) == (code in ("429", "503")), (code, retry)
    if retry:
        assert int(retry[0].split(":")[1]) >= 1
missing = set(reasons) - seen
assert not missing, "never saw %s" % missing
PY
    echo "$output"
    [ "$status" -eq 0 ]
    # Reads work and show nothing was written.
    api_json GET /api/v1/namespaces/default/configmaps
    [ "$status_code" = 200 ]
    [ "$(jget '",".join(i["metadata"]["name"] for i in d["items"])' <<<"$body")" = before ]
    run k get configmap before -o jsonpath='{.data.k}'
    [ "$status" -eq 0 ]
    [ "$output" = v ]
    # Turned off, writes succeed again.
    put_faults '{"writeErrorRate":0}'
    create_cm after
    [ "$status_code" = 201 ]
}

@test "watchCutAfter 2 ends a watch stream after 2 events" {
    local rv
    rv=$(list_rv /api/v1/namespaces/default/configmaps)
    create_cm a
    create_cm b
    create_cm c
    put_faults '{"watchCutAfter":2}'
    [ "$status_code" = 200 ]
    # The watch replays a, b, c from rv, but the server closes it after two events.
    run curl -sS -N --max-time 15 -w '\n%{http_code}' \
        "$LC_URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv"
    [ "$status" -eq 0 ] # closed by the server cleanly, not by --max-time (28)
    [ "${lines[-1]}" = 200 ]
    [ "${#lines[@]}" -eq 3 ]
    [ "$(jget 'd["type"]+" "+d["object"]["metadata"]["name"]' <<<"${lines[0]}")" = "ADDED a" ]
    [ "$(jget 'd["type"]+" "+d["object"]["metadata"]["name"]' <<<"${lines[1]}")" = "ADDED b" ]
    # A live watch is cut the same way; kubectl get -w ends when its stream ends.
    rv=$(list_rv /api/v1/namespaces/default/configmaps)
    curl -sS -N --max-time 15 "$LC_URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv" \
        >"$BATS_TEST_TMPDIR/live.out" 2>&1 &
    local pid=$!
    BG_PIDS="${BG_PIDS:-} $pid"
    create_cm d
    wait_for has_lines "$BATS_TEST_TMPDIR/live.out" 1
    kill -0 "$pid" # one event: still open
    create_cm e
    wait_for proc_gone "$pid"
    [ "$(line_count "$BATS_TEST_TMPDIR/live.out")" -eq 2 ]
    # Turned off, watches stay open.
    put_faults '{"watchCutAfter":0}'
    run curl -sS -N --max-time 1 -o "$BATS_TEST_TMPDIR/open.out" \
        "$LC_URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv"
    [ "$status" -eq 28 ] # still open when curl gave up
    [ "$(line_count "$BATS_TEST_TMPDIR/open.out")" -eq 2 ]
}

@test "expireAfter 2: a watch from an old resourceVersion gets one ERROR 410 Expired event" {
    put_faults '{"expireAfter":2}'
    [ "$status_code" = 200 ]
    local old
    old=$(list_rv /api/v1/namespaces/default/configmaps)
    create_cm x1
    create_cm x2
    create_cm x3
    local recent
    recent=$(jget 'd["metadata"]["resourceVersion"]' <<<"$body")
    create_cm x4
    run curl -sS -N --max-time 15 -D "$BATS_TEST_TMPDIR/hdrs" -w '\n%{http_code}' \
        "$LC_URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$old"
    [ "$status" -eq 0 ] # the server ends the stream
    [ "${lines[-1]}" = 200 ]
    [ "${#lines[@]}" -eq 2 ]
    [ "$(jget 'd["type"]' <<<"${lines[0]}")" = ERROR ]
    [ "$(jget 'd["object"]["kind"]+" "+str(d["object"]["code"])+" "+d["object"]["reason"]' <<<"${lines[0]}")" = "Status 410 Expired" ]
    [[ "$(jget 'd["object"]["message"]' <<<"${lines[0]}")" == "too old resource version: $old "* ]]
    grep -qi '^Content-Type: application/json' "$BATS_TEST_TMPDIR/hdrs"
    # A resourceVersion still retained works: the watch replays x4.
    run curl -sS -N --max-time 1 -o "$BATS_TEST_TMPDIR/recent.out" \
        "$LC_URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$recent"
    [ "$status" -eq 28 ] # open, waiting for more
    [ "$(line_count "$BATS_TEST_TMPDIR/recent.out")" -eq 1 ]
    [ "$(jget 'd["type"]+" "+d["object"]["metadata"]["name"]' <"$BATS_TEST_TMPDIR/recent.out")" = "ADDED x4" ]
    # kubectl recovers: a fresh list and watch work.
    run k get configmaps -o name
    [[ "$output" == *configmap/x4* ]]
}

@test "watchDelayMs delays watch delivery but loses nothing" {
    put_faults '{"watchDelayMs":1500}'
    [ "$status_code" = 200 ]
    local rv out=$BATS_TEST_TMPDIR/delayed.out
    rv=$(list_rv /api/v1/namespaces/default/configmaps)
    curl -sS -N --max-time 30 "$LC_URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv" \
        >"$out" 2>&1 &
    BG_PIDS="${BG_PIDS:-} $!"
    local i
    for i in 1 2 3 4 5; do
        create_cm d$i
        [ "$status_code" = 201 ]
    done
    api_json PATCH /api/v1/namespaces/default/configmaps/d1 '{"data":{"k":"changed"}}' \
        application/merge-patch+json
    [ "$status_code" = 200 ]
    api_json DELETE /api/v1/namespaces/default/configmaps/d2
    [ "$status_code" = 200 ]
    # The writes are done and visible to reads, but the watcher has not been told yet.
    [ "$(line_count "$out")" -eq 0 ]
    # Everything arrives, in order.
    wait_for has_lines "$out" 7
    run python3 -c 'import json,sys
print(" ".join(e["type"][0]+":"+e["object"]["metadata"]["name"] for e in map(json.loads, open(sys.argv[1]))))' "$out"
    [ "$output" = "A:d1 A:d2 A:d3 A:d4 A:d5 M:d1 D:d2" ]
    # kubectl watches still work through the delay.
    put_faults '{"watchDelayMs":100}'
    kubectl get configmaps -w >"$BATS_TEST_TMPDIR/kw.out" 2>&1 &
    BG_PIDS="${BG_PIDS:-} $!"
    wait_for grep -q '^d5 ' "$BATS_TEST_TMPDIR/kw.out"
    create_cm late
    wait_for grep -q '^late ' "$BATS_TEST_TMPDIR/kw.out"
}
