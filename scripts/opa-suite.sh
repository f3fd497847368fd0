#!/usr/bin/env bash
# opa-suite.sh GATEWAY: runs OPA's own test suite (its v1 and v0 folders, shipped in the OPA Go
# module that `make tools` downloads) on the gateway's Rego engine and prints, per folder, how
# many cases pass and the groups that fail most. `make conformance` puts it in the README.
set -euo pipefail
gateway=$1
version=${OPA_VERSION:-v1.22.2}
suite=$(go env GOMODCACHE)/github.com/open-policy-agent/opa@$version/v1/test/cases/testdata
if [ ! -d "$suite" ]; then
  # The oracle binary may come from the per-machine cache while the module cache was cleaned.
  (cd /tmp && go mod download "github.com/open-policy-agent/opa@$version") >&2
fi
if [ ! -d "$suite" ]; then
  echo "OPA's suite is not in the Go module cache ($suite)" >&2
  exit 1
fi
report=$(mktemp)
trap 'rm -f "$report"' EXIT
echo "OPA $version's own suite on the rego target (gateway conformance --target rego <suite>/{v1,v0}):"
for folder in v1 v0; do
  # The run exits 1 while any case fails; the counts are what this script reports.
  "$gateway" conformance --target rego --format json "$suite/$folder" > "$report" || true
  python3 - "$report" "$folder" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
total = report["totals"][0]
cases = total["passed"] + total["failed"] + total["known"] + total["skipped"]
print(f"  {sys.argv[2]}: {total['passed']:,} of {cases:,} cases pass ({100 * total['passed'] / cases:.1f}%)")
failing = sorted((row for row in report["rows"] if row["failed"]), key=lambda r: -r["failed"])
if failing:
    print("      most failures: " + ", ".join(f"{r['group'].split('/', 1)[-1]} {r['failed']}" for r in failing[:8]))
PY
done
