#!/usr/bin/env bats
# The kubelet: the node, pods as local processes with loopback pod IPs, namespaces and
# volumes, status, probes, restarts, deletion, logs, garbage collection, bad input, and that
# nothing outlives localcluster. Needs root (namespaces).

setup() {
    load helpers
    # every pod process of this test carries this marker in its environment
    MARK="lc-e2e-$$-$BATS_TEST_NUMBER-$RANDOM" # not exported: only pods carry it
    start_cluster
}

teardown() {
    teardown_cluster
    # whatever the test did, no pod process may outlive localcluster
    local left
    left=$(marked_pids)
    if [ -n "$left" ]; then
        echo "pod processes left behind: $left" >&2
        kill -KILL $left 2>/dev/null || true
        return 1
    fi
}

# marked_pids: processes whose environment holds $MARK.
marked_pids() {
    grep -lsa "$MARK" /proc/[0-9]*/environ 2>/dev/null | awk -F/ '{print $3}' | tr '\n' ' ' |
        sed 's/ $//'
}

# pod NAME CONTAINERS-YAML [SPEC-EXTRA-YAML]: a pod whose containers get the marker env.
# CONTAINERS-YAML: lines "- name: ...", indented by 2; the marker is appended to each container
# by mark_env below (callers write `env: [MARK]` placeholders).
apply() { sed "s/__MARK__/$MARK/g" | k apply -f - >/dev/null; }

jp() { k get "$1" -o jsonpath="$2"; }

phase_is() { [ "$(jp "pod/$1" '{.status.phase}')" = "$2" ]; }
ready_is() { [ "$(jp "pod/$1" '{.status.conditions[?(@.type=="Ready")].status}')" = "$2" ]; }
pod_gone() { ! k get pod "$1" >/dev/null 2>&1; }
logs_have() { k logs "$@" 2>/dev/null | grep -q -- "${LOG_WANT}"; }
ctr_field() { jp "pod/$1" "{.status.containerStatuses[?(@.name==\"$2\")].$3}"; }

# wait_until SECONDS CMD...: retries CMD every 0.1 s until it succeeds or time runs out.
wait_until() {
    local end=$((SECONDS + $1)) i
    shift
    while [ "$SECONDS" -lt "$end" ]; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    "$@"
}

# wait_long CMD...: like wait_for, for up to 60 s.
wait_long() { wait_until 60 "$@"; }

@test "the node is Ready; a pod is bound, runs with a loopback pod IP, POD_IP, the downward API and \$(VAR) expansion" {
    run k get nodes
    [[ "${lines[1]}" =~ ^localcluster\ +Ready\ +control-plane\ .*v1\.32\.0$ ]]
    [ "$(jp node/localcluster '{.status.addresses[?(@.type=="InternalIP")].address}')" = 127.0.0.1 ]
    [ "$(jp node/localcluster '{.status.nodeInfo.kubeletVersion}')" = v1.32.0 ]
    mkdir -p "$BATS_TEST_TMPDIR/wd"
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: env, labels: {app: demo}}
spec:
  containers:
  - name: main
    image: busybox
    workingDir: $BATS_TEST_TMPDIR/wd
    command: ["sh", "-c"]
    args:
    - echo "ip=\$POD_IP field=\$MY_IP name=\$MY_NAME ns=\$MY_NS uid=\$MY_UID app=\$MY_APP";
      echo "expanded=\$(GREETING)" 'kept=\$(UNDEFINED) escaped=\$\$(GREETING)' "pwd=\$(pwd)";
      sleep 1000
    env:
    - {name: MARK, value: __MARK__}
    - {name: WHO, value: world}
    - {name: GREETING, value: "hello-\$(WHO)"}
    - name: MY_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: MY_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: MY_NS
      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
    - name: MY_UID
      valueFrom: {fieldRef: {fieldPath: metadata.uid}}
    - name: MY_APP
      valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}
