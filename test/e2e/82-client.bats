#!/usr/bin/env bats
# The controller runtime's REST client against localcluster: a read-modify-write that meets 409
# Conflicts retries and loses no update; writes answered 429/5xx with Retry-After are retried by
# the client and all land; and the resource-type NotFound of a missing CRD is told apart from an
# object NotFound.

: "${TOOLS:=$BATS_TEST_DIRNAME/../../build/san/tools}"

setup() {
    load helpers
}

teardown() {
    teardown_cluster
}

@test "conflict retry: 4 writers increment one counter 50 times each; all 200 count, 409s were met" {
    start_cluster --no-kubelet
    run "$TOOLS/client_check" conflict --threads 4 -n 50
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"increments: 200 of 200 counted"* ]]
    local conflicts
    conflicts=$(sed -n 's/.*409 answers: \([0-9]*\);.*/\1/p' <<<"$output")
    [ "$conflicts" -gt 0 ]
    [ "$(k get configmap counter -o jsonpath='{.data.n}')" = 200 ]
}

@test "429/5xx with Retry-After: with 30 % of writes failing, every create lands" {
    start_cluster --no-kubelet --fault-write-error-rate 0.3
    run "$TOOLS/client_check" retry-after -n 40
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"creates: 40 of 40 landed"* ]]
    api_json PUT /admin/faults '{"writeErrorRate":0}'
    [ "$(k get configmaps -o name | grep -c '^configmap/ra-')" = 40 ]
}

@test "a missing CRD is a resource-type NotFound (no details.name); a missing object names itself" {
    start_cluster --no-kubelet
    api_json GET /apis/sandbox.opensandbox.io/v1alpha1/namespaces/default/pools/p1
    [ "$status_code" = 404 ]
    [ "$(jget 'd.get("details",{}).get("name","")' <<<"$body")" = "" ]
    k apply -f "$BATS_TEST_DIRNAME/../../config/crd/bases" >/dev/null
    wait_for curl -sf "$LC_URL/apis/sandbox.opensandbox.io/v1alpha1/namespaces/default/pools"
    api_json GET /apis/sandbox.opensandbox.io/v1alpha1/namespaces/default/pools/p1
    [ "$status_code" = 404 ]
    [ "$(jget 'd["details"]["name"]' <<<"$body")" = p1 ]
}
