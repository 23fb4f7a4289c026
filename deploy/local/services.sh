#!/usr/bin/env bash
# Local development services for JobWorker: a throwaway PostgreSQL cluster and
# a private RabbitMQ node, both on loopback only, with all state outside the
# checkout (default /tmp/jobworker-dev).  No Docker, no systemd needed.
#
#   services.sh up      [postgres|rabbitmq]   start (idempotent)
#   services.sh down    [postgres|rabbitmq]   stop (idempotent)
#   services.sh restart [postgres|rabbitmq]   stop then start (outage simulation)
#   services.sh status                        exit non-zero if something is down
#   services.sh up|down rabbitmq-cluster      three RabbitMQ nodes in one cluster (node 1 is the single node above)
#   services.sh node-stop|node-start|node-kill N   one cluster node, for outage tests
#
# See README.md next to this file for ports and environment overrides.
set -euo pipefail

# --------------------------------------------------------------------------
# Settings (environment overrides)
# --------------------------------------------------------------------------
DIR="${JOBWORKER_DEV_DIR:-/tmp/jobworker-dev}"
PG_PORT="${JOBWORKER_PG_PORT:-55432}"
PGB_PORT="${JOBWORKER_PGBOUNCER_PORT:-56432}"
RABBIT_PORT="${JOBWORKER_RABBIT_PORT:-35672}"
RABBIT_MGMT_PORT="${JOBWORKER_RABBIT_MGMT_PORT:-35673}"
RABBIT_DIST_PORT="${JOBWORKER_RABBIT_DIST_PORT:-35674}"
EPMD_PORT="${JOBWORKER_EPMD_PORT:-34369}"
# rabbitmqctl/rabbitmq-plugins start a short-lived Erlang node of their own.
# Its distribution port range defaults to 35672-35682, which would collide with
# our AMQP/management/dist ports (the CLI can grab 35672 while the broker is
# still booting), so it gets its own range right above the dist port.
RABBIT_CTL_PORT_MIN="${JOBWORKER_RABBIT_CTL_PORT_MIN:-$((RABBIT_DIST_PORT + 1))}"
RABBIT_CTL_PORT_MAX="$((RABBIT_CTL_PORT_MIN + 9))"
RABBIT_NODE="jobworker@localhost"
# The cluster's nodes 2 and 3 use node 1's ports + 100 and + 200 (AMQP 35772 and 35872 by default).
RABBIT_BASE_PORT="$RABBIT_PORT"
RABBIT_BASE_MGMT_PORT="$RABBIT_MGMT_PORT"
RABBIT_BASE_DIST_PORT="$RABBIT_DIST_PORT"
RABBIT_BASE_CTL_PORT_MIN="$RABBIT_CTL_PORT_MIN"
RABBIT_CLUSTER_SIZE=3
RMQ_N=1
# Nodes 2 and 3 idle through most of a test run on a 2-core machine: one scheduler each (RabbitMQ already turns the
# schedulers' busy-waiting off). Node 1 keeps the defaults, so the single-node tests and the bench run as they always have.
RABBIT_LIGHT_ERL_ARGS="+S 1:1"
RABBIT_EXTRA_ERL_ARGS=""

PG_WAIT=30        # seconds
RABBIT_WAIT=60    # seconds
STOP_WAIT=60      # seconds

PG_DATA="$DIR/postgres"
PG_RUN="$DIR/postgres-run"          # unix socket directory
PG_LOG="$DIR/postgres.log"
R="$DIR/rabbitmq"
R_LOG_DIR="$R/log"
R_LOG="$R_LOG_DIR/$RABBIT_NODE.log"
R_START_LOG="$R_LOG_DIR/startup.log"
R_PID="$R/$RABBIT_NODE.pid"

RABBIT_LIB_BIN=/usr/lib/rabbitmq/bin   # the real scripts, not Debian's /usr/sbin wrapper

IS_ROOT=0
[[ "$(id -u)" == 0 ]] && IS_ROOT=1
SELF="$(readlink -f "${BASH_SOURCE[0]}")"

log()  { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }
die()  { warn "error: $*"; exit 1; }

usage() {
  cat <<EOF
usage: $(basename "$0") <command> [service]

commands:
  up      [postgres|rabbitmq]   start both (or one); no-op if already running
  up      pgbouncer             also start PgBouncer in transaction mode in front of postgres (127.0.0.1:$PGB_PORT)
  down    [postgres|rabbitmq]   stop both (or one); no-op if already stopped
  restart [postgres|rabbitmq]   stop then start (simulates an outage)
  start / stop                  aliases of up / down
  status                        show what runs where; exit 1 if something is down
  rabbitmqctl ARGS...           rabbitmqctl against the private node (e.g. eval for consumer_timeout)
  up   rabbitmq-cluster         node 1 plus nodes 2 and 3 joined to it: a three-node cluster (idempotent)
  down rabbitmq-cluster         stop nodes 3, 2, then 1
  node-stop N | node-start N    stop (rabbitmqctl stop) or start cluster node N (1-3); start waits until it is back
  node-kill N                   SIGKILL cluster node N's Erlang VM (a crash); node-start N brings it back

state folder: $DIR   (JOBWORKER_DEV_DIR)
postgres:     127.0.0.1:$PG_PORT  (JOBWORKER_PG_PORT)  superuser postgres, app role/db jobworker, trust auth
rabbitmq:     amqp 127.0.0.1:$RABBIT_PORT (JOBWORKER_RABBIT_PORT), management 127.0.0.1:$RABBIT_MGMT_PORT (JOBWORKER_RABBIT_MGMT_PORT),
              dist $RABBIT_DIST_PORT (JOBWORKER_RABBIT_DIST_PORT), epmd $EPMD_PORT (JOBWORKER_EPMD_PORT), guest/guest
cluster:      nodes 2 and 3 on amqp $((RABBIT_PORT + 100)) / $((RABBIT_PORT + 200)), management $((RABBIT_MGMT_PORT + 100)) / $((RABBIT_MGMT_PORT + 200)),
              dist $((RABBIT_DIST_PORT + 100)) / $((RABBIT_DIST_PORT + 200)); same epmd and Erlang cookie as node 1
EOF
}

