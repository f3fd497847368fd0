#!/usr/bin/env bash
# The latency floor of this machine: bench/burnserver spending a fixed CPU time per request,
# measured exactly as bench/gatekeeper.sh measures the webhook: the peak with wrk over 2
# connections, then open-loop (Poisson) load at half that peak with bench/loadgen. For each
# CPU cost it prints the peak and p50/p99 at half load (median [min-max] over the rounds):
# what any server of that cost per request gets here, and so what cost the 3 ms target needs;
# and the host's steal time meanwhile (bench/host-steal.sh).
#
# Usage: bench/floor.sh [CPU_MICROS...]   (default: 800 400 200)
#   DURATION=8s  each open-loop run     ROUNDS=3  rounds (the costs interleave per round)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
COSTS=("$@")
[ ${#COSTS[@]} -eq 0 ] && COSTS=(800 400 200)
DURATION="${DURATION:-8s}"
ROUNDS="${ROUNDS:-3}"
ADDR=127.0.0.1:18386
WORK="$(mktemp -d /tmp/floor-bench.XXXXXX)"
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "installing wrk (Debian)"; apt-get install -y wrk >/dev/null; }
python3 "$ROOT/bench/gatekeeper-gen.py" "$WORK"  # the same request body as the webhook's
cargo build --release -q -p loadgen -p burnserver --manifest-path "$ROOT/Cargo.toml"
LOADGEN="$ROOT/target/release/loadgen" BURNSERVER="$ROOT/target/release/burnserver"

: >"$WORK/results"
for round in $(seq 1 "$ROUNDS"); do
  for cost in "${COSTS[@]}"; do
    "$BURNSERVER" "$ADDR" "$cost" >"$WORK/log" 2>&1 &
    PID=$!
    for _ in $(seq 1 200); do grep -qs listening "$WORK/log" && break; sleep 0.05; done
    peak="$(REVIEW="$WORK/pod-review.json" DELAY_MS=0 wrk -t1 -c2 -d3s \
      -s "$ROOT/bench/gatekeeper-admit.lua" "http://$ADDR" | awk '/Requests\/sec/ { print $2 }')"
    [ -n "$peak" ] || { echo "wrk measured no peak; burnserver:" >&2; cat "$WORK/log" >&2; exit 1; }
    steal_mark="$("$ROOT/bench/host-steal.sh")"
    read -r rps p50 p99 _ _ failures late99 <<<"$("$LOADGEN" "$ADDR" /v1/admit \
      "$WORK/pod-review.json" "$(python3 -c "print($peak / 2)")" "${DURATION%s}")"
    steal="$("$ROOT/bench/host-steal.sh" "$steal_mark")"
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
    [ "$failures" = 0 ] || { echo "loadgen: $failures requests failed" >&2; exit 1; }
    echo "round $round, ${cost} µs: peak $peak req/s; at $rps req/s p50 $p50 ms, p99 $p99 ms (generator late $late99 ms, host steal $steal%)"
    echo "$cost $peak $rps $p50 $p99 $late99 $steal" >>"$WORK/results"
  done
done

echo "== summary: median [min-max] over $ROUNDS rounds"
python3 - "$WORK/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    cost, *values = line.split()
    rows.setdefault(int(cost), []).append([float(v) for v in values])
cell = lambda vs: f"{statistics.median(vs):g} [{min(vs):g}–{max(vs):g}]"
print("| CPU per request | peak, 2 connections (req/s) | p50 at half (ms) | p99 at half (ms) | generator late, p99 (ms) | host steal (%) |")
print("|---|---|---|---|---|---|")
for cost, runs in rows.items():
    peak, _, p50, p99, late, steal = zip(*runs)
    print(f"| {cost} µs | {cell(peak)} | {cell(p50)} | {cell(p99)} | {cell(late)} | {cell(steal)} |")
PY