YAML
    wait_for ready_is env True
    [ "$(jp pod/env '{.spec.nodeName}')" = localcluster ]
    [ "$(jp pod/env '{.status.phase}')" = Running ]
    ip=$(jp pod/env '{.status.podIP}')
    [[ "$ip" =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ ]]
    [ "$ip" != 127.0.0.1 ]
    [ "$(jp pod/env '{.status.podIPs[0].ip}')" = "$ip" ]
    uid=$(jp pod/env '{.metadata.uid}')
    LOG_WANT="ip=$ip field=$ip name=env ns=default uid=$uid app=demo" wait_for logs_have env
    run k logs env
    [[ "$output" == *"expanded=hello-world kept=\$(UNDEFINED) escaped=\$(GREETING) pwd=$BATS_TEST_TMPDIR/wd"* ]]
    # status details a user reads
    [ "$(ctr_field env main 'state.running.startedAt')" != "" ]
    [[ "$(ctr_field env main containerID)" == localcluster://* ]]
    [ "$(ctr_field env main restartCount)" = 0 ]
    for c in PodScheduled Initialized ContainersReady Ready; do
        [ "$(jp pod/env "{.status.conditions[?(@.type==\"$c\")].status}")" = True ]
    done
    run k get events --field-selector involvedObject.name=env -o jsonpath='{.items[*].reason}'
    [[ "$output" == *Scheduled*Pulled*Created*Started* ]]
    # each pod gets its own address
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: env2}
spec:
  containers:
  - {name: main, image: busybox, command: [sleep, "1000"], env: [{name: MARK, value: __MARK__}]}
YAML
    wait_for ready_is env2 True
    ip2=$(jp pod/env2 '{.status.podIP}')
    [ "$ip2" != "$ip" ] && [ "$ip2" != 127.0.0.1 ]
}

@test "shareProcessNamespace: true lets one container see the other's processes; false does not" {
    for share in true false; do
        apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: share-$share}
spec:
  shareProcessNamespace: $share
  containers:
  - {name: a, image: busybox, command: [sleep, "4243"], env: [{name: MARK, value: __MARK__}]}
  - name: b
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    command: ["sh", "-c"]
    args:
    - for i in \$(seq 1 50); do
        if for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \$f; echo; done | grep -q '^sleep 424[3]';
        then echo SEEN; sleep 1000; fi;
        sleep 0.1;
      done; echo UNSEEN; sleep 1000
YAML
    done
    LOG_WANT=SEEN wait_long logs_have share-true -c b
    LOG_WANT=UNSEEN wait_long logs_have share-false -c b
    [ "$(k logs share-true -c b)" = SEEN ]
    [ "$(k logs share-false -c b)" = UNSEEN ]
    # the shared pod has one PID namespace: both containers' processes in it
    [ "$(jp pod/share-true '{.status.phase}')" = Running ]
}

@test "an emptyDir mounted in container A at /workspace is absent from B's view of /workspace" {
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: vol}
spec:
  volumes: [{name: ws, emptyDir: {}}]
  containers:
  - name: a
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    volumeMounts: [{name: ws, mountPath: /workspace}]
    command: ["sh", "-c", "echo secret > /workspace/from-a-\$(MARK) && cat /workspace/from-a-\$(MARK) && echo WROTE; sleep 1000"]
  - name: b
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    command: ["sh", "-c", "sleep 1; if [ -e /workspace/from-a-\$(MARK) ]; then echo PRESENT; else echo ABSENT; fi; sleep 1000"]
YAML
    LOG_WANT=WROTE wait_long logs_have vol -c a
    run k logs vol -c a
    [[ "$output" == *secret* ]]
    LOG_WANT=ABSENT wait_long logs_have vol -c b
    # nor does the host see it: the volume is bind-mounted only inside A
    [ ! -e "/workspace/from-a-$MARK" ]
}

@test "python3 http.server on \$(POD_IP) with an httpGet readiness probe becomes Ready and answers curl from the host" {
    echo "hello from the pod" >"$BATS_TEST_TMPDIR/index.html"
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: web
    image: python
    workingDir: $BATS_TEST_TMPDIR
    env: [{name: MARK, value: __MARK__}]
    command: ["python3", "-m", "http.server", "--bind", "\$(POD_IP)", "8080"]
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /index.html, port: http}
      periodSeconds: 1
YAML
    wait_long ready_is web True
    ip=$(jp pod/web '{.status.podIP}')
    run curl -sS --max-time 5 "http://$ip:8080/index.html"
    [ "$status" -eq 0 ]
    [ "$output" = "hello from the pod" ]
    [ "$(ctr_field web web ready)" = true ]
    # nothing listens on the pod IP of another pod
    run curl -sS --max-time 2 "http://127.0.0.1:8080/index.html"
    [ "$status" -ne 0 ]
}

