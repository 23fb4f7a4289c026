#!/usr/bin/env bash
# The end-to-end demo: two worker processes on one queue, 1,000 delay jobs of 50-500 ms,
# live progress, and a summary. Exits 0 only when every job Succeeded.
set -euo pipefail
jobworker=${1:?usage: demo.sh PATH_TO_JOBWORKER}
logs=${JOBWORKER_DEV_DIR:-/tmp/jobworker-dev}/demo
mkdir -p "$logs"

"$jobworker" migrate

pids=()
stop_workers() {
  [ ${#pids[@]} -eq 0 ] && return
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop_workers EXIT

# Two replicas on one machine: each needs its own health port. A status line every 2 s in their logs.
for n in 1 2; do
  Health__Port=$((8080 + n)) Telemetry__StatusInterval=00:00:02 "$jobworker" run >"$logs/worker-$n.log" 2>&1 &
  pids+=($!)
done

# A worker is ready once /health/ready answers 200 (database, bus, consumption, dispatcher); a minute at most.
for n in 1 2; do
  for _ in $(seq 1 120); do
    curl -sf --max-time 2 "http://127.0.0.1:$((8080 + n))/health/ready" >/dev/null && break
    if ! kill -0 "${pids[$((n - 1))]}" 2>/dev/null; then
      echo "worker $n exited during start-up; its log ($logs/worker-$n.log) ends:" >&2
      tail -n 20 "$logs/worker-$n.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  curl -sf --max-time 2 "http://127.0.0.1:$((8080 + n))/health/ready" >/dev/null \
    || { echo "worker $n was not ready within 60 s; see $logs/worker-$n.log" >&2; exit 1; }
  echo "worker $n: $(grep -o 'Worker .*' "$logs/worker-$n.log" | head -n 1)"
done

health() {
  for n in 1 2; do
    printf 'worker %s  GET :%s/health/ready  %s\n' "$n" "$((8080 + n))" \
      "$(curl -s --max-time 3 "http://127.0.0.1:$((8080 + n))/health/ready" || echo 'no answer')"
  done
}

health
# Mid-run, show what an operator sees in `docker logs`: each worker's latest status line, and its health.
( sleep 4
  for n in 1 2; do echo "worker $n  $(grep -o 'Status: .*' "$logs/worker-$n.log" | tail -n 1)"; done
  health ) &
observer=$!

status=0
"$jobworker" submit --type delay --payload '{"minMs": 50, "maxMs": 500}' --count 1000 --wait --wait-timeout 00:05:00 || status=$?
wait "$observer" 2>/dev/null || true
echo "Worker logs: $logs/worker-1.log, $logs/worker-2.log"
exit "$status"