# True if the pid exists and is not a zombie (PID 1 here may not reap).
pid_alive() {
  local pid="$1" state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/stat" ]] || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

show_log_tail() {
  local f
  for f in "$@"; do
    if [[ -r "$f" ]]; then
      warn "----- last lines of $f -----"
      tail -n 40 "$f" >&2 || true
      warn "-----"
    fi
  done
}

now() { date +%s; }

ensure_state_dir() {
  mkdir -p "$DIR"
  # Other users (postgres, rabbitmq) must be able to traverse it.
  [[ $IS_ROOT == 1 ]] && chmod 755 "$DIR"
  return 0
}

apt_install() {
  log "installing $* with apt-get (this takes a while on a fresh machine) ..."
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "$@" >/dev/null
}

# ==========================================================================
# PostgreSQL
# ==========================================================================
PG_BIN="${JOBWORKER_PG_BIN:-/usr/lib/postgresql/15/bin}"

pg_find_bin() {
  if [[ ! -x "$PG_BIN/pg_ctl" ]]; then
    local cand
    cand="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    if [[ -n "$cand" && -x "$cand/pg_ctl" ]]; then
      PG_BIN="$cand"
    fi
  fi
}

pg_ensure_installed() {
  pg_find_bin
  [[ -x "$PG_BIN/pg_ctl" ]] && return 0
  if [[ $IS_ROOT == 1 ]]; then
    apt_install postgresql-15
    PG_BIN=/usr/lib/postgresql/15/bin
    [[ -x "$PG_BIN/pg_ctl" ]] || die "postgresql-15 installed but $PG_BIN/pg_ctl is missing"
  else
    die "PostgreSQL server binaries not found (looked in $PG_BIN). Install them as root: apt-get update && apt-get install -y postgresql-15 (or set JOBWORKER_PG_BIN)"
  fi
}

# Run a command as the OS user that owns the cluster. 9>&-: nothing started here (a daemon above all) may
# inherit the lock file descriptor, or it would hold the lock for as long as it lives.
as_pg() {
  if [[ $IS_ROOT == 1 ]]; then
    runuser -u postgres -- "$@" 9>&-
  else
    "$@" 9>&-
  fi
}

pg_running() {
  [[ -f "$PG_DATA/PG_VERSION" ]] || return 1
  pg_find_bin
  as_pg "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2 >/dev/null 2>&1; }

pg_write_conf() {
  as_pg tee "$PG_DATA/jobworker-dev.conf" >/dev/null <<EOF
# Written by deploy/local/services.sh on every start; edits are overwritten.
# Throwaway dev/test cluster: loopback only, trust auth, no durability.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

pg_init() {
  log "postgres  creating throwaway cluster in $PG_DATA"
  mkdir -p "$PG_DATA" "$PG_RUN"
  chmod 700 "$PG_DATA"
  if [[ $IS_ROOT == 1 ]]; then
    chown postgres:postgres "$PG_DATA" "$PG_RUN"
  fi
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync \
    >"$DIR/initdb.log" 2>&1 || { show_log_tail "$DIR/initdb.log"; die "initdb failed"; }
  printf "\ninclude_if_exists = 'jobworker-dev.conf'\n" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

pg_prepare() {
  pg_ensure_installed
  ensure_state_dir
  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    pg_init
  fi
  mkdir -p "$PG_RUN"
  touch "$PG_LOG"
  if [[ $IS_ROOT == 1 ]]; then
    # e.g. a folder left by an earlier non-root run
    [[ "$(stat -c %U "$PG_DATA")" == postgres ]] || chown -R postgres:postgres "$PG_DATA"
    chown postgres:postgres "$PG_RUN" "$PG_LOG"
  fi
}

pg_psql() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"
}

pg_provision() {
  pg_psql -d postgres >/dev/null <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'jobworker') THEN
    CREATE ROLE jobworker LOGIN CREATEDB;
  ELSE
    ALTER ROLE jobworker LOGIN CREATEDB;
  END IF;
END
$$;
SELECT 'CREATE DATABASE jobworker OWNER jobworker'
WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'jobworker')
\gexec
SQL
}

pg_wait_ready() {
  local deadline=$(( $(now) + PG_WAIT ))
  until pg_ready; do
    if (( $(now) >= deadline )); then
      show_log_tail "$PG_LOG"
      die "postgres did not answer on 127.0.0.1:$PG_PORT within ${PG_WAIT}s"
    fi
    sleep 0.5
  done
}

pg_print() {
  log "postgres  listening on 127.0.0.1:$PG_PORT (data $PG_DATA)"
  log "          Host=127.0.0.1;Port=$PG_PORT;Database=jobworker;Username=jobworker   (superuser: postgres, no passwords)"
}

pg_up() {
  pg_prepare
  if pg_running; then
    pg_wait_ready
    pg_provision
    log "postgres  already running"
    pg_print
    return 0
  fi
  pg_write_conf
  log "postgres  starting ..."
  # pg_ctl -w waits until the postmaster reports ready (or dies); bounded by -t.
  # 9>&-: the postmaster must not inherit our lock file descriptor.
  if ! as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t "$PG_WAIT" -s </dev/null >/dev/null 2>&1 9>&-; then
    show_log_tail "$PG_LOG"
    die "postgres did not start (pg_ctl gave up or timed out after ${PG_WAIT}s; log: $PG_LOG)"
  fi
  pg_wait_ready
  pg_provision
  pg_print
}

pg_down() {
  if ! pg_running; then
    log "postgres  not running"
    return 0
  fi
  log "postgres  stopping ..."
  if ! as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t "$STOP_WAIT" -s >/dev/null 2>&1; then
    warn "postgres  fast shutdown timed out, using immediate shutdown"
    as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m immediate -w -t "$STOP_WAIT" -s >/dev/null 2>&1 || {
      show_log_tail "$PG_LOG"
      die "postgres did not stop within ${STOP_WAIT}s"
    }
  fi
  log "postgres  stopped"
}

pg_status() {
  pg_find_bin
  if [[ -x "$PG_BIN/pg_ctl" ]] && pg_running && pg_ready; then
    pg_print
    return 0
  fi
  log "postgres  DOWN (expected on 127.0.0.1:$PG_PORT, data $PG_DATA)"
  return 1
}

# ==========================================================================
# PgBouncer (optional, `services.sh up pgbouncer`): transaction pooling in front of the cluster
# ==========================================================================
PGB_BIN=/usr/sbin/pgbouncer
PGB_DIR="$DIR/pgbouncer"
PGB_PID="$PGB_DIR/pgbouncer.pid"
PGB_LOG="$PGB_DIR/pgbouncer.log"

pgb_ensure_installed() {
  [[ -x "$PGB_BIN" ]] && return 0
  [[ $IS_ROOT == 1 ]] || die "pgbouncer not found. Install it as root: apt-get update && apt-get install -y pgbouncer"
  apt_install pgbouncer
  # Debian starts its own instance on 6432; ours runs on its own port.
  if command -v systemctl >/dev/null 2>&1; then systemctl stop pgbouncer >/dev/null 2>&1 || true; fi
  [[ -x "$PGB_BIN" ]] || die "pgbouncer installed but $PGB_BIN is missing"
}

pgb_running() {
  local pid
  [[ -r "$PGB_PID" ]] || return 1
  pid="$(tr -dc '0-9' <"$PGB_PID")"
  pid_alive "$pid"
}

pgb_print() {
  log "pgbouncer listening on 127.0.0.1:$PGB_PORT (transaction pooling, 6 server connections per database and user)"
  log "          Host=127.0.0.1;Port=$PGB_PORT;Database=jobworker;Username=jobworker;Max Auto Prepare=0;No Reset On Close=true"
}

pgb_up() {
  pg_running && pg_ready || pg_up
  pgb_ensure_installed
  if pgb_running; then
    log "pgbouncer already running"
    pgb_print
    return 0
  fi
  mkdir -p "$PGB_DIR"
  cat >"$PGB_DIR/pgbouncer.ini" <<EOF2
[databases]
* = host=127.0.0.1 port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = trust
auth_file = $PGB_DIR/userlist.txt
pool_mode = transaction
default_pool_size = 6
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
logfile = $PGB_LOG
pidfile = $PGB_PID
EOF2
  printf '"jobworker" ""\n"postgres" ""\n' >"$PGB_DIR/userlist.txt"
  [[ $IS_ROOT == 1 ]] && chown -R postgres "$PGB_DIR"
  log "pgbouncer starting ..."
  as_pg "$PGB_BIN" -d -q "$PGB_DIR/pgbouncer.ini" </dev/null >/dev/null 2>&1 9>&- || { show_log_tail "$PGB_LOG"; die "pgbouncer did not start"; }
  local deadline=$(( $(now) + PG_WAIT ))
  until tcp_open 127.0.0.1 "$PGB_PORT"; do
    (( $(now) < deadline )) || { show_log_tail "$PGB_LOG"; die "pgbouncer did not listen on 127.0.0.1:$PGB_PORT within ${PG_WAIT}s"; }
    sleep 0.2
  done
  pgb_print
}

pgb_down() {
  if ! pgb_running; then
    log "pgbouncer not running"
    return 0
  fi
  local pid deadline=$(( $(now) + STOP_WAIT ))
  pid="$(tr -dc '0-9' <"$PGB_PID")"
  kill -TERM "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do
    (( $(now) < deadline )) || { kill -KILL "$pid" 2>/dev/null || true; break; }
    sleep 0.2
  done
  log "pgbouncer stopped"
}

# ==========================================================================
# RabbitMQ
# ==========================================================================
# Points the rmq_* functions at cluster node $1 (1 = the single node every other command uses). Node N's ports are
# node 1's + 100 * (N - 1); its state lives in $DIR/rabbitmq-N.
rmq_select() {
  local n="$1" off
  [[ "$n" =~ ^[1-9]$ ]] && (( n <= RABBIT_CLUSTER_SIZE )) || die "no cluster node '$n' (1-$RABBIT_CLUSTER_SIZE)"
  off=$(( (n - 1) * 100 ))
  RMQ_N="$n"
  RABBIT_PORT=$(( RABBIT_BASE_PORT + off ))
  RABBIT_MGMT_PORT=$(( RABBIT_BASE_MGMT_PORT + off ))
  RABBIT_DIST_PORT=$(( RABBIT_BASE_DIST_PORT + off ))
  RABBIT_CTL_PORT_MIN=$(( RABBIT_BASE_CTL_PORT_MIN + off ))
  RABBIT_CTL_PORT_MAX=$(( RABBIT_CTL_PORT_MIN + 9 ))
  if (( n == 1 )); then
    RABBIT_NODE="jobworker@localhost"
    R="$DIR/rabbitmq"
    RABBIT_EXTRA_ERL_ARGS=""
  else
    RABBIT_NODE="jobworker$n@localhost"
    R="$DIR/rabbitmq-$n"
    RABBIT_EXTRA_ERL_ARGS="$RABBIT_LIGHT_ERL_ARGS"
  fi
  R_LOG_DIR="$R/log"
  R_LOG="$R_LOG_DIR/$RABBIT_NODE.log"
  R_START_LOG="$R_LOG_DIR/startup.log"
  R_PID="$R/$RABBIT_NODE.pid"
}

rmq_installed() { [[ -x "$RABBIT_LIB_BIN/rabbitmq-server" && -x "$RABBIT_LIB_BIN/rabbitmqctl" ]]; }

# The Debian package's own node (rabbit@<host>, default ports), if running.
debian_rabbit_running() {
  command -v epmd >/dev/null 2>&1 || return 1
  env -u ERL_EPMD_PORT epmd -port 4369 -names 2>/dev/null | grep -q '^name rabbit at port'
}

stop_debian_rabbit() {
  debian_rabbit_running || return 0
  log "rabbitmq  the package auto-started Debian's own rabbitmq-server (rabbit@$(hostname -s), default ports); stopping it, we run our own node"
  if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
  fi
  if debian_rabbit_running; then
    # Exactly what the Debian init script does: rabbitmqctl stop as the rabbitmq
    # user with HOME=/var/lib/rabbitmq (where the package's cookie lives).
    (cd /var/lib/rabbitmq && timeout "$STOP_WAIT" runuser -u rabbitmq -- env -u ERL_EPMD_PORT \
      HOME=/var/lib/rabbitmq LANG=C.UTF-8 LC_ALL=C.UTF-8 \
      RABBITMQ_CTL_DIST_PORT_MIN="$RABBIT_CTL_PORT_MIN" RABBITMQ_CTL_DIST_PORT_MAX="$RABBIT_CTL_PORT_MAX" \
      "$RABBIT_LIB_BIN/rabbitmqctl" -q stop) >/dev/null 2>&1 || true
  fi
  # Its epmd on 4369 refuses to die while a node is still registered.
  env -u ERL_EPMD_PORT epmd -port 4369 -kill >/dev/null 2>&1 || true
  if debian_rabbit_running; then
    warn "rabbitmq  warning: could not stop Debian's rabbitmq-server; ours does not depend on it"
  fi
}

rmq_ensure_installed() {
  rmq_installed && return 0
  if [[ $IS_ROOT == 1 ]]; then
    apt_install rabbitmq-server
    rmq_installed || die "rabbitmq-server installed but $RABBIT_LIB_BIN/rabbitmq-server is missing"
    stop_debian_rabbit
  else
    die "rabbitmq-server is not installed. Install it as root: apt-get update && apt-get install -y rabbitmq-server (or run '$0 up' once as root)"
  fi
}

# Environment for the broker and for every rabbitmqctl/rabbitmq-plugins call.
# HOME=$R makes server and CLI share $R/.erlang.cookie.
rmq_env() {
  local v
  RMQ_ENV=()
  # Do not let the caller's RABBITMQ_*/ERL_* settings leak in.
  for v in $(compgen -e); do
    case "$v" in RABBITMQ_*|ERL_*) RMQ_ENV+=(-u "$v") ;; esac
  done
  RMQ_ENV+=(
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    "HOME=$R"
    "LANG=C.UTF-8" "LC_ALL=C.UTF-8"
    "RABBITMQ_NODENAME=$RABBIT_NODE"
    "RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT"
    "ERL_EPMD_PORT=$EPMD_PORT"
    "ERL_EPMD_ADDRESS=127.0.0.1"
    "RABBITMQ_CONF_ENV_FILE=$R/rabbitmq-env.conf"
    "RABBITMQ_CONFIG_FILE=$R/rabbitmq.conf"
    "RABBITMQ_ADVANCED_CONFIG_FILE=$R/advanced.config"
    "RABBITMQ_ENABLED_PLUGINS_FILE=$R/enabled_plugins"
    "RABBITMQ_MNESIA_BASE=$R/mnesia"
    "RABBITMQ_LOG_BASE=$R_LOG_DIR"
    "RABBITMQ_PID_FILE=$R_PID"
    "RABBITMQ_PLUGINS_EXPAND_DIR=$R/plugins-expand"
    "RABBITMQ_MOTD_FILE=$R/motd"
    "RABBITMQ_CTL_DIST_PORT_MIN=$RABBIT_CTL_PORT_MIN"
    "RABBITMQ_CTL_DIST_PORT_MAX=$RABBIT_CTL_PORT_MAX"
    "RABBITMQ_CTL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
    "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}${RABBIT_EXTRA_ERL_ARGS:+ $RABBIT_EXTRA_ERL_ARGS}"
  )
}

