#!/usr/bin/env bash
# Instructions per webhook call over HTTP: the gateway runs under valgrind's callgrind with the
# benchmark's 50 templates while curl posts the Pod review FEW and then MANY times on one
# connection; the difference of the two totals over MANY - FEW is the cost of one call (start-up
# and loading cancel out).
#
# Usage: bench/callgrind-webhook.sh [GATEWAY_BINARY]   FEW=20 MANY=220
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${1:-$ROOT/target/release/gateway}"
FEW="${FEW:-20}" MANY="${MANY:-220}"
ADDR=127.0.0.1:18390
WORK="$(mktemp -d /tmp/callgrind-webhook.XXXXXX)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
command -v valgrind >/dev/null || { echo "installing valgrind (Debian)"; apt-get install -y valgrind >/dev/null; }
python3 "$ROOT/bench/gatekeeper-gen.py" "$WORK" >/dev/null

total() {  # posts -> the gateway's instruction total
  env -u RUST_BACKTRACE valgrind --tool=callgrind --callgrind-out-file="$WORK/out.$1" \
    "$BIN" run --addr "$ADDR" --log-level error --gatekeeper "$WORK/policies" >"$WORK/log" 2>&1 &
  PID=$!
  for _ in $(seq 1 600); do curl -s -o /dev/null "http://$ADDR/health" && break; sleep 0.2; done
  local urls=()
  for _ in $(seq 1 "$1"); do urls+=("http://$ADDR/v1/admit"); done
  curl -s -H 'Content-Type: application/json' --data-binary @"$WORK/pod-review.json" \
    "${urls[@]}" >/dev/null
  kill -INT "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  callgrind_annotate "$WORK/out.$1" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}
few="$(total "$FEW")" many="$(total "$MANY")"
python3 -c "print(f'instructions per webhook call: {($many - $few) / ($MANY - $FEW) / 1e6:.3f} M')"
