//! `gateway test -o json|yaml` through the built binary, byte for byte against real
//! `gator test` (v3.23.1) on the same inputs, and against gator's recorded YAML when gator
//! is not installed; unknown formats are refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{repo_root, require_gator};

fn test_command(binary: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(binary)
        .arg("test")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running {} test {args:?}: {e}", binary.display()))
}

fn gateway() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gateway"))
}

/// Inputs with results (the recorded gator corpus and values YAML must quote, fold and
/// reformat), one input without any, each with `-f` relative to the working directory.
fn inputs() -> Vec<(PathBuf, &'static str)> {
    vec![
        (
            repo_root().join("conformance/gatekeeper/_gator-test"),
            "input",
        ),
        (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures"),
            "gator-output",
        ),
        (
            repo_root().join("conformance/gatekeeper/_gator-test/input"),
            "templates",
        ),
    ]
}

#[test]
fn json_and_yaml_are_written_as_gator_writes_them() {
    let Some(gator) = require_gator() else { return };
    for (dir, input) in inputs() {
        for format in ["json", "yaml", "YAML"] {
            for extra in [&[][..], &["--deny-only"][..]] {
                let mut args = vec!["-f", input, "-o", format];
                args.extend(extra);
                let ours = test_command(gateway(), &dir, &args);
                let theirs = test_command(&gator, &dir, &args);
                assert_eq!(
                    String::from_utf8_lossy(&ours.stdout),
                    String::from_utf8_lossy(&theirs.stdout),
                    "{} test {args:?} in {}",
                    gateway().display(),
                    dir.display()
                );
                assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
            }
        }
    }
}

#[test]
fn yaml_matches_gators_recorded_output() {
    let dir = repo_root().join("conformance/gatekeeper/_gator-test");
    let recorded = std::fs::read_to_string(dir.join("expected-yaml.txt")).expect("recorded");
    let output = test_command(gateway(), &dir, &["-f", "input", "-o", "yaml"]);
    assert_eq!(String::from_utf8_lossy(&output.stdout), recorded);
    // Denying results: exit code 1, as gator.
    assert_eq!(output.status.code(), Some(1));

    let templates = dir.join("input");
    let output = test_command(gateway(), &templates, &["-f", "templates", "-o", "yaml"]);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "[]\n");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn unknown_output_formats_are_refused() {
    let dir = repo_root().join("conformance/gatekeeper/_gator-test");
    // gator prints its human lines for any other value, and nothing at all for `default`.
    for (format, complaint) in [
        ("bogus", "invalid value 'bogus' for '--output <OUTPUT>'"),
        ("default", "invalid value 'default' for '--output <OUTPUT>'"),
        ("", "a value is required for '--output <OUTPUT>'"),
    ] {
        let output = test_command(gateway(), &dir, &["-f", "input", "-o", format]);
        assert_eq!(output.status.code(), Some(2), "-o {format:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.starts_with(&format!("error: {complaint}"))
                && stderr.contains("[possible values: json, yaml]"),
            "-o {format:?}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "-o {format:?}");
    }
}