# Run a command as the broker's OS user with the broker's environment. 9>&-: epmd, which rabbitmqctl and the
# broker start as a daemon when none runs, must not inherit the lock file descriptor (see as_pg).
as_rmq() {
  rmq_env
  if [[ $IS_ROOT == 1 ]]; then
    runuser -u rabbitmq -- env "${RMQ_ENV[@]}" "$@" 9>&-
  else
    env "${RMQ_ENV[@]}" "$@" 9>&-
  fi
}

# rabbitmqctl against our node, killed after $1 seconds.
rmqctl_timeout() {
  local secs="$1"; shift
  (cd "$R" && as_rmq timeout "$secs" "$RABBIT_LIB_BIN/rabbitmqctl" -n "$RABBIT_NODE" "$@" 9>&-)
}

rmq_pid() {
  if [[ -r "$R_PID" ]]; then tr -dc '0-9' <"$R_PID"; fi
  return 0
}

rmq_running() {
  local pid
  pid="$(rmq_pid)"
  [[ -n "$pid" ]] && pid_alive "$pid" && grep -q beam "/proc/$pid/comm" 2>/dev/null
}

rmq_mgmt_ok() {
  curl -sf -m 5 -u guest:guest "http://127.0.0.1:$RABBIT_MGMT_PORT/api/overview" >/dev/null 2>&1
}

