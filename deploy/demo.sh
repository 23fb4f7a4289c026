#!/usr/bin/env bash
# The end-to-end demo: two worker processes on one queue, 1,000 delay jobs of 50-500 ms,
# live progress, and a summary. Exits 0 only when every job Succeeded. Worker 1 serves the dashboard
# (http://127.0.0.1:8090/dashboard/) with actions on, behind a token made up for this run; beside the main
# batch, 60 jobs that fail a third of the time and 10 scheduled for later give it something to show. Both workers
# define the recurring schedule `heartbeat` (a short job every 5 s) from environment variables alone; whichever replica
# claims an occurrence first fires it; `jobworker recurring list` at the end shows its last run. Flow control: a 15 s job
# whose progress `status` shows mid-run, a priority-9 job that overtakes the queued batch (the queue is paused while the
# batch is published), and noop jobs held to a rate of 5 a second across both workers (`jobworker limits` shows it).
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

# A limited type, for the workers and for `jobworker limits`: at most 5 noop jobs start a second, across both workers.
export Limits__noop__Rate=5/1s

# A dashboard token for this run only: a secret is never committed, so the demo makes one up.
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
dashboard=http://127.0.0.1:8090/dashboard/

# Two replicas on one machine: each needs its own health port. A status line every 2 s in their logs.
for n in 1 2; do
  if [ "$n" -eq 1 ]; then
    export Dashboard__Enabled=true Dashboard__ActionsEnabled=true Dashboard__Token=$token
  else
    unset Dashboard__Enabled Dashboard__ActionsEnabled Dashboard__Token
  fi
  Health__Port=$((8080 + n)) Telemetry__StatusInterval=00:00:02 \
    Recurring__heartbeat__Cron='*/5 * * * * *' Recurring__heartbeat__Type=delay Recurring__heartbeat__Payload='{"ms": 100}' \
    "$jobworker" run >"$logs/worker-$n.log" 2>&1 &
  pids+=($!)
done
unset Dashboard__Enabled Dashboard__ActionsEnabled Dashboard__Token

# A worker is ready once /health/ready answers 200 (database, bus, consumption, maintenance duties); a minute at most.
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
echo
echo "Dashboard: $dashboard  (sign in with token $token to retry or cancel jobs)"
echo

# Something for the dashboard besides the main batch: jobs that fail a third of the time (one attempt each, so the
# failures stay for the Failed list and its retry button) and jobs scheduled ten minutes ahead (due soon).
"$jobworker" submit --type delay --payload '{"minMs": 100, "maxMs": 2000, "failPercent": 33}' --count 60 --max-attempts 1 >/dev/null
"$jobworker" submit --type delay --payload '{"ms": 200}' --count 10 --in 10m >/dev/null

# A priority: the queue is paused while the main batch is published, so all of it waits in RabbitMQ; then a priority-9
# job is submitted behind it and the queue resumed: the priority-9 job runs first (RabbitMQ's priority queue, then each
# replica's slots). The pause only lets the whole batch be queued first.
queued() { curl -s -u guest:guest --max-time 3 http://127.0.0.1:35673/api/queues/%2F/jobworker | grep -o '"messages":[0-9]*' | head -n 1 | cut -d: -f2; }
rm -f "$logs/urgent.id" "$logs/long.id"
"$jobworker" queues pause --reason "demo: the batch queues up, then a priority-9 job overtakes it" >/dev/null
( for _ in $(seq 1 120); do [ "$(queued)" -ge 1000 ] 2>/dev/null && break; sleep 0.5; done
  "$jobworker" submit --type delay --payload '{"ms": 100}' --priority 9 | grep -oE '[0-9a-f]{8}-[0-9a-f-]{27}' | head -n 1 >"$logs/urgent.id"
  "$jobworker" queues resume >/dev/null
  # A limited type: both workers start at most 5 noop jobs a second between them (Limits__noop__Rate=5/1s); the rest
  # wait in the ledger, holding no slot, until the window has room.
  "$jobworker" submit --type noop --count 20 >/dev/null
  # Progress: an 8 s delay job reports how far it slept every second; `status` shows it mid-run, the dashboard a moving bar.
  "$jobworker" submit --type delay --payload '{"ms": 8000}' | grep -oE '[0-9a-f]{8}-[0-9a-f-]{27}' | head -n 1 >"$logs/long.id" ) &
priority_observer=$!

# Mid-run, show what an operator sees in `docker logs`: each worker's latest status line, and its health.
( wait_for_resume() { for _ in $(seq 1 120); do [ -s "$logs/long.id" ] && return; sleep 0.5; done; }
  wait_for_resume; sleep 2
  for n in 1 2; do echo "worker $n  $(grep -o 'Status: .*' "$logs/worker-$n.log" | tail -n 1)"; done
  health
  echo "Limited types (jobworker limits):"
  "$jobworker" limits
  long_job=$(cat "$logs/long.id")
  echo "a long job's progress: $("$jobworker" status "$long_job" | grep -o '[0-9]*% [^│]*' | head -n 1)  (${dashboard}jobs/$long_job)" ) &
observer=$!

status=0
"$jobworker" submit --type delay --payload '{"minMs": 50, "maxMs": 500}' --count 1000 --wait --wait-timeout 00:05:00 || status=$?
wait "$observer" "$priority_observer" 2>/dev/null || true
"$jobworker" queues resume >/dev/null 2>&1 || true   # in case the batch never filled the queue
urgent=$(cat "$logs/urgent.id" 2>/dev/null || true)
if [ -n "$urgent" ] && command -v psql >/dev/null; then
  ahead=$(psql -h 127.0.0.1 -p 55432 -U jobworker -d jobworker -Atc \
    "SELECT count(*) FROM jobs b, jobs u WHERE u.id = '$urgent' AND b.payload ? 'minMs' AND NOT b.payload ? 'failPercent' AND b.started_at > u.started_at")
  echo "priority 9: job $urgent, submitted after the 1,000 queued jobs of the batch, started ahead of $ahead of them"
fi
echo
echo "Recurring schedules (both workers define heartbeat; one of them fires each occurrence):"
"$jobworker" recurring list
echo "The Recurring page: ${dashboard}recurring"
echo
echo "Worker logs: $logs/worker-1.log, $logs/worker-2.log"
echo "The jobs that failed on purpose (failPercent): ${dashboard}jobs?state=Failed&error=simulated"

# At a terminal, the dashboard stays up until Enter (ten minutes at most); in CI the demo ends here.
if [ -t 0 ] && [ -t 1 ]; then
  echo "The dashboard stays up at $dashboard (token $token). Press Enter to stop the workers."
  read -r -t 600 || true
fi
exit "$status"
