#!/usr/bin/env bash
# Measures what ONE worker replica asks of PostgreSQL and RabbitMQ, idle and under load: statements per second by
# their /* jobworker:<name> */ tag, transactions per second of its own database, its pooled connections, and its broker
# connections and channels. docs/sizing.md multiplies these figures out to many replicas.
#
# Needs the local services (make services) and a Release build (make build). It works in a database and a queue of its
# own (dropped at the end), so it never touches another run's jobs. Every statement is counted by setting
# Database:SlowStatementThreshold to one tick: the worker then logs each statement with its tag.
#
#   deploy/local/measure-sizing.sh                 # 60 s idle, then about 60 s under load
#   IDLE_SECONDS=30 LOAD_JOBS=2000 deploy/local/measure-sizing.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${JOBWORKER_BIN:-$root/Worker/bin/Release/net10.0/jobworker}
pg_port=${JOBWORKER_TEST_PG_PORT:-55432}
rabbit_port=${JOBWORKER_TEST_RABBIT_PORT:-35672}
mgmt_port=${JOBWORKER_TEST_RABBIT_MGMT_PORT:-35673}
idle_seconds=${IDLE_SECONDS:-60}
load_seconds=${LOAD_SECONDS:-60}
load_jobs=${LOAD_JOBS:-1500}          # delay jobs of LOAD_MS each, LOAD_FAIL_PERCENT of attempts failing (retries)
load_ms=${LOAD_MS:-1000}
load_fail_percent=${LOAD_FAIL_PERCENT:-10}
scheduled_jobs=${SCHEDULED_JOBS:-300} # due 20 s into the load window: the dispatcher's work
health_port=${HEALTH_PORT:-$((18000 + $$ % 1000))}
via_pgbouncer=${VIA_PGBOUNCER:-}      # 1: the replica connects through a PgBouncer of this run's own, in transaction mode
pgbouncer_port=${PGBOUNCER_PORT:-$((19000 + $$ % 1000))}
pgbouncer_pool=${PGBOUNCER_POOL:-20}  # its default_pool_size: large, so that the samples show demand, not the limit
out=${OUT:-/tmp/jobworker-sizing}

run=$$
db=sizing_$run
queue=sizing-$run
mkdir -p "$out"
log=$out/worker-$run.log

psql_admin() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -XAtq "$@"; }
psql_db() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -d "$db" -XAtq "$@"; }

direct="Host=127.0.0.1;Port=$pg_port;Database=$db;Username=jobworker"
if [[ -n $via_pgbouncer ]]; then
    export Database__ConnectionString="Host=127.0.0.1;Port=$pgbouncer_port;Database=$db;Username=jobworker;Maximum Pool Size=10;Timeout=15;Command Timeout=30;Max Auto Prepare=0;No Reset On Close=true;Application Name=sizing-$run"
else
    export Database__ConnectionString="$direct;Maximum Pool Size=10;Timeout=15;Command Timeout=30;Max Auto Prepare=20;Auto Prepare Min Usages=2;No Reset On Close=true;Application Name=sizing-$run"
fi
export Database__SlowStatementThreshold=00:00:00.0000001
export RabbitMq__Port=$rabbit_port
export Jobs__QueueName=$queue
export Jobs__WorkerName=sizing-$run
export Health__Port=$health_port
export Telemetry__StatusInterval=00:00:00

worker_pid=
sampler_pid=
pgbouncer_dir=$out/pgbouncer-$run
cleanup() {
    if [[ -n $sampler_pid ]]; then kill "$sampler_pid" 2>/dev/null || true; fi
    if [[ -n $worker_pid ]] && kill -0 "$worker_pid" 2>/dev/null; then
        kill -TERM "$worker_pid"
        timeout 60 tail --pid="$worker_pid" -f /dev/null || kill -KILL "$worker_pid"
    fi
    if [[ -s $pgbouncer_dir/pgbouncer.pid ]]; then kill -TERM "$(cat "$pgbouncer_dir/pgbouncer.pid")" 2>/dev/null || true; fi
    psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true
    for suffix in "" -cancel -status _error _skipped; do
        curl -s -o /dev/null -u guest:guest -X DELETE "http://127.0.0.1:$mgmt_port/api/queues/%2F/$queue$suffix" || true
    done
    # The run's exchanges: its queue-named ones and its message-type ones ("<queue>:JobWorker.Contracts:...").
    curl -s -u guest:guest "http://127.0.0.1:$mgmt_port/api/exchanges/%2F?columns=name" \
        | python3 -c 'import json, sys; [print(e["name"]) for e in json.load(sys.stdin) if e["name"] == sys.argv[1] or e["name"].startswith((sys.argv[1] + "-", sys.argv[1] + ":"))]' "$queue" \
        | while read -r exchange; do
            curl -s -o /dev/null -u guest:guest -X DELETE "http://127.0.0.1:$mgmt_port/api/exchanges/%2F/$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$exchange")" || true
        done
}
trap cleanup EXIT