@test "readiness: tcpSocket and exec probes gate Ready; a failing one keeps the pod unready" {
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: probes}
spec:
  containers:
  - name: tcp
    image: python
    env: [{name: MARK, value: __MARK__}]
    command: ["python3", "-c", "import socket,time; s=socket.socket(); s.bind(('\$(POD_IP)', 9090)); s.listen(); time.sleep(1000)"]
    readinessProbe: {tcpSocket: {port: 9090}, periodSeconds: 1}
  - name: exec
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    command: ["sh", "-c", "sleep 1; touch /tmp/ready-\$(MARK); sleep 1000"]
    readinessProbe: {exec: {command: ["sh", "-c", "test -e /tmp/ready-\$MARK"]}, periodSeconds: 1}
  - name: never
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    command: [sleep, "1000"]
    readinessProbe: {exec: {command: ["false"]}, periodSeconds: 1, failureThreshold: 1}
YAML
    wait_long eval '[ "$(ctr_field probes tcp ready)" = true ] && [ "$(ctr_field probes exec ready)" = true ]'
    ready_is probes False
    [ "$(ctr_field probes never ready)" = false ]
    [ "$(jp pod/probes '{.status.conditions[?(@.type=="Ready")].message}')" = "containers with unready status: [never]" ]
    wait_for eval 'k get events --field-selector involvedObject.name=probes -o jsonpath="{.items[*].message}" | grep -q "Readiness probe failed"'
    rm -f "/tmp/ready-$MARK"
}

@test "a crashing container shows restarts and CrashLoopBackOff; kubectl logs --previous shows the last run" {
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  containers:
  - name: c
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    command: ["sh", "-c", "echo run at \$(date +%s%N); exit 3"]
YAML
    wait_long eval '[ "$(ctr_field crash c state.waiting.reason)" = CrashLoopBackOff ]'
    [ "$(ctr_field crash c restartCount)" -ge 1 ]
    [ "$(ctr_field crash c lastState.terminated.exitCode)" = 3 ]
    [ "$(ctr_field crash c lastState.terminated.reason)" = Error ]
    [[ "$(ctr_field crash c state.waiting.message)" == "back-off 10s restarting failed container=c pod=crash_default("*")" ]]
    run k get pod crash
    [[ "${lines[1]}" =~ ^crash\ +0/1\ +CrashLoopBackOff\ +1\  ]]
    [ "$(jp pod/crash '{.status.phase}')" = Running ]
    run k logs crash
    [[ "$output" == "run at "* ]]
    cur=$output
    run k logs crash --previous
    [[ "$output" == "run at "* ]]
    [ "$output" != "$cur" ]
    run k describe pod crash
    [[ "$output" == *"Back-off restarting failed container c in pod crash_default"* ]]
}