rmq_prepare() {
  rmq_ensure_installed
  ensure_state_dir
  mkdir -p "$R" "$R_LOG_DIR" "$R/mnesia"
  cat >"$R/rabbitmq.conf" <<EOF
# Written by deploy/local/services.sh on every start; edits are overwritten.
listeners.tcp.1 = 127.0.0.1:$RABBIT_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $RABBIT_MGMT_PORT
# default: guest/guest may log in, but only from loopback
loopback_users.guest = true
log.file.level = info
log.console = false
# A cluster on one machine: should a loaded machine ever make two nodes lose sight of each other, the minority side
# restarts and rejoins by itself rather than staying split. A node alone is never in a minority.
cluster_partition_handling = autoheal
EOF
  echo '[rabbitmq_management].' >"$R/enabled_plugins"
  : >"$R/rabbitmq-env.conf"   # keep /etc/rabbitmq/rabbitmq-env.conf out of it
  if (( RMQ_N > 1 )); then
    # Nodes of one cluster (and their rabbitmqctl) must share node 1's cookie.
    local first="$DIR/rabbitmq/.erlang.cookie"
    [[ -s "$first" ]] || die "node 1's cookie $first is missing: start node 1 first (services.sh up rabbitmq)"
    if ! cmp -s "$first" "$R/.erlang.cookie" 2>/dev/null; then
      rm -f "$R/.erlang.cookie"
      ( umask 077; cat "$first" >"$R/.erlang.cookie" )
    fi
  elif [[ ! -s "$R/.erlang.cookie" ]]; then
    ( umask 077; head -c 32 /dev/urandom | sha256sum | cut -c1-40 | tr 'a-f' 'A-F' >"$R/.erlang.cookie" )
  fi
  chmod 400 "$R/.erlang.cookie"
  if [[ $IS_ROOT == 1 ]]; then
    [[ "$(stat -c %U "$R/mnesia")" == rabbitmq ]] || chown -R rabbitmq:rabbitmq "$R"
    chown rabbitmq:rabbitmq "$R" "$R_LOG_DIR" "$R/rabbitmq.conf" "$R/enabled_plugins" \
      "$R/rabbitmq-env.conf" "$R/.erlang.cookie"
  fi
}

