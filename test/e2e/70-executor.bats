#!/usr/bin/env bats
# The task-executor: as a sidecar on localcluster (tasks run in the main container's mount
# namespace, with its environment and uid), timeouts that kill the whole process group, restart
# recovery (adopt a running task, keep a finished one), and bad input. Needs root.

setup() {
    load helpers
    EXECUTOR=${EXECUTOR:-$(dirname "$LOCALCLUSTER")/task-executor}
    MARK="te-e2e-$$-$BATS_TEST_NUMBER-$RANDOM"
    TE_PID=
    # the kubelet creates missing mount points on the host: remove /workspace after if it did
    WS_EXISTED=
    [ ! -e /workspace ] || WS_EXISTED=1
}

teardown() {
    [ -n "$TE_PID" ] && kill -KILL "$TE_PID" 2>/dev/null || true
    [ -n "$TE_PID" ] && wait "$TE_PID" 2>/dev/null || true
    teardown_cluster
    [ -n "$WS_EXISTED" ] || rmdir /workspace 2>/dev/null || true
    # no task process may be left behind
    local left
    left=$(grep -lsa "$MARK" /proc/[0-9]*/environ 2>/dev/null | awk -F/ '{print $3}' | tr '\n' ' ')
    if [ -n "$left" ]; then
        kill -KILL $left 2>/dev/null || true
        echo "processes left behind: $left" >&2
        return 1
    fi
}

