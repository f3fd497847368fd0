//! The committed OPA capabilities (`rego-runtime/capabilities/opa-v1.22.2.json`, embedded as
//! [`rego_runtime::capabilities::OPA_CAPABILITIES_JSON`]) must be exactly what the pinned
//! OPA prints, so that declared types and flags cannot drift from the oracle.

use std::path::PathBuf;
use std::process::Command;

/// The real `opa` binary (`OPA_BIN`, else the one `make tools` installs), if present; when
/// `GATEWAY_REQUIRE_ORACLES` is set a missing binary fails instead of skipping.
fn opa_binary() -> Option<PathBuf> {
    let path = std::env::var_os("OPA_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/bin/opa"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("GATEWAY_REQUIRE_ORACLES").is_none(),
        "real OPA is required but missing: run `make tools`"
    );
    eprintln!("skipped: real OPA is not installed (make tools builds it)");
    None
}

#[test]
fn committed_capabilities_are_opas() {
    let Some(opa) = opa_binary() else {
        return;
    };
    let output = Command::new(opa)
        .args(["capabilities", "--current"])
        .output()
        .expect("opa runs");
    assert!(output.status.success(), "opa capabilities failed");
    let current = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        current == rego_runtime::capabilities::OPA_CAPABILITIES_JSON,
        "rego-runtime/capabilities/opa-v1.22.2.json differs from `opa capabilities --current`; \
         regenerate it with that command"
    );
}
