# Shared setup for the e2e tests: a fresh localcluster on a free port per test, a fresh
# kubeconfig and kubectl cache, and cleanup of every process the test started.

: "${LOCALCLUSTER:=$BATS_TEST_DIRNAME/../../build/san/bin/localcluster}"
KUBECTL_DIR=$(dirname "$(readlink -f "$(command -v kubectl)")")
export KUBECTL_127="$KUBECTL_DIR/kubectl.1.27"
export KUBECTL_132="$KUBECTL_DIR/kubectl.1.32"

# start_cluster [extra localcluster flags...]: starts it, waits for /readyz, sets KUBECONFIG,
# LC_PID, LC_URL, LC_PORT.
start_cluster() {
    export KUBECONFIG="$BATS_TEST_TMPDIR/kubeconfig"
    export KUBECACHEDIR="$BATS_TEST_TMPDIR/kcache"
    export HOME="$BATS_TEST_TMPDIR/home"
    mkdir -p "$HOME" "$KUBECACHEDIR"
    rm -f "$KUBECONFIG"
    "$LOCALCLUSTER" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" "$@" \
        >"$BATS_TEST_TMPDIR/localcluster.log" 2>&1 &
    LC_PID=$!
    echo "$LC_PID" >"$BATS_TEST_TMPDIR/lc.pid"
    local i
    for i in $(seq 1 100); do
        if [ -s "$KUBECONFIG" ]; then break; fi
        sleep 0.05
    done
    [ -s "$KUBECONFIG" ] || { cat "$BATS_TEST_TMPDIR/localcluster.log"; return 1; }
    LC_URL=$(awk '/server:/ {print $2; exit}' "$KUBECONFIG")
    LC_PORT=${LC_URL##*:}
    export LC_URL LC_PORT LC_PID
}

# stop_cluster: SIGTERM, wait; fails if the server did not exit cleanly (sanitizer reports
# included).
stop_cluster() {
    [ -n "${LC_PID:-}" ] || return 0
    if kill -0 "$LC_PID" 2>/dev/null; then
        kill -TERM "$LC_PID" 2>/dev/null || true
        local i
        for i in $(seq 1 100); do
            kill -0 "$LC_PID" 2>/dev/null || break
            sleep 0.05
        done
        if kill -0 "$LC_PID" 2>/dev/null; then
            kill -KILL "$LC_PID" 2>/dev/null || true
            echo "localcluster did not stop on SIGTERM" >&2
            LC_PID=
            return 1
        fi
    fi
    local rc=0
    wait "$LC_PID" 2>/dev/null || rc=$?
    LC_PID=
    if [ "$rc" -ne 0 ]; then
        echo "localcluster exited with $rc:" >&2
        tail -n 60 "$BATS_TEST_TMPDIR/localcluster.log" >&2
        return 1
    fi
}

# Kill background helpers the test started (watches) and stop the cluster.
teardown_cluster() {
    local p
    for p in ${BG_PIDS:-}; do kill "$p" 2>/dev/null || true; done
    for p in ${BG_PIDS:-}; do wait "$p" 2>/dev/null || true; done
    BG_PIDS=
    stop_cluster
}

k() { kubectl --request-timeout=20s "$@"; }
k127() { "$KUBECTL_127" --request-timeout=20s "$@"; }

# api METHOD PATH [curl args...]: raw request; prints the body, then the HTTP code on the
# last line.
api() {
    local method=$1 path=$2
    shift 2
    curl -sS -X "$method" -w '\n%{http_code}' "$LC_URL$path" "$@"
}

# api_json METHOD PATH [BODY] [CONTENT-TYPE]: sets $status_code and $body.
api_json() {
    local method=$1 path=$2 data=${3:-} ctype=${4:-application/json} out
    if [ -n "$data" ]; then
        out=$(curl -sS -X "$method" -H "Content-Type: $ctype" --data-binary "$data" \
            -w '\n%{http_code}' "$LC_URL$path")
    else
        out=$(curl -sS -X "$method" -w '\n%{http_code}' "$LC_URL$path")
    fi
    status_code=${out##*$'\n'}
    body=${out%$'\n'*}
}

# jq-free JSON field reader: jget '<python expression over d>' <<<"$json"
jget() {
    python3 -c 'import json,sys; d=json.load(sys.stdin); v=eval(sys.argv[1]); print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$1"
}

# wait_for CMD...: retries for up to 10 s until CMD succeeds.
wait_for() {
    local i
    for i in $(seq 1 200); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.05
    done
    "$@"
}

# A CRD used by many tests: widgets.example.com, namespaced, status subresource, printer
# columns, a schema with validation, defaults and enum.
widget_crd() {
    cat <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wg]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
    additionalPrinterColumns:
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Mode
      type: string
      jsonPath: .spec.mode
    - name: Ready
      type: string
      jsonPath: .status.ready
      priority: 1
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [replicas]
            properties:
              replicas:
                type: integer
                minimum: 0
                maximum: 100
              mode:
                type: string
                enum: [fast, slow]
                default: fast
              name:
                type: string
                maxLength: 10
                pattern: '^[a-z]+$'
              tags:
                type: array
                x-kubernetes-list-type: set
                items:
                  type: string
              template:
                type: object
                x-kubernetes-preserve-unknown-fields: true
          status:
            type: object
            properties:
              ready:
                type: string
              observedGeneration:
                type: integer
              conditions:
                type: array
                items:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
YAML
}

install_widget_crd() {
    widget_crd | k apply -f - >/dev/null
    k wait --for=condition=Established crd/widgets.example.com --timeout=20s >/dev/null
}