psql_admin -c "CREATE DATABASE $db OWNER jobworker" >/dev/null
Database__ConnectionString=$direct "$bin" migrate >/dev/null

if [[ -n $via_pgbouncer ]]; then
    # PgBouncer 1.18 as services.sh runs it (transaction mode, trust), on a port of this run's own; its admin console
    # answers SHOW POOLS, sampled every 200 ms: server connections in use (sv_active) and clients waiting for one.
    mkdir -p "$pgbouncer_dir"
    cat >"$pgbouncer_dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$pg_port
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $pgbouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $pgbouncer_dir/userlist.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = $pgbouncer_pool
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
logfile = $pgbouncer_dir/pgbouncer.log
pidfile = $pgbouncer_dir/pgbouncer.pid
INI
    printf '"jobworker" ""\n"postgres" ""\n' >"$pgbouncer_dir/userlist.txt"
    if [[ $(id -u) == 0 ]]; then
        chown -R postgres "$pgbouncer_dir"
        runuser -u postgres -- pgbouncer -d -q "$pgbouncer_dir/pgbouncer.ini"
    else
        pgbouncer -d -q "$pgbouncer_dir/pgbouncer.ini"
    fi
    for _ in $(seq 1 50); do (echo >"/dev/tcp/127.0.0.1/$pgbouncer_port") 2>/dev/null && break; sleep 0.2; done
    while :; do
        psql -h 127.0.0.1 -p "$pgbouncer_port" -U postgres -d pgbouncer -XAq -F ' ' -c "SHOW POOLS" 2>/dev/null \
            | awk -v db="$db" -v t="$(date +%s.%N)" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
                $c["database"] == db && $c["user"] == "jobworker" { print t, $c["sv_active"], $c["cl_waiting"], $c["maxwait_us"] + 1000000 * $c["maxwait"] }'
        sleep 0.2
    done >"$out/pools-$run.txt" &
    sampler_pid=$!
fi

"$bin" run >"$log" 2>&1 &
worker_pid=$!
ready=
for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$health_port/health/ready" >/dev/null; then ready=yes; break; fi
    sleep 0.5
done
[[ -n $ready ]] || { echo "the worker was not ready within 60 s; log: $log" >&2; exit 1; }
sleep 5 # start-up statements (migration check, first ticks) out of the windows

xacts() { psql_admin -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$db'"; }
lines() { wc -l <"$log"; }
elapsed() { awk "BEGIN { printf \"%.1f\", $2 - $1 }"; }

# Statements by tag between two log line numbers: count and summed milliseconds (the log rounds each to 1 ms).
tags() {
    sed -n "$(($1 + 1)),$2p" "$log" | grep -o 'Slow SQL statement: [0-9]* ms .*/\* jobworker:[a-z-]* \*/' \
        | sed -E 's#Slow SQL statement: ([0-9]+) ms .*jobworker:([a-z-]+).*#\2 \1#' \
        | awk '{ n[$1]++; ms[$1] += $2 } END { for (t in n) printf "%s %d %d\n", t, n[t], ms[t] }' | sort
}

window() { # name seconds first_line last_line xacts from_time to_time
    local name=$1 seconds=$2
    echo "== $name: $seconds s, $5 transactions in the replica's database ($(awk "BEGIN { printf \"%.2f\", $5 / $seconds }")/s)"
    printf '%-20s %8s %10s %14s\n' statement count per_second ms_per_stmt
    tags "$3" "$4" | awk -v s="$seconds" '{ printf "%-20s %8d %10.3f %14.2f\n", $1, $2, $2 / s, $3 / $2; ms += $3 }
        END { printf "connections busy with statements, on average (Little'"'"'s law: their summed time / the window): %.2f\n", ms / 1000 / s }'
    if [[ -n $via_pgbouncer ]]; then
        awk -v from="$6" -v to="$7" '$1 >= from && $1 <= to { n++; sum += $2; if ($2 > max) max = $2; if ($3 > wait) wait = $3; if ($4 > mw) mw = $4 }
            END { printf "pgbouncer server connections in use, sampled every 200 ms: mean %.2f, max %d; clients waiting: max %d; longest wait %.1f ms\n", sum / n, max, wait, mw / 1000 }' "$out/pools-$run.txt"
    fi
}