rmq_print() {
  log "rabbitmq  amqp://127.0.0.1:$RABBIT_PORT  management http://127.0.0.1:$RABBIT_MGMT_PORT"
  log "          node $RABBIT_NODE, user guest/guest, data $R"
}

rmq_fail() {
  show_log_tail "$R_START_LOG" "$R_LOG"
  die "$*"
}

rmq_wait_ready() {
  local launcher="${1:-}" deadline left
  deadline=$(( $(now) + RABBIT_WAIT ))
  # 1) the broker application has booted
  while :; do
    left=$(( deadline - $(now) ))
    (( left > 0 )) || rmq_fail "rabbitmq did not finish booting within ${RABBIT_WAIT}s"
    if rmqctl_timeout "$left" -q -t "$left" await_startup >/dev/null 2>&1; then
      break
    fi
    if [[ -n "$launcher" ]] && ! pid_alive "$launcher" && ! rmq_running; then
      rmq_fail "rabbitmq exited during startup"
    fi
    sleep 1
  done
  # 2) AMQP port and management HTTP answer
  until tcp_open 127.0.0.1 "$RABBIT_PORT" && rmq_mgmt_ok; do
    (( $(now) < deadline )) || rmq_fail "rabbitmq booted but amqp 127.0.0.1:$RABBIT_PORT / management http://127.0.0.1:$RABBIT_MGMT_PORT/api/overview did not answer within ${RABBIT_WAIT}s"
    sleep 1
  done
}

