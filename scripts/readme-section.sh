#!/usr/bin/env bash
# Replaces the README section between <!-- NAME:start --> and <!-- NAME:end --> with stdin,
# fenced as a code block, so generated tables in the README are never typed by hand.
set -euo pipefail
name=$1
readme=${2:-README.md}
content=$(cat)
tmp=$(mktemp)
awk -v start="<!-- $name:start -->" -v end="<!-- $name:end -->" -v body="$content" '
  $0 == start { print; print "```"; print body; print "```"; skipping = 1; next }
  $0 == end { skipping = 0 }
  !skipping { print }
' "$readme" > "$tmp"
mv "$tmp" "$readme"
