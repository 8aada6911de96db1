#!/usr/bin/env bash
# bench/executor: the task-executor's idle RSS (with `sleep` measured in the same run as the
# floor of any process) and its dispatch latency, POST /setTasks -> task process running
# (p50/p99 over N tasks, default 1000). Uses the release binary bin/task-executor (make).
# Targets (DESIGN.md §8): idle RSS <= 2 MiB, dispatch <= 5 ms p99. The floor lines are the same
# two exec's (shim, then task) without the executor, measured in the same run: a dispatch cannot
# beat them, and on a loaded machine their p99 says how much of the dispatch p99 is the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${EXEC_N:-1000}
[ -x bin/task-executor ] || { echo "bin/task-executor missing: run make" >&2; exit 1; }
mkdir -p build/bench
gcc -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror bench/executor/dispatch_bench.c \
    -o build/bench/dispatch_bench
tmp=$(mktemp -d)
te= sl=
cleanup() {
    [ -n "$te" ] && kill "$te" 2>/dev/null
    [ -n "$sl" ] && kill "$sl" 2>/dev/null
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
./bin/task-executor --listen-addr "127.0.0.1:$port" --data-dir "$tmp/data" 2>"$tmp/log" &
te=$!
sleep 100 &
sl=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
sleep 1
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
te_rss=$(rss "$te") sl_rss=$(rss "$sl")
out=$(./build/bench/dispatch_bench 127.0.0.1 "$port" "$tmp/data" "$n")
after_rss=$(rss "$te")
p50=$(awk '/dispatch_p50/ {print $2}' <<<"$out") p99=$(awk '/dispatch_p99/ {print $2}' <<<"$out")
mx=$(awk '/max/ {print $2}' <<<"$out")
f50=$(awk '/floor_p50/ {print $2}' <<<"$out") f99=$(awk '/floor_p99/ {print $2}' <<<"$out")
printf '%-40s %12s %12s\n' figure measured target
printf '%-40s %9s KiB %12s\n' "executor idle RSS" "$te_rss" "<= 2048 KiB"
printf '%-40s %9s KiB %12s\n' "sleep RSS (floor, same run)" "$sl_rss" "-"
printf '%-40s %9s KiB %12s\n' "executor RSS after $n tasks" "$after_rss" "-"
printf '%-40s %9s ms %13s\n' "dispatch p50 (POST /setTasks -> running)" "$p50" "-"
printf '%-40s %9s ms %13s\n' "dispatch p99" "$p99" "<= 5 ms"
printf '%-40s %9s ms %13s\n' "dispatch max" "$mx" "-"
printf '%-40s %9s ms %13s\n' "floor p50 (spawn->spawn->running, no executor)" "$f50" "-"
printf '%-40s %9s ms %13s\n' "floor p99" "$f99" "-"
printf '%-40s %9s\n' "load average at the end" "$(cut -d' ' -f1-3 /proc/loadavg)"
