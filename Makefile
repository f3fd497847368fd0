# The project's only entry points: `make run`, `make test`, `make bench`.
# Everything a target needs is installed here, into folders this Makefile owns.

SHELL := /bin/bash
.DEFAULT_GOAL := help

TOOLS      := $(CURDIR)/.tools
TOOLS_BIN  := $(TOOLS)/bin
OPA        := $(TOOLS_BIN)/opa
GATOR      := $(TOOLS_BIN)/gator
OPA_VERSION   := v1.22.2
GATOR_VERSION := v3.23.1
# The oracles are built once per machine and version, outside the clone, so a fresh clone (CI's)
# copies them instead of building them again (5-8 minutes on 2 cores).
TOOLS_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/rego-gateway-tools
# Where cargo puts the release binary (CARGO_TARGET_DIR moves it).
GATEWAY    := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/release/gateway
ADDR       ?= 127.0.0.1:8181

export OPA_BIN := $(OPA)
export GATOR_BIN := $(GATOR)

.PHONY: help run build test lint tools bench conformance clean

help:
	@echo "make run    build and serve examples/rbac on $(ADDR)"
	@echo "make test   install what tests need (real OPA and gator) and run every test"
	@echo "make bench  load-test the gateway and real OPA side by side"

build:
	cargo build --release -p gateway

run: build
	@echo "try: curl -s $(ADDR)/v1/data/rbac/allow -d '{\"input\":{\"user\":\"bob\",\"action\":\"read\",\"type\":\"dog\"}}'"
	$(GATEWAY) run --addr $(ADDR) --bundle examples/rbac --log-format text

# Real OPA and Gatekeeper's gator, built from their Go modules once; the differential tests
# compare the gateway against them.
tools: $(OPA) $(GATOR)

$(OPA):
	scripts/go-tool.sh $(TOOLS_CACHE) github.com/open-policy-agent/opa $(OPA_VERSION) $@

$(GATOR):
	scripts/go-tool.sh $(TOOLS_CACHE) github.com/open-policy-agent/gatekeeper/v3/cmd/gator $(GATOR_VERSION) $@

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# GATEWAY_REQUIRE_ORACLES makes tests fail instead of skip when real OPA or gator is missing.
test: tools lint
	GATEWAY_REQUIRE_ORACLES=1 cargo test --workspace
	$(MAKE) conformance

# The corpus on the in-process engine and over HTTP (against gateways the command starts),
# plus the Gatekeeper suites; prints the table and writes it into the README.
#
# It runs the binary `cargo test --workspace` builds for its tests: `cargo build -p gateway`
# would resolve features for the gateway alone and rebuild dozens of dependencies.
conformance:
	cargo test --workspace --no-run
	set -o pipefail; target/debug/gateway conformance --target all \
	  --gatekeeper 'conformance/gatekeeper/...' conformance/cases \
	  | tee -a /dev/stderr | scripts/readme-section.sh conformance-table
	set -o pipefail; scripts/opa-suite.sh target/debug/gateway \
	  | tee -a /dev/stderr | scripts/readme-section.sh opa-suite

bench: tools build
	set -o pipefail; ./bench/run.sh | tee -a /dev/stderr | scripts/readme-section.sh bench

clean:
	cargo clean