@test "restartPolicy Never and OnFailure: phases Succeeded and Failed; OnFailure restarts a failure" {
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: ok}
spec:
  restartPolicy: Never
  containers: [{name: c, image: busybox, command: ["true"], env: [{name: MARK, value: __MARK__}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  restartPolicy: Never
  containers: [{name: c, image: busybox, command: ["sh", "-c", "exit 7"], env: [{name: MARK, value: __MARK__}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: retry}
spec:
  restartPolicy: OnFailure
  containers:
  - name: c
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    command: ["sh", "-c", "if [ -e $BATS_TEST_TMPDIR/second ]; then exit 0; fi; touch $BATS_TEST_TMPDIR/second; exit 1"]
YAML
    wait_long phase_is ok Succeeded
    [ "$(ctr_field ok c state.terminated.reason)" = Completed ]
    wait_long phase_is bad Failed
    [ "$(ctr_field bad c state.terminated.exitCode)" = 7 ]
    [ "$(ctr_field bad c restartCount)" = 0 ]
    wait_long phase_is retry Succeeded
    [ "$(ctr_field retry c restartCount)" = 1 ]
    ready_is ok False
    # a finished pod is deleted at once
    k delete pod ok bad retry --timeout=20s
}

@test "init containers run first, in order; the containers start after them" {
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: init}
spec:
  volumes: [{name: shared, emptyDir: {}}]
  initContainers:
  - name: one
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    volumeMounts: [{name: shared, mountPath: /data}]
    command: ["sh", "-c", "sleep 0.5; echo one >> /data/order"]
  - name: two
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    volumeMounts: [{name: shared, mountPath: /data}]
    command: ["sh", "-c", "echo two >> /data/order"]
  containers:
  - name: main
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    volumeMounts: [{name: shared, mountPath: /data}]
    command: ["sh", "-c", "echo main >> /data/order; cat /data/order | tr '\\\\n' ' '; echo; sleep 1000"]
YAML
    LOG_WANT="one two main" wait_long logs_have init -c main
    wait_for ready_is init True
    [ "$(jp pod/init '{.status.initContainerStatuses[*].state.terminated.reason}')" = "Completed Completed" ]
    [ "$(jp pod/init '{.status.conditions[?(@.type=="Initialized")].status}')" = True ]
}

@test "a failing liveness probe restarts the container" {
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    command: ["sh", "-c", "echo started; touch /tmp/healthy-\$(MARK); sleep 1000"]
    livenessProbe:
      exec: {command: ["sh", "-c", "rm /tmp/healthy-\$MARK"]}
      periodSeconds: 1
      failureThreshold: 2
YAML
    wait_long eval '[ "$(ctr_field live c restartCount)" -ge 1 ]'
    [ -n "$(ctr_field live c lastState.terminated.finishedAt)" ]
    run k get events --field-selector involvedObject.name=live -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}'
    [[ "$output" == *"Unhealthy: Liveness probe failed"* ]]
    [[ "$output" == *"Killing: Container c failed liveness probe, will be restarted"* ]]
    rm -f "/tmp/healthy-$MARK"
}

@test "a startupProbe holds readiness back until it succeeds" {
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: slow}
spec:
  containers:
  - name: c
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    command: ["sh", "-c", "sleep 2; touch /tmp/started-\$(MARK); sleep 1000"]
    startupProbe:
      exec: {command: ["test", "-e", "/tmp/started-__MARK__"]}
      periodSeconds: 1
      failureThreshold: 30
YAML
    wait_for eval '[ "$(ctr_field slow c state.running.startedAt)" != "" ]'
    [ "$(ctr_field slow c started)" = false ]
    [ "$(ctr_field slow c ready)" = false ]
    wait_long ready_is slow True
    [ "$(ctr_field slow c started)" = true ]
    [ "$(ctr_field slow c restartCount)" = 0 ]
    rm -f "/tmp/started-$MARK"
}

@test "a deleted pod goes Terminating, its process gets SIGTERM (a trap writes a file), then it is gone" {
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: term}
spec:
  containers:
  - name: c
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    command: ["sh", "-c", "trap 'sleep 1; echo got-TERM > $BATS_TEST_TMPDIR/trap; exit 0' TERM; echo up; while true; do sleep 0.1; done"]
YAML
    LOG_WANT=up wait_for logs_have term
    k delete pod term --wait=false
    run k get pod term
    [[ "${lines[1]}" =~ ^term\ +1/1\ +Terminating ]]
    [ -n "$(jp pod/term '{.metadata.deletionTimestamp}')" ]
    wait_long pod_gone term
    [ "$(cat "$BATS_TEST_TMPDIR/trap")" = got-TERM ]
    [ -z "$(marked_pids)" ]
    run k get events --field-selector involvedObject.name=term -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}'
    [[ "$output" == *"Killing: Stopping container c"* ]]
}

