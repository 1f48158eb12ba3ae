#!/usr/bin/env bash
# A throwaway 3-master/3-replica Redis Cluster on loopback, for tests and for trying tweetheat
# against a cluster (issue 8). Not for production: no password, no TLS, node timeout 1 s.
#
#   scripts/redis-cluster-local.sh start  [--dir DIR] [--base-port P] [--timeout S]
#   scripts/redis-cluster-local.sh status [--dir DIR]
#   scripts/redis-cluster-local.sh stop   [--dir DIR]
#
# Nodes listen on 127.0.0.1 ports P..P+5 (default 7100..7105); Redis Cluster also needs the bus
# ports P+10000..P+10005. `start` refuses if any of the twelve is taken. Each node lives in
# DIR/node-<port>/ (nodes-<port>.conf, appendonlydir/, redis.pid, redis.log); DIR/cluster.env
# records the ports. `start` runs the nodes daemonized, creates the cluster (one replica per
# master) and returns once every node says cluster_state:ok, all 16384 slots are served and
# every replica's link to its master is up. Running `start` again on a live cluster does
# nothing; on a DIR whose nodes all died (a crash, a reboot) it restarts them from their saved
# cluster config and AOF instead of creating a new cluster. `stop` ends only the processes
# named by DIR's pid files (after checking each one is still that redis-server) and removes
# DIR. `status` prints one line per node; exit 0 healthy, 1 degraded, 3 not running.
#
# Needs redis-server and redis-cli (Debian: redis-server, which depends on redis-tools, the
# package that ships redis-cli). REDIS_SERVER and REDIS_CLI override the binaries.
set -euo pipefail

