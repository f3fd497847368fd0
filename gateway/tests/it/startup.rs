//! `gateway run` starts all or nothing, as `opa run` does: every configured path loads and
//! compiles before the port opens, or the process exits non-zero with the load error. And the
//! flags OPA users type (`-s`, `-b`, `-a :PORT`, positional paths) work.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::client::{self, Target};
use crate::support::tempdir::TempDir;

/// Runs `gateway run <args>` and waits for it to exit on its own (bounded: a start-up that
/// should fail but serves instead is killed and reported).
fn run_expecting_exit(args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["run", "--addr", "127.0.0.1:0", "--log-format", "json"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gateway");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`gateway run {args:?}` kept running; it should have refused to start");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    for line in BufReader::new(child.stderr.take().expect("stderr")).lines() {
        stderr.push_str(&line.expect("stderr line"));
        stderr.push('\n');
    }
    (status, stderr)
}

fn assert_refused(args: &[&str], expected: &[&str]) {
    let (status, stderr) = run_expecting_exit(args);
    assert_eq!(status.code(), Some(1), "{args:?}: {stderr}");
    assert!(stderr.contains("error: load error: "), "{args:?}: {stderr}");
    for part in expected {
        assert!(stderr.contains(part), "{args:?}: {part:?} not in {stderr}");
    }
    assert!(
        !stderr.contains("server started"),
        "{args:?} listened before failing: {stderr}"
    );
}

#[test]
fn a_missing_bundle_stops_start_up() {
    assert_refused(
        &["--bundle", "/nope/bundle"],
        &["/nope/bundle", "No such file or directory"],
    );
    // OPA's form: the path as a positional argument.
    assert_refused(&["-s", "/nope/bundle.tar.gz"], &["/nope/bundle.tar.gz"]);
}

#[test]
fn a_bundle_with_a_rego_syntax_error_stops_start_up() {
    let dir = TempDir::new("syntax-error");
    std::fs::write(
        dir.path().join("good.rego"),
        "package good\n\nallow := true\n",
    )
    .expect("w");
    std::fs::write(dir.path().join("bad.rego"), "package bad\n\nallow := {\n").expect("w");
    assert_refused(&["--bundle", &dir.path().to_string_lossy()], &["bad.rego"]);
}

#[test]
fn a_bundle_with_malformed_data_stops_start_up() {
    let dir = TempDir::new("bad-data");
    std::fs::write(dir.path().join("data.json"), "{\"users\": ").expect("w");
    assert_refused(&["-b", &dir.path().to_string_lossy()], &["data.json"]);
}

#[test]
fn missing_gatekeeper_or_inventory_paths_stop_start_up() {
    assert_refused(&["--gatekeeper", "/nope/templates"], &["/nope/templates"]);
    assert_refused(
        &["--inventory", "/nope/objects.yaml"],
        &["/nope/objects.yaml"],
    );
}

#[test]
fn a_constraint_template_that_does_not_compile_stops_start_up() {
    let dir = TempDir::new("bad-template");
    std::fs::write(
        dir.path().join("template.yaml"),
        "apiVersion: templates.gatekeeper.sh/v1\n\
         kind: ConstraintTemplate\n\
         metadata:\n  name: k8sbroken\n\
         spec:\n  crd:\n    spec:\n      names:\n        kind: K8sBroken\n\
         \x20 targets:\n    - target: admission.k8s.gatekeeper.sh\n      rego: |\n\
         \x20       package k8sbroken\n\
         \x20       violation[{\"msg\": msg}] {\n\
         \x20         msg := \n",
    )
    .expect("write");
    assert_refused(
        &["--gatekeeper", &dir.path().to_string_lossy()],
        &["ConstraintTemplate k8sbroken"],
    );
}

#[test]
fn a_constraint_without_its_template_stops_start_up() {
    let dir = TempDir::new("orphan-constraint");
    std::fs::write(
        dir.path().join("constraint.yaml"),
        "apiVersion: constraints.gatekeeper.sh/v1beta1\n\
         kind: K8sMissing\n\
         metadata:\n  name: no-template\n",
    )
    .expect("write");
    assert_refused(
        &["--gatekeeper", &dir.path().to_string_lossy()],
        &["K8sMissing no-template"],
    );
}

/// `gateway run <args>` that is expected to serve; killed when dropped.
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(args: &[&str], addr: &str) -> Serving {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["run", "--log-level", "error"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start gateway");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            child.try_wait().expect("try_wait").is_none(),
            "`gateway run {args:?}` exited"
        );
        assert!(
            Instant::now() < deadline,
            "`gateway run {args:?}` never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Serving(child)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

#[test]
fn opa_run_flags_work_as_in_opa() {
    let dir = TempDir::new("opa-flags");
    std::fs::write(
        dir.path().join("app.rego"),
        "package app\n\nallow := true\n",
    )
    .expect("w");
    std::fs::write(dir.path().join("data.json"), "{\"users\": [\"ann\"]}").expect("w");
    let port = free_port();
    // `-a :PORT` listens on every interface, so loopback reaches it; the bundle is a
    // positional path, as `opa run -s PATH` takes it.
    let _serving = serve(
        &[
            "-s",
            "-w",
            "-a",
            &format!(":{port}"),
            &dir.path().to_string_lossy(),
        ],
        &format!("127.0.0.1:{port}"),
    );
    let target = Target::Tcp(format!("127.0.0.1:{port}").parse().expect("addr"));
    let reply = client::send(&target, "GET", "/v1/data/app/allow", &[], b"");
    assert_eq!(reply.text(), "{\"result\":true}\n");
    let reply = client::send(&target, "GET", "/v1/data/users", &[], b"");
    assert_eq!(reply.text(), "{\"result\":[\"ann\"]}\n");
    let reply = client::send(&target, "GET", "/v1/config", &[], b"");
    assert!(
        reply.text().contains("\"evaluation_timeout\":\"5s\""),
        "{}",
        reply.text()
    );
}

#[test]
fn a_misspelt_flag_gets_clap_s_suggestion() {
    let output = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["run", "--bundel", "x"])
        .output()
        .expect("run gateway");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--bundle"), "{stderr}");
}

#[test]
fn config_keys_the_gateway_does_not_read_are_warned_about_at_start() {
    let dir = TempDir::new("config-warnings");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        "services:\n  acme:\n    url: https://example.com\n\
         decision_logs:\n  console: true\n\
         evalution_timeout: 2s\n\
         default_decision: /app/allow\n",
    )
    .expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["run", "--addr", "127.0.0.1:0", "--log-format", "json", "-c"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gateway");
    let mut warnings = Vec::new();
    for line in BufReader::new(child.stderr.take().expect("stderr")).lines() {
        let line = line.expect("log line");
        let entry: serde_json::Value = serde_json::from_str(&line).expect("json log line");
        if entry["fields"]["message"] == "server started" {
            break;
        }
        if entry["level"] == "WARN" {
            warnings.push(
                entry["fields"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            );
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        warnings,
        [
            "config key decision_logs: an OPA setting the gateway does not implement yet; ignored",
            "unknown config key evalution_timeout; ignored (did you mean evaluation_timeout?)",
            "config key services: an OPA setting the gateway does not implement yet; ignored",
        ]
    );
}
