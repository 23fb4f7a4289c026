#!/usr/bin/env bash
# What the maintenance duties of MANY replicas cost the database: pgbench runs the duties' own statements (read from
# Worker/Jobs/JobSql.cs, not copied) at the rate REPLICAS replicas would, against a ledger shaped like theirs (every
# replica's slots Running, a history of finished jobs, and a backlog of due jobs already sent and waiting in the queue),
# and reports each statement's latency and what share of the server's time the mix takes. docs/sizing.md has the results.
#
#   deploy/local/measure-sizing-scale.sh                    # 100 replicas, backlogs of 0, 10,000 and 100,000 jobs
#   REPLICAS=200 BACKLOGS="0 50000" deploy/local/measure-sizing-scale.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${JOBWORKER_BIN:-$root/Worker/bin/Release/net10.0/jobworker}
pg_port=${JOBWORKER_TEST_PG_PORT:-55432}
replicas=${REPLICAS:-100}
slots=${SLOTS:-32}                    # Jobs:ConcurrentJobs
history=${HISTORY:-200000}            # finished jobs in the ledger
backlogs=${BACKLOGS:-0 10000 100000}  # due jobs sent and not yet claimed (a scheduled burst, or a deep queue)
seconds=${SECONDS_PER_RUN:-20}
clients=${CLIENTS:-8}
out=${OUT:-/tmp/jobworker-sizing}

run=$$
db=sizing_scale_$run
queue=sizing-scale
mkdir -p "$out"

psql_admin() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -XAtq "$@"; }
psql_db() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -d "$db" -XAtq "$@"; }
cleanup() { psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true; }
trap cleanup EXIT

psql_admin -c "CREATE DATABASE $db OWNER jobworker" >/dev/null
Database__ConnectionString="Host=127.0.0.1;Port=$pg_port;Database=$db;Username=jobworker" "$bin" migrate >/dev/null

# Each replica's slots full of Running jobs whose leases are live, their Started events recorded and not yet published;
# a history of finished jobs with their published events; one workers row per replica.
psql_db <<SQL
INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, timeout, owner, claim_token, lease_expires_at,
                  run_at, started_at, created_at, updated_at)
SELECT gen_random_uuid(), 'delay', '$queue', '{"ms": 1000}', 'Running', 1, 3, interval '5 minutes', 'r' || (i % $replicas),
       gen_random_uuid(), now() + interval '1 hour', now(), now(), now(), now()
FROM generate_series(1, $replicas * $slots) i;
INSERT INTO job_events (job_id, kind, attempt, will_retry, worker_id, occurred_at, relay_after)
SELECT id, 'Started', 1, false, owner, now(), now() + interval '1 hour' FROM jobs WHERE state = 'Running';
INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, timeout, result, run_at, started_at, finished_at,
                  created_at, updated_at)
SELECT gen_random_uuid(), 'delay', '$queue', '{"ms": 1000}', 'Succeeded', 1, 3, interval '5 minutes', '{"sleptMs": 1000}',
       t, t, t, t, t
FROM (SELECT now() - i * interval '1 second' AS t FROM generate_series(1, $history) i) s;
INSERT INTO job_events (job_id, kind, attempt, will_retry, occurred_at, relay_after, published_at)
SELECT id, k, 1, false, finished_at, finished_at, finished_at FROM jobs, unnest(ARRAY['Started', 'Succeeded']) k WHERE state = 'Succeeded';
INSERT INTO workers (id, queue, slots, busy, started_at, last_seen_at, last_progress_at)
SELECT 'r' || i, '$queue', $slots, $slots, now(), now(), now() FROM generate_series(0, $replicas - 1) i;
-- Each replica's running attempts, as the renewal's parameters (arrays the worker sends), without a scan to find them.
CREATE TABLE sizing_slots AS
SELECT owner, array_agg(id ORDER BY id) AS ids, array_agg(attempt ORDER BY id) AS attempts FROM jobs WHERE state = 'Running' GROUP BY owner;
CREATE UNIQUE INDEX ON sizing_slots (owner);
VACUUM ANALYZE;
SQL

# A statement of JobSql.cs by its constant's name, with its \$n parameters replaced by pgbench expressions.
statement() {
    python3 - "$root/Worker/Jobs/JobSql.cs" "$@" <<'PY'
import re, sys
source, name, *params = sys.argv[1:]
text = re.search(r'public const string ' + name + r' = \$?"""\n(.*?)\n\s*""";', open(source).read(), re.S).group(1)
for i in reversed(range(len(params))):
    text = text.replace("$" + str(i + 1), params[i])
print("\n".join(line.strip() for line in text.splitlines()) + ";")
PY
}