connections() { # the replica's PostgreSQL connections, and its AMQP connections and channels
    echo "== connections ($1)"
    psql_admin -c "SELECT 'postgres: ' || count(*) || ' connections (' || count(*) FILTER (WHERE state = 'active') || ' active)' FROM pg_stat_activity WHERE application_name = 'sizing-$run'"
    # The replica's AMQP connections, found by their local ports (MassTransit names a connection after the process, not the replica).
    ports=$(ss -tnpH state established "( dport = :$rabbit_port )" | grep "pid=$worker_pid," | awk '{ n = split($3, a, ":"); print a[n] }' | paste -sd, -)
    curl -s -u guest:guest "http://127.0.0.1:$mgmt_port/api/connections" >"$out/connections-$run.json"
    curl -s -u guest:guest "http://127.0.0.1:$mgmt_port/api/channels" >"$out/channels-$run.json"
    python3 - "$ports" "$out/connections-$run.json" "$out/channels-$run.json" <<'PY'
import json, sys
ports = set(sys.argv[1].split(",")) - {""}
mine = {c["name"]: c for c in json.load(open(sys.argv[2])) if c["name"].split(" -> ")[0].rsplit(":", 1)[-1] in ports}
for name, c in mine.items():
    print("rabbitmq: connection %s (%r): %d channels" % (name, c["client_properties"].get("connection_name"), c["channels"]))
print("rabbitmq: %d connections, %d channels" % (len(mine), sum(c["channels"] for c in mine.values())))
for ch in json.load(open(sys.argv[3])):
    if ch["connection_details"]["name"] in mine:
        print("rabbitmq:   channel %s: %d consumers, prefetch %d, %d unacked" % (
            ch["name"].rsplit(" ", 1)[-1], ch["consumer_count"], ch["prefetch_count"], ch.get("messages_unacknowledged", 0)))
PY
    # Memory of those connections' reader and channel processes on the broker (not counting writers, limiters and the
    # kernel's TCP buffers), by the connection names RabbitMQ gives them: "<client>:<port> -> <server>:<port>".
    if [[ -n $ports ]]; then
        "$root/deploy/local/services.sh" rabbitmqctl eval '
            Ports = [<<":", P/binary, " -> ">> || P <- [list_to_binary(X) || X <- string:tokens("'"$ports"'", ",")]],
            Mine = fun(Name) -> lists:any(fun(P) -> binary:match(Name, P) =/= nomatch end, Ports) end,
            Mem = fun(Pid) -> case erlang:process_info(Pid, memory) of {memory, M} -> M; _ -> 0 end end,
            Name = fun(Info) -> proplists:get_value(name, Info, <<>>) end,
            Readers = [Mem(P) || P <- rabbit_networking:connections(), Mine(Name(rabbit_reader:info(P, [name])))],
            Channels = [Mem(P) || P <- rabbit_channel:list(), Mine(Name(rabbit_channel:info(P, [name])))],
            io:format("rabbitmq memory: connection processes ~p bytes, channel processes ~p bytes~n",
                      [lists:sum(Readers), lists:sum(Channels)]).' 2>/dev/null | grep '^rabbitmq memory' || true
    fi
}

echo "Replica sizing-$run, database $db, queue $queue; log $log"

t0=$(date +%s.%N); l0=$(lines); x0=$(xacts)
sleep "$idle_seconds"
t1=$(date +%s.%N); l1=$(lines); x1=$(xacts)
window idle "$(elapsed "$t0" "$t1")" "$l0" "$l1" $((x1 - x0)) "$t0" "$t1"

connections idle

t2=$(date +%s.%N); l2=$(lines); x2=$(xacts)
"$bin" submit --type delay --payload "{\"ms\": $load_ms, \"failPercent\": $load_fail_percent}" --count "$load_jobs" >/dev/null
"$bin" submit --type delay --payload "{\"ms\": $load_ms}" --count "$scheduled_jobs" --in 20s >/dev/null
sleep $((load_seconds / 2))
connections load
sleep $((load_seconds - load_seconds / 2))
t3=$(date +%s.%N); l3=$(lines); x3=$(xacts)
window load "$(elapsed "$t2" "$t3")" "$l2" "$l3" $((x3 - x2)) "$t2" "$t3"
psql_db -c "SELECT 'jobs: ' || string_agg(state || ' ' || n, ', ') FROM (SELECT state, count(*) n FROM jobs GROUP BY state ORDER BY state) s"
psql_db -c "SELECT 'finished in the load window: ' || count(*) || ' (' || round(count(*) / $(elapsed "$t2" "$t3"), 1) || '/s)' FROM jobs WHERE finished_at IS NOT NULL"