@test "a process that ignores SIGTERM is killed after terminationGracePeriodSeconds; --force --grace-period=0 kills at once" {
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    command: ["sh", "-c", "trap '' TERM; echo up; sleep 1000 & while true; do sleep 0.1; done"]
---
apiVersion: v1
kind: Pod
metadata: {name: forced}
spec:
  containers:
  - name: c
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    command: ["sh", "-c", "trap '' TERM; echo up; sleep 1000"]
YAML
    LOG_WANT=up wait_for logs_have stubborn
    LOG_WANT=up wait_for logs_have forced
    start=$SECONDS
    k delete pod stubborn --timeout=30s
    [ $((SECONDS - start)) -ge 1 ]
    k delete pod forced --force --grace-period=0 2>/dev/null
    pod_gone forced
    wait_for eval '[ -z "$(marked_pids)" ]'
}

@test "owner-reference garbage collection deletes the pods of a deleted owner, asynchronously" {
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: owner}\n' | k apply -f - >/dev/null
    uid=$(jp configmap/owner '{.metadata.uid}')
    apply <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: child
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owner, uid: "$uid"}]
spec:
  containers:
  - {name: c, image: busybox, command: [sleep, "1000"], env: [{name: MARK, value: __MARK__}]}
YAML
    wait_for ready_is child True
    k delete configmap owner --wait=false >/dev/null
    wait_long pod_gone child
    wait_for eval '[ -z "$(marked_pids)" ]'
}

@test "kubectl logs: -c, --tail, -f that ends with the container, and errors for unknown containers" {
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: talk}
spec:
  restartPolicy: Never
  containers:
  - name: a
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    command: ["sh", "-c", "for i in 1 2 3 4 5; do echo line \$i; sleep 0.3; done; echo to-stderr >&2"]
  - {name: b, image: busybox, command: ["sh", "-c", "echo from-b; sleep 1000"], env: [{name: MARK, value: __MARK__}]}
YAML
    wait_for eval '[ "$(ctr_field talk a state.running.startedAt)" != "" ] || [ "$(ctr_field talk a state.terminated.reason)" != "" ]'
    # -f streams until the container ends
    run timeout 20 kubectl logs talk -c a -f
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf 'line 1\nline 2\nline 3\nline 4\nline 5\nto-stderr')" ]
    run k logs talk -c a --tail=2
    [ "$output" = "$(printf 'line 5\nto-stderr')" ]
    LOG_WANT=from-b wait_for logs_have talk -c b
    run k logs talk -c nope
    [ "$status" -ne 0 ]
    [[ "$output" == *"container nope is not valid for pod talk"* ]]
    run k logs talk -c a --previous
    [ "$status" -ne 0 ]
    [[ "$output" == *'previous terminated container "a" in pod "talk" not found'* ]]
}

@test "bad input: an unknown volume type, an unmapped image, a missing command each get a readable status" {
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: badvol}
spec:
  volumes: [{name: data, fancyDisk: {size: 1}}]
  containers:
  - {name: c, image: busybox, command: [sleep, "1000"], env: [{name: MARK, value: __MARK__}]}
---
apiVersion: v1
kind: Pod
metadata: {name: noimage}
spec:
  containers: [{name: c, image: "registry.example/app:v1"}]
---
apiVersion: v1
kind: Pod
metadata: {name: nocmd}
spec:
  containers:
  - {name: c, image: busybox, command: [no-such-command-here], env: [{name: MARK, value: __MARK__}]}
YAML
    wait_for eval '[ "$(ctr_field badvol c state.waiting.reason)" = CreateContainerConfigError ]'
    [[ "$(ctr_field badvol c state.waiting.message)" == *'volume "data": unsupported volume type "fancyDisk"'* ]]
    run k describe pod badvol
    [[ "$output" == *'unsupported volume type "fancyDisk"'* ]]
    [[ "$output" == *FailedMount* ]]
    phase_is badvol Pending

    wait_for eval '[ "$(ctr_field noimage c state.waiting.reason)" = ErrImagePull ]'
    [[ "$(ctr_field noimage c state.waiting.message)" == *'image "registry.example/app:v1" is not in localcluster'*"--image-map"* ]]
    run k get pod noimage
    [[ "${lines[1]}" =~ ^noimage\ +0/1\ +ErrImagePull ]]
    run k describe pod noimage
    [[ "$output" == *'Failed to pull image "registry.example/app:v1"'* ]]

    wait_long eval '[ "$(ctr_field nocmd c lastState.terminated.reason)" = StartError ] || [ "$(ctr_field nocmd c state.terminated.reason)" = StartError ]'
    run k describe pod nocmd
    [[ "$output" == *'exec: "no-such-command-here": executable file not found in $PATH'* ]]
    # the server is fine and the pods delete cleanly
    k get --raw /readyz >/dev/null
    k delete pod badvol noimage nocmd --timeout=30s
}

