#!/usr/bin/env bash
# Data writes as kube-mgmt makes them at start-up: COUNT sequential
# `PUT /v1/data/kubernetes/pods/<ns>/<name>` of realistic Pods (bench/datawrites) over one
# keep-alive connection, with examples/rbac loaded, against each gateway binary given and real
# `opa run --server`. Every run starts a fresh server (each round writes into an empty
# `data.kubernetes`); the servers take turns round by round, so the shared machine's load hits
# them alike. Prints writes/s, median [min-max] over the rounds, the median run's latencies,
# and each gateway's ratio to OPA.
#
# Usage: bench/data-writes.sh [NAME=BINARY...]     (default: gateway=target/release/gateway)
#   COUNT=2000 writes per run    ROUNDS=3 rounds    RUN_TIMEOUT=300 seconds a run may take
set -euo pipefail
cd "$(dirname "$0")/.."

OPA=${OPA_BIN:-.tools/bin/opa}
BUNDLE=examples/rbac
COUNT=${COUNT:-2000}
ROUNDS=${ROUNDS:-3}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
SERVERS=("$@")
[ ${#SERVERS[@]} -eq 0 ] && SERVERS=("gateway=${GATEWAY:-target/release/gateway}")
SERVERS+=("opa=$OPA")
WORK=$(mktemp -d /tmp/data-writes-bench.XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release -q -p datawrites
WRITER=${CARGO_TARGET_DIR:-target}/release/datawrites

. bench/lib.sh

start() { # name binary: starts the server in the background, sets PID
  local name=$1 bin=$2
  if [ "$name" = opa ]; then
    GOMAXPROCS=2 "$bin" run --server --addr 127.0.0.1:0 --bundle "$BUNDLE" --log-level error \
      >"$WORK/$name.log" 2>&1 &
  else
    # Without RUST_BACKTRACE: regorus builds anyhow errors on its hot path (see gatekeeper.sh).
    env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE \
      "$bin" run --addr 127.0.0.1:0 --bundle "$BUNDLE" --log-level error >"$WORK/$name.log" 2>&1 &
  fi
  PID=$!
}

stop() {
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=""
}

# One line per run in $WORK/<name>: "writes_per_s p50_ms p99_ms max_ms writes failures
# mean_body_bytes stored" (bench/datawrites' output) and the server's RSS in MB after it.
for round in $(seq "$ROUNDS"); do
  for server in "${SERVERS[@]}"; do
    name=${server%%=*} bin=${server#*=}
    start "$name" "$bin"
    port=$(port_of "$PID")
    for _ in $(seq 100); do
      curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break
      sleep 0.05
    done
    if timeout "$RUN_TIMEOUT" "$WRITER" "127.0.0.1:$port" "$COUNT" >"$WORK/run"; then
      # The server's resident memory with every Pod stored, beside the run's numbers.
      echo "$(cat "$WORK/run") $(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$PID/status")" >>"$WORK/$name"
    else
      echo "  $name, round $round: FAILED (a write failed, a Pod is missing, or over ${RUN_TIMEOUT}s)"
    fi
    stop
  done
done

# "median min max" of column 1, and the line of the median run.
summary() { # file
  sort -n -k1,1 "$1" | awk '{rows[NR]=$0; v[NR]=$1} END {m=int((NR+1)/2); print v[m], v[1], v[NR]; print rows[m]}'
}

body=$(for server in "${SERVERS[@]}"; do cat "$WORK/${server%%=*}" 2>/dev/null || true; done |
  awk '{print $7; exit}')
echo "data writes (kube-mgmt start-up): $COUNT sequential PUT /v1/data/kubernetes/pods/<ns>/<name>,"
echo "  Pods of ~$body bytes JSON, examples/rbac loaded, one keep-alive connection, a fresh server"
echo "  per run; median of $ROUNDS rounds [min-max]; latencies and RSS (all Pods stored) of the"
echo "  median run"
printf "%-16s %9s %21s %8s %8s %8s %7s\n" server writes/s "[min-max]" p50_ms p99_ms max_ms rss_mb
declare -A MEDIAN
for server in "${SERVERS[@]}"; do
  name=${server%%=*}
  [ -s "$WORK/$name" ] || { printf "%-16s %9s\n" "$name" "no run"; continue; }
  { read -r median min max; read -r _ p50 p99 worst _ _ _ _ rss; } < <(summary "$WORK/$name")
  MEDIAN[$name]=$median
  printf "%-16s %9.0f %21s %8s %8s %8s %7s\n" "$name" "$median" "[$(printf '%.0f-%.0f' "$min" "$max")]" "$p50" "$p99" "$worst" "$rss"
done
for server in "${SERVERS[@]}"; do
  name=${server%%=*}
  [ "$name" = opa ] && continue
  [ -n "${MEDIAN[$name]:-}" ] && [ -n "${MEDIAN[opa]:-}" ] || continue
  awk -v g="${MEDIAN[$name]}" -v o="${MEDIAN[opa]}" -v n="$name" \
    'BEGIN {printf "  writes/s %s/opa: %.3gx\n", n, g/o}'
done
