#!/usr/bin/env bash
# Gatekeeper webhook benchmark: 50 templates / 60 constraints from the conformance corpus,
# a Pod CREATE that most of them match, and 10,000 inventory objects. For each binary and
# round it prints load time, peak req/s, CPU time per review, latency at 50% of peak beside
# the floor (bench/burnserver spending the same CPU per request at the same rate) and the
# host's steal time during both (bench/host-steal.sh), the effect of the inventory, a
# referential (uniqueness) template's latency, and RSS; then the median and range of each
# measure over the rounds.
#
# Usage: bench/gatekeeper.sh [GATEWAY_BINARY...]   (default: target/release/gateway)
#   DURATION=8s  length of each wrk run        ROUNDS=3  rounds (binaries interleave per round)
#   PAIRS=4      peak runs of PAIR_DURATION=3s each, alternating between a gateway without
#                and one with the inventory, both running: the inventory's effect per pair
# Several binaries are measured side by side, round by round, so that the machine's load
# (shared, noisy) hits them alike.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BINARIES=("$@")
[ ${#BINARIES[@]} -eq 0 ] && BINARIES=("${GATEWAY:-$ROOT/target/release/gateway}")
WORK="$(mktemp -d /tmp/gatekeeper-bench.XXXXXX)"
ADDR_PLAIN=127.0.0.1:18383
ADDR_INVENTORY=127.0.0.1:18384
ADDR_FLOOR=127.0.0.1:18385
DURATION="${DURATION:-8s}"
ROUNDS="${ROUNDS:-3}"
PAIRS="${PAIRS:-4}"
PAIR_DURATION="${PAIR_DURATION:-3s}"
# The server measured now (ADDR, PID, LOG); `select_gateway plain|inventory` switches between
# the two gateways, `start_floor` to the floor server.
ADDR="" PID="" LOG="" PID_PLAIN="" PID_INVENTORY="" PID_FLOOR=""
cleanup() {
  for pid in "$PID_PLAIN" "$PID_INVENTORY" "$PID_FLOOR"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "installing wrk (Debian)"; apt-get install -y wrk >/dev/null; }
python3 "$ROOT/bench/gatekeeper-gen.py" "$WORK"
cargo build --release -q -p loadgen -p burnserver --manifest-path "$ROOT/Cargo.toml"
LOADGEN="$ROOT/target/release/loadgen" BURNSERVER="$ROOT/target/release/burnserver"

select_gateway() {
  case "$1" in
    plain) ADDR="$ADDR_PLAIN" PID="$PID_PLAIN" LOG="$WORK/log-plain" ;;
    inventory) ADDR="$ADDR_INVENTORY" PID="$PID_INVENTORY" LOG="$WORK/log-inventory" ;;
  esac
}
start() {  # plain|inventory binary args...
  local which="$1" bin="$2"; shift 2
  select_gateway "$which"
  # Without RUST_BACKTRACE: regorus builds (and drops) anyhow errors on its hot path, and with
  # RUST_BACKTRACE=1 in the environment each one captures a backtrace (+16% CPU per review).
  env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE \
    "$bin" run --addr "$ADDR" --log-format json "$@" >"$LOG" 2>&1 &
  PID=$!
  if [ "$which" = plain ]; then PID_PLAIN=$PID; else PID_INVENTORY=$PID; fi
  for _ in $(seq 1 400); do
    curl -s -o /dev/null "http://$ADDR/health" && return 0
    sleep 0.05
  done
  echo "gateway did not start" >&2; cat "$LOG" >&2; exit 1
}
stop() {  # plain|inventory
  select_gateway "$1"
  kill "$PID"; wait "$PID" 2>/dev/null || true
  if [ "$1" = plain ]; then PID_PLAIN=""; else PID_INVENTORY=""; fi
}
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$PID/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
# wrk connections delay_ms review -> "rps p50_ms p99_ms requests"
load() {
  REVIEW="$3" DELAY_MS="$2" wrk -t1 -c"$1" -d"${4:-$DURATION}" --latency \
    -s "$ROOT/bench/gatekeeper-admit.lua" "http://$ADDR" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /requests in/ { n = $1 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    END { printf "%.1f %.2f %.2f %d\n", rps, p50, p99, n }'
}
# CPU milliseconds the gateway spent per request during one load run.
measured() {  # connections delay_ms review [duration] -> "rps p50 p99 requests cpu_ms_per_request"
  local before after out
  before="$(cpu_ticks)"
  out="$(load "$@")"
  after="$(cpu_ticks)"
  echo "$out" | awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" \
    '{ printf "%s %s %s %s %.2f\n", $1, $2, $3, $4, ($4 > 0 ? t * 1000 / hz / $4 : 0) }'
}

# Open loop at RATE against the selected server for DURATION -> "rps p50_ms p99_ms failures
# cpu_ms_per_request late_p99_ms steal_percent"; the caller passes failures to `no_failures`.
open_loop() {
  local before after rps p50 p99 requests failures late99 steal_mark
  before="$(cpu_ticks)" steal_mark="$("$ROOT/bench/host-steal.sh")"
  read -r rps p50 p99 _ requests failures late99 <<<"$("$LOADGEN" "$ADDR" /v1/admit \
    "$WORK/pod-review.json" "$1" "${DURATION%s}")"
  after="$(cpu_ticks)"
  echo "$rps $p50 $p99 ${failures:-unknown} $(python3 -c \
    "print(round(($after - $before) * 1000 / $(getconf CLK_TCK) / max(${requests:-0}, 1), 3))") $late99" \
    "$("$ROOT/bench/host-steal.sh" "$steal_mark")"
}
no_failures() { [ "$1" = 0 ] || { echo "loadgen against $ADDR: $1 requests failed" >&2; exit 1; }; }
# The floor server, burning CPU_MS per request, becomes the selected server.
start_floor() {
  "$BURNSERVER" "$ADDR_FLOOR" "$(python3 -c "print(round($1 * 1000))")" >"$WORK/log-floor" 2>&1 &
  PID_FLOOR=$! ADDR="$ADDR_FLOOR" PID=$!
  for _ in $(seq 1 200); do grep -qs listening "$WORK/log-floor" && break; sleep 0.05; done
  "$LOADGEN" "$ADDR" /v1/admit "$WORK/pod-review.json" 1000 1 >/dev/null  # connections up
}
stop_floor() { kill "$PID_FLOOR"; wait "$PID_FLOOR" 2>/dev/null || true; PID_FLOOR=""; }

RESULTS="$WORK/results"
: >"$RESULTS"
record() { echo "$1|$2|$3" >>"$RESULTS"; }  # binary measure value
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

for round in $(seq 1 "$ROUNDS"); do
  for bin in "${BINARIES[@]}"; do
    name="$(basename "$bin")"
    echo "== round $round: $name"
    mark="$(wc -l <"$RESULTS")"
    start plain "$bin" --gatekeeper "$WORK/policies"
    record "$name" "load 50 templates (ms)" "$(grep -o '"elapsed_ms":[0-9.]*' "$LOG" | head -1 | cut -d: -f2)"
    load 2 0 "$WORK/pod-review.json" >/dev/null  # warm every template's evaluator pool
    read -r peak _ _ _ cpu <<<"$(measured 2 0 "$WORK/pod-review.json")"
    record "$name" "Pod review peak, 2 connections (req/s)" "$peak"
    record "$name" "Pod review CPU per request (ms)" "$cpu"
    # 50% of peak: requests due at random (Poisson) times at half the peak rate, latency
    # counted from when each was due (see bench/loadgen).
    half_rate="$(python3 -c "print($peak / 2)")"
    read -r rps p50 p99 failures half_cpu late99 steal <<<"$(open_loop "$half_rate")"
    no_failures "$failures"
    record "$name" "half load: achieved req/s" "$rps"
    record "$name" "half load: % of peak" "$(python3 -c "print(round(100 * $rps / $peak))")"
    record "$name" "half load: p50 (ms)" "$p50"
    record "$name" "half load: p99 (ms)" "$p99"
    record "$name" "half load: CPU per request (ms)" "$half_cpu"
    # Counted in p99 above: how late the generator sent (its wait for a core or a connection).
    record "$name" "half load: generator's sending lateness, p99 (ms)" "$late99"
    # CPU time the hypervisor gave to other guests meanwhile: vCPUs taken away for
    # milliseconds show in every tail measured here, the floor's included.
    record "$name" "half load: host steal (% of CPU time)" "$steal"
    # The floor: a server that only spends the same CPU per request (bench/burnserver), at the
    # same rate, right after. What this machine gives any server of that cost.
    start_floor "$half_cpu"
    read -r _ floor50 floor99 failures floor_cpu floor_late99 floor_steal <<<"$(open_loop "$half_rate")"
    no_failures "$failures"
    stop_floor
    select_gateway plain
    record "$name" "floor at the same rate and CPU: p50 (ms)" "$floor50"
    record "$name" "floor at the same rate and CPU: p99 (ms)" "$floor99"
    record "$name" "floor: CPU per request (ms)" "$floor_cpu"
    record "$name" "floor: generator's sending lateness, p99 (ms)" "$floor_late99"
    record "$name" "floor: host steal (% of CPU time)" "$floor_steal"
    record "$name" "half load p99 / floor p99" "$(python3 -c "print(round($p99 / $floor99, 2))")"
    record "$name" "RSS, no inventory (MB)" "$(rss_mb)"

    # The inventory's effect, in pairs: short peak runs alternate between this gateway and
    # one with the inventory, both running, so that the machine's drift hits both alike.
    start inventory "$bin" --gatekeeper "$WORK/policies" --gatekeeper "$WORK/unique" \
      --inventory "$WORK/inventory.yaml"
    for _ in $(seq 1 200); do grep -q '"objects":10000' "$LOG" && break; sleep 0.05; done
    load 2 0 "$WORK/pod-review.json" >/dev/null
    effects=() inventory_peaks=() inventory_cpus=()
    for _ in $(seq 1 "$PAIRS"); do
      select_gateway plain
      read -r plain_peak _ <<<"$(load 2 0 "$WORK/pod-review.json" "$PAIR_DURATION")"
      select_gateway inventory
      read -r inventory_peak _ _ _ inventory_cpu <<<"$(measured 2 0 "$WORK/pod-review.json" "$PAIR_DURATION")"
      inventory_peaks+=("$inventory_peak") inventory_cpus+=("$inventory_cpu")
      effects+=("$(python3 -c "print(round(100 * ($inventory_peak / $plain_peak - 1), 1))")")
    done
    record "$name" "10k inventory: Pod review peak (req/s)" "$(median "${inventory_peaks[@]}")"
    record "$name" "10k inventory: Pod review CPU per request (ms)" "$(median "${inventory_cpus[@]}")"
    record "$name" "10k inventory: peak change, median of pairs (%)" "$(median "${effects[@]}")"
    stop plain
    select_gateway inventory
    load 1 0 "$WORK/ingress-review.json" >/dev/null
    read -r _ up50 up99 _ ucpu <<<"$(measured 1 0 "$WORK/ingress-review.json")"
    record "$name" "uniqueness (1,000 Ingresses): p50 (ms)" "$up50"
    record "$name" "uniqueness (1,000 Ingresses): p99 (ms)" "$up99"
    record "$name" "uniqueness: CPU per request (ms)" "$ucpu"
    record "$name" "RSS, 10k inventory (MB)" "$(rss_mb)"
    stop inventory
    tail -n "+$((mark + 1))" "$RESULTS" | awk -F'|' '{ printf "  %-48s %s\n", $2, $3 }'
  done
done

echo "== summary: median [min-max] over $ROUNDS rounds"
python3 - "$RESULTS" <<'EOF'
import statistics, sys
rows, order, names = {}, [], []
for line in open(sys.argv[1]):
    name, measure, value = line.rstrip("\n").split("|")
    if measure not in order:
        order.append(measure)
    if name not in names:
        names.append(name)
    rows.setdefault((name, measure), []).append(float(value))
print("| measure | " + " | ".join(names) + " |")
print("|---|" + "---|" * len(names))
for measure in order:
    cells = []
    for name in names:
        v = rows.get((name, measure), [])
        cells.append(f"{statistics.median(v):g} [{min(v):g}–{max(v):g}]" if v else "")
    print(f"| {measure} | " + " | ".join(cells) + " |")
EOF
