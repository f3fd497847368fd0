#!/usr/bin/env bash
# make bench: the gateway (release build) and real `opa run --server` on the same bundle, side
# by side in one run on loopback. For each server: idle RSS, GET /health (the HTTP floor) and
# POST /v1/data/rbac/allow at several connection counts with wrk (keep-alive), then a bundle
# reload under load, then data writes as kube-mgmt makes them (bench/data-writes.sh), then the
# engine's in-process evaluation time.
set -euo pipefail
cd "$(dirname "$0")/.."

GATEWAY=${GATEWAY:-target/release/gateway}
OPA=${OPA_BIN:-.tools/bin/opa}
BUNDLE=examples/rbac
DURATION=${BENCH_DURATION:-8s}
LEVELS=${BENCH_CONNECTIONS:-"1 8 32 64"}
WORK=$(mktemp -d /tmp/gateway-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "installing wrk (Debian)"; apt-get install -y wrk >/dev/null; }

. bench/lib.sh
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

start_gateway() { # name, extra args...
  local name=$1; shift
  "$GATEWAY" run --addr 127.0.0.1:0 --bundle "$BUNDLE" --log-level error "$@" >"$WORK/$name.log" 2>&1 &
  echo $!
}
start_opa() {
  GOMAXPROCS=2 "$OPA" run --server --addr 127.0.0.1:0 --bundle "$BUNDLE" --log-level error >"$WORK/opa.log" 2>&1 &
  echo $!
}

# wrk summary: "rps p50 p99" (latencies in ms).
measure() { # url, connections, [lua script]
  local url=$1 conns=$2 script=${3:-}
  local out
  if [ -n "$script" ]; then
    out=$(wrk -t1 -c"$conns" -d"$DURATION" --latency -s "$script" "$url")
  else
    out=$(wrk -t1 -c"$conns" -d"$DURATION" --latency "$url")
  fi
  if echo "$out" | grep -q "Non-2xx\|Socket errors"; then
    echo "$out" | grep "Non-2xx\|Socket errors" >&2
  fi
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}
to_ms() { # wrk prints 512.00us, 1.23ms or 2.00s
  echo "$1" | awk '/us$/ {sub("us",""); printf "%.3f", $1/1000; next} /ms$/ {sub("ms",""); printf "%.3f", $1; next} /s$/ {sub("s",""); printf "%.3f", $1*1000}'
}

gw=$(start_gateway gateway); PIDS+=("$gw")
gw_nocache=$(start_gateway gateway-nocache --set decision_cache.max_entries=0); PIDS+=("$gw_nocache")
opa=$(start_opa); PIDS+=("$opa")
gw_port=$(port_of "$gw"); nc_port=$(port_of "$gw_nocache"); opa_port=$(port_of "$opa")
sleep 1
echo "machine: $(nproc) cores, $(uname -r); wrk -t1, $DURATION per run, keep-alive"
echo "idle RSS: gateway $(rss_mb "$gw") MB, opa $(rss_mb "$opa") MB (examples/rbac loaded)"
echo

declare -A RPS P99
printf "%-26s %6s %10s %9s %9s\n" server conns req/s p50_ms p99_ms
for server in gateway:$gw_port gateway-nocache:$nc_port opa:$opa_port; do
  name=${server%%:*}; port=${server##*:}
  read -r rps p50 p99 < <(measure "http://127.0.0.1:$port/health" 32)
  printf "%-26s %6s %10s %9s %9s\n" "$name GET /health" 32 "$rps" "$p50" "$p99"
  RPS[$name-health]=$rps
  read -r rps p50 p99 < <(measure "http://127.0.0.1:$port" 32 bench/unique-decisions.lua)
  printf "%-26s %6s %10s %9s %9s\n" "$name POST, unique inputs" 32 "$rps" "$p50" "$p99"
  RPS[$name-unique]=$rps
  for c in $LEVELS; do
    read -r rps p50 p99 < <(measure "http://127.0.0.1:$port" "$c" bench/decisions.lua)
    printf "%-26s %6s %10s %9s %9s\n" "$name POST /v1/data" "$c" "$rps" "$p50" "$p99"
    RPS[$name-$c]=$rps; P99[$name-$c]=$p99
  done
done

echo
echo "ratios (same run):"
for c in $LEVELS; do
  awk -v g="${RPS[gateway-$c]}" -v n="${RPS[gateway-nocache-$c]}" -v o="${RPS[opa-$c]}" \
      -v gp="${P99[gateway-$c]}" -v np="${P99[gateway-nocache-$c]}" -v op="${P99[opa-$c]}" -v c="$c" \
      'BEGIN {printf "  %2s conns: throughput gateway/opa %.2fx (no cache %.2fx); p99 gateway %sms, no cache %sms, opa %sms\n", c, g/o, n/o, gp, np, op}'
done
awk -v g="${RPS[gateway-unique]}" -v o="${RPS[opa-unique]}" \
    'BEGIN {printf "  unique inputs (no repeats, so no decision-cache hits), 32 conns: gateway/opa %.2fx\n", g/o}'
for name in gateway gateway-nocache; do
  awk -v d="${RPS[$name-32]}" -v h="${RPS[$name-health]}" -v n="$name" \
      'BEGIN {printf "  %s: decisions at 32 conns are %.0f%% of its own /health throughput\n", n, 100*d/h}'
done

echo
echo "bundle reload under load (gateway, 20 rewrites + SIGHUP during a wrk run):"
cp -r "$BUNDLE" "$WORK/bundle"
"$GATEWAY" run --addr 127.0.0.1:0 --bundle "$WORK/bundle" --log-level info --log-format text >"$WORK/reload.log" 2>&1 &
reload_pid=$!; PIDS+=("$reload_pid")
reload_port=$(port_of "$reload_pid")
(
  for i in $(seq 20); do
    sed -i "s/^# reload marker.*//" "$WORK/bundle/rbac/policy.rego"
    echo "# reload marker $i" >> "$WORK/bundle/rbac/policy.rego"
    kill -HUP "$reload_pid"
    sleep 0.3
  done
) &
rewriter=$!
reload_out=$(wrk -t1 -c32 -d8s -s bench/decisions.lua "http://127.0.0.1:$reload_port")
wait "$rewriter" || true
reloads=$(grep -c "bundle activated" "$WORK/reload.log" || true)
echo "$reload_out" | grep -E "requests in|Non-2xx|Socket errors" | sed 's/^/  /'
echo "  snapshots activated during the run: $reloads"
if echo "$reload_out" | grep -q "Non-2xx\|Socket errors"; then
  echo "  FAILED: requests failed during reloads"
else
  echo "  no failed request"
fi

echo
OPA_BIN="$OPA" bench/data-writes.sh "gateway=$GATEWAY"

echo
echo "in-process evaluation (engine only, decision cache off):"
cargo bench -q -p rego-runtime --bench evaluation 2>/dev/null | sed "s/^/  /"