NODES=6
DEFAULT_DIR="${TMPDIR:-/tmp}/tweetheat-redis-cluster-$(id -u)"
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_CLI=${REDIS_CLI:-redis-cli}
PROG=${0##*/}

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() { printf '%s: error: %s\n' "$PROG" "$1" >&2; exit "${2:-1}"; }

usage() {
  cat <<EOF
usage: $PROG start  [--dir DIR] [--base-port P] [--timeout S]
       $PROG status [--dir DIR]
       $PROG stop   [--dir DIR]
A 3-master/3-replica Redis Cluster on 127.0.0.1 ports P..P+5 (default 7100), bus ports
P+10000..P+10005. DIR defaults to $DEFAULT_DIR.
EOF
}

need_tools() {
  command -v "$REDIS_SERVER" >/dev/null 2>&1 \
    || die "redis-server not found: sudo apt-get install redis-server"
  command -v "$REDIS_CLI" >/dev/null 2>&1 \
    || die "redis-cli not found: sudo apt-get install redis-tools"
}

# --- arguments -----------------------------------------------------------------------------

[[ $# -ge 1 ]] || { usage >&2; exit 2; }
CMD=$1
shift
DIR=$DEFAULT_DIR
BASE=""
TIMEOUT=30
while [[ $# -gt 0 ]]; do
  case $1 in
    --dir) [[ $# -ge 2 ]] || die "--dir needs a value" 2; DIR=$2; shift 2 ;;
    --dir=*) DIR=${1#*=}; shift ;;
    --base-port) [[ $# -ge 2 ]] || die "--base-port needs a value" 2; BASE=$2; shift 2 ;;
    --base-port=*) BASE=${1#*=}; shift ;;
    --timeout) [[ $# -ge 2 ]] || die "--timeout needs a value" 2; TIMEOUT=$2; shift 2 ;;
    --timeout=*) TIMEOUT=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" 2 ;;
  esac
done
[[ -n $DIR ]] || die "--dir is empty" 2
[[ $DIR == /* ]] || DIR="$PWD/$DIR"
DIR=${DIR%/}
[[ $TIMEOUT =~ ^[0-9]+$ && $TIMEOUT -gt 0 ]] || die "--timeout must be a whole number of seconds" 2
STATE="$DIR/cluster.env"

# --- helpers -------------------------------------------------------------------------------

ports() { local i; for ((i = 0; i < NODES; i++)); do echo $((BASE + i)); done; }
node_dir() { echo "$DIR/node-$1"; }
pidfile() { echo "$DIR/node-$1/redis.pid"; }
cli() { local port=$1; shift; "$REDIS_CLI" -h 127.0.0.1 -p "$port" "$@"; }

# Something accepts connections on 127.0.0.1:PORT (bash's /dev/tcp, no extra tools needed).
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pid recorded for PORT if that process is alive and is still our redis-server for that
# port (redis-server sets its title to "redis-server 127.0.0.1:PORT [cluster]"), so a recycled
# pid is never signalled. Prints the pid; fails otherwise.
live_pid() {
  local port=$1 file pid args
  file=$(pidfile "$port")
  [[ -r $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $args == *redis-server* && $args == *":$port "* ]] || return 1
  echo "$pid"
}

load_state() {
  [[ -r $STATE ]] || return 1
  local line
  line=$(grep -E '^BASE_PORT=[0-9]+$' "$STATE") || die "$STATE is damaged (no BASE_PORT)"
  local saved=${line#BASE_PORT=}
  if [[ -n $BASE && $BASE != "$saved" ]]; then
    die "$DIR holds a cluster on base port $saved, not $BASE: stop it first or use another --dir"
  fi
  BASE=$saved
}

field() { # TEXT FIELD: the value of "FIELD:value" in INFO-style text
  printf '%s\n' "$1" | tr -d '\r' | sed -n "s/^$2://p"
}
info_field() { # PORT FIELD: one field of CLUSTER INFO
  field "$(cli "$1" cluster info 2>/dev/null || true)" "$2"
}

# Every node is up, agrees the cluster is ok, sees 6 nodes and all 16384 slots served, and
# every replica has a live link to its master.
healthy() {
  local port info role
  for port in $(ports); do
    info=$(cli "$port" cluster info 2>/dev/null) || return 1
    [[ $(field "$info" cluster_state) == ok ]] || return 1
    [[ $(field "$info" cluster_slots_ok) == 16384 ]] || return 1
    [[ $(field "$info" cluster_known_nodes) == "$NODES" ]] || return 1
    role=$(cli "$port" role 2>/dev/null) || return 1
    if [[ ${role%%$'\n'*} == slave ]]; then
      info=$(cli "$port" info replication 2>/dev/null) || return 1
      [[ $(field "$info" master_link_status) == up ]] || return 1
    fi
  done
  local nodes masters
  nodes=$(cli "$BASE" cluster nodes 2>/dev/null) || return 1
  masters=$(printf '%s\n' "$nodes" | awk '$3 ~ /master/ && $3 !~ /fail/' | wc -l)
  [[ $masters -eq 3 ]]
}

start_node() {
  local port=$1 dir
  dir=$(node_dir "$port")
  mkdir -p "$dir"
  chmod 700 "$dir"
  # repl-diskless-sync-delay 0: replicas sync at once instead of after Redis 7's 5 s default.
  # save "": no RDB snapshots, the AOF is the persistence.
  "$REDIS_SERVER" \
    --port "$port" --bind 127.0.0.1 \
    --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --cluster-enabled yes --cluster-config-file "nodes-$port.conf" \
    --cluster-node-timeout 1000 \
    --appendonly yes --appendfsync everysec --save "" \
    --repl-diskless-sync-delay 0 \
    >/dev/null
}

wait_until() { # SECONDS DESCRIPTION COMMAND...: poll every 0.1 s
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out after ${seconds}s waiting for $what"
    sleep 0.1
  done
}

node_up() { live_pid "$1" >/dev/null && [[ $(cli "$1" ping 2>/dev/null) == PONG ]]; }

wait_node() { # PORT: up to 10 s for the node to answer PING, else its log's tail and exit
  local port=$1 deadline=$((SECONDS + 10))
  until node_up "$port"; do
    if ((SECONDS >= deadline)); then
      tail -n 5 "$(node_dir "$port")/redis.log" >&2 2>/dev/null || true
      die "redis-server on port $port did not answer PING within 10 s (log: $(node_dir "$port")/redis.log)"
    fi
    sleep 0.1
  done
}

# Removes what this script created in DIR, and DIR itself if that leaves it empty.
clean_dir() {
  local port
  for port in $(ports); do rm -rf "$(node_dir "$port")"; done
  rm -f "$DIR/cluster-create.log" "$STATE"
  rmdir "$DIR" 2>/dev/null || true
}

# Ends the nodes on the given ports (default: all of this DIR's), TERM then KILL after 10 s,
# only by their recorded pids; sets STOPPED to how many there were.
STOPPED=0
kill_nodes() {
  local port pid pids=() which
  if (($# > 0)); then which=("$@"); else mapfile -t which < <(ports); fi
  for port in "${which[@]}"; do
    if pid=$(live_pid "$port"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  local deadline=$((SECONDS + 10))
  for pid in ${pids[@]+"${pids[@]}"}; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "pid $pid ignored SIGTERM for 10 s: sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  STOPPED=${#pids[@]}
}

# --- commands ------------------------------------------------------------------------------

cmd_start() {
  need_tools
  if load_state; then
    local alive=0 port
    for port in $(ports); do live_pid "$port" >/dev/null && alive=$((alive + 1)); done
    if ((alive == NODES)); then
      if healthy; then
        say "already running in $DIR on ports $BASE..$((BASE + NODES - 1)): nothing to do"
        return 0
      fi
      say "all nodes run in $DIR but the cluster is not ok yet: waiting"
      wait_until "$TIMEOUT" "cluster_state:ok on every node" healthy
      say "cluster ok on ports $BASE..$((BASE + NODES - 1))"
      return 0
    fi
    if ((alive > 0)); then
      say "$((NODES - alive)) of $NODES nodes in $DIR are down: restarting them from their saved cluster config and AOF (they rejoin, as replicas if they lost their slots)"
    else
      say "no node in $DIR runs: restarting them from their saved cluster config and AOF"
    fi
  else
    [[ -n $BASE ]] || BASE=7100
    [[ $BASE =~ ^[0-9]+$ ]] || die "--base-port must be a number" 2
    ((BASE >= 1024 && BASE + NODES - 1 + 10000 <= 65535)) \
      || die "--base-port must be within 1024..$((65535 - 10000 - NODES + 1)) (bus ports are +10000)" 2
    if [[ -e $DIR && -n $(ls -A "$DIR" 2>/dev/null) ]]; then
      die "$DIR exists, is not empty and holds no cluster.env: choose another --dir"
    fi
  fi

  local port busy=() todo=()
  for port in $(ports); do
    live_pid "$port" >/dev/null && continue
    todo+=("$port")
    port_busy "$port" && busy+=("$port")
    port_busy $((port + 10000)) && busy+=("$((port + 10000)) (bus of $port)")
  done
  ((${#busy[@]} == 0)) || die "port(s) in use on 127.0.0.1: ${busy[*]}; pick another --base-port"

  mkdir -p "$DIR"
  [[ -e $STATE ]] || printf 'BASE_PORT=%s\nNODES=%s\n' "$BASE" "$NODES" >"$STATE"

  # From here on, a failure stops the nodes this run started and, for a new cluster, removes
  # the files it made.
  FRESH=1
  compgen -G "$DIR/node-*/nodes-*.conf" >/dev/null && FRESH=0
  STARTED=()
  trap 'rc=$?; if ((rc != 0)); then say "start failed: stopping the nodes it started" >&2; ((${#STARTED[@]} == 0)) || kill_nodes "${STARTED[@]}"; if ((FRESH)); then clean_dir; fi; fi' EXIT

  for port in "${todo[@]}"; do
    rm -f "$(pidfile "$port")"
    STARTED+=("$port")
    start_node "$port" || die "redis-server on port $port did not start: see $(node_dir "$port")/redis.log"
  done
  for port in "${todo[@]}"; do wait_node "$port"; done
  say "started ${#todo[@]} node(s) in $DIR, ports: ${todo[*]}"

  local assigned
  assigned=$(info_field "$BASE" cluster_slots_assigned)
  if ((FRESH)) || [[ ${assigned:-0} == 0 ]]; then
    local addrs=()
    for port in $(ports); do addrs+=("127.0.0.1:$port"); done
    if ! "$REDIS_CLI" --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
      >"$DIR/cluster-create.log" 2>&1; then
      cat "$DIR/cluster-create.log" >&2
      die "redis-cli --cluster create failed"
    fi
    say "cluster created: 3 masters, 3 replicas (log: $DIR/cluster-create.log)"
  fi
  wait_until "$TIMEOUT" "cluster_state:ok, 16384 slots and replica links on every node" healthy
  trap - EXIT
  say "cluster ok: redis://127.0.0.1:$BASE (any node; clients discover the rest)"
}

cmd_status() {
  command -v "$REDIS_CLI" >/dev/null 2>&1 || die "redis-cli not found: sudo apt-get install redis-tools"
  if ! load_state; then
    say "not running: no cluster in $DIR"
    return 3
  fi
  local port pid role state alive=0
  for port in $(ports); do
    if pid=$(live_pid "$port"); then
      alive=$((alive + 1))
      role=$(cli "$port" role 2>/dev/null | head -1 || true)
      state=$(info_field "$port" cluster_state || true)
      printf '127.0.0.1:%s pid=%s role=%s cluster_state=%s\n' \
        "$port" "$pid" "${role:-?}" "${state:-?}"
    else
      printf '127.0.0.1:%s down\n' "$port"
    fi
  done
  if ((alive == 0)); then
    say "not running: no node of $DIR is alive"
    return 3
  fi
  if ((alive == NODES)) && healthy; then
    say "ok: $NODES nodes, 16384 slots served"
    return 0
  fi
  say "degraded: $alive of $NODES nodes alive"
  return 1
}

cmd_stop() {
  if ! load_state; then
    say "not running: no cluster in $DIR"
    return 0
  fi
  kill_nodes
  clean_dir
  say "stopped $STOPPED node(s) of 127.0.0.1:$BASE..$((BASE + NODES - 1)) and removed their files from $DIR"
}

case $CMD in
  start) cmd_start ;;
  status) cmd_status ;;
  stop) cmd_stop ;;
  -h|--help|help) usage ;;
  *) usage >&2; die "unknown command: $CMD" 2 ;;
esac
