#!/usr/bin/env bats
# The controller runtime's informer (list + watch into a cache, work queue reconciles) against
# localcluster with fault injection: 5 % of writes fail, every watch is cut after 50 events, only
# the last 200 versions are kept (older ones answer 410 Expired), and for a while watch delivery
# lags (so versions really expire and the informer relists). At the end the informer's cache
# must equal the server's state and every key's last reconcile must have seen its final state.
# Over plain HTTP, TLS with kind-style client certificates, and bearer tokens.

: "${TOOLS:=$BATS_TEST_DIRNAME/../../build/san/tools}"

setup() {
    load helpers
}

teardown() {
    teardown_cluster
}

FAULTS=(--no-kubelet --fault-write-error-rate 0.05 --fault-watch-cut-after 50
    --fault-expire-after 200)

# check N [informer_check args...]: runs the tool, shows its summary, asserts the faults bit.
check() {
    local n=$1
    shift
    run "$TOOLS/informer_check" -n "$n" --lag-ms 1000 "$@"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *PASS* ]]
    [[ "$output" == *"converged:          yes"* ]]
    # the faults really bit: writes failed, watches were cut and restarted, versions expired
    local failed restarts relists
    failed=$(sed -n 's/^writes: .*(\([0-9]*\) failed and retried.*/\1/p' <<<"$output")
    restarts=$(sed -n 's/^informer: .* \([0-9]*\) watch restarts.*/\1/p' <<<"$output")
    relists=$(sed -n 's/^informer: .* lists, \([0-9]*\) relists.*/\1/p' <<<"$output")
    echo "failed=$failed restarts=$restarts relists=$relists"
    [ "$failed" -gt 0 ]
    [ "$restarts" -gt 0 ]
    [ "$relists" -gt 0 ]
}

@test "informer: 10,000 objects under write errors, watch cuts and expiry over HTTP" {
    start_cluster "${FAULTS[@]}"
    check 10000 --kubeconfig "$KUBECONFIG"
}

@test "informer: TLS with the kubeconfig's client certificates" {
    start_cluster "${FAULTS[@]}" --tls
    grep -q 'client-certificate-data:' "$KUBECONFIG"
    grep -q 'client-key-data:' "$KUBECONFIG"
    [[ "$LC_URL" == https://* ]]
    check 2000 --kubeconfig "$KUBECONFIG"
}

# token_kubeconfig SERVER TOKEN [CA-DATA]: a kubeconfig that authenticates with the token only.
token_kubeconfig() {
    local ca=""
    [ -n "${3:-}" ] && ca="    certificate-authority-data: $3"
    cat <<EOF2
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: $1
$ca
users:
- name: u
  user:
    token: $2
contexts:
- name: ctx
  context:
    cluster: c
    user: u
current-context: ctx
EOF2
}

@test "informer: TLS with a bearer token and no client certificate" {
    start_cluster "${FAULTS[@]}" --tls --token s3cret-t0ken
    local ca
    ca=$(awk '/certificate-authority-data:/ {print $2; exit}' "$KUBECONFIG")
    token_kubeconfig "$LC_URL" s3cret-t0ken "$ca" >"$BATS_TEST_TMPDIR/token.kubeconfig"
    # a wrong token is refused: the tool reports it and fails
    token_kubeconfig "$LC_URL" wrong "$ca" >"$BATS_TEST_TMPDIR/bad.kubeconfig"
    run "$TOOLS/informer_check" -n 10 --kubeconfig "$BATS_TEST_TMPDIR/bad.kubeconfig"
    [ "$status" -ne 0 ]
    check 2000 --kubeconfig "$BATS_TEST_TMPDIR/token.kubeconfig"
}

@test "informer: a bearer token over plain HTTP" {
    start_cluster "${FAULTS[@]}" --token s3cret-t0ken
    token_kubeconfig "$LC_URL" s3cret-t0ken >"$BATS_TEST_TMPDIR/token.kubeconfig"
    check 1000 --kubeconfig "$BATS_TEST_TMPDIR/token.kubeconfig"
}

@test "informer: waits for a missing CRD, then syncs once it is installed" {
    start_cluster --no-kubelet
    run "$TOOLS/informer_check" --crd-wait --kubeconfig "$KUBECONFIG"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"synced before the CRD existed: no"* ]]
    [[ "$output" == *"new widget in the cache: yes"* ]]
    # logged once, not at every retry
    [ "$(grep -c 'waiting for resource type' <<<"$output")" -eq 1 ]
}