@test "the image map runs a local binary for an image; command overrides it, args are passed" {
    stop_cluster
    printf '# test map\nfrom-file=/bin/echo\n' >"$BATS_TEST_TMPDIR/images"
    start_cluster --image-map "example.com/tools/greeter=/bin/echo" --image-map-file "$BATS_TEST_TMPDIR/images"
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: mapped}
spec:
  restartPolicy: Never
  containers:
  - {name: a, image: "example.com/tools/greeter:v2", args: [hello, "\$(WHO)"], env: [{name: WHO, value: map}, {name: MARK, value: __MARK__}]}
  - {name: b, image: from-file, args: [from, file], env: [{name: MARK, value: __MARK__}]}
  - {name: c, image: from-file, command: ["sh", "-c", "echo overridden"], env: [{name: MARK, value: __MARK__}]}
YAML
    wait_long phase_is mapped Succeeded
    [ "$(k logs mapped -c a)" = "hello map" ]
    [ "$(k logs mapped -c b)" = "from file" ]
    [ "$(k logs mapped -c c)" = overridden ]
    run "$LOCALCLUSTER" --image-map nonsense
    [ "$status" -eq 2 ]
    [[ "$output" == *"expected IMAGE=PATH"* ]]
}

@test "stopping localcluster kills every pod process, shared namespaces and grandchildren included" {
    apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: tree}
spec:
  shareProcessNamespace: true
  containers:
  - name: a
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    command: ["sh", "-c", "trap '' TERM; (sleep 1000 &); setsid sleep 1001 & echo up; sleep 1002"]
  - {name: b, image: busybox, command: [sleep, "1003"], env: [{name: MARK, value: __MARK__}]}
---
apiVersion: v1
kind: Pod
metadata: {name: single}
spec:
  containers:
  - name: a
    image: busybox
    env: [{name: MARK, value: __MARK__}]
    command: ["sh", "-c", "trap '' TERM; (setsid sleep 1004 &); echo up; sleep 1005"]
YAML
    LOG_WANT=up wait_for logs_have tree -c a
    LOG_WANT=up wait_for logs_have single
    wait_for ready_is tree True
    [ "$(marked_pids | wc -w)" -ge 6 ]
    stop_cluster
    [ -z "$(marked_pids)" ]
}

# many_ready: how many pods labelled app=many are Ready (one list).
many_ready() {
    k get pods -l app=many -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
        grep -c True
}

@test "500 pods of sleep infinity start, all Ready, and are deleted again with no process left over" {
    # kubectl throttles itself to 5 requests/s: create over one keep-alive connection instead
    python3 - "$LC_URL" "$MARK" <<'PY'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
for i in range(500):
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "many-%03d" % i, "labels": {"app": "many"}},
           "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["sleep", "infinity"],
                                    "env": [{"name": "MARK", "value": sys.argv[2]}]}]}}
    c.request("POST", "/api/v1/namespaces/default/pods", json.dumps(pod),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    assert r.status == 201, r.status
PY
    wait_until 300 eval '[ "$(many_ready)" = 500 ]'
    ips=$(k get pods -l app=many -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}' | sort -u | wc -l)
    [ "$ips" = 500 ]
    [ "$(marked_pids | wc -w)" -ge 500 ]
    # one DELETE for the collection: each pod is deleted gracefully
    api DELETE "/api/v1/namespaces/default/pods?labelSelector=app%3Dmany" >/dev/null
    wait_until 300 eval '[ -z "$(k get pods -l app=many -o name)" ]'
    wait_for eval '[ -z "$(marked_pids)" ]'
}