# te METHOD PATH [BODY]: a request to the executor at $TE; sets $status_code and $body.
te() {
    local out
    out=$(curl -sS -X "$1" ${TOKEN:+-H "Authorization: Bearer $TOKEN"} \
        ${3:+--data-binary "$3"} -w '\n%{http_code}' "$TE$2")
    status_code=${out##*$'\n'}
    body=${out%$'\n'*}
}

task_state() { # task_state NAME -> waiting|running|terminated
    te GET "/tasks/$1"
    jget 'list(d["processStatus"].keys())[0]' <<<"$body"
}
task_terminated() { [ "$(task_state "$1")" = terminated ]; }
task_running() { [ "$(task_state "$1")" = running ]; }

# sandbox_pod UID: the main container (sleep infinity, SANDBOX_MAIN_CONTAINER=main, an emptyDir
# at /workspace with a marker file only it mounts) and the executor as a sidecar.
sandbox_pod() {
    cat <<YAML | k apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata:
  name: sandbox
spec:
  shareProcessNamespace: true
  volumes:
  - name: ws
    emptyDir: {}
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo marker-$MARK > /workspace/marker && exec sleep infinity"]
    env:
    - {name: SANDBOX_MAIN_CONTAINER, value: main}
    - {name: MAIN_ONLY_VAR, value: from-main}
    - {name: TE_MARK, value: "$MARK"}
    securityContext:
      runAsUser: $1
    volumeMounts:
    - {name: ws, mountPath: /workspace}
  - name: task-executor
    image: task-executor:v1
    args: ["--enable-sidecar-mode", "--main-container-name", "main", "--data-dir", "$BATS_TEST_TMPDIR/te-data"]
YAML
    wait_for pod_ready sandbox
    TE="http://$(k get pod sandbox -o jsonpath='{.status.podIP}'):5758"
    wait_for curl -sf "$TE/health"
}
pod_ready() {
    [ "$(k get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}

# start_executor [flags]: the executor as a plain process (non-sidecar) on a free port.
start_executor() {
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    TE_MARK=$MARK "$EXECUTOR" --listen-addr "127.0.0.1:$port" --data-dir "$BATS_TEST_TMPDIR/data" \
        --stop-grace-seconds 2 "$@" >>"$BATS_TEST_TMPDIR/te.log" 2>&1 &
    TE_PID=$!
    TE="http://127.0.0.1:$port"
    wait_for curl -sf "$TE/health"
}

@test "sidecar: a task runs in the main container's mount namespace with its env and uid" {
    start_cluster --image-map "task-executor=$EXECUTOR"
    [ ! -e /workspace/marker ] || [ "$(cat /workspace/marker)" != "marker-$MARK" ]
    sandbox_pod 65534
    te POST /setTasks '[{"name":"cat","process":{"command":["cat","/workspace/marker"]}}]'
    [ "$status_code" = 200 ]
    wait_for task_terminated cat
    te GET /tasks/cat
    [ "$(jget 'd["processStatus"]["terminated"]["exitCode"]' <<<"$body")" = 0 ]
    [ "$(cat "$BATS_TEST_TMPDIR/te-data/cat/stdout.log")" = "marker-$MARK" ]

    te POST /setTasks '[{"name":"env","process":{"command":["env"],"env":[{"name":"TASK_VAR","value":"t1"}]}}]'
    wait_for task_terminated env
    grep -qx 'MAIN_ONLY_VAR=from-main' "$BATS_TEST_TMPDIR/te-data/env/stdout.log"
    grep -qx 'TASK_VAR=t1' "$BATS_TEST_TMPDIR/te-data/env/stdout.log"

    te POST /setTasks '[{"name":"uid","process":{"command":["id","-u"],"workingDir":"/workspace"}}]'
    wait_for task_terminated uid
    [ "$(cat "$BATS_TEST_TMPDIR/te-data/uid/stdout.log")" = 65534 ]
    te GET /getTasks
    [ "$(jget 'len(d)' <<<"$body")" = 1 ]
    [ "$(jget 'd[0]["name"]' <<<"$body")" = uid ]
}

@test "main container: the executor as a pod's only command listens on \$POD_IP:5758 and runs tasks in its own container" {
    start_cluster --image-map "task-executor=$EXECUTOR"
    local scratch="$BATS_TEST_TMPDIR/scratch" # the mount point (created on the host, empty)
    cat <<YAML | k apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata:
  name: solo
spec:
  volumes:
  - name: scratch
    emptyDir: {}
  containers:
  - name: task-executor
    image: task-executor:v1
    args: ["--data-dir", "$BATS_TEST_TMPDIR/te-data"]
    env:
    - {name: TE_MARK, value: "$MARK"}
    volumeMounts:
    - {name: scratch, mountPath: $scratch}
YAML
    wait_for pod_ready solo
    # no --listen-addr: the default is the pod IP
    TE="http://$(k get pod solo -o jsonpath='{.status.podIP}'):5758"
    wait_for curl -sf "$TE/health"
    te POST /setTasks '[{"name":"own","process":{"command":["sh","-c","echo in-pod > f && cat '"$scratch"'/f"],"workingDir":"'"$scratch"'"}}]'
    [ "$status_code" = 200 ]
    wait_for task_terminated own
    te GET /tasks/own
    [ "$(jget 'd["processStatus"]["terminated"]["exitCode"]' <<<"$body")" = 0 ]
    [ "$(cat "$BATS_TEST_TMPDIR/te-data/own/stdout.log")" = in-pod ]
    # the emptyDir was mounted in the executor's container only: the host's directory is empty
    [ ! -e "$scratch/f" ]
}

@test "timeout: SIGTERM then SIGKILL to the whole process group, reported as TaskTimeout 137" {
    start_executor
    te POST /tasks '{"name":"slow","process":{"command":["sh","-c","sleep 100 & sleep 100"],"timeoutSeconds":2}}'
    [ "$status_code" = 201 ]
    wait_for task_running slow
    # the long-poll answers when the task ends
    local v
    v=$(curl -sS -D - -o /dev/null "$TE/getTasks" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-tasks-version" {print $2}')
    [ -n "$v" ]
    body=$(curl -sS --max-time 13 "$TE/getTasks?version=$v&timeoutSeconds=12")
    [ "$(jget 'd[0]["processStatus"]["terminated"]["reason"]' <<<"$body")" = TaskTimeout ]
    [ "$(jget 'd[0]["processStatus"]["terminated"]["exitCode"]' <<<"$body")" = 137 ]
    sleep 0.2
    [ -z "$(grep -lsa "$MARK" /proc/[0-9]*/environ | grep -v "/$TE_PID/" || true)" ]
    # a task that ignores SIGTERM is killed after the grace period
    te POST /setTasks '[{"name":"stubborn","process":{"command":["sh","-c","trap \"\" TERM; sleep 100 & wait; sleep 100"],"timeoutSeconds":1}}]'
    [ "$status_code" = 200 ]
    wait_for task_terminated stubborn
    te GET /tasks/stubborn
    [ "$(jget 'd["processStatus"]["terminated"]["reason"]' <<<"$body")" = TaskTimeout ]
}

@test "restart: a running task is adopted and its end reported; a finished one is kept, not re-run" {
    start_executor
    te POST /tasks '{"name":"long","process":{"command":["sh","-c","echo run >> '"$BATS_TEST_TMPDIR"'/runs; sleep 3; exit 7"]}}'
    wait_for task_running long
    kill -KILL "$TE_PID"
    wait "$TE_PID" 2>/dev/null || true
    start_executor
    task_running long
    wait_for task_terminated long
    te GET /tasks/long
    [ "$(jget 'd["processStatus"]["terminated"]["exitCode"]' <<<"$body")" = 7 ]
    kill -KILL "$TE_PID"
    wait "$TE_PID" 2>/dev/null || true
    start_executor
    te GET /tasks/long
    [ "$(jget 'd["processStatus"]["terminated"]["exitCode"]' <<<"$body")" = 7 ]
    # re-sending the set does not run it again
    te POST /setTasks '[{"name":"long","process":{"command":["sh","-c","echo run >> '"$BATS_TEST_TMPDIR"'/runs; exit 7"]}}]'
    [ "$status_code" = 200 ]
    sleep 0.3
    [ "$(wc -l <"$BATS_TEST_TMPDIR/runs")" = 1 ]
    # a corrupt record is reported, not fatal
    kill -KILL "$TE_PID"
    wait "$TE_PID" 2>/dev/null || true
    mkdir -p "$BATS_TEST_TMPDIR/data/broken"
    echo '{"name":"bro' >"$BATS_TEST_TMPDIR/data/broken/task.json"
    start_executor
    te GET /tasks/broken
    [ "$(jget 'd["processStatus"]["terminated"]["reason"]' <<<"$body")" = StateCorrupt ]
    te GET /tasks/long
    [ "$status_code" = 200 ]
}

@test "bad input: each a 4xx with a JSON message; the executor stays up" {
    TOKEN=s3cret
    printf '%s\n' "$TOKEN" >"$BATS_TEST_TMPDIR/token"
    start_executor --token-file "$BATS_TEST_TMPDIR/token"
    te POST /setTasks '{'
    [ "$status_code" = 400 ]
    [[ "$(jget 'd["message"]' <<<"$body")" == *"malformed JSON"* ]]
    te POST /setTasks '[{"name":"a","bogus":1,"process":{"command":["true"]}}]'
    [ "$status_code" = 400 ]
    [[ "$body" == *'unknown field \"bogus\"'* ]]
    te POST /setTasks '[{"name":"a","process":{"args":["x"]}}]'
    [ "$status_code" = 400 ]
    [[ "$body" == *"process.command: required"* ]]
    te POST /tasks '{"name":"../../etc","process":{"command":["true"]}}'
    [ "$status_code" = 400 ]
    [[ "$body" == *"not a valid task name"* ]]
    te GET /tasks/..%2F..%2Fetc
    [ "$status_code" = 400 ]
    head -c 10485760 /dev/zero | tr '\0' ' ' >"$BATS_TEST_TMPDIR/big"
    status_code=$(curl -sS -o "$BATS_TEST_TMPDIR/out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        --data-binary @"$BATS_TEST_TMPDIR/big" "$TE/setTasks")
    [ "$status_code" = 413 ]
    grep -q 'Request Entity Too Large' "$BATS_TEST_TMPDIR/out"
    te POST /tasks '{"name":"first","process":{"command":["sleep","30"]}}'
    [ "$status_code" = 201 ]
    te POST /tasks '{"name":"second","process":{"command":["sleep","30"]}}'
    [ "$status_code" = 409 ]
    [[ "$body" == *"one task at a time"* ]]
    te POST /tasks '{"name":"first","process":{"command":["sleep","30"]}}'
    [ "$status_code" = 409 ]
    TOKEN=wrong te GET /getTasks
    [ "$status_code" = 401 ]
    [ "$(jget 'd["code"]' <<<"$body")" = Unauthorized ]
    TOKEN= te GET /getTasks
    [ "$status_code" = 401 ]
    te GET /nowhere
    [ "$status_code" = 404 ]
    te GET /tasks/missing
    [ "$status_code" = 404 ]
    [ "$(jget 'd["code"]' <<<"$body")" = "Not Found" ]
    # still up, and stop removes the running task
    te DELETE /tasks/first
    [ "$status_code" = 204 ]
    wait_for test "$(curl -sS -H "Authorization: Bearer $TOKEN" "$TE/getTasks")" = "[]"
    [ ! -e "$BATS_TEST_TMPDIR/data/first" ]
}
