#!/usr/bin/env bash
# go-tool.sh CACHE PACKAGE VERSION DEST: puts the binary of Go PACKAGE@VERSION at DEST, building
# it with `go install` only when CACHE does not already hold that version. The cache is keyed
# by package and version, and a binary is moved into it only once the build succeeded.
set -euo pipefail
cache=$1 package=$2 version=$3 dest=$4
name=$(basename "$package")
cached="$cache/$name@$version/$name"
if [ ! -x "$cached" ]; then
  build=$(mktemp -d)
  trap 'rm -rf "$build"' EXIT
  (cd /tmp && GOBIN="$build" GOFLAGS=-mod=mod go install "$package@$version")
  mkdir -p "$(dirname "$cached")"
  mv "$build/$name" "$cached.partial"
  mv "$cached.partial" "$cached"
fi
mkdir -p "$(dirname "$dest")"
cp "$cached" "$dest"
