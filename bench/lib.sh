# Helpers the bench scripts share; sourced, not run.

# The port a process listens on, read from the kernel (no port is picked and released).
port_of() {
  local pid=$1
  for _ in $(seq 200); do
    local port
    port=$(ss -ltnpH 2>/dev/null | grep "pid=$pid," | awk '{print $4}' | sed 's/.*://' | head -1)
    if [ -n "$port" ]; then echo "$port"; return; fi
    sleep 0.05
  done
  echo "process $pid is not listening" >&2; exit 1
}