# Starts the selected node without waiting for it; RMQ_LAUNCHER is the launcher's pid, empty if the node already ran.
rmq_launch() {
  rmq_prepare
  RMQ_LAUNCHER=""
  rmq_running && return 0
  rm -f "$R_PID"
  log "rabbitmq  starting node $RABBIT_NODE ..."
  # Call the real script in /usr/lib/rabbitmq/bin directly: Debian's
  # /usr/sbin/rabbitmq-server wrapper cds to /var/lib/rabbitmq, redirects output
  # to /var/log/rabbitmq and refuses to run for users other than root/rabbitmq.
  # setsid: own session, so the broker survives the calling shell/job.
  (cd "$R" && exec setsid "$SELF" __run-rabbitmq-server "$RMQ_N" </dev/null >>"$R_START_LOG" 2>&1 9>&-) &
  RMQ_LAUNCHER=$!
  disown "$RMQ_LAUNCHER" 2>/dev/null || true
}

rmq_up() {
  rmq_launch
  if [[ -z "$RMQ_LAUNCHER" ]]; then
    rmq_wait_ready
    log "rabbitmq  already running"
  else
    rmq_wait_ready "$RMQ_LAUNCHER"
  fi
  rmq_print
}

rmq_down() {
  local pid
  if ! rmq_running; then
    log "rabbitmq  not running"
    rm -f "$R_PID"
    rmq_kill_epmd
    return 0
  fi
  pid="$(rmq_pid)"
  log "rabbitmq  stopping node $RABBIT_NODE ..."
  rmqctl_timeout "$STOP_WAIT" -q stop "$R_PID" >/dev/null 2>&1 || true
  if pid_alive "$pid"; then
    warn "rabbitmq  'rabbitmqctl stop' did not finish, sending SIGTERM to $pid"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$(( $(now) + 20 ))
    while pid_alive "$pid" && (( $(now) < deadline )); do sleep 0.5; done
    if pid_alive "$pid"; then
      warn "rabbitmq  still alive, sending SIGKILL to $pid"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
    fi
  fi
  pid_alive "$pid" && rmq_fail "rabbitmq (pid $pid) did not stop"
  rm -f "$R_PID"
  rmq_kill_epmd
  log "rabbitmq  stopped"
}

# Our private epmd (port $EPMD_PORT) outlives the node; stop it once no node is
# registered (epmd itself refuses to die while names are registered).
rmq_kill_epmd() {
  command -v epmd >/dev/null 2>&1 || return 0
  [[ -d "$R" ]] || return 0
  (cd "$R" && as_rmq epmd -port "$EPMD_PORT" -kill) >/dev/null 2>&1 || true
}

rmq_status() {
  if rmq_installed && rmq_running && tcp_open 127.0.0.1 "$RABBIT_PORT" && rmq_mgmt_ok; then
    rmq_print
    return 0
  fi
  if rmq_running; then
    log "rabbitmq  STARTING/UNHEALTHY (pid $(rmq_pid)); amqp 127.0.0.1:$RABBIT_PORT or management http://127.0.0.1:$RABBIT_MGMT_PORT not answering"
  else
    log "rabbitmq  DOWN (expected amqp://127.0.0.1:$RABBIT_PORT, management http://127.0.0.1:$RABBIT_MGMT_PORT, data $R)"
  fi
  return 1
}

# ==========================================================================
# RabbitMQ cluster (`services.sh up rabbitmq-cluster`): node 1 above plus nodes 2 and 3 joined to it
# ==========================================================================
cluster_joined() { [[ -e "$DIR/rabbitmq-$1/.joined" ]]; }
cluster_created() { cluster_joined 2 || cluster_joined 3; }

# Joins the selected node (2 or 3, running) to node 1's cluster, unless it is a member already.
cluster_join() {
  local member
  member="$(rmqctl_timeout 30 -q eval "lists:member('jobworker@localhost', rabbit_mnesia:cluster_nodes(all))." 2>/dev/null || true)"
  if [[ "$member" != true ]]; then
    log "rabbitmq  joining $RABBIT_NODE to the cluster of jobworker@localhost ..."
    rmqctl_timeout 60 -q stop_app >>"$R_START_LOG" 2>&1 || rmq_fail "rabbitmqctl stop_app on $RABBIT_NODE failed"
    rmqctl_timeout 60 -q reset >>"$R_START_LOG" 2>&1 || rmq_fail "rabbitmqctl reset on $RABBIT_NODE failed"
    rmqctl_timeout 60 -q join_cluster jobworker@localhost >>"$R_START_LOG" 2>&1 || rmq_fail "$RABBIT_NODE could not join jobworker@localhost"
    rmqctl_timeout 60 -q start_app >>"$R_START_LOG" 2>&1 || rmq_fail "rabbitmqctl start_app on $RABBIT_NODE failed"
    rmq_wait_ready
  fi
  touch "$R/.joined"
}

