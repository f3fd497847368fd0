#!/usr/bin/env bash
# The host's steal time: how much of this VM's CPU time the hypervisor gave to others.
# Without an argument, prints a mark (the system-wide counters of /proc/stat); given a mark,
# prints the percentage of all CPU time since it that was stolen. A vCPU taken away for
# milliseconds at a time shows in every latency tail measured meanwhile.
#
# Usage: mark="$(bench/host-steal.sh)"; ...; bench/host-steal.sh "$mark"   -> e.g. 10.2
set -euo pipefail

# "cpu user nice system idle iowait irq softirq steal ..." -> "steal total"
counters() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t; exit }' /proc/stat; }

if [ $# -eq 0 ]; then
  counters
else
  read -r steal_before total_before <<<"$1"
  read -r steal_after total_after <<<"$(counters)"
  awk -v s="$((steal_after - steal_before))" -v t="$((total_after - total_before))" \
    'BEGIN { printf "%.1f\n", (t > 0 ? 100 * s / t : 0) }'
fi