{ echo '\set r random(0, '"$((replicas - 1))"')'
  statement TakeDue "'$queue'" 500 "interval '5 minutes'"; } >"$out/take-due.sql"
{ statement Lapsed "'$queue'" 500; } >"$out/lapsed.sql"
{ statement TakeUnpublishedEvents "'$queue'" 500 "interval '15 seconds'"; } >"$out/take-events.sql"
{ echo '\set r random(0, '"$((replicas - 1))"')'
  statement Heartbeat "'r' || :r" "'$queue'" "$slots" "$slots" "interval '0'" false; } >"$out/heartbeat.sql"
{ echo '\set r random(0, '"$((replicas - 1))"')'
  statement RenewLeases "'r' || :r" \
    "(SELECT ids FROM sizing_slots WHERE owner = 'r' || :r)" "(SELECT attempts FROM sizing_slots WHERE owner = 'r' || :r)" \
    "interval '1 hour'"; } >"$out/renew-leases.sql"

# Per second, per replica: the dispatcher, rescuer and sweep tick once (Dispatch:Interval 1 s), the heartbeat every
# 5 s, lease renewal every Jobs:LeaseDuration / 3 = 10 s.
rate=$((replicas * 3 + replicas / 5 + replicas / 10))
cpu_ticks() { awk '{ print $2 + $3 + $4 + $7 + $8 }' <(head -1 /proc/stat); }
for backlog in $backlogs; do
    psql_db -c "DELETE FROM jobs WHERE state = 'Pending'" \
            -c "INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, timeout, run_at, dispatched_at, created_at, updated_at)
                SELECT gen_random_uuid(), 'delay', '$queue', '{\"ms\": 1000}', 'Pending', 0, 3, interval '5 minutes',
                       now() - interval '1 minute', now(), now(), now() FROM generate_series(1, $backlog)" \
            -c "VACUUM ANALYZE jobs"
    # Each statement's own cost, alone: the best of 5 runs of EXPLAIN ANALYZE (rolled back), server time and buffers.
    for script in take-due lapsed take-events heartbeat renew-leases; do
        sql=$(grep -v '^\\set' "$out/$script.sql" | sed "s/:r\b/0/g")
        for _ in 1 2 3 4 5; do
            psql_db -c "BEGIN" -c "EXPLAIN (ANALYZE, BUFFERS) $sql" -c "ROLLBACK" \
                | awk '/Buffers:/ && !b { b = $0 } /Execution Time/ { print $3, b }'
        done | sort -n | head -1 | awk -v s="$script" '{ $1 = sprintf("%-13s %8.3f ms", s, $1); print "alone: " $0 }'
    done
    before=$(psql_admin -c "SELECT sum(blks_hit + blks_read) FROM pg_stat_database WHERE datname = '$db'")
    c0=$(cpu_ticks)
    echo "== $replicas replicas, $backlog due jobs sent and waiting, $rate statements/s for $seconds s"
    pgbench -h 127.0.0.1 -p "$pg_port" -U postgres -n -c "$clients" -j 2 -R "$rate" -T "$seconds" -r \
        -f "$out/take-due.sql@$replicas" -f "$out/lapsed.sql@$replicas" -f "$out/take-events.sql@$replicas" \
        -f "$out/heartbeat.sql@$((replicas / 5))" -f "$out/renew-leases.sql@$((replicas / 10))" "$db" 2>&1 \
        | grep -E '^(SQL script [0-9]|number of transactions actually|latency average|rate limit schedule lag|tps|number of transactions skipped)| - (weight|latency average|[0-9]+ transactions)' \
        | sed -E 's#^SQL script [0-9]+: '"$out"'/#script #'
    c1=$(cpu_ticks)
    after=$(psql_admin -c "SELECT sum(blks_hit + blks_read) FROM pg_stat_database WHERE datname = '$db'")
    echo "machine CPU busy: $(awk "BEGIN { printf \"%.2f\", ($c1 - $c0) / $(getconf CLK_TCK) / $seconds }") cores (of $(nproc), shared with whatever else runs)"
    echo "buffers touched: $(( (after - before) / seconds ))/s"
done