# Starts every node given that is not running, all before waiting for any: a node that was not the last of its cluster
# to stop waits during boot for the peers it knows, so starting them one by one could wait for ever (or 5 minutes).
# Booting together has a race of its own: RabbitMQ 3.10 syncs feature flags with a peer that may not have loaded its
# own yet, and the node then exits with incompatible_feature_flags (seen after a reboot left all three nodes down). So
# the nodes are watched together, and one that exits during startup is started again while the others wait for it, at
# most CLUSTER_BOOT_ATTEMPTS times in all, within CLUSTER_BOOT_WAIT seconds.
CLUSTER_BOOT_ATTEMPTS=3
CLUSTER_BOOT_WAIT=180
cluster_start() {
  local n deadline launchers=() attempts=() pending=() waiting
  for n in "$@"; do
    rmq_select "$n"
    rmq_launch
    launchers[n]="$RMQ_LAUNCHER"
    attempts[n]=1
    [[ -n "$RMQ_LAUNCHER" ]] && pending+=("$n")
  done
  deadline=$(( $(now) + CLUSTER_BOOT_WAIT ))
  while (( ${#pending[@]} > 0 )); do
    waiting=()
    for n in "${pending[@]}"; do
      rmq_select "$n"
      if tcp_open 127.0.0.1 "$RABBIT_PORT" && rmq_mgmt_ok; then
        continue
      fi
      if ! pid_alive "${launchers[n]}" && ! rmq_running; then
        (( attempts[n] < CLUSTER_BOOT_ATTEMPTS )) || rmq_fail "rabbitmq node $RABBIT_NODE exited during startup (${attempts[n]} attempts)"
        warn "rabbitmq  node $RABBIT_NODE exited during startup (attempt ${attempts[n]} of $CLUSTER_BOOT_ATTEMPTS); starting it again"
        attempts[n]=$(( attempts[n] + 1 ))
        rmq_launch
        launchers[n]="$RMQ_LAUNCHER"
      fi
      waiting+=("$n")
    done
    pending=("${waiting[@]}")
    (( ${#pending[@]} == 0 )) && break
    (( $(now) < deadline )) || rmq_fail "rabbitmq cluster nodes ${pending[*]} did not finish booting within ${CLUSTER_BOOT_WAIT}s"
    sleep 1
  done
  for n in "$@"; do
    rmq_select "$n"
    rmq_wait_ready
  done
  return 0
}

cluster_up() {
  local n
  cluster_start 1 2 3
  for n in 2 3; do
    rmq_select "$n"
    cluster_joined "$n" || cluster_join
  done
  cluster_print
}

# `up rabbitmq`: node 1, and once the cluster exists its other nodes as well, which node 1 needs to boot if it was not
# the last to stop. Nodes already running are left as they are, so `restart rabbitmq` restarts node 1 alone.
rabbit_up() {
  if cluster_created; then
    cluster_start 1 2 3
    rmq_select 1
    rmq_print
  else
    rmq_select 1
    rmq_up
  fi
}

# Node 1 last: the last node to stop is the one that may start alone.
cluster_down() {
  local n
  for n in 3 2 1; do
    rmq_select "$n"
    [[ -d "$R" ]] || continue
    rmq_down
  done
}

cluster_print() {
  local n
  for n in 1 2 3; do
    rmq_select "$n"
    log "rabbitmq  node $n $RABBIT_NODE  amqp://127.0.0.1:$RABBIT_PORT  management http://127.0.0.1:$RABBIT_MGMT_PORT"
  done
  rmq_select 1
}

# One line per cluster node, and the members a running node sees; exit 1 if a node is down.
cluster_status() {
  local n rc=0 seen=""
  for n in 2 3; do
    rmq_select "$n"
    [[ -d "$R" ]] || continue
    if rmq_running && tcp_open 127.0.0.1 "$RABBIT_PORT" && rmq_mgmt_ok; then
      log "rabbitmq  node $n $RABBIT_NODE  amqp://127.0.0.1:$RABBIT_PORT  management http://127.0.0.1:$RABBIT_MGMT_PORT"
      [[ -n "$seen" ]] || seen="$RABBIT_MGMT_PORT"
    else
      log "rabbitmq  node $n $RABBIT_NODE  DOWN (expected amqp://127.0.0.1:$RABBIT_PORT, data $R)"
      rc=1
    fi
  done
  if [[ -n "$seen" ]]; then
    log "          running cluster members: $(curl -sf -m 5 -u guest:guest "http://127.0.0.1:$seen/api/nodes?columns=name,running" \
      | grep -o '"name":"[^"]*","running":true' | sed 's/"name":"\([^"]*\)".*/\1/' | tr '\n' ' ')"
  fi
  rmq_select 1
  return "$rc"
}

# node-stop / node-start / node-kill N: one cluster node, for outage tests.
node_command() {
  local cmd="$1" n="$2" pid deadline
  rmq_select "$n"
  case "$cmd" in
    node-stop) rmq_down ;;
    node-start)
      rmq_up
      if (( n > 1 )) && ! cluster_joined "$n"; then cluster_join; fi ;;
    node-kill)
      if ! rmq_running; then
        log "rabbitmq  node $n not running"
        return 0
      fi
      pid="$(rmq_pid)"
      log "rabbitmq  killing node $RABBIT_NODE (SIGKILL to pid $pid)"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$(( $(now) + 20 ))
      while pid_alive "$pid"; do
        (( $(now) < deadline )) || rmq_fail "rabbitmq (pid $pid) still alive 20 s after SIGKILL"
        sleep 0.2
      done
      rm -f "$R_PID"
      log "rabbitmq  node $RABBIT_NODE killed" ;;
  esac
}

# ==========================================================================
# Main
# ==========================================================================
with_lock() {
  ensure_state_dir
  exec 9>>"$DIR/.services.lock"
  flock -w 180 9 || die "another services.sh is busy with $DIR (waited 180s for $DIR/.services.lock)"
}

services_for() {
  case "${1:-}" in
    "") echo "postgres rabbitmq" ;;
    postgres|pg|postgresql) echo postgres ;;
    rabbitmq|rabbit|rmq) echo rabbitmq ;;
    rabbitmq-cluster|cluster) echo rabbitmq-cluster ;;
    pgbouncer) echo pgbouncer ;;
    *) usage >&2; die "unknown service '$1' (postgres|rabbitmq|rabbitmq-cluster|pgbouncer)" ;;
  esac
}

