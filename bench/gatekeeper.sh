#!/usr/bin/env bash
# Gatekeeper webhook benchmark: 50 templates / 60 constraints from the conformance corpus,
# a Pod CREATE that most of them match, and 10,000 inventory objects. Prints load time, peak
# req/s, latency at ~50% of peak, the effect of the inventory, a referential (uniqueness)
# template's latency, and RSS. Usage: bench/gatekeeper.sh (after `cargo build --release`).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
GATEWAY="${GATEWAY:-$ROOT/target/release/gateway}"
WORK="$(mktemp -d /tmp/gatekeeper-bench.XXXXXX)"
ADDR=127.0.0.1:18383
DURATION="${DURATION:-10s}"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

python3 "$ROOT/bench/gatekeeper-gen.py" "$WORK"

start() {
  "$GATEWAY" run --addr "$ADDR" --log-format json "$@" >"$WORK/log" 2>&1 &
  PID=$!
  for _ in $(seq 1 200); do
    curl -s -o /dev/null "http://$ADDR/health" && return 0
    sleep 0.05
  done
  echo "gateway did not start" >&2; cat "$WORK/log" >&2; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }
rss() { awk '/VmRSS/ {printf "%.0f MB\n", $2/1024}' "/proc/$PID/status"; }
load() {  # connections delay_ms review -> wrk summary lines
  REVIEW="$3" DELAY_MS="$2" wrk -t1 -c"$1" -d"$DURATION" --latency \
    -s "$ROOT/bench/gatekeeper-admit.lua" "http://$ADDR" |
    grep -E "Requests/sec|^ +(50|90|99)%"
}
rps() { grep Requests/sec | awk '{print $2}'; }

echo "== load: 50 templates, 60 constraints"
start --gatekeeper "$WORK/policies"
grep -o '"elapsed_ms":[0-9.]*' "$WORK/log" | head -1
curl -s "http://$ADDR/metrics" | grep '^gatekeeper_constraint' || true
# Warm every template's engine pool before measuring.
load 2 0 "$WORK/pod-review.json" >/dev/null

echo "== Pod CREATE review, peak (2 connections)"
PEAK_OUT="$(load 2 0 "$WORK/pod-review.json")"; echo "$PEAK_OUT"
PEAK="$(echo "$PEAK_OUT" | rps)"
echo "== Pod CREATE review at ~50% of peak (1 connection, paced)"
# One connection pausing for one service time between requests keeps the server about half busy.
SERVICE_MS="$(python3 -c "print(max(1, round(1000 / float('$PEAK'))))")"
load 1 "$SERVICE_MS" "$WORK/pod-review.json"
echo "RSS $(rss)"
stop

echo "== with 10,000 inventory objects"
start --gatekeeper "$WORK/policies" --gatekeeper "$WORK/unique" --inventory "$WORK/inventory.yaml"
grep -o '"objects":[0-9]*' "$WORK/log" | head -1
load 2 0 "$WORK/pod-review.json" >/dev/null
echo "-- Pod CREATE review (non-referential), peak"
load 2 0 "$WORK/pod-review.json"
echo "-- Ingress CREATE review (uniqueness template scans 1,000 ingresses), 1 connection"
load 1 0 "$WORK/ingress-review.json"
echo "RSS $(rss)"
stop
