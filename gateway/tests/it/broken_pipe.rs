//! Commands whose reader goes away (`gateway builtins | head -1`) end quietly: no panic, no
//! error message, and the exit status the command has anyway.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::repo_root;
use crate::support::tempdir::TempDir;

/// Runs `gateway <args>` in `dir`, reads `lines` lines of its stdout (0: none), then closes
/// the pipe as `head` does; returns the exit code and stderr.
fn cut_short(args: &[&str], dir: &Path, lines: usize) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gateway");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    for _ in 0..lines {
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read a line");
        assert!(!line.is_empty(), "{args:?}: less output than expected");
    }
    drop(stdout);
    let output = child.wait_with_output().expect("wait");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn assert_quiet(args: &[&str], stderr: &str) {
    assert!(
        !stderr.contains("panicked") && !stderr.to_lowercase().contains("error"),
        "{args:?} wrote to stderr: {stderr}"
    );
}

#[test]
fn builtins_stops_quietly() {
    let dir = TempDir::new("pipe-builtins");
    for (args, lines) in [
        (&["builtins"][..], 0),
        (&["builtins"][..], 1),
        (&["builtins", "--format", "json"][..], 0),
    ] {
        let (code, stderr) = cut_short(args, dir.path(), lines);
        assert_quiet(args, &stderr);
        assert_eq!(code, Some(0), "{args:?}");
    }
}

#[test]
fn test_stops_quietly_and_keeps_its_exit_code() {
    // More results than a pipe holds: the command is still writing when the reader goes.
    let dir = TempDir::new("pipe-test");
    let mut objects = String::new();
    for index in 0..300 {
        objects.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-{index}\n  namespace: default\n"
        ));
    }
    std::fs::write(dir.path().join("objects.yaml"), objects).expect("write");
    std::fs::write(
        dir.path().join("policy.yaml"),
        r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sdenyall
spec:
  crd:
    spec:
      names:
        kind: K8sDenyAll
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sdenyall

        violation[{"msg": msg}] {
          msg := sprintf("%v is not allowed", [input.review.object.metadata.name])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sDenyAll
metadata:
  name: deny-all
spec:
  match:
    kinds:
      - apiGroups: [""]
        kinds: ["ConfigMap"]
"#,
    )
    .expect("write");
    for output in ["json", "yaml"] {
        let args = ["test", "-f", ".", "-o", output];
        let (code, stderr) = cut_short(&args, dir.path(), 1);
        assert_quiet(&args, &stderr);
        // Denying results: 1, whether or not all of them were read.
        assert_eq!(code, Some(1), "{args:?}");
    }
}

#[test]
fn verify_stops_quietly() {
    let args = ["verify", "-v", "./conformance/gatekeeper/k8srequiredlabels"];
    for lines in [0, 1] {
        let (code, stderr) = cut_short(&args, &repo_root(), lines);
        assert_quiet(&args, &stderr);
        assert_eq!(code, Some(0));
    }
}

#[test]
fn conformance_stops_quietly() {
    let dir = TempDir::new("pipe-conformance");
    std::fs::write(
        dir.path().join("cases.yaml"),
        "cases:\n- note: demo/right\n  query: data.test.p = x\n  modules: [\"package test\\np := 1 + 1\\n\"]\n  want_result: [{x: 2}]\n",
    )
    .expect("write");
    for format in ["text", "json", "junit"] {
        let args = ["conformance", "--format", format, "."];
        let (code, stderr) = cut_short(&args, dir.path(), 0);
        assert_quiet(&args, &stderr);
        assert_eq!(code, Some(0), "{args:?}");
    }
}