main() {
  local cmd="${1:-}" svc list rc=0
  if [[ "$cmd" == __run-rabbitmq-server ]]; then
    # internal: the detached broker process (see rmq_up)
    rmq_select "${2:-1}"
    echo "=== $(date -Is) services.sh starting $RABBIT_NODE"
    cd "$R"
    rmq_env
    # A node recovering after a kill opens every queue's files at once: with the suite's hundreds of durable queues on
    # node 1 and the usual soft limit of 1,024 open files, the recovery hung (seen in CI, 932 queues). The soft limit is
    # raised to the hard one, inside runuser, whose PAM session sets the limits afresh.
    local raise='ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"'
    if [[ $IS_ROOT == 1 ]]; then
      exec runuser -u rabbitmq -- env "${RMQ_ENV[@]}" bash -c "$raise" rabbitmq "$RABBIT_LIB_BIN/rabbitmq-server"
    fi
    exec env "${RMQ_ENV[@]}" bash -c "$raise" rabbitmq "$RABBIT_LIB_BIN/rabbitmq-server"
  fi
  if [[ "$cmd" == rabbitmqctl ]]; then
    # rabbitmqctl against the private node, e.g. to change consumer_timeout for a test
    shift
    rmq_running || die "rabbitmq is not running (services.sh up rabbitmq)"
    rmqctl_timeout 60 "$@"
    return
  fi
  if [[ "$cmd" == node-stop || "$cmd" == node-start || "$cmd" == node-kill ]]; then
    [[ $# -eq 2 ]] || { usage >&2; exit 2; }
    cd /
    with_lock
    node_command "$cmd" "$2"
    return
  fi
  [[ $# -le 2 ]] || { usage >&2; exit 2; }
  cd /   # never leave the postgres/rabbitmq users in an unreadable cwd
  case "$cmd" in
    up|start)
      list="$(services_for "${2:-}")" || exit 2; with_lock
      for svc in $list; do
        case "$svc" in postgres) pg_up ;; rabbitmq) rabbit_up ;; rabbitmq-cluster) cluster_up ;; pgbouncer) pgb_up ;; esac
      done ;;
    down|stop)
      list="$(services_for "${2:-}")" || exit 2
      [[ -d "$DIR" ]] || { log "nothing to stop ($DIR does not exist)"; return 0; }
      with_lock
      [[ -z "${2:-}" ]] && pgb_down
      for svc in $list; do
        # Everything down: the whole cluster, node 1 last. `down rabbitmq` stops node 1 alone (an outage).
        if [[ "$svc" == rabbitmq && -z "${2:-}" ]]; then svc=rabbitmq-cluster; fi
        case "$svc" in postgres) pg_down ;; rabbitmq) rmq_down ;; rabbitmq-cluster) cluster_down ;; pgbouncer) pgb_down ;; esac
      done ;;
    restart)
      list="$(services_for "${2:-}")" || exit 2; with_lock
      for svc in $list; do
        case "$svc" in postgres) pg_down; pg_up ;; rabbitmq) rmq_down; rabbit_up ;; rabbitmq-cluster) cluster_down; cluster_up ;; pgbouncer) pgb_down; pgb_up ;; esac
      done ;;
    status)
      [[ $# -le 1 ]] || { usage >&2; exit 2; }
      pg_status || rc=1
      rmq_status || rc=1
      cluster_status || rc=1
      if pgb_running; then pgb_print; fi
      return "$rc" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
